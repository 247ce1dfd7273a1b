/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for resolv.conf: any bytes as a node's resolv.conf, read
 * the kubelet's way and glibc's way, rendered for a pod and expanded for a
 * query; must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "dns/dns-internal.h"

static void render(struct k8snet_ctx *ctx, const char *text, const char *policy)
{
	struct k8snet_dns_resolv *r = NULL;
	char *out = NULL;

	if (k8snet_dns_resolv_new(ctx, &r) < 0)
		return;
	k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_POLICY, policy);
	k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	if (k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_HOST_CONF, text) == 0 &&
	    k8snet_dns_resolv_render(r, &out) >= 0)
		k8snet_free(out);
	/* The same bytes as a pod's dnsConfig. */
	if (k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_DNS_CONFIG, text) == 0 &&
	    k8snet_dns_resolv_render(r, &out) >= 0)
		k8snet_free(out);
	k8snet_dns_resolv_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	struct k8s_resolv_conf rc;
	char *text, *out = NULL;

	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	if (k8s_resolv_conf_parse(ctx, "fuzz", (const char *)data, size, false, &rc) == 0)
		k8s_resolv_conf_clear(&rc);
	if (k8s_resolv_conf_parse(ctx, "fuzz", (const char *)data, size, true, &rc) == 0)
		k8s_resolv_conf_clear(&rc);
	text = strndup((const char *)data, size);
	if (text) {
		render(ctx, text, "ClusterFirst");
		render(ctx, text, "Default");
		if (k8snet_dns_candidates(ctx, "api.default", text, &out) >= 0)
			k8snet_free(out);
		free(text);
	}
	k8snet_ctx_free(ctx);
	return 0;
}
