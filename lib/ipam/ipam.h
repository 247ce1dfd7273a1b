/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPAM internals.  Addresses of both families are 128-bit integers (IPv4 in
 * the low 32 bits), so one piece of arithmetic serves /8s and /64s alike.
 *
 *   addr.c   parsing and printing addresses and CIDRs
 *   runs.c   an AVL tree of maximal runs of used slots: "first free at or
 *            after x" is one O(log n) lookup whatever the prefix size
 *   pool.c   ranges, reservations, the key and address tables, allocation
 *   store.c  the state file: a snapshot plus a checksummed journal, flock,
 *            compaction, the directory's safety
 *   base.c   the snapshot, used in place: a process exec'd per call asks
 *            its questions of it without reading it whole
 *   config.c host-local's "ipam" JSON
 */
#ifndef K8SNET_IPAM_INTERNAL_H
#define K8SNET_IPAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <k8snet/ipam.h>

#include "core/internal.h"

typedef unsigned __int128 k8s_u128;

struct k8s_ip {
	k8s_u128 v;
	int family;     /* AF_INET or AF_INET6 */
};

/* Longest textual address, "ffff:ffff:...:255.255.255.255", plus NUL. */
#define K8S_IP_STRLEN 46

unsigned k8s_ip_bits(int family);
/* A plain address.  -EINVAL (no message) when malformed. */
int k8s_ip_parse(const char *s, struct k8s_ip *ret);
/* The core parser's rules (core/addr.h).  k8s_cidr_parse: a network, host
 * bits cleared, or with !network an address and its prefix length. */
int k8s_cidr_parse(const char *s, bool network, struct k8s_ip *ret, unsigned *ret_len);
void k8s_ip_format(const struct k8s_ip *ip, char buf[K8S_IP_STRLEN]);
/* The host part's mask of a prefix of len bits (all ones for len 0). */
k8s_u128 k8s_host_mask(int family, unsigned len);

/* Maximal runs of used slots, slots being step apart. */
struct k8s_run {
	k8s_u128 first, last;
	struct k8s_run *left, *right;
	int height;
};

struct k8s_runs {
	struct k8s_run *root;
	size_t count;
};

/* The run holding x, or NULL. */
const struct k8s_run *k8s_runs_find(const struct k8s_runs *runs, k8s_u128 x);
/* Mark [first, last] used (all free before).  -ENOMEM. */
int k8s_runs_add(struct k8s_runs *runs, k8s_u128 first, k8s_u128 last, k8s_u128 step);
/* Mark slot x (used before) free.  -ENOMEM. */
int k8s_runs_remove(struct k8s_runs *runs, k8s_u128 x, k8s_u128 step);
void k8s_runs_clear(struct k8s_runs *runs);

/* Find the run after x: the run holding x, else the first run above it. */
const struct k8s_run *k8s_runs_next(const struct k8s_runs *runs, k8s_u128 x);

/* Pools: what the store needs of them. */
struct k8s_alloc {
	struct k8s_alloc *key_next, *addr_next;  /* hash chains */
	k8s_u128 addr;
	uint64_t key_hash;
	uint32_t ifname_off;                     /* key = "owner\0ifname\0" */
	bool from_base;     /* a copy of a snapshot entry: its slot is the snapshot's */
	char key[];
};

static inline const char *k8s_alloc_owner(const struct k8s_alloc *a) { return a->key; }
static inline const char *k8s_alloc_ifname(const struct k8s_alloc *a) { return a->key + a->ifname_off; }

/* ---- the snapshot (base.c) ---- */
#define K8S_BASE_MAGIC "k8snet-ipam\t2\n"
#define K8S_BASE_HEADER_SIZE 128
#define K8S_IPAM_HASH_SEED 0xcbf29ce484222325ULL

uint64_t k8s_ipam_hash(uint64_t h, const void *data, size_t n);
uint32_t k8s_ipam_checksum(const void *data, size_t n);

struct k8s_base;
struct k8s_base_entry {
	k8s_u128 addr;
	const char *owner, *ifname;     /* not NUL-terminated */
	size_t owner_len, ifname_len;
};
struct k8s_base_params {
	int family;
	bool has_cursor;
	k8s_u128 cursor, step;
};
/* Check the header of the snapshot at data (file_size bytes of file); the
 * memory must outlive the result.  -EBADMSG, -ENOMEM. */
int k8s_base_open(struct k8snet_ctx *ctx, const char *path, const void *data, size_t file_size,
		  struct k8s_base **ret);
void k8s_base_close(struct k8s_base *b);
const char *k8s_base_path(const struct k8s_base *b);
/* The snapshot's length: the journal starts there. */
size_t k8s_base_size(const struct k8s_base *b);
size_t k8s_base_count(const struct k8s_base *b);
int k8s_base_family(const struct k8s_base *b);
k8s_u128 k8s_base_step(const struct k8s_base *b);
bool k8s_base_cursor(const struct k8s_base *b, k8s_u128 *ret);
/* Entry i, checked.  0 or -EBADMSG. */
int k8s_base_entry(const struct k8s_base *b, size_t i, struct k8s_base_entry *ret);
/* 1 and the index when found, 0 when not, -EBADMSG. */
int k8s_base_find_key(const struct k8s_base *b, const char *owner, const char *ifname,
		      size_t *ret);
int k8s_base_find_addr(const struct k8s_base *b, k8s_u128 addr, size_t *ret);
/* 1 and the run's last slot when slot c is inside a run, 0 when not. */
int k8s_base_run_at(const struct k8s_base *b, k8s_u128 c, k8s_u128 *ret_last);
/* The whole body's checksum and order, for a full read. */
int k8s_base_check_body(const struct k8s_base *b);
/* A snapshot of v (n allocations sorted by address) in a malloc'd buffer.
 * -ENOMEM, -E2BIG. */
int k8s_base_build(const struct k8s_base_params *params, struct k8s_alloc *const *v, size_t n,
		   uint8_t **ret, size_t *ret_size);

/* Make room for about more allocations (a hint). */
void k8s_pool_reserve(struct k8snet_ipam_pool *pool, size_t more);
/* Forget every allocation and the cursor (before reloading a state file). */
int k8s_pool_reset(struct k8snet_ipam_pool *pool);
/* Apply one change read from a state file or decided by a call.  A conflict
 * (address or key already held) gives -EEXIST; the caller names the file. */
int k8s_pool_apply_add(struct k8snet_ipam_pool *pool, k8s_u128 addr, const char *owner,
		       const char *ifname, bool move_cursor);
int k8s_pool_apply_del(struct k8snet_ipam_pool *pool, k8s_u128 addr);
void k8s_pool_apply_cursor(struct k8snet_ipam_pool *pool, k8s_u128 addr);
/* An address inside a prefix pool's ranges that starts no block: the file
 * was written for another block length. */
bool k8s_pool_is_foreign_slot(const struct k8snet_ipam_pool *pool, k8s_u128 addr);
/* Consult this snapshot in place (right after k8s_pool_reset()); it must
 * stay mapped until the next reset or detach.  -EBADMSG when it does not
 * fit the pool. */
int k8s_pool_attach_base(struct k8snet_ipam_pool *pool, const struct k8s_base *base);
/* Copy the rest of the snapshot into memory and stop consulting it: for
 * whatever reads every allocation.  On failure the pool is reset and its
 * store invalidated. */
int k8s_pool_detach_base(struct k8snet_ipam_pool *pool);
/* All allocations sorted by address (malloc'd array of pointers); detaches
 * the snapshot.  Errors carry a message. */
int k8s_pool_sorted(struct k8snet_ipam_pool *pool, struct k8s_alloc ***ret, size_t *ret_n);
int k8s_pool_family(const struct k8snet_ipam_pool *pool);
/* The distance between slots (1, or a prefix pool's block size). */
k8s_u128 k8s_pool_step(const struct k8snet_ipam_pool *pool);
/* A pool without ranges (used to list or release) takes the state file's. */
void k8s_pool_adopt_family(struct k8snet_ipam_pool *pool, int family);
bool k8s_pool_get_cursor(const struct k8snet_ipam_pool *pool, k8s_u128 *ret);
size_t k8s_pool_live(const struct k8snet_ipam_pool *pool);
struct k8snet_ctx *k8s_pool_ctx(const struct k8snet_ipam_pool *pool);

/* The state file. */
struct k8s_store;
int k8s_store_open(struct k8snet_ctx *ctx, const char *path, struct k8s_store **ret);
void k8s_store_free(struct k8s_store *store);
/* Take the lock (exclusive to change) and bring the pool up to date with the
 * file.  Always pair with k8s_store_unlock(). */
int k8s_store_lock(struct k8s_store *store, struct k8snet_ipam_pool *pool, bool exclusive);
void k8s_store_unlock(struct k8s_store *store);
/* Durably record changes (under the exclusive lock), before applying them. */
#define K8S_REC_ALLOC 'a'    /* addr to key; moves the cursor */
#define K8S_REC_RESERVE 'r'  /* addr to key; leaves the cursor */
#define K8S_REC_DELETE 'd'   /* addr freed */
int k8s_store_append(struct k8s_store *store, int type, int family, k8s_u128 addr,
		     const char *owner, const char *ifname);
/* Replace the file by a snapshot of the pool (after applying, or for GC:
 * of the state the pool will have).  keep(a) says which allocations stay. */
int k8s_store_snapshot(struct k8s_store *store, struct k8snet_ipam_pool *pool,
		       bool (*keep)(const struct k8s_alloc *a, void *userdata), void *userdata);
/* The pool no longer matches the file (memory ran out after a record was
 * written): read it all again at the next lock. */
void k8s_store_invalidate(struct k8s_store *store);
/* Compact when the journal has grown long enough that reading it costs more
 * than writing a snapshot would, spread over the calls in between; and
 * rewrite a version 1 file as version 2. */
int k8s_store_maybe_compact(struct k8s_store *store, struct k8snet_ipam_pool *pool);

/* Keys: owner and ifname are printable, without whitespace. */
int k8s_ipam_check_key(struct k8snet_ctx *ctx, const char *owner, const char *ifname);

#endif
