/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plan -> kernel.  The first sync replaces the table whole; later ones diff
 * the new plan against the last one sent and send only the difference: set
 * and map elements for pod churn, a rewritten chain for a changed policy.
 * Either way it is one nfnetlink batch, applied atomically by the kernel.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "policy/plan.h"

/* nft's datatype numbers, so that `nft list` shows the sets as we render them. */
#define TYPE_VERDICT 1
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6

#define ELEMS_PER_MSG 256
#define MSG_ROOM (256 * 1024)

struct batch {
	char *buf;
	size_t len, cap;
	uint32_t seq;
	uint32_t set_id;
	size_t nmsgs;
	int err;
	/* what each message is about, to name it when the kernel refuses one */
	size_t nwhat, what_cap;
	struct what {
		uint32_t seq;
		char text[112];
	} *what;
};

static void note(struct batch *b, const char *kind, const char *name)
{
	struct what *w;

	if (b->nwhat == b->what_cap) {
		size_t cap = b->what_cap ? 2 * b->what_cap : 256;

		w = realloc(b->what, cap * sizeof(*w));
		if (!w)
			return;  /* only a nicer message is lost */
		b->what = w;
		b->what_cap = cap;
	}
	w = &b->what[b->nwhat++];
	w->seq = b->seq - 1;
	snprintf(w->text, sizeof(w->text), "%s %s", kind, name);
}

static char *room(struct batch *b)
{
	if (b->cap - b->len < MSG_ROOM) {
		size_t cap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
		char *n = realloc(b->buf, cap);

		if (!n) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->buf = n;
		b->cap = cap;
	}
	return b->buf + b->len;
}

static void commit_msg(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	b->nmsgs++;
}

static struct nlmsghdr *hdr(struct batch *b, uint16_t type, uint16_t flags)
{
	char *p = room(b);

	return p ? nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags, b->seq++) : NULL;
}

/* ---- table, sets, chains ---- */

static void msg_table(struct batch *b, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PL_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = hdr(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		commit_msg(b, nlh);
	}
	nftnl_table_free(t);
}

static uint32_t set_key_type(enum pl_key_kind k)
{
	uint32_t tail = (TYPE_INET_PROTOCOL << TYPE_BITS) | TYPE_INET_SERVICE;

	switch (k) {
	case PL_K_ADDR4: return TYPE_IPADDR;
	case PL_K_ADDR6: return TYPE_IP6ADDR;
	case PL_K_NAMED4: return (TYPE_IPADDR << 2 * TYPE_BITS) | tail;
	case PL_K_NAMED6: return (TYPE_IP6ADDR << 2 * TYPE_BITS) | tail;
	}
	return 0;
}

static struct nftnl_set *set_obj(const struct pl_pset *s)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (!ns)
		return NULL;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, PL_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	return ns;
}

static void msg_set(struct batch *b, const struct pl_pset *s, uint16_t type)
{
	struct nftnl_set *ns = set_obj(s);
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;

	if (!ns) {
		b->err = -ENOMEM;
		return;
	}
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, (uint32_t)pl_key_len(s->kind));
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, set_key_type(s->kind));
		nftnl_set_set_u32(ns, NFTNL_SET_ID, ++b->set_id);
		if (s->is_map) {
			nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_MAP);
			nftnl_set_set_u32(ns, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		}
		ud = nftnl_udata_buf_alloc(512);
		if (ud && s->comment && nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_COMMENT, s->comment))
			nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
					   nftnl_udata_buf_len(ud));
	}
	nlh = hdr(b, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	note(b, type == NFT_MSG_NEWSET ? "adding set" : "deleting set", s->name);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, ns);
		commit_msg(b, nlh);
	}
	nftnl_udata_buf_free(ud);
	nftnl_set_free(ns);
}

/* Elements e[0..n) of s, in messages of ELEMS_PER_MSG. */
static void msg_elems(struct batch *b, const struct pl_pset *s, const struct pl_elem *const *e,
		      size_t n, uint16_t type)
{
	size_t i = 0, j;

	while (i < n && !b->err) {
		struct nftnl_set *ns = set_obj(s);
		struct nlmsghdr *nlh;

		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		for (j = 0; j < ELEMS_PER_MSG && i < n; j++, i++) {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			if (!el) {
				b->err = -ENOMEM;
				break;
			}
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e[i]->key, (uint32_t)pl_key_len(s->kind));
			if (s->is_map && type == NFT_MSG_NEWSETELEM) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
				nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e[i]->chain);
			}
			nftnl_set_elem_add(ns, el);
		}
		nlh = b->err ? NULL : hdr(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		note(b, type == NFT_MSG_NEWSETELEM ? "adding elements of" : "deleting elements of",
		     s->name);
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, ns);
			commit_msg(b, nlh);
		}
		nftnl_set_free(ns);
	}
}

static void msg_all_elems(struct batch *b, const struct pl_pset *s)
{
	const struct pl_elem **e = malloc((s->n ? s->n : 1) * sizeof(*e));
	size_t i;

	if (!e) {
		b->err = -ENOMEM;
		return;
	}
	for (i = 0; i < s->n; i++)
		e[i] = &s->e[i];
	msg_elems(b, s, e, s->n, NFT_MSG_NEWSETELEM);
	free(e);
}

static void msg_chain(struct batch *b, const struct pl_pchain *c, uint16_t type)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!nc) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, PL_TABLE);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (type == NFT_MSG_NEWCHAIN && c->hook >= 0) {
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, (uint32_t)c->hook);
		nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, c->prio);
		nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = hdr(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	note(b, type == NFT_MSG_NEWCHAIN ? "adding chain" : "deleting chain", c->name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, nc);
		commit_msg(b, nlh);
	}
	nftnl_chain_free(nc);
}

/* ---- rules ---- */

static void e_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(r, e);
}

static void e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	e_add(r, e);
}

static void e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	e_add(r, e);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		      uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	e_add(r, e);
}

static void e_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint8_t zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	e_add(r, e);
}

static void e_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg, bool vmap)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	e_add(r, e);
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	e_add(r, e);
}

static void e_u8(struct nftnl_rule *r, uint32_t meta_key, uint8_t v)
{
	e_meta(r, meta_key, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, &v, 1);
}

/* ip saddr/daddr within c (eq) or outside it (neq) */
static void e_cidr(struct nftnl_rule *r, const struct pl_cidr *c, bool src, uint32_t op)
{
	bool v4 = c->addr.family == AF_INET;
	uint32_t len = v4 ? 4 : 16, off = v4 ? (src ? 12 : 16) : (src ? 8 : 24);
	uint8_t mask[16] = { 0 };
	int i;

	if (c->prefix == 0 && op == NFT_CMP_EQ)
		return;  /* the family check already says it */
	for (i = 0; i < 16; i++) {
		int keep = c->prefix - i * 8;

		mask[i] = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len, NFT_REG_1);
	if (c->prefix < (int)len * 8)
		e_bitwise(r, mask, len);
	e_cmp(r, op, c->addr.a, len);
}

static void build_rule_exprs(struct nftnl_rule *r, const struct pl_prule *pr)
{
	bool v6 = pr->nfproto == NFPROTO_IPV6;
	uint32_t alen = v6 ? 16 : 4;
	size_t i;

	if (pr->special == PL_R_CT_ACCEPT) {
		uint32_t mask = (1u << (IP_CT_ESTABLISHED + 1)) | (1u << (IP_CT_RELATED + 1)), zero = 0;
		struct nftnl_expr *e = nftnl_expr_alloc("ct");

		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		e_add(r, e);
		e_bitwise(r, &mask, 4);
		e_cmp(r, NFT_CMP_NEQ, &zero, 4);
		e_verdict(r, NF_ACCEPT, NULL);
		return;
	}
	if (pr->nfproto)
		e_u8(r, NFT_META_NFPROTO, pr->nfproto);
	if (pr->special == PL_R_ND_ACCEPT) {
		/* ICMPv6 types 133..137: router and neighbor solicitation and
		 * advertisement, redirect */
		uint8_t lo = 133, hi = 137;

		e_u8(r, NFT_META_L4PROTO, IPPROTO_ICMPV6);
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		e_cmp(r, NFT_CMP_GTE, &lo, 1);
		e_cmp(r, NFT_CMP_LTE, &hi, 1);
		e_verdict(r, NF_ACCEPT, NULL);
		return;
	}
	if (pr->special == PL_R_VMAP || pr->addr_set) {
		uint32_t off = v6 ? (pr->addr_is_src ? 8 : 24) : (pr->addr_is_src ? 12 : 16);

		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen, NFT_REG_1);
		e_lookup(r, pr->addr_set, NFT_REG_1, pr->special == PL_R_VMAP);
		if (pr->special == PL_R_VMAP)
			return;
	}
	if (pr->has_cidr) {
		e_cidr(r, &pr->cidr, pr->cidr_is_src, NFT_CMP_EQ);
		for (i = 0; i < pr->nexcept; i++)
			e_cidr(r, &pr->except[i], pr->cidr_is_src, NFT_CMP_NEQ);
	}
	if (pr->named_set) {
		/* addr . l4proto . dport in consecutive 32-bit registers */
		uint32_t reg = NFT_REG32_00;

		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, alen, reg);
		e_meta(r, NFT_META_L4PROTO, reg + alen / 4);
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + alen / 4 + 1);
		e_lookup(r, pr->named_set, reg, false);
	} else if (pr->l4proto) {
		e_u8(r, NFT_META_L4PROTO, pr->l4proto);
		if (pr->port_lo) {
			uint16_t lo = htons(pr->port_lo), hi = htons(pr->port_hi);

			e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
			if (pr->port_lo == pr->port_hi) {
				e_cmp(r, NFT_CMP_EQ, &lo, 2);
			} else {
				e_cmp(r, NFT_CMP_GTE, &lo, 2);
				e_cmp(r, NFT_CMP_LTE, &hi, 2);
			}
		}
	}
	if (pr->verdict == PL_V_ACCEPT)
		e_verdict(r, NF_ACCEPT, NULL);
	else if (pr->verdict == PL_V_DROP)
		e_verdict(r, NF_DROP, NULL);
	else if (pr->verdict == PL_V_JUMP)
		e_verdict(r, NFT_JUMP, pr->target);
}

static struct nftnl_rule *rule_obj(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PL_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void msg_rule(struct batch *b, const char *chain, const struct pl_prule *pr)
{
	struct nftnl_rule *r = rule_obj(chain);
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;

	if (!r) {
		b->err = -ENOMEM;
		return;
	}
	build_rule_exprs(r, pr);
	if (pr->comment && (ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)) &&
	    nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, pr->comment))
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
	nlh = hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	note(b, "adding a rule to chain", chain);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		commit_msg(b, nlh);
	}
	nftnl_udata_buf_free(ud);
	nftnl_rule_free(r);
}

static void msg_flush_chain(struct batch *b, const char *chain)
{
	struct nftnl_rule *r = rule_obj(chain);
	struct nlmsghdr *nlh;

	if (!r) {
		b->err = -ENOMEM;
		return;
	}
	nlh = hdr(b, NFT_MSG_DELRULE, 0);
	note(b, "flushing chain", chain);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		commit_msg(b, nlh);
	}
	nftnl_rule_free(r);
}

static void msg_chain_rules(struct batch *b, const struct pl_pchain *c)
{
	size_t i;

	for (i = 0; i < c->n && !b->err; i++)
		msg_rule(b, c->name, &c->r[i]);
}

/* ---- the diff ---- */

static void full(struct batch *b, const struct pl_plan *p)
{
	size_t i;

	/* add + delete + add: replaces whatever table was there, in one batch */
	msg_table(b, NFT_MSG_NEWTABLE);
	msg_table(b, NFT_MSG_DELTABLE);
	msg_table(b, NFT_MSG_NEWTABLE);
	for (i = 0; i < p->nsets; i++)
		msg_set(b, &p->sets[i], NFT_MSG_NEWSET);
	for (i = 0; i < p->nchains; i++)
		msg_chain(b, &p->chains[i], NFT_MSG_NEWCHAIN);
	for (i = 0; i < p->nchains; i++)
		msg_chain_rules(b, &p->chains[i]);
	for (i = 0; i < p->nsets; i++)
		msg_all_elems(b, &p->sets[i]);
}

/* Element changes of one set: deletions first, so that a map key whose
 * chain changed is removed, then added back. */
static void elems_diff(struct batch *b, const struct pl_pset *o, const struct pl_pset *n)
{
	const struct pl_elem **del = malloc((o->n + 1) * sizeof(*del));
	const struct pl_elem **add = malloc((n->n + 1) * sizeof(*add));
	size_t len = pl_key_len(n->kind), i = 0, j = 0, nd = 0, na = 0;

	if (!del || !add) {
		b->err = -ENOMEM;
		goto out;
	}
	while (i < o->n || j < n->n) {
		int c = i == o->n ? 1 : j == n->n ? -1 : memcmp(o->e[i].key, n->e[j].key, len);

		if (c < 0) {
			del[nd++] = &o->e[i++];
		} else if (c > 0) {
			add[na++] = &n->e[j++];
		} else {
			if (n->is_map && strcmp(o->e[i].chain, n->e[j].chain) != 0) {
				del[nd++] = &o->e[i];
				add[na++] = &n->e[j];
			}
			i++;
			j++;
		}
	}
	msg_elems(b, o, del, nd, NFT_MSG_DELSETELEM);
	msg_elems(b, n, add, na, NFT_MSG_NEWSETELEM);
out:
	free(del);
	free(add);
}

static void delta(struct batch *b, const struct pl_plan *o, const struct pl_plan *p)
{
	size_t i;

	for (i = 0; i < p->nsets; i++)
		if (!pl_plan_set(o, p->sets[i].name))
			msg_set(b, &p->sets[i], NFT_MSG_NEWSET);
	for (i = 0; i < p->nchains; i++)
		if (!pl_plan_chain(o, p->chains[i].name))
			msg_chain(b, &p->chains[i], NFT_MSG_NEWCHAIN);
	for (i = 0; i < p->nchains; i++) {
		const struct pl_pchain *oc = pl_plan_chain(o, p->chains[i].name);

		if (oc && strcmp(oc->text, p->chains[i].text) == 0)
			continue;
		if (oc)
			msg_flush_chain(b, oc->name);
		msg_chain_rules(b, &p->chains[i]);
	}
	for (i = 0; i < p->nsets; i++) {
		const struct pl_pset *os = pl_plan_set(o, p->sets[i].name);

		if (os)
			elems_diff(b, os, &p->sets[i]);
		else
			msg_all_elems(b, &p->sets[i]);
	}
	/* What is gone: map elements pointing at old chains went above. */
	for (i = 0; i < o->nchains; i++)
		if (!pl_plan_chain(p, o->chains[i].name))
			msg_flush_chain(b, o->chains[i].name);
	for (i = 0; i < o->nchains; i++)
		if (!pl_plan_chain(p, o->chains[i].name))
			msg_chain(b, &o->chains[i], NFT_MSG_DELCHAIN);
	for (i = 0; i < o->nsets; i++)
		if (!pl_plan_set(p, o->sets[i].name))
			msg_set(b, &o->sets[i], NFT_MSG_DELSET);
}

/* ---- sending ---- */

struct kerr {
	int err;
	uint32_t seq;      /* of the message the kernel refused */
};

/* Control messages (NLMSG_ERROR) do not reach mnl_cb_run()'s data callback. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct kerr *k = data;

	if (nlh->nlmsg_type == NLMSG_ERROR && err->error && !k->err) {
		k->err = err->error;
		k->seq = err->msg.nlmsg_seq;
	}
	return MNL_CB_OK;
}

static int send_batch(struct k8snet_ctx *ctx, struct batch *b)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb };
	struct mnl_socket *nl;
	int r = k8s_ctx_nfnl(ctx, &nl), fd;
	struct kerr kerr = { 0 };
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (r < 0)
		return r;
	fd = mnl_socket_get_fd(nl);
	/* The batch is handled inside sendmsg(): it must fit the socket buffer. */
	{
		int size = (int)(b->len + 65536);

		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0)
		return k8s_error(ctx, -errno, "cannot send the nftables batch: %m");
	/* Without NLM_F_ACK the kernel only answers errors, already queued now. */
	while ((n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0)
		mnl_cb_run2(rbuf, (size_t)n, 0, 0, NULL, &kerr, ctl, ARRAY_SIZE(ctl));
	if (kerr.err) {
		const char *what = NULL;
		size_t i;

		for (i = 0; i < b->nwhat && !what; i++)
			if (b->what[i].seq == kerr.seq)
				what = b->what[i].text;
		return k8s_error(ctx, kerr.err, "nftables refused the policy batch%s%s: %s",
				 what ? " at " : "", what ? what : "", k8snet_strerror(kerr.err));
	}
	return 0;
}

static void ops_msgs(struct batch *b, const struct pl_plan *p, const struct pl_eops *ops)
{
	size_t i;

	/* new group chains first: map elements jump to them */
	for (i = 0; i < ops->nchains && !b->err; i++) {
		const struct pl_pchain *c = pl_plan_chain(p, ops->chains[i]);

		msg_chain(b, c, NFT_MSG_NEWCHAIN);
		msg_chain_rules(b, c);
	}
	for (i = 0; i < ops->n && !b->err; i++) {
		struct pl_elem e = { .chain = ops->v[i].chain };
		const struct pl_elem *ep = &e;

		memcpy(e.key, ops->v[i].key, sizeof(e.key));
		msg_elems(b, ops->v[i].set, &ep, 1,
			  ops->v[i].add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	}
}

int pl_nft_sync(struct k8snet_policy_db *db, struct pl_plan *plan)
{
	return pl_nft_send(db, db->last, plan, NULL);
}

int pl_nft_send(struct k8snet_policy_db *db, const struct pl_plan *old, const struct pl_plan *plan,
		const struct pl_eops *ops)
{
	struct batch b = { .seq = db->ctx->seq ? db->ctx->seq : 1 };
	struct nlmsghdr *nlh;
	int r;

	if (!room(&b))
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	nftnl_batch_begin(b.buf, b.seq++);
	b.len += MNL_ALIGN(((struct nlmsghdr *)b.buf)->nlmsg_len);
	if (ops)
		ops_msgs(&b, plan, ops);
	else if (old)
		delta(&b, old, plan);
	else
		full(&b, plan);
	r = b.err;
	if (r >= 0 && b.nmsgs == 0) {
		free(b.buf);
		free(b.what);
		return 0;  /* nothing changed */
	}
	if (r >= 0 && room(&b)) {
		nlh = nftnl_batch_end(b.buf + b.len, b.seq++);
		b.len += MNL_ALIGN(nlh->nlmsg_len);
	}
	r = b.err;
	db->ctx->seq = b.seq;
	if (r >= 0)
		r = send_batch(db->ctx, &b);
	else
		r = k8s_error(db->ctx, r, "out of memory");
	free(b.buf);
	free(b.what);
	return r;
}

/* Pod churn only: update the last plan in place and send its element
 * changes.  1 when done, 0 when a rebuild is needed, negative on error
 * (the last plan is then dropped: the next sync replaces the table). */
static int sync_pods(struct k8snet_policy_db *db, const char *node)
{
	struct pl_eops ops = { 0 };
	int r = pl_plan_update_pods(db, db->last, node, db->dirty, db->ndirty, &ops);

	if (r > 0 && (ops.n || ops.nchains)) {
		int s = pl_nft_send(db, db->last, db->last, &ops);

		if (s < 0)
			r = s;
	}
	free(ops.v);
	free(ops.chains);
	if (r < 0) {
		pl_plan_free(db->last);
		db->last = NULL;
		if (r == -ENOMEM)
			k8s_error(db->ctx, r, "out of memory");
		return r;
	}
	if (r > 0)
		pl_db_clear_dirty(db);
	return r;
}

K8SNET_EXPORT int k8snet_policy_db_sync(struct k8snet_policy_db *db, const char *node)
{
	struct pl_plan *plan = NULL;
	int r;

	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, node && *node);
	/* Another node's plan is no base for a diff. */
	if (db->last && (!db->last_node || strcmp(db->last_node, node) != 0)) {
		pl_plan_free(db->last);
		db->last = NULL;
	}
	if (db->last && !db->struct_dirty && db->ndirty <= 256) {
		r = sync_pods(db, node);
		if (r > 0 || r == -ENOMEM)
			return r < 0 ? r : 0;
		/* 0: needs a rebuild; other errors: the kernel's table is not what
		 * we think (changed behind our back?), and db->last is gone: the
		 * rebuild below replaces it whole. */
	}
	r = pl_plan_build(db, node, &plan);
	if (r < 0)
		return k8s_error(db->ctx, r, "cannot build the ruleset: %s", k8snet_strerror(r));
	r = pl_nft_sync(db, plan);
	if (r < 0 && r != -ENOMEM && db->last) {
		pl_plan_free(db->last);
		db->last = NULL;
		r = pl_nft_sync(db, plan);
	}
	if (r < 0) {
		/* The kernel keeps its previous state; we drop our idea of it, so
		 * that the next sync replaces the table whole. */
		pl_plan_free(plan);
		pl_plan_free(db->last);
		db->last = NULL;
		return r;
	}
	pl_plan_free(db->last);
	db->last = plan;
	pl_db_clear_dirty(db);
	if (!db->last_node || strcmp(db->last_node, node) != 0) {
		free(db->last_node);
		db->last_node = strdup(node);
	}
	return 0;
}
