/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and CIDRs as 128-bit integers. */
#include <arpa/inet.h>
#include <string.h>

#include "ipam/ipam.h"

unsigned k8s_ip_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

k8s_u128 k8s_host_mask(int family, unsigned len)
{
	unsigned host = k8s_ip_bits(family) - len;

	return host >= 128 ? ~(k8s_u128)0 : ((k8s_u128)1 << host) - 1;
}

/* Dotted quad, as strict as inet_pton() (no leading zeros), without its
 * cost: loading a state file parses one address per record. */
static int parse_v4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;
	int part;

	for (part = 0; part < 4; part++) {
		const char *start = s;
		unsigned n = 0;

		while (*s >= '0' && *s <= '9' && s - start < 3)
			n = n * 10 + (unsigned)(*s++ - '0');
		if (s == start || n > 255 || (s - start > 1 && *start == '0'))
			return -1;
		v = v << 8 | n;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*ret = v;
	return 0;
}

int k8s_ip_parse(const char *s, struct k8s_ip *ret)
{
	unsigned char b[16];
	k8s_u128 v = 0;
	uint32_t v4;
	int i;

	if (!s)
		return -EINVAL;
	if (parse_v4(s, &v4) == 0) {
		*ret = (struct k8s_ip){ v4, AF_INET };
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		for (i = 0; i < 16; i++)
			v = v << 8 | b[i];
		*ret = (struct k8s_ip){ v, AF_INET6 };
		return 0;
	}
	return -EINVAL;
}

int k8s_cidr_parse(const char *s, bool allow_host_bits, struct k8s_ip *ret, unsigned *ret_len)
{
	char addr[K8S_IP_STRLEN];
	const char *slash, *p;
	unsigned len = 0;
	struct k8s_ip ip;

	if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (k8s_ip_parse(addr, &ip) < 0)
		return -EINVAL;
	/* Decimal digits only, no sign, no leading zero, at most 3 of them. */
	p = slash + 1;
	if (!*p || strlen(p) > 3 || (p[0] == '0' && p[1]))
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
	}
	if (len > k8s_ip_bits(ip.family))
		return -EINVAL;
	if (!allow_host_bits && (ip.v & k8s_host_mask(ip.family, len)))
		return -EINVAL;
	*ret = ip;
	*ret_len = len;
	return 0;
}

void k8s_ip_format(const struct k8s_ip *ip, char buf[K8S_IP_STRLEN])
{
	unsigned char b[16];
	int i, n = ip->family == AF_INET ? 4 : 16;
	k8s_u128 v = ip->v;

	for (i = n - 1; i >= 0; i--) {
		b[i] = (unsigned char)v;
		v >>= 8;
	}
	if (!inet_ntop(ip->family, b, buf, K8S_IP_STRLEN))
		buf[0] = '\0';
}
