/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI CHECK's question: is the pod interface still as attach made it?  Every
 * difference is collected, so the message says all that is wrong at once. */
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "link/kernel.h"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

struct check {
	struct k8snet_ctx *ctx;
	const struct k8snet_link_pod *pod;
	struct nl_sock *sk, *psk;
	int pod_ifindex;
	char *diff;               /* "; "-separated differences */
	size_t diff_len;
	FILE *out;
};

#define DIFF(c, ...) (fprintf((c)->out, "%s", ftell((c)->out) ? "; " : ""), \
		      fprintf((c)->out, __VA_ARGS__))

/* IFLA_LINKINFO / IFLA_INFO_SLAVE_DATA / IFLA_BRPORT_MODE of a bridge port:
 * libnl does not parse port attributes, so read them from the raw reply. */
static int parse_hairpin(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *port[IFLA_BRPORT_MAX + 1];
	struct nlmsghdr *h = nlmsg_hdr(msg);
	int *hairpin = arg;

	if (h->nlmsg_type == RTM_NEWLINK &&
	    nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) >= 0 && tb[IFLA_LINKINFO] &&
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) >= 0 &&
	    li[IFLA_INFO_SLAVE_DATA] &&
	    nla_parse_nested(port, IFLA_BRPORT_MAX, li[IFLA_INFO_SLAVE_DATA], NULL) >= 0 &&
	    port[IFLA_BRPORT_MODE])
		*hairpin = nla_get_u8(port[IFLA_BRPORT_MODE]);
	return NL_OK;
}

static void check_hairpin(struct check *c, const char *host, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int hairpin = -1, r = -NLE_NOMEM;
	struct link_batch b = { .sk = c->sk, .valid = parse_hairpin, .arg = &hairpin };
	size_t failed;

	if (msg)
		r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	link_batch_add(&b, r, msg);
	if (link_batch_finish(&b, &failed) >= 0 && hairpin == 0)
		DIFF(c, "host interface %s has hairpin mode off", host);
}

static int check_host(struct check *c, int *ret_host_ifindex, uint32_t *ret_mtu)
{
	_cleanup_(freep) char *host = link_host_ifname(c->pod->container_id,
						       link_pod_ifname(c->pod));
	struct rtnl_link *l = NULL;
	int br, r;

	if (!host)
		return k8s_error(c->ctx, -ENOMEM, "out of memory");
	r = link_bridge_lookup(c->ctx, c->sk, c->pod->bridge, &br, ret_mtu, NULL, 0);
	if (r < 0)
		return r;
	if (c->pod->mtu)
		*ret_mtu = c->pod->mtu;
	r = rtnl_link_get_kernel(c->sk, 0, host, &l);
	if (r < 0) {
		DIFF(c, "host interface %s missing", host);
		*ret_host_ifindex = 0;
		return 0;
	}
	*ret_host_ifindex = rtnl_link_get_ifindex(l);
	if (rtnl_link_get_master(l) != br)
		DIFF(c, "host interface %s is not on bridge %s", host, c->pod->bridge);
	else if (c->pod->flags & K8SNET_LINK_POD_F_HAIRPIN)
		check_hairpin(c, host, *ret_host_ifindex);
	rtnl_link_put(l);
	return 0;
}

static void check_link(struct check *c, struct rtnl_link *l, int host_ifindex, uint32_t mtu)
{
	const char *kind = rtnl_link_get_type(l);
	const char *name = link_pod_ifname(c->pod);
	uint8_t m[6];

	if (!kind || strcmp(kind, "veth") != 0)
		DIFF(c, "%s is a %s, not a veth", name, kind ? kind : "device");
	else if (host_ifindex && rtnl_link_get_link(l) != host_ifindex)
		DIFF(c, "%s is not the peer of the host interface", name);
	if (!(rtnl_link_get_flags(l) & IFF_UP))
		DIFF(c, "%s is down", name);
	if (rtnl_link_get_mtu(l) != mtu)
		DIFF(c, "%s mtu %u, expected %u", name, rtnl_link_get_mtu(l), mtu);
	if (c->pod->mac && link_mac_parse(c->pod->mac, m) == 0) {
		struct nl_addr *a = rtnl_link_get_addr(l);

		if (!a || nl_addr_get_len(a) != 6 || memcmp(nl_addr_get_binary_addr(a), m, 6))
			DIFF(c, "%s mac differs from %s", name, c->pod->mac);
	}
}

static bool has_address(struct nl_cache *cache, int ifindex, const struct link_ip *ip)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(a) == ifindex &&
		    link_nl_equal(rtnl_addr_get_local(a), ip) &&
		    rtnl_addr_get_prefixlen(a) == (int)ip->prefix)
			return true;
	}
	return false;
}

static int check_addresses(struct check *c)
{
	struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(c->psk, &cache);

	if (r < 0)
		return k8s_error(c->ctx, link_nlerr(r), "pod: cannot list addresses: %s",
				 nl_geterror(r));
	for (size_t i = 0; i < c->pod->n_addrs; i++) {
		if (has_address(cache, c->pod_ifindex, &c->pod->addrs[i].addr)) 
			continue;
		_cleanup_(freep) char *s = link_ip_format(&c->pod->addrs[i].addr, true);
		DIFF(c, "address %s missing on %s", s ? s : "?", link_pod_ifname(c->pod));
	}
	nl_cache_free(cache);
	return 0;
}

static bool nexthop_matches(struct rtnl_route *rt, int ifindex, const struct link_ip *gw)
{
	for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
		struct nl_addr *g = rtnl_route_nh_get_gateway(nh);

		if (rtnl_route_nh_get_ifindex(nh) != ifindex)
			continue;
		if (gw ? link_nl_equal(g, gw) : (!g || nl_addr_iszero(g)))
			return true;
	}
	return false;
}

static bool has_route(struct nl_cache *cache, int ifindex, const struct link_ip *dst,
		      const struct link_ip *gw)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *d = rtnl_route_get_dst(rt);

		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || !d ||
		    nl_addr_get_family(d) != dst->family ||
		    nl_addr_get_prefixlen(d) != (unsigned)dst->prefix)
			continue;
		if (dst->prefix && !link_nl_equal(d, dst))
			continue;
		if (nexthop_matches(rt, ifindex, gw))
			return true;
	}
	return false;
}

static void route_diff(struct check *c, const struct link_ip *dst, const struct link_ip *gw)
{
	_cleanup_(freep) char *d = link_ip_format(dst, true);
	_cleanup_(freep) char *g = gw ? link_ip_format(gw, false) : NULL;

	DIFF(c, "route %s via %s missing", d ? d : "?", g ? g : link_pod_ifname(c->pod));
}

static int check_routes(struct check *c)
{
	struct link_route_plan *plan = calloc(c->pod->n_routes + 2, sizeof(*plan));
	struct nl_cache *cache = NULL;
	size_t n;
	int r;

	if (!plan)
		return k8s_error(c->ctx, -ENOMEM, "out of memory");
	r = rtnl_route_alloc_cache(c->psk, AF_UNSPEC, 0, &cache);
	if (r < 0) {
		free(plan);
		return k8s_error(c->ctx, link_nlerr(r), "pod: cannot list routes: %s",
				 nl_geterror(r));
	}
	n = link_pod_plan_routes(c->pod, plan);
	for (size_t i = 0; i < n; i++)
		if (!has_route(cache, c->pod_ifindex, &plan[i].dst, plan[i].gw))
			route_diff(c, &plan[i].dst, plan[i].gw);
	nl_cache_free(cache);
	free(plan);
	return 0;
}

static int check_pod(struct check *c, int podfd)
{
	struct rtnl_link *l = NULL;
	int host_ifindex = 0, r;
	uint32_t mtu;

	r = check_host(c, &host_ifindex, &mtu);
	if (r < 0)
		return r;
	r = link_rtnl_open_in(c->ctx, podfd, &c->psk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(c->psk, 0, link_pod_ifname(c->pod), &l);
	if (r < 0)
		return k8s_error_at(c->ctx, -ENOENT, "pod.ifname",
				    "%s: no such interface in the pod namespace",
				    link_pod_ifname(c->pod));
	c->pod_ifindex = rtnl_link_get_ifindex(l);
	check_link(c, l, host_ifindex, mtu);
	rtnl_link_put(l);
	r = check_addresses(c);
	return r < 0 ? r : check_routes(c);
}

K8SNET_EXPORT int k8snet_link_pod_check(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod)
{
	struct check c = { .ctx = ctx, .pod = pod };
	int podfd, r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_FORK_GUARD_PID_CTX(pod, ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, pod);
	r = link_pod_validate(ctx, pod);
	if (r < 0)
		return r;
	r = k8s_ctx_rtnl(ctx, &c.sk);
	if (r < 0)
		return r;
	podfd = link_pod_open_netns(ctx, pod);
	if (podfd < 0)
		return podfd;
	c.out = open_memstream(&c.diff, &c.diff_len);
	if (!c.out) {
		close(podfd);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	r = check_pod(&c, podfd);
	fclose(c.out);
	if (r == 0 && c.diff_len)
		r = k8s_error(ctx, -ESTALE, "pod %s/%s differs: %s", pod->container_id,
			      link_pod_ifname(pod), c.diff);
	free(c.diff);
	if (c.psk)
		nl_socket_free(c.psk);
	close(podfd);
	return r;
}
