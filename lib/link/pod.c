/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What to attach: the pod interface description, and its deterministic
 * host-side name.  No kernel I/O here. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "link/internal.h"

K8SNET_EXPORT int k8snet_link_pod_new(struct k8snet_link_pod **ret)
{
	struct k8snet_link_pod *pod;

	if (!ret)
		return -EINVAL;
	pod = calloc(1, sizeof(*pod));
	if (!pod)
		return -ENOMEM;
	pod->netns_fd = -1;
	pod->pid = getpid();
	*ret = pod;
	return 0;
}

K8SNET_EXPORT struct k8snet_link_pod *k8snet_link_pod_free(struct k8snet_link_pod *pod)
{
	if (!pod)
		return NULL;
	free(pod->netns_path);
	free(pod->container_id);
	free(pod->ifname);
	free(pod->bridge);
	free(pod->mac);
	if (pod->netns_fd >= 0)
		close(pod->netns_fd);
	free(pod->addrs);
	free(pod->routes);
	free(pod->error);
	free(pod);
	return NULL;
}

/* A pod description has no context: it keeps the message of its last
 * failed call itself, naming the field (k8snet_link_pod_get_error). */
#define pod_fail(pod, err, ...) k8s_slot_error(&(pod)->error, (err), __VA_ARGS__)
#define pod_clear_error(pod) k8s_slot_clear(&(pod)->error)

K8SNET_EXPORT const char *k8snet_link_pod_get_error(const struct k8snet_link_pod *pod)
{
	return pod && pod->error ? pod->error : "";
}

static const char *str_attr_name(uint32_t attr)
{
	switch (attr) {
	case K8SNET_LINK_POD_NETNS_PATH: return "netns_path";
	case K8SNET_LINK_POD_CONTAINER_ID: return "container_id";
	case K8SNET_LINK_POD_IFNAME: return "ifname";
	case K8SNET_LINK_POD_BRIDGE: return "bridge";
	case K8SNET_LINK_POD_MAC: return "mac";
	default: return "?";
	}
}

static char **pod_str_field(struct k8snet_link_pod *pod, uint32_t attr)
{
	switch (attr) {
	case K8SNET_LINK_POD_NETNS_PATH: return &pod->netns_path;
	case K8SNET_LINK_POD_CONTAINER_ID: return &pod->container_id;
	case K8SNET_LINK_POD_IFNAME: return &pod->ifname;
	case K8SNET_LINK_POD_BRIDGE: return &pod->bridge;
	case K8SNET_LINK_POD_MAC: return &pod->mac;
	default: return NULL;
	}
}

static bool pod_str_valid(uint32_t attr, const char *value)
{
	uint8_t mac[6];

	switch (attr) {
	case K8SNET_LINK_POD_IFNAME:
	case K8SNET_LINK_POD_BRIDGE:
		return link_ifname_valid(value);
	case K8SNET_LINK_POD_MAC:
		return link_mac_parse(value, mac) == 0;
	default:
		return *value != '\0';
	}
}

K8SNET_EXPORT int k8snet_link_pod_set_str(struct k8snet_link_pod *pod, uint32_t attr,
					  const char *value)
{
	char **field, *copy = NULL;

	K8S_FORK_GUARD_PID(pod, &pod->error);
	if (!pod)
		return -EINVAL;
	pod_clear_error(pod);
	field = pod_str_field(pod, attr);
	if (!field)
		return pod_fail(pod, -EINVAL, "unknown string attribute %u", attr);
	if (value) {
		if (!pod_str_valid(attr, value))
			return pod_fail(pod, -EINVAL, "%s: '%s' is not valid%s", str_attr_name(attr),
					value, attr == K8SNET_LINK_POD_MAC ? " (want xx:xx:xx:xx:xx:xx)" :
					attr == K8SNET_LINK_POD_IFNAME || attr == K8SNET_LINK_POD_BRIDGE ?
					" (an interface name: 1-15 characters, no '/', ':' or space)" :
					" (empty)");
		copy = strdup(value);
		if (!copy)
			return pod_fail(pod, -ENOMEM, "out of memory");
	}
	free(*field);
	*field = copy;
	return 0;
}

K8SNET_EXPORT const char *k8snet_link_pod_get_str(const struct k8snet_link_pod *pod,
						  uint32_t attr)
{
	char **field;

	K8S_FORK_GUARD_PID_OR(pod, NULL);
	if (!pod)
		return NULL;
	if (attr == K8SNET_LINK_POD_IFNAME)
		return link_pod_ifname(pod);
	/* The cast only finds the field; nothing is written through it. */
	field = pod_str_field((struct k8snet_link_pod *)pod, attr);
	return field ? *field : NULL;
}

K8SNET_EXPORT int k8snet_link_pod_set_u32(struct k8snet_link_pod *pod, uint32_t attr,
					  uint32_t value)
{
	K8S_FORK_GUARD_PID(pod, &pod->error);
	if (!pod)
		return -EINVAL;
	pod_clear_error(pod);
	switch (attr) {
	case K8SNET_LINK_POD_MTU:
		/* 68: the IPv4 minimum; 65535: the veth maximum. */
		if (value != 0 && (value < 68 || value > 65535))
			return pod_fail(pod, -ERANGE, "mtu: %u out of range: must be 68..65535 (or 0)",
					value);
		pod->mtu = value;
		return 0;
	case K8SNET_LINK_POD_FLAGS:
		if (value & ~(K8SNET_LINK_POD_F_HAIRPIN | K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE))
			return pod_fail(pod, -EINVAL, "flags: unknown flags 0x%x", value &
					~(K8SNET_LINK_POD_F_HAIRPIN | K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE));
		pod->flags = value;
		return 0;
	default:
		return pod_fail(pod, -EINVAL, "unknown number attribute %u", attr);
	}
}

K8SNET_EXPORT uint32_t k8snet_link_pod_get_u32(const struct k8snet_link_pod *pod, uint32_t attr)
{
	K8S_FORK_GUARD_PID_OR(pod, 0);
	if (!pod)
		return 0;
	if (attr == K8SNET_LINK_POD_MTU)
		return pod->mtu;
	if (attr == K8SNET_LINK_POD_FLAGS)
		return pod->flags;
	return 0;
}

K8SNET_EXPORT int k8snet_link_pod_set_netns_fd(struct k8snet_link_pod *pod, int fd)
{
	int copy;

	K8S_FORK_GUARD_PID(pod, &pod->error);
	if (!pod)
		return -EINVAL;
	pod_clear_error(pod);
	if (fd < 0)
		return pod_fail(pod, -EINVAL, "netns fd: %d is not a file descriptor", fd);
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return pod_fail(pod, -errno, "netns fd: cannot duplicate %d: %m", fd);
	if (pod->netns_fd >= 0)
		close(pod->netns_fd);
	pod->netns_fd = copy;
	return 0;
}

K8SNET_EXPORT int k8snet_link_pod_add_address(struct k8snet_link_pod *pod, const char *cidr,
					      const char *gateway)
{
	struct link_pod_addr a = { 0 }, *n;
	size_t i;

	K8S_FORK_GUARD_PID(pod, &pod->error);
	if (!pod)
		return -EINVAL;
	pod_clear_error(pod);
	if (link_ip_parse(cidr, true, &a.addr) < 0)
		return pod_fail(pod, -EINVAL, "address: '%s' is not an address with a prefix "
				"length (10.244.1.5/24)", cidr ? cidr : "(null)");
	if (gateway && (link_ip_parse(gateway, false, &a.gw) < 0 ||
			a.gw.family != a.addr.family))
		return pod_fail(pod, -EINVAL, "gateway: '%s' is not an address of %s's family",
				gateway, cidr);
	for (i = 0; i < pod->n_addrs; i++) {
		if (link_ip_equal(&pod->addrs[i].addr, &a.addr))
			return pod_fail(pod, -EEXIST, "address: %s is already there", cidr);
		/* One default route per family: one gateway per family. */
		if (gateway && pod->addrs[i].gw.family == a.gw.family &&
		    !link_ip_equal(&pod->addrs[i].gw, &a.gw))
			return pod_fail(pod, -EEXIST, "gateway: %s: the family already has "
					"another gateway (one default route per family)", gateway);
	}
	n = realloc(pod->addrs, (pod->n_addrs + 1) * sizeof(*n));
	if (!n)
		return pod_fail(pod, -ENOMEM, "out of memory");
	n[pod->n_addrs++] = a;
	pod->addrs = n;
	return 0;
}

K8SNET_EXPORT int k8snet_link_pod_add_route(struct k8snet_link_pod *pod, const char *dst,
					    const char *gateway)
{
	struct link_pod_route r = { 0 }, *n;

	K8S_FORK_GUARD_PID(pod, &pod->error);
	if (!pod)
		return -EINVAL;
	pod_clear_error(pod);
	if (link_ip_parse(dst, true, &r.dst) < 0)
		return pod_fail(pod, -EINVAL, "route dst: '%s' is not a CIDR", dst ? dst : "(null)");
	if (gateway && (link_ip_parse(gateway, false, &r.gw) < 0 || r.gw.family != r.dst.family))
		return pod_fail(pod, -EINVAL, "route gateway: '%s' is not an address of %s's family",
				gateway, dst);
	n = realloc(pod->routes, (pod->n_routes + 1) * sizeof(*n));
	if (!n)
		return pod_fail(pod, -ENOMEM, "out of memory");
	n[pod->n_routes++] = r;
	pod->routes = n;
	return 0;
}

const char *link_pod_ifname(const struct k8snet_link_pod *pod)
{
	return pod->ifname ? pod->ifname : "eth0";
}

/* FNV-1a, 64 bits: stable across releases and machines, which is the point;
 * not a defence against chosen collisions (container ids are not hostile). */
static uint64_t fnv1a(uint64_t h, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

void link_mac_from_key(const char *container_id, const char *ifname, char which, uint8_t mac[6])
{
	uint64_t h = 14695981039346656037ull;

	h = fnv1a(h, container_id, strlen(container_id) + 1);
	h = fnv1a(h, ifname, strlen(ifname) + 1);
	h = fnv1a(h, &which, 1);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);   /* local, unicast */
}

char *link_host_ifname(const char *container_id, const char *ifname)
{
	uint64_t h = 14695981039346656037ull;
	char *out;

	/* The NUL separates the two so ("ab","c") and ("a","bc") differ. */
	h = fnv1a(h, container_id, strlen(container_id) + 1);
	h = fnv1a(h, ifname, strlen(ifname));
	if (asprintf(&out, "veth%011llx", (unsigned long long)(h & 0xfffffffffffull)) < 0)
		return NULL;
	return out;
}

K8SNET_EXPORT int k8snet_link_host_ifname(const char *container_id, const char *ifname,
					  char **ret)
{
	if (!container_id || !*container_id || !ret || (ifname && !link_ifname_valid(ifname)))
		return -EINVAL;
	*ret = link_host_ifname(container_id, ifname ? ifname : "eth0");
	return *ret ? 0 : -ENOMEM;
}

const struct link_ip *link_pod_gateway(const struct k8snet_link_pod *pod, int family)
{
	size_t i;

	for (i = 0; i < pod->n_addrs; i++)
		if (pod->addrs[i].gw.family == family)
			return &pod->addrs[i].gw;
	return NULL;
}

static bool route_planned(const struct link_route_plan *out, size_t n, const struct link_ip *dst)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].dst.prefix == dst->prefix && link_ip_equal(&out[i].dst, dst))
			return true;
	return false;
}

size_t link_pod_plan_routes(const struct k8snet_link_pod *pod, struct link_route_plan *out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		const struct link_ip *gw = link_pod_gateway(pod, families[i]);

		if (!gw || (pod->flags & K8SNET_LINK_POD_F_NO_DEFAULT_ROUTE))
			continue;
		out[n] = (struct link_route_plan){ .dst = { .family = families[i] }, .gw = gw };
		n++;
	}
	for (size_t i = 0; i < pod->n_routes; i++) {
		const struct link_pod_route *pr = &pod->routes[i];
		struct link_ip dst;

		link_ip_network(&pr->dst, &dst);
		if (route_planned(out, n, &dst))
			continue;
		out[n].dst = dst;
		out[n].gw = pr->gw.family ? &pr->gw : link_pod_gateway(pod, pr->dst.family);
		n++;
	}
	return n;
}

int link_pod_validate(struct k8snet_ctx *ctx, const struct k8snet_link_pod *pod)
{
	if (!pod->container_id)
		return k8s_error_at(ctx, -EINVAL, "pod.container_id", "required");
	if (!pod->bridge)
		return k8s_error_at(ctx, -EINVAL, "pod.bridge", "required");
	if (!pod->netns_path && pod->netns_fd < 0)
		return k8s_error_at(ctx, -EINVAL, "pod.netns", "required (a path or an fd)");
	return 0;
}
