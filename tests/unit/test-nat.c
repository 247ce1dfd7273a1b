/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for Service NAT with no kernel: the JSON reader, the planner
 * through render(), endpoint conditions, policies, the C API's checks. */
#include <check.h>
#include <string.h>

#include <k8snet/nat.h>

#include "nat/internal.h"

static struct k8snet_ctx *ctx;
static struct k8snet_proxy *p;

static void setup(void)
{
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_proxy_new(ctx, &p), 0);
	ck_assert_int_eq(k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, "n1"), 0);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.244.0.0/16"), 0);
}

static void teardown(void)
{
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
}

static int load(const char *json)
{
	return k8snet_proxy_load_json(p, json, strlen(json));
}

static char *render(void)
{
	char *text = NULL;

	ck_assert_int_eq(k8snet_proxy_render(p, &text), 0);
	return text;
}

static bool has(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

#define SVC(name, spec) \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"," \
	"\"namespace\":\"default\"},\"spec\":" spec "}"
#define SLICE(name, svc, type, eps, ports) \
	"{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{" \
	"\"name\":\"" name "\",\"namespace\":\"default\",\"labels\":{" \
	"\"kubernetes.io/service-name\":\"" svc "\"}},\"addressType\":\"" type "\"," \
	"\"endpoints\":" eps ",\"ports\":" ports "}"
#define LIST(items) "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" items "]}"

static const char *const web = LIST(
	SVC("web", "{\"type\":\"NodePort\",\"clusterIPs\":[\"10.96.0.10\",\"fd00::10\"],"
		   "\"ports\":[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]}") ","
	SLICE("web-1", "web", "IPv4",
	      "[{\"addresses\":[\"10.244.1.5\"],\"nodeName\":\"n1\"},"
	      "{\"addresses\":[\"10.244.2.5\"],\"conditions\":{\"ready\":true},\"nodeName\":\"n2\"}]",
	      "[{\"name\":\"http\",\"port\":8080}]") ","
	SLICE("web-2", "web", "IPv6", "[{\"addresses\":[\"fd00:244::5\"]}]",
	      "[{\"name\":\"http\",\"port\":8080}]"));

START_TEST(test_clusterip_nodeport_dualstack)
{
	char *t;

	ck_assert_int_eq(load(web), 3);
	t = render();
	ck_assert(has(t, "10.96.0.10 . tcp . 80 : goto pick-2"));
	ck_assert(has(t, "10.96.0.10 . tcp . 80 . 0 : 10.244.1.5 . 8080"));
	ck_assert(has(t, "10.96.0.10 . tcp . 80 . 1 : 10.244.2.5 . 8080"));
	ck_assert(has(t, "tcp . 30080 : goto np-default/web/tcp/80"));
	ck_assert(has(t, "tcp . 30080 . 1 : 10.244.2.5 . 8080"));
	ck_assert(has(t, "meta mark set meta mark | 0x00004000 goto pick-np-2"));
	ck_assert(has(t, "chain pick-2 {\n\t\tjump masq-outside\n"));
	ck_assert(has(t, "ip saddr 10.244.0.0/16 return"));
	/* dual-stack: the IPv6 slice feeds the ip6 table only */
	ck_assert(has(t, "fd00::10 . tcp . 80 : goto pick-1"));
	ck_assert(has(t, "fd00::10 . tcp . 80 . 0 : fd00:244::5 . 8080"));
	ck_assert(has(t, "10.244.1.5 . 10.244.1.5"));   /* hairpin */
	free(t);
}
END_TEST

START_TEST(test_render_deterministic)
{
	char *a, *b;

	ck_assert_int_eq(load(web), 3);
	a = render();
	b = render();
	ck_assert_str_eq(a, b);
	free(b);
	/* The same objects in another order give the same text. */
	k8snet_proxy_free(p);
	ck_assert_int_eq(k8snet_proxy_new(ctx, &p), 0);
	k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, "n1");
	k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.244.0.0/16");
	ck_assert_int_eq(load(LIST(
		SLICE("web-2", "web", "IPv6", "[{\"addresses\":[\"fd00:244::5\"]}]",
		      "[{\"name\":\"http\",\"port\":8080}]") ","
		SLICE("web-1", "web", "IPv4",
		      "[{\"addresses\":[\"10.244.2.5\"],\"conditions\":{\"ready\":true},\"nodeName\":\"n2\"},"
		      "{\"addresses\":[\"10.244.1.5\"],\"nodeName\":\"n1\"}]",
		      "[{\"name\":\"http\",\"port\":8080}]") ","
		SVC("web", "{\"type\":\"NodePort\",\"clusterIPs\":[\"10.96.0.10\",\"fd00::10\"],"
			   "\"ports\":[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]}"))), 3);
	b = render();
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_bad_input_names_field_and_changes_nothing)
{
	char *before, *after;

	ck_assert_int_eq(load(web), 3);
	before = render();
	ck_assert_int_eq(load(LIST(SVC("ok", "{\"clusterIP\":\"10.96.0.20\",\"ports\":[{\"port\":1}]}") ","
				   SVC("bad", "{\"clusterIP\":\"10.96.0.21\",\"ports\":[{\"port\":70000}]}"))),
			 -ERANGE);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx),
			 "items[1].spec.ports[0].port: 70000 out of range: must be 1..65535");
	after = render();
	ck_assert_str_eq(before, after);
	free(after);
	ck_assert_int_eq(load(SVC("x", "{\"clusterIP\":\"10.96.0.300\",\"ports\":[{\"port\":1}]}")),
			 -EINVAL);
	ck_assert(has(k8snet_ctx_get_error(ctx), "spec.clusterIP: '10.96.0.300': not an IP address"));
	ck_assert_int_eq(load(SVC("x", "{\"clusterIP\":\"10.96.0.3\",\"ports\":[{\"port\":1,"
				       "\"protocol\":\"ICMP\"}]}")), -EINVAL);
	ck_assert(has(k8snet_ctx_get_error(ctx), "spec.ports[0].protocol: 'ICMP'"));
	ck_assert_int_eq(load(SLICE("s", "x", "IPv4", "[{\"addresses\":[\"fd00::1\"]}]",
				    "[{\"port\":1}]")), -EINVAL);
	ck_assert(has(k8snet_ctx_get_error(ctx), "endpoints[0].addresses[0]: 'fd00::1': not an IPv4"));
	ck_assert_int_eq(load(SVC("x", "{\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":0}}}")),
			 -ERANGE);
	ck_assert(has(k8snet_ctx_get_error(ctx), "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0"));
	ck_assert_int_eq(load("{\"kind\":\"Service\",\"metadata\":{}}"), -EINVAL);
	ck_assert(has(k8snet_ctx_get_error(ctx), "metadata.name"));
	after = render();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_no_endpoints_externalname_headless)
{
	char *t;

	ck_assert_int_eq(load(LIST(
		SVC("empty", "{\"clusterIP\":\"10.96.0.12\",\"ports\":[{\"port\":81,\"protocol\":\"SCTP\"},"
			     "{\"port\":82,\"protocol\":\"UDP\"}]}") ","
		SVC("dns", "{\"type\":\"ExternalName\",\"externalName\":\"example.com\"}") ","
		SVC("headless", "{\"clusterIP\":\"None\",\"ports\":[{\"port\":83}]}") ","
		"{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}")), 3);
	t = render();
	ck_assert(has(t, "10.96.0.12 . sctp . 81 : goto no-endpoints"));
	ck_assert(has(t, "10.96.0.12 . udp . 82 : goto no-endpoints"));
	ck_assert(has(t, "chain no-endpoints {\n\t\tmeta l4proto tcp reject with tcp reset\n\t\treject\n"));
	ck_assert(!has(t, "dns"));
	ck_assert(!has(t, "headless"));
	ck_assert(!has(t, ". 83"));
	free(t);
}
END_TEST

START_TEST(test_ready_serving_terminating)
{
	char *t;

	/* Only terminating endpoints: the serving ones are used. */
	ck_assert_int_eq(load(LIST(
		SVC("t", "{\"clusterIP\":\"10.96.0.30\",\"ports\":[{\"port\":80}]}") ","
		SLICE("t-1", "t", "IPv4",
		      "[{\"addresses\":[\"10.244.0.1\"],\"conditions\":{\"ready\":false,\"serving\":true,\"terminating\":true}},"
		      "{\"addresses\":[\"10.244.0.2\"],\"conditions\":{\"ready\":false,\"serving\":false,\"terminating\":true}}]",
		      "[{\"port\":8080}]"))), 2);
	t = render();
	ck_assert(has(t, "10.96.0.30 . tcp . 80 : goto pick-1"));
	ck_assert(has(t, ": 10.244.0.1 . 8080"));
	ck_assert(!has(t, ": 10.244.0.2 . 8080"));
	free(t);
	/* With a ready one, terminating ones are left out. */
	ck_assert_int_eq(load(SLICE("t-2", "t", "IPv4", "[{\"addresses\":[\"10.244.0.3\"]}]",
				    "[{\"port\":8080}]")), 1);
	t = render();
	ck_assert(has(t, "10.96.0.30 . tcp . 80 . 0 : 10.244.0.3 . 8080"));
	ck_assert(!has(t, ": 10.244.0.1 . 8080"));
	free(t);
}
END_TEST

START_TEST(test_policies_affinity_lb)
{
	char *t;

	ck_assert_int_eq(load(LIST(
		SVC("lb", "{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.40\",\"externalTrafficPolicy\":\"Local\","
			  "\"internalTrafficPolicy\":\"Local\",\"loadBalancerSourceRanges\":[\"192.168.0.0/16\"],"
			  "\"externalIPs\":[\"198.51.100.1\"],\"ports\":[{\"port\":443,\"nodePort\":30443}]}") ","
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"lb\"},\"spec\":{},"
		"\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.5\"}]}}}" ","
		SLICE("lb-1", "lb", "IPv4", "[{\"addresses\":[\"10.244.9.9\"],\"nodeName\":\"n2\"}]",
		      "[{\"port\":8443}]") ","
		SVC("aff", "{\"clusterIP\":\"10.96.0.41\",\"sessionAffinity\":\"ClientIP\","
			   "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":60}},\"ports\":[{\"port\":80}]}") ","
		SLICE("aff-1", "aff", "IPv4", "[{\"addresses\":[\"10.244.0.7\"]}]", "[{\"port\":8080}]"))), 5);
	t = render();
	free(t);
	/* The second "lb" replaced the first (an empty spec): nothing but aff. */
	ck_assert_int_eq(load(SVC("lb", "{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.40\","
				  "\"externalTrafficPolicy\":\"Local\",\"internalTrafficPolicy\":\"Local\","
				  "\"loadBalancerSourceRanges\":[\"192.168.0.0/16\"],"
				  "\"externalIPs\":[\"198.51.100.1\"],\"ports\":[{\"port\":443,\"nodePort\":30443}]}")), 1);
	t = render();
	/* iTP Local with no local endpoint: internal traffic dropped */
	ck_assert(has(t, "10.96.0.40 . tcp . 443 : goto no-local-endpoints"));
	/* eTP Local, no local endpoint: external traffic dropped, node clients masqueraded */
	ck_assert(has(t, "chain ext-default/lb/tcp/443 {\n\t\tfib saddr type local meta mark set meta mark | 0x00004000\n\t\tdrop\n"));
	ck_assert(has(t, "tcp . 30443 : goto np-default/lb/tcp/443"));
	/* affinity: per-endpoint set with the timeout */
	ck_assert(has(t, "set aff-default/aff/tcp/80/10.244.0.7/8080 {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout 60s"));
	ck_assert(has(t, "update @aff-default/aff/tcp/80/10.244.0.7/8080 { ip saddr } dnat ip to 10.244.0.7:8080"));
	free(t);
}
END_TEST

/* ipMode Proxy: the load balancer proxies such traffic, so its address
 * gets no rule (traffic from the node goes to the load balancer). */
START_TEST(test_lb_ip_mode_proxy)
{
	struct k8snet_service *s;
	char *t;

	ck_assert_int_eq(load(LIST(
		SVC("lb", "{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.40\","
			  "\"ports\":[{\"port\":443,\"nodePort\":30443}]},"
			  "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.5\","
			  "\"ipMode\":\"Proxy\"},{\"ip\":\"203.0.113.6\",\"ipMode\":\"VIP\"},"
			  "{\"ip\":\"203.0.113.7\"}]}}") ","
		SLICE("lb-1", "lb", "IPv4", "[{\"addresses\":[\"10.244.9.9\"]}]", "[{\"port\":8443}]"))), 2);
	t = render();
	ck_assert(!has(t, "203.0.113.5"));
	ck_assert(has(t, "203.0.113.6 . tcp . 443 : goto ext-default/lb/tcp/443"));
	ck_assert(has(t, "203.0.113.7 . tcp . 443 : goto ext-default/lb/tcp/443"));
	free(t);
	ck_assert_int_eq(load(SVC("bad", "{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.41\"},"
				  "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.8\","
				  "\"ipMode\":\"Tunnel\"}]}}")), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "status.loadBalancer.ingress[0].ipMode");
	/* The C API: the same kind, no rule. */
	ck_assert_int_eq(k8snet_service_new(&s), 0);
	ck_assert_int_eq(k8snet_service_set_str(s, K8SNET_SERVICE_NAME, "api"), 0);
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_TYPE, K8SNET_SERVICE_TYPE_LOAD_BALANCER), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, "10.96.0.42"), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_LB_INGRESS_PROXY, "203.0.113.9"), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, 5, "203.0.113.9"), -EINVAL);
	ck_assert_int_eq(k8snet_service_add_port(s, "", 6, 443, 0), 0);
	ck_assert_int_eq(k8snet_service_add_endpoint(s, "10.244.9.10", "", 8443, NULL,
						     K8SNET_ENDPOINT_F_READY), 0);
	ck_assert_int_eq(k8snet_proxy_add_service(p, s), 0);
	k8snet_service_free(s);
	t = render();
	ck_assert(has(t, "10.96.0.42 . tcp . 443"));
	ck_assert(!has(t, "203.0.113.9"));
	free(t);
}
END_TEST

#define TOPO_EP(addr, zone, hints) \
	"{\"addresses\":[\"" addr "\"],\"zone\":\"" zone "\"" hints "}"

/* Topology: trafficDistribution gives hints from zones; explicit hints win;
 * all hints or none; no endpoint for this zone: all of them. */
START_TEST(test_topology)
{
	struct k8snet_service *s;
	char *t;

	ck_assert_int_eq(k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_ZONE, "a"), 0);
	ck_assert_str_eq(k8snet_proxy_get_str(p, K8SNET_PROXY_NODE_ZONE), "a");
	ck_assert_int_eq(load(LIST(
		SVC("td", "{\"clusterIP\":\"10.96.0.50\",\"trafficDistribution\":\"PreferClose\","
			  "\"ports\":[{\"port\":80}]}") ","
		SLICE("td-1", "td", "IPv4", "[" TOPO_EP("10.244.1.1", "a", "") ","
		      TOPO_EP("10.244.1.2", "a", "") "," TOPO_EP("10.244.2.1", "b", "") "]",
		      "[{\"port\":8080}]") ","
		/* explicit hints: 10.244.3.2 in zone a serves zone b only */
		SVC("hints", "{\"clusterIP\":\"10.96.0.51\",\"ports\":[{\"port\":80}]}") ","
		SLICE("hints-1", "hints", "IPv4", "["
		      TOPO_EP("10.244.3.1", "a", ",\"hints\":{\"forZones\":[{\"name\":\"a\"}]}") ","
		      TOPO_EP("10.244.3.2", "a", ",\"hints\":{\"forZones\":[{\"name\":\"b\"}]}") "]",
		      "[{\"port\":8080}]") ","
		/* one endpoint without hints: none count */
		SVC("partial", "{\"clusterIP\":\"10.96.0.52\",\"ports\":[{\"port\":80}]}") ","
		SLICE("partial-1", "partial", "IPv4", "["
		      TOPO_EP("10.244.4.1", "a", ",\"hints\":{\"forZones\":[{\"name\":\"a\"}]}") ","
		      TOPO_EP("10.244.4.2", "b", "") "]", "[{\"port\":8080}]") ","
		/* only zone b endpoints: all of them */
		SVC("far", "{\"clusterIP\":\"10.96.0.53\",\"trafficDistribution\":\"PreferSameZone\","
			   "\"ports\":[{\"port\":80}]}") ","
		SLICE("far-1", "far", "IPv4", "[" TOPO_EP("10.244.5.1", "b", "") ","
		      TOPO_EP("10.244.5.2", "b", "") "]", "[{\"port\":8080}]"))), 8);
	t = render();
	ck_assert(has(t, "10.96.0.50 . tcp . 80 : goto pick-2"));
	ck_assert(has(t, "10.96.0.50 . tcp . 80 . 0x00000001 : 10.244.1.2 . 8080") ||
		  has(t, "10.96.0.50 . tcp . 80 . 1 : 10.244.1.2 . 8080"));
	ck_assert(!has(t, "10.244.2.1"));
	ck_assert(has(t, "10.96.0.51 . tcp . 80 : goto pick-1"));
	ck_assert(!has(t, "10.244.3.2 . 8080"));
	ck_assert(has(t, "10.96.0.52 . tcp . 80 : goto pick-2"));
	ck_assert(has(t, "10.96.0.53 . tcp . 80 : goto pick-2"));
	free(t);
	/* PreferSameNode from the C API: only this node's endpoint. */
	ck_assert_int_eq(k8snet_service_new(&s), 0);
	ck_assert_int_eq(k8snet_service_set_str(s, K8SNET_SERVICE_NAME, "node"), 0);
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_TRAFFIC_DISTRIBUTION,
						K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE), 0);
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_TRAFFIC_DISTRIBUTION, 3), -EINVAL);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, "10.96.0.54"), 0);
	ck_assert_int_eq(k8snet_service_add_port(s, "", 6, 80, 0), 0);
	ck_assert_int_eq(k8snet_service_add_endpoint(s, "10.244.6.1", "", 8080, "n1", K8SNET_ENDPOINT_F_READY), 0);
	ck_assert_int_eq(k8snet_service_add_endpoint(s, "10.244.6.2", "", 8080, "n2", K8SNET_ENDPOINT_F_READY), 0);
	ck_assert_int_eq(k8snet_service_set_endpoint_str(s, "10.244.6.1", K8SNET_ENDPOINT_ZONE, "a"), 0);
	ck_assert_int_eq(k8snet_service_set_endpoint_str(s, "10.244.6.9", K8SNET_ENDPOINT_ZONE, "a"), -ENOENT);
	ck_assert_int_eq(k8snet_service_set_endpoint_str(s, "10.244.6.1", 9, "a"), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_add_service(p, s), 0);
	t = render();
	ck_assert(has(t, "10.96.0.54 . tcp . 80 : goto pick-1"));
	ck_assert(!has(t, "10.244.6.2"));
	free(t);
	/* Explicit node hints from the C API override: 10.244.6.2 is for n1. */
	ck_assert_int_eq(k8snet_service_set_endpoint_str(s, "10.244.6.1", K8SNET_ENDPOINT_HINT_NODE, "n9"), 0);
	ck_assert_int_eq(k8snet_service_set_endpoint_str(s, "10.244.6.2", K8SNET_ENDPOINT_HINT_NODE, "n1"), 0);
	ck_assert_int_eq(k8snet_proxy_add_service(p, s), 0);
	k8snet_service_free(s);
	t = render();
	ck_assert(has(t, "10.96.0.54 . tcp . 80 : goto pick-1"));
	ck_assert(has(t, "10.244.6.2 . 8080"));
	ck_assert(!has(t, ": 10.244.6.1 . 8080"));
	free(t);
}
END_TEST

static struct nat_ctflow flow(uint8_t dst, bool nodeport, uint8_t proto, uint16_t port, uint8_t ep)
{
	struct nat_ctflow f = { .nodeport = nodeport, .proto = proto, .port = port,
				.has_ep = ep != 0, .ep_port = ep ? 8080 : 0 };

	if (!nodeport)
		f.daddr[0] = 10, f.daddr[3] = dst;
	if (ep)
		f.ep[0] = 10, f.ep[3] = ep;
	return f;
}

/* What conntrack cleanup deletes between two fragments: removed endpoints
 * of destinations that keep others; whole destinations left without
 * endpoints or gone; nothing for new ones or ones that had none. */
START_TEST(test_conntrack_diff)
{
	struct nat_ctflow o[] = {
		flow(1, false, IPPROTO_UDP, 53, 5), flow(1, false, IPPROTO_UDP, 53, 6),   /* loses .6 */
		flow(2, false, IPPROTO_UDP, 53, 7),                                      /* loses all */
		flow(3, false, IPPROTO_UDP, 53, 8),                                      /* goes away */
		flow(4, false, IPPROTO_UDP, 53, 0),                                      /* had none */
		flow(0, true, IPPROTO_UDP, 30053, 5), flow(0, true, IPPROTO_UDP, 30053, 6),
	};
	struct nat_ctflow n[] = {
		flow(1, false, IPPROTO_UDP, 53, 5), flow(1, false, IPPROTO_UDP, 53, 9),
		flow(2, false, IPPROTO_UDP, 53, 0),
		flow(4, false, IPPROTO_UDP, 53, 9),
		flow(5, false, IPPROTO_UDP, 53, 9),                                      /* new */
		flow(0, true, IPPROTO_UDP, 30053, 5),
	};
	struct nat_frag fo = { .ctflows = o, .nctflows = ARRAY_SIZE(o) };
	struct nat_frag fn = { .ctflows = n, .nctflows = ARRAY_SIZE(n) };
	struct nat_ctwork w = { 0 };

	qsort(o, ARRAY_SIZE(o), sizeof(*o), nat_ctflow_cmp);
	qsort(n, ARRAY_SIZE(n), sizeof(*n), nat_ctflow_cmp);
	ck_assert_int_eq(nat_ct_diff(AF_INET, &fo, &fn, &w), 0);
	ck_assert_uint_eq(w.n, 4);
	/* sorted: ClusterIP destinations first, then the NodePort */
	ck_assert(!w.v[0].f.nodeport && w.v[0].f.daddr[3] == 1 && w.v[0].f.has_ep && w.v[0].f.ep[3] == 6);
	ck_assert(w.v[1].f.daddr[3] == 2 && !w.v[1].f.has_ep);
	ck_assert(w.v[2].f.daddr[3] == 3 && !w.v[2].f.has_ep);
	ck_assert(w.v[3].f.nodeport && w.v[3].f.port == 30053 && w.v[3].f.ep[3] == 6);
	nat_ctwork_free(&w);
	/* A service deleted: all its destinations. */
	ck_assert_int_eq(nat_ct_diff(AF_INET, &fo, NULL, &w), 0);
	ck_assert_uint_eq(w.n, 4);
	nat_ctwork_free(&w);
	ck_assert_int_eq(nat_ct_diff(AF_INET, NULL, &fn, &w), 0);
	ck_assert_uint_eq(w.n, 0);
	nat_ctwork_free(&w);
}
END_TEST

/* Service CIDRs: the rest of the range is dropped, after the reject of
 * known ClusterIPs on unused ports. */
START_TEST(test_service_cidrs)
{
	char *t;

	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_SERVICE_CIDR, "10.96.0.0/16"), 0);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_SERVICE_CIDR, "fd00:96::/112"), 0);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_SERVICE_CIDR, "10.96.0.0/40"), -EINVAL);
	ck_assert_str_eq(k8snet_proxy_get_str(p, K8SNET_PROXY_SERVICE_CIDR), "10.96.0.0/16");
	t = render();
	ck_assert(has(t, "ip daddr @cluster-ips goto no-endpoints\n\t\tip daddr 10.96.0.0/16 drop\n"));
	ck_assert(has(t, "ip6 daddr @cluster-ips goto no-endpoints\n\t\tip6 daddr fd00:96::/112 drop\n"));
	free(t);
}
END_TEST

START_TEST(test_lb_source_ranges)
{
	struct k8snet_service *s;
	char *t;

	ck_assert_int_eq(k8snet_service_new(&s), 0);
	ck_assert_int_eq(k8snet_service_set_str(s, K8SNET_SERVICE_NAME, "lb"), 0);
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_TYPE, K8SNET_SERVICE_TYPE_LOAD_BALANCER), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, "10.96.0.50"), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_LB_INGRESS, "203.0.113.7"), 0);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_SOURCE_RANGE, "192.168.1.77/24"), 0);
	ck_assert_int_eq(k8snet_service_add_port(s, "", 6, 443, 0), 0);
	ck_assert_int_eq(k8snet_service_add_endpoint(s, "10.244.0.9", "", 8443, "n1",
						     K8SNET_ENDPOINT_F_READY), 0);
	ck_assert_int_eq(k8snet_proxy_add_service(p, s), 0);
	k8snet_service_free(s);
	t = render();
	ck_assert(has(t, "203.0.113.7 . tcp . 443 : goto fw-default/lb/tcp/443"));
	ck_assert(has(t, "chain fw-default/lb/tcp/443 {\n\t\tip saddr 192.168.1.0/24 goto ext-default/lb/tcp/443\n\t\tdrop\n"));
	ck_assert(has(t, "203.0.113.7 . tcp . 443 . 0 : 10.244.0.9 . 8443"));
	free(t);
	ck_assert_int_eq(k8snet_proxy_remove_service(p, "default", "lb"), 0);
	t = render();
	ck_assert(!has(t, "lb"));
	ck_assert(!has(t, "10.244.0.9"));
	free(t);
	ck_assert_int_eq(k8snet_proxy_remove_service(p, "default", "lb"), -ENOENT);
}
END_TEST

START_TEST(test_api_checks)
{
	struct k8snet_service *s;

	ck_assert_int_eq(k8snet_proxy_new(NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_new(ctx, NULL), -EINVAL);
	ck_assert_ptr_null(k8snet_proxy_free(NULL));
	ck_assert_ptr_null(k8snet_service_free(NULL));
	ck_assert_int_eq(k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, "bad name"), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, "mine"), 0);
	ck_assert_str_eq(k8snet_proxy_get_str(p, K8SNET_PROXY_TABLE), "mine");
	ck_assert_int_eq(k8snet_proxy_set_u32(p, K8SNET_PROXY_MARK_BIT, 32), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_set_u32(p, K8SNET_PROXY_MARK_BIT, 3), 0);
	ck_assert_uint_eq(k8snet_proxy_get_u32(p, K8SNET_PROXY_MARK_BIT), 3);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_NODE_IP, "nope"), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_NODE_IP, "192.168.1.1"), 0);
	ck_assert_str_eq(k8snet_proxy_get_str(p, K8SNET_PROXY_NODE_IP), "192.168.1.1");
	ck_assert_str_eq(k8snet_proxy_get_str(p, K8SNET_PROXY_CLUSTER_CIDR), "10.244.0.0/16");
	ck_assert_int_eq(k8snet_proxy_load_json(p, NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_render(p, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_proxy_sync(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_service_new(&s), 0);
	ck_assert_int_eq(k8snet_proxy_add_service(p, s), -EINVAL);   /* no name */
	/* No context: the Service says what was wrong, naming the field. */
	ck_assert_int_eq(k8snet_service_set_str(s, K8SNET_SERVICE_NAME, "Bad_Name"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_service_get_error(s), "metadata.name: 'Bad_Name'"));
	ck_assert_int_eq(k8snet_service_add_port(s, "", 1, 80, 0), -EINVAL);
	ck_assert_str_eq(k8snet_service_get_error(s), "spec.ports[].protocol: 1 is not TCP, UDP or SCTP");
	ck_assert_int_eq(k8snet_service_add_port(s, "", 6, 0, 0), -EINVAL);
	ck_assert_int_eq(k8snet_service_add_port(s, "", 6, 70000, 0), -EINVAL);
	ck_assert_str_eq(k8snet_service_get_error(s),
			 "spec.ports[].port: 70000 out of range: must be 1..65535");
	ck_assert_int_eq(k8snet_service_add_ip(s, 9, "10.0.0.1"), -EINVAL);
	ck_assert_int_eq(k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, "10.0.0.300"), -EINVAL);
	ck_assert_str_eq(k8snet_service_get_error(s), "spec.clusterIPs: '10.0.0.300' is not an IP address");
	ck_assert_int_eq(k8snet_service_add_endpoint(s, "10.0.0.1", "", 80, NULL, 0x80), -EINVAL);
	ck_assert_int_eq(k8snet_service_add_endpoint(s, NULL, "", 80, NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_AFFINITY_TIMEOUT, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_service_get_error(s), "timeoutSeconds: 0 out of range"));
	ck_assert_int_eq(k8snet_service_set_u32(s, K8SNET_SERVICE_FLAGS, K8SNET_SERVICE_F_AFFINITY), 0);
	ck_assert_str_eq(k8snet_service_get_error(s), "");
	ck_assert_str_eq(k8snet_service_get_error(NULL), "");
	ck_assert_uint_eq(k8snet_service_get_u32(s, K8SNET_SERVICE_FLAGS), K8SNET_SERVICE_F_AFFINITY);
	ck_assert_str_eq(k8snet_service_get_str(s, K8SNET_SERVICE_NAMESPACE), "default");
	k8snet_service_free(s);
}
END_TEST

START_TEST(test_slice_moves_and_removal)
{
	char *t;

	ck_assert_int_eq(load(web), 3);
	ck_assert_int_eq(k8snet_proxy_remove_slice(p, "default", "web-1"), 0);
	ck_assert_int_eq(k8snet_proxy_remove_slice(p, "default", "web-1"), -ENOENT);
	t = render();
	ck_assert(has(t, "10.96.0.10 . tcp . 80 : goto no-endpoints"));
	ck_assert(!has(t, "10.244.1.5"));
	free(t);
}
END_TEST

START_TEST(test_masquerade_all_range_cluster_ips)
{
	char *t;

	ck_assert_int_eq(k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_MASQUERADE_ALL), 0);
	ck_assert_int_eq(k8snet_proxy_set_u32(p, K8SNET_PROXY_NODEPORT_MAX, 30050), 0);
	ck_assert_int_eq(load(web), 3);
	t = render();
	/* masquerade-all: no exception for the cluster CIDR */
	ck_assert(has(t, "chain masq-outside {\n\t\tmeta mark set meta mark | 0x00004000\n\t}"));
	ck_assert(!has(t, "ip saddr 10.244.0.0/16 return"));
	/* 30080 is outside 30000-30050 now */
	ck_assert(!has(t, "30080"));
	/* other ports of a ClusterIP are rejected */
	ck_assert(has(t, "set cluster-ips {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t10.96.0.10\n"));
	ck_assert(has(t, "ip daddr @cluster-ips goto no-endpoints"));
	ck_assert(has(t, "ip6 daddr @cluster-ips goto no-endpoints"));
	ck_assert(has(t, "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap"));
	free(t);
	/* With node IPs, NodePorts answer there only (kube-proxy's "primary"). */
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_NODE_IP, "192.168.1.10"), 0);
	t = render();
	ck_assert(has(t, "ip daddr 192.168.1.10/32 meta l4proto . th dport vmap @service-nodeports"));
	ck_assert(!has(t, "fib daddr type local ip daddr"));
	ck_assert(has(t, "fib daddr type local ip6 daddr != ::1"));
	free(t);
	ck_assert_int_eq(k8snet_proxy_add_str(p, K8SNET_PROXY_NODEPORT_ADDRESS, "10.0.0.0/8"), 0);
	t = render();
	ck_assert(has(t, "ip daddr 10.0.0.0/8 meta l4proto . th dport vmap @service-nodeports"));
	ck_assert(!has(t, "192.168.1.10/32"));
	free(t);
}
END_TEST

static Suite *nat_suite(void)
{
	Suite *s = suite_create("nat");
	TCase *tc = tcase_create("nat");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_clusterip_nodeport_dualstack);
	tcase_add_test(tc, test_render_deterministic);
	tcase_add_test(tc, test_bad_input_names_field_and_changes_nothing);
	tcase_add_test(tc, test_no_endpoints_externalname_headless);
	tcase_add_test(tc, test_ready_serving_terminating);
	tcase_add_test(tc, test_policies_affinity_lb);
	tcase_add_test(tc, test_lb_source_ranges);
	tcase_add_test(tc, test_lb_ip_mode_proxy);
	tcase_add_test(tc, test_service_cidrs);
	tcase_add_test(tc, test_topology);
	tcase_add_test(tc, test_conntrack_diff);
	tcase_add_test(tc, test_api_checks);
	tcase_add_test(tc, test_slice_moves_and_removal);
	tcase_add_test(tc, test_masquerade_all_range_cluster_ips);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nat_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
