/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz k8snet-cni's network configuration parser (the bridge keys, the
 * host-local ipam section, runtimeConfig) and its result reader/writer
 * (prevResult in every supported version).  The plugin's sources are
 * compiled in; its error reporting is replaced by a stub. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/cni/conf.c"
#include "../../examples/cni/result.c"

static int failure;

int cni_fail(int code, const char *msg, const char *details_fmt, ...)
{
	char buf[256];
	va_list ap;

	(void)msg;
	if (details_fmt) {   /* format it, so bad format arguments show up */
		va_start(ap, details_fmt);
		vsnprintf(buf, sizeof(buf), details_fmt, ap);
		va_end(ap);
	}
	if (!failure)
		failure = code;
	return -1;
}

bool cni_failed(void) { return failure != 0; }
int cni_fail_code(void) { return failure; }
void cni_fail_set_code(int code) { failure = code; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = { "ADD", "DEL", "CHECK", "GC", "STATUS" };
	struct cni_env env = { .command = "ADD", .arg_ip = NULL };
	struct cni_conf conf = { 0 };
	struct cni_result res = { 0 };
	const char *command;
	char *raw;

	if (size < 1)
		return 0;
	command = commands[data[0] % 5];
	raw = malloc(size);
	memcpy(raw, data + 1, size - 1);
	raw[size - 1] = '\0';
	failure = 0;
	/* conf owns raw from here on. */
	if (cni_conf_parse(&conf, raw, size - 1, command, &env) >= 0 && conf.prev_result &&
	    cni_result_from_json(&res, conf.prev_result, "prevResult") >= 0) {
		cJSON *out = cni_result_to_json(&res, conf.version);
		struct cni_result merged = { 0 };

		cni_result_merge(&merged, &res);
		cJSON_Delete(out);
		cni_result_done(&merged);
	}
	cni_result_done(&res);
	cni_conf_done(&conf);
	return 0;
}
