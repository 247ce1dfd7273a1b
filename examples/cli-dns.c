/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet dns ...: Kubernetes DNS names from the command line.  Output is for
 * scripts: results on stdout, reasons and warnings on stderr; exit 0 success
 * (or "valid"), 1 a negative answer ("invalid", "not a cluster name"), 2 bad
 * command line or input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const struct {
	const char *name;
	uint32_t kind;
} kinds[] = {
	{ "label", K8SNET_DNS_LABEL },
	{ "subdomain", K8SNET_DNS_SUBDOMAIN },
	{ "dns1035", K8SNET_DNS_1035_LABEL },
	{ "label-key", K8SNET_DNS_LABEL_KEY },
	{ "label-value", K8SNET_DNS_LABEL_VALUE },
	{ "port-name", K8SNET_DNS_PORT_NAME },
};

/* Every DNS command works with a context of its own and no namespace. */
static int with_ctx(const struct cli_call *call,
		    int (*fn)(const struct cli_call *call, struct k8snet_ctx *ctx))
{
	struct k8snet_ctx *ctx = NULL;
	int r = cli_ctx_new(NULL, &ctx);

	if (r)
		return r;
	r = fn(call, ctx);
	k8snet_ctx_free(ctx);
	return r;
}

static int print_result(struct k8snet_ctx *ctx, int r, char *s, const char *what)
{
	if (r < 0)
		return cli_report(ctx, r, what);
	r = cli_print_text(s);
	k8snet_free(s);
	return r;
}

static int validate(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(call->args[0], kinds[i].name) != 0)
			continue;
		if (k8snet_dns_validate(ctx, kinds[i].kind, call->args[1]) < 0) {
			fprintf(stderr, "k8snet: %s\n", k8snet_ctx_get_error(ctx));
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	return cli_usage(call, "unknown kind '%s' (label, subdomain, dns1035, label-key, "
			 "label-value, port-name)", call->args[0]);
}

int cli_dns_validate(const struct cli_call *call)
{
	return with_ctx(call, validate);
}

static const struct {
	enum cli_opt opt;
	uint32_t attr;
} resolv_strs[] = {
	{ OPT_DNS_POLICY, K8SNET_DNS_RESOLV_POLICY },
	{ OPT_NAMESPACE, K8SNET_DNS_RESOLV_NAMESPACE },
	{ OPT_CLUSTER_DNS, K8SNET_DNS_RESOLV_CLUSTER_DNS },
	{ OPT_CLUSTER_DOMAIN, K8SNET_DNS_RESOLV_CLUSTER_DOMAIN },
	{ OPT_HOST_RESOLV_CONF, K8SNET_DNS_RESOLV_HOST_CONF_FILE },
	{ OPT_DNS_CONFIG, K8SNET_DNS_RESOLV_DNS_CONFIG },
};

/* --node-ip, each value "IP" or "IP,IP...", as the one list the library takes. */
static char *node_ips(const struct cli_call *call)
{
	const char *const *v;
	size_t n = cli_list(call, OPT_NODE_IP, &v), len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = calloc(len, 1);
	for (size_t i = 0; s && i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, v[i]);
	}
	return s;
}

static int resolv_configure(const struct cli_call *call, struct k8snet_dns_resolv *r)
{
	char *ips;
	int rc = 0;

	for (size_t i = 0; rc >= 0 && i < sizeof(resolv_strs) / sizeof(resolv_strs[0]); i++)
		if (cli_str(call, resolv_strs[i].opt))
			rc = k8snet_dns_resolv_set_str(r, resolv_strs[i].attr,
						       cli_str(call, resolv_strs[i].opt));
	if (rc >= 0 && cli_flag(call, OPT_HOST_NETWORK))
		rc = k8snet_dns_resolv_set_u32(r, K8SNET_DNS_RESOLV_HOST_NETWORK, 1);
	if (rc >= 0 && cli_flag(call, OPT_LEGACY_LIMITS))
		rc = k8snet_dns_resolv_set_u32(r, K8SNET_DNS_RESOLV_LEGACY_LIMITS, 1);
	if (rc >= 0 && cli_flag(call, OPT_NODE_IP)) {
		ips = node_ips(call);
		rc = ips ? k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_NODE_IPS, ips) : -ENOMEM;
		free(ips);
	}
	return rc;
}

static int resolv_conf(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	struct k8snet_dns_resolv *r = NULL;
	char *text = NULL;
	int n, rc;

	if (k8snet_dns_resolv_new(ctx, &r) < 0)
		return cli_report(ctx, -ENOMEM, "dns resolv-conf");
	n = resolv_configure(call, r);
	if (n < 0) {
		/* An option's value the library refuses is bad input. */
		cli_report(ctx, n, "dns resolv-conf");
		k8snet_dns_resolv_free(r);
		return CLI_USAGE;
	}
	n = k8snet_dns_resolv_render(r, &text);
	if (n < 0) {
		rc = cli_report(ctx, n, "dns resolv-conf");
	} else {
		for (int i = 0; i < n; i++)
			cli_warn("%s", k8snet_dns_resolv_get_warning(r, (uint32_t)i));
		rc = cli_print_text(text);
	}
	k8snet_free(text);
	k8snet_dns_resolv_free(r);
	return rc;
}

int cli_dns_resolv_conf(const struct cli_call *call)
{
	return with_ctx(call, resolv_conf);
}

static int candidates(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	char *conf = cli_read_file(cli_str(call, OPT_RESOLV_CONF), NULL), *out = NULL;
	cJSON *root, *list;
	int r;

	if (!conf)
		return CLI_USAGE;
	r = k8snet_dns_candidates(ctx, call->args[0], conf, &out);
	free(conf);
	if (r < 0 || !call->json)
		return print_result(ctx, r, out, "dns candidates");
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, "candidates");
	for (char *p = out, *save = NULL, *name; (name = strtok_r(p, "\n", &save)); p = NULL)
		cJSON_AddItemToArray(list, cJSON_CreateString(name));
	k8snet_free(out);
	return cli_print_json(root);
}

int cli_dns_candidates(const struct cli_call *call)
{
	return with_ctx(call, candidates);
}

static int zone_options(const struct cli_call *call, struct k8snet_dns_zone *z)
{
	uint32_t ttl = 0;
	int r = cli_u32(call, OPT_TTL, 0, UINT32_MAX, &ttl);

	if (r)
		return r;
	if (cli_flag(call, OPT_TTL) && k8snet_dns_zone_set_u32(z, K8SNET_DNS_ZONE_TTL, ttl) < 0)
		return -EINVAL;
	if (cli_str(call, OPT_NAMESERVER_IP) &&
	    k8snet_dns_zone_set_str(z, K8SNET_DNS_ZONE_NAMESERVER_IP,
				    cli_str(call, OPT_NAMESERVER_IP)) < 0)
		return -EINVAL;
	return 0;
}

static int zone(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	struct k8snet_dns_zone *z = NULL;
	const char *file = call->args[0];
	char *json = NULL, *out = NULL;
	size_t len = 0;
	int r;

	json = cli_read_file(file, &len);
	if (!json)
		return CLI_USAGE;
	r = k8snet_dns_zone_new(ctx, cli_str(call, OPT_ZONE), &z);
	if (r >= 0)
		r = zone_options(call, z);
	if (r == CLI_USAGE) {
		free(json);
		k8snet_dns_zone_free(z);
		return CLI_USAGE;
	}
	if (r >= 0)
		r = k8snet_dns_zone_add_json(z, json, len);
	if (r >= 0)
		r = k8snet_dns_zone_render(z, cli_str(call, OPT_REVERSE), &out);
	free(json);
	k8snet_dns_zone_free(z);
	return print_result(ctx, r, out, file);
}

int cli_dns_zone(const struct cli_call *call)
{
	return with_ctx(call, zone);
}

static int fqdn(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	const char *kind = call->cmd->path + strlen("dns fqdn "), *zone = cli_str(call, OPT_ZONE);
	char **a = call->args, *out = NULL;
	int r;

	if (strcmp(kind, "service") == 0)
		r = k8snet_dns_service_fqdn(ctx, a[0], a[1], zone, &out);
	else if (strcmp(kind, "srv") == 0)
		r = k8snet_dns_srv_name(ctx, a[0], a[1], a[2], a[3], zone, &out);
	else if (strcmp(kind, "endpoint") == 0)
		r = k8snet_dns_endpoint_name(ctx, a[0], a[1], a[2], zone, &out);
	else if (strcmp(kind, "pod") == 0)
		r = k8snet_dns_pod_ip_name(ctx, a[0], a[1], zone, &out);
	else
		r = k8snet_dns_pod_fqdn(ctx, a[0], a[1], a[2], zone, &out);
	return print_result(ctx, r, out, call->cmd->path);
}

int cli_dns_fqdn(const struct cli_call *call)
{
	return with_ctx(call, fqdn);
}

static int ptr(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	char *out = NULL;
	int r = k8snet_dns_ptr_name(ctx, call->args[0], &out);

	return print_result(ctx, r, out, "dns ptr");
}

int cli_dns_ptr(const struct cli_call *call)
{
	return with_ctx(call, ptr);
}

static int parse(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	static const char *const parts[] = {
		"zone", "namespace", "service", "endpoint", "port", "protocol", "ip",
	};
	static const char *const kind_names[] = { "", "service", "pod", "schema" };
	struct k8snet_dns_query *q = NULL;
	cJSON *root = NULL;
	uint32_t kind;
	int r = k8snet_dns_query_parse(ctx, call->args[0], cli_str(call, OPT_ZONE), &q);

	if (r == -ENOENT) {
		fprintf(stderr, "k8snet: not a cluster name: %s\n", k8snet_ctx_get_error(ctx));
		return CLI_FAIL;
	}
	if (r < 0)
		return cli_report(ctx, r, "dns parse");
	kind = k8snet_dns_query_get_kind(q);
	if (kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		kind = 0;
	if (call->json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "kind", kind_names[kind]);
	} else {
		printf("kind=%s\n", kind_names[kind]);
	}
	for (uint32_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *v = k8snet_dns_query_get_str(q, i);

		if (v && root)
			cJSON_AddStringToObject(root, parts[i], v);
		else if (v)
			printf("%s=%s\n", parts[i], v);
	}
	k8snet_dns_query_free(q);
	if (root)
		return cli_print_json(root);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cli_dns_parse(const struct cli_call *call)
{
	return with_ctx(call, parse);
}
