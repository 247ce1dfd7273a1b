/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Service NAT's messages: the planner's fragments (chains, rules, set
 * elements) turned into nftables messages through the shared module
 * (lib/nft), which builds, sends and acknowledges the batch.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <net/if_arp.h>
#include <string.h>

#include "nat/internal.h"
#include "nft/nft.h"

#define T_IPV4 NFT_TYPE_IPADDR
#define T_IPV6 NFT_TYPE_IP6ADDR
#define T_PROTO NFT_TYPE_INET_PROTOCOL
#define T_SERVICE NFT_TYPE_INET_SERVICE
#define CONCAT NFT_TYPE_CONCAT

struct nat_batch {
	struct k8snet_proxy *p;
	struct nft_batch *nb;
	struct nft_table_ref expect[2];   /* expectation batches: their tables */
};

static int nfproto(int fam)
{
	return fam == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

static uint32_t al(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

static int batch_new(struct k8snet_proxy *p, struct nft_inv *want, struct nat_batch **ret)
{
	struct nat_batch *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	b->p = p;
	if (want) {
		b->expect[0] = (struct nft_table_ref){ NFPROTO_IPV4, p->cfg.table, &want[0] };
		b->expect[1] = (struct nft_table_ref){ NFPROTO_IPV6, p->cfg.table, &want[1] };
		r = nft_batch_new_expect(p->ctx, b->expect, 2, &b->nb);
	} else {
		r = nft_batch_new(p->ctx, &b->nb);
	}
	if (r < 0) {
		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

int nat_batch_new(struct k8snet_proxy *p, struct nat_batch **ret)
{
	return batch_new(p, NULL, ret);
}

int nat_batch_new_expect(struct k8snet_proxy *p, struct nft_inv want[2], struct nat_batch **ret)
{
	return batch_new(p, want, ret);
}

void nat_batch_free(struct nat_batch *b)
{
	if (!b)
		return;
	nft_batch_free(b->nb);
	free(b);
}

/* Owners are fragments' names or string constants: they outlive the batch. */
void nat_batch_what(struct nat_batch *b, const char *what)
{
	nft_batch_owner_ref(b->nb, what);
}

size_t nat_batch_count(const struct nat_batch *b)
{
	return nft_batch_count(b->nb);
}

size_t nat_batch_len(const struct nat_batch *b)
{
	return nft_batch_bytes(b->nb);
}

int nat_batch_send(struct nat_batch *b, uint32_t genid)
{
	return nft_batch_commit(b->nb, genid);
}

uint32_t nat_batch_commit_gen(const struct nat_batch *b)
{
	return nft_batch_commit_gen(b->nb);
}

/* ---------------- tables, chains, sets ---------------- */

int nat_batch_table_replace(struct nat_batch *b, int fam)
{
	nft_batch_table_replace(b->nb, nfproto(fam), b->p->cfg.table);
	return nft_batch_error(b->nb);
}

int nat_batch_table_delete(struct nat_batch *b, int fam)
{
	nft_batch_table_delete(b->nb, nfproto(fam), b->p->cfg.table);
	return nft_batch_error(b->nb);
}

int nat_batch_chain(struct nat_batch *b, int fam, const char *name, bool add)
{
	nft_batch_chain(b->nb, add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, nfproto(fam),
			b->p->cfg.table, name, NULL);
	return nft_batch_error(b->nb);
}

int nat_batch_flush_chain(struct nat_batch *b, int fam, const char *name)
{
	nft_batch_flush_chain(b->nb, nfproto(fam), b->p->cfg.table, name);
	return nft_batch_error(b->nb);
}

int nat_batch_aset(struct nat_batch *b, int fam, const struct nat_aset *a, bool add)
{
	struct nft_set_def def = {
		.name = a->name, .flags = NFT_SET_TIMEOUT | NFT_SET_EVAL,
		.key_type = fam == AF_INET ? T_IPV4 : T_IPV6, .key_len = al(fam),
		.timeout_ms = (uint64_t)a->timeout * 1000,
	};

	nft_batch_set(b->nb, add ? NFT_MSG_NEWSET : NFT_MSG_DELSET, nfproto(fam), b->p->cfg.table,
		      &def);
	return nft_batch_error(b->nb);
}

/* ---------------- elements ---------------- */

static void to_nft_elem(const struct nat_elem *e, uint32_t owner, struct nft_elem *ret)
{
	*ret = (struct nft_elem){ .key = e->key, .klen = e->klen, .owner = owner };
	if (e->chain) {
		ret->verdict = NFT_GOTO;
		ret->chain = e->chain;
	} else if (e->dlen) {
		ret->data = e->data;
		ret->dlen = e->dlen;
	} else if (e->obj) {
		ret->objref = e->obj;
	}
}

/* Elements of several sets, sorted by set, each with its owner (0: the
 * batch's current one): one run of messages per set. */
int nat_batch_elems(struct nat_batch *b, int fam, struct nat_elem *const *elems, size_t n,
		    bool add)
{
	struct nft_elem *v = calloc(n ? n : 1, sizeof(*v));
	size_t i = 0, j;

	if (!v)
		return -ENOMEM;
	while (i < n) {
		for (j = i; j < n && elems[j]->set == elems[i]->set; j++)
			to_nft_elem(elems[j], elems[j]->owner, &v[j]);
		nft_batch_elems(b->nb, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, nfproto(fam),
				b->p->cfg.table, nat_set_names[elems[i]->set], 0, v + i, j - i);
		i = j;
	}
	free(v);
	return nft_batch_error(b->nb);
}

uint32_t nat_batch_owner(struct nat_batch *b, const char *what)
{
	return nft_batch_owner_ref(b->nb, what);
}

int nat_batch_hairpin(struct nat_batch *b, int fam, const struct nat_addr *a, size_t n, bool add)
{
	uint8_t(*keys)[32] = calloc(n ? n : 1, sizeof(*keys));
	struct nft_elem *e = calloc(n ? n : 1, sizeof(*e));
	size_t i;

	if (!keys || !e) {
		free(keys);
		free(e);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* saddr . daddr: an endpoint reaching itself through a service */
		memcpy(keys[i], a[i].a, al(fam));
		memcpy(keys[i] + al(fam), a[i].a, al(fam));
		e[i] = (struct nft_elem){ .key = keys[i], .klen = 2 * al(fam) };
	}
	nft_batch_elems(b->nb, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, nfproto(fam),
			b->p->cfg.table, nat_set_names[S_HAIRPIN], 0, e, n);
	free(keys);
	free(e);
	return nft_batch_error(b->nb);
}

int nat_batch_counter(struct nat_batch *b, int fam, const char *name, uint64_t packets,
		      uint64_t bytes, bool add)
{
	struct nft_counter_def c = { name, packets, bytes };

	nft_batch_counter(b->nb, add ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ, nfproto(fam),
			  b->p->cfg.table, &c);
	return nft_batch_error(b->nb);
}

/* ---------------- our rules ---------------- */

static struct nft_rule *rule_new(struct nat_batch *b, int fam, const char *chain)
{
	return nft_rule_new(nfproto(fam), b->p->cfg.table, chain);
}

static void e_match(struct nft_rule *r, int fam, const struct nat_rule *nr)
{
	if (nr->match == M_SADDR_CIDR)
		nft_e_cidr(r, nfproto(fam), true, nr->cidr.a, nr->cidr.plen, NFT_CMP_EQ);
	else if (nr->match == M_FIB_SADDR_LOCAL)
		nft_e_fib_local(r, NFTA_FIB_F_SADDR);
}

static uint32_t numgen_type(const struct nat_batch *b)
{
	return b->p->cfg.flags & K8SNET_PROXY_F_ROUND_ROBIN ? NFT_NG_INCREMENTAL : NFT_NG_RANDOM;
}

static uint32_t mark_bit(const struct nat_batch *b)
{
	return 1u << b->p->cfg.mark_bit;
}

/* numgen mod n vmap { i : goto chain_i }: an anonymous map, made in this
 * batch (only affinity services use these); its messages precede the rule. */
static void aff_pick(struct nat_batch *b, struct nft_rule *r, int fam, const struct nat_rule *nr)
{
	struct nft_set_def def = {
		.name = "__map%d", .flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP,
		.key_type = NFT_TYPE_INTEGER, .key_len = 4, .data_type = NFT_DATA_VERDICT,
		.key_host_order = true, .id = nft_batch_next_set_id(b->nb),
	};
	uint32_t *idx = calloc(nr->n, sizeof(*idx));
	struct nft_elem *e = calloc(nr->n, sizeof(*e));
	uint32_t i;

	if (!idx || !e) {
		nft_rule_free(r);
		r = NULL;
	} else {
		nft_batch_set(b->nb, NFT_MSG_NEWSET, nfproto(fam), b->p->cfg.table, &def);
		for (i = 0; i < nr->n; i++) {
			idx[i] = i;
			e[i] = (struct nft_elem){ .key = (const uint8_t *)&idx[i], .klen = 4,
						  .verdict = NFT_GOTO, .chain = nr->targets[i] };
		}
		nft_batch_elems(b->nb, NFT_MSG_NEWSETELEM, nfproto(fam), b->p->cfg.table, def.name,
				def.id, e, nr->n);
		nft_e_numgen(r, NFT_REG_1, nr->n, numgen_type(b));
		nft_e_lookup(r, def.name, def.id, NFT_REG_1, NFT_REG_VERDICT, 0);
	}
	free(idx);
	free(e);
	nft_batch_rule(b->nb, r);
}

static void aff_dnat(struct nft_rule *r, int fam, const struct nat_rule *nr)
{
	uint8_t port[4] = { (uint8_t)(nr->port >> 8), (uint8_t)nr->port };

	nft_e_meta_eq_u8(r, NFT_META_L4PROTO, nr->proto);
	nft_e_addr(r, nfproto(fam), true, NFT_REG_1);
	nft_e_dynset_update(r, nr->target, NFT_REG_1);
	nft_e_imm(r, NFT_REG_1, nr->addr.a, al(fam));
	nft_e_imm(r, NFT_REG_2, port, 2);
	nft_e_nat(r, NFT_NAT_DNAT, nfproto(fam), NFT_REG_1, NFT_REG_2);
}

/* [daddr .] l4proto . dport . numgen mod n -> endpoint address . port, in
 * consecutive 32-bit registers from NFT_REG32_00, looked up in one go. */
static void pick(struct nat_batch *b, struct nft_rule *r, int fam, const struct nat_rule *nr)
{
	uint32_t reg = NFT_REG32_00;

	nft_e_meta_eq_u8(r, NFT_META_L4PROTO, nr->proto);
	if (!nr->nodeport) {
		nft_e_addr(r, nfproto(fam), false, reg);
		reg += al(fam) / 4;
	}
	nft_e_meta_get(r, NFT_META_L4PROTO, reg++);
	nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg++);
	nft_e_numgen(r, reg, nr->n, numgen_type(b));
	nft_e_lookup(r, nat_set_names[nr->nodeport ? S_NP_ENDPOINTS : S_ENDPOINTS], 0, NFT_REG32_00,
		     NFT_REG_1, 0);
	nft_e_nat(r, NFT_NAT_DNAT, nfproto(fam), NFT_REG_1,
		  fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04);
}

int nat_batch_rule(struct nat_batch *b, int fam, const char *chain, const struct nat_rule *nr)
{
	struct nft_rule *r = rule_new(b, fam, chain);

	if (nr->kind == R_AFF_PICK) {
		aff_pick(b, r, fam, nr);
		return nft_batch_error(b->nb);
	}
	e_match(r, fam, nr);
	switch (nr->kind) {
	case R_GOTO:
		nft_e_verdict(r, NFT_GOTO, nr->target);
		break;
	case R_JUMP:
		nft_e_verdict(r, NFT_JUMP, nr->target);
		break;
	case R_MARK_GOTO:
		nft_e_mark_or(r, mark_bit(b));
		nft_e_verdict(r, NFT_GOTO, nr->target);
		break;
	case R_MARK:
		nft_e_mark_or(r, mark_bit(b));
		break;
	case R_PICK:
		pick(b, r, fam, nr);
		break;
	case R_DROP:
		nft_e_verdict(r, NF_DROP, NULL);
		break;
	case R_AFF_CHECK:
		nft_e_addr(r, nfproto(fam), true, NFT_REG_1);
		nft_e_lookup(r, nr->target, 0, NFT_REG_1, -1, 0);
		nft_e_verdict(r, NFT_GOTO, nr->target2);
		break;
	case R_AFF_DNAT:
		aff_dnat(r, fam, nr);
		break;
	case R_AFF_PICK:
		break;
	}
	nft_batch_rule(b->nb, r);
	return nft_batch_error(b->nb);
}

int nat_batch_pick_chain(struct nat_batch *b, int fam, const char *name, bool add)
{
	struct nat_rule rules[4];
	size_t i, n = nat_pick_rules(b->p, fam, name, rules);

	if (!n)
		return -EINVAL;
	nat_batch_chain(b, fam, name, add);
	for (i = 0; add && i < n; i++)
		nat_batch_rule(b, fam, name, &rules[i]);
	return nft_batch_error(b->nb);
}

/* ---------------- the fixed part of a table ---------------- */

static bool counting(const struct nat_batch *b)
{
	return b->p->cfg.flags & K8SNET_PROXY_F_COUNT;
}

static void base_sets(struct nat_batch *b, int fam)
{
	uint32_t at = fam == AF_INET ? T_IPV4 : T_IPV6, alen = al(fam);
	struct nft_set_def sets[] = {
		{ .name = "service-ips", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(at, T_PROTO), T_SERVICE), .key_len = alen + 8,
		  .data_type = NFT_DATA_VERDICT },
		{ .name = "service-nodeports", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(T_PROTO, T_SERVICE), .key_len = 8,
		  .data_type = NFT_DATA_VERDICT },
		{ .name = "endpoints", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(CONCAT(at, T_PROTO), T_SERVICE), NFT_TYPE_MARK),
		  .key_len = alen + 12, .data_type = CONCAT(at, T_SERVICE), .data_len = alen + 4 },
		{ .name = "nodeport-endpoints", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(T_PROTO, T_SERVICE), NFT_TYPE_MARK), .key_len = 12,
		  .data_type = CONCAT(at, T_SERVICE), .data_len = alen + 4 },
		{ .name = "cluster-ips", .key_type = at, .key_len = alen },
		{ .name = "hairpin", .key_type = CONCAT(at, at), .key_len = 2 * alen },
		/* Object maps: the same keys as the dispatch maps, to counters. */
		{ .name = "service-counters",
		  .key_type = CONCAT(CONCAT(at, T_PROTO), T_SERVICE), .key_len = alen + 8,
		  .obj_type = NFT_OBJECT_COUNTER },
		{ .name = "nodeport-counters",
		  .key_type = CONCAT(T_PROTO, T_SERVICE), .key_len = 8,
		  .obj_type = NFT_OBJECT_COUNTER },
		/* The same keys again, to the ports' traffic counters. */
		{ .name = "service-traffic",
		  .key_type = CONCAT(CONCAT(at, T_PROTO), T_SERVICE), .key_len = alen + 8,
		  .obj_type = NFT_OBJECT_COUNTER },
		{ .name = "nodeport-traffic",
		  .key_type = CONCAT(T_PROTO, T_SERVICE), .key_len = 8,
		  .obj_type = NFT_OBJECT_COUNTER },
	};
	size_t i, n = ARRAY_SIZE(sets) - (counting(b) ? 0 : 4);

	for (i = 0; i < n; i++) {
		nft_batch_owner(b->nb, "set %s", sets[i].name);
		nft_batch_set(b->nb, NFT_MSG_NEWSET, nfproto(fam), b->p->cfg.table, &sets[i]);
	}
}

static void base_services(struct nat_batch *b, int fam)
{
	const struct nat_config *cfg = &b->p->cfg;
	uint32_t r0 = NFT_REG32_00, l4 = fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04;
	uint8_t lo[16] = { 0 };
	const struct nat_addr *np;
	struct nft_rule *r;
	size_t i, k, nnp;

	nft_batch_owner(b->nb, "chain services");
	/* With counting, each dispatch rule is preceded by its twin that
	 * counts through an object map with the same keys as the dispatch
	 * map: counter name KEY map @...-counters.  Nat chains see the first
	 * packet of each connection only: these count connections. */
	for (i = counting(b) ? 0 : 1; i < 2; i++) {
		r = rule_new(b, fam, "services");
		nft_e_addr(r, nfproto(fam), false, r0);
		nft_e_meta_get(r, NFT_META_L4PROTO, l4);
		nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, l4 + 1);
		if (i == 0)
			nft_e_objref_map(r, r0, "service-counters", 0);
		else
			nft_e_lookup(r, "service-ips", 0, r0, NFT_REG_VERDICT, 0);
		nft_batch_rule(b->nb, r);
	}

	if (fam == AF_INET)
		lo[0] = 127;
	else
		lo[15] = 1;
	np = nat_nodeport_addrs(cfg, fam, &nnp);
	for (i = 0; i == 0 || i < nnp; i++) {
		if (np && np[i].family != fam)
			continue;
		for (k = counting(b) ? 0 : 1; k < 2; k++) {
			r = rule_new(b, fam, "services");
			if (np) {
				nft_e_cidr(r, nfproto(fam), false, np[i].a, np[i].plen, NFT_CMP_EQ);
			} else {
				nft_e_fib_local(r, NFTA_FIB_F_DADDR);
				nft_e_cidr(r, nfproto(fam), false, lo, fam == AF_INET ? 8 : 128,
					   NFT_CMP_NEQ);
			}
			nft_e_meta_get(r, NFT_META_L4PROTO, NFT_REG32_08);
			nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_09);
			if (k == 0)
				nft_e_objref_map(r, NFT_REG32_08, "nodeport-counters", 0);
			else
				nft_e_lookup(r, "service-nodeports", 0, NFT_REG32_08,
					     NFT_REG_VERDICT, 0);
			nft_batch_rule(b->nb, r);
		}
	}
	/* A ClusterIP reached on a port no service has: rejected. */
	r = rule_new(b, fam, "services");
	nft_e_addr(r, nfproto(fam), false, NFT_REG_1);
	nft_e_lookup(r, "cluster-ips", 0, NFT_REG_1, -1, 0);
	nft_e_verdict(r, NFT_GOTO, "no-endpoints");
	nft_batch_rule(b->nb, r);
	/* Any other address of the service CIDRs belongs to no service:
	 * dropped here rather than sent off the node (kube-proxy does this). */
	for (i = 0; i < cfg->n_service_cidrs; i++) {
		if (cfg->service_cidrs[i].family != fam)
			continue;
		r = rule_new(b, fam, "services");
		nft_e_cidr(r, nfproto(fam), false, cfg->service_cidrs[i].a,
			   cfg->service_cidrs[i].plen, NFT_CMP_EQ);
		nft_e_verdict(r, NF_DROP, NULL);
		nft_batch_rule(b->nb, r);
	}
}

/* The traffic chain counts every packet of a service's connections, both
 * ways, keyed on the connection's original (pre-DNAT) destination, which
 * conntrack keeps for the replies too:
 *   counter name ct original daddr . meta l4proto . ct original proto-dst
 *           map @service-traffic
 * and a NodePort connection (DNATed, not to a ClusterIP) by its port:
 *   ct status dnat ct original daddr != @cluster-ips
 *           counter name meta l4proto . ct original proto-dst map @nodeport-traffic
 * The two exclude each other except for an external IP whose port is also a
 * NodePort number. */
/* meta l4proto { tcp, udp, sctp }: an anonymous set made in this batch.
 * The maps hold no other protocol, so the kernel would do without; nft
 * needs it to list "ct original proto-dst" (it aborts otherwise). */
static void l4_guard(struct nat_batch *b, struct nft_rule *r, int fam)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	struct nft_set_def def = {
		.name = "__set%d", .flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
		.key_type = T_PROTO, .key_len = 1, .id = nft_batch_next_set_id(b->nb),
	};
	struct nft_elem e[ARRAY_SIZE(protos)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		e[i] = (struct nft_elem){ .key = &protos[i], .klen = 1 };
	nft_batch_set(b->nb, NFT_MSG_NEWSET, nfproto(fam), b->p->cfg.table, &def);
	nft_batch_elems(b->nb, NFT_MSG_NEWSETELEM, nfproto(fam), b->p->cfg.table, def.name, def.id,
			e, ARRAY_SIZE(protos));
	nft_e_meta_get(r, NFT_META_L4PROTO, NFT_REG_1);
	nft_e_lookup(r, def.name, def.id, NFT_REG_1, -1, 0);
}

static void base_traffic(struct nat_batch *b, int fam)
{
	uint32_t l4 = fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04, dnat = IPS_DST_NAT, zero = 0;
	uint32_t dst = fam == AF_INET ? NFT_CT_DST_IP : NFT_CT_DST_IP6;
	struct nft_rule *r;

	nft_batch_owner(b->nb, "chain traffic");
	r = rule_new(b, fam, "traffic");
	l4_guard(b, r, fam);
	nft_e_ct_get(r, dst, IP_CT_DIR_ORIGINAL, NFT_REG32_00);
	nft_e_meta_get(r, NFT_META_L4PROTO, l4);
	nft_e_ct_get(r, NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, l4 + 1);
	nft_e_objref_map(r, NFT_REG32_00, "service-traffic", 0);
	nft_batch_rule(b->nb, r);

	r = rule_new(b, fam, "traffic");
	nft_e_ct_get(r, NFT_CT_STATUS, -1, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &dnat, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
	nft_e_ct_get(r, dst, IP_CT_DIR_ORIGINAL, NFT_REG_1);
	nft_e_lookup(r, "cluster-ips", 0, NFT_REG_1, -1, NFT_LOOKUP_F_INV);
	l4_guard(b, r, fam);
	nft_e_meta_get(r, NFT_META_L4PROTO, NFT_REG32_08);
	nft_e_ct_get(r, NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, NFT_REG32_09);
	nft_e_objref_map(r, NFT_REG32_08, "nodeport-traffic", 0);
	nft_batch_rule(b->nb, r);
}

/* Each packet passes one of input, forward and output, except one sent
 * over loopback, which passes output and then input: input skips it. */
static void base_traffic_hooks(struct nat_batch *b, int fam)
{
	static const struct { const char *name; uint32_t hook; } hooks[] = {
		{ "traffic-input", NF_INET_LOCAL_IN },
		{ "traffic-forward", NF_INET_FORWARD },
		{ "traffic-output", NF_INET_LOCAL_OUT },
	};
	uint16_t loopback = ARPHRD_LOOPBACK;
	struct nft_rule *r;
	size_t i;

	nft_batch_chain(b->nb, NFT_MSG_NEWCHAIN, nfproto(fam), b->p->cfg.table, "traffic", NULL);
	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		struct nft_hook h = { hooks[i].hook, 0, "filter" };

		nft_batch_owner(b->nb, "chain %s", hooks[i].name);
		nft_batch_chain(b->nb, NFT_MSG_NEWCHAIN, nfproto(fam), b->p->cfg.table,
				hooks[i].name, &h);
		if (hooks[i].hook == NF_INET_LOCAL_IN) {
			r = rule_new(b, fam, hooks[i].name);
			nft_e_meta_get(r, NFT_META_IIFTYPE, NFT_REG_1);
			nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &loopback, 2);
			nft_e_verdict(r, NFT_RETURN, NULL);
			nft_batch_rule(b->nb, r);
		}
		r = rule_new(b, fam, hooks[i].name);
		nft_e_verdict(r, NFT_JUMP, "traffic");
		nft_batch_rule(b->nb, r);
	}
	base_traffic(b, fam);
}

static void base_postrouting(struct nat_batch *b, int fam)
{
	uint32_t bit = mark_bit(b), all = ~0u, zero = 0;
	struct nft_rule *r;

	nft_batch_owner(b->nb, "chain nat-postrouting");
	r = rule_new(b, fam, "nat-postrouting");
	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &bit, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &bit, 4);
	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &all, &bit, 4);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	nft_e_masq(r);
	nft_batch_rule(b->nb, r);

	r = rule_new(b, fam, "nat-postrouting");
	nft_e_addr(r, nfproto(fam), true, NFT_REG32_00);
	nft_e_addr(r, nfproto(fam), false, fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04);
	nft_e_lookup(r, "hairpin", 0, NFT_REG32_00, -1, 0);
	nft_e_masq(r);
	nft_batch_rule(b->nb, r);
}

static void base_shared(struct nat_batch *b, int fam)
{
	const struct nat_config *cfg = &b->p->cfg;
	struct nft_rule *r;
	size_t i;

	nft_batch_owner(b->nb, "chain masq-outside");
	for (i = 0; !(cfg->flags & K8SNET_PROXY_F_MASQUERADE_ALL) && i < cfg->n_cluster_cidrs; i++) {
		if (cfg->cluster_cidrs[i].family != fam)
			continue;
		r = rule_new(b, fam, "masq-outside");
		nft_e_cidr(r, nfproto(fam), true, cfg->cluster_cidrs[i].a, cfg->cluster_cidrs[i].plen,
			   NFT_CMP_EQ);
		nft_e_verdict(r, NFT_RETURN, NULL);
		nft_batch_rule(b->nb, r);
	}
	if (nat_masq_outside(cfg, fam)) {
		r = rule_new(b, fam, "masq-outside");
		nft_e_mark_or(r, mark_bit(b));
		nft_batch_rule(b->nb, r);
	}

	nft_batch_owner(b->nb, "chain no-endpoints");
	r = rule_new(b, fam, "no-endpoints");
	nft_e_meta_eq_u8(r, NFT_META_L4PROTO, IPPROTO_TCP);
	nft_e_reject(r, NFT_REJECT_TCP_RST, 0);
	nft_batch_rule(b->nb, r);
	r = rule_new(b, fam, "no-endpoints");
	nft_e_reject(r, NFT_REJECT_ICMP_UNREACH,
		     fam == AF_INET ? ICMP_PORT_UNREACH : ICMP6_DST_UNREACH_NOPORT);
	nft_batch_rule(b->nb, r);
	nft_batch_owner(b->nb, "chain no-local-endpoints");
	r = rule_new(b, fam, "no-local-endpoints");
	nft_e_verdict(r, NF_DROP, NULL);
	nft_batch_rule(b->nb, r);
}

int nat_batch_base(struct nat_batch *b, int fam)
{
	static const char *const plain[] = { "services", "masq-outside", "no-endpoints",
					     "no-local-endpoints" };
	static const struct { const char *name; uint32_t hook; int32_t prio; } hooked[] = {
		{ "nat-prerouting", NF_INET_PRE_ROUTING, -100 },
		{ "nat-output", NF_INET_LOCAL_OUT, -100 },
		{ "nat-postrouting", NF_INET_POST_ROUTING, 100 },
	};
	const char *table = b->p->cfg.table;
	struct nft_rule *r;
	size_t i;

	base_sets(b, fam);
	nft_batch_owner(b->nb, "base chains");
	for (i = 0; i < ARRAY_SIZE(hooked); i++) {
		struct nft_hook h = { hooked[i].hook, hooked[i].prio, "nat" };

		nft_batch_chain(b->nb, NFT_MSG_NEWCHAIN, nfproto(fam), table, hooked[i].name, &h);
	}
	for (i = 0; i < ARRAY_SIZE(plain); i++)
		nft_batch_chain(b->nb, NFT_MSG_NEWCHAIN, nfproto(fam), table, plain[i], NULL);
	base_shared(b, fam);
	base_services(b, fam);
	base_postrouting(b, fam);
	if (counting(b))
		base_traffic_hooks(b, fam);
	for (i = 0; i < 2; i++) {
		nft_batch_owner(b->nb, "chain %s", hooked[i].name);
		r = rule_new(b, fam, hooked[i].name);
		nft_e_verdict(r, NFT_JUMP, "services");
		nft_batch_rule(b->nb, r);
	}
	return nft_batch_error(b->nb);
}
