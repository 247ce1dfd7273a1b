/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plan -> kernel.  The first sync replaces the table whole; later ones diff
 * the new plan against the last one sent and send only the difference: set
 * and map elements for pod churn, a rewritten chain for a changed policy.
 * Either way it is one nfnetlink transaction, built, sent and acknowledged
 * through the shared module (lib/nft).
 *
 * The last plan is our record of the kernel.  A delta is sent at the
 * generation of our last commit (the kernel refuses it if anyone committed
 * since); when someone did, the table is read back and compared with the
 * record before a delta is trusted.  After any failure the record is
 * dropped, and the next sync replaces the table.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/plan.h"
#include "nft/nft.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#define TYPE_BITS 6

static uint32_t set_key_type(enum pl_key_kind k)
{
	uint32_t tail = (NFT_TYPE_INET_PROTOCOL << TYPE_BITS) | NFT_TYPE_INET_SERVICE;

	switch (k) {
	case PL_K_ADDR4: return NFT_TYPE_IPADDR;
	case PL_K_ADDR6: return NFT_TYPE_IP6ADDR;
	case PL_K_NAMED4: return (NFT_TYPE_IPADDR << 2 * TYPE_BITS) | tail;
	case PL_K_NAMED6: return (NFT_TYPE_IP6ADDR << 2 * TYPE_BITS) | tail;
	}
	return 0;
}

/* ---- owners: what a message is about, to name it when refused ---- */

/* "pin/NS/NAME" and "peg/NS/NAME" are a policy's chains. */
static void own_chain(struct nft_batch *b, const char *chain)
{
	if (strncmp(chain, "pin/", 4) == 0 || strncmp(chain, "peg/", 4) == 0)
		nft_batch_owner(b, "policy %s", chain + 4);
	else
		nft_batch_owner(b, "chain %s", chain);
}

/* Elements are keyed by pod addresses: the pod is the one to name. */
static int describe_elem(void *userdata, const char *set, const uint8_t *key, uint32_t klen,
			 char *buf, size_t len)
{
	struct k8snet_policy_db *db = userdata;
	struct pl_addr a = { .family = klen == 4 || klen == 12 ? AF_INET : AF_INET6 };
	const struct pl_pod *pod;
	char text[64];

	(void)set;
	memcpy(a.a, key, a.family == AF_INET ? 4 : 16);
	pod = pl_db_pod_by_ip(db, &a);
	pl_addr_str(&a, text);
	if (pod)
		snprintf(buf, len, "pod %s/%s (%s)", pod->ns, pod->name, text);
	else
		snprintf(buf, len, "address %s", text);
	return 1;
}

/* ---- table, sets, chains ---- */

static void msg_set(struct nft_batch *b, const struct pl_pset *s, uint16_t type)
{
	struct nft_set_def def = {
		.name = s->name, .key_len = (uint32_t)pl_key_len(s->kind),
		.key_type = set_key_type(s->kind), .comment = s->comment,
	};

	if (s->is_map) {
		def.flags = NFT_SET_MAP;
		def.data_type = NFT_DATA_VERDICT;
	}
	nft_batch_owner(b, "set %s", s->name);
	nft_batch_set(b, type, NFPROTO_INET, PL_TABLE, &def);
}

/* Elements e[0..n) of s. */
static void msg_elems(struct nft_batch *b, const struct pl_pset *s, const struct pl_elem *const *e,
		      size_t n, uint16_t type)
{
	struct nft_elem *v = calloc(n ? n : 1, sizeof(*v));
	uint32_t klen = (uint32_t)pl_key_len(s->kind);
	size_t i;

	if (!v) {
		nft_batch_fail(b, -ENOMEM);
		return;
	}
	for (i = 0; i < n; i++) {
		v[i] = (struct nft_elem){ .key = e[i]->key, .klen = klen };
		if (s->is_map && type == NFT_MSG_NEWSETELEM) {
			v[i].verdict = NFT_JUMP;
			v[i].chain = e[i]->chain;
		}
	}
	nft_batch_owner(b, "set %s", s->name);
	nft_batch_elems(b, type, NFPROTO_INET, PL_TABLE, s->name, 0, v, n);
	free(v);
}

static void msg_all_elems(struct nft_batch *b, const struct pl_pset *s)
{
	const struct pl_elem **e = malloc((s->n ? s->n : 1) * sizeof(*e));
	size_t i;

	if (!e) {
		nft_batch_fail(b, -ENOMEM);
		return;
	}
	for (i = 0; i < s->n; i++)
		e[i] = &s->e[i];
	msg_elems(b, s, e, s->n, NFT_MSG_NEWSETELEM);
	free(e);
}

static void msg_chain(struct nft_batch *b, const struct pl_pchain *c, uint16_t type)
{
	struct nft_hook hook = { (uint32_t)c->hook, c->prio, "filter" };

	own_chain(b, c->name);
	nft_batch_chain(b, type, NFPROTO_INET, PL_TABLE, c->name, c->hook >= 0 ? &hook : NULL);
}

/* ---- rules ---- */

static void e_cidr(struct nft_rule *r, const struct pl_cidr *c, bool src, uint32_t op)
{
	int nfproto = c->addr.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	if (c->prefix == 0 && op == NFT_CMP_EQ)
		return;  /* the family check already says it */
	nft_e_cidr(r, nfproto, src, c->addr.a, (unsigned)c->prefix, op);
}

static void e_ct_established(struct nft_rule *r)
{
	uint32_t mask = (1u << (IP_CT_ESTABLISHED + 1)) | (1u << (IP_CT_RELATED + 1)), zero = 0;

	nft_e_ct_get(r, NFT_CT_STATE, -1, NFT_REG_1);
	nft_e_bitwise(r, NFT_REG_1, &mask, &zero, 4);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
	nft_e_verdict(r, NF_ACCEPT, NULL);
}

/* ICMPv6 types 133..137: router and neighbor solicitation and
 * advertisement, redirect. */
static void e_nd(struct nft_rule *r)
{
	uint8_t lo = 133, hi = 137;

	nft_e_meta_eq_u8(r, NFT_META_L4PROTO, IPPROTO_ICMPV6);
	nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_GTE, &lo, 1);
	nft_e_cmp(r, NFT_REG_1, NFT_CMP_LTE, &hi, 1);
	nft_e_verdict(r, NF_ACCEPT, NULL);
}

static void e_ports(struct nft_rule *r, const struct pl_prule *pr, bool v6)
{
	uint32_t alen = v6 ? 16 : 4;

	if (pr->named_set) {
		/* addr . l4proto . dport in consecutive 32-bit registers */
		uint32_t reg = NFT_REG32_00;

		nft_e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, alen, reg);
		nft_e_meta_get(r, NFT_META_L4PROTO, reg + alen / 4);
		nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + alen / 4 + 1);
		nft_e_lookup(r, pr->named_set, 0, reg, -1, 0);
	} else if (pr->l4proto) {
		nft_e_meta_eq_u8(r, NFT_META_L4PROTO, pr->l4proto);
		if (pr->port_lo) {
			uint16_t lo = htons(pr->port_lo), hi = htons(pr->port_hi);

			nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
			if (pr->port_lo == pr->port_hi) {
				nft_e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &lo, 2);
			} else {
				nft_e_cmp(r, NFT_REG_1, NFT_CMP_GTE, &lo, 2);
				nft_e_cmp(r, NFT_REG_1, NFT_CMP_LTE, &hi, 2);
			}
		}
	}
}

static void build_rule_exprs(struct nft_rule *r, const struct pl_prule *pr)
{
	bool v6 = pr->nfproto == NFPROTO_IPV6;
	size_t i;

	if (pr->special == PL_R_CT_ACCEPT) {
		e_ct_established(r);
		return;
	}
	if (pr->nfproto)
		nft_e_meta_eq_u8(r, NFT_META_NFPROTO, pr->nfproto);
	if (pr->special == PL_R_ND_ACCEPT) {
		e_nd(r);
		return;
	}
	if (pr->special == PL_R_VMAP || pr->addr_set) {
		uint32_t off = v6 ? (pr->addr_is_src ? 8 : 24) : (pr->addr_is_src ? 12 : 16);

		nft_e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, v6 ? 16 : 4, NFT_REG_1);
		nft_e_lookup(r, pr->addr_set, 0, NFT_REG_1,
			     pr->special == PL_R_VMAP ? NFT_REG_VERDICT : -1, 0);
		if (pr->special == PL_R_VMAP)
			return;
	}
	if (pr->has_cidr) {
		e_cidr(r, &pr->cidr, pr->cidr_is_src, NFT_CMP_EQ);
		for (i = 0; i < pr->nexcept; i++)
			e_cidr(r, &pr->except[i], pr->cidr_is_src, NFT_CMP_NEQ);
	}
	e_ports(r, pr, v6);
	if (pr->log || pr->count)
		pl_log_exprs(r, pr);
	if (pr->verdict == PL_V_ACCEPT)
		nft_e_verdict(r, NF_ACCEPT, NULL);
	else if (pr->verdict == PL_V_DROP)
		nft_e_verdict(r, NF_DROP, NULL);
	else if (pr->verdict == PL_V_JUMP)
		nft_e_verdict(r, NFT_JUMP, pr->target);
}

static void msg_rule(struct nft_batch *b, const char *chain, const struct pl_prule *pr)
{
	struct nft_rule *r = nft_rule_new(NFPROTO_INET, PL_TABLE, chain);

	build_rule_exprs(r, pr);
	if (pr->comment)
		nft_rule_comment(r, pr->comment);
	nft_batch_rule(b, r);
}

static void msg_flush_chain(struct nft_batch *b, const char *chain)
{
	own_chain(b, chain);
	nft_batch_flush_chain(b, NFPROTO_INET, PL_TABLE, chain);
}

static void msg_chain_rules(struct nft_batch *b, const struct pl_pchain *c)
{
	size_t i;

	own_chain(b, c->name);
	for (i = 0; i < c->n; i++)
		msg_rule(b, c->name, &c->r[i]);
}

/* ---- the diff ---- */

/* The named counters the rules of some chains use, created before them
 * (from carry: the values of the table being replaced) or, with except,
 * those not among except's. */
static void counters(struct nft_batch *b, const struct pl_pchain *c, size_t n,
		     const struct pl_carry *carry, const struct pl_names *except, uint16_t type)
{
	struct pl_names names = { 0 };

	if (pl_counters_of_chains(c, n, &names) < 0) {
		nft_batch_fail(b, -ENOMEM);
		return;
	}
	pl_counters_msgs(b, &names, carry, except, type);
	pl_names_free(&names);
}

static void full(struct nft_batch *b, const struct pl_plan *p, const struct pl_carry *carry)
{
	size_t i;

	nft_batch_owner(b, "table inet %s", PL_TABLE);
	nft_batch_table_replace(b, NFPROTO_INET, PL_TABLE);
	counters(b, p->chains, p->nchains, carry, NULL, NFT_MSG_NEWOBJ);
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
static void elems_diff(struct nft_batch *b, const struct pl_pset *o, const struct pl_pset *n)
{
	const struct pl_elem **del = malloc((o->n + 1) * sizeof(*del));
	const struct pl_elem **add = malloc((n->n + 1) * sizeof(*add));
	size_t len = pl_key_len(n->kind), i = 0, j = 0, nd = 0, na = 0;

	if (!del || !add) {
		nft_batch_fail(b, -ENOMEM);
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
	if (nd)
		msg_elems(b, o, del, nd, NFT_MSG_DELSETELEM);
	if (na)
		msg_elems(b, n, add, na, NFT_MSG_NEWSETELEM);
out:
	free(del);
	free(add);
}

static void delta(struct nft_batch *b, const struct pl_plan *o, const struct pl_plan *p)
{
	struct pl_names had = { 0 }, has = { 0 };
	size_t i;

	/* Counters: new ones before the rules that use them, the unused
	 * ones deleted after; the others, with their counts, stay. */
	if (pl_counters_of_chains(o->chains, o->nchains, &had) < 0 ||
	    pl_counters_of_chains(p->chains, p->nchains, &has) < 0)
		nft_batch_fail(b, -ENOMEM);
	pl_counters_msgs(b, &has, NULL, &had, NFT_MSG_NEWOBJ);
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
	pl_counters_msgs(b, &had, NULL, &has, NFT_MSG_DELOBJ);
	pl_names_free(&had);
	pl_names_free(&has);
}

static void ops_msgs(struct nft_batch *b, const struct pl_plan *p, const struct pl_eops *ops)
{
	size_t i;

	/* new group chains first: map elements jump to them */
	for (i = 0; i < ops->nchains; i++) {
		const struct pl_pchain *c = pl_plan_chain(p, ops->chains[i]);

		/* Their drop rules may count for a policy no rule counted for
		 * yet; a NEWOBJ of an existing counter leaves it alone. */
		counters(b, c, 1, NULL, NULL, NFT_MSG_NEWOBJ);
		msg_chain(b, c, NFT_MSG_NEWCHAIN);
		msg_chain_rules(b, c);
	}
	for (i = 0; i < ops->n; i++) {
		struct pl_elem e = { .chain = ops->v[i].chain };
		const struct pl_elem *ep = &e;

		memcpy(e.key, ops->v[i].key, sizeof(e.key));
		msg_elems(b, ops->v[i].set, &ep, 1,
			  ops->v[i].add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	}
}

/* ---- is the last plan still what the kernel holds? ---- */

/* 1: a delta at *gen is safe; 0: replace the table; negative errno. */
static int record_holds(struct k8snet_policy_db *db, uint32_t *gen)
{
	struct nft_inv want = { 0 };
	struct nft_table_ref ref = { NFPROTO_INET, PL_TABLE, &want };
	struct nft_batch *b = NULL;
	int r = nft_track_check(db->ctx, &db->track, gen);

	if (r != 0 || !db->track.valid)
		return r;
	/* Someone else committed: read the table back. */
	r = nft_batch_new_expect(db->ctx, &ref, 1, &b);
	if (r >= 0) {
		full(b, db->last, NULL);
		r = nft_batch_error(b);
	}
	if (r >= 0)
		r = nft_inv_verify(db->ctx, &ref, 1, *gen);
	nft_batch_free(b);
	nft_inv_clear(&want);
	return r;
}

/* ---- sending ---- */

/* ops: element changes only; else old -> plan diff; else the whole plan.
 * Sent at generation gen (0: unchecked). */
int pl_nft_send(struct k8snet_policy_db *db, const struct pl_plan *old, const struct pl_plan *plan,
		const struct pl_eops *ops, uint32_t gen)
{
	struct pl_carry carry = { 0 };
	struct nft_batch *b;
	int r = nft_batch_new(db->ctx, &b);

	if (r < 0)
		return k8s_error(db->ctx, r, "out of memory");
	nft_batch_set_describe(b, describe_elem, db);
	/* A replaced table's counts go on in the new one. */
	if (!ops && !old && (db->log_flags & K8SNET_POLICY_F_COUNT))
		r = pl_carry_read(db, &carry);
	if (r < 0)
		r = k8s_error(db->ctx, r, "reading the counters of table inet %s: %s", PL_TABLE,
			      k8snet_strerror(r));
	else if (ops)
		ops_msgs(b, plan, ops);
	else if (old)
		delta(b, old, plan);
	else
		full(b, plan, &carry);
	if (r >= 0)
		r = nft_batch_commit(b, gen);
	pl_carry_free(&carry);
	if (r >= 0) {
		db->track.valid = true;
		db->track.gen = nft_batch_commit_gen(b) ? nft_batch_commit_gen(b) : gen;
	}
	nft_batch_free(b);
	return r;
}

/* The generation to send a delta at: optimistically that of our last commit
 * (the kernel refuses the batch if that is stale), or checked now.  1:
 * delta; 0: replace the table. */
static int delta_gen(struct k8snet_policy_db *db, bool check, uint32_t *gen)
{
	if (!db->last || !db->track.valid)
		return 0;
	if (!check) {
		*gen = db->track.gen;
		return 1;
	}
	return record_holds(db, gen);
}

/* Forget what we sent: the next sync replaces the table. */
static void drop_record(struct k8snet_policy_db *db)
{
	pl_plan_free(db->last);
	db->last = NULL;
	db->track.valid = false;
}

/* Pod churn only: update the last plan in place and send its element
 * changes.  1 when done, 0 when a rebuild is needed, negative on error
 * (the record is then dropped: the next sync replaces the table). */
static int sync_pods(struct k8snet_policy_db *db, const char *node, uint32_t gen)
{
	struct pl_eops ops = { 0 };
	int r = pl_plan_update_pods(db, db->last, node, db->dirty, db->ndirty, &ops);

	if (r > 0 && (ops.n || ops.nchains)) {
		int s = pl_nft_send(db, db->last, db->last, &ops, gen);

		if (s < 0)
			r = s;
	}
	free(ops.v);
	free(ops.chains);
	if (r < 0) {
		drop_record(db);
		if (r == -ENOMEM && !k8snet_ctx_get_errno(db->ctx))
			k8s_error(db->ctx, r, "out of memory");
		return r;
	}
	if (r > 0)
		pl_db_clear_dirty(db);
	return r;
}

/* One attempt; -ERESTART when someone committed meanwhile (the record is
 * kept: the next attempt checks it).  Pod churn updates the record in
 * place before sending, so it is checked first rather than sent
 * optimistically; an idle sync checks too, so that drift is repaired even
 * when nothing changed here. */
static int sync_once(struct k8snet_policy_db *db, const char *node, bool full_sync, bool check)
{
	struct pl_plan *plan = NULL;
	uint32_t gen = 0;
	bool idle = !db->struct_dirty && !db->ndirty;
	bool pods_only = !db->struct_dirty && db->ndirty && db->ndirty <= 256;
	int r = full_sync ? 0 : delta_gen(db, check || idle || pods_only, &gen);

	if (r < 0)
		return r;
	if (r == 0) {
		if (db->last)
			k8s_log(db->ctx, LOG_NOTICE, "policy: table inet %s changed behind our "
				"back, replacing it", PL_TABLE);
		drop_record(db);
		r = nft_gen_get(db->ctx, &gen);
		if (r < 0)
			return r;
	}
	if (db->last && idle)
		return 0;
	if (db->last && pods_only) {
		r = sync_pods(db, node, gen);
		if (r != 0)
			return r < 0 ? r : 0;
		/* 0: a rebuild is needed; db->last is unchanged. */
	}
	r = pl_plan_build(db, node, &plan);
	if (r < 0)
		return k8s_error(db->ctx, r, "cannot build the ruleset: %s", k8snet_strerror(r));
	r = pl_nft_send(db, db->last, plan, NULL, gen);
	if (r < 0) {
		pl_plan_free(plan);
		if (r != -ERESTART)
			drop_record(db);
		return r;
	}
	pl_plan_free(db->last);
	db->last = plan;
	pl_db_clear_dirty(db);
	return 0;
}

static int policy_sync(struct k8snet_policy_db *db, const char *node, bool full_sync)
{
	int attempt, r = 0;

	/* Another node's plan is no base for a diff. */
	if (db->last && (!db->last_node || strcmp(db->last_node, node) != 0))
		drop_record(db);
	for (attempt = 0; attempt < NFT_RETRY_ATTEMPTS / 4; attempt++) {
		r = sync_once(db, node, full_sync, attempt > 0);
		if (r != -ERESTART || attempt + 1 == NFT_RETRY_ATTEMPTS / 4)
			break;
		k8s_log(db->ctx, LOG_INFO, "policy: the ruleset changed while we synced; again");
		k8snet_ctx_clear_error(db->ctx);
		nft_retry_pause(attempt + 1);
	}
	if (r < 0) {
		drop_record(db);
		return r;
	}
	if (!db->last_node || strcmp(db->last_node, node) != 0) {
		free(db->last_node);
		db->last_node = strdup(node);
	}
	return 0;
}

K8SNET_EXPORT int k8snet_policy_db_sync(struct k8snet_policy_db *db, const char *node)
{
	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, node && *node);
	k8snet_ctx_clear_error(db->ctx);
	return policy_sync(db, node, false);
}

K8SNET_EXPORT int k8snet_policy_db_sync_full(struct k8snet_policy_db *db, const char *node)
{
	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, node && *node);
	k8snet_ctx_clear_error(db->ctx);
	return policy_sync(db, node, true);
}
