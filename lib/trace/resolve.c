/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two ends of a trace: the source (a pod or an address) and the
 * destination (a pod, an address, a Service, or a DNS name a pod would type,
 * expanded through its search list as glibc does). */
#include <stdio.h>
#include <string.h>

#include "dns/dns-internal.h"
#include "trace/internal.h"

static void pod_addr(const struct pl_pod *pod, int fam, struct nat_addr *ret)
{
	size_t i;

	*ret = (struct nat_addr){ 0 };
	for (i = 0; i < pod->nips; i++)
		if (!fam || pod->ips[i].family == fam) {
			ret->family = pod->ips[i].family;
			memcpy(ret->a, pod->ips[i].a, 16);
			ret->plen = ret->family == AF_INET ? 32 : 128;
			return;
		}
}

static struct pl_pod *pod_of_addr(struct k8snet_trace *t, const struct nat_addr *a)
{
	struct pl_addr pa = { .family = a->family };

	memcpy(pa.a, a->a, 16);
	return pl_db_pod_by_ip(t->db, &pa);
}

/* "ns/name" of a pod into buf. */
static const char *pod_text(const struct pl_pod *pod, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", pod->ns, pod->name);
	return buf;
}

static cJSON *endpoint_json(const char *text, const struct pl_pod *pod, const struct nat_addr *a,
			    const char *node)
{
	cJSON *j = cJSON_CreateObject();
	char ip[INET6_ADDRSTRLEN], pt[512];

	cJSON_AddStringToObject(j, "text", text);
	if (pod)
		cJSON_AddStringToObject(j, "pod", pod_text(pod, pt, sizeof(pt)));
	if (a->family) {
		nat_addr_str(a, ip, sizeof(ip));
		cJSON_AddStringToObject(j, "address", ip);
	}
	if (node)
		cJSON_AddStringToObject(j, "node", node);
	return j;
}

int tr_resolve_src(struct tr_run *run, const char *from)
{
	struct k8snet_trace *t = run->t;
	struct tr_src *s = &run->src;
	const char *slash = strchr(from, '/');

	*s = (struct tr_src){ .text = from };
	if (nat_parse_addr(from, &s->addr) == 0) {
		s->pod = pod_of_addr(t, &s->addr);
	} else if (slash) {
		char *ns = strndup(from, (size_t)(slash - from));

		if (!ns)
			return k8s_error(t->ctx, -ENOMEM, "out of memory");
		s->pod = pl_db_pod(t->db, ns, slash + 1);
		free(ns);
		if (!s->pod)
			return k8s_error_at(t->ctx, -ENOENT, "from", "pod %s: not found", from);
		pod_addr(s->pod, 0, &s->addr);
	} else {
		return k8s_error_at(t->ctx, -EINVAL, "from",
				    "'%s': must be NAMESPACE/POD or an IP address", from);
	}
	s->node = s->pod && s->pod->node ? s->pod->node : t->node;
	run->fam = s->addr.family ? s->addr.family : AF_INET;
	cJSON_AddItemToObject(run->root, "from", endpoint_json(from, s->pod, &s->addr, s->node));
	return 0;
}

/* ---- names ---- */

/* The resolv.conf the kubelet writes for a ClusterFirst pod of namespace ns. */
static int pod_resolv_conf(struct k8snet_trace *t, const char *ns, char **ret)
{
	struct k8snet_dns_resolv *r = NULL;
	const struct nat_entry *dns = k8s_map_get(&t->proxy->entries, "kube-system/kube-dns");
	char ip[INET6_ADDRSTRLEN] = "10.96.0.10";
	int rc;

	if (dns && dns->svc && dns->svc->nips[K8SNET_SERVICE_IP_CLUSTER])
		nat_addr_str(&dns->svc->ips[K8SNET_SERVICE_IP_CLUSTER][0], ip, sizeof(ip));
	rc = k8snet_dns_resolv_new(t->ctx, &r);
	if (rc >= 0)
		rc = k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_NAMESPACE, ns);
	if (rc >= 0)
		rc = k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_CLUSTER_DOMAIN, t->domain);
	if (rc >= 0)
		rc = k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_CLUSTER_DNS, ip);
	if (rc >= 0)
		rc = k8snet_dns_resolv_set_str(r, K8SNET_DNS_RESOLV_HOST_CONF_FILE, "");
	if (rc >= 0)
		rc = k8snet_dns_resolv_render(r, ret);
	k8snet_dns_resolv_free(r);
	return rc < 0 ? rc : 0;
}

/* What the cluster DNS answers for one name: a service entry, a pod
 * address, or nothing (0). */
struct answer {
	const struct nat_entry *e;
	struct nat_addr addr;
};

static int lookup_name(struct k8snet_trace *t, const char *name, struct answer *ans)
{
	struct k8snet_dns_query *q = NULL;
	const char *ns, *svc, *ip;
	char key[512];
	int r;

	*ans = (struct answer){ 0 };
	r = k8s_dns_query_parse(t->ctx, name, *t->domain ? t->domain : NULL, &q);
	k8snet_ctx_clear_error(t->ctx);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	ns = k8snet_dns_query_get_str(q, K8SNET_DNS_QUERY_NAMESPACE);
	svc = k8snet_dns_query_get_str(q, K8SNET_DNS_QUERY_SERVICE);
	ip = k8snet_dns_query_get_str(q, K8SNET_DNS_QUERY_IP);
	if (k8snet_dns_query_get_kind(q) == K8SNET_DNS_QUERY_KIND_SERVICE && ns && svc &&
	    !k8snet_dns_query_get_str(q, K8SNET_DNS_QUERY_ENDPOINT) &&
	    !k8snet_dns_query_get_str(q, K8SNET_DNS_QUERY_PORT)) {
		snprintf(key, sizeof(key), "%s/%s", ns, svc);
		ans->e = k8s_map_get(&t->proxy->entries, key);
		if (ans->e && !ans->e->svc)
			ans->e = NULL;
	} else if (k8snet_dns_query_get_kind(q) == K8SNET_DNS_QUERY_KIND_POD && ip) {
		nat_parse_addr(ip, &ans->addr);
	}
	k8snet_dns_query_free(q);
	return ans->e || ans->addr.family ? 1 : 0;
}

static int resolve_service(struct tr_run *run, const struct nat_entry *e, const char *how);

/* Expand name as glibc would for the source pod, take the first answer. */
static int resolve_name(struct tr_run *run, const char *name)
{
	struct k8snet_trace *t = run->t;
	const char *ns = run->src.pod ? run->src.pod->ns : "default";
	char *conf = NULL, *cands = NULL, *line, *save = NULL;
	cJSON *tried = cJSON_CreateArray();
	struct answer ans = { 0 };
	int r, found = 0;

	cJSON_AddItemToObject(run->root, "tried", tried);
	r = pod_resolv_conf(t, ns, &conf);
	if (r >= 0)
		r = k8snet_dns_candidates(t->ctx, name, conf, &cands);
	if (r < 0)
		goto out;
	for (line = strtok_r(cands, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		cJSON_AddItemToArray(tried, cJSON_CreateString(line));
		found = lookup_name(t, line, &ans);
		if (found < 0) {
			r = k8s_error(t->ctx, found, "out of memory");
			goto out;
		}
	}
	if (!found) {
		tr_hop(run, "name", "%s does not resolve: the search list of namespace %s "
		       "(ndots 5) gives %d names and the cluster DNS knows none of them", name, ns,
		       cJSON_GetArraySize(tried));
		goto out;
	}
	line = cJSON_GetArrayItem(tried, cJSON_GetArraySize(tried) - 1)->valuestring;
	if (ans.e) {
		char how[768];

		snprintf(how, sizeof(how), "%s -> %s (try %d through the search list of "
			 "namespace %s, ndots 5)", name, line, cJSON_GetArraySize(tried), ns);
		r = resolve_service(run, ans.e, how);
	} else {
		char ip[INET6_ADDRSTRLEN];

		nat_addr_str(&ans.addr, ip, sizeof(ip));
		tr_hop(run, "name", "%s -> %s: a pod name, answered with %s", name, line, ip);
		r = tr_explain_direct(run, &ans.addr, NULL);
	}
out:
	free(conf);
	free(cands);
	return r;
}

/* ---- services ---- */

/* The A records of a headless service: its ready endpoints, each once. */
static int resolve_headless(struct tr_run *run, const struct nat_entry *e)
{
	struct k8s_map seen = { 0 };
	struct k8s_map_node *n;
	size_t i, j, count = 0;
	int r = 0;

	k8s_map_for_each(&e->slices, i, n) {
		const struct nat_slice *sl = n->val;

		for (j = 0; r >= 0 && j < sl->neps; j++) {
			char ip[INET6_ADDRSTRLEN];

			if (!(sl->eps[j].flags & K8SNET_ENDPOINT_F_READY) ||
			    sl->eps[j].addr.family != run->fam)
				continue;
			nat_addr_str(&sl->eps[j].addr, ip, sizeof(ip));
			if (k8s_map_get(&seen, ip))
				continue;
			r = k8s_map_put(&seen, ip, (void *)1);
			if (r >= 0) {
				count++;
				r = tr_explain_direct(run, &sl->eps[j].addr,
						      "an A record of the headless service");
			}
		}
	}
	k8s_map_free(&seen, NULL);
	if (r >= 0 && !count)
		tr_hop(run, "service", "headless service %s has no ready endpoint: the name "
		       "does not resolve (NXDOMAIN)", e->key);
	return r;
}

static const struct nat_addr *cluster_ip(const struct k8snet_service *svc, int fam)
{
	size_t i;

	for (i = 0; i < svc->nips[K8SNET_SERVICE_IP_CLUSTER]; i++)
		if (svc->ips[K8SNET_SERVICE_IP_CLUSTER][i].family == fam)
			return &svc->ips[K8SNET_SERVICE_IP_CLUSTER][i];
	return NULL;
}

static int resolve_service(struct tr_run *run, const struct nat_entry *e, const char *how)
{
	const struct k8snet_service *svc = e->svc;
	const struct nat_addr *cip = cluster_ip(svc, run->fam);
	const struct nat_port *sp = NULL;
	char ip[INET6_ADDRSTRLEN];

	if (how)
		tr_hop(run, "name", "%s", how);
	if (svc->type == K8SNET_SERVICE_TYPE_EXTERNAL_NAME)
		return k8s_error_at(run->t->ctx, -EINVAL, "to", "service %s is an ExternalName "
				    "(a CNAME out of the cluster): trace the address it names",
				    e->key);
	if (!svc->nips[K8SNET_SERVICE_IP_CLUSTER]) {
		tr_hop(run, "service", "%s is headless: its name answers with the addresses of "
		       "its ready endpoints, reached directly", e->key);
		return resolve_headless(run, e);
	}
	if (!cip) {
		tr_hop(run, "service", "%s has no %s ClusterIP: nothing to connect to", e->key,
		       run->fam == AF_INET ? "IPv4" : "IPv6");
		return 0;
	}
	nat_addr_str(cip, ip, sizeof(ip));
	if (tr_service_port(e, run->proto, run->port, &sp) < 0) {
		tr_hop(run, "service", "%s (ClusterIP %s) has no port %u/%s: the connection is "
		       "rejected", e->key, ip, run->port, pl_proto_name(run->proto));
		return 0;
	}
	return tr_explain_service(run, e, sp, K8SNET_SERVICE_IP_CLUSTER, cip);
}

static int resolve_svc_ref(struct tr_run *run, const char *ref)
{
	const struct nat_entry *e = k8s_map_get(&run->t->proxy->entries, ref);

	if (!strchr(ref, '/') || !e || !e->svc)
		return k8s_error_at(run->t->ctx, -ENOENT, "to", "service %s: not found", ref);
	return resolve_service(run, e, NULL);
}

static int resolve_addr(struct tr_run *run, const struct nat_addr *a)
{
	struct k8snet_trace *t = run->t;
	const struct tr_dest *d = tr_find_dest(t, a, run->proto, run->port);
	const struct nat_entry *e;
	char ip[INET6_ADDRSTRLEN];

	if (d)
		return tr_explain_service(run, d->e, d->sp, d->kind, a);
	nat_addr_str(a, ip, sizeof(ip));
	if (tr_is_node_ip(t, a) && (d = tr_find_nodeport(t, run->proto, run->port)))
		return tr_explain_service(run, d->e, d->sp, NAT_DEST_NODEPORT, a);
	e = tr_find_service_ip(t, a);
	if (e) {
		tr_hop(run, "service", "%s belongs to service %s, which has no port %u/%s there: "
		       "the connection is rejected", ip, e->key, run->port,
		       pl_proto_name(run->proto));
		return 0;
	}
	return tr_explain_direct(run, a, NULL);
}

int tr_resolve_dst(struct tr_run *run, const char *to)
{
	struct k8snet_trace *t = run->t;
	struct nat_addr a;
	const char *slash = strchr(to, '/');

	cJSON_AddStringToObject(run->root, "to", to);
	if (strncmp(to, "svc:", 4) == 0)
		return resolve_svc_ref(run, to + 4);
	if (nat_parse_addr(to, &a) == 0) {
		if (a.family != run->fam && run->src.addr.family)
			return k8s_error_at(t->ctx, -EINVAL, "to", "'%s': not the family of the "
					    "source's address", to);
		run->fam = a.family;
		return resolve_addr(run, &a);
	}
	if (slash) {
		struct pl_pod *pod;
		char *ns = strndup(to, (size_t)(slash - to));

		if (!ns)
			return k8s_error(t->ctx, -ENOMEM, "out of memory");
		pod = pl_db_pod(t->db, ns, slash + 1);
		free(ns);
		if (!pod)
			return k8s_error_at(t->ctx, -ENOENT, "to", "pod %s: not found", to);
		pod_addr(pod, run->fam, &a);
		if (!a.family)
			pod_addr(pod, 0, &a);
		if (!a.family)
			return k8s_error_at(t->ctx, -EINVAL, "to", "pod %s has no address", to);
		return tr_explain_direct(run, &a, NULL);
	}
	if (!*to || to[strspn(to, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789-.")])
		return k8s_error_at(t->ctx, -EINVAL, "to", "'%s': must be NAMESPACE/POD, an IP "
				    "address, svc:NAMESPACE/NAME or a DNS name", to);
	k8snet_ctx_clear_error(t->ctx);
	return resolve_name(run, to);
}
