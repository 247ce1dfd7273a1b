/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pod plumbing from the command line:
 *   k8snet pod attach|check --netns PATH --container-id ID --ifname IF --bridge BR
 *          --address CIDR [--address CIDR6] --gateway IP [--gateway IP6]
 *          [--route DST[,GW]] [--mtu N] [--mac MAC] [--hairpin] [--in-netns PATH]
 *   k8snet pod detach --netns PATH --container-id ID --ifname IF [--in-netns PATH]
 *   k8snet bridge ensure --name BR --address CIDR [--address CIDR6] [--mtu N] [--in-netns PATH]
 *   k8snet node setup [--ipv6] [--bridge-nf] [--in-netns PATH]
 *   k8snet node peer add|del --mode host-gw|vxlan --pod-cidr CIDR --node-ip IP
 *          [--vni N --dev IF --local-ip IP [--port N] [--vtep-mac MAC]] [--in-netns PATH]
 * attach prints the CNI-shaped result JSON; exit codes as every subcommand.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_LIST 8

struct pod_opts {
	const char *in_netns;
	const char *addresses[MAX_LIST];
	int n_addresses;
	const char *gateways[MAX_LIST];
	int n_gateways;
	const char *routes[MAX_LIST];
	int n_routes;
};

static const char pod_usage[] =
	"usage: k8snet pod attach|check|detach --netns PATH --container-id ID --ifname IF "
	"--bridge BR --address CIDR [--address CIDR6] --gateway IP [--route DST[,GW]] "
	"[--mtu N] [--mac MAC] [--hairpin] [--in-netns PATH]";

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > max)
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

static int list_add(const char **list, int *n, const char *v)
{
	if (*n >= MAX_LIST)
		return -1;
	list[(*n)++] = v;
	return 0;
}

/* The gateway given for the address's family (":" marks IPv6). */
static const char *gateway_for(const struct pod_opts *o, const char *cidr)
{
	bool v6 = strchr(cidr, ':') != NULL;

	for (int i = 0; i < o->n_gateways; i++)
		if ((strchr(o->gateways[i], ':') != NULL) == v6)
			return o->gateways[i];
	return NULL;
}

static int pod_fill(struct k8snet_link_pod *pod, const struct pod_opts *o)
{
	for (int i = 0; i < o->n_addresses; i++)
		if (k8snet_link_pod_add_address(pod, o->addresses[i], gateway_for(o, o->addresses[i])) < 0)
			return cli_usage_error("--address %s: not an address/prefix (or its --gateway is bad)",
					       o->addresses[i]);
	for (int i = 0; i < o->n_gateways; i++)
		if (!gateway_for(o, o->gateways[i]) || !o->n_addresses)
			return cli_usage_error("--gateway %s: no --address of its family", o->gateways[i]);
	for (int i = 0; i < o->n_routes; i++) {
		char *dst = strdup(o->routes[i]), *gw = strchr(dst, ',');
		int r;

		if (gw)
			*gw++ = '\0';
		r = k8snet_link_pod_add_route(pod, dst, gw);
		free(dst);
		if (r < 0)
			return cli_usage_error("--route %s: expected DST-CIDR[,GATEWAY]", o->routes[i]);
	}
	return 0;
}

static int pod_set(struct k8snet_link_pod *pod, uint32_t attr, const char *v, const char *opt)
{
	if (k8snet_link_pod_set_str(pod, attr, v) < 0)
		return cli_usage_error("--%s %s: invalid", opt, v);
	return 0;
}

static int pod_parse(int argc, char **argv, struct k8snet_link_pod *pod, struct pod_opts *o)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "container-id", required_argument, NULL, 'c' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "bridge", required_argument, NULL, 'b' },
		{ "address", required_argument, NULL, 'a' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "route", required_argument, NULL, 'r' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "mac", required_argument, NULL, 'M' },
		{ "hairpin", no_argument, NULL, 'h' },
		{ "in-netns", required_argument, NULL, 'N' },
		{ 0 }
	};
	uint32_t u;
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': r = pod_set(pod, K8SNET_LINK_POD_NETNS_PATH, optarg, "netns"); break;
		case 'c': r = pod_set(pod, K8SNET_LINK_POD_CONTAINER_ID, optarg, "container-id"); break;
		case 'i': r = pod_set(pod, K8SNET_LINK_POD_IFNAME, optarg, "ifname"); break;
		case 'b': r = pod_set(pod, K8SNET_LINK_POD_BRIDGE, optarg, "bridge"); break;
		case 'M': r = pod_set(pod, K8SNET_LINK_POD_MAC, optarg, "mac"); break;
		case 'N': o->in_netns = optarg; break;
		case 'h':
			k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_FLAGS, K8SNET_LINK_POD_F_HAIRPIN);
			break;
		case 'm':
			if (parse_u32(optarg, 65535, &u) < 0 ||
			    k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_MTU, u) < 0)
				r = cli_usage_error("--mtu %s: must be 68..65535", optarg);
			break;
		case 'a': r = list_add(o->addresses, &o->n_addresses, optarg) ? CLI_USAGE : 0; break;
		case 'g': r = list_add(o->gateways, &o->n_gateways, optarg) ? CLI_USAGE : 0; break;
		case 'r': r = list_add(o->routes, &o->n_routes, optarg) ? CLI_USAGE : 0; break;
		default: r = cli_usage_error("%s", pod_usage);
		}
	}
	if (r == 0 && optind != argc)
		r = cli_usage_error("%s", pod_usage);
	return r ? r : pod_fill(pod, o);
}

static int pod_run(const char *verb, struct k8snet_ctx *ctx, struct k8snet_link_pod *pod)
{
	struct k8snet_link_result *res = NULL;
	char *json = NULL;
	int r;

	if (strcmp(verb, "detach") == 0) {
		r = k8snet_link_pod_detach(ctx, pod);
		return r < 0 ? cli_report(ctx, r, "pod detach") : CLI_OK;
	}
	if (strcmp(verb, "check") == 0) {
		r = k8snet_link_pod_check(ctx, pod);
		return r < 0 ? cli_report(ctx, r, "pod check") : CLI_OK;
	}
	r = k8snet_link_pod_attach(ctx, pod, &res);
	if (r < 0)
		return cli_report(ctx, r, "pod attach");
	r = k8snet_link_result_to_json(res, NULL, &json);
	if (r < 0)
		r = cli_report(ctx, r, "pod attach");
	else
		printf("%s\n", json);
	k8snet_free(json);
	k8snet_link_result_free(res);
	return r;
}

int cli_pod(int argc, char **argv)
{
	struct k8snet_link_pod *pod = NULL;
	struct k8snet_ctx *ctx = NULL;
	struct pod_opts o = { 0 };
	const char *verb;
	int r;

	if (argc < 2 || (strcmp(argv[1], "attach") && strcmp(argv[1], "detach") &&
			 strcmp(argv[1], "check")))
		return cli_usage_error("%s", pod_usage);
	verb = argv[1];
	if (k8snet_link_pod_new(&pod) < 0)
		return CLI_FAIL;
	r = pod_parse(argc - 1, argv + 1, pod, &o);
	if (r == 0)
		r = cli_ctx_new(o.in_netns, &ctx);
	if (r == 0)
		r = pod_run(verb, ctx, pod);
	k8snet_ctx_free(ctx);
	k8snet_link_pod_free(pod);
	return r;
}

static const char bridge_usage[] =
	"usage: k8snet bridge ensure --name BR [--address CIDR]... [--mtu N] [--in-netns PATH]";

int cli_bridge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "in-netns", required_argument, NULL, 'N' },
		{ 0 }
	};
	const char *name = NULL, *in_netns = NULL, *addrs[MAX_LIST];
	struct k8snet_ctx *ctx = NULL;
	int n = 0, c, r;
	uint32_t mtu = 0;

	if (argc < 2 || strcmp(argv[1], "ensure") != 0)
		return cli_usage_error("%s", bridge_usage);
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'N')
			in_netns = optarg;
		else if (c == 'a' && list_add(addrs, &n, optarg) == 0)
			continue;
		else if (c != 'm' || parse_u32(optarg, 65535, &mtu) < 0)
			return cli_usage_error("%s", bridge_usage);
	}
	if (!name || optind != argc)
		return cli_usage_error("%s", bridge_usage);
	r = cli_ctx_new(in_netns, &ctx);
	if (r)
		return r;
	r = k8snet_link_bridge_ensure(ctx, name, mtu, addrs, (uint32_t)n);
	r = r < 0 ? cli_report(ctx, r, "bridge ensure") : CLI_OK;
	k8snet_ctx_free(ctx);
	return r;
}

static const char node_usage[] =
	"usage: k8snet node setup [--ipv6] [--bridge-nf] [--in-netns PATH]\n"
	"       k8snet node peer add|del --mode host-gw|vxlan --pod-cidr CIDR --node-ip IP "
	"[--vni N --dev IF --local-ip IP [--port N] [--vtep-mac MAC]] [--in-netns PATH]";

struct peer_opts {
	const char *in_netns, *cidr, *node_ip, *dev, *local_ip, *vtep_mac;
	uint32_t mode, vni, port;
	int have_vni;
};

static int peer_parse(int argc, char **argv, struct peer_opts *o)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "pod-cidr", required_argument, NULL, 'c' },
		{ "node-ip", required_argument, NULL, 'n' },
		{ "vni", required_argument, NULL, 'v' },
		{ "dev", required_argument, NULL, 'd' },
		{ "local-ip", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "vtep-mac", required_argument, NULL, 'M' },
		{ "in-netns", required_argument, NULL, 'N' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->mode = strcmp(optarg, "host-gw") == 0 ? K8SNET_LINK_PEER_HOST_GW :
				  strcmp(optarg, "vxlan") == 0 ? K8SNET_LINK_PEER_VXLAN : 0;
			if (!o->mode)
				return cli_usage_error("--mode %s: must be host-gw or vxlan", optarg);
			break;
		case 'c': o->cidr = optarg; break;
		case 'n': o->node_ip = optarg; break;
		case 'd': o->dev = optarg; break;
		case 'l': o->local_ip = optarg; break;
		case 'M': o->vtep_mac = optarg; break;
		case 'N': o->in_netns = optarg; break;
		case 'v':
			if (parse_u32(optarg, (1u << 24) - 1, &o->vni) < 0)
				return cli_usage_error("--vni %s: must be 0..16777215", optarg);
			o->have_vni = 1;
			break;
		case 'p':
			if (parse_u32(optarg, 65535, &o->port) < 0)
				return cli_usage_error("--port %s: must be 0..65535", optarg);
			break;
		default:
			return cli_usage_error("%s", node_usage);
		}
	}
	if (!o->mode || !o->cidr || !o->node_ip || optind != argc)
		return cli_usage_error("%s", node_usage);
	if (o->mode == K8SNET_LINK_PEER_VXLAN && !o->dev)
		return cli_usage_error("--mode vxlan needs --dev");
	return 0;
}

static int node_peer(const char *verb, int argc, char **argv)
{
	struct peer_opts o = { 0 };
	struct k8snet_ctx *ctx = NULL;
	int r = peer_parse(argc, argv, &o);

	if (r == 0)
		r = cli_ctx_new(o.in_netns, &ctx);
	if (r)
		return r;
	/* With --vni and --local-ip, add also makes sure the device exists. */
	if (strcmp(verb, "add") == 0 && o.mode == K8SNET_LINK_PEER_VXLAN && o.have_vni && o.local_ip)
		r = k8snet_link_vxlan_ensure(ctx, o.dev, o.vni, o.port, o.local_ip, 0);
	if (r >= 0)
		r = strcmp(verb, "add") == 0 ?
			k8snet_link_peer_add(ctx, o.mode, o.cidr, o.node_ip, o.dev, o.vtep_mac) :
			k8snet_link_peer_del(ctx, o.mode, o.cidr, o.node_ip, o.dev, o.vtep_mac);
	r = r < 0 ? cli_report(ctx, r, "node peer") : CLI_OK;
	k8snet_ctx_free(ctx);
	return r;
}

static int node_setup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ipv6", no_argument, NULL, '6' },
		{ "bridge-nf", no_argument, NULL, 'b' },
		{ "in-netns", required_argument, NULL, 'N' },
		{ 0 }
	};
	const char *in_netns = NULL;
	struct k8snet_ctx *ctx = NULL;
	uint32_t flags = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '6')
			flags |= K8SNET_LINK_NODE_F_IPV6;
		else if (c == 'b')
			flags |= K8SNET_LINK_NODE_F_BRIDGE_NF;
		else if (c == 'N')
			in_netns = optarg;
		else
			return cli_usage_error("%s", node_usage);
	}
	if (optind != argc)
		return cli_usage_error("%s", node_usage);
	r = cli_ctx_new(in_netns, &ctx);
	if (r)
		return r;
	r = k8snet_link_node_setup(ctx, flags);
	r = r < 0 ? cli_report(ctx, r, "node setup") : CLI_OK;
	k8snet_ctx_free(ctx);
	return r;
}

int cli_node(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "setup") == 0)
		return node_setup(argc - 1, argv + 1);
	if (argc >= 3 && strcmp(argv[1], "peer") == 0 &&
	    (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "del") == 0))
		return node_peer(argv[2], argc - 2, argv + 2);
	return cli_usage_error("%s", node_usage);
}
