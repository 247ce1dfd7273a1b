/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet IPAM: pod IPs, node CIDRs and ClusterIPs, for IPv4 and IPv6.
 *
 * A pool is a set of ranges of one address family (host-local's "range
 * set").  It hands out one address (or, for a prefix pool, one prefix) per
 * key, the key being (owner, ifname): a container id and an interface name
 * for pod IPs, a node name for node CIDRs, a Service for ClusterIPs.
 *
 *   struct k8snet_ipam_pool *pool;
 *   char cidr[K8SNET_IPAM_CIDR_MAX];
 *   k8snet_ipam_pool_new(ctx, 0, &pool);
 *   k8snet_ipam_pool_add_range(pool, "10.244.1.0/24", NULL, NULL, "10.244.1.1");
 *   k8snet_ipam_pool_set_state_file(pool, "/var/lib/k8snet/pods.state");
 *   k8snet_ipam_pool_alloc(pool, container_id, "eth0", NULL, cidr, sizeof(cidr));
 *   ... cidr is "10.244.1.2/24" ...
 *   k8snet_ipam_pool_release(pool, container_id, "eth0");
 *   k8snet_ipam_pool_free(pool);
 *
 * Rules: the network address, the IPv4 broadcast address (for prefixes up to
 * /30) and each range's gateway are never handed out, nor any exclusion.
 * Memory follows the number of allocations, never the size of the prefix, so
 * a /8 or a /64 costs what its allocations cost.
 *
 * With a state file every change is durable (fsync'd) before the call
 * returns; a file lock makes processes sharing the file safe, and a kill -9 at
 * any instant leaves the state of before or after the call.  A pool is used by
 * one thread at a time, like its context; free pools before their context.
 *
 * A CNI plugin builds its pools from the host-local "ipam" configuration
 * with k8snet_ipam_config_parse() and k8snet_ipam_config_new_pool().
 */
#ifndef K8SNET_IPAM_H
#define K8SNET_IPAM_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_ipam_pool;
struct k8snet_ipam_config;

/* Room for any address in prefix form, "ffff:...:ffff/128" plus the NUL. */
#define K8SNET_IPAM_CIDR_MAX 64

/* k8snet_ipam_pool_new() flags. */
/* Hand out prefixes (node CIDRs) rather than addresses: /24 out of an IPv4
 * range and /64 out of an IPv6 one unless k8snet_ipam_pool_set_block_len()
 * says otherwise.  No network, broadcast or gateway address is reserved. */
#define K8SNET_IPAM_POOL_F_PREFIXES 0x1u

/* k8snet_ipam_pool_set_strategy() values. */
/* The first free address after the last one handed out, wrapping around
 * (host-local's behaviour): a released address is not reused at once. */
#define K8SNET_IPAM_NEXT_FREE 0u
/* The lowest free address. */
#define K8SNET_IPAM_LOWEST_FREE 1u

/* Called by k8snet_ipam_pool_foreach() for each allocation in address order;
 * cidr is in prefix form.  A negative return stops the walk and is returned. */
typedef int (*k8snet_ipam_visit_fn)(void *userdata, const char *cidr, const char *owner,
				    const char *ifname);

/* A pool with no ranges yet.  flags: 0 or K8SNET_IPAM_POOL_F_PREFIXES. */
K8SNET_EXPORT int k8snet_ipam_pool_new(struct k8snet_ctx *ctx, uint32_t flags,
				       struct k8snet_ipam_pool **ret);
K8SNET_EXPORT struct k8snet_ipam_pool *k8snet_ipam_pool_free(struct k8snet_ipam_pool *pool);

/* Configuration; all of it must come before the first allocation, lookup or
 * k8snet_ipam_pool_set_state_file() (then -EBUSY). */
/* The name used in messages ("pool pods is exhausted"); default: the first
 * range's subnet. */
K8SNET_EXPORT int k8snet_ipam_pool_set_name(struct k8snet_ipam_pool *pool, const char *name);
/* Add a range: subnet is a CIDR without host bits; start, end and gateway
 * are addresses inside it, or NULL.  Ranges of a pool share one family and
 * do not overlap. */
K8SNET_EXPORT int k8snet_ipam_pool_add_range(struct k8snet_ipam_pool *pool, const char *subnet,
					     const char *start, const char *end,
					     const char *gateway);
/* Never hand out this address or CIDR. */
K8SNET_EXPORT int k8snet_ipam_pool_add_exclusion(struct k8snet_ipam_pool *pool, const char *cidr);
K8SNET_EXPORT int k8snet_ipam_pool_set_strategy(struct k8snet_ipam_pool *pool, uint32_t strategy);
/* Prefix pools only: the length of the prefixes handed out (0: the default). */
K8SNET_EXPORT int k8snet_ipam_pool_set_block_len(struct k8snet_ipam_pool *pool,
						 uint32_t len);
/* Keep the allocations in this file (created at the first change).  Loads it
 * now: a corrupt or foreign file gives -EBADMSG and is left untouched.  Its
 * directory must be the caller's (or root's) and writable by nobody else,
 * the file no symbolic link (-EPERM, -ELOOP otherwise). */
K8SNET_EXPORT int k8snet_ipam_pool_set_state_file(struct k8snet_ipam_pool *pool,
						  const char *path);

/* Allocate for (owner, ifname), or return what that key already holds.
 * want: NULL for any address, or the address (or, for a prefix pool, the
 * prefix) asked for.  ifname may be "" (node CIDRs are keyed by name alone).
 * Writes the result in prefix form ("10.244.1.5/24") to buf, of size bytes;
 * a buffer too small for it is -ENOBUFS, checked before anything changes
 * (K8SNET_IPAM_CIDR_MAX bytes always do; so for every call taking buf).
 * Returns 0 for a new allocation, 1 when the key already held it; -ENOSPC
 * when the pool is full (and only then), -EEXIST when want is taken, -EINVAL
 * for bad input, -EBADMSG for a corrupt state file, -EIO when the state file
 * cannot be written (a full disk included).  Nothing changes on failure. */
K8SNET_EXPORT int k8snet_ipam_pool_alloc(struct k8snet_ipam_pool *pool, const char *owner,
					 const char *ifname, const char *want, char *buf,
					 size_t size);
/* Release what (owner, ifname) holds.  Returns 1, or 0 when it held nothing. */
K8SNET_EXPORT int k8snet_ipam_pool_release(struct k8snet_ipam_pool *pool, const char *owner,
					   const char *ifname);
/* Release an address (or prefix) whoever holds it.  Returns 1, or 0. */
K8SNET_EXPORT int k8snet_ipam_pool_release_addr(struct k8snet_ipam_pool *pool, const char *addr);
/* What (owner, ifname) holds, in prefix form.  Returns 1, or 0 when nothing. */
K8SNET_EXPORT int k8snet_ipam_pool_lookup(struct k8snet_ipam_pool *pool, const char *owner,
					  const char *ifname, char *buf, size_t size);
/* The number of allocations. */
K8SNET_EXPORT int k8snet_ipam_pool_get_count(struct k8snet_ipam_pool *pool);
/* Visit every allocation in address order. */
K8SNET_EXPORT int k8snet_ipam_pool_foreach(struct k8snet_ipam_pool *pool,
					   k8snet_ipam_visit_fn fn, void *userdata);
/* Release every allocation whose key is not among the n live keys
 * (owners[i], ifnames[i]); CNI 1.1 GC.  Returns the number released. */
K8SNET_EXPORT int k8snet_ipam_pool_gc(struct k8snet_ipam_pool *pool,
				      const char *const *owners, const char *const *ifnames,
				      size_t n);
/* The gateway of the range holding addr.  Returns 1, or 0 when that range
 * has none; -ENOENT when addr is in no range. */
K8SNET_EXPORT int k8snet_ipam_pool_get_gateway(struct k8snet_ipam_pool *pool, const char *addr,
					       char *buf, size_t size);

/*
 * The host-local "ipam" configuration, as in a CNI network configuration:
 *   {"type": "host-local",
 *    "ranges": [[{"subnet": "10.244.1.0/24", "rangeStart": "10.244.1.10",
 *                 "rangeEnd": "10.244.1.250", "gateway": "10.244.1.1"}],
 *               [{"subnet": "fd00:10:244:1::/64"}]],
 *    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.96.0.0/12", "gw": "10.244.1.1"}],
 *    "dataDir": "/var/lib/cni/networks"}
 * json is either that object or a whole network configuration holding it as
 * "ipam"; errors name the field ("ipam.ranges[1][0].subnet: ...").  The
 * older single-range form (subnet, rangeStart, rangeEnd, gateway beside
 * "type") is accepted too.  Each range set becomes one pool; as in host-local
 * a range's gateway defaults to the subnet's first address.
 */
K8SNET_EXPORT int k8snet_ipam_config_parse(struct k8snet_ctx *ctx, const char *json, size_t len,
					   struct k8snet_ipam_config **ret);
K8SNET_EXPORT struct k8snet_ipam_config *k8snet_ipam_config_free(struct k8snet_ipam_config *cfg);
/* The number of range sets (pools). */
K8SNET_EXPORT int k8snet_ipam_config_get_pool_count(const struct k8snet_ipam_config *cfg);
/* A new pool made of range set index; the caller then attaches a state file
 * (one per pool, in a directory it has made, e.g.
 * DATADIR/NETWORK-NAME/INDEX.state) and frees the pool.  A CNI plugin's ADD
 * allocates from every pool (releasing what it got if one fails), DEL
 * releases from every pool, CHECK looks up, GC calls k8snet_ipam_pool_gc(). */
K8SNET_EXPORT int k8snet_ipam_config_new_pool(const struct k8snet_ipam_config *cfg,
					      uint32_t index,
					      struct k8snet_ipam_pool **ret);
/* "dataDir", or NULL when the configuration has none. */
K8SNET_EXPORT const char *k8snet_ipam_config_get_data_dir(const struct k8snet_ipam_config *cfg);
K8SNET_EXPORT int k8snet_ipam_config_get_route_count(const struct k8snet_ipam_config *cfg);
/* Route index: *ret_dst is its CIDR, *ret_gw its gateway or NULL.  The
 * strings belong to cfg. */
K8SNET_EXPORT int k8snet_ipam_config_get_route(const struct k8snet_ipam_config *cfg,
					       uint32_t index, const char **ret_dst,
					       const char **ret_gw);

#ifdef __cplusplus
}
#endif

#endif
