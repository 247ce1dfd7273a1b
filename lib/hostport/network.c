/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pod networks: a base chain per network ("net-NAME", nat postrouting) with
 *   hairpin:  marked (a published port) and from a subnet to the same
 *             subnet: masquerade, or the reply would go pod to pod directly;
 *   ipMasq:   from a subnet to anywhere outside it (but multicast):
 *             masquerade.
 * The chain's comment records what it was made from, so a call that changes
 * nothing sends nothing: CNI ADDs repeat it for every pod, and every commit
 * makes long-lived layers of other processes check their tables.
 */
#include <stdio.h>
#include <string.h>

#include "hostport/internal.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

struct subnet {
	struct hp_addr net;
	unsigned len;
};

static void hairpin_rule(struct k8snet_hostports *hp, struct nft_batch *b, const char *chain,
			 const struct subnet *s)
{
	int nfproto = s->net.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, chain);
	uint32_t bit = hp_mark(hp), zero = 0;

	nft_e_meta_eq_u8(r, NFT_META_NFPROTO, (uint8_t)nfproto);
	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &bit, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &bit, 4);
	nft_e_cidr(r, nfproto, true, s->net.a, s->len, NFT_CMP_EQ);
	nft_e_cidr(r, nfproto, false, s->net.a, s->len, NFT_CMP_EQ);
	nft_e_masq(r);
	nft_rule_comment(r, "hairpin: a pod to a published port of its own network");
	nft_batch_rule(b, r);
}

static void masq_rule(struct k8snet_hostports *hp, struct nft_batch *b, const char *chain,
		      const struct subnet *s)
{
	int nfproto = s->net.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, chain);
	uint8_t mcast[16] = { 0 };

	mcast[0] = nfproto == NFPROTO_IPV4 ? 224 : 0xff;
	nft_e_meta_eq_u8(r, NFT_META_NFPROTO, (uint8_t)nfproto);
	nft_e_cidr(r, nfproto, true, s->net.a, s->len, NFT_CMP_EQ);
	nft_e_cidr(r, nfproto, false, s->net.a, s->len, NFT_CMP_NEQ);
	nft_e_cidr(r, nfproto, false, mcast, nfproto == NFPROTO_IPV4 ? 4 : 8, NFT_CMP_NEQ);
	nft_e_masq(r);
	nft_rule_comment(r, "ipMasq: the network's traffic to elsewhere");
	nft_batch_rule(b, r);
}

/* "net=NAME flags=F subnets=A,B": what the chain is made from. */
static int fingerprint(const char *network, const struct subnet *s, size_t n, uint32_t flags,
		       char *buf, size_t len)
{
	size_t i, off;
	int w = snprintf(buf, len, "k8snet flags=%u subnets=", flags);

	(void)network;
	for (i = 0; w > 0 && (size_t)w < len && i < n; i++) {
		char a[INET6_ADDRSTRLEN];

		off = (size_t)w;
		hp_addr_str(&s[i].net, a, sizeof(a));
		w += snprintf(buf + off, len - off, "%s%s/%u", i ? "," : "", a, s[i].len);
	}
	return w > 0 && (size_t)w < len ? 0 : -E2BIG;
}

static int parse_subnets(struct k8snet_hostports *hp, const char *const *subnets, size_t n,
			 struct subnet **ret)
{
	struct subnet *v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	if (!v)
		return k8s_error(hp->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (hp_parse_cidr(subnets[i], &v[i].net, &v[i].len) < 0) {
			free(v);
			return k8s_error(hp->ctx, -EINVAL, "subnets[%zu]: '%s' is not a CIDR", i,
					 subnets[i] ? subnets[i] : "(null)");
		}
	*ret = v;
	return 0;
}

static int send_network(struct k8snet_hostports *hp, const char *chain, const struct subnet *s,
			size_t n, uint32_t flags, const char *comment, uint32_t gen)
{
	struct nft_hook hook = { NF_INET_POST_ROUTING, 101, "nat" };
	struct nft_batch *b;
	size_t i;
	int r = nft_batch_new(hp->ctx, &b);

	if (r < 0)
		return k8s_error(hp->ctx, r, "out of memory");
	hp_table_base(hp, b);
	nft_batch_owner(b, "network chain %s", chain);
	/* Made again whole: its comment says what it was made from. */
	nft_batch_chain(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, hp->table, chain, &hook);
	nft_batch_chain(b, NFT_MSG_DELCHAIN, NFPROTO_INET, hp->table, chain, NULL);
	if (n) {
		nft_batch_chain_comment(b, NFPROTO_INET, hp->table, chain, &hook, comment);
		for (i = 0; i < n && !(flags & K8SNET_HOSTPORTS_F_NO_HAIRPIN); i++)
			hairpin_rule(hp, b, chain, &s[i]);
		for (i = 0; i < n && (flags & K8SNET_HOSTPORTS_F_MASQUERADE); i++)
			masq_rule(hp, b, chain, &s[i]);
	}
	r = nft_batch_commit(b, gen);
	nft_batch_free(b);
	return r;
}

struct network_args {
	struct k8snet_hostports *hp;
	const char *chain, *want;
	const struct subnet *s;
	size_t n;
	uint32_t flags;
};

/* One attempt (see nft_retry): nothing is sent when the chain's fingerprint
 * already says so (or the chain is already gone). */
static int network_once(void *arg)
{
	const struct network_args *a = arg;
	char have[1024];
	uint32_t gen;
	int r = nft_gen_get(a->hp->ctx, &gen);

	if (r >= 0)
		r = nft_chain_comment(a->hp->ctx, NFPROTO_INET, a->hp->table, a->chain, gen, have,
				      sizeof(have));
	if (r < 0 || (r > 0 && a->n && strcmp(have, a->want) == 0) || (r == 0 && !a->n))
		return r < 0 ? r : 0;
	return send_network(a->hp, a->chain, a->s, a->n, a->flags, a->want, gen);
}

K8SNET_EXPORT int k8snet_hostports_set_network(struct k8snet_hostports *hp, const char *network,
					       const char *const *subnets, size_t n,
					       uint32_t flags)
{
	char chain[NFT_NAME_MAX + 1], want[1024];
	struct subnet *s = NULL;
	int r;

	K8S_FORK_GUARD(hp);
	if (!hp)
		return -EINVAL;
	K8S_CHECK_ARG(hp->ctx, network && *network && (subnets || !n));
	k8snet_ctx_clear_error(hp->ctx);
	if (flags & ~(K8SNET_HOSTPORTS_F_MASQUERADE | K8SNET_HOSTPORTS_F_NO_HAIRPIN))
		return k8s_error(hp->ctx, -EINVAL, "unknown flags 0x%x", flags);
	if ((size_t)snprintf(chain, sizeof(chain), "net-%s", network) >= sizeof(chain))
		return k8s_error(hp->ctx, -ENAMETOOLONG, "network name too long");
	r = parse_subnets(hp, subnets, n, &s);
	if (r >= 0 && fingerprint(network, s, n, flags, want, sizeof(want)) < 0)
		r = k8s_error(hp->ctx, -E2BIG, "too many subnets");
	if (r >= 0)
		r = nft_retry(hp->ctx, network_once,
			      &(struct network_args){ .hp = hp, .chain = chain, .want = want, .s = s,
						      .n = n, .flags = flags });
	free(s);
	return r < 0 ? r : 0;
}
