/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy database: namespaces, pods, policies, and the calls that fill it. */
#include <string.h>

#include "core/hash.h"
#include "core/strbuf.h"
#include "core/vec.h"
#include "policy/internal.h"

static char *ns_key(const char *ns, const char *name)
{
	return k8s_asprintf("%s/%s", ns, name);
}


/* ---- objects ---- */

void pl_pod_clear(struct pl_pod *p)
{
	size_t i;

	free(p->ns);
	free(p->name);
	pl_labels_clear(&p->labels);
	free(p->ips);
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].name);
	free(p->ports);
	free(p->node);
	*p = (struct pl_pod){ 0 };
}

void pl_peer_clear(struct pl_peer *p)
{
	pl_selector_clear(&p->pod_sel);
	pl_selector_clear(&p->ns_sel);
	free(p->except);
	*p = (struct pl_peer){ 0 };
}

int pl_peer_copy(struct pl_peer *dst, const struct pl_peer *src)
{
	*dst = *src;
	dst->pod_sel = dst->ns_sel = (struct pl_selector){ 0 };
	dst->except = NULL;
	if (src->nexcept) {
		dst->except = malloc(src->nexcept * sizeof(*dst->except));
		if (!dst->except)
			return -ENOMEM;
		memcpy(dst->except, src->except, src->nexcept * sizeof(*dst->except));
	}
	if (pl_selector_copy(&dst->pod_sel, &src->pod_sel) < 0 ||
	    pl_selector_copy(&dst->ns_sel, &src->ns_sel) < 0) {
		pl_peer_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Remember what changed since the last sync, so that pod churn can be
 * synced as element updates. */
void pl_db_mark_pod(struct k8snet_policy_db *db, const char *ns, const char *name)
{
	char *k = ns_key(ns, name);
	size_t dummy;

	/* Before the first sync (or after a failed one) everything is rebuilt. */
	if (!k || db->struct_dirty || !db->last) {
		free(k);
		return;
	}
	if (k8s_map_get_index(&db->dirty_map, k, &dummy)) {
		free(k);
		return;
	}
	if (k8s_grow(&db->dirty, &db->dirty_cap, db->ndirty, sizeof(char *)) < 0 ||
	    k8s_map_put_index(&db->dirty_map, k, 1) < 0) {
		free(k);
		db->struct_dirty = true;  /* cannot track: rebuild */
		return;
	}
	db->dirty[db->ndirty++] = k;
}

void pl_db_clear_dirty(struct k8snet_policy_db *db)
{
	size_t i;

	for (i = 0; i < db->ndirty; i++)
		free(db->dirty[i]);
	db->ndirty = 0;
	k8s_map_free(&db->dirty_map, NULL);
	db->struct_dirty = false;
}

static void rules_free(struct pl_rule *rules, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < rules[i].npeers; j++)
			pl_peer_clear(&rules[i].peers[j]);
		free(rules[i].peers);
		for (j = 0; j < rules[i].nports; j++)
			free(rules[i].ports[j].name);
		free(rules[i].ports);
	}
	free(rules);
}

void pl_policy_clear(struct pl_policy *p)
{
	free(p->ns);
	free(p->name);
	pl_selector_clear(&p->pod_sel);
	rules_free(p->in, p->nin);
	rules_free(p->eg, p->neg);
	*p = (struct pl_policy){ 0 };
}

struct pl_ns *pl_db_ns(struct k8snet_policy_db *db, const char *name)
{
	size_t i;

	return k8s_map_get_index(&db->ns_by_name, name, &i) ? &db->ns[i] : NULL;
}

struct pl_pod *pl_db_pod(struct k8snet_policy_db *db, const char *ns, const char *name)
{
	_cleanup_(freep) char *k = ns_key(ns, name);
	size_t i;

	return k && k8s_map_get_index(&db->pod_by_name, k, &i) ? &db->pods[i] : NULL;
}

struct pl_pod *pl_db_pod_by_ip(struct k8snet_policy_db *db, const struct pl_addr *a)
{
	char buf[64];
	size_t i;

	return k8s_map_get_index(&db->pod_by_ip, pl_addr_str(a, buf), &i) ? &db->pods[i] : NULL;
}

int pl_db_put_ns(struct k8snet_policy_db *db, const char *name, struct pl_labels *labels)
{
	struct pl_ns *ns = pl_db_ns(db, name);
	int r = pl_labels_set(labels, "kubernetes.io/metadata.name", name);

	if (r < 0)
		return r;
	db->struct_dirty = true;
	if (ns) {
		pl_labels_clear(&ns->labels);
		ns->labels = *labels;
		*labels = (struct pl_labels){ 0 };
		return 0;
	}
	r = k8s_grow(&db->ns, &db->nns_cap, db->nns, sizeof(*db->ns));
	if (r < 0)
		return r;
	ns = &db->ns[db->nns];
	ns->name = strdup(name);
	if (!ns->name || k8s_map_put_index(&db->ns_by_name, name, db->nns) < 0) {
		free(ns->name);
		return -ENOMEM;
	}
	ns->labels = *labels;
	*labels = (struct pl_labels){ 0 };
	db->nns++;
	return 0;
}

static void unindex_ips(struct k8snet_policy_db *db, const struct pl_pod *p, size_t idx)
{
	char buf[64];
	size_t i, cur;

	for (i = 0; i < p->nips; i++)
		if (k8s_map_get_index(&db->pod_by_ip, pl_addr_str(&p->ips[i], buf), &cur) && cur == idx)
			k8s_map_remove(&db->pod_by_ip, buf);
}

int pl_db_put_pod(struct k8snet_policy_db *db, struct pl_pod *pod)
{
	_cleanup_(freep) char *k = ns_key(pod->ns, pod->name);
	char buf[64];
	size_t idx, i;
	int r;

	if (!k)
		return -ENOMEM;
	pl_db_mark_pod(db, pod->ns, pod->name);
	if (k8s_map_get_index(&db->pod_by_name, k, &idx)) {
		unindex_ips(db, &db->pods[idx], idx);
		pl_pod_clear(&db->pods[idx]);
	} else {
		r = k8s_grow(&db->pods, &db->npods_cap, db->npods, sizeof(*db->pods));
		if (r < 0)
			return r;
		idx = db->npods;
		r = k8s_map_put_index(&db->pod_by_name, k, idx);
		if (r < 0)
			return r;
		db->npods++;
	}
	db->pods[idx] = *pod;
	*pod = (struct pl_pod){ 0 };
	/* hostNetwork pods carry the node's addresses: they are not pod peers. */
	for (i = 0; i < db->pods[idx].nips && !db->pods[idx].host_network; i++) {
		r = k8s_map_put_index(&db->pod_by_ip, pl_addr_str(&db->pods[idx].ips[i], buf), idx);
		if (r < 0)
			return r;
	}
	return 0;
}

int pl_db_put_policy(struct k8snet_policy_db *db, struct pl_policy *pol)
{
	_cleanup_(freep) char *k = ns_key(pol->ns, pol->name);
	size_t idx;
	int r;

	if (!k)
		return -ENOMEM;
	db->struct_dirty = true;
	if (k8s_map_get_index(&db->pol_by_name, k, &idx)) {
		pl_policy_clear(&db->pol[idx]);
	} else {
		r = k8s_grow(&db->pol, &db->npol_cap, db->npol, sizeof(*db->pol));
		if (r < 0)
			return r;
		idx = db->npol;
		r = k8s_map_put_index(&db->pol_by_name, k, idx);
		if (r < 0)
			return r;
		db->npol++;
	}
	db->pol[idx] = *pol;
	*pol = (struct pl_policy){ 0 };
	return 0;
}

/* ---- selection ---- */

bool pl_policy_selects(const struct pl_policy *pol, const struct pl_pod *pod)
{
	return !pol->dead && !pod->dead && !pod->host_network && strcmp(pol->ns, pod->ns) == 0 &&
	       pl_selector_matches(&pol->pod_sel, &pod->labels);
}

bool pl_peer_matches_pod(struct k8snet_policy_db *db, const struct pl_policy *pol,
			 const struct pl_peer *peer, const struct pl_pod *pod)
{
	const struct pl_ns *ns;
	size_t i;

	if (pod->dead || pod->host_network)
		return false;
	if (peer->is_block) {
		for (i = 0; i < pod->nips; i++) {
			size_t j;
			bool in = pl_cidr_contains(&peer->cidr, &pod->ips[i]);

			for (j = 0; in && j < peer->nexcept; j++)
				if (pl_cidr_contains(&peer->except[j], &pod->ips[i]))
					in = false;
			if (in)
				return true;
		}
		return false;
	}
	if (peer->has_ns_sel) {
		ns = pl_db_ns(db, pod->ns);
		/* A namespace we were not told about has only its name label. */
		if (ns) {
			if (!pl_selector_matches(&peer->ns_sel, &ns->labels))
				return false;
		} else {
			struct pl_labels l = { 0 };
			bool m;

			if (pl_labels_set(&l, "kubernetes.io/metadata.name", pod->ns) < 0)
				return false;
			m = pl_selector_matches(&peer->ns_sel, &l);
			pl_labels_clear(&l);
			if (!m)
				return false;
		}
	} else if (strcmp(pod->ns, pol->ns) != 0) {
		return false;
	}
	return !peer->has_pod_sel || pl_selector_matches(&peer->pod_sel, &pod->labels);
}

/* ---- public API ---- */

K8SNET_EXPORT int k8snet_policy_db_new(struct k8snet_ctx *ctx, struct k8snet_policy_db **ret)
{
	struct k8snet_policy_db *db;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, ret);
	db = calloc(1, sizeof(*db));
	if (!db)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	db->ctx = k8snet_ctx_ref(ctx);
	*ret = db;
	return 0;
}

K8SNET_EXPORT struct k8snet_policy_db *k8snet_policy_db_free(struct k8snet_policy_db *db)
{
	size_t i;

	if (!db)
		return NULL;
	for (i = 0; i < db->nns; i++) {
		free(db->ns[i].name);
		pl_labels_clear(&db->ns[i].labels);
	}
	free(db->ns);
	for (i = 0; i < db->npods; i++)
		pl_pod_clear(&db->pods[i]);
	free(db->pods);
	for (i = 0; i < db->npol; i++)
		pl_policy_clear(&db->pol[i]);
	free(db->pol);
	k8s_map_free(&db->ns_by_name, NULL);
	k8s_map_free(&db->pod_by_name, NULL);
	k8s_map_free(&db->pol_by_name, NULL);
	k8s_map_free(&db->pod_by_ip, NULL);
	pl_plan_free(db->last);
	free(db->last_node);
	pl_db_clear_dirty(db);
	free(db->dirty);
	k8snet_ctx_unref(db->ctx);
	free(db);
	return NULL;
}

K8SNET_EXPORT int k8snet_policy_db_load_json(struct k8snet_policy_db *db, const char *json,
					     size_t len)
{
	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, json);
	return pl_read_json(db, json, len);
}

K8SNET_EXPORT int k8snet_policy_db_set_namespace(struct k8snet_policy_db *db, const char *name,
						 const char *labels)
{
	struct pl_labels l;
	const char *err;
	int r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, name);
	err = pl_check_dns_label(name);
	if (err)
		return k8s_error_at(db->ctx, -EINVAL, "name", "'%s': %s", name, err);
	r = pl_labels_parse(db->ctx, labels, &l);
	if (r < 0)
		return r;
	r = pl_db_put_ns(db, name, &l);
	pl_labels_clear(&l);
	return r < 0 ? k8s_error(db->ctx, r, "out of memory") : 0;
}

static int parse_ips(struct k8snet_ctx *ctx, const char *ips, struct pl_pod *pod)
{
	char *copy = strdup(ips ? ips : ""), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		struct pl_addr *n = realloc(pod->ips, (pod->nips + 1) * sizeof(*n));

		if (!n) {
			r = -ENOMEM;
			break;
		}
		pod->ips = n;
		if (pl_addr_parse(tok, &pod->ips[pod->nips]) < 0) {
			r = k8s_error_at(ctx, -EINVAL, "ips", "'%s' is not an IP address", tok);
			break;
		}
		pod->nips++;
	}
	free(copy);
	return r;
}

K8SNET_EXPORT int k8snet_policy_db_set_pod(struct k8snet_policy_db *db, const char *ns,
					   const char *name, const char *labels,
					   const char *ips, const char *node, uint32_t flags)
{
	struct pl_pod pod = { 0 };
	const char *err;
	int r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, ns && name);
	K8S_CHECK_ARG(db->ctx, !(flags & ~K8SNET_POLICY_POD_HOST_NETWORK));
	err = pl_check_dns_label(ns);
	if (err)
		return k8s_error_at(db->ctx, -EINVAL, "namespace", "'%s': %s", ns, err);
	err = pl_check_dns_subdomain(name);
	if (err)
		return k8s_error_at(db->ctx, -EINVAL, "name", "'%s': %s", name, err);
	r = pl_labels_parse(db->ctx, labels, &pod.labels);
	if (r < 0)
		return r;
	r = parse_ips(db->ctx, ips, &pod);
	if (r >= 0) {
		pod.ns = strdup(ns);
		pod.name = strdup(name);
		pod.node = node ? strdup(node) : NULL;
		pod.host_network = flags & K8SNET_POLICY_POD_HOST_NETWORK;
		if (!pod.ns || !pod.name || (node && !pod.node))
			r = -ENOMEM;
	}
	if (r >= 0)
		r = pl_db_put_pod(db, &pod);
	pl_pod_clear(&pod);
	return r == -ENOMEM ? k8s_error(db->ctx, r, "out of memory") : r;
}

K8SNET_EXPORT int k8snet_policy_db_add_pod_port(struct k8snet_policy_db *db, const char *ns,
						const char *pod, const char *port_name,
						const char *protocol, uint32_t port)
{
	struct pl_pod *p;
	struct pl_cport *n;
	const char *err;
	int proto;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, ns && pod && protocol);
	p = pl_db_pod(db, ns, pod);
	if (!p)
		return k8s_error(db->ctx, -ENOENT, "pod %s/%s: not found", ns, pod);
	proto = pl_proto_parse(protocol);
	if (proto < 0)
		return k8s_error_at(db->ctx, -EINVAL, "protocol",
				    "'%s': must be TCP, UDP or SCTP", protocol);
	if (port < 1 || port > 65535)
		return k8s_error_at(db->ctx, -ERANGE, "containerPort",
				    "%u out of range: must be 1..65535", port);
	if (port_name && (err = pl_check_port_name(port_name)))
		return k8s_error_at(db->ctx, -EINVAL, "name", "'%s': %s", port_name, err);
	n = realloc(p->ports, (p->nports + 1) * sizeof(*n));
	if (!n)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	p->ports = n;
	pl_db_mark_pod(db, ns, pod);
	n[p->nports] = (struct pl_cport){ port_name ? strdup(port_name) : NULL, (uint8_t)proto,
					  (uint16_t)port };
	if (port_name && !n[p->nports].name)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	p->nports++;
	return 0;
}

K8SNET_EXPORT int k8snet_policy_db_delete(struct k8snet_policy_db *db, const char *kind,
					  const char *ns, const char *name)
{
	_cleanup_(freep) char *k = NULL;
	size_t idx;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, kind && name);
	if (strcmp(kind, "Namespace") == 0) {
		struct pl_ns *n = pl_db_ns(db, name);

		if (!n)
			return k8s_error(db->ctx, -ENOENT, "namespace %s: not found", name);
		/* Keep the slot; only the name label remains, as for an unknown one. */
		db->struct_dirty = true;
		pl_labels_clear(&n->labels);
		return pl_labels_set(&n->labels, "kubernetes.io/metadata.name", name);
	}
	K8S_CHECK_ARG(db->ctx, ns);
	k = ns_key(ns, name);
	if (!k)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	if (strcmp(kind, "Pod") == 0) {
		if (!k8s_map_get_index(&db->pod_by_name, k, &idx))
			return k8s_error(db->ctx, -ENOENT, "pod %s: not found", k);
		pl_db_mark_pod(db, ns, name);
		unindex_ips(db, &db->pods[idx], idx);
		k8s_map_remove(&db->pod_by_name, k);
		pl_pod_clear(&db->pods[idx]);
		db->pods[idx].dead = true;
		return 0;
	}
	if (strcmp(kind, "NetworkPolicy") == 0) {
		if (!k8s_map_get_index(&db->pol_by_name, k, &idx))
			return k8s_error(db->ctx, -ENOENT, "networkpolicy %s: not found", k);
		db->struct_dirty = true;
		k8s_map_remove(&db->pol_by_name, k);
		pl_policy_clear(&db->pol[idx]);
		db->pol[idx].dead = true;
		return 0;
	}
	return k8s_error_at(db->ctx, -EINVAL, "kind",
			    "'%s': must be Namespace, Pod or NetworkPolicy", kind);
}

K8SNET_EXPORT int k8snet_policy_selector_match(struct k8snet_ctx *ctx, const char *selector,
					       const char *labels)
{
	struct pl_selector sel;
	struct pl_labels l;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx)
		return -EINVAL;
	K8S_CHECK_ARG(ctx, selector && labels);
	r = pl_selector_parse(ctx, selector, &sel);
	if (r < 0)
		return r;
	r = pl_labels_parse(ctx, labels, &l);
	if (r >= 0) {
		r = pl_selector_matches(&sel, &l) ? 1 : 0;
		pl_labels_clear(&l);
	}
	pl_selector_clear(&sel);
	return r;
}
