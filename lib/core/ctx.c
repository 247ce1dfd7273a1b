/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: which namespace we act in, its sockets, logging and errors. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "core/internal.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

K8SNET_EXPORT int k8snet_ctx_new(struct k8snet_ctx **ret)
{
	struct k8snet_ctx *ctx;
	int fd;

	if (!ret)
		return -EINVAL;
	fd = k8s_netns_open_current();
	if (fd < 0)
		return fd;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(fd);
		return -ENOMEM;
	}
	ctx->n_ref = 1;
	ctx->pid = getpid();
	ctx->owner_mark = k8s_owner_mark_new();
	ctx->netns_fd = fd;
	ctx->log_priority = LOG_ERR;
	*ret = ctx;
	return 0;
}

/* Every object made on a context holds a reference to it, so a caller that
 * drops its own (k8snet_ctx_free or _unref) before freeing the objects
 * leaves them working; the context goes with its last reference.  A
 * context and its objects are used by one thread at a time, but threads
 * may free objects of one context at once: the count is atomic. */
K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_ref(struct k8snet_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->n_ref, 1, __ATOMIC_RELAXED);
	return ctx;
}

K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_unref(struct k8snet_ctx *ctx)
{
	if (!ctx || __atomic_sub_fetch(&ctx->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	k8s_ctx_disconnect(ctx);
	close(ctx->netns_fd);
	k8s_owner_mark_free(ctx->owner_mark);
	free(ctx->err_msg);
	free(ctx->err_path);
	free(ctx);
	return NULL;
}

K8SNET_EXPORT struct k8snet_ctx *k8snet_ctx_free(struct k8snet_ctx *ctx)
{
	return k8snet_ctx_unref(ctx);
}

/* One page per context, which the kernel hands to a child zeroed: the
 * check is then a memory read, where getpid() is a system call (glibc
 * stopped caching it in 2.25).  NULL when the kernel predates
 * MADV_WIPEONFORK (EINVAL before 4.14): the caller compares pids. */
const uint8_t *k8s_owner_mark_new(void)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *page = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);

	if (page == MAP_FAILED)
		return NULL;
#ifdef MADV_WIPEONFORK
	if (madvise(page, size, MADV_WIPEONFORK) == 0) {
		page[0] = 1;
		return page;
	}
#endif
	munmap(page, size);
	return NULL;
}

void k8s_owner_mark_free(const uint8_t *mark)
{
	if (mark)
		munmap((void *)mark, (size_t)sysconf(_SC_PAGESIZE));
}

int k8s_ctx_foreign_error(const struct k8snet_ctx *ctx)
{
	/* The child's own copy of the context holds the message. */
	return k8s_error((struct k8snet_ctx *)ctx, -ECHILD,
			 "this context was made by process %ld before a fork(): "
			 "make a new context in this process", (long)ctx->pid);
}

#define FOREIGN_OBJECT "%s: this object was made by process %ld before a fork(): " \
		       "make a new one in this process"

int k8s_pid_foreign_error(const struct k8snet_ctx *ctx, char **slot, pid_t pid,
			  const char *what)
{
	if (ctx)
		return k8s_error((struct k8snet_ctx *)ctx, -ECHILD, FOREIGN_OBJECT, what, (long)pid);
	if (slot)
		return k8s_slot_error(slot, -ECHILD, FOREIGN_OBJECT, what, (long)pid);
	return -ECHILD;
}

int k8s_ctx_check_process(struct k8snet_ctx *ctx)
{
	return k8s_ctx_is_foreign(ctx) ? k8s_ctx_foreign_error(ctx) : 0;
}

void k8s_ctx_disconnect(struct k8snet_ctx *ctx)
{
	if (ctx->rtnl) {
		nl_socket_free(ctx->rtnl);
		ctx->rtnl = NULL;
	}
	if (ctx->nfnl) {
		mnl_socket_close(ctx->nfnl);
		ctx->nfnl = NULL;
	}
	/* A new socket, perhaps in another namespace: nothing carries over. */
	ctx->nfnl_acks_set = false;
	ctx->nfnl_unread = false;
	ctx->nfnl_sndbuf = ctx->nfnl_rcvbuf = 0;
	ctx->nft_own_n = ctx->nft_own_pos = 0;
}

static int check_is_netns(struct k8snet_ctx *ctx, int fd, const char *what)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return k8s_error(ctx, -errno, "%s: %m", what);
	/* /proc/PID/ns/net lives on nsfs; a bind mount of it keeps that type. */
	if ((unsigned long)sfs.f_type != NSFS_MAGIC)
		return k8s_error(ctx, -EINVAL, "%s: not a network namespace", what);
	return 0;
}

static int ctx_adopt_netns(struct k8snet_ctx *ctx, int fd)
{
	k8s_ctx_disconnect(ctx);
	close(ctx->netns_fd);
	ctx->netns_fd = fd;
	return 0;
}

K8SNET_EXPORT int k8snet_ctx_set_netns_path(struct k8snet_ctx *ctx, const char *path)
{
	int fd, r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, path && *path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return k8s_error(ctx, -errno, "%s: cannot open network namespace: %m", path);
	r = check_is_netns(ctx, fd, path);
	if (r < 0) {
		close(fd);
		return r;
	}
	return ctx_adopt_netns(ctx, fd);
}

K8SNET_EXPORT int k8snet_ctx_set_netns_fd(struct k8snet_ctx *ctx, int fd)
{
	int copy, r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, fd >= 0);
	r = check_is_netns(ctx, fd, "netns fd");
	if (r < 0)
		return r;
	/* The caller keeps its fd; we keep our own copy. */
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return k8s_error(ctx, -errno, "cannot duplicate netns fd: %m");
	return ctx_adopt_netns(ctx, copy);
}

K8SNET_EXPORT int k8snet_ctx_get_netns_fd(const struct k8snet_ctx *ctx)
{
	K8S_FORK_GUARD_CTX(ctx);
	return ctx ? ctx->netns_fd : -EINVAL;
}

K8SNET_EXPORT int k8snet_ctx_set_log_fn(struct k8snet_ctx *ctx, k8snet_log_fn fn, void *userdata)
{
	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
	return 0;
}

K8SNET_EXPORT int k8snet_ctx_set_log_priority(struct k8snet_ctx *ctx, int priority)
{
	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, priority >= LOG_EMERG && priority <= LOG_DEBUG);
	ctx->log_priority = priority;
	return 0;
}

K8SNET_EXPORT int k8snet_ctx_get_log_priority(const struct k8snet_ctx *ctx)
{
	K8S_FORK_GUARD_CTX(ctx);
	return ctx ? ctx->log_priority : -EINVAL;
}

static int open_rtnl(struct k8snet_ctx *ctx, void *userdata)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return k8s_error(ctx, -ENOMEM, "cannot allocate rtnetlink socket");
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return k8s_error(ctx, -EIO, "cannot open rtnetlink socket: %s", nl_geterror(r));
	}
	/* Large dumps and batches: avoid ENOBUFS on busy nodes. */
	nl_socket_set_buffer_size(sk, 4 << 20, 4 << 20);
	ctx->rtnl = sk;
	return 0;
}

static int open_nfnl(struct k8snet_ctx *ctx, void *userdata)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);

	if (!nl)
		return k8s_error(ctx, -errno, "cannot open nfnetlink socket: %m");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(nl);
		return k8s_error(ctx, r, "cannot bind nfnetlink socket: %s", k8snet_strerror(r));
	}
	ctx->nfnl = nl;
	ctx->nfnl_portid = mnl_socket_get_portid(nl);
	return 0;
}

int k8s_ctx_rtnl(struct k8snet_ctx *ctx, struct nl_sock **ret)
{
	int r = k8s_ctx_check_process(ctx);

	if (r < 0) {
		*ret = NULL;
		return r;
	}
	if (!ctx->rtnl)
		r = k8s_ctx_in_netns(ctx, open_rtnl, NULL);
	*ret = ctx->rtnl;
	return r;
}

int k8s_ctx_nfnl(struct k8snet_ctx *ctx, struct mnl_socket **ret)
{
	int r = k8s_ctx_check_process(ctx);

	if (r < 0) {
		*ret = NULL;
		return r;
	}
	if (!ctx->nfnl)
		r = k8s_ctx_in_netns(ctx, open_nfnl, NULL);
	*ret = ctx->nfnl;
	return r;
}

K8SNET_EXPORT int k8snet_ctx_connect(struct k8snet_ctx *ctx)
{
	struct nl_sock *rt;
	struct mnl_socket *nf;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	r = k8s_ctx_rtnl(ctx, &rt);
	if (r < 0)
		return r;
	return k8s_ctx_nfnl(ctx, &nf);
}
