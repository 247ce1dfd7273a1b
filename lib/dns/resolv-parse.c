/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a resolv.conf, two ways.
 *
 * The kubelet's way (parseResolvConf): each line is trimmed; "#" starts a
 * comment line; "nameserver ADDR" accumulates (fields after ADDR ignored) and a
 * bare "nameserver" is an error; the last "search" line replaces the list
 * (a trailing "." is stripped from each entry, and "." itself drops out); the
 * last "options" line replaces the options.  Other keywords are ignored.  The
 * kubelet refuses files over 10 MiB.
 *
 * glibc's way (res_init), for what a resolver will do with the file: "#" and
 * ";" start comments; keywords count only at the start of a line; "search"
 * and "domain" replace each other (last wins); "options" lines accumulate.
 */
#include <string.h>

#include "dns/dns-internal.h"

#define KUBELET_MAX_RESOLV_CONF (10u << 20)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated field of [*p, end); false at the end. */
static bool next_field(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p;

	while (s < end && is_space(*s))
		s++;
	if (s >= end)
		return false;
	*ret = s;
	while (s < end && !is_space(*s))
		s++;
	*ret_len = (size_t)(s - *ret);
	*p = s;
	return true;
}

static bool is_word(const char *f, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(f, word, n) == 0;
}

/* Append the remaining fields of a line (at most max) to out. */
static int take_fields(struct k8s_strv *out, const char *p, const char *end, bool strip_dot,
		       size_t max)
{
	const char *f;
	size_t n, count = 0;
	int r;

	while (count < max && next_field(&p, end, &f, &n)) {
		count++;
		if (strip_dot && n > 0 && f[n - 1] == '.')
			n--;
		if (n == 0)
			continue;
		r = k8s_strv_push(out, f, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int kubelet_line(struct k8s_resolv_conf *rc, const char *line, size_t len,
			size_t lineno, struct k8s_buf *errors)
{
	const char *p = line, *end = line + len, *kw, *f;
	size_t n, fn;

	if (!next_field(&p, end, &kw, &n) || kw[0] == '#')
		return 0;
	if (is_word(kw, n, "nameserver")) {
		if (!next_field(&p, end, &f, &fn)) {
			k8s_buf_printf(errors, "%sline %zu: nameserver without an address",
				       errors->len ? "; " : "", lineno);
			return 0;
		}
		return k8s_strv_push(&rc->nameservers, f, fn);
	}
	if (is_word(kw, n, "search")) {
		k8s_strv_truncate(&rc->searches, 0);
		return take_fields(&rc->searches, p, end, true, SIZE_MAX);
	}
	if (is_word(kw, n, "options")) {
		k8s_strv_truncate(&rc->options, 0);
		return take_fields(&rc->options, p, end, false, SIZE_MAX);
	}
	return 0;
}

static int glibc_line(struct k8s_resolv_conf *rc, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *kw, *f;
	size_t n, fn;

	/* glibc matches keywords at the start of the line only. */
	if (!len || line[0] == '#' || line[0] == ';' || is_space(line[0]))
		return 0;
	if (!next_field(&p, end, &kw, &n))
		return 0;
	if (is_word(kw, n, "nameserver"))
		return next_field(&p, end, &f, &fn) ? k8s_strv_push(&rc->nameservers, f, fn) : 0;
	if (is_word(kw, n, "search") || is_word(kw, n, "domain")) {
		k8s_strv_truncate(&rc->searches, 0);
		/* "domain" takes one name. */
		return take_fields(&rc->searches, p, end, false,
				   is_word(kw, n, "domain") ? 1 : SIZE_MAX);
	}
	if (is_word(kw, n, "options"))
		return take_fields(&rc->options, p, end, false, SIZE_MAX);
	return 0;
}

int k8s_resolv_conf_parse(struct k8snet_ctx *ctx, const char *source, const char *text,
			  size_t len, bool glibc, struct k8s_resolv_conf *ret)
{
	struct k8s_buf errors = { 0 };
	size_t pos = 0, lineno = 0;
	int r = 0;

	*ret = (struct k8s_resolv_conf){ 0 };
	if (!glibc && len > KUBELET_MAX_RESOLV_CONF)
		return k8s_error(ctx, -EFBIG, "%s: larger than 10 MiB", source);
	while (pos < len && r >= 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		r = glibc ? glibc_line(ret, text + pos, n)
			  : kubelet_line(ret, text + pos, n, lineno, &errors);
		pos += n + 1;
	}
	if (r >= 0 && errors.len)
		r = k8s_error(ctx, -EINVAL, "%s: %s", source, errors.data);
	else if (r < 0 || errors.oom)
		r = k8s_error(ctx, -ENOMEM, "out of memory");
	k8s_buf_free(&errors);
	if (r < 0)
		k8s_resolv_conf_clear(ret);
	return r;
}

void k8s_resolv_conf_clear(struct k8s_resolv_conf *rc)
{
	k8s_strv_clear(&rc->nameservers);
	k8s_strv_clear(&rc->searches);
	k8s_strv_clear(&rc->options);
}
