/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostPort mappings (the portmap capability) and ipMasq, through the
 * library's host-port API (k8snet/hostport.h): its table, its ownership.
 *
 * A pod's mappings belong to "NETWORK/CONTAINER-ID/IFNAME", kept in the
 * kernel with the mappings: DEL removes exactly that owner's (also when its
 * ADD lost a conflict, also with a config ADD would refuse), GC removes the
 * owners of this network that are not valid attachments, and another
 * network's or pod's mappings are never touched.  The network's chain
 * (hairpin and ipMasq masquerading) is sent only when it changes.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <k8snet/hostport.h>
#include <k8snet/link.h>

#include "cni.h"

static int lib_fail(int code, const char *msg, struct k8snet_ctx *ctx, int r)
{
	const char *m = ctx ? k8snet_ctx_get_error(ctx) : "";

	return cni_fail(code, msg, "%s", *m ? m : strerror(-r));
}

static char *owner_of(const struct cni_env *env, const struct cni_conf *conf)
{
	return cni_asprintf("%s/%s/%s", conf->name, env->container_id, env->ifname);
}

/* A context in the node's namespace (ours) and the host-port table. */
static int open_hp(struct k8snet_ctx **ctx, struct k8snet_hostports **hp)
{
	int r = k8snet_ctx_new(ctx);

	if (r >= 0)
		r = k8snet_hostports_new(*ctx, hp);
	if (r < 0)
		return lib_fail(CNI_ERR_INTERNAL, "cannot program nftables", *ctx, r);
	return 0;
}

static void close_hp(struct k8snet_ctx *ctx, struct k8snet_hostports *hp)
{
	k8snet_hostports_free(hp);
	k8snet_ctx_free(ctx);
}

/* The address of a result entry ("10.88.0.5/16" -> "10.88.0.5"). */
static char *bare_addr(const char *cidr)
{
	char *s = cni_strdup(cidr), *slash = strchr(s, '/');

	if (slash)
		*slash = '\0';
	return s;
}

static uint32_t proto_number(const char *protocol)
{
	return !strcmp(protocol, "udp") ? 17 : !strcmp(protocol, "sctp") ? 132 : 6;
}

static int family_of(const char *addr)
{
	return strchr(addr, ':') ? AF_INET6 : AF_INET;
}

/* As the reference portmap: every mapping for the pod's first address of
 * each family, but a mapping with a hostIP only for the pod address of its
 * family ("0.0.0.0" and "::" are the wildcard of their own family). */
static int portmap_of(const struct cni_conf *conf, const struct cni_result *res,
		      struct k8snet_portmap **ret)
{
	bool seen[2] = { false, false };
	size_t i, j;
	int r = k8snet_portmap_new(ret);

	for (i = 0; r >= 0 && res && i < res->n_ips; i++) {
		char *pod = bare_addr(res->ips[i].address);
		int fam = family_of(pod);

		if (seen[fam == AF_INET6]) {
			free(pod);
			continue;
		}
		seen[fam == AF_INET6] = true;
		for (j = 0; r >= 0 && j < conf->n_portmaps; j++) {
			const struct cni_portmap *pm = &conf->portmaps[j];

			if (pm->host_ip && family_of(pm->host_ip) != fam)
				continue;
			r = k8snet_portmap_add(*ret, proto_number(pm->protocol), pm->host_ip,
					       (uint32_t)pm->host_port, pod,
					       (uint32_t)pm->container_port);
			if (r < 0)
				r = cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config",
					     "runtimeConfig.portMappings[%zu]: %s", j, strerror(-r));
		}
		free(pod);
	}
	if (r < 0 && !cni_failed())
		return cni_fail(CNI_ERR_INTERNAL, "out of memory", NULL);
	return r < 0 ? -1 : 0;
}

/* Does some mapping publish an IPv4 address of the pod (127.0.0.1 is
 * IPv4 only)? */
static bool has_ipv4_mapping(const struct cni_conf *conf, const struct cni_result *res)
{
	bool v4 = false;
	size_t i;

	for (i = 0; res && i < res->n_ips; i++)
		v4 |= family_of(res->ips[i].address) == AF_INET;
	for (i = 0; v4 && i < conf->n_portmaps; i++)
		if (!conf->portmaps[i].host_ip || family_of(conf->portmaps[i].host_ip) == AF_INET)
			return true;
	return false;
}

/* The network's subnets: its IPAM ranges when we know them, else those of
 * the pod's addresses. */
static char **subnets_of(const struct cni_conf *conf, const struct cni_result *res, size_t *ret_n)
{
	char **v = NULL;
	size_t i, j, n = 0;

	for (i = 0; i < conf->n_range_sets; i++)
		for (j = 0; j < conf->range_sets[i].n_ranges; j++) {
			v = cni_xrealloc_array(v, n + 1, sizeof(*v));
			v[n++] = cni_strdup(conf->range_sets[i].ranges[j].subnet);
		}
	for (i = 0; !n && res && i < res->n_ips; i++) {
		v = cni_xrealloc_array(v, n + 1, sizeof(*v));
		v[n++] = cni_strdup(res->ips[i].address);
	}
	*ret_n = n;
	return v;
}

static int set_network(struct k8snet_hostports *hp, struct k8snet_ctx *ctx,
		       const struct cni_conf *conf, const struct cni_result *res)
{
	size_t n, i;
	char **subnets = subnets_of(conf, res, &n);
	uint32_t flags = (conf->ip_masq ? K8SNET_HOSTPORTS_F_MASQUERADE : 0) |
			 (conf->snat ? 0 : K8SNET_HOSTPORTS_F_NO_HAIRPIN);
	int r = k8snet_hostports_set_network(hp, conf->name, (const char *const *)subnets, n, flags);

	for (i = 0; i < n; i++)
		free(subnets[i]);
	free(subnets);
	return r < 0 ? lib_fail(CNI_ERR_INTERNAL, "cannot program nftables", ctx, r) : 0;
}

int cni_nft_add(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_portmap *pm = NULL;
	struct k8snet_ctx *ctx = NULL;
	char *owner;
	int r;

	if (!conf->n_portmaps && !conf->ip_masq)
		return 0;
	if (open_hp(&ctx, &hp) < 0) {
		close_hp(ctx, hp);
		return -1;
	}
	owner = owner_of(env, conf);
	r = set_network(hp, ctx, conf, res);
	if (r >= 0 && conf->n_portmaps)
		r = portmap_of(conf, res, &pm);
	/* As portmap with snat: the node's own 127.0.0.1 connections may be
	 * routed to the pods of this bridge (and are masqueraded). */
	if (r >= 0 && pm && conf->snat && has_ipv4_mapping(conf, res)) {
		r = k8snet_link_set_route_localnet(ctx, conf->bridge, 1);
		if (r < 0)
			r = lib_fail(CNI_ERR_INTERNAL, "cannot set route_localnet", ctx, r);
	}
	if (r >= 0 && pm) {
		r = k8snet_hostports_set(hp, owner, pm);
		if (r == -EADDRINUSE)
			r = lib_fail(CNI_ERR_NO_ADDRESS, "host port already allocated", ctx, r);
		else if (r < 0)
			r = lib_fail(CNI_ERR_INTERNAL, "cannot program nftables", ctx, r);
	}
	k8snet_portmap_free(pm);
	free(owner);
	close_hp(ctx, hp);
	return r < 0 ? -1 : 0;
}

/* Whatever the config says (it may be one ADD refused), the owner's
 * mappings go. */
int cni_nft_del(const struct cni_env *env, const struct cni_conf *conf,
		const struct cni_result *res)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	char *owner;
	int r;

	(void)res;
	if (open_hp(&ctx, &hp) < 0) {
		close_hp(ctx, hp);
		return -1;
	}
	owner = owner_of(env, conf);
	r = k8snet_hostports_remove(hp, owner);
	if (r < 0)
		r = lib_fail(CNI_ERR_INTERNAL, "cannot program nftables", ctx, r);
	free(owner);
	close_hp(ctx, hp);
	return r < 0 ? -1 : 0;
}

/* GC: this network's owners that are not valid attachments.  (live, the
 * addresses IPAM still holds, is not needed: ownership says it all.) */
int cni_nft_gc(const struct cni_conf *conf, const char *const *live, size_t n_live)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	char **owners = NULL, *prefix;
	const cJSON *a;
	size_t n = 0, i;
	int r;

	(void)live;
	(void)n_live;
	cJSON_ArrayForEach(a, conf->gc_attachments) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "containerID");
		const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(a, "ifname");

		if (!cJSON_IsString(id) || !cJSON_IsString(ifn))
			continue;
		owners = cni_xrealloc_array(owners, n + 1, sizeof(*owners));
		owners[n++] = cni_asprintf("%s/%s/%s", conf->name, id->valuestring, ifn->valuestring);
	}
	prefix = cni_asprintf("%s/", conf->name);
	r = open_hp(&ctx, &hp);
	if (r >= 0) {
		r = k8snet_hostports_gc(hp, prefix, (const char *const *)owners, n);
		if (r < 0)
			r = lib_fail(CNI_ERR_INTERNAL, "cannot program nftables", ctx, r);
	}
	close_hp(ctx, hp);
	for (i = 0; i < n; i++)
		free(owners[i]);
	free(owners);
	free(prefix);
	return r;
}

int cni_nft_check(const struct cni_env *env, const struct cni_conf *conf,
		  const struct cni_result *res)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_portmap *pm = NULL;
	struct k8snet_ctx *ctx = NULL;
	char *owner;
	int r;

	if (!conf->n_portmaps)
		return 0;
	if (open_hp(&ctx, &hp) < 0) {
		close_hp(ctx, hp);
		return -1;
	}
	owner = owner_of(env, conf);
	r = portmap_of(conf, res, &pm);
	if (r >= 0) {
		r = k8snet_hostports_check(hp, owner, pm);
		if (r < 0)
			r = lib_fail(CNI_ERR_CHECK_FAILED, "hostPort mapping differs", ctx, r);
	}
	k8snet_portmap_free(pm);
	free(owner);
	close_hp(ctx, hp);
	return r < 0 ? -1 : 0;
}
