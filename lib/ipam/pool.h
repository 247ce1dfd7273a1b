/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pool's insides, shared by pool.c (the model: key and address tables,
 * slots, the runs tree), pool-config.c (ranges, reservations) and alloc.c
 * (the calls that allocate and release).
 */
#ifndef K8SNET_IPAM_POOL_H
#define K8SNET_IPAM_POOL_H

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

	/* Allocations in memory: read from the journal, made by this process,
	 * or copied from the snapshot when first asked about. */
	struct k8s_runs used;       /* reserved slots and in-memory allocations
				       whose slot is not the snapshot's */
	struct k8s_alloc **by_key, **by_addr;
	size_t n_buckets, n_allocs;
	bool has_cursor;
	k8s_u128 cursor;

	/* The state file's snapshot, consulted in place (NULL: everything is in
	 * memory).  A slot is used when the runs tree holds it, or the
	 * snapshot's runs do and it has not been released since. */
	const struct k8s_base *base;
	struct k8s_runs base_freed; /* snapshot slots released since */
	size_t base_copied;         /* snapshot entries copied into memory */

	struct k8s_store *store;
};

/* Keys and the two hash tables. */
uint64_t k8s_pool_hash_key(const char *owner, const char *ifname);
int k8s_pool_grow_tables(struct k8snet_ipam_pool *pool);
void k8s_pool_free_allocs(struct k8snet_ipam_pool *pool);
/* What (owner, ifname) (key hash h) or addr holds, wherever it is: 1 and
 * *ret, 0 when nothing; -EBADMSG (a damaged snapshot), -ENOMEM. */
int k8s_pool_lookup_key(struct k8snet_ipam_pool *pool, const char *owner, const char *ifname,
			uint64_t h, struct k8s_alloc **ret);
int k8s_pool_lookup_addr(struct k8snet_ipam_pool *pool, k8s_u128 addr, struct k8s_alloc **ret);
/* Record an allocation after checking key and address are free (-EEXIST,
 * -ENOMEM, -EBADMSG). */
int k8s_pool_add_hashed(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
			const char *ifname, uint64_t h, bool move_cursor);

/* The same without the conflict checks, for callers that made them. */
int k8s_pool_insert(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
		    const char *ifname, uint64_t h, bool move_cursor);
/* Forget an allocation (-ENOMEM when its run cannot be split). */
int k8s_pool_remove(struct k8snet_ipam_pool *pool, struct k8s_alloc *a);

/* Slots. */
const struct range *k8s_pool_range_of(const struct k8snet_ipam_pool *pool, k8s_u128 a);
bool k8s_pool_is_reserved(const struct k8snet_ipam_pool *pool, k8s_u128 a);
/* a in prefix form into buf (K8SNET_IPAM_CIDR_MAX bytes). */
void k8s_pool_format(const struct k8snet_ipam_pool *pool, k8s_u128 a, char *buf, size_t size);
const char *k8s_pool_name(const struct k8snet_ipam_pool *pool);
/* A free slot per the pool's strategy: 1 and *ret, 0 when the pool is
 * full, -EBADMSG. */
int k8s_pool_pick(struct k8snet_ipam_pool *pool, k8s_u128 *ret);

/* Configuration: fix slots and reservations at first use. */
int k8s_pool_freeze(struct k8snet_ipam_pool *pool);
int k8s_pool_mark_reserved(struct k8snet_ipam_pool *pool);

#endif
