/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet_trace_run(): one connection, from the source to every endpoint that
 * may answer it, and the answer. */
#include <string.h>

#include "trace/internal.h"

/* allow, deny or mixed from the endpoints' verdicts. */
static int answer(const cJSON *eps, size_t *ret_allowed, size_t *ret_total)
{
	const cJSON *ep;
	size_t allowed = 0, total = 0;

	cJSON_ArrayForEach(ep, eps) {
		const cJSON *v = cJSON_GetObjectItem(ep, "verdict");

		total++;
		allowed += cJSON_IsString(v) && strcmp(v->valuestring, "allow") == 0;
	}
	*ret_allowed = allowed;
	*ret_total = total;
	if (!total || !allowed)
		return K8SNET_TRACE_DENY;
	return allowed == total ? K8SNET_TRACE_ALLOW : K8SNET_TRACE_MIXED;
}

static const char *answer_name(int a)
{
	return a == K8SNET_TRACE_ALLOW ? "allow" : a == K8SNET_TRACE_MIXED ? "mixed" : "deny";
}

static void final_hop(struct tr_run *run, int a, size_t allowed, size_t total)
{
	if (!total)
		tr_hop(run, "answer", "deny: no endpoint can answer");
	else if (a == K8SNET_TRACE_ALLOW)
		tr_hop(run, "answer", "allow: %s%zu endpoint%s accept%s the connection",
		       total > 1 ? "all " : "", total, total == 1 ? "" : "s", total == 1 ? "s" : "");
	else if (a == K8SNET_TRACE_DENY)
		tr_hop(run, "answer", "deny: %s%zu endpoint%s refuse%s the connection",
		       total > 1 ? "all " : "", total, total == 1 ? "" : "s", total == 1 ? "s" : "");
	else
		tr_hop(run, "answer", "mixed: %zu of %zu endpoints accept the connection, so it "
		       "works or not depending on the endpoint picked", allowed, total);
}

static int run_trace(struct tr_run *run, const char *from, const char *to)
{
	size_t allowed, total;
	int r, a;

	r = tr_resolve_src(run, from);
	if (r >= 0)
		r = tr_resolve_dst(run, to);
	if (r >= 0 && run->err)
		r = k8s_error(run->t->ctx, run->err, "out of memory");
	if (r < 0)
		return r;
	a = answer(run->eps, &allowed, &total);
	final_hop(run, a, allowed, total);
	cJSON_ReplaceItemInObject(run->root, "verdict", cJSON_CreateString(answer_name(a)));
	cJSON_AddNumberToObject(run->root, "allowed", (double)allowed);
	cJSON_AddNumberToObject(run->root, "endpoints_judged", (double)total);
	return run->err ? k8s_error(run->t->ctx, run->err, "out of memory") : a;
}

static int output(struct tr_run *run, uint32_t flags, char **ret_text)
{
	char *text;

	if (!ret_text)
		return 0;
	text = flags & K8SNET_TRACE_RUN_F_JSON ? cJSON_PrintUnformatted(run->root) :
	       tr_render_text(run->root);
	if (!text)
		return k8s_error(run->t->ctx, -ENOMEM, "out of memory");
	*ret_text = text;
	return 0;
}

K8SNET_EXPORT int k8snet_trace_run(struct k8snet_trace *t, const char *from, const char *to,
				   const char *protocol, uint32_t port, uint32_t flags,
				   char **ret_text)
{
	struct tr_run run = { .t = t };
	int proto, r;

	K8S_FORK_GUARD(t);
	if (!t)
		return -EINVAL;
	K8S_CHECK_ARG(t->ctx, from && to && protocol);
	if (flags & ~K8SNET_TRACE_RUN_F_JSON)
		return k8s_error_at(t->ctx, -EINVAL, "flags", "0x%x: unknown flags", flags);
	proto = pl_proto_parse(protocol);
	if (proto < 0)
		return k8s_error_at(t->ctx, -EINVAL, "protocol", "'%s': must be TCP, UDP or SCTP",
				    protocol);
	if (port < 1 || port > 65535)
		return k8s_error_at(t->ctx, -ERANGE, "port", "%u out of range: must be 1..65535",
				    port);
	r = tr_index(t);
	if (r < 0)
		return r;
	run.proto = (uint8_t)proto;
	run.port = (uint16_t)port;
	run.root = cJSON_CreateObject();
	if (!run.root)
		return k8s_error(t->ctx, -ENOMEM, "out of memory");
	cJSON_AddStringToObject(run.root, "verdict", "deny");
	cJSON_AddStringToObject(run.root, "protocol", pl_proto_name(run.proto));
	cJSON_AddNumberToObject(run.root, "port", port);
	run.hops = cJSON_AddArrayToObject(run.root, "hops");
	run.eps = cJSON_AddArrayToObject(run.root, "endpoints");
	if (!run.hops || !run.eps)
		r = k8s_error(t->ctx, -ENOMEM, "out of memory");
	else
		r = run_trace(&run, from, to);
	if (r >= 0) {
		int o = output(&run, flags, ret_text);

		if (o < 0)
			r = o;
	}
	cJSON_Delete(run.root);
	return r;
}
