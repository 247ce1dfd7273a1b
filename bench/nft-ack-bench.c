/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nft-ack-bench: what acknowledging every message costs a full sync.
 *
 *   nft-ack-bench --netns PATH [--services N] [--endpoints E] [--runs R]
 *
 * Full syncs of N services x E endpoints (and of a NetworkPolicy database
 * of N/10 policies over N pods), alternately with an acknowledgement asked
 * for every message (what the library does) and only for the last one
 * (errors are reported either way; the library falls back to this when the
 * receive buffer cannot hold every answer).  Prints the median of each and
 * the share the acknowledgements add.  Links the library's internals to
 * switch the mode (the context's receive-buffer cap).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <k8snet/k8snet.h>

#include "core/internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void load_services(struct k8snet_proxy *p, unsigned n, unsigned e)
{
	unsigned i, j;

	for (i = 0; i < n; i++) {
		struct k8snet_service *s;
		char name[32], ip[32];

		if (k8snet_service_new(&s) < 0)
			exit(1);
		snprintf(name, sizeof(name), "s%u", i);
		snprintf(ip, sizeof(ip), "10.96.%u.%u", i / 250, i % 250 + 1);
		k8snet_service_set_str(s, K8SNET_SERVICE_NAME, name);
		k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, ip);
		k8snet_service_add_port(s, "", 6, 80, 0);
		for (j = 0; j < e; j++) {
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", 128 + j, i / 250, i % 250 + 1);
			k8snet_service_add_endpoint(s, ip, "", 8080, NULL, K8SNET_ENDPOINT_F_READY);
		}
		if (k8snet_proxy_add_service(p, s) < 0)
			exit(1);
		k8snet_service_free(s);
	}
}

/* Pods in 10 label groups; each policy admits one group to another. */
static void load_policies(struct k8snet_ctx *ctx, struct k8snet_policy_db *db, unsigned pods,
			  unsigned policies)
{
	char name[32], labels[32], ip[32], *json;
	unsigned i;

	k8snet_policy_db_set_namespace(db, "b", NULL);
	for (i = 0; i < pods; i++) {
		snprintf(name, sizeof(name), "p%u", i);
		snprintf(labels, sizeof(labels), "g=g%u", i % 10);
		snprintf(ip, sizeof(ip), "10.200.%u.%u", i / 250, i % 250 + 1);
		k8snet_policy_db_set_pod(db, "b", name, labels, ip, "n1", 0);
	}
	for (i = 0; i < policies; i++) {
		if (asprintf(&json, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
			     "\"metadata\":{\"name\":\"np%u\",\"namespace\":\"b\"},\"spec\":{\"podSelector\":"
			     "{\"matchLabels\":{\"g\":\"g%u\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
			     "{\"matchLabels\":{\"g\":\"g%u\"}}}],\"ports\":[{\"port\":%u}]}]}}",
			     i, i % 10, (i + 1) % 10, 1000 + i) < 0 ||
		    k8snet_policy_db_load_json(db, json, strlen(json)) < 0) {
			fprintf(stderr, "policy: %s\n", k8snet_ctx_get_error(ctx));
			exit(1);
		}
		free(json);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "services", required_argument, NULL, 's' },
		{ "endpoints", required_argument, NULL, 'e' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 }
	};
	unsigned n = 10000, e = 5, runs = 5, i, mode;
	double nat[2][32], pol[2][32];
	const char *netns = NULL;
	struct k8snet_policy_db *db;
	struct k8snet_proxy *p;
	struct k8snet_ctx *ctx;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			netns = optarg;
		else if (c == 's')
			n = (unsigned)atoi(optarg);
		else if (c == 'e')
			e = (unsigned)atoi(optarg);
		else if (c == 'r')
			runs = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (!netns || runs < 1 || runs > 32)
		return 2;
	if (k8snet_ctx_new(&ctx) < 0 || k8snet_ctx_set_netns_path(ctx, netns) < 0 ||
	    k8snet_proxy_new(ctx, &p) < 0 || k8snet_policy_db_new(ctx, &db) < 0)
		return 1;
	load_services(p, n, e);
	load_policies(ctx, db, n, n / 10);
	/* A first sync of each, not measured: the tables exist afterwards. */
	if (k8snet_proxy_sync(p) < 0 || k8snet_policy_db_sync(db, "n1") < 0)
		return fprintf(stderr, "sync: %s\n", k8snet_ctx_get_error(ctx)), 1;
	for (i = 0; i < runs; i++)
		for (mode = 0; mode < 2; mode++) {
			double t;

			/* mode 1: a capped buffer, so only the last message asks. */
			ctx->nfnl_rcvbuf_cap = mode ? 1 << 20 : 0;
			ctx->nfnl_rcvbuf = 0;
			t = now();
			if (k8snet_proxy_sync_full(p) < 0)
				return fprintf(stderr, "nat: %s\n", k8snet_ctx_get_error(ctx)), 1;
			nat[mode][i] = now() - t;
			t = now();
			if (k8snet_policy_db_sync_full(db, "n1") < 0)
				return fprintf(stderr, "policy: %s\n", k8snet_ctx_get_error(ctx)), 1;
			pol[mode][i] = now() - t;
		}
	for (mode = 0; mode < 2; mode++) {
		qsort(nat[mode], runs, sizeof(double), cmp_double);
		qsort(pol[mode], runs, sizeof(double), cmp_double);
	}
	printf("full sync, %u services x %u endpoints: every message acknowledged %.3f s, "
	       "the last only %.3f s: acknowledgements add %+.1f%%\n", n, e, nat[0][runs / 2],
	       nat[1][runs / 2], (nat[0][runs / 2] / nat[1][runs / 2] - 1) * 100);
	printf("full sync, %u policies over %u pods: every message acknowledged %.3f s, "
	       "the last only %.3f s: acknowledgements add %+.1f%%\n", n / 10, n, pol[0][runs / 2],
	       pol[1][runs / 2], (pol[0][runs / 2] / pol[1][runs / 2] - 1) * 100);
	k8snet_policy_db_free(db);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return 0;
}
