/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Service NAT model: proxy settings, services, endpoint slices. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nat/internal.h"

static int strset(char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* ---------------- services ---------------- */

K8SNET_EXPORT int k8snet_service_new(struct k8snet_service **ret)
{
	int r = nat_service_new(ret);

	if (r >= 0)
		(*ret)->pid = getpid();   /* the caller's: checked on every call */
	return r;
}

int nat_service_new(struct k8snet_service **ret)
{
	struct k8snet_service *svc;

	if (!ret)
		return -EINVAL;
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->affinity_timeout = 10800;
	svc->created_s = -1;
	if (strset(&svc->ns, "default") < 0) {
		free(svc);
		return -ENOMEM;
	}
	*ret = svc;
	return 0;
}

void nat_ep_clear(struct nat_ep *e)
{
	free(e->port_name);
	free(e->node);
	free(e->zone);
	free(e->hint_zones);
	free(e->hint_nodes);
}

int nat_list_add(char **list, const char *item)
{
	char *n;

	if (nat_list_has(*list, item))
		return 0;
	if (asprintf(&n, "%s%s%s", *list ? *list : "", *list ? "," : "", item) < 0)
		return -ENOMEM;
	free(*list);
	*list = n;
	return 0;
}

bool nat_list_has(const char *list, const char *item)
{
	size_t len = strlen(item);

	while (list && *list) {
		if (strncmp(list, item, len) == 0 && (list[len] == ',' || list[len] == '\0'))
			return true;
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return false;
}

void nat_service_free(void *p)
{
	struct k8snet_service *svc = p;
	size_t i;

	if (!svc)
		return;
	free(svc->ns);
	free(svc->name);
	free(svc->created);
	for (i = 0; i < ARRAY_SIZE(svc->ips); i++)
		free(svc->ips[i]);
	for (i = 0; i < svc->nports; i++)
		free(svc->ports[i].name);
	free(svc->ports);
	for (i = 0; i < svc->neps; i++)
		nat_ep_clear(&svc->eps[i]);
	free(svc->eps);
	free(svc->error);
	free(svc);
}

K8SNET_EXPORT struct k8snet_service *k8snet_service_free(struct k8snet_service *svc)
{
	nat_service_free(svc);
	return NULL;
}

/* A Service has no context: it keeps its last failed call's message,
 * naming the field (k8snet_service_get_error). */
#define svc_fail(svc, err, ...) k8s_slot_error(&(svc)->error, (err), __VA_ARGS__)

K8SNET_EXPORT const char *k8snet_service_get_error(const struct k8snet_service *svc)
{
	return svc && svc->error ? svc->error : "";
}

static const char *str_attr_name(uint32_t attr)
{
	switch (attr) {
	case K8SNET_SERVICE_NAMESPACE: return "metadata.namespace";
	case K8SNET_SERVICE_NAME: return "metadata.name";
	default: return "metadata.creationTimestamp";
	}
}

/* A DNS label (RFC 1123), which is what namespaces and service names are, and
 * what keeps our chain names valid nft identifiers. */
static bool is_dns_label(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* metadata.creationTimestamp: RFC 3339 in UTC, as the API server writes it
 * ("2024-05-01T12:00:00Z"); fractional seconds are accepted and ignored. */
static int parse_timestamp(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	time_t t;

	if (!end)
		return -EINVAL;
	if (*end == '.') {
		end++;
		if (*end < '0' || *end > '9')
			return -EINVAL;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (strcmp(end, "Z") != 0)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

static int set_created(struct k8snet_service *svc, const char *value)
{
	int64_t t;
	int r = parse_timestamp(value, &t);

	if (r < 0)
		return r;
	r = strset(&svc->created, value);
	if (r >= 0)
		svc->created_s = t;
	return r;
}

K8SNET_EXPORT int k8snet_service_set_str(struct k8snet_service *svc, uint32_t attr,
					 const char *value)
{
	int r;

	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	if (attr > K8SNET_SERVICE_CREATION_TIMESTAMP || attr == K8SNET_SERVICE_TYPE ||
	    attr == K8SNET_SERVICE_FLAGS || attr == K8SNET_SERVICE_AFFINITY_TIMEOUT)
		return svc_fail(svc, -EINVAL, "unknown string attribute %u", attr);
	if (!value)
		return svc_fail(svc, -EINVAL, "%s: no value", str_attr_name(attr));
	switch (attr) {
	case K8SNET_SERVICE_NAMESPACE:
	case K8SNET_SERVICE_NAME:
		if (!is_dns_label(value))
			return svc_fail(svc, -EINVAL, "%s: '%s' is not a DNS label (RFC 1123: "
					"1-63 of a-z, 0-9 and '-', not at either end)",
					str_attr_name(attr), value);
		r = strset(attr == K8SNET_SERVICE_NAME ? &svc->name : &svc->ns, value);
		break;
	default:
		r = set_created(svc, value);
		if (r == -EINVAL)
			return svc_fail(svc, r, "metadata.creationTimestamp: '%s' is not an RFC 3339 "
					"UTC time (2024-05-01T12:00:00Z)", value);
	}
	return r < 0 ? svc_fail(svc, r, "out of memory") : 0;
}

K8SNET_EXPORT const char *k8snet_service_get_str(const struct k8snet_service *svc, uint32_t attr)
{
	K8S_FORK_GUARD_PID_OR(svc, NULL);
	if (!svc)
		return NULL;
	switch (attr) {
	case K8SNET_SERVICE_NAMESPACE:
		return svc->ns;
	case K8SNET_SERVICE_NAME:
		return svc->name;
	case K8SNET_SERVICE_CREATION_TIMESTAMP:
		return svc->created;
	default:
		return NULL;
	}
}

K8SNET_EXPORT int k8snet_service_set_u32(struct k8snet_service *svc, uint32_t attr, uint32_t value)
{
	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	switch (attr) {
	case K8SNET_SERVICE_TYPE:
		if (value > K8SNET_SERVICE_TYPE_EXTERNAL_NAME)
			return svc_fail(svc, -EINVAL, "spec.type: unknown type %u", value);
		svc->type = value;
		return 0;
	case K8SNET_SERVICE_FLAGS:
		if (value & ~(K8SNET_SERVICE_F_AFFINITY | K8SNET_SERVICE_F_ETP_LOCAL |
			      K8SNET_SERVICE_F_ITP_LOCAL))
			return svc_fail(svc, -EINVAL, "flags: unknown flags 0x%x", value);
		svc->flags = value;
		return 0;
	case K8SNET_SERVICE_AFFINITY_TIMEOUT:
		if (value < 1 || value > 86400)
			return svc_fail(svc, -EINVAL, "spec.sessionAffinityConfig.clientIP."
					"timeoutSeconds: %u out of range: must be 1..86400", value);
		svc->affinity_timeout = value;
		return 0;
	case K8SNET_SERVICE_HEALTH_CHECK_NODE_PORT:
		if (value > 65535)
			return svc_fail(svc, -EINVAL, "spec.healthCheckNodePort: %u out of range: "
					"must be 0..65535", value);
		svc->hc_node_port = value;
		return 0;
	case K8SNET_SERVICE_TRAFFIC_DISTRIBUTION:
		if (value > K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE)
			return svc_fail(svc, -EINVAL, "spec.trafficDistribution: unknown value %u",
					value);
		svc->traffic_dist = value;
		return 0;
	default:
		return svc_fail(svc, -EINVAL, "unknown number attribute %u", attr);
	}
}

K8SNET_EXPORT uint32_t k8snet_service_get_u32(const struct k8snet_service *svc, uint32_t attr)
{
	K8S_FORK_GUARD_PID_OR(svc, 0);
	if (!svc)
		return 0;
	switch (attr) {
	case K8SNET_SERVICE_TYPE:
		return svc->type;
	case K8SNET_SERVICE_FLAGS:
		return svc->flags;
	case K8SNET_SERVICE_AFFINITY_TIMEOUT:
		return svc->affinity_timeout;
	case K8SNET_SERVICE_HEALTH_CHECK_NODE_PORT:
		return svc->hc_node_port;
	case K8SNET_SERVICE_TRAFFIC_DISTRIBUTION:
		return svc->traffic_dist;
	default:
		return 0;
	}
}

/* Arrays here grow one item at a time; their capacity is the next power of
 * two, so a realloc is due when n is 0 or a power of two. */
K8SNET_EXPORT int k8snet_service_add_ip(struct k8snet_service *svc, uint32_t kind, const char *addr)
{
	struct nat_addr a;
	int r;

	static const char *const field[] = {
		"spec.clusterIPs", "spec.externalIPs", "status.loadBalancer.ingress[].ip",
		"spec.loadBalancerSourceRanges", "status.loadBalancer.ingress[].ip",
	};

	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	if (kind > K8SNET_SERVICE_IP_LB_INGRESS_PROXY)
		return svc_fail(svc, -EINVAL, "unknown address kind %u", kind);
	r = kind == K8SNET_SERVICE_IP_SOURCE_RANGE ? nat_parse_cidr(addr, &a) : nat_parse_addr(addr, &a);
	if (r < 0)
		return svc_fail(svc, r, "%s: '%s' is not %s", field[kind], addr ? addr : "(null)",
				kind == K8SNET_SERVICE_IP_SOURCE_RANGE ? "a CIDR" : "an IP address");
	r = k8s_grow_pow2(&svc->ips[kind], svc->nips[kind], sizeof(a));
	if (r < 0)
		return svc_fail(svc, r, "out of memory");
	svc->ips[kind][svc->nips[kind]++] = a;
	return 0;
}

K8SNET_EXPORT int k8snet_service_set_endpoint_str(struct k8snet_service *svc, const char *addr,
						  uint32_t attr, const char *value)
{
	struct nat_addr a;
	size_t i, n = 0;
	int r = 0;

	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	if (attr > K8SNET_ENDPOINT_HINT_NODE)
		return svc_fail(svc, -EINVAL, "unknown endpoint attribute %u", attr);
	if (!value || !*value || strchr(value, ','))
		return svc_fail(svc, -EINVAL, "endpoint %s: '%s' is not a zone or node name",
				attr == K8SNET_ENDPOINT_HINT_NODE ? "hint" : "zone",
				value ? value : "(null)");
	if (nat_parse_addr(addr, &a) < 0)
		return svc_fail(svc, -EINVAL, "endpoint address: '%s' is not an IP address",
				addr ? addr : "(null)");
	for (i = 0; i < svc->neps && r >= 0; i++) {
		struct nat_ep *e = &svc->eps[i];

		if (e->addr.family != a.family || memcmp(e->addr.a, a.a, 16) != 0)
			continue;
		n++;
		if (attr == K8SNET_ENDPOINT_ZONE) {
			free(e->zone);
			e->zone = strdup(value);
			r = e->zone ? 0 : -ENOMEM;
		} else {
			r = nat_list_add(attr == K8SNET_ENDPOINT_HINT_ZONE ? &e->hint_zones :
					 &e->hint_nodes, value);
		}
	}
	if (r < 0)
		return svc_fail(svc, r, "out of memory");
	return n ? 0 : svc_fail(svc, -ENOENT, "endpoint %s: no such endpoint", addr);
}

static bool valid_proto(uint32_t p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP;
}

K8SNET_EXPORT int k8snet_service_add_port(struct k8snet_service *svc, const char *name,
					  uint32_t protocol, uint32_t port, uint32_t node_port)
{
	struct nat_port *p;
	int r;

	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	if (!valid_proto(protocol))
		return svc_fail(svc, -EINVAL, "spec.ports[].protocol: %u is not TCP, UDP or SCTP",
				protocol);
	if (port < 1 || port > 65535)
		return svc_fail(svc, -EINVAL, "spec.ports[].port: %u out of range: must be 1..65535",
				port);
	if (node_port > 65535)
		return svc_fail(svc, -EINVAL, "spec.ports[].nodePort: %u out of range: must be "
				"0..65535", node_port);
	r = k8s_grow_pow2(&svc->ports, svc->nports, sizeof(*p));
	if (r < 0)
		return svc_fail(svc, r, "out of memory");
	p = &svc->ports[svc->nports];
	*p = (struct nat_port){ .proto = (uint8_t)protocol, .port = (uint16_t)port,
				.node_port = (uint16_t)node_port };
	p->name = strdup(name ? name : "");
	if (!p->name)
		return -ENOMEM;
	svc->nports++;
	return 0;
}

static int ep_fill(struct nat_ep *e, const char *addr, const char *port_name, uint32_t port,
		   const char *node, uint32_t flags)
{
	*e = (struct nat_ep){ .port = (uint16_t)port, .flags = flags };
	if (nat_parse_addr(addr, &e->addr) < 0)
		return -EINVAL;
	e->port_name = strdup(port_name ? port_name : "");
	e->node = node ? strdup(node) : NULL;
	if (!e->port_name || (node && !e->node)) {
		nat_ep_clear(e);
		return -ENOMEM;
	}
	return 0;
}

K8SNET_EXPORT int k8snet_service_add_endpoint(struct k8snet_service *svc, const char *addr,
					      const char *port_name, uint32_t port,
					      const char *node_name, uint32_t flags)
{
	int r;

	K8S_FORK_GUARD_PID(svc, &svc->error);
	if (!svc)
		return -EINVAL;
	k8s_slot_clear(&svc->error);
	if (port < 1 || port > 65535)
		return svc_fail(svc, -EINVAL, "endpoint port: %u out of range: must be 1..65535",
				port);
	if (flags & ~(K8SNET_ENDPOINT_F_READY | K8SNET_ENDPOINT_F_SERVING |
		      K8SNET_ENDPOINT_F_TERMINATING))
		return svc_fail(svc, -EINVAL, "endpoint flags: unknown flags 0x%x", flags);
	r = k8s_grow_pow2(&svc->eps, svc->neps, sizeof(*svc->eps));
	if (r < 0)
		return svc_fail(svc, r, "out of memory");
	r = addr ? ep_fill(&svc->eps[svc->neps], addr, port_name, port, node_name, flags) : -EINVAL;
	if (r == -EINVAL)
		return svc_fail(svc, r, "endpoint address: '%s' is not an IP address",
				addr ? addr : "(null)");
	if (r < 0)
		return svc_fail(svc, r, "out of memory");
	svc->neps++;
	return 0;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static int ep_copy_topology(struct nat_ep *d, const struct nat_ep *s)
{
	int r = dup_opt(&d->zone, s->zone);

	if (r >= 0)
		r = dup_opt(&d->hint_zones, s->hint_zones);
	if (r >= 0)
		r = dup_opt(&d->hint_nodes, s->hint_nodes);
	if (r < 0)
		nat_ep_clear(d);
	return r;
}

int nat_service_copy(const struct k8snet_service *src, struct k8snet_service **ret)
{
	struct k8snet_service *d;
	size_t i, k;
	int r;

	r = nat_service_new(&d);
	if (r < 0)
		return r;
	d->type = src->type;
	d->flags = src->flags;
	d->affinity_timeout = src->affinity_timeout;
	d->hc_node_port = src->hc_node_port;
	d->traffic_dist = src->traffic_dist;
	r = strset(&d->ns, src->ns);
	if (r >= 0 && src->name)
		r = strset(&d->name, src->name);
	if (r >= 0 && src->created)
		r = set_created(d, src->created);
	for (k = 0; r >= 0 && k < ARRAY_SIZE(src->ips); k++)
		for (i = 0; r >= 0 && i < src->nips[k]; i++) {
			r = k8s_grow_pow2(&d->ips[k], d->nips[k], sizeof(struct nat_addr));
			if (r >= 0)
				d->ips[k][d->nips[k]++] = src->ips[k][i];
		}
	for (i = 0; r >= 0 && i < src->nports; i++) {
		const struct nat_port *p = &src->ports[i];

		r = k8snet_service_add_port(d, p->name, p->proto, p->port, p->node_port);
	}
	for (i = 0; r >= 0 && i < src->neps; i++) {
		r = k8s_grow_pow2(&d->eps, d->neps, sizeof(*d->eps));
		if (r >= 0) {
			char buf[INET6_ADDRSTRLEN];
			const struct nat_ep *e = &src->eps[i];

			nat_addr_str(&e->addr, buf, sizeof(buf));
			r = ep_fill(&d->eps[d->neps], buf, e->port_name, e->port, e->node, e->flags);
			if (r >= 0)
				r = ep_copy_topology(&d->eps[d->neps], e);
			if (r >= 0)
				d->eps[d->neps++].proto = e->proto;
		}
	}
	if (r < 0) {
		nat_service_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void nat_slice_free(void *p)
{
	struct nat_slice *sl = p;
	size_t i;

	if (!sl)
		return;
	for (i = 0; i < sl->neps; i++)
		nat_ep_clear(&sl->eps[i]);
	free(sl->eps);
	free(sl->name);
	free(sl);
}

/* ---------------- proxy ---------------- */

K8SNET_EXPORT int k8snet_proxy_new(struct k8snet_ctx *ctx, struct k8snet_proxy **ret)
{
	struct k8snet_proxy *p;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, ret);
	p = calloc(1, sizeof(*p));
	if (!p)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	p->ctx = ctx;
	p->cfg.mark_bit = 14;
	p->cfg.np_min = 30000;
	p->cfg.np_max = 32767;
	if (strset(&p->cfg.table, "k8snet") < 0) {
		free(p);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	k8snet_ctx_ref(ctx);
	*ret = p;
	return 0;
}

static void entry_free(void *v)
{
	struct nat_entry *e = v;

	size_t i;

	nat_service_free(e->svc);
	k8s_map_free(&e->slices, nat_slice_free);
	nat_frag_free(e->frag[0]);
	nat_frag_free(e->frag[1]);
	for (i = 0; i < e->nclaims; i++)
		free(e->claims[i]);
	free(e->claims);
	free(e->key);
	free(e);
}

K8SNET_EXPORT struct k8snet_proxy *k8snet_proxy_free(struct k8snet_proxy *p)
{
	size_t i;

	if (!p)
		return NULL;
	k8s_map_free(&p->entries, entry_free);
	nat_ptrvec_free(&p->dirty, NULL);
	k8s_map_free(&p->slice_owner, free);
	k8s_map_free(&p->hairpin[0], NULL);
	k8s_map_free(&p->hairpin[1], NULL);
	free(p->cfg.node_name);
	free(p->cfg.node_zone);
	free(p->cfg.table);
	free(p->cfg.node_ips);
	free(p->cfg.cluster_cidrs);
	free(p->cfg.nodeport_addrs);
	free(p->cfg.service_cidrs);
	k8s_map_free(&p->picks[0], NULL);
	k8s_map_free(&p->picks[1], NULL);
	nat_claims_free(p);
	nat_skipped_clear(p);
	nat_health_clear(p);
	nat_ct_free(p);
	k8s_map_free(&p->skipping, NULL);
	for (i = 0; i < ARRAY_SIZE(p->first_str); i++)
		free(p->first_str[i]);
	k8snet_ctx_unref(p->ctx);
	free(p);
	return NULL;
}

/* Settings shape the whole table: the next sync replaces it, and every
 * service is planned again (its claims too: a NodePort range moved). */
static void config_changed(struct k8snet_proxy *p)
{
	struct k8s_map_node *n;
	size_t i;

	p->track.valid = false;
	k8s_map_for_each(&p->entries, i, n)
		nat_mark_dirty(p, n->val);
}

K8SNET_EXPORT int k8snet_proxy_set_str(struct k8snet_proxy *p, uint32_t attr, const char *value)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, value);
	switch (attr) {
	case K8SNET_PROXY_NODE_NAME:
		config_changed(p);
		return strset(&p->cfg.node_name, value);
	case K8SNET_PROXY_NODE_ZONE:
		config_changed(p);
		return strset(&p->cfg.node_zone, value);
	case K8SNET_PROXY_TABLE:
		if (!nft_table_name_valid(value))
			return k8s_error(p->ctx, -EINVAL, "table name '%s': must be letters, "
					 "digits, '-' or '_', starting with a letter", value);
		if (p->synced)
			return k8s_error(p->ctx, -EBUSY, "table name cannot change after sync");
		return strset(&p->cfg.table, value);
	default:
		return k8s_error(p->ctx, -EINVAL, "unknown string attribute %u", attr);
	}
}

static int add_addr(struct nat_addr **arr, size_t *n, const struct nat_addr *a)
{
	int r = k8s_grow_pow2(arr, *n, sizeof(**arr));

	if (r < 0)
		return r;
	(*arr)[(*n)++] = *a;
	return 0;
}

/* k8snet_proxy_get_str() returns the first value of a list attribute; its
 * text is kept here, so that it stays valid until the attribute changes
 * (and no buffer is shared between callers or threads). */
static int keep_first(struct k8snet_proxy *p, uint32_t attr, const struct nat_addr *a, bool cidr)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (p->first_str[attr])
		return 0;
	nat_addr_str(a, buf, INET6_ADDRSTRLEN);
	if (cidr)
		snprintf(buf + strlen(buf), 5, "/%u", a->plen);
	return strset(&p->first_str[attr], buf);
}

K8SNET_EXPORT int k8snet_proxy_add_str(struct k8snet_proxy *p, uint32_t attr, const char *value)
{
	struct nat_addr a;
	int r;

	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, value);
	switch (attr) {
	case K8SNET_PROXY_NODE_IP:
		if (nat_parse_addr(value, &a) < 0)
			return k8s_error(p->ctx, -EINVAL, "node IP '%s': not an IP address", value);
		if (keep_first(p, attr, &a, false) < 0)
			return k8s_error(p->ctx, -ENOMEM, "out of memory");
		config_changed(p);
		return add_addr(&p->cfg.node_ips, &p->cfg.n_node_ips, &a);
	case K8SNET_PROXY_CLUSTER_CIDR:
	case K8SNET_PROXY_NODEPORT_ADDRESS:
	case K8SNET_PROXY_SERVICE_CIDR:
		if (nat_parse_cidr(value, &a) < 0)
			return k8s_error(p->ctx, -EINVAL, "'%s': not a CIDR", value);
		r = keep_first(p, attr, &a, true);
		if (r < 0)
			return k8s_error(p->ctx, -ENOMEM, "out of memory");
		config_changed(p);
		if (attr == K8SNET_PROXY_CLUSTER_CIDR)
			return add_addr(&p->cfg.cluster_cidrs, &p->cfg.n_cluster_cidrs, &a);
		if (attr == K8SNET_PROXY_SERVICE_CIDR)
			return add_addr(&p->cfg.service_cidrs, &p->cfg.n_service_cidrs, &a);
		return add_addr(&p->cfg.nodeport_addrs, &p->cfg.n_nodeport_addrs, &a);
	case K8SNET_PROXY_NODE_NAME:
	case K8SNET_PROXY_TABLE:
	case K8SNET_PROXY_NODE_ZONE:
		return k8snet_proxy_set_str(p, attr, value);
	default:
		return k8s_error(p->ctx, -EINVAL, "unknown list attribute %u", attr);
	}
}

K8SNET_EXPORT int k8snet_proxy_set_u32(struct k8snet_proxy *p, uint32_t attr, uint32_t value)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	switch (attr) {
	case K8SNET_PROXY_MARK_BIT:
		if (value > 31)
			return k8s_error(p->ctx, -EINVAL, "mark bit %u: must be 0..31", value);
		p->cfg.mark_bit = value;
		break;
	case K8SNET_PROXY_NODEPORT_MIN:
	case K8SNET_PROXY_NODEPORT_MAX:
		if (value < 1 || value > 65535)
			return k8s_error(p->ctx, -EINVAL, "NodePort bound %u: must be 1..65535", value);
		*(attr == K8SNET_PROXY_NODEPORT_MIN ? &p->cfg.np_min : &p->cfg.np_max) = value;
		break;
	case K8SNET_PROXY_FLAGS:
		if (value & ~(K8SNET_PROXY_F_MASQUERADE_ALL | K8SNET_PROXY_F_ROUND_ROBIN |
			      K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP | K8SNET_PROXY_F_COUNT))
			return k8s_error(p->ctx, -EINVAL, "unknown proxy flags 0x%x", value);
		/* Conntrack cleanup is no part of the ruleset. */
		if (!((value ^ p->cfg.flags) & ~K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP)) {
			p->cfg.flags = value;
			return 0;
		}
		p->cfg.flags = value;
		break;
	default:
		return k8s_error(p->ctx, -EINVAL, "unknown number attribute %u", attr);
	}
	config_changed(p);
	return 0;
}

K8SNET_EXPORT const char *k8snet_proxy_get_str(const struct k8snet_proxy *p, uint32_t attr)
{
	K8S_FORK_GUARD_OR(p, NULL);
	if (!p)
		return NULL;
	switch (attr) {
	case K8SNET_PROXY_NODE_NAME:
		return p->cfg.node_name;
	case K8SNET_PROXY_NODE_ZONE:
		return p->cfg.node_zone;
	case K8SNET_PROXY_TABLE:
		return p->cfg.table;
	case K8SNET_PROXY_NODE_IP:
	case K8SNET_PROXY_CLUSTER_CIDR:
	case K8SNET_PROXY_NODEPORT_ADDRESS:
	case K8SNET_PROXY_SERVICE_CIDR:
		return p->first_str[attr];
	}
	return NULL;
}

K8SNET_EXPORT uint32_t k8snet_proxy_get_u32(const struct k8snet_proxy *p, uint32_t attr)
{
	K8S_FORK_GUARD_OR(p, 0);
	if (!p)
		return 0;
	switch (attr) {
	case K8SNET_PROXY_MARK_BIT:
		return p->cfg.mark_bit;
	case K8SNET_PROXY_NODEPORT_MIN:
		return p->cfg.np_min;
	case K8SNET_PROXY_NODEPORT_MAX:
		return p->cfg.np_max;
	case K8SNET_PROXY_FLAGS:
		return p->cfg.flags;
	case K8SNET_PROXY_CONNTRACK_DELETED:
		return p->ct_deleted;
	case K8SNET_PROXY_CONNTRACK_FILTERS:
		return p->ct_filters;
	default:
		return 0;
	}
}

/* The entries to plan at the next sync: a sync costs what changed, not what
 * exists.  Entries are freed only by a sync that empties this list. */
void nat_mark_dirty(struct k8snet_proxy *p, struct nat_entry *e)
{
	if (e->dirty)
		return;
	if (nat_ptrvec_push(&p->dirty, e) < 0) {
		p->track.valid = false;   /* out of memory: the next sync does all */
		return;
	}
	e->dirty = true;
}

struct nat_entry *nat_entry_get(struct k8snet_proxy *p, const char *ns, const char *name,
				bool create)
{
	struct nat_entry *e;
	char *key;

	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return NULL;
	e = k8s_map_get(&p->entries, key);
	if (e || !create) {
		free(key);
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e || k8s_map_put(&p->entries, key, e) < 0) {
		free(e);
		free(key);
		return NULL;
	}
	e->key = key;
	return e;
}

K8SNET_EXPORT int k8snet_proxy_add_service(struct k8snet_proxy *p, const struct k8snet_service *svc)
{
	struct k8snet_service *copy;
	struct nat_entry *e;
	int r;

	K8S_FORK_GUARD(p);
	K8S_FORK_GUARD_PID_CTX(svc, p ? p->ctx : NULL);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, svc);
	if (!svc->name)
		return k8s_error_at(p->ctx, -EINVAL, "metadata.name", "required");
	r = nat_service_copy(svc, &copy);
	if (r < 0)
		return k8s_error(p->ctx, r, "out of memory");
	e = nat_entry_get(p, svc->ns, svc->name, true);
	if (!e) {
		nat_service_free(copy);
		return k8s_error(p->ctx, -ENOMEM, "out of memory");
	}
	nat_service_free(e->svc);
	e->svc = copy;
	nat_mark_dirty(p, e);
	return 0;
}

K8SNET_EXPORT int k8snet_proxy_remove_service(struct k8snet_proxy *p, const char *ns,
					      const char *name)
{
	struct nat_entry *e;

	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, ns && name);
	e = nat_entry_get(p, ns, name, false);
	if (!e || (!e->svc && !k8s_map_count(&e->slices)))
		return k8s_error(p->ctx, -ENOENT, "service %s/%s: not found", ns, name);
	e->svc = k8snet_service_free(e->svc);
	k8s_map_free(&e->slices, nat_slice_free);
	nat_mark_dirty(p, e);
	return 0;
}

int nat_set_slice(struct k8snet_proxy *p, const char *ns, const char *svc_name,
		  struct nat_slice *sl)
{
	struct nat_entry *e, *old_e = NULL;
	char *owner_key = NULL, *svc_key = NULL, *old;

	if (asprintf(&owner_key, "%s/%s", ns, sl->name) < 0 ||
	    asprintf(&svc_key, "%s/%s", ns, svc_name) < 0)
		goto oom;
	/* A slice that moved to another service leaves the old one. */
	old = k8s_map_get(&p->slice_owner, owner_key);
	if (old && strcmp(old, svc_key) != 0) {
		old_e = k8s_map_get(&p->entries, old);
		if (old_e) {
			nat_slice_free(k8s_map_remove(&old_e->slices, sl->name));
			nat_mark_dirty(p, old_e);
		}
	}
	e = nat_entry_get(p, ns, svc_name, true);
	if (!e)
		goto oom;
	nat_slice_free(k8s_map_remove(&e->slices, sl->name));
	if (k8s_map_put(&e->slices, sl->name, sl) < 0)
		goto oom;
	nat_mark_dirty(p, e);
	if (!old || strcmp(old, svc_key) != 0) {
		free(k8s_map_remove(&p->slice_owner, owner_key));
		if (k8s_map_put(&p->slice_owner, owner_key, svc_key) < 0)
			goto oom;
		svc_key = NULL;
	}
	free(owner_key);
	free(svc_key);
	return 0;
oom:
	free(owner_key);
	free(svc_key);
	return -ENOMEM;
}

K8SNET_EXPORT int k8snet_proxy_remove_slice(struct k8snet_proxy *p, const char *ns,
					    const char *name)
{
	struct nat_entry *e;
	char *owner_key, *svc_key;

	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, ns && name);
	if (asprintf(&owner_key, "%s/%s", ns, name) < 0)
		return k8s_error(p->ctx, -ENOMEM, "out of memory");
	svc_key = k8s_map_remove(&p->slice_owner, owner_key);
	free(owner_key);
	if (!svc_key)
		return k8s_error(p->ctx, -ENOENT, "EndpointSlice %s/%s: not found", ns, name);
	e = k8s_map_get(&p->entries, svc_key);
	free(svc_key);
	if (e) {
		nat_slice_free(k8s_map_remove(&e->slices, name));
		nat_mark_dirty(p, e);
	}
	return 0;
}

/* Traffic from outside the cluster is masqueraded when we know what the
 * cluster is (a CIDR of this family), or always with masquerade-all. */
bool nat_masq_outside(const struct nat_config *cfg, int fam)
{
	size_t i;

	if (cfg->flags & K8SNET_PROXY_F_MASQUERADE_ALL)
		return true;
	for (i = 0; i < cfg->n_cluster_cidrs; i++)
		if (cfg->cluster_cidrs[i].family == fam)
			return true;
	return false;
}

static bool has_family(const struct nat_addr *v, size_t n, int fam)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].family == fam)
			return true;
	return false;
}

/* The addresses NodePorts answer on, per family: the configured CIDRs, else
 * the node's IPs (kube-proxy's "primary" default), else (NULL) every local
 * address. */
const struct nat_addr *nat_nodeport_addrs(const struct nat_config *cfg, int fam, size_t *ret_n)
{
	if (has_family(cfg->nodeport_addrs, cfg->n_nodeport_addrs, fam)) {
		*ret_n = cfg->n_nodeport_addrs;
		return cfg->nodeport_addrs;
	}
	if (has_family(cfg->node_ips, cfg->n_node_ips, fam)) {
		*ret_n = cfg->n_node_ips;
		return cfg->node_ips;
	}
	*ret_n = 0;
	return NULL;
}

/* ---------------- what the last sync left out ---------------- */

K8SNET_EXPORT int k8snet_proxy_get_skipped_count(const struct k8snet_proxy *p)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	return p->nskipped > INT32_MAX ? INT32_MAX : (int)p->nskipped;
}

K8SNET_EXPORT int k8snet_proxy_get_skipped(const struct k8snet_proxy *p, uint32_t index,
					   const char **ret_object, const char **ret_reason)
{
	K8S_FORK_GUARD(p);
	if (!p || !ret_object || !ret_reason)
		return -EINVAL;
	if (index >= p->nskipped)
		return -ENOENT;
	*ret_object = p->skipped[index].object;
	*ret_reason = p->skipped[index].reason;
	return 0;
}
