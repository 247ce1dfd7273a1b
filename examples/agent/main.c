/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet-agent: command line, start-up and the main loop.  See
 * k8snet-agent(8) and agent.h for the design.
 *
 * Start-up adopts what a previous run left in the kernel: nothing is
 * flushed; the first sync (after every initial list is in) replaces the
 * NAT and policy tables in one atomic batch each, so service traffic never
 * sees an empty table.  SIGTERM stops the agent and leaves every rule,
 * route and file in place, as kube-proxy does; the next start takes over.
 */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <k8snet/k8snet.h>

#include "agent.h"

#define DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static void usage(FILE *f)
{
	fputs("Usage: k8snet-agent --node-name NAME [--kubeconfig PATH] [--netns PATH]\n"
	      "         [--cni-conf-dir DIR] [--cluster-cidr CIDR]... [--service-cidr CIDR]...\n"
	      "         [--mode host-gw|vxlan] [--min-sync-period DURATION] [--sync-period DURATION]\n"
	      "         [--metrics-address ADDR:PORT] [--healthz-address ADDR:PORT]\n"
	      "         [--zone-file PATH --zone-reload-cmd CMD] [--state-dir DIR] [-v]\n"
	      "Keeps this node's pod routes, CNI configuration, Service NAT and NetworkPolicy\n"
	      "in step with the Kubernetes API server.  See k8snet-agent(8).\n", f);
}

static int check_cidr(const char *flag, const char *cidr)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char buf[16];
	const char *slash = strchr(cidr, '/');
	char *end;
	long len;
	int fam;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		goto bad;
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	len = strtol(slash + 1, &end, 10);
	if (inet_pton(fam, addr, buf) != 1 || *end || end == slash + 1 || len < 0 ||
	    len > (fam == AF_INET ? 32 : 128))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "k8snet-agent: %s %s: not a CIDR (e.g. 10.244.0.0/16)\n", flag, cidr);
	return -EINVAL;
}

/* --cluster-cidr a,b and repeated flags both add to the list. */
static int add_cidrs(const char *flag, const char *arg, const char ***list, size_t *n)
{
	char *copy = strdup(arg), *tok, *save;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char **v = realloc(*list, (*n + 1) * sizeof(*v));
		char *c;

		if (!v || check_cidr(flag, tok) < 0) {
			if (v)
				*list = v;
			free(copy);
			return -EINVAL;
		}
		*list = v;
		c = strdup(tok);
		if (!c) {
			free(copy);
			return -ENOMEM;
		}
		v[(*n)++] = c;
	}
	free(copy);
	return 0;
}

static int duration_arg(const char *flag, const char *arg, double *ret)
{
	if (parse_duration(arg, ret) < 0) {
		fprintf(stderr, "k8snet-agent: %s %s: not a duration (e.g. 1s, 250ms, 1m30s)\n",
			flag, arg);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_NODE_NAME = 256, OPT_KUBECONFIG, OPT_NETNS, OPT_CNI_CONF_DIR, OPT_CLUSTER_CIDR,
	OPT_SERVICE_CIDR, OPT_MODE, OPT_MIN_SYNC, OPT_SYNC, OPT_METRICS, OPT_HEALTHZ,
	OPT_ZONE_FILE, OPT_ZONE_RELOAD, OPT_STATE_DIR, OPT_VERSION,
};

static int parse_args(int argc, char **argv, struct agent_options *o)
{
	static const struct option opts[] = {
		{ "node-name", required_argument, NULL, OPT_NODE_NAME },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR },
		{ "cluster-cidr", required_argument, NULL, OPT_CLUSTER_CIDR },
		{ "service-cidr", required_argument, NULL, OPT_SERVICE_CIDR },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "min-sync-period", required_argument, NULL, OPT_MIN_SYNC },
		{ "sync-period", required_argument, NULL, OPT_SYNC },
		{ "metrics-address", required_argument, NULL, OPT_METRICS },
		{ "healthz-address", required_argument, NULL, OPT_HEALTHZ },
		{ "zone-file", required_argument, NULL, OPT_ZONE_FILE },
		{ "zone-reload-cmd", required_argument, NULL, OPT_ZONE_RELOAD },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct agent_options){
		.cni_conf_dir = "/etc/cni/net.d",
		.mode = K8SNET_LINK_PEER_HOST_GW,
		.min_sync_period = 1,
		.sync_period = 300,
		.metrics_address = "127.0.0.1:10249",
		.healthz_address = "0.0.0.0:10256",
		.state_dir = "/run/k8snet-agent",
		.sa_dir = getenv("K8SNET_AGENT_SA_DIR") ? getenv("K8SNET_AGENT_SA_DIR") : DEFAULT_SA_DIR,
	};
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case OPT_NODE_NAME: o->node_name = optarg; break;
		case OPT_KUBECONFIG: o->kubeconfig = optarg; break;
		case OPT_NETNS: o->netns = optarg; break;
		case OPT_CNI_CONF_DIR: o->cni_conf_dir = optarg; break;
		case OPT_CLUSTER_CIDR:
			r = add_cidrs("--cluster-cidr", optarg, &o->cluster_cidrs, &o->n_cluster_cidrs);
			break;
		case OPT_SERVICE_CIDR:
			r = add_cidrs("--service-cidr", optarg, &o->service_cidrs, &o->n_service_cidrs);
			break;
		case OPT_MODE:
			if (strcmp(optarg, "host-gw") == 0)
				o->mode = K8SNET_LINK_PEER_HOST_GW;
			else if (strcmp(optarg, "vxlan") == 0)
				o->mode = K8SNET_LINK_PEER_VXLAN;
			else {
				fprintf(stderr, "k8snet-agent: --mode %s: must be host-gw or vxlan\n", optarg);
				r = -EINVAL;
			}
			break;
		case OPT_MIN_SYNC: r = duration_arg("--min-sync-period", optarg, &o->min_sync_period); break;
		case OPT_SYNC: r = duration_arg("--sync-period", optarg, &o->sync_period); break;
		case OPT_METRICS: o->metrics_address = optarg; break;
		case OPT_HEALTHZ: o->healthz_address = optarg; break;
		case OPT_ZONE_FILE: o->zone_file = optarg; break;
		case OPT_ZONE_RELOAD: o->zone_reload_cmd = optarg; break;
		case OPT_STATE_DIR: o->state_dir = optarg; break;
		case 'v': agent_log_level = LOG_LVL_DEBUG; break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: printf("k8snet-agent %s\n", k8snet_version()); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "k8snet-agent: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->node_name || !*o->node_name) {
		fputs("k8snet-agent: --node-name is required\n", stderr);
		return -EINVAL;
	}
	if (o->zone_reload_cmd && !o->zone_file) {
		fputs("k8snet-agent: --zone-reload-cmd needs --zone-file\n", stderr);
		return -EINVAL;
	}
	return 0;
}

/* ---- informer callbacks ---- */

static void on_upsert(void *ud, enum kind k, const struct object *old, const struct object *cur,
		      const cJSON *obj)
{
	model_upsert(ud, k, old, cur, obj);
}

static void on_remove(void *ud, enum kind k, const struct object *old)
{
	model_remove(ud, k, old);
}

/* Service NAT's lists go first; NetworkPolicy's start when they are in (or
 * after POLICY_LIST_DELAY): one API server then serves the NAT lists alone,
 * and the NAT layer's first sync runs while the pods are being listed
 * instead of both layers queuing behind every list.  At a restart the
 * policy tables of the previous run stay in force meanwhile. */
#define POLICY_LIST_DELAY 2.0
static const enum kind nat_kinds[] = { K_NODE, K_SERVICE, K_SLICE };
static const enum kind policy_kinds[] = { K_NAMESPACE, K_POD, K_POLICY };

static void release_policy_lists(struct agent *a)
{
	size_t i;

	for (i = 0; i < sizeof(policy_kinds) / sizeof(policy_kinds[0]); i++)
		a->inf[policy_kinds[i]].not_before = 0;
}

static void on_synced(void *ud, enum kind k)
{
	struct agent *a = ud;
	size_t i;
	bool nat_in = true;

	a->synced_kinds |= 1u << k;
	for (i = 0; i < sizeof(nat_kinds) / sizeof(nat_kinds[0]); i++)
		nat_in = nat_in && (a->synced_kinds & (1u << nat_kinds[i]));
	if (nat_in)
		release_policy_lists(a);
	if (agent_all_synced(a))
		log_info("every initial list is in, %.0f ms after start",
			 (mono_now() - a->start_mono) * 1e3);
	runner_queue(a);
}

static int on_request(void *ud, struct informer *inf, const char *url)
{
	struct agent *a = ud;

	return api_start(a->api, inf, url);
}

static const struct informer_ops ops = { on_upsert, on_remove, on_synced, on_request };

/* ---- start and stop ---- */

static void own_node_checked(void *ud, long status, const char *body, size_t len, const char *err)
{
	struct agent *a = ud;

	/* Early and explicit about credentials; the informers retry anyway. */
	if (err)
		log_warn("API server %s: %s", a->kcfg.server, err);
	else if (status == 200)
		log_info("API server %s: node %s found", a->kcfg.server, a->opt.node_name);
	else if (status == 401 || status == 403)
		log_err("API server %s: GET node %s: HTTP %ld (check the credentials and RBAC)",
			a->kcfg.server, a->opt.node_name, status);
	else if (status == 404)
		log_warn("API server %s: no Node %s yet", a->kcfg.server, a->opt.node_name);
	else
		log_warn("API server %s: GET node %s: HTTP %ld", a->kcfg.server, a->opt.node_name,
			 status);
}

static void check_own_node(struct agent *a)
{
	char *path = xasprintf("/api/v1/nodes/%s", a->opt.node_name);

	if (path)
		api_get_async(a->api, path, own_node_checked, a);
	free(path);
}

static int agent_start(struct agent *a)
{
	char *err = NULL, *cni_path;
	int k, r;

	r = a->opt.kubeconfig ? kube_config_load(a->opt.kubeconfig, &a->kcfg, &err) :
				kube_config_in_cluster(a->opt.sa_dir, &a->kcfg, &err);
	if (r < 0) {
		log_err("%s", err ? err : "cannot read the API server configuration");
		free(err);
		return r;
	}
	if ((r = metrics_init(&a->metrics)) < 0 || (r = model_init(a)) < 0)
		return r;
	a->model.start_wall = wall_now();
	if ((r = server_new(a, &a->server)) < 0)
		return r;
	cni_path = xasprintf("%s/10-k8snet.conflist", a->opt.cni_conf_dir);
	a->node.cni_text = cni_path ? read_file(cni_path, NULL) : NULL;
	free(cni_path);
	stopgap_peers_load(a);
	if ((r = api_new(&a->kcfg, &a->api)) < 0)
		return r;
	check_own_node(a);
	for (k = 0; k < K_COUNT; k++) {
		/* With a zone file the DNS layer needs headless services and
		 * other proxies' services too: the proxy's selector is then
		 * applied here instead of by the server. */
		const char *sel = a->opt.zone_file ? NULL : kind_infos[k].label_selector;

		informer_init(&a->inf[k], (enum kind)k, sel, &ops, a);
	}
	for (k = 0; k < (int)(sizeof(policy_kinds) / sizeof(policy_kinds[0])); k++)
		a->inf[policy_kinds[k]].not_before = mono_now() + POLICY_LIST_DELAY;
	runner_init(&a->runner, a->opt.min_sync_period, a->opt.sync_period, mono_now());
	log_info("node %s%s%s, API server %s, %s mode, min sync period %g s, sync period %g s",
		 a->opt.node_name, a->opt.netns ? " in " : "", a->opt.netns ? a->opt.netns : "",
		 a->kcfg.server, a->opt.mode == K8SNET_LINK_PEER_VXLAN ? "vxlan" : "host-gw",
		 a->opt.min_sync_period, a->opt.sync_period);
	return 0;
}

static void agent_stop(struct agent *a)
{
	int k;

	a->server = server_free(a->server);
	a->api = api_free(a->api);
	for (k = 0; k < K_COUNT; k++)
		informer_clear(&a->inf[k]);
	model_free(&a->model);
	node_free(&a->node);
	health_free(&a->health);
	zone_free(&a->zone);
	metrics_free(&a->metrics);
	kube_config_clear(&a->kcfg);
}

static void reap_children(struct agent *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		zone_child_exited(a, pid, status);
}

static void read_signals(struct agent *a, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("%s: stopping; the node's rules stay in place",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			a->stopping = true;
		} else if (si.ssi_signo == SIGCHLD) {
			reap_children(a);
		} else if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: full resync");
			a->runner.next_full = mono_now();
		}
	}
}

static int loop(struct agent *a, int sfd)
{
	struct pollfd *fds = NULL;
	size_t cap = 0;
	int r = 0;

	while (!a->stopping) {
		double now = mono_now(), wake = 0, deadline = 0;
		unsigned n = 1, k;
		int timeout;

		for (k = 0; k < K_COUNT; k++) {
			double t = informer_tick(&a->inf[k], now);

			if (t && (!wake || t < wake))
				wake = t;
		}
		now = mono_now();
		{
			double t = runner_tick(a, now);

			if (t && (!wake || t < wake))
				wake = t;
		}
		if (cap < 1 + server_nfds(a->server)) {
			struct pollfd *v;

			cap = 16 + server_nfds(a->server);
			v = realloc(fds, cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			fds = v;
		}
		fds[0] = (struct pollfd){ sfd, POLLIN, 0 };
		n += server_pollfds(a->server, fds + 1, (unsigned)cap - 1, now, &deadline);
		if (deadline && (!wake || deadline < wake))
			wake = deadline;
		now = mono_now();
		timeout = !wake ? 60000 : wake <= now ? 0 : (int)((wake - now) * 1000) + 1;
		if (timeout > 60000)
			timeout = 60000;
		r = api_poll(a->api, fds, n, timeout);
		if (r < 0)
			break;
		if (fds[0].revents)
			read_signals(a, sfd);
		server_handle(a->server, fds + 1, n - 1, mono_now());
	}
	free(fds);
	return r;
}

int main(int argc, char **argv)
{
	struct agent a = { 0 };
	sigset_t mask;
	int sfd, r;
	size_t i;

	a.start_mono = mono_now();
	if (parse_args(argc, argv, &a.opt) < 0)
		return 2;
	srand48((long)getpid() ^ (long)time(NULL));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("start-up: %s", sfd < 0 ? strerror(errno) : "curl_global_init failed");
		return 1;
	}
	r = agent_start(&a);
	if (r >= 0)
		r = loop(&a, sfd);
	agent_stop(&a);
	curl_global_cleanup();
	close(sfd);
	for (i = 0; i < a.opt.n_cluster_cidrs; i++)
		free((char *)a.opt.cluster_cidrs[i]);
	for (i = 0; i < a.opt.n_service_cidrs; i++)
		free((char *)a.opt.service_cidrs[i]);
	free(a.opt.cluster_cidrs);
	free(a.opt.service_cidrs);
	return r < 0 ? 1 : 0;
}
