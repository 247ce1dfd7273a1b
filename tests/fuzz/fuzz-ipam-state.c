/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the IPAM state file reader: the bytes are a state
 * file (a version 2 snapshot and its journal, or a version 1 journal), put
 * in a private directory and opened by pools of three shapes (addresses,
 * prefixes, no ranges).  Each pool asks what a CNI plugin would (a lookup,
 * an allocation, a release) and then reads the whole state (count, listing,
 * GC).  Must never crash or leak, and whatever the file holds, a listing that
 * succeeds holds no address twice and agrees with the count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipam/ipam.h"

static char dir[64], path[96];

static void make_dir(void)
{
	/* tmpfs when there is one: every change is fsync'd. */
	strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/k8snet-fuzz-state-XXXXXX" :
	       "/tmp/k8snet-fuzz-state-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/pool.state", dir);
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

struct listing {
	k8s_u128 *addrs;
	size_t n;
};

static int visit(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct listing *l = userdata;
	struct k8s_ip ip;
	unsigned len;

	(void)owner;
	(void)ifname;
	if (k8s_cidr_parse(cidr, false, &ip, &len) < 0)
		abort();    /* the library printed something it cannot read back */
	l->addrs = realloc(l->addrs, (l->n + 1) * sizeof(*l->addrs));
	if (!l->addrs)
		abort();
	l->addrs[l->n++] = ip.v;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	k8s_u128 x = *(const k8s_u128 *)a, y = *(const k8s_u128 *)b;

	return x < y ? -1 : x > y;
}

static void read_whole(struct k8snet_ipam_pool *pool)
{
	struct listing l = { 0 };
	int count = k8snet_ipam_pool_get_count(pool);
	size_t i;

	if (k8snet_ipam_pool_foreach(pool, visit, &l) == 0) {
		if (l.n)
			qsort(l.addrs, l.n, sizeof(*l.addrs), cmp);
		for (i = 1; i < l.n; i++)
			if (l.addrs[i] == l.addrs[i - 1])
				abort();    /* one address, two owners */
		/* The count before the listing came from the snapshot in place. */
		if (count >= 0 && (size_t)count != l.n)
			abort();
	}
	free(l.addrs);
}

static void try_pool(struct k8snet_ctx *ctx, uint32_t flags, const char *subnet)
{
	static const char *const owners[] = { "a", "c1" }, *const ifnames[] = { "eth0", "eth0" };
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX];

	if (k8snet_ipam_pool_new(ctx, flags, &pool) < 0)
		return;
	if (subnet)
		k8snet_ipam_pool_add_range(pool, subnet, NULL, NULL, NULL);
	if (k8snet_ipam_pool_set_state_file(pool, path) == 0) {
		k8snet_ipam_pool_lookup(pool, "c1", "eth0", buf, sizeof(buf));
		k8snet_ipam_pool_alloc(pool, "z", flags ? "" : "eth0", NULL, buf, sizeof(buf));
		k8snet_ipam_pool_release(pool, "a", "eth0");
		k8snet_ipam_pool_release_addr(pool, "10.0.0.3");
		read_whole(pool);
		k8snet_ipam_pool_gc(pool, owners, ifnames, 2);
		read_whole(pool);
	}
	k8snet_ipam_pool_free(pool);
}

/* ---- checksums made right, so that mutations reach what they protect ---- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A version 2 snapshot: each entry's sum (where its strings are in range),
 * the body's and the header's, as base.c lays them out. */
static void fix_snapshot(uint8_t *b, size_t size)
{
	uint64_t n, runs, slots, strings, base;
	const uint8_t *str;
	size_t i;

	if (size < K8S_BASE_HEADER_SIZE)
		return;
	n = get32(b + 24);
	runs = get32(b + 28);
	slots = get32(b + 32);
	strings = get32(b + 36);
	base = K8S_BASE_HEADER_SIZE + 40 * n + 32 * runs + 4 * slots;
	if (base + strings <= size) {
		str = b + base;
		for (i = 0; i < n; i++) {
			uint8_t *e = b + K8S_BASE_HEADER_SIZE + 40 * i;
			uint32_t off = get32(e + 24);
			size_t len = (size_t)(e[28] | e[29] << 8) + (size_t)(e[30] | e[31] << 8);

			if ((uint64_t)off + len <= strings)
				put32(e + 32, (uint32_t)k8s_ipam_hash(k8s_ipam_hash(K8S_IPAM_HASH_SEED, e, 32),
								      str + off, len));
		}
	}
	base = (uint64_t)get32(b + 40) | (uint64_t)get32(b + 44) << 32;
	if (base >= K8S_BASE_HEADER_SIZE && base <= size)
		put32(b + 80, k8s_ipam_checksum(b + K8S_BASE_HEADER_SIZE,
						(size_t)base - K8S_BASE_HEADER_SIZE));
	put32(b + 124, k8s_ipam_checksum(b, 124));
}

/* Journal lines: each "...<TAB>XXXXXXXX<LF>" gets its right checksum. */
static void fix_journal(uint8_t *b, size_t size, size_t from)
{
	size_t start = from, i;

	for (i = from; i < size; i++) {
		if (b[i] != '\n')
			continue;
		if (i - start >= 10 && b[i - 9] == '\t') {
			char hex[9];

			snprintf(hex, sizeof(hex), "%08x", k8s_ipam_checksum(b + start, i - 8 - start));
			memcpy(b + i - 8, hex, 8);
		}
		start = i + 1;
	}
}

static uint8_t *fixed_copy(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	uint64_t base;

	if (!b)
		abort();
	memcpy(b, data, size);
	if (size >= 14 && !memcmp(b, K8S_BASE_MAGIC, 14)) {
		fix_snapshot(b, size);
		base = size >= K8S_BASE_HEADER_SIZE ?
		       ((uint64_t)get32(b + 40) | (uint64_t)get32(b + 44) << 32) : size;
		if (base < size)
			fix_journal(b, size, (size_t)base);
	} else if (size >= 14 && !memcmp(b, "k8snet-ipam\t1\n", 14)) {
		fix_journal(b, size, 14);
	}
	return b;
}

static void try_file(struct k8snet_ctx *ctx, const uint8_t *data, size_t size)
{
	static const struct { uint32_t flags; const char *subnet; } shapes[] = {
		{ 0, "10.0.0.0/24" }, { K8SNET_IPAM_POOL_F_PREFIXES, "10.0.0.0/16" }, { 0, NULL },
		{ 0, "fd00::/120" },
	};
	FILE *f;

	/* Each pool starts from the input: the one before may have changed it. */
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		f = fopen(path, "we");
		if (!f)
			break;
		fwrite(data, 1, size, f);
		fclose(f);
		try_pool(ctx, shapes[i].flags, shapes[i].subnet);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	uint8_t *fixed;

	if (size > (1 << 20))
		return 0;
	if (!dir[0]) {
		make_dir();
		atexit(remove_dir);
	}
	if (k8snet_ctx_new(&ctx) < 0)
		return 0;
	/* As it is, and with every checksum made right: the checksums guard
	 * against torn writes, not malice; what they cover must hold anyway. */
	try_file(ctx, data, size);
	fixed = fixed_copy(data, size);
	try_file(ctx, fixed, size);
	free(fixed);
	k8snet_ctx_free(ctx);
	return 0;
}
