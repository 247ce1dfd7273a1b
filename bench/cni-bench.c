/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cni-bench: ADD then DEL latency of CNI plugins over N pods, measured
 * around each plugin's whole exec (what a runtime pays), as a runtime calls it.
 *
 *   cni-bench N NAME PLUGIN CONFIG NODE-NETNS POD-PREFIX [NAME PLUGIN ...]
 *
 * Each plugin runs in its own node namespace (a path such as
 * /run/netns/x-node); its pod i's namespace is /run/netns/POD-PREFIX-i, made by
 * the caller.  The plugins take turns, pod by pod, and which goes first
 * alternates, so both see the same machine: background kernel work (say,
 * namespaces being torn down) or a noisy neighbour slows them alike instead
 * of whichever ran second.  Prints one line per plugin and command:
 * "NAME ADD median X ms p90 Y ms (N pods)".
 *
 * With --baseline NODE-NETNS POD-PREFIX first, the same run also measures,
 * in its own namespaces and in turn with the plugins, what a DEL cannot do
 * without, to tell the kernel's time from the plugin's:
 *   exec      posix_spawn + wait of /bin/true, set up as a plugin is
 *   startup   the last plugin's VERSION command: its exec, loading, parsing
 *   dellink   one RTM_DELLINK of a veth as a DEL finds one (host end on a
 *             bridge, pod end with an address and a default route): the
 *             kernel's unregister, which the caller waits out
 * printed as "baseline exec median X ms p90 Y ms (N pods)" and so on, and,
 * pod by pod, the last plugin's DEL less the raw delete that followed it
 * ("NAME DEL-raw ..."). */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	    asprintf(&envp[n++], "CNI_PATH=%s", cni_path) < 0)
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
	printf("%-16s %-7s median %7.2f ms  p90 %7.2f ms  (%d pods)\n", name, cmd,
	       v[n / 2], v[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], n);
}

/* ---- the baseline -------------------------------------------------------------- */

struct baseline {
	int node_fd;
	const char *prefix;
	double *ms[3];          /* exec, startup, dellink */
};

static const char *const baseline_names[] = { "exec", "startup", "dellink" };

/* RTM_DELLINK of ifindex, in the namespace we are in; waits for the ack. */
static int dellink(int ifindex, double *ms)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = { .nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_DELLINK,
			  .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		  .ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex } };
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), r = -EIO;
	double t0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	t0 = now_ms();
	if (send(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req) &&
	    (n = recv(fd, buf, sizeof(buf), 0)) >= (ssize_t)(sizeof(struct nlmsghdr) + sizeof(int))) {
		struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)buf);

		r = ((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR ? e->error : -EIO;
	}
	*ms = now_ms() - t0;
	close(fd);
	return r;
}

/* Pod i's raw veth, made untimed with ip(8) in the ADD pass, as the
 * plugins' are: its host end up on a bridge with a gateway address, its pod
 * end up with an address and a default route.  So in the DEL pass the bridge
 * holds as many ports as the plugins' bridges do. */
static int baseline_addlink(struct baseline *b, int i)
{
	char cmd[1024], name[32];

	if (setns(b->node_fd, CLONE_NEWNET) < 0)
		return -1;
	snprintf(name, sizeof(name), "rawv%d", i + 1);
	snprintf(cmd, sizeof(cmd),
		 "{ ip link show rawbr0 >/dev/null 2>&1 || { ip link add rawbr0 type bridge && "
		 "ip addr add 10.94.0.1/16 dev rawbr0 && ip link set rawbr0 up; }; } && "
		 "ip link add %s type veth peer name eth0 netns %s-%d && "
		 "ip link set %s master rawbr0 up && "
		 "ip -n %s-%d addr add 10.94.%d.%d/16 dev eth0 && ip -n %s-%d link set eth0 up && "
		 "ip -n %s-%d route add default via 10.94.0.1",
		 name, b->prefix, i + 1, name, b->prefix, i + 1, (i + 2) / 250, (i + 2) % 250 + 1,
		 b->prefix, i + 1, b->prefix, i + 1);
	if (system(cmd) != 0) {
		fprintf(stderr, "cni-bench: baseline veth %s: cannot create\n", name);
		return -1;
	}
	return 0;
}

/* ... and in the DEL pass deleted, timed. */
static int baseline_dellink(struct baseline *b, int i)
{
	char name[32];
	int ifindex;

	if (setns(b->node_fd, CLONE_NEWNET) < 0)
		return -1;
	snprintf(name, sizeof(name), "rawv%d", i + 1);
	if (!(ifindex = (int)if_nametoindex(name)) || dellink(ifindex, &b->ms[2][i]) < 0) {
		fprintf(stderr, "cni-bench: baseline veth %s: cannot delete\n", name);
		return -1;
	}
	return 0;
}

struct plugin {
	const char *name, *path, *config, *prefix;
	int node_fd;            /* the node namespace it runs in */
	double *ms[2];          /* ADD, DEL */
};

#define MAX_PLUGINS 4

static int run_pod(struct plugin *p, int pass, int i)
{
	char id[64], netns[512];

	if (setns(p->node_fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cni-bench: setns into %s's node: %s\n", p->name, strerror(errno));
		return -1;
	}
	snprintf(id, sizeof(id), "bench-%d", i + 1);
	snprintf(netns, sizeof(netns), "/run/netns/%s-%d", p->prefix, i + 1);
	if (run(p->path, p->config, pass ? "DEL" : "ADD", id, netns, "/usr/lib/cni",
		&p->ms[pass][i]) < 0) {
		fprintf(stderr, "cni-bench: %s %s %s failed\n", p->name, pass ? "DEL" : "ADD", id);
		return -1;
	}
	return 0;
}

/* ADD pass: the exec floor and the plugin's startup; DEL pass: the veth. */
static int run_baseline(struct baseline *b, const struct plugin *last, int pass, int i)
{
	if (pass)
		return baseline_dellink(b, i);
	if (baseline_addlink(b, i) < 0)
		return -1;
	if (setns(b->node_fd, CLONE_NEWNET) < 0 ||
	    run("/bin/true", last->config, "VERSION", "x", "", "", &b->ms[0][i]) < 0 ||
	    run(last->path, last->config, "VERSION", "x", "", "", &b->ms[1][i]) < 0) {
		fprintf(stderr, "cni-bench: baseline exec failed\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct plugin plugins[MAX_PLUGINS];
	struct baseline base = { .node_fd = -1 };
	int n, np = 0, i, k, pass;

	if (argc > 3 && !strcmp(argv[1], "--baseline")) {
		base.node_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		base.prefix = argv[3];
		if (base.node_fd < 0) {
			fprintf(stderr, "cni-bench: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		argc -= 3;
		argv += 3;
	}
	if (argc < 7 || (argc - 2) % 5 != 0 || (argc - 2) / 5 > MAX_PLUGINS) {
		fprintf(stderr, "usage: cni-bench [--baseline NODE-NETNS POD-PREFIX] N NAME PLUGIN "
			"CONFIG NODE-NETNS POD-PREFIX [NAME PLUGIN CONFIG NODE-NETNS POD-PREFIX ...]\n");
		return 2;
	}
	n = atoi(argv[1]);
	if (n <= 0 || n > 100000) {
		fprintf(stderr, "cni-bench: N must be 1..100000\n");
		return 2;
	}
	for (k = 2; k < argc; k += 5, np++) {
		struct plugin *p = &plugins[np];

		p->name = argv[k];
		p->path = argv[k + 1];
		p->config = argv[k + 2];
		p->prefix = argv[k + 4];
		p->node_fd = open(argv[k + 3], O_RDONLY | O_CLOEXEC);
		p->ms[0] = calloc((size_t)n, sizeof(double));
		p->ms[1] = calloc((size_t)n, sizeof(double));
		if (p->node_fd < 0 || !p->ms[0] || !p->ms[1]) {
			fprintf(stderr, "cni-bench: %s: %s\n", argv[k + 3], strerror(errno));
			return 1;
		}
	}
	for (k = 0; base.node_fd >= 0 && k < 3; k++) {
		base.ms[k] = calloc((size_t)n, sizeof(double));
		if (!base.ms[k])
			return 1;
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			for (k = 0; k < np; k++)
				if (run_pod(&plugins[i % 2 ? np - 1 - k : k], pass, i) < 0)
					return 1;
			if (base.node_fd >= 0 && run_baseline(&base, &plugins[np - 1], pass, i) < 0)
				return 1;
		}
	if (base.node_fd >= 0) {
		/* DEL less the raw delete of the same pod's veth, back to back:
		 * pairs cancel much of a shared machine's drift. */
		double *d = calloc((size_t)n, sizeof(double));

		for (i = 0; d && i < n; i++)
			d[i] = plugins[np - 1].ms[1][i] - base.ms[2][i];
		if (d)
			report(plugins[np - 1].name, "DEL-raw", d, n);
		free(d);
	}
	for (k = 0; base.node_fd >= 0 && k < 3; k++) {
		report("baseline", baseline_names[k], base.ms[k], n);
		free(base.ms[k]);
	}
	for (k = 0; k < np; k++) {
		report(plugins[k].name, "ADD", plugins[k].ms[0], n);
		report(plugins[k].name, "DEL", plugins[k].ms[1], n);
		free(plugins[k].ms[0]);
		free(plugins[k].ms[1]);
		close(plugins[k].node_fd);
	}
	return 0;
}
