/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the kubectl label selector parser: any bytes (up to
 * the first NUL) as a selector; when it parses, its canonical text must parse
 * again to the same text.  Must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "policy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	struct pl_selector sel, again;
	struct pl_labels labels = { 0 };
	char *text = strndup((const char *)data, size), *canon, *canon2;

	if (!text || k8snet_ctx_new(&ctx) < 0) {
		free(text);
		return 0;
	}
	if (pl_selector_parse(ctx, text, &sel) == 0) {
		canon = pl_selector_str(&sel);
		if (canon && pl_selector_parse(ctx, canon, &again) == 0) {
			canon2 = pl_selector_str(&again);
			if (canon2 && strcmp(canon, canon2) != 0)
				__builtin_trap();
			free(canon2);
			pl_selector_clear(&again);
		} else if (canon) {
			__builtin_trap();  /* our own output must parse */
		}
		pl_labels_set(&labels, "app", "web");
		pl_selector_matches(&sel, &labels);
		pl_labels_clear(&labels);
		free(canon);
		pl_selector_clear(&sel);
	}
	k8snet_ctx_free(ctx);
	free(text);
	return 0;
}
