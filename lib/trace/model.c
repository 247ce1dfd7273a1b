/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trace object: the policy and Service models it explains with, its
 * settings, and an index of service addresses built when a run needs it. */
#include <stdio.h>
#include <string.h>

#include "trace/internal.h"

K8SNET_EXPORT int k8snet_trace_new(struct k8snet_ctx *ctx, struct k8snet_trace **ret)
{
	struct k8snet_trace *t;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx || !ret)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	t->ctx = k8snet_ctx_ref(ctx);
	t->stale = true;
	r = k8snet_policy_db_new(ctx, &t->db);
	if (r >= 0)
		r = k8snet_proxy_new(ctx, &t->proxy);
	if (r >= 0 && !(t->domain = strdup("cluster.local")))
		r = k8s_error(ctx, -ENOMEM, "out of memory");
	if (r < 0) {
		k8snet_trace_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static void index_clear(struct k8snet_trace *t)
{
	k8s_map_free(&t->by_dest, free);
	k8s_map_free(&t->by_ip, NULL);
}

K8SNET_EXPORT struct k8snet_trace *k8snet_trace_free(struct k8snet_trace *t)
{
	if (!t)
		return NULL;
	index_clear(t);
	if (!t->db_borrowed)
		k8snet_policy_db_free(t->db);
	if (!t->proxy_borrowed)
		k8snet_proxy_free(t->proxy);
	free(t->domain);
	free(t->node);
	free(t->cidrs);
	free(t->node_ips);
	k8snet_ctx_unref(t->ctx);
	free(t);
	return NULL;
}

K8SNET_EXPORT int k8snet_trace_load_json(struct k8snet_trace *t, const char *json, size_t len)
{
	int r;

	K8S_FORK_GUARD(t);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, json);
	r = k8snet_policy_db_load_json(t->db, json, len);
	if (r < 0)
		return r;
	r = k8snet_proxy_load_json(t->proxy, json, len);
	if (r < 0)
		return r;
	t->stale = true;
	return 0;
}

K8SNET_EXPORT int k8snet_trace_use_policy_db(struct k8snet_trace *t, struct k8snet_policy_db *db)
{
	K8S_FORK_GUARD(t);
	K8S_FORK_GUARD(db);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, db);
	if (db->ctx != t->ctx)
		return k8s_error_at(t->ctx, -EINVAL, "db", "made with another context");
	if (!t->db_borrowed)
		k8snet_policy_db_free(t->db);
	t->db = db;
	t->db_borrowed = true;
	return 0;
}

K8SNET_EXPORT int k8snet_trace_use_proxy(struct k8snet_trace *t, struct k8snet_proxy *proxy)
{
	K8S_FORK_GUARD(t);
	K8S_FORK_GUARD(proxy);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, proxy);
	if (proxy->ctx != t->ctx)
		return k8s_error_at(t->ctx, -EINVAL, "proxy", "made with another context");
	if (!t->proxy_borrowed)
		k8snet_proxy_free(t->proxy);
	t->proxy = proxy;
	t->proxy_borrowed = true;
	t->stale = true;
	return 0;
}

static int set_string(struct k8snet_trace *t, char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return k8s_error(t->ctx, -ENOMEM, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

K8SNET_EXPORT int k8snet_trace_set_str(struct k8snet_trace *t, uint32_t attr, const char *value)
{
	K8S_FORK_GUARD(t);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, value);
	switch (attr) {
	case K8SNET_TRACE_CLUSTER_DOMAIN:
		if (*value && k8snet_dns_validate(t->ctx, K8SNET_DNS_SUBDOMAIN, value) < 0)
			return k8s_error_at(t->ctx, -EINVAL, "cluster domain",
					    "'%s': not a DNS subdomain", value);
		return set_string(t, &t->domain, value);
	case K8SNET_TRACE_NODE_NAME:
		return set_string(t, &t->node, value);
	default:
		return k8s_error_at(t->ctx, -EINVAL, "attr", "%u: not a string attribute", attr);
	}
}

static int add_addr(struct k8snet_trace *t, struct nat_addr **v, size_t *n, const char *value,
		    bool cidr)
{
	struct nat_addr a;
	int r = cidr ? nat_parse_cidr(value, &a) : nat_parse_addr(value, &a);

	if (r < 0)
		return k8s_error_at(t->ctx, -EINVAL, cidr ? "cluster CIDR" : "node IP",
				    "'%s': not %s", value, cidr ? "a CIDR" : "an IP address");
	if (k8s_grow_pow2(v, *n, sizeof(**v)) < 0)
		return k8s_error(t->ctx, -ENOMEM, "out of memory");
	(*v)[(*n)++] = a;
	t->stale = true;
	return 0;
}

K8SNET_EXPORT int k8snet_trace_add_str(struct k8snet_trace *t, uint32_t attr, const char *value)
{
	K8S_FORK_GUARD(t);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, value);
	switch (attr) {
	case K8SNET_TRACE_CLUSTER_CIDR:
		return add_addr(t, &t->cidrs, &t->ncidrs, value, true);
	case K8SNET_TRACE_NODE_IP:
		return add_addr(t, &t->node_ips, &t->nnode_ips, value, false);
	default:
		return k8s_error_at(t->ctx, -EINVAL, "attr", "%u: not a list attribute", attr);
	}
}

K8SNET_EXPORT int k8snet_trace_set_u32(struct k8snet_trace *t, uint32_t attr, uint32_t value)
{
	K8S_FORK_GUARD(t);
	if (!t)
		return -EINVAL;
	if (attr != K8SNET_TRACE_FLAGS)
		return k8s_error_at(t->ctx, -EINVAL, "attr", "%u: not a number attribute", attr);
	if (value & ~K8SNET_TRACE_F_MASQUERADE_ALL)
		return k8s_error_at(t->ctx, -EINVAL, "flags", "0x%x: unknown flags", value);
	t->flags = value;
	return 0;
}

/* ---- the address index ---- */

static void dest_key(char *buf, size_t len, const struct nat_addr *a, uint8_t proto,
		     uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "np";

	if (a)
		nat_addr_str(a, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u/%u", ip, proto, port);
}

static int index_dest(struct k8snet_trace *t, const struct nat_entry *e,
		      const struct nat_port *sp, const struct nat_dest *d)
{
	struct tr_dest *td = calloc(1, sizeof(*td));
	char key[96];

	if (!td)
		return -ENOMEM;
	*td = (struct tr_dest){ .e = e, .sp = sp, .kind = d->kind };
	if (d->addr)
		td->addr = *d->addr;
	dest_key(key, sizeof(key), d->addr, sp->proto, d->port);
	/* Two services on one address and port: the older keeps it (claims.c);
	 * the index keeps the first seen, and the explanation names the holder. */
	if (k8s_map_get(&t->by_dest, key)) {
		free(td);
		return 0;
	}
	return k8s_map_put(&t->by_dest, key, td) < 0 ? (free(td), -ENOMEM) : 0;
}

static int index_entry(struct k8snet_trace *t, const struct nat_entry *e)
{
	const struct k8snet_service *svc = e->svc;
	size_t max = nat_port_dests_max(svc), i, k, n;
	struct nat_dest *dests = calloc(max, sizeof(*dests));
	static const int fams[] = { AF_INET, AF_INET6 };
	int r = dests ? 0 : -ENOMEM;

	for (i = 0; r >= 0 && i < svc->nports; i++)
		for (k = 0; r >= 0 && k < ARRAY_SIZE(fams); k++) {
			n = nat_port_dests(t->proxy, svc, &svc->ports[i], fams[k], dests, max);
			for (size_t j = 0; r >= 0 && j < n; j++)
				r = index_dest(t, e, &svc->ports[i], &dests[j]);
		}
	for (k = 0; r >= 0 && k < ARRAY_SIZE(svc->ips); k++) {
		if (k == K8SNET_SERVICE_IP_SOURCE_RANGE)
			continue;
		for (i = 0; r >= 0 && i < svc->nips[k]; i++) {
			char ip[INET6_ADDRSTRLEN];

			nat_addr_str(&svc->ips[k][i], ip, sizeof(ip));
			if (!k8s_map_get(&t->by_ip, ip))
				r = k8s_map_put(&t->by_ip, ip, (void *)e);
		}
	}
	free(dests);
	return r;
}

int tr_index(struct k8snet_trace *t)
{
	struct k8s_map_node *node;
	size_t i;
	int r = 0;

	/* A borrowed proxy may have changed behind our back. */
	if (!t->stale && !t->proxy_borrowed)
		return 0;
	index_clear(t);
	k8s_map_for_each(&t->proxy->entries, i, node) {
		const struct nat_entry *e = node->val;

		if (e->svc && e->svc->type != K8SNET_SERVICE_TYPE_EXTERNAL_NAME &&
		    (r = index_entry(t, e)) < 0)
			return k8s_error(t->ctx, r, "out of memory");
	}
	t->stale = false;
	return 0;
}

const struct tr_dest *tr_find_dest(const struct k8snet_trace *t, const struct nat_addr *a,
				   uint8_t proto, uint16_t port)
{
	char key[96];

	dest_key(key, sizeof(key), a, proto, port);
	return k8s_map_get(&t->by_dest, key);
}

const struct tr_dest *tr_find_nodeport(const struct k8snet_trace *t, uint8_t proto,
				       uint16_t port)
{
	return tr_find_dest(t, NULL, proto, port);
}

const struct nat_entry *tr_find_service_ip(const struct k8snet_trace *t,
					   const struct nat_addr *a)
{
	char ip[INET6_ADDRSTRLEN];

	nat_addr_str(a, ip, sizeof(ip));
	return k8s_map_get(&t->by_ip, ip);
}

bool tr_is_node_ip(const struct k8snet_trace *t, const struct nat_addr *a)
{
	size_t i;

	for (i = 0; i < t->nnode_ips; i++)
		if (t->node_ips[i].family == a->family && memcmp(t->node_ips[i].a, a->a, 16) == 0)
			return true;
	return false;
}

bool tr_cidrs_contain(const struct nat_addr *cidrs, size_t n, const struct nat_addr *a)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct nat_addr *c = &cidrs[i];
		unsigned bits = c->plen, full = bits / 8, rest = bits % 8;

		if (c->family != a->family || memcmp(c->a, a->a, full) != 0)
			continue;
		if (rest && ((c->a[full] ^ a->a[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}
