/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers and address parsing for the Service NAT layer. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

int nat_ptrvec_push(struct ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 8;
		void **v = realloc(pv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

void nat_ptrvec_free(struct ptrvec *pv, void (*fn)(void *))
{
	size_t i;

	for (i = 0; fn && i < pv->n; i++)
		fn(pv->v[i]);
	free(pv->v);
	*pv = (struct ptrvec){ 0 };
}

/* FNV-1a: short keys, no adversary that could not simply send more services. */
static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct hmap_node **hmap_slot(const struct hmap *m, const char *key)
{
	struct hmap_node **pn;

	if (!m->nb)
		return NULL;
	for (pn = &m->b[hash_str(key) % m->nb]; *pn; pn = &(*pn)->next)
		if (strcmp((*pn)->key, key) == 0)
			break;
	return pn;
}

void *nat_hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_node **pn = hmap_slot(m, key);

	return pn && *pn ? (*pn)->val : NULL;
}

static int hmap_grow(struct hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64, i;
	struct hmap_node **b = calloc(nb, sizeof(*b)), *n, *next;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < m->nb; i++)
		for (n = m->b[i]; n; n = next) {
			size_t h = hash_str(n->key) % nb;

			next = n->next;
			n->next = b[h];
			b[h] = n;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int nat_hmap_put(struct hmap *m, const char *key, void *val)
{
	struct hmap_node **pn, *n;

	if (m->n >= m->nb && hmap_grow(m) < 0)
		return -ENOMEM;
	pn = hmap_slot(m, key);
	if (*pn) {
		(*pn)->val = val;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->key = strdup(key))) {
		free(n);
		return -ENOMEM;
	}
	n->val = val;
	*pn = n;
	m->n++;
	return 0;
}

void *nat_hmap_del(struct hmap *m, const char *key)
{
	struct hmap_node **pn = hmap_slot(m, key), *n;
	void *val;

	if (!pn || !*pn)
		return NULL;
	n = *pn;
	*pn = n->next;
	val = n->val;
	free(n->key);
	free(n);
	m->n--;
	return val;
}

void nat_hmap_free(struct hmap *m, void (*fn)(void *))
{
	struct hmap_node *n, *next;
	size_t i;

	for (i = 0; i < m->nb; i++)
		for (n = m->b[i]; n; n = next) {
			next = n->next;
			if (fn)
				fn(n->val);
			free(n->key);
			free(n);
		}
	free(m->b);
	*m = (struct hmap){ 0 };
}

void nat_sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap : 256) * 2 + (size_t)n;
		char *s = realloc(b->s, cap);

		if (!s) {
			b->err = -ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

char *nat_sbuf_steal(struct sbuf *b)
{
	char *s = b->s;

	if (b->err || !s) {
		free(s);
		s = b->err ? NULL : strdup("");
	}
	*b = (struct sbuf){ 0 };
	return s;
}

int nat_parse_addr(const char *s, struct nat_addr *ret)
{
	*ret = (struct nat_addr){ 0 };
	if (inet_pton(AF_INET, s, ret->a) == 1) {
		ret->family = AF_INET;
		ret->plen = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ret->a) == 1) {
		ret->family = AF_INET6;
		ret->plen = 128;
		return 0;
	}
	return -EINVAL;
}

int nat_parse_cidr(const char *s, struct nat_addr *ret)
{
	const char *slash = strchr(s, '/');
	char *ip, *end;
	long plen;
	int r;

	if (!slash)
		return nat_parse_addr(s, ret);
	ip = strndup(s, (size_t)(slash - s));
	if (!ip)
		return -ENOMEM;
	r = nat_parse_addr(ip, ret);
	free(ip);
	if (r < 0)
		return r;
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || plen < 0 ||
	    plen > (ret->family == AF_INET ? 32 : 128))
		return -EINVAL;
	ret->plen = (uint8_t)plen;
	/* Normalise: clear host bits so that equal CIDRs compare equal. */
	for (int i = 0; i < 16; i++) {
		int bits = (int)plen - i * 8;

		if (bits <= 0)
			ret->a[i] = 0;
		else if (bits < 8)
			ret->a[i] &= (uint8_t)(0xff00 >> bits);
	}
	return 0;
}

void nat_addr_str(const struct nat_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}
