/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod churn: bring a built plan up to date in place, recording the element
 * changes as one incremental batch (see pl_plan_update_pods in plan.h). */
#include <string.h>
#include <sys/socket.h>

#include "policy/plan.h"

/* ---- incremental updates for pod churn ---- */

static bool pod_is_local(const struct pl_pod *pod, const char *node)
{
	return pod && !pod->dead && !pod->host_network && pod->nips && pod->node &&
	       strcmp(pod->node, node) == 0;
}

/* The group chain a pod needs (as group_chain() names it), NULL if none;
 * with ret_key and ret_targets, also its policies and their chains. */
struct group {
	char *name, *key;
	size_t n;
	char **targets;
};

static void group_clear(struct group *g)
{
	size_t i;

	free(g->name);
	free(g->key);
	for (i = 0; i < g->n; i++)
		free(g->targets[i]);
	free(g->targets);
	*g = (struct group){ 0 };
}

static int group_of(struct k8snet_policy_db *db, const struct pl_pod *pod, bool ingress,
		    struct group *g)
{
	size_t size = 0, i;
	FILE *f = open_memstream(&g->key, &size);
	int r = 0;

	*g = (struct group){ 0 };
	if (!f)
		return -ENOMEM;
	for (i = 0; i < db->npol && r >= 0; i++) {
		const struct pl_policy *pol = &db->pol[i];
		char **t;

		if (!(ingress ? pol->ingress : pol->egress) || !pl_policy_selects(pol, pod))
			continue;
		fprintf(f, "%s%s/%s", g->n ? ", " : "", pol->ns, pol->name);
		t = realloc(g->targets, (g->n + 1) * sizeof(*t));
		if (!t) {
			r = -ENOMEM;
			break;
		}
		g->targets = t;
		g->targets[g->n] = pl_policy_chain_name(pol, ingress);
		if (!g->targets[g->n])
			r = -ENOMEM;
		else
			g->n++;
	}
	fclose(f);
	if (r >= 0 && !g->key)
		r = -ENOMEM;
	if (r >= 0 && g->n && !(g->name = pl_hex_name(ingress ? "gin" : "geg", g->key)))
		r = -ENOMEM;
	if (r < 0)
		group_clear(g);
	return r;
}

/* Make group chain g in p, sorted in place; its name goes to ops. */
static int create_group_chain(const struct k8snet_policy_db *db, struct pl_plan *p,
			      const struct group *g, bool ingress, struct pl_eops *ops)
{
	struct pl_pchain c = { .hook = -1 };
	const char **targets = calloc(g->n, sizeof(*targets));
	size_t i, size = 0, lo = 0, hi = p->nchains;
	FILE *f;
	int r;

	if (!targets)
		return -ENOMEM;
	for (i = 0; i < g->n; i++)
		targets[i] = pl_plan_chain(p, g->targets[i])->name;
	c.name = strdup(g->name);
	r = c.name ? pl_fill_group_chain(db, &c, targets, g->n, ingress, g->key) : -ENOMEM;
	free(targets);
	f = r >= 0 ? open_memstream(&c.text, &size) : NULL;
	if (f) {
		for (i = 0; i < c.n; i++) {
			pl_rule_render(&c.r[i], f);
			fputc('\n', f);
		}
		fclose(f);
	}
	if (r >= 0 && (!c.text || k8s_grow(&p->chains, &p->chains_cap, p->nchains,
				       sizeof(c)) < 0 ||
		       k8s_grow(&ops->chains, &ops->chains_cap, ops->nchains,
			    sizeof(char *)) < 0))
		r = -ENOMEM;
	if (r < 0) {
		for (i = 0; i < c.n; i++)
			free(c.r[i].comment);
		free(c.r);
		free(c.name);
		free(c.text);
		return r;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(p->chains[mid].name, c.name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&p->chains[lo + 1], &p->chains[lo], (p->nchains - lo) * sizeof(c));
	p->chains[lo] = c;
	p->nchains++;
	ops->chains[ops->nchains++] = p->chains[lo].name;
	return 0;
}

static size_t lower_bound(const struct pl_pset *s, const uint8_t *key, size_t len)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (memcmp(s->e[mid].key, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int op(struct pl_eops *ops, const struct pl_pset *s, bool add, const uint8_t *key,
	      const char *chain)
{
	struct pl_eop *o;

	if (k8s_grow(&ops->v, &ops->cap, ops->n, sizeof(*o)) < 0)
		return -ENOMEM;
	o = &ops->v[ops->n++];
	memset(o, 0, sizeof(*o));
	o->set = s;
	o->add = add;
	memcpy(o->key, key, pl_key_len(s->kind));
	o->chain = chain;
	return 0;
}

static bool kind_is_v4(enum pl_key_kind k)
{
	return k == PL_K_ADDR4 || k == PL_K_NAMED4;
}

/* Remove every element keyed by address a (alone or as a concatenation's head). */
static int remove_addr(struct pl_pset *s, const struct pl_addr *a, struct pl_eops *ops)
{
	size_t alen = a->family == AF_INET ? 4 : 16, i, j;
	int r;

	if (kind_is_v4(s->kind) != (a->family == AF_INET))
		return 0;
	i = lower_bound(s, a->a, alen);
	for (j = i; j < s->n && memcmp(s->e[j].key, a->a, alen) == 0; j++) {
		r = op(ops, s, false, s->e[j].key, NULL);
		if (r < 0)
			return r;
	}
	memmove(&s->e[i], &s->e[j], (s->n - j) * sizeof(*s->e));
	s->n -= j - i;
	return 0;
}

static int insert_elem(struct pl_pset *s, const uint8_t *key, const char *chain,
		       struct pl_eops *ops)
{
	size_t len = pl_key_len(s->kind), i = lower_bound(s, key, len);

	if (i < s->n && memcmp(s->e[i].key, key, len) == 0)
		return 0;
	if (k8s_grow(&s->e, &s->cap, s->n, sizeof(*s->e)) < 0)
		return -ENOMEM;
	memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof(*s->e));
	memset(&s->e[i], 0, sizeof(s->e[i]));
	memcpy(s->e[i].key, key, len);
	s->e[i].chain = chain;
	s->n++;
	return op(ops, s, true, key, chain);
}

static int add_pod_elems(struct k8snet_policy_db *db, struct pl_plan *p, const struct pl_pod *pod,
			 struct pl_eops *ops)
{
	size_t i, j, k;
	int r;

	for (i = 0; i < p->nsets; i++) {
		struct pl_pset *s = &p->sets[i];

		if (s->is_peer) {
			struct pl_policy scope = { .ns = s->pol_ns };

			if (!pl_peer_matches_pod(db, &scope, &s->peer, pod))
				continue;
			for (k = 0; k < pod->nips; k++) {
				uint8_t key[24] = { 0 };

				if (kind_is_v4(s->kind) != (pod->ips[k].family == AF_INET))
					continue;
				pl_addr_key(&pod->ips[k], key);
				r = insert_elem(s, key, NULL, ops);
				if (r < 0)
					return r;
			}
		} else if (s->port_name) {
			for (j = 0; j < pod->nports; j++) {
				const struct pl_cport *cp = &pod->ports[j];

				if (!cp->name || cp->proto != s->port_proto || strcmp(cp->name, s->port_name))
					continue;
				for (k = 0; k < pod->nips; k++) {
					uint8_t key[24];

					if (kind_is_v4(s->kind) != (pod->ips[k].family == AF_INET))
						continue;
					pl_named_port_key(&pod->ips[k], cp->proto, cp->port, key);
					r = insert_elem(s, key, NULL, ops);
					if (r < 0)
						return r;
				}
			}
		}
	}
	return 0;
}

static int add_pod_dispatch(struct k8snet_policy_db *db, struct pl_plan *p,
			    const struct pl_pod *pod, struct pl_eops *ops)
{
	static const char *const maps[2][2] = { { "egress4", "egress6" }, { "ingress4", "ingress6" } };
	int dir, r;
	size_t k;

	for (dir = 0; dir < 2; dir++) {
		struct group g;
		const struct pl_pchain *c;

		r = group_of(db, pod, dir == 1, &g);
		if (r < 0)
			return r;
		if (!g.name) {
			group_clear(&g);
			continue;
		}
		c = pl_plan_chain(p, g.name);
		if (!c) {
			r = create_group_chain(db, p, &g, dir == 1, ops);
			c = r < 0 ? NULL : pl_plan_chain(p, g.name);
		}
		group_clear(&g);
		if (r < 0)
			return r;
		for (k = 0; c && k < pod->nips; k++) {
			bool v4 = pod->ips[k].family == AF_INET;
			struct pl_pset *m = (struct pl_pset *)pl_plan_set(p, maps[dir][v4 ? 0 : 1]);
			uint8_t key[24] = { 0 };

			pl_addr_key(&pod->ips[k], key);
			r = m ? insert_elem(m, key, c->name, ops) : -ENOENT;
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int pl_plan_update_pods(struct k8snet_policy_db *db, struct pl_plan *p, const char *node,
			char *const *keys, size_t nkeys, struct pl_eops *ops)
{
	size_t i, j, idx;
	int dir, r;

	/* First, without touching p: do the chains of every local pod's policies
	 * exist?  (Its group chain may be new: that one we can add.) */
	for (i = 0; i < nkeys; i++) {
		const struct pl_pod *pod = k8s_map_get_index(&db->pod_by_name, keys[i], &idx) ?
					   &db->pods[idx] : NULL;

		/* Rules exist per address family in use: a new family rebuilds. */
		for (j = 0; pod && !pod->dead && !pod->host_network && j < pod->nips; j++)
			if (!(pod->ips[j].family == AF_INET ? p->v4 : p->v6))
				return 0;
		for (dir = 0; pod_is_local(pod, node) && dir < 2; dir++) {
			struct group g;
			size_t t;
			bool ok = true;

			r = group_of(db, pod, dir == 1, &g);
			if (r < 0)
				return r;
			for (t = 0; t < g.n && ok; t++)
				ok = pl_plan_chain(p, g.targets[t]) != NULL;
			group_clear(&g);
			if (!ok)
				return 0;
		}
	}
	for (i = 0; i < nkeys; i++) {
		const struct pl_pod *pod = k8s_map_get_index(&db->pod_by_name, keys[i], &idx) ?
					   &db->pods[idx] : NULL;

		if (k8s_map_get_index(&p->pod_idx, keys[i], &idx)) {
			for (j = 0; j < p->pods[idx].nips; j++) {
				size_t s;

				for (s = 0; s < p->nsets; s++) {
					r = remove_addr(&p->sets[s], &p->pods[idx].ips[j], ops);
					if (r < 0)
						return r;
				}
			}
		}
		if (pod && !pod->dead && !pod->host_network && pod->nips) {
			r = add_pod_elems(db, p, pod, ops);
			if (r >= 0 && pod_is_local(pod, node))
				r = add_pod_dispatch(db, p, pod, ops);
			if (r < 0)
				return r;
		}
		r = pl_record_pod(p, pod, keys[i]);
		if (r < 0)
			return r;
	}
	return 1;
}
