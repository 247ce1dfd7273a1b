/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPAM benchmarks.
 *
 *  1. In memory: allocate + release (a sliding window of 1,000 live keys) on
 *     a /16 and on a /8, one core; operations per second.
 *  2. Persistent allocate latency with 0, 1,000 and 10,000 allocations
 *     already in the state file:
 *       - the library with its pool kept open (a daemon),
 *       - the library opening the state file afresh for each allocation,
 *       - the k8snet CLI, exec'd per allocation (as a CNI plugin would be),
 *       - Debian's host-local, exec'd through the CNI protocol (CNI_COMMAND=ADD,
 *         config on stdin) with its dataDir pre-populated to the same occupancy.
 *
 * usage: bench-ipam [--k8snet PATH] [--host-local PATH] [--quick]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

static const char *k8snet_cli, *host_local = "/usr/lib/cni/host-local";
static char dir[] = "/tmp/k8snet-bench-ipam-XXXXXX";
static int quick;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, struct k8snet_ctx *ctx)
{
	fprintf(stderr, "bench-ipam: %s: %s\n", what, ctx ? k8snet_ctx_get_error(ctx) : strerror(errno));
	exit(1);
}

/* ---- 1. in memory ---------------------------------------------------------- */

#define WINDOW 1000
#define RING (2 * WINDOW)

static double in_memory(struct k8snet_ctx *ctx, const char *subnet, double seconds)
{
	static char keys[RING][24];
	struct k8snet_ipam_pool *pool;
	char buf[K8SNET_IPAM_CIDR_MAX];
	long i, ops = 0;
	double t0, t;

	for (i = 0; i < RING; i++)
		snprintf(keys[i], sizeof(keys[i]), "container-%ld", i);
	if (k8snet_ipam_pool_new(ctx, 0, &pool) < 0 ||
	    k8snet_ipam_pool_add_range(pool, subnet, NULL, NULL, NULL) < 0)
		die("pool", ctx);
	for (i = 0; i < WINDOW; i++)
		if (k8snet_ipam_pool_alloc(pool, keys[i], "eth0", NULL, buf, sizeof(buf)) < 0)
			die("alloc", ctx);
	t0 = now();
	do {
		int j;

		for (j = 0; j < 10000; j++, i++) {
			if (k8snet_ipam_pool_alloc(pool, keys[i % RING], "eth0", NULL, buf,
						   sizeof(buf)) != 0 ||
			    k8snet_ipam_pool_release(pool, keys[(i - WINDOW) % RING], "eth0") != 1)
				die("alloc/release", ctx);
		}
		ops += 2 * 10000;
		t = now();
	} while (t - t0 < seconds);
	k8snet_ipam_pool_free(pool);
	return (double)ops / (t - t0);
}

/* ---- 2. persistent --------------------------------------------------------- */

struct stats {
	double median, p90, mean;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stats stats_of(double *v, int n)
{
	struct stats s = { 0 };
	int i;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		s.mean += v[i];
	s.mean /= n;
	s.median = v[n / 2];
	s.p90 = v[n * 9 / 10];
	return s;
}

static struct k8snet_ipam_pool *open_pool(struct k8snet_ctx *ctx, const char *state)
{
	struct k8snet_ipam_pool *pool;

	if (k8snet_ipam_pool_new(ctx, 0, &pool) < 0 ||
	    k8snet_ipam_pool_add_range(pool, "10.0.0.0/16", NULL, NULL, NULL) < 0 ||
	    k8snet_ipam_pool_set_state_file(pool, state) < 0)
		die("pool", ctx);
	return pool;
}

static void fill(struct k8snet_ctx *ctx, const char *state, int n)
{
	struct k8snet_ipam_pool *pool = open_pool(ctx, state);
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "fill-%d", i);
		if (k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf)) < 0)
			die("fill", ctx);
	}
	k8snet_ipam_pool_free(pool);
}

/* Allocation latency (ms); each allocation is released untimed afterwards,
 * so the occupancy stays put. */
static struct stats lib_open(struct k8snet_ctx *ctx, const char *state, int n)
{
	struct k8snet_ipam_pool *pool = open_pool(ctx, state);
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	double *v = calloc((size_t)n, sizeof(*v)), t;
	struct stats s;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "bench-%d", i);
		t = now();
		if (k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf)) != 0)
			die("alloc", ctx);
		v[i] = (now() - t) * 1e3;
		if (k8snet_ipam_pool_release(pool, owner, "eth0") != 1)
			die("release", ctx);
	}
	k8snet_ipam_pool_free(pool);
	s = stats_of(v, n);
	free(v);
	return s;
}

static struct stats lib_fresh(struct k8snet_ctx *ctx, const char *state, int n)
{
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	double *v = calloc((size_t)n, sizeof(*v)), t;
	struct k8snet_ipam_pool *pool;
	struct stats s;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "fresh-%d", i);
		t = now();
		pool = open_pool(ctx, state);
		if (k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf)) != 0)
			die("alloc", ctx);
		k8snet_ipam_pool_free(pool);
		v[i] = (now() - t) * 1e3;
		pool = open_pool(ctx, state);
		if (k8snet_ipam_pool_release(pool, owner, "eth0") != 1)
			die("release", ctx);
		k8snet_ipam_pool_free(pool);
	}
	s = stats_of(v, n);
	free(v);
	return s;
}

/* Run argv with env and stdin text; stdout discarded; returns exit status. */
static int run(char *const argv[], char *const envp[], const char *input)
{
	int in[2], status;
	pid_t pid;

	if (pipe(in) < 0)
		die("pipe", NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(null, 1);
		close(in[1]);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(in[0]);
	if (input && write(in[1], input, strlen(input)) < 0)
		die("write", NULL);
	close(in[1]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static struct stats cli_exec(const char *state, int n)
{
	double *v = calloc((size_t)n, sizeof(*v)), t;
	extern char **environ;
	char owner[32];
	struct stats s;
	int i;

	for (i = 0; i < n; i++) {
		char *alloc[] = { (char *)k8snet_cli, "ipam", "alloc", "--state", (char *)state,
				  "--pool", "10.0.0.0/16", "--owner", owner, "--ifname", "eth0", NULL };
		char *release[] = { (char *)k8snet_cli, "ipam", "release", "--state", (char *)state,
				    "--owner", owner, "--ifname", "eth0", NULL };

		snprintf(owner, sizeof(owner), "cli-%d", i);
		t = now();
		if (run(alloc, environ, NULL) != 0)
			die("k8snet ipam alloc", NULL);
		v[i] = (now() - t) * 1e3;
		if (run(release, environ, NULL) != 0)
			die("k8snet ipam release", NULL);
	}
	s = stats_of(v, n);
	free(v);
	return s;
}

/* host-local keeps one file per address, named by the address, holding
 * "CONTAINERID\r\nIFNAME", in DATADIR/NETWORK. */
static void host_local_fill(const char *data_dir, int n)
{
	char path[512];
	int i;

	snprintf(path, sizeof(path), "%s/bench", data_dir);
	mkdir(data_dir, 0755);
	mkdir(path, 0755);
	for (i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/bench/10.0.%d.%d", data_dir, (i + 2) / 256,
			 (i + 2) % 256);
		f = fopen(path, "w");
		if (!f)
			die(path, NULL);
		fprintf(f, "fill-%d\r\neth0", i);
		fclose(f);
	}
}

static struct stats host_local_exec(const char *data_dir, int n)
{
	double *v = calloc((size_t)n, sizeof(*v)), t;
	char config[512], env_id[64], *argv[] = { (char *)host_local, NULL };
	struct stats s;
	int i;

	snprintf(config, sizeof(config),
		 "{\"cniVersion\": \"0.4.0\", \"name\": \"bench\", \"type\": \"host-local\","
		 " \"ipam\": {\"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"10.0.0.0/16\"}]],"
		 " \"dataDir\": \"%s\"}}", data_dir);
	for (i = 0; i < n; i++) {
		char *add_env[] = { "CNI_COMMAND=ADD", env_id, "CNI_NETNS=/proc/self/ns/net",
				    "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni", NULL };
		char *del_env[] = { "CNI_COMMAND=DEL", env_id, "CNI_NETNS=/proc/self/ns/net",
				    "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni", NULL };

		snprintf(env_id, sizeof(env_id), "CNI_CONTAINERID=hl-%d", i);
		t = now();
		if (run(argv, add_env, config) != 0)
			die("host-local ADD", NULL);
		v[i] = (now() - t) * 1e3;
		if (run(argv, del_env, config) != 0)
			die("host-local DEL", NULL);
	}
	s = stats_of(v, n);
	free(v);
	return s;
}

/* ---- main ------------------------------------------------------------------- */

static void row(const char *what, int occ, struct stats s, double base)
{
	printf("  %-28s %6d   %8.3f %8.3f %8.3f   %5.2fx\n", what, occ, s.median, s.p90, s.mean,
	       s.median / base);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "k8snet", required_argument, NULL, 'k' },
		{ "host-local", required_argument, NULL, 'h' },
		{ "quick", no_argument, NULL, 'q' },
		{ 0 }
	};
	static const int occupancy[] = { 0, 1000, 10000 };
	struct stats lib[3], fresh[3], cli[3], hl[3];
	struct k8snet_ctx *ctx;
	char state[256], data_dir[256];
	int c, i, n_lib, n_exec;
	int have_hl;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			k8snet_cli = optarg;
		else if (c == 'h')
			host_local = optarg;
		else if (c == 'q')
			quick = 1;
		else
			return 2;
	}
	if (k8snet_ctx_new(&ctx) < 0 || !mkdtemp(dir))
		die("setup", NULL);
	n_lib = quick ? 50 : 300;
	n_exec = quick ? 10 : 40;
	have_hl = access(host_local, X_OK) == 0;

	printf("in-memory allocate + release (1,000 live keys), one core:\n");
	printf("  /16: %.2f M ops/s\n", in_memory(ctx, "10.0.0.0/16", quick ? 0.3 : 1.0) / 1e6);
	printf("  /8:  %.2f M ops/s\n", in_memory(ctx, "10.0.0.0/8", quick ? 0.3 : 1.0) / 1e6);
	printf("  /64: %.2f M ops/s\n", in_memory(ctx, "fd00::/64", quick ? 0.3 : 1.0) / 1e6);

	for (i = 0; i < 3; i++) {
		snprintf(state, sizeof(state), "%s/occ%d.state", dir, occupancy[i]);
		snprintf(data_dir, sizeof(data_dir), "%s/hl%d", dir, occupancy[i]);
		fill(ctx, state, occupancy[i]);
		sync();   /* let the filling's writeback settle before timing */
		lib[i] = lib_open(ctx, state, n_lib);
		fresh[i] = lib_fresh(ctx, state, n_lib / 3);
		if (k8snet_cli)
			cli[i] = cli_exec(state, n_exec);
		if (have_hl) {
			host_local_fill(data_dir, occupancy[i]);
			sync();
			hl[i] = host_local_exec(data_dir, n_exec);
		}
	}
	printf("\npersistent allocate latency, ms (fsync'd before returning); x = median / median at 0:\n");
	printf("  %-28s %6s   %8s %8s %8s   %6s\n", "", "occ.", "median", "p90", "mean", "x");
	for (i = 0; i < 3; i++)
		row("libk8snet, pool kept open", occupancy[i], lib[i], lib[0].median);
	for (i = 0; i < 3; i++)
		row("libk8snet, opened per call", occupancy[i], fresh[i], fresh[0].median);
	if (k8snet_cli)
		for (i = 0; i < 3; i++)
			row("k8snet ipam alloc (exec)", occupancy[i], cli[i], cli[0].median);
	if (have_hl)
		for (i = 0; i < 3; i++)
			row("host-local ADD (exec)", occupancy[i], hl[i], hl[0].median);
	if (k8snet_cli && have_hl) {
		printf("\nhost-local ADD / k8snet ipam alloc, both exec'd (median):\n");
		for (i = 0; i < 3; i++)
			printf("  %6d allocations: %.2fx\n", occupancy[i], hl[i].median / cli[i].median);
	}
	printf("\nbar: 10,000 within 2x of 0 (pool kept open): %s (%.2fx)\n",
	       lib[2].median <= 2 * lib[0].median ? "met" : "NOT met", lib[2].median / lib[0].median);
	snprintf(state, sizeof(state), "rm -rf '%s'", dir);
	if (system(state) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	k8snet_ctx_free(ctx);
	return 0;
}
