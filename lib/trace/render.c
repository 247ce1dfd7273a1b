/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The explanation as text: the answer alone on the first line, then the
 * hops, then each judged endpoint with its verdicts and path. */
#include <stdio.h>
#include <string.h>

#include "trace/internal.h"

static const char *str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_side(FILE *f, const cJSON *ep, const char *side)
{
	const cJSON *s = cJSON_GetObjectItem(ep, side), *reason;

	fprintf(f, "    %s: %s\n", side,
		cJSON_IsTrue(cJSON_GetObjectItem(s, "allowed")) ? "allowed" : "denied");
	cJSON_ArrayForEach(reason, cJSON_GetObjectItem(s, "reasons"))
		fprintf(f, "      %s\n", reason->valuestring);
}

static void print_endpoint(FILE *f, const cJSON *ep)
{
	const char *pod = str(ep, "pod"), *node = str(ep, "node"), *seen = str(ep, "source_seen");

	fprintf(f, "to %s:%d%s%s%s%s%s: %s\n", str(ep, "address"),
		cJSON_GetObjectItem(ep, "port")->valueint, pod ? " (" : "", pod ? pod : "",
		node ? " on " : "", node ? node : "", pod ? ")" : "", str(ep, "verdict"));
	if (seen)
		fprintf(f, "    source seen there: %s (masqueraded)\n", seen);
	print_side(f, ep, "egress");
	print_side(f, ep, "ingress");
	fprintf(f, "    path: %s\n", str(ep, "path"));
}

char *tr_render_text(const cJSON *root)
{
	const cJSON *from = cJSON_GetObjectItem(root, "from"), *hop, *ep;
	const char *pod = str(from, "pod"), *addr = str(from, "address"), *node = str(from, "node");
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fprintf(f, "%s\n", str(root, "verdict"));
	fprintf(f, "from: %s%s%s%s%s%s\n", pod ? pod : str(from, "text"), addr ? " (" : "",
		addr ? addr : "", node ? ", node " : "", node ? node : "", addr ? ")" : "");
	fprintf(f, "to: %s %s/%d\n", str(root, "to"), str(root, "protocol"),
		cJSON_GetObjectItem(root, "port")->valueint);
	cJSON_ArrayForEach(hop, cJSON_GetObjectItem(root, "hops")) {
		const char *name = str(hop, "hop");

		if (strcmp(name, "answer") != 0)
			fprintf(f, "%s: %s\n", name, str(hop, "text"));
	}
	cJSON_ArrayForEach(ep, cJSON_GetObjectItem(root, "endpoints"))
		print_endpoint(f, ep);
	cJSON_ArrayForEach(hop, cJSON_GetObjectItem(root, "hops"))
		if (strcmp(str(hop, "hop"), "answer") == 0)
			fprintf(f, "answer: %s\n", str(hop, "text"));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
