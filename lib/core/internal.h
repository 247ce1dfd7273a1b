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

#include <k8snet/common.h>

struct nl_sock;
struct mnl_socket;

struct k8snet_ctx {
	unsigned n_ref;            /* the caller's, plus one per object made on it */
	pid_t pid;                 /* the process that made it (see k8s_ctx_check_process) */
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

/* -ECHILD, with a message, in a child of the process that made the context:
 * its sockets and locks are the parent's, shared across fork(). */
int k8s_ctx_check_process(struct k8snet_ctx *ctx);

/* Sockets bound to the context's namespace, opened on first use. */
int k8s_ctx_rtnl(struct k8snet_ctx *ctx, struct nl_sock **ret);
int k8s_ctx_nfnl(struct k8snet_ctx *ctx, struct mnl_socket **ret);
void k8s_ctx_disconnect(struct k8snet_ctx *ctx);

/* Run fn with the calling thread inside the context's namespace. */
int k8s_ctx_in_netns(struct k8snet_ctx *ctx, int (*fn)(struct k8snet_ctx *, void *),
		     void *userdata);

#endif
