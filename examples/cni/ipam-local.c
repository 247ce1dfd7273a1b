/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-process IPAM: host-local's ranges, routes and dataDir served by the
 * library's IPAM layer, one state file per network, locked by the library. */
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "ipam-local.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <k8snet/ipam.h>

#define DEFAULT_DATA_DIR "/var/lib/cni/networks"

struct ipam {
	struct k8snet_ctx *ctx;
	struct k8snet_ipam_config *cfg;
	struct k8snet_ipam_pool **pools;
	int n_pools;
};

static int lib_fail(struct k8snet_ctx *ctx, int r, const char *what)
{
	const char *m = k8snet_ctx_get_error(ctx);
	int code;

	switch (r) {
	case -EINVAL:
	case -ERANGE:
		code = CNI_ERR_INVALID_CONFIG;
		break;
	case -ENOSPC:
	case -EEXIST:
		code = CNI_ERR_NO_ADDRESS;
		break;
	case -EAGAIN:
	case -EBUSY:
		code = CNI_ERR_TRY_AGAIN;
		break;
	default:
		code = CNI_ERR_IO;   /* state file: missing directory, corrupt, read-only */
	}
	return cni_fail(code, what, "%s", *m ? m : k8snet_strerror(r));
}

static int mkdir_p(const char *path)
{
	char *p = cni_strdup(path), *s;
	int r = 0;

	for (s = p + 1; r == 0 && (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

static void ipam_close(struct ipam *ip)
{
	int i;

	for (i = 0; i < ip->n_pools; i++)
		k8snet_ipam_pool_free(ip->pools[i]);
	free(ip->pools);
	k8snet_ipam_config_free(ip->cfg);
	k8snet_ctx_free(ip->ctx);
}

/* One pool per range set, each with its state file under
 * DATADIR/NETWORK/ (host-local's directory, our own file names). */
static int ipam_open(const struct cni_conf *conf, struct ipam *ip)
{
	const char *data_dir;
	char *dir = NULL;
	int r, i, n;

	memset(ip, 0, sizeof(*ip));
	r = k8snet_ctx_new(&ip->ctx);
	if (r < 0)
		return cni_fail(CNI_ERR_INTERNAL, "cannot create a library context", "%s",
				k8snet_strerror(r));
	r = k8snet_ipam_config_parse(ip->ctx, conf->raw, conf->raw_len, &ip->cfg);
	if (r < 0)
		return lib_fail(ip->ctx, r, "invalid network config");
	data_dir = k8snet_ipam_config_get_data_dir(ip->cfg);
	dir = cni_asprintf("%s/%s", data_dir ? data_dir : DEFAULT_DATA_DIR, conf->name);
	r = mkdir_p(dir);
	if (r < 0) {
		cni_fail(CNI_ERR_IO, "cannot create the IPAM state directory", "%s: %s", dir,
			 strerror(-r));
		free(dir);
		return -1;
	}
	n = k8snet_ipam_config_get_pool_count(ip->cfg);
	ip->pools = cni_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*ip->pools));
	for (i = 0; r >= 0 && i < n; i++) {
		char *state = cni_asprintf("%s/k8snet-%d.state", dir, i);

		r = k8snet_ipam_config_new_pool(ip->cfg, (unsigned)i, &ip->pools[i]);
		ip->n_pools = i + (r >= 0);
		if (r >= 0)
			r = k8snet_ipam_pool_set_state_file(ip->pools[i], state);
		if (r < 0)
			lib_fail(ip->ctx, r, "cannot open the IPAM state");
		free(state);
	}
	free(dir);
	return r < 0 ? -1 : 0;
}

static bool same_family(const char *a, const char *b)
{
	return !!strchr(a, ':') == !!strchr(b, ':');
}

/* The requested address for range set i: the first of its family. */
static const char *wanted(const struct cni_conf *conf, int i)
{
	size_t j;

	if ((size_t)i >= conf->n_range_sets)
		return NULL;
	for (j = 0; j < conf->n_requested_ips; j++)
		if (same_family(conf->requested_ips[j], conf->range_sets[i].ranges[0].subnet))
			return conf->requested_ips[j];
	return NULL;
}

int cni_ipam_local_add(const struct cni_env *env, const struct cni_conf *conf,
		       struct cni_result *res)
{
	char cidr[K8SNET_IPAM_CIDR_MAX], gw[K8SNET_IPAM_CIDR_MAX], *addr;
	struct ipam ip;
	int r, i, n, held = 1;

	if (ipam_open(conf, &ip) < 0) {
		ipam_close(&ip);
		return -1;
	}
	for (i = 0, r = 0; r >= 0 && i < ip.n_pools; i++) {
		r = k8snet_ipam_pool_alloc(ip.pools[i], env->container_id, env->ifname,
					   wanted(conf, i), cidr, sizeof(cidr));
		if (r < 0) {
			lib_fail(ip.ctx, r, "cannot allocate an address");
			break;
		}
		held &= r == 1;
		addr = cni_strdup(cidr);
		*strchr(addr, '/') = '\0';
		r = k8snet_ipam_pool_get_gateway(ip.pools[i], addr, gw, sizeof(gw));
		free(addr);
		if (r < 0) {
			lib_fail(ip.ctx, r, "cannot find the gateway");
			break;
		}
		cni_result_add_ip(res, cidr, r == 1 ? gw : NULL, -1);
	}
	if (r < 0 && !held)   /* all or nothing: release what this call gave */
		while (i-- > 0)
			k8snet_ipam_pool_release(ip.pools[i], env->container_id, env->ifname);
	n = k8snet_ipam_config_get_route_count(ip.cfg);
	for (i = 0; r >= 0 && i < n; i++) {
		const char *dst = NULL, *rgw = NULL;

		if (k8snet_ipam_config_get_route(ip.cfg, (unsigned)i, &dst, &rgw) >= 0)
			cni_result_add_route(res, dst, rgw);
	}
	ipam_close(&ip);
	return r < 0 ? -1 : held;
}

int cni_ipam_local_del(const struct cni_env *env, const struct cni_conf *conf)
{
	struct ipam ip;
	int r = 0, i;

	if (ipam_open(conf, &ip) < 0) {
		ipam_close(&ip);
		return -1;
	}
	for (i = 0; i < ip.n_pools; i++) {
		int k = k8snet_ipam_pool_release(ip.pools[i], env->container_id, env->ifname);

		if (k < 0)
			r = lib_fail(ip.ctx, k, "cannot release the address");
	}
	ipam_close(&ip);
	return r;
}

static bool in_result(const struct cni_result *prev, const char *cidr)
{
	size_t i;

	for (i = 0; i < prev->n_ips; i++)
		if (!strcmp(prev->ips[i].address, cidr))
			return true;
	return false;
}

int cni_ipam_local_check(const struct cni_env *env, const struct cni_conf *conf,
			 const struct cni_result *prev)
{
	char cidr[K8SNET_IPAM_CIDR_MAX];
	struct ipam ip;
	int r = 0, i;

	if (ipam_open(conf, &ip) < 0) {
		ipam_close(&ip);
		return -1;
	}
	for (i = 0; r >= 0 && i < ip.n_pools; i++) {
		r = k8snet_ipam_pool_lookup(ip.pools[i], env->container_id, env->ifname, cidr,
					    sizeof(cidr));
		if (r < 0)
			lib_fail(ip.ctx, r, "cannot read the IPAM state");
		else if (r == 0)
			r = cni_fail(CNI_ERR_CHECK_FAILED, "no address allocated",
				     "range set %d holds nothing for %s/%s", i,
				     env->container_id, env->ifname);
		else if (!in_result(prev, cidr))
			r = cni_fail(CNI_ERR_CHECK_FAILED, "address differs",
				     "range set %d holds %s for %s/%s, not in prevResult", i,
				     cidr, env->container_id, env->ifname);
	}
	ipam_close(&ip);
	return r < 0 ? -1 : 0;
}

struct live {
	char **addrs;
	size_t n;
};

static int collect(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct live *l = userdata;

	(void)owner;
	(void)ifname;
	l->addrs = cni_xrealloc_array(l->addrs, l->n + 1, sizeof(char *));
	l->addrs[l->n++] = cni_strdup(cidr);
	return 0;
}

static int gc_hostports(const struct cni_conf *conf, struct ipam *ip)
{
	struct live l = { 0 };
	size_t j;
	int r = 0, i;

	for (i = 0; r >= 0 && i < ip->n_pools; i++) {
		r = k8snet_ipam_pool_foreach(ip->pools[i], collect, &l);
		if (r < 0)
			lib_fail(ip->ctx, r, "cannot read the IPAM state");
	}
	if (r >= 0)
		r = cni_nft_gc(conf, (const char *const *)l.addrs, l.n);
	for (j = 0; j < l.n; j++)
		free(l.addrs[j]);
	free(l.addrs);
	return r < 0 ? -1 : 0;
}

int cni_ipam_local_gc(const struct cni_env *env, const struct cni_conf *conf)
{
	const char **owners = NULL, **ifnames = NULL;
	const cJSON *a;
	struct ipam ip;
	size_t n = 0;
	int r = 0, i;

	(void)env;
	cJSON_ArrayForEach(a, conf->gc_attachments) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "containerID");
		const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(a, "ifname");

		if (!cJSON_IsString(id) || !cJSON_IsString(ifn)) {
			r = cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config",
				     "cni.dev/valid-attachments[%zu]: needs containerID and ifname",
				     n);
			goto out;
		}
		owners = cni_xrealloc_array(owners, n + 1, sizeof(char *));
		ifnames = cni_xrealloc_array(ifnames, n + 1, sizeof(char *));
		owners[n] = id->valuestring;
		ifnames[n++] = ifn->valuestring;
	}
	if (ipam_open(conf, &ip) < 0) {
		ipam_close(&ip);
		r = -1;
		goto out;
	}
	for (i = 0; i < ip.n_pools; i++) {
		int k = k8snet_ipam_pool_gc(ip.pools[i], owners, ifnames, n);

		if (k < 0)
			r = lib_fail(ip.ctx, k, "cannot collect garbage");
	}
	/* Then the hostPort entries of the addresses just released. */
	if (r >= 0)
		r = gc_hostports(conf, &ip);
	ipam_close(&ip);
out:
	free(owners);
	free(ifnames);
	return r < 0 ? -1 : 0;
}

int cni_ipam_local_status(const struct cni_env *env, const struct cni_conf *conf)
{
	struct ipam ip;
	int r;

	(void)env;
	r = ipam_open(conf, &ip);
	ipam_close(&ip);
	/* A state we cannot use means ADD cannot be served: "not available". */
	if (r < 0 && cni_fail_code() == CNI_ERR_IO)
		cni_fail_set_code(CNI_ERR_NOT_AVAILABLE);
	return r;
}
