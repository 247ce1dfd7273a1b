/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The upstream e2e NetworkPolicy suite (tests/policy/netpol-e2e.json) against
 * the kernel: one node namespace with a bridge (br_netfilter on), nine pod
 * namespaces x/a .. z/c on it, each serving TCP and UDP on ports 80 and 81.
 * Each step of each case is synced (the first of a case replaces the table,
 * the next ones are incremental deltas), then every source probes every
 * destination over TCP and UDP on 80 and 81 with real connections, in
 * parallel, to the pod addresses and to Service ClusterIPs (DNAT at
 * prerouting, as the Service NAT layer does).  Every cell must match the evaluator, and the evaluator the
 * expected truth table (checked by the unit test for every probe listed).
 * The trace (k8snet_trace_run()) must give the kernel's answer for every
 * cell too: to the pod by name, to the ClusterIP by address, and to the
 * Service by the DNS name the source pod would type (its search list).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "../policy/cases.h"
#include "harness.h"

#define NPOD_PROBES (PC_NPODS * 4) /* per source: dst x {TCP,UDP} x {80,81} */
#define NPROBES (2 * NPOD_PROBES)   /* to the pod address, then to its ClusterIP */
#define PROBE_MS 700

static const char *node_ns;
static const char *pod_ns[PC_NPODS];
static const cJSON *doc;
static struct k8snet_ctx *ctx;
static int cells, mismatches;
static struct k8snet_trace *trace;
static int trace_cells, trace_mismatches;
/* Each UDP probe of the whole run gets its own source port: conntrack keeps
 * a UDP flow allowed under an earlier policy alive (as any stateful
 * firewall does), and a reused port would ride on it. */
static int udp_port_base = 20000;

static int serve(void *arg)
{
	struct pollfd pfd[4];
	int i;

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < 4; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(i % 2 ? 81 : 80) };
		int one = 1, fd = socket(AF_INET, i < 2 ? SOCK_STREAM : SOCK_DGRAM, 0);

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    (i < 2 && listen(fd, 128) < 0))
			return 1;
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	for (;;) {
		if (poll(pfd, 4, -1) < 0)
			continue;
		for (i = 0; i < 4; i++) {
			char buf[64];
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			ssize_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			if (i < 2) {
				int c = accept(pfd[i].fd, NULL, NULL);

				if (c >= 0)
					close(c);
			} else if ((n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
						 (struct sockaddr *)&peer, &plen)) > 0) {
				sendto(pfd[i].fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
			}
		}
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The ClusterIP of the Service in front of pod i (DNAT set up by main()). */
static void cluster_ip(int i, char buf[static 16])
{
	snprintf(buf, 16, "10.96.0.%d", 11 + i);
}

/* Probe k: dst = (k % NPOD_PROBES) / 4, udp = k & 2, port 81 = k & 1, through
 * the Service when k >= NPOD_PROBES.  Writes one byte per probe. */
static int probe_all(void *arg)
{
	int out = *(int *)arg, fds[NPROBES], k;
	char res[NPROBES];
	long deadline = now_ms() + PROBE_MS;
	struct pollfd pfd[NPROBES];

	for (k = 0; k < NPROBES; k++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(k & 1 ? 81 : 80) };
		bool udp = k & 2;

		char svc[16];

		cluster_ip((k % NPOD_PROBES) / 4, svc);
		inet_pton(AF_INET, k >= NPOD_PROBES ? svc : pc_pod_ip(doc, pc_pods[(k % NPOD_PROBES) / 4]),
			  &sa.sin_addr);
		res[k] = 0;
		fds[k] = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
		if (udp) {
			struct sockaddr_in src = { .sin_family = AF_INET,
						   .sin_port = htons((uint16_t)(udp_port_base + k)) };

			if (bind(fds[k], (struct sockaddr *)&src, sizeof(src)) < 0)
				res[k] = 2;
		}
		if (connect(fds[k], (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
			res[k] = 2;
		if (udp && send(fds[k], "ping", 4, 0) != 4)
			res[k] = 2;
		pfd[k] = (struct pollfd){ .fd = fds[k], .events = udp ? POLLIN : POLLOUT };
	}
	for (;;) {
		int left = 0, t = (int)(deadline - now_ms());

		for (k = 0; k < NPROBES; k++)
			if (!res[k])
				left++;
		if (!left || t <= 0)
			break;
		for (k = 0; k < NPROBES; k++)
			pfd[k].fd = res[k] ? -1 : fds[k];
		if (poll(pfd, NPROBES, t) <= 0)
			continue;
		for (k = 0; k < NPROBES; k++) {
			int err = 0;
			socklen_t len = sizeof(err);
			char buf[8];

			if (res[k] || !pfd[k].revents)
				continue;
			if (k & 2)
				res[k] = recv(fds[k], buf, sizeof(buf), 0) > 0 ? 1 : 2;
			else
				res[k] = getsockopt(fds[k], SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
					 !err ? 1 : 2;
		}
	}
	for (k = 0; k < NPROBES; k++)
		close(fds[k]);
	return write(out, res, sizeof(res)) == sizeof(res) ? 0 : 1;
}

/* The Service in front of pod i: s-POD in the pod's namespace, as a DNS
 * name from src: short in its own namespace, else NAME.NS or the FQDN. */
static void service_name(int i, int src, char *buf, size_t len)
{
	const char *pod = pc_pods[i];

	if (pod[0] == pc_pods[src][0])
		snprintf(buf, len, "s-%s", pod + 2);
	else if ((i + src) % 2)
		snprintf(buf, len, "s-%s.%c", pod + 2, pod[0]);
	else
		snprintf(buf, len, "s-%s.%c.svc.cluster.local", pod + 2, pod[0]);
}

static void expect_trace(const char *case_name, int step, int src, const char *to, const char *proto,
			 uint32_t port, int got)
{
	char *why = NULL;
	int r = k8snet_trace_run(trace, pc_pods[src], to, proto, port, 0, &why);

	TNS_ASSERT(r >= 0, "trace %s -> %s: %s", pc_pods[src], to, k8snet_ctx_get_error(ctx));
	trace_cells++;
	if ((r == K8SNET_TRACE_ALLOW) != got) {
		trace_mismatches++;
		fprintf(stderr, "TRACE MISMATCH %s (step %d) %s/%u %s -> %s: trace %s, kernel %s\n%s",
			case_name, step, proto, port, pc_pods[src], to,
			r == K8SNET_TRACE_ALLOW ? "allow" : "deny", got ? "allow" : "deny", why);
	}
	free(why);
}

static void trace_cell(const char *case_name, int step, int src, int k, int got)
{
	const char *proto = k & 2 ? "UDP" : "TCP";
	uint32_t port = k & 1 ? 81 : 80;
	int dst = (k % NPOD_PROBES) / 4;
	char buf[128];

	if (k < NPOD_PROBES) {
		expect_trace(case_name, step, src, pc_pods[dst], proto, port, got);
		return;
	}
	cluster_ip(dst, buf);
	expect_trace(case_name, step, src, buf, proto, port, got);
	service_name(dst, src, buf, sizeof(buf));
	expect_trace(case_name, step, src, buf, proto, port, got);
}

static int on_step(void *userdata, struct k8snet_policy_db *db, const char *name, int step,
		   const cJSON *probes)
{
	char res[PC_NPODS][NPROBES];
	int pipes[PC_NPODS][2], i, k;
	pid_t pids[PC_NPODS];
	long t0 = now_ms();

	(void)userdata;
	(void)probes;
	TNS_ASSERT(k8snet_trace_use_policy_db(trace, db) == 0, "trace: %s", k8snet_ctx_get_error(ctx));
	if (k8snet_policy_db_sync(db, "node1") < 0)
		TNS_FAIL("%s step %d: sync: %s", name, step,
			 k8snet_ctx_get_error(ctx));
	for (i = 0; i < PC_NPODS; i++) {
		TNS_ASSERT(pipe(pipes[i]) == 0, "pipe");
		pids[i] = tns_fork_in(pod_ns[i], probe_all, &pipes[i][1]);
	}
	for (i = 0; i < PC_NPODS; i++) {
		TNS_ASSERT(read(pipes[i][0], res[i], NPROBES) == NPROBES, "probe result of %s",
			   pc_pods[i]);
		tns_wait(pids[i]);
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	for (i = 0; i < PC_NPODS; i++) {
		for (k = 0; k < NPROBES; k++) {
			const char *proto = k & 2 ? "UDP" : "TCP";
			uint32_t port = k & 1 ? 81 : 80;
			int dst = (k % NPOD_PROBES) / 4, want, got = res[i][k] == 1;

			/* A pod reaching itself through its Service needs hairpin NAT,
			 * which is the Service layer's business, not policy's. */
			if (k >= NPOD_PROBES && dst == i)
				continue;
			trace_cell(name, step, i, k, got);
			want = k8snet_policy_db_check(db, pc_pods[i], pc_pods[dst], proto, port, NULL);
			cells++;
			if (want != got) {
				mismatches++;
				fprintf(stderr, "MISMATCH %s (step %d) %s/%u %s -> %s%s: evaluator %s, "
					"kernel %s\n", name, step, proto, port, pc_pods[i], pc_pods[dst],
					k >= NPOD_PROBES ? " (via its ClusterIP)" : "",
					want ? "allow" : "deny", got ? "allow" : "deny");
			}
		}
	}
	udp_port_base += NPROBES;
	TNS_ASSERT(udp_port_base < 60000, "out of UDP source ports");
	fprintf(stderr, "ok %s (step %d) in %ld ms\n", name, step, now_ms() - t0);
	return 0;
}

/* One TCP connection attempt from the calling namespace; 1 when it connects. */
struct target {
	const char *ip;
	int port;
};

static int tcp_probe(void *arg)
{
	const struct target *t = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)t->port) };
	struct pollfd pfd;
	int err = 0, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(err);

	inet_pton(AF_INET, t->ip, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		return 0;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, PROBE_MS) != 1)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err;
}

static void expect_probe(const char *ns, const char *from, const char *ip, const char *to,
			 struct k8snet_policy_db *db)
{
	struct target t = { ip, 80 };
	int got = tns_wait(tns_fork_in(ns, tcp_probe, &t));
	char *why = NULL;
	int want = k8snet_policy_db_check(db, from, to, "TCP", 80, &why);

	cells++;
	if (got != want) {
		mismatches++;
		fprintf(stderr, "MISMATCH node/hostNetwork %s -> %s: evaluator %d, kernel %d\n%s",
			from, to, want, got, why);
	}
	free(why);
}

/*
 * The decisions beyond the API, in the kernel: the node (and a hostNetwork
 * pod, which is the node) reaches its pods even when they deny all ingress
 * (kubelet probes); a pod isolated for egress cannot reach the node unless
 * allowed; a pod that is not isolated can.
 */
static void node_and_host_network(void)
{
	static const char *deny_all =
		"{\"kind\":\"List\",\"items\":["
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"deny\",\"namespace\":\"x\"},"
		"\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}},"
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"deny\",\"namespace\":\"y\"},"
		"\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}}]}";
	char *world = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "world"));
	struct k8snet_policy_db *db;
	pid_t srv;
	int i;

	TNS_ASSERT(k8snet_policy_db_new(ctx, &db) == 0, "db");
	TNS_ASSERT(k8snet_policy_db_load_json(db, world, strlen(world)) == 0, "world");
	TNS_ASSERT(k8snet_policy_db_load_json(db, deny_all, strlen(deny_all)) == 0, "%s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_policy_db_set_pod(db, "z", "agent", "app=agent", "10.244.1.1", "node1",
					    K8SNET_POLICY_POD_HOST_NETWORK) == 0, "agent");
	TNS_ASSERT(k8snet_policy_db_sync(db, "node1") == 0, "sync: %s", k8snet_ctx_get_error(ctx));
	for (i = 0; i < PC_NPODS; i++)
		expect_probe(node_ns, "z/agent", pc_pod_ip(doc, pc_pods[i]), pc_pods[i], db);
	/* A server on the node's address (the hostNetwork pod's). */
	srv = tns_fork_in(node_ns, serve, NULL);
	usleep(100000);
	expect_probe(pod_ns[0], "x/a", "10.244.1.1", "z/agent", db);   /* egress-isolated */
	expect_probe(pod_ns[3], "y/a", "10.244.1.1", "z/agent", db);   /* egress-isolated */
	expect_probe(pod_ns[6], "z/a", "10.244.1.1", "z/agent", db);   /* not isolated */
	kill(srv, SIGKILL);
	tns_wait(srv);
	k8snet_policy_db_free(db);
	free(world);
	fprintf(stderr, "ok node and hostNetwork decisions\n");
}

/* Services s-POD (ClusterIP 10.96.0.11 + i, ports 80 and 81 over TCP and
 * UDP) and their EndpointSlices, for the trace. */
static void load_services(void)
{
	cJSON *list = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(list, "items");
	char *text;
	int i;

	cJSON_AddStringToObject(list, "kind", "List");
	for (i = 0; i < PC_NPODS; i++) {
		char ns[2] = { pc_pods[i][0], 0 }, name[16], ip[16], json[2048];
		cJSON *svc, *slice;

		snprintf(name, sizeof(name), "s-%s", pc_pods[i] + 2);
		cluster_ip(i, ip);
		snprintf(json, sizeof(json),
			 "{\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
			 "\"spec\":{\"clusterIP\":\"%s\",\"ports\":["
			 "{\"name\":\"t80\",\"port\":80,\"protocol\":\"TCP\"},"
			 "{\"name\":\"t81\",\"port\":81,\"protocol\":\"TCP\"},"
			 "{\"name\":\"u80\",\"port\":80,\"protocol\":\"UDP\"},"
			 "{\"name\":\"u81\",\"port\":81,\"protocol\":\"UDP\"}]}}", name, ns, ip);
		svc = cJSON_Parse(json);
		snprintf(json, sizeof(json),
			 "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
			 "\"metadata\":{\"name\":\"%s-1\",\"namespace\":\"%s\","
			 "\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"IPv4\","
			 "\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true},"
			 "\"nodeName\":\"node1\"}],\"ports\":["
			 "{\"name\":\"t80\",\"port\":80,\"protocol\":\"TCP\"},"
			 "{\"name\":\"t81\",\"port\":81,\"protocol\":\"TCP\"},"
			 "{\"name\":\"u80\",\"port\":80,\"protocol\":\"UDP\"},"
			 "{\"name\":\"u81\",\"port\":81,\"protocol\":\"UDP\"}]}", name, ns, name,
			 pc_pod_ip(doc, pc_pods[i]));
		slice = cJSON_Parse(json);
		TNS_ASSERT(svc && slice, "service JSON");
		cJSON_AddItemToArray(items, svc);
		cJSON_AddItemToArray(items, slice);
	}
	text = cJSON_PrintUnformatted(list);
	TNS_ASSERT(k8snet_trace_new(ctx, &trace) == 0, "trace");
	TNS_ASSERT(k8snet_trace_load_json(trace, text, strlen(text)) == 0, "services: %s",
		   k8snet_ctx_get_error(ctx));
	free(text);
	cJSON_Delete(list);
}

/* A short name resolves in the source pod's own namespace first (its
 * search list), a dotted one through the next suffix. */
static void trace_names(struct k8snet_policy_db *db)
{
	static const struct {
		const char *from, *to, *service;
	} names[] = {
		{ "x/a", "s-b", "\"service\":\"x/s-b\"" },
		{ "y/a", "s-b", "\"service\":\"y/s-b\"" },
		{ "y/a", "s-b.x", "\"service\":\"x/s-b\"" },
		{ "z/c", "S-B.Y.svc.cluster.local.", "\"service\":\"y/s-b\"" },
		{ "x/a", "s-b.x.svc", "\"service\":\"x/s-b\"" },
		{ "x/a", "s-nope", "does not resolve" },
	};
	size_t i;

	TNS_ASSERT(k8snet_trace_use_policy_db(trace, db) == 0, "trace");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *json = NULL;
		int r = k8snet_trace_run(trace, names[i].from, names[i].to, "TCP", 80,
					 K8SNET_TRACE_RUN_F_JSON, &json);

		trace_cells++;
		if (r < 0 || !strstr(json, names[i].service)) {
			trace_mismatches++;
			fprintf(stderr, "TRACE NAME %s -> %s: want %s, got %s\n", names[i].from,
				names[i].to, names[i].service, r < 0 ? k8snet_ctx_get_error(ctx) : json);
		}
		free(json);
	}
	fprintf(stderr, "ok DNS names through the search list\n");
}

int main(void)
{
	char path[4096];
	int i;

	tns_require_root();
	snprintf(path, sizeof(path), "%s/tests/policy/netpol-e2e.json", getenv("top_srcdir") ?
		 getenv("top_srcdir") : ".");
	doc = pc_load(path);
	TNS_ASSERT(doc, "cannot read %s", path);
	node_ns = tns_add("pnode");
	tns_ok("ip -n %s link add br0 type bridge && ip -n %s link set br0 up && "
	       "ip -n %s addr add 10.244.1.1/24 dev br0", node_ns, node_ns, node_ns);
	/* Bridged traffic through the inet hooks, in the node namespace only. */
	TNS_ASSERT(tns_exec(node_ns, "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables") == 0,
		   "br_netfilter");
	for (i = 0; i < PC_NPODS; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "p%c%c", pc_pods[i][0], pc_pods[i][2]);
		pod_ns[i] = tns_add(tag);
		tns_ok("ip -n %s link add veth%d type veth peer name eth0 netns %s", node_ns, i, pod_ns[i]);
		tns_ok("ip -n %s link set veth%d master br0 up", node_ns, i);
		tns_ok("ip -n %s addr add %s/24 dev eth0 && ip -n %s link set eth0 up", pod_ns[i],
		       pc_pod_ip(doc, pc_pods[i]), pod_ns[i]);
		tns_fork_in(pod_ns[i], serve, NULL);
	}
	/* Services: ClusterIP 10.96.0.N -> the pod, DNAT at prerouting as the
	 * Service NAT layer does it; pods reach them through the node. */
	tns_ok("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1", node_ns);
	{
		char *rules = NULL, svc[16];
		size_t size = 0;
		FILE *f = open_memstream(&rules, &size);

		fprintf(f, "table ip k8st-svc { chain pre { type nat hook prerouting priority dstnat;");
		for (i = 0; i < PC_NPODS; i++) {
			cluster_ip(i, svc);
			fprintf(f, " ip daddr %s dnat to %s;", svc, pc_pod_ip(doc, pc_pods[i]));
			tns_ok("ip -n %s route add default via 10.244.1.1", pod_ns[i]);
		}
		fprintf(f, " }\n}\n");
		fclose(f);
		tns_ok("echo '%s' | ip netns exec %s nft -f -", rules, node_ns);
		free(rules);
	}
	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	TNS_ASSERT(k8snet_ctx_set_netns_path(ctx, tns_path(node_ns)) == 0, "netns");
	usleep(200000);
	load_services();
	TNS_ASSERT(pc_run(ctx, doc, on_step, NULL) == 0, "suite");
	node_and_host_network();
	{
		struct k8snet_policy_db *db;
		char *world = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "world"));

		TNS_ASSERT(k8snet_policy_db_new(ctx, &db) == 0, "db");
		TNS_ASSERT(k8snet_policy_db_load_json(db, world, strlen(world)) == 0, "world");
		trace_names(db);
		k8snet_trace_free(trace);
		k8snet_policy_db_free(db);
		free(world);
	}
	fprintf(stderr, "conformance (kernel): %d cells, %d mismatches\n", cells, mismatches);
	fprintf(stderr, "trace against the kernel: %d cells, %d mismatches\n", trace_cells,
		trace_mismatches);
	k8snet_ctx_free(ctx);
	cJSON_Delete((cJSON *)doc);
	return mismatches || trace_mismatches ? 1 : 0;
}
