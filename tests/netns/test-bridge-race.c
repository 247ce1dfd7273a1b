/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet_link_bridge_ensure() racing itself, as parallel CNI ADDs on a fresh
 * node do: in each of 30 rounds, 8 processes open their context in a fresh
 * namespace, wait at a barrier, then ask for the same bridge at the same
 * instant.  Every call must succeed, whoever creates the bridge, and leave
 * one bridge, up, with its gateway address once.  Before the fix the losers
 * failed with "cannot create: Object exists".  A link of another kind under
 * the name is still refused. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <k8snet/k8snet.h>
#include "harness.h"

#define PROCS 8
#define ROUNDS 30

static const char *const gw[] = { "10.77.0.1/24" };

/* One racer: connected before the barrier, so only the call itself races. */
static int racer(const char *netns, int barrier)
{
	struct k8snet_ctx *ctx;
	char go;
	int r;

	if (k8snet_ctx_new(&ctx) < 0 || k8snet_ctx_set_netns_path(ctx, netns) < 0 ||
	    k8snet_ctx_connect(ctx) < 0)
		return 2;
	if (read(barrier, &go, 1) < 0)
		return 2;
	r = k8snet_link_bridge_ensure(ctx, "rbr0", 0, gw, 1);
	if (r < 0)
		fprintf(stderr, "racer %d: %s\n", (int)getpid(), k8snet_ctx_get_error(ctx));
	k8snet_ctx_free(ctx);
	return r < 0;
}

static int run_round(const char *ns)
{
	pid_t pids[PROCS];
	int go[2], i, failed = 0;

	TNS_ASSERT(pipe(go) == 0, "pipe");
	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		TNS_ASSERT(pids[i] >= 0, "fork");
		if (pids[i] == 0) {
			close(go[1]);
			_exit(racer(tns_path(ns), go[0]));
		}
	}
	close(go[0]);
	usleep(100 * 1000);    /* all connected and waiting */
	close(go[1]);          /* EOF: everyone goes at once */
	for (i = 0; i < PROCS; i++) {
		int st = tns_wait(pids[i]);

		TNS_ASSERT(st == 0 || st == 1, "racer could not start (status %d)", st);
		failed += st;
	}
	return failed;
}

int main(void)
{
	struct k8snet_ctx *ctx;
	const char *ns;
	int round, failed = 0, r;

	tns_require_root();
	ns = tns_add("brrace");
	for (round = 0; round < ROUNDS; round++) {
		failed += run_round(ns);
		TNS_ASSERT(tns_sh("ip -n %s -d link show rbr0 | grep -q bridge", ns) == 0,
			   "round %d: no bridge", round);
		TNS_ASSERT(tns_sh("ip -n %s link show rbr0 | grep -q ',UP'", ns) == 0,
			   "round %d: bridge not up", round);
		TNS_ASSERT(tns_sh("test \"$(ip -n %s -o addr show dev rbr0 | grep -c 'inet 10.77.0.1/24')\" = 1",
				  ns) == 0, "round %d: gateway address missing or doubled", round);
		tns_ok("ip -n %s link del rbr0", ns);
	}
	TNS_ASSERT(failed == 0, "%d of %d concurrent bridge ensure calls failed", failed,
		   PROCS * ROUNDS);

	/* Not a bridge under that name: refused, and left alone. */
	tns_ok("ip -n %s link add rbr0 type veth peer name rbr0p", ns);
	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0 && k8snet_ctx_set_netns_path(ctx, tns_path(ns)) == 0,
		   "ctx");
	r = k8snet_link_bridge_ensure(ctx, "rbr0", 0, gw, 1);
	TNS_ASSERT(r == -EEXIST && strstr(k8snet_ctx_get_error(ctx), "kind veth"),
		   "a veth named rbr0: %d %s", r, k8snet_ctx_get_error(ctx));
	TNS_ASSERT(tns_sh("ip -n %s -d link show rbr0 | grep -q veth", ns) == 0, "the veth changed");
	k8snet_ctx_free(ctx);
	printf("PASS: %d concurrent bridge ensure calls all succeeded; a non-bridge is refused\n",
	       PROCS * ROUNDS);
	return 0;
}
