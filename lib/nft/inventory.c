/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drift detection.  When someone else committed since a layer's record was
 * last known to be right, the layer compares an inventory of what it
 * expects (chains with their rule counts, sets with their element counts
 * and an order-independent hash of their elements, named counters by name)
 * with the same inventory read from the kernel.  Equal: the record still holds and a delta is
 * safe.  Different: the layer replaces its tables whole.
 *
 * Rules are compared by count only: the kernel reports expressions in its
 * own normal form, which need not be byte-equal to what we sent.  A rule
 * rewritten behind our back with the same count is not seen; a full sync
 * (the layers' *_sync_full) replaces everything regardless.
 */
#include <stdio.h>
#include <string.h>

#include "core/vec.h"
#include "nft/internal.h"

void nft_inv_clear(struct nft_inv *inv)
{
	size_t i;

	for (i = 0; i < inv->nsets; i++)
		free(inv->sets[i].name);
	for (i = 0; i < inv->nchains; i++)
		free(inv->chains[i].name);
	for (i = 0; i < inv->nobjs; i++)
		free(inv->objs[i]);
	free(inv->sets);
	free(inv->chains);
	free(inv->objs);
	memset(inv, 0, sizeof(*inv));
}

static struct nft_inv_set *find_set(struct nft_inv *inv, const char *name)
{
	size_t i;

	/* Searched from the end: expectations are built set by set. */
	for (i = inv->nsets; i-- > 0;)
		if (strcmp(inv->sets[i].name, name) == 0)
			return &inv->sets[i];
	return NULL;
}

struct nft_inv_chain *nft_inv_chain(struct nft_inv *inv, const char *name)
{
	size_t i;

	for (i = inv->nchains; i-- > 0;)
		if (strcmp(inv->chains[i].name, name) == 0)
			return &inv->chains[i];
	return NULL;
}

static bool grow(struct nft_inv *inv, void **v, size_t n, size_t *cap, size_t size)
{
	if (k8s_grow(v, cap, n, size) < 0) {
		inv->err = -ENOMEM;
		return false;
	}
	return true;
}

void nft_inv_expect_set(struct nft_inv *inv, const char *name, bool dynamic)
{
	struct nft_inv_set *s;

	if (inv->err)
		return;
	s = find_set(inv, name);
	if (s) {
		s->dynamic = s->dynamic || dynamic;
		return;
	}
	if (!grow(inv, (void **)&inv->sets, inv->nsets, &inv->sets_cap, sizeof(*s)))
		return;
	s = &inv->sets[inv->nsets];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name) {
		inv->err = -ENOMEM;
		return;
	}
	s->dynamic = dynamic;
	inv->nsets++;
}

void nft_inv_expect_elem(struct nft_inv *inv, const char *set, const struct nft_elem *e)
{
	struct nft_inv_set *s = find_set(inv, set);

	if (!s) {
		nft_inv_expect_set(inv, set, false);
		s = find_set(inv, set);
	}
	if (!s)
		return;
	s->nelems++;
	s->hash += nft_elem_hash(e->key, e->klen, e->data, e->dlen, e->verdict, e->chain,
				 e->objref);
}

static char **find_obj(struct nft_inv *inv, const char *name)
{
	size_t i;

	for (i = inv->nobjs; i-- > 0;)
		if (strcmp(inv->objs[i], name) == 0)
			return &inv->objs[i];
	return NULL;
}

void nft_inv_expect_obj(struct nft_inv *inv, const char *name)
{
	char *copy;

	/* No duplicate check: a table holds 10,000 of them, and the
	 * comparison sorts (names are unique in a table anyway). */
	if (inv->err)
		return;
	if (!grow(inv, (void **)&inv->objs, inv->nobjs, &inv->objs_cap, sizeof(*inv->objs)))
		return;
	copy = strdup(name);
	if (!copy) {
		inv->err = -ENOMEM;
		return;
	}
	inv->objs[inv->nobjs++] = copy;
}

void nft_inv_forget_obj(struct nft_inv *inv, const char *name)
{
	char **o = find_obj(inv, name);

	if (!o)
		return;
	free(*o);
	*o = inv->objs[--inv->nobjs];
}

void nft_inv_expect_chain(struct nft_inv *inv, const char *name, size_t nrules)
{
	struct nft_inv_chain *c;

	if (inv->err)
		return;
	c = nft_inv_chain(inv, name);
	if (c) {
		c->nrules += nrules;
		return;
	}
	if (!grow(inv, (void **)&inv->chains, inv->nchains, &inv->chains_cap, sizeof(*c)))
		return;
	c = &inv->chains[inv->nchains];
	c->name = strdup(name);
	if (!c->name) {
		inv->err = -ENOMEM;
		return;
	}
	c->nrules = nrules;
	inv->nchains++;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool objs_differ(struct nft_inv *want, struct nft_inv *have, char *what, size_t len)
{
	size_t i;

	/* qsort() wants a non-NULL base even for zero items. */
	if (want->nobjs)
		qsort(want->objs, want->nobjs, sizeof(*want->objs), cmp_name);
	if (have->nobjs)
		qsort(have->objs, have->nobjs, sizeof(*have->objs), cmp_name);
	for (i = 0; i < want->nobjs && i < have->nobjs; i++)
		if (strcmp(want->objs[i], have->objs[i]) != 0) {
			snprintf(what, len, "counter %s is gone", want->objs[i]);
			return true;
		}
	if (have->nobjs != want->nobjs) {
		snprintf(what, len, "%zu named counters, %zu expected", have->nobjs, want->nobjs);
		return true;
	}
	return false;
}

int nft_inv_compare(struct nft_inv *want, struct nft_inv *have, char *what, size_t len)
{
	size_t i;

	if (want->present != have->present) {
		snprintf(what, len, "the table is %s", have->present ? "there unexpectedly" : "gone");
		return 1;
	}
	for (i = 0; i < want->nchains; i++) {
		const struct nft_inv_chain *w = &want->chains[i];
		const struct nft_inv_chain *h = nft_inv_chain(have, w->name);

		if (!h) {
			snprintf(what, len, "chain %s is gone", w->name);
			return 1;
		}
		if (h->nrules != w->nrules) {
			snprintf(what, len, "chain %s has %zu rules, %zu expected", w->name,
				 h->nrules, w->nrules);
			return 1;
		}
	}
	for (i = 0; i < want->nsets; i++) {
		const struct nft_inv_set *w = &want->sets[i];
		const struct nft_inv_set *h = find_set(have, w->name);

		if (!h) {
			snprintf(what, len, "set %s is gone", w->name);
			return 1;
		}
		if (w->dynamic)
			continue;
		if (h->nelems != w->nelems || h->hash != w->hash) {
			snprintf(what, len, "set %s holds %zu elements%s, %zu expected", w->name,
				 h->nelems, h->nelems == w->nelems ? " (others than ours)" : "",
				 w->nelems);
			return 1;
		}
	}
	if (objs_differ(want, have, what, len))
		return 1;
	if (have->nchains != want->nchains || have->nsets != want->nsets) {
		snprintf(what, len, "%zu chains and %zu sets, %zu and %zu expected", have->nchains,
			 have->nsets, want->nchains, want->nsets);
		return 1;
	}
	return 0;
}

int nft_track_check(struct k8snet_ctx *ctx, const struct nft_track *t, uint32_t *ret_gen)
{
	int r = nft_gen_get(ctx, ret_gen);

	if (r < 0)
		return r;
	return t->valid && nft_gen_only_own(ctx, t->gen, *ret_gen);
}

int nft_inv_verify(struct k8snet_ctx *ctx, const struct nft_table_ref *tables, size_t n,
		   uint32_t gen)
{
	struct nft_inv have = { 0 };
	char what[300];
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		if (tables[i].want->err)
			return tables[i].want->err;
		r = nft_inv_read(ctx, tables[i].nfproto, tables[i].table, gen, &have);
		if (r < 0)
			break;
		r = nft_inv_compare(tables[i].want, &have, what, sizeof(what));
		if (r)
			k8s_log(ctx, LOG_NOTICE, "table %s %s changed behind our back (%s): "
				"replacing it", tables[i].nfproto == 2 ? "ip" :
				tables[i].nfproto == 10 ? "ip6" : "inet", tables[i].table, what);
		nft_inv_clear(&have);
	}
	nft_inv_clear(&have);
	return r < 0 ? r : r == 0;
}
