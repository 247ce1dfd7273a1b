/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses, prefixes, MACs and interface names: strict parsing and printing.
 * libnl's own parser accepts shorthands ("default", hex) we do not want. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/errno.h>

#include "core/addr.h"
#include "link/internal.h"

/* An address, or with want_prefix an interface address ("10.244.1.5/24",
 * host bits kept; a network's users take link_ip_network()). */
int link_ip_parse(const char *s, bool want_prefix, struct link_ip *ret)
{
	struct k8s_addr a;
	int r = want_prefix ? k8s_prefix_parse(s, 0, &a) : k8s_addr_parse(s, &a);

	*ret = (struct link_ip){ .family = a.family, .prefix = a.plen };
	memcpy(ret->bytes, a.a, sizeof(ret->bytes));
	return r;
}

char *link_ip_format(const struct link_ip *ip, bool with_prefix)
{
	char buf[INET6_ADDRSTRLEN];
	char *out;

	if (!inet_ntop(ip->family, ip->bytes, buf, sizeof(buf)))
		return NULL;
	if (!with_prefix)
		return strdup(buf);
	if (asprintf(&out, "%s/%u", buf, ip->prefix) < 0)
		return NULL;
	return out;
}

struct nl_addr *link_ip_nl(const struct link_ip *ip, bool with_prefix)
{
	struct nl_addr *a = nl_addr_build(ip->family, ip->bytes,
					  ip->family == AF_INET ? 4 : 16);

	if (a)
		nl_addr_set_prefixlen(a, with_prefix ? (int)ip->prefix
						     : (ip->family == AF_INET ? 32 : 128));
	return a;
}

bool link_ip_equal(const struct link_ip *a, const struct link_ip *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, len) == 0;
}

void link_ip_network(const struct link_ip *in, struct link_ip *out)
{
	unsigned bits = in->family == AF_INET ? 32 : 128, i;

	*out = *in;
	for (i = in->prefix; i < bits; i++)
		out->bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

int link_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	int i;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
			 &v[5], &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A multicast or all-zero MAC cannot name one interface. */
	if (mac[0] & 1)
		return -EINVAL;
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

/* A locally administered unicast MAC every node can compute for any other
 * node from its underlay address: 0a:58 + the IPv4 address, or 0a:59 + four
 * bytes of a hash of the IPv6 address. */
void link_mac_from_ip(const struct link_ip *ip, uint8_t mac[6])
{
	mac[0] = 0x0a;
	if (ip->family == AF_INET) {
		mac[1] = 0x58;
		memcpy(mac + 2, ip->bytes, 4);
	} else {
		uint32_t h = 2166136261u;
		int i;

		for (i = 0; i < 16; i++)
			h = (h ^ ip->bytes[i]) * 16777619u;
		mac[1] = 0x59;
		mac[2] = (uint8_t)(h >> 24);
		mac[3] = (uint8_t)(h >> 16);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
	}
}

char *link_mac_format(const uint8_t mac[6])
{
	char *out;

	if (asprintf(&out, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		     mac[4], mac[5]) < 0)
		return NULL;
	return out;
}

int link_ifname_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0, i;

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] <= ' ' || name[i] == 0x7f)
			return 0;
	return 1;
}

int link_nlerr(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_BUSY: return -EBUSY;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	default: return -EIO;
	}
}
