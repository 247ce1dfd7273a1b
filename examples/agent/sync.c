/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sync loop, kube-proxy's bounded-frequency runner: no layer is synced
 * before the initial lists it reads are in (the node: Nodes; Service NAT:
 * Services, EndpointSlices and Nodes, as kube-proxy; NetworkPolicy:
 * Namespaces, Pods and NetworkPolicies; the zone: Services, EndpointSlices,
 * Pods), so one layer's long list does not hold back another's first sync; then a sync whenever something changed, at most one
 * per --min-sync-period on average with a burst of 2 (a token bucket), so a
 * single change goes to the kernel at once while a storm of changes is
 * coalesced; a full resync every --sync-period and after any failure; a
 * failed sync is retried with backoff (1 s doubling to 30 s).
 *
 * A sync programs each layer that changed: the node (peers, bridge, CNI
 * configuration), Service NAT, NetworkPolicy, the health-check ports, the
 * DNS zone file (at most once a second: rebuilding it walks every object),
 * and writes the objects file k8snet observe reads (objects.c).  A layer
 * that fails is rebuilt whole at the retry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "agent.h"

#define BURST 2
#define RETRY_BASE 1.0
#define RETRY_CAP 30.0
#define ZONE_MIN_PERIOD 1.0

void runner_init(struct runner *r, double min_interval, double max_interval, double now)
{
	*r = (struct runner){
		.min_interval = min_interval,
		.max_interval = max_interval,
		.tokens = BURST,
		.burst = BURST,
		.refilled = now,
		.next_full = max_interval > 0 ? now + max_interval : 0,
	};
}

#define KB(k) (1u << (k))
#define NEED_NODE   KB(K_NODE)
#define NEED_NAT    (KB(K_SERVICE) | KB(K_SLICE) | KB(K_NODE))
#define NEED_POLICY (KB(K_NAMESPACE) | KB(K_POD) | KB(K_POLICY))
#define NEED_ZONE   (KB(K_SERVICE) | KB(K_SLICE) | KB(K_POD))
#define NEED_OBJECTS (NEED_POLICY | KB(K_SERVICE) | KB(K_SLICE))

enum { L_NODE = 1, L_NAT = 2, L_POLICY = 4, L_ALL = 7 };

static bool lists_in(const struct agent *a, unsigned need)
{
	return (a->synced_kinds & need) == need;
}

bool agent_all_synced(const struct agent *a)
{
	return a->synced_kinds == (1u << K_COUNT) - 1;
}

bool agent_healthy(struct agent *a)
{
	return a->runner.synced_once && a->runner.last_ok;
}

void runner_queue(struct agent *a)
{
	struct runner *r = &a->runner;

	r->pending = true;
	a->metrics.last_queued_ts = wall_now();
}

static void refill(struct runner *r, double now)
{
	if (r->min_interval <= 0)
		r->tokens = r->burst;
	else if (now > r->refilled)
		r->tokens += (now - r->refilled) / r->min_interval;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
	r->refilled = now;
}

static double earliest(double a, double b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static void observe_programming(struct agent *a)
{
	double now = wall_now();
	size_t i;

	for (i = 0; i < a->model.n_triggers; i++)
		histogram_observe(&a->metrics.netprog, now - a->model.pending_triggers[i] > 0 ?
				  now - a->model.pending_triggers[i] : 0);
	a->model.n_triggers = 0;
}

static int sync_proxy(struct agent *a)
{
	bool full = a->model.proxy_full || a->model.proxy_rebuild;
	double t0 = mono_now(), d;
	int r = 0;

	if (a->model.proxy_rebuild && (r = stopgap_proxy_rebuild(a)) < 0)
		return r;
	a->model.proxy_rebuild = false;
	if (!a->model.proxy_dirty && !full && (a->runner.layers & L_NAT))
		return 0;
	/* A full sync replaces the tables whole (kube-proxy's periodic resync);
	 * after a failure the library does so by itself anyway. */
	r = full ? k8snet_proxy_sync_full(a->model.proxy) : k8snet_proxy_sync(a->model.proxy);
	d = mono_now() - t0;
	if (r < 0) {
		log_err("Service NAT sync failed (%.1f ms): %s", d * 1e3,
			k8snet_ctx_get_error(a->model.ctx));
		a->metrics.sync_failures++;
		a->model.proxy_full = true;    /* kube-proxy: a full sync after a failure */
		return r;
	}
	histogram_observe(&a->metrics.sync_all, d);
	/* The first sync of a proxy replaces the table: a full one too. */
	full = full || !(a->runner.layers & L_NAT);
	histogram_observe(full ? &a->metrics.sync_full : &a->metrics.sync_partial, d);
	log_debug("Service NAT %s sync: %.2f ms, %d messages", full ? "full" : "partial", d * 1e3, r);
	a->model.proxy_dirty = a->model.proxy_full = false;
	observe_programming(a);
	return 0;
}

static int sync_policy(struct agent *a)
{
	bool full = a->model.policy_full;
	double t0 = mono_now(), d;
	int r = 0;

	if (!a->model.policy_dirty && !full && (a->runner.layers & L_POLICY))
		return 0;
	r = full ? k8snet_policy_db_sync_full(a->model.pdb, a->opt.node_name) :
	    k8snet_policy_db_sync(a->model.pdb, a->opt.node_name);
	d = mono_now() - t0;
	if (r < 0) {
		log_err("NetworkPolicy sync failed (%.1f ms): %s", d * 1e3,
			k8snet_ctx_get_error(a->model.ctx));
		a->metrics.policy_sync_failures++;
		a->model.policy_full = true;
		return r;
	}
	histogram_observe(&a->metrics.policy_sync, d);
	log_debug("NetworkPolicy %s sync: %.2f ms", full ? "full" : "partial", d * 1e3);
	a->model.policy_dirty = a->model.policy_full = false;
	return 0;
}

static void sync_zone(struct agent *a, double now)
{
	struct runner *r = &a->runner;

	if (!a->opt.zone_file || !a->model.zone_dirty || now < r->zone_due ||
	    !lists_in(a, NEED_ZONE))
		return;
	if (zone_sync(a) >= 0)
		a->model.zone_dirty = false;
	r->zone_due = now + (r->min_interval > ZONE_MIN_PERIOD ? r->min_interval : ZONE_MIN_PERIOD);
}

static void first_layer_sync(struct agent *a, unsigned layer, const char *what, double took)
{
	struct runner *r = &a->runner;

	if (r->layers & layer)
		return;
	r->layers |= layer;
	log_info("%s: first sync in %.1f ms, %.0f ms after start", what, took * 1e3,
		 (mono_now() - a->start_mono) * 1e3);
	if (r->layers != L_ALL)
		return;
	r->synced_once = true;
	log_info("first complete sync, %.0f ms after start: %zu services, %zu endpointslices, "
		 "%zu pods, %zu namespaces, %zu networkpolicies, %zu nodes",
		 (mono_now() - a->start_mono) * 1e3, informer_count(&a->inf[K_SERVICE]),
		 informer_count(&a->inf[K_SLICE]), informer_count(&a->inf[K_POD]),
		 informer_count(&a->inf[K_NAMESPACE]), informer_count(&a->inf[K_POLICY]),
		 informer_count(&a->inf[K_NODE]));
}

/* The node's own part (peers, bridge, CNI file) is retried on its own
 * schedule: one unreachable peer must not hold back Service updates, nor
 * make the proxy unhealthy (kube-proxy's healthz is about its rules). */
static void sync_node_layer(struct agent *a)
{
	struct runner *r = &a->runner;
	double t0 = mono_now();

	if (node_sync(a) < 0) {
		a->metrics.node_sync_failures++;
		r->node_retry_at = mono_now() + backoff_delay(r->node_failures++, RETRY_BASE, RETRY_CAP);
		log_warn("node sync failed (%u in a row); retrying in %.1f s", r->node_failures,
			 r->node_retry_at - mono_now());
		return;
	}
	r->node_failures = 0;
	r->node_retry_at = 0;
	first_layer_sync(a, L_NODE, "node (routes, bridge, CNI configuration)", mono_now() - t0);
}

static void do_sync(struct agent *a, bool full, double now)
{
	struct runner *r = &a->runner;
	double t;
	bool ok = true;

	r->pending = false;
	if (full) {
		a->model.proxy_full = a->model.policy_full = true;
		a->node.dirty = true;
	}
	if (a->node.self_changed) {
		a->node.self_changed = false;
		a->model.proxy_full = true;
	}
	if (lists_in(a, NEED_NODE))
		sync_node_layer(a);
	t = mono_now();
	if (lists_in(a, NEED_NAT)) {
		if (sync_proxy(a) < 0)
			ok = false;
		else
			first_layer_sync(a, L_NAT, "Service NAT", mono_now() - t);
	}
	t = mono_now();
	if (lists_in(a, NEED_POLICY)) {
		if (sync_policy(a) < 0)
			ok = false;
		else
			first_layer_sync(a, L_POLICY, "NetworkPolicy", mono_now() - t);
	}
	if (a->server)
		server_update_health_ports(a->server);
	sync_zone(a, now);
	/* Whatever the kernel said: the file is the API's view, not the
	 * node's; a partial view before every list is in would misname. */
	if (lists_in(a, NEED_OBJECTS))
		objects_save(a);
	if (ok) {
		if (r->failures)
			log_info("sync succeeded again after %u failures", r->failures);
		r->last_ok = true;
		r->failures = 0;
		r->retry_at = 0;
		if (lists_in(a, NEED_NAT))
			a->metrics.last_sync_ts = wall_now();
	} else {
		r->last_ok = false;
		r->retry_at = mono_now() + backoff_delay(r->failures, RETRY_BASE, RETRY_CAP);
		r->failures++;
		log_warn("sync failed (%u in a row); retrying in %.1f s", r->failures,
			 r->retry_at - mono_now());
	}
}

double runner_tick(struct agent *a, double now)
{
	struct runner *r = &a->runner;
	bool full_due = r->max_interval > 0 && now >= r->next_full;
	bool want;
	double next;

	if (!a->synced_kinds)
		return 0;
	if (r->node_retry_at && now >= r->node_retry_at) {
		r->node_retry_at = 0;
		r->pending = true;
	}
	if (r->retry_at && now >= r->retry_at)
		r->pending = true;
	want = r->pending || full_due;
	/* After a failure the next attempt waits for its retry time: a
	 * kernel that refuses is not hammered with every event. */
	if (want && r->retry_at && now < r->retry_at && !full_due)
		want = false;
	if (want) {
		refill(r, now);
		if (r->tokens < 1)
			return now + (1 - r->tokens) * r->min_interval;
		r->tokens -= 1;
		if (full_due)
			log_info("periodic full resync (--sync-period %g s)", r->max_interval);
		do_sync(a, full_due, now);
		if (full_due)
			r->next_full = now + r->max_interval;
	} else if (a->opt.zone_file && a->model.zone_dirty && now >= r->zone_due) {
		sync_zone(a, now);
	}
	next = earliest(r->max_interval > 0 ? r->next_full : 0, r->retry_at);
	next = earliest(next, r->node_retry_at);
	if (a->opt.zone_file && a->model.zone_dirty)
		next = earliest(next, r->zone_due);
	return next;
}
