/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table's fixed part.  Every change re-makes it in its own transaction
 * (create if missing, flush the fixed chains, add their rules): the maps
 * and their elements stay, and a chain someone flushed or deleted is whole
 * again after the next change.
 */
#include <string.h>

#include "hostport/internal.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

K8SNET_EXPORT int k8snet_hostports_new(struct k8snet_ctx *ctx, struct k8snet_hostports **ret)
{
	struct k8snet_hostports *hp;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, ret);
	hp = calloc(1, sizeof(*hp));
	if (!hp || !(hp->table = strdup(HP_DEFAULT_TABLE))) {
		free(hp);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	hp->ctx = k8snet_ctx_ref(ctx);
	hp->mark_bit = 13;
	*ret = hp;
	return 0;
}

K8SNET_EXPORT struct k8snet_hostports *k8snet_hostports_free(struct k8snet_hostports *hp)
{
	if (hp) {
		free(hp->table);
		k8snet_ctx_unref(hp->ctx);
		free(hp);
	}
	return NULL;
}

K8SNET_EXPORT int k8snet_hostports_set_str(struct k8snet_hostports *hp, uint32_t attr,
					   const char *value)
{
	char *copy;

	K8S_FORK_GUARD(hp);
	if (!hp)
		return -EINVAL;
	K8S_CHECK_ARG(hp->ctx, value);
	if (attr != K8SNET_HOSTPORTS_TABLE)
		return k8s_error(hp->ctx, -EINVAL, "unknown string attribute %u", attr);
	if (!nft_table_name_valid(value))
		return k8s_error(hp->ctx, -EINVAL, "table name '%s': must be letters, digits, '-' "
				 "or '_', starting with a letter", value);
	copy = strdup(value);
	if (!copy)
		return k8s_error(hp->ctx, -ENOMEM, "out of memory");
	free(hp->table);
	hp->table = copy;
	return 0;
}

K8SNET_EXPORT int k8snet_hostports_set_u32(struct k8snet_hostports *hp, uint32_t attr,
					   uint32_t value)
{
	K8S_FORK_GUARD(hp);
	if (!hp)
		return -EINVAL;
	if (attr != K8SNET_HOSTPORTS_MARK_BIT)
		return k8s_error(hp->ctx, -EINVAL, "unknown number attribute %u", attr);
	if (value > 31)
		return k8s_error(hp->ctx, -EINVAL, "mark bit %u: must be 0..31", value);
	hp->mark_bit = value;
	return 0;
}

uint32_t hp_mark(const struct k8snet_hostports *hp)
{
	return 1u << hp->mark_bit;
}

/* ---------------- the fixed part ---------------- */

static void base_maps(struct k8snet_hostports *hp, struct nft_batch *b)
{
	uint32_t proto_port = NFT_TYPE_CONCAT(NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE);
	uint32_t t4 = NFT_TYPE_IPADDR, t6 = NFT_TYPE_IP6ADDR;
	/* A three-part key: each part 6 bits further left. */
#define KEY3(a) NFT_TYPE_CONCAT(NFT_TYPE_CONCAT(a, NFT_TYPE_INET_PROTOCOL), NFT_TYPE_INET_SERVICE)
	const struct nft_set_def maps[HP_NMAPS] = {
		[HP4] = { .name = "hp4", .flags = NFT_SET_MAP, .key_len = 12,
			  .key_type = KEY3(t4),
			  .data_type = NFT_TYPE_CONCAT(t4, NFT_TYPE_INET_SERVICE), .data_len = 8 },
		[HP4_ANY] = { .name = "hp4-any", .flags = NFT_SET_MAP, .key_len = 8,
			      .key_type = proto_port,
			      .data_type = NFT_TYPE_CONCAT(t4, NFT_TYPE_INET_SERVICE), .data_len = 8 },
		[HP6] = { .name = "hp6", .flags = NFT_SET_MAP, .key_len = 24,
			  .key_type = KEY3(t6),
			  .data_type = NFT_TYPE_CONCAT(t6, NFT_TYPE_INET_SERVICE), .data_len = 20 },
		[HP6_ANY] = { .name = "hp6-any", .flags = NFT_SET_MAP, .key_len = 8,
			      .key_type = proto_port,
			      .data_type = NFT_TYPE_CONCAT(t6, NFT_TYPE_INET_SERVICE), .data_len = 20 },
	};
	size_t i;

#undef KEY3
	for (i = 0; i < HP_NMAPS; i++)
		nft_batch_set(b, NFT_MSG_NEWSET, NFPROTO_INET, hp->table, &maps[i]);
}

/* [daddr .] l4proto . dport looked up in map; mark; dnat to the result.
 * A miss ends the rule before the mark. */
static void dnat_rule(struct k8snet_hostports *hp, struct nft_batch *b, enum hp_map map)
{
	int nfproto = map == HP4 || map == HP4_ANY ? NFPROTO_IPV4 : NFPROTO_IPV6;
	bool specific = map == HP4 || map == HP6;
	uint32_t reg = NFT_REG32_00, al = nfproto == NFPROTO_IPV4 ? 4 : 16;
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, "hostports");
	uint32_t bit = hp_mark(hp), mask = ~bit;

	nft_e_meta_eq_u8(r, NFT_META_NFPROTO, (uint8_t)nfproto);
	if (specific) {
		nft_e_addr(r, nfproto, false, reg);
		reg += al / 4;
	}
	nft_e_meta_get(r, NFT_META_L4PROTO, reg++);
	nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
	nft_e_lookup(r, hp_map_names[map], 0, NFT_REG32_00, NFT_REG_1, 0);
	/* The mark asks postrouting to masquerade loopback and hairpin
	 * connections; NFT_REG_4 is free whatever the family. */
	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_4);
	nft_e_bitwise(r, NFT_REG_4, &mask, &bit, 4);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_4);
	nft_e_nat(r, NFT_NAT_DNAT, nfproto, NFT_REG_1, nfproto == NFPROTO_IPV4 ? NFT_REG32_01 :
		  NFT_REG32_04);
	nft_rule_comment(r, specific ? "published on one address" : "published on every local address");
	nft_batch_rule(b, r);
}

static void jump_if_local(struct k8snet_hostports *hp, struct nft_batch *b, const char *chain)
{
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, chain);

	nft_e_fib_local(r, NFTA_FIB_F_DADDR);
	nft_e_verdict(r, NFT_JUMP, "hostports");
	nft_batch_rule(b, r);
}

/* Connections made on the node to its loopback address and sent to a pod
 * (with route_localnet) must leave with another source. */
static void loopback_masq(struct k8snet_hostports *hp, struct nft_batch *b)
{
	uint8_t lo[4] = { 127, 0, 0, 0 };
	uint32_t bit = hp_mark(hp), zero = 0;
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, "postrouting");

	nft_e_meta_eq_u8(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &bit, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &bit, 4);
	nft_e_cidr(r, NFPROTO_IPV4, true, lo, 8, NFT_CMP_EQ);
	nft_e_masq(r);
	nft_rule_comment(r, "published ports reached through the loopback address");
	nft_batch_rule(b, r);
}

/* route_localnet on a bridge (for the loopback path above) also lets a pod
 * send packets to the node's 127.0.0.0/8, reaching services bound there
 * (CVE-2020-8558, which kube-proxy guards the same way): to a loopback
 * address, only from the loopback device or as part of a connection the
 * node itself made. */
static void loopback_guard(struct k8snet_hostports *hp, struct nft_batch *b)
{
	uint8_t lo[4] = { 127, 0, 0, 0 };
	uint16_t loopback = 772;   /* ARPHRD_LOOPBACK */
	uint32_t est = (1u << (IP_CT_ESTABLISHED + 1)) | (1u << (IP_CT_RELATED + 1)), zero = 0;
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, hp->table, "input");

	nft_e_meta_eq_u8(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	nft_e_cidr(r, NFPROTO_IPV4, false, lo, 8, NFT_CMP_EQ);
	nft_e_meta_get(r, NFT_META_IIFTYPE, NFT_REG_1);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &loopback, 2);
	nft_e_ct_get(r, NFT_CT_STATE, -1, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &est, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &zero, 4);
	nft_e_verdict(r, NF_DROP, NULL);
	nft_rule_comment(r, "no new connections to 127.0.0.0/8 from outside the node");
	nft_batch_rule(b, r);
}

void hp_table_base(struct k8snet_hostports *hp, struct nft_batch *b)
{
	static const struct {
		const char *name;
		struct nft_hook hook;
	} hooked[] = {
		{ "prerouting", { NF_INET_PRE_ROUTING, -100, "nat" } },
		{ "output", { NF_INET_LOCAL_OUT, -100, "nat" } },
		{ "postrouting", { NF_INET_POST_ROUTING, 100, "nat" } },
		{ "input", { NF_INET_LOCAL_IN, 0, "filter" } },
	};
	size_t i;

	nft_batch_owner(b, "table inet %s", hp->table);
	nft_batch_table(b, NFT_MSG_NEWTABLE, NFPROTO_INET, hp->table, 0);
	base_maps(hp, b);
	for (i = 0; i < ARRAY_SIZE(hooked); i++)
		nft_batch_chain(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, hp->table, hooked[i].name,
				&hooked[i].hook);
	nft_batch_chain(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, hp->table, "hostports", NULL);
	for (i = 0; i < ARRAY_SIZE(hooked); i++)
		nft_batch_flush_chain(b, NFPROTO_INET, hp->table, hooked[i].name);
	nft_batch_flush_chain(b, NFPROTO_INET, hp->table, "hostports");
	jump_if_local(hp, b, "prerouting");
	jump_if_local(hp, b, "output");
	for (i = 0; i < HP_NMAPS; i++)
		dnat_rule(hp, b, (enum hp_map)i);
	loopback_masq(hp, b);
	loopback_guard(hp, b);
}
