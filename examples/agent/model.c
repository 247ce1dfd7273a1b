/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * From informer objects to the library's models.  Every event changes the
 * models in memory at once (cheap); the kernel is touched only by a sync,
 * so a burst of events becomes one batch per layer.  Objects the library
 * refuses (it validates as strictly as the API server) are logged with the
 * library's message, counted, and left out; a previous version of the same
 * object is taken out too, so the node never runs a version the API no
 * longer has.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "agent.h"

struct strset {
	char **v;
	size_t n;
};

static void strset_free(void *p)
{
	struct strset *s = p;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s);
}

static int strset_add(struct smap *m, const char *key, const char *item)
{
	struct strset *s = smap_get(m, key);
	char **v, *c;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || smap_put(m, key, s, NULL) < 0) {
			free(s);
			return -ENOMEM;
		}
	}
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	c = strdup(item);
	if (!c)
		return -ENOMEM;
	s->v[s->n++] = c;
	return 0;
}

static void strset_del(struct smap *m, const char *key, const char *item)
{
	struct strset *s = smap_get(m, key);
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (strcmp(s->v[i], item) == 0) {
			free(s->v[i]);
			s->v[i] = s->v[--s->n];
			break;
		}
	if (s && !s->n)
		strset_free(smap_del(m, key));
}

static void library_log(void *ud, int prio, const char *msg)
{
	alog(prio, "libk8snet: %s", msg);
}

int model_new_proxy(struct agent *a, struct k8snet_proxy **ret)
{
	struct k8snet_proxy *p = NULL;
	size_t i;
	int r = k8snet_proxy_new(a->model.ctx, &p);

	if (r >= 0)
		r = k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, a->opt.node_name);
	for (i = 0; r >= 0 && i < a->opt.n_cluster_cidrs; i++)
		r = k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, a->opt.cluster_cidrs[i]);
	for (i = 0; r >= 0 && i < a->node.n_addrs; i++)
		r = k8snet_proxy_add_str(p, K8SNET_PROXY_NODE_IP, a->node.addrs[i]);
	/* Unallocated addresses of the service CIDRs are dropped at the node. */
	for (i = 0; r >= 0 && i < a->opt.n_service_cidrs; i++)
		r = k8snet_proxy_add_str(p, K8SNET_PROXY_SERVICE_CIDR, a->opt.service_cidrs[i]);
	/* Topology hints need the node's zone (its Node's label). */
	if (r >= 0 && a->node.zone)
		r = k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_ZONE, a->node.zone);
	if (r < 0) {
		log_err("proxy: %s", k8snet_ctx_get_error(a->model.ctx));
		p = k8snet_proxy_free(p);
	}
	*ret = p;
	return r;
}

int model_init(struct agent *a)
{
	struct model *m = &a->model;
	int r = k8snet_ctx_new(&m->ctx);

	/* Written after the first complete sync even if the cluster is empty,
	 * so a follower always finds the file. */
	m->objects_dirty = true;

	if (r < 0) {
		log_err("k8snet_ctx_new: %s", k8snet_strerror(r));
		return r;
	}
	k8snet_ctx_set_log_fn(m->ctx, library_log, a);
	k8snet_ctx_set_log_priority(m->ctx, agent_log_level >= LOG_LVL_DEBUG ? 7 : 4);
	if (a->opt.netns && (r = k8snet_ctx_set_netns_path(m->ctx, a->opt.netns)) < 0) {
		log_err("--netns %s: %s", a->opt.netns, k8snet_ctx_get_error(m->ctx));
		return r;
	}
	r = k8snet_ctx_connect(m->ctx);
	if (r < 0) {
		log_err("netlink: %s", k8snet_ctx_get_error(m->ctx));
		return r;
	}
	r = model_new_proxy(a, &m->proxy);
	if (r >= 0 && (r = k8snet_policy_db_new(m->ctx, &m->pdb)) < 0)
		log_err("policy: %s", k8snet_ctx_get_error(m->ctx));
	return r;
}

void model_free(struct model *m)
{
	m->proxy = k8snet_proxy_free(m->proxy);
	m->pdb = k8snet_policy_db_free(m->pdb);
	m->ctx = k8snet_ctx_free(m->ctx);
	smap_free(&m->in_proxy, NULL);
	smap_free(&m->slice_svc, free);
	smap_free(&m->svc_slices, strset_free);
	free(m->pending_triggers);
	m->pending_triggers = NULL;
	m->n_triggers = 0;
}

/* "ns/name" -> ns and name (a copy the caller frees; name points into it). */
static char *split_key(const char *key, const char **name)
{
	char *ns = strdup(key), *slash = ns ? strchr(ns, '/') : NULL;

	if (!slash) {
		*name = ns;
		return ns;
	}
	*slash = '\0';
	*name = slash + 1;
	return ns;
}

static void refused(struct agent *a, enum kind k, const char *key)
{
	a->metrics.load_errors[k]++;
	log_warn("%s %s refused by the library (left out): %s", kind_infos[k].kind, key,
		 k8snet_ctx_get_error(a->model.ctx));
}

/* ---- Services and EndpointSlices -> the proxy ---- */

static bool service_for_proxy(const cJSON *svc)
{
	const char *ip = json_str(svc, "spec.clusterIP");

	/* Headless services are DNS only (kube-proxy skips them too). */
	return proxy_selects(svc) && !(ip && strcmp(ip, "None") == 0);
}

static void proxy_drop_service(struct agent *a, const char *key)
{
	const char *name;
	char *ns = split_key(key, &name);

	if (ns && smap_del(&a->model.in_proxy, key)) {
		/* Removing a service removes its slices from the proxy too;
		 * they come back from the informer if the service does. */
		k8snet_proxy_remove_service(a->model.proxy, ns, name);
		a->model.proxy_dirty = true;
	}
	free(ns);
}

static int load_slice_text(struct agent *a, const struct object *o)
{
	return k8snet_proxy_load_json(a->model.proxy, o->json, o->len);
}

static void reload_service_slices(struct agent *a, const char *svc_key)
{
	struct strset *s = smap_get(&a->model.svc_slices, svc_key);
	size_t i;

	for (i = 0; s && i < s->n; i++) {
		const struct object *o = informer_get(&a->inf[K_SLICE], s->v[i]);

		if (o && load_slice_text(a, o) < 0)
			refused(a, K_SLICE, o->key);
	}
}

static void upsert_service(struct agent *a, const struct object *cur, const cJSON *obj)
{
	bool selected = service_for_proxy(obj), was = smap_get(&a->model.in_proxy, cur->key);

	health_service(a, cur->key, obj, selected);
	a->model.zone_dirty = true;
	if (!selected) {
		proxy_drop_service(a, cur->key);
		return;
	}
	if (k8snet_proxy_load_json(a->model.proxy, cur->json, cur->len) < 0) {
		refused(a, K_SERVICE, cur->key);
		proxy_drop_service(a, cur->key);
		return;
	}
	a->model.proxy_dirty = true;
	if (!was) {
		smap_put(&a->model.in_proxy, cur->key, (void *)1, NULL);
		reload_service_slices(a, cur->key);
	}
}

static char *slice_service_key(const cJSON *obj)
{
	const char *ns = json_str(obj, "metadata.namespace");
	const cJSON *labels = json_at(obj, "metadata.labels");
	const cJSON *svc = cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/service-name");

	if (!ns || !cJSON_IsString(svc))
		return NULL;
	return xasprintf("%s/%s", ns, svc->valuestring);
}

static void note_trigger_time(struct agent *a, const cJSON *obj)
{
	const cJSON *ann = json_at(obj, "metadata.annotations");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, "endpoints.kubernetes.io/last-change-trigger-time");
	double when, *nv;

	/* As kube-proxy: changes from before the agent started would only
	 * measure how long it was down. */
	if (!cJSON_IsString(v) || parse_rfc3339(v->valuestring, &when) < 0 ||
	    when < a->model.start_wall)
		return;
	nv = realloc(a->model.pending_triggers, (a->model.n_triggers + 1) * sizeof(*nv));
	if (!nv)
		return;
	a->model.pending_triggers = nv;
	nv[a->model.n_triggers++] = when;
}

static void index_slice(struct agent *a, const char *key, const cJSON *obj)
{
	char *svc = obj ? slice_service_key(obj) : NULL, *old = smap_get(&a->model.slice_svc, key);

	if (old && (!svc || strcmp(old, svc) != 0)) {
		strset_del(&a->model.svc_slices, old, key);
		free(smap_del(&a->model.slice_svc, key));
		old = NULL;
	}
	if (svc && !old) {
		if (smap_put(&a->model.slice_svc, key, svc, NULL) < 0 ||
		    strset_add(&a->model.svc_slices, svc, key) < 0) {
			log_err("out of memory indexing EndpointSlice %s", key);
			return;
		}
		svc = NULL;
	}
	free(svc);
}

static void upsert_slice(struct agent *a, const struct object *cur, const cJSON *obj)
{
	const char *name;
	char *ns;

	index_slice(a, cur->key, obj);
	health_slice(a, cur->key, obj);
	a->model.zone_dirty = true;
	if (proxy_selects(obj)) {
		note_trigger_time(a, obj);
		if (load_slice_text(a, cur) >= 0) {
			a->model.proxy_dirty = true;
			return;
		}
		refused(a, K_SLICE, cur->key);
	}
	ns = split_key(cur->key, &name);
	if (ns && k8snet_proxy_remove_slice(a->model.proxy, ns, name) >= 0)
		a->model.proxy_dirty = true;
	free(ns);
}

static void remove_slice(struct agent *a, const char *key)
{
	const char *name;
	char *ns = split_key(key, &name);

	index_slice(a, key, NULL);
	health_slice_gone(a, key);
	a->model.zone_dirty = true;
	if (ns && k8snet_proxy_remove_slice(a->model.proxy, ns, name) >= 0)
		a->model.proxy_dirty = true;
	free(ns);
}

/* ---- Namespaces, Pods, NetworkPolicies -> the policy database ---- */

static void upsert_policy_object(struct agent *a, enum kind k, const struct object *cur)
{
	a->model.policy_dirty = true;
	if (k8snet_policy_db_load_json(a->model.pdb, cur->json, cur->len) >= 0)
		return;
	refused(a, k, cur->key);
	model_remove(a, k, cur);
}

static void remove_policy_object(struct agent *a, enum kind k, const char *key)
{
	const char *name;
	char *ns = split_key(key, &name);

	if (ns && k8snet_policy_db_delete(a->model.pdb, kind_infos[k].kind,
					  k == K_NAMESPACE ? NULL : ns, name) >= 0)
		a->model.policy_dirty = true;
	free(ns);
}

void model_upsert(struct agent *a, enum kind k, const struct object *old,
		  const struct object *cur, const cJSON *obj)
{
	switch (k) {
	case K_SERVICE:
		upsert_service(a, cur, obj);
		break;
	case K_SLICE:
		upsert_slice(a, cur, obj);
		break;
	case K_POD:
		a->model.zone_dirty = true;
		/* fall through */
	case K_NAMESPACE:
	case K_POLICY:
		upsert_policy_object(a, k, cur);
		break;
	case K_NODE:
		node_upsert(a, obj);
		break;
	case K_COUNT:
		break;
	}
	if (objects_wanted(k))
		a->model.objects_dirty = true;
	runner_queue(a);
}

void model_remove(struct agent *a, enum kind k, const struct object *old)
{
	switch (k) {
	case K_SERVICE:
		health_service_gone(a, old->key);
		proxy_drop_service(a, old->key);
		a->model.zone_dirty = true;
		break;
	case K_SLICE:
		remove_slice(a, old->key);
		break;
	case K_POD:
		a->model.zone_dirty = true;
		/* fall through */
	case K_NAMESPACE:
	case K_POLICY:
		remove_policy_object(a, k, old->key);
		break;
	case K_NODE:
		node_remove(a, old->key);
		break;
	case K_COUNT:
		break;
	}
	if (objects_wanted(k))
		a->model.objects_dirty = true;
	runner_queue(a);
}

int model_reload_kind(struct agent *a, enum kind k)
{
	struct smap_node *n;
	size_t i;

	smap_for_each(&a->inf[k].objects, i, n) {
		const struct object *o = n->val;
		cJSON *obj;

		if (k == K_POD || k == K_NAMESPACE || k == K_POLICY) {
			if (k8snet_policy_db_load_json(a->model.pdb, o->json, o->len) < 0)
				refused(a, k, o->key);
			continue;
		}
		/* Services and slices: the proxy's selection needs the object. */
		obj = cJSON_ParseWithLength(o->json, o->len);
		if (!obj)
			return -ENOMEM;
		if (k == K_SERVICE && service_for_proxy(obj)) {
			if (k8snet_proxy_load_json(a->model.proxy, o->json, o->len) < 0)
				refused(a, k, o->key);
			else
				smap_put(&a->model.in_proxy, o->key, (void *)1, NULL);
		} else if (k == K_SLICE && proxy_selects(obj) && load_slice_text(a, o) < 0) {
			refused(a, k, o->key);
		}
		cJSON_Delete(obj);
	}
	return 0;
}
