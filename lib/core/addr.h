/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one address and prefix parser every layer uses (internal).
 *
 * The rules, the same wherever an address or a CIDR is read:
 *  - an address is what inet_pton() takes: a dotted quad without leading
 *    zeros, or IPv6 text (an IPv4-mapped form is IPv6); no whitespace, no
 *    zone ("%eth0"), nothing before or after;
 *  - a prefix is ADDRESS/LENGTH, LENGTH in decimal with no sign, no
 *    whitespace and no leading zero ("0" alone is fine), at most 32 or 128;
 *  - where a network is meant (a pod or service CIDR, an ipBlock, a route's
 *    destination, an IPAM subnet) host bits are allowed and cleared, as the
 *    API server (ParseCIDRSloppy) and host-local (net.ParseCIDR) do: the
 *    caller learns that they were there and may say so;
 *  - where an interface address is meant ("10.244.1.5/24") they are kept.
 */
#ifndef K8SNET_CORE_ADDR_H
#define K8SNET_CORE_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct k8s_addr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t a[16];          /* network order; IPv4 in the first 4 bytes */
	unsigned plen;          /* 32 or 128 for a bare address */
	bool had_host_bits;     /* a network's host bits were set (and cleared) */
};

enum {
	K8S_PREFIX_NETWORK = 1u << 0,   /* clear host bits (else keep them) */
	K8S_PREFIX_OPTIONAL = 1u << 1,  /* a bare address is a full-length prefix */
};

/* 0, or -EINVAL. */
int k8s_addr_parse(const char *s, struct k8s_addr *ret);
/* 0, or -EINVAL; flags are K8S_PREFIX_*. */
int k8s_prefix_parse(const char *s, unsigned flags, struct k8s_addr *ret);
unsigned k8s_addr_bits(int family);

#endif
