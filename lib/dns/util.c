/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String lists for the DNS layer (growable strings: core/strbuf.h). */
#include <stdio.h>
#include <string.h>

#include "dns/dns-internal.h"

int k8s_strv_push(struct k8s_strv *s, const char *str, size_t len)
{
	char *copy;

	if (k8s_grow(&s->v, &s->cap, s->n, sizeof(*s->v)) < 0)
		return -ENOMEM;
	copy = strndup(str, len);
	if (!copy)
		return -ENOMEM;
	s->v[s->n++] = copy;
	return 0;
}

bool k8s_strv_contains(const struct k8s_strv *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

int k8s_strv_push_unique(struct k8s_strv *s, const char *str)
{
	if (k8s_strv_contains(s, str))
		return 0;
	return k8s_strv_push(s, str, strlen(str));
}

void k8s_strv_truncate(struct k8s_strv *s, size_t n)
{
	while (s->n > n)
		free(s->v[--s->n]);
}

void k8s_strv_remove(struct k8s_strv *s, size_t i)
{
	free(s->v[i]);
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

void k8s_strv_clear(struct k8s_strv *s)
{
	k8s_strv_truncate(s, 0);
	free(s->v);
	*s = (struct k8s_strv){ 0 };
}

int k8s_strv_copy(struct k8s_strv *dst, const struct k8s_strv *src)
{
	size_t i;
	int r;

	for (i = 0; i < src->n; i++) {
		r = k8s_strv_push(dst, src->v[i], strlen(src->v[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

size_t k8s_strv_joined_len(const struct k8s_strv *s)
{
	size_t i, len = 0;

	for (i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + (i ? 1 : 0);
	return len;
}

char *k8s_strv_join(const struct k8s_strv *s, const char *sep)
{
	struct k8s_buf b = { 0 };
	char *out = NULL;
	size_t i;

	k8s_buf_puts(&b, "");
	for (i = 0; i < s->n; i++) {
		if (i)
			k8s_buf_puts(&b, sep);
		k8s_buf_puts(&b, s->v[i]);
	}
	if (k8s_buf_take(&b, &out) < 0)
		return NULL;
	return out;
}
