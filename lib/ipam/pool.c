/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools: ranges and reservations (configuration), then allocations held in
 * two hash tables (by key, by address) and in the runs tree, which holds
 * every used slot of the ranges: reserved ones and allocated ones.  Slots are
 * addresses, or for a prefix pool the first address of each block.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ipam/ipam.h"

struct range {
	struct k8s_ip subnet;
	unsigned len;
	k8s_u128 start, end;        /* as configured (or the subnet's bounds) */
	k8s_u128 first, last;       /* the slots we may hand out, step-aligned */
	bool has_gateway;
	k8s_u128 gateway;
};

struct span {
	k8s_u128 first, last;
};

struct k8snet_ipam_pool {
	struct k8snet_ctx *ctx;
	uint32_t flags, strategy;
	char *name;
	int family;                 /* 0 until the first range */
	unsigned block_len;         /* prefix pools: 0 means the default */
	k8s_u128 step;              /* distance between slots */

	struct range *ranges;       /* sorted by address, disjoint */
	size_t n_ranges;
	struct span *exclusions;
	size_t n_exclusions;
	struct span *reserved;      /* after freeze: aligned, sorted, merged */
	size_t n_reserved;
	bool frozen;

	struct k8s_runs used;
	struct k8s_alloc **by_key, **by_addr;
	size_t n_buckets, n_allocs;
	bool has_cursor;
	k8s_u128 cursor;

	struct k8s_store *store;
};

/* ---- keys and the two hash tables ---------------------------------------- */

/* Eight bytes per step: hashing is a good part of an in-memory allocation.
 * The length goes into the last step, so ("ab", "c") and ("a", "bc") differ. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w ^ (uint64_t)n << 56) * 0x100000001b3ULL;
	return h ^ h >> 29;
}

static uint64_t hash_key(const char *owner, const char *ifname)
{
	return hash_bytes(hash_bytes(0xcbf29ce484222325ULL, owner, strlen(owner)), ifname,
			  strlen(ifname));
}

static size_t bucket_of_addr(const struct k8snet_ipam_pool *pool, k8s_u128 a)
{
	uint64_t h = (uint64_t)a ^ (uint64_t)(a >> 64) * 0x9e3779b97f4a7c15ULL;

	return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> 17) & (pool->n_buckets - 1);
}

/* FNV's low bits are weak for keys differing in their last bytes: mix. */
static size_t bucket_of_key(const struct k8snet_ipam_pool *pool, uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (pool->n_buckets - 1);
}

static struct k8s_alloc *find_key_hashed(const struct k8snet_ipam_pool *pool, const char *owner,
					 const char *ifname, uint64_t h)
{
	struct k8s_alloc *a;

	if (!pool->n_buckets)
		return NULL;
	for (a = pool->by_key[bucket_of_key(pool, h)]; a; a = a->key_next)
		if (a->key_hash == h && strcmp(a->key, owner) == 0 &&
		    strcmp(k8s_alloc_ifname(a), ifname) == 0)
			return a;
	return NULL;
}

static struct k8s_alloc *find_key(const struct k8snet_ipam_pool *pool, const char *owner,
				  const char *ifname)
{
	return find_key_hashed(pool, owner, ifname, hash_key(owner, ifname));
}

struct k8s_alloc *k8s_pool_find_addr(const struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	struct k8s_alloc *a;

	if (!pool->n_buckets)
		return NULL;
	for (a = pool->by_addr[bucket_of_addr(pool, addr)]; a; a = a->addr_next)
		if (a->addr == addr)
			return a;
	return NULL;
}

static void link_alloc(struct k8snet_ipam_pool *pool, struct k8s_alloc *a)
{
	size_t kb = bucket_of_key(pool, a->key_hash), ab = bucket_of_addr(pool, a->addr);

	a->key_next = pool->by_key[kb];
	pool->by_key[kb] = a;
	a->addr_next = pool->by_addr[ab];
	pool->by_addr[ab] = a;
}

static int grow_tables(struct k8snet_ipam_pool *pool)
{
	size_t n = pool->n_buckets ? pool->n_buckets * 2 : 64, old_n = pool->n_buckets, i;
	struct k8s_alloc **by_key = calloc(n, sizeof(*by_key)), **old = pool->by_key;
	struct k8s_alloc **by_addr = calloc(n, sizeof(*by_addr)), *a, *next;

	if (!by_key || !by_addr) {
		free(by_key);
		free(by_addr);
		return -ENOMEM;
	}
	free(pool->by_addr);
	pool->by_key = by_key;
	pool->by_addr = by_addr;
	pool->n_buckets = n;
	for (i = 0; i < old_n; i++)
		for (a = old[i]; a; a = next) {
			next = a->key_next;
			link_alloc(pool, a);
		}
	free(old);
	return 0;
}

void k8s_pool_reserve(struct k8snet_ipam_pool *pool, size_t more)
{
	/* Only a hint: failing to grow now just means growing later. */
	while (pool->n_allocs + more > pool->n_buckets && pool->n_buckets < ((size_t)1 << 40))
		if (grow_tables(pool) < 0)
			return;
}

static void unlink_alloc(struct k8snet_ipam_pool *pool, struct k8s_alloc *a)
{
	struct k8s_alloc **p;

	for (p = &pool->by_key[bucket_of_key(pool, a->key_hash)]; *p != a; p = &(*p)->key_next)
		;
	*p = a->key_next;
	for (p = &pool->by_addr[bucket_of_addr(pool, a->addr)]; *p != a; p = &(*p)->addr_next)
		;
	*p = a->addr_next;
}

/* The length of a key part, or -1 if it holds whitespace or a control
 * character: the state file separates fields with tabs, records with newlines. */
static long key_part_len(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return -1;
	return (long)(p - (const unsigned char *)s);
}

int k8s_ipam_check_key(struct k8snet_ctx *ctx, const char *owner, const char *ifname)
{
	long n;

	if (!owner || !*owner)
		return k8s_error_at(ctx, -EINVAL, "owner", "must not be empty");
	if (!ifname)
		return k8s_error_at(ctx, -EINVAL, "ifname", "must not be NULL");
	n = key_part_len(owner);
	if (n < 0)
		return k8s_error_at(ctx, -EINVAL, "owner",
				    "'%s' holds whitespace or a control character", owner);
	if (n > 1024)
		return k8s_error_at(ctx, -EINVAL, "owner", "longer than 1024 bytes");
	n = key_part_len(ifname);
	if (n < 0)
		return k8s_error_at(ctx, -EINVAL, "ifname",
				    "'%s' holds whitespace or a control character", ifname);
	if (n > 255)
		return k8s_error_at(ctx, -EINVAL, "ifname", "longer than 255 bytes");
	return 0;
}

/* ---- slots ---------------------------------------------------------------- */

static const struct range *range_of(const struct k8snet_ipam_pool *pool, k8s_u128 a)
{
	size_t i;

	for (i = 0; i < pool->n_ranges; i++)
		if (a >= pool->ranges[i].first && a <= pool->ranges[i].last)
			return &pool->ranges[i];
	return NULL;
}

static bool is_reserved(const struct k8snet_ipam_pool *pool, k8s_u128 a)
{
	size_t lo = 0, hi = pool->n_reserved;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < pool->reserved[mid].first)
			hi = mid;
		else if (a > pool->reserved[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Slots the runs tree accounts for: allocatable ones. */
static bool is_tracked(const struct k8snet_ipam_pool *pool, k8s_u128 a)
{
	return (a & (pool->step - 1)) == 0 && range_of(pool, a) && !is_reserved(pool, a);
}

/* The prefix length printed with an address: its subnet's (or the block's). */
static unsigned out_len(const struct k8snet_ipam_pool *pool, int family, k8s_u128 a)
{
	size_t i;

	if (pool->flags & K8SNET_IPAM_POOL_PREFIXES && pool->block_len)
		return pool->block_len;
	for (i = 0; i < pool->n_ranges; i++) {
		const struct range *r = &pool->ranges[i];

		if ((a & ~k8s_host_mask(family, r->len)) == r->subnet.v)
			return r->len;
	}
	return k8s_ip_bits(family);
}

/* Write n in decimal at p and return the end: printf would cost more than
 * the whole allocation. */
static char *put_uint(char *p, unsigned n)
{
	char tmp[4];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (i)
		*p++ = tmp[--i];
	return p;
}

static void format_cidr(const struct k8snet_ipam_pool *pool, k8s_u128 a, char *buf, size_t size)
{
	int family = pool->family;
	char *p = buf;
	int i;

	if (!family)   /* a pool without ranges lists what a state file holds */
		family = a >> 32 ? AF_INET6 : AF_INET;
	if (family == AF_INET) {
		for (i = 3; i >= 0; i--) {
			p = put_uint(p, (unsigned)(a >> (8 * i)) & 0xff);
			*p++ = i ? '.' : '/';
		}
	} else {
		k8s_ip_format(&(struct k8s_ip){ a, family }, buf);
		p = buf + strlen(buf);
		*p++ = '/';
	}
	p = put_uint(p, out_len(pool, family, a));
	*p = '\0';
	(void)size;   /* callers pass K8SNET_IPAM_CIDR_MAX bytes or more */
}

/* ---- configuration -------------------------------------------------------- */

K8SNET_EXPORT int k8snet_ipam_pool_new(struct k8snet_ctx *ctx, uint32_t flags,
				       struct k8snet_ipam_pool **ret)
{
	struct k8snet_ipam_pool *pool;

	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, ret);
	K8S_CHECK_ARG(ctx, (flags & ~K8SNET_IPAM_POOL_PREFIXES) == 0);
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	pool->ctx = ctx;
	pool->flags = flags;
	pool->step = 1;
	*ret = pool;
	return 0;
}

static void free_allocs(struct k8snet_ipam_pool *pool)
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
	free_allocs(pool);
	free(pool->by_key);
	free(pool->by_addr);
	k8s_runs_clear(&pool->used);
	free(pool->ranges);
	free(pool->exclusions);
	free(pool->reserved);
	free(pool->name);
	free(pool);
	return NULL;
}

#define CHECK_NOT_FROZEN(pool)                                                 \
	do {                                                                   \
		if ((pool)->frozen)                                            \
			return k8s_error((pool)->ctx, -EBUSY, "%s: pool %s is in use; " \
					 "configure it before its first use",  \
					 __func__, pool_name(pool));           \
	} while (0)

static const char *pool_name(const struct k8snet_ipam_pool *pool)
{
	return pool->name ? pool->name : "(empty)";
}

K8SNET_EXPORT int k8snet_ipam_pool_set_name(struct k8snet_ipam_pool *pool, const char *name)
{
	char *copy;

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

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, subnet);
	CHECK_NOT_FROZEN(pool);
	if (k8s_cidr_parse(subnet, true, &n.subnet, &n.len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "subnet", "'%s' is not a CIDR", subnet);
	if (n.subnet.v & k8s_host_mask(n.subnet.family, n.len))
		return k8s_error_at(pool->ctx, -EINVAL, "subnet",
				    "%s has host bits set", subnet);
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
		if (pool->flags & K8SNET_IPAM_POOL_PREFIXES)
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

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, cidr);
	CHECK_NOT_FROZEN(pool);
	if (k8s_ip_parse(cidr, &ip) == 0) {
		len = k8s_ip_bits(ip.family);
	} else if (k8s_cidr_parse(cidr, false, &ip, &len) < 0) {
		return k8s_error_at(pool->ctx, -EINVAL, "exclude",
				    "'%s' is not an address or a CIDR without host bits", cidr);
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
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, strategy == K8SNET_IPAM_NEXT_FREE ||
			       strategy == K8SNET_IPAM_LOWEST_FREE);
	pool->strategy = strategy;
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_set_block_len(struct k8snet_ipam_pool *pool, unsigned int len)
{
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, pool->flags & K8SNET_IPAM_POOL_PREFIXES);
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

		if (pool->flags & K8SNET_IPAM_POOL_PREFIXES)
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
static int mark_reserved(struct k8snet_ipam_pool *pool)
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

	if (!(pool->flags & K8SNET_IPAM_POOL_PREFIXES)) {
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

static int freeze(struct k8snet_ipam_pool *pool)
{
	int r;

	if (pool->frozen)
		return 0;
	if (!pool->n_buckets && grow_tables(pool) < 0)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	if (pool->n_ranges) {
		r = set_slots(pool);
		if (r >= 0)
			r = collect_reserved(pool);
		if (r >= 0)
			r = mark_reserved(pool);
		if (r < 0) {
			k8s_runs_clear(&pool->used);
			return r;
		}
	}
	pool->frozen = true;
	return 0;
}

/* ---- what the store needs -------------------------------------------------- */

int k8s_pool_reset(struct k8snet_ipam_pool *pool)
{
	free_allocs(pool);
	k8s_runs_clear(&pool->used);
	pool->has_cursor = false;
	return mark_reserved(pool);
}

static int apply_add_hashed(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
			    const char *ifname, uint64_t h, bool move_cursor)
{
	size_t olen = strlen(owner), ilen = strlen(ifname);
	struct k8s_alloc *a;

	if (find_key_hashed(pool, owner, ifname, h) || k8s_pool_find_addr(pool, addr))
		return -EEXIST;
	if (pool->n_allocs >= pool->n_buckets && grow_tables(pool) < 0)
		return -ENOMEM;
	a = malloc(sizeof(*a) + olen + ilen + 2);
	if (!a)
		return -ENOMEM;
	if (is_tracked(pool, addr) && k8s_runs_add(&pool->used, addr, addr, pool->step) < 0) {
		free(a);
		return -ENOMEM;
	}
	a->addr = addr;
	a->key_hash = h;
	a->ifname_off = (uint32_t)olen + 1;
	memcpy(a->key, owner, olen + 1);
	memcpy(a->key + olen + 1, ifname, ilen + 1);
	link_alloc(pool, a);
	pool->n_allocs++;
	if (move_cursor)
		k8s_pool_apply_cursor(pool, addr);
	return 0;
}

int k8s_pool_apply_add(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
		       const char *ifname, bool move_cursor)
{
	return apply_add_hashed(pool, addr, owner, ifname, hash_key(owner, ifname), move_cursor);
}

int k8s_pool_apply_del(struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	struct k8s_alloc *a = k8s_pool_find_addr(pool, addr);

	if (!a)
		return -ENOENT;
	if (is_tracked(pool, addr) && k8s_runs_remove(&pool->used, addr, pool->step) < 0)
		return -ENOMEM;
	unlink_alloc(pool, a);
	free(a);
	pool->n_allocs--;
	return 0;
}

bool k8s_pool_is_foreign_slot(const struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	return (addr & (pool->step - 1)) != 0 && range_of(pool, addr);
}

void k8s_pool_apply_cursor(struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	pool->cursor = addr;
	pool->has_cursor = true;
}

bool k8s_pool_get_cursor(const struct k8snet_ipam_pool *pool, k8s_u128 *ret)
{
	*ret = pool->cursor;
	return pool->has_cursor;
}

int k8s_pool_family(const struct k8snet_ipam_pool *pool)
{
	return pool->family;
}

void k8s_pool_adopt_family(struct k8snet_ipam_pool *pool, int family)
{
	if (!pool->n_ranges)
		pool->family = family;
}

size_t k8s_pool_live(const struct k8snet_ipam_pool *pool)
{
	return pool->n_allocs;
}

struct k8snet_ctx *k8s_pool_ctx(const struct k8snet_ipam_pool *pool)
{
	return pool->ctx;
}

static int cmp_alloc(const void *a, const void *b)
{
	const struct k8s_alloc *x = *(const struct k8s_alloc *const *)a;
	const struct k8s_alloc *y = *(const struct k8s_alloc *const *)b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int k8s_pool_sorted(const struct k8snet_ipam_pool *pool, struct k8s_alloc ***ret, size_t *ret_n)
{
	struct k8s_alloc **v = malloc((pool->n_allocs + 1) * sizeof(*v)), *a;
	size_t i, n = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < pool->n_buckets; i++)
		for (a = pool->by_key[i]; a; a = a->key_next)
			v[n++] = a;
	qsort(v, n, sizeof(*v), cmp_alloc);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- finding a free slot ---------------------------------------------------- */

/* The first free slot at or after c in ranges[ri..]. */
static bool search_from(const struct k8snet_ipam_pool *pool, size_t ri, k8s_u128 c,
			k8s_u128 *ret)
{
	for (; ri < pool->n_ranges; ri++) {
		const struct range *rg = &pool->ranges[ri];

		if (c < rg->first)
			c = rg->first;
		for (;;) {
			const struct k8s_run *run = k8s_runs_find(&pool->used, c);

			if (!run) {
				*ret = c;
				return true;
			}
			if (run->last >= rg->last)
				break;
			c = run->last + pool->step;   /* free: runs are maximal */
		}
	}
	return false;
}

static bool pick(const struct k8snet_ipam_pool *pool, k8s_u128 *ret)
{
	size_t ri = 0;
	k8s_u128 c = 0;

	if (pool->strategy == K8SNET_IPAM_NEXT_FREE && pool->has_cursor) {
		for (ri = 0; ri < pool->n_ranges; ri++)
			if (pool->cursor <= pool->ranges[ri].last)
				break;
		if (ri < pool->n_ranges) {
			if (pool->cursor < pool->ranges[ri].first)
				c = pool->ranges[ri].first;
			else if (pool->cursor == pool->ranges[ri].last)
				c = pool->ranges[++ri < pool->n_ranges ? ri : 0].first;
			else
				c = (pool->cursor & ~(pool->step - 1)) + pool->step;
		}
		if (ri >= pool->n_ranges)
			ri = 0;
		if (search_from(pool, ri, c, ret))
			return true;
	}
	return search_from(pool, 0, 0, ret);
}

/* ---- the public calls ------------------------------------------------------- */

static int begin(struct k8snet_ipam_pool *pool, bool exclusive)
{
	int r = freeze(pool);

	if (r < 0 || !pool->store)
		return r;
	return k8s_store_lock(pool->store, pool, exclusive);
}

static void end(struct k8snet_ipam_pool *pool)
{
	if (pool->store)
		k8s_store_unlock(pool->store);
}

K8SNET_EXPORT int k8snet_ipam_pool_set_state_file(struct k8snet_ipam_pool *pool,
						  const char *path)
{
	struct k8s_store *store;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, path && *path);
	K8S_CHECK_ARG(pool->ctx, !pool->store);
	r = freeze(pool);
	if (r < 0)
		return r;
	r = k8s_store_open(pool->ctx, path, &store);
	if (r < 0)
		return r;
	r = k8s_store_lock(store, pool, false);
	if (r < 0) {
		k8s_store_free(store);
		k8s_pool_reset(pool);
		return r;
	}
	k8s_store_unlock(store);
	pool->store = store;
	return 0;
}

/* Parse what the caller asks for: an address, or for prefix pools the
 * first address of a block, with or without its length. */
static int parse_want(struct k8snet_ipam_pool *pool, const char *want, k8s_u128 *ret)
{
	struct k8s_ip ip;
	unsigned len;

	if (k8s_ip_parse(want, &ip) < 0) {
		if (!(pool->flags & K8SNET_IPAM_POOL_PREFIXES) ||
		    k8s_cidr_parse(want, false, &ip, &len) < 0 || len != pool->block_len)
			return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not %s", want,
					    pool->flags & K8SNET_IPAM_POOL_PREFIXES ?
					    "a block of the pool" : "an IP address");
	}
	if (ip.family != pool->family || !range_of(pool, ip.v) ||
	    (ip.v & (pool->step - 1)) != 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "%s is not in pool %s", want,
				    pool_name(pool));
	if (is_reserved(pool, ip.v))
		return k8s_error_at(pool->ctx, -EINVAL, "ip",
				    "%s is reserved in pool %s (network, broadcast, gateway "
				    "or excluded)", want, pool_name(pool));
	*ret = ip.v;
	return 0;
}

/* The change is on disk but not in memory: the file is the truth, so read it
 * again next time. */
static int out_of_memory_after_write(struct k8snet_ipam_pool *pool)
{
	if (pool->store)
		k8s_store_invalidate(pool->store);
	return k8s_error(pool->ctx, -ENOMEM, "out of memory");
}

static int held_error(struct k8snet_ipam_pool *pool, const struct k8s_alloc *a, const char *what)
{
	char buf[K8SNET_IPAM_CIDR_MAX];

	format_cidr(pool, a->addr, buf, sizeof(buf));
	return k8s_error(pool->ctx, -EEXIST, "%s%s is already held by owner %s ifname '%s'",
			 what, buf, k8s_alloc_owner(a), k8s_alloc_ifname(a));
}

static int do_alloc(struct k8snet_ipam_pool *pool, const char *owner, const char *ifname,
		    const char *want, char *buf, size_t size)
{
	uint64_t h = hash_key(owner, ifname);
	struct k8s_alloc *a = find_key_hashed(pool, owner, ifname, h);
	k8s_u128 addr;
	int r;

	if (a) {
		if (want && (parse_want(pool, want, &addr) < 0 || addr != a->addr))
			return held_error(pool, a, "the key asks for another address: ");
		format_cidr(pool, a->addr, buf, size);
		return 1;
	}
	if (want) {
		r = parse_want(pool, want, &addr);
		if (r < 0)
			return r;
		a = k8s_pool_find_addr(pool, addr);
		if (a)
			return held_error(pool, a, "");
	} else if (!pick(pool, &addr)) {
		return k8s_error(pool->ctx, -ENOSPC, "pool %s is exhausted", pool_name(pool));
	}
	if (pool->store) {
		r = k8s_store_append(pool->store, want ? K8S_REC_RESERVE : K8S_REC_ALLOC,
				     pool->family, addr, owner, ifname);
		if (r < 0)
			return r;
	}
	r = apply_add_hashed(pool, addr, owner, ifname, h, !want);
	if (r < 0)   /* only -ENOMEM: the checks above rule out conflicts */
		return out_of_memory_after_write(pool);
	format_cidr(pool, addr, buf, size);
	if (pool->store)
		k8s_store_maybe_compact(pool->store, pool);
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_alloc(struct k8snet_ipam_pool *pool, const char *owner,
					 const char *ifname, const char *want, char *buf,
					 size_t size)
{
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, buf && size >= K8SNET_IPAM_CIDR_MAX);
	r = k8s_ipam_check_key(pool->ctx, owner, ifname);
	if (r < 0)
		return r;
	if (!pool->n_ranges)
		return k8s_error(pool->ctx, -EINVAL, "pool has no ranges to allocate from");
	r = begin(pool, true);
	if (r < 0)
		return r;
	r = do_alloc(pool, owner, ifname, want, buf, size);
	end(pool);
	return r;
}

static int release_one(struct k8snet_ipam_pool *pool, struct k8s_alloc *a)
{
	int r;

	if (pool->store) {
		r = k8s_store_append(pool->store, K8S_REC_DELETE, pool->family, a->addr, NULL, NULL);
		if (r < 0)
			return r;
	}
	r = k8s_pool_apply_del(pool, a->addr);
	if (r < 0)
		return out_of_memory_after_write(pool);
	if (pool->store)
		k8s_store_maybe_compact(pool->store, pool);
	return 1;
}

K8SNET_EXPORT int k8snet_ipam_pool_release(struct k8snet_ipam_pool *pool, const char *owner,
					   const char *ifname)
{
	struct k8s_alloc *a;
	int r;

	if (!pool)
		return -EINVAL;
	r = k8s_ipam_check_key(pool->ctx, owner, ifname);
	if (r < 0)
		return r;
	r = begin(pool, true);
	if (r < 0)
		return r;
	a = find_key(pool, owner, ifname);
	r = a ? release_one(pool, a) : 0;
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_release_addr(struct k8snet_ipam_pool *pool, const char *addr)
{
	struct k8s_alloc *a;
	struct k8s_ip ip;
	unsigned len;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, addr);
	if (k8s_ip_parse(addr, &ip) < 0 && k8s_cidr_parse(addr, true, &ip, &len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not an IP address", addr);
	r = begin(pool, true);
	if (r < 0)
		return r;
	a = k8s_pool_find_addr(pool, ip.v);
	r = a && (!pool->family || ip.family == pool->family) ? release_one(pool, a) : 0;
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_lookup(struct k8snet_ipam_pool *pool, const char *owner,
					  const char *ifname, char *buf, size_t size)
{
	struct k8s_alloc *a;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, buf && size >= K8SNET_IPAM_CIDR_MAX);
	r = k8s_ipam_check_key(pool->ctx, owner, ifname);
	if (r < 0)
		return r;
	r = begin(pool, false);
	if (r < 0)
		return r;
	a = find_key(pool, owner, ifname);
	if (a)
		format_cidr(pool, a->addr, buf, size);
	else
		buf[0] = '\0';
	end(pool);
	return a ? 1 : 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_count(struct k8snet_ipam_pool *pool)
{
	int r;

	if (!pool)
		return -EINVAL;
	r = begin(pool, false);
	if (r < 0)
		return r;
	r = pool->n_allocs > INT32_MAX ? INT32_MAX : (int)pool->n_allocs;
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_foreach(struct k8snet_ipam_pool *pool,
					   k8snet_ipam_visit_fn fn, void *userdata)
{
	_cleanup_(freep) struct k8s_alloc **v = NULL;
	char buf[K8SNET_IPAM_CIDR_MAX];
	size_t i, n = 0;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, fn);
	r = begin(pool, false);
	if (r < 0)
		return r;
	/* Under the lock, so fn must not call into this pool. */
	r = k8s_pool_sorted(pool, &v, &n);
	if (r < 0) {
		end(pool);
		return k8s_error(pool->ctx, r, "out of memory");
	}
	for (i = 0; i < n && r >= 0; i++) {
		format_cidr(pool, v[i]->addr, buf, sizeof(buf));
		r = fn(userdata, buf, k8s_alloc_owner(v[i]), k8s_alloc_ifname(v[i]));
	}
	end(pool);
	return r < 0 ? r : 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_get_gateway(struct k8snet_ipam_pool *pool, const char *addr,
					       char *buf, size_t size)
{
	const struct range *rg;
	struct k8s_ip ip;
	unsigned len;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, addr);
	K8S_CHECK_ARG(pool->ctx, buf && size >= K8SNET_IPAM_CIDR_MAX);
	if (k8s_ip_parse(addr, &ip) < 0 && k8s_cidr_parse(addr, true, &ip, &len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not an IP address", addr);
	r = freeze(pool);
	if (r < 0)
		return r;
	rg = ip.family == pool->family ? range_of(pool, ip.v) : NULL;
	if (!rg)
		return k8s_error(pool->ctx, -ENOENT, "%s is not in pool %s", addr, pool_name(pool));
	buf[0] = '\0';
	if (!rg->has_gateway)
		return 0;
	k8s_ip_format(&(struct k8s_ip){ rg->gateway, pool->family }, buf);
	return 1;
}

/* ---- garbage collection ------------------------------------------------------ */

/* The live keys as an open-addressing set of indices into the caller's arrays. */
struct live_set {
	const char *const *owners, *const *ifnames;
	size_t *slots, mask;    /* index + 1; 0 is empty */
};

static bool live_contains(const struct k8s_alloc *a, void *userdata)
{
	const struct live_set *ls = userdata;
	size_t i, k;

	for (i = a->key_hash & ls->mask; (k = ls->slots[i]); i = (i + 1) & ls->mask)
		if (strcmp(ls->owners[k - 1], k8s_alloc_owner(a)) == 0 &&
		    strcmp(ls->ifnames[k - 1], k8s_alloc_ifname(a)) == 0)
			return true;
	return false;
}

static int live_set_build(struct k8snet_ipam_pool *pool, struct live_set *ls,
			  const char *const *owners, const char *const *ifnames, size_t n)
{
	size_t size = 16, i, j;
	int r;

	while (size < 2 * n)
		size *= 2;
	ls->owners = owners;
	ls->ifnames = ifnames;
	ls->mask = size - 1;
	ls->slots = calloc(size, sizeof(*ls->slots));
	if (!ls->slots)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		r = k8s_ipam_check_key(pool->ctx, owners[i], ifnames[i]);
		if (r < 0) {
			free(ls->slots);
			return r;
		}
		for (j = hash_key(owners[i], ifnames[i]) & ls->mask; ls->slots[j];
		     j = (j + 1) & ls->mask)
			;
		ls->slots[j] = i + 1;
	}
	return 0;
}

static int collect_dead(struct k8snet_ipam_pool *pool, struct live_set *ls,
			k8s_u128 **ret, size_t *ret_n)
{
	k8s_u128 *dead = malloc((pool->n_allocs + 1) * sizeof(*dead));
	struct k8s_alloc *a;
	size_t i, n = 0;

	if (!dead)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < pool->n_buckets; i++)
		for (a = pool->by_key[i]; a; a = a->key_next)
			if (!live_contains(a, ls))
				dead[n++] = a->addr;
	*ret = dead;
	*ret_n = n;
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_gc(struct k8snet_ipam_pool *pool,
				      const char *const *owners, const char *const *ifnames,
				      size_t n)
{
	_cleanup_(freep) k8s_u128 *dead = NULL;
	struct live_set ls;
	size_t n_dead = 0, i;
	int r;

	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, n == 0 || (owners && ifnames));
	r = live_set_build(pool, &ls, owners, ifnames, n);
	if (r < 0)
		return r;
	r = begin(pool, true);
	if (r >= 0) {
		r = collect_dead(pool, &ls, &dead, &n_dead);
		/* One atomic snapshot, so a kill leaves all or none released. */
		if (r >= 0 && n_dead && pool->store)
			r = k8s_store_snapshot(pool->store, pool, live_contains, &ls);
		for (i = 0; r >= 0 && i < n_dead; i++)
			if (k8s_pool_apply_del(pool, dead[i]) < 0)
				r = out_of_memory_after_write(pool);
		end(pool);
	}
	free(ls.slots);
	return r < 0 ? r : (int)(n_dead > INT32_MAX ? INT32_MAX : n_dead);
}
