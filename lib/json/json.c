/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"

int k8s_json_parse(struct k8snet_ctx *ctx, const char *text, size_t len, cJSON **ret)
{
	const char *end = NULL;
	cJSON *root;

	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0, line = 1, col = 1, i;

		for (i = 0; i < off && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return k8s_error(ctx, -EINVAL, "invalid JSON at line %zu, column %zu", line, col);
	}
	*ret = root;
	return 0;
}

k8s_jref k8s_jref_root(const cJSON *node)
{
	return (k8s_jref){ .node = node, .index = -1 };
}

k8s_jref k8s_jref_member(const k8s_jref *obj, const char *key)
{
	const cJSON *n = NULL;

	if (obj->node && cJSON_IsObject(obj->node))
		n = cJSON_GetObjectItemCaseSensitive(obj->node, key);
	if (n && cJSON_IsNull(n))
		n = NULL;
	return (k8s_jref){ .node = n, .parent = obj, .key = key, .index = -1 };
}

k8s_jref k8s_jref_item(const k8s_jref *arr, int index)
{
	const cJSON *n = NULL;

	if (arr->node && cJSON_IsArray(arr->node))
		n = cJSON_GetArrayItem(arr->node, index);
	return (k8s_jref){ .node = n, .parent = arr, .index = index };
}

static void path_append(FILE *f, const k8s_jref *ref)
{
	if (!ref)
		return;
	path_append(f, ref->parent);
	if (ref->key)
		fprintf(f, "%s%s", ref->parent && (ref->parent->key || ref->parent->index >= 0) ? "." : "",
			ref->key);
	else if (ref->index >= 0)
		fprintf(f, "[%d]", ref->index);
}

char *k8s_jref_path(const k8s_jref *ref)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	path_append(f, ref);
	fclose(f);
	return buf;
}

char *k8s_jref_path_member(const k8s_jref *ref, const char *key)
{
	k8s_jref child = { .parent = ref, .key = key, .index = -1 };

	return k8s_jref_path(&child);
}

int k8s_jerror(struct k8snet_ctx *ctx, const k8s_jref *ref, int err, const char *fmt, ...)
{
	_cleanup_(freep) char *path = k8s_jref_path(ref);
	va_list ap;

	va_start(ap, fmt);
	err = k8s_verror_at(ctx, err, path ? path : "", fmt, ap);
	va_end(ap);
	return err;
}

static int member(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		  bool required, k8s_jref *ret)
{
	*ret = k8s_jref_member(obj, key);
	if (!ret->node && required)
		return k8s_jerror(ctx, ret, -EINVAL, "required field is missing");
	return ret->node ? 1 : 0;
}

int k8s_json_get_object(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			bool required, k8s_jref *ret)
{
	int r = member(ctx, obj, key, required, ret);

	if (r > 0 && !cJSON_IsObject(ret->node))
		return k8s_jerror(ctx, ret, -EINVAL, "must be an object");
	return r;
}

int k8s_json_get_array(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		       bool required, k8s_jref *ret)
{
	int r = member(ctx, obj, key, required, ret);

	if (r > 0 && !cJSON_IsArray(ret->node))
		return k8s_jerror(ctx, ret, -EINVAL, "must be an array");
	return r;
}

int k8s_json_as_str(struct k8snet_ctx *ctx, const k8s_jref *ref, const char **ret)
{
	if (!cJSON_IsString(ref->node))
		return k8s_jerror(ctx, ref, -EINVAL, "must be a string");
	*ret = ref->node->valuestring;
	return 0;
}

int k8s_json_as_int(struct k8snet_ctx *ctx, const k8s_jref *ref, int64_t min, int64_t max,
		    int64_t *ret)
{
	double d;

	if (!cJSON_IsNumber(ref->node))
		return k8s_jerror(ctx, ref, -EINVAL, "must be an integer");
	d = ref->node->valuedouble;
	if (d != floor(d) || !isfinite(d))
		return k8s_jerror(ctx, ref, -EINVAL, "must be an integer");
	if (d < (double)min || d > (double)max)
		return k8s_jerror(ctx, ref, -ERANGE, "%.0f out of range: must be %lld..%lld",
				  d, (long long)min, (long long)max);
	*ret = (int64_t)d;
	return 0;
}

int k8s_json_get_str(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		     bool required, const char **ret)
{
	k8s_jref m;
	int r = member(ctx, obj, key, required, &m);

	if (r <= 0)
		return r;
	r = k8s_json_as_str(ctx, &m, ret);
	return r < 0 ? r : 1;
}

int k8s_json_get_bool(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		      bool required, bool *ret)
{
	k8s_jref m;
	int r = member(ctx, obj, key, required, &m);

	if (r <= 0)
		return r;
	if (!cJSON_IsBool(m.node))
		return k8s_jerror(ctx, &m, -EINVAL, "must be true or false");
	*ret = cJSON_IsTrue(m.node);
	return 1;
}

int k8s_json_get_int(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		     bool required, int64_t min, int64_t max, int64_t *ret)
{
	k8s_jref m;
	int r = member(ctx, obj, key, required, &m);

	if (r <= 0)
		return r;
	r = k8s_json_as_int(ctx, &m, min, max, ret);
	return r < 0 ? r : 1;
}

int k8s_json_get_int_or_str(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			    bool required, int64_t *ret_int, const char **ret_str)
{
	k8s_jref m;
	int r = member(ctx, obj, key, required, &m);

	*ret_int = -1;
	*ret_str = NULL;
	if (r <= 0)
		return r;
	if (cJSON_IsString(m.node)) {
		*ret_str = m.node->valuestring;
		return 1;
	}
	if (!cJSON_IsNumber(m.node))
		return k8s_jerror(ctx, &m, -EINVAL, "must be an integer or a string");
	r = k8s_json_as_int(ctx, &m, 0, INT32_MAX, ret_int);
	return r < 0 ? r : 1;
}

int k8s_json_array_size(const k8s_jref *arr)
{
	return arr->node && cJSON_IsArray(arr->node) ? cJSON_GetArraySize(arr->node) : 0;
}

int k8s_json_for_each_item(struct k8snet_ctx *ctx, const k8s_jref *arr,
			   k8s_json_item_fn fn, void *userdata)
{
	const cJSON *n;
	int i = 0, r;

	if (!arr->node)
		return 0;
	if (!cJSON_IsArray(arr->node))
		return k8s_jerror(ctx, arr, -EINVAL, "must be an array");
	cJSON_ArrayForEach(n, arr->node) {
		k8s_jref item = { .node = n, .parent = arr, .index = i++ };

		r = fn(ctx, &item, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

int k8s_json_for_each_string_pair(struct k8snet_ctx *ctx, const k8s_jref *obj,
				  k8s_json_pair_fn fn, void *userdata)
{
	const cJSON *n;
	int r;

	if (!obj->node)
		return 0;
	if (!cJSON_IsObject(obj->node))
		return k8s_jerror(ctx, obj, -EINVAL, "must be an object");
	cJSON_ArrayForEach(n, obj->node) {
		k8s_jref value = { .node = n, .parent = obj, .key = n->string, .index = -1 };

		if (!cJSON_IsString(n))
			return k8s_jerror(ctx, &value, -EINVAL, "must be a string");
		r = fn(ctx, &value, n->string, n->valuestring, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

int k8s_json_read_meta(struct k8snet_ctx *ctx, const k8s_jref *obj, struct k8s_meta *ret)
{
	k8s_jref md;
	int r;

	*ret = (struct k8s_meta){ 0 };
	if (!cJSON_IsObject(obj->node))
		return k8s_jerror(ctx, obj, -EINVAL, "must be an object");
	r = k8s_json_get_str(ctx, obj, "apiVersion", K8S_OPTIONAL, &ret->api_version);
	if (r >= 0)
		r = k8s_json_get_str(ctx, obj, "kind", K8S_OPTIONAL, &ret->kind);
	if (r >= 0)
		r = k8s_json_get_object(ctx, obj, "metadata", K8S_OPTIONAL, &md);
	if (r > 0) {
		r = k8s_json_get_str(ctx, &md, "name", K8S_OPTIONAL, &ret->name);
		if (r >= 0)
			r = k8s_json_get_str(ctx, &md, "namespace", K8S_OPTIONAL, &ret->namespace_);
		if (r >= 0) {
			k8s_jref labels;

			r = k8s_json_get_object(ctx, &md, "labels", K8S_OPTIONAL, &labels);
			ret->labels = labels.node;
		}
	}
	return r < 0 ? r : 0;
}

static bool is_list(const cJSON *root)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	size_t n;

	if (cJSON_IsString(kind)) {
		n = strlen(kind->valuestring);
		if (n >= 4 && strcmp(kind->valuestring + n - 4, "List") == 0)
			return true;
		return false;
	}
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "items"));
}

struct walk {
	k8s_json_object_fn fn;
	void *userdata;
};

static int walk_one(struct k8snet_ctx *ctx, const k8s_jref *obj, void *userdata)
{
	struct walk *w = userdata;
	struct k8s_meta meta;
	int r = k8s_json_read_meta(ctx, obj, &meta);

	if (r < 0)
		return r;
	return w->fn(ctx, obj, &meta, w->userdata);
}

int k8s_json_for_each_object(struct k8snet_ctx *ctx, const cJSON *root,
			     k8s_json_object_fn fn, void *userdata)
{
	k8s_jref top = k8s_jref_root(root), items;
	struct walk w = { fn, userdata };
	int r;

	if (!cJSON_IsObject(root))
		return k8s_error(ctx, -EINVAL, "a Kubernetes object or List must be a JSON object");
	if (!is_list(root))
		return walk_one(ctx, &top, &w);
	r = k8s_json_get_array(ctx, &top, "items", K8S_REQUIRED, &items);
	if (r < 0)
		return r;
	return k8s_json_for_each_item(ctx, &items, walk_one, &w);
}
