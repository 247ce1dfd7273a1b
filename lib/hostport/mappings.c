/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set, remove, check, gc.  Each reads the four maps at one generation,
 * decides from what they hold (who owns what), and sends one batch at that
 * generation: if another process changed the ruleset in between, the
 * kernel refuses the batch and the call starts over.  Nothing is kept in
 * memory between calls, so that separate processes (CNI plugins) can share
 * the table.
 */
#include <stdio.h>
#include <string.h>

#include "hostport/internal.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>


/* What the maps hold. */
struct held {
	struct nft_dumped_set maps[HP_NMAPS];
	bool present;              /* the table exists */
	uint32_t gen;
};

static void held_clear(struct held *h)
{
	size_t i;

	for (i = 0; i < HP_NMAPS; i++)
		nft_dumped_set_clear(&h->maps[i]);
}

/* -EAGAIN: the ruleset changed while we read; start over. */
static int read_held(struct k8snet_hostports *hp, struct held *h)
{
	size_t i;
	int r = nft_gen_get(hp->ctx, &h->gen);

	h->present = true;
	for (i = 0; i < HP_NMAPS && r >= 0 && h->present; i++) {
		r = nft_dump_set(hp->ctx, NFPROTO_INET, hp->table, hp_map_names[i], h->gen,
				 &h->maps[i]);
		/* No table (the usual case on a node without published ports):
		 * nothing held, and nothing more to read. */
		if (r == -ENOENT) {
			h->present = false;
			r = 0;
		}
	}
	if (r == -EAGAIN)
		held_clear(h);
	return r;
}

struct read_args {
	struct k8snet_hostports *hp;
	struct held *h;
};

static int read_held_once(void *arg)
{
	const struct read_args *a = arg;

	return read_held(a->hp, a->h);
}

static bool owned_by(const struct nft_dumped_elem *e, const char *owner)
{
	return e->comment && strcmp(e->comment, owner) == 0;
}

/* Delete the held elements for which keep() says no; returns how many. */
static size_t delete_held(struct k8snet_hostports *hp, struct nft_batch *b, const struct held *h,
			  bool (*drop)(const struct nft_dumped_elem *, const void *), const void *arg)
{
	size_t i, j, n = 0;

	for (i = 0; i < HP_NMAPS; i++)
		for (j = 0; j < h->maps[i].n; j++) {
			const struct nft_dumped_elem *e = &h->maps[i].e[j];
			struct nft_elem el = { .key = e->key, .klen = e->klen };

			if (!drop(e, arg))
				continue;
			nft_batch_owner(b, "%s", e->comment ? e->comment : "a mapping without owner");
			nft_batch_elems(b, NFT_MSG_DELSETELEM, NFPROTO_INET, hp->table, hp_map_names[i],
					0, &el, 1);
			n++;
		}
	return n;
}

static bool drop_owner(const struct nft_dumped_elem *e, const void *owner)
{
	return owned_by(e, owner);
}

/* ---------------- conflicts ---------------- */

/* The held element with this key in map, if any. */
static const struct nft_dumped_elem *held_key(const struct held *h, enum hp_map map,
					      const uint8_t *key, uint32_t klen)
{
	size_t j;

	for (j = 0; j < h->maps[map].n; j++)
		if (h->maps[map].e[j].klen == klen && memcmp(h->maps[map].e[j].key, key, klen) == 0)
			return &h->maps[map].e[j];
	return NULL;
}

/* A wildcard and a specific address with the same protocol and port
 * overlap: the specific one would win for its address. */
static const struct nft_dumped_elem *overlapping(const struct held *h, const struct hp_elem *e)
{
	enum hp_map other;
	uint32_t al = e->map == HP4 || e->map == HP4_ANY ? 4 : 16;
	size_t j;

	if (e->map == HP4_ANY || e->map == HP6_ANY) {
		other = e->map == HP4_ANY ? HP4 : HP6;
		for (j = 0; j < h->maps[other].n; j++)
			if (memcmp(h->maps[other].e[j].key + al, e->key, 8) == 0)
				return &h->maps[other].e[j];
		return NULL;
	}
	other = e->map == HP4 ? HP4_ANY : HP6_ANY;
	return held_key(h, other, e->key + al, 8);
}

static int conflict(struct k8snet_hostports *hp, const struct held *h, const char *owner,
		    const struct hp_mapping *m, size_t i)
{
	const struct nft_dumped_elem *d;
	struct hp_elem e;
	char what[96];

	hp_elem_of(m, &e);
	d = held_key(h, e.map, e.key, e.klen);
	if (!d || owned_by(d, owner))
		d = overlapping(h, &e);
	if (!d || owned_by(d, owner))
		return 0;
	hp_mapping_text(m, what, sizeof(what));
	return k8s_error(hp->ctx, -EADDRINUSE, "mappings[%zu]: %s is held by %s", i, what,
			 d->comment ? d->comment : "a mapping without owner");
}

/* The same key twice in one list: the same mapping is fine (dual listing),
 * a different target is a mistake. */
static int duplicates(struct k8snet_hostports *hp, const struct k8snet_portmap *pm, bool *skip)
{
	struct hp_elem a, b;
	char what[96];
	size_t i, j;

	for (i = 0; i < pm->n; i++) {
		hp_elem_of(&pm->v[i], &a);
		for (j = 0; j < i && !skip[i]; j++) {
			if (skip[j])
				continue;
			hp_elem_of(&pm->v[j], &b);
			if (a.map != b.map || a.klen != b.klen || memcmp(a.key, b.key, a.klen) != 0)
				continue;
			if (a.dlen == b.dlen && memcmp(a.data, b.data, a.dlen) == 0) {
				skip[i] = true;
				continue;
			}
			hp_mapping_text(&pm->v[i], what, sizeof(what));
			return k8s_error(hp->ctx, -EINVAL, "mappings[%zu]: %s is already mapped "
					 "by mappings[%zu] to another target", i, what, j);
		}
	}
	return 0;
}

/* ---------------- set ---------------- */

static int add_mappings(struct k8snet_hostports *hp, struct nft_batch *b, const char *owner,
			const struct k8snet_portmap *pm, const bool *skip)
{
	size_t i, n = 0;

	nft_batch_owner(b, "%s", owner);
	for (i = 0; i < pm->n; i++) {
		struct hp_elem e;
		struct nft_elem el;

		if (skip[i])
			continue;
		hp_elem_of(&pm->v[i], &e);
		el = (struct nft_elem){ .key = e.key, .klen = e.klen, .data = e.data,
					.dlen = e.dlen, .comment = owner };
		nft_batch_elems(b, NFT_MSG_NEWSETELEM, NFPROTO_INET, hp->table, hp_map_names[e.map],
				0, &el, 1);
		n++;
	}
	return (int)n;
}

struct set_args {
	struct k8snet_hostports *hp;
	const char *owner;
	const struct k8snet_portmap *pm;
	const bool *skip;
};

/* One attempt (see nft_retry): -ERESTART or -EAGAIN when the ruleset
 * changed under us. */
static int set_once(void *arg)
{
	const struct set_args *a = arg;
	struct k8snet_hostports *hp = a->hp;
	const char *owner = a->owner;
	const struct k8snet_portmap *pm = a->pm;
	const bool *skip = a->skip;
	struct held h = { 0 };
	struct nft_batch *b = NULL;
	size_t i, old;
	int r = read_held(hp, &h), n = 0;

	for (i = 0; r >= 0 && i < pm->n; i++)
		if (!skip[i])
			r = conflict(hp, &h, owner, &pm->v[i], i);
	if (r >= 0)
		r = nft_batch_new(hp->ctx, &b);
	if (r >= 0) {
		hp_table_base(hp, b);
		old = delete_held(hp, b, &h, drop_owner, owner);
		n = add_mappings(hp, b, owner, pm, skip);
		(void)old;
		r = nft_batch_commit(b, h.gen);
	}
	nft_batch_free(b);
	held_clear(&h);
	return r < 0 ? r : n;
}

K8SNET_EXPORT int k8snet_hostports_set(struct k8snet_hostports *hp, const char *owner,
				       const struct k8snet_portmap *pm)
{
	char stored[128];
	bool *skip;
	int r;

	K8S_FORK_GUARD(hp);
	K8S_FORK_GUARD_PID_CTX(pm, hp ? hp->ctx : NULL);
	if (!hp)
		return -EINVAL;
	K8S_CHECK_ARG(hp->ctx, pm);
	k8snet_ctx_clear_error(hp->ctx);
	r = hp_owner_stored(hp->ctx, owner, stored);
	if (r < 0)
		return r;
	skip = calloc(pm->n ? pm->n : 1, sizeof(*skip));
	if (!skip)
		return k8s_error(hp->ctx, -ENOMEM, "out of memory");
	r = duplicates(hp, pm, skip);
	if (r >= 0)
		r = nft_retry(hp->ctx, set_once,
			      &(struct set_args){ .hp = hp, .owner = stored, .pm = pm, .skip = skip });
	free(skip);
	return r;
}

/* ---------------- remove, gc ---------------- */

/* Delete what drop() picks, in one batch at the generation read; returns
 * how many went. */
struct delete_args {
	struct k8snet_hostports *hp;
	bool (*drop)(const struct nft_dumped_elem *, const void *);
	const void *arg;
};

static int delete_once(void *arg)
{
	const struct delete_args *a = arg;
	struct held h = { 0 };
	struct nft_batch *b = NULL;
	size_t n = 0;
	int r = read_held(a->hp, &h);

	if (r >= 0)
		r = nft_batch_new(a->hp->ctx, &b);
	if (r >= 0)
		n = delete_held(a->hp, b, &h, a->drop, a->arg);
	/* Nothing to delete: nothing sent, no generation taken. */
	if (r >= 0 && n)
		r = nft_batch_commit(b, h.gen);
	nft_batch_free(b);
	held_clear(&h);
	return r < 0 ? r : (int)n;
}

static int delete_where(struct k8snet_hostports *hp,
			bool (*drop)(const struct nft_dumped_elem *, const void *), const void *arg)
{
	return nft_retry(hp->ctx, delete_once,
			 &(struct delete_args){ .hp = hp, .drop = drop, .arg = arg });
}

K8SNET_EXPORT int k8snet_hostports_remove(struct k8snet_hostports *hp, const char *owner)
{
	char stored[128];
	int r;

	K8S_FORK_GUARD(hp);
	if (!hp)
		return -EINVAL;
	k8snet_ctx_clear_error(hp->ctx);
	r = hp_owner_stored(hp->ctx, owner, stored);
	return r < 0 ? r : delete_where(hp, drop_owner, stored);
}

struct gc_arg {
	const char *prefix;
	char (*live)[128];
	size_t n;
};

static bool drop_dead(const struct nft_dumped_elem *e, const void *arg)
{
	const struct gc_arg *g = arg;
	size_t i;

	/* Mappings without an owner are not ours to judge. */
	if (!e->comment || (g->prefix && strncmp(e->comment, g->prefix, strlen(g->prefix)) != 0))
		return false;
	for (i = 0; i < g->n; i++)
		if (strcmp(e->comment, g->live[i]) == 0)
			return false;
	return true;
}

K8SNET_EXPORT int k8snet_hostports_gc(struct k8snet_hostports *hp, const char *prefix,
				      const char *const *live, size_t n_live)
{
	struct gc_arg g = { prefix, NULL, n_live };
	size_t i;
	int r = 0;

	K8S_FORK_GUARD(hp);
	if (!hp)
		return -EINVAL;
	K8S_CHECK_ARG(hp->ctx, live || !n_live);
	k8snet_ctx_clear_error(hp->ctx);
	g.live = calloc(n_live ? n_live : 1, sizeof(*g.live));
	if (!g.live)
		return k8s_error(hp->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < n_live && r >= 0; i++)
		r = hp_owner_stored(hp->ctx, live[i], g.live[i]);
	if (r >= 0)
		r = delete_where(hp, drop_dead, &g);
	free(g.live);
	return r;
}

/* ---------------- check ---------------- */

static int check_held(struct k8snet_hostports *hp, const struct held *h, const char *owner,
		      const struct k8snet_portmap *pm)
{
	size_t i, j, want = 0, have = 0;
	char what[96];

	for (i = 0; i < pm->n; i++) {
		const struct nft_dumped_elem *d;
		struct hp_elem e;

		hp_elem_of(&pm->v[i], &e);
		hp_mapping_text(&pm->v[i], what, sizeof(what));
		d = held_key(h, e.map, e.key, e.klen);
		if (!d)
			return k8s_error(hp->ctx, -ENOENT, "mappings[%zu]: %s is not published", i, what);
		if (!owned_by(d, owner))
			return k8s_error(hp->ctx, -ESTALE, "mappings[%zu]: %s is held by %s", i, what,
					 d->comment ? d->comment : "a mapping without owner");
		if (d->dlen != e.dlen || memcmp(d->data, e.data, e.dlen) != 0)
			return k8s_error(hp->ctx, -ESTALE, "mappings[%zu]: %s goes elsewhere", i, what);
	}
	/* Nothing of the owner's beyond the list (duplicates counted once). */
	for (i = 0; i < HP_NMAPS; i++)
		for (j = 0; j < h->maps[i].n; j++)
			have += owned_by(&h->maps[i].e[j], owner);
	for (i = 0; i < pm->n; i++) {
		struct hp_elem a, b;
		bool dup = false;

		hp_elem_of(&pm->v[i], &a);
		for (j = 0; j < i && !dup; j++) {
			hp_elem_of(&pm->v[j], &b);
			dup = a.map == b.map && memcmp(a.key, b.key, a.klen) == 0;
		}
		want += !dup;
	}
	if (have != want)
		return k8s_error(hp->ctx, -ESTALE, "%s holds %zu mappings, %zu expected", owner,
				 have, want);
	return 0;
}

K8SNET_EXPORT int k8snet_hostports_check(struct k8snet_hostports *hp, const char *owner,
					 const struct k8snet_portmap *pm)
{
	char stored[128];
	struct held h = { 0 };
	int r;

	K8S_FORK_GUARD(hp);
	K8S_FORK_GUARD_PID_CTX(pm, hp ? hp->ctx : NULL);
	if (!hp)
		return -EINVAL;
	K8S_CHECK_ARG(hp->ctx, pm);
	k8snet_ctx_clear_error(hp->ctx);
	r = hp_owner_stored(hp->ctx, owner, stored);
	if (r >= 0)
		r = nft_retry(hp->ctx, read_held_once, &(struct read_args){ .hp = hp, .h = &h });
	if (r >= 0)
		r = check_held(hp, &h, stored, pm);
	held_clear(&h);
	return r;
}
