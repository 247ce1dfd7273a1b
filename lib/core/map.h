/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The string-keyed hash map shared by every layer.  Internal; never
 * installed.
 *
 * Chained buckets, a power of two of them (64 at first), doubled when the
 * map holds as many entries as buckets; keys are copied (into the entry), values are the
 * caller's pointers (or small integers cast to pointers).  Walking order is
 * a function of the keys and the order they were put in, never of
 * addresses, so what a layer renders by walking a map is reproducible.
 *
 *	struct k8s_map m = { 0 };
 *	struct k8s_map_node *n;
 *	size_t i;
 *
 *	k8s_map_put(&m, "ns/name", obj);
 *	k8s_map_for_each(&m, i, n)
 *		use(n->key, n->val);
 *	k8s_map_free(&m, free_obj);
 */
#ifndef K8SNET_CORE_MAP_H
#define K8SNET_CORE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One allocation per entry, key included; the key's hash is kept so that
 * growing and walking a chain compare strings only on a likely match. */
struct k8s_map_node {
	struct k8s_map_node *next;
	void *val;
	uint64_t hash;
	char key[];
};

/* All zeroes is an empty map. */
struct k8s_map {
	struct k8s_map_node **buckets;
	size_t nbuckets, count;
};

/* The value put under key, or NULL when there is none. */
void *k8s_map_get(const struct k8s_map *m, const char *key);
/* Puts val under a copy of key, replacing (not freeing) any value there.
 * 0 or -ENOMEM with the map unchanged. */
int k8s_map_put(struct k8s_map *m, const char *key, void *val);
/* Takes key out; returns its value (the caller's to free), or NULL. */
void *k8s_map_remove(struct k8s_map *m, const char *key);
/* Frees every entry, passing each value to free_val when it is not NULL,
 * and leaves an empty map.  NULL m is fine. */
void k8s_map_free(struct k8s_map *m, void (*free_val)(void *));

static inline size_t k8s_map_count(const struct k8s_map *m)
{
	return m->count;
}

/* For maps of string -> array index: the index is kept as index + 1, so
 * that it is never NULL. */
static inline int k8s_map_put_index(struct k8s_map *m, const char *key, size_t index)
{
	return k8s_map_put(m, key, (void *)(uintptr_t)(index + 1));
}

static inline bool k8s_map_get_index(const struct k8s_map *m, const char *key, size_t *ret)
{
	uintptr_t v = (uintptr_t)k8s_map_get(m, key);

	if (!v)
		return false;
	*ret = v - 1;
	return true;
}

/* Every node of m, in bucket order; the body must not put into or remove
 * from m. */
#define k8s_map_for_each(m, i, node)                                           \
	for ((i) = 0; (i) < (m)->nbuckets; (i)++)                              \
		for ((node) = (m)->buckets[i]; (node); (node) = (node)->next)

#endif
