/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal core API shared by every layer. Never installed. */
#ifndef K8SNET_CORE_INTERNAL_H
#define K8SNET_CORE_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <syslog.h>
#include <sys/types.h>
#include <unistd.h>

#include <k8snet/common.h>

struct nl_sock;
struct mnl_socket;

struct k8snet_ctx {
	unsigned n_ref;            /* the caller's, plus one per object made on it */
	pid_t pid;                 /* the process that made it (see k8s_ctx_check_process) */
	const uint8_t *owner_mark; /* 1 in a MADV_WIPEONFORK page: 0 in a child; NULL: compare pid */
	int netns_fd;              /* the namespace we act in; always open */
	struct nl_sock *rtnl;      /* opened inside netns_fd, lazily */
	struct mnl_socket *nfnl;   /* opened inside netns_fd, lazily */
	uint32_t nfnl_portid;
	uint32_t seq;
	/* lib/nft's settings of the nfnetlink socket, and the ruleset
	 * generations this context's own commits produced (see lib/nft/gen.c) */
	bool nfnl_acks_set;
	bool nfnl_unread;          /* answers may be left queued: drain first */
	int nfnl_sndbuf, nfnl_rcvbuf;
	int nfnl_rcvbuf_cap;       /* tests: a fixed receive buffer; 0 = sized per batch */
	uint32_t nft_own_gens[32];
	unsigned nft_own_n, nft_own_pos;

	k8snet_log_fn log_fn;
	void *log_userdata;
	int log_priority;

	int err;
	char *err_msg;
	char *err_path;
};

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
void k8s_closep(int *fd);

/* Record an error on the context and return it (a negative errno). */
int k8s_error(struct k8snet_ctx *ctx, int err, const char *fmt, ...) _printf_(3, 4);
/* The same with the path of the offending field ("spec.ports[0].port"). */
int k8s_error_at(struct k8snet_ctx *ctx, int err, const char *path,
		 const char *fmt, ...) _printf_(4, 5);
int k8s_verror_at(struct k8snet_ctx *ctx, int err, const char *path,
		  const char *fmt, va_list ap) _printf_(4, 0);
void k8s_log(struct k8snet_ctx *ctx, int priority, const char *fmt, ...) _printf_(3, 4);
/* Objects made without a context (a pod description, a Service) keep their
 * last failed call's message in a slot of their own: set it, return err. */
int k8s_slot_error(char **slot, int err, const char *fmt, ...) _printf_(3, 4);
void k8s_slot_clear(char **slot);

/* Argument checks for public entry points: log-free -EINVAL with a message. */
#define K8S_CHECK_ARG(ctx, cond)                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			return k8s_error((ctx), -EINVAL, "%s: invalid argument: %s", \
					 __func__, #cond);                     \
	} while (0)

/* Network namespaces.  k8s_netns_enter() moves the calling thread into fd and
 * saves where it was; k8s_netns_leave() always moves it back. */
int k8s_netns_enter(int fd, int *saved_fd);
int k8s_netns_leave(int saved_fd);
int k8s_netns_open_current(void);
bool k8s_netns_is_current(int fd);

/* ---- The fork rule (libk8snet(7), "Processes and fork()") -------------
 * A context, and every object, belongs to the process that made it: in a
 * child after fork() its sockets, locks and state files are the parent's.
 * Every exported function that takes one starts with a guard:
 *   K8S_FORK_GUARD_CTX(ctx)        int result, on a context (NULL passes)
 *   K8S_FORK_GUARD(obj)            int result, on an object with ->ctx
 *   K8S_FORK_GUARD_PID(obj, slot)  int result, on an object made without a
 *                                  context (->pid; slot: its message or NULL)
 *   K8S_FORK_GUARD_PID_CTX(obj, ctx)  such an object passed with a context
 * and the _OR(..., value) forms for functions that return a pointer or a
 * value: that value, with errno = ECHILD.  _free/_unref and the readers of
 * an error message have none: a child frees what it inherited. */

/* A context is checked with one memory read: the kernel wipes its mark in a
 * child (MADV_WIPEONFORK, Linux 4.14); older kernels compare getpid(). */
static inline bool k8s_ctx_is_foreign(const struct k8snet_ctx *ctx)
{
	if (ctx->owner_mark)
		return *ctx->owner_mark == 0;
	return getpid() != ctx->pid;
}

/* Objects made without a context are small and made in bulk: no page of
 * their own, they remember getpid() (a system call: 50 ns to microseconds).
 * pid 0 marks one the library made for its own use inside an object that
 * is checked already (a Service parsed from JSON into a proxy): no check. */
static inline bool k8s_pid_is_foreign(pid_t pid)
{
	return pid && getpid() != pid;
}

/* Record "made by process N before a fork()" on the context: -ECHILD. */
int k8s_ctx_foreign_error(const struct k8snet_ctx *ctx);
/* The same for an object without a context, in ctx when there is one,
 * else in the object's message slot when it has one. */
int k8s_pid_foreign_error(const struct k8snet_ctx *ctx, char **slot, pid_t pid,
			  const char *what);

#define K8S_FORK_GUARD_CTX(ctx)                                                \
	do {                                                                   \
		if ((ctx) && k8s_ctx_is_foreign(ctx))                          \
			return k8s_ctx_foreign_error(ctx);                     \
	} while (0)
#define K8S_FORK_GUARD_CTX_OR(ctx, value)                                      \
	do {                                                                   \
		if ((ctx) && k8s_ctx_is_foreign(ctx)) {                        \
			errno = -k8s_ctx_foreign_error(ctx);                   \
			return (value);                                        \
		}                                                              \
	} while (0)
#define K8S_FORK_GUARD(obj) K8S_FORK_GUARD_CTX((obj) ? (obj)->ctx : NULL)
#define K8S_FORK_GUARD_OR(obj, value) K8S_FORK_GUARD_CTX_OR((obj) ? (obj)->ctx : NULL, value)
#define K8S_FORK_GUARD_PID(obj, slot)                                          \
	do {                                                                   \
		if ((obj) && k8s_pid_is_foreign((obj)->pid))                   \
			return k8s_pid_foreign_error(NULL, slot, (obj)->pid, __func__); \
	} while (0)
/* An object without a context handed to a function of a context. */
#define K8S_FORK_GUARD_PID_CTX(obj, ctx)                                       \
	do {                                                                   \
		if ((obj) && k8s_pid_is_foreign((obj)->pid))                   \
			return k8s_pid_foreign_error(ctx, NULL, (obj)->pid, __func__); \
	} while (0)
#define K8S_FORK_GUARD_PID_OR(obj, value)                                      \
	do {                                                                   \
		if ((obj) && k8s_pid_is_foreign((obj)->pid)) {                 \
			errno = ECHILD;                                        \
			return (value);                                        \
		}                                                              \
	} while (0)

/* -ECHILD, with a message, in a child of the process that made the context:
 * its sockets and locks are the parent's, shared across fork(). */
int k8s_ctx_check_process(struct k8snet_ctx *ctx);
/* The context's mark (k8s_ctx_is_foreign): made by k8snet_ctx_new. */
const uint8_t *k8s_owner_mark_new(void);
void k8s_owner_mark_free(const uint8_t *mark);

/* Sockets bound to the context's namespace, opened on first use. */
int k8s_ctx_rtnl(struct k8snet_ctx *ctx, struct nl_sock **ret);
int k8s_ctx_nfnl(struct k8snet_ctx *ctx, struct mnl_socket **ret);
void k8s_ctx_disconnect(struct k8snet_ctx *ctx);

/* Run fn with the calling thread inside the context's namespace. */
int k8s_ctx_in_netns(struct k8snet_ctx *ctx, int (*fn)(struct k8snet_ctx *, void *),
		     void *userdata);

#endif
