/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kill -9 in the middle of a 10,000-service sync: the kernel holds the old
 * ruleset or the new one, never a mix, and a new process's first sync makes
 * it whole.  A child syncs 10,000 services, then moves every endpoint from
 * one address range to the other and back, sync after sync; the parent
 * kills it at a random moment, reads the endpoints map back and checks that
 * all of it is one range or the other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "core/internal.h"
#include "nft/internal.h"
#include "harness.h"

#include <linux/netfilter.h>

#define SERVICES 10000
#define EPS 2

static const char *ns;

/* Every service's endpoints in range r: 10.(100+r).x.y */
static void load(struct k8snet_proxy *p, unsigned range)
{
	unsigned i, j;

	for (i = 0; i < SERVICES; i++) {
		struct k8snet_service *s;
		char name[32], ip[32];

		TNS_ASSERT(k8snet_service_new(&s) == 0, "service");
		snprintf(name, sizeof(name), "s%u", i);
		snprintf(ip, sizeof(ip), "10.96.%u.%u", i / 200, i % 200 + 1);
		k8snet_service_set_str(s, K8SNET_SERVICE_NAME, name);
		k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, ip);
		k8snet_service_add_port(s, "", 6, 80, 0);
		for (j = 0; j < EPS; j++) {
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + range, i / 100, i % 100 * EPS + j + 1);
			TNS_ASSERT(k8snet_service_add_endpoint(s, ip, "", 8080, NULL,
							       K8SNET_ENDPOINT_F_READY) == 0, "%s", ip);
		}
		TNS_ASSERT(k8snet_proxy_add_service(p, s) == 0, "add");
		k8snet_service_free(s);
	}
}

static struct k8snet_proxy *proxy(struct k8snet_ctx **ctx)
{
	struct k8snet_proxy *p;

	TNS_ASSERT(k8snet_ctx_new(ctx) == 0, "ctx");
	TNS_ASSERT(k8snet_ctx_set_netns_path(*ctx, tns_path(ns)) == 0, "netns");
	TNS_ASSERT(k8snet_proxy_new(*ctx, &p) == 0, "proxy");
	return p;
}

/* The child: sync, then flip ranges forever, saying "synced" each time. */
static void child(int fd)
{
	struct k8snet_ctx *ctx;
	struct k8snet_proxy *p = proxy(&ctx);
	unsigned range = 0;

	for (;;) {
		load(p, range);
		if (k8snet_proxy_sync(p) < 0) {
			fprintf(stderr, "child sync: %s\n", k8snet_ctx_get_error(ctx));
			_exit(1);
		}
		if (write(fd, "s", 1) != 1)
			_exit(1);
		range ^= 1;
	}
}

/* Which range the endpoints map holds: 0 or 1, -1 for a mix, -2 for a
 * wrong count. */
static int held_range(struct k8snet_ctx *ctx, unsigned *n)
{
	struct nft_dumped_set s = { 0 };
	int r = nft_dump_set(ctx, NFPROTO_IPV4, "k8snet", "endpoints", 0, &s), range = -3;
	size_t i;

	TNS_ASSERT(r == 0, "dump: %d", r);
	*n = (unsigned)s.n;
	for (i = 0; i < s.n; i++) {
		int this = s.e[i].data[1] - 100;

		if (range == -3)
			range = this;
		else if (range != this)
			range = -1;
	}
	if (s.n != SERVICES * EPS)
		range = -2;
	nft_dumped_set_clear(&s);
	return range;
}

int main(void)
{
	struct k8snet_ctx *ctx;
	struct k8snet_proxy *p;
	unsigned round, n;
	int seen[2] = { 0, 0 };

	tns_require_root();
	ns = tns_add("nftkill");
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (round = 0; round < 5; round++) {
		int fds[2], status, range;
		char c;
		pid_t pid;

		TNS_ASSERT(pipe(fds) == 0, "pipe");
		pid = fork();
		TNS_ASSERT(pid >= 0, "fork");
		if (pid == 0) {
			close(fds[0]);
			child(fds[1]);
		}
		close(fds[1]);
		/* After the first complete sync, a random moment of the next. */
		TNS_ASSERT(read(fds[0], &c, 1) == 1, "child's first sync");
		usleep((useconds_t)(rand() % 1500) * 1000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		TNS_ASSERT(WIFSIGNALED(status), "the child was killed (status %d)", status);
		close(fds[0]);

		TNS_ASSERT(k8snet_ctx_new(&ctx) == 0 && k8snet_ctx_set_netns_path(ctx, tns_path(ns)) == 0,
			   "ctx");
		range = held_range(ctx, &n);
		TNS_ASSERT(range == 0 || range == 1, "round %u: the kernel holds %s (%u endpoints)", round,
			   range == -1 ? "a mix of old and new" : "the wrong count", n);
		seen[range]++;
		printf("ok: round %u: killed; the kernel holds range %d whole (%u endpoints)\n", round,
		       range, n);
		k8snet_ctx_free(ctx);
	}

	/* A new process's first sync makes it whole, whatever it found. */
	p = proxy(&ctx);
	load(p, 7);
	TNS_ASSERT(k8snet_proxy_sync(p) >= 0, "new process: %s", k8snet_ctx_get_error(ctx));
	TNS_ASSERT(held_range(ctx, &n) == 7, "the new process's ruleset, whole");
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	printf("PASS: kill -9 mid-sync: old or new, never a mix (old/new seen %d/%d); a new "
	       "process's sync makes it whole\n", seen[0], seen[1]);
	return 0;
}
