/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and CIDRs as 128-bit integers. */
#include <arpa/inet.h>
#include <string.h>

#include "core/addr.h"
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

static void ip_of(const struct k8s_addr *a, struct k8s_ip *ret)
{
	unsigned i, n = a->family == AF_INET ? 4 : 16;
	k8s_u128 v = 0;

	for (i = 0; i < n; i++)
		v = v << 8 | a->a[i];
	*ret = (struct k8s_ip){ v, a->family };
}

int k8s_ip_parse(const char *s, struct k8s_ip *ret)
{
	struct k8s_addr a;

	if (k8s_addr_parse(s, &a) < 0)
		return -EINVAL;
	ip_of(&a, ret);
	return 0;
}

/* A network (host bits cleared) or, with !network, an address with its
 * prefix length ("10.244.1.5/24"). */
int k8s_cidr_parse(const char *s, bool network, struct k8s_ip *ret, unsigned *ret_len)
{
	struct k8s_addr a;

	if (k8s_prefix_parse(s, network ? K8S_PREFIX_NETWORK : 0, &a) < 0)
		return -EINVAL;
	ip_of(&a, ret);
	*ret_len = a.plen;
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
