/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The link layer's internal model, shared by its files. Never installed. */
#ifndef K8SNET_LINK_INTERNAL_H
#define K8SNET_LINK_INTERNAL_H

#include <netinet/in.h>

#include <k8snet/link.h>
#include "core/internal.h"

struct nl_addr;
struct nl_sock;

/* An IP address or prefix, parsed strictly (no libnl shorthands). */
struct link_ip {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
	unsigned prefix;          /* 32/128 for a plain address */
};

struct link_pod_addr {
	struct link_ip addr;
	struct link_ip gw;        /* family 0: none */
};

struct link_pod_route {
	struct link_ip dst;
	struct link_ip gw;        /* family 0: the family's gateway, or a link route */
};

struct k8snet_link_pod {
	char *netns_path;
	char *container_id;
	char *ifname;
	char *bridge;
	char *mac;
	int netns_fd;             /* -1 unless set_netns_fd() */
	uint32_t mtu;
	uint32_t flags;
	struct link_pod_addr *addrs;
	size_t n_addrs;
	struct link_pod_route *routes;
	size_t n_routes;
	char *error;              /* the last failed call's message, or NULL */
	pid_t pid;                /* the process that made it (the fork rule) */
};

struct link_iface {
	char *name;
	char *mac;
	char *sandbox;
	int mtu;
};

struct link_addr_result {
	char *address;
	char *gateway;
	int iface;
};

struct link_route_result {
	char *dst;
	char *gateway;
};

struct k8snet_link_result {
	struct link_iface *ifaces;
	size_t n_ifaces;
	struct link_addr_result *addrs;
	size_t n_addrs;
	struct link_route_result *routes;
	size_t n_routes;
	pid_t pid;                /* the process that made it (the fork rule) */
};

/* ip.c: parsing and printing */
int link_ip_parse(const char *s, bool want_prefix, struct link_ip *ret);
/* "a.b.c.d" or "a.b.c.d/p" (with_prefix); returns a malloc'd string. */
char *link_ip_format(const struct link_ip *ip, bool with_prefix);
struct nl_addr *link_ip_nl(const struct link_ip *ip, bool with_prefix);
bool link_ip_equal(const struct link_ip *a, const struct link_ip *b);
/* The network address of a prefix (host bits cleared). */
void link_ip_network(const struct link_ip *in, struct link_ip *out);
int link_mac_parse(const char *s, uint8_t mac[6]);
void link_mac_from_ip(const struct link_ip *ip, uint8_t mac[6]);
char *link_mac_format(const uint8_t mac[6]);
int link_ifname_valid(const char *name);
/* libnl error -> negative errno. */
int link_nlerr(int nlerr);

/* plan.c: the pod's expected state as a result (before kernel I/O). */
const char *link_pod_ifname(const struct k8snet_link_pod *pod);
char *link_host_ifname(const char *container_id, const char *ifname);
/* A stable MAC for (container id, ifname); which: 'h' host end, 'p' pod end. */
void link_mac_from_key(const char *container_id, const char *ifname, char which, uint8_t mac[6]);
int link_pod_validate(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod);
const struct link_ip *link_pod_gateway(const struct k8snet_link_pod *pod, int family);

/* The routes attach adds, in order: each family's default route through its
 * gateway, then the extra routes (through their gateway, their family's, or
 * none).  A route to a destination already planned is dropped, so an IPAM's
 * explicit default route next to its gateway is added once.  out holds
 * pod->n_routes + 2 entries; returns how many were planned. */
struct link_route_plan {
	struct link_ip dst;
	const struct link_ip *gw;     /* NULL: a link route */
};
size_t link_pod_plan_routes(const struct k8snet_link_pod *pod, struct link_route_plan *out);
int link_result_plan(const struct k8snet_link_pod *pod, const char *bridge_name,
		     struct k8snet_link_result **ret);
int link_result_set_iface(struct k8snet_link_result *res, size_t i, const char *mac, int mtu);

/* Enter a namespace just long enough to open an rtnetlink socket there. */
int link_rtnl_open_in(struct k8snet_ctx *ctx, int netns_fd, struct nl_sock **ret);
/* The pod's namespace as a fresh descriptor (from the path or the fd). */
int link_pod_open_netns(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod);

#endif
