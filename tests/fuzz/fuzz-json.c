/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the JSON layer: any bytes in, walked as a Kubernetes
 * object or List with every getter; must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "json/json.h"

static int visit_pair(struct k8snet_ctx *ctx, const k8s_jref *value, const char *key,
		      const char *val, void *userdata)
{
	return 0;
}

static int visit_port(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	int64_t n;
	const char *s;
	bool b;

	k8s_json_get_int(ctx, item, "port", K8S_REQUIRED, 1, 65535, &n);
	k8s_json_get_str(ctx, item, "name", K8S_OPTIONAL, &s);
	k8s_json_get_bool(ctx, item, "ready", K8S_OPTIONAL, &b);
	return k8s_json_get_int_or_str(ctx, item, "targetPort", K8S_OPTIONAL, &n, &s) < 0 ? -1 : 0;
}

static int visit(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		 void *userdata)
{
	k8s_jref spec, ports, labels = k8s_jref_root(meta->labels);
	char *path;

	k8s_json_for_each_string_pair(ctx, &labels, visit_pair, NULL);
	if (k8s_json_get_object(ctx, obj, "spec", K8S_OPTIONAL, &spec) <= 0)
		return 0;
	if (k8s_json_get_array(ctx, &spec, "ports", K8S_OPTIONAL, &ports) <= 0)
		return 0;
	path = k8s_jref_path_member(&ports, "x");
	free(path);
	k8s_json_for_each_item(ctx, &ports, visit_port, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	cJSON *root = NULL;

	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	if (k8s_json_parse(ctx, (const char *)data, size, &root) == 0) {
		k8s_json_for_each_object(ctx, root, visit, NULL);
		cJSON_Delete(root);
	}
	k8snet_ctx_free(ctx);
	return 0;
}
