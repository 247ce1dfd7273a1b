/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The batch builder.  Messages go into pages; before a message is built the
 * builder reserves an upper bound of its size, computed from what goes into
 * it (names, data lengths, expression count), so libnftnl's unchecked
 * attribute writes can never run past a page.  Set elements are gathered
 * into messages whose element list stays under the 16-bit attribute length,
 * and consecutive element runs for the same set share messages: a full sync
 * of 10,000 services is a few hundred messages, not tens of thousands.
 *
 * Every message records its owner (what the caller said it was about) and,
 * for element messages, each element's owner, so that an error
 * acknowledgement can be turned back into "service default/web".
 */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "core/strbuf.h"
#include "core/vec.h"
#include "nft/internal.h"

/* nftables' own numbering of element user data (its udata_set_elem_type). */
#define UDATA_ELEM_COMMENT 0

static int fail(struct nft_batch *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

int nft_batch_new(struct k8snet_ctx *ctx, struct nft_batch **ret)
{
	struct nft_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->ctx = ctx;
	*ret = b;
	return 0;
}

int nft_batch_new_expect(struct k8snet_ctx *ctx, const struct nft_table_ref *tables, size_t n,
			 struct nft_batch **ret)
{
	int r = nft_batch_new(ctx, ret);

	if (r < 0)
		return r;
	(*ret)->expect = tables;
	(*ret)->nexpect = n;
	return 0;
}

static void pending_drop(struct nft_batch *b)
{
	/* libnftnl's free functions do not take NULL. */
	if (b->pend.set)
		nftnl_set_free(b->pend.set);
	free(b->pend.owners);
	memset(&b->pend, 0, sizeof(b->pend));
}

void nft_batch_free(struct nft_batch *b)
{
	size_t i;

	if (!b)
		return;
	pending_drop(b);
	for (i = 0; i < b->npages; i++)
		free(b->pages[i].buf);
	free(b->pages);
	for (i = 0; i < b->nstrs; i++)
		if (b->strs[i].owned)
			free((char *)b->strs[i].s);
	free(b->strs);
	free(b->msgs);
	free(b->elem_owners);
	free(b);
}

int nft_batch_error(const struct nft_batch *b)
{
	return b->err;
}

void nft_batch_fail(struct nft_batch *b, int err)
{
	fail(b, err);
}

size_t nft_batch_count(const struct nft_batch *b)
{
	return b->nmsgs + (b->pend.set ? 1 : 0);
}

size_t nft_batch_bytes(const struct nft_batch *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->npages; i++)
		n += b->pages[i].len;
	return n;
}

/* ---------------- strings: owners and set names ---------------- */

static uint32_t intern_str(struct nft_batch *b, const char *s, bool owned)
{
	if (!s) {
		fail(b, -ENOMEM);
		return 0;
	}
	/* Owners come in runs (a service's messages): the last one is the
	 * likely match, and the only one checked. */
	if (b->nstrs && (b->strs[b->nstrs - 1].s == s || strcmp(b->strs[b->nstrs - 1].s, s) == 0)) {
		if (owned)
			free((char *)s);
		return (uint32_t)b->nstrs;
	}
	if (k8s_grow(&b->strs, &b->strs_cap, b->nstrs, sizeof(*b->strs)) < 0) {
		if (owned)
			free((char *)s);
		fail(b, -ENOMEM);
		return 0;
	}
	b->strs[b->nstrs++] = (struct nft_str){ s, owned };
	return (uint32_t)b->nstrs;
}

static uint32_t intern(struct nft_batch *b, char *s)
{
	return intern_str(b, s, true);
}

uint32_t nft_batch_owner(struct nft_batch *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = k8s_vasprintf(fmt, ap);
	va_end(ap);
	b->owner = intern(b, s);
	return b->owner;
}

uint32_t nft_batch_owner_ref(struct nft_batch *b, const char *what)
{
	b->owner = intern_str(b, what, false);
	return b->owner;
}

void nft_batch_set_describe(struct nft_batch *b, nft_describe_fn fn, void *userdata)
{
	b->describe = fn;
	b->describe_data = userdata;
}

void nft_batch_set_owner(struct nft_batch *b, uint32_t owner)
{
	if (owner <= b->nstrs)
		b->owner = owner;
}

const char *nft_batch_str(const struct nft_batch *b, uint32_t id)
{
	return id && id <= b->nstrs ? b->strs[id - 1].s : NULL;
}

/* ---------------- pages and message records ---------------- */

static struct nlmsghdr *msg_begin(struct nft_batch *b, size_t bound, uint16_t type, int nfproto,
				  uint16_t flags)
{
	struct nft_page *pg = b->npages ? &b->pages[b->npages - 1] : NULL;
	char *p;

	if (b->err)
		return NULL;
	if (bound > NFT_BATCH_MSG_MAX) {
		fail(b, -E2BIG);
		return NULL;
	}
	if (!pg || pg->cap - pg->len < bound) {
		struct nft_page *v = realloc(b->pages, (b->npages + 1) * sizeof(*v));
		/* A delta is small: start with a small page, go big after. */
		size_t page = b->npages ? NFT_BATCH_PAGE : NFT_BATCH_FIRST_PAGE;
		size_t cap = bound > page ? bound : page;

		if (!v) {
			fail(b, -ENOMEM);
			return NULL;
		}
		b->pages = v;
		pg = &b->pages[b->npages];
		pg->buf = malloc(cap);
		if (!pg->buf) {
			fail(b, -ENOMEM);
			return NULL;
		}
		pg->len = 0;
		pg->cap = cap;
		b->npages++;
	}
	p = pg->buf + pg->len;
	/* Attribute padding is sent as it lies in the buffer. */
	memset(p, 0, bound);
	b->cur_bound = bound;
	/* The sequence number is given at commit time, when the count is known. */
	return nftnl_nlmsg_build_hdr(p, type, (uint16_t)nfproto, flags, 0);
}

static void msg_end(struct nft_batch *b, struct nlmsghdr *nlh, uint32_t set_name,
		    uint32_t elem0, uint32_t nelem)
{
	struct nft_page *pg = &b->pages[b->npages - 1];
	struct nft_msg_rec *rec;

	if (nlh->nlmsg_len > b->cur_bound) {
		/* A bound below the truth is a bug here, not a caller's mistake;
		 * refuse to send what may have been overwritten. */
		k8s_log(b->ctx, LOG_ERR, "nft: message of %u bytes over its bound of %zu",
			nlh->nlmsg_len, b->cur_bound);
		fail(b, -EOVERFLOW);
		return;
	}
	if (k8s_grow(&b->msgs, &b->msgs_cap, b->nmsgs, sizeof(*b->msgs)) < 0) {
		fail(b, -ENOMEM);
		return;
	}
	rec = &b->msgs[b->nmsgs++];
	rec->page = (uint32_t)(b->npages - 1);
	rec->off = (uint32_t)pg->len;
	rec->owner = b->owner;
	rec->set_name = set_name;
	rec->elem0 = elem0;
	rec->nelem = nelem;
	pg->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* A name the kernel would refuse, refused here with its owner named. */
static bool name_ok(struct nft_batch *b, const char *name)
{
	if (name && strlen(name) <= NFT_NAME_MAX)
		return true;
	if (!b->err)
		k8s_error(b->ctx, -ENAMETOOLONG, "%s: nftables name %.40s... longer than %d bytes",
			  nft_batch_str(b, b->owner) ? nft_batch_str(b, b->owner) : "batch",
			  name ? name : "(null)", NFT_NAME_MAX);
	fail(b, name ? -ENAMETOOLONG : -EINVAL);
	return false;
}

/* Room for the fixed attributes of a table, chain or set message, plus its
 * names (which name_ok() has bounded). */
#define OBJ_BOUND (3 * (NFT_NAME_MAX + 8) + 1024)

/* ---------------- expectation mode ---------------- */

static struct nft_inv *expect_of(struct nft_batch *b, int nfproto, const char *table)
{
	size_t i;

	for (i = 0; i < b->nexpect; i++)
		if (b->expect[i].nfproto == nfproto && strcmp(b->expect[i].table, table) == 0)
			return b->expect[i].want;
	return NULL;
}

static void expect_table(struct nft_batch *b, uint16_t type, int nfproto, const char *table)
{
	struct nft_inv *inv = expect_of(b, nfproto, table);

	if (!inv)
		return;
	if (type == NFT_MSG_DELTABLE) {
		nft_inv_clear(inv);
		return;
	}
	inv->present = true;
}

static void expect_chain(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
			 const char *chain)
{
	struct nft_inv *inv = expect_of(b, nfproto, table);
	struct nft_inv_chain *c;

	if (!inv)
		return;
	if (type == NFT_MSG_NEWCHAIN) {
		nft_inv_expect_chain(inv, chain, 0);
		return;
	}
	c = nft_inv_chain(inv, chain);
	if (!c)
		return;
	if (type == NFT_MSG_DELRULE) {
		c->nrules = 0;
		return;
	}
	free(c->name);
	*c = inv->chains[--inv->nchains];
}

static bool anonymous(const char *set)
{
	/* Anonymous sets are named by the kernel from a "__name%d" pattern. */
	return strncmp(set, "__", 2) == 0;
}

static void expect_set(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		       const struct nft_set_def *def)
{
	struct nft_inv *inv = expect_of(b, nfproto, table);
	size_t i;

	if (!inv || anonymous(def->name))
		return;
	if (type == NFT_MSG_NEWSET) {
		nft_inv_expect_set(inv, def->name, (def->flags & NFT_SET_EVAL) != 0);
		return;
	}
	for (i = 0; i < inv->nsets; i++)
		if (strcmp(inv->sets[i].name, def->name) == 0) {
			free(inv->sets[i].name);
			inv->sets[i] = inv->sets[--inv->nsets];
			return;
		}
}

static void expect_elems(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
			 const char *set, const struct nft_elem *e, size_t n)
{
	struct nft_inv *inv = expect_of(b, nfproto, table);
	size_t i, j;

	if (!inv || anonymous(set))
		return;
	for (i = 0; i < n; i++) {
		if (type == NFT_MSG_NEWSETELEM) {
			nft_inv_expect_elem(inv, set, &e[i]);
			continue;
		}
		for (j = 0; j < inv->nsets; j++)
			if (strcmp(inv->sets[j].name, set) == 0 && inv->sets[j].nelems) {
				inv->sets[j].nelems--;
				inv->sets[j].hash -= nft_elem_hash(e[i].key, e[i].klen, e[i].data,
								   e[i].dlen, e[i].verdict, e[i].chain,
								   e[i].objref);
			}
	}
}

/* ---------------- tables, chains, sets ---------------- */

void nft_batch_table(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     uint32_t flags)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	nft_batch_flush_pending(b);
	if (b->err || !name_ok(b, table))
		return;
	if (b->expect) {
		expect_table(b, type, nfproto, table);
		return;
	}
	t = nftnl_table_alloc();
	if (!t) {
		fail(b, -ENOMEM);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)nfproto);
	if (flags)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nlh = msg_begin(b, OBJ_BOUND, type, nfproto, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		msg_end(b, nlh, 0, 0, 0);
	}
	nftnl_table_free(t);
}

void nft_batch_table_replace(struct nft_batch *b, int nfproto, const char *table)
{
	nft_batch_table_delete(b, nfproto, table);
	nft_batch_table(b, NFT_MSG_NEWTABLE, nfproto, table, 0);
}

void nft_batch_table_delete(struct nft_batch *b, int nfproto, const char *table)
{
	nft_batch_table(b, NFT_MSG_NEWTABLE, nfproto, table, 0);
	nft_batch_table(b, NFT_MSG_DELTABLE, nfproto, table, 0);
}

static void chain_msg(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		      const char *chain, const struct nft_hook *hook, const char *comment);

void nft_batch_chain(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     const char *chain, const struct nft_hook *hook)
{
	chain_msg(b, type, nfproto, table, chain, hook, NULL);
}

void nft_batch_chain_comment(struct nft_batch *b, int nfproto, const char *table,
			     const char *chain, const struct nft_hook *hook, const char *comment)
{
	chain_msg(b, NFT_MSG_NEWCHAIN, nfproto, table, chain, hook, comment);
}

static int chain_userdata(struct nftnl_chain *c, const char *comment)
{
	struct nftnl_udata_buf *ud;

	if (strlen(comment) >= NFTNL_UDATA_COMMENT_MAXLEN * 8)
		return -E2BIG;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_CHAIN_COMMENT, comment)) {
		nftnl_udata_buf_free(ud);
		return ud ? -E2BIG : -ENOMEM;
	}
	nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(ud),
			     nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return 0;
}

static void chain_msg(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		      const char *chain, const struct nft_hook *hook, const char *comment)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	nft_batch_flush_pending(b);
	if (b->err || !name_ok(b, table) || !name_ok(b, chain))
		return;
	if (b->expect) {
		expect_chain(b, type, nfproto, table, chain);
		return;
	}
	c = nftnl_chain_alloc();
	if (!c) {
		fail(b, -ENOMEM);
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (uint32_t)nfproto);
	if (hook && type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook->hooknum);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, hook->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, hook->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	if (comment) {
		int r = chain_userdata(c, comment);

		if (r < 0) {
			nftnl_chain_free(c);
			fail(b, r);
			return;
		}
	}
	nlh = msg_begin(b, OBJ_BOUND + NFT_USERDATA_MAXLEN, type, nfproto,
			type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		msg_end(b, nlh, 0, 0, 0);
	}
	nftnl_chain_free(c);
}

void nft_batch_flush_chain(struct nft_batch *b, int nfproto, const char *table, const char *chain)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	nft_batch_flush_pending(b);
	if (b->err || !name_ok(b, table) || !name_ok(b, chain))
		return;
	if (b->expect) {
		expect_chain(b, NFT_MSG_DELRULE, nfproto, table, chain);
		return;
	}
	r = nftnl_rule_alloc();
	if (!r) {
		fail(b, -ENOMEM);
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)nfproto);
	/* A rule message without a handle deletes every rule of the chain. */
	nlh = msg_begin(b, OBJ_BOUND, NFT_MSG_DELRULE, nfproto, 0);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh, 0, 0, 0);
	}
	nftnl_rule_free(r);
}

static int set_userdata(struct nftnl_set *s, const struct nft_set_def *def)
{
	struct nftnl_udata_buf *ud;
	bool ok = true;

	if (!def->key_host_order && !def->comment)
		return 0;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return -ENOMEM;
	if (def->key_host_order)
		ok = nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* nft: host endian */);
	if (ok && def->comment)
		ok = nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_COMMENT, def->comment);
	if (ok)
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return ok ? 0 : -E2BIG;
}

static struct nftnl_set *set_obj(int nfproto, const char *table, const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)nfproto);
	if (id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

void nft_batch_set(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		   const struct nft_set_def *def)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	int r = 0;

	nft_batch_flush_pending(b);
	if (b->err || !name_ok(b, table) || !name_ok(b, def->name))
		return;
	if (b->expect) {
		expect_set(b, type, nfproto, table, def);
		return;
	}
	s = set_obj(nfproto, table, def->name, 0);
	if (!s) {
		fail(b, -ENOMEM);
		return;
	}
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, def->flags);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, def->key_type);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, def->key_len);
		if (def->flags & NFT_SET_MAP) {
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, def->data_type);
			if (def->data_len)
				nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, def->data_len);
		}
		if (def->timeout_ms)
			nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, def->timeout_ms);
		if (def->obj_type) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, def->flags | NFT_SET_OBJECT);
			nftnl_set_set_u32(s, NFTNL_SET_OBJ_TYPE, def->obj_type);
		}
		/* The kernel wants an id for every new set. */
		nftnl_set_set_u32(s, NFTNL_SET_ID, def->id ? def->id : ++b->set_id);
		r = set_userdata(s, def);
	}
	nlh = r < 0 ? NULL : msg_begin(b, OBJ_BOUND + NFT_USERDATA_MAXLEN, type, nfproto,
				       type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	if (r < 0)
		fail(b, r);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		msg_end(b, nlh, 0, 0, 0);
	}
	nftnl_set_free(s);
}

uint32_t nft_batch_next_set_id(struct nft_batch *b)
{
	return ++b->set_id;
}

/* ---------------- named counters ---------------- */

static void expect_obj(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		       const char *name)
{
	struct nft_inv *inv = expect_of(b, nfproto, table);

	if (!inv)
		return;
	if (type == NFT_MSG_NEWOBJ)
		nft_inv_expect_obj(inv, name);
	else
		nft_inv_forget_obj(inv, name);
}

void nft_batch_counter(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		       const struct nft_counter_def *c)
{
	struct nftnl_obj *o;
	struct nlmsghdr *nlh;

	nft_batch_flush_pending(b);
	if (b->err || !name_ok(b, table) || !name_ok(b, c->name))
		return;
	if (b->expect) {
		expect_obj(b, type, nfproto, table, c->name);
		return;
	}
	o = nftnl_obj_alloc();
	if (!o) {
		fail(b, -ENOMEM);
		return;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, c->name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (uint32_t)nfproto);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	if (type == NFT_MSG_NEWOBJ) {
		/* Initial values: a counter carried over from a replaced table. */
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, c->packets);
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, c->bytes);
	}
	nlh = msg_begin(b, OBJ_BOUND, type, nfproto, type == NFT_MSG_NEWOBJ ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_obj_nlmsg_build_payload(nlh, o);
		msg_end(b, nlh, 0, 0, 0);
	}
	nftnl_obj_free(o);
}

/* ---------------- elements ---------------- */

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An upper bound of one element's attributes in an element list. */
static size_t elem_bound(const struct nft_elem *e)
{
	size_t n = 64 + align4(e->klen) + align4(e->dlen);

	if (e->chain)
		n += align4(strlen(e->chain) + 1) + 32;
	if (e->comment)
		n += align4(strlen(e->comment) + 1) + 16;
	if (e->objref)
		n += align4(strlen(e->objref) + 1) + 16;
	return n;
}

/* The pending element message, built and recorded. */
void nft_batch_flush_pending(struct nft_batch *b)
{
	struct nft_pending *p = &b->pend;
	struct nlmsghdr *nlh;
	uint32_t elem0 = (uint32_t)b->nelem_owners;
	size_t i;

	if (!p->set)
		return;
	if (!b->err) {
		uint32_t *v = realloc(b->elem_owners, (b->nelem_owners + p->n) * sizeof(*v));

		if (!v)
			fail(b, -ENOMEM);
		else
			b->elem_owners = v;
	}
	nlh = msg_begin(b, OBJ_BOUND + p->bound, p->type, p->nfproto,
			p->type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, p->set);
		for (i = 0; i < p->n; i++)
			b->elem_owners[b->nelem_owners + i] = p->owners[i];
		b->nelem_owners += p->n;
		msg_end(b, nlh, p->set_name, elem0, (uint32_t)p->n);
	}
	pending_drop(b);
}

static bool pending_matches(const struct nft_batch *b, uint16_t type, int nfproto,
			    const char *table, const char *set, uint32_t set_id)
{
	const struct nft_pending *p = &b->pend;

	return p->set && p->type == type && p->nfproto == nfproto && p->set_id == set_id &&
	       strcmp(p->table, table) == 0 && strcmp(nft_batch_str(b, p->set_name), set) == 0;
}

static void pending_start(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
			  const char *set, uint32_t set_id)
{
	struct nft_pending *p = &b->pend;

	p->set_name = intern(b, strdup(set));
	p->set = set_obj(nfproto, table, set, set_id);
	if (!p->set || !p->set_name) {
		pending_drop(b);
		fail(b, -ENOMEM);
		return;
	}
	p->type = type;
	p->nfproto = nfproto;
	p->set_id = set_id;
	/* set_obj() copied the table name; keep a pointer to that copy. */
	p->table = nftnl_set_get_str(p->set, NFTNL_SET_TABLE);
}

static struct nftnl_set_elem *make_elem(const struct nft_elem *e, bool with_data)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct nftnl_udata_buf *ud;

	if (!el)
		return NULL;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, e->klen);
	if (with_data && e->chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)e->verdict);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e->chain);
	} else if (with_data && e->verdict) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)e->verdict);
	} else if (with_data && e->dlen) {
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->data, e->dlen);
	} else if (with_data && e->objref) {
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_OBJREF, e->objref);
	}
	if (with_data && e->comment) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud || !nftnl_udata_put_strz(ud, UDATA_ELEM_COMMENT, e->comment)) {
			nftnl_udata_buf_free(ud);
			nftnl_set_elem_free(el);
			return NULL;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	return el;
}

static void pending_add(struct nft_batch *b, const struct nft_elem *e, size_t bound)
{
	struct nft_pending *p = &b->pend;
	struct nftnl_set_elem *el;

	if (k8s_grow(&p->owners, &p->cap, p->n, sizeof(*p->owners)) < 0) {
		fail(b, -ENOMEM);
		return;
	}
	el = make_elem(e, p->type == NFT_MSG_NEWSETELEM);
	if (!el) {
		fail(b, -ENOMEM);
		return;
	}
	nftnl_set_elem_add(p->set, el);
	p->owners[p->n++] = e->owner ? e->owner : b->owner;
	p->bound += bound;
}

void nft_batch_elems(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     const char *set, uint32_t set_id, const struct nft_elem *e, size_t n)
{
	size_t i;

	if (b->err || !name_ok(b, table) || !name_ok(b, set))
		return;
	if (b->expect) {
		expect_elems(b, type, nfproto, table, set, e, n);
		return;
	}
	for (i = 0; i < n && !b->err; i++) {
		size_t bound = elem_bound(&e[i]);

		if (e[i].objref && !name_ok(b, e[i].objref))
			break;
		if (e[i].klen > 64 || e[i].dlen > 64 ||
		    (e[i].comment && strlen(e[i].comment) >= NFTNL_UDATA_COMMENT_MAXLEN)) {
			fail(b, -E2BIG);
			break;
		}
		if (b->pend.set && (!pending_matches(b, type, nfproto, table, set, set_id) ||
				    b->pend.bound + bound > NFT_BATCH_ELEMS_MAX))
			nft_batch_flush_pending(b);
		if (!b->pend.set)
			pending_start(b, type, nfproto, table, set, set_id);
		if (!b->err)
			pending_add(b, &e[i], bound);
	}
}

/* ---------------- rules ---------------- */

void nft_batch_rule(struct nft_batch *b, struct nft_rule *r)
{
	struct nlmsghdr *nlh;

	nft_batch_flush_pending(b);
	if (!r) {
		fail(b, -ENOMEM);
		return;
	}
	if (r->err)
		fail(b, r->err);
	if (!b->err && (!name_ok(b, r->table) || !name_ok(b, r->chain)))
		r->err = b->err;
	if (!b->err && b->expect) {
		struct nft_inv *inv = expect_of(b, r->nfproto, r->table);

		if (inv)
			nft_inv_expect_chain(inv, r->chain, 1);
		nft_rule_free(r);
		return;
	}
	nlh = b->err ? NULL : msg_begin(b, OBJ_BOUND + r->bound, NFT_MSG_NEWRULE, r->nfproto,
					NLM_F_CREATE | NLM_F_APPEND);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r->r);
		msg_end(b, nlh, 0, 0, 0);
	}
	nft_rule_free(r);
}
