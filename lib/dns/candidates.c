/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names glibc's res_search() tries, in order (resolv/res_query.c):
 *  - a name with a trailing dot: once, as is;
 *  - at least ndots dots: as is first, then each search domain;
 *  - fewer: each search domain, then as is last (unless the search list
 *    held the root "." which already tried it, or no-tld-query forbids a
 *    single-label name as is).
 * ndots comes from "options ndots:N" (default 1, capped at 15); the search
 * list from the last "search" or "domain" line.  Not modelled: LOCALDOMAIN and
 * RES_OPTIONS in the environment, and the domain of gethostname() that glibc
 * uses when the file has no search or domain line.
 */
#include <string.h>

#include "dns/dns-internal.h"

#define GLIBC_MAX_NDOTS 15

struct resolver {
	unsigned ndots;
	bool no_tld_query;
};

static void read_options(const struct k8s_strv *options, struct resolver *res)
{
	size_t i;

	res->ndots = 1;
	res->no_tld_query = false;
	for (i = 0; i < options->n; i++) {
		const char *o = options->v[i];

		if (strncmp(o, "ndots:", 6) == 0) {
			/* glibc's atoi(): leading digits, junk ignored. */
			unsigned long n = strtoul(o + 6, NULL, 10);

			res->ndots = n > GLIBC_MAX_NDOTS ? GLIBC_MAX_NDOTS : (unsigned)n;
		} else if (strcmp(o, "no-tld-query") == 0 || strcmp(o, "no_tld_query") == 0) {
			res->no_tld_query = true;
		}
	}
}

static void add(struct k8s_buf *out, int *count, const char *name, size_t n, const char *domain)
{
	k8s_buf_add(out, name, n);
	if (domain && *domain) {
		size_t dl = strlen(domain);

		k8s_buf_putc(out, '.');
		k8s_buf_add(out, domain, dl && domain[dl - 1] == '.' ? dl - 1 : dl);
	}
	k8s_buf_putc(out, '\n');
	(*count)++;
}

static int expand(const char *name, const struct k8s_strv *search, const struct resolver *res,
		  struct k8s_buf *out)
{
	size_t len = strlen(name), i, dots = 0;
	bool trailing_dot = len > 1 && name[len - 1] == '.', tried_as_is = false, root = false;
	int count = 0;

	for (i = 0; i < len; i++)
		dots += name[i] == '.';
	if (trailing_dot) {
		add(out, &count, name, len - 1, NULL);
		return count;
	}
	if (dots >= res->ndots) {
		add(out, &count, name, len, NULL);
		tried_as_is = true;
	}
	/* RES_DEFNAMES and RES_DNSRCH are on by default. */
	for (i = 0; i < search->n; i++) {
		const char *d = search->v[i];

		if (d[0] == '.')
			d++;
		if (!*d)
			root = true;
		add(out, &count, name, len, d);
	}
	if ((dots || !res->no_tld_query) && !tried_as_is && !root)
		add(out, &count, name, len, NULL);
	return count;
}

K8SNET_EXPORT int k8snet_dns_candidates(struct k8snet_ctx *ctx, const char *name,
					const char *resolv_conf, char **ret)
{
	struct k8s_resolv_conf rc = { 0 };
	struct resolver res;
	struct k8s_buf out = { 0 };
	int count, r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && name && ret);
	if (!*name || strcmp(name, ".") == 0 || strstr(name, "..") || name[0] == '.' ||
	    strpbrk(name, " \t\r\n"))
		return k8s_error(ctx, -EINVAL, "name: '%s' is not a DNS name", name);
	if (resolv_conf) {
		r = k8s_resolv_conf_parse(ctx, "resolv.conf", resolv_conf, strlen(resolv_conf), true, &rc);
		if (r < 0)
			return r;
	}
	read_options(&rc.options, &res);
	k8s_buf_puts(&out, "");
	count = expand(name, &rc.searches, &res, &out);
	k8s_resolv_conf_clear(&rc);
	r = k8s_buf_take(&out, ret);
	return r < 0 ? k8s_error(ctx, r, "out of memory") : count;
}
