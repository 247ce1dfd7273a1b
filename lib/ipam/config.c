/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host-local's "ipam" configuration.  Every range set is checked by building
 * its pool at parse time, so a bad range fails here, with the JSON path of
 * the field ("ipam.ranges[0][1].rangeEnd: ..."), and not at the first ADD.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ipam/ipam.h"
#include "json/json.h"

struct cfg_range {
	char *subnet, *start, *end, *gateway;   /* gateway: host-local's default filled in */
};

struct cfg_set {
	struct cfg_range *ranges;
	size_t n;
};

struct cfg_route {
	char *dst, *gw;
};

struct k8snet_ipam_config {
	struct k8snet_ctx *ctx;
	struct cfg_set *sets;
	size_t n_sets;
	struct cfg_route *routes;
	size_t n_routes;
	char *data_dir;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* host-local: a range without a gateway gets the subnet's first address. */
static int default_gateway(const char *subnet, char **ret)
{
	char buf[K8S_IP_STRLEN];
	struct k8s_ip ip;
	unsigned len;

	*ret = NULL;
	if (k8s_cidr_parse(subnet, true, &ip, &len) < 0 || len + 2 > k8s_ip_bits(ip.family))
		return 0;
	ip.v++;
	k8s_ip_format(&ip, buf);
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* Re-issue the pool's error ("rangeEnd: ...") at the JSON field it names. */
static int at_field(struct k8snet_ctx *ctx, const k8s_jref *range, int err)
{
	const char *field = k8snet_ctx_get_error_path(ctx), *msg = k8snet_ctx_get_error(ctx);
	_cleanup_(freep) char *text = NULL;
	k8s_jref m;

	if (!*field)
		return err;
	if (strncmp(msg, field, strlen(field)) == 0 && strncmp(msg + strlen(field), ": ", 2) == 0)
		msg += strlen(field) + 2;
	text = strdup(msg);
	m = k8s_jref_member(range, strcmp(field, "subnet") == 0 || strcmp(field, "rangeStart") == 0 ||
					   strcmp(field, "rangeEnd") == 0 ||
					   strcmp(field, "gateway") == 0 ? field : "subnet");
	return k8s_jerror(ctx, &m, err, "%s", text ? text : "invalid");
}

struct set_parse {
	struct k8snet_ipam_config *cfg;
	struct cfg_set *set;
	struct k8snet_ipam_pool *pool;   /* the range set so far, to check it */
};

static int read_range(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct set_parse *sp = userdata;
	const char *subnet = NULL, *start = NULL, *end = NULL, *gw = NULL;
	struct cfg_range *rs, *r;
	int rc;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	rc = k8s_json_get_str(ctx, item, "subnet", K8S_REQUIRED, &subnet);
	if (rc >= 0)
		rc = k8s_json_get_str(ctx, item, "rangeStart", K8S_OPTIONAL, &start);
	if (rc >= 0)
		rc = k8s_json_get_str(ctx, item, "rangeEnd", K8S_OPTIONAL, &end);
	if (rc >= 0)
		rc = k8s_json_get_str(ctx, item, "gateway", K8S_OPTIONAL, &gw);
	if (rc < 0)
		return rc;
	rs = realloc(sp->set->ranges, (sp->set->n + 1) * sizeof(*rs));
	if (!rs)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	sp->set->ranges = rs;
	r = &rs[sp->set->n++];
	*r = (struct cfg_range){ strdup(subnet), dup_or_null(start), dup_or_null(end),
				 dup_or_null(gw) };
	if (!gw && default_gateway(subnet, &r->gateway) < 0)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	if (!r->subnet || (start && !r->start) || (end && !r->end) || (gw && !r->gateway))
		return k8s_error(ctx, -ENOMEM, "out of memory");
	k8snet_ctx_clear_error(ctx);
	rc = k8snet_ipam_pool_add_range(sp->pool, r->subnet, r->start, r->end, r->gateway);
	return rc < 0 ? at_field(ctx, item, rc) : 0;
}

static int add_set(struct k8snet_ipam_config *cfg, struct cfg_set **ret)
{
	struct cfg_set *sets = realloc(cfg->sets, (cfg->n_sets + 1) * sizeof(*sets));

	if (!sets)
		return k8s_error(cfg->ctx, -ENOMEM, "out of memory");
	cfg->sets = sets;
	*ret = &sets[cfg->n_sets++];
	**ret = (struct cfg_set){ 0 };
	return 0;
}

static int read_set(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct k8snet_ipam_config *cfg = userdata;
	struct set_parse sp = { .cfg = cfg };
	int r;

	if (!cJSON_IsArray(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an array of ranges");
	if (k8s_json_array_size(item) == 0)
		return k8s_jerror(ctx, item, -EINVAL, "must hold at least one range");
	r = add_set(cfg, &sp.set);
	if (r >= 0)
		r = k8snet_ipam_pool_new(ctx, 0, &sp.pool);
	if (r >= 0)
		r = k8s_json_for_each_item(ctx, item, read_range, &sp);
	k8snet_ipam_pool_free(sp.pool);
	return r;
}

/* The older form: subnet, rangeStart, rangeEnd and gateway beside "type". */
static int read_legacy(struct k8snet_ipam_config *cfg, const k8s_jref *ipam)
{
	struct set_parse sp = { .cfg = cfg };
	int r = add_set(cfg, &sp.set);

	if (r >= 0)
		r = k8snet_ipam_pool_new(cfg->ctx, 0, &sp.pool);
	if (r >= 0)
		r = read_range(cfg->ctx, ipam, &sp);
	k8snet_ipam_pool_free(sp.pool);
	return r;
}

static int read_route(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct k8snet_ipam_config *cfg = userdata;
	const char *dst = NULL, *gw = NULL;
	struct cfg_route *routes;
	struct k8s_ip ip, gwip;
	unsigned len;
	int r;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	r = k8s_json_get_str(ctx, item, "dst", K8S_REQUIRED, &dst);
	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "gw", K8S_OPTIONAL, &gw);
	if (r < 0)
		return r;
	if (k8s_cidr_parse(dst, true, &ip, &len) < 0) {
		k8s_jref m = k8s_jref_member(item, "dst");

		return k8s_jerror(ctx, &m, -EINVAL, "'%s' is not a CIDR", dst);
	}
	if (gw && (k8s_ip_parse(gw, &gwip) < 0 || gwip.family != ip.family)) {
		k8s_jref m = k8s_jref_member(item, "gw");

		return k8s_jerror(ctx, &m, -EINVAL, "'%s' is not an IP address of dst's family", gw);
	}
	routes = realloc(cfg->routes, (cfg->n_routes + 1) * sizeof(*routes));
	if (!routes)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	cfg->routes = routes;
	routes[cfg->n_routes++] = (struct cfg_route){ strdup(dst), dup_or_null(gw) };
	if (!routes[cfg->n_routes - 1].dst || (gw && !routes[cfg->n_routes - 1].gw))
		return k8s_error(ctx, -ENOMEM, "out of memory");
	return 0;
}

static int read_ipam(struct k8snet_ipam_config *cfg, const k8s_jref *ipam)
{
	struct k8snet_ctx *ctx = cfg->ctx;
	const char *data_dir = NULL;
	k8s_jref ranges, routes;
	int r;

	if (!cJSON_IsObject(ipam->node))
		return k8s_jerror(ctx, ipam, -EINVAL, "must be an object");
	r = k8s_json_get_array(ctx, ipam, "ranges", K8S_OPTIONAL, &ranges);
	if (r > 0) {
		if (k8s_json_array_size(&ranges) == 0)
			return k8s_jerror(ctx, &ranges, -EINVAL, "must hold at least one range set");
		r = k8s_json_for_each_item(ctx, &ranges, read_set, cfg);
	} else if (r == 0) {
		if (!k8s_jref_member(ipam, "subnet").node)
			return k8s_jerror(ctx, &ranges, -EINVAL, "required field is missing");
		r = read_legacy(cfg, ipam);
	}
	if (r >= 0)
		r = k8s_json_get_array(ctx, ipam, "routes", K8S_OPTIONAL, &routes);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &routes, read_route, cfg);
	if (r >= 0)
		r = k8s_json_get_str(ctx, ipam, "dataDir", K8S_OPTIONAL, &data_dir);
	if (r > 0 && !(cfg->data_dir = strdup(data_dir)))
		r = k8s_error(ctx, -ENOMEM, "out of memory");
	return r < 0 ? r : 0;
}

K8SNET_EXPORT int k8snet_ipam_config_parse(struct k8snet_ctx *ctx, const char *json, size_t len,
					   struct k8snet_ipam_config **ret)
{
	struct k8snet_ipam_config *cfg;
	cJSON *root = NULL;
	k8s_jref top, ipam;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, json);
	K8S_CHECK_ARG(ctx, ret);
	r = k8s_json_parse(ctx, json, len, &root);
	if (r < 0)
		return r;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		cJSON_Delete(root);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	cfg->ctx = k8snet_ctx_ref(ctx);
	top = k8s_jref_root(root);
	if (!cJSON_IsObject(root))
		r = k8s_error(ctx, -EINVAL, "the IPAM configuration must be a JSON object");
	else if (k8s_jref_member(&top, "ipam").node) {
		ipam = k8s_jref_member(&top, "ipam");
		r = read_ipam(cfg, &ipam);
	} else {
		r = read_ipam(cfg, &top);
	}
	cJSON_Delete(root);
	if (r < 0) {
		k8snet_ipam_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

K8SNET_EXPORT struct k8snet_ipam_config *k8snet_ipam_config_free(struct k8snet_ipam_config *cfg)
{
	size_t i, j;

	if (!cfg)
		return NULL;
	for (i = 0; i < cfg->n_sets; i++) {
		for (j = 0; j < cfg->sets[i].n; j++) {
			free(cfg->sets[i].ranges[j].subnet);
			free(cfg->sets[i].ranges[j].start);
			free(cfg->sets[i].ranges[j].end);
			free(cfg->sets[i].ranges[j].gateway);
		}
		free(cfg->sets[i].ranges);
	}
	for (i = 0; i < cfg->n_routes; i++) {
		free(cfg->routes[i].dst);
		free(cfg->routes[i].gw);
	}
	free(cfg->sets);
	free(cfg->routes);
	free(cfg->data_dir);
	k8snet_ctx_unref(cfg->ctx);
	free(cfg);
	return NULL;
}

K8SNET_EXPORT int k8snet_ipam_config_get_pool_count(const struct k8snet_ipam_config *cfg)
{
	K8S_FORK_GUARD(cfg);
	return cfg ? (int)cfg->n_sets : -EINVAL;
}

K8SNET_EXPORT int k8snet_ipam_config_new_pool(const struct k8snet_ipam_config *cfg,
					      uint32_t index,
					      struct k8snet_ipam_pool **ret)
{
	struct k8snet_ipam_pool *pool = NULL;
	const struct cfg_set *set;
	size_t i;
	int r;

	K8S_FORK_GUARD(cfg);
	if (!cfg)
		return -EINVAL;
	K8S_CHECK_ARG(cfg->ctx, ret);
	if (index >= cfg->n_sets)
		return k8s_error(cfg->ctx, -ENOENT, "no range set %u: the configuration has %zu",
				 index, cfg->n_sets);
	set = &cfg->sets[index];
	r = k8snet_ipam_pool_new(cfg->ctx, 0, &pool);
	for (i = 0; r >= 0 && i < set->n; i++)
		r = k8snet_ipam_pool_add_range(pool, set->ranges[i].subnet, set->ranges[i].start,
					       set->ranges[i].end, set->ranges[i].gateway);
	if (r < 0) {
		k8snet_ipam_pool_free(pool);
		return r;
	}
	*ret = pool;
	return 0;
}

K8SNET_EXPORT const char *k8snet_ipam_config_get_data_dir(const struct k8snet_ipam_config *cfg)
{
	K8S_FORK_GUARD_OR(cfg, NULL);
	return cfg ? cfg->data_dir : NULL;
}

K8SNET_EXPORT int k8snet_ipam_config_get_route_count(const struct k8snet_ipam_config *cfg)
{
	K8S_FORK_GUARD(cfg);
	return cfg ? (int)cfg->n_routes : -EINVAL;
}

K8SNET_EXPORT int k8snet_ipam_config_get_route(const struct k8snet_ipam_config *cfg,
					       uint32_t index, const char **ret_dst,
					       const char **ret_gw)
{
	K8S_FORK_GUARD(cfg);
	if (!cfg)
		return -EINVAL;
	K8S_CHECK_ARG(cfg->ctx, ret_dst && ret_gw);
	if (index >= cfg->n_routes)
		return k8s_error(cfg->ctx, -ENOENT, "no route %u: the configuration has %zu",
				 index, cfg->n_routes);
	*ret_dst = cfg->routes[index].dst;
	*ret_gw = cfg->routes[index].gw;
	return 0;
}
