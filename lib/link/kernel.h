/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel I/O helpers shared by the link layer's files. */
#ifndef K8SNET_LINK_KERNEL_H
#define K8SNET_LINK_KERNEL_H

#include "link/internal.h"

/* The bridge's ifindex and MTU; -ENODEV when missing, -EINVAL when not a bridge. */
int link_bridge_lookup(struct k8snet_ctx *ctx, struct nl_sock *sk, const char *name,
		       int *ret_ifindex, uint32_t *ret_mtu, char *ret_mac, size_t mac_size);
/* Add (RTM_NEWROUTE) or delete (RTM_DELROUTE) a main-table route:
 * dst via gw (NULL: a link route) dev ifindex (0: let the kernel pick). */
int link_route_change(struct nl_sock *sk, int cmd, int nlflags, const struct link_ip *dst,
		      const struct link_ip *gw, int ifindex, uint32_t nhflags);
/* An nl_addr holds the same address as ip (prefix ignored). */
bool link_nl_equal(struct nl_addr *a, const struct link_ip *ip);

#endif
