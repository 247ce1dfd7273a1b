/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything the agent needs that the library does not offer yet, in one
 * place, each piece with what will replace it:
 *
 *  - health data per Service (healthCheckNodePort, local endpoint counts):
 *    computed here from the objects the agent holds.  Replaced by the NAT
 *    layer's health data (issue 15), which counts what it programmed.
 *  - node addresses that went away: a new proxy loaded from the informers
 *    (a proxy's address lists only grow).  Replaced by a call that clears
 *    a list attribute.  (Full resyncs are k8snet_proxy_sync_full() and
 *    k8snet_policy_db_sync_full().)
 *  - peers installed by an earlier run: here, a small state file under
 *    --state-dir (a tmpfs: peer routes do not outlive a reboot either).
 *    Replaced by the link layer listing the routes, neighbours and FDB
 *    entries it tags with its own route protocol (issue 16's library part).
 *  (Service CIDRs, the node's zone and stale UDP conntrack entries are the
 *  NAT layer's now: model.c and node.c hand it the first two, and its sync
 *  deletes the third.  Its health data, k8snet_proxy_get_health(), could
 *  replace the first item; not done yet.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <k8snet/k8snet.h>

#include "agent.h"

/* ---- health data ---- */

struct health_entry {
	struct health_svc s;
	bool has_service;
};

struct health_slice {
	char *svc_key;
	int64_t local_ready, total_ready;
};

static struct health_entry *health_entry(struct health *h, const char *key, bool create)
{
	struct health_entry *e = smap_get(&h->svcs, key);

	if (e || !create)
		return e;
	e = calloc(1, sizeof(*e));
	if (e && smap_put(&h->svcs, key, e, NULL) < 0) {
		free(e);
		e = NULL;
	}
	return e;
}

static void health_entry_maybe_drop(struct health *h, const char *key)
{
	struct health_entry *e = smap_get(&h->svcs, key);

	if (e && !e->has_service && !e->s.local_ready && !e->s.total_ready)
		free(smap_del(&h->svcs, key));
}

void health_service(struct agent *a, const char *key, const cJSON *svc, bool selected)
{
	struct health_entry *e = health_entry(&a->health, key, true);
	const cJSON *port = json_at(svc, "spec.healthCheckNodePort");
	const char *etp = json_str(svc, "spec.externalTrafficPolicy");
	const char *itp = json_str(svc, "spec.internalTrafficPolicy");
	uint16_t old_port;
	bool old_selected;

	if (!e)
		return;
	old_port = e->s.hc_node_port;
	old_selected = e->s.selected;
	e->has_service = true;
	e->s.selected = selected;
	e->s.etp_local = etp && strcmp(etp, "Local") == 0;
	e->s.itp_local = itp && strcmp(itp, "Local") == 0;
	e->s.hc_node_port = cJSON_IsNumber(port) && port->valueint > 0 && port->valueint < 65536 &&
			    e->s.etp_local ? (uint16_t)port->valueint : 0;
	if (e->s.hc_node_port != old_port || (e->s.hc_node_port && selected != old_selected))
		a->health.ports_dirty = true;
}

void health_service_gone(struct agent *a, const char *key)
{
	struct health_entry *e = health_entry(&a->health, key, false);

	if (!e)
		return;
	if (e->s.hc_node_port)
		a->health.ports_dirty = true;
	e->has_service = false;
	e->s.hc_node_port = 0;
	e->s.selected = false;
	health_entry_maybe_drop(&a->health, key);
}

static void count_endpoints(struct agent *a, const cJSON *slice, int64_t *local, int64_t *total)
{
	const cJSON *ep;

	*local = *total = 0;
	cJSON_ArrayForEach(ep, cJSON_GetObjectItemCaseSensitive(slice, "endpoints")) {
		const cJSON *ready = json_at(ep, "conditions.ready");
		const char *node = json_str(ep, "nodeName");

		/* An absent ready condition means ready (the API's rule). */
		if (ready && !cJSON_IsTrue(ready))
			continue;
		(*total)++;
		if (node && strcmp(node, a->opt.node_name) == 0)
			(*local)++;
	}
}

static void slice_contribute(struct agent *a, const struct health_slice *s, int sign)
{
	struct health_entry *e;

	if (!s || !s->svc_key)
		return;
	e = health_entry(&a->health, s->svc_key, sign > 0);
	if (!e)
		return;
	e->s.local_ready += sign * s->local_ready;
	e->s.total_ready += sign * s->total_ready;
	if (sign < 0)
		health_entry_maybe_drop(&a->health, s->svc_key);
}

static void health_slice_free(void *p)
{
	struct health_slice *s = p;

	if (s)
		free(s->svc_key);
	free(s);
}

void health_slice(struct agent *a, const char *key, const cJSON *slice)
{
	struct health_slice *s = calloc(1, sizeof(*s)), *old = NULL;
	const char *ns = json_str(slice, "metadata.namespace");
	const cJSON *svc = json_at(slice, "metadata.labels");

	if (!s)
		return;
	svc = cJSON_GetObjectItemCaseSensitive(svc, "kubernetes.io/service-name");
	if (ns && cJSON_IsString(svc) && proxy_selects(slice))
		s->svc_key = xasprintf("%s/%s", ns, svc->valuestring);
	count_endpoints(a, slice, &s->local_ready, &s->total_ready);
	if (smap_put(&a->health.slices, key, s, (void **)&old) < 0) {
		health_slice_free(s);
		return;
	}
	slice_contribute(a, old, -1);
	slice_contribute(a, s, +1);
	health_slice_free(old);
}

void health_slice_gone(struct agent *a, const char *key)
{
	struct health_slice *old = smap_del(&a->health.slices, key);

	slice_contribute(a, old, -1);
	health_slice_free(old);
}

const struct health_svc *health_get(struct agent *a, const char *svc_key)
{
	struct health_entry *e = smap_get(&a->health.svcs, svc_key);

	return e && e->has_service ? &e->s : NULL;
}

void health_no_local(struct agent *a, uint64_t *internal, uint64_t *external)
{
	struct smap_node *n;
	size_t i;

	*internal = *external = 0;
	smap_for_each(&a->health.svcs, i, n) {
		const struct health_entry *e = n->val;

		if (!e->has_service || !e->s.selected || !e->s.total_ready || e->s.local_ready)
			continue;
		*internal += e->s.itp_local;
		*external += e->s.etp_local;
	}
}

void health_free(struct health *h)
{
	smap_free(&h->svcs, free);
	smap_free(&h->slices, health_slice_free);
}

/* ---- full resyncs ---- */

int stopgap_proxy_rebuild(struct agent *a)
{
	struct k8snet_proxy *p = NULL;
	int r = model_new_proxy(a, &p);

	if (r < 0)
		return r;
	k8snet_proxy_free(a->model.proxy);
	a->model.proxy = p;
	smap_free(&a->model.in_proxy, NULL);
	r = model_reload_kind(a, K_SERVICE);
	if (r >= 0)
		r = model_reload_kind(a, K_SLICE);
	a->model.proxy_dirty = true;
	return r;
}

/* ---- peers remembered across restarts ---- */

static char *peers_file(struct agent *a)
{
	return xasprintf("%s/%s.peers", a->opt.state_dir, a->opt.node_name);
}

int stopgap_peers_load(struct agent *a)
{
	char *path = peers_file(a), *text = path ? read_file(path, NULL) : NULL, *line, *save;
	int n = 0;

	if (!text) {
		free(path);
		return 0;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[512], cidr[128], ip[128], mode[16];
		struct peer *p;

		if (sscanf(line, "%511s %15s %127s %127s", key, mode, cidr, ip) != 4)
			continue;
		p = calloc(1, sizeof(*p));
		if (!p)
			break;
		p->mode = strcmp(mode, "vxlan") == 0 ? K8SNET_LINK_PEER_VXLAN : K8SNET_LINK_PEER_HOST_GW;
		p->cidr = strdup(cidr);
		p->ip = strdup(ip);
		if (!p->cidr || !p->ip || smap_put(&a->node.have, key, p, NULL) < 0) {
			peer_free(p);
			break;
		}
		n++;
	}
	if (n)
		log_info("%d peer routes installed by an earlier run (%s)", n, path);
	free(text);
	free(path);
	return n;
}

int stopgap_peers_save(struct agent *a)
{
	char *path = peers_file(a);
	struct buf b = { 0 };
	struct smap_node *n;
	size_t i;
	int r = path ? 0 : -ENOMEM;

	smap_for_each(&a->node.have, i, n) {
		const struct peer *p = n->val;

		if (r >= 0)
			r = buf_printf(&b, "%s %s %s %s\n", n->key,
				       p->mode == K8SNET_LINK_PEER_VXLAN ? "vxlan" : "host-gw",
				       p->cidr, p->ip);
	}
	if (r >= 0 && mkdir(a->opt.state_dir, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (r >= 0)
		r = write_file_atomic(path, b.p ? b.p : "", b.len, 0600);
	if (r < 0)
		log_warn("cannot remember the peers in %s: %s", path ? path : "(state dir)",
			 strerror(-r));
	buf_free(&b);
	free(path);
	return r;
}
