/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The resolv.conf builder's state, shared by its setters and its planner. */
#ifndef K8SNET_DNS_RESOLV_H
#define K8SNET_DNS_RESOLV_H

#include "dns/dns-internal.h"

/* A pod's spec.dnsConfig, validated. */
struct k8s_pod_dns_config {
	struct k8s_strv nameservers, searches;
	struct k8s_strv option_names, option_values;  /* value "" when absent */
};

enum k8s_dns_policy {
	K8S_POLICY_CLUSTER_FIRST,
	K8S_POLICY_CLUSTER_FIRST_WITH_HOST_NET,
	K8S_POLICY_DEFAULT,
	K8S_POLICY_NONE,
};

struct k8snet_dns_resolv {
	struct k8snet_ctx *ctx;
	enum k8s_dns_policy policy;
	char *ns;
	char *cluster_domain;               /* "" for none */
	struct k8s_strv cluster_dns;
	bool has_host_conf;
	struct k8s_resolv_conf host;
	struct k8s_strv node_ips;
	bool has_dns_config;
	struct k8s_pod_dns_config dns_config;
	bool host_network;
	bool legacy_limits;
	struct k8s_strv warnings;           /* of the last render */
};

/* The final nameservers, searches and options, before rendering. */
struct k8s_resolv_plan {
	struct k8s_strv nameservers, searches, options;
};

int k8s_resolv_plan(struct k8snet_dns_resolv *r, struct k8s_resolv_plan *plan);
void k8s_resolv_plan_clear(struct k8s_resolv_plan *plan);
void k8s_pod_dns_config_clear(struct k8s_pod_dns_config *dc);

#endif
