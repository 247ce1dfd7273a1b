/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one address and prefix parser; the rules are in addr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/internal.h"

unsigned k8s_addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* A dotted quad by inet_pton()'s rules (four parts, no leading zeros),
 * without its cost: loading an IPAM state parses one per record. */
static int parse_v4(const char *s, uint8_t out[4])
{
	int part;

	for (part = 0; part < 4; part++) {
		const char *start = s;
		unsigned n = 0;

		while (*s >= '0' && *s <= '9' && s - start < 3)
			n = n * 10 + (unsigned)(*s++ - '0');
		if (s == start || n > 255 || (s - start > 1 && *start == '0'))
			return -1;
		out[part] = (uint8_t)n;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	return *s ? -1 : 0;
}

int k8s_addr_parse(const char *s, struct k8s_addr *ret)
{
	*ret = (struct k8s_addr){ 0 };
	if (!s)
		return -EINVAL;
	if (parse_v4(s, ret->a) == 0)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ret->a) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	ret->plen = k8s_addr_bits(ret->family);
	return 0;
}

/* Decimal, no sign, no whitespace, no leading zero, at most max. */
static int parse_length(const char *p, unsigned max, unsigned *ret)
{
	unsigned v = 0;
	size_t n = strlen(p);

	if (n == 0 || n > 3 || (p[0] == '0' && n > 1))
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void clear_host_bits(struct k8s_addr *a)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		int keep = (int)a->plen - (int)i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if (a->a[i] & ~mask)
			a->had_host_bits = true;
		a->a[i] &= mask;
	}
}

int k8s_prefix_parse(const char *s, unsigned flags, struct k8s_addr *ret)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash;
	unsigned plen;

	*ret = (struct k8s_addr){ 0 };
	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return flags & K8S_PREFIX_OPTIONAL ? k8s_addr_parse(s, ret) : -EINVAL;
	if ((size_t)(slash - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (k8s_addr_parse(host, ret) < 0 ||
	    parse_length(slash + 1, k8s_addr_bits(ret->family), &plen) < 0) {
		*ret = (struct k8s_addr){ 0 };
		return -EINVAL;
	}
	ret->plen = plen;
	if (flags & K8S_PREFIX_NETWORK)
		clear_host_bits(ret);
	return 0;
}

/* ---- The public face of the parser ---- */

/* The canonical text of a (for a prefix), handed out through ret. */
static int hand_out(struct k8snet_ctx *ctx, const struct k8s_addr *a, bool prefix, char **ret)
{
	char host[INET6_ADDRSTRLEN];

	if (!ret)
		return a->family;
	if (!inet_ntop(a->family, a->a, host, sizeof(host)))
		return k8s_error(ctx, -errno, "formatting an address: %m");
	if (prefix ? asprintf(ret, "%s/%u", host, a->plen) < 0 : !(*ret = strdup(host))) {
		*ret = NULL;
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	return a->family;
}

K8SNET_EXPORT int k8snet_addr_parse(struct k8snet_ctx *ctx, const char *text, char **ret)
{
	struct k8s_addr a;

	K8S_FORK_GUARD_CTX(ctx);
	if (ret)
		*ret = NULL;
	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, text);
	if (k8s_addr_parse(text, &a) < 0)
		return k8s_error(ctx, -EINVAL, "'%s': not an IPv4 or IPv6 address", text);
	return hand_out(ctx, &a, false, ret);
}

K8SNET_EXPORT int k8snet_cidr_parse(struct k8snet_ctx *ctx, const char *text, uint32_t flags,
				    char **ret)
{
	unsigned how = 0;
	struct k8s_addr a;

	K8S_FORK_GUARD_CTX(ctx);
	if (ret)
		*ret = NULL;
	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, text);
	K8S_CHECK_ARG(ctx, !(flags & ~(K8SNET_CIDR_F_NETWORK | K8SNET_CIDR_F_ADDRESS)));
	if (flags & K8SNET_CIDR_F_NETWORK)
		how |= K8S_PREFIX_NETWORK;
	if (flags & K8SNET_CIDR_F_ADDRESS)
		how |= K8S_PREFIX_OPTIONAL;
	if (k8s_prefix_parse(text, how, &a) < 0)
		return k8s_error(ctx, -EINVAL, "'%s': not a CIDR (ADDRESS/LENGTH, LENGTH in decimal "
				 "without sign or leading zero, at most 32 or 128)%s", text,
				 flags & K8SNET_CIDR_F_ADDRESS ? " or an address" : "");
	return hand_out(ctx, &a, true, ret);
}
