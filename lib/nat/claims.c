/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Conflicts between services.  Every address, port and protocol a service
 * answers on (a key of the service-ips or service-nodeports map), and every
 * ClusterIP (a key of cluster-ips), is a claim.  Any user who can create a
 * Service can claim an external IP someone else uses; the kernel would then
 * refuse the whole batch ("File exists") and no service at all would be
 * programmed.  So, as kube-proxy does, the older service holds the claim
 * (creationTimestamp, then namespace/name), the newer one is planned without
 * it and reported, and everything else is programmed.
 *
 * The registry maps each claim key to its contenders.  A sync recomputes
 * the claims of the services that changed; when a key's contenders change,
 * all of them are planned again, since its holder may have changed.
 */
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

char *nat_claim_key(int fam, const struct nat_dest *d, uint8_t proto)
{
	char a[33] = "", *s;

	if (d->addr)
		nat_hex(a, d->addr->a, fam == AF_INET ? 4 : 16);
	/* One key space per map: a NodePort never collides with an address. */
	if (asprintf(&s, "%c%s/%u/%u", d->addr ? (fam == AF_INET ? 'a' : 'A') : (fam == AF_INET ? 'n' : 'N'),
		     a, proto, d->port) < 0)
		return NULL;
	return s;
}

char *nat_claim_key_cluster_ip(const struct nat_addr *a)
{
	char h[33], *s;

	nat_hex(h, a->a, a->family == AF_INET ? 4 : 16);
	if (asprintf(&s, "c%s", h) < 0)
		return NULL;
	return s;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int push_key(char ***v, size_t *n, char *key)
{
	if (!key || k8s_grow_pow2(v, *n, sizeof(**v)) < 0) {
		free(key);
		return -ENOMEM;
	}
	(*v)[(*n)++] = key;
	return 0;
}

/* Every key the entry's service would use, in both families. */
static int entry_claims(const struct k8snet_proxy *p, const struct nat_entry *e, char ***ret,
			size_t *ret_n)
{
	const struct k8snet_service *svc = e->svc;
	struct nat_dest *dests = NULL;
	size_t max, i, j, k, n = 0, nd;
	char **v = NULL;
	int fam, r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!svc || svc->type == K8SNET_SERVICE_TYPE_EXTERNAL_NAME)
		return 0;
	max = nat_port_dests_max(svc);
	dests = calloc(max ? max : 1, sizeof(*dests));
	if (!dests)
		return -ENOMEM;
	for (k = 0; k < 2 && r >= 0; k++) {
		fam = k ? AF_INET6 : AF_INET;
		for (i = 0; i < svc->nports && r >= 0; i++) {
			nd = nat_port_dests(p, svc, &svc->ports[i], fam, dests, max);
			for (j = 0; j < nd && r >= 0; j++)
				r = push_key(&v, &n, nat_claim_key(fam, &dests[j], svc->ports[i].proto));
		}
	}
	for (i = 0; i < svc->nips[K8SNET_SERVICE_IP_CLUSTER] && r >= 0; i++)
		r = push_key(&v, &n, nat_claim_key_cluster_ip(&svc->ips[K8SNET_SERVICE_IP_CLUSTER][i]));
	free(dests);
	if (r < 0) {
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	/* A key the service claims twice is its own affair (the planner
	 * reports it); the registry needs it once. */
	for (i = j = 0; i < n; i++) {
		if (j && strcmp(v[i], v[j - 1]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	*ret = v;
	*ret_n = j;
	return 0;
}

static void mark_contenders(struct k8snet_proxy *p, const char *key)
{
	struct ptrvec *who = k8s_map_get(&p->claims, key);
	size_t i;

	for (i = 0; who && i < who->n; i++)
		nat_mark_dirty(p, who->v[i]);
}

static int add_contender(struct k8snet_proxy *p, const char *key, struct nat_entry *e)
{
	struct ptrvec *who = k8s_map_get(&p->claims, key);

	if (!who) {
		who = calloc(1, sizeof(*who));
		if (!who || k8s_map_put(&p->claims, key, who) < 0) {
			free(who);
			return -ENOMEM;
		}
	}
	mark_contenders(p, key);
	return nat_ptrvec_push(who, e);
}

static void del_contender(struct k8snet_proxy *p, const char *key, struct nat_entry *e)
{
	struct ptrvec *who = k8s_map_get(&p->claims, key);
	size_t i;

	if (!who)
		return;
	for (i = 0; i < who->n; i++)
		if (who->v[i] == e) {
			who->v[i] = who->v[--who->n];
			break;
		}
	mark_contenders(p, key);
	if (!who->n) {
		k8s_map_remove(&p->claims, key);
		nat_ptrvec_free(who, NULL);
		free(who);
	}
}

static void free_keys(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Old and new keys are sorted: walk both, changing only the difference.
 * The holder of a contested key may change even when the keys do not (the
 * service's creationTimestamp changed), so its contenders are planned again
 * in any case; an uncontested key has only this entry. */
static int update_entry(struct k8snet_proxy *p, struct nat_entry *e)
{
	char **nv;
	size_t nn, i = 0, j = 0;
	int r = entry_claims(p, e, &nv, &nn);

	if (r < 0)
		return r;
	for (i = 0; i < e->nclaims; i++)
		mark_contenders(p, e->claims[i]);
	i = 0;
	while (r >= 0 && (i < e->nclaims || j < nn)) {
		int c = i == e->nclaims ? 1 : j == nn ? -1 : strcmp(e->claims[i], nv[j]);

		if (c < 0)
			del_contender(p, e->claims[i++], e);
		else if (c > 0)
			r = add_contender(p, nv[j++], e);
		else
			i++, j++;
	}
	free_keys(e->claims, e->nclaims);
	e->claims = nv;
	e->nclaims = nn;
	return r;
}

int nat_claims_update(struct k8snet_proxy *p)
{
	size_t i;
	int r = 0;

	/* The list grows while we walk it: contenders join it. */
	for (i = 0; i < p->dirty.n && r >= 0; i++)
		r = update_entry(p, p->dirty.v[i]);
	return r;
}

void nat_claims_drop(struct k8snet_proxy *p, struct nat_entry *e)
{
	size_t i;

	for (i = 0; i < e->nclaims; i++)
		del_contender(p, e->claims[i], e);
	free_keys(e->claims, e->nclaims);
	e->claims = NULL;
	e->nclaims = 0;
}

/* Older first: by creationTimestamp (unset counts as newest), then name. */
static bool older(const struct nat_entry *a, const struct nat_entry *b)
{
	int64_t ta = a->svc && a->svc->created_s >= 0 ? a->svc->created_s : INT64_MAX;
	int64_t tb = b->svc && b->svc->created_s >= 0 ? b->svc->created_s : INT64_MAX;

	if (ta != tb)
		return ta < tb;
	return strcmp(a->key, b->key) < 0;
}

const struct nat_entry *nat_claim_holder(const struct k8snet_proxy *p, const char *key)
{
	const struct ptrvec *who = k8s_map_get(&p->claims, key);
	const struct nat_entry *best = NULL;
	size_t i;

	for (i = 0; who && i < who->n; i++)
		if (!best || older(who->v[i], best))
			best = who->v[i];
	return best;
}

static void free_contenders(void *v)
{
	nat_ptrvec_free(v, NULL);
	free(v);
}

void nat_claims_free(struct k8snet_proxy *p)
{
	k8s_map_free(&p->claims, free_contenders);
}

/* ---------------- the skipped list ---------------- */

void nat_skipped_clear(struct k8snet_proxy *p)
{
	size_t i;

	for (i = 0; i < p->nskipped; i++) {
		free(p->skipped[i].object);
		free(p->skipped[i].reason);
	}
	free(p->skipped);
	p->skipped = NULL;
	p->nskipped = 0;
}

static int cmp_skip(const void *x, const void *y)
{
	const struct nat_skip *a = x, *b = y;
	int c = strcmp(a->object, b->object);

	return c ? c : strcmp(a->reason, b->reason);
}

int nat_skipped_collect(struct k8snet_proxy *p, struct nat_frag *const *frags, size_t n)
{
	size_t i, j, k;

	nat_skipped_clear(p);
	for (i = 0; i < n; i++) {
		for (j = 0; frags[i] && j < frags[i]->nskipped; j++) {
			struct nat_skip *s;

			if (k8s_grow_pow2(&p->skipped, p->nskipped, sizeof(*p->skipped)) < 0)
				return -ENOMEM;
			s = &p->skipped[p->nskipped];
			s->object = strdup(frags[i]->what);
			s->reason = strdup(frags[i]->skipped[j]);
			if (!s->object || !s->reason) {
				free(s->object);
				free(s->reason);
				return -ENOMEM;
			}
			p->nskipped++;
		}
	}
	if (p->nskipped)
		qsort(p->skipped, p->nskipped, sizeof(*p->skipped), cmp_skip);
	/* The same conflict can be found in both families' plans. */
	for (i = k = 0; i < p->nskipped; i++) {
		if (k && cmp_skip(&p->skipped[i], &p->skipped[k - 1]) == 0) {
			free(p->skipped[i].object);
			free(p->skipped[i].reason);
		} else {
			p->skipped[k++] = p->skipped[i];
		}
	}
	p->nskipped = k;
	return 0;
}
