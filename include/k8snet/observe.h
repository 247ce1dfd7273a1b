/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet observe: live NetworkPolicy verdicts.  An observer subscribes to
 * the NFLOG group that verdict logging writes to (k8snet_policy_db_set_log())
 * in its context's network namespace, and decodes each logged packet into an
 * event: when, source and destination (as "NAMESPACE/POD" or "svc:NS/NAME"
 * when the objects it was given know the address, else the address), port,
 * protocol, verdict ("deny" or "allow"), direction ("ingress" or "egress")
 * and the policies that decided it.
 *
 * The objects can be replaced while the observer runs
 * (k8snet_observer_set_json()), e.g. when the files they come from change.
 *
 * Events are read one at a time with k8snet_observer_next(); their strings
 * stay valid until the next call.  Memory does not grow with the number of
 * events.  An observer is used by one thread at a time, with its context.
 */
#ifndef K8SNET_OBSERVE_H
#define K8SNET_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_observer;

/* Flags of k8snet_observer_new(). */
#define K8SNET_OBSERVER_F_NO_SOCKET 0x1u /* decode fed buffers only (tests, benchmarks) */

/* Event strings (k8snet_observer_get_str()). */
#define K8SNET_EVENT_SOURCE      0u /* "NS/POD", "svc:NS/NAME" or the address */
#define K8SNET_EVENT_DESTINATION 1u
#define K8SNET_EVENT_PROTOCOL    2u /* "TCP", "UDP", "SCTP", "ICMP" or the number */
#define K8SNET_EVENT_VERDICT     3u /* "deny" or "allow" */
#define K8SNET_EVENT_DIRECTION   4u /* "ingress" or "egress" */
#define K8SNET_EVENT_POLICY      5u /* "NS/NAME[, NS/NAME...]", with the rule for allow */
#define K8SNET_EVENT_SOURCE_IP   6u
#define K8SNET_EVENT_DEST_IP     7u
/* Event numbers (k8snet_observer_get_u64()). */
#define K8SNET_EVENT_TIME_NS     8u /* CLOCK_REALTIME nanoseconds */
#define K8SNET_EVENT_PORT        9u /* destination port, 0 when none */
#define K8SNET_EVENT_SOURCE_PORT 10u

K8SNET_EXPORT int k8snet_observer_new(struct k8snet_ctx *ctx, uint32_t nflog_group,
				      uint32_t flags, struct k8snet_observer **ret);
K8SNET_EXPORT struct k8snet_observer *k8snet_observer_free(struct k8snet_observer *obs);
/* Namespaces, Pods, Services (and the other kinds k8snet_trace_load_json()
 * takes) to name addresses with. */
K8SNET_EXPORT int k8snet_observer_load_json(struct k8snet_observer *obs, const char *json,
					    size_t len);
/* Replace every object loaded so far with those of the n documents docs[i]
 * of lens[i] bytes (each as k8snet_observer_load_json() takes it), for a
 * long-lived observer whose object files change.  The documents are loaded
 * into a new set that names the events decoded from then on; if one is
 * refused, the error's path starts with "docs[I]" and the previous objects
 * stay.  n == 0 drops every object.  The socket, the events not read yet
 * and the lost count are kept. */
K8SNET_EXPORT int k8snet_observer_set_json(struct k8snet_observer *obs, const char *const *docs,
					   const size_t *lens, size_t n);
/* The socket, to poll() for readability; -EBADF without one. */
K8SNET_EXPORT int k8snet_observer_get_fd(const struct k8snet_observer *obs);
/* The next event: 1 when there is one, 0 after timeout_ms (0: do not wait,
 * -1: wait for ever), or a negative errno value. */
K8SNET_EXPORT int k8snet_observer_next(struct k8snet_observer *obs, int timeout_ms);
/* Give the observer netlink messages to decode instead of its socket (what
 * recv() would return); the following k8snet_observer_next() calls return
 * their events. */
K8SNET_EXPORT int k8snet_observer_feed(struct k8snet_observer *obs, const void *buf, size_t len);
K8SNET_EXPORT const char *k8snet_observer_get_str(const struct k8snet_observer *obs, uint32_t attr);
K8SNET_EXPORT uint64_t k8snet_observer_get_u64(const struct k8snet_observer *obs, uint32_t attr);
/* Events the kernel could not queue (the socket's buffer was full). */
K8SNET_EXPORT uint64_t k8snet_observer_get_lost(const struct k8snet_observer *obs);

#ifdef __cplusplus
}
#endif

#endif
