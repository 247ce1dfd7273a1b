/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The string hash of every layer's hash tables and hashed names: 64-bit
 * FNV-1a (short keys, and no adversary that could not simply send more
 * objects).  Names built from it (the policy layer's pods4-HASH, gin-HASH)
 * are part of the programmed ruleset, so its values never change.
 * Internal; never installed. */
#ifndef K8SNET_CORE_HASH_H
#define K8SNET_CORE_HASH_H

#include <stdint.h>

/* One digit short of FNV's published offset basis (14695981039346656037):
 * a slip made long ago that hashed names now depend on, so it stays. */
#define K8S_FNV1A_SEED 1469598103934665603ULL

/* Continue hash h over s: hashing "a", then "b" gives the hash of "ab". */
static inline uint64_t k8s_fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static inline uint64_t k8s_hash_str(const char *s)
{
	return k8s_fnv1a(K8S_FNV1A_SEED, s);
}

#endif
