/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zone model into an RFC 1035 zone file, the records of the Kubernetes
 * DNS specification (schema 1.1.0):
 *   dns-version.<zone>                         TXT "1.1.0"
 *   <svc>.<ns>.svc (ClusterIP)                 A/AAAA per cluster IP
 *   _<port>._<proto>.<svc>.<ns>.svc            SRV 0 100 <port> <svc>.<ns>.svc.<zone>.
 *   <svc>.<ns>.svc (headless)                  A/AAAA per ready endpoint
 *   <host>.<svc>.<ns>.svc                      A/AAAA per ready endpoint; <host> is its
 *                                              hostname or its dashed IP
 *   _<port>._<proto>.<svc>.<ns>.svc (headless) SRV 0 100 <endpoint port> <host>...
 *   <svc>.<ns>.svc (ExternalName)              CNAME <externalName>.
 *   <dashed-ip>.<ns>.pod                       A/AAAA per pod IP
 *   <hostname>.<subdomain>.<ns>.svc            A/AAAA for a pod whose subdomain names a
 *                                              headless service
 *   reverse zones: PTR for cluster IPs and headless endpoints.
 * "Ready" means ready, or the service publishes not-ready addresses.  Owner
 * names are relative to $ORIGIN; targets are absolute.  Services come sorted
 * by namespace and name, endpoints by address, so equal input gives an equal
 * file.  The SOA and NS name ns.dns.<zone>, whose address is the
 * kube-system/kube-dns ClusterIP unless set (127.0.0.1 without either).
 */
#include <string.h>

#include "dns/zone.h"

struct out {
	struct k8s_buf b;
	struct k8s_buf scratch; /* reused for names, so records cost no allocation */
	const struct k8snet_dns_zone *z;
	const char *origin;     /* reverse zones: only PTRs under it */
	size_t origin_len;
	int records;
};

#define CAT_MAX 12

/* Append parts (n of them) to b with one reservation. */
static void cat_parts(struct k8s_buf *b, const char *const *part, const size_t *len, size_t n,
		      size_t total)
{
	char *d;
	size_t i;

	if (!k8s_buf_reserve(b, total))
		return;
	d = b->data + b->len;
	for (i = 0; i < n; i++) {
		memcpy(d, part[i], len[i]);
		d += len[i];
	}
	b->len += total;
	b->data[b->len] = '\0';
}

/* Append the strings (a NULL-terminated list) to b, CAT_MAX at a time: a
 * zone file is hundreds of thousands of these, so one reservation each. */
static void cat(struct k8s_buf *b, ...)
{
	const char *part[CAT_MAX], *s;
	size_t len[CAT_MAX], n = 0, total = 0;
	va_list ap;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *))) {
		if (n == CAT_MAX) {
			cat_parts(b, part, len, n, total);
			n = total = 0;
		}
		part[n] = s;
		len[n] = strlen(s);
		total += len[n++];
	}
	va_end(ap);
	cat_parts(b, part, len, n, total);
}

static const char *addr_type(const char *ip)
{
	return strchr(ip, ':') ? "\tIN\tAAAA\t" : "\tIN\tA\t";
}

/* owner[.suffix] IN A|AAAA ip */
static void address(struct out *o, const char *owner, const char *suffix, const char *ip)
{
	cat(&o->b, owner, suffix ? "." : "", suffix ? suffix : "", addr_type(ip), ip, "\n", NULL);
	o->records++;
}

/* RFC 2782: priority weight port target; one priority, equal weights. */
static void srv(struct out *o, const struct zport *p, const char *svc_rel, const char *target,
		const char *target_suffix)
{
	cat(&o->b, "_", p->name, "._", p->proto, ".", svc_rel, "\tIN\tSRV\t0 100 ", NULL);
	k8s_buf_u32(&o->b, p->port);
	cat(&o->b, " ", target, target_suffix ? "." : "", target_suffix ? target_suffix : "", "\n",
	    NULL);
	o->records++;
}

/* A PTR for ip -> [label.]target, if the reverse name is under the origin. */
static void ptr(struct out *o, const char *ip, const char *label, const char *target)
{
	struct k8s_buf *name = &o->scratch;

	name->len = 0;
	if (k8s_dns_ptr_of(ip, name) < 0 || name->oom) {
		o->b.oom |= name->oom;
		return;
	}
	if (name->len == o->origin_len ? strcmp(name->data, o->origin) == 0
	    : name->len > o->origin_len && name->data[name->len - o->origin_len - 1] == '.' &&
		      strcmp(name->data + name->len - o->origin_len, o->origin) == 0) {
		cat(&o->b, name->data, ".\tIN\tPTR\t", label ? label : "", label ? "." : "", target,
		    "\n", NULL);
		o->records++;
	}
}

static bool ep_included(const struct zsvc *s, const struct zendpoint *e)
{
	return e->ready || s->publish_not_ready;
}

static const char *ep_label(const struct zendpoint *e, char dashed[static 48])
{
	if (e->hostname)
		return e->hostname;
	k8s_dns_dashed_ip(e->ip, dashed);
	return dashed;
}

static int cmp_ep(const void *a, const void *b)
{
	const struct zendpoint *x = a, *y = b;
	int c = strcmp(x->ip, y->ip);

	if (c)
		return c;
	return strcmp(x->hostname ? x->hostname : "", y->hostname ? y->hostname : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Headless SRV: one per named endpoint port and distinct endpoint name. */
static void headless_srv(struct out *o, const struct zsvc *s, const char *rel, const char *abs)
{
	const char **labels;
	char (*dashed)[48];
	size_t i, j, n = 0;

	if (!s->endpoint_ports.n || !s->n_eps)
		return;
	labels = calloc(s->n_eps, sizeof(*labels));
	dashed = calloc(s->n_eps, sizeof(*dashed));
	if (!labels || !dashed) {
		o->b.oom = true;
		goto out;
	}
	for (i = 0; i < s->n_eps; i++)
		if (ep_included(s, &s->eps[i]))
			labels[n] = ep_label(&s->eps[i], dashed[n]), n++;
	qsort(labels, n, sizeof(*labels), cmp_str);
	for (j = 0; j < s->endpoint_ports.n; j++)
		for (i = 0; i < n; i++)
			if (!i || strcmp(labels[i], labels[i - 1]) != 0)
				srv(o, &s->endpoint_ports.v[j], rel, labels[i], abs);
out:
	free(labels);
	free(dashed);
}

static void headless(struct out *o, struct zsvc *s, const char *rel, const char *abs)
{
	const struct zendpoint *prev = NULL;
	char dashed[48];
	size_t i;

	if (!s->eps_sorted && s->n_eps)
		qsort(s->eps, s->n_eps, sizeof(*s->eps), cmp_ep);
	s->eps_sorted = true;
	/* The service name: every distinct ready address. */
	for (i = 0; !o->origin && i < s->n_eps; i++) {
		const struct zendpoint *e = &s->eps[i];

		if (!ep_included(s, e))
			continue;
		if (!prev || strcmp(prev->ip, e->ip) != 0)
			address(o, rel, NULL, e->ip);
		prev = e;
	}
	/* Each endpoint's own name, and its PTR in reverse zones. */
	for (prev = NULL, i = 0; i < s->n_eps; i++) {
		const struct zendpoint *e = &s->eps[i];

		if (!ep_included(s, e) || (prev && cmp_ep(prev, e) == 0))
			continue;
		prev = e;
		if (o->origin)
			ptr(o, e->ip, ep_label(e, dashed), abs);
		else
			address(o, ep_label(e, dashed), rel, e->ip);
	}
	if (!o->origin)
		headless_srv(o, s, rel, abs);
}

static void service(struct out *o, struct zsvc *s)
{
	struct k8s_buf rel = { 0 }, abs = { 0 };
	size_t i;

	cat(&rel, s->name, ".", s->ns, ".svc", NULL);
	cat(&abs, s->name, ".", s->ns, ".svc.", o->z->zone, ".", NULL);
	if (rel.oom || abs.oom) {
		o->b.oom = true;
		goto out;
	}
	if (!o->origin)
		cat(&o->b, "; ", s->ns, "/", s->name, "\n", NULL);
	if (s->external_name) {
		if (!o->origin) {
			size_t n = strlen(s->external_name);

			cat(&o->b, rel.data, "\tIN\tCNAME\t", s->external_name,
			    s->external_name[n - 1] == '.' ? "" : ".", "\n", NULL);
			o->records++;
		}
	} else if (s->headless) {
		headless(o, s, rel.data, abs.data);
	} else {
		for (i = 0; i < s->cluster_ips.n; i++) {
			if (o->origin)
				ptr(o, s->cluster_ips.v[i], NULL, abs.data);
			else
				address(o, rel.data, NULL, s->cluster_ips.v[i]);
		}
		for (i = 0; !o->origin && i < s->ports.n; i++)
			srv(o, &s->ports.v[i], rel.data, abs.data, NULL);
	}
out:
	k8s_buf_free(&rel);
	k8s_buf_free(&abs);
}

static int cmp_pod(const void *a, const void *b)
{
	const struct zpod *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->ip, y->ip);
}

static bool endpoint_has(const struct zsvc *s, const char *hostname, const char *ip)
{
	size_t i;

	for (i = 0; i < s->n_eps; i++)
		if (ep_included(s, &s->eps[i]) && s->eps[i].hostname &&
		    strcmp(s->eps[i].hostname, hostname) == 0 && strcmp(s->eps[i].ip, ip) == 0)
			return true;
	return false;
}

/* <hostname>.<subdomain>.<ns>.svc when a headless service is named like the subdomain. */
static void pod_hostname(struct out *o, const struct zpod *p)
{
	const struct zsvc *s;

	if (!p->hostname || !p->subdomain)
		return;
	s = k8s_zone_find(o->z, p->ns, p->subdomain);
	if (!s || !s->declared || !s->headless || s->external_name ||
	    !(p->ready || s->publish_not_ready) || endpoint_has(s, p->hostname, p->ip))
		return;
	cat(&o->b, p->hostname, ".", p->subdomain, ".", p->ns, ".svc", addr_type(p->ip), p->ip,
	    "\n", NULL);
	o->records++;
}

static void pods(struct out *o)
{
	struct k8snet_dns_zone *z = (struct k8snet_dns_zone *)o->z;
	char dashed[48];
	size_t i;

	if (o->origin || !z->n_pods)
		return;
	qsort(z->pods, z->n_pods, sizeof(*z->pods), cmp_pod);
	k8s_buf_puts(&o->b, "; pods\n");
	for (i = 0; i < z->n_pods; i++) {
		const struct zpod *p = &z->pods[i];

		/* hostNetwork pods share the node's address: one record. */
		if (!i || cmp_pod(&z->pods[i - 1], p) != 0) {
			k8s_dns_dashed_ip(p->ip, dashed);
			cat(&o->b, dashed, ".", p->ns, ".pod", addr_type(p->ip), p->ip, "\n", NULL);
			o->records++;
		}
		pod_hostname(o, p);
	}
}

static void header(struct out *o, const char *origin)
{
	const struct k8snet_dns_zone *z = o->z;
	const struct zsvc *dns = k8s_zone_find(z, "kube-system", "kube-dns");
	const char *ns_ip = z->ns_ip;

	if (!ns_ip && dns && dns->declared && dns->cluster_ips.n)
		ns_ip = dns->cluster_ips.v[0];
	if (!ns_ip)
		ns_ip = "127.0.0.1";
	k8s_buf_printf(&o->b, "; Kubernetes DNS (schema 1.1.0) for %s, written by libk8snet\n"
		       "$ORIGIN %s.\n$TTL %u\n"
		       "@\tIN\tSOA\tns.dns.%s. hostmaster.%s. %u 7200 1800 86400 %u\n"
		       "@\tIN\tNS\tns.dns.%s.\n",
		       z->zone, origin, z->ttl, z->zone, z->zone, z->serial, z->ttl, z->zone);
	o->records += 2;
	if (o->origin)
		return;
	cat(&o->b, "ns.dns", addr_type(ns_ip), ns_ip, "\ndns-version\tIN\tTXT\t\"1.1.0\"\n", NULL);
	o->records += 2;
}

static int cmp_svc(const void *a, const void *b)
{
	const struct zsvc *x = *(const struct zsvc *const *)a, *y = *(const struct zsvc *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

/* The services by namespace and name, kept until a new one comes. */
static int sort_services(struct k8snet_dns_zone *z)
{
	if (z->sorted)
		return 0;
	z->sorted = malloc((z->n_svcs + 1) * sizeof(*z->sorted));
	if (!z->sorted)
		return k8s_error(z->ctx, -ENOMEM, "out of memory");
	if (z->n_svcs) {
		memcpy(z->sorted, z->svcs, z->n_svcs * sizeof(*z->sorted));
		qsort(z->sorted, z->n_svcs, sizeof(*z->sorted), cmp_svc);
	}
	return 0;
}

static bool is_reverse(const char *origin)
{
	size_t n = strlen(origin);

	return strcmp(origin, "in-addr.arpa") == 0 || strcmp(origin, "ip6.arpa") == 0 ||
	       (n > 13 && strcmp(origin + n - 13, ".in-addr.arpa") == 0) ||
	       (n > 9 && strcmp(origin + n - 9, ".ip6.arpa") == 0);
}

K8SNET_EXPORT int k8snet_dns_zone_render(struct k8snet_dns_zone *z, const char *origin,
					 char **ret_text)
{
	_cleanup_(freep) char *rev = NULL;
	struct out o = { .z = z };
	size_t i;
	int r;

	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, ret_text);
	if (origin) {
		if ((r = k8s_dns_zone_normalize(z->ctx, origin, &rev)) < 0)
			return r;
		if (!is_reverse(rev))
			return k8s_error_at(z->ctx, -EINVAL, "origin",
					    "'%s' is not a reverse zone (under in-addr.arpa or ip6.arpa)",
					    rev);
		o.origin = rev;
		o.origin_len = strlen(rev);
	}
	if ((r = sort_services(z)) < 0)
		return r;
	header(&o, rev ? rev : z->zone);
	for (i = 0; i < z->n_svcs && !o.b.oom; i++)
		if (z->sorted[i]->declared)
			service(&o, z->sorted[i]);
	pods(&o);
	o.b.oom |= o.scratch.oom;
	k8s_buf_free(&o.scratch);
	r = k8s_buf_take(&o.b, ret_text);
	if (r < 0)
		return k8s_error(z->ctx, r, "out of memory");
	return o.records;
}
