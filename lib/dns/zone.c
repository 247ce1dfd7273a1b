/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zone object, its model and its C API for adding objects. */
#include <string.h>

#include "core/vec.h"
#include "dns/zone.h"

K8SNET_EXPORT int k8snet_dns_zone_new(struct k8snet_ctx *ctx, const char *zone,
				      struct k8snet_dns_zone **ret)
{
	struct k8snet_dns_zone *z;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && ret);
	z = calloc(1, sizeof(*z));
	if (!z)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	z->ctx = ctx;
	z->ttl = 5;       /* CoreDNS's kubernetes plugin default */
	z->serial = 1;
	r = k8s_dns_zone_normalize(ctx, zone, &z->zone);
	if (r < 0) {
		free(z);
		return r;
	}
	k8snet_ctx_ref(ctx);
	*ret = z;
	return 0;
}

static void svc_free(struct zsvc *s)
{
	size_t i;

	free(s->ns);
	free(s->name);
	free(s->external_name);
	k8s_strv_clear(&s->cluster_ips);
	for (i = 0; i < s->ports.n; i++)
		free(s->ports.v[i].name);
	free(s->ports.v);
	for (i = 0; i < s->endpoint_ports.n; i++)
		free(s->endpoint_ports.v[i].name);
	free(s->endpoint_ports.v);
	for (i = 0; i < s->n_eps; i++)
		free(s->eps[i].hostname);
	free(s->eps);
	free(s);
}

K8SNET_EXPORT struct k8snet_dns_zone *k8snet_dns_zone_free(struct k8snet_dns_zone *z)
{
	size_t i;

	if (!z)
		return NULL;
	for (i = 0; i < z->n_svcs; i++)
		svc_free(z->svcs[i]);
	free(z->svcs);
	free(z->sorted);
	free(z->slots);
	for (i = 0; i < z->n_pods; i++) {
		free(z->pods[i].ns);
		free(z->pods[i].hostname);
		free(z->pods[i].subdomain);
	}
	free(z->pods);
	free(z->zone);
	free(z->ns_ip);
	k8snet_ctx_unref(z->ctx);
	free(z);
	return NULL;
}

static uint32_t hash_key(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;  /* FNV-1a */
	const char *p;

	for (p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static size_t slot_of(const struct k8snet_dns_zone *z, const char *ns, const char *name)
{
	size_t mask = z->n_slots - 1, i = hash_key(ns, name) & mask;

	while (z->slots[i]) {
		const struct zsvc *s = z->svcs[z->slots[i] - 1];

		if (strcmp(s->name, name) == 0 && strcmp(s->ns, ns) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int rehash(struct k8snet_dns_zone *z)
{
	size_t n = z->n_slots ? z->n_slots * 2 : 64, i;
	uint32_t *old = z->slots;
	size_t old_n = z->n_slots;

	z->slots = calloc(n, sizeof(*z->slots));
	if (!z->slots) {
		z->slots = old;
		return -ENOMEM;
	}
	z->n_slots = n;
	for (i = 0; i < old_n; i++) {
		if (old[i]) {
			const struct zsvc *s = z->svcs[old[i] - 1];

			z->slots[slot_of(z, s->ns, s->name)] = old[i];
		}
	}
	free(old);
	return 0;
}

const struct zsvc *k8s_zone_find(const struct k8snet_dns_zone *z, const char *ns,
				 const char *name)
{
	size_t i;

	if (!z->n_slots)
		return NULL;
	i = slot_of(z, ns, name);
	return z->slots[i] ? z->svcs[z->slots[i] - 1] : NULL;
}

struct zsvc *k8s_zone_service(struct k8snet_dns_zone *z, const char *ns, const char *name)
{
	struct zsvc *s;
	size_t i;

	if ((z->n_svcs + 1) * 2 > z->n_slots && rehash(z) < 0)
		return NULL;
	i = slot_of(z, ns, name);
	if (z->slots[i])
		return z->svcs[z->slots[i] - 1];
	if (k8s_grow(&z->svcs, &z->cap_svcs, z->n_svcs, sizeof(*z->svcs)) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ns = strdup(ns);
	s->name = strdup(name);
	if (!s->ns || !s->name) {
		svc_free(s);
		return NULL;
	}
	z->svcs[z->n_svcs++] = s;
	free(z->sorted);        /* a new name: sort again at the next render */
	z->sorted = NULL;
	z->slots[i] = (uint32_t)z->n_svcs;
	return s;
}

void k8s_zone_clear_ports(struct zports *ports)
{
	size_t i;

	for (i = 0; i < ports->n; i++)
		free(ports->v[i].name);
	ports->n = 0;
}

int k8s_zone_add_port(struct zports *ports, const char *name, const char *proto, uint32_t port)
{
	size_t i;

	/* The first port of a name and protocol wins (one SRV per pair). */
	for (i = 0; i < ports->n; i++)
		if (strcmp(ports->v[i].name, name) == 0 && ports->v[i].proto == proto)
			return 0;
	if (k8s_grow(&ports->v, &ports->cap, ports->n, sizeof(*ports->v)) < 0)
		return -ENOMEM;
	ports->v[ports->n].name = strdup(name);
	if (!ports->v[ports->n].name)
		return -ENOMEM;
	ports->v[ports->n].proto = proto;
	ports->v[ports->n].port = port;
	ports->n++;
	return 0;
}

int k8s_zone_add_endpoint(struct zsvc *s, const char *canon_ip, const char *hostname, bool ready)
{
	struct zendpoint *e;

	if (k8s_grow(&s->eps, &s->cap_eps, s->n_eps, sizeof(*s->eps)) < 0)
		return -ENOMEM;
	e = &s->eps[s->n_eps];
	memset(e, 0, sizeof(*e));
	strcpy(e->ip, canon_ip);
	e->ready = ready;
	if (hostname && *hostname && !(e->hostname = strdup(hostname)))
		return -ENOMEM;
	s->n_eps++;
	s->eps_sorted = false;
	return 0;
}

int k8s_zone_add_pod(struct k8snet_dns_zone *z, const char *ns, const char *canon_ip,
		     const char *hostname, const char *subdomain, bool ready)
{
	struct zpod *p;

	if (k8s_grow(&z->pods, &z->cap_pods, z->n_pods, sizeof(*z->pods)) < 0)
		return -ENOMEM;
	p = &z->pods[z->n_pods];
	memset(p, 0, sizeof(*p));
	strcpy(p->ip, canon_ip);
	p->ready = ready;
	p->ns = strdup(ns);
	if (hostname && *hostname)
		p->hostname = strdup(hostname);
	if (subdomain && *subdomain)
		p->subdomain = strdup(subdomain);
	z->n_pods++;
	if (!p->ns || (hostname && *hostname && !p->hostname) ||
	    (subdomain && *subdomain && !p->subdomain))
		return -ENOMEM;
	return 0;
}

bool k8s_zone_external_name_ok(const char *name)
{
	size_t n = strlen(name);
	char *copy, canon[46];
	bool ok;

	if (n > 1 && name[n - 1] == '.')
		n--;
	copy = strndup(name, n);
	if (!copy)
		return false;
	/* "10.0.0.1" is a valid subdomain too, but a CNAME needs a name. */
	ok = !k8s_dns_check(K8SNET_DNS_SUBDOMAIN, copy) && k8s_dns_ip_canon(copy, NULL, canon) < 0;
	free(copy);
	return ok;
}

K8SNET_EXPORT int k8snet_dns_zone_set_u32(struct k8snet_dns_zone *z, uint32_t attr,
					  uint32_t value)
{
	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	switch (attr) {
	case K8SNET_DNS_ZONE_TTL:
		/* RFC 2181: a TTL is at most 2^31 - 1. */
		if (value > INT32_MAX)
			return k8s_error_at(z->ctx, -ERANGE, "ttl", "%u out of range: must be 0..%d",
					    value, INT32_MAX);
		z->ttl = value;
		return 0;
	case K8SNET_DNS_ZONE_SERIAL:
		z->serial = value;
		return 0;
	}
	return k8s_error(z->ctx, -EINVAL, "%s: unknown integer attribute %u", __func__, attr);
}

K8SNET_EXPORT int k8snet_dns_zone_set_str(struct k8snet_dns_zone *z, uint32_t attr,
					  const char *value)
{
	char canon[46], *copy = NULL;

	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	if (attr != K8SNET_DNS_ZONE_NAMESERVER_IP)
		return k8s_error(z->ctx, -EINVAL, "%s: unknown string attribute %u", __func__, attr);
	if (value) {
		if (k8s_dns_ip_canon(value, NULL, canon) < 0)
			return k8s_error_at(z->ctx, -EINVAL, "nameserverIP",
					    "'%s' is not an IP address", value);
		copy = strdup(canon);
		if (!copy)
			return k8s_error(z->ctx, -ENOMEM, "out of memory");
	}
	free(z->ns_ip);
	z->ns_ip = copy;
	return 0;
}

static int check_names(struct k8snet_dns_zone *z, const char *ns, const char *service)
{
	int r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "namespace", ns);

	return r < 0 ? r : k8s_dns_require(z->ctx, K8SNET_DNS_1035_LABEL, "service", service);
}

static struct zsvc *service_or_error(struct k8snet_dns_zone *z, const char *ns, const char *name)
{
	struct zsvc *s = k8s_zone_service(z, ns, name);

	if (!s)
		k8s_error(z->ctx, -ENOMEM, "out of memory");
	return s;
}

static int add_cluster_ips(struct k8snet_dns_zone *z, struct zsvc *s, const char *list)
{
	const char *p = list;

	k8s_strv_truncate(&s->cluster_ips, 0);
	while (*p) {
		size_t n = strcspn(p, ",");
		char *ip = strndup(p, n), canon[46];
		int r = ip ? k8s_dns_ip_canon(ip, NULL, canon) : -ENOMEM;

		if (r == -EINVAL)
			r = k8s_error_at(z->ctx, r, "clusterIPs", "'%s' is not an IP address", ip);
		else if (r >= 0 && k8s_strv_push(&s->cluster_ips, canon, strlen(canon)) < 0)
			r = -ENOMEM;
		free(ip);
		if (r == -ENOMEM)
			return k8s_error(z->ctx, r, "out of memory");
		if (r < 0)
			return r;
		p += n + (p[n] == ',');
	}
	return 0;
}

K8SNET_EXPORT int k8snet_dns_zone_add_service(struct k8snet_dns_zone *z, const char *ns,
					      const char *name, const char *cluster_ips,
					      const char *external_name, uint32_t flags)
{
	struct zsvc *s;
	char *ext = NULL;
	int r;

	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, ns && name);
	K8S_CHECK_ARG(z->ctx, !(flags & ~K8SNET_DNS_SERVICE_F_PUBLISH_NOT_READY));
	if ((r = check_names(z, ns, name)) < 0)
		return r;
	if (external_name && !k8s_zone_external_name_ok(external_name))
		return k8s_error_at(z->ctx, -EINVAL, "externalName",
				    "'%s' must be a lowercase DNS-1123 subdomain", external_name);
	if (external_name && !(ext = strdup(external_name)))
		return k8s_error(z->ctx, -ENOMEM, "out of memory");
	if (!(s = service_or_error(z, ns, name))) {
		free(ext);
		return -ENOMEM;
	}
	free(s->external_name);
	s->external_name = ext;
	k8s_zone_clear_ports(&s->ports);  /* a Service again replaces the earlier one */
	s->declared = true;
	s->publish_not_ready = flags & K8SNET_DNS_SERVICE_F_PUBLISH_NOT_READY;
	s->headless = !external_name && (!cluster_ips || !*cluster_ips ||
					 strcmp(cluster_ips, "None") == 0);
	if (s->headless || external_name)
		cluster_ips = "";
	return add_cluster_ips(z, s, cluster_ips);
}

static int add_port_checked(struct k8snet_dns_zone *z, const char *ns, const char *service,
			    const char *port_name, const char *protocol, uint32_t port,
			    bool endpoint)
{
	const char *proto = k8s_dns_protocol(protocol);
	struct zsvc *s;
	int r;

	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, ns && service && port_name);
	if ((r = check_names(z, ns, service)) < 0 ||
	    (r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "port name", port_name)) < 0)
		return r;
	if (!proto)
		return k8s_error_at(z->ctx, -EINVAL, "protocol", "'%s' must be TCP, UDP or SCTP",
				    protocol);
	if (port < 1 || port > 65535)
		return k8s_error_at(z->ctx, -ERANGE, "port", "%u out of range: must be 1..65535",
				    port);
	if (!(s = service_or_error(z, ns, service)))
		return -ENOMEM;
	r = k8s_zone_add_port(endpoint ? &s->endpoint_ports : &s->ports, port_name, proto, port);
	return r < 0 ? k8s_error(z->ctx, r, "out of memory") : 0;
}

K8SNET_EXPORT int k8snet_dns_zone_add_service_port(struct k8snet_dns_zone *z, const char *ns,
						   const char *service, const char *port_name,
						   const char *protocol, uint32_t port)
{
	K8S_FORK_GUARD(z);
	return add_port_checked(z, ns, service, port_name, protocol, port, false);
}

K8SNET_EXPORT int k8snet_dns_zone_add_endpoint_port(struct k8snet_dns_zone *z, const char *ns,
						    const char *service, const char *port_name,
						    const char *protocol, uint32_t port)
{
	K8S_FORK_GUARD(z);
	return add_port_checked(z, ns, service, port_name, protocol, port, true);
}

K8SNET_EXPORT int k8snet_dns_zone_add_endpoint(struct k8snet_dns_zone *z, const char *ns,
					       const char *service, const char *ip,
					       const char *hostname, uint32_t flags)
{
	char canon[46];
	struct zsvc *s;
	int r;

	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, ns && service && ip);
	K8S_CHECK_ARG(z->ctx, !(flags & ~K8SNET_DNS_ENDPOINT_F_NOT_READY));
	if ((r = check_names(z, ns, service)) < 0)
		return r;
	if (hostname && *hostname &&
	    (r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "hostname", hostname)) < 0)
		return r;
	if (k8s_dns_ip_canon(ip, NULL, canon) < 0)
		return k8s_error_at(z->ctx, -EINVAL, "ip", "'%s' is not an IP address", ip);
	if (!(s = service_or_error(z, ns, service)))
		return -ENOMEM;
	r = k8s_zone_add_endpoint(s, canon, hostname, !(flags & K8SNET_DNS_ENDPOINT_F_NOT_READY));
	return r < 0 ? k8s_error(z->ctx, r, "out of memory") : 0;
}

K8SNET_EXPORT int k8snet_dns_zone_add_pod(struct k8snet_dns_zone *z, const char *ns,
					  const char *ip, const char *hostname,
					  const char *subdomain, uint32_t flags)
{
	char canon[46];
	int r;

	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, ns && ip);
	K8S_CHECK_ARG(z->ctx, !(flags & ~K8SNET_DNS_POD_F_NOT_READY));
	if ((r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0 ||
	    (hostname && *hostname &&
	     (r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "hostname", hostname)) < 0) ||
	    (subdomain && *subdomain &&
	     (r = k8s_dns_require(z->ctx, K8SNET_DNS_LABEL, "subdomain", subdomain)) < 0))
		return r;
	if (k8s_dns_ip_canon(ip, NULL, canon) < 0)
		return k8s_error_at(z->ctx, -EINVAL, "ip", "'%s' is not an IP address", ip);
	r = k8s_zone_add_pod(z, ns, canon, hostname, subdomain, !(flags & K8SNET_DNS_POD_F_NOT_READY));
	return r < 0 ? k8s_error(z->ctx, r, "out of memory") : 0;
}

K8SNET_EXPORT int k8snet_dns_zone_add_json(struct k8snet_dns_zone *z, const char *json,
					   size_t len)
{
	K8S_FORK_GUARD(z);
	K8S_CHECK_ARG(NULL, z);
	K8S_CHECK_ARG(z->ctx, json);
	return k8s_zone_read_json(z, json, len);
}
