/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rules and their expressions.  Each helper checks its allocation (a
 * failure is kept in the rule and reported when a batch takes it) and adds
 * an upper bound of the attributes it will produce, so the batch can
 * reserve room before libnftnl writes the message.
 *
 * Registers: nft has four 128-bit registers (NFT_REG_1..4), also addressed
 * as sixteen 32-bit ones (NFT_REG32_00..15).  Since Linux 6.11 the kernel
 * refuses a rule that reads a register no earlier expression of the same
 * rule wrote, so every rule computes what it uses.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "nft/internal.h"

/* An expression's attributes without its variable parts: list element and
 * name, data nest, a handful of u32 attributes, with room to spare. */
#define EXPR_FIXED 160u
/* Beyond this a rule is a bug in its maker, not something to send. */
#define RULE_MAX_EXPRS 128u

struct nft_rule *nft_rule_new(int nfproto, const char *table, const char *chain)
{
	struct nft_rule *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->r = nftnl_rule_alloc();
	if (!r->r) {
		free(r);
		return NULL;
	}
	nftnl_rule_set_str(r->r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r->r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r->r, NFTNL_RULE_FAMILY, (uint32_t)nfproto);
	r->table = nftnl_rule_get_str(r->r, NFTNL_RULE_TABLE);
	r->chain = nftnl_rule_get_str(r->r, NFTNL_RULE_CHAIN);
	if (!r->table || !r->chain)
		r->err = -ENOMEM;
	r->nfproto = nfproto;
	return r;
}

void nft_rule_free(struct nft_rule *r)
{
	if (!r)
		return;
	nftnl_rule_free(r->r);
	free(r);
}

void nft_rule_fail(struct nft_rule *r, int err)
{
	if (r && !r->err)
		r->err = err;
}

/* Comments only inform (`nft list` shows them): one too long for the
 * kernel's 256 bytes of user data is cut, at a character boundary. */
void nft_rule_comment(struct nft_rule *r, const char *comment)
{
	struct nftnl_udata_buf *ud;
	char cut[NFT_USERDATA_MAXLEN - 3];
	size_t n;

	if (!r || r->err)
		return;
	n = strlen(comment);
	if (n >= sizeof(cut)) {
		n = sizeof(cut) - 1;
		while (n > 0 && ((unsigned char)comment[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(cut, comment, n);
	cut[n] = '\0';
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, cut)) {
		nftnl_udata_buf_free(ud);
		r->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_data(r->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
			    nftnl_udata_buf_len(ud));
	r->bound += NFT_USERDATA_MAXLEN + 8;
	nftnl_udata_buf_free(ud);
}

/* A new expression in r, with extra bytes of variable attributes. */
static struct nftnl_expr *ex(struct nft_rule *r, const char *name, size_t extra)
{
	struct nftnl_expr *e;

	if (!r || r->err)
		return NULL;
	if (r->nexprs == RULE_MAX_EXPRS) {
		r->err = -E2BIG;
		return NULL;
	}
	e = nftnl_expr_alloc(name);
	if (!e) {
		r->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(r->r, e);
	r->nexprs++;
	r->bound += EXPR_FIXED + extra;
	return e;
}

static size_t name_room(const char *s)
{
	return s ? strlen(s) + 8 : 0;
}

/* Data beyond a register's 16 bytes is a mistake of ours. */
static bool data_ok(struct nft_rule *r, uint32_t len)
{
	if (len <= 64)
		return true;
	if (r && !r->err)
		r->err = -E2BIG;
	return false;
}

void nft_e_payload(struct nft_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "payload", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

void nft_e_meta_get(struct nft_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "meta", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

void nft_e_meta_set(struct nft_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = ex(r, "meta", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
}

void nft_e_ct_get(struct nft_rule *r, uint32_t key, int dir, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "ct", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	if (dir >= 0)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, (uint8_t)dir);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
}

void nft_e_cmp(struct nft_rule *r, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = data_ok(r, len) ? ex(r, "cmp", len) : NULL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void nft_e_bitwise(struct nft_rule *r, uint32_t reg, const void *mask, const void *xor,
		   uint32_t len)
{
	struct nftnl_expr *e = data_ok(r, len) ? ex(r, "bitwise", 2 * len) : NULL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
}

void nft_e_verdict(struct nft_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex(r, "immediate", name_room(chain));

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

void nft_e_imm(struct nft_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = data_ok(r, len) ? ex(r, "immediate", len) : NULL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

void nft_e_lookup(struct nft_rule *r, const char *set, uint32_t set_id, uint32_t sreg, int dreg,
		  uint32_t flags)
{
	struct nftnl_expr *e = ex(r, "lookup", name_room(set));

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

void nft_e_dynset_update(struct nft_rule *r, const char *set, uint32_t sreg_key)
{
	struct nftnl_expr *e = ex(r, "dynset", name_room(set));

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg_key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
}

void nft_e_numgen(struct nft_rule *r, uint32_t dreg, uint32_t mod, uint32_t type)
{
	struct nftnl_expr *e = ex(r, "numgen", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, mod);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
}

void nft_e_nat(struct nft_rule *r, uint32_t type, int nfproto, uint32_t reg_addr, uint32_t reg_proto)
{
	struct nftnl_expr *e = ex(r, "nat", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)nfproto);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg_addr);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_proto);
}

void nft_e_masq(struct nft_rule *r)
{
	ex(r, "masq", 0);
}

void nft_e_reject(struct nft_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ex(r, "reject", 0);

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

void nft_e_counter(struct nft_rule *r)
{
	ex(r, "counter", 0);
}

void nft_e_objref(struct nft_rule *r, uint32_t type, const char *name)
{
	struct nftnl_expr *e = ex(r, "objref", name_room(name));

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
}

void nft_e_objref_map(struct nft_rule *r, uint32_t sreg, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = ex(r, "objref", name_room(set));

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_SET_NAME, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_ID, set_id);
}

/* The kernel keeps at most NF_LOG_PREFIXLEN - 1 bytes of a prefix; cut it
 * here (at a character boundary) rather than have the rule refused. */
void nft_e_log(struct nft_rule *r, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = ex(r, "log", prefix ? strlen(prefix) + 8 : 0);
	char cut[128];
	size_t n;

	if (!e)
		return;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	if (!prefix)
		return;
	n = strlen(prefix);
	if (n >= sizeof(cut)) {
		n = sizeof(cut) - 1;
		while (n > 0 && ((unsigned char)prefix[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(cut, prefix, n);
	cut[n] = '\0';
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, cut);
}

void nft_e_limit_pkts(struct nft_rule *r, uint64_t per_second, uint32_t burst)
{
	struct nftnl_expr *e = ex(r, "limit", 0);

	if (!e)
		return;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, per_second);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
}

/* ---------------- composites ---------------- */

static uint32_t addr_len(int nfproto)
{
	return nfproto == NFPROTO_IPV4 ? 4 : 16;
}

void nft_e_addr(struct nft_rule *r, int nfproto, bool src, uint32_t dreg)
{
	uint32_t off = nfproto == NFPROTO_IPV4 ? (src ? 12 : 16) : (src ? 8 : 24);

	nft_e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, addr_len(nfproto), dreg);
}

void nft_e_cidr(struct nft_rule *r, int nfproto, bool src, const uint8_t *addr, unsigned plen,
		uint32_t op)
{
	uint8_t mask[16] = { 0 }, zero[16] = { 0 };
	uint32_t len = addr_len(nfproto), i;

	nft_e_addr(r, nfproto, src, NFT_REG_1);
	if (plen < len * 8) {
		for (i = 0; i < len; i++) {
			int bits = (int)plen - (int)i * 8;

			mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff00 >> bits);
		}
		nft_e_bitwise(r, NFT_REG_1, mask, zero, len);
	}
	nft_e_cmp(r, NFT_REG_1, op, addr, len);
}

void nft_e_fib_local(struct nft_rule *r, uint32_t flag)
{
	struct nftnl_expr *e = ex(r, "fib", 0);
	uint32_t local = RTN_LOCAL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flag);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &local, sizeof(local));
}

void nft_e_meta_eq_u8(struct nft_rule *r, uint32_t key, uint8_t v)
{
	nft_e_meta_get(r, key, NFT_REG_1);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &v, 1);
}

void nft_e_mark_or(struct nft_rule *r, uint32_t bit)
{
	uint32_t mask = ~bit;

	nft_e_meta_get(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &mask, &bit, 4);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_1);
}

bool nft_table_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}
