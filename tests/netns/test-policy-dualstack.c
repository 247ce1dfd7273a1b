/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dual-stack enforcement with real connections: three pods a, b, c with an
 * IPv4 and an IPv6 address on one node bridge (br_netfilter for both
 * families).  a admits only b, on its named port "http"; c may only reach
 * fd00:1::/64 except a's address.  Every probe must match the evaluator.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "harness.h"

static const char *const names[3] = { "a", "b", "c" };
static const char *const v4[3] = { "10.1.0.2", "10.1.0.3", "10.1.0.4" };
static const char *const v6[3] = { "fd00:1::2", "fd00:1::3", "fd00:1::4" };

static int serve(void *arg)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(8080),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM, 0);

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* one dual-stack socket: IPv4 arrives as ::ffff:a.b.c.d */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		return 1;
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

static int probe(void *arg)
{
	const char *ip = arg;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	bool is6 = strchr(ip, ':') != NULL;
	int err = 0, fd = socket(is6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(err);
	struct pollfd pfd;

	if (is6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(8080);
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(8080);
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	if (connect(fd, (struct sockaddr *)&ss, is6 ? sizeof(*s6) : sizeof(*s4)) < 0 &&
	    errno != EINPROGRESS)
		return 0;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 700) != 1)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err;
}

static const char *const objects =
	"{\"kind\":\"List\",\"items\":["
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"a-in\",\"namespace\":\"d\"},"
	" \"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":[{"
	"  \"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"b\"}}}],\"ports\":[{\"port\":\"http\"}]}]}},"
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"c-out\",\"namespace\":\"d\"},"
	" \"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}},\"policyTypes\":[\"Egress\"],"
	"  \"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"fd00:1::/64\",\"except\":[\"fd00:1::2/128\"]}}]}]}}]}";

int main(void)
{
	struct k8snet_ctx *ctx;
	struct k8snet_policy_db *db;
	const char *node, *pods[3];
	int i, j, fam, cells = 0, bad = 0;

	tns_require_root();
	node = tns_add("pds");
	tns_ok("ip -n %s link add br0 type bridge && ip -n %s link set br0 up", node, node);
	TNS_ASSERT(tns_exec(node, "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables && "
			    "echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables") == 0, "br_netfilter");
	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0 && k8snet_ctx_set_netns_path(ctx, tns_path(node)) == 0 &&
		   k8snet_policy_db_new(ctx, &db) == 0, "ctx");
	for (i = 0; i < 3; i++) {
		char labels[16], ips[64];

		pods[i] = tns_add(names[i]);
		tns_ok("ip -n %s link add v%d type veth peer name eth0 netns %s", node, i, pods[i]);
		tns_ok("ip -n %s link set v%d master br0 up", node, i);
		tns_ok("ip -n %s addr add %s/24 dev eth0 && ip -n %s addr add %s/64 dev eth0 nodad && "
		       "ip -n %s link set eth0 up", pods[i], v4[i], pods[i], v6[i], pods[i]);
		tns_fork_in(pods[i], serve, NULL);
		snprintf(labels, sizeof(labels), "app=%s", names[i]);
		snprintf(ips, sizeof(ips), "%s,%s", v4[i], v6[i]);
		TNS_ASSERT(k8snet_policy_db_set_pod(db, "d", names[i], labels, ips, "n1", 0) == 0, "pod");
		TNS_ASSERT(k8snet_policy_db_add_pod_port(db, "d", names[i], "http", "TCP", 8080) == 0, "port");
	}
	TNS_ASSERT(k8snet_policy_db_load_json(db, objects, strlen(objects)) == 0, "%s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_policy_db_sync(db, "n1") == 0, "sync: %s", k8snet_ctx_get_error(ctx));
	usleep(300000);
	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i < 3; i++) {
			for (j = 0; j < 3; j++) {
				const char *src = fam ? v6[i] : v4[i], *dst = fam ? v6[j] : v4[j];
				int got, want;

				if (i == j)
					continue;
				got = tns_wait(tns_fork_in(pods[i], probe, (void *)dst));
				want = k8snet_policy_db_check(db, src, dst, "TCP", 8080, NULL);
				cells++;
				if (got != want) {
					bad++;
					fprintf(stderr, "MISMATCH %s -> %s: evaluator %d, kernel %d\n", src,
						dst, want, got);
				}
			}
		}
	}
	/* the cases that make it a test: some allowed, some denied, per family */
	TNS_ASSERT(k8snet_policy_db_check(db, v6[1], v6[0], "TCP", 8080, NULL) == 1, "b -> a v6");
	TNS_ASSERT(k8snet_policy_db_check(db, v6[2], v6[1], "TCP", 8080, NULL) == 1, "c -> b v6");
	TNS_ASSERT(k8snet_policy_db_check(db, v4[2], v4[1], "TCP", 8080, NULL) == 0, "c -> b v4");
	TNS_ASSERT(k8snet_policy_db_check(db, v6[2], v6[0], "TCP", 8080, NULL) == 0, "c -> a v6");
	fprintf(stderr, "dual-stack: %d cells, %d mismatches\n", cells, bad);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return bad ? 1 : 0;
}
