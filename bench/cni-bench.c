/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cni-bench: ADD then DEL latency of a CNI plugin over N pods, measured
 * around the plugin's whole exec (what a runtime pays), as a runtime calls it.
 *
 *   cni-bench NAME PLUGIN CONFIG NETNS-PREFIX N [CNI_PATH]
 *
 * Pod i's namespace is /run/netns/NETNS-PREFIX-i (made by the caller); the
 * plugin runs in the caller's namespace (the node).  Prints one line per
 * command: "NAME ADD median X ms p90 Y ms (N pods)". */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Run the plugin once with its config on stdin and stdout discarded. */
static int run(const char *plugin, const char *config, const char *cmd, const char *id,
	       const char *netns, const char *cni_path, double *ms)
{
	posix_spawn_file_actions_t fa;
	char *envp[8];
	char *argv[] = { (char *)plugin, NULL };
	pid_t pid;
	int status, r;
	double t0;
	size_t n = 0;

	if (asprintf(&envp[n++], "CNI_COMMAND=%s", cmd) < 0 ||
	    asprintf(&envp[n++], "CNI_CONTAINERID=%s", id) < 0 ||
	    asprintf(&envp[n++], "CNI_NETNS=%s", netns) < 0 ||
	    asprintf(&envp[n++], "CNI_IFNAME=eth0") < 0 ||
	    asprintf(&envp[n++], "CNI_PATH=%s", cni_path) < 0 ||
	    asprintf(&envp[n++], "LD_LIBRARY_PATH=%s", getenv("LD_LIBRARY_PATH") ?
		     getenv("LD_LIBRARY_PATH") : "") < 0)
		return -ENOMEM;
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, config, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	t0 = now_ms();
	r = posix_spawn(&pid, plugin, &fa, NULL, argv, envp);
	if (r == 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*ms = now_ms() - t0;
		r = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
	} else
		r = -r;
	posix_spawn_file_actions_destroy(&fa);
	while (n--)
		free(envp[n]);
	return r;
}

static void report(const char *name, const char *cmd, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("%-16s %-3s median %7.2f ms  p90 %7.2f ms  (%d pods)\n", name, cmd,
	       v[n / 2], v[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], n);
}

int main(int argc, char **argv)
{
	const char *name, *plugin, *config, *prefix, *cni_path;
	double *add, *del;
	char id[64], netns[512];
	int n, i, pass;

	if (argc < 6) {
		fprintf(stderr, "usage: cni-bench NAME PLUGIN CONFIG NETNS-PREFIX N [CNI_PATH]\n");
		return 2;
	}
	name = argv[1];
	plugin = argv[2];
	config = argv[3];
	prefix = argv[4];
	n = atoi(argv[5]);
	cni_path = argc > 6 ? argv[6] : "/usr/lib/cni";
	if (n <= 0 || n > 100000) {
		fprintf(stderr, "cni-bench: N must be 1..100000\n");
		return 2;
	}
	add = calloc((size_t)n, sizeof(double));
	del = calloc((size_t)n, sizeof(double));
	if (!add || !del)
		return 1;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			int r;

			snprintf(id, sizeof(id), "bench-%d", i + 1);
			snprintf(netns, sizeof(netns), "/run/netns/%s-%d", prefix, i + 1);
			r = run(plugin, config, pass ? "DEL" : "ADD", id, netns, cni_path,
				pass ? &del[i] : &add[i]);
			if (r < 0) {
				fprintf(stderr, "cni-bench: %s %s %s failed\n", name,
					pass ? "DEL" : "ADD", id);
				return 1;
			}
		}
	}
	report(name, "ADD", add, n);
	report(name, "DEL", del, n);
	free(add);
	free(del);
	return 0;
}
