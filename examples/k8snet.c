/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet: the library's command line.  Output and exit codes are stable for
 * scripts: 0 success, 1 failure (or a negative answer), 2 bad input. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cli_version(int argc, char **argv)
{
	printf("k8snet %s (library %s)\n", K8SNET_VERSION_STRING, k8snet_version());
	return CLI_OK;
}

static const struct {
	const char *name;
	cli_run_fn run;
	const char *usage;
} commands[] = {
	{ "version", cli_version, "version" },
	{ "netns", cli_netns, "netns describe [--netns PATH]" },
	{ "pod", cli_pod, "pod attach|detach|check --netns PATH --container-id ID --ifname IF ..." },
	{ "bridge", cli_bridge, "bridge ensure --name BR --address CIDR [--mtu N]" },
	{ "node", cli_node, "node setup|peer add|peer del ..." },
	{ "dns", cli_dns, "dns validate|resolv-conf|candidates|zone|fqdn|parse|ptr ..." },
	{ "ipam", cli_ipam, "ipam alloc|release|list --state FILE ... (see k8snet ipam --help)" },
	{ "proxy", cli_proxy, "proxy sync|render [--netns PATH] [--node-name N] [--node-ip IP] [--cluster-cidr CIDR] [--masquerade-all] [--round-robin] FILE.json" },
	{ "policy", cli_policy, "policy check|sync|render ... (see k8snet-policy(1))" },
	{ "hostport", cli_hostport, "hostport set|check|remove|gc|network --owner OWNER ... (see k8snet(1))" },
};

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  k8snet %s\n", commands[i].usage);
	return f == stdout ? CLI_OK : CLI_USAGE;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return usage(stdout);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "k8snet: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
