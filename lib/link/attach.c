/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and detach a pod interface: one veth pair, the container end created
 * directly inside the pod's namespace, the host end on the bridge. */
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "link/internal.h"
#include "link/kernel.h"

struct attach {
	struct k8snet_ctx *ctx;
	const struct k8snet_link_pod *pod;
	struct nl_sock *sk;       /* the node namespace (the context's socket) */
	struct nl_sock *psk;      /* the pod namespace, opened for this call */
	int podfd;
	int br_ifindex;
	uint32_t mtu;
	const char *host;         /* host end name (in res) */
	int host_ifindex;
	int pod_ifindex;
	uint8_t host_mac[6];
	uint8_t pod_mac[6];
	size_t addr_conflict;     /* 1 + index of a pod address held elsewhere */
	int addr_conflict_ifindex;
	struct k8snet_link_result *res;
};

int link_bridge_lookup(struct k8snet_ctx *ctx, struct nl_sock *sk, const char *name,
		       int *ret_ifindex, uint32_t *ret_mtu, char *ret_mac, size_t mac_size)
{
	struct rtnl_link *l = NULL;
	const char *kind;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return k8s_error_at(ctx, -ENODEV, "pod.bridge", "%s: no such bridge", name);
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "pod.bridge", "%s: %s", name, nl_geterror(r));
	kind = rtnl_link_get_type(l);
	if (!kind || strcmp(kind, "bridge") != 0) {
		rtnl_link_put(l);
		return k8s_error_at(ctx, -EINVAL, "pod.bridge", "%s: not a bridge (kind %s)", name,
				    kind ? kind : "device");
	}
	*ret_ifindex = rtnl_link_get_ifindex(l);
	*ret_mtu = rtnl_link_get_mtu(l);
	if (ret_mac)
		nl_addr2str(rtnl_link_get_addr(l), ret_mac, mac_size);
	rtnl_link_put(l);
	return 0;
}

/* After EEXIST, say which name was taken. */
static int veth_exists_error(struct attach *a)
{
	struct rtnl_link *l = NULL;

	if (rtnl_link_get_kernel(a->sk, 0, a->host, &l) >= 0) {
		rtnl_link_put(l);
		return k8s_error_at(a->ctx, -EEXIST, "pod.container_id",
				    "host interface %s already exists (container %s, %s already attached?)",
				    a->host, a->pod->container_id, link_pod_ifname(a->pod));
	}
	return k8s_error_at(a->ctx, -EEXIST, "pod.ifname",
			    "interface %s already exists in the pod namespace",
			    link_pod_ifname(a->pod));
}

/* MACs chosen here rather than by the kernel: the result needs them and
 * reading them back costs a round trip per end.  Stable per (container id,
 * ifname), locally administered, unicast. */
static int pick_macs(struct attach *a)
{
	_cleanup_(freep) char *hm = NULL, *pm = NULL;

	link_mac_from_key(a->pod->container_id, link_pod_ifname(a->pod), 'h', a->host_mac);
	if (!a->pod->mac || link_mac_parse(a->pod->mac, a->pod_mac) < 0)
		link_mac_from_key(a->pod->container_id, link_pod_ifname(a->pod), 'p', a->pod_mac);
	hm = link_mac_format(a->host_mac);
	pm = link_mac_format(a->pod_mac);
	if (!hm || !pm || link_result_set_iface(a->res, 1, hm, (int)a->mtu) < 0 ||
	    link_result_set_iface(a->res, 2, pm, (int)a->mtu) < 0)
		return k8s_error(a->ctx, -ENOMEM, "out of memory");
	return 0;
}

/* The RTM_NEWLINK echo of the host end: its ifindex, and in IFLA_LINK its
 * peer's ifindex inside the pod namespace (absent when both are equal). */
static int parse_new_veth(struct nl_msg *msg, void *arg)
{
	struct attach *a = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	ifi = nlmsg_data(h);
	a->host_ifindex = ifi->ifi_index;
	a->pod_ifindex = tb[IFLA_LINK] ? (int)nla_get_u32(tb[IFLA_LINK]) : ifi->ifi_index;
	return NL_OK;
}

/* One queue each way, asked for explicitly.  Without it the kernel (since
 * 6.x) allocates one tx/rx queue per possible CPU, then trims the active
 * count back to 1 (veth_init_queues), and trimming a registered device's tx
 * queues waits for an expedited RCU grace period under RTNL: two per pod,
 * the largest and most load-sensitive wait of an ADD.  Traffic is the same
 * (one active queue either way); only channel raising via ethtool -L is
 * lost, which pod veths never use. */
static void veth_single_queue(struct rtnl_link *l)
{
	rtnl_link_set_num_tx_queues(l, 1);
	rtnl_link_set_num_rx_queues(l, 1);
}

static int veth_create(struct attach *a)
{
	struct rtnl_link *host = rtnl_link_veth_alloc(), *peer;
	struct nl_addr *hmac = nl_addr_build(AF_LLC, a->host_mac, 6);
	struct nl_addr *pmac = nl_addr_build(AF_LLC, a->pod_mac, 6);
	struct nl_msg *msg = NULL;
	int r;

	if (!host || !hmac || !pmac) {
		if (host)
			rtnl_link_veth_release(host);
		nl_addr_put(hmac);
		nl_addr_put(pmac);
		return k8s_error(a->ctx, -ENOMEM, "out of memory");
	}
	rtnl_link_set_name(host, a->host);
	rtnl_link_set_addr(host, hmac);
	rtnl_link_set_master(host, a->br_ifindex);
	rtnl_link_set_mtu(host, a->mtu);
	rtnl_link_set_flags(host, IFF_UP);
	veth_single_queue(host);
	peer = rtnl_link_veth_get_peer(host);
	rtnl_link_set_name(peer, link_pod_ifname(a->pod));
	rtnl_link_set_mtu(peer, a->mtu);
	veth_single_queue(peer);
	/* Not IFF_UP here: the kernel refuses (ENOTCONN) to open a peer born
	 * in another namespace; configure_pod() brings it up from inside. */
	/* IFLA_NET_NS_FD on the peer: it is born inside the pod namespace, so
	 * its name never clashes with a node interface and nothing moves. */
	rtnl_link_set_ns_fd(peer, a->podfd);
	rtnl_link_set_addr(peer, pmac);
	rtnl_link_put(peer);
	r = rtnl_link_build_add_request(host, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, &msg);
	nl_addr_put(hmac);
	nl_addr_put(pmac);
	rtnl_link_veth_release(host);
	if (r >= 0) {
		/* The echo carries both ifindexes: no read-back round trip. */
		struct link_batch b = { .sk = a->sk, .valid = parse_new_veth, .arg = a };
		size_t failed;

		link_batch_add(&b, 0, msg);
		r = link_batch_finish(&b, &failed);
		msg = NULL;
	}
	nlmsg_free(msg);
	if (r == -NLE_EXIST)
		return veth_exists_error(a);
	if (r < 0)
		return k8s_error(a->ctx, link_nlerr(r), "cannot create veth %s/%s: %s", a->host,
				 link_pod_ifname(a->pod), nl_geterror(r));
	return 0;
}

static int link_ifindex(struct attach *a, struct nl_sock *sk, const char *name, int *ret)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (r < 0)
		return k8s_error(a->ctx, link_nlerr(r), "%s: cannot read back: %s", name,
				 nl_geterror(r));
	*ret = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

static int set_hairpin(struct attach *a)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = a->host_ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
	struct nlattr *nest;
	int r = -NLE_NOMEM;

	/* libnl has no setter for bridge port attributes: IFLA_PROTINFO by hand. */
	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) >= 0 &&
	    (nest = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) &&
	    nla_put_u8(msg, IFLA_BRPORT_MODE, BRIDGE_MODE_HAIRPIN) >= 0) {
		nla_nest_end(msg, nest);
		r = nl_send_sync(a->sk, msg);
		msg = NULL;
	}
	nlmsg_free(msg);
	if (r < 0)
		return k8s_error(a->ctx, link_nlerr(r), "%s: cannot set hairpin mode: %s", a->host,
				 nl_geterror(r));
	return 0;
}

/* RTM_NEWLINK without NLM_F_CREATE changes the link found by name. */
static void batch_link_up(struct link_batch *b, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int r = -NLE_NOMEM;

	if (l) {
		rtnl_link_set_name(l, name);
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_build_add_request(l, 0, &msg);
	}
	rtnl_link_put(l);
	link_batch_add(b, r, msg);
}

static void batch_address(struct attach *a, struct link_batch *b, const struct link_ip *ip)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = link_ip_nl(ip, true);
	struct nl_msg *msg = NULL;
	int r = -NLE_NOMEM;

	if (addr && local) {
		rtnl_addr_set_ifindex(addr, a->pod_ifindex);
		rtnl_addr_set_local(addr, local);
		/* Usable at once: the address is ours by IPAM, DAD only delays. */
		if (ip->family == AF_INET6)
			rtnl_addr_set_flags(addr, IFA_F_NODAD);
		r = rtnl_addr_build_add_request(addr, NLM_F_CREATE | NLM_F_EXCL, &msg);
	}
	nl_addr_put(local);
	rtnl_addr_put(addr);
	link_batch_add(b, r, msg);
}

static void batch_route(struct attach *a, struct link_batch *b, const struct link_ip *dst,
			const struct link_ip *gw)
{
	struct nl_msg *msg = NULL;
	int r = link_route_build(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst, gw,
				 a->pod_ifindex, 0, &msg);

	link_batch_add(b, r, msg);
}

static int batch_routes(struct attach *a, struct link_batch *b)
{
	struct link_route_plan *plan = calloc(a->pod->n_routes + 2, sizeof(*plan));
	size_t n;

	if (!plan)
		return k8s_error(a->ctx, -ENOMEM, "out of memory");
	/* The same plan, in the same order, as the result's routes. */
	n = link_pod_plan_routes(a->pod, plan);
	for (size_t i = 0; i < n; i++)
		batch_route(a, b, &plan[i].dst, plan[i].gw);
	free(plan);
	return 0;
}

/* Name the request that failed: 0 lo, 1 the pod interface, then the
 * addresses, then the routes, as batched. */
static int batch_error(struct attach *a, int err, size_t i)
{
	const char *ifname = link_pod_ifname(a->pod);

	if (i < 2)
		return k8s_error(a->ctx, link_nlerr(err), "pod: cannot bring %s up: %s",
				 i == 0 ? "lo" : ifname, nl_geterror(err));
	i -= 2;
	if (i < a->res->n_addrs)
		return k8s_error_at(a->ctx, link_nlerr(err), "pod.addresses", "[%zu] %s: %s", i,
				    a->res->addrs[i].address, nl_geterror(err));
	i -= a->res->n_addrs;
	if (i < a->res->n_routes)
		return k8s_error_at(a->ctx, link_nlerr(err), "pod.routes", "%s via %s: %s",
				    a->res->routes[i].dst,
				    a->res->routes[i].gateway ? a->res->routes[i].gateway : ifname,
				    nl_geterror(err));
	return k8s_error(a->ctx, link_nlerr(err), "pod: %s", nl_geterror(err));
}

/* Another interface of the pod already holding one of our addresses would
 * answer for it too: refuse.  (The kernel allows one IPv4 address on two
 * interfaces, so adding it does not fail by itself.)  The pod's addresses
 * are dumped in the same batch, after ours were added. */
static int parse_pod_addr(struct nl_msg *msg, void *arg)
{
	struct attach *a = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFA_MAX + 1], *local;
	struct ifaddrmsg *ifa;

	if (h->nlmsg_type != RTM_NEWADDR || a->addr_conflict ||
	    nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_OK;
	ifa = nlmsg_data(h);
	local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if ((int)ifa->ifa_index == a->pod_ifindex || !local)
		return NL_OK;
	for (size_t i = 0; i < a->pod->n_addrs; i++) {
		const struct link_ip *ip = &a->pod->addrs[i].addr;
		size_t len = ip->family == AF_INET ? 4 : 16;

		if (ifa->ifa_family == ip->family && (size_t)nla_len(local) == len &&
		    memcmp(nla_data(local), ip->bytes, len) == 0) {
			a->addr_conflict = i + 1;
			a->addr_conflict_ifindex = (int)ifa->ifa_index;
		}
	}
	return NL_OK;
}

static void batch_address_dump(struct link_batch *b)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
	int r = -NLE_NOMEM;

	if (msg)
		r = nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO);
	link_batch_add(b, r, msg);
}

static int address_conflict_error(struct attach *a)
{
	size_t i = a->addr_conflict - 1;

	return k8s_error_at(a->ctx, -EADDRINUSE, "pod.addresses",
			    "[%zu] %s: address in use in the pod namespace (on ifindex %d)", i,
			    a->res->addrs[i].address, a->addr_conflict_ifindex);
}

static int configure_pod(struct attach *a)
{
	struct link_batch b;
	size_t failed;
	int r = link_rtnl_open_in(a->ctx, a->podfd, &a->psk);

	if (r < 0)
		return r;
	link_rtnl_tune(a->psk);
	if (!a->pod_ifindex) {
		r = link_ifindex(a, a->psk, link_pod_ifname(a->pod), &a->pod_ifindex);
		if (r < 0)
			return r;
	}
	/* Everything else in one round trip.  lo: the pod's containers talk
	 * over localhost. */
	b = (struct link_batch){ .sk = a->psk };
	batch_link_up(&b, "lo");
	batch_link_up(&b, link_pod_ifname(a->pod));
	for (size_t i = 0; i < a->pod->n_addrs; i++)
		batch_address(a, &b, &a->pod->addrs[i].addr);
	r = batch_routes(a, &b);
	if (a->pod->n_addrs)
		batch_address_dump(&b);
	b.valid = parse_pod_addr;
	b.arg = a;
	if (link_batch_finish(&b, &failed) < 0)
		return batch_error(a, b.err, failed);
	if (r < 0)
		return r;
	return a->addr_conflict ? address_conflict_error(a) : 0;
}

static void veth_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();

	if (!l)
		return;
	rtnl_link_set_name(l, name);
	rtnl_link_delete(sk, l);   /* the pod end goes with it */
	rtnl_link_put(l);
}

static int attach_run(struct attach *a)
{
	char mac[32];
	int r = link_bridge_lookup(a->ctx, a->sk, a->pod->bridge, &a->br_ifindex, &a->mtu,
				   mac, sizeof(mac));

	if (r < 0)
		return r;
	if (link_result_set_iface(a->res, 0, mac, (int)a->mtu) < 0)
		return k8s_error(a->ctx, -ENOMEM, "out of memory");
	if (a->pod->mtu)
		a->mtu = a->pod->mtu;
	r = pick_macs(a);
	if (r < 0)
		return r;
	a->podfd = link_pod_open_netns(a->ctx, a->pod);
	if (a->podfd < 0)
		return a->podfd;
	r = veth_create(a);
	if (r < 0)
		return r;
	/* Kernels before 6.1 do not echo new links: ask. */
	if (!a->host_ifindex)
		r = link_ifindex(a, a->sk, a->host, &a->host_ifindex);
	if (r == 0 && (a->pod->flags & K8SNET_LINK_POD_F_HAIRPIN))
		r = set_hairpin(a);
	if (r == 0)
		r = configure_pod(a);
	if (r < 0)
		veth_delete(a->sk, a->host);   /* all or nothing */
	return r;
}

K8SNET_EXPORT int k8snet_link_pod_attach(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod,
					 struct k8snet_link_result **ret)
{
	struct attach a = { .ctx = ctx, .pod = pod, .podfd = -1 };
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_FORK_GUARD_PID_CTX(pod, ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, pod);
	K8S_CHECK_ARG(ctx, ret);
	r = link_pod_validate(ctx, pod);
	if (r < 0)
		return r;
	r = k8s_ctx_rtnl(ctx, &a.sk);
	if (r < 0)
		return r;
	link_rtnl_tune(a.sk);
	r = link_result_plan(pod, pod->bridge, &a.res);
	if (r < 0)
		return k8s_error(ctx, r, "out of memory");
	a.host = a.res->ifaces[1].name;
	r = attach_run(&a);
	if (a.psk)
		nl_socket_free(a.psk);
	if (a.podfd >= 0)
		close(a.podfd);
	if (r < 0) {
		k8snet_link_result_free(a.res);
		return r;
	}
	*ret = a.res;
	return 0;
}

K8SNET_EXPORT int k8snet_link_pod_detach(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod)
{
	_cleanup_(freep) char *host = NULL;
	struct rtnl_link *l = NULL;
	struct nl_sock *sk;
	const char *kind;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_FORK_GUARD_PID_CTX(pod, ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, pod);
	if (!pod->container_id)
		return k8s_error_at(ctx, -EINVAL, "pod.container_id", "required");
	host = link_host_ifname(pod->container_id, link_pod_ifname(pod));
	if (!host)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, host, &l);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;   /* already gone: detach is idempotent */
	if (r < 0)
		return k8s_error(ctx, link_nlerr(r), "%s: %s", host, nl_geterror(r));
	kind = rtnl_link_get_type(l);
	if (!kind || strcmp(kind, "veth") != 0) {
		rtnl_link_put(l);
		return k8s_error(ctx, -EEXIST, "%s: not a veth; refusing to delete it", host);
	}
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;   /* lost a race with another detach: fine */
	if (r < 0)
		return k8s_error(ctx, link_nlerr(r), "%s: cannot delete: %s", host, nl_geterror(r));
	return 1;
}
