/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet ipam alloc|release|list: pod IPs (or node CIDRs) from a state file.
 *
 *   k8snet ipam alloc --state FILE --pool CIDR [--range-start IP --range-end IP]
 *                     [--gateway IP] [--exclude CIDR]... [--strategy next-free|lowest-free]
 *                     [--prefix-len N] --owner ID --ifname IF [--ip IP]
 *       prints the address in prefix form ("10.244.1.5/24")
 *   k8snet ipam release --state FILE (--owner ID --ifname IF | --ip IP)
 *   k8snet ipam list --state FILE
 *       prints "ADDRESS OWNER IFNAME" per allocation, in address order
 *
 * --prefix-len makes a prefix pool (node CIDRs of that length).  Every error
 * is one line on stderr and a non-zero exit; the state file is then unchanged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define USAGE "usage: k8snet ipam alloc --state FILE --pool CIDR [--range-start IP --range-end IP] " \
	"--owner ID --ifname IF [--ip IP] | release --state FILE (--owner ID --ifname IF | --ip IP) " \
	"| list --state FILE"

struct ipam_args {
	const char *state, *pool, *start, *end, *gateway, *owner, *ifname, *ip, *strategy;
	const char **exclude;
	size_t n_exclude;
	int prefix_len;     /* -1: an address pool */
};

static int parse_args(int argc, char **argv, struct ipam_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'p' },
		{ "range-start", required_argument, NULL, 'a' },
		{ "range-end", required_argument, NULL, 'b' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "strategy", required_argument, NULL, 'y' },
		{ "prefix-len", required_argument, NULL, 'l' },
		{ "owner", required_argument, NULL, 'o' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "ip", required_argument, NULL, 'I' },
		{ 0 }
	};
	const char **ex;
	char *end;
	int c;

	*a = (struct ipam_args){ .prefix_len = -1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->state = optarg; break;
		case 'p': a->pool = optarg; break;
		case 'a': a->start = optarg; break;
		case 'b': a->end = optarg; break;
		case 'g': a->gateway = optarg; break;
		case 'y': a->strategy = optarg; break;
		case 'o': a->owner = optarg; break;
		case 'i': a->ifname = optarg; break;
		case 'I': a->ip = optarg; break;
		case 'l':
			a->prefix_len = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || a->prefix_len < 0 || a->prefix_len > 128)
				return cli_usage_error("--prefix-len: '%s' is not 0..128", optarg);
			break;
		case 'x':
			ex = realloc(a->exclude, (a->n_exclude + 1) * sizeof(*ex));
			if (!ex)
				return cli_usage_error("out of memory");
			a->exclude = ex;
			ex[a->n_exclude++] = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->state)
		return cli_usage_error("--state is required");
	return 0;
}

static int configure(struct k8snet_ctx *ctx, struct k8snet_ipam_pool *pool,
		     const struct ipam_args *a)
{
	size_t i;
	int r = 0;

	if (a->pool)
		r = k8snet_ipam_pool_add_range(pool, a->pool, a->start, a->end, a->gateway);
	for (i = 0; r >= 0 && i < a->n_exclude; i++)
		r = k8snet_ipam_pool_add_exclusion(pool, a->exclude[i]);
	if (r >= 0 && a->strategy) {
		if (strcmp(a->strategy, "next-free") == 0)
			r = k8snet_ipam_pool_set_strategy(pool, K8SNET_IPAM_NEXT_FREE);
		else if (strcmp(a->strategy, "lowest-free") == 0)
			r = k8snet_ipam_pool_set_strategy(pool, K8SNET_IPAM_LOWEST_FREE);
		else
			return cli_usage_error("--strategy: '%s' is not next-free or lowest-free",
					       a->strategy);
	}
	if (r >= 0 && a->prefix_len >= 0)
		r = k8snet_ipam_pool_set_block_len(pool, (unsigned)a->prefix_len);
	if (r >= 0)
		r = k8snet_ipam_pool_set_state_file(pool, a->state);
	return r < 0 ? cli_report(ctx, r, "ipam") : 0;
}

static int print_one(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	size_t n = strcspn(cidr, "/");

	printf("%.*s %s %s\n", (int)n, cidr, owner, ifname);
	return 0;
}

static int run(const char *cmd, const struct ipam_args *a, struct k8snet_ctx *ctx,
	       struct k8snet_ipam_pool *pool)
{
	char buf[K8SNET_IPAM_CIDR_MAX];
	int r;

	if (strcmp(cmd, "alloc") == 0) {
		if (!a->pool || !a->owner || !a->ifname)
			return cli_usage_error("alloc needs --pool, --owner and --ifname");
		r = k8snet_ipam_pool_alloc(pool, a->owner, a->ifname, a->ip, buf, sizeof(buf));
		if (r >= 0)
			printf("%s\n", buf);
	} else if (strcmp(cmd, "release") == 0) {
		if (a->ip && !a->owner && !a->ifname)
			r = k8snet_ipam_pool_release_addr(pool, a->ip);
		else if (a->owner && a->ifname && !a->ip)
			r = k8snet_ipam_pool_release(pool, a->owner, a->ifname);
		else
			return cli_usage_error("release needs --owner and --ifname, or --ip");
	} else {
		r = k8snet_ipam_pool_foreach(pool, print_one, NULL);
	}
	if (r < 0)
		return cli_report(ctx, r, cmd);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cli_ipam(int argc, char **argv)
{
	struct k8snet_ipam_pool *pool = NULL;
	struct k8snet_ctx *ctx = NULL;
	struct ipam_args a;
	const char *cmd;
	int r;

	if (argc < 2 || (strcmp(argv[1], "alloc") && strcmp(argv[1], "release") &&
			 strcmp(argv[1], "list")))
		return cli_usage_error(USAGE);
	cmd = argv[1];
	r = parse_args(argc - 1, argv + 1, &a);
	if (r == 0)
		r = cli_ctx_new(NULL, &ctx);
	if (r == 0) {
		r = k8snet_ipam_pool_new(ctx, a.prefix_len >= 0 ? K8SNET_IPAM_POOL_PREFIXES : 0, &pool);
		r = r < 0 ? cli_report(ctx, r, "ipam") : 0;
	}
	if (r == 0) {
		r = configure(ctx, pool, &a);
		if (r == 0)
			r = run(cmd, &a, ctx, pool);
	}
	k8snet_ipam_pool_free(pool);
	k8snet_ctx_free(ctx);
	free(a.exclude);
	return r;
}
