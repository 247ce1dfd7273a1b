/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet ipam alloc|release|list: pod IPs (or node CIDRs) from a state file.
 * alloc prints the address in prefix form ("10.244.1.5/24"); list prints
 * "ADDRESS OWNER IFNAME" per allocation, in address order.  With -o json,
 * an allocation is {"cidr", "ip", "owner", "ifname"} and list prints
 * {"allocations": [...]} ("cidr" only with --pool: the state file keeps
 * addresses, not the prefix length).  Every error is one line on stderr and a non-zero
 * exit; the state file is then unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* The pool the options describe, bound to its state file. */
static int pool_open(const struct cli_call *call, struct k8snet_ctx *ctx,
		     struct k8snet_ipam_pool **ret)
{
	struct k8snet_ipam_pool *pool = NULL;
	const char *const *ex;
	size_t n_ex = cli_list(call, OPT_EXCLUDE, &ex);
	const char *strategy = cli_str(call, OPT_STRATEGY), *subnet = cli_str(call, OPT_POOL);
	uint32_t len = 0;
	int r = cli_u32(call, OPT_PREFIX_LEN, 0, 128, &len);

	if (r)
		return r;
	r = k8snet_ipam_pool_new(ctx, cli_flag(call, OPT_PREFIX_LEN) ? K8SNET_IPAM_POOL_F_PREFIXES : 0,
				 &pool);
	if (r >= 0 && subnet)
		r = k8snet_ipam_pool_add_range(pool, subnet, cli_str(call, OPT_RANGE_START),
					       cli_str(call, OPT_RANGE_END),
					       cli_str(call, OPT_GATEWAY));
	for (size_t i = 0; r >= 0 && i < n_ex; i++)
		r = k8snet_ipam_pool_add_exclusion(pool, ex[i]);
	if (r >= 0 && strategy)
		r = k8snet_ipam_pool_set_strategy(pool, strcmp(strategy, "lowest-free") == 0 ?
						  K8SNET_IPAM_LOWEST_FREE : K8SNET_IPAM_NEXT_FREE);
	if (r >= 0 && cli_flag(call, OPT_PREFIX_LEN))
		r = k8snet_ipam_pool_set_block_len(pool, len);
	if (r >= 0)
		r = k8snet_ipam_pool_set_state_file(pool, cli_str(call, OPT_STATE));
	if (r < 0) {
		k8snet_ipam_pool_free(pool);
		return cli_report(ctx, r, call->cmd->path);
	}
	*ret = pool;
	return CLI_OK;
}

/* with_cidr: whether cidr's prefix length means something (the state file
 * keeps addresses only: list knows the length when given --pool). */
static cJSON *allocation_json(const char *cidr, bool with_cidr, const char *owner,
			      const char *ifname)
{
	cJSON *j = cJSON_CreateObject();
	char ip[64];

	snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(cidr, "/"), cidr);
	if (with_cidr)
		cJSON_AddStringToObject(j, "cidr", cidr);
	cJSON_AddStringToObject(j, "ip", ip);
	cJSON_AddStringToObject(j, "owner", owner);
	cJSON_AddStringToObject(j, "ifname", ifname);
	return j;
}

static int run(const struct cli_call *call,
	       int (*op)(const struct cli_call *, struct k8snet_ctx *, struct k8snet_ipam_pool *))
{
	struct k8snet_ipam_pool *pool = NULL;
	struct k8snet_ctx *ctx = NULL;
	int r = cli_ctx_new(NULL, &ctx);

	if (!r)
		r = pool_open(call, ctx, &pool);
	if (!r)
		r = op(call, ctx, pool);
	k8snet_ipam_pool_free(pool);
	k8snet_ctx_free(ctx);
	return r;
}

static int alloc_op(const struct cli_call *call, struct k8snet_ctx *ctx,
		    struct k8snet_ipam_pool *pool)
{
	char buf[K8SNET_IPAM_CIDR_MAX];
	const char *owner = cli_str(call, OPT_OWNER), *ifname = cli_str(call, OPT_IFNAME);
	int r = k8snet_ipam_pool_alloc(pool, owner, ifname, cli_str(call, OPT_IP), buf, sizeof(buf));

	if (r < 0)
		return cli_report(ctx, r, "ipam alloc");
	if (call->json)
		return cli_print_json(allocation_json(buf, true, owner, ifname));
	return cli_print_text(buf);
}

int cli_ipam_alloc(const struct cli_call *call)
{
	return run(call, alloc_op);
}

static int release_op(const struct cli_call *call, struct k8snet_ctx *ctx,
		      struct k8snet_ipam_pool *pool)
{
	const char *owner = cli_str(call, OPT_OWNER), *ifname = cli_str(call, OPT_IFNAME);
	const char *ip = cli_str(call, OPT_IP);
	int r;

	r = ip ? k8snet_ipam_pool_release_addr(pool, ip) :
		 k8snet_ipam_pool_release(pool, owner, ifname);
	return r < 0 ? cli_report(ctx, r, "ipam release") : CLI_OK;
}

int cli_ipam_release(const struct cli_call *call)
{
	bool key = cli_flag(call, OPT_OWNER) && cli_flag(call, OPT_IFNAME);

	if (key == cli_flag(call, OPT_IP) || (!key && (cli_flag(call, OPT_OWNER) ||
						       cli_flag(call, OPT_IFNAME))))
		return cli_usage(call, "needs --owner and --ifname, or --ip");
	return run(call, release_op);
}

struct list_out {
	cJSON *list;      /* NULL: text */
	bool with_cidr;
};

static int print_one(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct list_out *o = userdata;

	if (o->list)
		cJSON_AddItemToArray(o->list, allocation_json(cidr, o->with_cidr, owner, ifname));
	else
		printf("%.*s %s %s\n", (int)strcspn(cidr, "/"), cidr, owner, ifname);
	return 0;
}

static int list_op(const struct cli_call *call, struct k8snet_ctx *ctx,
		   struct k8snet_ipam_pool *pool)
{
	cJSON *root = call->json ? cJSON_CreateObject() : NULL;
	struct list_out o = {
		.list = root ? cJSON_AddArrayToObject(root, "allocations") : NULL,
		.with_cidr = cli_flag(call, OPT_POOL),
	};
	int r;

	if (call->json && !o.list) {
		cJSON_Delete(root);
		return cli_usage_error("out of memory");
	}
	r = k8snet_ipam_pool_foreach(pool, print_one, &o);
	if (r < 0) {
		cJSON_Delete(root);
		return cli_report(ctx, r, "ipam list");
	}
	if (root)
		return cli_print_json(root);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cli_ipam_list(const struct cli_call *call)
{
	return run(call, list_op);
}
