/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet policy check FILE.json --from NS/POD|IP --to NS/POD|IP --port PORT --protocol P
 *   prints "allow" or "deny" alone on its first line, then the reasons
 *   (-o json: {"verdict": "allow"|"deny", "reasons": [...]});
 *   exit 0 allow, 1 deny, 2 bad input.
 * k8snet policy sync --node-netns PATH --node-name N FILE.json
 * k8snet policy render --node-name N FILE.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* A context (in the node's namespace when given) and a database loaded from
 * the file. */
static int open_db(const struct cli_call *call, struct k8snet_ctx **ctx,
		   struct k8snet_policy_db **db)
{
	const char *file = call->args[0];
	size_t len = 0;
	char *json = cli_read_file(file, &len);
	int r;

	if (!json)
		return CLI_USAGE;
	r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), ctx);
	if (r) {
		free(json);
		return r;
	}
	r = k8snet_policy_db_new(*ctx, db);
	if (r >= 0)
		r = k8snet_policy_db_load_json(*db, json, len);
	free(json);
	if (r < 0)
		return cli_report(*ctx, r, file);
	return 0;
}

static int print_verdict(const struct cli_call *call, bool allow, const char *why)
{
	cJSON *root, *reasons;

	if (!call->json) {
		printf("%s\n%s", allow ? "allow" : "deny", why);
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "verdict", allow ? "allow" : "deny");
	reasons = cJSON_AddArrayToObject(root, "reasons");
	for (const char *p = why; *p;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);

		if (line && *line)
			cJSON_AddItemToArray(reasons, cJSON_CreateString(line));
		free(line);
		p += n;
		if (*p)
			p++;
	}
	return cli_print_json(root);
}

int cli_policy_check(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_policy_db *db = NULL;
	char *why = NULL;
	uint32_t port = 0;
	int r = cli_u32(call, OPT_PORT, 1, 65535, &port);

	if (r)
		return r;
	r = open_db(call, &ctx, &db);
	if (r == 0) {
		r = k8snet_policy_db_check(db, cli_str(call, OPT_FROM), cli_str(call, OPT_TO),
					   cli_str(call, OPT_PROTOCOL), port, &why);
		if (r < 0) {
			cli_report(ctx, r, "policy check");
			r = CLI_USAGE;
		} else {
			bool allow = r == K8SNET_POLICY_ALLOW;

			r = print_verdict(call, allow, why ? why : "");
			if (r == CLI_OK && !allow)
				r = CLI_FAIL;
		}
	}
	k8snet_free(why);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return r;
}

/* --log-denied, --log-allowed, --log-group N */
static int set_log(const struct cli_call *call, struct k8snet_ctx *ctx,
		   struct k8snet_policy_db *db)
{
	uint32_t flags = (cli_flag(call, OPT_LOG_DENIED) ? K8SNET_POLICY_F_LOG_DENIED : 0) |
			 (cli_flag(call, OPT_LOG_ALLOWED) ? K8SNET_POLICY_F_LOG_ALLOWED : 0) |
			 (cli_flag(call, OPT_COUNTERS) ? K8SNET_POLICY_F_COUNT : 0);
	uint32_t group = 0;
	int r = cli_u32(call, OPT_LOG_GROUP, 1, 65535, &group);

	if (r)
		return r;
	if (!flags && !group)
		return 0;
	r = k8snet_policy_db_set_log(db, flags, group, 0);
	return r < 0 ? cli_report(ctx, r, "log") : 0;
}

static int policy_render_or_sync(const struct cli_call *call, bool sync)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_policy_db *db = NULL;
	const char *node = cli_str(call, OPT_NODE_NAME);
	char *text = NULL;
	int r = open_db(call, &ctx, &db);

	if (r == 0)
		r = set_log(call, ctx, db);

	if (r == 0) {
		r = !sync ? k8snet_policy_db_render(db, node, &text) :
		    cli_flag(call, OPT_FULL) ? k8snet_policy_db_sync_full(db, node) :
		    k8snet_policy_db_sync(db, node);
		if (r < 0)
			r = cli_report(ctx, r, call->cmd->path);
		else
			r = text ? cli_print_text(text) : CLI_OK;
	}
	k8snet_free(text);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_policy_sync(const struct cli_call *call)
{
	return policy_render_or_sync(call, true);
}

int cli_policy_render(const struct cli_call *call)
{
	return policy_render_or_sync(call, false);
}

/* The NetworkPolicies of a document, in order: "ns/name" pairs. */
static int each_policy(const char *file, cJSON **ret)
{
	size_t len = 0;
	char *json = cli_read_file(file, &len);
	cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL, *items, *it, *out;

	free(json);
	if (!doc)
		return cli_usage_error("%s: not JSON", file);
	out = cJSON_CreateArray();
	items = cJSON_GetObjectItem(doc, "items");
	if (!items) {
		/* One object: a list of one. */
		items = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(items, doc);
		cJSON_AddItemToObject(doc, "k8snet-items", items);
	}
	cJSON_ArrayForEach(it, items) {
		const cJSON *o = it, *md = cJSON_GetObjectItem(o, "metadata");
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));
		const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(md, "namespace"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));

		if (kind && name && strcmp(kind, "NetworkPolicy") == 0) {
			cJSON *p = cJSON_CreateArray();

			cJSON_AddItemToArray(p, cJSON_CreateString(ns ? ns : "default"));
			cJSON_AddItemToArray(p, cJSON_CreateString(name));
			cJSON_AddItemToArray(out, p);
		}
	}
	cJSON_Delete(doc);
	*ret = out;
	return CLI_OK;
}

int cli_policy_counters(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_policy_db *db = NULL;
	cJSON *pols = NULL, *p, *out = cJSON_CreateArray();
	int r = open_db(call, &ctx, &db);

	if (r == 0)
		r = each_policy(call->args[0], &pols);
	if (r != 0)
		pols = NULL;
	cJSON_ArrayForEach(p, pols) {
		const char *ns = cJSON_GetArrayItem(p, 0)->valuestring;
		const char *name = cJSON_GetArrayItem(p, 1)->valuestring;
		uint64_t ap, ab, dp, dbytes;
		cJSON *j;

		if (k8snet_policy_db_get_counters(db, ns, name, &ap, &ab, &dp, &dbytes) < 0) {
			r = cli_report(ctx, -1, "policy counters");
			break;
		}
		if (!call->json) {
			printf("%s/%s allowed %llu packets %llu bytes, denied %llu packets %llu bytes\n",
			       ns, name, (unsigned long long)ap, (unsigned long long)ab,
			       (unsigned long long)dp, (unsigned long long)dbytes);
			continue;
		}
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "namespace", ns);
		cJSON_AddStringToObject(j, "name", name);
		cJSON_AddNumberToObject(j, "allowed_packets", (double)ap);
		cJSON_AddNumberToObject(j, "allowed_bytes", (double)ab);
		cJSON_AddNumberToObject(j, "denied_packets", (double)dp);
		cJSON_AddNumberToObject(j, "denied_bytes", (double)dbytes);
		cJSON_AddItemToArray(out, j);
	}
	if (r == 0 && call->json) {
		r = cli_print_json(out);
		out = NULL;
	}
	cJSON_Delete(out);
	cJSON_Delete(pols);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return r;
}
