/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading back: dumps of one table's chains, rules, sets and set elements,
 * parsed straight from the netlink attributes (no libnftnl objects: a dump
 * of 100,000 elements should cost the kernel's time, not ours).
 *
 * Every dump message carries the low 16 bits of the generation it was read
 * at, and the kernel flags a dump that a commit interrupted; a dump that
 * is not all of one generation is refused with -EAGAIN.
 */
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "nft/internal.h"

/* Big enough for any dump message the kernel makes (it sizes them to the
 * reader's buffer, up to 32 KiB). */
#define DUMP_BUF (128u << 10)

struct dump_req {
	uint16_t type;
	bool get;                  /* one object (NLM_F_ACK ends it), not a dump */
	int nfproto;
	const char *table, *set;   /* filters put into the request */
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
	uint32_t gen;              /* expected generation, 0: not checked */
	uint16_t gen_seen;
	bool gen_seen_set;
};

static void put_filters(struct nlmsghdr *nlh, const struct dump_req *q)
{
	/* Every object kind numbers its table attribute 1; names differ. */
	if (q->table)
		mnl_attr_put_strz(nlh, 1, q->table);
	if (q->set && (q->type & 0xff) == NFT_MSG_GETOBJ) {
		mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, q->set);
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	} else if (q->set)
		mnl_attr_put_strz(nlh, (q->type & 0xff) == NFT_MSG_GETCHAIN ? NFTA_CHAIN_NAME :
				  (q->type & 0xff) == NFT_MSG_GETSETELEM ? NFTA_SET_ELEM_LIST_SET :
				  NFTA_SET_NAME, q->set);
}

static int check_gen(const struct nlmsghdr *nlh, struct dump_req *q)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	uint16_t g = ntohs(nfg->res_id);

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		return -EAGAIN;
	if (q->gen && g != (uint16_t)q->gen)
		return -EAGAIN;
	if (q->gen_seen_set && g != (uint16_t)q->gen_seen)
		return -EAGAIN;
	q->gen_seen = g;
	q->gen_seen_set = true;
	return 0;
}

/* One dump; the callback sees each object message.  -ENOENT when the
 * table (or set) is not there. */
static int run_dump(struct k8snet_ctx *ctx, struct dump_req *q)
{
	char *buf = malloc(DUMP_BUF);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq;
	int r = nft_socket(ctx, &nl), status = 0;
	bool done = false;

	if (!buf)
		return -ENOMEM;
	if (r < 0)
		goto out;
	nft_drain(ctx, nl);
	seq = nft_next_seq(ctx, 1);
	memset(buf, 0, 1024);
	nlh = nftnl_nlmsg_build_hdr(buf, q->type, (uint16_t)q->nfproto,
				    q->get ? NLM_F_ACK : NLM_F_DUMP | NLM_F_ACK, seq);
	put_filters(nlh, q);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while (!done) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, DUMP_BUF, 0);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			ctx->nfnl_unread = true;
			break;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len) && !done;
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
			} else if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error)
					status = e->error;
				done = true;
			} else if (!status) {
				status = check_gen(nlh, q);
				if (!status)
					status = q->cb(nlh, q->data);
			}
		}
	}
	if (r >= 0)
		r = status;
out:
	free(buf);
	return r;
}

/* ---------------- attribute helpers ---------------- */

static const struct nlattr *attr_of(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static const char *str_of(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = attr_of(nlh, type);

	return a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 ? mnl_attr_get_str(a) : NULL;
}

static const struct nlattr *nested(const struct nlattr *parent, uint16_t type)
{
	const struct nlattr *a;

	if (!parent)
		return NULL;
	mnl_attr_for_each_nested(a, parent)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/* An element, as the kernel reports it. */
struct parsed_elem {
	const uint8_t *key, *data;
	uint32_t klen, dlen;
	int verdict;
	const char *chain;
	const char *comment;
	const char *objref;
};

static void parse_elem(const struct nlattr *el, struct parsed_elem *p)
{
	const struct nlattr *k = nested(nested(el, NFTA_SET_ELEM_KEY), NFTA_DATA_VALUE);
	const struct nlattr *d = nested(el, NFTA_SET_ELEM_DATA), *v, *ud;

	memset(p, 0, sizeof(*p));
	if (k) {
		p->key = mnl_attr_get_payload(k);
		p->klen = mnl_attr_get_payload_len(k);
	}
	if ((v = nested(d, NFTA_DATA_VALUE))) {
		p->data = mnl_attr_get_payload(v);
		p->dlen = mnl_attr_get_payload_len(v);
	} else if ((v = nested(d, NFTA_DATA_VERDICT))) {
		const struct nlattr *code = nested(v, NFTA_VERDICT_CODE);
		const struct nlattr *chain = nested(v, NFTA_VERDICT_CHAIN);

		if (code && mnl_attr_validate(code, MNL_TYPE_U32) == 0)
			p->verdict = (int)ntohl(mnl_attr_get_u32(code));
		if (chain && mnl_attr_validate(chain, MNL_TYPE_NUL_STRING) == 0)
			p->chain = mnl_attr_get_str(chain);
	}
	v = nested(el, NFTA_SET_ELEM_OBJREF);
	if (v && mnl_attr_validate(v, MNL_TYPE_NUL_STRING) == 0)
		p->objref = mnl_attr_get_str(v);
	/* The comment is user data TLV 0: type (1 byte), length (1), value. */
	ud = nested(el, NFTA_SET_ELEM_USERDATA);
	if (ud) {
		const uint8_t *u = mnl_attr_get_payload(ud);
		uint16_t len = mnl_attr_get_payload_len(ud), i = 0;

		while (i + 2 <= len && i + 2 + u[i + 1] <= len) {
			if (u[i] == 0 && u[i + 1] && u[i + 2 + u[i + 1] - 1] == '\0')
				p->comment = (const char *)u + i + 2;
			i = (uint16_t)(i + 2 + u[i + 1]);
		}
	}
}

typedef void (*elem_fn)(const struct parsed_elem *e, void *data);

struct elems_walk {
	elem_fn fn;
	void *data;
};

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *list = attr_of(nlh, NFTA_SET_ELEM_LIST_ELEMENTS), *el;
	struct elems_walk *w = data;
	struct parsed_elem p;

	if (!list)
		return 0;
	mnl_attr_for_each_nested(el, list) {
		parse_elem(el, &p);
		if (p.key)
			w->fn(&p, w->data);
	}
	return 0;
}

static int walk_elems(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *set,
		      uint32_t gen, elem_fn fn, void *data)
{
	struct elems_walk w = { fn, data };
	struct dump_req q = { .type = NFT_MSG_GETSETELEM, .nfproto = nfproto, .table = table,
			      .set = set, .cb = elems_cb, .data = &w, .gen = gen };

	return run_dump(ctx, &q);
}

/* ---------------- inventory reading ---------------- */

uint64_t nft_elem_hash(const uint8_t *key, uint32_t klen, const uint8_t *data, uint32_t dlen,
		       int verdict, const char *chain, const char *objref)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

#define MIX(byte) (h = (h ^ (uint8_t)(byte)) * 0x100000001b3ull)
	for (i = 0; i < klen; i++)
		MIX(key[i]);
	MIX(0xff);
	for (i = 0; i < dlen; i++)
		MIX(data[i]);
	for (i = 0; i < 4; i++)
		MIX((uint32_t)verdict >> (8 * i));
	for (; chain && *chain; chain++)
		MIX(*chain);
	MIX(0xfe);
	for (; objref && *objref; objref++)
		MIX(*objref);
#undef MIX
	/* Summed over a set, so spread the bits first (splitmix64's finish). */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static void count_elem(const struct parsed_elem *e, void *data)
{
	struct nft_inv_set *s = data;

	s->nelems++;
	s->hash += nft_elem_hash(e->key, e->klen, e->data, e->dlen, e->verdict, e->chain,
				 e->objref);
}

struct inv_read {
	struct nft_inv *inv;
	const char *table;
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct inv_read *rd = data;
	const char *t = str_of(nlh, NFTA_CHAIN_TABLE), *name = str_of(nlh, NFTA_CHAIN_NAME);

	if (t && name && strcmp(t, rd->table) == 0)
		nft_inv_expect_chain(rd->inv, name, 0);
	return rd->inv->err;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct inv_read *rd = data;
	const char *t = str_of(nlh, NFTA_RULE_TABLE), *chain = str_of(nlh, NFTA_RULE_CHAIN);
	struct nft_inv_chain *c;

	if (!t || !chain || strcmp(t, rd->table) != 0)
		return 0;
	c = nft_inv_chain(rd->inv, chain);
	if (c)
		c->nrules++;
	return 0;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct inv_read *rd = data;
	const char *t = str_of(nlh, NFTA_SET_TABLE), *name = str_of(nlh, NFTA_SET_NAME);
	const struct nlattr *fl = attr_of(nlh, NFTA_SET_FLAGS);

	if (!t || !name || strcmp(t, rd->table) != 0)
		return 0;
	if (fl && mnl_attr_validate(fl, MNL_TYPE_U32) == 0 &&
	    (ntohl(mnl_attr_get_u32(fl)) & NFT_SET_ANONYMOUS))
		return 0;
	nft_inv_expect_set(rd->inv, name, false);
	return rd->inv->err;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct inv_read *rd = data;
	const char *t = str_of(nlh, NFTA_OBJ_TABLE), *name = str_of(nlh, NFTA_OBJ_NAME);

	if (t && name && strcmp(t, rd->table) == 0)
		nft_inv_expect_obj(rd->inv, name);
	return rd->inv->err;
}

int nft_inv_read(struct k8snet_ctx *ctx, int nfproto, const char *table, uint32_t gen,
		 struct nft_inv *ret)
{
	struct inv_read rd = { ret, table };
	struct dump_req q = { .nfproto = nfproto, .table = table, .data = &rd, .gen = gen };
	size_t i;
	int r;

	nft_inv_clear(ret);
	/* Chain and set dumps may list every table of the family: the
	 * callbacks keep ours. */
	q.type = NFT_MSG_GETCHAIN;
	q.cb = chain_cb;
	r = run_dump(ctx, &q);
	if (r >= 0) {
		q.type = NFT_MSG_GETRULE;
		q.cb = rule_cb;
		r = run_dump(ctx, &q);
	}
	if (r >= 0) {
		q.type = NFT_MSG_GETSET;
		q.cb = set_cb;
		r = run_dump(ctx, &q);
	}
	if (r >= 0) {
		q.type = NFT_MSG_GETOBJ;
		q.cb = obj_cb;
		r = run_dump(ctx, &q);
	}
	for (i = 0; r >= 0 && i < ret->nsets; i++)
		r = walk_elems(ctx, nfproto, table, ret->sets[i].name, gen, count_elem,
			       &ret->sets[i]);
	if (r == -ENOENT) {
		/* The table is gone (or went while we read: the generation
		 * check on the next read will tell). */
		nft_inv_clear(ret);
		return 0;
	}
	if (r < 0)
		return r;
	ret->present = ret->nchains || ret->nsets || ret->nobjs;
	return ret->err;
}

/* ---------------- a chain's comment ---------------- */

struct comment_out {
	char *buf;
	size_t len;
	int found;
};

static int comment_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *ud = attr_of(nlh, NFTA_CHAIN_USERDATA);
	struct comment_out *o = data;
	const uint8_t *u;
	uint16_t len, i = 0;

	o->found = 1;
	o->buf[0] = '\0';
	if (!ud)
		return 0;
	/* User data TLVs: type (1 byte), length (1), value; 0 is the comment. */
	u = mnl_attr_get_payload(ud);
	len = mnl_attr_get_payload_len(ud);
	while (i + 2 <= len && i + 2 + u[i + 1] <= len) {
		if (u[i] == 0 && u[i + 1] && u[i + 2 + u[i + 1] - 1] == '\0')
			snprintf(o->buf, o->len, "%s", (const char *)u + i + 2);
		i = (uint16_t)(i + 2 + u[i + 1]);
	}
	return 0;
}

int nft_chain_comment(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *chain,
		      uint32_t gen, char *buf, size_t len)
{
	struct comment_out o = { buf, len, 0 };
	struct dump_req q = { .type = NFT_MSG_GETCHAIN, .get = true, .nfproto = nfproto,
			      .table = table, .set = chain, .cb = comment_cb, .data = &o, .gen = gen };
	int r = run_dump(ctx, &q);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : o.found;
}

/* ---------------- set elements with their comments ---------------- */

void nft_dumped_set_clear(struct nft_dumped_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->e[i].comment);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

struct keep {
	struct nft_dumped_set *s;
	int err;
};

static void keep_elem(const struct parsed_elem *e, void *data)
{
	struct keep *k = data;
	struct nft_dumped_elem *d;

	if (k->err || e->klen > sizeof(d->key) || e->dlen > sizeof(d->data))
		return;
	if (k->s->n == k->s->cap) {
		size_t cap = k->s->cap ? 2 * k->s->cap : 64;
		struct nft_dumped_elem *v = realloc(k->s->e, cap * sizeof(*v));

		if (!v) {
			k->err = -ENOMEM;
			return;
		}
		k->s->e = v;
		k->s->cap = cap;
	}
	d = &k->s->e[k->s->n];
	memset(d, 0, sizeof(*d));
	memcpy(d->key, e->key, e->klen);
	d->klen = e->klen;
	if (e->data)
		memcpy(d->data, e->data, e->dlen);
	d->dlen = e->data ? e->dlen : 0;
	if (e->comment && !(d->comment = strdup(e->comment))) {
		k->err = -ENOMEM;
		return;
	}
	k->s->n++;
}

int nft_dump_set(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *set,
		 uint32_t gen, struct nft_dumped_set *ret)
{
	struct keep k = { ret, 0 };
	int r;

	nft_dumped_set_clear(ret);
	r = walk_elems(ctx, nfproto, table, set, gen, keep_elem, &k);
	if (r >= 0)
		r = k.err;
	if (r < 0)
		nft_dumped_set_clear(ret);
	return r;
}

/* ---------------- rule counters ---------------- */

struct counters_req {
	nft_rule_counter_fn fn;
	void *data;
};

/* The packets and bytes of every counter expression of a rule. */
static bool rule_counts(const struct nlmsghdr *nlh, uint64_t *packets, uint64_t *bytes)
{
	const struct nlattr *exprs = attr_of(nlh, NFTA_RULE_EXPRESSIONS), *el;
	bool found = false;

	*packets = *bytes = 0;
	if (!exprs)
		return false;
	mnl_attr_for_each_nested(el, exprs) {
		const struct nlattr *name = nested(el, NFTA_EXPR_NAME);
		const struct nlattr *d = nested(el, NFTA_EXPR_DATA), *p, *b;

		if (!name || !d || strcmp(mnl_attr_get_str(name), "counter") != 0)
			continue;
		p = nested(d, NFTA_COUNTER_PACKETS);
		b = nested(d, NFTA_COUNTER_BYTES);
		if (p)
			*packets += be64toh(mnl_attr_get_u64(p));
		if (b)
			*bytes += be64toh(mnl_attr_get_u64(b));
		found = true;
	}
	return found;
}

static int counters_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counters_req *q = data;
	const struct nlattr *ud = attr_of(nlh, NFTA_RULE_USERDATA);
	const char *chain = str_of(nlh, NFTA_RULE_CHAIN);
	char comment[NFT_USERDATA_MAXLEN] = "";
	uint64_t packets, bytes;

	if (!chain || !rule_counts(nlh, &packets, &bytes))
		return 0;
	if (ud) {
		/* User data TLVs: type (1 byte), length (1), value; 0 is the comment. */
		const uint8_t *u = mnl_attr_get_payload(ud);
		uint16_t len = mnl_attr_get_payload_len(ud), i = 0;

		while (i + 2 <= len && i + 2 + u[i + 1] <= len) {
			if (u[i] == 0 && u[i + 1] && u[i + 2 + u[i + 1] - 1] == '\0')
				snprintf(comment, sizeof(comment), "%s", (const char *)u + i + 2);
			i = (uint16_t)(i + 2 + u[i + 1]);
		}
	}
	return q->fn(q->data, chain, comment, packets, bytes);
}

int nft_dump_rule_counters(struct k8snet_ctx *ctx, int nfproto, const char *table,
			   nft_rule_counter_fn fn, void *data)
{
	struct counters_req c = { fn, data };
	struct dump_req q = { .type = NFT_MSG_GETRULE, .nfproto = nfproto, .table = table,
			      .cb = counters_cb, .data = &c };

	return run_dump(ctx, &q);
}

/* ---------------- named counters ---------------- */

struct obj_counters_req {
	const char *table;
	nft_counter_fn fn;
	void *data;
};

static int obj_counters_cb(const struct nlmsghdr *nlh, void *data)
{
	struct obj_counters_req *q = data;
	const char *t = str_of(nlh, NFTA_OBJ_TABLE), *name = str_of(nlh, NFTA_OBJ_NAME);
	const struct nlattr *type = attr_of(nlh, NFTA_OBJ_TYPE), *d = attr_of(nlh, NFTA_OBJ_DATA);
	const struct nlattr *p = nested(d, NFTA_COUNTER_PACKETS), *b = nested(d, NFTA_COUNTER_BYTES);

	if (!t || !name || strcmp(t, q->table) != 0 || !type ||
	    mnl_attr_validate(type, MNL_TYPE_U32) < 0 ||
	    ntohl(mnl_attr_get_u32(type)) != NFT_OBJECT_COUNTER)
		return 0;
	return q->fn(q->data, name, p ? be64toh(mnl_attr_get_u64(p)) : 0,
		     b ? be64toh(mnl_attr_get_u64(b)) : 0);
}

int nft_dump_counters(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *name,
		      nft_counter_fn fn, void *data)
{
	struct obj_counters_req c = { table, fn, data };
	struct dump_req q = { .type = NFT_MSG_GETOBJ, .get = name != NULL, .nfproto = nfproto,
			      .table = table, .set = name, .cb = obj_counters_cb, .data = &c };

	return run_dump(ctx, &q);
}
