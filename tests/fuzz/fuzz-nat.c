/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the Service / EndpointSlice reader and the planner:
 * any bytes in, loaded into a proxy and rendered; must never crash or leak,
 * and a failed load must leave the rendered ruleset as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/nat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_proxy *p = NULL;
	struct k8snet_ctx *ctx;
	char *before = NULL, *after = NULL;

	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	if (k8snet_proxy_new(ctx, &p) == 0) {
		k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, "n1");
		k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.244.0.0/16");
		k8snet_proxy_render(p, &before);
		if (k8snet_proxy_load_json(p, (const char *)data, size) < 0) {
			k8snet_proxy_render(p, &after);
			if (before && after && strcmp(before, after) != 0)
				abort();   /* bad input changed something */
		} else {
			k8snet_proxy_render(p, &after);
		}
	}
	free(before);
	free(after);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return 0;
}
