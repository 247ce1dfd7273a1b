/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for IPAM: every rule of pools, prefix pools, the state file and
 * the host-local configuration.  State files live in a fresh temp directory. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam/ipam.h"

static struct k8snet_ctx *ctx;
static char dir[] = "/tmp/k8snet-ipam-test-XXXXXX";
static char state[128];

static void setup(void)
{
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/k8snet-ipam-test-XXXXXX")));
	snprintf(state, sizeof(state), "%s/pool.state", dir);
}

static void teardown(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	k8snet_ctx_free(ctx);
}

static struct k8snet_ipam_pool *pool_of(uint32_t flags, const char *subnet, const char *start,
					const char *end, const char *gw)
{
	struct k8snet_ipam_pool *pool;

	ck_assert_int_eq(k8snet_ipam_pool_new(ctx, flags, &pool), 0);
	if (subnet)
		ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, subnet, start, end, gw), 0);
	return pool;
}

/* Allocate for owner/eth0 and return the address in a static buffer. */
static const char *alloc(struct k8snet_ipam_pool *pool, const char *owner)
{
	static char buf[K8SNET_IPAM_CIDR_MAX];
	int r = k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf));

	ck_assert_msg(r >= 0, "alloc %s: %d %s", owner, r, k8snet_ctx_get_error(ctx));
	return buf;
}

static int try_alloc(struct k8snet_ipam_pool *pool, const char *owner, const char *want)
{
	char buf[K8SNET_IPAM_CIDR_MAX];

	return k8snet_ipam_pool_alloc(pool, owner, "eth0", want, buf, sizeof(buf));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = calloc(1, *len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

#define ERR_HAS(s) ck_assert_msg(strstr(k8snet_ctx_get_error(ctx), s), "error '%s' lacks '%s'", \
				 k8snet_ctx_get_error(ctx), s)

/* ---- addresses ---------------------------------------------------------------- */

START_TEST(test_cidr_parse)
{
	struct k8s_ip ip;
	unsigned len;
	char buf[K8S_IP_STRLEN];

	ck_assert_int_eq(k8s_cidr_parse("10.244.0.0/16", false, &ip, &len), 0);
	ck_assert_int_eq(len, 16);
	ck_assert(ip.v == 0x0af40000);
	ck_assert_int_eq(k8s_cidr_parse("fd00::/64", false, &ip, &len), 0);
	ck_assert_int_eq(ip.family, AF_INET6);
	ck_assert(ip.v >> 112 == 0xfd00);
	k8s_ip_format(&ip, buf);
	ck_assert_str_eq(buf, "fd00::");
	/* A network's host bits are cleared; an address keeps them. */
	ck_assert_int_eq(k8s_cidr_parse("10.244.1.0/16", true, &ip, &len), 0);
	ck_assert(ip.v == 0x0af40000);
	ck_assert_int_eq(k8s_cidr_parse("10.244.1.0/16", false, &ip, &len), 0);
	ck_assert(ip.v == 0x0af40100);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0.0/33", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0.0/", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0.0/08", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0.0/+8", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0/8", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("::/129", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_cidr_parse("::/0", false, &ip, &len), 0);
	ck_assert_int_eq(k8s_cidr_parse("10.0.0.0", false, &ip, &len), -EINVAL);
	ck_assert_int_eq(k8s_ip_parse("010.0.0.1", &ip), -EINVAL);
}
END_TEST

/* ---- address pools -------------------------------------------------------------- */

START_TEST(test_never_network_broadcast_gateway)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/29", NULL, NULL, "10.0.0.1");
	const char *want[] = { "10.0.0.2/29", "10.0.0.3/29", "10.0.0.4/29", "10.0.0.5/29",
			       "10.0.0.6/29" };
	char owner[16];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		ck_assert_str_eq(alloc(pool, owner), want[i]);
	}
	ck_assert_int_eq(try_alloc(pool, "c9", NULL), -ENOSPC);
	ERR_HAS("pool 10.0.0.0/29 is exhausted");
	ck_assert_int_eq(try_alloc(pool, "c9", "10.0.0.7"), -EINVAL);
	ERR_HAS("reserved");
	ck_assert_int_eq(try_alloc(pool, "c9", "10.0.0.0"), -EINVAL);
	ck_assert_int_eq(try_alloc(pool, "c9", "10.0.0.1"), -EINVAL);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_small_prefixes_and_ipv6)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/31", NULL, NULL, NULL);

	/* RFC 3021: both addresses of a /31 are usable. */
	ck_assert_str_eq(alloc(pool, "a"), "10.0.0.0/31");
	ck_assert_str_eq(alloc(pool, "b"), "10.0.0.1/31");
	k8snet_ipam_pool_free(pool);
	/* IPv6: the subnet-router anycast address is skipped; the last one is fine. */
	pool = pool_of(0, "fd00::/126", NULL, NULL, NULL);
	ck_assert_str_eq(alloc(pool, "a"), "fd00::1/126");
	ck_assert_str_eq(alloc(pool, "b"), "fd00::2/126");
	ck_assert_str_eq(alloc(pool, "c"), "fd00::3/126");
	ck_assert_int_eq(try_alloc(pool, "d", NULL), -ENOSPC);
	k8snet_ipam_pool_free(pool);
	/* The very top of the address space wraps without overflow. */
	pool = pool_of(0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124", NULL, NULL, NULL);
	ck_assert_int_eq(try_alloc(pool, "top", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0);
	ck_assert_str_eq(alloc(pool, "a"), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff1/124");
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_range_start_end)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.1.0.0/16", "10.1.2.250", "10.1.3.1", NULL);
	char owner[16];
	int i;

	ck_assert_str_eq(alloc(pool, "a"), "10.1.2.250/16");
	for (i = 0; i < 7; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(pool, owner);
	}
	ck_assert_int_eq(try_alloc(pool, "full", NULL), -ENOSPC);
	ck_assert_int_eq(try_alloc(pool, "out", "10.1.3.2"), -EINVAL);
	ERR_HAS("not in pool");
	k8snet_ipam_pool_free(pool);

	pool = pool_of(0, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.1.0.0/16", "10.2.0.1", NULL, NULL),
			 -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "rangeStart");
	ERR_HAS("outside the subnet");
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.1.0.0/16", "10.1.0.9", "10.1.0.8",
						    NULL), -EINVAL);
	ERR_HAS("after rangeEnd");
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.1.0.0/33", NULL, NULL, NULL), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "subnet");
	/* One rule for every layer (lib/core/addr.h): no leading zero. */
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.1.0.0/016", NULL, NULL, NULL), -EINVAL);
	ERR_HAS("not a CIDR");
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.1.0.0/16", NULL, NULL, "10.9.0.1"),
			 -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "gateway");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* The caller's buffer is taken at its word: a short one that fits works,
 * one that does not is -ENOBUFS before anything changes. */
START_TEST(test_small_buffers)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.16/28", NULL, NULL, "10.0.0.17");
	char small[16], tiny[8];

	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "eth0", NULL, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "10.0.0.18/28");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "b", "eth0", NULL, tiny, sizeof(tiny)), -ENOBUFS);
	ERR_HAS("needs a buffer of 13 bytes, not 8");
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 1);
	ck_assert_int_eq(k8snet_ipam_pool_lookup(pool, "a", "eth0", tiny, sizeof(tiny)), -ENOBUFS);
	ck_assert_int_eq(k8snet_ipam_pool_lookup(pool, "a", "eth0", small, sizeof(small)), 1);
	ck_assert_int_eq(k8snet_ipam_pool_get_gateway(pool, "10.0.0.18", tiny, sizeof(tiny)), -ENOBUFS);
	ck_assert_int_eq(k8snet_ipam_pool_get_gateway(pool, "10.0.0.18", small, 10), 1);
	ck_assert_str_eq(small, "10.0.0.17");
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_exclusions)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);

	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.1"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.2/31"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.8/29"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.12/30"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.0/028"), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "fd00::1"), -EINVAL);
	ck_assert_str_eq(alloc(pool, "a"), "10.0.0.4/24");
	ck_assert_str_eq(alloc(pool, "b"), "10.0.0.5/24");
	ck_assert_str_eq(alloc(pool, "c"), "10.0.0.6/24");
	ck_assert_str_eq(alloc(pool, "d"), "10.0.0.7/24");
	ck_assert_str_eq(alloc(pool, "e"), "10.0.0.16/24");
	ck_assert_int_eq(try_alloc(pool, "f", "10.0.0.9"), -EINVAL);
	/* Configuration is frozen once the pool is in use. */
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.0.0.100"), -EBUSY);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_several_ranges)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.1.0/30", NULL, NULL, NULL);

	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.0.0.0/30", NULL, NULL, NULL), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.0.0.0/29", NULL, NULL, NULL), -EINVAL);
	ERR_HAS("overlaps");
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "fd00::/64", NULL, NULL, NULL), -EINVAL);
	ERR_HAS("family");
	ck_assert_str_eq(alloc(pool, "a"), "10.0.0.1/30");
	ck_assert_str_eq(alloc(pool, "b"), "10.0.0.2/30");
	ck_assert_str_eq(alloc(pool, "c"), "10.0.1.1/30");
	ck_assert_str_eq(alloc(pool, "d"), "10.0.1.2/30");
	ck_assert_int_eq(try_alloc(pool, "e", NULL), -ENOSPC);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_keys_idempotent_and_specific)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, "10.0.0.1");
	char buf[K8SNET_IPAM_CIDR_MAX];

	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c1", "eth0", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.2/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c1", "eth0", NULL, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "10.0.0.2/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c1", "eth1", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.3/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c2", "eth0", "10.0.0.50", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.50/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c2", "eth0", "10.0.0.50", buf, sizeof(buf)), 1);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c2", "eth0", "10.0.0.51", buf, sizeof(buf)),
			 -EEXIST);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c3", "eth0", "10.0.0.50", buf, sizeof(buf)),
			 -EEXIST);
	ERR_HAS("already held by owner c2");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c3", "eth0", "10.0.1.5", buf, sizeof(buf)),
			 -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c3", "eth0", "fd00::5", buf, sizeof(buf)),
			 -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c3", "eth0", "bogus", buf, sizeof(buf)),
			 -EINVAL);
	/* A specific request does not move the cursor. */
	ck_assert_str_eq(alloc(pool, "c4"), "10.0.0.4/24");
	ck_assert_int_eq(k8snet_ipam_pool_lookup(pool, "c2", "eth0", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "10.0.0.50/24");
	ck_assert_int_eq(k8snet_ipam_pool_lookup(pool, "c9", "eth0", buf, sizeof(buf)), 0);
	/* Keys: no whitespace, no empty owner; buffers must be large enough. */
	ck_assert_int_eq(try_alloc(pool, "has space", NULL), -EINVAL);
	ck_assert_int_eq(try_alloc(pool, "", NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c5", "e\t0", NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c5", "eth0", NULL, buf, 8), -ENOBUFS);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 4);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_release_and_strategies)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);

	ck_assert_str_eq(alloc(pool, "a"), "10.0.0.1/24");
	ck_assert_str_eq(alloc(pool, "b"), "10.0.0.2/24");
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "a", "eth0"), 1);
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "a", "eth0"), 0);
	/* next-free: the released .1 is not reused at once. */
	ck_assert_str_eq(alloc(pool, "c"), "10.0.0.3/24");
	ck_assert_int_eq(k8snet_ipam_pool_release_addr(pool, "10.0.0.2"), 1);
	ck_assert_int_eq(k8snet_ipam_pool_release_addr(pool, "10.0.0.2"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_release_addr(pool, "nonsense"), -EINVAL);
	k8snet_ipam_pool_free(pool);

	pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_strategy(pool, K8SNET_IPAM_LOWEST_FREE), 0);
	ck_assert_int_eq(k8snet_ipam_pool_set_strategy(pool, 7), -EINVAL);
	ck_assert_str_eq(alloc(pool, "a"), "10.0.0.1/24");
	ck_assert_str_eq(alloc(pool, "b"), "10.0.0.2/24");
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "a", "eth0"), 1);
	ck_assert_str_eq(alloc(pool, "c"), "10.0.0.1/24");
	ck_assert_str_eq(alloc(pool, "d"), "10.0.0.3/24");
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_next_free_wraps)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/29", NULL, NULL, NULL);
	char owner[16];
	int i;

	for (i = 1; i <= 6; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(pool, owner);
	}
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "c3", "eth0"), 1);
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "c5", "eth0"), 1);
	ck_assert_str_eq(alloc(pool, "x"), "10.0.0.3/29");
	ck_assert_str_eq(alloc(pool, "y"), "10.0.0.5/29");
	ck_assert_int_eq(try_alloc(pool, "z", NULL), -ENOSPC);
	k8snet_ipam_pool_free(pool);
}
END_TEST

struct seen {
	char text[512];
	int n;
};

static int collect(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct seen *s = userdata;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s %s %s;", cidr, owner, ifname);
	return ++s->n == 100 ? -ECANCELED : 0;
}

START_TEST(test_foreach_and_gc)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	const char *owners[] = { "b", "zz" }, *ifnames[] = { "eth0", "eth0" };
	struct seen s = { "", 0 };

	ck_assert_int_eq(try_alloc(pool, "b", "10.0.0.9"), 0);
	alloc(pool, "a");
	alloc(pool, "c");
	ck_assert_int_eq(k8snet_ipam_pool_foreach(pool, collect, &s), 0);
	ck_assert_str_eq(s.text, "10.0.0.1/24 a eth0;10.0.0.2/24 c eth0;10.0.0.9/24 b eth0;");
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, owners, ifnames, 2), 2);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 1);
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, owners, ifnames, 2), 0);
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, NULL, NULL, 0), 1);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 0);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_huge_pools)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/8", NULL, NULL, NULL);
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(pool, owner);
	}
	ck_assert_str_eq(alloc(pool, "last"), "10.0.78.33/8");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "top", "eth0", "10.255.255.254", buf,
						sizeof(buf)), 0);
	k8snet_ipam_pool_free(pool);

	pool = pool_of(0, "fd00:1:2:3::/64", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "top", "eth0", "fd00:1:2:3:ffff:ffff:ffff:ffff",
						buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "fd00:1:2:3:ffff:ffff:ffff:ffff/64");
	for (i = 0; i < 1000; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(pool, owner);
	}
	ck_assert_str_eq(alloc(pool, "next"), "fd00:1:2:3::3e9/64");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* Memory follows the allocations, not the prefix: isolated addresses spread
 * over a /64 (the worst case, one run each) cost a bounded amount each. */
START_TEST(test_memory_follows_allocations)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "fd00:1:2:3::/64", NULL, NULL, NULL);
	char owner[32], want[64], buf[K8SNET_IPAM_CIDR_MAX];
	struct mallinfo2 before = mallinfo2(), after;
	unsigned long long x = 12345;
	int i;

	for (i = 0; i < 5000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(owner, sizeof(owner), "c%d", i);
		snprintf(want, sizeof(want), "fd00:1:2:3:%x:%x:%x:%x", (unsigned)(x >> 48) & 0xffff,
			 (unsigned)(x >> 32) & 0xffff, (unsigned)(x >> 16) & 0xffff,
			 ((unsigned)x & 0xfffe) | 1);
		ck_assert_int_ge(k8snet_ipam_pool_alloc(pool, owner, "eth0", want, buf, sizeof(buf)), 0);
	}
	after = mallinfo2();
	/* mallinfo2() says nothing under valgrind, whose malloc is its own. */
	if (before.uordblks || after.uordblks)
		ck_assert_msg(after.uordblks - before.uordblks < 5000 * 256,
			      "%zu bytes for 5000 allocations", after.uordblks - before.uordblks);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 5000);
	ck_assert_str_eq(alloc(pool, "next"), "fd00:1:2:3::1/64");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* ClusterIPs come from the same kind of pool: the first address goes to the
 * kubernetes Service, DNS asks for .10, the rest follow. */
START_TEST(test_cluster_ips)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.96.0.0/12", NULL, NULL, NULL);
	char buf[K8SNET_IPAM_CIDR_MAX];

	ck_assert_int_eq(k8snet_ipam_pool_set_name(pool, "services"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "default/kubernetes", "", NULL, buf,
						sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.96.0.1/12");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "kube-system/kube-dns", "", "10.96.0.10",
						buf, sizeof(buf)), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "default/web", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.96.0.2/12");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "default/db", "", "10.96.0.10", buf,
						sizeof(buf)), -EEXIST);
	ERR_HAS("kube-system/kube-dns");
	k8snet_ipam_pool_free(pool);
	pool = pool_of(0, "10.96.0.0/30", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_name(pool, "services"), 0);
	alloc(pool, "a");
	alloc(pool, "b");
	ck_assert_int_eq(try_alloc(pool, "c", NULL), -ENOSPC);
	ERR_HAS("pool services is exhausted");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* ---- prefix pools ------------------------------------------------------------------- */

START_TEST(test_prefix_pool)
{
	struct k8snet_ipam_pool *pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "10.244.0.0/16", NULL,
						NULL, NULL);
	char buf[K8SNET_IPAM_CIDR_MAX], node[32];
	int i;

	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-a", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.244.0.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-b", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.244.1.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-a", "", NULL, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "10.244.0.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-c", "", "10.244.7.0/24", buf,
						sizeof(buf)), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-d", "", "10.244.7.0/25", buf,
						sizeof(buf)), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "node-d", "", "10.244.7.5", buf,
						sizeof(buf)), -EINVAL);
	for (i = 0; i < 253; i++) {
		snprintf(node, sizeof(node), "n%d", i);
		ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, node, "", NULL, buf, sizeof(buf)), 0);
	}
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "late", "", NULL, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "node-b", ""), 1);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "late", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.244.1.0/24");
	k8snet_ipam_pool_free(pool);

	/* IPv6 default /64, a configured length, a too-small subnet. */
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "fd00:10:244::/48", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "fd00:10:244::/64");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "b", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "fd00:10:244:1::/64");
	k8snet_ipam_pool_free(pool);
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "10.244.0.0/16", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_block_len(pool, 26), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, "10.244.0.64/26"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.244.0.0/26");
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "b", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.244.0.128/26");
	k8snet_ipam_pool_free(pool);
	/* A state file written for other blocks is refused. */
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "10.244.0.0/16", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_block_len(pool, 26), 0);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, state), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "", NULL, buf, sizeof(buf)), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "b", "", NULL, buf, sizeof(buf)), 0);
	k8snet_ipam_pool_free(pool);
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "10.244.0.0/16", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, state), -EBADMSG);
	ERR_HAS("10.244.0.64 starts no block of this pool");
	k8snet_ipam_pool_free(pool);
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, "10.244.0.0/25", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "", NULL, buf, sizeof(buf)), -EINVAL);
	ERR_HAS("smaller than one /24");
	k8snet_ipam_pool_free(pool);
	pool = pool_of(K8SNET_IPAM_POOL_F_PREFIXES, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.0.0.0/16", NULL, NULL, "10.0.0.1"),
			 -EINVAL);
	k8snet_ipam_pool_free(pool);
	pool = pool_of(0, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_block_len(pool, 24), -EINVAL);
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* ---- the state file ------------------------------------------------------------------ */

static struct k8snet_ipam_pool *persistent(const char *subnet)
{
	struct k8snet_ipam_pool *pool = pool_of(0, subnet, NULL, NULL, NULL);
	int r = k8snet_ipam_pool_set_state_file(pool, state);

	ck_assert_msg(r == 0, "%s", k8snet_ctx_get_error(ctx));
	return pool;
}

START_TEST(test_state_shared_between_pools)
{
	struct k8snet_ipam_pool *a = persistent("10.0.0.0/24"), *b = persistent("10.0.0.0/24");
	char buf[K8SNET_IPAM_CIDR_MAX];

	ck_assert_int_eq(access(state, F_OK), -1);   /* created at the first change */
	ck_assert_str_eq(alloc(a, "x"), "10.0.0.1/24");
	ck_assert_str_eq(alloc(b, "y"), "10.0.0.2/24");   /* b saw x and a's cursor */
	ck_assert_str_eq(alloc(a, "z"), "10.0.0.3/24");
	ck_assert_int_eq(k8snet_ipam_pool_release(b, "x", "eth0"), 1);
	ck_assert_int_eq(k8snet_ipam_pool_lookup(a, "x", "eth0", buf, sizeof(buf)), 0);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(a), 2);
	k8snet_ipam_pool_free(a);
	k8snet_ipam_pool_free(b);
	a = persistent("10.0.0.0/24");
	ck_assert_str_eq(alloc(a, "w"), "10.0.0.4/24");   /* the cursor survived */
	k8snet_ipam_pool_free(a);
	/* A pool without ranges lists and releases. */
	a = pool_of(0, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(a, state), 0);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(a), 3);
	ck_assert_int_eq(k8snet_ipam_pool_release_addr(a, "10.0.0.4"), 1);
	ck_assert_int_eq(try_alloc(a, "q", NULL), -EINVAL);
	k8snet_ipam_pool_free(a);
}
END_TEST

START_TEST(test_state_compaction)
{
	struct k8snet_ipam_pool *a = persistent("10.0.0.0/16"), *b = persistent("10.0.0.0/16");
	char owner[32];
	struct stat st;
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(i % 2 ? a : b, owner);
		if (i >= 10) {
			snprintf(owner, sizeof(owner), "c%d", i - 10);
			ck_assert_int_eq(k8snet_ipam_pool_release(i % 2 ? b : a, owner, "eth0"), 1);
		}
	}
	ck_assert_int_eq(stat(state, &st), 0);
	ck_assert_int_lt(st.st_size, 40000);   /* 4,000 changes, compacted */
	ck_assert_int_eq(k8snet_ipam_pool_get_count(a), 10);
	k8snet_ipam_pool_free(a);
	a = persistent("10.0.0.0/16");
	ck_assert_int_eq(k8snet_ipam_pool_get_count(a), 10);
	ck_assert_str_eq(alloc(a, "after"), "10.0.7.209/16");
	k8snet_ipam_pool_free(a);
	k8snet_ipam_pool_free(b);
}
END_TEST

static void expect_refused(const char *content, const char *msg)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	size_t len;
	char *after;

	put(state, content);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, state), -EBADMSG);
	ERR_HAS(msg);
	after = slurp(state, &len);
	ck_assert_str_eq(after, content);
	free(after);
	k8snet_ipam_pool_free(pool);
}

START_TEST(test_state_corrupt_or_foreign)
{
	expect_refused("hello world\n", "not a libk8snet IPAM state file");
	expect_refused("", "not a libk8snet IPAM state file");
	expect_refused("k8snet-ipam\t9\n", "unsupported state file version");
	expect_refused("k8snet-ipam\t1\na\t10.0.0.1\tc1\teth0\t00000000\n", "line 2: bad checksum");
	expect_refused("k8snet-ipam\t1\na\t10.0.0.1\tc1\teth0\tf76c0270\n"
		       "a\t10.0.0.1\tc1\teth0\tf76c0270\n", "line 3: 10.0.0.1 or its key is held twice");
}
END_TEST

START_TEST(test_state_torn_tail)
{
	struct k8snet_ipam_pool *pool;
	size_t len;
	char *text;

	/* A record cut short by a kill: ignored, then cut off by the next writer. */
	put(state, "k8snet-ipam\t1\na\t10.0.0.1\tc1\teth0\tf76c0270\na\t10.0.0.2\tc2\tet");
	pool = persistent("10.0.0.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 1);
	ck_assert_str_eq(alloc(pool, "c3"), "10.0.0.2/24");
	k8snet_ipam_pool_free(pool);
	text = slurp(state, &len);
	ck_assert_ptr_null(strstr(text, "\tet\n"));
	ck_assert_ptr_null(strstr(text, "c2"));
	free(text);
}
END_TEST

/* Each bad input of the issue leaves the state file byte for byte unchanged. */
START_TEST(test_bad_input_leaves_state_unchanged)
{
	struct k8snet_ipam_pool *pool = persistent("10.0.0.0/30"), *other;
	char *before, *after, buf[K8SNET_IPAM_CIDR_MAX];
	size_t len1, len2;

	alloc(pool, "a");
	alloc(pool, "b");
	before = slurp(state, &len1);
	ck_assert_int_eq(try_alloc(pool, "c", NULL), -ENOSPC);                /* exhausted */
	ERR_HAS("pool 10.0.0.0/30 is exhausted");
	ck_assert_int_eq(try_alloc(pool, "c", "10.0.1.1"), -EINVAL);          /* outside */
	ck_assert_int_eq(try_alloc(pool, "c", "10.0.0.1"), -EEXIST);          /* taken */
	ck_assert_int_eq(try_alloc(pool, "c", "10.0.0.300"), -EINVAL);        /* malformed */
	ck_assert_int_eq(k8snet_ipam_pool_release(pool, "nobody", "eth0"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "a", "eth0", "10.0.0.2", buf, sizeof(buf)),
			 -EEXIST);
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, (const char *[]){ "bad key" },
					     (const char *[]){ "eth0" }, 1), -EINVAL);
	other = pool_of(0, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(other, "10.0.0.0/33", NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(other, "10.0.0.0/24", "10.0.1.1", NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(other, "10.0.0.0/24", "10.0.0.9", "10.0.0.8",
						    NULL), -EINVAL);
	k8snet_ipam_pool_free(other);
	after = slurp(state, &len2);
	ck_assert_uint_eq(len1, len2);
	ck_assert_int_eq(memcmp(before, after, len1), 0);
	free(before);
	free(after);
	k8snet_ipam_pool_free(pool);
}
END_TEST

START_TEST(test_state_gc_is_a_snapshot)
{
	struct k8snet_ipam_pool *pool = persistent("10.0.0.0/24");
	const char *owners[] = { "b" }, *ifnames[] = { "eth0" };
	size_t len;
	char *text;

	alloc(pool, "a");
	alloc(pool, "b");
	alloc(pool, "c");
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, owners, ifnames, 1), 2);
	/* One snapshot holding b alone, and no journal records after it. */
	text = slurp(state, &len);
	ck_assert_int_eq(memcmp(text, "k8snet-ipam\t2\n", 14), 0);
	ck_assert_ptr_nonnull(memmem(text, len, "beth0", 5));
	ck_assert_ptr_null(memmem(text, len, "aeth0", 5));
	ck_assert_ptr_null(memmem(text, len, "\td\t", 3));
	ck_assert_ptr_null(memmem(text, len, "\ta\t", 3));
	free(text);
	ck_assert_str_eq(alloc(pool, "d"), "10.0.0.4/24");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* ---- the snapshot, used in place -------------------------------------------------------- */

struct twin {
	uint32_t flags, strategy;
	const char *subnet, *start, *end, *gw, *exclude;
	unsigned block;
	int family;
	unsigned span;      /* addresses (or blocks) a random request picks from */
	unsigned shift;     /* host bits of a block */
};

static struct k8snet_ipam_pool *twin_pool(const struct twin *t, bool with_state)
{
	struct k8snet_ipam_pool *pool = pool_of(t->flags, t->subnet, t->start, t->end, t->gw);

	if (t->exclude)
		ck_assert_int_eq(k8snet_ipam_pool_add_exclusion(pool, t->exclude), 0);
	if (t->block)
		ck_assert_int_eq(k8snet_ipam_pool_set_block_len(pool, t->block), 0);
	ck_assert_int_eq(k8snet_ipam_pool_set_strategy(pool, t->strategy), 0);
	if (with_state)
		ck_assert_msg(k8snet_ipam_pool_set_state_file(pool, state) == 0, "%s",
			      k8snet_ctx_get_error(ctx));
	return pool;
}

/* A request for a random address of the twin's subnet (or nearby). */
static void random_want(const struct twin *t, char *buf, size_t size)
{
	struct k8s_ip ip;
	unsigned len;

	ck_assert_int_eq(k8s_cidr_parse(t->subnet, false, &ip, &len), 0);
	ip.v += (k8s_u128)((unsigned)rand() % t->span) << t->shift;
	k8s_ip_format(&ip, buf);
	if (t->block)
		snprintf(buf + strlen(buf), size - strlen(buf), "/%u", t->block);
}

struct listing {
	char text[1 << 16];
	size_t len;
};

static int list_into(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct listing *l = userdata;

	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %s %s\n",
				   cidr, owner, ifname);
	ck_assert_uint_lt(l->len, sizeof(l->text));
	return 0;
}

static void same_listing(struct k8snet_ipam_pool *a, struct k8snet_ipam_pool *b)
{
	static struct listing la, lb;

	la.len = lb.len = 0;
	ck_assert_int_eq(k8snet_ipam_pool_foreach(a, list_into, &la), 0);
	ck_assert_int_eq(k8snet_ipam_pool_foreach(b, list_into, &lb), 0);
	la.text[la.len] = lb.text[lb.len] = '\0';
	ck_assert_str_eq(la.text, lb.text);
}

/* Random allocations, requests, releases, lookups and GC, each done on a pool
 * kept in memory and on one of two pools sharing a state file, which are
 * reopened now and then: answered from the snapshot in place and the
 * journal, every result must be the same as from memory. */
static void run_twin(const struct twin *t, unsigned seed)
{
	struct k8snet_ipam_pool *mem, *disk[2];
	char key[16], want[64], b1[K8SNET_IPAM_CIDR_MAX], b2[K8SNET_IPAM_CIDR_MAX];
	int step, r1, r2;

	unlink(state);
	srand(seed);
	mem = twin_pool(t, false);
	disk[0] = twin_pool(t, true);
	disk[1] = twin_pool(t, true);
	for (step = 0; step < 5000; step++) {
		struct k8snet_ipam_pool *d = disk[rand() % 2];
		int op = rand() % 12;

		snprintf(key, sizeof(key), "k%d", rand() % 700);
		b1[0] = b2[0] = '\0';
		if (op <= 4) {
			r1 = k8snet_ipam_pool_alloc(mem, key, "eth0", NULL, b1, sizeof(b1));
			r2 = k8snet_ipam_pool_alloc(d, key, "eth0", NULL, b2, sizeof(b2));
		} else if (op == 5) {
			random_want(t, want, sizeof(want));
			r1 = k8snet_ipam_pool_alloc(mem, key, "eth0", want, b1, sizeof(b1));
			r2 = k8snet_ipam_pool_alloc(d, key, "eth0", want, b2, sizeof(b2));
		} else if (op <= 8) {
			r1 = k8snet_ipam_pool_release(mem, key, "eth0");
			r2 = k8snet_ipam_pool_release(d, key, "eth0");
		} else if (op == 9) {
			random_want(t, want, sizeof(want));
			r1 = k8snet_ipam_pool_release_addr(mem, want);
			r2 = k8snet_ipam_pool_release_addr(d, want);
		} else if (op == 10) {
			r1 = k8snet_ipam_pool_lookup(mem, key, "eth0", b1, sizeof(b1));
			r2 = k8snet_ipam_pool_lookup(d, key, "eth0", b2, sizeof(b2));
		} else {
			r1 = k8snet_ipam_pool_get_count(mem);
			r2 = k8snet_ipam_pool_get_count(d);
		}
		ck_assert_msg(r1 == r2 && !strcmp(b1, b2), "%s step %d op %d key %s: memory %d %s, "
			      "state file %d %s (%s)", t->subnet, step, op, key, r1, b1, r2, b2,
			      k8snet_ctx_get_error(ctx));
		if (step % 97 == 96) {
			k8snet_ipam_pool_free(disk[step % 2]);
			disk[step % 2] = twin_pool(t, true);
		}
		if (step % 1500 == 1499) {
			/* GC keeps the keys below k300. */
			const char *owners[300], *ifnames[300];
			static char names[300][8];
			int i;

			for (i = 0; i < 300; i++) {
				snprintf(names[i], sizeof(names[i]), "k%d", i);
				owners[i] = names[i];
				ifnames[i] = "eth0";
			}
			r1 = k8snet_ipam_pool_gc(mem, owners, ifnames, 300);
			ck_assert_int_eq(k8snet_ipam_pool_gc(d, owners, ifnames, 300), r1);
			same_listing(mem, disk[0]);
			same_listing(mem, disk[1]);
		}
	}
	same_listing(mem, disk[0]);
	same_listing(mem, disk[1]);
	k8snet_ipam_pool_free(mem);
	k8snet_ipam_pool_free(disk[0]);
	k8snet_ipam_pool_free(disk[1]);
}

START_TEST(test_snapshot_in_place_matches_memory)
{
	static const struct twin twins[] = {
		{ 0, K8SNET_IPAM_NEXT_FREE, "10.0.0.0/22", NULL, NULL, "10.0.0.1", "10.0.1.0/25",
		  0, AF_INET, 1024, 0 },
		{ 0, K8SNET_IPAM_LOWEST_FREE, "10.0.0.0/22", "10.0.0.10", "10.0.3.200", NULL, NULL,
		  0, AF_INET, 1100, 0 },
		{ K8SNET_IPAM_POOL_F_PREFIXES, K8SNET_IPAM_NEXT_FREE, "10.128.0.0/12", NULL, NULL, NULL,
		  "10.130.0.0/16", 22, AF_INET, 1024, 10 },
		{ 0, K8SNET_IPAM_LOWEST_FREE, "fd00::/118", NULL, NULL, NULL, "fd00::100/124", 0,
		  AF_INET6, 1024, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(twins) / sizeof(twins[0]); i++)
		run_twin(&twins[i], 1000 + (unsigned)i);
}
END_TEST

START_TEST(test_state_version_1_upgraded)
{
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX], *text;
	size_t len;

	put(state, "k8snet-ipam\t1\na\t10.0.0.1\tc1\teth0\tf76c0270\n");
	pool = persistent("10.0.0.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_get_count(pool), 1);
	ck_assert_str_eq(alloc(pool, "c2"), "10.0.0.2/24");   /* the cursor came from 'a' */
	k8snet_ipam_pool_free(pool);
	text = slurp(state, &len);
	ck_assert_int_eq(memcmp(text, "k8snet-ipam\t2\n", 14), 0);
	free(text);
	pool = persistent("10.0.0.0/24");
	ck_assert_int_eq(k8snet_ipam_pool_lookup(pool, "c1", "eth0", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "10.0.0.1/24");
	ck_assert_str_eq(alloc(pool, "c3"), "10.0.0.3/24");
	k8snet_ipam_pool_free(pool);
}
END_TEST

/* Three allocations written to a snapshot, then byte `at` of the file
 * changed: every use of what it damaged is refused, the file left alone. */
static void damage_at(size_t at, int (*use)(struct k8snet_ipam_pool *), const char *msg)
{
	const char *owners[] = { "a", "b", "c" }, *ifnames[] = { "eth0", "eth0", "eth0" };
	struct k8snet_ipam_pool *pool;
	char *before, *after;
	size_t len, len2;
	FILE *f;
	int r;

	unlink(state);
	pool = persistent("10.0.0.0/24");
	alloc(pool, "a");
	alloc(pool, "b");
	alloc(pool, "c");
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, owners, ifnames, 3), 0);
	alloc(pool, "d");    /* a GC that releases nothing writes nothing: force a snapshot */
	ck_assert_int_eq(k8snet_ipam_pool_gc(pool, owners, ifnames, 3), 1);
	k8snet_ipam_pool_free(pool);
	before = slurp(state, &len);
	ck_assert_uint_gt(len, at);
	before[at] ^= 0x40;
	f = fopen(state, "we");
	ck_assert_uint_eq(fwrite(before, 1, len, f), len);
	fclose(f);
	pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	r = k8snet_ipam_pool_set_state_file(pool, state);
	if (r == 0)
		r = use(pool);
	ck_assert_int_eq(r, -EBADMSG);
	ERR_HAS(msg);
	k8snet_ipam_pool_free(pool);
	after = slurp(state, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(before, after, len), 0);
	free(before);
	free(after);
}

static int use_lookup_a(struct k8snet_ipam_pool *pool)
{
	char buf[K8SNET_IPAM_CIDR_MAX];

	return k8snet_ipam_pool_lookup(pool, "a", "eth0", buf, sizeof(buf));
}

static int use_alloc_a(struct k8snet_ipam_pool *pool)
{
	char buf[K8SNET_IPAM_CIDR_MAX];

	return k8snet_ipam_pool_alloc(pool, "a", "eth0", NULL, buf, sizeof(buf));
}

static int nop_visit(void *u, const char *c, const char *o, const char *i)
{
	(void)u, (void)c, (void)o, (void)i;
	return 0;
}

static int use_foreach(struct k8snet_ipam_pool *pool)
{
	return k8snet_ipam_pool_foreach(pool, nop_visit, NULL);
}

START_TEST(test_state_snapshot_damaged)
{
	damage_at(20, use_lookup_a, "corrupt snapshot: header checksum");   /* flags */
	damage_at(128 + 3, use_lookup_a, "corrupt snapshot: entry checksum"); /* a's address */
	damage_at(128 + 3, use_alloc_a, "corrupt snapshot: entry checksum");
	damage_at(128 + 3, use_foreach, "corrupt snapshot: body checksum");
}
END_TEST

/* ---- the state file's safety ------------------------------------------------------------ */

static int open_state(const char *path)
{
	struct k8snet_ipam_pool *pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	int r = k8snet_ipam_pool_set_state_file(pool, path);

	if (r == 0)
		r = try_alloc(pool, "x", NULL);
	k8snet_ipam_pool_free(pool);
	return r < 0 ? r : 0;
}

START_TEST(test_state_refuses_unsafe_places)
{
	char victim[160], link[160], sub[160], subsub[160], path[200], *text;
	size_t len;

	/* A symbolic link as the state file: never followed, never written. */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put(victim, "root's own file\n");
	ck_assert_int_eq(symlink(victim, state), 0);
	ck_assert_int_eq(open_state(state), -ELOOP);
	ERR_HAS("a symbolic link; refusing to follow it");
	text = slurp(victim, &len);
	ck_assert_str_eq(text, "root's own file\n");
	free(text);
	unlink(state);
	/* Nor a FIFO (which would block a plain open) or a file others may write. */
	ck_assert_int_eq(mkfifo(state, 0600), 0);
	ck_assert_int_eq(open_state(state), -EPERM);
	ERR_HAS("not a regular file");
	unlink(state);
	put(state, "");
	ck_assert_int_eq(chmod(state, 0666), 0);
	ck_assert_int_eq(open_state(state), -EPERM);
	ERR_HAS("writable by group or others (mode 0666)");
	unlink(state);
	/* A directory others may write to: the state's own, or one above it. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(subsub, sizeof(subsub), "%s/sub/net", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(mkdir(subsub, 0700), 0);
	snprintf(path, sizeof(path), "%s/k.state", subsub);
	ck_assert_int_eq(chmod(subsub, 0777), 0);
	ck_assert_int_eq(open_state(path), -EPERM);
	ERR_HAS("refusing to keep IPAM state in");
	ERR_HAS("writable by group or others (mode 0777)");
	ck_assert_int_eq(chmod(subsub, 0770), 0);
	ck_assert_int_eq(open_state(path), -EPERM);
	ck_assert_int_eq(chmod(subsub, 01777), 0);   /* sticky is not enough for the state's own */
	ck_assert_int_eq(open_state(path), -EPERM);
	ck_assert_int_eq(chmod(subsub, 0700), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(open_state(path), -EPERM);
	ERR_HAS("refusing to keep IPAM state under");
	ck_assert_int_eq(access(path, F_OK), -1);    /* nothing was created */
	ck_assert_int_eq(chmod(sub, 01777), 0);      /* above it, sticky is (as /tmp) */
	ck_assert_int_eq(open_state(path), 0);
	/* Through a symbolic link to the directory: what it leads to is checked. */
	snprintf(link, sizeof(link), "%s/net-link", dir);
	ck_assert_int_eq(symlink(subsub, link), 0);
	snprintf(path, sizeof(path), "%s/k.state", link);
	ck_assert_int_eq(open_state(path), 0);
	ck_assert_int_eq(chmod(subsub, 0777), 0);
	ck_assert_int_eq(open_state(path), -EPERM);
	ck_assert_int_eq(chmod(subsub, 0700), 0);
	if (geteuid() == 0) {
		/* Links and files of other users. */
		ck_assert_int_eq(lchown(link, 4321, 4321), 0);
		ck_assert_int_eq(open_state(path), -EPERM);
		ERR_HAS("a symbolic link owned by uid 4321");
		snprintf(path, sizeof(path), "%s/k.state", subsub);
		ck_assert_int_eq(chown(path, 4321, 4321), 0);
		ck_assert_int_eq(open_state(path), -EPERM);
		ERR_HAS("owned by uid 4321");
	}
}
END_TEST

/* Files 0600 whatever the umask, and no temporary file left behind. */
START_TEST(test_state_files_private)
{
	struct k8snet_ipam_pool *pool;
	mode_t old = umask(0);
	struct stat st;
	char owner[16], ls[300];
	int i;

	pool = persistent("10.0.0.0/16");
	for (i = 0; i < 1200; i++) {    /* past a compaction */
		snprintf(owner, sizeof(owner), "c%d", i);
		alloc(pool, owner);
		ck_assert_int_eq(k8snet_ipam_pool_release(pool, owner, "eth0"), 1);
	}
	k8snet_ipam_pool_free(pool);
	umask(old);
	ck_assert_int_eq(stat(state, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(ls, sizeof(ls), "test \"$(ls -A '%s')\" = pool.state", dir);
	ck_assert_int_eq(system(ls), 0);
}
END_TEST

/* ---- host-local configuration --------------------------------------------------------- */

static int parse_cfg(const char *json, struct k8snet_ipam_config **cfg)
{
	return k8snet_ipam_config_parse(ctx, json, strlen(json), cfg);
}

START_TEST(test_config_host_local)
{
	const char *json =
		"{\"cniVersion\": \"1.0.0\", \"name\": \"pods\", \"type\": \"bridge\","
		" \"ipam\": {\"type\": \"host-local\","
		"  \"ranges\": [[{\"subnet\": \"10.10.0.0/16\", \"rangeStart\": \"10.10.1.20\","
		"                 \"rangeEnd\": \"10.10.3.50\", \"gateway\": \"10.10.0.254\"},"
		"                {\"subnet\": \"172.16.5.0/24\"}],"
		"               [{\"subnet\": \"3ffe:ffff:0:1ff::/64\"}]],"
		"  \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"192.168.0.0/16\", \"gw\": \"10.10.5.1\"},"
		"              {\"dst\": \"3ffe:ffff:0:1ff::1/64\"}],"
		"  \"dataDir\": \"/run/ipam-state\"}}";
	struct k8snet_ipam_config *cfg;
	struct k8snet_ipam_pool *pool;
	const char *dst, *gw;
	char buf[K8SNET_IPAM_CIDR_MAX];

	ck_assert_int_eq(parse_cfg(json, &cfg), 0);
	ck_assert_int_eq(k8snet_ipam_config_get_pool_count(cfg), 2);
	ck_assert_str_eq(k8snet_ipam_config_get_data_dir(cfg), "/run/ipam-state");
	ck_assert_int_eq(k8snet_ipam_config_get_route_count(cfg), 3);
	ck_assert_int_eq(k8snet_ipam_config_get_route(cfg, 1, &dst, &gw), 0);
	ck_assert_str_eq(dst, "192.168.0.0/16");
	ck_assert_str_eq(gw, "10.10.5.1");
	ck_assert_int_eq(k8snet_ipam_config_get_route(cfg, 0, &dst, &gw), 0);
	ck_assert_ptr_null(gw);
	ck_assert_int_eq(k8snet_ipam_config_get_route(cfg, 3, &dst, &gw), -ENOENT);

	ck_assert_int_eq(k8snet_ipam_config_new_pool(cfg, 0, &pool), 0);
	ck_assert_str_eq(alloc(pool, "c1"), "10.10.1.20/16");
	ck_assert_int_eq(k8snet_ipam_pool_get_gateway(pool, "10.10.1.20", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "10.10.0.254");
	/* host-local's default gateway: the subnet's first address. */
	ck_assert_int_eq(k8snet_ipam_pool_get_gateway(pool, "172.16.5.9", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "172.16.5.1");
	ck_assert_int_eq(k8snet_ipam_pool_get_gateway(pool, "192.0.2.1", buf, sizeof(buf)), -ENOENT);
	k8snet_ipam_pool_free(pool);
	ck_assert_int_eq(k8snet_ipam_config_new_pool(cfg, 1, &pool), 0);
	ck_assert_str_eq(alloc(pool, "c1"), "3ffe:ffff:0:1ff::2/64");
	k8snet_ipam_pool_free(pool);
	ck_assert_int_eq(k8snet_ipam_config_new_pool(cfg, 2, &pool), -ENOENT);
	k8snet_ipam_config_free(cfg);

	/* The ipam object alone, and the older single-range form. */
	ck_assert_int_eq(parse_cfg("{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]]}", &cfg), 0);
	ck_assert_ptr_null(k8snet_ipam_config_get_data_dir(cfg));
	k8snet_ipam_config_free(cfg);
	ck_assert_int_eq(parse_cfg("{\"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.0.0.0/24\","
				   " \"rangeStart\": \"10.0.0.100\"}}", &cfg), 0);
	ck_assert_int_eq(k8snet_ipam_config_new_pool(cfg, 0, &pool), 0);
	ck_assert_str_eq(alloc(pool, "c1"), "10.0.0.100/24");
	k8snet_ipam_pool_free(pool);
	k8snet_ipam_config_free(cfg);
}
END_TEST

static void expect_cfg_error(const char *json, int err, const char *path, const char *msg)
{
	struct k8snet_ipam_config *cfg = NULL;

	ck_assert_int_eq(parse_cfg(json, &cfg), err);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), path);
	ERR_HAS(msg);
}

START_TEST(test_config_errors_name_the_field)
{
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"},"
			 " {\"subnet\": \"10.1.0.0/+16\"}]]}}", -EINVAL,
			 "ipam.ranges[0][1].subnet", "not a CIDR");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\","
			 " \"rangeEnd\": \"10.0.1.5\"}]]}}", -EINVAL,
			 "ipam.ranges[0][0].rangeEnd", "outside the subnet");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\","
			 " \"rangeStart\": \"10.0.0.9\", \"rangeEnd\": \"10.0.0.5\"}]]}}", -EINVAL,
			 "ipam.ranges[0][0].rangeStart", "after rangeEnd");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"nonsense\"}]]}}", -EINVAL,
			 "ipam.ranges[0][0].subnet", "not a CIDR");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}],"
			 " [{\"rangeStart\": \"10.0.0.1\"}]]}}", -EINVAL,
			 "ipam.ranges[1][0].subnet", "required");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[]]}}", -EINVAL, "ipam.ranges[0]",
			 "at least one range");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": 5}]]}}", -EINVAL,
			 "ipam.ranges[0][0].subnet", "must be a string");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"},"
			 " {\"subnet\": \"fd00::/64\"}]]}}", -EINVAL,
			 "ipam.ranges[0][1].subnet", "family");
	expect_cfg_error("{\"ipam\": {\"type\": \"host-local\"}}", -EINVAL, "ipam.ranges",
			 "required");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]],"
			 " \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"10.0.0.0/99\"}]}}",
			 -EINVAL, "ipam.routes[1].dst", "not a CIDR");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]],"
			 " \"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"fd00::1\"}]}}",
			 -EINVAL, "ipam.routes[0].gw", "family");
	expect_cfg_error("{\"ipam\": {\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]],"
			 " \"dataDir\": 7}}", -EINVAL, "ipam.dataDir", "must be a string");
	expect_cfg_error("[1]", -EINVAL, "", "must be a JSON object");
	expect_cfg_error("{\"ipam\": ", -EINVAL, "", "invalid JSON");
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct k8snet_ipam_pool *pool;

	ck_assert_int_eq(k8snet_ipam_pool_new(NULL, 0, &pool), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_new(ctx, 0x80, &pool), -EINVAL);
	ck_assert_ptr_null(k8snet_ipam_pool_free(NULL));
	ck_assert_ptr_null(k8snet_ipam_config_free(NULL));
	ck_assert_int_eq(k8snet_ipam_pool_alloc(NULL, "a", "b", NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_get_count(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_config_get_pool_count(NULL), -EINVAL);
	pool = pool_of(0, "10.0.0.0/24", NULL, NULL, NULL);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_foreach(pool, NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, ""), -EINVAL);
	ck_assert_int_eq(k8snet_ipam_pool_set_name(pool, "pods"), 0);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, "/nonexistent/dir/x.state"), 0);
	ck_assert_int_eq(try_alloc(pool, "a", NULL), -ENOENT);
	ERR_HAS("/nonexistent/dir/x.state");
	k8snet_ipam_pool_free(pool);
}
END_TEST

static Suite *ipam_suite(void)
{
	Suite *s = suite_create("ipam");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cidr_parse);
	tcase_add_test(tc, test_never_network_broadcast_gateway);
	tcase_add_test(tc, test_small_prefixes_and_ipv6);
	tcase_add_test(tc, test_range_start_end);
	tcase_add_test(tc, test_small_buffers);
	tcase_add_test(tc, test_exclusions);
	tcase_add_test(tc, test_several_ranges);
	tcase_add_test(tc, test_keys_idempotent_and_specific);
	tcase_add_test(tc, test_release_and_strategies);
	tcase_add_test(tc, test_next_free_wraps);
	tcase_add_test(tc, test_foreach_and_gc);
	tcase_add_test(tc, test_huge_pools);
	tcase_add_test(tc, test_memory_follows_allocations);
	tcase_add_test(tc, test_cluster_ips);
	tcase_add_test(tc, test_prefix_pool);
	tcase_add_test(tc, test_state_shared_between_pools);
	tcase_add_test(tc, test_state_compaction);
	tcase_add_test(tc, test_state_corrupt_or_foreign);
	tcase_add_test(tc, test_state_torn_tail);
	tcase_add_test(tc, test_bad_input_leaves_state_unchanged);
	tcase_add_test(tc, test_state_gc_is_a_snapshot);
	tcase_add_test(tc, test_snapshot_in_place_matches_memory);
	tcase_add_test(tc, test_state_version_1_upgraded);
	tcase_add_test(tc, test_state_snapshot_damaged);
	tcase_add_test(tc, test_state_refuses_unsafe_places);
	tcase_add_test(tc, test_state_files_private);
	tcase_add_test(tc, test_config_host_local);
	tcase_add_test(tc, test_config_errors_name_the_field);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipam_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
