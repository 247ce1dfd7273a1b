/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet_ctx_describe(): what the context sees in its namespace, as JSON.
 * It exercises both sockets, so it doubles as a health check. */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "core/internal.h"

static void add_addresses(cJSON *jlink, struct nl_cache *addrs, int ifindex)
{
	cJSON *list = cJSON_AddArrayToObject(jlink, "addresses");
	struct nl_object *obj;
	char buf[INET6_ADDRSTRLEN + 8];

	for (obj = nl_cache_get_first(addrs); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj;

		if (rtnl_addr_get_ifindex(a) != ifindex)
			continue;
		nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf));
		cJSON_AddItemToArray(list, cJSON_CreateString(buf));
	}
}

static cJSON *describe_link(struct rtnl_link *l, struct nl_cache *addrs)
{
	cJSON *j = cJSON_CreateObject();
	const char *kind = rtnl_link_get_type(l);

	cJSON_AddNumberToObject(j, "index", rtnl_link_get_ifindex(l));
	cJSON_AddStringToObject(j, "name", rtnl_link_get_name(l));
	cJSON_AddStringToObject(j, "kind", kind ? kind : (rtnl_link_get_arptype(l) == 772 ? "loopback" : "device"));
	cJSON_AddBoolToObject(j, "up", (rtnl_link_get_flags(l) & IFF_UP) != 0);
	cJSON_AddNumberToObject(j, "mtu", rtnl_link_get_mtu(l));
	add_addresses(j, addrs, rtnl_link_get_ifindex(l));
	return j;
}

static int describe_links(struct k8snet_ctx *ctx, cJSON *root)
{
	struct nl_cache *links = NULL, *addrs = NULL;
	struct nl_sock *sk;
	struct nl_object *obj;
	cJSON *list;
	int r;

	r = k8s_ctx_rtnl(ctx, &sk);
	if (r < 0)
		return r;
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (r >= 0)
		r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0) {
		nl_cache_free(links);
		return k8s_error(ctx, -EIO, "cannot dump links: %s", nl_geterror(r));
	}
	list = cJSON_AddArrayToObject(root, "links");
	for (obj = nl_cache_get_first(links); obj; obj = nl_cache_get_next(obj))
		cJSON_AddItemToArray(list, describe_link((struct rtnl_link *)obj, addrs));
	nl_cache_free(addrs);
	nl_cache_free(links);
	return 0;
}

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_INET: return "inet";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_NETDEV: return "netdev";
	default: return "unknown";
	}
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	cJSON *list = data, *j;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "family",
					family_name(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY)));
		cJSON_AddStringToObject(j, "name", nftnl_table_get_str(t, NFTNL_TABLE_NAME));
		cJSON_AddItemToArray(list, j);
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int describe_tables(struct k8snet_ctx *ctx, cJSON *root)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq;
	cJSON *list;
	ssize_t n;
	int r;

	r = k8s_ctx_nfnl(ctx, &nl);
	if (r < 0)
		return r;
	seq = ++ctx->seq;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
				    NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return k8s_error(ctx, -errno, "cannot list nftables tables: %m");
	list = cJSON_AddArrayToObject(root, "nftables_tables");
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, n, seq, ctx->nfnl_portid, table_cb, list);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (n < 0 || r < 0)
		return k8s_error(ctx, -errno, "cannot list nftables tables: %m");
	return 0;
}

K8SNET_EXPORT int k8snet_ctx_describe(struct k8snet_ctx *ctx, char **ret_json)
{
	cJSON *root;
	char *s;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, ret_json);
	root = cJSON_CreateObject();
	if (!root)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	r = describe_links(ctx, root);
	if (r >= 0)
		r = describe_tables(ctx, root);
	if (r < 0) {
		cJSON_Delete(root);
		return r;
	}
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	*ret_json = s;
	return 0;
}
