/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet proxy sync|render [--netns PATH] [--node-name N] [--node-ip IP]...
 *     [--cluster-cidr CIDR]... [--nodeport-address CIDR]... [--table NAME]
 *     [--mark-bit N] [--masquerade-all] [--round-robin] [--full] FILE.json
 *
 * sync programs the namespace (replacing what a previous run left) from the
 * Services and EndpointSlices in FILE.json ("-": standard input); render
 * prints the same ruleset as nft text.  Bad input: exit 2, nothing changed.
 * Services left out because an older one holds their address are named on
 * standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PROXY_USAGE                                                                        \
	"usage: k8snet proxy sync|render [--netns PATH] [--node-name N] [--node-ip IP]... "  \
	"[--cluster-cidr CIDR]... [--nodeport-address CIDR]... [--table NAME] [--mark-bit N] " \
	"[--masquerade-all] [--round-robin] [--full] FILE.json"

struct proxy_opts {
	const char *netns, *file;
	uint32_t flags;
	bool full;
};

static int apply_opt(struct k8snet_proxy *p, int c, const char *arg, struct proxy_opts *o)
{
	char *end;
	unsigned long v;

	switch (c) {
	case 'n':
		o->netns = arg;
		return 0;
	case 'N':
		return k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, arg);
	case 'i':
		return k8snet_proxy_add_str(p, K8SNET_PROXY_NODE_IP, arg);
	case 'c':
		return k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, arg);
	case 'a':
		return k8snet_proxy_add_str(p, K8SNET_PROXY_NODEPORT_ADDRESS, arg);
	case 't':
		return k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, arg);
	case 'b':
		v = strtoul(arg, &end, 10);
		if (*end || end == arg)
			v = 99;
		return k8snet_proxy_set_u32(p, K8SNET_PROXY_MARK_BIT, (uint32_t)v);
	case 'M':
		o->flags |= K8SNET_PROXY_F_MASQUERADE_ALL;
		return k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, o->flags);
	case 'R':
		o->flags |= K8SNET_PROXY_F_ROUND_ROBIN;
		return k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, o->flags);
	case 'F':
		o->full = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static void report_skipped(const struct k8snet_proxy *p)
{
	const char *object, *reason;
	uint32_t i;

	for (i = 0; k8snet_proxy_get_skipped(p, i, &object, &reason) == 0; i++)
		fprintf(stderr, "k8snet: warning: %s left out: %s\n", object, reason);
}

static int proxy_run(int argc, char **argv, bool sync)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "node-name", required_argument, NULL, 'N' },
		{ "node-ip", required_argument, NULL, 'i' },
		{ "cluster-cidr", required_argument, NULL, 'c' },
		{ "nodeport-address", required_argument, NULL, 'a' },
		{ "table", required_argument, NULL, 't' },
		{ "mark-bit", required_argument, NULL, 'b' },
		{ "masquerade-all", no_argument, NULL, 'M' },
		{ "round-robin", no_argument, NULL, 'R' },
		{ "full", no_argument, NULL, 'F' },
		{ 0 }
	};
	struct proxy_opts o = { 0 };
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_proxy *p = NULL;
	char *json = NULL, *text = NULL;
	size_t len;
	int c, r;

	/* The namespace is needed before the proxy exists: find it first. */
	for (c = 1; c < argc - 1; c++)
		if (strcmp(argv[c], "--netns") == 0)
			o.netns = argv[c + 1];
		else if (strncmp(argv[c], "--netns=", 8) == 0)
			o.netns = argv[c] + 8;
	r = cli_ctx_new(sync ? o.netns : NULL, &ctx);
	if (r)
		return r;
	r = k8snet_proxy_new(ctx, &p);
	if (r < 0) {
		r = cli_report(ctx, r, "proxy");
		goto out;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?') {
			r = cli_usage_error(PROXY_USAGE);
			goto out;
		}
		r = apply_opt(p, c, optarg, &o);
		if (r < 0) {
			r = cli_report(ctx, r, "option");
			goto out;
		}
	}
	if (optind != argc - 1) {
		r = cli_usage_error(PROXY_USAGE);
		goto out;
	}
	json = cli_read_file(argv[optind], &len);
	if (!json) {
		r = CLI_USAGE;
		goto out;
	}
	r = k8snet_proxy_load_json(p, json, len);
	if (r < 0) {
		r = cli_report(ctx, r, argv[optind]);
		goto out;
	}
	/* A new process knows nothing of the kernel: its first sync replaces
	 * the tables whole anyway, --full or not. */
	r = !sync ? k8snet_proxy_render(p, &text) : o.full ? k8snet_proxy_sync_full(p) :
	    k8snet_proxy_sync(p);
	if (r < 0) {
		r = cli_report(ctx, r, sync ? "sync" : "render");
		goto out;
	}
	report_skipped(p);
	if (text)
		fputs(text, stdout);
	r = CLI_OK;
out:
	k8snet_free(text);
	free(json);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_proxy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return proxy_run(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return proxy_run(argc - 1, argv + 1, false);
	return cli_usage_error(PROXY_USAGE);
}
