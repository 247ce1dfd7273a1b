/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growable strings (see strbuf.h). */
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"

bool k8s_buf_reserve(struct k8s_buf *b, size_t extra)
{
	size_t want;
	char *p;

	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	if (extra > SIZE_MAX / 4 - b->len) {
		b->oom = true;
		return false;
	}
	want = b->cap ? b->cap : 256;
	while (want < b->len + extra + 1)
		want *= 2;
	p = realloc(b->data, want);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = want;
	return true;
}

void k8s_buf_add(struct k8s_buf *b, const char *s, size_t n)
{
	if (!k8s_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void k8s_buf_puts(struct k8s_buf *b, const char *s)
{
	k8s_buf_add(b, s, strlen(s));
}

void k8s_buf_putc(struct k8s_buf *b, char c)
{
	k8s_buf_add(b, &c, 1);
}

void k8s_buf_u32(struct k8s_buf *b, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	k8s_buf_add(b, tmp + sizeof(tmp) - n, n);
}

/* Format straight into the room left when it fits (renderers append many
 * short pieces); measure, grow and format again only when it does not. */
void k8s_buf_vprintf(struct k8s_buf *b, const char *fmt, va_list ap)
{
	size_t room = b->cap - b->len;
	va_list again;
	int n;

	if (b->oom)
		return;
	va_copy(again, ap);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? room : 0, fmt, ap);
	if (n >= 0 && (size_t)n >= room && k8s_buf_reserve(b, (size_t)n))
		n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	if (n < 0) {
		/* An encoding error: the text would be wrong, so the whole is. */
		b->oom = true;
	} else if (!b->oom) {
		b->len += (size_t)n;
		return;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void k8s_buf_printf(struct k8s_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	k8s_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

int k8s_buf_take(struct k8s_buf *b, char **ret)
{
	if (!k8s_buf_reserve(b, 0)) {
		k8s_buf_free(b);
		return -ENOMEM;
	}
	b->data[b->len] = '\0';
	*ret = b->data;
	*b = (struct k8s_buf){ 0 };
	return 0;
}

char *k8s_buf_steal(struct k8s_buf *b)
{
	char *s = NULL;

	return k8s_buf_take(b, &s) < 0 ? NULL : s;
}

void k8s_buf_free(struct k8s_buf *b)
{
	free(b->data);
	*b = (struct k8s_buf){ 0 };
}

char *k8s_vasprintf(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *k8s_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = k8s_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}
