/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * observe-bench: NFLOG verdict events decoded and named per second on one
 * core (bar: 200,000), with 10,000 pods loaded to name addresses with.  The
 * peer measured in the same run is libmnl's own walk over the same messages
 * (mnl_cb_run with an attribute parse and nothing else): the floor of any
 * decoder of this input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <k8snet/k8snet.h>

#include "../tests/observe/nflog-gen.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	(*(size_t *)data) += mnl_attr_get_type(a);
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, data);
}

static char *pods(int n)
{
	size_t size = (size_t)n * 200 + 64, len;
	char *s = malloc(size);
	int i;

	if (!s)
		return NULL;
	len = (size_t)snprintf(s, size, "{\"kind\":\"List\",\"items\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s{\"kind\":\"Pod\",\"metadata\":"
					"{\"name\":\"p%d\",\"namespace\":\"ns%d\"},\"spec\":{"
					"\"containers\":[{\"name\":\"c\"}]},\"status\":{\"podIP\":"
					"\"10.%d.%d.%d\"}}", i ? "," : "", i, i % 100, 64 + i / 65536,
					(i / 256) % 256, i % 256);
	snprintf(s + len, size - len, "]}");
	return s;
}

int main(int argc, char **argv)
{
	static char buf[256 * 1024];
	long total = argc > 1 ? atol(argv[1]) : 2000000, n = 0;
	size_t off = 0, per = 0, sink = 0;
	struct k8snet_ctx *ctx;
	struct k8snet_observer *obs;
	char *world = pods(10000);
	double t0, ours, peer;
	uint32_t i = 0;

	if (!world || k8snet_ctx_new(&ctx) < 0 ||
	    k8snet_observer_new(ctx, 0, K8SNET_OBSERVER_F_NO_SOCKET, &obs) < 0 ||
	    k8snet_observer_load_json(obs, world, strlen(world)) < 0)
		return 2;
	while (nflog_gen(buf, sizeof(buf), &off, 0x0a400000 + i % 10000, 0x0a400000 + (i * 7) % 10000,
			 8080, "k8snet deny ingress ns1/web-from-frontend") == 0)
		i++;
	per = i;
	k8snet_observer_next(obs, 0);   /* builds the name index */
	t0 = now();
	while (n < total) {
		k8snet_observer_feed(obs, buf, off);
		while (k8snet_observer_next(obs, 0) == 1)
			n++;
	}
	ours = now() - t0;
	t0 = now();
	for (long m = 0; m < total; m += (long)per)
		mnl_cb_run(buf, off, 0, 0, msg_cb, &sink);
	peer = now() - t0;
	printf("observe-bench: %ld events, %zu per 256 KiB buffer: %.0f events/s decoded and "
	       "named (%.2f us each); libmnl's bare walk %.0f/s; ratio %.1fx\n", n, per,
	       (double)n / ours, ours / (double)n * 1e6, (double)total / peer,
	       ours / peer);
	printf("observe-bench: bar 200,000 events/s: %s\n", n / ours >= 200000 ? "met" : "MISSED");
	k8snet_observer_free(obs);
	k8snet_ctx_free(ctx);
	free(world);
	return n / ours >= 200000 ? 0 : 1;
}
