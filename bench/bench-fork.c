/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fork rule costs each call: the check on a context (a read of its
 * MADV_WIPEONFORK page) against its fallback and the check on an object
 * made without a context (getpid(), a system call since glibc 2.25), and
 * whole cheap calls with each guard.  Prints ns per check and the ratios.
 *   bench-fork [ITERATIONS]   (default 20,000,000) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <k8snet/k8snet.h>

#include "core/internal.h"

/* Keeps the compiler from hoisting the check out of the loop. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double per_check_ctx(const struct k8snet_ctx *ctx, long n)
{
	double t0 = now_ns();
	long i, foreign = 0;

	for (i = 0; i < n; i++) {
		BARRIER();
		foreign += k8s_ctx_is_foreign(ctx);
	}
	if (foreign)
		abort();
	return (now_ns() - t0) / n;
}

static double per_check_pid(pid_t pid, long n)
{
	double t0 = now_ns();
	long i, foreign = 0;

	for (i = 0; i < n; i++) {
		BARRIER();
		foreign += k8s_pid_is_foreign(pid);
	}
	if (foreign)
		abort();
	return (now_ns() - t0) / n;
}

static double per_call_proxy(const struct k8snet_proxy *p, long n)
{
	double t0 = now_ns();
	uint64_t sum = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += k8snet_proxy_get_u32(p, K8SNET_PROXY_MARK_BIT);
	if (sum != (uint64_t)n * 14)
		abort();
	return (now_ns() - t0) / n;
}

static double per_call_service(const struct k8snet_service *svc, long n)
{
	double t0 = now_ns();
	uint64_t sum = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += k8snet_service_get_u32(svc, K8SNET_SERVICE_AFFINITY_TIMEOUT);
	if (sum != (uint64_t)n * 10800)
		abort();
	return (now_ns() - t0) / n;
}

/* The bulk case: Services built through the C API (as bench-nat does),
 * every call of which checks getpid(). */
static double build_services(unsigned n_svc, unsigned n_ep, unsigned *ret_calls)
{
	double t0 = now_ns();
	char ip[32];
	unsigned s, e, calls = 0;

	for (s = 0; s < n_svc; s++) {
		struct k8snet_service *svc;

		if (k8snet_service_new(&svc) < 0)
			abort();
		snprintf(ip, sizeof(ip), "svc-%u", s);
		k8snet_service_set_str(svc, K8SNET_SERVICE_NAME, ip);
		snprintf(ip, sizeof(ip), "10.96.%u.%u", s / 250, 1 + s % 250);
		k8snet_service_add_ip(svc, K8SNET_SERVICE_IP_CLUSTER, ip);
		k8snet_service_add_port(svc, "", 6, 80, 0);
		calls += 3;
		for (e = 0; e < n_ep; e++, calls++) {
			snprintf(ip, sizeof(ip), "10.128.%u.%u", e / 250, 1 + e % 250);
			k8snet_service_add_endpoint(svc, ip, "", 8080, NULL, K8SNET_ENDPOINT_F_READY);
		}
		k8snet_service_free(svc);
	}
	*ret_calls = calls;
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	struct k8snet_service *svc;
	struct k8snet_proxy *proxy;
	struct k8snet_ctx *ctx;
	const uint8_t *mark;
	double mark_ns, pid_ns, fallback_ns, proxy_ns, svc_ns;

	if (n <= 0 || k8snet_ctx_new(&ctx) < 0 || k8snet_proxy_new(ctx, &proxy) < 0 ||
	    k8snet_service_new(&svc) < 0)
		return 1;
	mark = ctx->owner_mark;
	printf("context mark: %s\n", mark ? "MADV_WIPEONFORK page" : "none (getpid fallback)");
	mark_ns = per_check_ctx(ctx, n);
	pid_ns = per_check_pid(getpid(), n / 10);
	ctx->owner_mark = NULL;                    /* the pre-4.14 fallback */
	fallback_ns = per_check_ctx(ctx, n / 10);
	ctx->owner_mark = mark;
	proxy_ns = per_call_proxy(proxy, n);
	svc_ns = per_call_service(svc, n / 10);

	printf("check on a context (page read):        %7.2f ns\n", mark_ns);
	printf("check on a context (getpid fallback):  %7.2f ns\n", fallback_ns);
	printf("check on an object without a context:  %7.2f ns (getpid)\n", pid_ns);
	printf("k8snet_proxy_get_u32 (context guard):  %7.2f ns per call\n", proxy_ns);
	printf("k8snet_service_get_u32 (pid guard):    %7.2f ns per call\n", svc_ns);
	printf("ratio getpid / page read: %.1fx\n", mark_ns > 0 ? pid_ns / mark_ns : 0.0);
	{
		unsigned calls;
		double build_ns = build_services(10000, 10, &calls);

		printf("10,000 Services x 10 endpoints built: %.1f ms, %u guarded calls, "
		       "%.1f ms (%.0f%%) of it in getpid()\n", build_ns / 1e6, calls,
		       calls * pid_ns / 1e6, 100.0 * calls * pid_ns / build_ns);
	}
	k8snet_service_free(svc);
	k8snet_proxy_free(proxy);
	k8snet_ctx_free(ctx);
	return 0;
}
