/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /metrics in the Prometheus text format (version 0.0.4): kube-proxy's
 * names where the meaning is the same, so its dashboards and alerts work,
 * and the agent's own (k8snet_agent_*) for what kube-proxy has no name for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent.h"

/* kube-proxy's: ExponentialBuckets(0.001, 2, 15). */
static const double sync_bounds[] = {
	0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
	1.024, 2.048, 4.096, 8.192, 16.384,
};
/* kube-proxy's network programming buckets (0.25 s .. 5 min), with finer
 * ones below 0.25 s added: this agent is measured in milliseconds. */
static const double netprog_bounds[] = {
	0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
	60, 65, 70, 75, 80, 85, 90, 95, 100, 105, 110, 115,
	120, 150, 180, 210, 240, 270, 300,
};

#define NB(a) (sizeof(a) / sizeof((a)[0]))

int histogram_init(struct histogram *h, const double *bounds, size_t n)
{
	*h = (struct histogram){ bounds, n, calloc(n + 1, sizeof(uint64_t)), 0, 0 };
	return h->counts ? 0 : -ENOMEM;
}

void histogram_observe(struct histogram *h, double v)
{
	size_t i;

	for (i = 0; i < h->nbounds && v > h->bounds[i]; i++)
		;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

void histogram_free(struct histogram *h)
{
	free(h->counts);
	h->counts = NULL;
}

int metrics_init(struct metrics *m)
{
	*m = (struct metrics){ 0 };
	if (histogram_init(&m->sync_all, sync_bounds, NB(sync_bounds)) < 0 ||
	    histogram_init(&m->sync_full, sync_bounds, NB(sync_bounds)) < 0 ||
	    histogram_init(&m->sync_partial, sync_bounds, NB(sync_bounds)) < 0 ||
	    histogram_init(&m->policy_sync, sync_bounds, NB(sync_bounds)) < 0 ||
	    histogram_init(&m->netprog, netprog_bounds, NB(netprog_bounds)) < 0)
		return -ENOMEM;
	return 0;
}

void metrics_free(struct metrics *m)
{
	histogram_free(&m->sync_all);
	histogram_free(&m->sync_full);
	histogram_free(&m->sync_partial);
	histogram_free(&m->policy_sync);
	histogram_free(&m->netprog);
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void hist(struct buf *b, const char *name, const char *help, const struct histogram *h)
{
	uint64_t cum = 0;
	size_t i;

	head(b, name, "histogram", help);
	for (i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
	}
	cum += h->counts[h->nbounds];
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name,
		   (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->count);
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	buf_printf(b, "%s %.17g\n", name, v);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	head(b, name, "counter", help);
	buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

typedef uint64_t (*stat_fn)(const struct informer *inf);
static uint64_t st_restarts(const struct informer *i) { return i->stats.watch_restarts; }
static uint64_t st_relists(const struct informer *i) { return i->stats.relists; }
static uint64_t st_expired(const struct informer *i) { return i->stats.expired; }
static uint64_t st_events(const struct informer *i) { return i->stats.events; }
static uint64_t st_bookmarks(const struct informer *i) { return i->stats.bookmarks; }
static uint64_t st_decode(const struct informer *i) { return i->stats.decode_errors; }
static uint64_t st_objects(const struct informer *i) { return i->objects.n; }

static void per_resource(struct buf *b, struct agent *a, const char *name, const char *type,
			 const char *help, stat_fn fn)
{
	int k;

	head(b, name, type, help);
	for (k = 0; k < K_COUNT; k++)
		buf_printf(b, "%s{resource=\"%s\"} %llu\n", name, kind_infos[k].resource,
			   (unsigned long long)fn(&a->inf[k]));
}

static void process_metrics(struct buf *b)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	head(b, "process_cpu_seconds_total", "counter",
	     "Total user and system CPU time spent in seconds.");
	buf_printf(b, "process_cpu_seconds_total %.6f\n",
		   (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
	      (double)rss * (double)sysconf(_SC_PAGESIZE));
}

int metrics_render(struct agent *a, struct buf *b)
{
	struct metrics *m = &a->metrics;
	uint64_t no_int, no_ext;
	int k;

	hist(b, "kubeproxy_sync_proxy_rules_duration_seconds",
	     "SyncProxyRules latency in seconds (Service NAT).", &m->sync_all);
	hist(b, "kubeproxy_sync_full_proxy_rules_duration_seconds",
	     "SyncProxyRules latency in seconds for full resyncs.", &m->sync_full);
	hist(b, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
	     "SyncProxyRules latency in seconds for partial resyncs.", &m->sync_partial);
	hist(b, "kubeproxy_network_programming_duration_seconds",
	     "In Cluster Network Programming Latency in seconds (from an EndpointSlice's "
	     "last-change-trigger-time to its rules in the kernel).", &m->netprog);
	gauge(b, "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
	      "The last time proxy rules were successfully synced.", m->last_sync_ts);
	gauge(b, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
	      "The last time a sync of proxy rules was queued.", m->last_queued_ts);
	counter(b, "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
		"Cumulative proxy nftables sync failures.", m->sync_failures);
	health_no_local(a, &no_int, &no_ext);
	head(b, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "gauge",
	     "Number of services with a Local traffic policy and no local endpoints.");
	buf_printf(b, "kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy=\"internal\"} %llu\n"
		   "kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy=\"external\"} %llu\n",
		   (unsigned long long)no_int, (unsigned long long)no_ext);
	head(b, "kubeproxy_proxy_healthz_total", "counter", "Cumulative proxy healthz HTTP status.");
	buf_printf(b, "kubeproxy_proxy_healthz_total{code=\"200\"} %llu\n"
		   "kubeproxy_proxy_healthz_total{code=\"503\"} %llu\n",
		   (unsigned long long)m->healthz[0], (unsigned long long)m->healthz[1]);

	hist(b, "k8snet_agent_policy_sync_duration_seconds",
	     "NetworkPolicy sync latency in seconds.", &m->policy_sync);
	head(b, "k8snet_agent_sync_failures_total", "counter", "Failed syncs per layer.");
	buf_printf(b, "k8snet_agent_sync_failures_total{layer=\"nat\"} %llu\n"
		   "k8snet_agent_sync_failures_total{layer=\"policy\"} %llu\n"
		   "k8snet_agent_sync_failures_total{layer=\"node\"} %llu\n",
		   (unsigned long long)m->sync_failures, (unsigned long long)m->policy_sync_failures,
		   (unsigned long long)m->node_sync_failures);
	gauge(b, "k8snet_agent_synced", "1 once the first complete sync is done.",
	      a->runner.synced_once ? 1 : 0);
	per_resource(b, a, "k8snet_agent_objects", "gauge", "Objects held, per resource.", st_objects);
	per_resource(b, a, "k8snet_agent_watch_restarts_total", "counter",
		     "Watches that ended and were started again.", st_restarts);
	per_resource(b, a, "k8snet_agent_relists_total", "counter",
		     "Lists after the first (after 410 Gone or an expired resourceVersion).", st_relists);
	per_resource(b, a, "k8snet_agent_watch_expired_total", "counter",
		     "Watches ended by 410 Gone.", st_expired);
	per_resource(b, a, "k8snet_agent_watch_events_total", "counter",
		     "ADDED, MODIFIED and DELETED events received.", st_events);
	per_resource(b, a, "k8snet_agent_watch_bookmarks_total", "counter",
		     "BOOKMARK events received.", st_bookmarks);
	per_resource(b, a, "k8snet_agent_decode_errors_total", "counter",
		     "Responses or events that could not be read.", st_decode);
	head(b, "k8snet_agent_objects_refused_total", "counter",
	     "Objects the library refused as invalid.");
	for (k = 0; k < K_COUNT; k++)
		buf_printf(b, "k8snet_agent_objects_refused_total{resource=\"%s\"} %llu\n",
			   kind_infos[k].resource, (unsigned long long)m->load_errors[k]);
	counter(b, "k8snet_agent_zone_writes_total", "DNS zone files written.", m->zone_writes);
	counter(b, "k8snet_agent_zone_reloads_total", "Zone reload commands that succeeded.",
		m->zone_reloads);
	counter(b, "k8snet_agent_zone_failures_total", "DNS zone writes or reloads that failed.",
		m->zone_failures);
	process_metrics(b);
	return b->p ? 0 : -ENOMEM;
}
