/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel I/O: netlink messages built with libnftnl, sent as one batch with
 * libmnl over the context's nfnetlink socket.
 *
 * Registers: nft has four 128-bit registers (NFT_REG_1..4), also addressed
 * as sixteen 32-bit ones (NFT_REG32_00..15).  They live for a whole
 * evaluation, across jump and goto, but since Linux 6.11 the kernel refuses
 * a rule that reads a register no earlier expression of the same rule
 * wrote (-ENODATA), so every rule here computes what it uses.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nat/internal.h"


/* nft's datatype numbers, so that `nft list` prints our sets nicely. */
#define T_VERDICT 1
#define T_INTEGER 4
#define T_IPV4 7
#define T_IPV6 8
#define T_PROTO 12
#define T_SERVICE 13
#define T_MARK 19
#define CONCAT(a, b) (((a) << 6) | (b))

struct nat_batch {
	struct k8snet_proxy *p;
	char *buf;
	size_t len, cap;
	uint32_t seq0, seq;
	const char **what;           /* by seq - seq0 */
	size_t nwhat, capwhat;
	const char *cur_what;
	uint32_t set_id;
	bool base;                   /* building the fixed part: name its chains */
	size_t count;
	int err;
};

static uint8_t nfproto(int fam)
{
	return fam == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

int nat_batch_new(struct k8snet_proxy *p, struct nat_batch **ret)
{
	struct nat_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->p = p;
	/* Sequence numbers keep growing on the context's socket, so that answers
	 * to an earlier batch can never pass for answers to this one. */
	if (!p->ctx->seq)
		p->ctx->seq = (uint32_t)time(NULL) << 8;
	b->seq0 = b->seq = p->ctx->seq;
	b->cur_what = "table";
	*ret = b;
	return 0;
}

void nat_batch_free(struct nat_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b->what);
	free(b);
}

void nat_batch_what(struct nat_batch *b, const char *what)
{
	b->cur_what = what;
}

size_t nat_batch_count(const struct nat_batch *b)
{
	return b->count;
}

size_t nat_batch_len(const struct nat_batch *b)
{
	return b->len;
}

/* Room for one more message of at most need bytes; returns where it goes. */
static struct nlmsghdr *msg_start(struct nat_batch *b, size_t need)
{
	if (b->err)
		return NULL;
	if (b->len + need + MNL_NLMSG_HDRLEN > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1 << 16) + need;
		char *s = realloc(b->buf, cap);

		if (!s) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->buf = s;
		b->cap = cap;
	}
	if (b->nwhat == b->capwhat) {
		size_t cap = b->capwhat ? b->capwhat * 2 : 1024;
		const char **w = realloc(b->what, cap * sizeof(*w));

		if (!w) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->what = w;
		b->capwhat = cap;
	}
	memset(b->buf + b->len, 0, need);
	return (struct nlmsghdr *)(b->buf + b->len);
}

static void msg_end(struct nat_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->what[b->nwhat++] = b->cur_what;
	b->count++;
}

static struct nlmsghdr *hdr(struct nat_batch *b, size_t need, uint16_t type, int fam, uint16_t flags)
{
	struct nlmsghdr *nlh = msg_start(b, need);

	if (!nlh)
		return NULL;
	return nftnl_nlmsg_build_hdr((char *)nlh, type, nfproto(fam), flags, ++b->seq);
}

/* ---------------- tables, chains, sets ---------------- */

static int put_table(struct nat_batch *b, int fam, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return b->err = -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, b->p->cfg.table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, nfproto(fam));
	nlh = hdr(b, 512, type, fam, flags);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		msg_end(b, nlh);
	}
	nftnl_table_free(t);
	return b->err;
}

/* Start-up: create-if-missing, delete, create: whatever a previous run left
 * is replaced in the same transaction, so there is never a moment without
 * rules. */
int nat_batch_table_replace(struct nat_batch *b, int fam)
{
	put_table(b, fam, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(b, fam, NFT_MSG_DELTABLE, 0);
	return put_table(b, fam, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
}

int nat_batch_table_delete(struct nat_batch *b, int fam)
{
	put_table(b, fam, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	return put_table(b, fam, NFT_MSG_DELTABLE, 0);
}

static int put_chain(struct nat_batch *b, int fam, const char *name, uint16_t type,
		     int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return b->err = -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, b->p->cfg.table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = hdr(b, 1024, type, fam, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		msg_end(b, nlh);
	}
	nftnl_chain_free(c);
	return b->err;
}

int nat_batch_chain(struct nat_batch *b, int fam, const char *name, bool add)
{
	return put_chain(b, fam, name, add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, -1, 0);
}

int nat_batch_flush_chain(struct nat_batch *b, int fam, const char *name)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return b->err = -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->p->cfg.table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nlh = hdr(b, 1024, NFT_MSG_DELRULE, fam, 0);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh);
	}
	nftnl_rule_free(r);
	return b->err;
}

struct set_spec {
	const char *name;
	uint32_t flags, key_type, key_len, data_type, data_len, id;
	uint64_t timeout_ms;
};

/* numgen keys are host-order integers; say so, or `nft list` shows the
 * bytes as a big-endian number (1 as 16777216). */
static void set_host_byteorder(struct nftnl_set *s)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

	if (!ud)
		return;
	if (nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* nft: host endian */))
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static int put_set(struct nat_batch *b, int fam, const struct set_spec *sp, uint16_t type)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return b->err = -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, b->p->cfg.table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, sp->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nfproto(fam));
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, sp->flags);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sp->key_type);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sp->key_len);
		if (sp->flags & NFT_SET_MAP) {
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, sp->data_type);
			if (sp->data_len)
				nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, sp->data_len);
		}
		if (sp->timeout_ms)
			nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, sp->timeout_ms);
		if (sp->key_type == T_INTEGER)
			set_host_byteorder(s);
		/* The kernel wants an id for every new set. */
		nftnl_set_set_u32(s, NFTNL_SET_ID, sp->id ? sp->id : ++b->set_id);
	}
	nlh = hdr(b, 1024, type, fam, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		msg_end(b, nlh);
	}
	nftnl_set_free(s);
	return b->err;
}

int nat_batch_aset(struct nat_batch *b, int fam, const struct nat_aset *a, bool add)
{
	struct set_spec sp = {
		.name = a->name, .flags = NFT_SET_TIMEOUT | NFT_SET_EVAL,
		.key_type = fam == AF_INET ? T_IPV4 : T_IPV6, .key_len = fam == AF_INET ? 4 : 16,
		.timeout_ms = (uint64_t)a->timeout * 1000,
	};

	return put_set(b, fam, &sp, add ? NFT_MSG_NEWSET : NFT_MSG_DELSET);
}

/* ---------------- elements ---------------- */

static struct nftnl_set_elem *make_elem(const struct nat_elem *e)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	if (!el)
		return NULL;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, e->klen);
	if (e->chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e->chain);
	} else if (e->dlen) {
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->data, e->dlen);
	}
	return el;
}

/* One message per set and per at most 128 elements: the element list is a
 * netlink attribute, whose length field is 16 bits. */
static int put_elems(struct nat_batch *b, int fam, const char *set, uint32_t set_id,
		     struct nat_elem **elems, size_t n, bool add)
{
	size_t i = 0;

	while (i < n && !b->err) {
		struct nftnl_set *s = nftnl_set_alloc();
		size_t j, chunk = n - i < 128 ? n - i : 128;
		struct nlmsghdr *nlh;

		if (!s)
			return b->err = -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, b->p->cfg.table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set);
		if (set_id)
			nftnl_set_set_u32(s, NFTNL_SET_ID, set_id);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nfproto(fam));
		for (j = 0; j < chunk; j++) {
			struct nftnl_set_elem *el = make_elem(elems[i + j]);

			if (!el) {
				nftnl_set_free(s);
				return b->err = -ENOMEM;
			}
			nftnl_set_elem_add(s, el);
		}
		nlh = hdr(b, 1024 + chunk * 512, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, fam,
			  add ? NLM_F_CREATE : 0);
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			msg_end(b, nlh);
		}
		nftnl_set_free(s);
		i += chunk;
	}
	return b->err;
}

/* Elements of several sets: one run of messages per set. */
int nat_batch_elems(struct nat_batch *b, int fam, struct nat_elem **elems, size_t n, bool add)
{
	size_t i = 0;

	while (i < n && !b->err) {
		size_t j = i;

		while (j < n && elems[j]->set == elems[i]->set)
			j++;
		put_elems(b, fam, nat_set_names[elems[i]->set], 0, elems + i, j - i, add);
		i = j;
	}
	return b->err;
}

int nat_batch_hairpin(struct nat_batch *b, int fam, const struct nat_addr *a, size_t n, bool add)
{
	struct nat_elem *e = calloc(n, sizeof(*e)), **pe = calloc(n, sizeof(*pe));
	size_t al = fam == AF_INET ? 4 : 16, i;

	if (!e || !pe) {
		free(e);
		free(pe);
		return b->err = -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		e[i].set = S_HAIRPIN;
		memcpy(e[i].key, a[i].a, al);
		memcpy(e[i].key + al, a[i].a, al);
		e[i].klen = (uint8_t)(2 * al);
		pe[i] = &e[i];
	}
	put_elems(b, fam, "hairpin", 0, pe, n, add);
	free(e);
	free(pe);
	return b->err;
}

/* ---------------- expressions ---------------- */

struct rb {                      /* a rule being built */
	struct nat_batch *b;
	struct nftnl_rule *r;
	int fam;
};

static struct nftnl_expr *ex(struct rb *rb, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e) {
		rb->b->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(rb->r, e);
	return e;
}

static void e_payload(struct rb *rb, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = ex(rb, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void e_meta_get(struct rb *rb, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ex(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

static void e_meta_set(struct rb *rb, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = ex(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
}

static void e_cmp(struct rb *rb, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(rb, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

/* reg = (reg & mask) ^ xor */
static void e_bitwise(struct rb *rb, uint32_t reg, const void *mask, const void *xor, uint32_t len)
{
	struct nftnl_expr *e = ex(rb, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
}

static void e_verdict(struct rb *rb, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex(rb, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void e_imm_data(struct rb *rb, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(rb, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

static void e_lookup(struct rb *rb, const char *set, uint32_t set_id, uint32_t sreg,
		     int dreg, uint32_t flags)
{
	struct nftnl_expr *e = ex(rb, "lookup");

	if (!e)
		return;
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	if (flags)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, flags);
}

static void e_numgen(struct rb *rb, uint32_t dreg, uint32_t mod, uint32_t off)
{
	struct nftnl_expr *e = ex(rb, "numgen");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, mod);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE,
			   rb->b->p->cfg.flags & K8SNET_PROXY_F_ROUND_ROBIN ? NFT_NG_INCREMENTAL :
									       NFT_NG_RANDOM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, off);
}

static void e_dnat(struct rb *rb, uint32_t reg_addr, uint32_t reg_port)
{
	struct nftnl_expr *e = ex(rb, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto(rb->fam));
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg_addr);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_port);
}

static void e_fib_local(struct rb *rb, uint32_t flag)
{
	struct nftnl_expr *e = ex(rb, "fib");
	uint32_t local = RTN_LOCAL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flag);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_cmp(rb, NFT_REG_1, NFT_CMP_EQ, &local, sizeof(local));
}

static uint32_t al(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

static void e_addr(struct rb *rb, bool src, uint32_t dreg)
{
	uint32_t off = rb->fam == AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);

	e_payload(rb, NFT_PAYLOAD_NETWORK_HEADER, off, al(rb->fam), dreg);
}

/* [ip saddr|daddr] CIDR, == or != */
static void e_cidr(struct rb *rb, bool src, const struct nat_addr *c, uint32_t op)
{
	uint8_t mask[16] = { 0 }, zero[16] = { 0 };
	uint32_t len = al(rb->fam), i;

	e_addr(rb, src, NFT_REG_1);
	if (c->plen < len * 8) {
		for (i = 0; i < len; i++) {
			int bits = (int)c->plen - (int)i * 8;

			mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff00 >> bits);
		}
		e_bitwise(rb, NFT_REG_1, mask, zero, len);
	}
	e_cmp(rb, NFT_REG_1, op, c->a, len);
}

static void e_mark_or(struct rb *rb)
{
	uint32_t bit = 1u << rb->b->p->cfg.mark_bit, mask = ~bit;

	e_meta_get(rb, NFT_META_MARK, NFT_REG_1);
	e_bitwise(rb, NFT_REG_1, &mask, &bit, 4);
	e_meta_set(rb, NFT_META_MARK, NFT_REG_1);
}

static void e_masq(struct rb *rb)
{
	ex(rb, "masq");
}

static void e_reject(struct rb *rb, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ex(rb, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

static struct rb rule_begin(struct nat_batch *b, int fam, const char *chain)
{
	struct rb rb = { b, nftnl_rule_alloc(), fam };

	if (b->base)
		nat_batch_what(b, chain);

	if (!rb.r) {
		b->err = -ENOMEM;
		return rb;
	}
	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, b->p->cfg.table);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, nfproto(fam));
	return rb;
}

static int rule_end(struct rb *rb)
{
	struct nlmsghdr *nlh;

	if (!rb->r)
		return rb->b->err;
	nlh = hdr(rb->b, 4096, NFT_MSG_NEWRULE, rb->fam, NLM_F_CREATE | NLM_F_APPEND);
	if (nlh && !rb->b->err) {
		nftnl_rule_nlmsg_build_payload(nlh, rb->r);
		msg_end(rb->b, nlh);
	}
	nftnl_rule_free(rb->r);
	rb->r = NULL;
	return rb->b->err;
}

/* ---------------- our rules ---------------- */

static void e_match(struct rb *rb, const struct nat_rule *r)
{
	if (r->match == M_SADDR_CIDR)
		e_cidr(rb, true, &r->cidr, NFT_CMP_EQ);
	else if (r->match == M_FIB_SADDR_LOCAL)
		e_fib_local(rb, NFTA_FIB_F_SADDR);
}

/* numgen mod n vmap { i : goto chain_i }: an anonymous map, made in this
 * batch (only affinity services use these). */
static void aff_pick(struct rb *rb, const struct nat_rule *r)
{
	struct nat_batch *b = rb->b;
	struct set_spec sp = {
		.name = "__map%d", .flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP,
		.key_type = T_INTEGER, .key_len = 4, .data_type = NFT_DATA_VERDICT,
		.id = ++b->set_id,
	};
	struct nat_elem *els = calloc(r->n, sizeof(*els));
	struct nat_elem **pels = calloc(r->n, sizeof(*pels));
	uint32_t i;

	if (!els || !pels) {
		b->err = -ENOMEM;
		goto out;
	}
	put_set(b, rb->fam, &sp, NFT_MSG_NEWSET);
	for (i = 0; i < r->n; i++) {
		memcpy(els[i].key, &i, 4);
		els[i].klen = 4;
		els[i].chain = r->targets[i];
		pels[i] = &els[i];
	}
	put_elems(b, rb->fam, sp.name, sp.id, pels, r->n, true);
	e_numgen(rb, NFT_REG_1, r->n, 0);
	e_lookup(rb, sp.name, sp.id, NFT_REG_1, NFT_REG_VERDICT, 0);
out:
	free(els);
	free(pels);
}

static void aff_dnat(struct rb *rb, const struct nat_rule *r)
{
	struct nftnl_expr *e;
	uint8_t port[4] = { (uint8_t)(r->port >> 8), (uint8_t)r->port };

	e_meta_get(rb, NFT_META_L4PROTO, NFT_REG_1);
	e_cmp(rb, NFT_REG_1, NFT_CMP_EQ, &r->proto, 1);
	e_addr(rb, true, NFT_REG_1);
	e = ex(rb, "dynset");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, r->target);
	}
	e_imm_data(rb, NFT_REG_1, r->addr.a, al(rb->fam));
	e_imm_data(rb, NFT_REG_2, port, 2);
	e_dnat(rb, NFT_REG_1, NFT_REG_2);
}

/* [daddr .] l4proto . dport . numgen mod n -> endpoint address . port, in
 * consecutive 32-bit registers from NFT_REG32_00, looked up in one go. */
static void pick(struct rb *rb, const struct nat_rule *r)
{
	uint32_t reg = NFT_REG32_00;

	e_meta_get(rb, NFT_META_L4PROTO, NFT_REG_1);
	e_cmp(rb, NFT_REG_1, NFT_CMP_EQ, &r->proto, 1);
	if (!r->nodeport) {
		e_addr(rb, false, reg);
		reg += al(rb->fam) / 4;
	}
	e_meta_get(rb, NFT_META_L4PROTO, reg++);
	e_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg++);
	e_numgen(rb, reg, r->n, 0);
	e_lookup(rb, r->nodeport ? "nodeport-endpoints" : "endpoints", 0, NFT_REG32_00, NFT_REG_1, 0);
	e_dnat(rb, NFT_REG_1, rb->fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04);
}

int nat_batch_pick_chain(struct nat_batch *b, int fam, const char *name, bool add)
{
	struct nat_rule rules[4];
	size_t i, n = nat_pick_rules(b->p, fam, name, rules);

	if (!n)
		return b->err = -EINVAL;
	nat_batch_chain(b, fam, name, add);
	for (i = 0; add && i < n; i++)
		nat_batch_rule(b, fam, name, &rules[i]);
	return b->err;
}

int nat_batch_rule(struct nat_batch *b, int fam, const char *chain, const struct nat_rule *r)
{
	struct rb rb;

	/* aff_pick() sends the anonymous map first: it must precede its rule. */
	if (r->kind == R_AFF_PICK) {
		rb = rule_begin(b, fam, chain);
		if (rb.r)
			aff_pick(&rb, r);
		return rule_end(&rb);
	}
	rb = rule_begin(b, fam, chain);
	e_match(&rb, r);
	switch (r->kind) {
	case R_GOTO:
		e_verdict(&rb, NFT_GOTO, r->target);
		break;
	case R_JUMP:
		e_verdict(&rb, NFT_JUMP, r->target);
		break;
	case R_MARK_GOTO:
		e_mark_or(&rb);
		e_verdict(&rb, NFT_GOTO, r->target);
		break;
	case R_MARK:
		e_mark_or(&rb);
		break;
	case R_PICK:
		pick(&rb, r);
		break;
	case R_DROP:
		e_verdict(&rb, NF_DROP, NULL);
		break;
	case R_AFF_CHECK:
		e_addr(&rb, true, NFT_REG_1);
		e_lookup(&rb, r->target, 0, NFT_REG_1, -1, 0);
		e_verdict(&rb, NFT_GOTO, r->target2);
		break;
	case R_AFF_DNAT:
		aff_dnat(&rb, r);
		break;
	case R_AFF_PICK:
		break;
	}
	return rule_end(&rb);
}

/* ---------------- the fixed part of a table ---------------- */

static void base_sets(struct nat_batch *b, int fam)
{
	uint32_t at = fam == AF_INET ? T_IPV4 : T_IPV6, alen = al(fam);
	struct set_spec sets[] = {
		{ .name = "service-ips", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(at, T_PROTO), T_SERVICE), .key_len = alen + 8,
		  .data_type = NFT_DATA_VERDICT },
		{ .name = "service-nodeports", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(T_PROTO, T_SERVICE), .key_len = 8,
		  .data_type = NFT_DATA_VERDICT },
		{ .name = "endpoints", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(CONCAT(at, T_PROTO), T_SERVICE), T_MARK),
		  .key_len = alen + 12, .data_type = CONCAT(at, T_SERVICE), .data_len = alen + 4 },
		{ .name = "nodeport-endpoints", .flags = NFT_SET_MAP,
		  .key_type = CONCAT(CONCAT(T_PROTO, T_SERVICE), T_MARK), .key_len = 12,
		  .data_type = CONCAT(at, T_SERVICE), .data_len = alen + 4 },
		{ .name = "cluster-ips", .key_type = at, .key_len = alen },
		{ .name = "hairpin", .key_type = CONCAT(at, at), .key_len = 2 * alen },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		nat_batch_what(b, sets[i].name);
		put_set(b, fam, &sets[i], NFT_MSG_NEWSET);
	}
}

static void base_services(struct nat_batch *b, int fam)
{
	const struct nat_config *cfg = &b->p->cfg;
	uint32_t r0 = NFT_REG32_00, l4 = fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04;
	struct nat_addr lo = { .family = fam, .plen = fam == AF_INET ? 8 : 128 };
	struct rb rb = rule_begin(b, fam, "services");
	const struct nat_addr *np;
	size_t i, nnp;

	e_addr(&rb, false, r0);
	e_meta_get(&rb, NFT_META_L4PROTO, l4);
	e_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, l4 + 1);
	e_lookup(&rb, "service-ips", 0, r0, NFT_REG_VERDICT, 0);
	rule_end(&rb);

	if (fam == AF_INET)
		lo.a[0] = 127;
	else
		lo.a[15] = 1;
	np = nat_nodeport_addrs(cfg, fam, &nnp);
	for (i = 0; i == 0 || i < nnp; i++) {
		if (np && np[i].family != fam)
			continue;
		rb = rule_begin(b, fam, "services");
		if (np) {
			e_cidr(&rb, false, &np[i], NFT_CMP_EQ);
		} else {
			e_fib_local(&rb, NFTA_FIB_F_DADDR);
			e_cidr(&rb, false, &lo, NFT_CMP_NEQ);
		}
		e_meta_get(&rb, NFT_META_L4PROTO, NFT_REG32_08);
		e_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_09);
		e_lookup(&rb, "service-nodeports", 0, NFT_REG32_08, NFT_REG_VERDICT, 0);
		rule_end(&rb);
	}
	/* A ClusterIP reached on a port no service has: rejected. */
	rb = rule_begin(b, fam, "services");
	e_addr(&rb, false, NFT_REG_1);
	e_lookup(&rb, "cluster-ips", 0, NFT_REG_1, -1, 0);
	e_verdict(&rb, NFT_GOTO, "no-endpoints");
	rule_end(&rb);
}

static void base_postrouting(struct nat_batch *b, int fam)
{
	uint32_t bit = 1u << b->p->cfg.mark_bit, all = ~0u, zero = 0;
	struct rb rb = rule_begin(b, fam, "nat-postrouting");

	e_meta_get(&rb, NFT_META_MARK, NFT_REG_1);
	e_bitwise(&rb, NFT_REG_1, &bit, &zero, 4);
	e_cmp(&rb, NFT_REG_1, NFT_CMP_EQ, &bit, 4);
	e_meta_get(&rb, NFT_META_MARK, NFT_REG_1);
	e_bitwise(&rb, NFT_REG_1, &all, &bit, 4);
	e_meta_set(&rb, NFT_META_MARK, NFT_REG_1);
	e_masq(&rb);
	rule_end(&rb);

	rb = rule_begin(b, fam, "nat-postrouting");
	e_addr(&rb, true, NFT_REG32_00);
	e_addr(&rb, false, fam == AF_INET ? NFT_REG32_01 : NFT_REG32_04);
	e_lookup(&rb, "hairpin", 0, NFT_REG32_00, -1, 0);
	e_masq(&rb);
	rule_end(&rb);
}

static void base_shared(struct nat_batch *b, int fam)
{
	const struct nat_config *cfg = &b->p->cfg;
	uint8_t tcp = IPPROTO_TCP;
	struct rb rb;
	size_t i;

	for (i = 0; !(cfg->flags & K8SNET_PROXY_F_MASQUERADE_ALL) && i < cfg->n_cluster_cidrs; i++) {
		if (cfg->cluster_cidrs[i].family != fam)
			continue;
		rb = rule_begin(b, fam, "masq-outside");
		e_cidr(&rb, true, &cfg->cluster_cidrs[i], NFT_CMP_EQ);
		e_verdict(&rb, NFT_RETURN, NULL);
		rule_end(&rb);
	}
	if (nat_masq_outside(cfg, fam)) {
		rb = rule_begin(b, fam, "masq-outside");
		e_mark_or(&rb);
		rule_end(&rb);
	}

	rb = rule_begin(b, fam, "no-endpoints");
	e_meta_get(&rb, NFT_META_L4PROTO, NFT_REG_1);
	e_cmp(&rb, NFT_REG_1, NFT_CMP_EQ, &tcp, 1);
	e_reject(&rb, NFT_REJECT_TCP_RST, 0);
	rule_end(&rb);
	rb = rule_begin(b, fam, "no-local-endpoints");
	e_verdict(&rb, NF_DROP, NULL);
	rule_end(&rb);
	rb = rule_begin(b, fam, "no-endpoints");
	e_reject(&rb, NFT_REJECT_ICMP_UNREACH, fam == AF_INET ? ICMP_PORT_UNREACH : ICMP6_DST_UNREACH_NOPORT);
	rule_end(&rb);

}

int nat_batch_base(struct nat_batch *b, int fam)
{
	static const char *const plain[] = { "services", "masq-outside", "no-endpoints",
					     "no-local-endpoints" };
	struct rb rb;
	size_t i;

	b->base = true;
	base_sets(b, fam);
	nat_batch_what(b, "base chains");
	put_chain(b, fam, "nat-prerouting", NFT_MSG_NEWCHAIN, NF_INET_PRE_ROUTING, -100);
	put_chain(b, fam, "nat-output", NFT_MSG_NEWCHAIN, NF_INET_LOCAL_OUT, -100);
	put_chain(b, fam, "nat-postrouting", NFT_MSG_NEWCHAIN, NF_INET_POST_ROUTING, 100);
	for (i = 0; i < ARRAY_SIZE(plain); i++)
		put_chain(b, fam, plain[i], NFT_MSG_NEWCHAIN, -1, 0);
	base_shared(b, fam);
	base_services(b, fam);
	base_postrouting(b, fam);
	for (i = 0; i < 2; i++) {
		rb = rule_begin(b, fam, i ? "nat-output" : "nat-prerouting");
		e_verdict(&rb, NFT_JUMP, "services");
		rule_end(&rb);
	}
	b->base = false;
	return b->err;
}

/* ---------------- send and read the answer ---------------- */

static int put_batch_marker(char *buf, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return (int)nlh->nlmsg_len;
}

static const char *what_of(const struct nat_batch *b, uint32_t seq)
{
	if (seq > b->seq0 && seq - b->seq0 - 1 < b->nwhat)
		return b->what[seq - b->seq0 - 1];
	return "batch";
}

static int read_acks(struct nat_batch *b, struct mnl_socket *nl, uint32_t last)
{
	struct k8snet_ctx *ctx = b->p->ctx;
	size_t size = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf = malloc(size);
	int first_err = 0;
	uint32_t err_seq = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, size);
		struct nlmsghdr *nlh;
		int len = (int)n;
		bool done = false;

		if (n < 0) {
			first_err = first_err ? first_err : -errno;
			break;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			/* Answers to an earlier batch (one we gave up reading) are
			 * not about this one. */
			if (nlh->nlmsg_seq < b->seq0 || nlh->nlmsg_seq > last)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error && !first_err) {
					first_err = e->error;
					err_seq = nlh->nlmsg_seq;
				}
				if (nlh->nlmsg_seq == last || (e->error && nlh->nlmsg_seq == b->seq0))
					done = true;
			}
		}
		if (done)
			break;
	}
	free(buf);
	if (first_err)
		return k8s_error(ctx, first_err, "nftables rejected the batch at %s: %s",
				 what_of(b, err_seq), k8snet_strerror(first_err));
	return 0;
}

int nat_batch_send(struct nat_batch *b)
{
	struct k8snet_ctx *ctx = b->p->ctx;
	char begin[64], end[64];
	struct mnl_socket *nl;
	struct nlmsghdr *last;
	struct iovec iov[3];
	struct msghdr msg = { 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int r, sz, one = 1;
	size_t total, off;

	if (b->err)
		return k8s_error(ctx, b->err, "building the batch: %s", k8snet_strerror(b->err));
	if (!b->count)
		return 0;
	r = k8s_ctx_nfnl(ctx, &nl);
	if (r < 0)
		return r;
	/* Only the last message asks for an ack: errors are always reported,
	 * and the kernel keeps going after one, so that ack ends the answer. */
	for (off = 0, last = NULL; off < b->len; off += NLMSG_ALIGN(last->nlmsg_len))
		last = (struct nlmsghdr *)(b->buf + off);
	last->nlmsg_flags |= NLM_F_ACK;
	iov[0] = (struct iovec){ begin, (size_t)put_batch_marker(begin, NFNL_MSG_BATCH_BEGIN, b->seq0) };
	iov[1] = (struct iovec){ b->buf, b->len };
	iov[2] = (struct iovec){ end, (size_t)put_batch_marker(end, NFNL_MSG_BATCH_END, b->seq + 1) };
	total = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	sz = total + 4096 > (size_t)INT32_MAX / 2 ? INT32_MAX / 2 : (int)(total + 4096);
	/* Error answers need not echo our (possibly large) messages back. */
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	msg.msg_name = &sa;
	msg.msg_namelen = sizeof(sa);
	msg.msg_iov = iov;
	msg.msg_iovlen = 3;
	b->p->ctx->seq = b->seq + 2;
	if (sendmsg(mnl_socket_get_fd(nl), &msg, 0) < 0)
		return k8s_error(ctx, -errno, "sending the nftables batch (%zu bytes): %m", total);
	return read_acks(b, nl, last->nlmsg_seq);
}
