/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resolv.conf builder: its inputs (each checked as it is set, so a bad
 * one is reported at the call that gave it) and the rendered file.  The rules
 * themselves are in resolv-plan.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/resolv.h"
#include "json/json.h"

K8SNET_EXPORT int k8snet_dns_resolv_new(struct k8snet_ctx *ctx, struct k8snet_dns_resolv **ret)
{
	struct k8snet_dns_resolv *r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && ret);
	r = calloc(1, sizeof(*r));
	if (!r)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	r->ctx = k8snet_ctx_ref(ctx);
	r->policy = K8S_POLICY_CLUSTER_FIRST;
	r->ns = strdup("default");
	r->cluster_domain = strdup(K8S_DNS_DEFAULT_ZONE);
	if (!r->ns || !r->cluster_domain) {
		k8snet_dns_resolv_free(r);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	*ret = r;
	return 0;
}

void k8s_pod_dns_config_clear(struct k8s_pod_dns_config *dc)
{
	k8s_strv_clear(&dc->nameservers);
	k8s_strv_clear(&dc->searches);
	k8s_strv_clear(&dc->option_names);
	k8s_strv_clear(&dc->option_values);
}

K8SNET_EXPORT struct k8snet_dns_resolv *k8snet_dns_resolv_free(struct k8snet_dns_resolv *r)
{
	if (!r)
		return NULL;
	free(r->ns);
	free(r->cluster_domain);
	k8s_strv_clear(&r->cluster_dns);
	k8s_resolv_conf_clear(&r->host);
	k8s_strv_clear(&r->node_ips);
	k8s_pod_dns_config_clear(&r->dns_config);
	k8s_strv_clear(&r->warnings);
	k8snet_ctx_unref(r->ctx);
	free(r);
	return NULL;
}

static int set_policy(struct k8snet_dns_resolv *r, const char *value)
{
	static const char *const names[] = {
		[K8S_POLICY_CLUSTER_FIRST] = "ClusterFirst",
		[K8S_POLICY_CLUSTER_FIRST_WITH_HOST_NET] = "ClusterFirstWithHostNet",
		[K8S_POLICY_DEFAULT] = "Default",
		[K8S_POLICY_NONE] = "None",
	};
	size_t i;

	/* The API server defaults an empty dnsPolicy to ClusterFirst. */
	if (!value || !*value) {
		r->policy = K8S_POLICY_CLUSTER_FIRST;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(value, names[i]) == 0) {
			r->policy = (enum k8s_dns_policy)i;
			return 0;
		}
	}
	return k8s_error_at(r->ctx, -EINVAL, "dnsPolicy",
			    "'%s' must be ClusterFirst, ClusterFirstWithHostNet, Default or None",
			    value);
}

/* "IP[,IP...]" into canonical addresses. */
static int set_ip_list(struct k8snet_dns_resolv *r, struct k8s_strv *out, const char *what,
		       const char *value)
{
	struct k8s_strv ips = { 0 };
	const char *p = value ? value : "";
	int rr = 0;

	while (*p && rr >= 0) {
		size_t n = strcspn(p, ",");
		char *item = strndup(p, n), canon[46];

		if (!item) {
			rr = k8s_error(r->ctx, -ENOMEM, "out of memory");
			break;
		}
		if (k8s_dns_ip_canon(item, NULL, canon) < 0)
			rr = k8s_error_at(r->ctx, -EINVAL, what, "'%s' is not an IP address", item);
		else if (k8s_strv_push(&ips, canon, strlen(canon)) < 0)
			rr = k8s_error(r->ctx, -ENOMEM, "out of memory");
		free(item);
		p += n + (p[n] == ',');
	}
	if (rr < 0) {
		k8s_strv_clear(&ips);
		return rr;
	}
	k8s_strv_clear(out);
	*out = ips;
	return 0;
}

static int set_string(struct k8snet_dns_resolv *r, char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return k8s_error(r->ctx, -ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int set_host_conf(struct k8snet_dns_resolv *r, const char *source, const char *text,
			 size_t len)
{
	struct k8s_resolv_conf rc;
	int rr;

	if (!text) {
		k8s_resolv_conf_clear(&r->host);
		r->has_host_conf = false;
		return 0;
	}
	rr = k8s_resolv_conf_parse(r->ctx, source, text, len, false, &rc);
	if (rr < 0)
		return rr;
	k8s_resolv_conf_clear(&r->host);
	r->host = rc;
	r->has_host_conf = true;
	return 0;
}

static int set_host_conf_file(struct k8snet_dns_resolv *r, const char *path)
{
	_cleanup_(k8s_closep) int fd = -1;
	struct k8s_buf b = { 0 };
	char chunk[65536];
	ssize_t n;
	int rr;

	/* Like the kubelet's --resolv-conf="": no file. */
	if (!path || !*path)
		return set_host_conf(r, NULL, NULL, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return k8s_error(r->ctx, -errno, "%s: %s", path, k8snet_strerror(errno));
	k8s_buf_puts(&b, "");
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		k8s_buf_add(&b, chunk, (size_t)n);
	if (n < 0) {
		rr = k8s_error(r->ctx, -errno, "%s: %s", path, k8snet_strerror(errno));
	} else if (b.oom) {
		rr = k8s_error(r->ctx, -ENOMEM, "out of memory");
	} else {
		/* Errors name the file: "/etc/resolv.conf: line 3: ..." */
		rr = set_host_conf(r, path, b.data, b.len);
	}
	k8s_buf_free(&b);
	return rr;
}

/* Searches in spec.dnsConfig: a DNS subdomain, "_" allowed, trailing "." allowed. */
static bool valid_search(const char *s)
{
	size_t n = strlen(s), i, label = 0;

	if (strcmp(s, ".") == 0)
		return true;
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > K8S_DNS_SUBDOMAIN_MAX)
		return false;
	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > K8S_DNS_LABEL_MAX || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			   (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static int read_dns_nameserver(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct k8s_pod_dns_config *dc = userdata;
	const char *s;
	char canon[46];
	int r = k8s_json_as_str(ctx, item, &s);

	if (r < 0)
		return r;
	if (k8s_dns_ip_canon(s, NULL, canon) < 0)
		return k8s_jerror(ctx, item, -EINVAL, "'%s' must be a valid IP address", s);
	/* The kubelet appends the string as given. */
	return k8s_strv_push(&dc->nameservers, s, strlen(s)) < 0 ? -ENOMEM : 0;
}

static int read_dns_search(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct k8s_pod_dns_config *dc = userdata;
	const char *s;
	int r = k8s_json_as_str(ctx, item, &s);

	if (r < 0)
		return r;
	if (!valid_search(s))
		return k8s_jerror(ctx, item, -EINVAL, "'%s' must be a DNS subdomain "
				  "(lower case alphanumerics, '-', '_', '.')", s);
	return k8s_strv_push(&dc->searches, s, strlen(s)) < 0 ? -ENOMEM : 0;
}

static int read_dns_option(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct k8s_pod_dns_config *dc = userdata;
	const char *name = NULL, *value = "";
	int r;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	r = k8s_json_get_str(ctx, item, "name", K8S_REQUIRED, &name);
	if (r >= 0 && !*name) {
		k8s_jref m = k8s_jref_member(item, "name");

		r = k8s_jerror(ctx, &m, -EINVAL, "must not be empty");
	}
	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "value", K8S_OPTIONAL, &value);
	if (r < 0)
		return r;
	if (k8s_strv_push(&dc->option_names, name, strlen(name)) < 0 ||
	    k8s_strv_push(&dc->option_values, value, strlen(value)) < 0)
		return -ENOMEM;
	return 0;
}

static int read_dns_config(struct k8snet_ctx *ctx, const cJSON *root,
			   struct k8s_pod_dns_config *dc)
{
	k8s_jref top = { .node = root, .key = "dnsConfig", .index = -1 }, arr;
	int r;

	if (!cJSON_IsObject(root))
		return k8s_jerror(ctx, &top, -EINVAL, "must be an object");
	if ((r = k8s_json_get_array(ctx, &top, "nameservers", K8S_OPTIONAL, &arr)) < 0 ||
	    (r = k8s_json_for_each_item(ctx, &arr, read_dns_nameserver, dc)) < 0 ||
	    (r = k8s_json_get_array(ctx, &top, "searches", K8S_OPTIONAL, &arr)) < 0 ||
	    (r = k8s_json_for_each_item(ctx, &arr, read_dns_search, dc)) < 0 ||
	    (r = k8s_json_get_array(ctx, &top, "options", K8S_OPTIONAL, &arr)) < 0 ||
	    (r = k8s_json_for_each_item(ctx, &arr, read_dns_option, dc)) < 0)
		return r == -ENOMEM ? k8s_error(ctx, r, "out of memory") : r;
	return 0;
}

static int set_dns_config(struct k8snet_dns_resolv *r, const char *json)
{
	struct k8s_pod_dns_config dc = { 0 };
	cJSON *root = NULL;
	int rr;

	if (!json) {
		k8s_pod_dns_config_clear(&r->dns_config);
		r->has_dns_config = false;
		return 0;
	}
	rr = k8s_json_parse(r->ctx, json, strlen(json), &root);
	if (rr < 0)
		return k8s_error_at(r->ctx, rr, "dnsConfig", "%s", k8snet_ctx_get_error(r->ctx));
	rr = read_dns_config(r->ctx, root, &dc);
	cJSON_Delete(root);
	if (rr < 0) {
		k8s_pod_dns_config_clear(&dc);
		return rr;
	}
	k8s_pod_dns_config_clear(&r->dns_config);
	r->dns_config = dc;
	r->has_dns_config = true;
	return 0;
}

static int set_cluster_domain(struct k8snet_dns_resolv *r, const char *value)
{
	char *z = NULL;
	int rr;

	if (!value || !*value)
		return set_string(r, &r->cluster_domain, "");
	rr = k8s_dns_zone_normalize(r->ctx, value, &z);
	if (rr < 0)
		return rr;
	free(r->cluster_domain);
	r->cluster_domain = z;
	return 0;
}

K8SNET_EXPORT int k8snet_dns_resolv_set_str(struct k8snet_dns_resolv *r, uint32_t attr,
					    const char *value)
{
	K8S_FORK_GUARD(r);
	K8S_CHECK_ARG(NULL, r);
	switch (attr) {
	case K8SNET_DNS_RESOLV_POLICY:
		return set_policy(r, value);
	case K8SNET_DNS_RESOLV_NAMESPACE:
		K8S_CHECK_ARG(r->ctx, value);
		if (k8s_dns_require(r->ctx, K8SNET_DNS_LABEL, "namespace", value) < 0)
			return -EINVAL;
		return set_string(r, &r->ns, value);
	case K8SNET_DNS_RESOLV_CLUSTER_DOMAIN:
		return set_cluster_domain(r, value);
	case K8SNET_DNS_RESOLV_CLUSTER_DNS:
		return set_ip_list(r, &r->cluster_dns, "clusterDNS", value);
	case K8SNET_DNS_RESOLV_NODE_IPS:
		return set_ip_list(r, &r->node_ips, "nodeIPs", value);
	case K8SNET_DNS_RESOLV_HOST_CONF:
		return set_host_conf(r, "resolv.conf", value, value ? strlen(value) : 0);
	case K8SNET_DNS_RESOLV_HOST_CONF_FILE:
		return set_host_conf_file(r, value);
	case K8SNET_DNS_RESOLV_DNS_CONFIG:
		return set_dns_config(r, value);
	}
	return k8s_error(r->ctx, -EINVAL, "%s: unknown string attribute %u", __func__, attr);
}

K8SNET_EXPORT int k8snet_dns_resolv_set_u32(struct k8snet_dns_resolv *r, uint32_t attr,
					    uint32_t value)
{
	K8S_FORK_GUARD(r);
	K8S_CHECK_ARG(NULL, r);
	K8S_CHECK_ARG(r->ctx, value <= 1);
	switch (attr) {
	case K8SNET_DNS_RESOLV_HOST_NETWORK:
		r->host_network = value;
		return 0;
	case K8SNET_DNS_RESOLV_LEGACY_LIMITS:
		r->legacy_limits = value;
		return 0;
	}
	return k8s_error(r->ctx, -EINVAL, "%s: unknown integer attribute %u", __func__, attr);
}

static void render_line(struct k8s_buf *b, const char *keyword, const struct k8s_strv *items)
{
	size_t i;

	if (!items->n)
		return;
	k8s_buf_puts(b, keyword);
	for (i = 0; i < items->n; i++) {
		k8s_buf_putc(b, ' ');
		k8s_buf_puts(b, items->v[i]);
	}
	k8s_buf_putc(b, '\n');
}

K8SNET_EXPORT int k8snet_dns_resolv_render(struct k8snet_dns_resolv *r, char **ret_text)
{
	struct k8s_resolv_plan plan = { 0 };
	struct k8s_buf b = { 0 };
	size_t i;
	int rr;

	K8S_FORK_GUARD(r);
	K8S_CHECK_ARG(NULL, r);
	K8S_CHECK_ARG(r->ctx, ret_text);
	rr = k8s_resolv_plan(r, &plan);
	if (rr < 0)
		return rr;
	k8s_buf_puts(&b, "");
	render_line(&b, "search", &plan.searches);
	for (i = 0; i < plan.nameservers.n; i++)
		k8s_buf_printf(&b, "nameserver %s\n", plan.nameservers.v[i]);
	render_line(&b, "options", &plan.options);
	k8s_resolv_plan_clear(&plan);
	rr = k8s_buf_take(&b, ret_text);
	if (rr < 0)
		return k8s_error(r->ctx, rr, "out of memory");
	return (int)r->warnings.n;
}

K8SNET_EXPORT const char *k8snet_dns_resolv_get_warning(const struct k8snet_dns_resolv *r,
							 uint32_t index)
{
	K8S_FORK_GUARD_OR(r, NULL);
	return r && index < r->warnings.n ? r->warnings.v[index] : NULL;
}
