/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet dns ...: Kubernetes DNS names from the command line.  Output is for
 * scripts: results on stdout, reasons and warnings on stderr; exit 0 success
 * (or "valid"), 1 a negative answer ("invalid", "not a cluster name"), 2 bad
 * command line or input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DNS_USAGE \
	"usage: k8snet dns validate KIND NAME   (KIND: label, subdomain, dns1035, label-key,\n" \
	"                                        label-value, port-name)\n" \
	"       k8snet dns resolv-conf --policy P [--host-network] --namespace NS\n" \
	"              --cluster-dns IP[,IP...] --cluster-domain D [--host-resolv-conf FILE]\n" \
	"              [--dns-config JSON] [--legacy-limits] [--node-ips IP[,IP...]]\n" \
	"       k8snet dns candidates NAME --resolv-conf FILE\n" \
	"       k8snet dns zone --zone ZONE [--reverse ORIGIN] [--ttl N] [--nameserver-ip IP] FILE.json\n" \
	"       k8snet dns fqdn service NAME NS [--zone Z]\n" \
	"       k8snet dns fqdn srv PORT PROTOCOL SERVICE NS [--zone Z]\n" \
	"       k8snet dns fqdn endpoint HOSTNAME SERVICE NS [--zone Z]\n" \
	"       k8snet dns fqdn pod IP NS [--zone Z]\n" \
	"       k8snet dns fqdn pod-hostname HOSTNAME SUBDOMAIN NS [--zone Z]\n" \
	"       k8snet dns parse NAME [--zone Z]\n" \
	"       k8snet dns ptr IP"

static int usage(void)
{
	return cli_usage_error("%s", DNS_USAGE);
}

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

static int dns_validate(struct k8snet_ctx *ctx, int argc, char **argv)
{
	size_t i;

	if (argc != 3)
		return usage();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(argv[1], kinds[i].name) != 0)
			continue;
		if (k8snet_dns_validate(ctx, kinds[i].kind, argv[2]) < 0) {
			fprintf(stderr, "k8snet: %s\n", k8snet_ctx_get_error(ctx));
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	return cli_usage_error("unknown kind '%s' (label, subdomain, dns1035, label-key, "
			       "label-value, port-name)", argv[1]);
}

enum {
	OPT_POLICY = 1, OPT_HOST_NETWORK, OPT_NAMESPACE, OPT_CLUSTER_DNS, OPT_CLUSTER_DOMAIN,
	OPT_HOST_RESOLV_CONF, OPT_DNS_CONFIG, OPT_LEGACY, OPT_NODE_IPS,
};

static int resolv_option(struct k8snet_dns_resolv *r, int opt, const char *arg)
{
	switch (opt) {
	case OPT_POLICY:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_POLICY, arg);
	case OPT_HOST_NETWORK:
		return k8snet_dns_resolv_set_u32(r, K8SNET_DNS_RESOLV_HOST_NETWORK, 1);
	case OPT_NAMESPACE:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_NAMESPACE, arg);
	case OPT_CLUSTER_DNS:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_CLUSTER_DNS, arg);
	case OPT_CLUSTER_DOMAIN:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_CLUSTER_DOMAIN, arg);
	case OPT_HOST_RESOLV_CONF:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_HOST_CONF_FILE, arg);
	case OPT_DNS_CONFIG:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_DNS_CONFIG, arg);
	case OPT_LEGACY:
		return k8snet_dns_resolv_set_u32(r, K8SNET_DNS_RESOLV_LEGACY_LIMITS, 1);
	case OPT_NODE_IPS:
		return k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_NODE_IPS, arg);
	}
	return -EINVAL;
}

static int dns_resolv_conf(struct k8snet_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "host-network", no_argument, NULL, OPT_HOST_NETWORK },
		{ "namespace", required_argument, NULL, OPT_NAMESPACE },
		{ "cluster-dns", required_argument, NULL, OPT_CLUSTER_DNS },
		{ "cluster-domain", required_argument, NULL, OPT_CLUSTER_DOMAIN },
		{ "host-resolv-conf", required_argument, NULL, OPT_HOST_RESOLV_CONF },
		{ "dns-config", required_argument, NULL, OPT_DNS_CONFIG },
		{ "legacy-limits", no_argument, NULL, OPT_LEGACY },
		{ "node-ips", required_argument, NULL, OPT_NODE_IPS },
		{ 0 }
	};
	struct k8snet_dns_resolv *r = NULL;
	char *text = NULL;
	uint32_t seen = 0;
	int c, rc = CLI_OK, n, i;

	if (k8snet_dns_resolv_new(ctx, &r) < 0)
		return cli_report(ctx, -ENOMEM, "resolv-conf");
	while (rc == CLI_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			rc = usage();
			break;
		}
		seen |= 1u << c;
		if (resolv_option(r, c, optarg) < 0) {
			fprintf(stderr, "k8snet: %s\n", k8snet_ctx_get_error(ctx));
			rc = CLI_USAGE;
		}
	}
	/* The synopsis's required options; --cluster-dns "" says "none". */
	if (rc == CLI_OK && (optind != argc || !(seen & (1u << OPT_POLICY)) ||
			     !(seen & (1u << OPT_NAMESPACE)) || !(seen & (1u << OPT_CLUSTER_DNS)) ||
			     !(seen & (1u << OPT_CLUSTER_DOMAIN))))
		rc = usage();
	if (rc == CLI_OK) {
		n = k8snet_dns_resolv_render(r, &text);
		if (n < 0) {
			rc = cli_report(ctx, n, "resolv-conf");
		} else {
			for (i = 0; i < n; i++)
				fprintf(stderr, "k8snet: warning: %s\n",
					k8snet_dns_resolv_get_warning(r, (uint32_t)i));
			fputs(text, stdout);
		}
	}
	k8snet_free(text);
	k8snet_dns_resolv_free(r);
	return rc;
}

/* Options shared by the commands that take a few positional arguments. */
struct pos_opts {
	const char *zone, *resolv_conf, *reverse, *nameserver_ip, *ttl;
	char *pos[8];
	int n;
};

static int parse_pos(int argc, char **argv, struct pos_opts *po)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "resolv-conf", required_argument, NULL, 'r' },
		{ "reverse", required_argument, NULL, 'R' },
		{ "nameserver-ip", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'z': po->zone = optarg; break;
		case 'r': po->resolv_conf = optarg; break;
		case 'R': po->reverse = optarg; break;
		case 'n': po->nameserver_ip = optarg; break;
		case 't': po->ttl = optarg; break;
		default: return usage();
		}
	}
	for (; optind < argc; optind++) {
		if (po->n == (int)(sizeof(po->pos) / sizeof(po->pos[0])))
			return usage();
		po->pos[po->n++] = argv[optind];
	}
	return 0;
}

static int print_result(struct k8snet_ctx *ctx, int r, char *s, const char *what)
{
	if (r < 0)
		return cli_report(ctx, r, what);
	fputs(s, stdout);
	if (*s && s[strlen(s) - 1] != '\n')
		putchar('\n');
	k8snet_free(s);
	return CLI_OK;
}

static int dns_candidates(struct k8snet_ctx *ctx, int argc, char **argv)
{
	struct pos_opts po = { 0 };
	char *conf = NULL, *out = NULL;
	int r = parse_pos(argc, argv, &po);

	if (r)
		return r;
	if (po.n != 1 || !po.resolv_conf || po.zone || po.reverse)
		return usage();
	conf = cli_read_file(po.resolv_conf, NULL);
	if (!conf)
		return CLI_USAGE;
	r = k8snet_dns_candidates(ctx, po.pos[0], conf, &out);
	free(conf);
	return print_result(ctx, r, out, "candidates");
}

static int zone_options(struct k8snet_dns_zone *z, const struct pos_opts *po)
{
	char *end;
	unsigned long ttl;
	int r = 0;

	if (po->ttl) {
		errno = 0;
		ttl = strtoul(po->ttl, &end, 10);
		if (errno || *end || !*po->ttl || ttl > UINT32_MAX)
			return cli_usage_error("--ttl: '%s' is not a number", po->ttl);
		r = k8snet_dns_zone_set_u32(z, K8SNET_DNS_ZONE_TTL, (uint32_t)ttl);
	}
	if (r >= 0 && po->nameserver_ip)
		r = k8snet_dns_zone_set_str(z, K8SNET_DNS_ZONE_NAMESERVER_IP, po->nameserver_ip);
	return r;
}

static int dns_zone(struct k8snet_ctx *ctx, int argc, char **argv)
{
	struct pos_opts po = { 0 };
	struct k8snet_dns_zone *z = NULL;
	char *json = NULL, *out = NULL;
	size_t len = 0;
	int r = parse_pos(argc, argv, &po);

	if (r)
		return r;
	if (po.n != 1 || !po.zone || po.resolv_conf)
		return usage();
	json = cli_read_file(po.pos[0], &len);
	if (!json)
		return CLI_USAGE;
	r = k8snet_dns_zone_new(ctx, po.zone, &z);
	if (r >= 0)
		r = zone_options(z, &po);
	if (r == CLI_USAGE) {
		free(json);
		k8snet_dns_zone_free(z);
		return CLI_USAGE;
	}
	if (r >= 0)
		r = k8snet_dns_zone_add_json(z, json, len);
	if (r >= 0)
		r = k8snet_dns_zone_render(z, po.reverse, &out);
	free(json);
	k8snet_dns_zone_free(z);
	return print_result(ctx, r, out, po.pos[0]);
}

static int dns_fqdn(struct k8snet_ctx *ctx, int argc, char **argv)
{
	struct pos_opts po = { 0 };
	char *out = NULL, **p = po.pos + 1;
	int r = parse_pos(argc, argv, &po);

	if (r)
		return r;
	if (po.n < 1 || po.resolv_conf || po.reverse)
		return usage();
	if (strcmp(po.pos[0], "service") == 0 && po.n == 3)
		r = k8snet_dns_service_fqdn(ctx, p[0], p[1], po.zone, &out);
	else if (strcmp(po.pos[0], "srv") == 0 && po.n == 5)
		r = k8snet_dns_srv_name(ctx, p[0], p[1], p[2], p[3], po.zone, &out);
	else if (strcmp(po.pos[0], "endpoint") == 0 && po.n == 4)
		r = k8snet_dns_endpoint_name(ctx, p[0], p[1], p[2], po.zone, &out);
	else if (strcmp(po.pos[0], "pod") == 0 && po.n == 3)
		r = k8snet_dns_pod_ip_name(ctx, p[0], p[1], po.zone, &out);
	else if (strcmp(po.pos[0], "pod-hostname") == 0 && po.n == 4)
		r = k8snet_dns_pod_fqdn(ctx, p[0], p[1], p[2], po.zone, &out);
	else
		return usage();
	return print_result(ctx, r, out, "fqdn");
}

static int dns_ptr(struct k8snet_ctx *ctx, int argc, char **argv)
{
	char *out = NULL;
	int r;

	if (argc != 2)
		return usage();
	r = k8snet_dns_ptr_name(ctx, argv[1], &out);
	return print_result(ctx, r, out, "ptr");
}

static int dns_parse(struct k8snet_ctx *ctx, int argc, char **argv)
{
	static const char *const parts[] = {
		"zone", "namespace", "service", "endpoint", "port", "protocol", "ip",
	};
	static const char *const kind_names[] = { "", "service", "pod", "schema" };
	struct pos_opts po = { 0 };
	struct k8snet_dns_query *q = NULL;
	uint32_t i;
	int r = parse_pos(argc, argv, &po);

	if (r)
		return r;
	if (po.n != 1 || po.resolv_conf || po.reverse)
		return usage();
	r = k8snet_dns_query_parse(ctx, po.pos[0], po.zone, &q);
	if (r == -ENOENT) {
		fprintf(stderr, "k8snet: not a cluster name: %s\n", k8snet_ctx_get_error(ctx));
		return CLI_FAIL;
	}
	if (r < 0)
		return cli_report(ctx, r, "parse");
	printf("kind=%s\n", kind_names[k8snet_dns_query_get_kind(q)]);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (k8snet_dns_query_get_str(q, i))
			printf("%s=%s\n", parts[i], k8snet_dns_query_get_str(q, i));
	k8snet_dns_query_free(q);
	return CLI_OK;
}

int cli_dns(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct k8snet_ctx *ctx, int argc, char **argv);
	} subs[] = {
		{ "validate", dns_validate },
		{ "resolv-conf", dns_resolv_conf },
		{ "candidates", dns_candidates },
		{ "zone", dns_zone },
		{ "fqdn", dns_fqdn },
		{ "ptr", dns_ptr },
		{ "parse", dns_parse },
	};
	struct k8snet_ctx *ctx = NULL;
	size_t i;
	int r;

	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		r = cli_ctx_new(NULL, &ctx);
		if (r)
			return r;
		r = subs[i].run(ctx, argc - 1, argv + 1);
		k8snet_ctx_free(ctx);
		return r;
	}
	return usage();
}
