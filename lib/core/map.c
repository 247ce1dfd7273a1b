/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The string-keyed hash map shared by every layer (see map.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/map.h"

#define K8S_MAP_FIRST_BUCKETS 64

static size_t bucket_of(size_t nbuckets, uint64_t hash)
{
	return (size_t)hash & (nbuckets - 1);
}

/* Where key's node is, or where it would be linked in; NULL in a map that
 * has no buckets yet. */
static struct k8s_map_node **find_slot(const struct k8s_map *m, const char *key,
					uint64_t hash)
{
	struct k8s_map_node **pn;

	if (!m->nbuckets)
		return NULL;
	for (pn = &m->buckets[bucket_of(m->nbuckets, hash)]; *pn; pn = &(*pn)->next)
		if ((*pn)->hash == hash && strcmp((*pn)->key, key) == 0)
			break;
	return pn;
}

void *k8s_map_get(const struct k8s_map *m, const char *key)
{
	struct k8s_map_node **pn = find_slot(m, key, k8s_hash_str(key));

	return pn && *pn ? (*pn)->val : NULL;
}

/* Twice the buckets (relinking nodes, not copying them), so a lookup walks
 * one node on average. */
static int grow(struct k8s_map *m)
{
	size_t nbuckets = m->nbuckets ? m->nbuckets * 2 : K8S_MAP_FIRST_BUCKETS, i;
	struct k8s_map_node **buckets = calloc(nbuckets, sizeof(*buckets)), *n, *next;

	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < m->nbuckets; i++)
		for (n = m->buckets[i]; n; n = next) {
			size_t b = bucket_of(nbuckets, n->hash);

			next = n->next;
			n->next = buckets[b];
			buckets[b] = n;
		}
	free(m->buckets);
	m->buckets = buckets;
	m->nbuckets = nbuckets;
	return 0;
}

int k8s_map_put(struct k8s_map *m, const char *key, void *val)
{
	uint64_t hash = k8s_hash_str(key);
	size_t len = strlen(key);
	struct k8s_map_node **pn, *n;

	if (m->count >= m->nbuckets && grow(m) < 0)
		return -ENOMEM;
	pn = find_slot(m, key, hash);
	if (*pn) {
		(*pn)->val = val;
		return 0;
	}
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return -ENOMEM;
	n->next = NULL;
	n->val = val;
	n->hash = hash;
	memcpy(n->key, key, len + 1);
	*pn = n;
	m->count++;
	return 0;
}

void *k8s_map_remove(struct k8s_map *m, const char *key)
{
	struct k8s_map_node **pn = find_slot(m, key, k8s_hash_str(key)), *n;
	void *val;

	if (!pn || !*pn)
		return NULL;
	n = *pn;
	*pn = n->next;
	val = n->val;
	free(n);
	m->count--;
	return val;
}

void k8s_map_free(struct k8s_map *m, void (*free_val)(void *))
{
	struct k8s_map_node *n, *next;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nbuckets; i++)
		for (n = m->buckets[i]; n; n = next) {
			next = n->next;
			if (free_val && n->val)
				free_val(n->val);
			free(n);
		}
	free(m->buckets);
	*m = (struct k8s_map){ 0 };
}
