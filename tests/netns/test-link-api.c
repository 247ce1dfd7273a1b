/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The link API against a real kernel: a pod namespace given by fd, the
 * result matching what the kernel holds, check's answers, the bridge and
 * VXLAN refusing foreign links, sysctls only in the node, and the calling
 * thread never left in another namespace. */
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

static char *read_sysctl(const char *path)
{
	static char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

#define OK(ctx, call) TNS_ASSERT((call) >= 0, "%s: %s", #call, k8snet_ctx_get_error(ctx))

int main(void)
{
	static const char *const gw[] = { "10.99.0.1/24" };
	struct k8snet_link_result *res = NULL;
	struct k8snet_link_pod *pod;
	struct k8snet_ctx *ctx;
	const char *node, *podns;
	char *host_forward, *host_name = NULL;
	ino_t home;
	int fd, r;

	tns_require_root();
	node = tns_add("lnode");
	podns = tns_add("lpod");
	home = current_netns();
	host_forward = strdup(read_sysctl("/proc/sys/net/ipv4/ip_forward"));

	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	OK(ctx, k8snet_ctx_set_netns_path(ctx, tns_path(node)));
	OK(ctx, k8snet_link_node_setup(ctx, K8SNET_LINK_NODE_F_IPV6));
	TNS_ASSERT(tns_exec(node, "test $(cat /proc/sys/net/ipv4/ip_forward) = 1") == 0, "ip_forward");
	TNS_ASSERT(tns_exec(node, "test $(cat /proc/sys/net/ipv6/conf/all/forwarding) = 1") == 0, "fwd6");
	TNS_ASSERT(strcmp(read_sysctl("/proc/sys/net/ipv4/ip_forward"), host_forward) == 0,
		   "node setup changed the host's ip_forward");

	TNS_ASSERT(k8snet_link_bridge_ensure(ctx, "br0", 1400, gw, 1) == 1, "bridge created: %s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_link_bridge_ensure(ctx, "br0", 1400, gw, 1) == 0, "bridge existed");
	TNS_ASSERT(tns_exec(node, "ip link show br0 | grep -q 'mtu 1400'") == 0, "bridge mtu");
	r = k8snet_link_bridge_ensure(ctx, "lo", 0, NULL, 0);
	TNS_ASSERT(r == -EEXIST && strstr(k8snet_ctx_get_error(ctx), "refusing"), "lo: %d %s", r,
		   k8snet_ctx_get_error(ctx));

	/* The pod namespace by fd. */
	fd = open(tns_path(podns), O_RDONLY | O_CLOEXEC);
	TNS_ASSERT(fd >= 0, "open");
	TNS_ASSERT(k8snet_link_pod_new(&pod) == 0, "pod");
	TNS_ASSERT(k8snet_link_pod_set_netns_fd(pod, fd) == 0, "fd");
	close(fd);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, "api-test");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_BRIDGE, "br0");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_MAC, "02:11:22:33:44:55");
	k8snet_link_pod_add_address(pod, "10.99.0.7/24", "10.99.0.1");
	k8snet_link_pod_add_route(pod, "0.0.0.0/0", NULL);   /* as IPAMs return it */
	k8snet_link_pod_add_route(pod, "10.96.0.1/12", NULL);
	OK(ctx, k8snet_link_pod_attach(ctx, pod, &res));
	TNS_ASSERT(current_netns() == home, "attach left the thread elsewhere");
	TNS_ASSERT(k8snet_link_result_get_int(res, 2, K8SNET_LINK_IFACE_MTU) == 1400, "mtu from bridge");
	TNS_ASSERT(strcmp(k8snet_link_result_get_str(res, 2, K8SNET_LINK_IFACE_MAC), "02:11:22:33:44:55") == 0,
		   "pod mac");
	TNS_ASSERT(tns_exec(podns, "ip link show eth0 | grep -q '02:11:22:33:44:55.*' && "
			    "ip link show eth0 | grep -q 'mtu 1400'") == 0, "pod eth0 as reported");
	TNS_ASSERT(tns_exec(node, "ip link show %s | grep -q '%s'",
			    k8snet_link_result_get_str(res, 1, K8SNET_LINK_IFACE_NAME),
			    k8snet_link_result_get_str(res, 1, K8SNET_LINK_IFACE_MAC)) == 0,
		   "host end as reported");
	TNS_ASSERT(k8snet_link_host_ifname("api-test", "eth0", &host_name) == 0 &&
		   strcmp(host_name, k8snet_link_result_get_str(res, 1, K8SNET_LINK_IFACE_NAME)) == 0,
		   "host name is the deterministic one");
	TNS_ASSERT(tns_exec(podns, "ip link show lo | grep -q UP") == 0, "lo up");
	TNS_ASSERT(tns_exec(podns, "ip route | grep -q '^10.96.0.0/12 via 10.99.0.1'") == 0, "route");
	TNS_ASSERT(k8snet_link_result_get_count(res, K8SNET_LINK_RESULT_ROUTES) == 2, "routes");
	k8snet_link_result_free(res);

	OK(ctx, k8snet_link_pod_check(ctx, pod));
	TNS_ASSERT(tns_exec(podns, "ip addr del 10.99.0.7/24 dev eth0") == 0, "del addr");
	r = k8snet_link_pod_check(ctx, pod);
	TNS_ASSERT(r == -ESTALE && strstr(k8snet_ctx_get_error(ctx), "address 10.99.0.7/24 missing"),
		   "check: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_link_pod_detach(ctx, pod) == 1, "detach removes");
	TNS_ASSERT(k8snet_link_pod_detach(ctx, pod) == 0, "detach again: nothing");
	r = k8snet_link_pod_check(ctx, pod);
	TNS_ASSERT(r == -ENOENT, "check after detach: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(current_netns() == home, "check left the thread elsewhere");

	/* VXLAN: created once, verified after; other kinds and VNIs refused. */
	TNS_ASSERT(k8snet_link_vxlan_ensure(ctx, "vx0", 7, 0, "192.0.2.1", 0) == 1, "vxlan: %s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_link_vxlan_ensure(ctx, "vx0", 7, 0, "192.0.2.1", 0) == 0, "vxlan again");
	TNS_ASSERT(tns_exec(node, "ip -d link show vx0 | grep -q 'vxlan id 7.*dstport 4789' && "
			    "ip link show vx0 | grep -q 0a:58:c0:00:02:01") == 0, "vxlan attrs");
	TNS_ASSERT(k8snet_link_vxlan_ensure(ctx, "vx0", 8, 0, "192.0.2.1", 0) == -EEXIST, "vni");
	TNS_ASSERT(k8snet_link_vxlan_ensure(ctx, "br0", 7, 0, "192.0.2.1", 0) == -EEXIST, "kind");
	r = k8snet_link_peer_add(ctx, K8SNET_LINK_PEER_VXLAN, "10.98.0.0/24", "192.0.2.2", "nope0", NULL);
	TNS_ASSERT(r == -ENODEV, "missing dev: %d", r);
	r = k8snet_link_peer_del(ctx, K8SNET_LINK_PEER_VXLAN, "10.98.0.0/24", "192.0.2.2", "nope0", NULL);
	TNS_ASSERT(r == 0, "del with the device gone: %d %s", r, k8snet_ctx_get_error(ctx));
	r = k8snet_link_peer_add(ctx, K8SNET_LINK_PEER_VXLAN, "10.98.0.0/24", "192.0.2.2", "br0", NULL);
	TNS_ASSERT(r == -EINVAL && strstr(k8snet_ctx_get_error(ctx), "not a vxlan"), "kind: %d", r);
	r = k8snet_link_peer_add(ctx, K8SNET_LINK_PEER_HOST_GW, "10.98.0.0/24", "fd00::2", NULL, NULL);
	TNS_ASSERT(r == -EINVAL && strcmp(k8snet_ctx_get_error_path(ctx), "node_ip") == 0, "family");
	TNS_ASSERT(current_netns() == home, "left the thread elsewhere");

	k8snet_free(host_name);
	free(host_forward);
	k8snet_link_pod_free(pod);
	k8snet_ctx_free(ctx);
	puts("PASS");
	return 0;
}
