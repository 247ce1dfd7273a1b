/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The observer's decoder without a kernel: events decoded from NFLOG
 * messages name pods, Services and addresses, verdict, direction and policy;
 * k8snet_observer_set_json() replaces the names (a refused document keeps
 * the old ones); memory stays flat over 1,000,000 events and over reloads.
 * K8SNET_OBSERVE_EVENTS and K8SNET_OBSERVE_RELOADS make the loops shorter
 * (under valgrind).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "nflog-gen.h"

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static const char world[] =
	"{\"kind\":\"List\",\"items\":["
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
	"\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"podIP\":\"10.0.0.1\"}},"
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"y\"},"
	"\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"podIP\":\"10.0.0.2\"}},"
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":\"y\"},"
	"\"spec\":{\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80}]}}]}";

/* The same pods moved: a to 10.0.0.3, b gone; and a document refused. */
static const char moved[] =
	"{\"kind\":\"List\",\"items\":["
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
	"\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"podIP\":\"10.0.0.3\"}}]}";
static const char broken[] = "{\"kind\":\"List\",\"items\":[";

static size_t env_count(const char *name, size_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* Under valgrind freed blocks are held back (its quarantine), so RSS
 * grows; leaks are valgrind's to find there. */
static bool under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void expect(struct k8snet_observer *obs, uint32_t attr, const char *want)
{
	const char *got = k8snet_observer_get_str(obs, attr);

	if (!got || strcmp(got, want) != 0)
		FAIL("attribute %u: '%s', want '%s'", attr, got ? got : "(null)", want);
}

/* One event from src to dst, decoded with the observer's current names. */
static void event(struct k8snet_observer *obs, char *buf, size_t size, uint32_t src, uint32_t dst)
{
	size_t off = 0;

	nflog_gen(buf, size, &off, src, dst, 8080, "k8snet deny ingress y/closed");
	if (k8snet_observer_feed(obs, buf, off) < 0 || k8snet_observer_next(obs, 0) != 1)
		FAIL("no event");
}

static void test_set_json(struct k8snet_ctx *ctx, struct k8snet_observer *obs, char *buf,
			  size_t size)
{
	const char *docs[] = { moved, broken };
	size_t lens[] = { sizeof(moved) - 1, sizeof(broken) - 1 }, i, reloads;
	long before = -1, after;
	int r;

	/* Replaced, not added to: b's address is an address again. */
	if (k8snet_observer_set_json(obs, docs, lens, 1) < 0)
		FAIL("set_json: %s", k8snet_ctx_get_error(ctx));
	event(obs, buf, size, 0x0a000003, 0x0a000002);
	expect(obs, K8SNET_EVENT_SOURCE, "x/a");
	expect(obs, K8SNET_EVENT_DESTINATION, "10.0.0.2");
	/* A refused document (the second): the error names it, the old stay. */
	r = k8snet_observer_set_json(obs, docs, lens, 2);
	if (r != -EINVAL || strncmp(k8snet_ctx_get_error_path(ctx), "docs[1]", 7) != 0)
		FAIL("a broken document: %d, path '%s'", r, k8snet_ctx_get_error_path(ctx));
	event(obs, buf, size, 0x0a000003, 0x0a000001);
	expect(obs, K8SNET_EVENT_SOURCE, "x/a");
	expect(obs, K8SNET_EVENT_DESTINATION, "10.0.0.1");
	if (k8snet_observer_set_json(obs, NULL, NULL, 1) != -EINVAL ||
	    k8snet_observer_set_json(NULL, docs, lens, 1) != -EINVAL)
		FAIL("NULL arguments accepted");
	/* n == 0 drops every name. */
	if (k8snet_observer_set_json(obs, NULL, NULL, 0) < 0)
		FAIL("set_json with none: %s", k8snet_ctx_get_error(ctx));
	event(obs, buf, size, 0x0a000003, 0x0a000001);
	expect(obs, K8SNET_EVENT_SOURCE, "10.0.0.3");
	/* Reloads, good and refused, between events: memory stays flat. */
	reloads = env_count("K8SNET_OBSERVE_RELOADS", 20000);
	for (i = 0; i < reloads; i++) {
		const char *d[] = { i % 3 ? world : moved, broken };

		lens[0] = i % 3 ? sizeof(world) - 1 : sizeof(moved) - 1;
		r = k8snet_observer_set_json(obs, d, lens, i % 7 ? 1 : 2);
		if (r < 0 && i % 7)
			FAIL("reload %zu: %s", i, k8snet_ctx_get_error(ctx));
		event(obs, buf, size, 0x0a000001, 0x0a000002);
		if (before < 0 && i >= reloads / 10)
			before = rss_kb();
	}
	after = rss_kb();
	if (after - before > 256 && !under_valgrind())
		FAIL("memory grew from %ld to %ld kB over %zu reloads", before, after, reloads);
	if (k8snet_observer_set_json(obs, docs, lens, 0) < 0 ||
	    k8snet_observer_load_json(obs, world, sizeof(world) - 1) < 0)
		FAIL("back to the world: %s", k8snet_ctx_get_error(ctx));
	printf("ok: set_json replaces, keeps the old names on a refusal; %zu reloads, "
	       "RSS %ld -> %ld kB\n", reloads, before, after);
}

int main(void)
{
	static char buf[256 * 1024];
	struct k8snet_ctx *ctx;
	struct k8snet_observer *obs;
	size_t off = 0, n = 0, batch = 0;
	long before, after;
	size_t events = env_count("K8SNET_OBSERVE_EVENTS", 1000000);

	if (k8snet_ctx_new(&ctx) < 0 ||
	    k8snet_observer_new(ctx, 0, K8SNET_OBSERVER_F_NO_SOCKET, &obs) < 0 ||
	    k8snet_observer_load_json(obs, world, sizeof(world) - 1) < 0)
		FAIL("setup: %s", k8snet_ctx_get_error(ctx));
	nflog_gen(buf, sizeof(buf), &off, 0x0a000001, 0x0a000002, 8080,
		  "k8snet deny ingress y/closed, y/other");
	nflog_gen(buf, sizeof(buf), &off, 0x0a000002, 0x0a600005, 80,
		  "k8snet allow egress y/out egress[0] to[1]");
	nflog_gen(buf, sizeof(buf), &off, 0xc0a80101, 0x0a000001, 22, "something else");
	if (k8snet_observer_feed(obs, buf, off) < 0 || k8snet_observer_next(obs, 0) != 1)
		FAIL("first event");
	expect(obs, K8SNET_EVENT_SOURCE, "x/a");
	expect(obs, K8SNET_EVENT_DESTINATION, "y/b");
	expect(obs, K8SNET_EVENT_VERDICT, "deny");
	expect(obs, K8SNET_EVENT_DIRECTION, "ingress");
	expect(obs, K8SNET_EVENT_POLICY, "y/closed, y/other");
	expect(obs, K8SNET_EVENT_PROTOCOL, "TCP");
	if (k8snet_observer_get_u64(obs, K8SNET_EVENT_PORT) != 8080 ||
	    !k8snet_observer_get_u64(obs, K8SNET_EVENT_TIME_NS))
		FAIL("port or time");
	if (k8snet_observer_next(obs, 0) != 1)
		FAIL("second event");
	expect(obs, K8SNET_EVENT_DESTINATION, "svc:y/web");
	expect(obs, K8SNET_EVENT_VERDICT, "allow");
	expect(obs, K8SNET_EVENT_POLICY, "y/out egress[0] to[1]");
	if (k8snet_observer_next(obs, 0) != 1)
		FAIL("third event");
	expect(obs, K8SNET_EVENT_SOURCE, "192.168.1.1");
	expect(obs, K8SNET_EVENT_VERDICT, "");
	expect(obs, K8SNET_EVENT_POLICY, "something else");
	if (k8snet_observer_next(obs, 0) != 0)
		FAIL("an event past the end");
	/* Truncated and garbage input: no event, no crash. */
	if (k8snet_observer_feed(obs, buf, 30) < 0 || k8snet_observer_next(obs, 0) != 0)
		FAIL("truncated message");
	test_set_json(ctx, obs, buf, sizeof(buf));
	/* 1,000,000 events: memory stays flat. */
	off = 0;
	while (nflog_gen(buf, sizeof(buf), &off, 0x0a000001 + (uint32_t)batch++ % 2, 0x0a000002,
			 8080, "k8snet deny ingress y/closed") == 0)
		;
	batch--;
	before = -1;
	while (n < events) {
		if (k8snet_observer_feed(obs, buf, off) < 0)
			FAIL("feed");
		while (k8snet_observer_next(obs, 0) == 1)
			n++;
		if (before < 0 && n >= events / 100)
			before = rss_kb();
	}
	after = rss_kb();
	if (after - before > 256 && !under_valgrind())
		FAIL("memory grew from %ld to %ld kB over %zu events", before, after, n);
	printf("PASS: decoder; %zu events, RSS %ld -> %ld kB\n", n, before, after);
	k8snet_observer_free(obs);
	k8snet_ctx_free(ctx);
	return 0;
}
