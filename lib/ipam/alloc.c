/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The calls that allocate, release, look up and list, each under the state
 * file's lock when the pool has one: lock (and catch up with the file),
 * decide in memory, make the change durable, then apply it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ipam/pool.h"

/* ---- the public calls ------------------------------------------------------- */

static int begin(struct k8snet_ipam_pool *pool, bool exclusive)
{
	int r = k8s_pool_freeze(pool);

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

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, path && *path);
	K8S_CHECK_ARG(pool->ctx, !pool->store);
	r = k8s_pool_freeze(pool);
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
		if (!(pool->flags & K8SNET_IPAM_POOL_F_PREFIXES) ||
		    k8s_cidr_parse(want, true, &ip, &len) < 0 || len != pool->block_len)
			return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not %s", want,
					    pool->flags & K8SNET_IPAM_POOL_F_PREFIXES ?
					    "a block of the pool" : "an IP address");
	}
	if (ip.family != pool->family || !k8s_pool_range_of(pool, ip.v) ||
	    (ip.v & (pool->step - 1)) != 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "%s is not in pool %s", want,
				    k8s_pool_name(pool));
	if (k8s_pool_is_reserved(pool, ip.v))
		return k8s_error_at(pool->ctx, -EINVAL, "ip",
				    "%s is reserved in pool %s (network, broadcast, gateway "
				    "or excluded)", want, k8s_pool_name(pool));
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

	k8s_pool_format(pool, a->addr, buf, sizeof(buf));
	return k8s_error(pool->ctx, -EEXIST, "%s%s is already held by owner %s ifname '%s'",
			 what, buf, k8s_alloc_owner(a), k8s_alloc_ifname(a));
}

/* The caller's buffer gets addr in prefix form, or -ENOBUFS when it is too
 * small (checked before anything changes). */
static int put_result(struct k8snet_ipam_pool *pool, k8s_u128 addr, char *buf, size_t size)
{
	char text[K8SNET_IPAM_CIDR_MAX];
	size_t n;

	k8s_pool_format(pool, addr, text, sizeof(text));
	n = strlen(text);
	if (n >= size)
		return k8s_error(pool->ctx, -ENOBUFS, "%s needs a buffer of %zu bytes, not %zu", text,
				 n + 1, size);
	memcpy(buf, text, n + 1);
	return 0;
}

static int do_alloc(struct k8snet_ipam_pool *pool, const char *owner, const char *ifname,
		    const char *want, char *buf, size_t size)
{
	uint64_t h = k8s_pool_hash_key(owner, ifname);
	struct k8s_alloc *a;
	k8s_u128 addr;
	int r = k8s_pool_lookup_key(pool, owner, ifname, h, &a);

	if (r < 0)
		return r;
	if (r > 0) {
		if (want && (parse_want(pool, want, &addr) < 0 || addr != a->addr))
			return held_error(pool, a, "the key asks for another address: ");
		r = put_result(pool, a->addr, buf, size);
		return r < 0 ? r : 1;
	}
	if (want) {
		r = parse_want(pool, want, &addr);
		if (r >= 0)
			r = k8s_pool_lookup_addr(pool, addr, &a);
		if (r < 0)
			return r;
		if (r > 0)
			return held_error(pool, a, "");
	} else {
		r = k8s_pool_pick(pool, &addr);
		if (r < 0)
			return r;
		if (r == 0)
			return k8s_error(pool->ctx, -ENOSPC, "pool %s is exhausted",
					 k8s_pool_name(pool));
	}
	r = put_result(pool, addr, buf, size);
	if (r < 0)
		return r;
	if (pool->store) {
		r = k8s_store_append(pool->store, want ? K8S_REC_RESERVE : K8S_REC_ALLOC,
				     pool->family, addr, owner, ifname);
		if (r < 0)
			return r;
	}
	r = k8s_pool_insert(pool, addr, owner, ifname, h, !want);
	if (r < 0)   /* only -ENOMEM: the checks above rule out conflicts */
		return out_of_memory_after_write(pool);
	if (pool->store)
		k8s_store_maybe_compact(pool->store, pool);
	return 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_alloc(struct k8snet_ipam_pool *pool, const char *owner,
					 const char *ifname, const char *want, char *buf,
					 size_t size)
{
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, buf && size > 0);
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
	r = k8s_pool_remove(pool, a);
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

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	r = k8s_ipam_check_key(pool->ctx, owner, ifname);
	if (r < 0)
		return r;
	r = begin(pool, true);
	if (r < 0)
		return r;
	r = k8s_pool_lookup_key(pool, owner, ifname, k8s_pool_hash_key(owner, ifname), &a);
	if (r > 0)
		r = release_one(pool, a);
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_release_addr(struct k8snet_ipam_pool *pool, const char *addr)
{
	struct k8s_alloc *a;
	struct k8s_ip ip;
	unsigned len;
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, addr);
	if (k8s_ip_parse(addr, &ip) < 0 && k8s_cidr_parse(addr, false, &ip, &len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not an IP address", addr);
	r = begin(pool, true);
	if (r < 0)
		return r;
	if (pool->family && ip.family != pool->family)
		r = 0;
	else
		r = k8s_pool_lookup_addr(pool, ip.v, &a);
	if (r > 0)
		r = release_one(pool, a);
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_lookup(struct k8snet_ipam_pool *pool, const char *owner,
					  const char *ifname, char *buf, size_t size)
{
	struct k8s_alloc *a;
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, buf && size > 0);
	r = k8s_ipam_check_key(pool->ctx, owner, ifname);
	if (r < 0)
		return r;
	r = begin(pool, false);
	if (r < 0)
		return r;
	buf[0] = '\0';
	r = k8s_pool_lookup_key(pool, owner, ifname, k8s_pool_hash_key(owner, ifname), &a);
	if (r > 0)
		r = put_result(pool, a->addr, buf, size) < 0 ? -ENOBUFS : 1;
	end(pool);
	return r;
}

K8SNET_EXPORT int k8snet_ipam_pool_get_count(struct k8snet_ipam_pool *pool)
{
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	r = begin(pool, false);
	if (r < 0)
		return r;
	r = k8s_pool_live(pool) > INT32_MAX ? INT32_MAX : (int)k8s_pool_live(pool);
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

	K8S_FORK_GUARD(pool);
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
		return r;
	}
	for (i = 0; i < n && r >= 0; i++) {
		k8s_pool_format(pool, v[i]->addr, buf, sizeof(buf));
		r = fn(userdata, buf, k8s_alloc_owner(v[i]), k8s_alloc_ifname(v[i]));
	}
	end(pool);
	return r < 0 ? r : 0;
}

K8SNET_EXPORT int k8snet_ipam_pool_get_gateway(struct k8snet_ipam_pool *pool, const char *addr,
					       char *buf, size_t size)
{
	char text[K8S_IP_STRLEN];
	const struct range *rg;
	struct k8s_ip ip;
	unsigned len;
	int r;

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, addr);
	K8S_CHECK_ARG(pool->ctx, buf && size > 0);
	if (k8s_ip_parse(addr, &ip) < 0 && k8s_cidr_parse(addr, false, &ip, &len) < 0)
		return k8s_error_at(pool->ctx, -EINVAL, "ip", "'%s' is not an IP address", addr);
	r = k8s_pool_freeze(pool);
	if (r < 0)
		return r;
	rg = ip.family == pool->family ? k8s_pool_range_of(pool, ip.v) : NULL;
	if (!rg)
		return k8s_error(pool->ctx, -ENOENT, "%s is not in pool %s", addr, k8s_pool_name(pool));
	buf[0] = '\0';
	if (!rg->has_gateway)
		return 0;
	k8s_ip_format(&(struct k8s_ip){ rg->gateway, pool->family }, text);
	if (strlen(text) >= size)
		return k8s_error(pool->ctx, -ENOBUFS, "%s needs a buffer of %zu bytes, not %zu", text,
				 strlen(text) + 1, size);
	strcpy(buf, text);
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
		for (j = k8s_pool_hash_key(owners[i], ifnames[i]) & ls->mask; ls->slots[j];
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

	K8S_FORK_GUARD(pool);
	if (!pool)
		return -EINVAL;
	K8S_CHECK_ARG(pool->ctx, n == 0 || (owners && ifnames));
	r = live_set_build(pool, &ls, owners, ifnames, n);
	if (r < 0)
		return r;
	r = begin(pool, true);
	if (r >= 0) {
		r = k8s_pool_detach_base(pool);
		if (r >= 0)
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
