/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet-cni: a CNI plugin on top of libk8snet's public API.  The CNI
 * protocol (environment, stdin config, result and error JSON) lives here in
 * the binary: it is the plugin's contract with runtimes, not a library
 * concern.  Everything that touches the kernel or IPAM state goes through
 * the library. */
#ifndef K8SNET_CNI_H
#define K8SNET_CNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Error codes from the CNI specification, and this plugin's own (>= 100). */
enum {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,      /* STATUS: cannot serve ADD now */
	CNI_ERR_INTERNAL = 100,          /* kernel or library failure */
	CNI_ERR_NO_ADDRESS = 101,        /* address pool exhausted or address taken */
	CNI_ERR_IFACE_EXISTS = 102,      /* ADD: the interface is already in the container */
	CNI_ERR_CHECK_FAILED = 103,      /* CHECK: the container's network differs */
	CNI_ERR_SYSTEM = 999,            /* the system failed us (a full disk, an I/O
					    error): details hold its reason */
};

/* The CNI code for a library error r, by cause: the system's failures (a
 * full disk, I/O) are 999, transient ones 11 "try again later", bad input
 * 7; anything else is fallback. */
int cni_code_for_errno(int r, int fallback);

/* Limits on everything a runtime, a configuration or a pod controls; each
 * is refused with an error naming the field before any work is done (see
 * k8snet-cni(1), LIMITS). */
#define CNI_MAX_CONFIG_BYTES   (16u << 20)   /* the network configuration on stdin */
#define CNI_MAX_PORTMAPS       1024          /* runtimeConfig.portMappings */
#define CNI_MAX_ARGS_BYTES     8192          /* CNI_ARGS */
#define CNI_MAX_CONTAINERID    256           /* CNI_CONTAINERID */
#define CNI_MAX_PATH           4095          /* CNI_NETNS, ipam.dataDir */
#define CNI_MAX_CNI_PATH       65536         /* CNI_PATH */
#define CNI_MAX_NAME           128           /* name: a directory and a chain name too */
#define CNI_MAX_PLUGIN_NAME    255           /* ipam.type */
#define CNI_MAX_RANGE_SETS     16            /* ipam.ranges */
#define CNI_MAX_RANGES         256           /* ipam.ranges[i] */
#define CNI_MAX_ROUTES         1024          /* ipam.routes */
#define CNI_MAX_REQUESTED_IPS  16            /* runtimeConfig.ips, args.cni.ips, CNI_ARGS IP */
#define CNI_MAX_RESULT_ITEMS   1024          /* prevResult: interfaces, ips, routes each */

#define CNI_VERSION_LATEST "1.1.0"

/* Record the error the plugin will print (the first one wins) and return -1. */
int cni_fail(int code, const char *msg, const char *details_fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool cni_failed(void);
int cni_fail_code(void);
void cni_fail_set_code(int code);
void cni_fail_reset(void);

struct cni_env;

/* One invocation: the configuration raw (len bytes, owned from here on) run
 * for the parsed environment; prints the result or the error and returns
 * the exit status.  main() reads stdin into it; the fuzzer calls it. */
int cni_run(struct cni_env *env, char *raw, size_t len);

/* ---- the invocation ---------------------------------------------------- */

struct cni_env {
	const char *command;
	const char *container_id;
	const char *netns;         /* may be NULL for DEL, GC, STATUS, VERSION */
	int netns_fd;              /* ADD, CHECK: netns, opened and checked; else -1 */
	const char *ifname;
	const char *args;          /* CNI_ARGS, raw */
	const char *path;          /* CNI_PATH */
	char *arg_ip;              /* CNI_ARGS IP=..., if any */
	char *pod_namespace, *pod_name;
};

int cni_env_parse(struct cni_env *env);
void cni_env_done(struct cni_env *env);

/* ---- the network configuration ---------------------------------------- */

struct cni_range {
	char *subnet;              /* CIDR */
	char *range_start, *range_end, *gateway;   /* optional */
};

struct cni_range_set {
	struct cni_range *ranges;
	size_t n_ranges;
};

struct cni_route {
	char *dst;                 /* CIDR */
	char *gw;                  /* optional */
	int mtu, advmss, priority, table;   /* 0: unset (1.1 fields) */
	int scope;                 /* -1: unset */
};

struct cni_portmap {
	int host_port, container_port;
	char *protocol;            /* "tcp", "udp" or "sctp" */
	char *host_ip;             /* NULL: every local address of the pod's families */
};

struct cni_conf {
	cJSON *root;               /* the whole config as read */
	char *raw;                 /* ... and as bytes, for delegation */
	size_t raw_len;
	const char *version, *name, *type;

	/* bridge plugin keys */
	const char *bridge;
	bool is_gateway, is_default_gateway, force_address, ip_masq;
	bool snat;                 /* portmap's key: masquerade hairpin and 127.0.0.1
				      connections to published ports (default) */
	bool hairpin_mode, promisc_mode;
	int mtu;

	/* ipam */
	const char *ipam_type;     /* NULL: no ipam section */
	bool ipam_in_process;      /* host-local or k8snet: done by the library */
	struct cni_range_set *range_sets;
	size_t n_range_sets;
	struct cni_route *ipam_routes;
	size_t n_ipam_routes;
	const char *data_dir;
	char **requested_ips;      /* runtimeConfig.ips, args.cni.ips, CNI_ARGS IP */
	size_t n_requested_ips;

	/* runtimeConfig */
	struct cni_portmap *portmaps;
	size_t n_portmaps;

	cJSON *dns;                /* passed through to the result */
	cJSON *prev_result;        /* NULL when absent */
	cJSON *gc_attachments;     /* GC: cni.dev/valid-attachments */
};

/* 0, or -1 with the failure recorded; 1 for a DEL whose name or version
 * ADD would refuse: nothing can have been made under it, nothing to do. */
int cni_conf_parse(struct cni_conf *conf, char *raw, size_t len, const char *command,
		   struct cni_env *env);
void cni_conf_done(struct cni_conf *conf);
/* The versions this plugin speaks, NULL-terminated. */
extern const char *const cni_supported_versions[];
/* Compare "a.b.c" versions: <0, 0, >0. */
int cni_version_cmp(const char *a, const char *b);
bool cni_version_supported(const char *v);

/* ---- results ----------------------------------------------------------- */

struct cni_iface {
	char *name, *mac, *sandbox;
	int mtu;
};

struct cni_ip {
	char *address;             /* CIDR with the host address: 10.22.0.5/24 */
	char *gateway;
	int iface;                 /* index into interfaces, -1: none */
};

struct cni_result {
	struct cni_iface *ifaces;
	size_t n_ifaces;
	struct cni_ip *ips;
	size_t n_ips;
	struct cni_route *routes;
	size_t n_routes;
	cJSON *dns;                /* owned */
};

int cni_result_from_json(struct cni_result *res, const cJSON *json, const char *what);
cJSON *cni_result_to_json(const struct cni_result *res, const char *version);
void cni_result_done(struct cni_result *res);
int cni_result_add_iface(struct cni_result *res, const char *name, const char *mac,
			 const char *sandbox, int mtu);
int cni_result_add_ip(struct cni_result *res, const char *address, const char *gateway,
		      int iface);
int cni_result_add_route(struct cni_result *res, const char *dst, const char *gw);
/* Append src's interfaces, addresses (re-indexed) and routes to dst. */
int cni_result_merge(struct cni_result *dst, const struct cni_result *src);
void cni_route_done(struct cni_route *r);

/* ---- pieces ------------------------------------------------------------ */

/* IPAM: in-process through the library, or delegated through CNI_PATH.
 * cni_ipam_lock() takes the network's lock until cni_ipam_unlock() (at
 * exit): shared for ADD, DEL and CHECK, exclusive for GC, so that GC never
 * sees an ADD or DEL half done.  cni_ipam_undo_add() releases what this
 * ADD allocated, and only that: addresses an earlier ADD of the container
 * holds (a runtime retrying ADD) stay. */
int cni_ipam_lock(const struct cni_conf *conf, bool exclusive);
void cni_ipam_unlock(void);
int cni_ipam_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res);
void cni_ipam_undo_add(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_del(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_check(const struct cni_env *env, const struct cni_conf *conf,
		   const struct cni_result *prev);
int cni_ipam_gc(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_status(const struct cni_env *env, const struct cni_conf *conf);

/* Run another plugin (an IPAM plugin) found in CNI_PATH with this command;
 * on success and when ret_out is set, hand back what it printed. */
int cni_delegate(const struct cni_env *env, const struct cni_conf *conf, const char *type,
		 const char *command, char **ret_out);

/* Plumbing through the library's link layer. */
int cni_net_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res);
int cni_net_del(const struct cni_env *env, const struct cni_conf *conf);
int cni_net_check(const struct cni_env *env, const struct cni_conf *conf,
		  const struct cni_result *prev);

/* nftables: hostPort mappings and ipMasq, one atomic batch each call. */
int cni_nft_add(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res);
int cni_nft_del(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res);
int cni_nft_check(const struct cni_env *env, const struct cni_conf *conf,
		  const struct cni_result *res);
/* GC: remove hostPort entries pointing into this network's subnets at
 * addresses not in live (CIDR strings).  Returns how many went. */
int cni_nft_gc(const struct cni_conf *conf, const char *const *live, size_t n_live);

/* Small helpers; on allocation failure they print and exit(1). */
void cni_oom(void) __attribute__((noreturn));
void *cni_xcalloc(size_t n, size_t size);
void *cni_xrealloc_array(void *p, size_t n, size_t size);
char *cni_strdup(const char *s);
char *cni_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
