/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-nat-conntrack: what conntrack cleanup adds to a sync.
 *
 *   bench-nat-conntrack --netns PATH [--services N] [--endpoints E]
 *                       [--entries C] [--changes K]
 *
 * N UDP services (service s at 10.96.0.0+1+s:53, endpoints from 10.128.0.1
 * on), a full sync, then C conntrack entries created through ctnetlink
 * (IPCTNL_MSG_CT_NEW), as if clients had reached every service: original
 * destination the ClusterIP, reply source one of its endpoints.  Then K
 * times, one endpoint of one service is replaced and synced with cleanup,
 * then K times without (K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP, the peer
 * measured in the same run; not alternated, because the flag drops the
 * proxy's index of entries), and the medians and their ratio are printed,
 * with the entries each cleanup deleted.  One sync before the timed ones
 * reads the events of the entries made (the index is built at the first
 * sync with UDP services, and rebuilt once when that many events overflow
 * its socket).  A full sync with the entries present is
 * timed too.  Use a throwaway namespace: its conntrack table is filled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <syslog.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <k8snet/k8snet.h>

#define SVC_BASE 0x0a600000u   /* 10.96.0.0 */
#define POD_BASE 0x0a800000u   /* 10.128.0.0 */
#define CLIENT_BASE 0x0a810000u /* 10.129.0.0 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(struct k8snet_ctx *ctx, const char *what)
{
	fprintf(stderr, "bench-nat-conntrack: %s: %s\n", what,
		ctx ? k8snet_ctx_get_error(ctx) : strerror(errno));
	exit(1);
}

static void ip_str(uint32_t a, char *buf, size_t len)
{
	struct in_addr in = { htonl(a) };

	inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

/* Endpoint j of service s; replaced endpoints get fresh addresses. */
static uint32_t ep_addr(unsigned s, unsigned e, unsigned j, unsigned generation)
{
	return POD_BASE + 1 + s * e + j + (j == 0 ? generation * 0x100000u : 0);
}

static void add_service(struct k8snet_ctx *ctx, struct k8snet_proxy *p, unsigned s, unsigned e,
			unsigned generation)
{
	struct k8snet_service *svc;
	char name[32], ip[INET_ADDRSTRLEN];
	unsigned j;

	if (k8snet_service_new(&svc) < 0)
		die(NULL, "service");
	snprintf(name, sizeof(name), "svc-%u", s);
	k8snet_service_set_str(svc, K8SNET_SERVICE_NAMESPACE, "bench");
	k8snet_service_set_str(svc, K8SNET_SERVICE_NAME, name);
	ip_str(SVC_BASE + 1 + s, ip, sizeof(ip));
	k8snet_service_add_ip(svc, K8SNET_SERVICE_IP_CLUSTER, ip);
	k8snet_service_add_port(svc, "", 17, 53, 0);
	for (j = 0; j < e; j++) {
		ip_str(ep_addr(s, e, j, generation), ip, sizeof(ip));
		k8snet_service_add_endpoint(svc, ip, "", 5353, NULL, K8SNET_ENDPOINT_F_READY);
	}
	if (k8snet_proxy_add_service(p, svc) < 0)
		die(ctx, "add");
	k8snet_service_free(svc);
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, uint32_t src, uint32_t dst,
		      uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* count entries, client i to service i % n through endpoint i % e; made in
 * the namespace (the socket is opened there). */
static unsigned make_entries(const char *netns, unsigned count, unsigned n, unsigned e)
{
	static char buf[256 * 256];
	int self = open("/proc/self/ns/net", O_RDONLY), fd = open(netns, O_RDONLY);
	struct mnl_socket *nl;
	unsigned i = 0, made = 0, k;
	size_t off;

	if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die(NULL, "setns");
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die(NULL, "ctnetlink");
	setns(self, CLONE_NEWNET);
	while (i < count) {
		for (k = 0, off = 0; k < 256 && i < count; k++, i++) {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);
			struct nfgenmsg *nfg;
			unsigned s = i % n, j = (i / n) % e;
			uint32_t client = CLIENT_BASE + 1 + i / 60000, svc = SVC_BASE + 1 + s;
			uint16_t sport = (uint16_t)(1024 + i % 60000);

			nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
			nlh->nlmsg_seq = i + 1;
			nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
			nfg->nfgen_family = AF_INET;
			nfg->version = NFNETLINK_V0;
			put_tuple(nlh, CTA_TUPLE_ORIG, client, svc, sport, 53);
			put_tuple(nlh, CTA_TUPLE_REPLY, ep_addr(s, e, j, 0), client, 5353, sport);
			mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(3600));
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		if (mnl_socket_sendto(nl, buf, off) < 0)
			die(NULL, "send");
		while (k-- > 0) {
			char rb[MNL_SOCKET_BUFFER_SIZE];
			ssize_t len = mnl_socket_recvfrom(nl, rb, sizeof(rb));

			if (len > 0 && mnl_cb_run(rb, (size_t)len, 0, 0, NULL, NULL) >= 0)
				made++;
		}
	}
	mnl_socket_close(nl);
	close(fd);
	close(self);
	return made;
}

static void log_stderr(void *userdata, int priority, const char *msg)
{
	(void)userdata;
	(void)priority;
	fprintf(stderr, "%.3f %s\n", now() * 1e3, msg);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "services", required_argument, NULL, 's' },
		{ "endpoints", required_argument, NULL, 'e' },
		{ "entries", required_argument, NULL, 'c' },
		{ "changes", required_argument, NULL, 'k' },
		{ 0 }
	};
	const char *netns = NULL;
	unsigned n = 10000, e = 5, entries = 100000, changes = 21, s, i, made, deleted = 0;
	double t, full, full2, *with, *without;
	struct k8snet_ctx *ctx;
	struct k8snet_proxy *p;
	size_t nw = 0, nwo = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': netns = optarg; break;
		case 's': n = (unsigned)atoi(optarg); break;
		case 'e': e = (unsigned)atoi(optarg); break;
		case 'c': entries = (unsigned)atoi(optarg); break;
		case 'k': changes = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (!netns || n < 1 || e < 1 || changes < 2)
		return 2;
	if (k8snet_ctx_new(&ctx) < 0 || k8snet_ctx_set_netns_path(ctx, netns) < 0 ||
	    k8snet_proxy_new(ctx, &p) < 0)
		die(ctx, "context");
	k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.128.0.0/9");
	if (getenv("BENCH_DEBUG")) {
		k8snet_ctx_set_log_priority(ctx, LOG_DEBUG);
		k8snet_ctx_set_log_fn(ctx, log_stderr, NULL);
	}
	for (s = 0; s < n; s++)
		add_service(ctx, p, s, e, 0);
	t = now();
	if (k8snet_proxy_sync(p) < 0)
		die(ctx, "full sync");
	full = now() - t;
	printf("full sync: %u UDP services x %u endpoints: %.3f s (no conntrack entries)\n", n, e, full);
	t = now();
	made = make_entries(netns, entries, n, e);
	printf("conntrack entries made: %u of %u in %.2f s\n", made, entries, now() - t);
	t = now();
	if (k8snet_proxy_sync_full(p) < 0)
		die(ctx, "full sync");
	full2 = now() - t;
	printf("full sync with the entries present: %.3f s (ratio to the first %.2f)\n", full2,
	       full2 / full);

	with = calloc(changes, sizeof(*with));
	without = calloc(changes, sizeof(*without));
	add_service(ctx, p, n - 1, e, 1);
	t = now();
	if (k8snet_proxy_sync(p) < 0)
		die(ctx, "warm-up sync");
	printf("first sync after the entries were made (reads their events): %.2f ms\n",
	       (now() - t) * 1e3);
	for (i = 0; i < 2 * changes; i++) {
		bool clean = i < changes;

		/* Service i spread over the table; its endpoint 0 replaced. */
		s = (i * 7919u) % (n - 1);
		add_service(ctx, p, s, e, i + 1);
		if (i == changes)
			k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP);
		t = now();
		if (k8snet_proxy_sync(p) < 0)
			die(ctx, "change sync");
		t = now() - t;
		if (clean) {
			with[nw++] = t;
			deleted += k8snet_proxy_get_u32(p, K8SNET_PROXY_CONNTRACK_DELETED);
		} else {
			without[nwo++] = t;
		}
	}
	qsort(with, nw, sizeof(*with), cmp_double);
	qsort(without, nwo, sizeof(*without), cmp_double);
	printf("one UDP endpoint replaced, %u entries present: sync with cleanup median %.2f ms "
	       "(min %.2f, max %.2f, %zu runs, %.1f entries deleted each); without cleanup "
	       "median %.2f ms; ratio %.2f\n", made, with[nw / 2] * 1e3, with[0] * 1e3,
	       with[nw - 1] * 1e3, nw, (double)deleted / (double)nw, without[nwo / 2] * 1e3,
	       with[nw / 2] / without[nwo / 2]);
	free(with);
	free(without);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return 0;
}
