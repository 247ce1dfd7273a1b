/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pod's DNS settings with the kubelet's rules (pkg/kubelet/network/dns):
 *
 *  1. The base is the node's resolv.conf as parsed (empty when none).
 *  2. The policy picks a kind: None -> none; ClusterFirstWithHostNet ->
 *     cluster; ClusterFirst -> cluster, or host with hostNetwork; Default ->
 *     host.
 *  3. none: start empty.  cluster: nameservers = the cluster DNS addresses,
 *     search = <ns>.svc.<zone> svc.<zone> <zone> then the node's, duplicates
 *     removed (first wins), options = ndots:5.  Without cluster DNS addresses,
 *     warn and do what host does.  host: the base; with no node resolv.conf,
 *     nameserver 127.0.0.1 (::1 per IPv6 node IP) and search ".".
 *  4. dnsConfig: nameservers and searches appended, duplicates removed;
 *     options merged by name.  Option order (the kubelet's map order is
 *     random; ours is fixed): the base's options in their order, a pod option
 *     with the same name replacing the value in place, then the pod's new
 *     options in the order given; a name that repeats (in the base or the
 *     pod's) appears once, at its first place, with its last value.
 *  5. Limits, in the kubelet's order, each trim one warning: at most 3
 *     nameservers; then search: the first 32 entries (legacy 6), entries over
 *     253 characters dropped, then entries dropped from the end while the line
 *     is over 2048 characters (legacy 256).
 */
#include <string.h>

#include "dns/resolv.h"

#define MAX_NAMESERVERS 3
#define MAX_SEARCH_PATHS 32
#define MAX_SEARCH_CHARS 2048
#define MAX_SEARCH_PATHS_LEGACY 6
#define MAX_SEARCH_CHARS_LEGACY 256

enum kind { KIND_CLUSTER, KIND_HOST, KIND_NONE };

void k8s_resolv_plan_clear(struct k8s_resolv_plan *plan)
{
	k8s_strv_clear(&plan->nameservers);
	k8s_strv_clear(&plan->searches);
	k8s_strv_clear(&plan->options);
}

static enum kind pod_kind(const struct k8snet_dns_resolv *r)
{
	switch (r->policy) {
	case K8S_POLICY_NONE:
		return KIND_NONE;
	case K8S_POLICY_CLUSTER_FIRST_WITH_HOST_NET:
		return KIND_CLUSTER;
	case K8S_POLICY_CLUSTER_FIRST:
		return r->host_network ? KIND_HOST : KIND_CLUSTER;
	case K8S_POLICY_DEFAULT:
		break;
	}
	return KIND_HOST;
}

static int warn(struct k8snet_dns_resolv *r, const char *fmt, ...) _printf_(2, 3);
static int warn(struct k8snet_dns_resolv *r, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	k8s_log(r->ctx, LOG_WARNING, "%s", msg);
	n = k8s_strv_push(&r->warnings, msg, strlen(msg));
	free(msg);
	return n;
}

static int cluster_searches(const struct k8snet_dns_resolv *r, struct k8s_strv *searches)
{
	struct k8s_strv out = { 0 };
	char *ns_svc = NULL, *svc = NULL;
	size_t i;
	int rr = 0;

	if (!*r->cluster_domain)
		return 0;  /* the kubelet keeps the node's list as it is */
	if (asprintf(&ns_svc, "%s.svc.%s", r->ns, r->cluster_domain) < 0)
		ns_svc = NULL;
	if (asprintf(&svc, "svc.%s", r->cluster_domain) < 0)
		svc = NULL;
	if (!ns_svc || !svc)
		rr = -ENOMEM;
	if (rr >= 0)
		rr = k8s_strv_push_unique(&out, ns_svc);
	if (rr >= 0)
		rr = k8s_strv_push_unique(&out, svc);
	if (rr >= 0)
		rr = k8s_strv_push_unique(&out, r->cluster_domain);
	for (i = 0; rr >= 0 && i < searches->n; i++)
		rr = k8s_strv_push_unique(&out, searches->v[i]);
	free(ns_svc);
	free(svc);
	if (rr < 0) {
		k8s_strv_clear(&out);
		return rr;
	}
	k8s_strv_clear(searches);
	*searches = out;
	return 0;
}

static int host_fallback(const struct k8snet_dns_resolv *r, struct k8s_resolv_plan *p)
{
	size_t i;
	int rr = 0;

	if (r->has_host_conf)
		return 0;
	for (i = 0; rr >= 0 && i < r->node_ips.n; i++)
		rr = k8s_strv_push(&p->nameservers, strchr(r->node_ips.v[i], ':') ? "::1" : "127.0.0.1",
				   strchr(r->node_ips.v[i], ':') ? 3 : 9);
	if (rr >= 0 && p->nameservers.n == 0)
		rr = k8s_strv_push(&p->nameservers, "127.0.0.1", 9);
	k8s_strv_truncate(&p->searches, 0);
	if (rr >= 0)
		rr = k8s_strv_push(&p->searches, ".", 1);
	return rr;
}

static int apply_kind(struct k8snet_dns_resolv *r, struct k8s_resolv_plan *p)
{
	int rr;

	switch (pod_kind(r)) {
	case KIND_NONE:
		k8s_resolv_plan_clear(p);
		return 0;
	case KIND_CLUSTER:
		if (r->cluster_dns.n) {
			k8s_strv_truncate(&p->nameservers, 0);
			k8s_strv_truncate(&p->options, 0);
			if ((rr = k8s_strv_copy(&p->nameservers, &r->cluster_dns)) < 0 ||
			    (rr = cluster_searches(r, &p->searches)) < 0)
				return rr;
			return k8s_strv_push(&p->options, "ndots:5", 7);
		}
		rr = warn(r, "no cluster DNS address is configured (kubelet --cluster-dns): "
			  "cannot use the \"%s\" policy, falling back to \"Default\"",
			  r->policy == K8S_POLICY_CLUSTER_FIRST ? "ClusterFirst"
							       : "ClusterFirstWithHostNet");
		if (rr < 0)
			return rr;
		/* fall through */
	case KIND_HOST:
		break;
	}
	return host_fallback(r, p);
}

/* Set name to value in the (names, values) map: in place when the name is
 * there (the kubelet's map: the last value wins), else at the end. */
static int option_set(struct k8s_strv *names, struct k8s_strv *values, const char *name,
		      size_t name_len, const char *value)
{
	char *copy;
	size_t j;
	int rr;

	for (j = 0; j < names->n; j++) {
		if (strlen(names->v[j]) == name_len && memcmp(names->v[j], name, name_len) == 0) {
			copy = strdup(value);
			if (!copy)
				return -ENOMEM;
			free(values->v[j]);
			values->v[j] = copy;
			return 0;
		}
	}
	rr = k8s_strv_push(names, name, name_len);
	return rr < 0 ? rr : k8s_strv_push(values, value, strlen(value));
}

/* The kubelet's mergeDNSOptions, with a fixed order (see the top). */
static int merge_options(const struct k8s_pod_dns_config *dc, struct k8s_strv *options)
{
	struct k8s_strv names = { 0 }, values = { 0 }, out = { 0 };
	size_t i;
	int rr = 0;

	for (i = 0; rr >= 0 && i < options->n; i++) {
		const char *colon = strchr(options->v[i], ':');
		size_t n = colon ? (size_t)(colon - options->v[i]) : strlen(options->v[i]);

		rr = option_set(&names, &values, options->v[i], n, colon ? colon + 1 : "");
	}
	for (i = 0; rr >= 0 && i < dc->option_names.n; i++)
		rr = option_set(&names, &values, dc->option_names.v[i],
				strlen(dc->option_names.v[i]), dc->option_values.v[i]);
	for (i = 0; rr >= 0 && i < names.n; i++) {
		char *op = NULL;

		if (asprintf(&op, "%s%s%s", names.v[i], *values.v[i] ? ":" : "", values.v[i]) < 0)
			rr = -ENOMEM;
		else
			rr = k8s_strv_push(&out, op, strlen(op));
		free(op);
	}
	k8s_strv_clear(&names);
	k8s_strv_clear(&values);
	if (rr < 0) {
		k8s_strv_clear(&out);
		return rr;
	}
	k8s_strv_clear(options);
	*options = out;
	return 0;
}

/* Append src to dst and remove duplicates, first wins (omitDuplicates). */
static int append_unique(struct k8s_strv *dst, const struct k8s_strv *src)
{
	struct k8s_strv out = { 0 };
	size_t i;
	int rr = 0;

	for (i = 0; rr >= 0 && i < dst->n; i++)
		rr = k8s_strv_push_unique(&out, dst->v[i]);
	for (i = 0; rr >= 0 && i < src->n; i++)
		rr = k8s_strv_push_unique(&out, src->v[i]);
	if (rr < 0) {
		k8s_strv_clear(&out);
		return rr;
	}
	k8s_strv_clear(dst);
	*dst = out;
	return 0;
}

static int apply_dns_config(struct k8snet_dns_resolv *r, struct k8s_resolv_plan *p)
{
	const struct k8s_pod_dns_config *dc = &r->dns_config;
	int rr;

	if (!r->has_dns_config)
		return 0;
	if ((rr = append_unique(&p->nameservers, &dc->nameservers)) < 0 ||
	    (rr = append_unique(&p->searches, &dc->searches)) < 0)
		return rr;
	return merge_options(dc, &p->options);
}

static int fit_nameservers(struct k8snet_dns_resolv *r, struct k8s_strv *ns)
{
	_cleanup_(freep) char *line = NULL;

	if (ns->n <= MAX_NAMESERVERS)
		return 0;
	k8s_strv_truncate(ns, MAX_NAMESERVERS);
	line = k8s_strv_join(ns, " ");
	if (!line)
		return -ENOMEM;
	return warn(r, "nameserver limits were exceeded (at most %d), some nameservers have been "
		    "omitted, the applied nameserver line is: %s", MAX_NAMESERVERS, line);
}

static int search_warning(struct k8snet_dns_resolv *r, const struct k8s_strv *s, const char *why)
{
	_cleanup_(freep) char *line = k8s_strv_join(s, " ");

	if (!line)
		return -ENOMEM;
	return warn(r, "search line limits were exceeded (%s), some search paths have been "
		    "omitted, the applied search line is: %s", why, line);
}

static int fit_searches(struct k8snet_dns_resolv *r, struct k8s_strv *s)
{
	size_t max_paths = r->legacy_limits ? MAX_SEARCH_PATHS_LEGACY : MAX_SEARCH_PATHS;
	size_t max_chars = r->legacy_limits ? MAX_SEARCH_CHARS_LEGACY : MAX_SEARCH_CHARS;
	char why[96];
	size_t i, dropped = 0;
	int rr;

	if (s->n > max_paths) {
		k8s_strv_truncate(s, max_paths);
		snprintf(why, sizeof(why), "more than %zu search paths", max_paths);
		if ((rr = search_warning(r, s, why)) < 0)
			return rr;
	}
	/* glibc 2.28 aborts on a search path over 255 characters. */
	for (i = 0; i < s->n;) {
		if (strlen(s->v[i]) > K8S_DNS_SUBDOMAIN_MAX) {
			k8s_strv_remove(s, i);
			dropped++;
		} else {
			i++;
		}
	}
	if (dropped && (rr = search_warning(r, s, "a search path over 253 characters")) < 0)
		return rr;
	if (k8s_strv_joined_len(s) > max_chars) {
		while (s->n && k8s_strv_joined_len(s) > max_chars)
			k8s_strv_truncate(s, s->n - 1);
		snprintf(why, sizeof(why), "a search line over %zu characters", max_chars);
		if ((rr = search_warning(r, s, why)) < 0)
			return rr;
	}
	return 0;
}

int k8s_resolv_plan(struct k8snet_dns_resolv *r, struct k8s_resolv_plan *p)
{
	int rr;

	k8s_strv_truncate(&r->warnings, 0);
	*p = (struct k8s_resolv_plan){ 0 };
	if (pod_kind(r) == KIND_NONE && (!r->has_dns_config || !r->dns_config.nameservers.n))
		return k8s_error_at(r->ctx, -EINVAL, "dnsConfig.nameservers",
				    "must provide at least one nameserver when dnsPolicy is None");
	if (r->has_host_conf &&
	    ((rr = k8s_strv_copy(&p->nameservers, &r->host.nameservers)) < 0 ||
	     (rr = k8s_strv_copy(&p->searches, &r->host.searches)) < 0 ||
	     (rr = k8s_strv_copy(&p->options, &r->host.options)) < 0))
		goto fail;
	if ((rr = apply_kind(r, p)) < 0 ||
	    (rr = apply_dns_config(r, p)) < 0 ||
	    (rr = fit_nameservers(r, &p->nameservers)) < 0 ||
	    (rr = fit_searches(r, &p->searches)) < 0)
		goto fail;
	return 0;
fail:
	k8s_resolv_plan_clear(p);
	return k8s_error(r->ctx, rr, "out of memory");
}
