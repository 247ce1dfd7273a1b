/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reaching a pod's namespace: enter it only to open a socket there. */
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "link/internal.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int link_rtnl_open_in(struct k8snet_ctx *ctx, int netns_fd, struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int saved, r, q;

	if (!sk)
		return k8s_error(ctx, -ENOMEM, "cannot allocate rtnetlink socket");
	r = k8s_netns_enter(netns_fd, &saved);
	if (r < 0) {
		nl_socket_free(sk);
		return k8s_error(ctx, r, "cannot enter the pod network namespace: %s",
				 k8snet_strerror(r));
	}
	/* The socket stays bound to the namespace it was opened in. */
	r = nl_connect(sk, NETLINK_ROUTE);
	q = k8s_netns_leave(saved);
	if (q < 0) {
		nl_socket_free(sk);
		k8s_log(ctx, LOG_CRIT, "cannot return to the original network namespace");
		return k8s_error(ctx, q, "cannot return to the original network namespace");
	}
	if (r < 0) {
		nl_socket_free(sk);
		return k8s_error(ctx, -EIO, "cannot open rtnetlink in the pod namespace: %s",
				 nl_geterror(r));
	}
	*ret = sk;
	return 0;
}

int link_pod_open_netns(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod)
{
	struct statfs sfs;
	int fd;

	if (pod->netns_fd >= 0)
		fd = fcntl(pod->netns_fd, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(pod->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return k8s_error_at(ctx, -errno, "pod.netns", "%s: cannot open: %m",
				    pod->netns_path ? pod->netns_path : "fd");
	if (fstatfs(fd, &sfs) < 0 || (unsigned long)sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return k8s_error_at(ctx, -EINVAL, "pod.netns", "%s: not a network namespace",
				    pod->netns_path ? pod->netns_path : "fd");
	}
	return fd;
}
