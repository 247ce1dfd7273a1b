/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet NetworkPolicy (networking.k8s.io/v1): a model of namespaces,
 * pods and policies, an evaluator that explains its verdicts, and a compiler
 * to nftables that enforces them in the kernel alone.
 *
 * The model is a database (struct k8snet_policy_db) filled from Kubernetes
 * JSON (Namespace, Pod, NetworkPolicy objects, alone or in a List, exactly as
 * `kubectl get ns,pods,networkpolicies -A -o json` prints them) or through
 * the calls below.  Input is validated as strictly as the API server does it;
 * a failed call changes nothing and leaves a message naming the field
 * ("items[2].spec.ingress[0].ports[1].endPort: ...").
 *
 * Labels are passed as text "key=value,key2=value2" ("" for none); address
 * lists as "10.0.0.5,fd00::5".  Protocols are "TCP", "UDP" or "SCTP".
 *
 * Decisions (see k8snet_policy_db_check(3)): a pod reaching itself is always
 * allowed; traffic the node itself originates (kubelet probes) is never
 * filtered; hostNetwork pods are neither isolated nor selected as peers
 * (their traffic is the node's); IPv6 neighbor discovery always passes;
 * a policy change applies to new connections (conntrack keeps the others).
 *
 * A database is used by one thread at a time, with its context.
 */
#ifndef K8SNET_POLICY_H
#define K8SNET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_policy_db;

/* Flags of k8snet_policy_db_set_pod(). */
#define K8SNET_POLICY_POD_HOST_NETWORK 0x1u

/* Results of k8snet_policy_db_check(). */
#define K8SNET_POLICY_DENY 0
#define K8SNET_POLICY_ALLOW 1

K8SNET_EXPORT int k8snet_policy_db_new(struct k8snet_ctx *ctx, struct k8snet_policy_db **ret);
K8SNET_EXPORT struct k8snet_policy_db *k8snet_policy_db_free(struct k8snet_policy_db *db);

/* Add or replace the objects of a JSON document (Namespace, Pod,
 * NetworkPolicy; other kinds are skipped).  All or nothing. */
K8SNET_EXPORT int k8snet_policy_db_load_json(struct k8snet_policy_db *db, const char *json,
					     size_t len);
/* Add or replace a namespace; kubernetes.io/metadata.name is implied. */
K8SNET_EXPORT int k8snet_policy_db_set_namespace(struct k8snet_policy_db *db, const char *name,
						 const char *labels);
/* Add or replace a pod (its container ports are then none); node may be NULL. */
K8SNET_EXPORT int k8snet_policy_db_set_pod(struct k8snet_policy_db *db, const char *ns,
					   const char *name, const char *labels,
					   const char *ips, const char *node, uint32_t flags);
/* Declare a container port of a pod; port_name may be NULL. */
K8SNET_EXPORT int k8snet_policy_db_add_pod_port(struct k8snet_policy_db *db, const char *ns,
						const char *pod, const char *port_name,
						const char *protocol, uint32_t port);
/* Remove an object: kind "Namespace" (ns NULL), "Pod" or "NetworkPolicy". */
K8SNET_EXPORT int k8snet_policy_db_delete(struct k8snet_policy_db *db, const char *kind,
					  const char *ns, const char *name);

/* Judge a new connection.  from and to are "NAMESPACE/POD" or an address;
 * returns K8SNET_POLICY_ALLOW or K8SNET_POLICY_DENY, and when ret_reasons
 * is not NULL, the reasons as lines of text (free with k8snet_free()). */
K8SNET_EXPORT int k8snet_policy_db_check(struct k8snet_policy_db *db, const char *from,
					 const char *to, const char *protocol, uint32_t port,
					 char **ret_reasons);

/* The nftables ruleset that enforces the model for the pods of node, as nft
 * text with comments naming policy and rule (free with k8snet_free()). */
K8SNET_EXPORT int k8snet_policy_db_render(struct k8snet_policy_db *db, const char *node,
					  char **ret_text);
/* Program that ruleset into the context's namespace in one atomic batch;
 * after the first call, only the difference is sent.  Success means the
 * kernel acknowledged the whole batch.  After a failure, or when the table
 * was changed by another program (read back when someone else committed),
 * the next sync replaces the table in one transaction. */
K8SNET_EXPORT int k8snet_policy_db_sync(struct k8snet_policy_db *db, const char *node);
/* The same, replacing the table whole (a periodic full resync). */
K8SNET_EXPORT int k8snet_policy_db_sync_full(struct k8snet_policy_db *db, const char *node);

/* Verdict logging through NFLOG (nft "log group"), read by k8snet_observe:
 * K8SNET_POLICY_F_LOG_DENIED logs new connections NetworkPolicy drops, at most
 * rate per second (burst 5) per isolating chain; K8SNET_POLICY_F_LOG_ALLOWED
 * logs new connections a rule admits (not limited: one message per new
 * connection).  nflog_group 0 means 100, rate 0 means 10.  A policy with the
 * annotation k8snet.io/log-verdicts ("denied", "allowed", "denied,allowed")
 * turns it on for the pods it isolates whatever the node's setting.  Takes
 * effect at the next sync. */
#define K8SNET_POLICY_F_LOG_DENIED  0x1u
#define K8SNET_POLICY_F_LOG_ALLOWED 0x2u
#define K8SNET_POLICY_F_COUNT       0x4u  /* named counters per policy, allowed and denied */
K8SNET_EXPORT int k8snet_policy_db_set_log(struct k8snet_policy_db *db, uint32_t flags,
					   uint32_t nflog_group, uint32_t rate);
/* With K8SNET_POLICY_F_COUNT: what the kernel counted for policy ns/name in the
 * context's namespace, in its named counters pol/NS/NAME/allowed and
 * /denied (they survive rule rewrites and full syncs): packets and bytes of
 * new connections its rules admitted, and of those dropped on pods it
 * isolates (a drop counts for every policy isolating the pod).  Any of the
 * pointers may be NULL. */
K8SNET_EXPORT int k8snet_policy_db_get_counters(struct k8snet_policy_db *db, const char *ns,
						const char *name, uint64_t *allowed_packets,
						uint64_t *allowed_bytes, uint64_t *denied_packets,
						uint64_t *denied_bytes);

/* Does a label set ("a=b,c=d") match a selector in kubectl syntax
 * ("a=b,c!=d,e in (x,y),!f")?  1 yes, 0 no, negative on a bad selector. */
K8SNET_EXPORT int k8snet_policy_selector_match(struct k8snet_ctx *ctx, const char *selector,
					       const char *labels);

#ifdef __cplusplus
}
#endif

#endif
