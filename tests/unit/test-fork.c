/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fork rule (libk8snet(7), "Processes and fork()"): one object of each
 * kind, a fork(), and in the child every exported function called on them
 * must refuse: -ECHILD, or NULL/0 with errno ECHILD.  The table below names
 * every exported function; the test compares it with lib/libk8snet.map and
 * fails on a symbol that is in neither the table nor the exempt list, so a
 * new function cannot ship without its guard.  The child then frees what it
 * inherited, and the parent's objects must still work.
 *
 * As root the test first moves into a network namespace of its own, so a
 * missing guard on a kernel call cannot touch the machine's namespace. */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "core/internal.h"

/* A link result is only made by an attach (the kernel): the planner that
 * builds one is internal, and this test links the internal library. */
int link_result_plan(const struct k8snet_link_pod *pod, const char *bridge_name,
		     struct k8snet_link_result **ret);

struct world {
	struct k8snet_ctx *ctx;
	struct k8snet_ipam_pool *pool;
	struct k8snet_ipam_config *cfg;
	struct k8snet_proxy *proxy;
	struct k8snet_service *svc;
	struct k8snet_link_pod *pod;
	struct k8snet_link_result *res;
	struct k8snet_policy_db *db;
	struct k8snet_hostports *hp;
	struct k8snet_portmap *pm;
	struct k8snet_trace *trace;
	struct k8snet_observer *obs;
	struct k8snet_dns_query *query;
	struct k8snet_dns_resolv *resolv;
	struct k8snet_dns_zone *zone;
	char dir[64], state[96];
	/* what a call hands out, dropped after each call in the parent */
	char *text;
	char buf[64];
	const char *s1, *s2;
	uint32_t u1, u2;
	uint64_t c[4];
	struct k8snet_ctx *out_ctx;
	struct k8snet_ipam_pool *out_pool;
	struct k8snet_ipam_config *out_cfg;
	struct k8snet_proxy *out_proxy;
	struct k8snet_link_result *out_res;
	struct k8snet_policy_db *out_db;
	struct k8snet_hostports *out_hp;
	struct k8snet_trace *out_trace;
	struct k8snet_observer *out_obs;
	struct k8snet_dns_query *out_query;
	struct k8snet_dns_resolv *out_resolv;
	struct k8snet_dns_zone *out_zone;
};

static int visit(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	return 0;
}

/* How each exported function is called.  INT: an int result, -ECHILD in the
 * child.  PTR, VAL: a pointer or a value, NULL or 0 with errno ECHILD.
 * MEM: harmless in the parent (memory only, or reads the kernel); KERN:
 * changes the kernel, called in the child only. */
enum { INT, PTR, VAL };
enum { MEM, KERN };
#define W (*w)
#define CALLS(X)                                                                           \
	/* core */                                                                         \
	X(INT, MEM, k8snet_ctx_connect, (W.ctx))                                           \
	X(INT, MEM, k8snet_ctx_describe, (W.ctx, &W.text))                                 \
	X(INT, MEM, k8snet_ctx_get_log_priority, (W.ctx))                                  \
	X(INT, MEM, k8snet_ctx_get_netns_fd, (W.ctx))                                      \
	X(INT, MEM, k8snet_ctx_set_log_fn, (W.ctx, NULL, NULL))                            \
	X(INT, MEM, k8snet_ctx_set_log_priority, (W.ctx, 3))                               \
	X(INT, MEM, k8snet_ctx_set_netns_fd, (W.ctx, k8snet_ctx_get_netns_fd(W.ctx)))      \
	X(INT, MEM, k8snet_ctx_set_netns_path, (W.ctx, "/proc/self/ns/net"))               \
	X(INT, MEM, k8snet_addr_parse, (W.ctx, "10.244.1.5", &W.text))                     \
	X(INT, MEM, k8snet_cidr_parse, (W.ctx, "10.244.1.0/24", K8SNET_CIDR_F_NETWORK, &W.text)) \
	/* ipam */                                                                         \
	X(INT, MEM, k8snet_ipam_config_parse, (W.ctx, CFG_JSON, strlen(CFG_JSON), &W.out_cfg)) \
	X(PTR, MEM, k8snet_ipam_config_get_data_dir, (W.cfg))                              \
	X(INT, MEM, k8snet_ipam_config_get_pool_count, (W.cfg))                            \
	X(INT, MEM, k8snet_ipam_config_get_route, (W.cfg, 0, &W.s1, &W.s2))                \
	X(INT, MEM, k8snet_ipam_config_get_route_count, (W.cfg))                           \
	X(INT, MEM, k8snet_ipam_config_new_pool, (W.cfg, 0, &W.out_pool))                  \
	X(INT, MEM, k8snet_ipam_pool_new, (W.ctx, 0, &W.out_pool))                         \
	X(INT, MEM, k8snet_ipam_pool_add_exclusion, (W.pool, "10.244.1.200/32"))           \
	X(INT, MEM, k8snet_ipam_pool_add_range, (W.pool, "10.244.2.0/24", NULL, NULL, NULL)) \
	X(INT, MEM, k8snet_ipam_pool_alloc, (W.pool, "pod", "eth0", NULL, W.buf, sizeof(W.buf))) \
	X(INT, MEM, k8snet_ipam_pool_get_count, (W.pool))                                      \
	X(INT, MEM, k8snet_ipam_pool_foreach, (W.pool, visit, NULL))                       \
	X(INT, MEM, k8snet_ipam_pool_gc, (W.pool, NULL, NULL, 0))                          \
	X(INT, MEM, k8snet_ipam_pool_get_gateway, (W.pool, "10.244.1.7", W.buf, sizeof(W.buf))) \
	X(INT, MEM, k8snet_ipam_pool_lookup, (W.pool, "parent", "eth0", W.buf, sizeof(W.buf))) \
	X(INT, MEM, k8snet_ipam_pool_release, (W.pool, "pod", "eth0"))                     \
	X(INT, MEM, k8snet_ipam_pool_release_addr, (W.pool, "10.244.1.99"))               \
	X(INT, MEM, k8snet_ipam_pool_set_block_len, (W.pool, 0))                           \
	X(INT, MEM, k8snet_ipam_pool_set_name, (W.pool, "pods"))                           \
	X(INT, MEM, k8snet_ipam_pool_set_state_file, (W.pool, W.state))                    \
	X(INT, MEM, k8snet_ipam_pool_set_strategy, (W.pool, K8SNET_IPAM_NEXT_FREE))        \
	/* link */                                                                         \
	X(INT, KERN, k8snet_link_bridge_ensure, (W.ctx, "k8st-fork14-br", 1500, NULL, 0))  \
	X(INT, KERN, k8snet_link_node_setup, (W.ctx, 0))                                   \
	X(INT, KERN, k8snet_link_peer_add, (W.ctx, K8SNET_LINK_PEER_HOST_GW, "10.99.0.0/24", "192.0.2.1", NULL, NULL)) \
	X(INT, KERN, k8snet_link_peer_del, (W.ctx, K8SNET_LINK_PEER_HOST_GW, "10.99.0.0/24", "192.0.2.1", NULL, NULL)) \
	X(INT, KERN, k8snet_link_pod_attach, (W.ctx, W.pod, &W.out_res))                   \
	X(INT, MEM, k8snet_link_pod_check, (W.ctx, W.pod))                                 \
	X(INT, KERN, k8snet_link_pod_detach, (W.ctx, W.pod))                               \
	X(INT, MEM, k8snet_link_pod_add_address, (W.pod, "10.244.1.5/24", "10.244.1.1"))   \
	X(INT, MEM, k8snet_link_pod_add_route, (W.pod, "10.96.0.0/12", NULL))              \
	X(PTR, MEM, k8snet_link_pod_get_str, (W.pod, K8SNET_LINK_POD_CONTAINER_ID))        \
	X(VAL, MEM, k8snet_link_pod_get_u32, (W.pod, K8SNET_LINK_POD_MTU))                 \
	X(INT, MEM, k8snet_link_pod_set_netns_fd, (W.pod, k8snet_ctx_get_netns_fd(W.ctx))) \
	X(INT, MEM, k8snet_link_pod_set_str, (W.pod, K8SNET_LINK_POD_IFNAME, "eth0"))      \
	X(INT, MEM, k8snet_link_pod_set_u32, (W.pod, K8SNET_LINK_POD_MTU, 1400))           \
	X(INT, MEM, k8snet_link_result_get_count, (W.res, K8SNET_LINK_RESULT_INTERFACES))      \
	X(INT, MEM, k8snet_link_result_get_int, (W.res, 0, K8SNET_LINK_IFACE_MTU))         \
	X(PTR, MEM, k8snet_link_result_get_str, (W.res, 0, K8SNET_LINK_IFACE_NAME))        \
	X(INT, MEM, k8snet_link_result_to_json, (W.res, "1.0.0", &W.text))                 \
	X(INT, KERN, k8snet_link_set_route_localnet, (W.ctx, "lo", 1))                     \
	X(INT, KERN, k8snet_link_vxlan_ensure, (W.ctx, "k8st-fork14-vx", 42, 4789, "192.0.2.1", 1450)) \
	/* nat */                                                                          \
	X(INT, MEM, k8snet_proxy_new, (W.ctx, &W.out_proxy))                               \
	X(INT, MEM, k8snet_proxy_add_service, (W.proxy, W.svc))                            \
	X(INT, MEM, k8snet_proxy_add_str, (W.proxy, K8SNET_PROXY_NODE_IP, "192.0.2.1"))    \
	X(INT, MEM, k8snet_proxy_get_counters, (W.proxy, "default", "api", &W.c[0], &W.c[1])) \
	X(INT, MEM, k8snet_proxy_get_traffic, (W.proxy, "default", "api", &W.c[0], &W.c[1])) \
	X(INT, MEM, k8snet_proxy_get_health, (W.proxy, "default", "api", &W.u1, &W.u2))    \
	X(INT, MEM, k8snet_proxy_get_health_changed, (W.proxy, 0, &W.s1))                  \
	X(INT, MEM, k8snet_proxy_get_health_changed_count, (W.proxy))                      \
	X(INT, MEM, k8snet_proxy_get_skipped, (W.proxy, 0, &W.s1, &W.s2))                  \
	X(INT, MEM, k8snet_proxy_get_skipped_count, (W.proxy))                             \
	X(PTR, MEM, k8snet_proxy_get_str, (W.proxy, K8SNET_PROXY_NODE_NAME))               \
	X(VAL, MEM, k8snet_proxy_get_u32, (W.proxy, K8SNET_PROXY_MARK_BIT))                \
	X(INT, MEM, k8snet_proxy_load_json, (W.proxy, "{\"items\": []}", 13))              \
	X(INT, MEM, k8snet_proxy_remove_service, (W.proxy, "default", "gone"))             \
	X(INT, MEM, k8snet_proxy_remove_slice, (W.proxy, "default", "gone-1"))             \
	X(INT, MEM, k8snet_proxy_render, (W.proxy, &W.text))                               \
	X(INT, MEM, k8snet_proxy_set_str, (W.proxy, K8SNET_PROXY_NODE_NAME, "node1"))      \
	X(INT, MEM, k8snet_proxy_set_u32, (W.proxy, K8SNET_PROXY_MARK_BIT, 14))            \
	X(INT, KERN, k8snet_proxy_sync, (W.proxy))                                         \
	X(INT, KERN, k8snet_proxy_sync_full, (W.proxy))                                    \
	X(INT, MEM, k8snet_service_add_endpoint, (W.svc, "10.244.1.9", "http", 8080, "node1", K8SNET_ENDPOINT_F_READY)) \
	X(INT, MEM, k8snet_service_add_ip, (W.svc, K8SNET_SERVICE_IP_CLUSTER, "10.96.0.11")) \
	X(INT, MEM, k8snet_service_add_port, (W.svc, "dns", 17, 53, 0))                    \
	X(PTR, MEM, k8snet_service_get_str, (W.svc, K8SNET_SERVICE_NAME))                  \
	X(VAL, MEM, k8snet_service_get_u32, (W.svc, K8SNET_SERVICE_AFFINITY_TIMEOUT))      \
	X(INT, MEM, k8snet_service_set_endpoint_str, (W.svc, "10.244.1.9", K8SNET_ENDPOINT_ZONE, "a")) \
	X(INT, MEM, k8snet_service_set_str, (W.svc, K8SNET_SERVICE_NAMESPACE, "default"))  \
	X(INT, MEM, k8snet_service_set_u32, (W.svc, K8SNET_SERVICE_AFFINITY_TIMEOUT, 600)) \
	/* host ports */                                                                   \
	X(INT, MEM, k8snet_hostports_new, (W.ctx, &W.out_hp))                              \
	X(INT, MEM, k8snet_hostports_check, (W.hp, "pod", W.pm))                           \
	X(INT, KERN, k8snet_hostports_gc, (W.hp, "k8st-fork14", NULL, 0))                  \
	X(INT, KERN, k8snet_hostports_remove, (W.hp, "k8st-fork14-pod"))                   \
	X(INT, KERN, k8snet_hostports_set, (W.hp, "k8st-fork14-pod", W.pm))                \
	X(INT, KERN, k8snet_hostports_set_network, (W.hp, "k8st-fork14", NULL, 0, 0))      \
	X(INT, MEM, k8snet_hostports_set_str, (W.hp, K8SNET_HOSTPORTS_TABLE, "k8st-fork14-hp")) \
	X(INT, MEM, k8snet_hostports_set_u32, (W.hp, K8SNET_HOSTPORTS_MARK_BIT, 13))       \
	X(INT, MEM, k8snet_portmap_add, (W.pm, 6, NULL, 8081, "10.244.1.5", 80))           \
	X(INT, MEM, k8snet_portmap_get_count, (W.pm))                                      \
	/* policy */                                                                       \
	X(INT, MEM, k8snet_policy_db_new, (W.ctx, &W.out_db))                              \
	X(INT, MEM, k8snet_policy_db_add_pod_port, (W.db, "default", "web", "http", "TCP", 80)) \
	X(INT, MEM, k8snet_policy_db_check, (W.db, "default/web", "default/web", "TCP", 80, &W.text)) \
	X(INT, MEM, k8snet_policy_db_delete, (W.db, "Pod", "default", "gone"))             \
	X(INT, MEM, k8snet_policy_db_get_counters, (W.db, "default", "none", &W.c[0], &W.c[1], &W.c[2], &W.c[3])) \
	X(INT, MEM, k8snet_policy_db_load_json, (W.db, "{\"items\": []}", 13))             \
	X(INT, MEM, k8snet_policy_db_render, (W.db, "node1", &W.text))                     \
	X(INT, MEM, k8snet_policy_db_set_log, (W.db, 0, 0, 0))                             \
	X(INT, MEM, k8snet_policy_db_set_namespace, (W.db, "default", "team=a"))           \
	X(INT, MEM, k8snet_policy_db_set_pod, (W.db, "default", "web", "app=web", "10.244.1.5", "node1", 0)) \
	X(INT, KERN, k8snet_policy_db_sync, (W.db, "node1"))                               \
	X(INT, KERN, k8snet_policy_db_sync_full, (W.db, "node1"))                          \
	X(INT, MEM, k8snet_policy_selector_match, (W.ctx, "app=web", "app=web"))           \
	/* trace */                                                                        \
	X(INT, MEM, k8snet_trace_new, (W.ctx, &W.out_trace))                               \
	X(INT, MEM, k8snet_trace_add_str, (W.trace, K8SNET_TRACE_NODE_IP, "192.0.2.1"))    \
	X(INT, MEM, k8snet_trace_load_json, (W.trace, "{\"items\": []}", 13))              \
	X(INT, MEM, k8snet_trace_run, (W.trace, "default/web", "default/web", "TCP", 80, 0, &W.text)) \
	X(INT, MEM, k8snet_trace_set_str, (W.trace, K8SNET_TRACE_NODE_NAME, "node1"))      \
	X(INT, MEM, k8snet_trace_set_u32, (W.trace, K8SNET_TRACE_FLAGS, 0))                \
	X(INT, MEM, k8snet_trace_use_policy_db, (W.trace, W.db))                           \
	X(INT, MEM, k8snet_trace_use_proxy, (W.trace, W.proxy))                            \
	/* observe */                                                                      \
	X(INT, MEM, k8snet_observer_new, (W.ctx, 0, K8SNET_OBSERVER_F_NO_SOCKET, &W.out_obs)) \
	X(INT, MEM, k8snet_observer_feed, (W.obs, W.buf, 0))                               \
	X(INT, MEM, k8snet_observer_get_fd, (W.obs))                                       \
	X(VAL, MEM, k8snet_observer_get_lost, (W.obs))                                     \
	X(PTR, MEM, k8snet_observer_get_str, (W.obs, K8SNET_EVENT_VERDICT))                \
	X(VAL, MEM, k8snet_observer_get_u64, (W.obs, K8SNET_EVENT_TIME_NS))                \
	X(INT, MEM, k8snet_observer_load_json, (W.obs, "{\"items\": []}", 13))             \
	X(INT, MEM, k8snet_observer_next, (W.obs, 0))                                      \
	X(INT, MEM, k8snet_observer_set_json, (W.obs, NULL, NULL, 0))                      \
	/* dns */                                                                          \
	X(INT, MEM, k8snet_dns_candidates, (W.ctx, "api", "search default.svc.cluster.local\n", &W.text)) \
	X(INT, MEM, k8snet_dns_endpoint_name, (W.ctx, "web-0", "web", "default", NULL, &W.text)) \
	X(INT, MEM, k8snet_dns_pod_fqdn, (W.ctx, "web-0", "web", "default", NULL, &W.text)) \
	X(INT, MEM, k8snet_dns_pod_ip_name, (W.ctx, "10.244.1.5", "default", NULL, &W.text)) \
	X(INT, MEM, k8snet_dns_ptr_name, (W.ctx, "10.244.1.5", &W.text))                   \
	X(INT, MEM, k8snet_dns_query_parse, (W.ctx, "api.default.svc.cluster.local", NULL, &W.out_query)) \
	X(VAL, MEM, k8snet_dns_query_get_kind, (W.query))                                  \
	X(PTR, MEM, k8snet_dns_query_get_str, (W.query, K8SNET_DNS_QUERY_SERVICE))         \
	X(INT, MEM, k8snet_dns_resolv_new, (W.ctx, &W.out_resolv))                         \
	X(PTR, MEM, k8snet_dns_resolv_get_warning, (W.resolv, 0))                          \
	X(INT, MEM, k8snet_dns_resolv_render, (W.resolv, &W.text))                         \
	X(INT, MEM, k8snet_dns_resolv_set_str, (W.resolv, K8SNET_DNS_RESOLV_NAMESPACE, "default")) \
	X(INT, MEM, k8snet_dns_resolv_set_u32, (W.resolv, K8SNET_DNS_RESOLV_HOST_NETWORK, 0)) \
	X(INT, MEM, k8snet_dns_service_fqdn, (W.ctx, "api", "default", NULL, &W.text))     \
	X(INT, MEM, k8snet_dns_srv_name, (W.ctx, "http", "tcp", "api", "default", NULL, &W.text)) \
	X(INT, MEM, k8snet_dns_validate, (W.ctx, K8SNET_DNS_LABEL, "web"))                 \
	X(INT, MEM, k8snet_dns_zone_new, (W.ctx, "cluster.local", &W.out_zone))            \
	X(INT, MEM, k8snet_dns_zone_add_endpoint, (W.zone, "default", "api", "10.244.1.9", NULL, 0)) \
	X(INT, MEM, k8snet_dns_zone_add_endpoint_port, (W.zone, "default", "api", "http", "TCP", 8080)) \
	X(INT, MEM, k8snet_dns_zone_add_json, (W.zone, "{\"items\": []}", 13))             \
	X(INT, MEM, k8snet_dns_zone_add_pod, (W.zone, "default", "10.244.1.5", NULL, NULL, 0)) \
	X(INT, MEM, k8snet_dns_zone_add_service, (W.zone, "default", "api", "10.96.0.10", NULL, 0)) \
	X(INT, MEM, k8snet_dns_zone_add_service_port, (W.zone, "default", "api", "http", "TCP", 80)) \
	X(INT, MEM, k8snet_dns_zone_render, (W.zone, NULL, &W.text))                       \
	X(INT, MEM, k8snet_dns_zone_set_str, (W.zone, K8SNET_DNS_ZONE_NAMESERVER_IP, "10.96.0.10")) \
	X(INT, MEM, k8snet_dns_zone_set_u32, (W.zone, K8SNET_DNS_ZONE_TTL, 30))

#define CFG_JSON "{\"cniVersion\": \"1.0.0\", \"name\": \"pods\", \"ipam\": {\"type\": \"host-local\"," \
	" \"ranges\": [[{\"subnet\": \"10.10.0.0/16\"}]], \"routes\": [{\"dst\": \"0.0.0.0/0\"}]}}"

/* Not in the table, and why: each is called below all the same. */
static const char *const exempt[] = {
	/* freeing what the child inherited must work (the parent's sockets,
	 * files and locks are untouched: the child closes its own copies) */
	"k8snet_ctx_free", "k8snet_ctx_ref", "k8snet_ctx_unref", "k8snet_dns_query_free",
	"k8snet_dns_resolv_free", "k8snet_dns_zone_free", "k8snet_hostports_free",
	"k8snet_ipam_config_free", "k8snet_ipam_pool_free", "k8snet_link_pod_free",
	"k8snet_link_result_free", "k8snet_observer_free", "k8snet_policy_db_free",
	"k8snet_portmap_free", "k8snet_proxy_free", "k8snet_service_free", "k8snet_trace_free",
	/* how the child reads why a call failed */
	"k8snet_ctx_get_error", "k8snet_ctx_get_error_path", "k8snet_ctx_get_errno",
	"k8snet_ctx_clear_error", "k8snet_link_pod_get_error", "k8snet_service_get_error",
	/* no context or object to belong to another process */
	"k8snet_ctx_new", "k8snet_free", "k8snet_link_host_ifname", "k8snet_link_pod_new",
	"k8snet_portmap_new", "k8snet_service_new", "k8snet_strerror", "k8snet_version",
	"k8snet_version_num",
};

#define STUB_INT(fn, args) static intmax_t call_##fn(struct world *w) { return fn args; }
#define STUB_VAL(fn, args) STUB_INT(fn, args)
#define STUB_PTR(fn, args) \
	static intmax_t call_##fn(struct world *w) { return (intmax_t)(uintptr_t)fn args; }
#define STUB(kind, where, fn, args) STUB_##kind(fn, args)
CALLS(STUB)

struct call {
	const char *name;
	int kind, where;
	intmax_t (*fn)(struct world *w);
};

#define ENTRY(kind, where, fn, args) { #fn, kind, where, call_##fn },
static const struct call calls[] = { CALLS(ENTRY) };

static int failures;

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } while (0)
#define MUST(cond) do { if (!(cond)) { FAIL("%s:%d: %s", __FILE__, __LINE__, #cond); exit(1); } } while (0)

static bool in_table(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(calls[i].name, name) == 0)
			return true;
	return false;
}

static bool in_exempt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
		if (strcmp(exempt[i], name) == 0)
			return true;
	return false;
}

/* Every symbol of the version script is in the table or exempt; every
 * name of the table and the exempt list is a symbol. */
static void check_symbol_list(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[512], name[256];
	size_t n = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/lib/libk8snet.map", top ? top : ".");
	f = fopen(path, "re");
	MUST(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %255[a-z0-9_];", name) != 1 || strncmp(name, "k8snet_", 7) != 0)
			continue;
		n++;
		if (!in_table(name) && !in_exempt(name))
			FAIL("%s: exported, but not in this test's table nor its exempt list: "
			     "give it a fork guard (lib/core/internal.h) and a row here", name);
		if (in_table(name) && in_exempt(name))
			FAIL("%s: both in the table and exempt", name);
	}
	fclose(f);
	if (n != sizeof(calls) / sizeof(calls[0]) + sizeof(exempt) / sizeof(exempt[0]))
		FAIL("%zu symbols in %s, but %zu rows in the table and %zu exempt", n, path, sizeof(calls) / sizeof(calls[0]),
		     sizeof(exempt) / sizeof(exempt[0]));
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].kind == INT && calls[i].where != MEM && calls[i].where != KERN)
			FAIL("%s: bad row", calls[i].name);
	printf("symbols: %zu exported, %zu in the table, %zu exempt\n", n,
	       sizeof(calls) / sizeof(calls[0]), sizeof(exempt) / sizeof(exempt[0]));
}

static void world_make(struct world *w)
{
	MUST(k8snet_ctx_new(&w->ctx) == 0);
	/* Open sockets, so the child's free closes its copies of them. */
	MUST(k8snet_ctx_connect(w->ctx) == 0 || getuid() != 0);
	snprintf(w->dir, sizeof(w->dir), "/tmp/k8st-fork14-XXXXXX");
	MUST(mkdtemp(w->dir));
	snprintf(w->state, sizeof(w->state), "%s/pool.state", w->dir);
	MUST(k8snet_ipam_pool_new(w->ctx, 0, &w->pool) == 0);
	MUST(k8snet_ipam_pool_add_range(w->pool, "10.244.1.0/24", NULL, NULL, NULL) == 0);
	MUST(k8snet_ipam_pool_set_state_file(w->pool, w->state) == 0);
	MUST(k8snet_ipam_pool_alloc(w->pool, "parent", "eth0", NULL, w->buf, sizeof(w->buf)) == 0);
	MUST(k8snet_ipam_config_parse(w->ctx, CFG_JSON, strlen(CFG_JSON), &w->cfg) == 0);
	MUST(k8snet_proxy_new(w->ctx, &w->proxy) == 0);
	MUST(k8snet_service_new(&w->svc) == 0);
	MUST(k8snet_service_set_str(w->svc, K8SNET_SERVICE_NAME, "api") == 0);
	MUST(k8snet_service_add_ip(w->svc, K8SNET_SERVICE_IP_CLUSTER, "10.96.0.10") == 0);
	MUST(k8snet_service_add_port(w->svc, "http", 6, 80, 0) == 0);
	MUST(k8snet_link_pod_new(&w->pod) == 0);
	MUST(k8snet_link_pod_set_str(w->pod, K8SNET_LINK_POD_CONTAINER_ID, "k8st-fork14-c1") == 0);
	MUST(k8snet_link_pod_set_str(w->pod, K8SNET_LINK_POD_NETNS_PATH, "/proc/self/ns/net") == 0);
	MUST(k8snet_link_pod_set_str(w->pod, K8SNET_LINK_POD_BRIDGE, "k8st-fork14-br") == 0);
	MUST(k8snet_link_pod_add_address(w->pod, "10.244.1.5/24", "10.244.1.1") == 0);
	MUST(link_result_plan(w->pod, "k8st-fork14-br", &w->res) == 0);
	MUST(k8snet_policy_db_new(w->ctx, &w->db) == 0);
	MUST(k8snet_hostports_new(w->ctx, &w->hp) == 0);
	MUST(k8snet_portmap_new(&w->pm) == 0);
	MUST(k8snet_portmap_add(w->pm, 6, NULL, 8080, "10.244.1.5", 80) == 0);
	MUST(k8snet_trace_new(w->ctx, &w->trace) == 0);
	MUST(k8snet_observer_new(w->ctx, 0, K8SNET_OBSERVER_F_NO_SOCKET, &w->obs) == 0);
	MUST(k8snet_dns_query_parse(w->ctx, "api.default.svc.cluster.local", NULL, &w->query) == 0);
	MUST(k8snet_dns_resolv_new(w->ctx, &w->resolv) == 0);
	MUST(k8snet_dns_zone_new(w->ctx, "cluster.local", &w->zone) == 0);
}

/* What a call in the parent handed out. */
static void world_drop_outputs(struct world *w)
{
	k8snet_free(w->text);
	w->text = NULL;
	w->out_ctx = k8snet_ctx_unref(w->out_ctx);
	w->out_pool = k8snet_ipam_pool_free(w->out_pool);
	w->out_cfg = k8snet_ipam_config_free(w->out_cfg);
	w->out_proxy = k8snet_proxy_free(w->out_proxy);
	w->out_res = k8snet_link_result_free(w->out_res);
	w->out_db = k8snet_policy_db_free(w->out_db);
	w->out_hp = k8snet_hostports_free(w->out_hp);
	w->out_trace = k8snet_trace_free(w->out_trace);
	w->out_obs = k8snet_observer_free(w->out_obs);
	w->out_query = k8snet_dns_query_free(w->out_query);
	w->out_resolv = k8snet_dns_resolv_free(w->out_resolv);
	w->out_zone = k8snet_dns_zone_free(w->out_zone);
}

static void world_free(struct world *w)
{
	world_drop_outputs(w);
	/* Objects first or context first: either order is safe. */
	k8snet_ctx_unref(w->ctx);
	k8snet_ipam_pool_free(w->pool);
	k8snet_ipam_config_free(w->cfg);
	k8snet_trace_free(w->trace);
	k8snet_proxy_free(w->proxy);
	k8snet_service_free(w->svc);
	k8snet_link_pod_free(w->pod);
	k8snet_link_result_free(w->res);
	k8snet_policy_db_free(w->db);
	k8snet_hostports_free(w->hp);
	k8snet_portmap_free(w->pm);
	k8snet_observer_free(w->obs);
	k8snet_dns_query_free(w->query);
	k8snet_dns_resolv_free(w->resolv);
	k8snet_dns_zone_free(w->zone);
}

/* In the child: every row refuses, and says why where it can. */
static int child_calls(struct world *w)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *c = &calls[i];
		intmax_t r;

		errno = 0;
		r = c->fn(w);
		if (c->kind == INT ? r != -ECHILD : (r != 0 || errno != ECHILD)) {
			fprintf(stderr, "child: %s returned %jd (errno %d), not %s\n", c->name, r,
				errno, c->kind == INT ? "-ECHILD" : "0 with errno ECHILD");
			bad = 1;
		}
	}
	if (!strstr(k8snet_ctx_get_error(w->ctx), "before a fork()") ||
	    k8snet_ctx_get_errno(w->ctx) != -ECHILD) {
		fprintf(stderr, "child: context message '%s'\n", k8snet_ctx_get_error(w->ctx));
		bad = 1;
	}
	if (!strstr(k8snet_service_get_error(w->svc), "before a fork()") ||
	    !strstr(k8snet_link_pod_get_error(w->pod), "before a fork()")) {
		fprintf(stderr, "child: object messages '%s', '%s'\n",
			k8snet_service_get_error(w->svc), k8snet_link_pod_get_error(w->pod));
		bad = 1;
	}
	/* Nothing reached the kernel or the state file: no output. */
	if (w->text || w->out_pool || w->out_proxy || w->out_res || w->out_query) {
		fprintf(stderr, "child: a refused call handed something out\n");
		bad = 1;
	}
	/* A context of the child's own works. */
	{
		struct k8snet_ctx *mine = NULL;
		char *fqdn = NULL;

		if (k8snet_ctx_new(&mine) < 0 ||
		    k8snet_dns_service_fqdn(mine, "api", "default", NULL, &fqdn) < 0) {
			fprintf(stderr, "child: a new context fails: %s\n", k8snet_ctx_get_error(mine));
			bad = 1;
		}
		k8snet_free(fqdn);
		k8snet_ctx_free(mine);
	}
	/* The exempt ones work on what the child inherited. */
	if (k8snet_ctx_ref(w->ctx) != w->ctx) {
		fprintf(stderr, "child: k8snet_ctx_ref refused\n");
		bad = 1;
	}
	k8snet_ctx_unref(w->ctx);
	k8snet_ctx_clear_error(w->ctx);
	world_free(w);
	return bad;
}

/* In the parent, after the child: every memory row works as before. */
static void parent_calls(struct world *w)
{
	size_t i;

	/* A few results, not just "not refused" (before the table's gc).  The
	 * sockets the child closed its copies of still work here (as root the
	 * test has a namespace of its own to sync into). */
	MUST(k8snet_ctx_connect(w->ctx) == 0 || getuid() != 0);
	if (getuid() == 0) {
		MUST(k8snet_ctx_describe(w->ctx, &w->text) == 0 && strstr(w->text, "\"lo\""));
		MUST(k8snet_proxy_add_service(w->proxy, w->svc) == 0);
		MUST(k8snet_proxy_sync(w->proxy) >= 0);
		world_drop_outputs(w);
	}
	MUST(k8snet_ipam_pool_lookup(w->pool, "parent", "eth0", w->buf, sizeof(w->buf)) == 1);
	MUST(strncmp(w->buf, "10.244.1.", 9) == 0);
	MUST(k8snet_ipam_pool_alloc(w->pool, "parent2", "eth0", NULL, w->buf, sizeof(w->buf)) == 0);
	MUST(strcmp(k8snet_service_get_str(w->svc, K8SNET_SERVICE_NAME), "api") == 0);
	MUST(k8snet_proxy_add_service(w->proxy, w->svc) == 0);
	MUST(k8snet_proxy_render(w->proxy, &w->text) == 0 && strstr(w->text, "10.96.0.10"));
	world_drop_outputs(w);

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *c = &calls[i];
		intmax_t r;

		if (c->where != MEM)
			continue;
		errno = 0;
		r = c->fn(w);
		if (c->kind == INT ? r == -ECHILD : (r == 0 && errno == ECHILD))
			FAIL("parent: %s refused after the child exited: %s", c->name,
			     k8snet_ctx_get_error(w->ctx));
		world_drop_outputs(w);
	}
	MUST(k8snet_link_pod_get_u32(w->pod, K8SNET_LINK_POD_MTU) == 1400);
}

/* Kernels before 4.14 have no MADV_WIPEONFORK: the context then compares
 * getpid() with the pid it was made in. */
static void check_fallback(void)
{
	struct k8snet_ctx *ctx;
	int status;
	pid_t pid;

	MUST(k8snet_ctx_new(&ctx) == 0);
	if (!ctx->owner_mark)
		printf("no MADV_WIPEONFORK here: every context uses the fallback\n");
	k8s_owner_mark_free(ctx->owner_mark);
	ctx->owner_mark = NULL;
	pid = fork();
	MUST(pid >= 0);
	if (pid == 0)
		_exit(k8snet_ctx_set_log_priority(ctx, 3) == -ECHILD &&
		      strstr(k8snet_ctx_get_error(ctx), "before a fork()") ? 0 : 1);
	MUST(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("fallback: the child was not refused (status %#x)", status);
	MUST(k8snet_ctx_set_log_priority(ctx, 3) == 0);
	k8snet_ctx_free(ctx);
}

int main(void)
{
	struct world w = { 0 };
	int status;
	pid_t pid;

	/* As root: a namespace of our own, in case a guard were missing. */
	if (getuid() == 0 && unshare(CLONE_NEWNET) < 0) {
		perror("unshare");
		return 1;
	}
	check_symbol_list();
	check_fallback();
	world_make(&w);
	pid = fork();
	MUST(pid >= 0);
	if (pid == 0)
		_exit(child_calls(&w));
	MUST(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("child: exit status %#x", status);
	parent_calls(&w);
	world_free(&w);
	unlink(w.state);
	{
		char lock[128];

		snprintf(lock, sizeof(lock), "%s.lock", w.state);
		unlink(lock);
	}
	rmdir(w.dir);
	if (failures)
		return 1;
	printf("fork rule: %zu functions refuse in a child, %zu exempt\n",
	       sizeof(calls) / sizeof(calls[0]), sizeof(exempt) / sizeof(exempt[0]));
	return 0;
}
