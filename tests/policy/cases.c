/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

const char *const pc_pods[PC_NPODS] = {
	"x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c",
};

cJSON *pc_load(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	cJSON *doc = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0) {
		size = (size_t)n;
		buf = malloc(size + 1);
		rewind(f);
		if (buf && fread(buf, 1, size, f) == size) {
			buf[size] = '\0';
			doc = cJSON_ParseWithLength(buf, size);
		}
	}
	free(buf);
	fclose(f);
	return doc;
}

static cJSON *world_item(const cJSON *doc, const char *kind, const char *ns, const char *name)
{
	const cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "world"), "items");
	cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const cJSON *md = cJSON_GetObjectItem(it, "metadata");
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(it, "kind"));
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));
		const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(md, "namespace"));

		if (strcmp(k, kind) == 0 && strcmp(n, name) == 0 && (!ns || (s && strcmp(s, ns) == 0)))
			return it;
	}
	return NULL;
}

const char *pc_pod_ip(const cJSON *doc, const char *pod)
{
	char ns[2] = { pod[0], 0 };
	const cJSON *it = world_item(doc, "Pod", ns, pod + 2);

	return it ? cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "status"),
							     "podIP")) : NULL;
}

static int load_obj(struct k8snet_policy_db *db, const cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	int r = text ? k8snet_policy_db_load_json(db, text, strlen(text)) : -1;

	free(text);
	return r;
}

/* "pod x/b": "pod=b,pod2=updated" or "namespace y": "ns=y,ns2=updated" */
static int relabel(struct k8snet_policy_db *db, const cJSON *doc, const char *what,
		   const char *labels)
{
	bool is_pod = strncmp(what, "pod ", 4) == 0;
	char ns[2] = { is_pod ? what[4] : 0, 0 };
	cJSON *obj = world_item(doc, is_pod ? "Pod" : "Namespace", is_pod ? ns : NULL,
				is_pod ? what + 6 : what + 10), *copy, *l;
	char *text = strdup(labels), *save = NULL, *tok;
	int r;

	if (!obj || !text) {
		free(text);
		return -1;
	}
	copy = cJSON_Duplicate(obj, 1);
	l = cJSON_CreateObject();
	for (tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		*eq = '\0';
		cJSON_AddStringToObject(l, tok, eq + 1);
	}
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(copy, "metadata"), "labels", l);
	r = load_obj(db, copy);
	cJSON_Delete(copy);
	free(text);
	return r;
}

static int run_step(struct k8snet_policy_db *db, const cJSON *doc, const cJSON *step)
{
	const cJSON *apply = cJSON_GetObjectItem(step, "apply"), *it;
	int r = 0;

	if (apply) {
		cJSON *list = cJSON_CreateObject();

		cJSON_AddStringToObject(list, "kind", "List");
		cJSON_AddItemToObject(list, "items", cJSON_Duplicate(apply, 1));
		r = load_obj(db, list);
		cJSON_Delete(list);
		if (r < 0)
			return r;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(step, "delete")) {
		char *ns = strdup(it->valuestring), *slash = strchr(ns, '/');

		*slash = '\0';
		r = k8snet_policy_db_delete(db, "NetworkPolicy", ns, slash + 1);
		free(ns);
		if (r < 0)
			return r;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(step, "labels")) {
		r = relabel(db, doc, it->string, it->valuestring);
		if (r < 0)
			return r;
	}
	return 0;
}

int pc_run(struct k8snet_ctx *ctx, const cJSON *doc, pc_step_fn fn, void *userdata)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		struct k8snet_policy_db *db = NULL;
		const cJSON *step;
		int i = 0, r;

		if (k8snet_policy_db_new(ctx, &db) < 0 ||
		    load_obj(db, cJSON_GetObjectItem(doc, "world")) < 0) {
			fprintf(stderr, "%s: cannot load the world: %s\n", name, k8snet_ctx_get_error(ctx));
			k8snet_policy_db_free(db);
			return -1;
		}
		cJSON_ArrayForEach(step, cJSON_GetObjectItem(c, "steps")) {
			r = run_step(db, doc, step);
			if (r < 0) {
				fprintf(stderr, "%s: step %d: %s\n", name, i, k8snet_ctx_get_error(ctx));
				k8snet_policy_db_free(db);
				return -1;
			}
			r = fn(userdata, db, name, i++, cJSON_GetObjectItem(step, "probes"));
			if (r) {
				k8snet_policy_db_free(db);
				return r;
			}
		}
		k8snet_policy_db_free(db);
	}
	return 0;
}

static bool pattern_matches(const char *pattern, const char *pod)
{
	if (strcmp(pattern, "*") == 0)
		return true;
	if (pattern[1] == '/' && pattern[2] == '*')
		return pattern[0] == pod[0];
	return strcmp(pattern, pod) == 0;
}

bool pc_expected(const cJSON *probe, const char *from, const char *to)
{
	const cJSON *e;
	bool v = true;

	if (strcmp(from, to) == 0)
		return true;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(probe, "expect")) {
		if (pattern_matches(cJSON_GetArrayItem(e, 0)->valuestring, from) &&
		    pattern_matches(cJSON_GetArrayItem(e, 1)->valuestring, to))
			v = cJSON_IsTrue(cJSON_GetArrayItem(e, 2));
	}
	return v;
}
