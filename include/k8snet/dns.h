/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libk8snet DNS names: validation of Kubernetes names, the names of the
 * Kubernetes DNS specification (schema 1.1.0), parsing a query name back into
 * its parts, a pod's resolv.conf with the kubelet's rules, the names a glibc
 * resolver tries for a query, and zone records written as an RFC 1035 zone
 * file.
 *
 * Nothing here touches the kernel or the network.  Strings the library hands
 * out are freed with k8snet_free().  Objects keep the context they were made
 * with (borrowed: free them before the context) and record their errors on it.
 */
#ifndef K8SNET_DNS_H
#define K8SNET_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <k8snet/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Validation --------------------------------------------------------- */

/* Kinds for k8snet_dns_validate(). */
#define K8SNET_DNS_LABEL        1u /* DNS-1123 label: namespaces, hostnames */
#define K8SNET_DNS_SUBDOMAIN    2u /* DNS-1123 subdomain: most object names */
#define K8SNET_DNS_1035_LABEL   3u /* DNS-1035 label: Service names */
#define K8SNET_DNS_LABEL_KEY    4u /* label key: [prefix/]name */
#define K8SNET_DNS_LABEL_VALUE  5u /* label value, may be empty */
#define K8SNET_DNS_PORT_NAME    6u /* container port name (IANA_SVC_NAME) */

/* 0 when name is valid; -EINVAL with the failed rule on the context otherwise. */
K8SNET_EXPORT int k8snet_dns_validate(struct k8snet_ctx *ctx, uint32_t kind, const char *name);

/* ---- Builders ----------------------------------------------------------- */
/* zone NULL means "cluster.local".  Every part is validated (service names as
 * DNS-1035 labels, namespaces and hostnames as DNS-1123 labels); the result is
 * lowercase, without a trailing dot, and freed with k8snet_free(). */

/* <service>.<namespace>.svc.<zone> */
K8SNET_EXPORT int k8snet_dns_service_fqdn(struct k8snet_ctx *ctx, const char *service,
					  const char *ns, const char *zone, char **ret);
/* _<port>._<protocol>.<service>.<namespace>.svc.<zone>; protocol TCP, UDP or SCTP. */
K8SNET_EXPORT int k8snet_dns_srv_name(struct k8snet_ctx *ctx, const char *port_name,
				      const char *protocol, const char *service,
				      const char *ns, const char *zone, char **ret);
/* <hostname>.<service>.<namespace>.svc.<zone> (an endpoint of a headless service). */
K8SNET_EXPORT int k8snet_dns_endpoint_name(struct k8snet_ctx *ctx, const char *hostname,
					   const char *service, const char *ns,
					   const char *zone, char **ret);
/* <hostname>.<subdomain>.<namespace>.svc.<zone> (a pod with spec.hostname and
 * spec.subdomain). */
K8SNET_EXPORT int k8snet_dns_pod_fqdn(struct k8snet_ctx *ctx, const char *hostname,
				      const char *subdomain, const char *ns,
				      const char *zone, char **ret);
/* <dashed-ip>.<namespace>.pod.<zone>: 10-1-2-3, or 2001-db8--1 for IPv6. */
K8SNET_EXPORT int k8snet_dns_pod_ip_name(struct k8snet_ctx *ctx, const char *ip,
					 const char *ns, const char *zone, char **ret);
/* d.c.b.a.in-addr.arpa, or the 32 reversed nibbles of an IPv6 address under ip6.arpa. */
K8SNET_EXPORT int k8snet_dns_ptr_name(struct k8snet_ctx *ctx, const char *ip, char **ret);

/* ---- Query names -------------------------------------------------------- */

struct k8snet_dns_query;

/* What a query name is (k8snet_dns_query_get_kind()). */
#define K8SNET_DNS_QUERY_KIND_SERVICE 1u /* under <ns>.svc.<zone> */
#define K8SNET_DNS_QUERY_KIND_POD     2u /* <dashed-ip>.<ns>.pod.<zone> */
#define K8SNET_DNS_QUERY_KIND_SCHEMA  3u /* dns-version.<zone> */

/* Parts (k8snet_dns_query_get_str()); NULL when the name has no such part. */
#define K8SNET_DNS_QUERY_ZONE      0u
#define K8SNET_DNS_QUERY_NAMESPACE 1u
#define K8SNET_DNS_QUERY_SERVICE   2u
#define K8SNET_DNS_QUERY_ENDPOINT  3u /* hostname label, or the dashed IP of a pod */
#define K8SNET_DNS_QUERY_PORT      4u /* SRV port name, without "_" */
#define K8SNET_DNS_QUERY_PROTOCOL  5u /* SRV protocol, lowercase, without "_" */
#define K8SNET_DNS_QUERY_IP        6u /* a pod name's address, canonical form */

/* Split name (case-insensitive, trailing dot optional) under zone (NULL:
 * cluster.local).  -EINVAL when name is not a valid DNS name, -ENOENT when it
 * is not a cluster name; the context says why. */
K8SNET_EXPORT int k8snet_dns_query_parse(struct k8snet_ctx *ctx, const char *name,
					 const char *zone, struct k8snet_dns_query **ret);
K8SNET_EXPORT struct k8snet_dns_query *k8snet_dns_query_free(struct k8snet_dns_query *q);
K8SNET_EXPORT uint32_t k8snet_dns_query_get_kind(const struct k8snet_dns_query *q);
K8SNET_EXPORT const char *k8snet_dns_query_get_str(const struct k8snet_dns_query *q,
						   uint32_t part);

/* ---- A pod's resolv.conf ------------------------------------------------ */

struct k8snet_dns_resolv;

/* String attributes (k8snet_dns_resolv_set_str()). */
#define K8SNET_DNS_RESOLV_POLICY         0u /* ClusterFirst (default), ClusterFirstWithHostNet, Default, None */
#define K8SNET_DNS_RESOLV_NAMESPACE      1u /* the pod's namespace (default "default") */
#define K8SNET_DNS_RESOLV_CLUSTER_DOMAIN 2u /* kubelet --cluster-domain; "" for none */
#define K8SNET_DNS_RESOLV_CLUSTER_DNS    3u /* kubelet --cluster-dns: IP[,IP...] */
#define K8SNET_DNS_RESOLV_HOST_CONF      4u /* the node's resolv.conf text; NULL: none */
#define K8SNET_DNS_RESOLV_HOST_CONF_FILE 5u /* the same, read from this path now; "": none */
#define K8SNET_DNS_RESOLV_DNS_CONFIG     6u /* the pod's spec.dnsConfig as JSON; NULL: none */
#define K8SNET_DNS_RESOLV_NODE_IPS       7u /* IP[,IP...]: ::1 fallback on IPv6 nodes */
/* Integer attributes (k8snet_dns_resolv_set_u32()). */
#define K8SNET_DNS_RESOLV_HOST_NETWORK   8u /* spec.hostNetwork, 0 or 1 */
#define K8SNET_DNS_RESOLV_LEGACY_LIMITS  9u /* 6 search paths / 256 chars instead of 32 / 2048 */

K8SNET_EXPORT int k8snet_dns_resolv_new(struct k8snet_ctx *ctx, struct k8snet_dns_resolv **ret);
K8SNET_EXPORT struct k8snet_dns_resolv *k8snet_dns_resolv_free(struct k8snet_dns_resolv *r);
K8SNET_EXPORT int k8snet_dns_resolv_set_str(struct k8snet_dns_resolv *r, uint32_t attr,
					    const char *value);
K8SNET_EXPORT int k8snet_dns_resolv_set_u32(struct k8snet_dns_resolv *r, uint32_t attr,
					    uint32_t value);
/* The file's text (search, nameserver and options lines); returns the number
 * of warnings (limits that trimmed something, a missing cluster DNS). */
K8SNET_EXPORT int k8snet_dns_resolv_render(struct k8snet_dns_resolv *r, char **ret_text);
/* Warnings of the last render, index 0..count-1; NULL past the end. */
K8SNET_EXPORT const char *k8snet_dns_resolv_get_warning(const struct k8snet_dns_resolv *r,
							 uint32_t index);

/* ---- Search expansion --------------------------------------------------- */

/* The names a glibc stub resolver tries, in order, for name under a
 * resolv.conf's text (NULL: none, so ndots 1 and no search list).  *ret gets
 * them one per line, each ending in "\n"; returns how many. */
K8SNET_EXPORT int k8snet_dns_candidates(struct k8snet_ctx *ctx, const char *name,
					const char *resolv_conf, char **ret);

/* ---- Zone records ------------------------------------------------------- */

struct k8snet_dns_zone;

/* Integer attributes (k8snet_dns_zone_set_u32()). */
#define K8SNET_DNS_ZONE_TTL    0u /* every record's TTL, default 5 (CoreDNS) */
#define K8SNET_DNS_ZONE_SERIAL 1u /* the SOA serial, default 1 */
/* String attributes (k8snet_dns_zone_set_str()). */
#define K8SNET_DNS_ZONE_NAMESERVER_IP 2u /* A/AAAA of ns.dns.<zone>; default the
					   kube-system/kube-dns ClusterIP, else 127.0.0.1 */

/* Flags. */
#define K8SNET_DNS_SERVICE_F_PUBLISH_NOT_READY (1u << 0) /* spec.publishNotReadyAddresses */
#define K8SNET_DNS_ENDPOINT_F_NOT_READY        (1u << 0) /* conditions.ready false */
#define K8SNET_DNS_POD_F_NOT_READY             (1u << 0) /* condition Ready not True */

K8SNET_EXPORT int k8snet_dns_zone_new(struct k8snet_ctx *ctx, const char *zone,
				      struct k8snet_dns_zone **ret);
K8SNET_EXPORT struct k8snet_dns_zone *k8snet_dns_zone_free(struct k8snet_dns_zone *z);
K8SNET_EXPORT int k8snet_dns_zone_set_u32(struct k8snet_dns_zone *z, uint32_t attr,
					  uint32_t value);
K8SNET_EXPORT int k8snet_dns_zone_set_str(struct k8snet_dns_zone *z, uint32_t attr,
					  const char *value);
/* Services, EndpointSlices and Pods as `kubectl get -o json` prints them (one
 * object or a List); other kinds are skipped.  Returns how many were used. */
K8SNET_EXPORT int k8snet_dns_zone_add_json(struct k8snet_dns_zone *z, const char *json,
					   size_t len);
/* cluster_ips: IP[,IP...], or NULL/""/"None" for a headless service;
 * external_name non-NULL makes it an ExternalName service. */
K8SNET_EXPORT int k8snet_dns_zone_add_service(struct k8snet_dns_zone *z, const char *ns,
					      const char *name, const char *cluster_ips,
					      const char *external_name, uint32_t flags);
K8SNET_EXPORT int k8snet_dns_zone_add_service_port(struct k8snet_dns_zone *z, const char *ns,
						   const char *service, const char *port_name,
						   const char *protocol, uint32_t port);
/* An endpoint of a service (EndpointSlice endpoints[].addresses[]); hostname
 * may be NULL. */
K8SNET_EXPORT int k8snet_dns_zone_add_endpoint(struct k8snet_dns_zone *z, const char *ns,
					       const char *service, const char *ip,
					       const char *hostname, uint32_t flags);
/* A port of the service's endpoints (EndpointSlice ports[]): headless SRV targets. */
K8SNET_EXPORT int k8snet_dns_zone_add_endpoint_port(struct k8snet_dns_zone *z, const char *ns,
						    const char *service, const char *port_name,
						    const char *protocol, uint32_t port);
/* A pod IP; hostname and subdomain (spec.hostname, spec.subdomain) may be NULL. */
K8SNET_EXPORT int k8snet_dns_zone_add_pod(struct k8snet_dns_zone *z, const char *ns,
					  const char *ip, const char *hostname,
					  const char *subdomain, uint32_t flags);
/* The zone file for origin: NULL for the cluster zone, or a reverse zone
 * (in-addr.arpa, ip6.arpa or one below them) for the PTR records in it.
 * Returns the number of records written. */
K8SNET_EXPORT int k8snet_dns_zone_render(struct k8snet_dns_zone *z, const char *origin,
					 char **ret_text);

#ifdef __cplusplus
}
#endif

#endif
