/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet proxy sync|render FILE.json: Services and EndpointSlices to
 * nftables.  sync programs the node's namespace (replacing what a previous
 * run left); render prints the same ruleset as nft text.  Bad input: exit 2,
 * nothing changed.
 *
 * Before programming, sync looks for two likely mistakes and warns on
 * standard error (the exit status stays what the sync makes it):
 *  - a pod CIDR of this node (a --pod-cidr, or the subnet of a bridge's
 *    address) that no --cluster-cidr of its family covers: Service traffic
 *    from those pods would be masqueraded;
 *  - a socket listening in the node's namespace on a port of the NodePort
 *    range: a NodePort Service given that port would take its traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static int add_list(const struct cli_call *call, struct k8snet_ctx *ctx, struct k8snet_proxy *p,
		    enum cli_opt id, uint32_t attr)
{
	const char *const *v;
	size_t n = cli_list(call, id, &v);
	char what[96];

	for (size_t i = 0; i < n; i++)
		if (k8snet_proxy_add_str(p, attr, v[i]) < 0) {
			snprintf(what, sizeof(what), "--%s", call->opt[id].spelled);
			return cli_report(ctx, -EINVAL, what);
		}
	return CLI_OK;
}

static int nodeport_range(const struct cli_call *call, struct k8snet_ctx *ctx,
			  struct k8snet_proxy *p)
{
	const char *s = cli_str(call, OPT_NODEPORT_RANGE);
	unsigned lo, hi;
	int end = 0;

	if (!s)
		return CLI_OK;
	if (sscanf(s, "%u-%u%n", &lo, &hi, &end) != 2 || s[end] || lo > hi || hi > 65535)
		return cli_usage(call, "--nodeport-range %s: expected MIN-MAX, e.g. 30000-32767", s);
	if (k8snet_proxy_set_u32(p, K8SNET_PROXY_NODEPORT_MIN, lo) < 0 ||
	    k8snet_proxy_set_u32(p, K8SNET_PROXY_NODEPORT_MAX, hi) < 0)
		return cli_report(ctx, -EINVAL, "--nodeport-range");
	return CLI_OK;
}

static int configure(const struct cli_call *call, struct k8snet_ctx *ctx, struct k8snet_proxy *p)
{
	uint32_t flags = 0, bit = 0;
	int r = CLI_OK;

	if (cli_flag(call, OPT_MASQUERADE_ALL))
		flags |= K8SNET_PROXY_F_MASQUERADE_ALL;
	if (cli_flag(call, OPT_ROUND_ROBIN))
		flags |= K8SNET_PROXY_F_ROUND_ROBIN;
	if (cli_flag(call, OPT_NO_CONNTRACK_CLEANUP))
		flags |= K8SNET_PROXY_F_NO_CONNTRACK_CLEANUP;
	if (cli_flag(call, OPT_COUNTERS))
		flags |= K8SNET_PROXY_F_COUNT;
	if (cli_str(call, OPT_NODE_NAME) &&
	    k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_NAME, cli_str(call, OPT_NODE_NAME)) < 0)
		r = cli_report(ctx, -EINVAL, "--node-name");
	if (!r && cli_str(call, OPT_NODE_ZONE) &&
	    k8snet_proxy_set_str(p, K8SNET_PROXY_NODE_ZONE, cli_str(call, OPT_NODE_ZONE)) < 0)
		r = cli_report(ctx, -EINVAL, "--node-zone");
	if (!r)
		r = add_list(call, ctx, p, OPT_NODE_IP, K8SNET_PROXY_NODE_IP);
	if (!r)
		r = add_list(call, ctx, p, OPT_CLUSTER_CIDR, K8SNET_PROXY_CLUSTER_CIDR);
	if (!r)
		r = add_list(call, ctx, p, OPT_NODEPORT_CIDR, K8SNET_PROXY_NODEPORT_ADDRESS);
	if (!r)
		r = add_list(call, ctx, p, OPT_SERVICE_CIDR, K8SNET_PROXY_SERVICE_CIDR);
	if (!r && cli_str(call, OPT_TABLE) &&
	    k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, cli_str(call, OPT_TABLE)) < 0)
		r = cli_report(ctx, -EINVAL, "--table");
	if (!r)
		r = cli_u32(call, OPT_MARK_BIT, 0, 31, &bit);
	if (!r && cli_flag(call, OPT_MARK_BIT) &&
	    k8snet_proxy_set_u32(p, K8SNET_PROXY_MARK_BIT, bit) < 0)
		r = cli_report(ctx, -EINVAL, "--mark-bit");
	if (!r)
		r = nodeport_range(call, ctx, p);
	if (!r && k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, flags) < 0)
		r = cli_report(ctx, -EINVAL, "flags");
	return r;
}

/* ---- Warnings ------------------------------------------------------------ */

/* A pod CIDR of this node and where it was seen. */
struct pod_cidr {
	struct cli_prefix net;
	char source[48];
};

struct pod_cidrs {
	struct pod_cidr *v;
	size_t n;
};

/* Add p's network (once: a bridge often shows a --pod-cidr again). */
static void add_pod_cidr(struct pod_cidrs *c, const struct cli_prefix *p, const char *source)
{
	struct cli_prefix net = cli_prefix_network(p);
	struct pod_cidr *nv;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].net.family == net.family && c->v[i].net.len == net.len &&
		    memcmp(c->v[i].net.addr, net.addr, sizeof(net.addr)) == 0)
			return;
	nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (!nv)
		return;  /* a warning fewer */
	c->v = nv;
	nv[c->n].net = net;
	snprintf(nv[c->n].source, sizeof(nv->source), "%s", source);
	c->n++;
}

/* This node's pod CIDRs: the --pod-cidr values and, with a namespace, the
 * subnets of its bridges' addresses. */
static struct pod_cidrs node_pod_cidrs(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	struct pod_cidrs c = { NULL, 0 };
	const char *const *v;
	size_t n = cli_list(call, OPT_POD_CIDR, &v), n_addrs = 0;
	struct cli_link_addr *addrs = NULL;
	struct cli_prefix p;
	char source[48];

	for (size_t i = 0; i < n; i++)
		if (cli_prefix_parse(v[i], true, &p) == 0)
			add_pod_cidr(&c, &p, "--pod-cidr");
	if (!ctx || cli_link_addrs(ctx, &addrs, &n_addrs) < 0)
		return c;
	for (size_t i = 0; i < n_addrs; i++)
		if (strcmp(addrs[i].kind, "bridge") == 0) {
			snprintf(source, sizeof(source), "bridge %s", addrs[i].link);
			add_pod_cidr(&c, &addrs[i].prefix, source);
		}
	free(addrs);
	return c;
}

static void warn_cluster_cidr(const struct cli_call *call, struct k8snet_ctx *ctx)
{
	const char *const *v;
	size_t n = cli_list(call, OPT_CLUSTER_CIDR, &v);
	struct pod_cidrs pods;
	char buf[64];

	if (!n || cli_flag(call, OPT_MASQUERADE_ALL))
		return;
	pods = node_pod_cidrs(call, ctx);
	for (size_t i = 0; i < pods.n; i++) {
		const struct cli_prefix *pod = &pods.v[i].net;
		bool family = false, covered = false;

		for (size_t j = 0; j < n; j++) {
			struct cli_prefix c;

			if (cli_prefix_parse(v[j], true, &c) < 0 || c.family != pod->family)
				continue;
			family = true;
			covered |= c.len <= pod->len && cli_prefix_contains(&c, pod);
		}
		/* No cluster CIDR of the family: nothing of it is masqueraded. */
		if (family && !covered)
			cli_warn("no --cluster-cidr covers this node's pod CIDR %s (%s): Service "
				 "traffic from its pods will be masqueraded",
				 cli_prefix_str(pod, true, buf), pods.v[i].source);
	}
	free(pods.v);
}

/* Ports with a listening socket in the node's namespace, from one of
 * /proc/net/{tcp,tcp6,udp,udp6} ("st" 0A: TCP LISTEN, 07: UDP bound). */
static void warn_listeners(struct k8snet_ctx *ctx, const char *file, const char *proto,
			   unsigned state, uint32_t lo, uint32_t hi, char *seen)
{
	char path[64], *text, *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	text = cli_netns_read(ctx, path);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned port, st;

		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port, &st) != 2 ||
		    st != state || port < lo || port > hi || seen[port])
			continue;
		seen[port] = 1;
		cli_warn("a %s socket listens on port %u in the node's namespace, inside the "
			 "NodePort range %u-%u: a NodePort Service given that port would take its "
			 "traffic", proto, port, lo, hi);
	}
	free(text);
}

static void warn_nodeport_range(struct k8snet_ctx *ctx, struct k8snet_proxy *p)
{
	uint32_t lo = k8snet_proxy_get_u32(p, K8SNET_PROXY_NODEPORT_MIN);
	uint32_t hi = k8snet_proxy_get_u32(p, K8SNET_PROXY_NODEPORT_MAX);
	char *tcp = calloc(65536, 1), *udp = calloc(65536, 1);

	if (tcp && udp) {
		warn_listeners(ctx, "tcp", "TCP", 0x0a, lo, hi, tcp);
		warn_listeners(ctx, "tcp6", "TCP", 0x0a, lo, hi, tcp);
		warn_listeners(ctx, "udp", "UDP", 0x07, lo, hi, udp);
		warn_listeners(ctx, "udp6", "UDP", 0x07, lo, hi, udp);
	}
	free(tcp);
	free(udp);
}

/* ---- The commands -------------------------------------------------------- */

/* Services left out because an older one holds their address: named on
 * standard error; the rest went through, so the exit status is 0. */
static int report_skipped(const struct k8snet_proxy *p, const char *text)
{
	const char *object, *reason;
	uint32_t i;

	for (i = 0; k8snet_proxy_get_skipped(p, i, &object, &reason) == 0; i++)
		cli_warn("%s left out: %s", object, reason);
	return text ? cli_print_text(text) : CLI_OK;
}

/* --health: one line per service whose health-check data changed. */
static void print_health(const struct cli_call *call, const struct k8snet_proxy *p)
{
	const char *key, *slash;
	uint32_t i, port, local;
	char ns[256];

	for (i = 0; cli_flag(call, OPT_HEALTH) && k8snet_proxy_get_health_changed(p, i, &key) == 0;
	     i++) {
		slash = strchr(key, '/');
		snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - key) : 0, key);
		if (slash && k8snet_proxy_get_health(p, ns, slash + 1, &port, &local) == 0)
			printf("health %s: node port %u, %u local ready endpoints\n", key, port, local);
		else
			printf("health %s: none\n", key);
	}
}

/* --follow: each line of standard input names a JSON file whose objects
 * are added or replaced, then synced; one line of output per sync, so that
 * a script can wait for it.  Ends at end of input or on the first error. */
static int follow(const struct cli_call *call, struct k8snet_ctx *ctx, struct k8snet_proxy *p)
{
	char line[4096];
	int r = CLI_OK;

	while (!r && fgets(line, sizeof(line), stdin)) {
		size_t len = strcspn(line, "\n");
		char *json;
		int n;

		line[len] = '\0';
		if (!len)
			continue;
		json = cli_read_file(line, &len);
		if (!json)
			return CLI_USAGE;
		n = k8snet_proxy_load_json(p, json, len);
		free(json);
		if (n >= 0)
			n = k8snet_proxy_sync(p);
		if (n < 0)
			return cli_report(ctx, n, line);
		r = report_skipped(p, NULL);
		print_health(call, p);
		printf("synced %s: %d messages, %u conntrack entries deleted\n", line, n,
		       k8snet_proxy_get_u32(p, K8SNET_PROXY_CONNTRACK_DELETED));
		fflush(stdout);
	}
	return r;
}

static int proxy_run(const struct cli_call *call, bool sync)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_proxy *p = NULL;
	const char *file = call->args[0];
	char *json = NULL, *text = NULL;
	size_t len = 0;
	int r = cli_ctx_new(sync ? cli_str(call, OPT_NODE_NETNS) : NULL, &ctx);

	if (r)
		return r;
	r = k8snet_proxy_new(ctx, &p);
	r = r < 0 ? cli_report(ctx, r, "proxy") : configure(call, ctx, p);
	if (!r) {
		json = cli_read_file(file, &len);
		r = json ? CLI_OK : CLI_USAGE;
	}
	if (!r) {
		int n = k8snet_proxy_load_json(p, json, len);

		if (n < 0)
			r = cli_report(ctx, n, file);
	}
	if (!r) {
		warn_cluster_cidr(call, sync ? ctx : NULL);
		if (sync)
			warn_nodeport_range(ctx, p);
		/* A new process knows nothing of the kernel: its first sync
		 * replaces the tables whole anyway, --full or not. */
		r = !sync ? k8snet_proxy_render(p, &text) :
		    cli_flag(call, OPT_FULL) ? k8snet_proxy_sync_full(p) : k8snet_proxy_sync(p);
		if (r < 0)
			r = cli_report(ctx, r, call->cmd->path);
		else
			r = report_skipped(p, text);
	}
	if (!r && sync)
		print_health(call, p);
	if (!r && sync && cli_flag(call, OPT_FOLLOW)) {
		printf("synced %s\n", file);
		fflush(stdout);
		r = follow(call, ctx, p);
	}
	k8snet_free(text);
	free(json);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_proxy_sync(const struct cli_call *call)
{
	return proxy_run(call, true);
}

int cli_proxy_render(const struct cli_call *call)
{
	return proxy_run(call, false);
}

/* ---- proxy counters ------------------------------------------------------ */

static void add_service_key(cJSON *out, const cJSON *o)
{
	const cJSON *md = cJSON_GetObjectItem(o, "metadata");
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));
	const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(md, "namespace"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));
	char key[512];

	if (!kind || !name || strcmp(kind, "Service") != 0)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns ? ns : "default", name);
	cJSON_AddItemToArray(out, cJSON_CreateString(key));
}

/* The Services named on the command line, else those of the document (a
 * List or one object), as "ns/name" strings in a JSON array. */
static cJSON *services_of(const struct cli_call *call, const char *json, size_t len)
{
	cJSON *doc, *items, *it, *out = cJSON_CreateArray();

	if (call->n_args > 1) {
		for (int i = 1; i < call->n_args; i++)
			cJSON_AddItemToArray(out, cJSON_CreateString(call->args[i]));
		return out;
	}
	doc = cJSON_ParseWithLength(json, len);
	items = cJSON_GetObjectItem(doc, "items");
	if (items) {
		cJSON_ArrayForEach(it, items)
			add_service_key(out, it);
	} else if (doc) {
		add_service_key(out, doc);
	}
	cJSON_Delete(doc);
	return out;
}

static int print_counters(const struct cli_call *call, struct k8snet_ctx *ctx,
			  struct k8snet_proxy *p, const cJSON *svcs)
{
	cJSON *out = cJSON_CreateArray(), *s;
	int r = CLI_OK;

	cJSON_ArrayForEach(s, svcs) {
		const char *key = s->valuestring, *slash = strchr(key, '/');
		uint64_t packets, bytes, tpackets, tbytes;
		char ns[256];
		cJSON *j;
		int n;

		if (!slash) {
			r = cli_usage(call, "%s: expected NS/NAME", key);
			break;
		}
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
		n = k8snet_proxy_get_counters(p, ns, slash + 1, &packets, &bytes);
		if (n >= 0)
			n = k8snet_proxy_get_traffic(p, ns, slash + 1, &tpackets, &tbytes);
		if (n < 0) {
			r = cli_report(ctx, n, "proxy counters");
			break;
		}
		if (!call->json) {
			printf("%s connections %llu bytes %llu packets %llu traffic-bytes %llu\n", key,
			       (unsigned long long)packets, (unsigned long long)bytes,
			       (unsigned long long)tpackets, (unsigned long long)tbytes);
			continue;
		}
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "namespace", ns);
		cJSON_AddStringToObject(j, "name", slash + 1);
		cJSON_AddNumberToObject(j, "connections", (double)packets);
		cJSON_AddNumberToObject(j, "bytes", (double)bytes);
		cJSON_AddNumberToObject(j, "packets", (double)tpackets);
		cJSON_AddNumberToObject(j, "traffic_bytes", (double)tbytes);
		cJSON_AddItemToArray(out, j);
	}
	if (r == CLI_OK && call->json) {
		r = cli_print_json(out);
		out = NULL;
	}
	cJSON_Delete(out);
	return r;
}

/* Reads the counters a proxy sync --counters made (in another process): the
 * names follow from the Services' ports, so loading them is enough. */
int cli_proxy_counters(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_proxy *p = NULL;
	size_t len = 0;
	char *json = cli_read_file(call->args[0], &len);
	cJSON *svcs = NULL;
	int r = json ? cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx) : CLI_USAGE;

	if (!r) {
		r = k8snet_proxy_new(ctx, &p);
		if (r >= 0 && cli_str(call, OPT_TABLE))
			r = k8snet_proxy_set_str(p, K8SNET_PROXY_TABLE, cli_str(call, OPT_TABLE));
		if (r >= 0)
			r = k8snet_proxy_set_u32(p, K8SNET_PROXY_FLAGS, K8SNET_PROXY_F_COUNT);
		if (r >= 0)
			r = k8snet_proxy_load_json(p, json, len);
		r = r < 0 ? cli_report(ctx, r, call->args[0]) : CLI_OK;
	}
	if (!r) {
		svcs = services_of(call, json, len);
		r = print_counters(call, ctx, p, svcs);
	}
	cJSON_Delete(svcs);
	free(json);
	k8snet_proxy_free(p);
	k8snet_ctx_free(ctx);
	return r;
}
