/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_NS 64

static char names[MAX_NS][64];
static char paths[MAX_NS][80];
static int count;
static pid_t owner;
static int saved_fd = -1;

/* Async-signal-safe: what `ip netns del` does. */
static void remove_all(void)
{
	int i;

	if (getpid() != owner)
		return;  /* a forked child must not remove its parent's namespaces */
	for (i = 0; i < count; i++) {
		if (!names[i][0])
			continue;
		umount2(paths[i], MNT_DETACH);
		unlink(paths[i]);
		names[i][0] = '\0';
	}
}

static void on_signal(int sig)
{
	remove_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_cleanup(void)
{
	static int done;
	static const int sigs[] = { SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGHUP, SIGBUS };
	size_t i;

	if (done)
		return;
	done = 1;
	owner = getpid();
	atexit(remove_all);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
}

void tns_require_root(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root for network namespaces\n");
		exit(TNS_SKIP);
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: iproute2 (ip) is not installed\n");
		exit(TNS_SKIP);
	}
}

static int vsh(const char *fmt, va_list ap)
{
	char *cmd;
	int st;

	if (vasprintf(&cmd, fmt, ap) < 0)
		TNS_FAIL("out of memory");
	st = system(cmd);
	free(cmd);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tns_sh(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsh(fmt, ap);
	va_end(ap);
	return r;
}

void tns_ok(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		TNS_FAIL("out of memory");
	va_end(ap);
	r = tns_sh("%s", cmd);
	if (r != 0)
		TNS_FAIL("command failed (%d): %s", r, cmd);
	free(cmd);
}

int tns_exec(const char *name, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		TNS_FAIL("out of memory");
	va_end(ap);
	r = tns_sh("ip netns exec %s sh -c '%s'", name, cmd);
	free(cmd);
	return r;
}

const char *tns_add(const char *tag)
{
	int i;

	install_cleanup();
	if (count == MAX_NS)
		TNS_FAIL("too many namespaces");
	i = count++;
	/* K8ST_OWNER (a short name) goes in front of the tag, so that
	 * several people's runs on one machine are told apart. */
	snprintf(names[i], sizeof(names[i]), "k8st-%.12s%s%.20s-%d-%d",
		 getenv("K8ST_OWNER") ? getenv("K8ST_OWNER") : "", getenv("K8ST_OWNER") ? "-" : "",
		 tag, (int)getpid(), i);
	snprintf(paths[i], sizeof(paths[i]), "/run/netns/%s", names[i]);
	if (tns_sh("ip netns add %s", names[i]) != 0) {
		names[i][0] = '\0';
		TNS_FAIL("cannot create namespace for %s", tag);
	}
	/* Loopback up, so that tests inside can use 127.0.0.1. */
	tns_ok("ip -n %s link set lo up", names[i]);
	return names[i];
}

const char *tns_path(const char *name)
{
	static char buf[80];

	snprintf(buf, sizeof(buf), "/run/netns/%s", name);
	return buf;
}

void tns_del(const char *name)
{
	int i;

	for (i = 0; i < count; i++) {
		if (names[i][0] && strcmp(names[i], name) == 0) {
			umount2(paths[i], MNT_DETACH);
			unlink(paths[i]);
			names[i][0] = '\0';
		}
	}
}

void tns_enter(const char *name)
{
	int fd = open(tns_path(name), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		TNS_FAIL("open %s: %s", name, strerror(errno));
	if (saved_fd < 0)
		saved_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(fd, CLONE_NEWNET) < 0)
		TNS_FAIL("setns %s: %s", name, strerror(errno));
	close(fd);
}

void tns_leave(void)
{
	if (saved_fd < 0)
		return;
	if (setns(saved_fd, CLONE_NEWNET) < 0)
		TNS_FAIL("setns back: %s", strerror(errno));
	close(saved_fd);
	saved_fd = -1;
}

pid_t tns_fork_in(const char *name, int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		TNS_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		tns_enter(name);
		_exit(fn(arg));
	}
	return pid;
}

int tns_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
