/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trace-bench: how long one k8snet_trace_run() takes with 10,000 Services
 * (3 endpoints each, over 10,000 pods in 100 namespaces) and 1,000
 * NetworkPolicies loaded.  The bar: at most 1 ms per trace.  The peer
 * measured in the same run is the policy evaluator alone
 * (k8snet_policy_db_check() between the same pods), the least a trace has
 * to do once per endpoint.
 *
 *   trace-bench [SERVICES] [POLICIES] [TRACES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <k8snet/k8snet.h>

#define NNS 100

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pod_ip(int i, char *buf, size_t len)
{
	snprintf(buf, len, "10.%d.%d.%d", 64 + i / 65536, (i / 256) % 256, i % 256);
}

static void add(cJSON *items, const char *json)
{
	cJSON *o = cJSON_Parse(json);

	if (!o) {
		fprintf(stderr, "trace-bench: bad generated JSON: %s\n", json);
		exit(2);
	}
	cJSON_AddItemToArray(items, o);
}

static char *world(int nsvc, int npol)
{
	cJSON *list = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(list, "items");
	char buf[2048], ip[32], ip2[32], ip3[32];
	char *text;
	int i;

	cJSON_AddStringToObject(list, "kind", "List");
	for (i = 0; i < NNS; i++) {
		snprintf(buf, sizeof(buf), "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns%d\","
			 "\"labels\":{\"team\":\"t%d\"}}}", i, i % 10);
		add(items, buf);
	}
	for (i = 0; i < nsvc; i++) {
		pod_ip(i, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\","
			 "\"namespace\":\"ns%d\",\"labels\":{\"app\":\"a%d\",\"tier\":\"t%d\"}},"
			 "\"spec\":{\"nodeName\":\"node%d\",\"containers\":[{\"name\":\"c\","
			 "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
			 "\"status\":{\"podIP\":\"%s\"}}", i, i % NNS, i % 500, i % 7, i % 3, ip);
		add(items, buf);
	}
	for (i = 0; i < nsvc; i++) {
		pod_ip(i, ip, sizeof(ip));
		pod_ip((i + 1) % nsvc, ip2, sizeof(ip2));
		pod_ip((i + 2) % nsvc, ip3, sizeof(ip3));
		snprintf(buf, sizeof(buf), "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s%d\","
			 "\"namespace\":\"ns%d\"},\"spec\":{\"clusterIP\":\"10.96.%d.%d\","
			 "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}",
			 i, i % NNS, i / 250, i % 250 + 1);
		add(items, buf);
		snprintf(buf, sizeof(buf), "{\"kind\":\"EndpointSlice\",\"apiVersion\":"
			 "\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"s%d-1\",\"namespace\":"
			 "\"ns%d\",\"labels\":{\"kubernetes.io/service-name\":\"s%d\"}},"
			 "\"addressType\":\"IPv4\",\"endpoints\":["
			 "{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true},\"nodeName\":\"node0\"},"
			 "{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true},\"nodeName\":\"node1\"},"
			 "{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":false},\"nodeName\":\"node2\"}],"
			 "\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]}",
			 i, i % NNS, i, ip, ip2, ip3);
		add(items, buf);
	}
	for (i = 0; i < npol; i++) {
		snprintf(buf, sizeof(buf), "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":"
			 "\"pol%d\",\"namespace\":\"ns%d\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
			 "{\"tier\":\"t%d\"}},\"policyTypes\":[\"Ingress\",\"Egress\"],"
			 "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":"
			 "\"t%d\"}},\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
			 "\"operator\":\"In\",\"values\":[\"a%d\",\"a%d\"]}]}}],\"ports\":[{\"port\":"
			 "\"http\"}]}],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.64.0.0/12\","
			 "\"except\":[\"10.64.%d.0/24\"]}}]}]}}", i, i % NNS, i % 4, i % 10,
			 i % 500, (i + 7) % 500, i % 200);
		add(items, buf);
	}
	text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	return text;
}

int main(int argc, char **argv)
{
	int nsvc = argc > 1 ? atoi(argv[1]) : 10000, npol = argc > 2 ? atoi(argv[2]) : 1000;
	int ntr = argc > 3 ? atoi(argv[3]) : 3000, i, r, answers[3] = { 0 };
	struct k8snet_ctx *ctx;
	struct k8snet_trace *t;
	struct k8snet_policy_db *db;
	char *json = world(nsvc, npol), from[64], to[64];
	double t0, t_load, t_first, t_trace, t_check;

	if (!json || k8snet_ctx_new(&ctx) < 0 || k8snet_trace_new(ctx, &t) < 0 ||
	    k8snet_policy_db_new(ctx, &db) < 0)
		return 2;
	t0 = now();
	if (k8snet_trace_load_json(t, json, strlen(json)) < 0 ||
	    k8snet_policy_db_load_json(db, json, strlen(json)) < 0) {
		fprintf(stderr, "trace-bench: load: %s\n", k8snet_ctx_get_error(ctx));
		return 2;
	}
	t_load = (now() - t0) / 2;
	/* The first run builds the address index. */
	t0 = now();
	k8snet_trace_run(t, "ns0/p0", "s1", "TCP", 80, 0, NULL);
	t_first = now() - t0;
	t0 = now();
	for (i = 0; i < ntr; i++) {
		int src = (i * 7919) % nsvc, dst = (i * 104729 + 13) % nsvc;

		snprintf(from, sizeof(from), "ns%d/p%d", src % NNS, src);
		/* By name from another namespace, by ClusterIP, to a pod. */
		if (i % 3 == 0)
			snprintf(to, sizeof(to), "s%d.ns%d", dst, dst % NNS);
		else if (i % 3 == 1)
			snprintf(to, sizeof(to), "10.96.%d.%d", dst / 250, dst % 250 + 1);
		else
			snprintf(to, sizeof(to), "ns%d/p%d", dst % NNS, dst);
		r = k8snet_trace_run(t, from, to, "TCP", i % 3 == 2 ? 8080 : 80, 0, NULL);
		if (r < 0) {
			fprintf(stderr, "trace-bench: %s -> %s: %s\n", from, to,
				k8snet_ctx_get_error(ctx));
			return 2;
		}
		answers[r]++;
	}
	t_trace = (now() - t0) / ntr;
	t0 = now();
	for (i = 0; i < ntr; i++) {
		int src = (i * 7919) % nsvc, dst = (i * 104729 + 13) % nsvc;

		snprintf(from, sizeof(from), "ns%d/p%d", src % NNS, src);
		snprintf(to, sizeof(to), "ns%d/p%d", dst % NNS, dst);
		if (k8snet_policy_db_check(db, from, to, "TCP", 8080, NULL) < 0)
			return 2;
	}
	t_check = (now() - t0) / ntr;
	printf("trace-bench: %d services, %d policies, %d pods: load %.2f s, first trace "
	       "(builds the index) %.2f ms\n", nsvc, npol, nsvc, t_load, t_first * 1e3);
	printf("trace-bench: %d traces (allow %d, deny %d, mixed %d): %.1f us per trace; "
	       "policy evaluator alone %.1f us per check; ratio %.1fx\n", ntr, answers[1],
	       answers[0], answers[2], t_trace * 1e6, t_check * 1e6, t_trace / t_check);
	printf("trace-bench: bar 1 ms per trace: %s\n", t_trace <= 1e-3 ? "met" : "MISSED");
	free(json);
	k8snet_policy_db_free(db);
	k8snet_trace_free(t);
	k8snet_ctx_free(ctx);
	return t_trace <= 1e-3 ? 0 : 1;
}
