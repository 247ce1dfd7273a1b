/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet trace FILE.json... --from NS/POD|IP --to NS/POD|IP|svc:NS/NAME|NAME
 *                           --port PORT --protocol P [--json]
 *   prints "allow", "deny" or "mixed" alone on its first line, then the hops
 *   (--json or -o json: one JSON object);
 *   exit 0 allow, 1 deny, 3 mixed, 2 bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_MIXED 3  /* some endpoints would accept the connection, some not */

static int load_json(void *obj, const char *json, size_t len)
{
	return k8snet_trace_load_json(obj, json, len);
}

static int configure(const struct cli_call *call, struct k8snet_ctx *ctx,
		     struct k8snet_trace *t)
{
	const char *const *v;
	size_t n, i;
	int r = 0;

	if (cli_str(call, OPT_CLUSTER_DOMAIN))
		r = k8snet_trace_set_str(t, K8SNET_TRACE_CLUSTER_DOMAIN,
					 cli_str(call, OPT_CLUSTER_DOMAIN));
	if (r >= 0 && cli_str(call, OPT_NODE_NAME))
		r = k8snet_trace_set_str(t, K8SNET_TRACE_NODE_NAME, cli_str(call, OPT_NODE_NAME));
	n = cli_list(call, OPT_NODE_IP, &v);
	for (i = 0; r >= 0 && i < n; i++)
		r = k8snet_trace_add_str(t, K8SNET_TRACE_NODE_IP, v[i]);
	n = cli_list(call, OPT_CLUSTER_CIDR, &v);
	for (i = 0; r >= 0 && i < n; i++)
		r = k8snet_trace_add_str(t, K8SNET_TRACE_CLUSTER_CIDR, v[i]);
	if (r >= 0 && cli_flag(call, OPT_MASQUERADE_ALL))
		r = k8snet_trace_set_u32(t, K8SNET_TRACE_FLAGS, K8SNET_TRACE_F_MASQUERADE_ALL);
	return r < 0 ? cli_report(ctx, r, "trace") : CLI_OK;
}

static int exit_status(int answer)
{
	return answer == K8SNET_TRACE_ALLOW ? CLI_OK :
	       answer == K8SNET_TRACE_MIXED ? CLI_MIXED : CLI_FAIL;
}

int cli_trace(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_trace *t = NULL;
	bool json = call->json || cli_flag(call, OPT_JSON);
	uint32_t port = 0;
	char *text = NULL;
	int r = cli_u32(call, OPT_PORT, 1, 65535, &port);

	if (r)
		return r;
	r = cli_ctx_new(NULL, &ctx);
	if (r)
		return r;
	r = k8snet_trace_new(ctx, &t);
	if (r < 0)
		r = cli_report(ctx, r, "trace");
	if (r == CLI_OK)
		r = configure(call, ctx, t);
	if (r == CLI_OK)
		r = cli_load_args(call, ctx, load_json, t);
	if (r == CLI_OK) {
		r = k8snet_trace_run(t, cli_str(call, OPT_FROM), cli_str(call, OPT_TO),
				     cli_str(call, OPT_PROTOCOL), port,
				     json ? K8SNET_TRACE_RUN_F_JSON : 0, &text);
		if (r < 0) {
			cli_report(ctx, r, "trace");
			r = CLI_USAGE;
		} else {
			int status = exit_status(r);

			r = cli_print_text(text);
			if (r == CLI_OK)
				r = status;
		}
	}
	k8snet_free(text);
	k8snet_trace_free(t);
	k8snet_ctx_free(ctx);
	return r;
}
