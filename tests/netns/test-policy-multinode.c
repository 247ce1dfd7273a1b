/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Across nodes: two node namespaces, each with a bridge and two pods, routed
 * to each other (host-gw).  Each node syncs the same model for its own pods:
 * egress is judged on the source's node, ingress on the destination's.
 * Every pair must match the evaluator, and the policies make some pairs
 * allowed and some denied on each side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "harness.h"

#define NPODS 4
static const struct {
	const char *name, *labels, *ip, *node;
} pods[NPODS] = {
	{ "n1a", "app=client", "10.244.1.2", "node1" },
	{ "n1b", "app=other", "10.244.1.3", "node1" },
	{ "n2a", "app=server", "10.244.2.2", "node2" },
	{ "n2b", "app=db", "10.244.2.3", "node2" },
};

static const char *const policies =
	"{\"kind\":\"List\",\"items\":["
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"server-in\",\"namespace\":\"app\"},"
	" \"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"server\"}},\"ingress\":[{"
	"  \"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}],\"ports\":[{\"port\":80}]}]}},"
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"client-out\",\"namespace\":\"app\"},"
	" \"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
	"  \"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"server\"}}}]}]}},"
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"db-in\",\"namespace\":\"app\"},"
	" \"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"ingress\":[{"
	"  \"from\":[{\"ipBlock\":{\"cidr\":\"10.244.1.3/32\"}}]}]}}]}";

static int serve(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
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
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int err = 0, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(err);
	struct pollfd pfd;

	inet_pton(AF_INET, arg, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		return 0;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 700) != 1)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err;
}

static struct k8snet_policy_db *node_db(struct k8snet_ctx *ctx)
{
	struct k8snet_policy_db *db;
	int i;

	TNS_ASSERT(k8snet_policy_db_new(ctx, &db) == 0, "db");
	for (i = 0; i < NPODS; i++)
		TNS_ASSERT(k8snet_policy_db_set_pod(db, "app", pods[i].name, pods[i].labels, pods[i].ip,
						    pods[i].node, 0) == 0, "pod");
	TNS_ASSERT(k8snet_policy_db_load_json(db, policies, strlen(policies)) == 0, "%s",
		   k8snet_ctx_get_error(ctx));
	return db;
}

int main(void)
{
	const char *nodes[2], *pns[NPODS];
	struct k8snet_ctx *ctx[2];
	struct k8snet_policy_db *db[2];
	int i, j, cells = 0, bad = 0, allowed = 0;

	tns_require_root();
	for (i = 0; i < 2; i++) {
		nodes[i] = tns_add(i ? "pmn2" : "pmn1");
		tns_ok("ip -n %s link add br0 type bridge && ip -n %s link set br0 up && "
		       "ip -n %s addr add 10.244.%d.1/24 dev br0", nodes[i], nodes[i], nodes[i], i + 1);
		TNS_ASSERT(tns_exec(nodes[i], "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables && "
				    "echo 1 > /proc/sys/net/ipv4/ip_forward") == 0, "sysctl");
	}
	tns_ok("ip -n %s link add eth1 type veth peer name eth1 netns %s", nodes[0], nodes[1]);
	for (i = 0; i < 2; i++)
		tns_ok("ip -n %s addr add 192.168.0.%d/24 dev eth1 && ip -n %s link set eth1 up && "
		       "ip -n %s route add 10.244.%d.0/24 via 192.168.0.%d", nodes[i], i + 1, nodes[i],
		       nodes[i], 2 - i, 2 - i);
	for (i = 0; i < NPODS; i++) {
		int n = pods[i].node[4] - '1';

		pns[i] = tns_add(pods[i].name);
		tns_ok("ip -n %s link add v%d type veth peer name eth0 netns %s", nodes[n], i, pns[i]);
		tns_ok("ip -n %s link set v%d master br0 up", nodes[n], i);
		tns_ok("ip -n %s addr add %s/24 dev eth0 && ip -n %s link set eth0 up && "
		       "ip -n %s route add default via 10.244.%d.1", pns[i], pods[i].ip, pns[i], pns[i], n + 1);
		tns_fork_in(pns[i], serve, NULL);
	}
	for (i = 0; i < 2; i++) {
		TNS_ASSERT(k8snet_ctx_new(&ctx[i]) == 0 &&
			   k8snet_ctx_set_netns_path(ctx[i], tns_path(nodes[i])) == 0, "ctx");
		db[i] = node_db(ctx[i]);
		TNS_ASSERT(k8snet_policy_db_sync(db[i], i ? "node2" : "node1") == 0, "sync: %s",
			   k8snet_ctx_get_error(ctx[i]));
	}
	usleep(200000);
	for (i = 0; i < NPODS; i++) {
		for (j = 0; j < NPODS; j++) {
			char from[16], to[16];
			int got, want;

			if (i == j)
				continue;
			snprintf(from, sizeof(from), "app/%s", pods[i].name);
			snprintf(to, sizeof(to), "app/%s", pods[j].name);
			got = tns_wait(tns_fork_in(pns[i], probe, (void *)pods[j].ip));
			want = k8snet_policy_db_check(db[0], from, to, "TCP", 80, NULL);
			cells++;
			allowed += got;
			if (got != want) {
				bad++;
				fprintf(stderr, "MISMATCH %s -> %s: evaluator %d, kernel %d\n", from, to,
					want, got);
			}
		}
	}
	/* Decided on the other node: egress of n1a to n2b is denied on node1,
	 * ingress of n2a from n1b on node2; n1b reaches n2b by its ipBlock. */
	TNS_ASSERT(k8snet_policy_db_check(db[0], "app/n1a", "app/n2b", "TCP", 80, NULL) == 0, "egress");
	TNS_ASSERT(k8snet_policy_db_check(db[0], "app/n1b", "app/n2a", "TCP", 80, NULL) == 0, "ingress");
	TNS_ASSERT(k8snet_policy_db_check(db[0], "app/n1b", "app/n2b", "TCP", 80, NULL) == 1, "ipBlock");
	TNS_ASSERT(k8snet_policy_db_check(db[0], "app/n1a", "app/n2a", "TCP", 80, NULL) == 1, "allowed");
	fprintf(stderr, "multi-node: %d cells (%d allowed), %d mismatches\n", cells, allowed, bad);
	for (i = 0; i < 2; i++) {
		k8snet_policy_db_free(db[i]);
		k8snet_ctx_free(ctx[i]);
	}
	return bad ? 1 : 0;
}
