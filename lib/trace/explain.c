/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* From a service port to the endpoints that may answer, and for each the
 * policy verdicts at both ends and the path between them.  The choices
 * mirror what lib/nat and lib/policy program into the kernel. */
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "trace/internal.h"

void tr_hop(struct tr_run *run, const char *hop, const char *fmt, ...)
{
	cJSON *j = cJSON_CreateObject();
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = k8s_vasprintf(fmt, ap);
	va_end(ap);
	if (!j || !text) {
		run->err = -ENOMEM;
		cJSON_Delete(j);
		free(text);
		return;
	}
	cJSON_AddStringToObject(j, "hop", hop);
	cJSON_AddStringToObject(j, "text", text);
	cJSON_AddItemToArray(run->hops, j);
	free(text);
}

int tr_service_port(const struct nat_entry *e, uint8_t proto, uint16_t port,
		    const struct nat_port **ret)
{
	size_t i;

	for (i = 0; i < e->svc->nports; i++)
		if (e->svc->ports[i].proto == proto && e->svc->ports[i].port == port) {
			*ret = &e->svc->ports[i];
			return 0;
		}
	return -ENOENT;
}

static struct pl_pod *pod_of_addr(struct k8snet_trace *t, const struct nat_addr *a)
{
	struct pl_addr pa = { .family = a->family };

	memcpy(pa.a, a->a, 16);
	return pl_db_pod_by_ip(t->db, &pa);
}

/* ---- policy verdicts and the path, per endpoint ---- */

/* The reasons of k8snet_policy_db_check() split by side; a side is denied
 * when the evaluator says so on a line of its own. */
struct sides {
	cJSON *egress, *ingress;
	bool egress_ok, ingress_ok;
};

static void split_reasons(const char *why, struct sides *s)
{
	const char *p = why;

	s->egress_ok = s->ingress_ok = true;
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);
		bool eg = strncmp(p, "egress: ", 8) == 0, in = strncmp(p, "ingress: ", 9) == 0;

		if (line && eg) {
			cJSON_AddItemToArray(s->egress, cJSON_CreateString(line + 8));
			if (strncmp(line + 8, "denied", 6) == 0)
				s->egress_ok = false;
		} else if (line && in) {
			cJSON_AddItemToArray(s->ingress, cJSON_CreateString(line + 9));
			if (strncmp(line + 9, "denied", 6) == 0)
				s->ingress_ok = false;
		} else if (line && *line) {
			/* "self: ..." and "node: ...": one reason decides both. */
			cJSON_AddItemToArray(s->egress, cJSON_CreateString(line));
			cJSON_AddItemToArray(s->ingress, cJSON_CreateString(line));
		}
		free(line);
		p += n;
		if (*p)
			p++;
	}
}

static const struct nat_addr *node_ip(const struct k8snet_trace *t, int fam)
{
	size_t i;

	for (i = 0; i < t->nnode_ips; i++)
		if (t->node_ips[i].family == fam)
			return &t->node_ips[i];
	return NULL;
}

static void path_text(struct tr_run *run, const struct pl_pod *dst, const char *dst_node,
		      cJSON *j)
{
	const char *src_node = run->src.node;
	char buf[512];

	if (run->src.pod && dst && run->src.pod == dst)
		snprintf(buf, sizeof(buf), "inside the pod (loopback through its own address)");
	else if (!dst)
		snprintf(buf, sizeof(buf), "out of the cluster through %s%s's default route",
			 src_node ? "node " : "the node", src_node ? src_node : "");
	else if (src_node && dst_node && strcmp(src_node, dst_node) == 0)
		snprintf(buf, sizeof(buf), "same node %s: across its bridge", src_node);
	else if (dst_node)
		snprintf(buf, sizeof(buf), "%s%s -> node %s: routed to the peer node (host-gw "
			 "route or VXLAN, as `k8snet node peer add` set up), then its bridge",
			 src_node ? "node " : run->src.pod ? "the source's node" : "from outside",
			 src_node ? src_node : "", dst_node);
	else
		snprintf(buf, sizeof(buf), "to a pod not scheduled on any node: no route");
	cJSON_AddStringToObject(j, "path", buf);
}

/* Judge one endpoint: the egress verdict at the source, the ingress
 * verdict at the destination (which sees the node's address when the
 * packet was masqueraded on another node). */
static int judge(struct tr_run *run, const struct nat_addr *addr, uint16_t port, bool masq,
		 const char *ep_node, const char *why)
{
	struct k8snet_trace *t = run->t;
	struct pl_pod *pod = pod_of_addr(t, addr);
	const char *dst_node = pod && pod->node ? pod->node : ep_node;
	char ip[INET6_ADDRSTRLEN], src[512], dst[512], *reasons = NULL;
	struct sides s = { cJSON_CreateArray(), cJSON_CreateArray(), true, true };
	cJSON *j = cJSON_CreateObject(), *eg, *in;
	int r;

	nat_addr_str(addr, ip, sizeof(ip));
	if (run->src.pod)
		snprintf(src, sizeof(src), "%s/%s", run->src.pod->ns, run->src.pod->name);
	else
		snprintf(src, sizeof(src), "%s", run->src.text);
	if (pod)
		snprintf(dst, sizeof(dst), "%s/%s", pod->ns, pod->name);
	else
		snprintf(dst, sizeof(dst), "%s", ip);
	cJSON_AddItemToArray(run->eps, j);
	cJSON_AddStringToObject(j, "address", ip);
	cJSON_AddNumberToObject(j, "port", port);
	if (pod)
		cJSON_AddStringToObject(j, "pod", dst);
	if (dst_node)
		cJSON_AddStringToObject(j, "node", dst_node);
	if (why)
		cJSON_AddStringToObject(j, "why", why);
	cJSON_AddBoolToObject(j, "masquerade", masq);
	r = k8snet_policy_db_check(t->db, src, dst, pl_proto_name(run->proto), port, &reasons);
	if (r < 0)
		goto out;
	split_reasons(reasons, &s);
	if (masq && run->src.node && dst_node && strcmp(run->src.node, dst_node) != 0) {
		const struct nat_addr *nip = node_ip(t, addr->family);
		struct sides s2 = { s.egress, cJSON_CreateArray(), true, true };
		char nbuf[INET6_ADDRSTRLEN];

		/* The destination node sees the source node's address. */
		if (nip) {
			nat_addr_str(nip, nbuf, sizeof(nbuf));
			free(reasons);
			reasons = NULL;
			r = k8snet_policy_db_check(t->db, nbuf, dst, pl_proto_name(run->proto),
						   port, &reasons);
			if (r < 0) {
				cJSON_Delete(s2.ingress);
				goto out;
			}
			s2.egress = cJSON_CreateArray();
			split_reasons(reasons, &s2);
			cJSON_Delete(s2.egress);
			cJSON_Delete(s.ingress);
			s.ingress = s2.ingress;
			s.ingress_ok = s2.ingress_ok;
			cJSON_AddStringToObject(j, "source_seen", nbuf);
		} else {
			cJSON_Delete(s2.ingress);
			cJSON_AddItemToArray(s.ingress, cJSON_CreateString(
				"masqueraded to the source node's address, which is not known "
				"(give the node IP): judged on the original source"));
		}
	}
	eg = cJSON_AddObjectToObject(j, "egress");
	cJSON_AddBoolToObject(eg, "allowed", s.egress_ok);
	cJSON_AddItemToObject(eg, "reasons", s.egress);
	in = cJSON_AddObjectToObject(j, "ingress");
	cJSON_AddBoolToObject(in, "allowed", s.ingress_ok);
	cJSON_AddItemToObject(in, "reasons", s.ingress);
	s.egress = s.ingress = NULL;
	path_text(run, pod, dst_node, j);
	cJSON_AddStringToObject(j, "verdict", s.egress_ok && s.ingress_ok ? "allow" : "deny");
	r = 0;
out:
	cJSON_Delete(s.egress);
	cJSON_Delete(s.ingress);
	free(reasons);
	return r;
}

int tr_explain_direct(struct tr_run *run, const struct nat_addr *addr, const char *why)
{
	struct pl_pod *pod = pod_of_addr(run->t, addr);
	char ip[INET6_ADDRSTRLEN];

	nat_addr_str(addr, ip, sizeof(ip));
	if (pod)
		tr_hop(run, "destination", "%s is pod %s/%s%s%s%s%s", ip, pod->ns, pod->name,
		       pod->node ? " on node " : "", pod->node ? pod->node : "", why ? ": " : "",
		       why ? why : "");
	else
		tr_hop(run, "destination", "%s is no pod's address and no service's: the packet "
		       "is routed out of the cluster%s%s", ip, why ? ": " : "", why ? why : "");
	return judge(run, addr, run->port, false, NULL, why);
}

/* ---- services ---- */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case K8SNET_SERVICE_IP_CLUSTER: return "ClusterIP";
	case K8SNET_SERVICE_IP_EXTERNAL: return "external IP";
	case K8SNET_SERVICE_IP_LB_INGRESS: return "load-balancer IP";
	default: return "NodePort on node address";
	}
}

/* One endpoint of the service port and what became of it. */
struct cand {
	const struct nat_ep *ep;
	const char *why;
	bool eligible;
};

struct cands {
	struct cand *v;
	size_t n;
};

static bool ep_matches(const struct nat_ep *e, const struct nat_port *sp, int fam)
{
	return e->addr.family == fam && strcmp(e->port_name, sp->name) == 0 &&
	       (e->proto == 0 || e->proto == sp->proto);
}

static int cand_push(struct cands *c, const struct nat_ep *ep)
{
	size_t i;

	/* The same address may be listed by two slices while pods move: one
	 * entry, ready if either says so (as lib/nat/plan.c does). */
	for (i = 0; i < c->n; i++)
		if (memcmp(c->v[i].ep->addr.a, ep->addr.a, 16) == 0 && c->v[i].ep->port == ep->port) {
			if (ep->flags & K8SNET_ENDPOINT_F_READY)
				c->v[i].ep = ep;
			return 0;
		}
	if (k8s_grow_pow2(&c->v, c->n, sizeof(*c->v)) < 0)
		return -ENOMEM;
	c->v[c->n++] = (struct cand){ .ep = ep };
	return 0;
}

static int collect(const struct nat_entry *e, const struct nat_port *sp, int fam,
		   struct cands *c)
{
	struct k8s_map_node *n;
	size_t i, j;
	int r = 0;

	for (i = 0; r >= 0 && i < e->svc->neps; i++)
		if (ep_matches(&e->svc->eps[i], sp, fam))
			r = cand_push(c, &e->svc->eps[i]);
	k8s_map_for_each(&e->slices, i, n) {
		const struct nat_slice *sl = n->val;

		for (j = 0; r >= 0 && j < sl->neps; j++)
			if (ep_matches(&sl->eps[j], sp, fam))
				r = cand_push(c, &sl->eps[j]);
	}
	return r;
}

/* Ready endpoints (on node when a Local traffic policy applies); when there
 * are none, serving terminating ones; each gets the reason. */
static size_t choose(struct cands *c, const char *node, const char *policy)
{
	size_t i, ready = 0, chosen = 0;

	for (i = 0; i < c->n; i++) {
		const struct nat_ep *ep = c->v[i].ep;

		if (node && (!ep->node || strcmp(ep->node, node) != 0))
			c->v[i].why = policy;
		else if (ep->flags & K8SNET_ENDPOINT_F_READY)
			ready++;
	}
	for (i = 0; i < c->n; i++) {
		uint32_t f = c->v[i].ep->flags;

		if (c->v[i].why)
			continue;
		if (f & K8SNET_ENDPOINT_F_READY) {
			c->v[i].why = "ready";
			c->v[i].eligible = true;
		} else if (!ready && (f & K8SNET_ENDPOINT_F_SERVING) &&
			   (f & K8SNET_ENDPOINT_F_TERMINATING)) {
			c->v[i].why = "terminating but still serving: used because no endpoint "
				      "is ready";
			c->v[i].eligible = true;
		} else if (f & K8SNET_ENDPOINT_F_TERMINATING) {
			c->v[i].why = ready ? "terminating: not used while a ready endpoint exists"
				      : "terminating and no longer serving";
		} else {
			c->v[i].why = "not ready";
		}
		chosen += c->v[i].eligible;
	}
	return chosen;
}

static void list_cands(struct tr_run *run, const struct cands *c, size_t chosen)
{
	cJSON *all = cJSON_AddArrayToObject(run->root, "candidates");
	size_t i;

	tr_hop(run, "endpoints", "%zu of %zu endpoint%s eligible", chosen, c->n,
	       c->n == 1 ? "" : "s");
	for (i = 0; i < c->n; i++) {
		const struct nat_ep *ep = c->v[i].ep;
		struct pl_pod *pod = pod_of_addr(run->t, &ep->addr);
		cJSON *j = cJSON_CreateObject();
		char ip[INET6_ADDRSTRLEN];

		nat_addr_str(&ep->addr, ip, sizeof(ip));
		cJSON_AddStringToObject(j, "address", ip);
		cJSON_AddNumberToObject(j, "port", ep->port);
		if (pod) {
			char pt[512];

			snprintf(pt, sizeof(pt), "%s/%s", pod->ns, pod->name);
			cJSON_AddStringToObject(j, "pod", pt);
		}
		if (ep->node)
			cJSON_AddStringToObject(j, "node", ep->node);
		cJSON_AddBoolToObject(j, "eligible", c->v[i].eligible);
		cJSON_AddStringToObject(j, "why", c->v[i].why);
		cJSON_AddItemToArray(all, j);
		tr_hop(run, "endpoint", "%s:%u%s%s%s%s: %s: %s", ip, ep->port, pod ? " " : "",
		       pod ? pod->ns : "", pod ? "/" : "", pod ? pod->name : "",
		       c->v[i].eligible ? "eligible" : "not eligible", c->v[i].why);
	}
}

static bool source_allowed(struct tr_run *run, const struct k8snet_service *svc)
{
	const struct nat_addr *ranges = svc->ips[K8SNET_SERVICE_IP_SOURCE_RANGE];
	size_t i, n = svc->nips[K8SNET_SERVICE_IP_SOURCE_RANGE];
	bool any = false;

	for (i = 0; i < n; i++)
		any |= ranges[i].family == run->fam;
	if (!any)
		return true;
	return run->src.addr.family && tr_cidrs_contain(ranges, n, &run->src.addr);
}

/* Whether the service masquerades this source, and why (into buf). */
static bool masquerades(struct tr_run *run, const struct k8snet_service *svc, bool external,
			char *buf, size_t len)
{
	const struct k8snet_trace *t = run->t;
	bool fam_cidr = false;
	size_t i;

	if (t->flags & K8SNET_TRACE_F_MASQUERADE_ALL) {
		snprintf(buf, len, "yes: the proxy masquerades all service traffic");
		return true;
	}
	if (external && !(svc->flags & K8SNET_SERVICE_F_ETP_LOCAL)) {
		snprintf(buf, len, "yes: externalTrafficPolicy Cluster masquerades external "
			 "traffic (the endpoint may be on another node)");
		return true;
	}
	if (external) {
		snprintf(buf, len, "no: externalTrafficPolicy Local keeps the client's address");
		return false;
	}
	for (i = 0; i < t->ncidrs; i++)
		fam_cidr |= t->cidrs[i].family == run->fam;
	if (fam_cidr && !(run->src.addr.family &&
			  tr_cidrs_contain(t->cidrs, t->ncidrs, &run->src.addr))) {
		snprintf(buf, len, "yes: the source is outside the cluster CIDRs");
		return true;
	}
	snprintf(buf, len, "no: the source keeps its address (a pod to a ClusterIP)%s",
		 fam_cidr ? "" : "; no cluster CIDR is set, so nothing counts as outside");
	return false;
}

static int judge_chosen(struct tr_run *run, const struct cands *c, bool masq)
{
	size_t i;
	int r = 0;

	for (i = 0; r >= 0 && i < c->n; i++) {
		const struct nat_ep *ep = c->v[i].ep;
		bool hairpin = run->src.addr.family &&
			       memcmp(run->src.addr.a, ep->addr.a, 16) == 0;

		if (!c->v[i].eligible)
			continue;
		/* A pod reaching itself through its service is masqueraded
		 * (hairpin), or the reply would skip the DNAT. */
		r = judge(run, &ep->addr, ep->port, masq || hairpin, ep->node,
			  hairpin ? "hairpin: the source is this endpoint (masqueraded)" :
			  c->v[i].why);
	}
	return r;
}

int tr_explain_service(struct tr_run *run, const struct nat_entry *e, const struct nat_port *sp,
		       uint32_t kind, const struct nat_addr *addr)
{
	const struct k8snet_service *svc = e->svc;
	bool external = kind != K8SNET_SERVICE_IP_CLUSTER;
	uint32_t local_flag = external ? K8SNET_SERVICE_F_ETP_LOCAL : K8SNET_SERVICE_F_ITP_LOCAL;
	const char *node = NULL, *policy = NULL;
	struct cands c = { 0 };
	char ip[INET6_ADDRSTRLEN], why[256];
	size_t chosen;
	bool masq;
	int r;

	nat_addr_str(addr, ip, sizeof(ip));
	tr_hop(run, "service", "%s port %s%s%u/%s at %s %s:%u", e->key, *sp->name ? sp->name : "",
	       *sp->name ? " " : "", sp->port, pl_proto_name(sp->proto), kind_name(kind), ip,
	       kind == NAT_DEST_NODEPORT ? sp->node_port : sp->port);
	cJSON_AddStringToObject(run->root, "service", e->key);
	if (kind == K8SNET_SERVICE_IP_LB_INGRESS && !source_allowed(run, svc)) {
		tr_hop(run, "firewall", "the source is outside loadBalancerSourceRanges: dropped");
		return 0;
	}
	if (svc->flags & local_flag) {
		node = external && run->t->node ? run->t->node : run->src.node;
		policy = external ? "on another node: externalTrafficPolicy Local uses this node's "
				    "endpoints only" :
				    "on another node: internalTrafficPolicy Local uses the source "
				    "node's endpoints only";
		tr_hop(run, "policy", "%sTrafficPolicy Local: only endpoints on node %s",
		       external ? "external" : "internal", node ? node : "(unknown)");
	}
	r = collect(e, sp, addr->family, &c);
	if (r < 0) {
		r = k8s_error(run->t->ctx, r, "out of memory");
		goto out;
	}
	chosen = choose(&c, node, policy);
	list_cands(run, &c, chosen);
	if (!chosen) {
		tr_hop(run, "endpoints", "%s", node && c.n ? "no endpoint on this node: the "
		       "connection is dropped" : "no usable endpoint: the connection is rejected "
		       "at once (TCP reset, ICMP port unreachable)");
		goto out;
	}
	if (svc->flags & K8SNET_SERVICE_F_AFFINITY)
		tr_hop(run, "affinity", "sessionAffinity ClientIP: the first connection picks an "
		       "endpoint at random and this client keeps it for %u s",
		       svc->affinity_timeout);
	else if (chosen > 1)
		tr_hop(run, "balance", "each new connection picks one of the %zu eligible "
		       "endpoints at random", chosen);
	masq = masquerades(run, svc, external, why, sizeof(why));
	tr_hop(run, "masquerade", "%s", why);
	r = judge_chosen(run, &c, masq);
out:
	free(c.v);
	return r < 0 ? r : 0;
}
