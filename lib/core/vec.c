/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growable arrays (see vec.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/vec.h"

static int resize(void *arrp, size_t count, size_t size)
{
	void **arr = arrp, *p;

	if (size && count > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, count * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

int k8s_grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap <= n || resize(arrp, ncap, size) < 0)
		return -ENOMEM;
	*cap = ncap;
	return 0;
}

int k8s_grow_pow2(void *arrp, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	if (n > SIZE_MAX / 2)
		return -ENOMEM;
	return resize(arrp, n ? n * 2 : 1, size);
}
