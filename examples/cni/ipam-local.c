/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-process IPAM: host-local's ranges, routes and dataDir served by the
 * library's IPAM layer.  DATADIR/NETWORK/ holds one state file per range
 * set (k8snet-INDEX.state, locked by the library) and the network's lock
 * file, which orders whole commands: ADD, DEL and CHECK share it, GC takes
 * it alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <k8snet/k8snet.h>
#include <k8snet/ipam.h>

#include "ipam-local.h"

#define DEFAULT_DATA_DIR "/var/lib/cni/networks"
/* State files of range sets the configuration no longer has, looked for
 * past the configured ones by DEL and GC. */
#define MAX_ORPHANS 64

struct ipam {
	struct k8snet_ctx *ctx;
	struct k8snet_ipam_config *cfg;
	struct k8snet_ipam_pool **pools;
	int n_pools;
	char *dir;
	bool *fresh;          /* per pool: allocated by this ADD (undo releases those) */
};

/* This invocation's IPAM, opened once by the first step that needs it and
 * closed at exit, and the network's lock.  The plugin is one process per
 * command, so this is the command's state; the library holds none. */
static struct {
	bool open;
	struct ipam ip;
	int lock_fd;
} session = { .lock_fd = -1 };

static int lib_fail(struct k8snet_ctx *ctx, int r, const char *what)
{
	const char *m = k8snet_ctx_get_error(ctx);
	/* -ENOSPC from IPAM is an exhausted pool: a full disk comes as -EIO. */
	int code = r == -ENOSPC || r == -EEXIST ? CNI_ERR_NO_ADDRESS :
		   cni_code_for_errno(r, CNI_ERR_SYSTEM);

	return cni_fail(code, what, "%s", *m ? m : k8snet_strerror(r));
}

/* Create what is missing of path, 0700 whatever the umask (container IDs
 * are nobody else's business).  Directories already there are left as they
 * are: the library refuses the unsafe ones.  *ret_created gets how many
 * components (the last ones) this call created. */
static int mkdir_p(const char *path, int *ret_created)
{
	char *p = cni_strdup(path), *s;
	mode_t old = umask(077);
	int r = 0;

	*ret_created = 0;
	for (s = p + 1; r == 0; s++) {
		s = strchr(s, '/');
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) == 0)
			(*ret_created)++;
		else if (errno != EEXIST)
			r = -errno;
		if (!s)
			break;
		*s = '/';
	}
	umask(old);
	free(p);
	return r;
}

/* Undo mkdir_p(): a refused place keeps nothing of ours. */
static void rmdir_created(const char *path, int created)
{
	char *p = cni_strdup(path), *slash;

	while (created-- > 0 && rmdir(p) == 0 && (slash = strrchr(p, '/')) && slash != p)
		*slash = '\0';
	free(p);
}

static void ipam_close(struct ipam *ip)
{
	int i;

	for (i = 0; i < ip->n_pools; i++)
		k8snet_ipam_pool_free(ip->pools[i]);
	free(ip->pools);
	free(ip->fresh);
	free(ip->dir);
	k8snet_ipam_config_free(ip->cfg);
	k8snet_ctx_free(ip->ctx);
	memset(ip, 0, sizeof(*ip));
}

static char *state_path(const struct ipam *ip, int i)
{
	return cni_asprintf("%s/k8snet-%d.state", ip->dir, i);
}

/* One pool per range set, each with its state file under
 * DATADIR/NETWORK/ (host-local's directory, our own file names). */
static int ipam_open(const struct cni_conf *conf, struct ipam *ip)
{
	int r, i, n, created = 0;

	memset(ip, 0, sizeof(*ip));
	r = k8snet_ctx_new(&ip->ctx);
	if (r < 0)
		return cni_fail(CNI_ERR_INTERNAL, "cannot create a library context", "%s",
				k8snet_strerror(r));
	r = k8snet_ipam_config_parse(ip->ctx, conf->raw, conf->raw_len, &ip->cfg);
	if (r < 0)
		return lib_fail(ip->ctx, r, "invalid network config");
	/* conf.c made an empty dataDir none: the default, as host-local does. */
	ip->dir = cni_asprintf("%s/%s", conf->data_dir ? conf->data_dir : DEFAULT_DATA_DIR,
			       conf->name);
	r = mkdir_p(ip->dir, &created);
	if (r < 0) {
		rmdir_created(ip->dir, created);
		return cni_fail(CNI_ERR_SYSTEM, "cannot create the IPAM state directory", "%s: %s",
				ip->dir, strerror(-r));
	}
	n = k8snet_ipam_config_get_pool_count(ip->cfg);
	ip->pools = cni_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*ip->pools));
	ip->fresh = cni_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*ip->fresh));
	for (i = 0; r >= 0 && i < n; i++) {
		char *state = state_path(ip, i);

		r = k8snet_ipam_config_new_pool(ip->cfg, (unsigned)i, &ip->pools[i]);
		ip->n_pools = i + (r >= 0);
		if (r >= 0)
			r = k8snet_ipam_pool_set_state_file(ip->pools[i], state);
		if (r < 0)
			lib_fail(ip->ctx, r, "cannot open the IPAM state");
		free(state);
	}
	if (r < 0)
		rmdir_created(ip->dir, created);
	return r < 0 ? -1 : 0;
}

static struct ipam *session_ipam(const struct cni_conf *conf)
{
	if (!session.open) {
		if (ipam_open(conf, &session.ip) < 0) {
			ipam_close(&session.ip);
			return NULL;
		}
		session.open = true;
	}
	return &session.ip;
}

int cni_ipam_local_lock(const struct cni_conf *conf, bool exclusive)
{
	struct ipam *ip = session_ipam(conf);
	struct stat st;
	mode_t old;
	char *path;
	int fd;

	if (!ip)
		return -1;
	if (session.lock_fd >= 0)
		return 0;
	/* The library has checked the directory (set_state_file) by now. */
	path = cni_asprintf("%s/lock", ip->dir);
	old = umask(077);
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	umask(old);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = cni_fail(CNI_ERR_SYSTEM, "cannot lock the network", "%s: %s", path,
				 fd < 0 ? strerror(errno) : "not a regular file");

		if (fd >= 0)
			close(fd);
		free(path);
		return r;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			int r = cni_fail(cni_code_for_errno(-errno, CNI_ERR_SYSTEM),
					 "cannot lock the network", "%s: %s", path, strerror(errno));

			close(fd);
			free(path);
			return r;
		}
	}
	free(path);
	session.lock_fd = fd;
	return 0;
}

void cni_ipam_local_unlock(void)
{
	if (session.lock_fd >= 0)
		close(session.lock_fd);
	session.lock_fd = -1;
	if (session.open)
		ipam_close(&session.ip);
	session.open = false;
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

/* Release what this ADD allocated, and nothing an earlier ADD holds: range
 * sets may have been added to the configuration since. */
static void release_fresh(const struct cni_env *env, struct ipam *ip)
{
	int i;

	for (i = 0; i < ip->n_pools; i++)
		if (ip->fresh[i] &&
		    k8snet_ipam_pool_release(ip->pools[i], env->container_id, env->ifname) >= 0)
			ip->fresh[i] = false;
}

static int add_one(const struct cni_env *env, const struct cni_conf *conf, struct ipam *ip,
		   int i, struct cni_result *res)
{
	char cidr[K8SNET_IPAM_CIDR_MAX], gw[K8SNET_IPAM_CIDR_MAX], *addr;
	int r = k8snet_ipam_pool_alloc(ip->pools[i], env->container_id, env->ifname,
				       wanted(conf, i), cidr, sizeof(cidr));

	if (r < 0)
		return lib_fail(ip->ctx, r, "cannot allocate an address");
	ip->fresh[i] = r == 0;
	addr = cni_strdup(cidr);
	*strchr(addr, '/') = '\0';
	r = k8snet_ipam_pool_get_gateway(ip->pools[i], addr, gw, sizeof(gw));
	free(addr);
	if (r < 0)
		return lib_fail(ip->ctx, r, "cannot find the gateway");
	cni_result_add_ip(res, cidr, r == 1 ? gw : NULL, -1);
	return 0;
}

int cni_ipam_local_add(const struct cni_env *env, const struct cni_conf *conf,
		       struct cni_result *res)
{
	struct ipam *ip = session_ipam(conf);
	int r = 0, i, n;

	if (!ip)
		return -1;
	for (i = 0; r >= 0 && i < ip->n_pools; i++)
		r = add_one(env, conf, ip, i, res);
	if (r < 0) {
		release_fresh(env, ip);   /* all or nothing */
		return -1;
	}
	n = k8snet_ipam_config_get_route_count(ip->cfg);
	for (i = 0; i < n; i++) {
		const char *dst = NULL, *rgw = NULL;

		if (k8snet_ipam_config_get_route(ip->cfg, (unsigned)i, &dst, &rgw) >= 0)
			cni_result_add_route(res, dst, rgw);
	}
	return 0;
}

void cni_ipam_local_undo_add(const struct cni_env *env, const struct cni_conf *conf)
{
	if (session.open)
		release_fresh(env, &session.ip);
	(void)conf;
}

/* The state files of range sets the configuration had once and no longer
 * has: DEL and GC release from them too, or what they hold would leak.  A
 * pool without ranges takes a file's family and can release and list. */
static int for_each_orphan(struct ipam *ip, int (*fn)(struct ipam *, struct k8snet_ipam_pool *,
						       void *), void *userdata)
{
	int i, r = 0;

	for (i = ip->n_pools; i < ip->n_pools + MAX_ORPHANS; i++) {
		char *state = state_path(ip, i);
		struct k8snet_ipam_pool *pool = NULL;
		struct stat st;
		int k;

		if (lstat(state, &st) < 0) {
			free(state);
			break;
		}
		k = k8snet_ipam_pool_new(ip->ctx, 0, &pool);
		if (k >= 0)
			k = k8snet_ipam_pool_set_state_file(pool, state);
		if (k >= 0)
			k = fn(ip, pool, userdata);
		if (k < 0)
			r = lib_fail(ip->ctx, k, "cannot read the IPAM state");
		k8snet_ipam_pool_free(pool);
		free(state);
	}
	return r;
}

static int release_key(struct ipam *ip, struct k8snet_ipam_pool *pool, void *userdata)
{
	const struct cni_env *env = userdata;

	(void)ip;
	return k8snet_ipam_pool_release(pool, env->container_id, env->ifname);
}

int cni_ipam_local_del(const struct cni_env *env, const struct cni_conf *conf)
{
	struct ipam *ip = session_ipam(conf);
	int r = 0, i;

	if (!ip)
		return -1;
	for (i = 0; i < ip->n_pools; i++) {
		int k = k8snet_ipam_pool_release(ip->pools[i], env->container_id, env->ifname);

		if (k < 0)
			r = lib_fail(ip->ctx, k, "cannot release the address");
	}
	if (for_each_orphan(ip, release_key, (void *)env) < 0)
		r = -1;
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
	struct ipam *ip = session_ipam(conf);
	int r = 0, i;

	if (!ip)
		return -1;
	for (i = 0; r >= 0 && i < ip->n_pools; i++) {
		r = k8snet_ipam_pool_lookup(ip->pools[i], env->container_id, env->ifname, cidr,
					    sizeof(cidr));
		if (r < 0)
			lib_fail(ip->ctx, r, "cannot read the IPAM state");
		else if (r == 0)
			r = cni_fail(CNI_ERR_CHECK_FAILED, "no address allocated",
				     "range set %d holds nothing for %s/%s", i,
				     env->container_id, env->ifname);
		else if (!in_result(prev, cidr))
			r = cni_fail(CNI_ERR_CHECK_FAILED, "address differs",
				     "range set %d holds %s for %s/%s, not in prevResult", i,
				     cidr, env->container_id, env->ifname);
	}
	return r < 0 ? -1 : 0;
}

/* ---- GC ---------------------------------------------------------------- */

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

/* The hostPort entries of addresses no pool holds any more.  The network
 * lock is ours alone: no ADD can be between its address and its mappings. */
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

struct live_keys {
	const char **owners, **ifnames;
	size_t n;
};

static int gc_pool(struct ipam *ip, struct k8snet_ipam_pool *pool, void *userdata)
{
	const struct live_keys *lk = userdata;

	(void)ip;
	return k8snet_ipam_pool_gc(pool, lk->owners, lk->ifnames, lk->n);
}

static int read_attachments(const struct cni_conf *conf, struct live_keys *lk)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, conf->gc_attachments) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "containerID");
		const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(a, "ifname");

		if (!cJSON_IsString(id) || !cJSON_IsString(ifn))
			return cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config",
					"cni.dev/valid-attachments[%zu]: needs containerID and ifname",
					lk->n);
		lk->owners = cni_xrealloc_array(lk->owners, lk->n + 1, sizeof(char *));
		lk->ifnames = cni_xrealloc_array(lk->ifnames, lk->n + 1, sizeof(char *));
		lk->owners[lk->n] = id->valuestring;
		lk->ifnames[lk->n++] = ifn->valuestring;
	}
	return 0;
}

int cni_ipam_local_gc(const struct cni_env *env, const struct cni_conf *conf)
{
	struct live_keys lk = { 0 };
	struct ipam *ip;
	int r, i;

	(void)env;
	r = read_attachments(conf, &lk);
	ip = r < 0 ? NULL : session_ipam(conf);
	if (!ip)
		r = -1;
	for (i = 0; ip && i < ip->n_pools; i++) {
		int k = gc_pool(ip, ip->pools[i], &lk);

		if (k < 0)
			r = lib_fail(ip->ctx, k, "cannot collect garbage");
	}
	if (ip && for_each_orphan(ip, gc_pool, &lk) < 0)
		r = -1;
	/* Then the hostPort entries of the addresses just released. */
	if (r >= 0)
		r = gc_hostports(conf, ip);
	free(lk.owners);
	free(lk.ifnames);
	return r < 0 ? -1 : 0;
}

int cni_ipam_local_status(const struct cni_env *env, const struct cni_conf *conf)
{
	(void)env;
	/* A state we cannot use means ADD cannot be served: "not available". */
	if (!session_ipam(conf)) {
		if (cni_fail_code() != CNI_ERR_INVALID_CONFIG)
			cni_fail_set_code(CNI_ERR_NOT_AVAILABLE);
		return -1;
	}
	return 0;
}
