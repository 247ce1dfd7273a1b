/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet host ports: published ports (what the CNI portmap plugin does,
 * a pod's hostPort) and the masquerading of pod networks (the bridge
 * plugin's ipMasq), in one nftables table of the node ("inet
 * k8snet-hostports" by default), IPv4 and IPv6.
 *
 * Every mapping belongs to an owner: a string the caller chooses, such as
 * "NETWORK/CONTAINER-ID/IFNAME".  The owner is kept in the kernel with the
 * mapping (its element comment), so any process can later remove it, and
 * no call ever touches another owner's mappings:
 *   k8snet_hostports_set()     the owner's mappings become exactly these;
 *   k8snet_hostports_remove()  the owner's mappings go, whatever they were;
 *   k8snet_hostports_gc()      mappings of owners not in a list go;
 *   k8snet_hostports_check()   are the owner's mappings in place?
 * A host port (protocol, host address and port) belongs to one owner at a
 * time: claiming one another owner holds fails with -EADDRINUSE, naming the
 * holder, and changes nothing.  A wildcard host address and a specific one
 * with the same protocol and port conflict too.
 *
 * Traffic to a mapped port on any local address (or on the given host
 * address) of the node, arriving from outside or made on the node itself,
 * goes to the pod.  Connections from the node's loopback addresses and
 * from a pod to a published port of a pod of the same network (hairpin)
 * are masqueraded, so that the replies come back through the node.  For
 * loopback, the pod network's bridge needs route_localnet
 * (k8snet_link_set_route_localnet()); new connections to 127.0.0.0/8 not
 * from a loopback device are dropped, so that it does not open the node's
 * loopback services to the pods.
 *
 * Each call is one nftables transaction.  Calls from several processes at
 * once (container runtimes run CNI plugins in parallel) are safe: a call
 * whose view of the table went stale before its transaction is repeated.
 * A context is used by one thread at a time; so is a k8snet_hostports.
 */
#ifndef K8SNET_HOSTPORT_H
#define K8SNET_HOSTPORT_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_hostports;
struct k8snet_portmap;

/* Attributes of a k8snet_hostports. */
#define K8SNET_HOSTPORTS_TABLE    0u  /* str: table name, default "k8snet-hostports" */
#define K8SNET_HOSTPORTS_MARK_BIT 1u  /* u32: bit of the packet mark that asks for
					masquerading, default 13 (portmap's) */

/* Flags of k8snet_hostports_set_network(). */
#define K8SNET_HOSTPORTS_F_MASQUERADE 0x1u /* masquerade the network's traffic to
					      anywhere outside it (ipMasq) */
#define K8SNET_HOSTPORTS_F_NO_HAIRPIN 0x2u /* no masquerading of hairpin traffic */

/* The most mappings one call takes. */
#define K8SNET_HOSTPORTS_MAX_MAPPINGS 65536

K8SNET_EXPORT int k8snet_hostports_new(struct k8snet_ctx *ctx, struct k8snet_hostports **ret);
K8SNET_EXPORT struct k8snet_hostports *k8snet_hostports_free(struct k8snet_hostports *hp);
K8SNET_EXPORT int k8snet_hostports_set_str(struct k8snet_hostports *hp, uint32_t attr,
					   const char *value);
K8SNET_EXPORT int k8snet_hostports_set_u32(struct k8snet_hostports *hp, uint32_t attr,
					   uint32_t value);

/* A list of mappings. */
K8SNET_EXPORT int k8snet_portmap_new(struct k8snet_portmap **ret);
K8SNET_EXPORT struct k8snet_portmap *k8snet_portmap_free(struct k8snet_portmap *pm);
/* protocol: 6 (TCP), 17 (UDP) or 132 (SCTP); host_ip: NULL, "", "0.0.0.0"
 * or "::" for every local address of the pod address's family, else one
 * address of that family; pod_ip: the pod's address.  -EINVAL for a bad
 * value, -E2BIG past K8SNET_HOSTPORTS_MAX_MAPPINGS. */
K8SNET_EXPORT int k8snet_portmap_add(struct k8snet_portmap *pm, uint32_t protocol,
				     const char *host_ip, uint32_t host_port,
				     const char *pod_ip, uint32_t pod_port);
K8SNET_EXPORT int k8snet_portmap_get_count(const struct k8snet_portmap *pm);

/* The owner's mappings become pm (an empty pm removes them).  Returns the
 * number of mappings programmed. */
K8SNET_EXPORT int k8snet_hostports_set(struct k8snet_hostports *hp, const char *owner,
				       const struct k8snet_portmap *pm);
/* Remove the owner's mappings; returns how many there were (0 is fine). */
K8SNET_EXPORT int k8snet_hostports_remove(struct k8snet_hostports *hp, const char *owner);
/* 0 when the owner's mappings are exactly pm; -ENOENT when one is missing,
 * -ESTALE when one differs or another is there (the error says which). */
K8SNET_EXPORT int k8snet_hostports_check(struct k8snet_hostports *hp, const char *owner,
					 const struct k8snet_portmap *pm);
/* Remove the mappings of owners that start with prefix (NULL: any) and are
 * not in live[]; returns how many went. */
K8SNET_EXPORT int k8snet_hostports_gc(struct k8snet_hostports *hp, const char *prefix,
				      const char *const *live, size_t n_live);
/* A pod network's subnets (CIDRs, both families) and what to do for it
 * (K8SNET_HOSTPORTS_F_*); n 0 removes the network.  Nothing is sent when
 * the kernel already holds exactly this. */
K8SNET_EXPORT int k8snet_hostports_set_network(struct k8snet_hostports *hp, const char *network,
					       const char *const *subnets, size_t n,
					       uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif
