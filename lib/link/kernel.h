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
struct nl_msg;
int link_route_build(int cmd, int nlflags, const struct link_ip *dst, const struct link_ip *gw,
		     int ifindex, uint32_t nhflags, struct nl_msg **ret);
/* Large receive buffer, no MSG_PEEK. */
void link_rtnl_tune(struct nl_sock *sk);

/* Pipelined requests: send them all, then read their acks in order.  The
 * kernel handles one socket's requests in order, so a later request may
 * depend on an earlier one (a route on an address added just before). */
struct link_batch {
	struct nl_sock *sk;
	size_t sent;
	size_t failed;            /* index of the first failed request */
	int err;                  /* its libnl error, 0 when none */
	/* Optional: sees every reply that is not an ack (echoes, dumps). */
	int (*valid)(struct nl_msg *msg, void *arg);
	void *arg;
};
/* Send msg (taken, freed); build_err < 0 records a failed build instead. */
void link_batch_add(struct link_batch *b, int build_err, struct nl_msg *msg);
int link_batch_finish(struct link_batch *b, size_t *failed);

/* An nl_addr holds the same address as ip (prefix ignored). */
bool link_nl_equal(struct nl_addr *a, const struct link_ip *ip);

#endif
