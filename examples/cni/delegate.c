/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Delegation to another plugin (an IPAM plugin named by ipam.type), as the
 * spec says: found in CNI_PATH, run with our environment (CNI_COMMAND set to
 * the command we delegate) and our configuration on stdin.  Its error object
 * is passed through unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"

static char *find_plugin(const char *cni_path, const char *type)
{
	char *copy = cni_strdup(cni_path), *dir, *save = NULL, *found = NULL;

	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = cni_asprintf("%s/%s", dir, type);

		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static void child(const char *plugin, const char *command, int in, int out)
{
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	setenv("CNI_COMMAND", command, 1);
	execl(plugin, plugin, (char *)NULL);
	_exit(127);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static char *read_all(int fd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (cap - len < 1024) {
			cap += 16384;
			buf = cni_xrealloc_array(buf, cap + 1, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Pass the delegate's own error through, or describe how it failed. */
static int delegate_failed(const char *type, const char *out, int status)
{
	cJSON *e = cJSON_Parse(out);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(e, "details");
	int r;

	if (cJSON_IsNumber(code) && code->valueint > 0)
		r = cni_fail(code->valueint, cJSON_IsString(msg) ? msg->valuestring : "",
			     "%s", cJSON_IsString(details) ? details->valuestring : type);
	else
		r = cni_fail(CNI_ERR_INTERNAL, "IPAM plugin failed", "%s exited with status %d",
			     type, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	cJSON_Delete(e);
	return r;
}

int cni_delegate(const struct cni_env *env, const struct cni_conf *conf, const char *type,
		 const char *command, char **ret_out)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, r = 0;
	char *plugin, *output = NULL;
	void (*old)(int);
	pid_t pid;

	if (!env->path || !*env->path)
		return cni_fail(CNI_ERR_INVALID_ENV, "required env variables missing",
				"[CNI_PATH] (to find IPAM plugin \"%s\")", type);
	plugin = find_plugin(env->path, type);
	if (!plugin)
		return cni_fail(CNI_ERR_INVALID_CONFIG, "failed to find plugin",
				"ipam.type: \"%s\" not found in CNI_PATH %s", type, env->path);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = cni_fail(CNI_ERR_IO, "cannot run IPAM plugin", "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = cni_fail(CNI_ERR_IO, "cannot run IPAM plugin", "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(plugin, command, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	old = signal(SIGPIPE, SIG_IGN);
	write_all(in[1], conf->raw, conf->raw_len);   /* a short read is its failure */
	signal(SIGPIPE, old);
	close(in[1]);
	in[1] = -1;
	output = read_all(out[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = delegate_failed(type, output, status);
	else if (ret_out) {
		*ret_out = output;
		output = NULL;
	}
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	free(output);
	free(plugin);
	return r;
}
