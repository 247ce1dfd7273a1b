/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet trace: why can (or can't) one pod reach another, or a Service?
 *
 * A trace (struct k8snet_trace) holds the cluster's objects: Namespaces,
 * Pods, NetworkPolicies, Services and EndpointSlices, as
 * `kubectl get -A -o json` prints them (k8snet_trace_load_json() may be
 * called once per document).  k8snet_trace_run() follows one new connection
 * hop by hop, as the kernel programmed by this library would carry it:
 *
 *   name      a DNS name, expanded through the source pod's search list
 *             (ClusterFirst, ndots 5) as glibc does, the first name that
 *             exists wins
 *   service   the Service and port the address and port belong to:
 *             ClusterIP, NodePort, external or load-balancer address
 *   endpoints which endpoints are eligible and why (readiness, the
 *             terminating fallback, internal and external traffic
 *             policies, session affinity, source ranges)
 *   masquerade whether the source address is rewritten
 *   policy    for each eligible endpoint, the egress verdict at the source
 *             and the ingress verdict at the destination, with the
 *             policies and rules that decide them (k8snet_policy_db_check())
 *   path      same node (the bridge) or to the peer node
 *
 * The answer is K8SNET_TRACE_ALLOW when every eligible endpoint would accept
 * the connection, K8SNET_TRACE_DENY when none would (or none is eligible),
 * K8SNET_TRACE_MIXED when some would.  Nothing here touches the kernel.
 *
 * A trace is used by one thread at a time, with its context.
 */
#ifndef K8SNET_TRACE_H
#define K8SNET_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>
#include <k8snet/nat.h>
#include <k8snet/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_trace;

/* Answers of k8snet_trace_run(). */
#define K8SNET_TRACE_DENY  0
#define K8SNET_TRACE_ALLOW 1
#define K8SNET_TRACE_MIXED 2

/* Flags of k8snet_trace_run(). */
#define K8SNET_TRACE_RUN_F_JSON 0x1u  /* the explanation as one JSON object */

/* String attributes: set with k8snet_trace_set_str() (replaced) or, for the
 * lists, added to with k8snet_trace_add_str(). */
#define K8SNET_TRACE_CLUSTER_DOMAIN 0u /* str: default "cluster.local" */
#define K8SNET_TRACE_NODE_NAME      1u /* str: the node external traffic enters
					 (default: the source pod's node) */
#define K8SNET_TRACE_CLUSTER_CIDR   2u /* str list: pod CIDRs; other sources of
					 ClusterIP traffic are masqueraded */
#define K8SNET_TRACE_NODE_IP        3u /* str list: the entry node's addresses
					 (NodePorts answer there) */
/* Integer attributes (k8snet_trace_set_u32()). */
#define K8SNET_TRACE_FLAGS          4u /* K8SNET_TRACE_CFG_* */

#define K8SNET_TRACE_F_MASQUERADE_ALL 0x1u /* the proxy masquerades all service traffic */

K8SNET_EXPORT int k8snet_trace_new(struct k8snet_ctx *ctx, struct k8snet_trace **ret);
K8SNET_EXPORT struct k8snet_trace *k8snet_trace_free(struct k8snet_trace *t);
/* Add or replace the objects of a JSON document; kinds other than the five
 * above are skipped.  All or nothing per layer. */
K8SNET_EXPORT int k8snet_trace_load_json(struct k8snet_trace *t, const char *json, size_t len);
K8SNET_EXPORT int k8snet_trace_set_str(struct k8snet_trace *t, uint32_t attr, const char *value);
K8SNET_EXPORT int k8snet_trace_add_str(struct k8snet_trace *t, uint32_t attr, const char *value);
K8SNET_EXPORT int k8snet_trace_set_u32(struct k8snet_trace *t, uint32_t attr, uint32_t value);

/* Explain with a policy database or a proxy the caller keeps up to date
 * (k8snet-agent's, a test's) instead of the trace's own: borrowed, it must
 * outlive the trace and use the same context.  Documents loaded afterwards
 * go into them.  A borrowed proxy's address index is rebuilt at every run. */
K8SNET_EXPORT int k8snet_trace_use_policy_db(struct k8snet_trace *t, struct k8snet_policy_db *db);
K8SNET_EXPORT int k8snet_trace_use_proxy(struct k8snet_trace *t, struct k8snet_proxy *proxy);

/* Follow a new connection.  from: "NAMESPACE/POD" or an address.  to:
 * "NAMESPACE/POD", an address, "svc:NAMESPACE/NAME" or a DNS name as the
 * source pod would type it ("web", "web.prod", "web.prod.svc.cluster.local").
 * protocol: "TCP", "UDP" or "SCTP".  Returns K8SNET_TRACE_ALLOW, _DENY or
 * _MIXED and, when ret_text is not NULL, the explanation (first line the
 * answer, then one line per hop; or JSON with K8SNET_TRACE_RUN_F_JSON), freed
 * with k8snet_free(). */
K8SNET_EXPORT int k8snet_trace_run(struct k8snet_trace *t, const char *from, const char *to,
				   const char *protocol, uint32_t port, uint32_t flags,
				   char **ret_text);

#ifdef __cplusplus
}
#endif

#endif
