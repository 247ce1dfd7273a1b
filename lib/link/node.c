/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The node: forwarding sysctls, and routes to other nodes' pod CIDRs, either
 * directly (host-gw) or over a VXLAN overlay the way flannel builds it. */
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "link/kernel.h"

struct sysctl_open {
	uint32_t flags;
	int fds[4];
	const char *paths[4];
	size_t n;
};

/* /proc/sys/net shows the namespace of the task that opens it: open the files
 * while inside the context's namespace, write them after coming back. */
static int sysctl_open_all(struct k8snet_ctx *ctx, void *userdata)
{
	struct sysctl_open *s = userdata;

	s->paths[s->n++] = "/proc/sys/net/ipv4/ip_forward";
	if (s->flags & K8SNET_LINK_NODE_F_IPV6)
		s->paths[s->n++] = "/proc/sys/net/ipv6/conf/all/forwarding";
	if (s->flags & K8SNET_LINK_NODE_F_BRIDGE_NF) {
		s->paths[s->n++] = "/proc/sys/net/bridge/bridge-nf-call-iptables";
		s->paths[s->n++] = "/proc/sys/net/bridge/bridge-nf-call-ip6tables";
	}
	for (size_t i = 0; i < s->n; i++) {
		s->fds[i] = open(s->paths[i], O_WRONLY | O_CLOEXEC);
		if (s->fds[i] < 0)
			return k8s_error(ctx, -errno, "%s: %m%s", s->paths[i],
					 errno == ENOENT ? " (kernel module not loaded?)" : "");
	}
	return 0;
}

K8SNET_EXPORT int k8snet_link_node_setup(struct k8snet_ctx *ctx, uint32_t flags)
{
	struct sysctl_open s = { .flags = flags, .fds = { -1, -1, -1, -1 } };
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, !(flags & ~(K8SNET_LINK_NODE_F_IPV6 | K8SNET_LINK_NODE_F_BRIDGE_NF)));
	r = k8s_ctx_in_netns(ctx, sysctl_open_all, &s);
	for (size_t i = 0; i < s.n; i++) {
		if (r == 0 && s.fds[i] >= 0 && write(s.fds[i], "1\n", 2) != 2)
			r = k8s_error(ctx, -errno, "%s: %m", s.paths[i]);
		if (s.fds[i] >= 0)
			close(s.fds[i]);
	}
	return r;
}

static int vxlan_verify(struct k8snet_ctx *ctx, struct rtnl_link *l, const char *dev, uint32_t vni)
{
	const char *kind = rtnl_link_get_type(l);
	uint32_t have = 0;

	if (!kind || strcmp(kind, "vxlan") != 0)
		return k8s_error_at(ctx, -EEXIST, "dev",
				    "%s: a link of kind %s has this name; refusing to take it over",
				    dev, kind ? kind : "device");
	if (rtnl_link_vxlan_get_id(l, &have) < 0 || have != vni)
		return k8s_error_at(ctx, -EEXIST, "vni", "%s: has VNI %u, not %u", dev, have, vni);
	return 0;
}

static int vxlan_create(struct k8snet_ctx *ctx, struct nl_sock *sk, const char *dev, uint32_t vni,
			uint32_t port, const struct link_ip *local, uint32_t mtu)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *laddr = link_ip_nl(local, false), *mac = NULL;
	uint8_t m[6];
	int r = -NLE_NOMEM;

	link_mac_from_ip(local, m);
	mac = nl_addr_build(AF_LLC, m, 6);
	if (l && laddr && mac) {
		rtnl_link_set_name(l, dev);
		rtnl_link_vxlan_set_id(l, vni);
		rtnl_link_vxlan_set_port(l, port ? port : 4789);
		rtnl_link_vxlan_set_local(l, laddr);
		/* Peers are programmed, never learnt: no flooding surprises. */
		rtnl_link_vxlan_set_learning(l, 0);
		rtnl_link_set_addr(l, mac);
		if (mtu)
			rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	}
	nl_addr_put(mac);
	nl_addr_put(laddr);
	rtnl_link_put(l);
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "dev", "%s: cannot create vxlan: %s", dev,
				    nl_geterror(r));
	return 1;
}

K8SNET_EXPORT int k8snet_link_vxlan_ensure(struct k8snet_ctx *ctx, const char *dev, uint32_t vni,
					   uint32_t port, const char *local_ip, uint32_t mtu)
{
	struct rtnl_link *l = NULL;
	struct link_ip local;
	struct nl_sock *sk;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, dev && link_ifname_valid(dev));
	K8S_CHECK_ARG(ctx, vni < (1u << 24));
	K8S_CHECK_ARG(ctx, port <= 65535);
	K8S_CHECK_ARG(ctx, mtu == 0 || (mtu >= 68 && mtu <= 65535));
	if (!local_ip || link_ip_parse(local_ip, false, &local) < 0)
		return k8s_error_at(ctx, -EINVAL, "local_ip", "%s: not an IP address",
				    local_ip ? local_ip : "(null)");
	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, dev, &l);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return vxlan_create(ctx, sk, dev, vni, port, &local, mtu);
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "dev", "%s: %s", dev, nl_geterror(r));
	r = vxlan_verify(ctx, l, dev, vni);
	if (r == 0 && !(rtnl_link_get_flags(l) & IFF_UP)) {
		struct rtnl_link *ch = rtnl_link_alloc();

		r = -NLE_NOMEM;
		if (ch) {
			rtnl_link_set_flags(ch, IFF_UP);
			r = rtnl_link_change(sk, l, ch, 0);
			rtnl_link_put(ch);
		}
		if (r < 0)
			r = k8s_error_at(ctx, link_nlerr(r), "dev", "%s: cannot bring up: %s", dev,
					 nl_geterror(r));
	}
	rtnl_link_put(l);
	return r;
}

/* A peer, parsed: everything checked before the first kernel change. */
struct peer {
	uint32_t mode;
	struct link_ip cidr, net, node;
	uint8_t mac[6];
	int ifindex;
};

static int vxlan_ifindex(struct k8snet_ctx *ctx, struct nl_sock *sk, const char *dev, int *ret)
{
	struct rtnl_link *l = NULL;
	const char *kind;
	int r = rtnl_link_get_kernel(sk, 0, dev, &l);

	if (r < 0)
		return k8s_error_at(ctx, -ENODEV, "dev", "%s: no such device", dev);
	kind = rtnl_link_get_type(l);
	if (!kind || strcmp(kind, "vxlan") != 0) {
		rtnl_link_put(l);
		return k8s_error_at(ctx, -EINVAL, "dev", "%s: not a vxlan device", dev);
	}
	*ret = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

static int peer_parse(struct k8snet_ctx *ctx, struct nl_sock *sk, uint32_t mode,
		      const char *pod_cidr, const char *node_ip, const char *dev,
		      const char *vtep_mac, struct peer *p)
{
	K8S_CHECK_ARG(ctx, mode == K8SNET_LINK_PEER_HOST_GW || mode == K8SNET_LINK_PEER_VXLAN);
	p->mode = mode;
	if (!pod_cidr || link_ip_parse(pod_cidr, true, &p->cidr) < 0)
		return k8s_error_at(ctx, -EINVAL, "pod_cidr", "%s: not a CIDR",
				    pod_cidr ? pod_cidr : "(null)");
	link_ip_network(&p->cidr, &p->net);
	p->net.prefix = p->cidr.prefix;
	if (!node_ip || link_ip_parse(node_ip, false, &p->node) < 0)
		return k8s_error_at(ctx, -EINVAL, "node_ip", "%s: not an IP address",
				    node_ip ? node_ip : "(null)");
	if (mode == K8SNET_LINK_PEER_HOST_GW) {
		if (p->node.family != p->cidr.family)
			return k8s_error_at(ctx, -EINVAL, "node_ip",
					    "%s: host-gw needs a node IP of the pod CIDR's family",
					    node_ip);
		return 0;
	}
	if (vtep_mac && link_mac_parse(vtep_mac, p->mac) < 0)
		return k8s_error_at(ctx, -EINVAL, "vtep_mac", "%s: not a unicast MAC", vtep_mac);
	if (!vtep_mac)
		link_mac_from_ip(&p->node, p->mac);
	if (!dev || !link_ifname_valid(dev))
		return k8s_error_at(ctx, -EINVAL, "dev", "vxlan mode needs the vxlan device");
	return vxlan_ifindex(ctx, sk, dev, &p->ifindex);
}

/* FDB (family AF_BRIDGE, NTF_SELF): frames to the peer's VTEP MAC go in
 * UDP to the peer's node IP.  Neighbour: the peer's VTEP address (the first
 * address of its pod CIDR) resolves to that MAC, so no ARP crosses the
 * overlay. */
static int neigh_change(struct nl_sock *sk, bool add, const struct peer *p, bool fdb)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, p->mac, 6);
	struct link_ip vtep = p->net;
	struct nl_addr *dst;
	int r = -NLE_NOMEM;

	vtep.prefix = vtep.family == AF_INET ? 32 : 128;
	dst = link_ip_nl(fdb ? &p->node : &vtep, false);
	if (n && mac && dst) {
		rtnl_neigh_set_ifindex(n, p->ifindex);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, mac);
		if (fdb) {
			rtnl_neigh_set_family(n, AF_BRIDGE);
			rtnl_neigh_set_flags(n, NTF_SELF);
		}
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		r = add ? rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE)
			: rtnl_neigh_delete(sk, n, 0);
	}
	nl_addr_put(dst);
	nl_addr_put(mac);
	rtnl_neigh_put(n);
	return r;
}

static int peer_route(struct nl_sock *sk, bool add, const struct peer *p)
{
	struct link_ip vtep = p->net;

	vtep.prefix = vtep.family == AF_INET ? 32 : 128;
	if (p->mode == K8SNET_LINK_PEER_HOST_GW)
		return link_route_change(sk, add ? RTM_NEWROUTE : RTM_DELROUTE,
					 NLM_F_CREATE | NLM_F_REPLACE, &p->net, &p->node, 0, 0);
	return link_route_change(sk, add ? RTM_NEWROUTE : RTM_DELROUTE,
				 NLM_F_CREATE | NLM_F_REPLACE, &p->net, &vtep, p->ifindex,
				 RTNH_F_ONLINK);
}

static bool gone(int r)
{
	return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV || r == -NLE_NOADDR;
}

static int peer_apply(struct k8snet_ctx *ctx, bool add, uint32_t mode, const char *pod_cidr,
		      const char *node_ip, const char *dev, const char *vtep_mac)
{
	struct peer p = { 0 };
	struct nl_sock *sk;
	int r;

	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = peer_parse(ctx, sk, mode, pod_cidr, node_ip, dev, vtep_mac, &p);
	if (r == -ENODEV && !add) {
		/* The device took its FDB, neighbour and routes with it. */
		k8snet_ctx_clear_error(ctx);
		return 0;
	}
	if (r < 0)
		return r;
	if (add && mode == K8SNET_LINK_PEER_VXLAN) {
		/* Reachability first, the route last: no window with a route
		 * whose next hop cannot be resolved. */
		r = neigh_change(sk, true, &p, true);
		if (r >= 0)
			r = neigh_change(sk, true, &p, false);
	}
	if (r >= 0) {
		r = peer_route(sk, add, &p);
		if (!add && gone(r))
			r = 0;
	}
	if (!add && r >= 0 && mode == K8SNET_LINK_PEER_VXLAN) {
		r = neigh_change(sk, false, &p, false);
		if (gone(r) || r >= 0)
			r = neigh_change(sk, false, &p, true);
		if (gone(r))
			r = 0;
	}
	if (r < 0)
		return k8s_error(ctx, link_nlerr(r), "peer %s via %s: %s", pod_cidr, node_ip,
				 nl_geterror(r));
	return 0;
}

K8SNET_EXPORT int k8snet_link_peer_add(struct k8snet_ctx *ctx, uint32_t mode, const char *pod_cidr,
				       const char *node_ip, const char *dev, const char *vtep_mac)
{
	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	return peer_apply(ctx, true, mode, pod_cidr, node_ip, dev, vtep_mac);
}

K8SNET_EXPORT int k8snet_link_peer_del(struct k8snet_ctx *ctx, uint32_t mode, const char *pod_cidr,
				       const char *node_ip, const char *dev, const char *vtep_mac)
{
	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	return peer_apply(ctx, false, mode, pod_cidr, node_ip, dev, vtep_mac);
}
