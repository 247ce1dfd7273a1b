/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for IPAM parsers: the bytes are tried as a host-local
 * "ipam" configuration (each pool it yields allocates a little), as a CIDR,
 * an address, a range and an exclusion, and as a state file.  Must never
 * crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipam/ipam.h"

static void try_config(struct k8snet_ctx *ctx, const char *text, size_t len)
{
	struct k8snet_ipam_config *cfg = NULL;
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX];
	const char *dst, *gw;
	int i, n;

	if (k8snet_ipam_config_parse(ctx, text, len, &cfg) < 0)
		return;
	n = k8snet_ipam_config_get_pool_count(cfg);
	for (i = 0; i < n && i < 4; i++) {
		if (k8snet_ipam_config_new_pool(cfg, (unsigned)i, &pool) < 0)
			continue;
		k8snet_ipam_pool_alloc(pool, "a", "eth0", NULL, buf, sizeof(buf));
		k8snet_ipam_pool_alloc(pool, "b", "eth0", NULL, buf, sizeof(buf));
		k8snet_ipam_pool_get_gateway(pool, buf, buf, sizeof(buf));
		k8snet_ipam_pool_release(pool, "a", "eth0");
		k8snet_ipam_pool_free(pool);
	}
	for (i = 0; i < k8snet_ipam_config_get_route_count(cfg); i++)
		k8snet_ipam_config_get_route(cfg, (unsigned)i, &dst, &gw);
	k8snet_ipam_config_get_data_dir(cfg);
	k8snet_ipam_config_free(cfg);
}

static void try_strings(struct k8snet_ctx *ctx, const char *s)
{
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX];
	struct k8s_ip ip;
	unsigned len;

	k8s_cidr_parse(s, false, &ip, &len);
	k8s_cidr_parse(s, true, &ip, &len);
	if (k8s_ip_parse(s, &ip) == 0)
		k8s_ip_format(&ip, buf);
	if (k8snet_ipam_pool_new(ctx, K8SNET_IPAM_POOL_F_PREFIXES, &pool) == 0) {
		k8snet_ipam_pool_add_range(pool, s, NULL, NULL, NULL);
		k8snet_ipam_pool_add_exclusion(pool, s);
		k8snet_ipam_pool_alloc(pool, "n", "", s, buf, sizeof(buf));
		k8snet_ipam_pool_alloc(pool, "m", "", NULL, buf, sizeof(buf));
		k8snet_ipam_pool_free(pool);
	}
	if (k8snet_ipam_pool_new(ctx, 0, &pool) == 0) {
		k8snet_ipam_pool_add_range(pool, "10.0.0.0/16", s, NULL, NULL);
		k8snet_ipam_pool_add_exclusion(pool, s);
		k8snet_ipam_pool_alloc(pool, "n", "eth0", s, buf, sizeof(buf));
		k8snet_ipam_pool_release_addr(pool, s);
		k8snet_ipam_pool_free(pool);
	}
}

static char dir[64], path[96];

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

static void try_state_file(struct k8snet_ctx *ctx, const uint8_t *data, size_t size)
{
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX];
	FILE *f;

	/* A private directory: the library refuses /tmp itself (others may
	 * write there).  fuzz-ipam-state reads state files at length. */
	if (!dir[0]) {
		strcpy(dir, "/tmp/k8snet-fuzz-ipam-XXXXXX");
		if (!mkdtemp(dir))
			return;
		snprintf(path, sizeof(path), "%s/pool.state", dir);
		atexit(remove_dir);
	}
	f = fopen(path, "we");
	if (!f)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
	if (k8snet_ipam_pool_new(ctx, 0, &pool) == 0) {
		k8snet_ipam_pool_add_range(pool, "10.0.0.0/24", NULL, NULL, NULL);
		if (k8snet_ipam_pool_set_state_file(pool, path) == 0)
			k8snet_ipam_pool_alloc(pool, "z", "eth0", NULL, buf, sizeof(buf));
		k8snet_ipam_pool_free(pool);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_ctx *ctx;
	char *s;

	if (size > 65536 || k8snet_ctx_new(&ctx) < 0)
		return 0;
	try_config(ctx, (const char *)data, size);
	s = strndup((const char *)data, size);
	if (s && size < 256)
		try_strings(ctx, s);
	free(s);
	if (size >= 12 && memcmp(data, "k8snet-ipam", 11) == 0)
		try_state_file(ctx, data, size);
	k8snet_ctx_free(ctx);
	return 0;
}
