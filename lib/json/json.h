/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading Kubernetes objects with errors that name the field.
 *
 * A k8s_jref is a cJSON node plus how we reached it (parent + key or index).
 * Refs live on the stack as we descend, so building paths costs nothing
 * until an error needs one: "items[3].spec.ports[0].port: must be 1..65535".
 */
#ifndef K8SNET_JSON_H
#define K8SNET_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/internal.h"

typedef struct k8s_jref {
	const cJSON *node;             /* NULL when the field is absent or null */
	const struct k8s_jref *parent;
	const char *key;               /* set for object members */
	int index;                     /* set (>= 0) for array items */
} k8s_jref;

/* Parse text; on failure the error names the line and column. */
int k8s_json_parse(struct k8snet_ctx *ctx, const char *text, size_t len, cJSON **ret);

k8s_jref k8s_jref_root(const cJSON *node);
/* Member key of an object (node NULL if absent or JSON null). */
k8s_jref k8s_jref_member(const k8s_jref *obj, const char *key);
k8s_jref k8s_jref_item(const k8s_jref *arr, int index);
/* Path of a ref ("items[3].spec.ports[0].port"); "" for the root. malloc'd. */
char *k8s_jref_path(const k8s_jref *ref);
/* Path of ref extended by a member name without descending. malloc'd. */
char *k8s_jref_path_member(const k8s_jref *ref, const char *key);

/* An error at ref: "PATH: message". Returns err. */
int k8s_jerror(struct k8snet_ctx *ctx, const k8s_jref *ref, int err,
	       const char *fmt, ...) _printf_(4, 5);

/* Typed getters. "required" fields that are absent give -EINVAL "required".
 * Absent optional fields return 0 and leave *ret alone ("found" is false). */
#define K8S_OPTIONAL false
#define K8S_REQUIRED true
int k8s_json_get_object(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			bool required, k8s_jref *ret);
int k8s_json_get_array(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		       bool required, k8s_jref *ret);
int k8s_json_get_str(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		     bool required, const char **ret);
int k8s_json_get_bool(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		      bool required, bool *ret);
/* An integer within [min, max]; "must be MIN..MAX" otherwise. */
int k8s_json_get_int(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		     bool required, int64_t min, int64_t max, int64_t *ret);
/* The same checks on a ref itself (array items, map values). */
int k8s_json_as_str(struct k8snet_ctx *ctx, const k8s_jref *ref, const char **ret);
int k8s_json_as_int(struct k8snet_ctx *ctx, const k8s_jref *ref, int64_t min, int64_t max,
		    int64_t *ret);

/* Kubernetes IntOrString (targetPort, NetworkPolicy ports). Exactly one of
 * *ret_int (>= 0) or *ret_str (non-NULL) is set. */
int k8s_json_get_int_or_str(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			    bool required, int64_t *ret_int, const char **ret_str);

int k8s_json_array_size(const k8s_jref *arr);

/* Call fn for each item of an array ref (absent = empty). Stops at the first
 * negative return and returns it. */
typedef int (*k8s_json_item_fn)(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata);
int k8s_json_for_each_item(struct k8snet_ctx *ctx, const k8s_jref *arr,
			   k8s_json_item_fn fn, void *userdata);

/* Call fn for each string member of an object ref (labels, annotations). */
typedef int (*k8s_json_pair_fn)(struct k8snet_ctx *ctx, const k8s_jref *value,
				const char *key, const char *val, void *userdata);
int k8s_json_for_each_string_pair(struct k8snet_ctx *ctx, const k8s_jref *obj,
				  k8s_json_pair_fn fn, void *userdata);

/* The common part of every Kubernetes object. */
struct k8s_meta {
	const char *api_version;   /* "v1", "discovery.k8s.io/v1" */
	const char *kind;          /* "Service" */
	const char *name;
	const char *namespace_;    /* NULL for cluster-scoped objects */
	const cJSON *labels;       /* metadata.labels, NULL when there are none */
};
int k8s_json_read_meta(struct k8snet_ctx *ctx, const k8s_jref *obj, struct k8s_meta *ret);

/*
 * Walk a document as `kubectl get ... -o json` prints it: a List (any kind
 * ending in "List", or an object with "items") or a single object.  fn gets
 * each object with its ref ("items[3]" or the root) and its metadata.  Items
 * whose kind the caller does not handle are for fn to skip.
 */
typedef int (*k8s_json_object_fn)(struct k8snet_ctx *ctx, const k8s_jref *obj,
				  const struct k8s_meta *meta, void *userdata);
int k8s_json_for_each_object(struct k8snet_ctx *ctx, const cJSON *root,
			     k8s_json_object_fn fn, void *userdata);

#endif
