/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pod plumbing from the command line: k8snet pod attach|check|detach,
 * k8snet bridge ensure, k8snet node setup, k8snet node peer add|del.
 *
 * A dual-stack pod gets a default route in each family it has an address
 * in: through that family's --gateway, or else through the bridge's address
 * in the pod's subnet; with neither, attach refuses (exit 2) rather than
 * leave a family without a route.  --no-default-route opts out.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* ---- pod attach | check | detach --------------------------------------- */

/* What the command line says about the pod's addresses, by family. */
struct pod_family {
	int family;
	bool has_address;
	const char *gateway;        /* --gateway of this family, or derived */
	char derived[64];
	const char *first_address;  /* for messages */
};

static struct pod_family *family_slot(struct pod_family fam[2], int family)
{
	return &fam[family == AF_INET ? 0 : 1];
}

static int pod_set_str(const struct cli_call *call, struct k8snet_link_pod *pod, enum cli_opt id,
		       uint32_t attr)
{
	const char *v = cli_str(call, id);

	if (v && k8snet_link_pod_set_str(pod, attr, v) < 0)
		return cli_usage(call, "--%s %s: invalid", call->opt[id].spelled, v);
	return CLI_OK;
}

static int pod_scalars(const struct cli_call *call, struct k8snet_link_pod *pod)
{
	uint32_t mtu = 0, flags = 0;
	int r = pod_set_str(call, pod, OPT_POD_NETNS, K8SNET_LINK_POD_NETNS_PATH);

	if (!r)
		r = pod_set_str(call, pod, OPT_CONTAINER_ID, K8SNET_LINK_POD_CONTAINER_ID);
	if (!r)
		r = pod_set_str(call, pod, OPT_IFNAME, K8SNET_LINK_POD_IFNAME);
	if (!r)
		r = pod_set_str(call, pod, OPT_BRIDGE, K8SNET_LINK_POD_BRIDGE);
	if (!r)
		r = pod_set_str(call, pod, OPT_MAC, K8SNET_LINK_POD_MAC);
	if (!r)
		r = cli_u32(call, OPT_MTU, 68, 65535, &mtu);
	if (!r && mtu)
		k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_MTU, mtu);
	if (cli_flag(call, OPT_HAIRPIN))
		flags |= K8SNET_LINK_POD_F_HAIRPIN;
	if (cli_flag(call, OPT_NO_DEFAULT_ROUTE))
		flags |= K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE;
	if (!r)
		k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_FLAGS, flags);
	return r;
}

/* --address and --gateway: well formed, at most one gateway per family and
 * none for a family without an address. */
static int pod_families(const struct cli_call *call, struct pod_family fam[2])
{
	const char *const *v;
	size_t n = cli_list(call, OPT_ADDRESS, &v);
	struct cli_prefix p;

	fam[0] = (struct pod_family){ .family = AF_INET };
	fam[1] = (struct pod_family){ .family = AF_INET6 };
	for (size_t i = 0; i < n; i++) {
		struct pod_family *f;

		if (cli_prefix_parse(v[i], true, &p) < 0)
			return cli_usage(call, "--address %s: not an address with its prefix length "
					 "(e.g. 10.244.1.5/24)", v[i]);
		f = family_slot(fam, p.family);
		if (!f->has_address)
			f->first_address = v[i];
		f->has_address = true;
	}
	n = cli_list(call, OPT_GATEWAY, &v);
	for (size_t i = 0; i < n; i++) {
		struct pod_family *f;

		if (cli_prefix_parse(v[i], false, &p) < 0)
			return cli_usage(call, "--gateway %s: not an IP address", v[i]);
		f = family_slot(fam, p.family);
		if (f->gateway)
			return cli_usage(call, "--gateway %s and %s: one gateway per family",
					 f->gateway, v[i]);
		if (!f->has_address)
			return cli_usage(call, "--gateway %s: no --address of its family (%s)", v[i],
					 cli_family_name(p.family));
		f->gateway = v[i];
	}
	return CLI_OK;
}

/* The bridge's address in the subnet of the pod's address of this family. */
static bool bridge_gateway(struct k8snet_ctx *ctx, const char *bridge, const char *pod_cidr,
			   char *buf)
{
	struct cli_link_addr *addrs = NULL;
	struct cli_prefix pod;
	size_t n = 0;
	bool found = false;

	if (cli_prefix_parse(pod_cidr, true, &pod) < 0 || cli_link_addrs(ctx, &addrs, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(addrs[i].link, bridge) == 0 &&
		    cli_prefix_contains(&addrs[i].prefix, &pod)) {
			cli_prefix_str(&addrs[i].prefix, false, buf);
			found = true;
		}
	free(addrs);
	return found;
}

/* A gateway for every family the pod has an address in, or a clear error. */
static int pod_gateways(const struct cli_call *call, struct k8snet_ctx *ctx,
			struct pod_family fam[2])
{
	const char *bridge = cli_str(call, OPT_BRIDGE);

	if (cli_flag(call, OPT_NO_DEFAULT_ROUTE))
		return CLI_OK;
	for (int i = 0; i < 2; i++) {
		struct pod_family *f = &fam[i];

		if (!f->has_address || f->gateway)
			continue;
		if (bridge && bridge_gateway(ctx, bridge, f->first_address, f->derived)) {
			f->gateway = f->derived;
			continue;
		}
		return cli_usage(call, "--address %s: no %s gateway: give --gateway for it, put "
				 "an address of its subnet on bridge %s, or pass --no-default-route",
				 f->first_address, cli_family_name(f->family), bridge ? bridge : "");
	}
	return CLI_OK;
}

static int pod_addresses(const struct cli_call *call, struct k8snet_link_pod *pod,
			 const struct pod_family fam[2])
{
	const char *const *v;
	size_t n = cli_list(call, OPT_ADDRESS, &v);

	for (size_t i = 0; i < n; i++) {
		bool v6 = strchr(v[i], ':') != NULL;

		if (k8snet_link_pod_add_address(pod, v[i], fam[v6].gateway) < 0)
			return cli_usage(call, "--address %s: invalid", v[i]);
	}
	n = cli_list(call, OPT_ROUTE, &v);
	for (size_t i = 0; i < n; i++) {
		char *dst = strdup(v[i]), *gw;
		int r;

		if (!dst)
			return cli_usage_error("out of memory");
		gw = strchr(dst, ',');
		if (gw)
			*gw++ = '\0';
		r = k8snet_link_pod_add_route(pod, dst, gw);
		free(dst);
		if (r < 0)
			return cli_usage(call, "--route %s: expected DST-CIDR[,GATEWAY]", v[i]);
	}
	return CLI_OK;
}

/* The pod object and the node context, everything checked. */
static int pod_prepare(const struct cli_call *call, struct k8snet_link_pod **ret_pod,
		       struct k8snet_ctx **ret_ctx, struct pod_family fam[2])
{
	struct k8snet_link_pod *pod = NULL;
	int r;

	*ret_ctx = NULL;
	if (k8snet_link_pod_new(&pod) < 0)
		return cli_usage_error("out of memory");
	r = pod_scalars(call, pod);
	if (!r)
		r = pod_families(call, fam);
	if (!r)
		r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), ret_ctx);
	if (!r && strcmp(call->cmd->path, "pod detach") != 0)
		r = pod_gateways(call, *ret_ctx, fam);
	if (!r)
		r = pod_addresses(call, pod, fam);
	if (r) {
		k8snet_link_pod_free(pod);
		*ret_ctx = k8snet_ctx_free(*ret_ctx);
		return r;
	}
	*ret_pod = pod;
	return CLI_OK;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* The widest of an attribute over a list, for a table's column. */
static int column(const struct k8snet_link_result *res, uint32_t list, uint32_t attr, int min)
{
	int n = k8snet_link_result_get_count(res, list), w = min;

	for (int i = 0; i < n; i++) {
		const char *v = k8snet_link_result_get_str(res, (uint32_t)i, attr);

		if (v && (int)strlen(v) > w)
			w = (int)strlen(v);
	}
	return w;
}

static void print_result(const struct k8snet_link_result *res)
{
	const uint32_t IFACES = K8SNET_LINK_RESULT_INTERFACES, ADDRS = K8SNET_LINK_RESULT_ADDRESSES;
	const uint32_t ROUTES = K8SNET_LINK_RESULT_ROUTES;
	int n = k8snet_link_result_get_count(res, IFACES);
	int wi = column(res, IFACES, K8SNET_LINK_IFACE_NAME, 9);
	int wa = column(res, ADDRS, K8SNET_LINK_ADDR_ADDRESS, 7);
	int wg = column(res, ADDRS, K8SNET_LINK_ADDR_GATEWAY, 7);
	int wr = column(res, ROUTES, K8SNET_LINK_ROUTE_DST, 5);

	printf("%-*s  %-17s  %-5s  %s\n", wi, "INTERFACE", "MAC", "MTU", "NAMESPACE");
	for (int i = 0; i < n; i++)
		printf("%-*s  %-17s  %-5d  %s\n", wi,
		       k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_IFACE_NAME),
		       or_dash(k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_IFACE_MAC)),
		       k8snet_link_result_get_int(res, (uint32_t)i, K8SNET_LINK_IFACE_MTU),
		       or_dash(k8snet_link_result_get_str(res, (uint32_t)i,
							  K8SNET_LINK_IFACE_SANDBOX)));
	n = k8snet_link_result_get_count(res, ADDRS);
	printf("\n%-*s  %-*s  %s\n", wa, "ADDRESS", wg, "GATEWAY", "INTERFACE");
	for (int i = 0; i < n; i++) {
		int ifc = k8snet_link_result_get_int(res, (uint32_t)i, K8SNET_LINK_ADDR_INTERFACE);

		printf("%-*s  %-*s  %s\n", wa,
		       k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_ADDR_ADDRESS), wg,
		       or_dash(k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_ADDR_GATEWAY)),
		       or_dash(ifc >= 0 ? k8snet_link_result_get_str(res, (uint32_t)ifc,
								     K8SNET_LINK_IFACE_NAME) : NULL));
	}
	n = k8snet_link_result_get_count(res, ROUTES);
	printf("\n%-*s  %s\n", wr, "ROUTE", "GATEWAY");
	for (int i = 0; i < n; i++)
		printf("%-*s  %s\n", wr, k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_ROUTE_DST),
		       or_dash(k8snet_link_result_get_str(res, (uint32_t)i, K8SNET_LINK_ROUTE_GATEWAY)));
}

static int attach_output(const struct cli_call *call, struct k8snet_ctx *ctx,
			 const struct k8snet_link_result *res)
{
	char *json = NULL;
	int r;

	if (!call->json) {
		print_result(res);
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	r = k8snet_link_result_to_json(res, NULL, &json);
	r = r < 0 ? cli_report(ctx, r, "pod attach") : cli_print_text(json);
	k8snet_free(json);
	return r;
}

int cli_pod_attach(const struct cli_call *call)
{
	struct k8snet_link_result *res = NULL;
	struct k8snet_link_pod *pod = NULL;
	struct k8snet_ctx *ctx = NULL;
	struct pod_family fam[2];
	int r = pod_prepare(call, &pod, &ctx, fam);

	if (r)
		return r;
	r = k8snet_link_pod_attach(ctx, pod, &res);
	if (r < 0) {
		r = cli_report(ctx, r, "pod attach");
	} else {
		for (int i = 0; i < 2; i++)
			if (fam[i].has_address)
				cli_warn_forwarding(ctx, fam[i].family, fam[i].family == AF_INET ?
						    "this pod's IPv4 traffic will stay on the bridge" :
						    "this pod's IPv6 traffic will stay on the bridge");
		r = attach_output(call, ctx, res);
	}
	k8snet_link_result_free(res);
	k8snet_link_pod_free(pod);
	k8snet_ctx_free(ctx);
	return r;
}

static int pod_simple(const struct cli_call *call, bool check)
{
	struct k8snet_link_pod *pod = NULL;
	struct k8snet_ctx *ctx = NULL;
	struct pod_family fam[2];
	int r = pod_prepare(call, &pod, &ctx, fam);

	if (r)
		return r;
	r = check ? k8snet_link_pod_check(ctx, pod) : k8snet_link_pod_detach(ctx, pod);
	r = r < 0 ? cli_report(ctx, r, call->cmd->path) : CLI_OK;
	k8snet_link_pod_free(pod);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_pod_check(const struct cli_call *call)
{
	return pod_simple(call, true);
}

int cli_pod_detach(const struct cli_call *call)
{
	return pod_simple(call, false);
}

/* ---- bridge ensure ------------------------------------------------------ */

/* --pod-cidr values, checked. */
static int pod_cidrs(const struct cli_call *call, struct cli_prefix *ret, size_t *ret_n)
{
	const char *const *v;
	size_t n = cli_list(call, OPT_POD_CIDR, &v);

	for (size_t i = 0; i < n; i++)
		if (cli_prefix_parse(v[i], true, &ret[i]) < 0)
			return cli_usage(call, "--pod-cidr %s: not a CIDR", v[i]);
	*ret_n = n;
	return CLI_OK;
}

/* A bridge address outside the node's pod CIDR: the pods' gateway would
 * not be in their subnet. */
static void warn_outside_pod_cidr(const struct cli_call *call, const struct cli_prefix *cidrs,
				  size_t n_cidrs)
{
	const char *const *v;
	size_t n = cli_list(call, OPT_ADDRESS, &v);
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		struct cli_prefix a;
		const struct cli_prefix *same = NULL;
		bool inside = false;

		if (cli_prefix_parse(v[i], true, &a) < 0)
			continue;  /* the library names it */
		for (size_t j = 0; j < n_cidrs; j++)
			if (cidrs[j].family == a.family) {
				same = &cidrs[j];
				inside |= cli_prefix_contains(&cidrs[j], &a);
			}
		if (same && !inside)
			cli_warn("--address %s is outside this node's pod CIDR %s: the bridge would "
				 "not be a gateway in its pods' subnet", v[i],
				 cli_prefix_str(same, true, buf));
	}
}

int cli_bridge_ensure(const struct cli_call *call)
{
	const char *const *addrs, *const *pod_v;
	size_t n = cli_list(call, OPT_ADDRESS, &addrs), n_cidrs = 0;
	struct cli_prefix *cidrs = calloc(cli_list(call, OPT_POD_CIDR, &pod_v) + 1, sizeof(*cidrs));
	struct k8snet_ctx *ctx = NULL;
	uint32_t mtu = 0;
	int r;

	if (!cidrs)
		return cli_usage_error("out of memory");
	r = pod_cidrs(call, cidrs, &n_cidrs);
	if (!r)
		r = cli_u32(call, OPT_MTU, 68, 65535, &mtu);
	if (!r)
		r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);
	if (r) {
		free(cidrs);
		return r;
	}
	warn_outside_pod_cidr(call, cidrs, n_cidrs);
	r = k8snet_link_bridge_ensure(ctx, cli_str(call, OPT_BRIDGE), mtu, addrs, (uint32_t)n);
	if (r < 0) {
		r = cli_report(ctx, r, "bridge ensure");
	} else {
		bool v4 = false, v6 = false;

		for (size_t i = 0; i < n; i++)
			*(strchr(addrs[i], ':') ? &v6 : &v4) = true;
		if (v4)
			cli_warn_forwarding(ctx, AF_INET, "the IPv4 traffic of this bridge's pods will "
					    "stay on it");
		if (v6)
			cli_warn_forwarding(ctx, AF_INET6, "the IPv6 traffic of this bridge's pods will "
					    "stay on it");
		r = CLI_OK;
	}
	free(cidrs);
	k8snet_ctx_free(ctx);
	return r;
}

/* ---- node setup --------------------------------------------------------- */

/* Whether the node has a global IPv6 address: then IPv6 forwarding is part
 * of setting it up, as IPv4's is. */
static int node_has_ipv6(struct k8snet_ctx *ctx)
{
	struct cli_link_addr *addrs = NULL;
	size_t n = 0;
	int found = 0;

	if (cli_link_addrs(ctx, &addrs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		found = addrs[i].prefix.family == AF_INET6;
	free(addrs);
	return found;
}

int cli_node_setup(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	uint32_t flags = 0;
	int r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);

	if (r)
		return r;
	if (cli_flag(call, OPT_BRIDGE_NF))
		flags |= K8SNET_LINK_NODE_F_BRIDGE_NF;
	if (cli_flag(call, OPT_IPV6)) {
		flags |= K8SNET_LINK_NODE_F_IPV6;
	} else {
		int v6 = node_has_ipv6(ctx);

		if (v6 > 0)
			flags |= K8SNET_LINK_NODE_F_IPV6;
		else if (v6 < 0)
			cli_warn("cannot list the node's addresses (%s): IPv6 forwarding is left as it "
				 "is; --ipv6 turns it on", k8snet_ctx_get_error(ctx));
	}
	r = k8snet_link_node_setup(ctx, flags);
	r = r < 0 ? cli_report(ctx, r, "node setup") : CLI_OK;
	k8snet_ctx_free(ctx);
	return r;
}

/* ---- node peer add | del ------------------------------------------------ */

struct peer_opts {
	uint32_t mode, vni, port;
	const char *cidr, *peer_ip, *dev, *local_ip, *vtep_mac;
};

static int peer_parse(const struct cli_call *call, struct peer_opts *o)
{
	const char *mode = cli_str(call, OPT_MODE);
	int r;

	*o = (struct peer_opts){
		.mode = strcmp(mode, "vxlan") == 0 ? K8SNET_LINK_PEER_VXLAN : K8SNET_LINK_PEER_HOST_GW,
		.cidr = cli_str(call, OPT_PEER_POD_CIDR),
		.peer_ip = cli_str(call, OPT_PEER_IP),
		.dev = cli_str(call, OPT_VXLAN_DEV),
		.local_ip = cli_str(call, OPT_LOCAL_IP),
		.vtep_mac = cli_str(call, OPT_VTEP_MAC),
	};
	r = cli_u32(call, OPT_VNI, 0, (1u << 24) - 1, &o->vni);
	if (!r)
		r = cli_u32(call, OPT_VXLAN_PORT, 0, 65535, &o->port);
	if (!r && o->mode == K8SNET_LINK_PEER_VXLAN && !o->dev)
		r = cli_usage(call, "--mode vxlan needs --vxlan-dev");
	return r;
}

static int node_peer(const struct cli_call *call, bool add)
{
	struct k8snet_ctx *ctx = NULL;
	struct peer_opts o;
	int r = peer_parse(call, &o);

	if (!r)
		r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);
	if (r)
		return r;
	/* With --vni and --local-ip, add also makes sure the device exists. */
	if (add && o.mode == K8SNET_LINK_PEER_VXLAN && cli_flag(call, OPT_VNI) && o.local_ip)
		r = k8snet_link_vxlan_ensure(ctx, o.dev, o.vni, o.port, o.local_ip, 0);
	if (r >= 0)
		r = add ? k8snet_link_peer_add(ctx, o.mode, o.cidr, o.peer_ip, o.dev, o.vtep_mac) :
			  k8snet_link_peer_del(ctx, o.mode, o.cidr, o.peer_ip, o.dev, o.vtep_mac);
	if (r < 0) {
		r = cli_report(ctx, r, call->cmd->path);
	} else {
		if (add)
			cli_warn_forwarding(ctx, strchr(o.cidr, ':') ? AF_INET6 : AF_INET,
					    "traffic between this node's pods and the peer's will "
					    "not be routed");
		r = CLI_OK;
	}
	k8snet_ctx_free(ctx);
	return r;
}

int cli_node_peer_add(const struct cli_call *call)
{
	return node_peer(call, true);
}

int cli_node_peer_del(const struct cli_call *call)
{
	return node_peer(call, false);
}
