/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attach and detach latency of k8snet_link_pod_attach()/_detach() for N pods
 * on one bridge, in namespaces the runner (bench/link-bench.sh) created:
 *   link-bench NODE_NETNS_PATH POD_NETNS_PATH_PREFIX N [PAUSE_MS]
 * attaches pod i to PREFIXi (i = 0..N-1), then detaches them all, and prints
 * one line per phase and slice: "lib attach all|first50|last50 median_ms p90_ms",
 * and the same for the calling thread's CPU time ("lib attach-cpu ...").
 * PAUSE_MS (default 0) sleeps between attaches, outside the timed part: it
 * lets the kernel's deferred work (IPv6 DAD and MLD packets flooded to every
 * bridge port) finish, to tell it apart from the attach itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <k8snet/k8snet.h>

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this thread, user and kernel: the synchronous work of a call,
 * unaffected by waiting for a CPU on a busy machine. */
static double cpu_ms(void)
{
	return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *phase, const char *slice, const double *v, int n)
{
	double *s = malloc(sizeof(*s) * (size_t)n);

	memcpy(s, v, sizeof(*s) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	printf("lib %s %s %.3f %.3f\n", phase, slice, s[n / 2], s[(n * 9) / 10]);
	free(s);
}

static void report_all(const char *phase, const double *v, int n)
{
	int k = n >= 100 ? 50 : n / 2;

	report(phase, "all", v, n);
	if (k > 0) {
		report(phase, "first50", v, k);
		report(phase, "last50", v + n - k, k);
	}
}

static struct k8snet_link_pod *make_pod(const char *prefix, int i)
{
	struct k8snet_link_pod *pod;
	char buf[256];

	if (k8snet_link_pod_new(&pod) < 0)
		exit(1);
	snprintf(buf, sizeof(buf), "%s%d", prefix, i);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_NETNS_PATH, buf);
	snprintf(buf, sizeof(buf), "bench-container-%d", i);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, buf);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, "eth0");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_BRIDGE, "cni0");
	snprintf(buf, sizeof(buf), "10.250.%d.%d/16", (i + 2) / 256, (i + 2) % 256);
	if (k8snet_link_pod_add_address(pod, buf, "10.250.0.1") < 0)
		exit(1);
	return pod;
}

int main(int argc, char **argv)
{
	static const char *const gw[] = { "10.250.0.1/16" };
	struct k8snet_ctx *ctx;
	double *att, *det, *att_cpu;
	int n, i, r, pause_ms = argc == 5 ? atoi(argv[4]) : 0;

	if (argc < 4 || argc > 5 || (n = atoi(argv[3])) <= 0 || pause_ms < 0) {
		fprintf(stderr, "usage: link-bench NODE_NETNS POD_NETNS_PREFIX N [PAUSE_MS]\n");
		return 2;
	}
	att = calloc((size_t)n, sizeof(*att));
	det = calloc((size_t)n, sizeof(*det));
	att_cpu = calloc((size_t)n, sizeof(*att_cpu));
	if (k8snet_ctx_new(&ctx) < 0 || k8snet_ctx_set_netns_path(ctx, argv[1]) < 0 ||
	    k8snet_link_node_setup(ctx, 0) < 0 || k8snet_link_bridge_ensure(ctx, "cni0", 0, gw, 1) < 0) {
		fprintf(stderr, "setup: %s\n", k8snet_ctx_get_error(ctx));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct k8snet_link_pod *pod = make_pod(argv[2], i);
		struct k8snet_link_result *res = NULL;
		double t = now_ms(), c = cpu_ms();

		r = k8snet_link_pod_attach(ctx, pod, &res);
		att[i] = now_ms() - t;
		att_cpu[i] = cpu_ms() - c;
		k8snet_link_result_free(res);
		k8snet_link_pod_free(pod);
		if (r < 0) {
			fprintf(stderr, "attach %d: %s\n", i, k8snet_ctx_get_error(ctx));
			return 1;
		}
		if (pause_ms)
			nanosleep(&(struct timespec){ pause_ms / 1000, (pause_ms % 1000) * 1000000L }, NULL);
	}
	for (i = 0; i < n; i++) {
		struct k8snet_link_pod *pod = make_pod(argv[2], i);
		double t = now_ms();

		r = k8snet_link_pod_detach(ctx, pod);
		det[i] = now_ms() - t;
		k8snet_link_pod_free(pod);
		if (r != 1) {
			fprintf(stderr, "detach %d: %d %s\n", i, r, k8snet_ctx_get_error(ctx));
			return 1;
		}
	}
	report_all("attach", att, n);
	report_all("detach", det, n);
	report_all("attach-cpu", att_cpu, n);
	free(att_cpu);
	free(att);
	free(det);
	k8snet_ctx_free(ctx);
	return 0;
}
