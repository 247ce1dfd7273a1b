/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the agent watches, where, with which selector, and what it keeps of
 * each object.  The trim functions play the part of client-go's informer
 * transforms: a real Pod carries managedFields, images, env, volumes and
 * statuses that no layer reads, and a Node its image list; keeping only
 * what the library reads makes 10,000 pods cost a few MB, not hundreds.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

const cJSON *json_at(const cJSON *obj, const char *path)
{
	char part[64];

	while (obj && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		if (len >= sizeof(part))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, part);
		path += len + (dot ? 1 : 0);
	}
	return obj;
}

const char *json_str(const cJSON *obj, const char *path)
{
	const cJSON *v = json_at(obj, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *object_key(const cJSON *obj)
{
	const char *name = json_str(obj, "metadata.name"), *ns = json_str(obj, "metadata.namespace");

	if (!name || !*name)
		return NULL;
	return ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
}

bool proxy_selects(const cJSON *obj)
{
	const cJSON *labels = json_at(obj, "metadata.labels");

	return !cJSON_GetObjectItemCaseSensitive(labels, "service.kubernetes.io/service-proxy-name") &&
	       !cJSON_GetObjectItemCaseSensitive(labels, "service.kubernetes.io/headless");
}

/* Keep only the members of obj named in keep (a NULL-terminated list). */
static void keep_only(cJSON *obj, const char *const *keep)
{
	cJSON *it = obj ? obj->child : NULL, *next;

	for (; it; it = next) {
		const char *const *k;

		next = it->next;
		for (k = keep; *k; k++)
			if (it->string && strcmp(it->string, *k) == 0)
				break;
		if (!*k)
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
	}
}

static void trim_metadata(cJSON *obj, const char *keep_annotation)
{
	static const char *const keep[] = { "name", "namespace", "labels", "resourceVersion",
					    "annotations", NULL };
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata"), *ann;

	keep_only(md, keep);
	ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	if (ann && keep_annotation) {
		const char *const only[] = { keep_annotation, NULL };

		keep_only(ann, only);
	}
	if (ann && (!keep_annotation || !ann->child))
		cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
}

static void trim_node(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", "spec", "status", NULL };
	static const char *const spec[] = { "podCIDR", "podCIDRs", NULL };
	static const char *const status[] = { "addresses", NULL };

	keep_only(obj, top);
	trim_metadata(obj, NULL);
	keep_only(cJSON_GetObjectItemCaseSensitive(obj, "spec"), spec);
	keep_only(cJSON_GetObjectItemCaseSensitive(obj, "status"), status);
}

static void trim_namespace(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", NULL };

	keep_only(obj, top);
	trim_metadata(obj, NULL);
}

static void trim_pod(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", "spec", "status", NULL };
	static const char *const spec[] = { "nodeName", "hostNetwork", "hostname", "subdomain",
					    "containers", NULL };
	static const char *const container[] = { "name", "ports", NULL };
	static const char *const status[] = { "phase", "podIP", "podIPs", "conditions", NULL };
	static const char *const condition[] = { "type", "status", NULL };
	cJSON *it;

	keep_only(obj, top);
	trim_metadata(obj, NULL);
	keep_only(cJSON_GetObjectItemCaseSensitive(obj, "spec"), spec);
	cJSON_ArrayForEach(it, json_at(obj, "spec.containers"))
		keep_only(it, container);
	keep_only(cJSON_GetObjectItemCaseSensitive(obj, "status"), status);
	cJSON_ArrayForEach(it, json_at(obj, "status.conditions"))
		keep_only(it, condition);
}

static void trim_service(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", "spec", "status", NULL };
	static const char *const status[] = { "loadBalancer", NULL };

	keep_only(obj, top);
	trim_metadata(obj, NULL);
	keep_only(cJSON_GetObjectItemCaseSensitive(obj, "status"), status);
}

static void trim_slice(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", "addressType",
					   "endpoints", "ports", NULL };
	cJSON *ep;

	keep_only(obj, top);
	/* The trigger time feeds network_programming_duration_seconds. */
	trim_metadata(obj, "endpoints.kubernetes.io/last-change-trigger-time");
	cJSON_ArrayForEach(ep, cJSON_GetObjectItemCaseSensitive(obj, "endpoints"))
		cJSON_DeleteItemFromObjectCaseSensitive(ep, "targetRef");
}

static void trim_policy(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata", "spec", NULL };

	keep_only(obj, top);
	/* Verdict logging per policy (k8snet_policy_db_set_log(3)) is asked
	 * for with this annotation; without it the agent could not log. */
	trim_metadata(obj, "k8snet.io/log-verdicts");
}

const struct kind_info kind_infos[K_COUNT] = {
	[K_NODE] = { "nodes", "Node", "v1", "/api/v1/nodes", false, NULL, trim_node },
	[K_NAMESPACE] = { "namespaces", "Namespace", "v1", "/api/v1/namespaces", false, NULL,
			  trim_namespace },
	[K_POD] = { "pods", "Pod", "v1", "/api/v1/pods", true, NULL, trim_pod },
	[K_SERVICE] = { "services", "Service", "v1", "/api/v1/services", true,
			PROXY_LABEL_SELECTOR, trim_service },
	[K_SLICE] = { "endpointslices", "EndpointSlice", "discovery.k8s.io/v1",
		      "/apis/discovery.k8s.io/v1/endpointslices", true, PROXY_LABEL_SELECTOR,
		      trim_slice },
	[K_POLICY] = { "networkpolicies", "NetworkPolicy", "networking.k8s.io/v1",
		       "/apis/networking.k8s.io/v1/networkpolicies", true, NULL, trim_policy },
};
