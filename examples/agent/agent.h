/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet-agent: the node agent.  It watches the Kubernetes API server and
 * keeps one node's networking (peer routes, the CNI configuration, Service
 * NAT, NetworkPolicy, optionally a DNS zone file) in step with it, through
 * libk8snet's public API only.
 *
 * One thread does everything: the API connections are multiplexed with
 * curl_multi, and the HTTP endpoints (/healthz, /metrics, the health-check
 * node ports) are served from the same poll loop.  Why one thread: the
 * library's objects (context, proxy, policy database) are used by one thread
 * at a time, so events, the model and the kernel sync would have to be
 * serialised anyway; the watches are I/O bound and a sync is short, so a
 * thread per watch would buy only locks.  While a sync runs, unread watch
 * data waits in the socket buffers (TCP flow control), nothing is lost.
 *
 * Files: util.c (log, durations, files, a string map), yaml.c (the YAML
 * subset kubeconfig files use), kubeconfig.c, api.c (libcurl), informer.c
 * (list/watch/relist), kinds.c (what is watched and how it is trimmed),
 * model.c (objects -> library models), node.c (peers, bridge, CNI config),
 * stopgap.c (what the library does not offer yet), zone.c (DNS zone file),
 * objects.c (the objects file k8snet observe follows),
 * metrics.c, serve.c (HTTP endpoints), sync.c (the bounded-frequency
 * runner), main.c (command line, the loop).
 */
#ifndef K8SNET_AGENT_H
#define K8SNET_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* ---- util.c ------------------------------------------------------------- */

enum { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
extern int agent_log_level;
void alog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) alog(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) alog(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) alog(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (agent_log_level >= LOG_LVL_DEBUG) alog(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

double mono_now(void);
double wall_now(void);
/* Go duration syntax as kube-proxy flags take it: "1s", "250ms", "1m30s",
 * "0"; a bare number is seconds.  -EINVAL on anything else. */
int parse_duration(const char *s, double *ret_seconds);
/* RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets allowed) to Unix
 * seconds; -EINVAL when it is not one. */
int parse_rfc3339(const char *s, double *ret);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
/* Write data to path atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory.  Returns 0 or a negative errno. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* The whole file, NUL-terminated; NULL with errno set. */
char *read_file(const char *path, size_t *ret_len);
/* Standard base64 (padding optional, whitespace skipped); NULL on bad input. */
char *base64_decode(const char *in, size_t *ret_len);

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};
int buf_append(struct buf *b, const void *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* A string-keyed hash map (keys copied, values owned by the caller). */
struct smap_node {
	struct smap_node *next;
	uint32_t hash;
	void *val;
	char key[];
};
struct smap {
	struct smap_node **slots;
	size_t nslots, n;
};
void *smap_get(const struct smap *m, const char *key);
/* Insert or replace; the previous value (or NULL) goes to *ret_old. */
int smap_put(struct smap *m, const char *key, void *val, void **ret_old);
void *smap_del(struct smap *m, const char *key);
void smap_free(struct smap *m, void (*free_val)(void *));
#define smap_for_each(m, i, nd) \
	for ((i) = 0; (i) < (m)->nslots; (i)++) \
		for ((nd) = (m)->slots[i]; (nd); (nd) = (nd)->next)

/* Jittered capped exponential backoff: attempt 0 -> ~base, doubling up to
 * cap, each delay drawn from [d/2, d]. */
double backoff_delay(unsigned attempt, double base, double cap);

/* ---- yaml.c ------------------------------------------------------------- */

/* The YAML subset kubeconfig files are written in (block mappings and
 * sequences, plain and quoted scalars, comments, {} and []) as a cJSON tree
 * whose scalars are strings.  On error *err says where (free it). */
int yaml_parse(const char *text, cJSON **ret, char **err);

/* ---- kubeconfig.c ------------------------------------------------------- */

struct kube_config {
	char *server;               /* https://host:port, no trailing slash */
	char *ca_file;              /* certificate-authority */
	char *ca_data;              /* certificate-authority-data, decoded PEM */
	size_t ca_len;
	char *cert_file, *key_file; /* client-certificate, client-key */
	char *cert_data, *key_data; /* ...-data, decoded PEM */
	size_t cert_len, key_len;
	char *token;                /* bearer token */
	char *token_file;           /* re-read when it changes (rotated tokens) */
	long long token_mtime_ns;
	char *username, *password;  /* basic auth */
	bool insecure;              /* insecure-skip-tls-verify */
	char *tls_server_name;
};

/* path: a kubeconfig file (YAML or JSON); its current-context is used. */
int kube_config_load(const char *path, struct kube_config *cfg, char **err);
/* In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service-account files
 * under root (normally /var/run/secrets/kubernetes.io/serviceaccount). */
int kube_config_in_cluster(const char *root, struct kube_config *cfg, char **err);
void kube_config_clear(struct kube_config *cfg);
/* The bearer token to send now, re-read from token_file when that changed;
 * NULL when there is none.  Owned by cfg. */
const char *kube_config_token(struct kube_config *cfg);

/* ---- kinds.c: what is watched ------------------------------------------- */

enum kind { K_NODE, K_NAMESPACE, K_POD, K_SERVICE, K_SLICE, K_POLICY, K_COUNT };

struct kind_info {
	const char *resource;       /* "services": metric labels, logs */
	const char *kind;           /* "Service": set on list items, which lack it */
	const char *api_version;
	const char *path;           /* collection path */
	bool namespaced;
	const char *label_selector; /* kube-proxy's, or NULL */
	/* Drop what no layer reads (managedFields, annotations, a pod's images,
	 * a node's image list...), so 10,000 objects cost little memory. */
	void (*trim)(cJSON *obj);
};
extern const struct kind_info kind_infos[K_COUNT];
/* kube-proxy's selector for Services and EndpointSlices. */
#define PROXY_LABEL_SELECTOR "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"
/* The same test applied in process (used when the selector could not be
 * given to the server because the DNS zone needs every object). */
bool proxy_selects(const cJSON *obj);
const char *json_str(const cJSON *obj, const char *path);   /* "metadata.name" */
const cJSON *json_at(const cJSON *obj, const char *path);
/* "namespace/name" or "name" for cluster-scoped objects; NULL if unnamed. */
char *object_key(const cJSON *obj);

/* ---- informer.c --------------------------------------------------------- */

/* One object as the informer holds it: its trimmed JSON text, the version,
 * and the relist generation that saw it last. */
struct object {
	char *key;
	char *rv;
	char *json;
	size_t len;
	unsigned gen;
};

struct informer;

struct informer_ops {
	/* An object appeared or changed; old is NULL when it is new.  obj is
	 * the trimmed object (kind set), borrowed for the call. */
	void (*upsert)(void *ud, enum kind k, const struct object *old, const struct object *cur,
		       const cJSON *obj);
	/* An object is gone (deleted, or missing from a relist). */
	void (*remove)(void *ud, enum kind k, const struct object *old);
	/* The first complete list is in (once per informer). */
	void (*synced)(void *ud, enum kind k);
	/* Start an HTTP GET of path+query; the transport calls informer_feed()
	 * and informer_done().  Returns 0 or a negative errno. */
	int (*request)(void *ud, struct informer *inf, const char *url_path_query);
};

enum informer_phase { INF_IDLE, INF_LISTING, INF_WATCHING };

/* A list response read as it arrives: each element of "items" is parsed
 * and applied as soon as its closing brace is in, "metadata" is kept for
 * the end; the page is never held whole, whatever its size. */
struct list_scan {
	int depth;
	bool in_str, esc, expect_key, key_str, in_items;
	char key[16], cur_key[16];
	size_t klen;
	int cap;                          /* 0, CAP_META or CAP_ITEM */
	int cap_depth;
	struct buf item, meta;
	int error;                        /* negative errno: stop reading */
	unsigned items;
};

struct informer_stats {
	uint64_t lists, relists, watches, watch_restarts, expired, events, bookmarks, errors;
	uint64_t decode_errors;
};

struct informer {
	enum kind kind;
	const struct kind_info *info;
	const char *label_selector;       /* what is sent (NULL: none) */
	const struct informer_ops *ops;
	void *ud;
	enum informer_phase phase;
	bool synced;                      /* the first list completed */
	char *rv;                         /* resume point; NULL: relist */
	char *cont;                       /* list continue token */
	unsigned gen;
	unsigned failures;                /* consecutive, for the backoff */
	double next_start;                /* mono time of the next request when idle */
	double not_before;                /* the first list waits until then (0: no wait) */
	double started;                   /* mono time the current request began */
	bool got_event;                   /* the current watch delivered something */
	bool expired;                     /* the current watch reported 410 */
	long http_status;
	struct buf body;                  /* an error body */
	struct list_scan scan;            /* the list page being received */
	struct buf line;                  /* the watch event being received */
	unsigned page_items;              /* items seen in the current list page */
	struct smap objects;              /* key -> struct object */
	struct informer_stats stats;
	/* Tunables (tests shorten them). */
	unsigned page_limit;
	unsigned watch_timeout;           /* timeoutSeconds asked of the server */
	double backoff_base, backoff_cap;
};

void informer_init(struct informer *inf, enum kind k, const char *label_selector,
		   const struct informer_ops *ops, void *ud);
void informer_clear(struct informer *inf);
/* Start the next request if it is due; returns the mono time it will be due
 * when idle (or 0 when a request is running). */
double informer_tick(struct informer *inf, double now);
/* Bytes of the running request's body; status is the HTTP status. */
int informer_feed(struct informer *inf, long status, const char *data, size_t len);
/* The running request ended: curl_ok is whether the transfer completed. */
void informer_done(struct informer *inf, long status, bool curl_ok, const char *curl_error);
size_t informer_count(const struct informer *inf);
const struct object *informer_get(const struct informer *inf, const char *key);

/* ---- api.c: the transport ----------------------------------------------- */

struct api;
int api_new(struct kube_config *cfg, struct api **ret);
struct api *api_free(struct api *api);
int api_start(struct api *api, struct informer *inf, const char *path_query);
/* Wait for API sockets or the extra fds, at most timeout_ms; then do the
 * transfers and report finished requests to their informers. */
int api_poll(struct api *api, struct pollfd *extra, unsigned n_extra, int timeout_ms);
/* One GET in the loop; done gets the status and body (err: the transfer
 * failed). */
typedef void (*api_done_fn)(void *ud, long status, const char *body, size_t len,
			    const char *err);
int api_get_async(struct api *api, const char *path, api_done_fn done, void *ud);


/* ---- the agent ---------------------------------------------------------- */

struct k8snet_ctx;
struct k8snet_proxy;
struct k8snet_policy_db;
struct agent;

struct agent_options {
	const char *node_name;
	const char *kubeconfig;
	const char *netns;
	const char *cni_conf_dir;
	const char **cluster_cidrs;
	size_t n_cluster_cidrs;
	const char **service_cidrs;
	size_t n_service_cidrs;
	uint32_t mode;                   /* K8SNET_LINK_PEER_HOST_GW or _VXLAN */
	double min_sync_period;
	double sync_period;
	const char *metrics_address;     /* "" disables */
	const char *healthz_address;     /* "" disables */
	const char *zone_file, *zone_reload_cmd;
	const char *state_dir;           /* what the agent remembers across restarts */
	const char *sa_dir;              /* in-cluster service-account files */
};

/* ---- metrics.c ---- */

struct histogram {
	const double *bounds;
	size_t nbounds;
	uint64_t *counts;                /* nbounds + 1 (the last is +Inf) */
	double sum;
	uint64_t count;
};
int histogram_init(struct histogram *h, const double *bounds, size_t n);
void histogram_observe(struct histogram *h, double v);
void histogram_free(struct histogram *h);

struct metrics {
	struct histogram sync_all, sync_full, sync_partial, netprog, policy_sync;
	double last_sync_ts;             /* wall time of the last successful sync */
	double last_queued_ts;           /* wall time a change was last queued */
	uint64_t sync_failures, policy_sync_failures, node_sync_failures;
	uint64_t healthz[2];             /* 200, 503 */
	uint64_t load_errors[K_COUNT];   /* objects the library refused */
	uint64_t zone_writes, zone_reloads, zone_failures;
};
int metrics_init(struct metrics *m);
void metrics_free(struct metrics *m);
int metrics_render(struct agent *a, struct buf *out);

/* ---- stopgap.c: what the library does not offer yet ---- */

/* Per-service health-check data kept from the objects the agent holds:
 * healthCheckNodePort, traffic policies, and the number of ready endpoints
 * on this node, summed over the service's EndpointSlices. */
struct health_svc {
	uint16_t hc_node_port;           /* 0: none */
	bool etp_local, itp_local;
	bool selected;                   /* handled by this proxy */
	int64_t local_ready;             /* summed from slices */
	int64_t total_ready;
};
struct health {
	struct smap svcs;                /* "ns/name" -> struct health_svc */
	struct smap slices;              /* slice key -> struct health_slice */
	bool ports_dirty;                /* health-check ports to open or close */
};
void health_service(struct agent *a, const char *key, const cJSON *svc, bool selected);
void health_service_gone(struct agent *a, const char *key);
void health_slice(struct agent *a, const char *key, const cJSON *slice);
void health_slice_gone(struct agent *a, const char *key);
void health_free(struct health *h);
const struct health_svc *health_get(struct agent *a, const char *svc_key);
/* Services with a Local traffic policy and no local endpoint. */
void health_no_local(struct agent *a, uint64_t *internal, uint64_t *external);
/* Replace the proxy / policy database with fresh objects loaded from the
 * informers' objects: their first sync replaces the tables whole. */
int stopgap_proxy_rebuild(struct agent *a);
/* The peers installed by an earlier run (read at start, written after
 * each change), so that peers deleted while the agent was down go. */
int stopgap_peers_load(struct agent *a);
int stopgap_peers_save(struct agent *a);

/* ---- model.c: objects -> library ---- */

struct model {
	struct k8snet_ctx *ctx;          /* bound to the node namespace */
	struct k8snet_proxy *proxy;
	struct k8snet_policy_db *pdb;
	bool proxy_dirty, policy_dirty, zone_dirty;
	bool proxy_full, policy_full;    /* the next sync replaces the tables */
	bool proxy_rebuild;              /* node addresses went: a new proxy first */
	struct smap in_proxy;            /* service keys loaded into the proxy */
	struct smap slice_svc;           /* slice key -> its service key */
	struct smap svc_slices;          /* service key -> struct strset of slice keys */
	bool objects_dirty;              /* objects.json is behind (objects.c) */
	bool objects_failed;             /* its last write failed (said once) */
	double start_wall;               /* trigger times before this are ignored */
	double *pending_triggers;        /* trigger times waiting for a sync */
	size_t n_triggers;
};
int model_init(struct agent *a);
void model_free(struct model *m);
int model_new_proxy(struct agent *a, struct k8snet_proxy **ret);
/* Load one informer object into the library layers it belongs to. */
void model_upsert(struct agent *a, enum kind k, const struct object *old,
		  const struct object *cur, const cJSON *obj);
void model_remove(struct agent *a, enum kind k, const struct object *old);
/* Load every object of kind k (used by the rebuilds). */
int model_reload_kind(struct agent *a, enum kind k);

/* ---- objects.c: STATE_DIR/objects.json for k8snet observe ---- */

/* Whether objects of kind k are in the file. */
bool objects_wanted(enum kind k);
/* Write the file if an object in it changed since the last write. */
int objects_save(struct agent *a);

/* ---- node.c ---- */

struct peer {
	char *cidr;                      /* one pod CIDR of the peer node */
	char *ip;                        /* that node's address of the same family */
	uint32_t mode;                   /* K8SNET_LINK_PEER_* it was installed with */
};
void peer_free(void *p);
struct node_state {
	bool have_self;
	char *pod_cidrs[2];
	size_t n_pod_cidrs;
	char *addrs[4];                  /* InternalIP (first) and ExternalIP addresses */
	size_t n_addrs;
	char *zone;
	bool setup_done, vxlan_done;
	uint32_t setup_flags;
	bool dirty;
	bool self_changed;               /* addresses or zone: a full resync */
	struct smap want;                /* "node|cidr" -> struct peer */
	struct smap have;                /* what is installed, same keys */
	char *cni_text;                  /* what the CNI file holds */
};
void node_upsert(struct agent *a, const cJSON *node);
void node_remove(struct agent *a, const char *name);
int node_sync(struct agent *a);
void node_free(struct node_state *n);
const char *node_internal_ip(const struct node_state *n, int family);

/* ---- zone.c ---- */

struct zone_writer {
	char *last_text;
	uint32_t serial;
	pid_t reload_pid;
	bool reload_again;
	double last_write;
};
int zone_sync(struct agent *a);
void zone_child_exited(struct agent *a, pid_t pid, int status);
void zone_free(struct zone_writer *z);

/* ---- serve.c ---- */

struct server;
int server_new(struct agent *a, struct server **ret);
struct server *server_free(struct server *s);
/* Open or close health-check listeners to match the services. */
void server_update_health_ports(struct server *s);
/* The fds to poll and their events; returns how many (at most max). */
/* How many fds server_pollfds() may return. */
unsigned server_nfds(const struct server *s);
unsigned server_pollfds(struct server *s, struct pollfd *fds, unsigned max, double now,
			double *ret_deadline);
void server_handle(struct server *s, const struct pollfd *fds, unsigned n, double now);

/* ---- sync.c ---- */

struct runner {
	double min_interval;             /* --min-sync-period */
	double max_interval;             /* --sync-period: a full resync */
	double tokens;                   /* the bucket, at most burst */
	unsigned burst;
	double refilled;                 /* mono time of the last refill */
	bool pending;                    /* a change waits for a sync */
	double retry_at;                 /* after a failure; 0: none */
	unsigned failures;
	double node_retry_at;            /* peers, bridge or CNI file failed */
	unsigned node_failures;
	double next_full;                /* mono time of the next periodic resync */
	double zone_due;                 /* the zone is rewritten at most once a second */
	unsigned layers;                 /* layers synced at least once */
	bool synced_once;                /* every layer has been */
	bool last_ok;
};
void runner_init(struct runner *r, double min_interval, double max_interval, double now);
void runner_queue(struct agent *a);
/* Run a sync if one is due; returns when the next is due (0: nothing). */
double runner_tick(struct agent *a, double now);

struct agent {
	struct agent_options opt;
	struct kube_config kcfg;
	struct api *api;
	struct informer inf[K_COUNT];
	unsigned synced_kinds;
	struct model model;
	struct node_state node;
	struct health health;
	struct zone_writer zone;
	struct metrics metrics;
	struct server *server;
	struct runner runner;
	bool stopping;
	double start_mono;               /* when main() began */
};

bool agent_all_synced(const struct agent *a);
/* Synced once, and the last sync succeeded (healthz). */
bool agent_healthy(struct agent *a);

#endif
