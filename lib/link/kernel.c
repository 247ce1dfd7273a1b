/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small rtnetlink helpers shared by attach, check and the node code. */
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "link/kernel.h"

bool link_nl_equal(struct nl_addr *a, const struct link_ip *ip)
{
	size_t len = ip->family == AF_INET ? 4 : 16;

	return a && nl_addr_get_family(a) == ip->family && nl_addr_get_len(a) == len &&
	       memcmp(nl_addr_get_binary_addr(a), ip->bytes, len) == 0;
}

int link_route_change(struct nl_sock *sk, int cmd, int nlflags, const struct link_ip *dst,
		      const struct link_ip *gw, int ifindex, uint32_t nhflags)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = link_ip_nl(dst, true), *g = gw ? link_ip_nl(gw, false) : NULL;
	int r = -NLE_NOMEM;

	if (!rt || !nh || !d || (gw && !g))
		goto out;
	rtnl_route_set_family(rt, dst->family);
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	if (cmd == RTM_NEWROUTE) {
		rtnl_route_set_protocol(rt, RTPROT_BOOT);
		rtnl_route_set_scope(rt, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	} else {
		/* Match any scope and protocol: the route is named by its dst
		 * (libnl would otherwise send its default, RTPROT_STATIC). */
		rtnl_route_set_scope(rt, RT_SCOPE_NOWHERE);
		rtnl_route_set_protocol(rt, RTPROT_UNSPEC);
	}
	if (ifindex)
		rtnl_route_nh_set_ifindex(nh, ifindex);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	if (nhflags)
		rtnl_route_nh_set_flags(nh, nhflags);
	if (ifindex || g) {
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL;
	}
	r = cmd == RTM_NEWROUTE ? rtnl_route_add(sk, rt, nlflags) : rtnl_route_delete(sk, rt, 0);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(rt);
	return r;
}
