/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPAM state files under real concurrency and real kill -9 (no namespace
 * needed, only processes, flock and fsync):
 *  - 8 processes x 500 allocations on one state file: 4,000 distinct
 *    addresses, and the file lists exactly what the processes were given;
 *  - a process allocating and releasing is killed at random moments, many
 *    times: afterwards no address is held twice, nothing that was reported
 *    done is missing, and nothing is there that was not at least begun.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#define PROCS 8
#define PER_PROC 500
#define KILLS 60

static char dir[] = "/tmp/k8snet-ipam-procs-XXXXXX";
static char state[128];
static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			failures++;                                            \
		}                                                              \
	} while (0)

static void cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct k8snet_ipam_pool *open_pool(struct k8snet_ctx **ctx)
{
	struct k8snet_ipam_pool *pool = NULL;

	if (k8snet_ctx_new(ctx) < 0 || k8snet_ipam_pool_new(*ctx, 0, &pool) < 0 ||
	    k8snet_ipam_pool_add_range(pool, "10.0.0.0/16", NULL, NULL, NULL) < 0 ||
	    k8snet_ipam_pool_set_state_file(pool, state) < 0) {
		fprintf(stderr, "open_pool: %s\n", *ctx ? k8snet_ctx_get_error(*ctx) : "no ctx");
		exit(2);
	}
	return pool;
}

/* One line per report, in one write(), so a kill never splits it. */
static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, (size_t)n) != n)
		_exit(3);
}

/* ---- the listing ------------------------------------------------------------- */

struct entry {
	char owner[64];
	char addr[64];
	int state;    /* parent's view: 1 held, 2 maybe (release begun), 0 gone */
};

struct table {
	struct entry *v;
	size_t n, cap;
};

static struct entry *find(struct table *t, const char *owner)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].owner, owner) == 0)
			return &t->v[i];
	return NULL;
}

static struct entry *add(struct table *t, const char *owner, const char *addr)
{
	struct entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			exit(2);
	}
	e = &t->v[t->n++];
	snprintf(e->owner, sizeof(e->owner), "%s", owner);
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->state = 1;
	return e;
}

static int list_one(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	add(userdata, owner, cidr);
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->addr, ((const struct entry *)b)->addr);
}

/* The state file as a table; every address in it is distinct. */
static void load(struct table *t)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_ipam_pool *pool = open_pool(&ctx);
	size_t i;

	t->n = 0;
	CHECK(k8snet_ipam_pool_foreach(pool, list_one, t) == 0, "foreach: %s",
	      k8snet_ctx_get_error(ctx));
	if (t->n)   /* qsort(NULL, 0, ...) is undefined */
		qsort(t->v, t->n, sizeof(*t->v), cmp_addr);
	for (i = 1; i < t->n; i++)
		CHECK(strcmp(t->v[i - 1].addr, t->v[i].addr) != 0, "%s held twice", t->v[i].addr);
	k8snet_ipam_pool_free(pool);
	k8snet_ctx_free(ctx);
}

/* ---- 8 processes x 500 allocations --------------------------------------------- */

static void allocator(int id, int fd)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_ipam_pool *pool = open_pool(&ctx);
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	int i;

	for (i = 0; i < PER_PROC; i++) {
		snprintf(owner, sizeof(owner), "p%d-%d", id, i);
		if (k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf)) != 0) {
			fprintf(stderr, "alloc %s: %s\n", owner, k8snet_ctx_get_error(ctx));
			_exit(1);
		}
		report(fd, "%s %s\n", owner, buf);
	}
	k8snet_ipam_pool_free(pool);
	k8snet_ctx_free(ctx);
	_exit(0);
}

/* Read "OWNER ADDR" lines ("?OWNER", "-OWNER" for releases) into t. */
static void read_reports(FILE *f, struct table *t)
{
	char owner[64], addr[64], line[256];
	struct entry *e;

	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '?' || line[0] == '-') {
			line[strcspn(line, "\n")] = '\0';
			e = find(t, line + 1);
			if (e)
				e->state = line[0] == '?' ? 2 : 0;
			continue;
		}
		if (sscanf(line, "%63s %63s", owner, addr) == 2)
			add(t, owner, addr);
	}
}

static void test_many_processes(void)
{
	struct table reported = { 0 }, listed = { 0 };
	int pipes[PROCS][2], i, status;
	pid_t pids[PROCS];
	size_t k;

	for (i = 0; i < PROCS; i++) {
		if (pipe(pipes[i]) < 0)
			exit(2);
		pids[i] = fork();
		if (pids[i] == 0) {
			close(pipes[i][0]);
			allocator(i, pipes[i][1]);
		}
		close(pipes[i][1]);
	}
	for (i = 0; i < PROCS; i++) {
		FILE *f = fdopen(pipes[i][0], "r");

		read_reports(f, &reported);
		fclose(f);
		waitpid(pids[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "allocator %d failed", i);
	}
	load(&listed);
	CHECK(reported.n == PROCS * PER_PROC, "%zu allocations reported", reported.n);
	CHECK(listed.n == PROCS * PER_PROC, "%zu allocations listed", listed.n);
	qsort(reported.v, reported.n, sizeof(*reported.v), cmp_addr);
	for (k = 0; k < reported.n && k < listed.n; k++)
		CHECK(strcmp(reported.v[k].addr, listed.v[k].addr) == 0 &&
		      strcmp(reported.v[k].owner, listed.v[k].owner) == 0,
		      "reported %s %s, listed %s %s", reported.v[k].owner, reported.v[k].addr,
		      listed.v[k].owner, listed.v[k].addr);
	printf("many processes: %zu reported, %zu listed, all distinct\n", reported.n, listed.n);
	free(reported.v);
	free(listed.v);
}

/* ---- kill -9 ------------------------------------------------------------------- */

struct keys {
	char **owners, **ifnames;
	size_t n;
};

static int collect_key(void *userdata, const char *cidr, const char *owner, const char *ifname)
{
	struct keys *k = userdata;

	k->owners = realloc(k->owners, (k->n + 1) * sizeof(*k->owners));
	k->ifnames = realloc(k->ifnames, (k->n + 1) * sizeof(*k->ifnames));
	if (!k->owners || !k->ifnames)
		_exit(2);
	k->owners[k->n] = strdup(owner);
	k->ifnames[k->n++] = strdup(ifname);
	return 0;
}

/* GC keeping every key but owner: one snapshot, all or nothing. */
static void gc_all_but(struct k8snet_ipam_pool *pool, const char *owner, int fd)
{
	struct keys k = { 0 };
	size_t i, j = 0;

	if (k8snet_ipam_pool_foreach(pool, collect_key, &k) < 0)
		_exit(1);
	for (i = 0; i < k.n; i++)
		if (strcmp(k.owners[i], owner) != 0) {
			k.owners[j] = k.owners[i];
			k.ifnames[j++] = k.ifnames[i];
		}
	report(fd, "?%s\n", owner);
	if (k8snet_ipam_pool_gc(pool, (const char *const *)k.owners,
				(const char *const *)k.ifnames, j) != 1)
		_exit(1);
	report(fd, "-%s\n", owner);
}

/* Allocate forever; release every third of its own allocations, and GC
 * away one every fifth, so that the journal keeps growing, compacting and being
 * replaced by snapshots while we kill. */
static void victim(int round, int fd)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_ipam_pool *pool = open_pool(&ctx);
	char owner[32], buf[K8SNET_IPAM_CIDR_MAX];
	int i;

	for (i = 0;; i++) {
		if (i % 5 == 4) {
			/* A key the releases below leave alone (those are 1 mod 3). */
			int t = i - 3 - ((i - 3) % 3 == 1);

			snprintf(owner, sizeof(owner), "k%d-%d", round, t);
			gc_all_but(pool, owner, fd);
		}
		snprintf(owner, sizeof(owner), "k%d-%d", round, i);
		if (k8snet_ipam_pool_alloc(pool, owner, "eth0", NULL, buf, sizeof(buf)) != 0)
			_exit(1);
		report(fd, "%s %s\n", owner, buf);
		if (i % 3 == 2) {
			snprintf(owner, sizeof(owner), "k%d-%d", round, i - 1);
			report(fd, "?%s\n", owner);
			if (k8snet_ipam_pool_release(pool, owner, "eth0") != 1)
				_exit(1);
			report(fd, "-%s\n", owner);
		}
	}
}

static void check_against(struct table *expect, int round)
{
	struct table listed = { 0 };
	size_t i, extra = 0;
	struct entry *e;

	load(&listed);
	for (i = 0; i < expect->n; i++) {
		e = find(&listed, expect->v[i].owner);
		if (expect->v[i].state == 1)
			CHECK(e && strcmp(e->addr, expect->v[i].addr) == 0,
			      "round %d: %s (%s) reported but missing", round, expect->v[i].owner,
			      expect->v[i].addr);
		else if (expect->v[i].state == 0)
			CHECK(!e, "round %d: %s released but still there", round, expect->v[i].owner);
		else if (!e)
			expect->v[i].state = 0;   /* the release did happen */
	}
	/* At most one allocation per kill can have happened unreported. */
	for (i = 0; i < listed.n; i++)
		if (!find(expect, listed.v[i].owner)) {
			add(expect, listed.v[i].owner, listed.v[i].addr);
			extra++;
		}
	CHECK(extra <= 1, "round %d: %zu unexpected allocations", round, extra);
	free(listed.v);
}

static void test_kill_9(void)
{
	struct table expect = { 0 };
	int round, fds[2], status, killed = 0;
	struct timespec ts;
	pid_t pid;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (round = 0; round < KILLS && !failures; round++) {
		if (pipe(fds) < 0)
			exit(2);
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			victim(round, fds[1]);
		}
		close(fds[1]);
		ts.tv_sec = 0;
		ts.tv_nsec = (rand() % 40000) * 1000L;   /* 0..40 ms */
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		killed += WIFSIGNALED(status);
		CHECK(WIFSIGNALED(status), "round %d: victim exited by itself (%d)", round, status);
		FILE *f = fdopen(fds[0], "r");
		read_reports(f, &expect);
		fclose(f);
		check_against(&expect, round);
	}
	printf("kill -9: %d kills, %zu keys tracked, state consistent after each\n", killed,
	       expect.n);
	free(expect.v);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	atexit(cleanup);
	snprintf(state, sizeof(state), "%s/pods.state", dir);
	test_many_processes();
	unlink(state);
	test_kill_9();
	return failures ? 1 : 0;
}
