/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet pod plumbing: the node's bridge, one veth pair per pod interface
 * (the container end created directly inside the pod's namespace), addresses
 * and routes in the pod, and node-to-node routing (host-gw and VXLAN).
 *
 * Every function acts in the network namespace the context is bound to (the
 * "node" namespace); the pod side is reached by entering the pod namespace
 * only long enough to open a netlink socket there.  No function leaves the
 * calling thread in another namespace.  Everything goes through rtnetlink.
 */
#ifndef K8SNET_LINK_H
#define K8SNET_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The bridge ------------------------------------------------------- */

/* Create the bridge NAME if missing (refusing a link of another kind with
 * that name), set MTU when non-zero, add each address in ADDRESSES (n CIDR
 * strings, e.g. "10.244.1.1/24", "fd00:10:244:1::1/64") unless present, and
 * bring it up.  Returns 1 when it created the bridge, 0 when it existed. */
K8SNET_EXPORT int k8snet_link_bridge_ensure(struct k8snet_ctx *ctx, const char *name,
					    uint32_t mtu, const char *const *addresses,
					    size_t n_addresses);
/* net.ipv4.conf.NAME.route_localnet (on 1 or 0) on the link NAME only, as
 * the reference portmap plugin sets it on a bridge with published ports:
 * connections the node makes to 127.0.0.1 may then be routed to a pod
 * (k8snet/hostport.h masquerades them).  Returns 1 when it changed the
 * setting, 0 when it was already so; -ENODEV when there is no such link. */
K8SNET_EXPORT int k8snet_link_set_route_localnet(struct k8snet_ctx *ctx, const char *name,
						 uint32_t on);

/* ---- One pod interface: what to attach -------------------------------- */

struct k8snet_link_pod;

/* String attributes (k8snet_link_pod_set_str / _get_str). */
#define K8SNET_LINK_POD_NETNS_PATH   0u  /* the pod's namespace, e.g. /run/netns/x */
#define K8SNET_LINK_POD_CONTAINER_ID 1u  /* names the host veth end */
#define K8SNET_LINK_POD_IFNAME       2u  /* the interface inside the pod (default eth0) */
#define K8SNET_LINK_POD_BRIDGE       3u  /* the node bridge to attach to */
#define K8SNET_LINK_POD_MAC          4u  /* pod interface MAC (default: stable per
                                           container id and ifname) */
/* Integer attributes (k8snet_link_pod_set_u32 / _get_u32). */
#define K8SNET_LINK_POD_MTU          5u  /* 0: the bridge's MTU */
#define K8SNET_LINK_POD_FLAGS        6u  /* K8SNET_LINK_POD_F_* */

/* Hairpin mode on the bridge port: a pod reaches itself through a Service. */
#define K8SNET_LINK_POD_F_HAIRPIN          0x1u
/* Do not add default routes via the gateways. */
#define K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE 0x2u

K8SNET_EXPORT int k8snet_link_pod_new(struct k8snet_link_pod **ret);
K8SNET_EXPORT struct k8snet_link_pod *k8snet_link_pod_free(struct k8snet_link_pod *pod);
K8SNET_EXPORT int k8snet_link_pod_set_str(struct k8snet_link_pod *pod, uint32_t attr,
					  const char *value);
K8SNET_EXPORT const char *k8snet_link_pod_get_str(const struct k8snet_link_pod *pod,
						  uint32_t attr);
K8SNET_EXPORT int k8snet_link_pod_set_u32(struct k8snet_link_pod *pod, uint32_t attr,
					  uint32_t value);
K8SNET_EXPORT uint32_t k8snet_link_pod_get_u32(const struct k8snet_link_pod *pod,
					       uint32_t attr);
/* The pod's namespace as an open descriptor instead of a path (the object
 * keeps its own duplicate). */
K8SNET_EXPORT int k8snet_link_pod_set_netns_fd(struct k8snet_link_pod *pod, int fd);
/* An address of the pod interface ("10.244.1.5/24") and, optionally, the
 * gateway of its family ("10.244.1.1"): the default route goes through it. */
K8SNET_EXPORT int k8snet_link_pod_add_address(struct k8snet_link_pod *pod, const char *cidr,
					      const char *gateway);
/* An extra route in the pod ("10.96.0.0/12"); gateway NULL: the gateway of
 * that family, or a link route when there is none. */
K8SNET_EXPORT int k8snet_link_pod_add_route(struct k8snet_link_pod *pod, const char *dst,
					    const char *gateway);
/* The message of the object's last failed call, naming the field ("" when
 * it succeeded): a pod description has no context to hold it. */
K8SNET_EXPORT const char *k8snet_link_pod_get_error(const struct k8snet_link_pod *pod);
/* The deterministic host-side veth name for (container id, ifname): "veth"
 * and 11 hex digits of a hash, 15 characters.  Free with k8snet_free(). */
K8SNET_EXPORT int k8snet_link_host_ifname(const char *container_id, const char *ifname,
					  char **ret);

/* ---- The result of an attach ------------------------------------------ */

struct k8snet_link_result;

/* Lists (k8snet_link_result_get_count). */
#define K8SNET_LINK_RESULT_INTERFACES 0u
#define K8SNET_LINK_RESULT_ADDRESSES  1u
#define K8SNET_LINK_RESULT_ROUTES     2u

/* Item attributes (k8snet_link_result_get_str / _get_int): */
#define K8SNET_LINK_IFACE_NAME      0u  /* str */
#define K8SNET_LINK_IFACE_MAC       1u  /* str, "aa:bb:..." */
#define K8SNET_LINK_IFACE_SANDBOX   2u  /* str, the netns path, "" on the node */
#define K8SNET_LINK_IFACE_MTU       3u  /* int */
#define K8SNET_LINK_ADDR_ADDRESS    4u  /* str, CIDR */
#define K8SNET_LINK_ADDR_GATEWAY    5u  /* str, NULL when none */
#define K8SNET_LINK_ADDR_INTERFACE  6u  /* int, index into the interfaces */
#define K8SNET_LINK_ROUTE_DST       7u  /* str, CIDR */
#define K8SNET_LINK_ROUTE_GATEWAY   8u  /* str, NULL for a link route */

K8SNET_EXPORT struct k8snet_link_result *k8snet_link_result_free(struct k8snet_link_result *res);
K8SNET_EXPORT int k8snet_link_result_get_count(const struct k8snet_link_result *res, uint32_t list);
K8SNET_EXPORT const char *k8snet_link_result_get_str(const struct k8snet_link_result *res,
						     uint32_t index, uint32_t attr);
K8SNET_EXPORT int k8snet_link_result_get_int(const struct k8snet_link_result *res,
					     uint32_t index, uint32_t attr);
/* The result as a CNI result object: {"cniVersion", "interfaces", "ips",
 * "routes"}.  cni_version NULL means "1.0.0".  Free with k8snet_free(). */
K8SNET_EXPORT int k8snet_link_result_to_json(const struct k8snet_link_result *res,
					     const char *cni_version, char **ret_json);

/* ---- Attach, detach, check -------------------------------------------- */

/* Create the veth pair, put it on the bridge, configure the pod side (loopback
 * up, addresses, routes).  All or nothing: on failure no link is left.
 * Duplicate route destinations (an IPAM's default route next to a gateway)
 * are added once. */
K8SNET_EXPORT int k8snet_link_pod_attach(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod,
					 struct k8snet_link_result **ret);
/* Remove the pair by its host-side name.  Needs the container id and ifname
 * only; works when the namespace is gone.  Returns 1 when it removed a link,
 * 0 when there was none. */
K8SNET_EXPORT int k8snet_link_pod_detach(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod);
/* 0 when the pod interface, its addresses and routes are as attach made them;
 * -ENOENT when the interface is missing; -ESTALE when something differs (the
 * context's message lists every difference). */
K8SNET_EXPORT int k8snet_link_pod_check(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod);

/* ---- The node ---------------------------------------------------------- */

#define K8SNET_LINK_NODE_F_IPV6      0x1u  /* also IPv6 forwarding */
#define K8SNET_LINK_NODE_F_BRIDGE_NF 0x2u  /* bridged traffic through netfilter */

/* Sysctls the pod path needs, in the context's namespace only:
 * net.ipv4.ip_forward=1 (and net.ipv6.conf.all.forwarding=1,
 * net.bridge.bridge-nf-call-ip{,6}tables=1 by flag). */
K8SNET_EXPORT int k8snet_link_node_setup(struct k8snet_ctx *ctx, uint32_t flags);

/* Peer modes. */
#define K8SNET_LINK_PEER_HOST_GW 1u
#define K8SNET_LINK_PEER_VXLAN   2u

/* Create (or verify) the VXLAN device DEV with VNI, UDP port (0: 4789) and
 * local underlay address, MTU when non-zero, up.  Its MAC is derived from the
 * local address, so peers know it without asking.  Returns 1 when created. */
K8SNET_EXPORT int k8snet_link_vxlan_ensure(struct k8snet_ctx *ctx, const char *dev, uint32_t vni,
					   uint32_t port, const char *local_ip, uint32_t mtu);
/* Route a peer node's pod CIDR.  host-gw: "POD_CIDR via NODE_IP".  VXLAN (dev
 * required): an FDB entry (the peer's VTEP MAC -> NODE_IP), a permanent
 * neighbour (the first address of POD_CIDR -> that MAC) and the route
 * "POD_CIDR via that address dev DEV onlink", as flannel does.  vtep_mac NULL:
 * the MAC k8snet_link_vxlan_ensure() gives the peer's device.  Idempotent. */
K8SNET_EXPORT int k8snet_link_peer_add(struct k8snet_ctx *ctx, uint32_t mode, const char *pod_cidr,
				       const char *node_ip, const char *dev, const char *vtep_mac);
/* Undo k8snet_link_peer_add(); entries already gone (or the whole vxlan
 * device) are fine. */
K8SNET_EXPORT int k8snet_link_peer_del(struct k8snet_ctx *ctx, uint32_t mode, const char *pod_cidr,
				       const char *node_ip, const char *dev, const char *vtep_mac);

#ifdef __cplusplus
}
#endif

#endif
