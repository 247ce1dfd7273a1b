/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growable strings, shared by every layer (no fixed-size buffers for
 * unbounded text).  Internal; never installed. */
#ifndef K8SNET_CORE_STRBUF_H
#define K8SNET_CORE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* A string being built.  Appends never fail loudly: the first failed
 * allocation sets oom, later appends do nothing, and k8s_buf_take() or
 * k8s_buf_steal() report it once at the end. */
struct k8s_buf {
	char *data;        /* NUL-terminated once anything was added */
	size_t len, cap;
	bool oom;          /* sticky: set by the first failed allocation */
};
/* Room for extra more bytes and a NUL; false (and oom set) when out of memory. */
bool k8s_buf_reserve(struct k8s_buf *b, size_t extra);
void k8s_buf_add(struct k8s_buf *b, const char *s, size_t n);
void k8s_buf_puts(struct k8s_buf *b, const char *s);
void k8s_buf_putc(struct k8s_buf *b, char c);
void k8s_buf_printf(struct k8s_buf *b, const char *fmt, ...) _printf_(2, 3);
void k8s_buf_vprintf(struct k8s_buf *b, const char *fmt, va_list ap) _printf_(2, 0);
void k8s_buf_u32(struct k8s_buf *b, uint32_t v);
/* Hand the NUL-terminated text to the caller (-ENOMEM if any append failed). */
int k8s_buf_take(struct k8s_buf *b, char **ret);
/* The same as a pointer: the text ("" if nothing was added), or NULL if an
 * append failed.  The buffer is empty again either way. */
char *k8s_buf_steal(struct k8s_buf *b);
void k8s_buf_free(struct k8s_buf *b);

/* asprintf() that returns the string, or NULL when out of memory. */
char *k8s_asprintf(const char *fmt, ...) _printf_(1, 2);
char *k8s_vasprintf(const char *fmt, va_list ap) _printf_(1, 0);

#endif
