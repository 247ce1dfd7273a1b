/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet Service NAT: kube-proxy's job in nftables.
 *
 * A proxy (struct k8snet_proxy) is bound to a context, that is to a network
 * namespace, and owns one nftables table per address family ("ip" and "ip6",
 * both named after K8SNET_PROXY_TABLE, default "k8snet").  Services and their
 * endpoints come from Kubernetes JSON (Service v1, EndpointSlice
 * discovery.k8s.io/v1, alone or in a List) or from the C API.
 * k8snet_proxy_sync() sends what changed since the last sync as one atomic
 * netlink batch; k8snet_proxy_render() prints the same ruleset as nft text.
 *
 * Failures: a sync returns success only when the kernel acknowledged the
 * whole batch.  After a failure the proxy treats what the kernel holds as
 * unknown and its next sync replaces the tables in one transaction.  When
 * another program changed the namespace's ruleset since the last sync, the
 * tables are read back first and replaced if they differ from what was
 * programmed.  k8snet_proxy_sync_full() replaces them regardless.
 *
 * Conflicts: two services claiming the same address, port and protocol (or
 * NodePort, or ClusterIP) cannot both be programmed.  The older one keeps
 * the claim (metadata.creationTimestamp, then namespace/name), the other is
 * programmed without it and listed by k8snet_proxy_get_skipped().
 *
 * A proxy is used by one thread at a time, like its context.
 */
#ifndef K8SNET_NAT_H
#define K8SNET_NAT_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_proxy;
struct k8snet_service;

/* Proxy attributes.  Strings: K8SNET_PROXY_NODE_NAME, K8SNET_PROXY_TABLE are
 * set (replaced); NODE_IP, CLUSTER_CIDR, NODEPORT_ADDRESS, SERVICE_CIDR are lists and are
 * added to with k8snet_proxy_add_str().  Numbers: k8snet_proxy_set_u32(). */
#define K8SNET_PROXY_NODE_NAME        0u  /* str: spec.nodeName of local endpoints */
#define K8SNET_PROXY_TABLE            1u  /* str: table name, default "k8snet" */
#define K8SNET_PROXY_NODE_IP          2u  /* str list: the node's addresses */
#define K8SNET_PROXY_CLUSTER_CIDR     3u  /* str list: pod CIDRs; others are masqueraded */
#define K8SNET_PROXY_NODEPORT_ADDRESS 4u  /* str list: NodePorts answer only here (CIDRs) */
#define K8SNET_PROXY_MARK_BIT         5u  /* u32: bit number of the masquerade mark, default 14 */
#define K8SNET_PROXY_NODEPORT_MIN     6u  /* u32: default 30000 */
#define K8SNET_PROXY_NODEPORT_MAX     7  /* u32: default 32767 */
#define K8SNET_PROXY_FLAGS            8u  /* u32: K8SNET_PROXY_F_* */
/* Read only (k8snet_proxy_get_u32): the conntrack cleanup of the last sync. */
#define K8SNET_PROXY_CONNTRACK_DELETED 9u  /* u32: entries deleted */
#define K8SNET_PROXY_CONNTRACK_FILTERS 10u /* u32: filtered dumps made */
/* str list (CIDR, v4 and v6): the service CIDRs; traffic to an address in
 * them that no service has is dropped at the node. */
#define K8SNET_PROXY_SERVICE_CIDR     11u
/* str: this node's zone (its topology.kubernetes.io/zone label), for
 * topology-aware routing (EndpointSlice hints, trafficDistribution). */
#define K8SNET_PROXY_NODE_ZONE        12u

#define K8SNET_PROXY_F_MASQUERADE_ALL 0x1u  /* masquerade all service traffic */
#define K8SNET_PROXY_F_ROUND_ROBIN    0x2u  /* numgen inc instead of numgen random */
/* Leave stale UDP/SCTP conntrack entries alone after a sync (see
 * k8snet_proxy_sync(3)); for tests and for nodes where another agent does it. */
#define K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP 0x4u
/* Named counters per service port: new connections (the first packet of
 * each), k8snet_proxy_get_counters(), and every packet of them both ways,
 * k8snet_proxy_get_traffic(). */
#define K8SNET_PROXY_F_COUNT          0x8u

/* Service attributes (k8snet_service_set_str / set_u32). */
#define K8SNET_SERVICE_NAMESPACE        0u  /* str, default "default" */
#define K8SNET_SERVICE_NAME             1u  /* str, required */
#define K8SNET_SERVICE_TYPE             2u  /* u32: K8SNET_SERVICE_TYPE_* */
#define K8SNET_SERVICE_FLAGS            3u  /* u32: K8SNET_SERVICE_F_* */
#define K8SNET_SERVICE_AFFINITY_TIMEOUT 4u  /* u32 seconds, default 10800 */
#define K8SNET_SERVICE_CREATION_TIMESTAMP 5u /* str: RFC 3339 UTC, decides conflicts */
#define K8SNET_SERVICE_HEALTH_CHECK_NODE_PORT 6u /* u32: spec.healthCheckNodePort, 0 none */
#define K8SNET_SERVICE_TRAFFIC_DISTRIBUTION 7u /* u32: K8SNET_TRAFFIC_DISTRIBUTION_* */

/* spec.trafficDistribution.  Endpoints without hints of their own get the
 * hints the EndpointSlice controller would give them: their zone (and for
 * PREFER_SAME_NODE their node). */
#define K8SNET_TRAFFIC_DISTRIBUTION_NONE            0u
#define K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE 1u  /* also PreferClose */
#define K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE 2u

#define K8SNET_SERVICE_TYPE_CLUSTER_IP    0u
#define K8SNET_SERVICE_TYPE_NODE_PORT     1u
#define K8SNET_SERVICE_TYPE_LOAD_BALANCER 2u
#define K8SNET_SERVICE_TYPE_EXTERNAL_NAME 3u

#define K8SNET_SERVICE_F_AFFINITY  0x1u  /* sessionAffinity: ClientIP */
#define K8SNET_SERVICE_F_ETP_LOCAL 0x2u  /* externalTrafficPolicy: Local */
#define K8SNET_SERVICE_F_ITP_LOCAL 0x4u  /* internalTrafficPolicy: Local */

/* Address kinds for k8snet_service_add_ip(). */
#define K8SNET_SERVICE_IP_CLUSTER      0u  /* spec.clusterIPs */
#define K8SNET_SERVICE_IP_EXTERNAL     1u  /* spec.externalIPs */
#define K8SNET_SERVICE_IP_LB_INGRESS   2u  /* status.loadBalancer.ingress[].ip */
#define K8SNET_SERVICE_IP_SOURCE_RANGE 3u  /* spec.loadBalancerSourceRanges (CIDR) */
/* status.loadBalancer.ingress[].ip with ipMode: Proxy.  The load balancer
 * proxies such traffic itself: the address gets no rule at all, so traffic
 * from the node to it leaves the node (no short-cut to the endpoints). */
#define K8SNET_SERVICE_IP_LB_INGRESS_PROXY 4u

/* Endpoint conditions for k8snet_service_add_endpoint(). */
#define K8SNET_ENDPOINT_F_READY       0x1u
#define K8SNET_ENDPOINT_F_SERVING     0x2u
#define K8SNET_ENDPOINT_F_TERMINATING 0x4u

/* Endpoint topology for k8snet_service_set_endpoint_str(). */
#define K8SNET_ENDPOINT_ZONE      0u  /* endpoints[].zone (set) */
#define K8SNET_ENDPOINT_HINT_ZONE 1u  /* endpoints[].hints.forZones[].name (added) */
#define K8SNET_ENDPOINT_HINT_NODE 2u  /* endpoints[].hints.forNodes[].name (added) */

K8SNET_EXPORT int k8snet_proxy_new(struct k8snet_ctx *ctx, struct k8snet_proxy **ret);
K8SNET_EXPORT struct k8snet_proxy *k8snet_proxy_free(struct k8snet_proxy *proxy);
K8SNET_EXPORT int k8snet_proxy_set_str(struct k8snet_proxy *proxy, uint32_t attr, const char *value);
K8SNET_EXPORT int k8snet_proxy_add_str(struct k8snet_proxy *proxy, uint32_t attr, const char *value);
K8SNET_EXPORT int k8snet_proxy_set_u32(struct k8snet_proxy *proxy, uint32_t attr, uint32_t value);
/* The first (or only) value of a string attribute, NULL when unset. */
K8SNET_EXPORT const char *k8snet_proxy_get_str(const struct k8snet_proxy *proxy, uint32_t attr);
K8SNET_EXPORT uint32_t k8snet_proxy_get_u32(const struct k8snet_proxy *proxy, uint32_t attr);

/* Add or replace Services and EndpointSlices from a JSON document; all or
 * nothing.  Returns the number of objects taken. */
K8SNET_EXPORT int k8snet_proxy_load_json(struct k8snet_proxy *proxy, const char *json, size_t len);
/* Add or replace a service (copied; the caller still owns svc). */
K8SNET_EXPORT int k8snet_proxy_add_service(struct k8snet_proxy *proxy, const struct k8snet_service *svc);
/* Remove a service and all its endpoints. */
K8SNET_EXPORT int k8snet_proxy_remove_service(struct k8snet_proxy *proxy, const char *ns, const char *name);
/* Remove one EndpointSlice by its own name. */
K8SNET_EXPORT int k8snet_proxy_remove_slice(struct k8snet_proxy *proxy, const char *ns, const char *name);
/* Program the kernel: one atomic batch with what changed.  Returns the
 * number of messages sent. */
K8SNET_EXPORT int k8snet_proxy_sync(struct k8snet_proxy *proxy);
/* The same, replacing the tables whole (kube-proxy's periodic full sync). */
K8SNET_EXPORT int k8snet_proxy_sync_full(struct k8snet_proxy *proxy);
/* What the last sync or render left out because of a conflict: the object
 * ("service NS/NAME") and the reason; strings valid until the next sync,
 * render or free.  -ENOENT past the end. */
K8SNET_EXPORT int k8snet_proxy_get_skipped_count(const struct k8snet_proxy *proxy);
K8SNET_EXPORT int k8snet_proxy_get_skipped(const struct k8snet_proxy *proxy, uint32_t index,
					   const char **ret_object, const char **ret_reason);
/* Health-check data of a service with externalTrafficPolicy Local and a
 * healthCheckNodePort, for a daemon that answers on that port (kube-proxy's
 * pkg/proxy/healthcheck): the port and the number of ready endpoints on
 * this node (K8SNET_PROXY_NODE_NAME), as of the last successful sync.
 * -ENOENT: no such service, or it has no health check. */
K8SNET_EXPORT int k8snet_proxy_get_health(const struct k8snet_proxy *proxy, const char *ns,
					  const char *name, uint32_t *ret_node_port,
					  uint32_t *ret_local_endpoints);
/* The services whose health-check data changed in the last successful sync
 * (appeared, changed or went away), as "ns/name"; strings valid until the
 * next sync or free.  -ENOENT past the end. */
K8SNET_EXPORT int k8snet_proxy_get_health_changed_count(const struct k8snet_proxy *proxy);
K8SNET_EXPORT int k8snet_proxy_get_health_changed(const struct k8snet_proxy *proxy, uint32_t index,
						  const char **ret_service);
/* With K8SNET_PROXY_F_COUNT: the connections (new flows: their first
 * packets) and the bytes of those first packets that reached service
 * ns/name, summed over its ports and both families, as the kernel counts
 * them now.  Incremental syncs keep the counts of unchanged ports, full
 * syncs carry them over.  Any pointer may be NULL.  -ENOENT: no such
 * service, or counting is off. */
K8SNET_EXPORT int k8snet_proxy_get_counters(struct k8snet_proxy *proxy, const char *ns,
					    const char *name, uint64_t *ret_packets,
					    uint64_t *ret_bytes);
/* With K8SNET_PROXY_F_COUNT: the packets and bytes of every connection to
 * service ns/name, both directions (replies too), summed over its ports and
 * both families, as the kernel counts them now.  Same lifetime, NULL and
 * error rules as k8snet_proxy_get_counters(). */
K8SNET_EXPORT int k8snet_proxy_get_traffic(struct k8snet_proxy *proxy, const char *ns,
					   const char *name, uint64_t *ret_packets,
					   uint64_t *ret_bytes);
/* The ruleset as nft text (free with k8snet_free()). */
K8SNET_EXPORT int k8snet_proxy_render(struct k8snet_proxy *proxy, char **ret_text);

K8SNET_EXPORT int k8snet_service_new(struct k8snet_service **ret);
K8SNET_EXPORT struct k8snet_service *k8snet_service_free(struct k8snet_service *svc);
K8SNET_EXPORT int k8snet_service_set_str(struct k8snet_service *svc, uint32_t attr, const char *value);
K8SNET_EXPORT const char *k8snet_service_get_str(const struct k8snet_service *svc, uint32_t attr);
K8SNET_EXPORT int k8snet_service_set_u32(struct k8snet_service *svc, uint32_t attr, uint32_t value);
K8SNET_EXPORT uint32_t k8snet_service_get_u32(const struct k8snet_service *svc, uint32_t attr);
K8SNET_EXPORT int k8snet_service_add_ip(struct k8snet_service *svc, uint32_t kind, const char *addr);
/* protocol: 6 (TCP), 17 (UDP) or 132 (SCTP); node_port 0 for none. */
K8SNET_EXPORT int k8snet_service_add_port(struct k8snet_service *svc, const char *name, uint32_t protocol,
					  uint32_t port, uint32_t node_port);
/* An endpoint address serving the service port called port_name on port. */
K8SNET_EXPORT int k8snet_service_add_endpoint(struct k8snet_service *svc, const char *addr,
					      const char *port_name, uint32_t port,
					      const char *node_name, uint32_t flags);
/* Zone or topology hint (K8SNET_ENDPOINT_*) of every endpoint added so far
 * with address addr.  -ENOENT: no such endpoint. */
/* The message of the Service's last failed call, naming the field ("" when it
 * succeeded): a Service has no context to hold it. */
K8SNET_EXPORT const char *k8snet_service_get_error(const struct k8snet_service *svc);
K8SNET_EXPORT int k8snet_service_set_endpoint_str(struct k8snet_service *svc, const char *addr,
						  uint32_t attr, const char *value);

#ifdef __cplusplus
}
#endif

#endif
