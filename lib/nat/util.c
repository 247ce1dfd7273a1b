/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers and address parsing for the Service NAT layer. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/hash.h"
#include "nat/internal.h"

int nat_ptrvec_push(struct ptrvec *pv, void *p)
{
	if (k8s_grow(&pv->v, &pv->cap, pv->n, sizeof(*pv->v)) < 0)
		return -ENOMEM;
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

static void nat_addr_of(const struct k8s_addr *a, struct nat_addr *ret)
{
	*ret = (struct nat_addr){ .family = a->family, .plen = (uint8_t)a->plen };
	memcpy(ret->a, a->a, sizeof(ret->a));
}

int nat_parse_addr(const char *s, struct nat_addr *ret)
{
	struct k8s_addr a;
	int r = k8s_addr_parse(s, &a);

	nat_addr_of(&a, ret);
	return r;
}

/* A network (host bits cleared, so equal CIDRs compare equal). */
int nat_parse_cidr(const char *s, struct nat_addr *ret)
{
	struct k8s_addr a;
	int r = k8s_prefix_parse(s, K8S_PREFIX_NETWORK, &a);

	nat_addr_of(&a, ret);
	return r;
}

void nat_addr_str(const struct nat_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void nat_hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *nat_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "sctp";
}
