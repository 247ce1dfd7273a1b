/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet common API: the context, network namespaces, errors, logging.
 *
 * Conventions shared by every layer:
 *  - functions return 0 (or a count) on success and a negative errno on
 *    failure; the context then holds a message naming the bad field;
 *  - objects are opaque, made by k8snet_*_new(..., &ret) and released by
 *    k8snet_*_free(), which accepts NULL and returns NULL;
 *  - a context is used by one thread at a time; no call leaves the calling
 *    thread in another network namespace;
 *  - after fork(), calls in the child that would reach the kernel or the
 *    state files through a context made by the parent return -ECHILD: the
 *    child makes its own context.
 */
#ifndef K8SNET_COMMON_H
#define K8SNET_COMMON_H

#include <stdint.h>

#include <k8snet/version.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k8snet_ctx;

/* Log priorities are syslog's: 3 (LOG_ERR) .. 7 (LOG_DEBUG). */
typedef void (*k8snet_log_fn)(void *userdata, int priority, const char *message);

K8SNET_EXPORT int k8snet_ctx_new(struct k8snet_ctx **ret);
/* Drops the caller's reference.  Every object made on the context holds one
 * of its own, so objects stay usable after the caller lets the context go;
 * the context is freed with its last reference.  Same as k8snet_ctx_unref. */
K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_free(struct k8snet_ctx *ctx);
/* One more reference (returns ctx), and one less (returns NULL); both
 * accept NULL. */
K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_ref(struct k8snet_ctx *ctx);
K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_unref(struct k8snet_ctx *ctx);

/* Bind the context to a network namespace (default: the caller's namespace at
 * k8snet_ctx_new() time).  Closes any netlink socket opened before. */
K8SNET_EXPORT int k8snet_ctx_set_netns_path(struct k8snet_ctx *ctx, const char *path);
K8SNET_EXPORT int k8snet_ctx_set_netns_fd(struct k8snet_ctx *ctx, int fd);

/* The namespace file descriptor the context acts in (owned by the context). */
K8SNET_EXPORT int k8snet_ctx_get_netns_fd(const struct k8snet_ctx *ctx);

/* Open the rtnetlink and nfnetlink sockets inside the bound namespace now
 * rather than at first use. */
K8SNET_EXPORT int k8snet_ctx_connect(struct k8snet_ctx *ctx);

K8SNET_EXPORT int k8snet_ctx_set_log_fn(struct k8snet_ctx *ctx, k8snet_log_fn fn, void *userdata);
K8SNET_EXPORT int k8snet_ctx_set_log_priority(struct k8snet_ctx *ctx, int priority);
K8SNET_EXPORT int k8snet_ctx_get_log_priority(const struct k8snet_ctx *ctx);

/* The message of the last failed call on this context, "" when none.  For bad
 * input it starts with the path of the offending field:
 * "items[3].spec.ports[0].port: must be 1..65535". */
K8SNET_EXPORT const char *k8snet_ctx_get_error(const struct k8snet_ctx *ctx);
/* The path alone ("items[3].spec.ports[0].port"), or "" when the error has none. */
K8SNET_EXPORT const char *k8snet_ctx_get_error_path(const struct k8snet_ctx *ctx);
/* The negative errno of the last failed call, 0 when none. */
K8SNET_EXPORT int k8snet_ctx_get_errno(const struct k8snet_ctx *ctx);
K8SNET_EXPORT void k8snet_ctx_clear_error(struct k8snet_ctx *ctx);

/* A description of an error code; accepts -EINVAL and EINVAL alike. */
K8SNET_EXPORT const char *k8snet_strerror(int err);

/* What the context sees in its namespace, as a JSON document: its links with
 * kind, state, MTU and addresses, and the nftables tables. Free with
 * k8snet_free(). */
K8SNET_EXPORT int k8snet_ctx_describe(struct k8snet_ctx *ctx, char **ret_json);

/* ---- Addresses and CIDRs ------------------------------------------------
 * The one parser every layer uses, with the rules of libk8snet(7),
 * "Addresses and CIDRs": what inet_pton() takes, a LENGTH in decimal
 * without sign, space or leading zero.  Both return AF_INET or AF_INET6 and,
 * when ret is not NULL, the canonical text (free with k8snet_free()); or
 * -EINVAL with a message naming the text. */
K8SNET_EXPORT int k8snet_addr_parse(struct k8snet_ctx *ctx, const char *text, char **ret);
/* ADDRESS/LENGTH.  K8SNET_CIDR_F_NETWORK: a network, whose host bits are
 * cleared ("10.244.1.5/16" is 10.244.0.0/16), as the API server and
 * host-local do; without it they are kept (an interface address).
 * K8SNET_CIDR_F_ADDRESS: a bare address is a full-length prefix. */
#define K8SNET_CIDR_F_NETWORK 0x1u
#define K8SNET_CIDR_F_ADDRESS 0x2u
K8SNET_EXPORT int k8snet_cidr_parse(struct k8snet_ctx *ctx, const char *text, uint32_t flags,
				    char **ret);

/* Free memory the library handed out (strings); accepts NULL. */
K8SNET_EXPORT void k8snet_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
