/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the policy JSON reader: any bytes in, loaded into a
 * database; when accepted, judged and rendered.  Must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "policy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ends[] = { "x/a", "x/b", "y/a", "10.0.0.1", "fd00::1" };
	struct k8snet_ctx *ctx;
	struct k8snet_policy_db *db;
	char *text = NULL;
	size_t i;

	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	if (k8snet_policy_db_new(ctx, &db) == 0) {
		if (k8snet_policy_db_load_json(db, (const char *)data, size) == 0) {
			for (i = 0; i < 4; i++) {
				char *why = NULL;

				k8snet_policy_db_check(db, ends[i], ends[i + 1], i & 1 ? "UDP" : "TCP",
						       80 + (uint32_t)i, &why);
				free(why);
			}
			if (k8snet_policy_db_render(db, "node1", &text) == 0)
				free(text);
		}
		k8snet_policy_db_free(db);
	}
	k8snet_ctx_free(ctx);
	return 0;
}
