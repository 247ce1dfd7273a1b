/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growable arrays, shared by every layer.  Internal; never installed.
 *
 *	if (k8s_grow(&v, &cap, n, sizeof(*v)) < 0)
 *		return -ENOMEM;
 *	v[n++] = x;
 */
#ifndef K8SNET_CORE_VEC_H
#define K8SNET_CORE_VEC_H

#include <stddef.h>

/* Room for element n of the array *arrp (a pointer to the array's pointer)
 * of *cap elements of size bytes: doubles the capacity (8 at first) when
 * n reaches it.  0, or -ENOMEM with the array unchanged. */
int k8s_grow(void *arrp, size_t *cap, size_t n, size_t size);
/* The same for arrays that keep no capacity of their own: the capacity is
 * taken to be n rounded up to a power of two, so this grows only when n is
 * 0 or a power of two. */
int k8s_grow_pow2(void *arrp, size_t n, size_t size);

#endif
