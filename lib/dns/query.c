/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A query name back into its parts, the way a cluster DNS server reads it:
 *   dns-version.<zone>                                   schema
 *   <svc>.<ns>.svc.<zone>                                service
 *   <hostname>.<svc>.<ns>.svc.<zone>                     headless endpoint
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone>               SRV
 *   <dashed-ip>.<ns>.pod.<zone>                          pod
 * A name that is not valid DNS is -EINVAL; a valid name that is not one of
 * these is -ENOENT (what a server answers NXDOMAIN for), with the reason.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "dns/dns-internal.h"

#define QUERY_PARTS 7

struct k8snet_dns_query {
	uint32_t kind;
	char *part[QUERY_PARTS];
	pid_t pid;                 /* the process that made it (the fork rule); 0: ours */
};

K8SNET_EXPORT struct k8snet_dns_query *k8snet_dns_query_free(struct k8snet_dns_query *q)
{
	size_t i;

	if (!q)
		return NULL;
	for (i = 0; i < QUERY_PARTS; i++)
		free(q->part[i]);
	free(q);
	return NULL;
}

K8SNET_EXPORT uint32_t k8snet_dns_query_get_kind(const struct k8snet_dns_query *q)
{
	K8S_FORK_GUARD_PID_OR(q, 0);
	return q ? q->kind : 0;
}

K8SNET_EXPORT const char *k8snet_dns_query_get_str(const struct k8snet_dns_query *q,
						   uint32_t part)
{
	K8S_FORK_GUARD_PID_OR(q, NULL);
	return q && part < QUERY_PARTS ? q->part[part] : NULL;
}

struct labels {
	char *text;          /* lowercased copy, dots replaced by NULs */
	char **v;
	size_t n;
};

static void labels_free(struct labels *l)
{
	free(l->text);
	free(l->v);
}

static int split_labels(struct k8snet_ctx *ctx, const char *name, struct labels *l)
{
	size_t len = strlen(name), i, start = 0;

	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len == 0 || (len == 1 && name[0] == '.'))
		return k8s_error(ctx, -EINVAL, "name: must not be empty or the root");
	if (len > K8S_DNS_SUBDOMAIN_MAX)
		return k8s_error(ctx, -EINVAL, "name: must be no more than 253 characters");
	l->text = strndup(name, len);
	l->v = calloc(len / 2 + 2, sizeof(*l->v));
	if (!l->text || !l->v)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	for (i = 0; i <= len; i++) {
		if (i < len && l->text[i] != '.') {
			l->text[i] = (char)tolower((unsigned char)l->text[i]);
			continue;
		}
		if (i == start)
			return k8s_error(ctx, -EINVAL, "name: '%s' has an empty label", name);
		if (i - start > K8S_DNS_LABEL_MAX)
			return k8s_error(ctx, -EINVAL, "name: '%s' has a label longer than 63 characters",
					 name);
		l->text[i] = '\0';
		l->v[l->n++] = l->text + start;
		start = i + 1;
	}
	return 0;
}

static int set_part(struct k8snet_ctx *ctx, struct k8snet_dns_query *q, uint32_t part,
		    const char *value)
{
	q->part[part] = strdup(value);
	return q->part[part] ? 0 : k8s_error(ctx, -ENOMEM, "out of memory");
}

/* A valid DNS name that is not a cluster name. */
#define not_cluster(ctx, ...) k8s_error((ctx), -ENOENT, __VA_ARGS__)

/* "10-1-2-3" or "2001-db8--1" (with "0" padding) back to an address. */
static int undash_ip(const char *label, char canon[static 46])
{
	char *text = strdup(label), *p;
	int dashes = 0, r;

	if (!text)
		return -ENOMEM;
	for (p = text; *p; p++)
		dashes += *p == '-';
	for (p = text; *p; p++)
		if (*p == '-')
			*p = dashes == 3 && !strchr(label, ':') ? '.' : ':';
	r = k8s_dns_ip_canon(text, NULL, canon);
	if (r < 0 && dashes == 3) {
		/* Three dashes can also be a short IPv6 address. */
		for (p = text; *p; p++)
			if (*p == '.')
				*p = ':';
		r = k8s_dns_ip_canon(text, NULL, canon);
	}
	free(text);
	return r;
}

static int parse_pod(struct k8snet_ctx *ctx, struct k8snet_dns_query *q, char **v, size_t k)
{
	char canon[46];
	const char *why;
	int r;

	if (k != 2)
		return not_cluster(ctx, "pod names are <dashed-ip>.<namespace>.pod.<zone>");
	if ((why = k8s_dns_check(K8SNET_DNS_LABEL, v[1])))
		return not_cluster(ctx, "namespace '%s' %s", v[1], why);
	r = undash_ip(v[0], canon);
	if (r == -ENOMEM)
		return k8s_error(ctx, r, "out of memory");
	if (r < 0)
		return not_cluster(ctx, "'%s' is not a dashed IPv4 or IPv6 address", v[0]);
	q->kind = K8SNET_DNS_QUERY_KIND_POD;
	if ((r = set_part(ctx, q, K8SNET_DNS_QUERY_NAMESPACE, v[1])) < 0 ||
	    (r = set_part(ctx, q, K8SNET_DNS_QUERY_ENDPOINT, v[0])) < 0 ||
	    (r = set_part(ctx, q, K8SNET_DNS_QUERY_IP, canon)) < 0)
		return r;
	return 0;
}

static int parse_srv_labels(struct k8snet_ctx *ctx, struct k8snet_dns_query *q, char **v)
{
	const char *proto, *why;
	int r;

	if (v[0][0] != '_' || v[1][0] != '_')
		return not_cluster(ctx, "SRV names are _<port>._<protocol>.<service>...; got '%s'",
				   v[0]);
	if ((why = k8s_dns_check(K8SNET_DNS_LABEL, v[0] + 1)))
		return not_cluster(ctx, "port name '%s' %s", v[0] + 1, why);
	proto = k8s_dns_protocol(v[1] + 1);
	if (!proto || !v[1][1])
		return not_cluster(ctx, "protocol '%s' is not tcp, udp or sctp", v[1] + 1);
	if ((r = set_part(ctx, q, K8SNET_DNS_QUERY_PORT, v[0] + 1)) < 0)
		return r;
	return set_part(ctx, q, K8SNET_DNS_QUERY_PROTOCOL, proto);
}

/* v[0..k) are the labels before "svc": [[_port._proto.]|[hostname.]]svc.ns */
static int parse_svc(struct k8snet_ctx *ctx, struct k8snet_dns_query *q, char **v, size_t k)
{
	const char *why;
	int r;

	if (k == 0)
		return not_cluster(ctx, "no namespace before 'svc'");
	if ((why = k8s_dns_check(K8SNET_DNS_LABEL, v[k - 1])))
		return not_cluster(ctx, "namespace '%s' %s", v[k - 1], why);
	if (k == 1)
		return not_cluster(ctx, "'%s' names a namespace, not a service", v[0]);
	if (k > 4)
		return not_cluster(ctx, "too many labels before '%s.svc'", v[k - 1]);
	if ((why = k8s_dns_check(K8SNET_DNS_1035_LABEL, v[k - 2])))
		return not_cluster(ctx, "service '%s' %s", v[k - 2], why);
	q->kind = K8SNET_DNS_QUERY_KIND_SERVICE;
	if ((r = set_part(ctx, q, K8SNET_DNS_QUERY_NAMESPACE, v[k - 1])) < 0 ||
	    (r = set_part(ctx, q, K8SNET_DNS_QUERY_SERVICE, v[k - 2])) < 0)
		return r;
	if (k == 4)
		return parse_srv_labels(ctx, q, v);
	if (k == 3) {
		if (v[0][0] == '_')
			return not_cluster(ctx, "'%s' needs both _<port> and _<protocol>", v[0]);
		if ((why = k8s_dns_check(K8SNET_DNS_LABEL, v[0])))
			return not_cluster(ctx, "endpoint hostname '%s' %s", v[0], why);
		return set_part(ctx, q, K8SNET_DNS_QUERY_ENDPOINT, v[0]);
	}
	return 0;
}

static int parse_labels(struct k8snet_ctx *ctx, struct k8snet_dns_query *q,
			const struct labels *l, const char *zone)
{
	_cleanup_(freep) char *joined = NULL;
	size_t zone_labels = 1, k, i;
	const char *p;

	for (p = zone; *p; p++)
		zone_labels += *p == '.';
	if (l->n < zone_labels)
		return not_cluster(ctx, "not under the zone '%s'", zone);
	/* Compare the trailing labels with the zone. */
	k = l->n - zone_labels;
	for (i = k, p = zone; i < l->n; i++) {
		size_t n = strlen(l->v[i]);

		if (strncmp(p, l->v[i], n) != 0 || (p[n] != '.' && p[n] != '\0'))
			return not_cluster(ctx, "not under the zone '%s'", zone);
		p += n + (p[n] == '.');
	}
	if (k == 0)
		return not_cluster(ctx, "'%s' is the zone itself", zone);
	if (k == 1 && strcmp(l->v[0], "dns-version") == 0) {
		q->kind = K8SNET_DNS_QUERY_KIND_SCHEMA;
		return 0;
	}
	if (strcmp(l->v[k - 1], "svc") == 0)
		return parse_svc(ctx, q, l->v, k - 1);
	if (strcmp(l->v[k - 1], "pod") == 0)
		return parse_pod(ctx, q, l->v, k - 1);
	return not_cluster(ctx, "expected 'svc' or 'pod' before the zone, got '%s'", l->v[k - 1]);
}

K8SNET_EXPORT int k8snet_dns_query_parse(struct k8snet_ctx *ctx, const char *name,
					 const char *zone, struct k8snet_dns_query **ret)
{
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	r = k8s_dns_query_parse(ctx, name, zone, ret);
	if (r >= 0)
		(*ret)->pid = getpid();   /* the caller's: checked on every call */
	return r;
}

int k8s_dns_query_parse(struct k8snet_ctx *ctx, const char *name, const char *zone,
			struct k8snet_dns_query **ret)
{
	_cleanup_(freep) char *z = NULL;
	struct labels l = { 0 };
	struct k8snet_dns_query *q;
	int r;

	K8S_CHECK_ARG(ctx, ctx && name && ret);
	r = k8s_dns_zone_normalize(ctx, zone, &z);
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	r = split_labels(ctx, name, &l);
	if (r >= 0)
		r = parse_labels(ctx, q, &l, z);
	if (r >= 0)
		r = set_part(ctx, q, K8SNET_DNS_QUERY_ZONE, z);
	labels_free(&l);
	if (r < 0) {
		k8snet_dns_query_free(q);
		return r;
	}
	*ret = q;
	return 0;
}
