/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-nat: Service NAT sync costs, the same services as kp_nft_gen.py N E
 * (service s at 10.96.0.0+1+s:80/TCP, endpoints 10.128.0.0+1+k:8080).
 *
 *   bench-nat --netns PATH --services N [--endpoints E] [--changes K]
 *             [--render FILE] [--connect COUNT] [--count]
 *
 * Prints: the full sync time into the (fresh) namespace, the median time of
 * a one-service change with N present, a full resync (the table replaced)
 * with N present, peak memory, and with --connect the
 * mean connection setup time through service 0's ClusterIP (the runner puts
 * 10.128.0.1 on lo; this program serves it on port 8080).  --count turns on
 * per-service counters (K8SNET_PROXY_F_COUNT): run it with and without to
 * compare (a resync then also reads the counters to carry them over).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ip_str(uint32_t base, uint32_t off, char *buf, size_t len)
{
	struct in_addr a = { htonl(base + off) };

	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

#define SVC_BASE 0x0a600000u   /* 10.96.0.0 */
#define POD_BASE 0x0a800000u   /* 10.128.0.0 */

/* Service s; its endpoints start at pod index first (0: the local server). */
static struct k8snet_service *make_service(unsigned s, unsigned e, unsigned first)
{
	struct k8snet_service *svc;
	char name[32], ip[INET_ADDRSTRLEN];
	unsigned j;

	if (k8snet_service_new(&svc) < 0)
		exit(1);
	snprintf(name, sizeof(name), "svc-%u", s);
	k8snet_service_set_str(svc, K8SNET_SERVICE_NAMESPACE, "bench");
	k8snet_service_set_str(svc, K8SNET_SERVICE_NAME, name);
	ip_str(SVC_BASE, 1 + s, ip, sizeof(ip));
	k8snet_service_add_ip(svc, K8SNET_SERVICE_IP_CLUSTER, ip);
	k8snet_service_add_port(svc, "", 6, 80, 0);
	for (j = 0; j < e; j++) {
		ip_str(POD_BASE, 1 + (s == 0 ? 0 : first + j), ip, sizeof(ip));
		k8snet_service_add_endpoint(svc, ip, "", 8080, NULL, K8SNET_ENDPOINT_F_READY);
	}
	return svc;
}

static double tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_usec - b->tv_usec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(struct k8snet_ctx *ctx, int r, const char *what)
{
	fprintf(stderr, "bench-nat: %s: %s\n", what, ctx ? k8snet_ctx_get_error(ctx) : strerror(-r));
	exit(1);
}

/* Serve 10.128.0.1:8080 in the namespace: accept and close, forever. */
static pid_t serve(int nsfd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080),
				  .sin_addr.s_addr = htonl(POD_BASE + 1) };
	int one = 1, fd;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		_exit(1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0)
		_exit(1);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

/* Median connect() time to service 0's ClusterIP, from inside the namespace
 * (the median: a shared machine adds long outliers). */
static double connect_time(int nsfd, int count)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(SVC_BASE + 1) };
	double *dt = calloc((size_t)count, sizeof(*dt)), med;
	int i, ok = 0, self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (!dt || setns(nsfd, CLONE_NEWNET) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		double t = now();

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			dt[ok++] = now() - t;
		close(fd);
	}
	setns(self, CLONE_NEWNET);
	close(self);
	qsort(dt, (size_t)ok, sizeof(*dt), cmp_double);
	med = ok == count ? dt[ok / 2] : -1;
	free(dt);
	return med;
}

/* Connection setup with 10 services and with n, in the same namespace and
 * interleaved (10, n, 10, n, ...), so that both see the same machine. */
static void connect_rounds(struct k8snet_ctx *ctx, struct k8snet_proxy *p, unsigned n, unsigned e,
			   int conns)
{
	pid_t srv = serve(k8snet_ctx_get_netns_fd(ctx));
	double best_small = 1e9, best_big = 1e9, ct;
	char name[32];
	unsigned s;
	int round;

	usleep(200000);
	for (round = 0; round < 3; round++) {
		for (s = 10; s < n; s++) {   /* down to 10 services */
			snprintf(name, sizeof(name), "svc-%u", s);
			k8snet_proxy_remove_service(p, "bench", name);
		}
		if (k8snet_proxy_sync(p) < 0)
			die(ctx, -1, "sync");
		ct = connect_time(k8snet_ctx_get_netns_fd(ctx), conns);
		best_small = ct >= 0 && ct < best_small ? ct : best_small;
		for (s = 10; s < n; s++) {   /* back up to n */
			struct k8snet_service *svc = make_service(s, e, s * e);

			k8snet_proxy_add_service(p, svc);
			k8snet_service_free(svc);
		}
		if (k8snet_proxy_sync(p) < 0)
			die(ctx, -1, "sync");
		ct = connect_time(k8snet_ctx_get_netns_fd(ctx), conns);
		best_big = ct >= 0 && ct < best_big ? ct : best_big;
	}
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	printf("connection setup via ClusterIP: %.1f us with 10 services, %.1f us with %u "
	       "(best of 3 interleaved rounds of the median of %d)\n",
	       best_small * 1e6, best_big * 1e6, n, conns);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "services", required_argument, NULL, 's' },
		{ "endpoints", required_argument, NULL, 'e' },
		{ "changes", required_argument, NULL, 'k' },
		{ "render", required_argument, NULL, 'r' },
		{ "connect", required_argument, NULL, 'c' },
		{ "count", no_argument, NULL, 'C' },
		{ 0 }
	};
	const char *netns = NULL, *render = NULL;
	unsigned n = 1000, e = 5, changes = 11, s, i;
	int c, r, conns = 0;
	bool count = false;
	struct k8snet_ctx *ctx;
	struct k8snet_proxy *p;
	struct rusage ru, ru0;
	double t, *dt;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': netns = optarg; break;
		case 's': n = (unsigned)atoi(optarg); break;
		case 'e': e = (unsigned)atoi(optarg); break;
		case 'k': changes = (unsigned)atoi(optarg); break;
		case 'r': render = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'C': count = true; break;
		default: return 2;
		}
	}
	if (!netns || n < 1 || e < 1 || changes < 1)
		return 2;
	if ((r = k8snet_ctx_new(&ctx)) < 0)
		die(NULL, r, "context");
	if ((r = k8snet_ctx_set_netns_path(ctx, netns)) < 0 || (r = k8snet_proxy_new(ctx, &p)) < 0)
		die(ctx, r, "netns");
	k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.128.0.0/9");
	if (count)
		k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_COUNT);
	for (s = 0; s < n; s++) {
		struct k8snet_service *svc = make_service(s, e, s * e);

		if ((r = k8snet_proxy_add_service(p, svc)) < 0)
			die(ctx, r, "add");
		k8snet_service_free(svc);
	}
	getrusage(RUSAGE_SELF, &ru0);
	t = now();
	if ((r = k8snet_proxy_sync(p)) < 0)
		die(ctx, r, "full sync");
	t = now() - t;
	getrusage(RUSAGE_SELF, &ru);
	/* The kernel commits the batch inside our sendmsg(): its time is our sys time. */
	printf("full sync%s: %u services x %u endpoints: %.3f s (user %.3f s, sys %.3f s, %d messages)\n",
	       count ? " (counting)" : "", n, e, t, tv_diff(&ru.ru_utime, &ru0.ru_utime), tv_diff(&ru.ru_stime, &ru0.ru_stime), r);

	/* One service's endpoints change: one endpoint replaced each time. */
	dt = calloc(changes, sizeof(*dt));
	for (i = 0; i < changes; i++) {
		struct k8snet_service *svc = make_service(n / 2, e, (n + i) * e);

		k8snet_proxy_add_service(p, svc);
		k8snet_service_free(svc);
		t = now();
		if ((r = k8snet_proxy_sync(p)) < 0)
			die(ctx, r, "change sync");
		dt[i] = now() - t;
	}
	qsort(dt, changes, sizeof(*dt), cmp_double);
	printf("one-service change with %u present: median %.2f ms (min %.2f, max %.2f, %u runs)\n",
	       n, dt[changes / 2] * 1e3, dt[0] * 1e3, dt[changes - 1] * 1e3, changes);
	free(dt);
	t = now();
	if ((r = k8snet_proxy_sync_full(p)) < 0)
		die(ctx, r, "full resync");
	printf("full resync (table replaced%s) with %u present: %.3f s\n",
	       count ? ", counters carried over" : "", n, now() - t);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak memory: %.1f MB\n", (double)ru.ru_maxrss / 1024);

	if (render) {
		char *text = NULL;
		FILE *f = fopen(render, "w");

		if (!f || (r = k8snet_proxy_render(p, &text)) < 0)
			die(ctx, r, "render");
		fputs(text, f);
		fclose(f);
		k8snet_free(text);
	}
	if (conns > 0)
		connect_rounds(ctx, p, n, e, conns);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return 0;
}
