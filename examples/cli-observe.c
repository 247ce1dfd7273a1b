/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet observe --node-netns PATH [--json] [--count N] [--timeout S]
 *                [--log-group N] [FILE.json...]
 *   one line per NetworkPolicy verdict that verdict logging sends to NFLOG:
 *   TIME VERDICT DIRECTION SOURCE -> DESTINATION PROTO/PORT POLICIES
 *   (--json: one object per line); exit 0, or 1 when it could not listen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"

static int load_json(void *obj, const char *json, size_t len)
{
	return k8snet_observer_load_json(obj, json, len);
}

static void time_text(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ns / 1000000u % 1000u));
}

static int print_event(const struct k8snet_observer *obs, bool json)
{
	char when[64];
	const char *policy = k8snet_observer_get_str(obs, K8SNET_EVENT_POLICY);

	time_text(k8snet_observer_get_u64(obs, K8SNET_EVENT_TIME_NS), when, sizeof(when));
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(j, "time", when);
		cJSON_AddStringToObject(j, "verdict", k8snet_observer_get_str(obs, K8SNET_EVENT_VERDICT));
		cJSON_AddStringToObject(j, "direction",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DIRECTION));
		cJSON_AddStringToObject(j, "source", k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE));
		cJSON_AddStringToObject(j, "destination",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DESTINATION));
		cJSON_AddStringToObject(j, "source_ip",
					k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE_IP));
		cJSON_AddStringToObject(j, "destination_ip",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DEST_IP));
		cJSON_AddStringToObject(j, "protocol", k8snet_observer_get_str(obs, K8SNET_EVENT_PROTOCOL));
		cJSON_AddNumberToObject(j, "port", (double)k8snet_observer_get_u64(obs, K8SNET_EVENT_PORT));
		cJSON_AddStringToObject(j, "policy", policy);
		text = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		if (!text)
			return CLI_FAIL;
		printf("%s\n", text);
		free(text);
	} else {
		printf("%s %s %s %s -> %s %s/%llu %s\n", when,
		       k8snet_observer_get_str(obs, K8SNET_EVENT_VERDICT),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_DIRECTION),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_DESTINATION),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_PROTOCOL),
		       (unsigned long long)k8snet_observer_get_u64(obs, K8SNET_EVENT_PORT), policy);
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int watch(const struct cli_call *call, struct k8snet_ctx *ctx,
		 struct k8snet_observer *obs, uint32_t count, uint32_t timeout_s)
{
	bool json = call->json || cli_flag(call, OPT_JSON);
	long deadline = timeout_s ? now_ms() + (long)timeout_s * 1000 : 0;
	uint32_t seen = 0;

	while (!count || seen < count) {
		int wait = deadline ? (int)(deadline - now_ms()) : -1;
		int r;

		if (deadline && wait <= 0)
			break;
		r = k8snet_observer_next(obs, wait);
		if (r < 0)
			return cli_report(ctx, r, "observe");
		if (r == 0)
			continue;
		if (print_event(obs, json) != CLI_OK)
			return CLI_FAIL;
		seen++;
	}
	return CLI_OK;
}

int cli_observe(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_observer *obs = NULL;
	uint32_t count = 0, timeout_s = 0, group = 0;
	int r = cli_u32(call, OPT_COUNT, 1, UINT32_MAX, &count);

	if (!r)
		r = cli_u32(call, OPT_TIMEOUT, 1, 86400 * 365, &timeout_s);
	if (!r)
		r = cli_u32(call, OPT_LOG_GROUP, 1, 65535, &group);
	if (r)
		return r;
	r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);
	if (r)
		return r;
	r = k8snet_observer_new(ctx, group, 0, &obs);
	if (r < 0)
		r = cli_report(ctx, r, "observe");
	else
		r = cli_load_args(call, ctx, load_json, obs);
	if (r == CLI_OK)
		r = watch(call, ctx, obs, count, timeout_s);
	k8snet_observer_free(obs);
	k8snet_ctx_free(ctx);
	return r;
}
