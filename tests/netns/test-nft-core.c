/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel path as a long-lived embedder uses it, against a real kernel:
 *  - tables deleted, maps flushed, elements added behind the back of a
 *    proxy and a policy database: whole again after one sync, even one
 *    with nothing to change;
 *  - a change the drift check cannot see (made on our own socket, its
 *    generation taken for ours) that makes the next delta fail: the sync
 *    fails naming the object, the one after recovers;
 *  - the receive buffer shrunk to the minimum: syncs still succeed, and a
 *    refused batch is still a failure;
 *  - signals arriving all through syncs: no false failures;
 *  - the batch builder: element lists cut under the attribute length,
 *    100,000 elements in one batch, names the kernel would refuse;
 *  - four processes publishing and withdrawing host ports at once, each
 *    read-then-commit losing races to the others: every call succeeds;
 *  - named counters: created with values, referenced by name and through
 *    an object map, read back, left alone by a second NEWOBJ, compared by
 *    the drift inventory; a proxy's counter deleted behind its back is back
 *    after one sync.
 * It links the library's internals to read the kernel (nft_dump_set) and
 * to make the unseen change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "core/internal.h"
#include "nft/internal.h"
#include "harness.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

static const char *ns;

static size_t count_elems(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *set)
{
	struct nft_dumped_set s = { 0 };
	size_t n;
	int r = nft_dump_set(ctx, nfproto, table, set, 0, &s);

	TNS_ASSERT(r >= 0 || r == -ENOENT, "dump %s %s: %d", table, set, r);
	n = r < 0 ? 0 : s.n;
	nft_dumped_set_clear(&s);
	return n;
}

/* ---------------- a world: services and pods ---------------- */

static struct k8snet_service *service(unsigned i)
{
	struct k8snet_service *s;
	char name[32], ip[32], ep[32];

	TNS_ASSERT(k8snet_service_new(&s) == 0, "service");
	snprintf(name, sizeof(name), "svc-%u", i);
	snprintf(ip, sizeof(ip), "10.96.%u.%u", i / 250, i % 250 + 1);
	snprintf(ep, sizeof(ep), "10.244.%u.%u", i / 250, i % 250 + 1);
	k8snet_service_set_str(s, K8SNET_SERVICE_NAME, name);
	k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, ip);
	k8snet_service_add_port(s, "", 6, 80, 0);
	k8snet_service_add_endpoint(s, ep, "", 8080, "n1", K8SNET_ENDPOINT_F_READY);
	return s;
}

static void add_services(struct k8snet_proxy *p, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to; i++) {
		struct k8snet_service *s = service(i);

		TNS_ASSERT(k8snet_proxy_add_service(p, s) == 0, "add service");
		k8snet_service_free(s);
	}
}

static const char policy_json[] =
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
	"\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
	"\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
	"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"role\":\"frontend\"}}}]}]}}";

static void pod_ip(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "10.245.%u.%u", i / 250, i % 250 + 1);
}

static void add_pods(struct k8snet_policy_db *db, unsigned from, unsigned to)
{
	char name[32], ip[32];
	unsigned i;

	for (i = from; i < to; i++) {
		snprintf(name, sizeof(name), "web-%u", i);
		pod_ip(i, ip, sizeof(ip));
		TNS_ASSERT(k8snet_policy_db_set_pod(db, "default", name, "app=web", ip, "n1", 0) == 0,
			   "pod %u", i);
	}
}

static int proxy_sync(struct k8snet_proxy *p)
{
	return k8snet_proxy_sync(p);
}

static void synced(struct k8snet_ctx *ctx, int r, const char *what)
{
	TNS_ASSERT(r >= 0, "%s: %d %s", what, r, k8snet_ctx_get_error(ctx));
}

/* ---------------- what a test injects ---------------- */

/* An element with a verdict of its own, sent on the context's own socket;
 * with unseen, its generation is taken as ours, so that no check can tell. */
static void inject(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *set,
		   const uint8_t *key, uint32_t klen, bool unseen)
{
	struct nft_elem e = { .key = key, .klen = klen, .verdict = NF_ACCEPT };
	struct nft_batch *b;
	uint32_t gen;

	TNS_ASSERT(nft_gen_get(ctx, &gen) == 0, "gen");
	TNS_ASSERT(nft_batch_new(ctx, &b) == 0, "batch");
	nft_batch_elems(b, NFT_MSG_NEWSETELEM, nfproto, table, set, 0, &e, 1);
	TNS_ASSERT(nft_batch_commit(b, gen) == 0, "inject: %s", k8snet_ctx_get_error(ctx));
	if (unseen)
		nft_gen_note_own(ctx, nft_batch_commit_gen(b));
	nft_batch_free(b);
}

/* ---------------- the tests ---------------- */

static void test_drift(struct k8snet_ctx *ctx, struct k8snet_proxy *p, struct k8snet_policy_db *db)
{
	size_t ips = count_elems(ctx, NFPROTO_IPV4, "k8snet", "service-ips");
	size_t eps = count_elems(ctx, NFPROTO_IPV4, "k8snet", "endpoints");
	size_t in4 = count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4");

	TNS_ASSERT(ips == 200 && eps == 200 && in4 == 100, "start: %zu %zu %zu", ips, eps, in4);

	/* Tables deleted: the next sync, with nothing to change, rebuilds them. */
	tns_ok("ip netns exec %s nft delete table ip k8snet", ns);
	tns_ok("ip netns exec %s nft delete table inet k8snet-policy", ns);
	synced(ctx, proxy_sync(p), "proxy sync after table deleted");
	synced(ctx, k8snet_policy_db_sync(db, "n1"), "policy sync after table deleted");
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8snet", "service-ips") == 200, "service-ips back");
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4") == 100, "ingress4 back");

	/* Maps flushed, with something to change at the same time. */
	tns_ok("ip netns exec %s nft flush map ip k8snet service-ips", ns);
	tns_ok("ip netns exec %s nft flush map inet k8snet-policy ingress4", ns);
	add_services(p, 200, 201);
	add_pods(db, 100, 101);
	synced(ctx, proxy_sync(p), "proxy sync after map flushed");
	synced(ctx, k8snet_policy_db_sync(db, "n1"), "policy sync after map flushed");
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8snet", "service-ips") == 201, "service-ips whole");
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4") == 101, "ingress4 whole");

	/* A chain flushed: the count of its rules gives it away. */
	tns_ok("ip netns exec %s nft flush chain ip k8snet services", ns);
	synced(ctx, proxy_sync(p), "proxy sync after chain flushed");
	TNS_ASSERT(tns_exec(ns, "nft list chain ip k8snet services | grep -q service-ips") == 0,
		   "services chain whole");
	printf("ok: tables deleted, maps and chains flushed behind our back: whole after one sync\n");
}

/* The scenario: an element inserted from outside that collides with
 * a pod about to be added, then 300 pods (several messages). */
static void test_foreign_collision(struct k8snet_ctx *ctx, struct k8snet_policy_db *db)
{
	struct in_addr a;
	char ip[32];

	pod_ip(150, ip, sizeof(ip));
	tns_ok("ip netns exec %s nft add element inet k8snet-policy ingress4 '{ %s : accept }'", ns, ip);
	add_pods(db, 101, 401);
	synced(ctx, k8snet_policy_db_sync(db, "n1"), "policy sync after a foreign element");
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4") == 401,
		   "all 401 pods enforced: %zu", count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4"));
	TNS_ASSERT(inet_pton(AF_INET, ip, &a) == 1, "ip");
	printf("ok: a foreign element colliding with 300 new pods: replaced, 401 of 401 enforced\n");
}

/* A change no check can see: the delta fails, names the object; the next
 * sync recovers. */
static void test_unseen_collision(struct k8snet_ctx *ctx, struct k8snet_proxy *p,
				  struct k8snet_policy_db *db)
{
	uint8_t key[16] = { 0 };
	struct in_addr a;
	char ip[32];
	int r;

	pod_ip(450, ip, sizeof(ip));
	TNS_ASSERT(inet_pton(AF_INET, ip, &a) == 1, "ip");
	memcpy(key, &a, 4);
	inject(ctx, NFPROTO_INET, "k8snet-policy", "ingress4", key, 4, true);
	add_pods(db, 401, 701);
	r = k8snet_policy_db_sync(db, "n1");
	TNS_ASSERT(r == -EEXIST, "the delta fails: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(strstr(k8snet_ctx_get_error(ctx), "pod default/web-450 (10.245.1.201)"),
		   "names the pod: %s", k8snet_ctx_get_error(ctx));
	printf("ok: policy error: %s\n", k8snet_ctx_get_error(ctx));
	synced(ctx, k8snet_policy_db_sync(db, "n1"), "policy sync after a failure");
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-policy", "ingress4") == 701, "701 enforced");

	/* The same for a Service: a new ClusterIP already in service-ips.  An
	 * idle sync first: the proxy has seen the foreign commits above and
	 * reads its tables back once, which would find the injection too. */
	synced(ctx, proxy_sync(p), "idle proxy sync");
	memset(key, 0, sizeof(key));
	inet_pton(AF_INET, "10.96.1.2", key);    /* svc-251 */
	key[4] = 6;
	key[8] = 0;
	key[9] = 80;
	inject(ctx, NFPROTO_IPV4, "k8snet", "service-ips", key, 12, true);
	add_services(p, 201, 260);
	r = proxy_sync(p);
	TNS_ASSERT(r == -EEXIST, "the NAT delta fails: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(strstr(k8snet_ctx_get_error(ctx), "service default/svc-251"), "names the service: %s",
		   k8snet_ctx_get_error(ctx));
	printf("ok: nat error: %s\n", k8snet_ctx_get_error(ctx));
	synced(ctx, proxy_sync(p), "proxy sync after a failure");
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8snet", "service-ips") == 260, "260 services");
}

/* The smallest receive buffer the kernel allows: one answer fits.  Only
 * the last message asks for an acknowledgement then; errors still come. */
static void test_small_rcvbuf(struct k8snet_ctx *ctx, struct k8snet_proxy *p,
			      struct k8snet_policy_db *db)
{
	uint8_t key[16] = { 0 };
	int r;

	ctx->nfnl_rcvbuf_cap = 1;
	synced(ctx, k8snet_proxy_sync_full(p), "full sync with a tiny buffer");
	add_services(p, 260, 300);
	synced(ctx, proxy_sync(p), "delta with a tiny buffer");
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8snet", "service-ips") == 300, "300 services");
	inet_pton(AF_INET, "10.96.1.52", key);   /* svc-301 */
	key[4] = 6;
	key[9] = 80;
	inject(ctx, NFPROTO_IPV4, "k8snet", "service-ips", key, 12, true);
	add_services(p, 300, 310);
	r = proxy_sync(p);
	TNS_ASSERT(r < 0, "a refused batch is a failure with a tiny buffer too: %d", r);
	synced(ctx, proxy_sync(p), "recovery with a tiny buffer");
	synced(ctx, k8snet_policy_db_sync_full(db, "n1"), "policy with a tiny buffer");
	ctx->nfnl_rcvbuf_cap = 0;
	printf("ok: minimal receive buffer: syncs succeed, a refusal is seen (%d)\n", r);
}

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

static void test_signals(struct k8snet_ctx *ctx, struct k8snet_proxy *p, struct k8snet_policy_db *db)
{
	struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART */
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	unsigned i;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < 100; i++) {
		add_services(p, 310 + i % 5, 311 + i % 5);
		synced(ctx, i % 10 ? proxy_sync(p) : k8snet_proxy_sync_full(p), "sync under signals");
		add_pods(db, 701 + i, 702 + i);
		synced(ctx, k8snet_policy_db_sync(db, "n1"), "policy sync under signals");
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	TNS_ASSERT(ticks > 100, "signals arrived: %d", (int)ticks);
	printf("ok: 200 syncs with %d signals arriving: no false failure\n", (int)ticks);
}

/* The builder alone: 100,000 elements in one batch, cut into messages
 * under the attribute length; a name too long for the kernel. */
static void test_builder(struct k8snet_ctx *ctx)
{
	struct nft_batch *b;
	uint8_t (*keys)[4] = calloc(100000, 4);
	struct nft_elem *e = calloc(100000, sizeof(*e));
	char name[300];
	size_t i, m;

	TNS_ASSERT(keys && e && nft_batch_new(ctx, &b) == 0, "alloc");
	for (i = 0; i < 100000; i++) {
		keys[i][0] = 10;
		keys[i][1] = (uint8_t)(i >> 16);
		keys[i][2] = (uint8_t)(i >> 8);
		keys[i][3] = (uint8_t)i;
		e[i] = (struct nft_elem){ .key = keys[i], .klen = 4, .comment = "an owner" };
	}
	nft_batch_table(b, NFT_MSG_NEWTABLE, NFPROTO_IPV4, "k8st-big", 0);
	nft_batch_set(b, NFT_MSG_NEWSET, NFPROTO_IPV4, "k8st-big",
		      &(struct nft_set_def){ .name = "s", .key_type = NFT_TYPE_IPADDR, .key_len = 4 });
	nft_batch_elems(b, NFT_MSG_NEWSETELEM, NFPROTO_IPV4, "k8st-big", "s", 0, e, 100000);
	TNS_ASSERT(nft_batch_error(b) == 0, "built");
	nft_batch_flush_pending(b);
	for (i = 0; i < b->nmsgs; i++) {
		const struct nlmsghdr *nlh = (const void *)(b->pages[b->msgs[i].page].buf + b->msgs[i].off);

		TNS_ASSERT(nlh->nlmsg_len < 65535, "message %zu of %u bytes", i, nlh->nlmsg_len);
	}
	m = b->nmsgs;
	TNS_ASSERT(nft_batch_commit(b, 0) == 0, "100,000 elements: %s", k8snet_ctx_get_error(ctx));
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8st-big", "s") == 100000, "all in the kernel");
	nft_batch_free(b);
	tns_ok("ip netns exec %s nft delete table ip k8st-big", ns);

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	TNS_ASSERT(nft_batch_new(ctx, &b) == 0, "batch");
	nft_batch_chain(b, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, "t", name, NULL);
	TNS_ASSERT(nft_batch_error(b) == -ENAMETOOLONG, "a 299-byte name refused");
	TNS_ASSERT(nft_batch_commit(b, 0) == -ENAMETOOLONG, "and not sent");
	nft_batch_free(b);
	free(keys);
	free(e);
	printf("ok: 100,000 elements in %zu messages, each under 64 KiB; long names refused\n", m);
}

static int note_counter(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	char *out = data;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "%s=%llu/%llu ", name, (unsigned long long)packets,
		 (unsigned long long)bytes);
	return 0;
}

/* The same messages build the table and the expectation. */
static void counter_table(struct nft_batch *b)
{
	static const uint8_t key[4] = { 10, 0, 0, 1 };
	struct nft_elem e = { .key = key, .klen = 4, .objref = "a" };
	struct nft_rule *r;

	nft_batch_table(b, NFT_MSG_NEWTABLE, NFPROTO_IPV4, "k8st-obj", 0);
	nft_batch_counter(b, NFT_MSG_NEWOBJ, NFPROTO_IPV4, "k8st-obj",
			  &(struct nft_counter_def){ "a", 5, 300 });
	nft_batch_counter(b, NFT_MSG_NEWOBJ, NFPROTO_IPV4, "k8st-obj",
			  &(struct nft_counter_def){ "b", 0, 0 });
	nft_batch_set(b, NFT_MSG_NEWSET, NFPROTO_IPV4, "k8st-obj",
		      &(struct nft_set_def){ .name = "m", .key_type = NFT_TYPE_IPADDR, .key_len = 4,
					     .obj_type = NFT_OBJECT_COUNTER });
	nft_batch_elems(b, NFT_MSG_NEWSETELEM, NFPROTO_IPV4, "k8st-obj", "m", 0, &e, 1);
	nft_batch_chain(b, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, "k8st-obj", "c", NULL);
	r = nft_rule_new(NFPROTO_IPV4, "k8st-obj", "c");
	nft_e_objref(r, NFT_OBJECT_COUNTER, "b");
	nft_batch_rule(b, r);
	r = nft_rule_new(NFPROTO_IPV4, "k8st-obj", "c");
	nft_e_addr(r, NFPROTO_IPV4, false, NFT_REG_1);
	nft_e_objref_map(r, NFT_REG_1, "m", 0);
	nft_batch_rule(b, r);
}

static void test_counters(struct k8snet_ctx *ctx)
{
	struct nft_inv want = { 0 };
	struct nft_table_ref ref = { NFPROTO_IPV4, "k8st-obj", &want };
	struct k8snet_proxy *p;
	struct nft_batch *b;
	char seen[256] = "";
	uint32_t gen;
	int r;

	TNS_ASSERT(nft_batch_new(ctx, &b) == 0, "batch");
	counter_table(b);
	TNS_ASSERT(nft_batch_commit(b, 0) == 0, "counters: %s", k8snet_ctx_get_error(ctx));
	nft_batch_free(b);
	TNS_ASSERT(tns_exec(ns, "nft list chain ip k8st-obj c | grep -q 'counter name \"b\"'") == 0 &&
		   tns_exec(ns, "nft list chain ip k8st-obj c | grep -q 'counter name ip daddr map @m'") == 0,
		   "rules name their counters");
	r = nft_dump_counters(ctx, NFPROTO_IPV4, "k8st-obj", NULL, note_counter, seen);
	TNS_ASSERT(r == 0 && strcmp(seen, "a=5/300 b=0/0 ") == 0, "dump: %d %s", r, seen);
	seen[0] = '\0';
	r = nft_dump_counters(ctx, NFPROTO_IPV4, "k8st-obj", "a", note_counter, seen);
	TNS_ASSERT(r == 0 && strcmp(seen, "a=5/300 ") == 0, "get a: %d %s", r, seen);
	TNS_ASSERT(nft_dump_counters(ctx, NFPROTO_IPV4, "k8st-obj", "zz", note_counter, seen) ==
		   -ENOENT, "no counter zz");

	/* A NEWOBJ of a counter that exists leaves its value alone. */
	TNS_ASSERT(nft_batch_new(ctx, &b) == 0, "batch");
	nft_batch_counter(b, NFT_MSG_NEWOBJ, NFPROTO_IPV4, "k8st-obj",
			  &(struct nft_counter_def){ "a", 0, 0 });
	TNS_ASSERT(nft_batch_commit(b, 0) == 0, "again: %s", k8snet_ctx_get_error(ctx));
	nft_batch_free(b);
	seen[0] = '\0';
	nft_dump_counters(ctx, NFPROTO_IPV4, "k8st-obj", "a", note_counter, seen);
	TNS_ASSERT(strcmp(seen, "a=5/300 ") == 0, "a again: %s", seen);

	/* The inventory sees the objects: equal, then one more behind our back. */
	TNS_ASSERT(nft_batch_new_expect(ctx, &ref, 1, &b) == 0, "expect");
	counter_table(b);
	nft_batch_free(b);
	TNS_ASSERT(nft_gen_get(ctx, &gen) == 0, "gen");
	TNS_ASSERT(nft_inv_verify(ctx, &ref, 1, gen) == 1, "inventory equal");
	tns_ok("ip netns exec %s nft add counter ip k8st-obj extra", ns);
	TNS_ASSERT(nft_gen_get(ctx, &gen) == 0, "gen");
	TNS_ASSERT(nft_inv_verify(ctx, &ref, 1, gen) == 0, "an extra counter is drift");
	TNS_ASSERT(nft_batch_new(ctx, &b) == 0, "batch");
	nft_batch_counter(b, NFT_MSG_DELOBJ, NFPROTO_IPV4, "k8st-obj",
			  &(struct nft_counter_def){ "extra", 0, 0 });
	TNS_ASSERT(nft_batch_commit(b, 0) == 0, "delete: %s", k8snet_ctx_get_error(ctx));
	nft_batch_free(b);
	TNS_ASSERT(nft_gen_get(ctx, &gen) == 0, "gen");
	TNS_ASSERT(nft_inv_verify(ctx, &ref, 1, gen) == 1, "equal again");
	nft_inv_clear(&want);
	tns_ok("ip netns exec %s nft delete table ip k8st-obj", ns);

	/* A proxy's counter (and its map element) deleted behind its back. */
	TNS_ASSERT(k8snet_proxy_new(ctx, &p) == 0, "proxy");
	k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, "k8st-cnt");
	k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_COUNT);
	add_services(p, 0, 3);
	synced(ctx, proxy_sync(p), "counting proxy");
	tns_ok("ip netns exec %s nft delete element ip k8st-cnt service-counters "
	       "'{ 10.96.0.1 . tcp . 80 }'", ns);
	tns_ok("ip netns exec %s nft delete counter ip k8st-cnt svc/default/svc-0/tcp/80", ns);
	synced(ctx, proxy_sync(p), "counting proxy after drift");
	TNS_ASSERT(tns_exec(ns, "nft list counter ip k8st-cnt svc/default/svc-0/tcp/80 >/dev/null") == 0,
		   "the counter is back");
	TNS_ASSERT(count_elems(ctx, NFPROTO_IPV4, "k8st-cnt", "service-counters") == 3,
		   "its element too");
	k8snet_proxy_free(p);
	tns_ok("ip netns exec %s nft delete table ip k8st-cnt", ns);
	tns_ok("ip netns exec %s nft delete table ip6 k8st-cnt", ns);
	printf("ok: named counters made with values, read, kept, compared; drift repaired\n");
}

/* Host ports by the tens of thousands: 100,000 refused before anything is
 * sent, 60,000 (what once overflowed the CNI plugin's buffer) published and
 * withdrawn whole. */
static void test_many_hostports(struct k8snet_ctx *ctx)
{
	struct k8snet_hostports *hp;
	struct k8snet_portmap *pm;
	unsigned i;
	int r = 0;

	TNS_ASSERT(k8snet_hostports_new(ctx, &hp) == 0 && k8snet_portmap_new(&pm) == 0, "new");
	for (i = 0; i < 100000 && r == 0; i++)
		r = k8snet_portmap_add(pm, i & 1 ? 6 : 17, NULL, i / 2 % 60000 + 1, "10.88.0.5", 80);
	TNS_ASSERT(r == -E2BIG && i == K8SNET_HOSTPORTS_MAX_MAPPINGS + 1, "refused at %u: %d", i, r);
	k8snet_portmap_free(pm);
	TNS_ASSERT(k8snet_portmap_new(&pm) == 0, "new");
	for (i = 0; i < 60000; i++)
		TNS_ASSERT(k8snet_portmap_add(pm, i & 1 ? 6 : 17, NULL, i / 2 + 1, "10.88.0.5", 80) == 0,
			   "add");
	r = k8snet_hostports_set(hp, "net/many/eth0", pm);
	TNS_ASSERT(r == 60000, "60,000 published: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-hostports", "hp4-any") == 60000, "in the map");
	TNS_ASSERT(k8snet_hostports_check(hp, "net/many/eth0", pm) == 0, "check: %s",
		   k8snet_ctx_get_error(ctx));
	TNS_ASSERT(k8snet_hostports_remove(hp, "net/many/eth0") == 60000, "60,000 withdrawn");
	TNS_ASSERT(count_elems(ctx, NFPROTO_INET, "k8snet-hostports", "hp4-any") == 0, "none left");
	k8snet_portmap_free(pm);
	k8snet_hostports_free(hp);
	printf("ok: 100,000 host ports refused before sending; 60,000 published and withdrawn\n");
}

/* One writer: its own context in the namespace, its own owner and ports. */
static int hostport_writer(unsigned id, unsigned rounds)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_portmap *pm = NULL;
	struct k8snet_ctx *ctx = NULL;
	char owner[64];
	unsigned i;
	int r;

	snprintf(owner, sizeof(owner), "net/writer%u/eth0", id);
	r = k8snet_ctx_new(&ctx);
	if (r >= 0)
		r = k8snet_ctx_set_netns_path(ctx, tns_path(ns));
	if (r >= 0)
		r = k8snet_hostports_new(ctx, &hp);
	if (r >= 0)
		r = k8snet_portmap_new(&pm);
	for (i = 0; r >= 0 && i < 4; i++)
		r = k8snet_portmap_add(pm, 6, NULL, 20000 + id * 10 + i, "10.88.0.9", 80);
	for (i = 0; r >= 0 && i < rounds; i++) {
		r = k8snet_hostports_set(hp, owner, pm);
		if (r >= 0)
			r = k8snet_hostports_remove(hp, owner);
	}
	if (r < 0)
		fprintf(stderr, "writer %u, round %u: %s (%s)\n", id, i, strerror(-r),
			ctx ? k8snet_ctx_get_error(ctx) : "");
	k8snet_portmap_free(pm);
	k8snet_hostports_free(hp);
	k8snet_ctx_free(ctx);
	return r < 0 ? 1 : 0;
}

static void test_concurrent_writers(void)
{
	enum { WRITERS = 4, ROUNDS = 150 };
	pid_t pid[WRITERS];
	unsigned i, failed = 0;
	int status;

	fflush(NULL);
	for (i = 0; i < WRITERS; i++) {
		pid[i] = fork();
		TNS_ASSERT(pid[i] >= 0, "fork");
		if (pid[i] == 0)
			_exit(hostport_writer(i, ROUNDS));
	}
	for (i = 0; i < WRITERS; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	TNS_ASSERT(failed == 0, "%u of %d concurrent writers failed", failed, WRITERS);
	printf("ok: %d processes x %d publish+withdraw rounds at once, none failed\n", WRITERS,
	       ROUNDS);
}

int main(void)
{
	struct k8snet_policy_db *db;
	struct k8snet_proxy *p;
	struct k8snet_ctx *ctx;

	tns_require_root();
	ns = tns_add("nftcore");
	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	TNS_ASSERT(k8snet_ctx_set_netns_path(ctx, tns_path(ns)) == 0, "netns");
	TNS_ASSERT(k8snet_proxy_new(ctx, &p) == 0, "proxy");
	TNS_ASSERT(k8snet_policy_db_new(ctx, &db) == 0, "db");
	add_services(p, 0, 200);
	TNS_ASSERT(k8snet_policy_db_load_json(db, policy_json, sizeof(policy_json) - 1) >= 0,
		   "policy: %s", k8snet_ctx_get_error(ctx));
	add_pods(db, 0, 100);
	synced(ctx, proxy_sync(p), "first proxy sync");
	synced(ctx, k8snet_policy_db_sync(db, "n1"), "first policy sync");

	test_drift(ctx, p, db);
	test_foreign_collision(ctx, db);
	test_unseen_collision(ctx, p, db);
	test_small_rcvbuf(ctx, p, db);
	test_signals(ctx, p, db);
	test_builder(ctx);
	test_counters(ctx);
	test_many_hostports(ctx);
	test_concurrent_writers();

	k8snet_policy_db_free(db);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	printf("PASS: the kernel path\n");
	return 0;
}
