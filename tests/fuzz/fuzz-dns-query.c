/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the query-name parser: "ZONE\nNAME" or just NAME;
 * parsed, its parts read, and expanded as a glibc query; must never crash or
 * leak. */
#include <stdint.h>
#include <string.h>

#include "dns/dns-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	struct k8snet_dns_query *q = NULL;
	char *text = strndup((const char *)data, size), *name, *zone = NULL, *out = NULL;
	uint32_t i;

	if (!text)
		return 0;
	name = strchr(text, '\n');
	if (name) {
		*name++ = '\0';
		zone = text;
	} else {
		name = text;
	}
	if (k8snet_ctx_new(&ctx) < 0) {
		free(text);
		return 0;
	}
	if (k8snet_dns_query_parse(ctx, name, zone, &q) == 0) {
		(void)k8snet_dns_query_get_kind(q);
		for (i = 0; i < 8; i++)
			(void)k8snet_dns_query_get_str(q, i);
		k8snet_dns_query_free(q);
	}
	if (k8snet_dns_candidates(ctx, name, "search a.svc.cluster.local cluster.local\n"
				  "options ndots:5\n", &out) >= 0)
		k8snet_free(out);
	for (i = K8SNET_DNS_LABEL; i <= K8SNET_DNS_PORT_NAME; i++)
		k8snet_dns_validate(ctx, i, name);
	k8snet_ctx_free(ctx);
	free(text);
	return 0;
}
