/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet-cni: CNI plugin entry point.  Reads CNI_* from the environment and
 * the network configuration from stdin, dispatches the command, and prints
 * either the result or the spec's error object.  See k8snet-cni(1). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cni.h"

static struct {
	int code;
	char *msg, *details;
} failure;

/* DEL deletes the veth in a second thread, which may fail too. */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

int cni_fail(int code, const char *msg, const char *details_fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&failure_lock);
	if (failure.code) {
		pthread_mutex_unlock(&failure_lock);
		return -1;
	}
	failure.code = code;
	failure.msg = cni_strdup(msg);
	if (details_fmt) {
		va_start(ap, details_fmt);
		if (vasprintf(&failure.details, details_fmt, ap) < 0)
			failure.details = NULL;
		va_end(ap);
	}
	pthread_mutex_unlock(&failure_lock);
	return -1;
}

int cni_fail_code(void)
{
	return failure.code;
}

void cni_fail_set_code(int code)
{
	failure.code = code;
}

bool cni_failed(void)
{
	return failure.code != 0;
}

int cni_code_for_errno(int r, int fallback)
{
	switch (r) {
	case -EINVAL:
	case -ERANGE:
		return CNI_ERR_INVALID_CONFIG;
	case -EAGAIN:
	case -EBUSY:
	case -EINTR:
	case -ENOMEM:
	case -ENOBUFS:
	case -ETIMEDOUT:
		return CNI_ERR_TRY_AGAIN;      /* gone by the time the runtime retries */
	case -EIO:
	case -ENOSPC:
	case -EDQUOT:
	case -EROFS:
	case -EFBIG:
		return CNI_ERR_SYSTEM;
	}
	return fallback;
}

/* Back to no failure: the fuzzer runs many commands in one process. */
void cni_fail_reset(void)
{
	free(failure.msg);
	free(failure.details);
	failure.msg = failure.details = NULL;
	failure.code = 0;
}

static int print_json(cJSON *json)
{
	char *s = json ? cJSON_Print(json) : NULL;
	int r = 0;

	if (!s)
		return cni_fail(CNI_ERR_IO, "cannot encode result", NULL);
	if (printf("%s\n", s) < 0 || fflush(stdout) != 0)
		r = cni_fail(CNI_ERR_IO, "cannot write result", "%s", strerror(errno));
	free(s);
	return r;
}

static void print_failure(const char *version)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "cniVersion", version);
	cJSON_AddNumberToObject(e, "code", failure.code);
	cJSON_AddStringToObject(e, "msg", failure.msg ? failure.msg : "");
	if (failure.details)
		cJSON_AddStringToObject(e, "details", failure.details);
	print_json(e);
	cJSON_Delete(e);
}

static char *read_stdin(size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len > CNI_MAX_CONFIG_BYTES) {
			free(buf);
			cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config",
				 "network configuration: more than the limit of %u bytes",
				 CNI_MAX_CONFIG_BYTES);
			return NULL;
		}
		if (cap - len < 4096) {
			char *p = realloc(buf, cap + 65536 + 1);

			if (!p) {
				free(buf);
				cni_fail(CNI_ERR_IO, "cannot read network configuration", "out of memory");
				return NULL;
			}
			buf = p;
			cap += 65536;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cni_fail(CNI_ERR_IO, "cannot read network configuration", "stdin: %s",
				 strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static int cmd_version(char *raw)
{
	cJSON *in = raw && *raw ? cJSON_Parse(raw) : NULL;
	cJSON *out = cJSON_CreateObject(), *list;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "cniVersion");
	size_t i;
	int r;

	/* Answer in the version the runtime asked about when we speak it. */
	cJSON_AddStringToObject(out, "cniVersion",
				cJSON_IsString(v) && cni_version_supported(v->valuestring) ?
				v->valuestring : CNI_VERSION_LATEST);
	list = cJSON_AddArrayToObject(out, "supportedVersions");
	for (i = 0; cni_supported_versions[i]; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(cni_supported_versions[i]));
	r = print_json(out);
	cJSON_Delete(out);
	cJSON_Delete(in);
	return r;
}

static int print_result(const struct cni_result *res, const char *version)
{
	cJSON *json = cni_result_to_json(res, version);
	int r = print_json(json);

	cJSON_Delete(json);
	return r;
}

static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISDIR(mode) ? "a directory" :
	       S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : S_ISSOCK(mode) ? "a socket" :
	       "not a namespace file";
}

/* The type of the namespace fd refers to; CLONE_NEWNET as well on kernels
 * before 4.11, which cannot tell (ENOTTY).  (/proc/self/fd/N would name a
 * bind mount by its path, not its type.) */
static int netns_type(int fd)
{
	int type = ioctl(fd, NS_GET_NSTYPE);

	return type >= 0 ? type : errno == ENOTTY ? CLONE_NEWNET : -1;
}

/* ADD and CHECK need the container's namespace: open it once, before any
 * work, without blocking (a FIFO would hang a plain open forever), and make
 * sure it is a network namespace, whether /proc/PID/ns/net or a bind mount
 * such as /run/netns/NAME.  The link layer then uses this descriptor, so
 * the path cannot change to something else in between. */
static int need_netns(struct cni_env *env)
{
	struct statfs sfs;
	struct stat st;
	int fd = open(env->netns, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return cni_fail(errno == ENOENT || errno == ENOTDIR ? CNI_ERR_UNKNOWN_CONTAINER :
				CNI_ERR_INVALID_ENV, "container unknown or does not exist",
				"CNI_NETNS=%s: %s", env->netns, strerror(errno));
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		int r = cni_fail(CNI_ERR_INVALID_ENV, "CNI_NETNS is not a network namespace",
				 "CNI_NETNS=%s: %s", env->netns,
				 fstat(fd, &st) == 0 ? file_kind(st.st_mode) : strerror(errno));

		close(fd);
		return r;
	}
	/* Every namespace type lives in nsfs: /proc/PID/ns/mnt would pass the
	 * check above. */
	if (netns_type(fd) != CLONE_NEWNET) {
		close(fd);
		return cni_fail(CNI_ERR_INVALID_ENV, "CNI_NETNS is not a network namespace",
				"CNI_NETNS=%s: a namespace of another type", env->netns);
	}
	env->netns_fd = fd;
	return 0;
}

static int cmd_add(struct cni_env *env, struct cni_conf *conf)
{
	struct cni_result res = { 0 }, out = { 0 };
	int r;

	if (need_netns(env) < 0)
		return -1;
	if (conf->prev_result && cni_result_from_json(&out, conf->prev_result, "prevResult") < 0) {
		cni_result_done(&out);
		return -1;
	}
	/* Held until exit: GC must not run between our address and our mappings. */
	r = cni_ipam_lock(conf, false);
	if (r >= 0)
		r = cni_ipam_add(env, conf, &res) < 0 ? -1 : 0;
	if (r >= 0) {
		/* The link layer is all or nothing itself: no cleanup after it. */
		r = cni_net_add(env, conf, &res);
		if (r >= 0) {
			r = cni_nft_add(env, conf, &res);
			if (r < 0)
				cni_net_del(env, conf);
		}
		/* A failed ADD leaves nothing behind, even before the runtime's
		 * DEL, but never frees what an earlier ADD of this container holds. */
		if (r < 0)
			cni_ipam_undo_add(env, conf);
	}
	if (r >= 0) {
		if (conf->dns) {
			cJSON_Delete(res.dns);
			res.dns = cJSON_Duplicate(conf->dns, 1);
		}
		r = cni_result_merge(&out, &res);
	}
	if (r >= 0)
		r = print_result(&out, conf->version);
	cni_result_done(&res);
	cni_result_done(&out);
	return r;
}

/* What DEL does besides the veth: the lock, the mappings, the address. */
struct del_state {
	const struct cni_env *env;
	const struct cni_conf *conf;
	const struct cni_result *prev;
	int r;
};

static void *del_state_thread(void *userdata)
{
	struct del_state *ds = userdata;

	if (cni_ipam_lock(ds->conf, false) < 0)
		ds->r = -1;
	if (cni_nft_del(ds->env, ds->conf, ds->prev) < 0)
		ds->r = -1;
	if (cni_ipam_del(ds->env, ds->conf) < 0)
		ds->r = -1;
	return NULL;
}

static int cmd_del(struct cni_env *env, struct cni_conf *conf)
{
	struct cni_result prev = { 0 };
	struct del_state ds = { env, conf, NULL, 0 };
	pthread_t t;
	bool threaded;
	int r = 0;

	/* DEL must succeed when repeated or when the namespace is gone, so each
	 * step is idempotent and all of them run even if one fails. */
	/* prevResult is not needed (everything goes by container id and
	 * interface name): one that does not parse is left aside. */
	if (conf->prev_result && cni_result_from_json(&prev, conf->prev_result, "prevResult") < 0) {
		cni_fail_reset();
		cni_result_done(&prev);
		memset(&prev, 0, sizeof(prev));
		conf->prev_result = NULL;
	}
	ds.prev = conf->prev_result ? &prev : NULL;
	/* Most of a DEL is the kernel unregistering the veth: about 15 ms of
	 * RCU grace periods, which RTM_DELLINK waits out asleep in the
	 * caller's own time.  This thread starts it at once; the rest (the
	 * network lock, the mappings, the address and its fdatasync) runs in a
	 * second thread meanwhile, on the CPU the first leaves idle.  The veth
	 * is no business of GC's, so it needs no lock; the reference plugin,
	 * too, releases the address before the veth is gone. */
	threaded = pthread_create(&t, NULL, del_state_thread, &ds) == 0;
	if (cni_net_del(env, conf) < 0)
		r = -1;
	if (threaded)
		pthread_join(t, NULL);
	else
		del_state_thread(&ds);
	if (ds.r < 0)
		r = -1;
	cni_result_done(&prev);
	return r;
}

static int cmd_check(struct cni_env *env, struct cni_conf *conf)
{
	struct cni_result prev = { 0 };
	int r;

	if (!conf->prev_result)
		return cni_fail(CNI_ERR_INVALID_CONFIG, "required prevResult missing",
				"CHECK needs the result of ADD in prevResult");
	r = need_netns(env);
	if (r >= 0)
		r = cni_result_from_json(&prev, conf->prev_result, "prevResult");
	if (r >= 0)
		r = cni_ipam_lock(conf, false);
	if (r >= 0)
		r = cni_ipam_check(env, conf, &prev);
	if (r >= 0)
		r = cni_net_check(env, conf, &prev);
	if (r >= 0)
		r = cni_nft_check(env, conf, &prev);
	cni_result_done(&prev);
	return r;
}

static int need_version(const struct cni_conf *conf, const char *command)
{
	if (cni_version_cmp(conf->version, "1.1.0") < 0)
		return cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
				"config version %s does not allow %s (needs 1.1.0)",
				conf->version, command);
	return 0;
}

static int dispatch(struct cni_env *env, struct cni_conf *conf)
{
	if (strcmp(env->command, "ADD") == 0)
		return cmd_add(env, conf);
	if (strcmp(env->command, "DEL") == 0)
		return cmd_del(env, conf);
	if (strcmp(env->command, "CHECK") == 0)
		return cmd_check(env, conf);
	if (strcmp(env->command, "STATUS") == 0)
		return need_version(conf, "STATUS") < 0 ? -1 : cni_ipam_status(env, conf);
	if (strcmp(env->command, "GC") == 0) {
		if (need_version(conf, "GC") < 0)
			return -1;
		/* Only IPAM state (and its hostPort entries) outlives a sandbox:
		 * a veth pair disappears with the pod's namespace.  Alone on the
		 * network: what is live must not change while GC looks. */
		return cni_ipam_lock(conf, true) < 0 ? -1 : cni_ipam_gc(env, conf);
	}
	return cni_fail(CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND", "%s", env->command);
}

/* One whole invocation, as main() runs it: the environment parsed in env,
 * raw the configuration read from stdin (owned from here on).  Prints the
 * result or the error; returns the exit status. */
int cni_run(struct cni_env *env, char *raw, size_t len)
{
	struct cni_conf conf = { 0 };
	const char *version = CNI_VERSION_LATEST;
	int r;

	r = cni_conf_parse(&conf, raw, len, env->command, env);
	if (conf.version && cni_version_supported(conf.version))
		version = conf.version;
	/* r > 0: a DEL with nothing ADD could have made (cni_conf_parse()). */
	if (r == 0)
		r = dispatch(env, &conf);
	cni_ipam_unlock();
	if (r < 0 || cni_failed()) {
		if (!cni_failed())
			cni_fail(CNI_ERR_INTERNAL, "internal error", NULL);
		print_failure(version);
	}
	cni_conf_done(&conf);
	if (env->netns_fd >= 0)
		close(env->netns_fd);
	env->netns_fd = -1;
	return cni_failed() ? 1 : 0;
}

#ifndef CNI_NO_MAIN
int main(void)
{
	struct cni_env env = { 0 };
	const char *version = CNI_VERSION_LATEST;
	char *raw = NULL;
	size_t len = 0;
	int r;

	r = cni_env_parse(&env);
	if (r >= 0 && strcmp(env.command, "VERSION") == 0) {
		raw = read_stdin(&len);
		r = raw ? cmd_version(raw) : -1;
		free(raw);
		raw = NULL;
		goto out;
	}
	if (r >= 0)
		raw = read_stdin(&len);
	if (raw) {
		r = cni_run(&env, raw, len);
		cni_env_done(&env);
		cni_fail_reset();
		return r;
	}
	r = -1;
out:
	if (r < 0 || cni_failed()) {
		if (!cni_failed())
			cni_fail(CNI_ERR_INTERNAL, "internal error", NULL);
		print_failure(version);
	}
	cni_env_done(&env);
	r = cni_failed() ? 1 : 0;
	cni_fail_reset();
	return r;
}
#endif
