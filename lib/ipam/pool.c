/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pool's model: allocations held in two hash tables (by key, by address)
 * and in the runs tree, which holds every used slot of the ranges, reserved
 * ones and allocated ones.  Slots are addresses, or for a prefix pool the
 * first address of each block.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ipam/pool.h"

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

static uint64_t hash_key_n(const char *owner, size_t olen, const char *ifname, size_t ilen)
{
	return hash_bytes(hash_bytes(0xcbf29ce484222325ULL, owner, olen), ifname, ilen);
}

uint64_t k8s_pool_hash_key(const char *owner, const char *ifname)
{
	return hash_key_n(owner, strlen(owner), ifname, strlen(ifname));
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

/* ---- in memory ---- */

static struct k8s_alloc *mem_find_key(const struct k8snet_ipam_pool *pool, const char *owner,
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

/* The same for a key given by lengths (a snapshot's strings end with no NUL). */
static struct k8s_alloc *mem_find_key_n(const struct k8snet_ipam_pool *pool, const char *owner,
					size_t olen, const char *ifname, size_t ilen, uint64_t h)
{
	struct k8s_alloc *a;

	if (!pool->n_buckets)
		return NULL;
	for (a = pool->by_key[bucket_of_key(pool, h)]; a; a = a->key_next)
		if (a->key_hash == h && a->ifname_off == olen + 1 && !memcmp(a->key, owner, olen) &&
		    !memcmp(k8s_alloc_ifname(a), ifname, ilen) && !k8s_alloc_ifname(a)[ilen])
			return a;
	return NULL;
}

static struct k8s_alloc *mem_find_addr(const struct k8snet_ipam_pool *pool, k8s_u128 addr)
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

int k8s_pool_grow_tables(struct k8snet_ipam_pool *pool)
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
		if (k8s_pool_grow_tables(pool) < 0)
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

const struct range *k8s_pool_range_of(const struct k8snet_ipam_pool *pool, k8s_u128 a)
{
	size_t i;

	for (i = 0; i < pool->n_ranges; i++)
		if (a >= pool->ranges[i].first && a <= pool->ranges[i].last)
			return &pool->ranges[i];
	return NULL;
}

bool k8s_pool_is_reserved(const struct k8snet_ipam_pool *pool, k8s_u128 a)
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
	return (a & (pool->step - 1)) == 0 && k8s_pool_range_of(pool, a) && !k8s_pool_is_reserved(pool, a);
}

/* The prefix length printed with an address: its subnet's (or the block's). */
static unsigned out_len(const struct k8snet_ipam_pool *pool, int family, k8s_u128 a)
{
	size_t i;

	if (pool->flags & K8SNET_IPAM_POOL_F_PREFIXES && pool->block_len)
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

void k8s_pool_format(const struct k8snet_ipam_pool *pool, k8s_u128 a, char *buf, size_t size)
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

const char *k8s_pool_name(const struct k8snet_ipam_pool *pool)
{
	return pool->name ? pool->name : "(empty)";
}

/* ---- what the store needs -------------------------------------------------- */

int k8s_pool_reset(struct k8snet_ipam_pool *pool)
{
	k8s_pool_free_allocs(pool);
	k8s_runs_clear(&pool->used);
	k8s_runs_clear(&pool->base_freed);
	pool->base = NULL;
	pool->base_copied = 0;
	pool->has_cursor = false;
	return k8s_pool_mark_reserved(pool);
}

static int insert_alloc(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
			size_t olen, const char *ifname, size_t ilen, uint64_t h,
			bool move_cursor, bool from_base, struct k8s_alloc **ret)
{
	struct k8s_alloc *a;

	if (pool->n_allocs >= pool->n_buckets && k8s_pool_grow_tables(pool) < 0)
		return -ENOMEM;
	a = malloc(sizeof(*a) + olen + ilen + 2);
	if (!a)
		return -ENOMEM;
	if (!from_base && is_tracked(pool, addr) &&
	    k8s_runs_add(&pool->used, addr, addr, pool->step) < 0) {
		free(a);
		return -ENOMEM;
	}
	a->addr = addr;
	a->key_hash = h;
	a->from_base = from_base;
	a->ifname_off = (uint32_t)olen + 1;
	memcpy(a->key, owner, olen);
	a->key[olen] = '\0';
	memcpy(a->key + olen + 1, ifname, ilen);
	a->key[olen + 1 + ilen] = '\0';
	link_alloc(pool, a);
	pool->n_allocs++;
	if (move_cursor)
		k8s_pool_apply_cursor(pool, addr);
	if (ret)
		*ret = a;
	return 0;
}

int k8s_pool_insert(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
		    const char *ifname, uint64_t h, bool move_cursor)
{
	return insert_alloc(pool, addr, owner, strlen(owner), ifname, strlen(ifname), h,
			    move_cursor, false, NULL);
}

/* ---- the snapshot, consulted in place ----------------------------------------- */

static bool base_released(const struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	return k8s_runs_find(&pool->base_freed, addr) != NULL;
}

/* Copy snapshot entry i into memory, unless it was released since: then 0.
 * The caller looked in memory first, so it is not there yet. */
static int copy_entry(struct k8snet_ipam_pool *pool, size_t i, struct k8s_alloc **ret)
{
	struct k8s_base_entry e;
	int r = k8s_base_entry(pool->base, i, &e);

	if (r < 0)
		return r;
	if (base_released(pool, e.addr))
		return 0;
	r = insert_alloc(pool, e.addr, e.owner, e.owner_len, e.ifname, e.ifname_len,
			 hash_key_n(e.owner, e.owner_len, e.ifname, e.ifname_len), false, true, ret);
	if (r < 0)
		return k8s_error(pool->ctx, r, "out of memory");
	pool->base_copied++;
	return 1;
}

int k8s_pool_lookup_key(struct k8snet_ipam_pool *pool, const char *owner, const char *ifname,
			uint64_t h, struct k8s_alloc **ret)
{
	struct k8s_alloc *a = mem_find_key(pool, owner, ifname, h);
	size_t i;
	int r;

	if (a || !pool->base) {
		*ret = a;
		return !!a;
	}
	r = k8s_base_find_key(pool->base, owner, ifname, &i);
	if (r <= 0)
		return r;
	return copy_entry(pool, i, ret);
}

int k8s_pool_lookup_addr(struct k8snet_ipam_pool *pool, k8s_u128 addr, struct k8s_alloc **ret)
{
	struct k8s_alloc *a = mem_find_addr(pool, addr);
	size_t i;
	int r;

	if (a || !pool->base) {
		*ret = a;
		return !!a;
	}
	r = k8s_base_find_addr(pool->base, addr, &i);
	if (r <= 0)
		return r;
	return copy_entry(pool, i, ret);
}

int k8s_pool_attach_base(struct k8snet_ipam_pool *pool, const struct k8s_base *base)
{
	int family = k8s_base_family(base);
	k8s_u128 cursor;

	if (family && !pool->family)
		k8s_pool_adopt_family(pool, family);
	if (family && family != pool->family)
		return k8s_error(pool->ctx, -EBADMSG, "%s: holds %s addresses, the pool is %s",
				 k8s_base_path(base), family == AF_INET ? "IPv4" : "IPv6",
				 family == AF_INET ? "IPv6" : "IPv4");
	pool->base = base;
	pool->base_copied = 0;
	if (k8s_base_cursor(base, &cursor))
		k8s_pool_apply_cursor(pool, cursor);
	/* Written with other slots (another block length): its runs mean
	 * nothing here, and each entry must be checked. */
	if (k8s_base_count(base) && k8s_base_step(base) != pool->step)
		return k8s_pool_detach_base(pool);
	return 0;
}

/* One entry of a full read: what the journal reader checks of a record. */
static int copy_for_detach(struct k8snet_ipam_pool *pool, size_t i)
{
	struct k8s_base_entry e;
	struct k8s_alloc *a;
	char ip[K8S_IP_STRLEN];
	uint64_t h;
	int r = k8s_base_entry(pool->base, i, &e);

	if (r < 0)
		return r;
	if (base_released(pool, e.addr))
		return 0;
	h = hash_key_n(e.owner, e.owner_len, e.ifname, e.ifname_len);
	a = mem_find_addr(pool, e.addr);
	if (a && a->from_base)
		return 0;    /* copied before */
	k8s_ip_format(&(struct k8s_ip){ e.addr, pool->family }, ip);
	if (k8s_pool_is_foreign_slot(pool, e.addr))
		return k8s_error(pool->ctx, -EBADMSG, "%s: %s starts no block of this pool",
				 k8s_base_path(pool->base), ip);
	if (a || mem_find_key_n(pool, e.owner, e.owner_len, e.ifname, e.ifname_len, h))
		return k8s_error(pool->ctx, -EBADMSG, "%s: %s or its key is held twice",
				 k8s_base_path(pool->base), ip);
	r = insert_alloc(pool, e.addr, e.owner, e.owner_len, e.ifname, e.ifname_len, h, false,
			 true, NULL);
	if (r < 0)
		return k8s_error(pool->ctx, r, "out of memory");
	pool->base_copied++;
	return 0;
}

/* Every copied entry's slot goes into the runs tree. */
static int own_copied_slots(struct k8snet_ipam_pool *pool)
{
	struct k8s_alloc *a;
	size_t i;

	for (i = 0; i < pool->n_buckets; i++)
		for (a = pool->by_key[i]; a; a = a->key_next) {
			if (!a->from_base)
				continue;
			if (is_tracked(pool, a->addr) &&
			    k8s_runs_add(&pool->used, a->addr, a->addr, pool->step) < 0)
				return k8s_error(pool->ctx, -ENOMEM, "out of memory");
			a->from_base = false;
		}
	return 0;
}

int k8s_pool_detach_base(struct k8snet_ipam_pool *pool)
{
	size_t i, n;
	int r;

	if (!pool->base)
		return 0;
	n = k8s_base_count(pool->base);
	r = k8s_base_check_body(pool->base);
	if (r >= 0)
		k8s_pool_reserve(pool, n - pool->base_copied);
	for (i = 0; r >= 0 && i < n; i++)
		r = copy_for_detach(pool, i);
	if (r >= 0)
		r = own_copied_slots(pool);
	if (r < 0) {
		/* Half copied is no state at all: start again from the file. */
		k8s_pool_reset(pool);
		if (pool->store)
			k8s_store_invalidate(pool->store);
		return r;
	}
	k8s_runs_clear(&pool->base_freed);
	pool->base = NULL;
	pool->base_copied = 0;
	return 0;
}

int k8s_pool_add_hashed(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
			    const char *ifname, uint64_t h, bool move_cursor)
{
	struct k8s_alloc *a;
	int r = k8s_pool_lookup_key(pool, owner, ifname, h, &a);

	if (r == 0)
		r = k8s_pool_lookup_addr(pool, addr, &a);
	if (r != 0)
		return r > 0 ? -EEXIST : r;
	return k8s_pool_insert(pool, addr, owner, ifname, h, move_cursor);
}

int k8s_pool_apply_add(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
		       const char *ifname, bool move_cursor)
{
	return k8s_pool_add_hashed(pool, addr, owner, ifname, k8s_pool_hash_key(owner, ifname), move_cursor);
}

int k8s_pool_apply_del(struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	struct k8s_alloc *a;
	int r = k8s_pool_lookup_addr(pool, addr, &a);

	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	return k8s_pool_remove(pool, a);
}

int k8s_pool_remove(struct k8snet_ipam_pool *pool, struct k8s_alloc *a)
{
	if (a->from_base) {
		/* The snapshot's runs still count the slot: mark it released. */
		if (k8s_runs_add(&pool->base_freed, a->addr, a->addr, 1) < 0)
			return -ENOMEM;
	} else if (is_tracked(pool, a->addr) && k8s_runs_remove(&pool->used, a->addr, pool->step) < 0) {
		return -ENOMEM;
	}
	unlink_alloc(pool, a);
	free(a);
	pool->n_allocs--;
	return 0;
}

bool k8s_pool_is_foreign_slot(const struct k8snet_ipam_pool *pool, k8s_u128 addr)
{
	return (addr & (pool->step - 1)) != 0 && k8s_pool_range_of(pool, addr);
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

k8s_u128 k8s_pool_step(const struct k8snet_ipam_pool *pool)
{
	return pool->step;
}

void k8s_pool_adopt_family(struct k8snet_ipam_pool *pool, int family)
{
	if (!pool->n_ranges)
		pool->family = family;
}

size_t k8s_pool_live(const struct k8snet_ipam_pool *pool)
{
	return pool->n_allocs + (pool->base ? k8s_base_count(pool->base) - pool->base_copied : 0);
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

int k8s_pool_sorted(struct k8snet_ipam_pool *pool, struct k8s_alloc ***ret, size_t *ret_n)
{
	struct k8s_alloc **v, *a;
	size_t i, n = 0;
	int r = k8s_pool_detach_base(pool);

	if (r < 0)
		return r;
	v = malloc((pool->n_allocs + 1) * sizeof(*v));
	if (!v)
		return k8s_error(pool->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < pool->n_buckets; i++)
		for (a = pool->by_key[i]; a; a = a->key_next)
			v[n++] = a;
	qsort(v, n, sizeof(*v), cmp_alloc);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- finding a free slot ---------------------------------------------------- */

/* Slot c is used in the snapshot: 1 and the last slot of the used stretch
 * from c, cut short before the first slot released since; 0 when c is free
 * there. */
static int base_used_until(const struct k8snet_ipam_pool *pool, k8s_u128 c, k8s_u128 *ret)
{
	const struct k8s_run *freed;
	k8s_u128 last;
	int r;

	if (!pool->base)
		return 0;
	r = k8s_base_run_at(pool->base, c, &last);
	if (r <= 0)
		return r;
	freed = k8s_runs_next(&pool->base_freed, c);
	if (freed && freed->first <= c)
		return 0;
	if (freed && freed->first <= last)
		last = freed->first - pool->step;
	*ret = last;
	return 1;
}

/* The first free slot at or after c in ranges[ri..]. */
static int search_from(const struct k8snet_ipam_pool *pool, size_t ri, k8s_u128 c,
		       k8s_u128 *ret)
{
	for (; ri < pool->n_ranges; ri++) {
		const struct range *rg = &pool->ranges[ri];

		if (c < rg->first)
			c = rg->first;
		for (;;) {
			const struct k8s_run *run = k8s_runs_find(&pool->used, c);
			k8s_u128 end;
			int r;

			if (run) {
				if (run->last >= rg->last)
					break;
				c = run->last + pool->step;   /* free: runs are maximal */
				continue;
			}
			r = base_used_until(pool, c, &end);
			if (r < 0)
				return r;
			if (r == 0) {
				*ret = c;
				return 1;
			}
			if (end >= rg->last)
				break;
			c = end + pool->step;
		}
	}
	return 0;
}

static int pick_slot(const struct k8snet_ipam_pool *pool, k8s_u128 *ret)
{
	size_t ri = 0;
	k8s_u128 c = 0;
	int r;

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
		r = search_from(pool, ri, c, ret);
		if (r != 0)
			return r;
	}
	return search_from(pool, 0, 0, ret);
}

int k8s_pool_pick(struct k8snet_ipam_pool *pool, k8s_u128 *ret)
{
	struct k8s_alloc *a;
	int r = pick_slot(pool, ret);

	if (r <= 0)
		return r;
	/* The snapshot's runs said free: its entries must agree. */
	r = k8s_pool_lookup_addr(pool, *ret, &a);
	if (r > 0)
		return k8s_error(pool->ctx, -EBADMSG, "%s: corrupt snapshot: runs and entries differ",
				 pool->base ? k8s_base_path(pool->base) : "pool");
	return r < 0 ? r : 1;
}
