/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A context bound to a throwaway namespace sees that namespace, by path and
 * by fd, and the calling thread never ends up anywhere else. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <k8snet/k8snet.h>
#include "harness.h"

static ino_t current_netns(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		TNS_FAIL("stat: %s", strerror(errno));
	return st.st_ino;
}

static char *describe(struct k8snet_ctx *ctx)
{
	char *json = NULL;
	int r = k8snet_ctx_describe(ctx, &json);

	TNS_ASSERT(r == 0, "describe: %d %s", r, k8snet_ctx_get_error(ctx));
	return json;
}

int main(void)
{
	struct k8snet_ctx *ctx;
	const char *ns;
	ino_t home;
	char *json;
	int fd, r;

	tns_require_root();
	ns = tns_add("ctx");
	home = current_netns();

	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx_new");
	TNS_ASSERT(k8snet_ctx_set_netns_path(ctx, tns_path(ns)) == 0, "%s", k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_ctx_connect(ctx) == 0, "connect: %s", k8snet_ctx_get_error(ctx));
	TNS_ASSERT(current_netns() == home, "connect left the thread in another namespace");

	/* A fresh namespace has loopback only, and no nftables tables. */
	json = describe(ctx);
	TNS_ASSERT(strstr(json, "\"lo\"") && !strstr(json, "k8stdummy"), "%s", json);
	TNS_ASSERT(strstr(json, "\"nftables_tables\":\t[]") || strstr(json, "\"nftables_tables\": []"),
		   "%s", json);
	k8snet_free(json);

	/* Changes made in the namespace show up; the host's links do not. */
	tns_ok("ip -n %s link add k8stdummy type veth peer name k8stpeer", ns);
	tns_ok("ip -n %s addr add 192.0.2.7/24 dev k8stdummy", ns);
	tns_ok("ip netns exec %s nft add table inet k8st_probe", ns);
	json = describe(ctx);
	TNS_ASSERT(strstr(json, "k8stdummy") && strstr(json, "192.0.2.7/24") &&
		   strstr(json, "k8st_probe") && strstr(json, "\"veth\""), "%s", json);
	k8snet_free(json);
	TNS_ASSERT(current_netns() == home, "describe left the thread in another namespace");

	/* Binding by fd: the context keeps its own copy. */
	fd = open(tns_path(ns), O_RDONLY | O_CLOEXEC);
	TNS_ASSERT(fd >= 0, "open");
	TNS_ASSERT(k8snet_ctx_set_netns_fd(ctx, fd) == 0, "%s", k8snet_ctx_get_error(ctx));
	close(fd);
	json = describe(ctx);
	TNS_ASSERT(strstr(json, "k8stdummy") != NULL, "%s", json);
	k8snet_free(json);

	/* Binding fails cleanly for something that is not a namespace. */
	r = k8snet_ctx_set_netns_path(ctx, "/proc/self/cmdline");
	TNS_ASSERT(r == -EINVAL, "got %d", r);
	TNS_ASSERT(strstr(k8snet_ctx_get_error(ctx), "not a network namespace"), "%s",
		   k8snet_ctx_get_error(ctx));

	/* The namespace removed under the context: its fd keeps it alive. */
	tns_del(ns);
	json = describe(ctx);
	TNS_ASSERT(strstr(json, "k8stdummy") != NULL, "%s", json);
	k8snet_free(json);

	k8snet_ctx_free(ctx);
	TNS_ASSERT(current_netns() == home, "thread moved");
	printf("PASS: context bound by path and fd sees only its namespace\n");
	return 0;
}
