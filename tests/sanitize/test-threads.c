/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two threads, two contexts, two namespaces: each renders and syncs a proxy
 * and a policy database over and over, one in IPv4 and one in IPv6, while
 * the other does the same.  Every render must equal the render made alone
 * beforehand (a shared static in a sort comparator once made IPv6 address
 * sets collapse), and every sync must succeed.  tests/sanitize/run.sh builds
 * it with ThreadSanitizer, which reports any access the threads share.
 * K8SNET_THREAD_ROUNDS sets the rounds (default 40; check-long uses more).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "harness.h"

#define PODS 120

struct world {
	bool v6;
	char path[128];           /* the namespace (tns_path() is not for threads) */
	char *json;               /* Services, slices, namespace, pods, policies */
	char *ref_nat, *ref_policy;
	int rounds, failures;
	char first_failure[512];
};

static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*s + *len, *cap - *len, fmt, ap);
		va_end(ap);
		TNS_ASSERT(n >= 0, "vsnprintf");
		if ((size_t)n < *cap - *len)
			break;
		*cap = *cap * 2 + (size_t)n;
		*s = realloc(*s, *cap);
		TNS_ASSERT(*s, "realloc");
	}
	*len += (size_t)n;
}

static void addr(bool v6, unsigned net, unsigned i, char *buf, size_t len)
{
	if (v6)
		snprintf(buf, len, "fd00:%x::%x", net, i + 1);
	else
		snprintf(buf, len, "10.%u.%u.%u", net, i / 200, i % 200 + 1);
}

/* A List: 20 services with 3 endpoints each, PODS pods in 4 label groups,
 * three policies whose peer sets hold many addresses. */
static char *make_world(bool v6)
{
	size_t len = 0, cap = 1 << 16;
	char *s = malloc(cap), a[64], b[64];
	unsigned i, j;

	TNS_ASSERT(s, "malloc");
	append(&s, &len, &cap, "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":["
	       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"t\"}}");
	for (i = 0; i < 20; i++) {
		addr(v6, 96, i, a, sizeof(a));
		append(&s, &len, &cap, ",{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
		       "{\"name\":\"s%u\",\"namespace\":\"t\"},\"spec\":{\"clusterIPs\":[\"%s\"],"
		       "\"ipFamilies\":[\"%s\"],\"ports\":[{\"port\":80}]}}", i, a, v6 ? "IPv6" : "IPv4");
		append(&s, &len, &cap, ",{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
		       "\"EndpointSlice\",\"metadata\":{\"name\":\"s%u-a\",\"namespace\":\"t\","
		       "\"labels\":{\"kubernetes.io/service-name\":\"s%u\"}},\"addressType\":\"%s\","
		       "\"ports\":[{\"port\":8080}],\"endpoints\":[", i, i, v6 ? "IPv6" : "IPv4");
		for (j = 0; j < 3; j++) {
			addr(v6, 244, i * 3 + j, b, sizeof(b));
			append(&s, &len, &cap, "%s{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}}",
			       j ? "," : "", b);
		}
		append(&s, &len, &cap, "]}");
	}
	for (i = 0; i < PODS; i++) {
		addr(v6, 245, i * 37 % 251, a, sizeof(a));   /* not in order */
		append(&s, &len, &cap, ",{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		       "{\"name\":\"p%u\",\"namespace\":\"t\",\"labels\":{\"g\":\"g%u\"}},"
		       "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIPs\":[{\"ip\":\"%s\"}]}}",
		       i, i % 4, a);
	}
	for (i = 0; i < 3; i++)
		append(&s, &len, &cap, ",{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		       "\"NetworkPolicy\",\"metadata\":{\"name\":\"np%u\",\"namespace\":\"t\"},"
		       "\"spec\":{\"podSelector\":{\"matchLabels\":{\"g\":\"g%u\"}},\"ingress\":"
		       "[{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"g\","
		       "\"operator\":\"NotIn\",\"values\":[\"g%u\"]}]}}]}]}}", i, i, i);
	append(&s, &len, &cap, "]}");
	return s;
}

static void load(struct k8snet_ctx *ctx, const char *json, struct k8snet_proxy **p,
		 struct k8snet_policy_db **db)
{
	TNS_ASSERT(k8snet_proxy_new(ctx, p) == 0, "proxy");
	TNS_ASSERT(k8snet_proxy_load_json(*p, json, strlen(json)) > 0, "nat json: %s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_policy_db_new(ctx, db) == 0, "db");
	TNS_ASSERT(k8snet_policy_db_load_json(*db, json, strlen(json)) >= 0, "policy json: %s",
		   k8snet_ctx_get_error(ctx));
}

static void fail(struct world *w, const char *what)
{
	if (!w->failures++)
		snprintf(w->first_failure, sizeof(w->first_failure), "%s", what);
}

static void *run(void *arg)
{
	struct world *w = arg;
	struct k8snet_policy_db *db;
	struct k8snet_proxy *p;
	struct k8snet_ctx *ctx;
	int i;

	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	TNS_ASSERT(k8snet_ctx_set_netns_path(ctx, w->path) == 0, "netns");
	load(ctx, w->json, &p, &db);
	for (i = 0; i < w->rounds; i++) {
		char *nat = NULL, *pol = NULL;

		/* Fresh objects now and then: their first sync replaces. */
		if (i % 10 == 9) {
			k8snet_policy_db_free(db);
			k8snet_proxy_free(p);
			load(ctx, w->json, &p, &db);
		}
		if (k8snet_proxy_render(p, &nat) < 0 || strcmp(nat, w->ref_nat) != 0)
			fail(w, "nat render differs from the single-threaded one");
		if (k8snet_policy_db_render(db, "n1", &pol) < 0 || strcmp(pol, w->ref_policy) != 0)
			fail(w, "policy render differs from the single-threaded one");
		if ((i % 5 ? k8snet_proxy_sync(p) : k8snet_proxy_sync_full(p)) < 0)
			fail(w, k8snet_ctx_get_error(ctx));
		if ((i % 5 ? k8snet_policy_db_sync(db, "n1") : k8snet_policy_db_sync_full(db, "n1")) < 0)
			fail(w, k8snet_ctx_get_error(ctx));
		k8snet_free(nat);
		k8snet_free(pol);
	}
	k8snet_policy_db_free(db);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return NULL;
}

/* The render of a world, made on this thread before any other runs. */
static void reference(struct world *w)
{
	struct k8snet_policy_db *db;
	struct k8snet_proxy *p;
	struct k8snet_ctx *ctx;

	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	load(ctx, w->json, &p, &db);
	TNS_ASSERT(k8snet_proxy_render(p, &w->ref_nat) == 0, "nat render");
	TNS_ASSERT(k8snet_policy_db_render(db, "n1", &w->ref_policy) == 0, "policy render");
	k8snet_policy_db_free(db);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
}

int main(void)
{
	const char *env = getenv("K8SNET_THREAD_ROUNDS");
	int rounds = env ? atoi(env) : 40, i;
	struct world w[2] = { { .v6 = false }, { .v6 = true } };
	pthread_t t[2];

	tns_require_root();
	for (i = 0; i < 2; i++) {
		snprintf(w[i].path, sizeof(w[i].path), "%s", tns_path(tns_add(w[i].v6 ? "thr6" : "thr4")));
		w[i].json = make_world(w[i].v6);
		w[i].rounds = rounds;
		reference(&w[i]);
	}
	for (i = 0; i < 2; i++)
		TNS_ASSERT(pthread_create(&t[i], NULL, run, &w[i]) == 0, "thread");
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++) {
		TNS_ASSERT(!w[i].failures, "%s thread: %d of %d rounds failed; first: %s",
			   w[i].v6 ? "IPv6" : "IPv4", w[i].failures, rounds, w[i].first_failure);
		free(w[i].json);
		k8snet_free(w[i].ref_nat);
		k8snet_free(w[i].ref_policy);
	}
	printf("PASS: two threads, %d rounds each of render (same as alone) and sync\n", rounds);
	return 0;
}
