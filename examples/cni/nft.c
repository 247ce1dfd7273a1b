/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostPort mappings (the portmap capability) and ipMasq, in nftables, each
 * call one atomic batch over libmnl + libnftnl.
 *
 *   table ip k8snet-cni {
 *     map hostports { type inet_proto . inet_service : ipv4_addr . inet_service }
 *     chain prerouting { type nat hook prerouting priority dstnat;
 *       fib daddr type local dnat ip to meta l4proto . th dport map @hostports }
 *     chain output { type nat hook output priority -100; (the same rule) }
 *     chain masq-NETWORK { type nat hook postrouting priority srcnat;
 *       ip saddr SUBNET ip daddr != SUBNET masquerade }
 *   }
 *
 * A pod's mappings are map elements keyed by protocol and host port, so ADD
 * and DEL add and remove elements and never have to find rule handles.  The
 * rules are re-made (flush + add) by every ADD, which keeps them idempotent.
 * IPv4 only: IPv6 addresses get no hostPort or masquerade. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include "cni.h"

#define TABLE "k8snet-cni"
#define MAP "hostports"
/* nftables data type ids, concatenated 6 bits each (nft's datatype.h). */
#define TYPE_IPADDR 7
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13

struct batch {
	struct mnl_nlmsg_batch *b;
	char *buf;
	uint32_t seq;
};

static void batch_init(struct batch *bt)
{
	size_t size = 1 << 20;

	/* Zeroed: netlink attribute padding goes to the kernel as is. */
	bt->buf = cni_xcalloc(size, 1);
	bt->b = mnl_nlmsg_batch_start(bt->buf, size);
	bt->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
}

static void batch_done(struct batch *bt)
{
	mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
}

static struct nlmsghdr *msg(struct batch *bt, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_IPV4,
				     flags | NLM_F_ACK, bt->seq++);
}

static void next(struct batch *bt)
{
	mnl_nlmsg_batch_next(bt->b);
}

/* Send the batch; returns 0 or the first negative errno the kernel gave. */
static int batch_send(struct batch *bt)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid;
	int r = 0, err = 0;
	ssize_t n;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
		r = -errno;
		goto out;
	}
	/* The kernel handles the whole batch inside sendmsg(): every answer is
	 * already queued, so read until the queue is empty. */
	while ((n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (mnl_cb_run(buf, (size_t)n, 0, portid, NULL, NULL) < 0 && !err)
			err = -errno;
	}
	r = err;
out:
	mnl_socket_close(nl);
	return r;
}

static void put_table(struct batch *bt)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nftnl_table_nlmsg_build_payload(msg(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
	next(bt);
	nftnl_table_free(t);
}

static void put_chain(struct batch *bt, const char *name, uint32_t hook, int prio, bool flush)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_nlmsg_build_payload(msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	next(bt);
	nftnl_chain_free(c);
	if (!flush)
		return;
	/* Flush: delete every rule of the chain (a rule message with no handle). */
	{
		struct nftnl_rule *r = nftnl_rule_alloc();

		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
		nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_DELRULE, 0), r);
		next(bt);
		nftnl_rule_free(r);
	}
}

static struct nftnl_set *hostports_set(void)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, MAP);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_PROTOCOL << 6 | TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, TYPE_IPADDR << 6 | TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 8);
	return s;
}

static void put_set(struct batch *bt)
{
	struct nftnl_set *s = hostports_set();

	nftnl_set_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	next(bt);
	nftnl_set_free(s);
}

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

/* fib daddr type local dnat ip to meta l4proto . th dport map @hostports */
static void put_dnat_rule(struct batch *bt, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	uint32_t local = RTN_LOCAL;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);

	e = nftnl_expr_alloc("fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add_expr(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &local, sizeof(local));
	add_expr(r, e);

	e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG32_00);
	add_expr(r, e);
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01);
	add_expr(r, e);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG32_00);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, MAP);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, 1);
	add_expr(r, e);
	e = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	add_expr(r, e);

	nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	next(bt);
	nftnl_rule_free(r);
}

static void put_match_net(struct nftnl_rule *r, uint32_t offset, uint32_t net, uint32_t mask,
			  uint32_t op)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	add_expr(r, e);
	e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	add_expr(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &net, 4);
	add_expr(r, e);
}

/* ip saddr NET ip daddr != NET masquerade */
static void put_masq_rule(struct batch *bt, const char *chain, uint32_t net, uint32_t mask)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	put_match_net(r, 12, net, mask, NFT_CMP_EQ);
	put_match_net(r, 16, net, mask, NFT_CMP_NEQ);
	add_expr(r, nftnl_expr_alloc("masq"));
	nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	next(bt);
	nftnl_rule_free(r);
}

/* The pod's first IPv4 address, and its network and mask (network order). */
static bool pod_ipv4(const struct cni_result *res, uint32_t *addr, uint32_t *net, uint32_t *mask)
{
	size_t i;

	for (i = 0; res && i < res->n_ips; i++) {
		char *copy = cni_strdup(res->ips[i].address), *slash = strchr(copy, '/');
		struct in_addr a;
		int plen = slash ? atoi(slash + 1) : 32, ok;

		if (slash)
			*slash = '\0';
		ok = inet_pton(AF_INET, copy, &a) == 1 && plen >= 0 && plen <= 32;
		free(copy);
		if (!ok)
			continue;
		*addr = a.s_addr;
		*mask = plen ? htonl(~0u << (32 - plen)) : 0;
		*net = a.s_addr & *mask;
		return true;
	}
	return false;
}

static void put_elems(struct batch *bt, const struct cni_conf *conf, uint32_t addr, bool add)
{
	struct nftnl_set *s = hostports_set();
	size_t i;

	for (i = 0; i < conf->n_portmaps; i++) {
		const struct cni_portmap *pm = &conf->portmaps[i];
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint8_t key[8] = { 0 }, val[8] = { 0 };
		uint16_t hport = htons((uint16_t)pm->host_port), cport = htons((uint16_t)pm->container_port);

		key[0] = strcmp(pm->protocol, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
		memcpy(key + 4, &hport, 2);
		memcpy(val, &addr, 4);
		memcpy(val + 4, &cport, 2);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		if (add)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, val, sizeof(val));
		nftnl_set_elem_add(s, e);
	}
	nftnl_set_elems_nlmsg_build_payload(msg(bt, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
						add ? NLM_F_CREATE : 0), s);
	next(bt);
	nftnl_set_free(s);
}

static char *masq_chain(const struct cni_conf *conf)
{
	return cni_asprintf("masq-%s", conf->name);
}

int cni_nft_add(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res)
{
	uint32_t addr, net, mask;
	struct batch bt;
	char *chain;
	int r;

	(void)env;
	if ((!conf->n_portmaps && !conf->ip_masq) || !pod_ipv4(res, &addr, &net, &mask))
		return 0;
	batch_init(&bt);
	put_table(&bt);
	if (conf->n_portmaps) {
		put_set(&bt);
		put_chain(&bt, "prerouting", NF_INET_PRE_ROUTING, -100, true);
		put_dnat_rule(&bt, "prerouting");
		put_chain(&bt, "output", NF_INET_LOCAL_OUT, -100, true);
		put_dnat_rule(&bt, "output");
		put_elems(&bt, conf, addr, true);
	}
	if (conf->ip_masq) {
		chain = masq_chain(conf);
		put_chain(&bt, chain, NF_INET_POST_ROUTING, 100, true);
		put_masq_rule(&bt, chain, net, mask);
		free(chain);
	}
	r = batch_send(&bt);
	batch_done(&bt);
	if (r == -EEXIST || r == -EBUSY)
		return cni_fail(CNI_ERR_NO_ADDRESS, "host port already allocated",
				"runtimeConfig.portMappings: a host port is mapped to another pod");
	if (r < 0)
		return cni_fail(CNI_ERR_INTERNAL, "cannot program nftables", "%s", strerror(-r));
	return 0;
}

int cni_nft_del(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res)
{
	struct cni_conf one;
	struct batch bt;
	size_t i;
	int r;

	(void)env;
	(void)res;
	if (!conf->n_portmaps)
		return 0;
	batch_init(&bt);
	put_elems(&bt, conf, 0, false);
	r = batch_send(&bt);
	batch_done(&bt);
	if (r != -ENOENT)
		return r < 0 ? cni_fail(CNI_ERR_INTERNAL, "cannot program nftables", "%s",
					strerror(-r)) : 0;
	/* Some are gone already (DEL repeated): remove the rest one by one. */
	for (i = 0; i < conf->n_portmaps; i++) {
		one = *conf;
		one.portmaps = &conf->portmaps[i];
		one.n_portmaps = 1;
		batch_init(&bt);
		put_elems(&bt, &one, 0, false);
		r = batch_send(&bt);
		batch_done(&bt);
		if (r < 0 && r != -ENOENT)
			return cni_fail(CNI_ERR_INTERNAL, "cannot program nftables", "%s",
					strerror(-r));
	}
	return 0;
}

/* ---- GC: hostPort entries of pods that no longer hold their address ---- */

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	nftnl_set_elems_nlmsg_parse(nlh, data);
	return MNL_CB_OK;
}

/* The hostports map as the kernel holds it; -ENOENT when there is none. */
static int dump_hostports(struct nftnl_set *s)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t portid, seq = (uint32_t)time(NULL);
	ssize_t n;
	int r = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	memset(buf, 0, sizeof(buf));    /* attribute padding is sent as is */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4, NLM_F_DUMP | NLM_F_ACK,
				    seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, elems_cb, s);
		if (r <= 0)
			break;
	}
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

static bool in_subnets(const struct cni_conf *conf, uint32_t addr)
{
	size_t i, j;

	for (i = 0; i < conf->n_range_sets; i++)
		for (j = 0; j < conf->range_sets[i].n_ranges; j++) {
			struct cni_result one = { 0 };
			uint32_t a, net, mask;
			bool v4;

			cni_result_add_ip(&one, conf->range_sets[i].ranges[j].subnet, NULL, -1);
			v4 = pod_ipv4(&one, &a, &net, &mask);
			cni_result_done(&one);
			if (v4 && (addr & mask) == net)
				return true;
		}
	return false;
}

static bool is_live(uint32_t addr, const char *const *live, size_t n_live)
{
	char s[INET_ADDRSTRLEN];
	size_t i, len;

	inet_ntop(AF_INET, &addr, s, sizeof(s));
	len = strlen(s);
	for (i = 0; i < n_live; i++)
		if (!strncmp(live[i], s, len) && (live[i][len] == '/' || !live[i][len]))
			return true;
	return false;
}

int cni_nft_gc(const struct cni_conf *conf, const char *const *live, size_t n_live)
{
	struct nftnl_set *s = hostports_set(), *stale = hostports_set();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct batch bt;
	int r, n = 0;

	r = dump_hostports(s);
	if (r == -ENOENT)
		r = 0;
	it = r < 0 ? NULL : nftnl_set_elems_iter_create(s);
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
		uint32_t klen = 0, dlen = 0, addr;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		const uint8_t *val = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen);
		struct nftnl_set_elem *d;

		if (!key || !val || dlen < 4)
			continue;
		memcpy(&addr, val, 4);
		/* Only this network's pods: another network's are not ours to judge. */
		if (!in_subnets(conf, addr) || is_live(addr, live, n_live))
			continue;
		d = nftnl_set_elem_alloc();
		nftnl_set_elem_set(d, NFTNL_SET_ELEM_KEY, key, klen);
		nftnl_set_elem_add(stale, d);
		n++;
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	if (n) {
		batch_init(&bt);
		nftnl_set_elems_nlmsg_build_payload(msg(&bt, NFT_MSG_DELSETELEM, 0), stale);
		next(&bt);
		r = batch_send(&bt);
		batch_done(&bt);
	}
	nftnl_set_free(s);
	nftnl_set_free(stale);
	if (r < 0)
		return cni_fail(CNI_ERR_INTERNAL, "cannot program nftables", "GC: %s", strerror(-r));
	return n;
}

/* The value the map holds for key, or false. */
static bool find_elem(struct nftnl_set *s, const uint8_t *key, uint8_t *val)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e;
	bool found = false;

	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e && !found;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t klen = 0, dlen = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		const void *d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen);

		if (k && d && klen == 8 && dlen == 8 && !memcmp(k, key, 8)) {
			memcpy(val, d, 8);
			found = true;
		}
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	return found;
}

int cni_nft_check(const struct cni_env *env, const struct cni_conf *conf,
		  const struct cni_result *res)
{
	struct nftnl_set *s;
	uint32_t addr, net, mask;
	size_t i;
	int r;

	(void)env;
	if (!conf->n_portmaps || !pod_ipv4(res, &addr, &net, &mask))
		return 0;
	s = hostports_set();
	r = dump_hostports(s);
	for (i = 0; r >= 0 && i < conf->n_portmaps; i++) {
		const struct cni_portmap *pm = &conf->portmaps[i];
		uint8_t key[8] = { 0 }, want[8] = { 0 }, got[8];
		uint16_t hport = htons((uint16_t)pm->host_port);
		uint16_t cport = htons((uint16_t)pm->container_port);

		key[0] = strcmp(pm->protocol, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
		memcpy(key + 4, &hport, 2);
		memcpy(want, &addr, 4);
		memcpy(want + 4, &cport, 2);
		if (!find_elem(s, key, got) || memcmp(got, want, 6) != 0)
			r = cni_fail(CNI_ERR_CHECK_FAILED, "hostPort mapping differs",
				     "runtimeConfig.portMappings[%zu]: %s %d is not mapped to this pod's port %d",
				     i, pm->protocol, pm->host_port, pm->container_port);
	}
	nftnl_set_free(s);
	if (r < 0 && !cni_failed())
		return cni_fail(CNI_ERR_CHECK_FAILED, "hostPort mapping missing", "%s", strerror(-r));
	return r < 0 ? -1 : 0;
}
