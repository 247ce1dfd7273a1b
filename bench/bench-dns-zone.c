/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zone generation for 10,000 services x 5 endpoints (bar: 100 ms).
 *
 * Every service is headless with two named ports and five ready endpoints
 * with hostnames, the case that makes the most records: per service 5 A at
 * the service name, 5 endpoint A, 10 SRV, plus 5 PTR in the reverse zone.
 * Measured three ways, best of several runs each:
 *   api     build the model through the C API, render forward + reverse
 *   render  render forward + reverse from a built model
 *   json    parse a kubectl-shaped List (Services + EndpointSlices), render
 *   cjson   only cJSON parsing and freeing that document: the floor of "json"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <k8snet/k8snet.h>

#define SERVICES 10000
#define ENDPOINTS 5
#define RUNS 5
#define BAR_MS 100.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(struct k8snet_ctx *ctx, const char *what)
{
	fprintf(stderr, "bench-dns-zone: %s: %s\n", what, k8snet_ctx_get_error(ctx));
	exit(1);
}

/* The names and addresses, made once so the timings are the library's. */
struct names {
	char ns[SERVICES][8], name[SERVICES][12];
	char ip[SERVICES * ENDPOINTS][16], host[SERVICES * ENDPOINTS][16];
};

static struct names *make_names(void)
{
	struct names *n = malloc(sizeof(*n));
	int s, e;

	if (!n)
		exit(1);
	for (s = 0; s < SERVICES; s++) {
		snprintf(n->ns[s], sizeof(n->ns[s]), "ns%d", s % 100);
		snprintf(n->name[s], sizeof(n->name[s]), "svc%d", s);
		for (e = 0; e < ENDPOINTS; e++) {
			int i = s * ENDPOINTS + e;

			snprintf(n->ip[i], sizeof(n->ip[i]), "10.%d.%d.%d", 64 + i / 65536,
				 i / 256 % 256, i % 256);
			snprintf(n->host[i], sizeof(n->host[i]), "svc%d-%d", s, e);
		}
	}
	return n;
}

static void build(struct k8snet_ctx *ctx, struct k8snet_dns_zone *z, const struct names *n)
{
	int s, e;

	for (s = 0; s < SERVICES; s++) {
		const char *ns = n->ns[s], *name = n->name[s];

		if (k8snet_dns_zone_add_service(z, ns, name, NULL, NULL, 0) < 0 ||
		    k8snet_dns_zone_add_endpoint_port(z, ns, name, "http", "TCP", 8080) < 0 ||
		    k8snet_dns_zone_add_endpoint_port(z, ns, name, "dns", "UDP", 53) < 0)
			die(ctx, "add service");
		for (e = 0; e < ENDPOINTS; e++)
			if (k8snet_dns_zone_add_endpoint(z, ns, name, n->ip[s * ENDPOINTS + e],
							 n->host[s * ENDPOINTS + e], 0) < 0)
				die(ctx, "add endpoint");
	}
}

static int render(struct k8snet_ctx *ctx, struct k8snet_dns_zone *z, size_t *bytes)
{
	char *fwd = NULL, *rev = NULL;
	int a = k8snet_dns_zone_render(z, NULL, &fwd), b;

	if (a < 0)
		die(ctx, "render");
	b = k8snet_dns_zone_render(z, "in-addr.arpa", &rev);
	if (b < 0)
		die(ctx, "render reverse");
	*bytes = strlen(fwd) + strlen(rev);
	k8snet_free(fwd);
	k8snet_free(rev);
	return a + b;
}

static char *make_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int s, e;

	fputs("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[", f);
	for (s = 0; s < SERVICES; s++) {
		fprintf(f, "%s{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
			"\"svc%d\",\"namespace\":\"ns%d\"},\"spec\":{\"clusterIP\":\"None\","
			"\"ports\":[{\"name\":\"http\",\"port\":80},{\"name\":\"dns\",\"port\":53,"
			"\"protocol\":\"UDP\"}]}}", s ? "," : "", s, s % 100);
		fprintf(f, ",{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\","
			"\"metadata\":{\"name\":\"svc%d-x\",\"namespace\":\"ns%d\",\"labels\":"
			"{\"kubernetes.io/service-name\":\"svc%d\"}},\"addressType\":\"IPv4\","
			"\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"},"
			"{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}],\"endpoints\":[",
			s, s % 100, s);
		for (e = 0; e < ENDPOINTS; e++) {
			int n = s * ENDPOINTS + e;

			fprintf(f, "%s{\"addresses\":[\"10.%d.%d.%d\"],\"hostname\":\"svc%d-%d\","
				"\"conditions\":{\"ready\":true}}", e ? "," : "",
				64 + n / 65536, n / 256 % 256, n % 256, s, e);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
	fclose(f);
	return buf;
}

static void report(const char *what, double best, int records, size_t bytes)
{
	printf("dns zone %-7s %5d services x %d endpoints: %8.1f ms  (%d records, %zu bytes)  "
	       "bar <= %.0f ms: %s\n", what, SERVICES, ENDPOINTS, best, records, bytes, BAR_MS,
	       best <= BAR_MS ? "ok" : "OVER");
}

int main(void)
{
	struct k8snet_ctx *ctx;
	struct k8snet_dns_zone *z;
	double best_api = 1e9, best_render = 1e9, best_json = 1e9, best_cjson = 1e9, t;
	char *json = make_json();
	struct names *names = make_names();
	size_t bytes = 0;
	int run, records = 0;

	if (k8snet_ctx_new(&ctx) < 0 || !json)
		return 1;
	for (run = 0; run < RUNS; run++) {
		t = now_ms();
		if (k8snet_dns_zone_new(ctx, NULL, &z) < 0)
			die(ctx, "zone");
		build(ctx, z, names);
		records = render(ctx, z, &bytes);
		t = now_ms() - t;
		best_api = t < best_api ? t : best_api;
		t = now_ms();
		render(ctx, z, &bytes);
		t = now_ms() - t;
		best_render = t < best_render ? t : best_render;
		k8snet_dns_zone_free(z);

		t = now_ms();
		if (k8snet_dns_zone_new(ctx, NULL, &z) < 0 ||
		    k8snet_dns_zone_add_json(z, json, strlen(json)) < 0)
			die(ctx, "json");
		render(ctx, z, &bytes);
		t = now_ms() - t;
		best_json = t < best_json ? t : best_json;
		k8snet_dns_zone_free(z);

		t = now_ms();
		cJSON_Delete(cJSON_ParseWithLength(json, strlen(json)));
		t = now_ms() - t;
		best_cjson = t < best_cjson ? t : best_cjson;
	}
	report("api", best_api, records, bytes);
	report("render", best_render, records, bytes);
	report("json", best_json, records, bytes);
	printf("dns zone cjson   parse + free of the same %zu-byte document: %8.1f ms (the floor of json)\n",
	       strlen(json), best_cjson);
	free(json);
	free(names);
	k8snet_ctx_free(ctx);
	return 0;
}
