/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * agent-bench: how long one EndpointSlice change in the API takes to reach
 * the kernel through k8snet-agent.
 *
 *   agent-bench --kubeconfig KC --netns NODE_NS_PATH --slice NS/NAME
 *               [--changes 200] [--p50-bar MS] [--p99-bar MS]
 *
 * For each change it sends a JSON patch that gives the slice's first
 * endpoint a new address (10.250.x.y) and takes the time until the kernel
 * of the node namespace announces a new set element holding that address
 * (an nftables NEWSETELEM notification, as `nft monitor` sees it: sent when
 * the batch commits).  A second watch on the same slice, held by this
 * program, tells how much of that is the API server's own (PATCH to watch
 * event) and how much the agent's (watch event to kernel).
 *
 * One thread: the PATCH, the watch and the netlink socket in one poll loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../examples/agent/agent.h"

struct bench {
	struct kube_config cfg;
	CURLM *multi;
	CURL *watch;
	struct buf wline;
	int nl;
	const char *want_ip;      /* the address of the change in flight */
	unsigned char want_bin[4];
	double t_event, t_kernel;
	struct curl_slist *headers;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

/* A netlink socket for nftables notifications, made inside the node's
 * namespace (the socket stays there when the thread goes back). */
static int monitor_in(const char *netns)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1u << (NFNLGRP_NFTABLES - 1) };
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), target, fd = -1, big = 16 << 20;

	target = open(netns, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) {
		perror(netns);
		exit(1);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("netlink");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (setns(self, CLONE_NEWNET) < 0) {
		perror("setns back");
		exit(1);
	}
	close(self);
	close(target);
	return fd;
}

static bool has_bytes(const unsigned char *p, size_t n, const unsigned char *w, size_t wn)
{
	size_t i;

	for (i = 0; i + wn <= n; i++)
		if (memcmp(p + i, w, wn) == 0)
			return true;
	return false;
}

static void read_netlink(struct bench *b)
{
	unsigned char buf[65536];
	ssize_t n;

	while ((n = recv(b->nl, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h;
		int len = (int)n;

		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM))
				continue;
			if (b->want_ip && !b->t_kernel &&
			    has_bytes((unsigned char *)h, h->nlmsg_len, b->want_bin, 4))
				b->t_kernel = mono_now();
		}
	}
	if (n < 0 && errno == ENOBUFS)
		fprintf(stderr, "agent-bench: netlink overrun (events lost)\n");
}

static size_t on_watch(char *data, size_t size, size_t nmemb, void *ud)
{
	struct bench *b = ud;
	size_t len = size * nmemb;
	char *nl;

	buf_append(&b->wline, data, len);
	while ((nl = memchr(b->wline.p, '\n', b->wline.len))) {
		*nl = '\0';
		if (b->want_ip && !b->t_event) {
			char quoted[32];

			snprintf(quoted, sizeof(quoted), "\"%s\"", b->want_ip);
			if (strstr(b->wline.p, quoted))
				b->t_event = mono_now();
		}
		buf_consume(&b->wline, (size_t)(nl - b->wline.p) + 1);
	}
	return len;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *ud)
{
	return size * nmemb;
}

static CURL *handle(struct bench *b, const char *path)
{
	CURL *h = curl_easy_init();
	char *url = xasprintf("%s%s", b->cfg.server, path);
	struct curl_blob ca = { b->cfg.ca_data, b->cfg.ca_len, CURL_BLOB_COPY };

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (b->cfg.ca_data)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
	else if (b->cfg.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, b->cfg.ca_file);
	if (b->cfg.insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, b->headers);
	free(url);
	return h;
}

/* Run the multi loop until done() or the deadline; false on timeout. */
static bool run_until(struct bench *b, double deadline, bool (*done)(struct bench *, CURL *),
		      CURL *patch)
{
	while (!done(b, patch)) {
		struct curl_waitfd w = { b->nl, CURL_WAIT_POLLIN, 0 };
		int running, left, ms = (int)((deadline - mono_now()) * 1000);
		CURLMsg *m;

		if (ms <= 0)
			return false;
		curl_multi_poll(b->multi, &w, 1, ms > 100 ? 100 : ms, NULL);
		curl_multi_perform(b->multi, &running);
		while ((m = curl_multi_info_read(b->multi, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == b->watch) {
				fprintf(stderr, "agent-bench: the watch ended: %s\n",
					curl_easy_strerror(m->data.result));
				exit(1);
			} else if (m->msg == CURLMSG_DONE && m->easy_handle == patch) {
				curl_multi_remove_handle(b->multi, patch);
			}
		read_netlink(b);
	}
	return true;
}

static bool patch_finished(CURL *patch)
{
	long code = 0;

	curl_easy_getinfo(patch, CURLINFO_RESPONSE_CODE, &code);
	return code != 0;
}

static bool change_done(struct bench *b, CURL *patch)
{
	return b->t_event && b->t_kernel && patch_finished(patch);
}

static bool watch_open(struct bench *b, CURL *unused)
{
	long code = 0;

	curl_easy_getinfo(b->watch, CURLINFO_RESPONSE_CODE, &code);
	return code == 200;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' }, { "netns", required_argument, NULL, 'n' },
		{ "slice", required_argument, NULL, 's' }, { "changes", required_argument, NULL, 'c' },
		{ "p50-bar", required_argument, NULL, '5' }, { "p99-bar", required_argument, NULL, '9' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kc = NULL, *netns = NULL, *slice = NULL;
	double p50_bar = 5, p99_bar = 50, *total, *api, *agent;
	unsigned changes = 200, i, failed = 0;
	struct bench b = { 0 };
	char *err = NULL, *ns, *name, *path, *auth;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kc = optarg; break;
		case 'n': netns = optarg; break;
		case 's': slice = optarg; break;
		case 'c': changes = (unsigned)atoi(optarg); break;
		case '5': p50_bar = atof(optarg); break;
		case '9': p99_bar = atof(optarg); break;
		default: return 2;
		}
	}
	if (!kc || !netns || !slice || !strchr(slice, '/') || !changes) {
		fprintf(stderr, "usage: agent-bench --kubeconfig KC --netns PATH --slice NS/NAME [--changes N]\n");
		return 2;
	}
	agent_log_level = LOG_LVL_ERR;
	if (kube_config_load(kc, &b.cfg, &err) < 0) {
		fprintf(stderr, "agent-bench: %s\n", err);
		return 1;
	}
	ns = strdup(slice);
	name = strchr(ns, '/');
	*name++ = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	b.nl = monitor_in(netns);
	b.multi = curl_multi_init();
	auth = xasprintf("Authorization: Bearer %s", kube_config_token(&b.cfg));
	b.headers = curl_slist_append(NULL, auth);
	b.headers = curl_slist_append(b.headers, "Accept: application/json");
	b.headers = curl_slist_append(b.headers, "Content-Type: application/json-patch+json");
	path = xasprintf("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices?watch=1"
			 "&fieldSelector=metadata.name%%3D%s", ns, name);
	b.watch = handle(&b, path);
	free(path);
	curl_easy_setopt(b.watch, CURLOPT_WRITEFUNCTION, on_watch);
	curl_easy_setopt(b.watch, CURLOPT_WRITEDATA, &b);
	curl_multi_add_handle(b.multi, b.watch);
	if (!run_until(&b, mono_now() + 10, watch_open, NULL)) {
		fprintf(stderr, "agent-bench: cannot watch %s\n", slice);
		return 1;
	}
	total = calloc(changes, sizeof(double));
	api = calloc(changes, sizeof(double));
	agent = calloc(changes, sizeof(double));
	path = xasprintf("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns, name);
	for (i = 0; i < changes; i++) {
		char ip[32], *body;
		CURL *patch;
		double t0;

		snprintf(ip, sizeof(ip), "10.250.%u.%u", (i / 250) % 250, i % 250 + 1);
		inet_pton(AF_INET, ip, b.want_bin);
		body = xasprintf("[{\"op\": \"replace\", \"path\": \"/endpoints/0/addresses/0\", \"value\": \"%s\"}]", ip);
		patch = handle(&b, path);
		curl_easy_setopt(patch, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(patch, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(patch, CURLOPT_WRITEFUNCTION, discard);
		read_netlink(&b);             /* nothing stale counts */
		b.t_event = b.t_kernel = 0;
		b.want_ip = ip;
		t0 = mono_now();
		curl_multi_add_handle(b.multi, patch);
		if (!run_until(&b, t0 + 5, change_done, patch)) {
			failed++;
			fprintf(stderr, "agent-bench: change %u (%s) not seen in 5 s (event %s, kernel %s)\n",
				i, ip, b.t_event ? "yes" : "no", b.t_kernel ? "yes" : "no");
		} else {
			total[i - failed] = (b.t_kernel - t0) * 1e3;
			api[i - failed] = (b.t_event - t0) * 1e3;
			agent[i - failed] = (b.t_kernel - b.t_event) * 1e3;
		}
		b.want_ip = NULL;
		curl_multi_remove_handle(b.multi, patch);
		curl_easy_cleanup(patch);
		free(body);
		usleep(20000);
	}
	{
		size_t n = changes - failed;

		qsort(total, n, sizeof(double), cmp_double);
		qsort(api, n, sizeof(double), cmp_double);
		qsort(agent, n, sizeof(double), cmp_double);
		printf("EndpointSlice change in the API -> rules in the kernel, %zu changes of %s:\n", n, slice);
		printf("  PATCH sent -> NEWSETELEM committed: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		       pct(total, n, 0.5), pct(total, n, 0.9), pct(total, n, 0.99), total[n ? n - 1 : 0]);
		printf("    the API server's part (PATCH sent -> watch event here): p50 %.2f ms, p99 %.2f ms\n",
		       pct(api, n, 0.5), pct(api, n, 0.99));
		printf("    the agent's part (watch event -> kernel):             p50 %.2f ms, p99 %.2f ms\n",
		       pct(agent, n, 0.5), pct(agent, n, 0.99));
		printf("  bars: p50 <= %g ms: %s; p99 <= %g ms: %s; lost changes: %u\n", p50_bar,
		       pct(total, n, 0.5) <= p50_bar ? "met" : "MISSED", p99_bar,
		       pct(total, n, 0.99) <= p99_bar ? "met" : "MISSED", failed);
		c = !failed && n && pct(total, n, 0.5) <= p50_bar && pct(total, n, 0.99) <= p99_bar ? 0 : 3;
	}
	curl_multi_remove_handle(b.multi, b.watch);
	curl_easy_cleanup(b.watch);
	curl_multi_cleanup(b.multi);
	curl_slist_free_all(b.headers);
	curl_global_cleanup();
	kube_config_clear(&b.cfg);
	buf_free(&b.wline);
	free(total);
	free(api);
	free(agent);
	free(path);
	free(auth);
	free(ns);
	close(b.nl);
	return c;
}
