/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet netns describe: what the library sees in a namespace, as a table or
 * as k8snet_ctx_describe()'s JSON. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char *str_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_links(const cJSON *links)
{
	const cJSON *l, *a;

	printf("%-16s %-10s %-5s %-6s %s\n", "LINK", "KIND", "STATE", "MTU", "ADDRESSES");
	cJSON_ArrayForEach(l, links) {
		const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(l, "mtu");
		const char *sep = "";

		printf("%-16s %-10s %-5s %-6d ", str_of(l, "name"), str_of(l, "kind"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "up")) ? "up" : "down",
		       cJSON_IsNumber(mtu) ? mtu->valueint : 0);
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(l, "addresses")) {
			printf("%s%s", sep, cJSON_IsString(a) ? a->valuestring : "?");
			sep = " ";
		}
		printf("%s\n", *sep ? "" : "-");
	}
}

static int print_table(const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *t;

	if (!root)
		return cli_usage_error("describe: the library's JSON does not parse");
	print_links(cJSON_GetObjectItemCaseSensitive(root, "links"));
	printf("\n%-16s %s\n", "NFTABLES FAMILY", "TABLE");
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "nftables_tables"))
		printf("%-16s %s\n", str_of(t, "family"), str_of(t, "name"));
	cJSON_Delete(root);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cli_netns_describe(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	char *json = NULL;
	int r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);

	if (r)
		return r;
	r = k8snet_ctx_describe(ctx, &json);
	if (r < 0)
		r = cli_report(ctx, r, "netns describe");
	else if (call->json)
		r = cli_print_text(json);
	else
		r = print_table(json);
	k8snet_free(json);
	k8snet_ctx_free(ctx);
	return r;
}
