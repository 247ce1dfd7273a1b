/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for zone records: any bytes as Kubernetes JSON (Services,
 * EndpointSlices, Pods), rendered as the cluster zone and both reverse zones;
 * must never crash or leak. */
#include <stdint.h>

#include "dns/dns-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const origins[] = { NULL, "in-addr.arpa", "ip6.arpa" };
	struct k8snet_ctx *ctx;
	struct k8snet_dns_zone *z;
	char *out;
	size_t i;

	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	if (k8snet_dns_zone_new(ctx, NULL, &z) == 0) {
		k8snet_dns_zone_add_json(z, (const char *)data, size);
		for (i = 0; i < ARRAY_SIZE(origins); i++)
			if (k8snet_dns_zone_render(z, origins[i], &out) >= 0)
				k8snet_free(out);
		k8snet_dns_zone_free(z);
	}
	k8snet_ctx_free(ctx);
	return 0;
}
