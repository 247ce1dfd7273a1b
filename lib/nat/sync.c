/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync: plan the services that changed, diff each one's fragment against
 * what was programmed for it, and send everything as one batch.  The
 * kernel applies a batch whole or not at all; we adopt the new fragments
 * only when it acknowledged all of it.
 *
 * Our record is trusted only while nobody else committed since it was made
 * (lib/nft/gen.c); otherwise the tables are read back and compared with it
 * (lib/nft/inventory.c), and replaced whole when they differ.  After any
 * failure the record is unknown and the next sync replaces the tables.
 *
 * Order inside the batch (references must exist before they are used and
 * be gone before their target goes):
 *   A  new affinity sets, new chains, new named counters (K8SNET_PROXY_F_COUNT;
 *      after a table replace they start from the old table's values)
 *   B  rules of new and changed chains (a changed chain is flushed first)
 *   C  element deletions, then additions; hairpin set
 *   D  deleted chains (with their rules), then deleted affinity sets and
 *      named counters
 * A counter of an unchanged service port is never touched: its count goes on.
 */
#include <stdio.h>
#include <string.h>

#include <time.h>

#include "nat/internal.h"

#include <linux/netfilter.h>

static double nat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct pending {
	struct nat_entry *e;
	int fi;                      /* 0 ip, 1 ip6 */
	const struct nat_frag *old;  /* what the kernel has (NULL after a table replace) */
	struct nat_frag *new;
};

static int fam_of(int fi)
{
	return fi ? AF_INET6 : AF_INET;
}

static const char *what_of(const struct pending *pd)
{
	return (pd->new ? pd->new : pd->old)->what;
}

static const struct nat_chain *find_chain(const struct nat_frag *f, const char *name)
{
	size_t i;

	for (i = 0; f && i < f->nchains; i++)
		if (strcmp(f->chains[i]->name, name) == 0)
			return f->chains[i];
	return NULL;
}

static bool aset_in(const struct nat_frag *f, const struct nat_aset *a)
{
	size_t i;

	for (i = 0; f && i < f->nasets; i++)
		if (strcmp(f->asets[i]->name, a->name) == 0 && f->asets[i]->timeout == a->timeout)
			return true;
	return false;
}

static bool counter_in(const struct nat_frag *f, const char *name)
{
	size_t i;

	for (i = 0; f && i < f->ncounters; i++)
		if (strcmp(f->counters[i], name) == 0)
			return true;
	return false;
}

static bool same_rules(const struct nat_chain *a, const struct nat_chain *b)
{
	size_t i;

	if (a->nrules != b->nrules)
		return false;
	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i]->text, b->rules[i]->text) != 0)
			return false;
	return true;
}

static void phase_a(struct nat_batch *b, const struct pending *pd, const struct nat_carry *carry)
{
	int fam = fam_of(pd->fi);
	uint64_t v[2];
	size_t i;

	if (!pd->new)
		return;
	for (i = 0; i < pd->new->ncounters; i++)
		if (!counter_in(pd->old, pd->new->counters[i])) {
			nat_carry_get(carry, pd->fi, pd->new->counters[i], v);
			nat_batch_counter(b, fam, pd->new->counters[i], v[0], v[1], true);
		}
	for (i = 0; i < pd->new->nasets; i++)
		if (!aset_in(pd->old, pd->new->asets[i]))
			nat_batch_aset(b, fam, pd->new->asets[i], true);
	for (i = 0; i < pd->new->nchains; i++)
		if (!find_chain(pd->old, pd->new->chains[i]->name))
			nat_batch_chain(b, fam, pd->new->chains[i]->name, true);
}

static void phase_b(struct nat_batch *b, const struct pending *pd)
{
	int fam = fam_of(pd->fi);
	size_t i, j;

	for (i = 0; pd->new && i < pd->new->nchains; i++) {
		const struct nat_chain *c = pd->new->chains[i], *o = find_chain(pd->old, c->name);

		if (o && same_rules(o, c))
			continue;
		if (o)
			nat_batch_flush_chain(b, fam, c->name);
		for (j = 0; j < c->nrules; j++)
			nat_batch_rule(b, fam, c->name, c->rules[j]);
	}
}

static int cmp_elem_text(const void *x, const void *y)
{
	return nat_elem_cmp(*(struct nat_elem *const *)x, *(struct nat_elem *const *)y);
}

/* Elements in a but not in b (both sorted), in set order. */
static int elem_minus(struct nat_elem **a, size_t na, struct nat_elem **b, size_t nb,
		      struct ptrvec *out)
{
	size_t i = 0, j = 0;

	while (i < na) {
		int c = j < nb ? cmp_elem_text(&a[i], &b[j]) : -1;

		if (c < 0) {
			if (nat_ptrvec_push(out, a[i++]) < 0)
				return -ENOMEM;
		} else if (c == 0) {
			i++;
			j++;
		} else {
			j++;
		}
	}
	return 0;
}

static struct nat_elem **sorted_elems(const struct nat_frag *f)
{
	struct nat_elem **v;

	if (!f || !f->nelems)
		return NULL;
	v = malloc(f->nelems * sizeof(*v));
	if (!v)
		return NULL;
	memcpy(v, f->elems, f->nelems * sizeof(*v));
	qsort(v, f->nelems, sizeof(*v), cmp_elem_text);
	return v;
}

static int cmp_elem_set(const void *x, const void *y)
{
	const struct nat_elem *a = *(struct nat_elem *const *)x, *b = *(struct nat_elem *const *)y;

	return (int)a->set - (int)b->set;
}

/* The element changes of one fragment, each marked with its owner. */
static int frag_elems(struct nat_batch *b, const struct pending *pd, bool add, struct ptrvec *out)
{
	struct nat_elem **o = sorted_elems(pd->old), **n = sorted_elems(pd->new);
	size_t no = pd->old ? pd->old->nelems : 0, nn = pd->new ? pd->new->nelems : 0, i, first;
	uint32_t owner;
	int r = 0;

	if ((no && !o) || (nn && !n))
		r = -ENOMEM;
	first = out->n;
	if (r >= 0)
		r = add ? elem_minus(n, nn, o, no, out) : elem_minus(o, no, n, nn, out);
	if (r >= 0 && out->n > first) {
		owner = nat_batch_owner(b, what_of(pd));
		for (i = first; i < out->n; i++)
			((struct nat_elem *)out->v[i])->owner = owner;
	}
	free(o);
	free(n);
	return r;
}

/* Element deletions (add false) or additions of every fragment of one
 * family, gathered per set: thousands of services share a few messages. */
static int phase_c(struct nat_batch *b, const struct pending *pds, size_t n, int fi, bool add)
{
	struct ptrvec all = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < n && r >= 0; i++)
		if (pds[i].fi == fi)
			r = frag_elems(b, &pds[i], add, &all);
	if (r >= 0 && all.n) {
		qsort(all.v, all.n, sizeof(*all.v), cmp_elem_set);
		r = nat_batch_elems(b, fam_of(fi), (struct nat_elem *const *)all.v, all.n, add);
	}
	nat_ptrvec_free(&all, NULL);
	return r;
}

static void phase_d(struct nat_batch *b, const struct pending *pd)
{
	int fam = fam_of(pd->fi);
	size_t i;

	for (i = 0; pd->old && i < pd->old->nchains; i++)
		if (!find_chain(pd->new, pd->old->chains[i]->name))
			nat_batch_chain(b, fam, pd->old->chains[i]->name, false);
	for (i = 0; pd->old && i < pd->old->nasets; i++)
		if (!aset_in(pd->new, pd->old->asets[i]))
			nat_batch_aset(b, fam, pd->old->asets[i], false);
	for (i = 0; pd->old && i < pd->old->ncounters; i++)
		if (!counter_in(pd->new, pd->old->counters[i]))
			nat_batch_counter(b, fam, pd->old->counters[i], 0, 0, false);
}

/* ---------------- shared objects: hairpin elements, pick chains ----------------
 * Several services may need the same one; the proxy counts users per family
 * and the batch adds an object when its count leaves zero and deletes it when
 * the count returns there. */

enum shared_kind { SH_HAIRPIN, SH_PICK };

struct delta {
	struct k8s_map m[2][2];         /* [kind][family]: key -> change (INTPTR_MIN for 0) */
};

static intptr_t hget(const struct k8s_map *m, const char *k)
{
	intptr_t v = (intptr_t)k8s_map_get(m, k);

	return v == INTPTR_MIN ? 0 : v;
}

static int bump(struct k8s_map *m, const char *key, intptr_t by)
{
	intptr_t v = hget(m, key) + by;

	/* Zero is stored as a marker: k8s_map_get() cannot tell 0 from absent. */
	return k8s_map_put(m, key, (void *)(v ? v : INTPTR_MIN));
}

static int count_frag(struct delta *d, int fi, const struct nat_frag *f, intptr_t by)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; f && i < f->nhairpin; i++) {
		nat_addr_str(&f->hairpin[i], buf, sizeof(buf));
		if (bump(&d->m[SH_HAIRPIN][fi], buf, by) < 0)
			return -ENOMEM;
	}
	for (i = 0; f && i < f->npicks; i++)
		if (bump(&d->m[SH_PICK][fi], f->picks[i], by) < 0)
			return -ENOMEM;
	return 0;
}

static int shared_delta(struct pending *pds, size_t n, struct delta *d)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r >= 0; i++) {
		r = count_frag(d, pds[i].fi, pds[i].old, -1);
		if (r >= 0)
			r = count_frag(d, pds[i].fi, pds[i].new, +1);
	}
	return r;
}

/* What the kernel holds of the shared objects: the proxy's counts, or
 * nothing (a replaced table, an expectation built from scratch). */
struct have {
	struct k8s_map *hairpin, *picks;   /* [2] each */
};

/* Emit additions (add) or deletions of shared objects of one kind. */
static int shared_batch(struct nat_batch *b, const struct have *have, struct delta *d,
			enum shared_kind kind, bool add)
{
	struct nat_addr *addrs = NULL;
	struct k8s_map_node *n;
	size_t i, na;
	int fi, r = 0;

	nat_batch_what(b, kind == SH_HAIRPIN ? "hairpin set" : "pick chains");
	for (fi = 0; fi < 2 && r >= 0; fi++) {
		struct k8s_map *h = kind == SH_HAIRPIN ? &have->hairpin[fi] : &have->picks[fi];

		na = 0;
		k8s_map_for_each(&d->m[kind][fi], i, n) {
			intptr_t cur = hget(h, n->key), ch = hget(&d->m[kind][fi], n->key);

			if (add ? !(cur == 0 && cur + ch > 0) : !(cur > 0 && cur + ch == 0))
				continue;
			if (kind == SH_PICK) {
				nat_batch_pick_chain(b, fam_of(fi), n->key, add);
				continue;
			}
			if (k8s_grow_pow2(&addrs, na, sizeof(*addrs)) < 0) {
				r = -ENOMEM;
				break;
			}
			if (nat_parse_addr(n->key, &addrs[na]) == 0)
				na++;
		}
		if (r >= 0 && na)
			r = nat_batch_hairpin(b, fam_of(fi), addrs, na, add);
		free(addrs);
		addrs = NULL;
	}
	return r;
}

static int shared_apply(struct k8snet_proxy *p, struct delta *d)
{
	struct k8s_map_node *n;
	size_t i;
	int fi, k;

	for (k = 0; k < 2; k++)
		for (fi = 0; fi < 2; fi++) {
			struct k8s_map *have = k == SH_HAIRPIN ? &p->hairpin[fi] : &p->picks[fi];

			k8s_map_for_each(&d->m[k][fi], i, n) {
				intptr_t v = hget(have, n->key) + hget(&d->m[k][fi], n->key);

				if (v <= 0)
					k8s_map_remove(have, n->key);
				else if (k8s_map_put(have, n->key, (void *)v) < 0)
					return -ENOMEM;
			}
		}
	return 0;
}

static void delta_free(struct delta *d)
{
	int k, fi;

	for (k = 0; k < 2; k++)
		for (fi = 0; fi < 2; fi++)
			k8s_map_free(&d->m[k][fi], NULL);
}

static void shared_forget(struct k8snet_proxy *p)
{
	int fi;

	for (fi = 0; fi < 2; fi++) {
		k8s_map_free(&p->hairpin[fi], NULL);
		k8s_map_free(&p->picks[fi], NULL);
	}
}

/* ---------------- planning ---------------- */

static int push_pending(struct pending **pds, size_t *np, size_t *cap, struct pending pd)
{
	if (k8s_grow(pds, cap, *np, sizeof(**pds)) < 0)
		return -ENOMEM;
	(*pds)[(*np)++] = pd;
	return 0;
}

struct plan_out {
	struct pending *pds;
	size_t n, cap;
	struct nat_ctwork ct;        /* conntrack entries to delete once committed */
	bool udp;                    /* a planned fragment has UDP or SCTP destinations */
};

static int plan_entry(struct k8snet_proxy *p, struct nat_entry *e, bool fresh,
		      struct plan_out *out)
{
	struct pending **pds = &out->pds;
	size_t *np = &out->n, *cap = &out->cap;
	int fi, r;

	for (fi = 0; fi < 2; fi++) {
		struct nat_frag *f = NULL;

		r = nat_plan_entry(p, e, fam_of(fi), &f);
		/* Our record, even after a failure: the best guess of what
		 * the kernel steered where. */
		if (r >= 0)
			r = nat_ct_diff(fam_of(fi), e->frag[fi], f, &out->ct);
		if (f && f->nctflows)
			out->udp = true;
		if (r < 0) {
			nat_frag_free(f);
			return r;
		}
		if (!f && fresh && e->frag[fi]) {
			/* Gone with the replaced table. */
			nat_frag_free(e->frag[fi]);
			e->frag[fi] = NULL;
		}
		if (!f && (fresh || !e->frag[fi]))
			continue;
		r = push_pending(pds, np, cap, (struct pending){ e, fi, fresh ? NULL : e->frag[fi], f });
		if (r < 0) {
			nat_frag_free(f);
			return r;
		}
	}
	return 0;
}

/* Everything after a table replace; otherwise only what changed. */
static int plan_all(struct k8snet_proxy *p, bool fresh, struct plan_out *out)
{
	struct k8s_map_node *n;
	size_t i;
	int r = 0;

	if (fresh) {
		k8s_map_for_each(&p->entries, i, n)
			if ((r = plan_entry(p, n->val, true, out)) < 0)
				return r;
		return 0;
	}
	for (i = 0; i < p->dirty.n && r >= 0; i++)
		r = plan_entry(p, p->dirty.v[i], false, out);
	return r;
}

static void finish(struct pending *pds, size_t n, bool ok)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct nat_entry *e = pds[i].e;
		int fi = pds[i].fi;

		if (ok) {
			nat_frag_free(e->frag[fi]);
			e->frag[fi] = pds[i].new;
		} else {
			nat_frag_free(pds[i].new);
		}
	}
}

static bool leaves_out(const struct nat_entry *e)
{
	return (e->frag[0] && e->frag[0]->nskipped) || (e->frag[1] && e->frag[1]->nskipped);
}

/* Keep the set of entries that leave something out, so that listing them
 * costs what they are, not what all services are. */
static int note_skipping(struct k8snet_proxy *p, struct nat_entry *e, bool log)
{
	size_t i;
	int fi;

	if (!leaves_out(e)) {
		k8s_map_remove(&p->skipping, e->key);
		return 0;
	}
	for (fi = 0; log && fi < 2; fi++)
		for (i = 0; e->frag[fi] && i < e->frag[fi]->nskipped; i++)
			k8s_log(p->ctx, LOG_WARNING, "%s left out: %s", e->frag[fi]->what,
				e->frag[fi]->skipped[i]);
	return k8s_map_put(&p->skipping, e->key, e);
}

static int update_skipping(struct k8snet_proxy *p, const struct pending *pds, size_t n,
			   bool fresh)
{
	struct k8s_map_node *node;
	size_t i;
	int r = 0;

	if (fresh) {
		k8s_map_free(&p->skipping, NULL);
		k8s_map_for_each(&p->entries, i, node)
			if (r >= 0)
				r = note_skipping(p, node->val, false);
	}
	for (i = 0; i < n && r >= 0; i++)
		r = note_skipping(p, pds[i].e, true);
	for (i = 0; i < p->dirty.n && r >= 0; i++)
		r = note_skipping(p, p->dirty.v[i], false);
	return r;
}

/* Entries with nothing left can go once the kernel forgot them too. */
static void drop_empty_entries(struct k8snet_proxy *p)
{
	size_t i;

	for (i = 0; i < p->dirty.n; i++) {
		struct nat_entry *e = p->dirty.v[i];

		e->dirty = false;
		if (e->svc || k8s_map_count(&e->slices) || e->frag[0] || e->frag[1])
			continue;
		nat_claims_drop(p, e);
		k8s_map_remove(&p->skipping, e->key);
		k8s_map_remove(&p->entries, e->key);
		k8s_map_free(&e->slices, NULL);
		free(e->key);
		free(e);
	}
	p->dirty.n = 0;
}

static int build(struct nat_batch *b, struct pending *pds, size_t n, bool fresh,
		 const struct have *have, struct delta *d, const struct nat_carry *carry)
{
	size_t i;
	int fi, r;

	for (fi = 0; fresh && fi < 2; fi++) {
		nat_batch_what(b, "table");
		nat_batch_table_replace(b, fam_of(fi));
		nat_batch_base(b, fam_of(fi));
	}
	r = shared_delta(pds, n, d);
	if (r < 0)
		return r;
	shared_batch(b, have, d, SH_PICK, true);
	for (i = 0; i < n; i++) {
		nat_batch_what(b, what_of(&pds[i]));
		phase_a(b, &pds[i], carry);
	}
	for (i = 0; i < n; i++) {
		nat_batch_what(b, what_of(&pds[i]));
		phase_b(b, &pds[i]);
	}
	for (fi = 0; fi < 2 && r >= 0; fi++)
		r = phase_c(b, pds, n, fi, false);
	for (fi = 0; fi < 2 && r >= 0; fi++)
		r = phase_c(b, pds, n, fi, true);
	if (r >= 0)
		r = shared_batch(b, have, d, SH_HAIRPIN, false);
	if (r >= 0)
		r = shared_batch(b, have, d, SH_HAIRPIN, true);
	for (i = 0; i < n; i++) {
		nat_batch_what(b, what_of(&pds[i]));
		phase_d(b, &pds[i]);
	}
	shared_batch(b, have, d, SH_PICK, false);
	return r;
}

/* ---------------- is our record still right? ---------------- */

/* What the kernel should hold by our record: the full build of every
 * recorded fragment, made by an expectation batch. */
static int expect_record(struct k8snet_proxy *p, struct nft_inv want[2])
{
	struct k8s_map empty[2][2] = { { { 0 } } };
	struct have nothing = { empty[0], empty[1] };
	struct delta delta = { 0 };
	struct nat_batch *b = NULL;
	struct pending *pds = NULL;
	struct k8s_map_node *node;
	size_t i, n = 0, cap = 0;
	int fi, r = nat_batch_new_expect(p, want, &b);

	k8s_map_for_each(&p->entries, i, node) {
		struct nat_entry *e = node->val;

		for (fi = 0; fi < 2 && r >= 0; fi++)
			if (e->frag[fi])
				r = push_pending(&pds, &n, &cap,
						 (struct pending){ e, fi, NULL, e->frag[fi] });
	}
	if (r >= 0)
		r = build(b, pds, n, true, &nothing, &delta, NULL);
	delta_free(&delta);
	nat_batch_free(b);
	free(pds);
	return r;
}

/* 1: delta at gen is safe; 0: replace; negative errno. */
static int record_holds(struct k8snet_proxy *p, uint32_t *gen)
{
	struct nft_inv want[2] = { { 0 } };
	struct nft_table_ref refs[2] = {
		{ NFPROTO_IPV4, p->cfg.table, &want[0] },
		{ NFPROTO_IPV6, p->cfg.table, &want[1] },
	};
	int r = nft_track_check(p->ctx, &p->track, gen);

	if (r != 0 || !p->track.valid)
		return r;
	/* Someone else committed: read our tables back. */
	r = expect_record(p, want);
	if (r >= 0)
		r = nft_inv_verify(p->ctx, refs, 2, *gen);
	nft_inv_clear(&want[0]);
	nft_inv_clear(&want[1]);
	return r;
}

/* ---------------- sync ---------------- */

static int collect_skipped(struct k8snet_proxy *p)
{
	struct ptrvec frags = { 0 };
	struct k8s_map_node *n;
	size_t i;
	int fi, r = 0;

	k8s_map_for_each(&p->skipping, i, n) {
		struct nat_entry *e = n->val;

		for (fi = 0; fi < 2 && r >= 0; fi++)
			if (e->frag[fi] && e->frag[fi]->nskipped)
				r = nat_ptrvec_push(&frags, e->frag[fi]);
	}
	if (r >= 0)
		r = nat_skipped_collect(p, (struct nat_frag *const *)frags.v, frags.n);
	nat_ptrvec_free(&frags, NULL);
	return r;
}

/* After the commit, so that the next packet of a deleted entry meets the
 * new rules.  A failure is logged, not returned: the rules are in place,
 * and the entries time out on their own. */
static void clean_conntrack(struct k8snet_proxy *p, const struct nat_ctwork *w, bool udp)
{
	p->ct_deleted = p->ct_filters = 0;
	if (p->cfg.flags & K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP) {
		nat_ct_free(p);    /* nobody reads its events now */
		return;
	}
	if (nat_ct_cleanup(p, w, udp) < 0)
		k8snet_ctx_clear_error(p->ctx);
}

/* One attempt: plan, build and send at a generation the record is right
 * for.  A delta goes optimistically at the generation of our last commit:
 * if anyone committed since, the kernel refuses it (-ERESTART, nothing
 * adopted) and the next attempt checks first (check).  An idle sync checks
 * at once, so drift is repaired even when nothing changed here. */
static int sync_once(struct k8snet_proxy *p, bool full, bool check, size_t *ret_count)
{
	struct delta delta = { 0 };
	struct nat_batch *b = NULL;
	struct plan_out po = { 0 };
	struct pending *pds;
	struct k8s_map none[2] = { { 0 } };
	struct have have = { p->hairpin, p->picks };
	struct nat_carry carry = { { { 0 } } };
	uint32_t gen = 0;
	size_t n;
	bool fresh = full || !p->track.valid;
	double t0 = nat_now(), t1, t2;
	int r;

	if (fresh)
		r = nft_gen_get(p->ctx, &gen);
	else if (!check && p->dirty.n)
		gen = p->track.gen, r = 1;
	else
		r = record_holds(p, &gen);

	if (r == 0 && !fresh) {
		k8s_log(p->ctx, LOG_NOTICE, "nat: tables changed behind our back, replacing them");
		fresh = true;
	}
	if (r >= 0)
		r = plan_all(p, fresh, &po);
	pds = po.pds;
	n = po.n;
	t1 = t2 = nat_now();
	if (r >= 0)
		r = nat_batch_new(p, &b);
	if (r >= 0 && fresh) {
		/* The tables are replaced: nothing of them is shared yet. */
		have.hairpin = none;
		have.picks = none;
	}
	/* Read after the generation: a commit in between makes ours fail
	 * (-ERESTART) and the next attempt reads again. */
	if (r >= 0 && fresh)
		r = nat_carry_read(p, &carry);
	if (r >= 0)
		r = build(b, pds, n, fresh, &have, &delta, &carry);
	if (r < 0 && !k8snet_ctx_get_errno(p->ctx))
		r = k8s_error(p->ctx, r, "sync: %s", k8snet_strerror(r));
	else if (r >= 0) {
		t2 = nat_now();
		r = nat_batch_send(b, gen);
	}
	k8s_log(p->ctx, LOG_DEBUG, "nat sync%s: check+plan %.2f ms, build %.2f ms, send+commit "
		"%.2f ms, %zu messages, %zu bytes", fresh ? " (full)" : "", (t1 - t0) * 1e3,
		(t2 - t1) * 1e3, (nat_now() - t2) * 1e3, b ? nat_batch_count(b) : 0,
		b ? nat_batch_len(b) : 0);
	finish(pds, n, r >= 0);
	if (r >= 0) {
		if (fresh)
			shared_forget(p);
		r = shared_apply(p, &delta);
	}
	if (r >= 0)
		r = update_skipping(p, pds, n, fresh);
	if (r >= 0) {
		p->track.valid = true;
		p->track.gen = nat_batch_commit_gen(b) ? nat_batch_commit_gen(b) : gen;
		*ret_count = nat_batch_count(b);
		clean_conntrack(p, &po.ct, po.udp);
	}
	nat_ctwork_free(&po.ct);
	nat_carry_free(&carry);
	delta_free(&delta);
	nat_batch_free(b);
	free(pds);
	return r;
}

static int nat_sync(struct k8snet_proxy *p, bool full)
{
	size_t count = 0;
	int attempt, r;

	p->synced = true;
	r = nat_claims_update(p);
	if (r < 0)
		return k8s_error(p->ctx, r, "sync: %s", k8snet_strerror(r));
	for (attempt = 0; attempt < NFT_RETRY_ATTEMPTS / 4; attempt++) {
		r = sync_once(p, full, attempt > 0, &count);
		if (r != -ERESTART || attempt + 1 == NFT_RETRY_ATTEMPTS / 4)
			break;
		k8s_log(p->ctx, LOG_INFO, "nat: the ruleset changed while we synced; again");
		k8snet_ctx_clear_error(p->ctx);
		nft_retry_pause(attempt + 1);
	}
	if (r < 0) {
		/* Whatever the kernel holds now, it is not what we know: the
		 * next sync replaces the tables. */
		p->track.valid = false;
		return r;
	}
	r = nat_health_update(p);
	drop_empty_entries(p);
	if (r >= 0)
		r = collect_skipped(p);
	if (r < 0)
		return k8s_error(p->ctx, r, "sync: %s", k8snet_strerror(r));
	return count > INT32_MAX ? INT32_MAX : (int)count;
}

K8SNET_EXPORT int k8snet_proxy_sync(struct k8snet_proxy *p)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	k8snet_ctx_clear_error(p->ctx);
	return nat_sync(p, false);
}

K8SNET_EXPORT int k8snet_proxy_sync_full(struct k8snet_proxy *p)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	k8snet_ctx_clear_error(p->ctx);
	return nat_sync(p, true);
}
