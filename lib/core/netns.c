/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Moving the calling thread between network namespaces, and always back. */
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"

int k8s_netns_open_current(void)
{
	/* thread-self, not self: namespaces are per thread. */
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

bool k8s_netns_is_current(int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || stat("/proc/thread-self/ns/net", &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int k8s_netns_enter(int fd, int *saved_fd)
{
	int saved;

	*saved_fd = -1;
	if (k8s_netns_is_current(fd))
		return 0;
	saved = k8s_netns_open_current();
	if (saved < 0)
		return saved;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int r = -errno;

		close(saved);
		return r;
	}
	*saved_fd = saved;
	return 0;
}

int k8s_netns_leave(int saved_fd)
{
	int r = 0;

	if (saved_fd < 0)
		return 0;
	if (setns(saved_fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(saved_fd);
	return r;
}

int k8s_ctx_in_netns(struct k8snet_ctx *ctx, int (*fn)(struct k8snet_ctx *, void *),
		     void *userdata)
{
	int saved, r, q;

	r = k8s_ctx_check_process(ctx);
	if (r < 0)
		return r;
	r = k8s_netns_enter(ctx->netns_fd, &saved);
	if (r < 0)
		return k8s_error(ctx, r, "cannot enter network namespace: %s",
				 k8snet_strerror(r));
	r = fn(ctx, userdata);
	q = k8s_netns_leave(saved);
	if (q < 0) {
		k8s_log(ctx, LOG_CRIT, "cannot return to the original network namespace");
		return k8s_error(ctx, q, "cannot return to the original network namespace: %s",
				 k8snet_strerror(q));
	}
	return r;
}
