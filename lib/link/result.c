/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The result of an attach, shaped like a CNI result: interfaces (the bridge,
 * the host veth end, the pod interface), addresses with their gateway and
 * interface index, routes.  Planned from the request before any kernel I/O;
 * the kernel part only fills in MACs. */
#include <string.h>

#include <cjson/cJSON.h>

#include "link/internal.h"

enum { IFACE_BRIDGE, IFACE_HOST, IFACE_POD, IFACE_COUNT };

K8SNET_EXPORT struct k8snet_link_result *k8snet_link_result_free(struct k8snet_link_result *res)
{
	size_t i;

	if (!res)
		return NULL;
	for (i = 0; i < res->n_ifaces; i++) {
		free(res->ifaces[i].name);
		free(res->ifaces[i].mac);
		free(res->ifaces[i].sandbox);
	}
	for (i = 0; i < res->n_addrs; i++) {
		free(res->addrs[i].address);
		free(res->addrs[i].gateway);
	}
	for (i = 0; i < res->n_routes; i++) {
		free(res->routes[i].dst);
		free(res->routes[i].gateway);
	}
	free(res->ifaces);
	free(res->addrs);
	free(res->routes);
	free(res);
	return NULL;
}

static char *strdup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int plan_ifaces(struct k8snet_link_result *res, const struct k8snet_link_pod *pod,
		       const char *bridge_name)
{
	res->ifaces = calloc(IFACE_COUNT, sizeof(*res->ifaces));
	if (!res->ifaces)
		return -ENOMEM;
	res->n_ifaces = IFACE_COUNT;
	res->ifaces[IFACE_BRIDGE].name = strdup(bridge_name);
	res->ifaces[IFACE_HOST].name = link_host_ifname(pod->container_id, link_pod_ifname(pod));
	res->ifaces[IFACE_POD].name = strdup(link_pod_ifname(pod));
	res->ifaces[IFACE_POD].sandbox = strdup_or_empty(pod->netns_path);
	for (size_t i = 0; i < IFACE_COUNT; i++) {
		if (!res->ifaces[i].sandbox)
			res->ifaces[i].sandbox = strdup("");
		if (!res->ifaces[i].name || !res->ifaces[i].sandbox)
			return -ENOMEM;
	}
	return 0;
}

static int plan_addrs(struct k8snet_link_result *res, const struct k8snet_link_pod *pod)
{
	res->addrs = calloc(pod->n_addrs ? pod->n_addrs : 1, sizeof(*res->addrs));
	if (!res->addrs)
		return -ENOMEM;
	for (size_t i = 0; i < pod->n_addrs; i++) {
		struct link_addr_result *a = &res->addrs[res->n_addrs++];

		a->iface = IFACE_POD;
		a->address = link_ip_format(&pod->addrs[i].addr, true);
		if (!a->address)
			return -ENOMEM;
		if (pod->addrs[i].gw.family) {
			a->gateway = link_ip_format(&pod->addrs[i].gw, false);
			if (!a->gateway)
				return -ENOMEM;
		}
	}
	return 0;
}

static int add_route(struct k8snet_link_result *res, char *dst, const struct link_ip *gw)
{
	struct link_route_result *r = &res->routes[res->n_routes++];

	r->dst = dst;
	if (!dst)
		return -ENOMEM;
	if (gw) {
		r->gateway = link_ip_format(gw, false);
		if (!r->gateway)
			return -ENOMEM;
	}
	return 0;
}

static int plan_routes(struct k8snet_link_result *res, const struct k8snet_link_pod *pod)
{
	struct link_route_plan *plan = calloc(pod->n_routes + 2, sizeof(*plan));
	size_t n;
	int r = 0;

	res->routes = calloc(pod->n_routes + 2, sizeof(*res->routes));
	if (!plan || !res->routes) {
		free(plan);
		return -ENOMEM;
	}
	n = link_pod_plan_routes(pod, plan);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_route(res, link_ip_format(&plan[i].dst, true), plan[i].gw);
	free(plan);
	return r;
}

int link_result_plan(const struct k8snet_link_pod *pod, const char *bridge_name,
		     struct k8snet_link_result **ret)
{
	struct k8snet_link_result *res = calloc(1, sizeof(*res));
	int r;

	if (!res)
		return -ENOMEM;
	res->pid = getpid();
	r = plan_ifaces(res, pod, bridge_name);
	if (r == 0)
		r = plan_addrs(res, pod);
	if (r == 0)
		r = plan_routes(res, pod);
	if (r < 0) {
		k8snet_link_result_free(res);
		return r;
	}
	*ret = res;
	return 0;
}

int link_result_set_iface(struct k8snet_link_result *res, size_t i, const char *mac, int mtu)
{
	char *copy = strdup(mac);

	if (!copy)
		return -ENOMEM;
	free(res->ifaces[i].mac);
	res->ifaces[i].mac = copy;
	res->ifaces[i].mtu = mtu;
	return 0;
}

K8SNET_EXPORT int k8snet_link_result_get_count(const struct k8snet_link_result *res, uint32_t list)
{
	K8S_FORK_GUARD_PID(res, NULL);
	if (!res)
		return -EINVAL;
	switch (list) {
	case K8SNET_LINK_RESULT_INTERFACES: return (int)res->n_ifaces;
	case K8SNET_LINK_RESULT_ADDRESSES: return (int)res->n_addrs;
	case K8SNET_LINK_RESULT_ROUTES: return (int)res->n_routes;
	default: return -EINVAL;
	}
}

K8SNET_EXPORT const char *k8snet_link_result_get_str(const struct k8snet_link_result *res,
						     uint32_t index, uint32_t attr)
{
	K8S_FORK_GUARD_PID_OR(res, NULL);
	if (!res)
		return NULL;
	switch (attr) {
	case K8SNET_LINK_IFACE_NAME:
	case K8SNET_LINK_IFACE_MAC:
	case K8SNET_LINK_IFACE_SANDBOX:
		if (index >= res->n_ifaces)
			return NULL;
		return attr == K8SNET_LINK_IFACE_NAME ? res->ifaces[index].name :
		       attr == K8SNET_LINK_IFACE_MAC ? res->ifaces[index].mac :
						       res->ifaces[index].sandbox;
	case K8SNET_LINK_ADDR_ADDRESS:
	case K8SNET_LINK_ADDR_GATEWAY:
		if (index >= res->n_addrs)
			return NULL;
		return attr == K8SNET_LINK_ADDR_ADDRESS ? res->addrs[index].address
							: res->addrs[index].gateway;
	case K8SNET_LINK_ROUTE_DST:
	case K8SNET_LINK_ROUTE_GATEWAY:
		if (index >= res->n_routes)
			return NULL;
		return attr == K8SNET_LINK_ROUTE_DST ? res->routes[index].dst
						     : res->routes[index].gateway;
	default:
		return NULL;
	}
}

K8SNET_EXPORT int k8snet_link_result_get_int(const struct k8snet_link_result *res,
					     uint32_t index, uint32_t attr)
{
	K8S_FORK_GUARD_PID(res, NULL);
	if (!res)
		return -EINVAL;
	if (attr == K8SNET_LINK_IFACE_MTU && index < res->n_ifaces)
		return res->ifaces[index].mtu;
	if (attr == K8SNET_LINK_ADDR_INTERFACE && index < res->n_addrs)
		return res->addrs[index].iface;
	return -EINVAL;
}

static cJSON *iface_json(const struct link_iface *i, bool with_mtu)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "name", i->name);
	if (i->mac)
		cJSON_AddStringToObject(j, "mac", i->mac);
	if (with_mtu && i->mtu > 0)
		cJSON_AddNumberToObject(j, "mtu", i->mtu);
	if (*i->sandbox)
		cJSON_AddStringToObject(j, "sandbox", i->sandbox);
	return j;
}

static cJSON *result_json(const struct k8snet_link_result *res, const char *cni_version)
{
	cJSON *root = cJSON_CreateObject(), *list, *j;
	size_t i;

	cJSON_AddStringToObject(root, "cniVersion", cni_version);
	list = cJSON_AddArrayToObject(root, "interfaces");
	for (i = 0; i < res->n_ifaces; i++)
		/* Interface "mtu" is new in CNI 1.1.0. */
		cJSON_AddItemToArray(list, iface_json(&res->ifaces[i],
						      strncmp(cni_version, "1.1", 3) == 0));
	list = cJSON_AddArrayToObject(root, "ips");
	for (i = 0; i < res->n_addrs; i++) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "address", res->addrs[i].address);
		if (res->addrs[i].gateway)
			cJSON_AddStringToObject(j, "gateway", res->addrs[i].gateway);
		cJSON_AddNumberToObject(j, "interface", res->addrs[i].iface);
		cJSON_AddItemToArray(list, j);
	}
	list = cJSON_AddArrayToObject(root, "routes");
	for (i = 0; i < res->n_routes; i++) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "dst", res->routes[i].dst);
		if (res->routes[i].gateway)
			cJSON_AddStringToObject(j, "gw", res->routes[i].gateway);
		cJSON_AddItemToArray(list, j);
	}
	return root;
}

K8SNET_EXPORT int k8snet_link_result_to_json(const struct k8snet_link_result *res,
					     const char *cni_version, char **ret_json)
{
	cJSON *root;
	char *out;

	K8S_FORK_GUARD_PID(res, NULL);
	if (!res || !ret_json || (cni_version && !*cni_version))
		return -EINVAL;
	root = result_json(res, cni_version ? cni_version : "1.0.0");
	out = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!out)
		return -ENOMEM;
	*ret_json = out;
	return 0;
}
