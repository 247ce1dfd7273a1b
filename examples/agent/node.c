/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The node itself (flannel's part): forwarding sysctls, the pod bridge with
 * the gateway address of this node's podCIDR(s), the CNI configuration the
 * runtime's k8snet-cni reads, and a route (host-gw) or VXLAN entries to
 * every other node's podCIDR, following Nodes as they come and go.
 *
 * What is wanted (from the Node objects) and what is installed are kept
 * apart; a sync makes the kernel match, and a failed entry is retried at the
 * next sync.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <k8snet/k8snet.h>

#include "agent.h"

#define BRIDGE_NAME "cni0"
#define VXLAN_DEV "k8snet.1"
#define VXLAN_VNI 1
#define CNI_NETWORK "k8snet"
#define CNI_FILE "10-k8snet.conflist"

void peer_free(void *v)
{
	struct peer *p = v;

	if (!p)
		return;
	free(p->cidr);
	free(p->ip);
	free(p);
}

static int family_of(const char *addr)
{
	return strchr(addr, ':') ? AF_INET6 : AF_INET;
}

const char *node_internal_ip(const struct node_state *n, int family)
{
	size_t i;

	for (i = 0; i < n->n_addrs; i++)
		if (family_of(n->addrs[i]) == family)
			return n->addrs[i];
	return NULL;
}

/* A node's addresses: InternalIP first, then ExternalIP (at most 4). */
static size_t node_addresses(const cJSON *node, char **out, size_t max)
{
	static const char *const types[] = { "InternalIP", "ExternalIP" };
	size_t n = 0, t;

	for (t = 0; t < 2; t++) {
		const cJSON *a;

		cJSON_ArrayForEach(a, json_at(node, "status.addresses")) {
			const char *type = json_str(a, "type"), *addr = json_str(a, "address");
			unsigned char tmp[16];

			if (!type || !addr || strcmp(type, types[t]) != 0 || n == max)
				continue;
			if (inet_pton(family_of(addr), addr, tmp) != 1)
				continue;
			out[n++] = xstrdup(addr);
		}
	}
	return n;
}

static size_t node_cidrs(const cJSON *node, char **out, size_t max)
{
	const cJSON *v;
	const char *one;
	size_t n = 0;

	cJSON_ArrayForEach(v, json_at(node, "spec.podCIDRs"))
		if (cJSON_IsString(v) && n < max)
			out[n++] = xstrdup(v->valuestring);
	if (!n && (one = json_str(node, "spec.podCIDR")) && *one)
		out[n++] = xstrdup(one);
	return n;
}

static bool same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!a[i] || !b[i] || strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void self_update(struct agent *a, const cJSON *obj)
{
	struct node_state *n = &a->node;
	char *addrs[4] = { 0 }, *cidrs[2] = { 0 };
	size_t na = node_addresses(obj, addrs, 4), nc = node_cidrs(obj, cidrs, 2), i;
	const cJSON *labels = json_at(obj, "metadata.labels");
	const char *zone = json_str(labels, "topology.kubernetes.io/zone");
	int r = 0;

	if (!zone)
		zone = json_str(labels, "failure-domain.beta.kubernetes.io/zone");
	if (!same_list(addrs, na, n->addrs, n->n_addrs)) {
		log_info("node %s: addresses %s%s%s", a->opt.node_name, na ? addrs[0] : "(none)",
			 na > 1 ? ", " : "", na > 1 ? addrs[1] : "");
		/* Added addresses go into the proxy as they are; any other
		 * change needs a fresh proxy (the list cannot shrink). */
		if (n->n_addrs == 0) {
			for (i = 0; i < na && r >= 0; i++)
				r = k8snet_proxy_add_str(a->model.proxy, K8SNET_PROXY_NODE_IP, addrs[i]);
			if (r < 0)
				a->model.proxy_rebuild = true;
		} else {
			a->model.proxy_rebuild = true;
		}
		a->model.proxy_dirty = true;
		free_list(n->addrs, n->n_addrs);
		memcpy(n->addrs, addrs, sizeof(addrs));
		n->n_addrs = na;
		n->vxlan_done = false;
	} else {
		free_list(addrs, na);
	}
	if (!same_list(cidrs, nc, n->pod_cidrs, n->n_pod_cidrs)) {
		log_info("node %s: podCIDRs %s%s%s", a->opt.node_name, nc ? cidrs[0] : "(none)",
			 nc > 1 ? ", " : "", nc > 1 ? cidrs[1] : "");
		free_list(n->pod_cidrs, n->n_pod_cidrs);
		memcpy(n->pod_cidrs, cidrs, sizeof(cidrs));
		n->n_pod_cidrs = nc;
	} else {
		free_list(cidrs, nc);
	}
	if (!str_eq(zone, n->zone)) {
		/* kube-proxy resyncs fully when the node's topology changes;
		 * the zone is a proxy setting, which replaces the tables. */
		if (n->have_self)
			a->model.proxy_full = true;
		free(n->zone);
		n->zone = xstrdup(zone);
		if (a->model.proxy &&
		    k8snet_proxy_set_str(a->model.proxy, K8SNET_PROXY_NODE_ZONE, zone ? zone : "") < 0)
			a->model.proxy_rebuild = true;
		a->model.proxy_dirty = true;
	}
	n->have_self = true;
}

/* Entries "name|cidr" of one node. */
static void drop_wanted(struct node_state *n, const char *name)
{
	size_t len = strlen(name), i;
	struct smap_node *nd;
	bool again = true;

	while (again) {
		again = false;
		smap_for_each(&n->want, i, nd) {
			if (strncmp(nd->key, name, len) == 0 && nd->key[len] == '|') {
				peer_free(smap_del(&n->want, nd->key));
				again = true;
				break;
			}
		}
	}
}

static void peer_update(struct agent *a, const char *name, const cJSON *obj)
{
	char *addrs[4] = { 0 }, *cidrs[2] = { 0 };
	size_t na = node_addresses(obj, addrs, 4), nc = node_cidrs(obj, cidrs, 2), i, j;
	struct node_state *n = &a->node;

	drop_wanted(n, name);
	for (i = 0; i < nc; i++) {
		struct peer *p;
		char *key;

		for (j = 0; j < na; j++)
			if (family_of(addrs[j]) == family_of(cidrs[i]))
				break;
		if (j == na) {
			log_warn("node %s: no address for podCIDR %s: not routed", name, cidrs[i]);
			continue;
		}
		if (a->opt.mode == K8SNET_LINK_PEER_VXLAN && family_of(cidrs[i]) == AF_INET6) {
			log_warn("node %s: podCIDR %s: VXLAN mode carries IPv4 only", name, cidrs[i]);
			continue;
		}
		p = calloc(1, sizeof(*p));
		key = xasprintf("%s|%s", name, cidrs[i]);
		if (!p || !key || !(p->cidr = strdup(cidrs[i])) || !(p->ip = strdup(addrs[j])) ||
		    smap_put(&n->want, key, p, NULL) < 0) {
			peer_free(p);
			log_err("out of memory");
		}
		if (p)
			p->mode = a->opt.mode;
		free(key);
	}
	free_list(addrs, na);
	free_list(cidrs, nc);
	n->dirty = true;
}

void node_upsert(struct agent *a, const cJSON *obj)
{
	const char *name = json_str(obj, "metadata.name");

	if (!name)
		return;
	if (strcmp(name, a->opt.node_name) == 0)
		self_update(a, obj);
	else
		peer_update(a, name, obj);
	a->node.dirty = true;
}

void node_remove(struct agent *a, const char *name)
{
	if (strcmp(name, a->opt.node_name) == 0) {
		/* Our own Node deleted: keep what we have (kube-proxy does too);
		 * it comes back when the kubelet re-registers. */
		log_warn("node %s: our own Node object was deleted", name);
		return;
	}
	drop_wanted(&a->node, name);
	a->node.dirty = true;
}

/* ---- the kernel ---- */

/* "10.244.1.0/24" -> "10.244.1.1/24": the gateway the CNI plugin gives pods. */
static char *gateway_of(const char *cidr)
{
	unsigned char b[16];
	char addr[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	int fam = family_of(cidr), i;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return NULL;
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	if (inet_pton(fam, addr, b) != 1)
		return NULL;
	for (i = fam == AF_INET ? 3 : 15; i >= 0; i--)
		if (++b[i] != 0)
			break;
	if (!inet_ntop(fam, b, out, sizeof(out)))
		return NULL;
	return xasprintf("%s%s", out, slash);
}

static int ensure_bridge(struct agent *a)
{
	struct node_state *n = &a->node;
	char *gws[2] = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < n->n_pod_cidrs && r >= 0; i++)
		if (!(gws[i] = gateway_of(n->pod_cidrs[i])))
			r = -EINVAL;
	if (r >= 0)
		r = k8snet_link_bridge_ensure(a->model.ctx, BRIDGE_NAME, 0,
					      (const char *const *)gws, (uint32_t)n->n_pod_cidrs);
	if (r < 0)
		log_err("bridge %s: %s", BRIDGE_NAME, r == -EINVAL && !gws[0] ? "bad podCIDR" :
			k8snet_ctx_get_error(a->model.ctx));
	free_list(gws, 2);
	return r;
}

static char *cni_config(struct agent *a)
{
	cJSON *root = cJSON_CreateObject(), *plugins, *p, *ipam, *ranges, *caps;
	char *text = NULL;
	size_t i;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "cniVersion", "1.0.0");
	cJSON_AddStringToObject(root, "name", CNI_NETWORK);
	plugins = cJSON_AddArrayToObject(root, "plugins");
	p = cJSON_CreateObject();
	cJSON_AddItemToArray(plugins, p);
	cJSON_AddStringToObject(p, "type", "k8snet-cni");
	cJSON_AddStringToObject(p, "bridge", BRIDGE_NAME);
	cJSON_AddBoolToObject(p, "isGateway", true);
	cJSON_AddBoolToObject(p, "isDefaultGateway", true);
	cJSON_AddBoolToObject(p, "hairpinMode", true);
	ipam = cJSON_AddObjectToObject(p, "ipam");
	cJSON_AddStringToObject(ipam, "type", "host-local");
	ranges = cJSON_AddArrayToObject(ipam, "ranges");
	for (i = 0; i < a->node.n_pod_cidrs; i++) {
		cJSON *set = cJSON_CreateArray(), *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "subnet", a->node.pod_cidrs[i]);
		cJSON_AddItemToArray(set, r);
		cJSON_AddItemToArray(ranges, set);
	}
	caps = cJSON_AddObjectToObject(p, "capabilities");
	cJSON_AddBoolToObject(caps, "portMappings", true);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text) {
		char *t = xasprintf("%s\n", text);

		free(text);
		text = t;
	}
	return text;
}

static int write_cni_config(struct agent *a)
{
	char *text = cni_config(a), *path;
	int r;

	if (!text)
		return -ENOMEM;
	if (a->node.cni_text && strcmp(text, a->node.cni_text) == 0) {
		free(text);
		return 0;
	}
	path = xasprintf("%s/%s", a->opt.cni_conf_dir, CNI_FILE);
	if (mkdir(a->opt.cni_conf_dir, 0755) < 0 && errno != EEXIST)
		r = -errno;
	else
		r = path ? write_file_atomic(path, text, strlen(text), 0644) : -ENOMEM;
	if (r < 0) {
		log_err("CNI configuration %s: %s", path ? path : a->opt.cni_conf_dir, strerror(-r));
		free(text);
	} else {
		log_info("wrote %s (podCIDRs %s%s%s)", path, a->node.pod_cidrs[0],
			 a->node.n_pod_cidrs > 1 ? ", " : "",
			 a->node.n_pod_cidrs > 1 ? a->node.pod_cidrs[1] : "");
		free(a->node.cni_text);
		a->node.cni_text = text;
	}
	free(path);
	return r;
}

static bool same_peer(const struct peer *x, const struct peer *y)
{
	return x->mode == y->mode && strcmp(x->cidr, y->cidr) == 0 && strcmp(x->ip, y->ip) == 0;
}

static int peer_call(struct agent *a, const struct peer *p, bool add)
{
	const char *dev = p->mode == K8SNET_LINK_PEER_VXLAN ? VXLAN_DEV : NULL;
	int r = add ? k8snet_link_peer_add(a->model.ctx, p->mode, p->cidr, p->ip, dev, NULL) :
		      k8snet_link_peer_del(a->model.ctx, p->mode, p->cidr, p->ip, dev, NULL);

	if (r < 0)
		log_err("%s peer %s via %s: %s", add ? "adding" : "removing", p->cidr, p->ip,
			k8snet_ctx_get_error(a->model.ctx));
	else
		log_info("%s peer route %s via %s (%s)", add ? "added" : "removed", p->cidr, p->ip,
			 p->mode == K8SNET_LINK_PEER_VXLAN ? "vxlan" : "host-gw");
	return r;
}

/* Make the installed peers match the wanted ones; returns how many calls
 * failed (they are retried at the next sync). */
static int reconcile_peers(struct agent *a, bool *changed)
{
	struct node_state *n = &a->node;
	struct smap_node *nd;
	int failed = 0;
	size_t i;
	bool again = true;

	while (again) {      /* deletions first: a changed peer is del + add */
		again = false;
		smap_for_each(&n->have, i, nd) {
			struct peer *w = smap_get(&n->want, nd->key), *h = nd->val;

			if (w && same_peer(w, h))
				continue;
			if (peer_call(a, h, false) < 0) {
				failed++;
				continue;
			}
			peer_free(smap_del(&n->have, nd->key));
			*changed = again = true;
			break;
		}
	}
	smap_for_each(&n->want, i, nd) {
		struct peer *w = nd->val, *c;

		if (smap_get(&n->have, nd->key))
			continue;
		if (peer_call(a, w, true) < 0) {
			failed++;
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->cidr = strdup(w->cidr)) || !(c->ip = strdup(w->ip)) ||
		    smap_put(&n->have, nd->key, c, NULL) < 0) {
			peer_free(c);
			failed++;
			continue;
		}
		c->mode = w->mode;
		*changed = true;
	}
	return failed;
}

/* In an unprivileged container /proc/sys is mounted read-only; the
 * DaemonSet's privileged init container sets the sysctls instead.  Only our
 * own namespace can be read here (no --netns). */
static bool sysctls_already_set(uint32_t flags)
{
	static const struct { uint32_t flag; const char *path; } files[] = {
		{ 0, "/proc/sys/net/ipv4/ip_forward" },
		{ K8SNET_LINK_NODE_F_IPV6, "/proc/sys/net/ipv6/conf/all/forwarding" },
		{ K8SNET_LINK_NODE_F_BRIDGE_NF, "/proc/sys/net/bridge/bridge-nf-call-iptables" },
		{ K8SNET_LINK_NODE_F_BRIDGE_NF, "/proc/sys/net/bridge/bridge-nf-call-ip6tables" },
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *v;
		bool one;

		if (files[i].flag && !(flags & files[i].flag))
			continue;
		v = read_file(files[i].path, NULL);
		one = v && v[0] == '1';
		free(v);
		if (!one) {
			log_err("node setup: %s is read-only and not 1", files[i].path);
			return false;
		}
	}
	return true;
}

int node_sync(struct agent *a)
{
	struct node_state *n = &a->node;
	bool changed = false;
	const char *self_ip = node_internal_ip(n, AF_INET);
	uint32_t flags;
	size_t i;
	int r = 0, failed;

	flags = K8SNET_LINK_NODE_F_BRIDGE_NF;
	for (i = 0; i < n->n_pod_cidrs; i++)
		if (family_of(n->pod_cidrs[i]) == AF_INET6)
			flags |= K8SNET_LINK_NODE_F_IPV6;
	for (i = 0; i < a->opt.n_cluster_cidrs; i++)
		if (family_of(a->opt.cluster_cidrs[i]) == AF_INET6)
			flags |= K8SNET_LINK_NODE_F_IPV6;
	if (!n->setup_done || (flags & ~n->setup_flags)) {
		r = k8snet_link_node_setup(a->model.ctx, flags);
		if (r == -EROFS && !a->opt.netns && sysctls_already_set(flags)) {
			log_info("node setup: /proc/sys is read-only here (an unprivileged container); "
				 "the forwarding sysctls are already 1");
			r = 0;
		}
		if (r < 0) {
			log_err("node setup: %s", k8snet_ctx_get_error(a->model.ctx));
			return r;
		}
		n->setup_done = true;
		n->setup_flags = flags;
	}
	if (!n->dirty)
		return 0;
	if (n->have_self && n->n_pod_cidrs && (r = ensure_bridge(a)) < 0)
		return r;
	if (n->have_self && n->n_pod_cidrs && (r = write_cni_config(a)) < 0)
		return r;
	if (a->opt.mode == K8SNET_LINK_PEER_VXLAN && !n->vxlan_done) {
		if (!self_ip)
			return 0;    /* peers wait for our own address (still dirty) */
		r = k8snet_link_vxlan_ensure(a->model.ctx, VXLAN_DEV, VXLAN_VNI, 0, self_ip, 0);
		if (r < 0) {
			log_err("vxlan %s: %s", VXLAN_DEV, k8snet_ctx_get_error(a->model.ctx));
			return r;
		}
		n->vxlan_done = true;
	}
	failed = reconcile_peers(a, &changed);
	if (changed)
		stopgap_peers_save(a);
	if (failed)
		return -EIO;
	n->dirty = false;
	return 0;
}

void node_free(struct node_state *n)
{
	free_list(n->pod_cidrs, n->n_pod_cidrs);
	free_list(n->addrs, n->n_addrs);
	free(n->zone);
	free(n->cni_text);
	smap_free(&n->want, peer_free);
	smap_free(&n->have, peer_free);
	*n = (struct node_state){ 0 };
}
