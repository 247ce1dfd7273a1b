/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Incremental sync against a real kernel: what the kernel holds after each
 * step (read back with `nft list`), batch sizes proportional to the change,
 * start-up over a leftover table, two services claiming one address (the
 * older keeps it, the other is reported, everything else is programmed),
 * deletion leaving no trace, SCTP rules accepted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>
#include "harness.h"

static const char *ns;

/* `nft list ruleset` in the namespace, as a string. */
static char *listing(void)
{
	char cmd[256], *buf = NULL;
	size_t len = 0;
	FILE *f, *mem = open_memstream(&buf, &len);
	int c;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft list ruleset", ns);
	f = popen(cmd, "r");
	TNS_ASSERT(f && mem, "popen");
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	TNS_ASSERT(pclose(f) == 0, "nft list ruleset failed");
	fclose(mem);
	return buf;
}

static struct k8snet_service *service(const char *name, const char *ip, unsigned proto,
				      unsigned port, int neps, int first)
{
	struct k8snet_service *s;
	char addr[32];
	int i;

	TNS_ASSERT(k8snet_service_new(&s) == 0, "new");
	k8snet_service_set_str(s, K8SNET_SERVICE_NAME, name);
	k8snet_service_add_ip(s, K8SNET_SERVICE_IP_CLUSTER, ip);
	k8snet_service_add_port(s, "", proto, port, 0);
	for (i = 0; i < neps; i++) {
		snprintf(addr, sizeof(addr), "10.244.0.%d", first + i);
		k8snet_service_add_endpoint(s, addr, "", 8080, "n1", K8SNET_ENDPOINT_F_READY);
	}
	return s;
}

static void add(struct k8snet_proxy *p, struct k8snet_service *s)
{
	TNS_ASSERT(k8snet_proxy_add_service(p, s) == 0, "add");
	k8snet_service_free(s);
}

static int sync_ok(struct k8snet_ctx *ctx, struct k8snet_proxy *p)
{
	int r = k8snet_proxy_sync(p);

	TNS_ASSERT(r >= 0, "sync: %d %s", r, k8snet_ctx_get_error(ctx));
	return r;
}

int main(void)
{
	struct k8snet_service *s;
	struct k8snet_proxy *p;
	struct k8snet_ctx *ctx;
	char *l, *text;
	int r;

	tns_require_root();
	ns = tns_add("natsync");
	/* A leftover table of ours from an earlier run, and someone else's. */
	tns_ok("ip netns exec %s nft 'add table ip k8snet; add chain ip k8snet junk; "
	       "add table inet other; add chain inet other keep'", ns);

	TNS_ASSERT(k8snet_ctx_new(&ctx) == 0, "ctx");
	TNS_ASSERT(k8snet_ctx_set_netns_path(ctx, tns_path(ns)) == 0, "netns");
	TNS_ASSERT(k8snet_proxy_new(ctx, &p) == 0, "proxy");
	k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, "n1");
	k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, "10.244.0.0/16");
	add(p, service("a", "10.96.0.1", 6, 80, 3, 10));
	add(p, service("b", "10.96.0.2", 17, 53, 2, 20));
	add(p, service("c", "10.96.0.3", 132, 9000, 1, 30));   /* SCTP: rules only */
	add(p, service("d", "10.96.0.4", 6, 81, 0, 0));        /* no endpoints */
	sync_ok(ctx, p);

	l = listing();
	TNS_ASSERT(!strstr(l, "junk"), "leftover table replaced:\n%s", l);
	TNS_ASSERT(strstr(l, "table inet other") && strstr(l, "chain keep"), "other table kept");
	TNS_ASSERT(strstr(l, "10.96.0.1 . tcp . 80 : goto pick-3"), "a dispatched:\n%s", l);
	TNS_ASSERT(strstr(l, "10.96.0.2 . udp . 53 : goto pick-2"), "b dispatched");
	TNS_ASSERT(strstr(l, "10.96.0.3 . sctp . 9000 : goto pick-1"), "SCTP accepted");
	TNS_ASSERT(strstr(l, "10.96.0.4 . tcp . 81 : goto no-endpoints"), "d rejects");
	TNS_ASSERT(strstr(l, "10.96.0.1 . tcp . 80 . 0x00000002 : 10.244.0.12 . 8080"), "a's endpoints");
	free(l);

	/* Nothing changed: nothing sent. */
	TNS_ASSERT(sync_ok(ctx, p) == 0, "idle sync sends nothing");

	/* One endpoint of a changes: a handful of messages, whatever the size. */
	add(p, service("a", "10.96.0.1", 6, 80, 3, 11));
	r = sync_ok(ctx, p);
	TNS_ASSERT(r > 0 && r <= 6, "one change, %d messages", r);
	l = listing();
	TNS_ASSERT(strstr(l, ": 10.244.0.13 . 8080") && !strstr(l, ": 10.244.0.10 . 8080"),
		   "endpoint replaced:\n%s", l);
	free(l);

	/* Two services claim one address and port.  Without timestamps the
	 * name decides (e before f); with them, the older wins whatever its
	 * name.  Either way the other is programmed without the address and
	 * named, and the batch goes through. */
	s = service("e", "10.96.0.5", 6, 80, 1, 40);
	k8snet_service_add_ip(s, K8SNET_SERVICE_IP_EXTERNAL, "192.0.2.1");
	add(p, s);
	s = service("f", "10.96.0.6", 6, 80, 1, 41);
	k8snet_service_add_ip(s, K8SNET_SERVICE_IP_EXTERNAL, "192.0.2.1");
	add(p, s);
	sync_ok(ctx, p);
	l = listing();
	TNS_ASSERT(strstr(l, "192.0.2.1 . tcp . 80 : goto ext-default/e/tcp/80"), "e holds it:\n%s", l);
	TNS_ASSERT(strstr(l, "10.96.0.6 . tcp . 80 : goto pick-1"), "f programmed otherwise:\n%s", l);
	free(l);
	{
		const char *obj, *why;

		TNS_ASSERT(k8snet_proxy_get_skipped_count(p) == 1, "one skipped: %d",
			   k8snet_proxy_get_skipped_count(p));
		TNS_ASSERT(k8snet_proxy_get_skipped(p, 0, &obj, &why) == 0, "skipped 0");
		TNS_ASSERT(strcmp(obj, "service default/f") == 0 && strstr(why, "192.0.2.1") &&
			   strstr(why, "default/e"), "names f and why: %s: %s", obj, why);
		TNS_ASSERT(k8snet_proxy_get_skipped(p, 1, &obj, &why) == -ENOENT, "end of list");
	}
	/* f turns out older: it takes the address over in one sync. */
	s = service("f", "10.96.0.6", 6, 80, 1, 41);
	k8snet_service_add_ip(s, K8SNET_SERVICE_IP_EXTERNAL, "192.0.2.1");
	TNS_ASSERT(k8snet_service_set_str(s, K8SNET_SERVICE_CREATION_TIMESTAMP,
					  "2020-01-01T00:00:00Z") == 0, "timestamp");
	add(p, s);
	sync_ok(ctx, p);
	l = listing();
	TNS_ASSERT(strstr(l, "192.0.2.1 . tcp . 80 : goto ext-default/f/tcp/80"), "f holds it:\n%s", l);
	free(l);
	TNS_ASSERT(k8snet_proxy_get_skipped_count(p) == 1, "still one skipped");
	TNS_ASSERT(k8snet_proxy_remove_service(p, "default", "f") == 0, "remove f");
	sync_ok(ctx, p);
	l = listing();
	TNS_ASSERT(strstr(l, "192.0.2.1 . tcp . 80 : goto ext-default/e/tcp/80"), "e back");
	free(l);
	TNS_ASSERT(k8snet_proxy_get_skipped_count(p) == 0, "none skipped");

	/* Deleting leaves no trace, in the kernel or in render. */
	TNS_ASSERT(k8snet_proxy_remove_service(p, "default", "e") == 0, "remove e");
	TNS_ASSERT(k8snet_proxy_remove_service(p, "default", "b") == 0, "remove b");
	sync_ok(ctx, p);
	l = listing();
	TNS_ASSERT(!strstr(l, "/e/") && !strstr(l, "10.96.0.5") && !strstr(l, "192.0.2.1") &&
		   !strstr(l, "10.244.0.40") && !strstr(l, "10.96.0.2") && !strstr(l, "10.244.0.20") &&
		   !strstr(l, "pick-2"), "no trace left:\n%s", l);
	free(l);
	TNS_ASSERT(k8snet_proxy_render(p, &text) == 0, "render");
	TNS_ASSERT(!strstr(text, "10.96.0.5") && !strstr(text, "10.244.0.20") && !strstr(text, "pick-2"),
		   "no trace in render");
	k8snet_free(text);

	/* Settings changed: the next sync rebuilds the table at once. */
	TNS_ASSERT(k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_ROUND_ROBIN) == 0, "rr");
	sync_ok(ctx, p);
	l = listing();
	TNS_ASSERT(strstr(l, "numgen inc mod 3"), "round robin:\n%s", l);
	free(l);

	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	printf("PASS: incremental sync\n");
	return 0;
}
