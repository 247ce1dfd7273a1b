/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Labels, label selectors (API form and kubectl text), and the name and
 * address checks the API server applies. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "core/addr.h"
#include "policy/internal.h"

void pl_labels_clear(struct pl_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static size_t labels_find(const struct pl_labels *l, const char *key, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int pl_labels_set(struct pl_labels *l, const char *key, const char *val)
{
	bool found;
	size_t i = labels_find(l, key, &found);
	char *v = strdup(val), *k;
	struct pl_label *nv;

	if (!v)
		return -ENOMEM;
	if (found) {
		free(l->v[i].val);
		l->v[i].val = v;
		return 0;
	}
	k = strdup(key);
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!k || !nv) {
		free(k);
		free(v);
		if (nv)
			l->v = nv;
		return -ENOMEM;
	}
	l->v = nv;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*nv));
	l->v[i] = (struct pl_label){ k, v };
	l->n++;
	return 0;
}

const char *pl_labels_get(const struct pl_labels *l, const char *key)
{
	bool found;
	size_t i = labels_find(l, key, &found);

	return found ? l->v[i].val : NULL;
}

int pl_labels_copy(struct pl_labels *dst, const struct pl_labels *src)
{
	size_t i;
	int r;

	*dst = (struct pl_labels){ 0 };
	for (i = 0; i < src->n; i++) {
		r = pl_labels_set(dst, src->v[i].key, src->v[i].val);
		if (r < 0) {
			pl_labels_clear(dst);
			return r;
		}
	}
	return 0;
}

/* ---- names ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 */
static const char *check_qualified_name_part(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "name part must be non-empty";
	if (n > 63)
		return "name part must be no more than 63 characters";
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return "name part must start and end with an alphanumeric character";
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return "name part must consist of alphanumeric characters, '-', '_' or '.'";
	return NULL;
}

const char *pl_check_dns_subdomain(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return "must be a DNS-1123 subdomain of 1..253 characters";
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';

		if (!ok)
			return "must be a lowercase DNS-1123 subdomain (a-z, 0-9, '-', '.')";
		if ((c == '-' || c == '.') && (i == 0 || i == n - 1 || s[i - 1] == '.' ||
					      (c == '.' && s[i - 1] == '-')))
			return "must be a lowercase DNS-1123 subdomain (a-z, 0-9, '-', '.')";
	}
	return NULL;
}

const char *pl_check_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return "must be a DNS-1123 label of 1..63 characters";
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') ||
		    (c == '-' && (i == 0 || i == n - 1)))
			return "must be a lowercase DNS-1123 label (a-z, 0-9, '-')";
	}
	return NULL;
}

const char *pl_check_label_key(const char *key)
{
	const char *slash = strchr(key, '/');

	if (slash) {
		char *prefix = strndup(key, (size_t)(slash - key));
		const char *err = prefix ? pl_check_dns_subdomain(prefix) : "out of memory";

		free(prefix);
		if (err)
			return "prefix must be a DNS-1123 subdomain";
		key = slash + 1;
	}
	return check_qualified_name_part(key, strlen(key));
}

const char *pl_check_label_value(const char *val)
{
	size_t n = strlen(val);

	if (n == 0)
		return NULL;
	return check_qualified_name_part(val, n) ? "a label value must be empty or 1..63 "
		"alphanumeric characters, '-', '_' or '.', starting and ending with an "
		"alphanumeric character" : NULL;
}

/* IANA_SVC_NAME: 1..15 of [a-z0-9-], a letter somewhere, no "--", no '-' at the ends */
const char *pl_check_port_name(const char *s)
{
	size_t i, n = strlen(s);
	bool letter = false;

	if (n == 0 || n > 15)
		return "must be no more than 15 characters";
	for (i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return "must contain only lowercase alphanumeric characters and '-'";
	}
	if (!letter)
		return "must contain at least one letter";
	if (s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return "must not begin or end with '-' or contain '--'";
	return NULL;
}

int pl_proto_parse(const char *name)
{
	if (strcmp(name, "TCP") == 0)
		return PL_TCP;
	if (strcmp(name, "UDP") == 0)
		return PL_UDP;
	if (strcmp(name, "SCTP") == 0)
		return PL_SCTP;
	return -1;
}

const char *pl_proto_name(uint8_t proto)
{
	return proto == PL_TCP ? "TCP" : proto == PL_UDP ? "UDP" : proto == PL_SCTP ? "SCTP" : "?";
}

/* ---- "a=b,c=d" ---- */

int pl_labels_parse(struct k8snet_ctx *ctx, const char *text, struct pl_labels *ret)
{
	char *copy = strdup(text ? text : ""), *save = NULL, *tok;
	int r = 0;

	*ret = (struct pl_labels){ 0 };
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && r >= 0; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *err;

		while (isspace((unsigned char)*tok))
			tok++;
		if (!eq) {
			r = k8s_error(ctx, -EINVAL, "labels: '%s': expected key=value", tok);
			break;
		}
		*eq = '\0';
		err = pl_check_label_key(tok);
		if (!err)
			err = pl_check_label_value(eq + 1);
		if (err)
			r = k8s_error(ctx, -EINVAL, "labels: %s: %s", tok, err);
		else if (pl_labels_get(ret, tok))
			r = k8s_error(ctx, -EINVAL, "labels: %s: duplicate key", tok);
		else
			r = pl_labels_set(ret, tok, eq + 1);
	}
	free(copy);
	if (r < 0)
		pl_labels_clear(ret);
	return r;
}

/* ---- selectors ---- */

void pl_selector_clear(struct pl_selector *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		free(s->r[i].key);
		for (j = 0; j < s->r[i].nvals; j++)
			free(s->r[i].vals[j]);
		free(s->r[i].vals);
	}
	free(s->r);
	*s = (struct pl_selector){ 0 };
}

int pl_selector_add(struct pl_selector *s, const char *key, enum pl_op op,
		    char *const *vals, size_t nvals)
{
	struct pl_req *nr = realloc(s->r, (s->n + 1) * sizeof(*nr)), *q;
	size_t i;

	if (!nr)
		return -ENOMEM;
	s->r = nr;
	q = &s->r[s->n];
	*q = (struct pl_req){ .key = strdup(key), .op = op };
	q->vals = calloc(nvals ? nvals : 1, sizeof(char *));
	if (!q->key || !q->vals)
		goto oom;
	s->n++;
	for (i = 0; i < nvals; i++) {
		q->vals[i] = strdup(vals[i]);
		if (!q->vals[i])
			return -ENOMEM;  /* freed by pl_selector_clear() */
		q->nvals++;
	}
	return 0;
oom:
	free(q->key);
	free(q->vals);
	return -ENOMEM;
}

static bool req_matches(const struct pl_req *q, const struct pl_labels *l)
{
	const char *v = pl_labels_get(l, q->key);
	size_t i;

	switch (q->op) {
	case PL_EXISTS:
		return v != NULL;
	case PL_NOTEXISTS:
		return v == NULL;
	case PL_IN:
	case PL_NOTIN:
		for (i = 0; v && i < q->nvals; i++)
			if (strcmp(q->vals[i], v) == 0)
				return q->op == PL_IN;
		return q->op == PL_NOTIN;
	}
	return false;
}

bool pl_selector_matches(const struct pl_selector *s, const struct pl_labels *l)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!req_matches(&s->r[i], l))
			return false;
	return true;
}

int pl_selector_copy(struct pl_selector *dst, const struct pl_selector *src)
{
	size_t i;
	int r;

	*dst = (struct pl_selector){ 0 };
	for (i = 0; i < src->n; i++) {
		r = pl_selector_add(dst, src->r[i].key, src->r[i].op, src->r[i].vals,
				    src->r[i].nvals);
		if (r < 0) {
			pl_selector_clear(dst);
			return r;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_req_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each requirement as kubectl text, sorted, so equal selectors print alike. */
char *pl_selector_str(const struct pl_selector *s)
{
	char **parts = calloc(s->n ? s->n : 1, sizeof(char *)), *buf = NULL;
	size_t i, j, size = 0;
	FILE *f;

	if (!parts)
		return NULL;
	for (i = 0; i < s->n; i++) {
		const struct pl_req *q = &s->r[i];
		char **vals = calloc(q->nvals ? q->nvals : 1, sizeof(char *));
		char *p = NULL;
		size_t psz = 0;
		FILE *pf = open_memstream(&p, &psz);

		if (!vals || !pf) {
			free(vals);
			if (pf)
				fclose(pf);
			free(p);
			goto out;
		}
		memcpy(vals, q->vals, q->nvals * sizeof(char *));
		qsort(vals, q->nvals, sizeof(char *), cmp_str);
		if (q->op == PL_EXISTS)
			fprintf(pf, "%s", q->key);
		else if (q->op == PL_NOTEXISTS)
			fprintf(pf, "!%s", q->key);
		else if (q->nvals == 1)
			fprintf(pf, "%s%s%s", q->key, q->op == PL_IN ? "=" : "!=", vals[0]);
		else {
			fprintf(pf, "%s %s (", q->key, q->op == PL_IN ? "in" : "notin");
			for (j = 0; j < q->nvals; j++)
				fprintf(pf, "%s%s", j ? "," : "", vals[j]);
			fputc(')', pf);
		}
		fclose(pf);
		free(vals);
		parts[i] = p;
	}
	qsort(parts, s->n, sizeof(char *), cmp_req_text);
	f = open_memstream(&buf, &size);
	if (f) {
		for (i = 0; i < s->n; i++)
			fprintf(f, "%s%s", i ? "," : "", parts[i]);
		fclose(f);
	}
out:
	for (i = 0; i < s->n; i++)
		free(parts[i]);
	free(parts);
	return buf;
}

/* ---- kubectl selector text ---- */

struct lexer {
	struct k8snet_ctx *ctx;
	const char *text, *p;
};

static void skip_ws(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

static int lex_error(struct lexer *lx, const char *what)
{
	return k8s_error(lx->ctx, -EINVAL, "selector \"%s\": at offset %zu: %s", lx->text,
			 (size_t)(lx->p - lx->text), what);
}

static bool is_word_char(char c)
{
	return c && !strchr(" \t,=!()<>", c);
}

/* A key or value; NULL when empty. */
static char *lex_word(struct lexer *lx)
{
	const char *start;

	skip_ws(lx);
	start = lx->p;
	while (is_word_char(*lx->p))
		lx->p++;
	return lx->p > start ? strndup(start, (size_t)(lx->p - start)) : NULL;
}

static bool lex_keyword(struct lexer *lx, const char *kw)
{
	size_t n = strlen(kw);

	skip_ws(lx);
	if (strncmp(lx->p, kw, n) == 0 && !is_word_char(lx->p[n])) {
		lx->p += n;
		return true;
	}
	return false;
}

static int parse_value_list(struct lexer *lx, char ***vals, size_t *nvals)
{
	skip_ws(lx);
	if (*lx->p != '(')
		return lex_error(lx, "expected '('");
	lx->p++;
	for (;;) {
		char *v = lex_word(lx), **nv;
		const char *err = v ? pl_check_label_value(v) : NULL;

		if (err) {
			free(v);
			return lex_error(lx, err);
		}
		nv = realloc(*vals, (*nvals + 1) * sizeof(char *));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		*vals = nv;
		(*vals)[(*nvals)++] = v ? v : strdup("");
		if (!(*vals)[*nvals - 1])
			return -ENOMEM;
		skip_ws(lx);
		if (*lx->p == ',') {
			lx->p++;
			continue;
		}
		if (*lx->p == ')') {
			lx->p++;
			break;
		}
		return lex_error(lx, "expected ',' or ')'");
	}
	/* "in ()" and "in (,)" leave only empty strings: the API server refuses
	 * an empty set; an explicit empty value is a value. */
	if (*nvals == 1 && !(*vals)[0][0])
		return lex_error(lx, "values for 'in' and 'notin' must not be empty");
	return 0;
}

static int parse_requirement(struct lexer *lx, struct pl_selector *sel)
{
	char *key = NULL, *val = NULL, **vals = NULL;
	size_t nvals = 0, i;
	bool neg = false, is_in;
	enum pl_op op;
	const char *err;
	int r;

	skip_ws(lx);
	if (*lx->p == '!') {
		neg = true;
		lx->p++;
	}
	key = lex_word(lx);
	if (!key)
		return lex_error(lx, "expected a label key");
	err = pl_check_label_key(key);
	if (err) {
		r = lex_error(lx, err);
		goto out;
	}
	skip_ws(lx);
	if (neg || !*lx->p || *lx->p == ',') {
		op = neg ? PL_NOTEXISTS : PL_EXISTS;
	} else if (strncmp(lx->p, "!=", 2) == 0 || *lx->p == '=') {
		op = *lx->p == '!' ? PL_NOTIN : PL_IN;
		lx->p += *lx->p == '!' || lx->p[1] == '=' ? 2 : 1;
		val = lex_word(lx);
		err = val ? pl_check_label_value(val) : NULL;
		if (err) {
			r = lex_error(lx, err);
			goto out;
		}
		if (!val && !(val = strdup(""))) {
			r = -ENOMEM;
			goto out;
		}
		vals = &val;
		nvals = 1;
	} else if ((is_in = lex_keyword(lx, "in")) || lex_keyword(lx, "notin")) {
		op = is_in ? PL_IN : PL_NOTIN;
		r = parse_value_list(lx, &vals, &nvals);
		if (r < 0)
			goto out;
	} else {
		r = lex_error(lx, "expected '=', '==', '!=', 'in', 'notin', ',' or the end");
		goto out;
	}
	r = pl_selector_add(sel, key, op, vals, nvals);
out:
	if (vals != &val) {
		for (i = 0; i < nvals; i++)
			free(vals[i]);
		free(vals);
	}
	free(val);
	free(key);
	return r;
}

int pl_selector_parse(struct k8snet_ctx *ctx, const char *text, struct pl_selector *ret)
{
	struct lexer lx = { ctx, text, text };
	int r;

	*ret = (struct pl_selector){ 0 };
	skip_ws(&lx);
	if (!*lx.p)
		return 0;
	for (;;) {
		r = parse_requirement(&lx, ret);
		if (r < 0)
			break;
		skip_ws(&lx);
		if (!*lx.p)
			return 0;
		if (*lx.p != ',') {
			r = lex_error(&lx, "expected ',' or the end");
			break;
		}
		lx.p++;
	}
	pl_selector_clear(ret);
	return r;
}

/* ---- addresses ---- */

int pl_addr_parse(const char *text, struct pl_addr *ret)
{
	struct k8s_addr a;
	int r = k8s_addr_parse(text, &a);

	*ret = (struct pl_addr){ .family = a.family };
	memcpy(ret->a, a.a, sizeof(ret->a));
	return r;
}

/* A network: host bits cleared (*ret_was_masked: there were none). */
int pl_cidr_parse(const char *text, struct pl_cidr *ret, bool *ret_was_masked)
{
	struct k8s_addr a;
	int r = k8s_prefix_parse(text, K8S_PREFIX_NETWORK, &a);

	*ret = (struct pl_cidr){ .addr.family = a.family, .prefix = (int)a.plen };
	memcpy(ret->addr.a, a.a, sizeof(ret->addr.a));
	if (ret_was_masked)
		*ret_was_masked = !a.had_host_bits;
	return r;
}

bool pl_cidr_contains(const struct pl_cidr *c, const struct pl_addr *a)
{
	int i;

	if (c->addr.family != a->family)
		return false;
	for (i = 0; i < 16; i++) {
		int keep = c->prefix - i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if ((a->a[i] & mask) != c->addr.a[i])
			return false;
	}
	return true;
}

char *pl_addr_str(const struct pl_addr *a, char buf[static 64])
{
	if (!inet_ntop(a->family, a->a, buf, 64))
		strcpy(buf, "?");
	return buf;
}

char *pl_cidr_str(const struct pl_cidr *c, char buf[static 64])
{
	size_t n;

	pl_addr_str(&c->addr, buf);
	n = strlen(buf);
	snprintf(buf + n, 64 - n, "/%d", c->prefix);
	return buf;
}
