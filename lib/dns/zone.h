/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zone model: what Services, EndpointSlices and Pods say about DNS,
 * collected in any order (a slice may come before its service) and turned
 * into records only when the zone is rendered.
 */
#ifndef K8SNET_DNS_ZONE_H
#define K8SNET_DNS_ZONE_H

#include "dns/dns-internal.h"

struct zport {
	char *name;             /* never empty: unnamed ports are not kept */
	const char *proto;      /* "tcp", "udp", "sctp" (static) */
	uint32_t port;
};

struct zports {
	struct zport *v;
	size_t n, cap;
};

struct zendpoint {
	char ip[46];            /* canonical */
	char *hostname;         /* NULL: the dashed IP is used */
	bool ready;
};

struct zsvc {
	char *ns, *name;
	bool declared;          /* a Service was seen, not only its slices */
	bool headless, publish_not_ready;
	char *external_name;    /* ExternalName services */
	struct k8s_strv cluster_ips;
	struct zports ports, endpoint_ports;
	struct zendpoint *eps;
	size_t n_eps, cap_eps;
	bool eps_sorted;        /* cleared by every new endpoint */
};

struct zpod {
	char *ns, *hostname, *subdomain;
	char ip[46];
	bool ready;
};

struct k8snet_dns_zone {
	struct k8snet_ctx *ctx;
	char *zone;
	uint32_t ttl, serial;
	char *ns_ip;            /* NULL: kube-system/kube-dns, else 127.0.0.1 */
	struct zsvc **svcs;
	size_t n_svcs, cap_svcs;
	struct zsvc **sorted;   /* svcs by namespace and name; NULL when stale */
	uint32_t *slots;        /* hash of (ns, name) -> index + 1 */
	size_t n_slots;
	struct zpod *pods;
	size_t n_pods, cap_pods;
};

/* The service (ns, name), made undeclared when new; NULL when out of memory. */
struct zsvc *k8s_zone_service(struct k8snet_dns_zone *z, const char *ns, const char *name);
const struct zsvc *k8s_zone_find(const struct k8snet_dns_zone *z, const char *ns,
				 const char *name);
void k8s_zone_clear_ports(struct zports *ports);
int k8s_zone_add_port(struct zports *ports, const char *name, const char *proto, uint32_t port);
int k8s_zone_add_endpoint(struct zsvc *s, const char *canon_ip, const char *hostname, bool ready);
int k8s_zone_add_pod(struct k8snet_dns_zone *z, const char *ns, const char *canon_ip,
		     const char *hostname, const char *subdomain, bool ready);

/* ExternalName values: a DNS name (trailing dot allowed), not an address. */
bool k8s_zone_external_name_ok(const char *name);

int k8s_zone_read_json(struct k8snet_dns_zone *z, const char *json, size_t len);

#endif
