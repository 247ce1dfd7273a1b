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

int link_route_build(int cmd, int nlflags, const struct link_ip *dst, const struct link_ip *gw,
		     int ifindex, uint32_t nhflags, struct nl_msg **ret)
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
	r = cmd == RTM_NEWROUTE ? rtnl_route_build_add_request(rt, nlflags, ret)
				: rtnl_route_build_del_request(rt, 0, ret);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(rt);
	return r;
}

int link_route_change(struct nl_sock *sk, int cmd, int nlflags, const struct link_ip *dst,
		      const struct link_ip *gw, int ifindex, uint32_t nhflags)
{
	struct nl_msg *msg = NULL;
	int r = link_route_build(cmd, nlflags, dst, gw, ifindex, nhflags, &msg);

	if (r < 0)
		return r;
	return nl_send_sync(sk, msg);   /* frees msg */
}

void link_rtnl_tune(struct nl_sock *sk)
{
	/* One recvmsg per reply instead of a MSG_PEEK and a read: the buffer
	 * is large enough for any single rtnetlink message we ask for. */
	nl_socket_set_msg_buf_size(sk, 65536);
	nl_socket_disable_msg_peek(sk);
}

void link_batch_add(struct link_batch *b, int build_err, struct nl_msg *msg)
{
	int r = build_err;

	if (b->err < 0 || r < 0) {
		if (b->err == 0) {
			b->err = r;
			b->failed = b->sent;
		}
		nlmsg_free(msg);
		return;
	}
	r = nl_send_auto(b->sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		b->err = r;
		b->failed = b->sent;
		return;
	}
	b->sent++;
}

/* An ack, or NLMSG_DONE for a dump: this request is answered. */
static int batch_done(struct nl_msg *msg, void *arg)
{
	*(bool *)arg = true;
	return NL_STOP;
}

/* nl_recvmsgs() returns after any message without NLM_F_MULTI, such as an
 * echo: read on until the request's ack, error or DONE. */
static int batch_wait_one(struct nl_sock *sk, struct nl_cb *cb, bool *done)
{
	int r;

	*done = false;
	do
		r = nl_recvmsgs(sk, cb);
	while (r >= 0 && !*done);
	return r;
}

int link_batch_finish(struct link_batch *b, size_t *failed)
{
	struct nl_cb *orig = nl_socket_get_cb(b->sk);
	struct nl_cb *cb = orig ? nl_cb_clone(orig) : NULL;
	bool done;

	nl_cb_put(orig);
	if (cb) {
		nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, batch_done, &done);
		nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, batch_done, &done);
		if (b->valid)
			nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, b->valid, b->arg);
	}
	/* The kernel answers in order: per request its replies, then an ack,
	 * an error, or (for a dump) NLMSG_DONE.  Read them all so the socket
	 * stays in step even after a failure. */
	for (size_t i = 0; i < b->sent; i++) {
		int r = cb ? batch_wait_one(b->sk, cb, &done) : nl_wait_for_ack(b->sk);

		if (r < 0 && (b->err == 0 || i < b->failed)) {
			b->err = r;
			b->failed = i;
		}
	}
	nl_cb_put(cb);
	*failed = b->failed;
	return b->err;
}
