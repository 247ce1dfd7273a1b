/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pool's configuration: its ranges, exclusions, strategy and block length,
 * checked call by call, then frozen at first use into slots and a sorted list
 * of reserved spans (network, broadcast, gateways, exclusions).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ipam/pool.h"

/* ---- configuration -------------------------------------------------------- */

K8SNET_EXPORT int k8snet_ipam_pool_new(struct k8snet_ctx *ctx, uint32_t flags,
				       struct k8snet_ipam_pool **ret)
{
	struct k8snet_ipam_pool *pool;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, ret);
	K8S_CHECK_ARG(ctx, (flags & ~K8SNET_IPAM_POOL_F_PREFIXES) == 0);
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	pool->ctx = k8snet_ctx_ref(ctx);
	pool->flags = flags;
	pool->step = 1;
	*ret = pool;
	return 0;
}

void k8s_pool_free_allocs(struct k8snet_ipam_pool *pool)
{
	struct k8s_alloc *a, *next;
	size_t i;

	for (i = 0; i < pool->n_buckets; i++)
		for (a = pool->by_key[i]; a; a = next) {
			next = a->key_next;
			free(a);
		}
	if (pool->n_buckets) {
		memset(pool->by_key, 0, pool->n_buckets * sizeof(*pool->by_key));
		memset(pool->by_addr, 0, pool->n_buckets * sizeof(*pool->by_addr));
	}
	pool->n_allocs = 0;
}

K8SNET_EXPORT struct k8snet_ipam_pool *k8snet_ipam_pool_free(struct k8snet_ipam_pool *pool)
{
	if (!pool)
		return NULL;
	k8s_store_free(pool->store);
	k8s_pool_free_allocs(pool);
	free(pool->by_key);
	free(pool->by_addr);
	k8s_runs_clear(&pool->used);
	k8s_runs_clear(&pool->base_freed);
	free(pool->ranges);
	free(pool->exclusions);
	free(pool->reserved);
	free(pool->name);
	k8snet_ctx_unref(pool->ctx);
	free(pool);
	return NULL;
}

#define CHECK_NOT_FROZEN(pool)                                                 \
	do {                                                                   \
		if ((pool)->frozen)                                            \
			return k8s_error((pool)->ctx, -EBUSY, "%s: pool %s is in use; " \
					 "configure it before its first use",  \
					 __func__, k8s_pool_name(pool));           \
	} while (0)

K8SNET_EXPORT int k8snet_ipam_pool_set_name(struct k8snet_ipam_pool *pool, const char *name)
{
	char *copy;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, name && *name);
	copy = strdup(name);
	if (!copy)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	free(pool->name);
	pool->name = copy;
	return 0;
}

static int parse_in_subnet(struct k8snet_ipam_pool *pool, const char *field, const char *s,
			   const struct range *r, k8s_u128 *ret)
{
	struct k8s_ip ip;

	if (k8s_ip_parse(s, &ip) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, field, "'%s' is not an IP address", s);
	if (ip.family != r->subnet.family ||
	    (ip.v & ~k8s_host_mask(ip.family, r->len)) != r->subnet.v)
		return k8s_error_at(pool->ctx, -EINVAL, field, "%s is outside the subnet", s);
	*ret = ip.v;
	return 0;
}

static int check_overlap(struct k8snet_ipam_pool *pool, const struct range *n)
{
	char a[K8S_IP_STRLEN];
	size_t i;

	for (i = 0; i < pool->n_ranges; i++) {
		const struct range *o = &pool->ranges[i];

		if (n->start <= o->end && o->start <= n->end) {
			k8s_ip_format(&o->subnet, a);
			return k8s_error_at(pool->ctx, -EINVAL, "subnet",
					    "range overlaps the range in %s/%u", a, o->len);
		}
	}
	return 0;
}

static int insert_range(struct k8snet_ipam_pool *pool, const struct range *n)
{
	struct range *rs = realloc(pool->ranges, (pool->n_ranges + 1) * sizeof(*rs));
	size_t i;

	if (!rs)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	pool->ranges = rs;
	for (i = pool->n_ranges; i > 0 && rs[i - 1].start > n->start; i--)
		rs[i] = rs[i - 1];
	rs[i] = *n;
	pool->n_ranges++;
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_add_range(struct k8snet_ipam_pool *pool, const char *subnet,
					     const char *start, const char *end,
					     const char *gateway)
{
	char name[K8S_IP_STRLEN + 8];
	struct range n = { 0 };
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, subnet);
	CHECK_NOT_FROZEN(pool);
	/* Host bits are cleared, as host-local's net.ParseCIDR does. */
	if (k8s_cidr_parse(subnet, true, &n.subnet, &n.len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "subnet", "'%s' is not a CIDR", subnet);
	if (pool->family && n.subnet.family != pool->family)
		return k8s_error_at(pool->ctx, -EINVAL, "subnet",
				    "%s is not of the pool's address family", subnet);
	n.start = n.subnet.v;
	n.end = n.subnet.v | k8s_host_mask(n.subnet.family, n.len);
	if (start && (r = parse_in_subnet(pool, "rangeStart", start, &n, &n.start)) < 0)
		return r;
	if (end && (r = parse_in_subnet(pool, "rangeEnd", end, &n, &n.end)) < 0)
		return r;
	if (n.start > n.end)
		return k8s_error_at(pool->ctx, -EINVAL, "rangeStart", "%s is after rangeEnd %s",
				    start, end);
	if (gateway) {
		if (pool->flags & K8SNET_IPAM_POOL_F_PREFIXES)
			return k8s_error_at(pool->ctx, -EINVAL, "gateway",
					    "a prefix pool has no gateway");
		r = parse_in_subnet(pool, "gateway", gateway, &n, &n.gateway);
		if (r < 0)
			return r;
		n.has_gateway = true;
	}
	r = check_overlap(pool, &n);
	if (r < 0)
		return r;
	r = insert_range(pool, &n);
	if (r < 0)
		return r;
	pool->family = n.subnet.family;
	if (!pool->name) {
		snprintf(name, sizeof(name), "%s", subnet);
		pool->name = strdup(name);
	}
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_add_exclusion(struct k8snet_ipam_pool *pool, const char *cidr)
{
	struct k8s_ip ip;
	unsigned len;
	struct span *s;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, cidr);
	CHECK_NOT_FROZEN(pool);
	if (k8s_ip_parse(cidr, &ip) == 0) {
		len = k8s_ip_bits(ip.family);
	} else if (k8s_cidr_parse(cidr, true, &ip, &len) < 0) {
		return k8s_error_at(pool->ctx, -EINVAL, "exclude",
				    "'%s' is not an address or a CIDR", cidr);
	}
	if (pool->family && ip.family != pool->family)
		return k8s_error_at(pool->ctx, -EINVAL, "exclude",
				    "%s is not of the pool's address family", cidr);
	s = realloc(pool->exclusions, (pool->n_exclusions + 1) * sizeof(*s));
	if (!s)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	pool->exclusions = s;
	s[pool->n_exclusions++] = (struct span){ ip.v, ip.v | k8s_host_mask(ip.family, len) };
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_set_strategy(struct k8snet_ipam_pool *pool, uint32_t strategy)
{
	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, strategy == K8SNET_IPAM_NEXT_FREE ||
			       strategy == K8SNET_IPAM_LOWEST_FREE);
	pool->strategy = strategy;
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_set_block_len(struct k8snet_ipam_pool *pool, uint32_t len)
{
	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, pool->flags & K8SNET_IPAM_POOL_F_PREFIXES);
	K8S_CHECK_ARG(pool->ctx, len <= 128);
	CHECK_NOT_FROZEN(pool);
	pool->block_len = len;
	return 0;
}

/* ---- freezing: slots and reservations ------------------------------------- */

static int add_span(struct span **spans, size_t *n, k8s_u128 first, k8s_u128 last)
{
	struct span *s = realloc(*spans, (*n + 1) * sizeof(**spans));

	if (!s)
		return -ENOMEM;
	*spans = s;
	s[(*n)++] = (struct span){ first, last };
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Network and IPv4 broadcast addresses (not for /31, /32, /127, /128: RFC
 * 3021 and 6164 use both ends), gateways, exclusions. */
static int collect_reserved(struct k8snet_ipam_pool *pool)
{
	k8s_u128 mask = ~(pool->step - 1);
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < pool->n_ranges && r >= 0; i++) {
		const struct range *rg = &pool->ranges[i];
		unsigned bits = k8s_ip_bits(pool->family);
		k8s_u128 last = rg->subnet.v | k8s_host_mask(pool->family, rg->len);

		if (pool->flags & K8SNET_IPAM_POOL_F_PREFIXES)
			continue;
		if (rg->len + 2 <= bits)
			r = add_span(&pool->reserved, &n, rg->subnet.v, rg->subnet.v);
		if (r >= 0 && pool->family == AF_INET && rg->len + 2 <= bits)
			r = add_span(&pool->reserved, &n, last, last);
		if (r >= 0 && rg->has_gateway)
			r = add_span(&pool->reserved, &n, rg->gateway, rg->gateway);
	}
	for (i = 0; i < pool->n_exclusions && r >= 0; i++)
		r = add_span(&pool->reserved, &n, pool->exclusions[i].first & mask,
			     pool->exclusions[i].last & mask);
	if (r < 0)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	if (n)
		qsort(pool->reserved, n, sizeof(*pool->reserved), cmp_span);
	pool->n_reserved = 0;
	for (i = 0; i < n; i++) {
		struct span *top = pool->n_reserved ? &pool->reserved[pool->n_reserved - 1] : NULL;

		if (top && (pool->reserved[i].first <= top->last ||
			    pool->reserved[i].first - top->last == pool->step)) {
			if (pool->reserved[i].last > top->last)
				top->last = pool->reserved[i].last;
		} else {
			pool->reserved[pool->n_reserved++] = pool->reserved[i];
		}
	}
	return 0;
}

/* Put the reserved slots of the ranges into the runs tree. */
int k8s_pool_mark_reserved(struct k8snet_ipam_pool *pool)
{
	size_t i, j;

	for (i = 0; i < pool->n_ranges; i++) {
		const struct range *rg = &pool->ranges[i];

		for (j = 0; j < pool->n_reserved; j++) {
			k8s_u128 a = pool->reserved[j].first, b = pool->reserved[j].last;

			if (b < rg->first || a > rg->last)
				continue;
			if (k8s_runs_add(&pool->used, a < rg->first ? rg->first : a,
					 b > rg->last ? rg->last : b, pool->step) < 0)
				return k8s_error(pool->ctx, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int set_slots(struct k8snet_ipam_pool *pool)
{
	unsigned bits = k8s_ip_bits(pool->family);
	char a[K8S_IP_STRLEN];
	size_t i;

	if (!(pool->flags & K8SNET_IPAM_POOL_F_PREFIXES)) {
		for (i = 0; i < pool->n_ranges; i++) {
			pool->ranges[i].first = pool->ranges[i].start;
			pool->ranges[i].last = pool->ranges[i].end;
		}
		return 0;
	}
	if (!pool->block_len)
		pool->block_len = pool->family == AF_INET ? 24 : 64;
	if (pool->block_len > bits)
		return k8s_error_at(pool->ctx, -EINVAL, "blockLen", "/%u is longer than /%u",
				    pool->block_len, bits);
	pool->step = k8s_host_mask(pool->family, pool->block_len) + 1;
	for (i = 0; i < pool->n_ranges; i++) {
		struct range *rg = &pool->ranges[i];
		k8s_u128 mask = ~(pool->step - 1);

		k8s_ip_format(&rg->subnet, a);
		if (rg->len > pool->block_len)
			return k8s_error_at(pool->ctx, -EINVAL, "subnet",
					    "%s/%u is smaller than one /%u block", a, rg->len,
					    pool->block_len);
		rg->first = (rg->start & mask) == rg->start ? rg->start : (rg->start & mask) + pool->step;
		rg->last = ((rg->end + 1) & mask) - pool->step;
		if (rg->end + 1 == 0 || (rg->end & ~mask) == ~mask)
			rg->last = rg->end & mask;
		if (rg->first > rg->last || rg->first < rg->start)
			return k8s_error_at(pool->ctx, -EINVAL, "rangeStart",
					    "the range in %s/%u holds no whole /%u block", a,
					    rg->len, pool->block_len);
	}
	return 0;
}

int k8s_pool_freeze(struct k8snet_ipam_pool *pool)
{
	int r;

	if (pool->frozen)
		return 0;
	if (!pool->n_buckets && k8s_pool_grow_tables(pool) < 0)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	if (pool->n_ranges) {
		r = set_slots(pool);
		if (r >= 0)
			r = collect_reserved(pool);
		if (r >= 0)
			r = k8s_pool_mark_reserved(pool);
		if (r < 0) {
			k8s_runs_clear(&pool->used);
			return r;
		}
	}
	pool->frozen = true;
	return 0;
}
