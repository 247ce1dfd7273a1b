/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The node bridge: created once, then only verified and topped up. */
#include <net/if.h>
#include <string.h>
#include <sys/random.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <linux/ip.h>

#include "link/internal.h"

static int bridge_create(struct k8snet_ctx *ctx, struct nl_sock *sk, const char *name,
			 uint32_t mtu)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_addr *mac = NULL;
	uint8_t m[6];
	int r;

	/* An explicit MAC: otherwise the bridge takes its lowest port's MAC
	 * and recomputes it (notifying everyone) as pods come and go, work
	 * that grows with the number of ports. */
	if (getrandom(m, sizeof(m), 0) == sizeof(m)) {
		m[0] = (uint8_t)((m[0] & 0xfc) | 0x02);
		mac = nl_addr_build(AF_LLC, m, 6);
	}
	if (!l || !mac) {
		rtnl_link_put(l);
		nl_addr_put(mac);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	rtnl_link_set_name(l, name);
	rtnl_link_set_addr(l, mac);
	nl_addr_put(mac);
	r = rtnl_link_set_type(l, "bridge");
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_flags(l, IFF_UP);
	if (r >= 0)
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	/* Another process (a parallel CNI ADD on a fresh node) created it
	 * between our lookup and our request: theirs will do, once looked up
	 * again and found to be a bridge. */
	if (r == -NLE_EXIST)
		return 0;
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "bridge", "%s: cannot create: %s", name,
				    nl_geterror(r));
	return 1;
}

/* Bring an existing bridge up and to the asked MTU, in one request. */
static int bridge_update(struct k8snet_ctx *ctx, struct nl_sock *sk, struct rtnl_link *cur,
			 uint32_t mtu)
{
	struct rtnl_link *ch;
	int r;

	if ((rtnl_link_get_flags(cur) & IFF_UP) && (!mtu || rtnl_link_get_mtu(cur) == mtu))
		return 0;
	ch = rtnl_link_alloc();
	if (!ch)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	rtnl_link_set_flags(ch, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(ch, mtu);
	r = rtnl_link_change(sk, cur, ch, 0);
	rtnl_link_put(ch);
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "bridge", "%s: cannot update: %s",
				    rtnl_link_get_name(cur), nl_geterror(r));
	return 0;
}

static int bridge_add_address(struct k8snet_ctx *ctx, struct nl_sock *sk, int ifindex,
			      const char *cidr, size_t i)
{
	struct link_ip ip;
	struct rtnl_addr *a;
	struct nl_addr *local;
	int r;

	if (link_ip_parse(cidr, true, &ip) < 0)
		return k8s_error_at(ctx, -EINVAL, "bridge.addresses", "[%zu] %s: not an address/prefix",
				    i, cidr);
	a = rtnl_addr_alloc();
	local = link_ip_nl(&ip, true);
	if (!a || !local) {
		rtnl_addr_put(a);
		nl_addr_put(local);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	/* The gateway answers at once; DAD on a bridge only delays pods. */
	if (ip.family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	r = rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL);
	nl_addr_put(local);
	rtnl_addr_put(a);
	if (r == -NLE_EXIST)
		return 0;   /* already there: idempotent */
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "bridge.addresses", "[%zu] %s: %s", i, cidr,
				    nl_geterror(r));
	return 0;
}

K8SNET_EXPORT int k8snet_link_bridge_ensure(struct k8snet_ctx *ctx, const char *name,
					    uint32_t mtu, const char *const *addresses,
					    size_t n_addresses)
{
	struct rtnl_link *cur = NULL;
	struct nl_sock *sk;
	int r, created = 0, ifindex;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, name && link_ifname_valid(name));
	K8S_CHECK_ARG(ctx, addresses || n_addresses == 0);
	K8S_CHECK_ARG(ctx, mtu == 0 || (mtu >= 68 && mtu <= 65535));
	/* Bad input changes nothing: check every address first. */
	for (size_t i = 0; i < n_addresses; i++) {
		struct link_ip ip;

		if (link_ip_parse(addresses[i], true, &ip) < 0)
			return k8s_error_at(ctx, -EINVAL, "bridge.addresses",
					    "[%zu] %s: not an address/prefix", i,
					    addresses[i] ? addresses[i] : "(null)");
	}
	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND) {
		created = bridge_create(ctx, sk, name, mtu);
		if (created < 0)
			return created;
		/* Ours or a concurrent creator's: the checks below apply to both
		 * (theirs may not be a bridge, or not be up yet). */
		r = rtnl_link_get_kernel(sk, 0, name, &cur);
	}
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "bridge", "%s: %s", name, nl_geterror(r));
	if (!rtnl_link_get_type(cur) || strcmp(rtnl_link_get_type(cur), "bridge") != 0) {
		r = k8s_error_at(ctx, -EEXIST, "bridge",
				 "%s: a link of kind %s has this name; refusing to take it over",
				 name, rtnl_link_get_type(cur) ? rtnl_link_get_type(cur) : "device");
		rtnl_link_put(cur);
		return r;
	}
	ifindex = rtnl_link_get_ifindex(cur);
	r = bridge_update(ctx, sk, cur, mtu);
	rtnl_link_put(cur);
	for (size_t i = 0; r >= 0 && i < n_addresses; i++)
		r = bridge_add_address(ctx, sk, ifindex, addresses[i], i);
	return r < 0 ? r : created;
}

/* route_localnet on one link, through rtnetlink (IFLA_AF_SPEC/IFLA_INET_CONF)
 * rather than /proc/sys: the setting follows the link, and the request is
 * sent in the context's namespace like every other link change. */
K8SNET_EXPORT int k8snet_link_set_route_localnet(struct k8snet_ctx *ctx, const char *name,
						 uint32_t on)
{
	struct rtnl_link *cur = NULL, *ch;
	struct nl_sock *sk;
	uint32_t have = 0;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, name && link_ifname_valid(name));
	K8S_CHECK_ARG(ctx, on <= 1);
	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r < 0)
		return k8s_error_at(ctx, r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND ? -ENODEV :
				    link_nlerr(r), "name", "%s: %s", name, nl_geterror(r));
	/* Already so: nothing sent (every CNI ADD asks again). */
	if (rtnl_link_inet_get_conf(cur, IPV4_DEVCONF_ROUTE_LOCALNET, &have) == 0 &&
	    !!have == on) {
		rtnl_link_put(cur);
		return 0;
	}
	ch = rtnl_link_alloc();
	r = -NLE_NOMEM;
	if (ch) {
		r = rtnl_link_inet_set_conf(ch, IPV4_DEVCONF_ROUTE_LOCALNET, on);
		if (r >= 0)
			r = rtnl_link_change(sk, cur, ch, 0);
	}
	rtnl_link_put(ch);
	rtnl_link_put(cur);
	if (r < 0)
		return k8s_error_at(ctx, link_nlerr(r), "name", "%s: cannot set route_localnet: %s",
				    name, nl_geterror(r));
	return 1;
}
