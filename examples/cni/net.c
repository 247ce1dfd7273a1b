/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod plumbing through the library's link layer (k8snet/link.h): the bridge
 * with its gateway addresses, the veth pair into the pod, addresses and
 * routes, and CHECK's comparison.  The node is the namespace the plugin runs
 * in; the pod is CNI_NETNS. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "cni.h"

#include <k8snet/link.h>

/* code unless the cause says better: a transient failure is "try again
 * later", a full disk or an I/O error the system's. */
static int lib_fail(int code, const char *msg, struct k8snet_ctx *ctx, int r)
{
	const char *m = ctx ? k8snet_ctx_get_error(ctx) : "";

	if (code == CNI_ERR_INTERNAL)
		code = cni_code_for_errno(r, code);
	return cni_fail(code, msg, "%s", *m ? m : k8snet_strerror(r));
}

static int ctx_open(struct k8snet_ctx **ret)
{
	int r = k8snet_ctx_new(ret);

	return r < 0 ? lib_fail(CNI_ERR_INTERNAL, "cannot create a library context", NULL, r) : 0;
}

/* The gateway addresses the bridge carries when isGateway: each address's
 * gateway with the address's prefix length ("10.22.0.1/24"). */
static int bridge_addresses(const struct cni_conf *conf, const struct cni_result *res,
			    char ***ret, uint32_t *ret_n)
{
	char **addrs = NULL;
	uint32_t n = 0;
	size_t i;

	for (i = 0; conf->is_gateway && i < res->n_ips; i++) {
		const char *slash = strchr(res->ips[i].address, '/');

		if (!res->ips[i].gateway || !slash)
			continue;
		addrs = cni_xrealloc_array(addrs, n + 1, sizeof(char *));
		addrs[n++] = cni_asprintf("%s%s", res->ips[i].gateway, slash);
	}
	*ret = addrs;
	*ret_n = n;
	return 0;
}

static bool is_default_dst(const char *dst)
{
	return !strcmp(dst, "0.0.0.0/0") || !strcmp(dst, "::/0");
}

/* The pod description both attach and check use. */
static int pod_build(const struct cni_env *env, const struct cni_conf *conf,
		     const struct cni_result *res, struct k8snet_link_pod **ret)
{
	struct k8snet_link_pod *pod = NULL;
	uint32_t flags = 0;
	size_t i;
	int r = k8snet_link_pod_new(&pod);

	/* The path names the sandbox in the result; the descriptor main.c
	 * opened and checked is what the link layer enters. */
	if (r >= 0 && env->netns)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_NETNS_PATH, env->netns);
	if (r >= 0 && env->netns_fd >= 0)
		r = k8snet_link_pod_set_netns_fd(pod, env->netns_fd);
	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, env->container_id);
	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, env->ifname);
	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_BRIDGE, conf->bridge);
	if (r >= 0 && conf->mtu)
		r = k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_MTU, (uint32_t)conf->mtu);
	if (conf->hairpin_mode)
		flags |= K8SNET_LINK_POD_F_HAIRPIN;
	/* As the reference plugin: a default route only with isDefaultGateway;
	 * otherwise the routes IPAM gave. */
	if (!conf->is_default_gateway)
		flags |= K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE;
	if (r >= 0)
		r = k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_FLAGS, flags);
	for (i = 0; r >= 0 && res && i < res->n_ips; i++)
		r = k8snet_link_pod_add_address(pod, res->ips[i].address, res->ips[i].gateway);
	for (i = 0; r >= 0 && res && i < res->n_routes; i++) {
		if (conf->is_default_gateway && is_default_dst(res->routes[i].dst))
			continue;
		r = k8snet_link_pod_add_route(pod, res->routes[i].dst, res->routes[i].gw);
	}
	if (r < 0) {
		k8snet_link_pod_free(pod);
		return cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config", "%s",
				k8snet_strerror(r));
	}
	*ret = pod;
	return 0;
}

/* Our result: the bridge, then what attach reports (host end, pod end),
 * addresses pointing at the pod's interface. */
static int fill_result(const struct cni_conf *conf, const struct k8snet_link_result *lr,
		       struct cni_result *res)
{
	int n = k8snet_link_result_get_count(lr, K8SNET_LINK_RESULT_INTERFACES), i, *map;
	struct cni_result out = { 0 };

	map = cni_xrealloc_array(NULL, (size_t)(n > 0 ? n : 1), sizeof(int));
	cni_result_add_iface(&out, conf->bridge, NULL, NULL, 0);
	for (i = 0; i < n; i++) {
		const char *name = k8snet_link_result_get_str(lr, (uint32_t)i, K8SNET_LINK_IFACE_NAME);
		const char *mac = k8snet_link_result_get_str(lr, (uint32_t)i, K8SNET_LINK_IFACE_MAC);

		if (name && !strcmp(name, conf->bridge)) {
			/* The library reported the bridge itself: use its entry. */
			free(out.ifaces[0].mac);
			out.ifaces[0].mac = cni_strdup(mac);
			map[i] = 0;
			continue;
		}
		map[i] = cni_result_add_iface(&out, name, mac,
			k8snet_link_result_get_str(lr, (uint32_t)i, K8SNET_LINK_IFACE_SANDBOX),
			k8snet_link_result_get_int(lr, (uint32_t)i, K8SNET_LINK_IFACE_MTU));
	}
	n = k8snet_link_result_get_count(lr, K8SNET_LINK_RESULT_ADDRESSES);
	for (i = 0; i < n; i++) {
		int idx = k8snet_link_result_get_int(lr, (uint32_t)i, K8SNET_LINK_ADDR_INTERFACE);
		int nif = k8snet_link_result_get_count(lr, K8SNET_LINK_RESULT_INTERFACES);

		cni_result_add_ip(&out,
				  k8snet_link_result_get_str(lr, (uint32_t)i, K8SNET_LINK_ADDR_ADDRESS),
				  k8snet_link_result_get_str(lr, (uint32_t)i, K8SNET_LINK_ADDR_GATEWAY),
				  idx >= 0 && idx < nif ? map[idx] : -1);
	}
	/* Routes as the reference plugin reports them: IPAM's as configured,
	 * then the default route through each family's gateway. */
	for (i = 0; i < (int)res->n_routes; i++)
		if (!conf->is_default_gateway || !is_default_dst(res->routes[i].dst))
			cni_result_add_route(&out, res->routes[i].dst, res->routes[i].gw);
	for (i = 0; conf->is_default_gateway && i < (int)res->n_ips; i++) {
		const char *dst = strchr(res->ips[i].address, ':') ? "::/0" : "0.0.0.0/0";
		size_t k;
		bool dup = false;

		for (k = 0; k < out.n_routes; k++)
			dup |= !strcmp(out.routes[k].dst, dst);
		if (res->ips[i].gateway && !dup)
			cni_result_add_route(&out, dst, res->ips[i].gateway);
	}
	free(map);
	out.dns = res->dns;
	res->dns = NULL;
	cni_result_done(res);
	*res = out;
	return 0;
}

int cni_net_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_link_pod *pod = NULL;
	struct k8snet_link_result *lr = NULL;
	char **addrs = NULL;
	uint32_t n = 0, i;
	int r;

	/* main.c has already checked CNI_NETNS, before IPAM did any work. */
	if (ctx_open(&ctx) < 0)
		return -1;
	bridge_addresses(conf, res, &addrs, &n);
	r = k8snet_link_bridge_ensure(ctx, conf->bridge, (uint32_t)conf->mtu,
				      (const char *const *)addrs, n);
	if (r < 0)
		r = lib_fail(r == -EEXIST ? CNI_ERR_INVALID_CONFIG : CNI_ERR_INTERNAL,
			     "cannot set up the bridge", ctx, r);
	if (r >= 0 && conf->is_gateway) {
		r = k8snet_link_node_setup(ctx, 0);
		if (r < 0)
			r = lib_fail(CNI_ERR_INTERNAL, "cannot enable forwarding", ctx, r);
	}
	if (r >= 0)
		r = pod_build(env, conf, res, &pod);
	if (r >= 0) {
		r = k8snet_link_pod_attach(ctx, pod, &lr);
		if (r == -EEXIST)
			r = lib_fail(CNI_ERR_IFACE_EXISTS, "already exists in the container", ctx, r);
		else if (r < 0)
			r = lib_fail(CNI_ERR_INTERNAL, "cannot attach the pod", ctx, r);
	}
	if (r >= 0)
		r = fill_result(conf, lr, res);
	for (i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	k8snet_link_result_free(lr);
	k8snet_link_pod_free(pod);
	k8snet_ctx_free(ctx);
	return r < 0 ? -1 : 0;
}

static int detach(struct k8snet_ctx *ctx, const char *container_id, const char *ifname,
		  const char *bridge)
{
	struct k8snet_link_pod *pod = NULL;
	int r = k8snet_link_pod_new(&pod);

	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, container_id);
	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, ifname);
	if (r >= 0)
		r = k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_BRIDGE, bridge);
	if (r >= 0)
		r = k8snet_link_pod_detach(ctx, pod);
	if (r < 0)
		r = lib_fail(CNI_ERR_INTERNAL, "cannot detach the pod", ctx, r);
	k8snet_link_pod_free(pod);
	return r;
}

int cni_net_del(const struct cni_env *env, const struct cni_conf *conf)
{
	struct k8snet_ctx *ctx = NULL;
	int r;

	if (ctx_open(&ctx) < 0)
		return -1;
	r = detach(ctx, env->container_id, env->ifname, conf->bridge);
	k8snet_ctx_free(ctx);
	return r < 0 ? -1 : 0;
}

int cni_net_check(const struct cni_env *env, const struct cni_conf *conf,
		  const struct cni_result *prev)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_link_pod *pod = NULL;
	struct cni_result mine = { 0 };
	size_t i;
	int r;

	if (ctx_open(&ctx) < 0)
		return -1;
	/* Only the addresses on our interface in the container. */
	for (i = 0; i < prev->n_ips; i++) {
		int idx = prev->ips[i].iface;

		if (idx >= 0 && (size_t)idx < prev->n_ifaces &&
		    strcmp(prev->ifaces[idx].name, env->ifname) == 0 && prev->ifaces[idx].sandbox)
			cni_result_add_ip(&mine, prev->ips[i].address, prev->ips[i].gateway, 0);
	}
	for (i = 0; i < prev->n_routes; i++)
		cni_result_add_route(&mine, prev->routes[i].dst, prev->routes[i].gw);
	r = pod_build(env, conf, &mine, &pod);
	if (r >= 0) {
		r = k8snet_link_pod_check(ctx, pod);
		if (r == -ENOENT)
			r = lib_fail(CNI_ERR_CHECK_FAILED, "interface missing", ctx, r);
		else if (r < 0)
			r = lib_fail(CNI_ERR_CHECK_FAILED, "container network differs", ctx, r);
	}
	cni_result_done(&mine);
	k8snet_link_pod_free(pod);
	k8snet_ctx_free(ctx);
	return r < 0 ? -1 : 0;
}
