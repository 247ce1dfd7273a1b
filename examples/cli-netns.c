/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet netns describe [--netns PATH]: what the library sees in a namespace. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int netns_describe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ 0 }
	};
	struct k8snet_ctx *ctx = NULL;
	const char *netns = NULL;
	char *json = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'n')
			return cli_usage_error("usage: k8snet netns describe [--netns PATH]");
		netns = optarg;
	}
	r = cli_ctx_new(netns, &ctx);
	if (r)
		return r;
	r = k8snet_ctx_describe(ctx, &json);
	if (r < 0)
		r = cli_report(ctx, r, "describe");
	else
		printf("%s\n", json);
	k8snet_free(json);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_netns(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "describe") == 0)
		return netns_describe(argc - 1, argv + 1);
	return cli_usage_error("usage: k8snet netns describe [--netns PATH]");
}
