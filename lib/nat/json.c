/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Services (v1) and EndpointSlices (discovery.k8s.io/v1) as `kubectl get
 * svc,endpointslices -o json` prints them.  A document is read whole into a
 * staging list first and applied only when every object is valid, so bad
 * input changes nothing.
 */
#include <string.h>

#include "json/json.h"
#include "nat/internal.h"

struct staged_slice {
	char *ns, *svc;
	struct nat_slice *sl;
};

struct staging {
	struct ptrvec svcs;    /* struct k8snet_service */
	struct ptrvec slices;  /* struct staged_slice */
};

static void staged_slice_free(void *p)
{
	struct staged_slice *s = p;

	free(s->ns);
	free(s->svc);
	nat_slice_free(s->sl);
	free(s);
}

static int oom(struct k8snet_ctx *ctx)
{
	return k8s_error(ctx, -ENOMEM, "out of memory");
}

/* Each item of an array of strings through fn. */
static int for_each_str(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			int (*fn)(struct k8snet_ctx *, const k8s_jref *, const char *, void *),
			void *ud)
{
	k8s_jref arr;
	int r = k8s_json_get_array(ctx, obj, key, K8S_OPTIONAL, &arr), i, n;

	if (r <= 0)
		return r;
	n = k8s_json_array_size(&arr);
	for (i = 0; i < n; i++) {
		k8s_jref it = k8s_jref_item(&arr, i);
		const char *s;

		r = k8s_json_as_str(ctx, &it, &s);
		if (r >= 0)
			r = fn(ctx, &it, s, ud);
		if (r < 0)
			return r;
	}
	return 0;
}

struct ipctx {
	struct k8snet_service *svc;
	uint32_t kind;
};

static int add_ip(struct k8snet_ctx *ctx, const k8s_jref *ref, const char *s, void *ud)
{
	struct ipctx *ic = ud;
	int r;

	/* Headless services have clusterIP "None": no NAT. */
	if (ic->kind == K8SNET_SERVICE_IP_CLUSTER && (strcmp(s, "None") == 0 || !*s))
		return 0;
	r = k8snet_service_add_ip(ic->svc, ic->kind, s);
	if (r == -EINVAL)
		return k8s_jerror(ctx, ref, r, "'%s': not %s", s,
				  ic->kind == K8SNET_SERVICE_IP_SOURCE_RANGE ? "a CIDR" : "an IP address");
	return r < 0 ? oom(ctx) : 0;
}

static int parse_proto(struct k8snet_ctx *ctx, const k8s_jref *obj, uint8_t *ret)
{
	const char *s = "TCP";
	k8s_jref ref = k8s_jref_member(obj, "protocol");
	int r = k8s_json_get_str(ctx, obj, "protocol", K8S_OPTIONAL, &s);

	if (r < 0)
		return r;
	if (strcmp(s, "TCP") == 0)
		*ret = IPPROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*ret = IPPROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*ret = IPPROTO_SCTP;
	else
		return k8s_jerror(ctx, &ref, -EINVAL, "'%s': must be TCP, UDP or SCTP", s);
	return 0;
}

static int svc_port(struct k8snet_ctx *ctx, const k8s_jref *item, void *ud)
{
	struct k8snet_service *svc = ud;
	const char *name = "";
	int64_t port, np = 0;
	uint8_t proto;
	int r;

	r = k8s_json_get_str(ctx, item, "name", K8S_OPTIONAL, &name);
	if (r >= 0)
		r = parse_proto(ctx, item, &proto);
	if (r >= 0)
		r = k8s_json_get_int(ctx, item, "port", K8S_REQUIRED, 1, 65535, &port);
	if (r >= 0)
		r = k8s_json_get_int(ctx, item, "nodePort", K8S_OPTIONAL, 0, 65535, &np);
	if (r < 0)
		return r;
	return k8snet_service_add_port(svc, name, proto, (uint32_t)port, (uint32_t)np) < 0 ? oom(ctx) : 0;
}

static int str_choice(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		      const char *const *choices, int *ret);

static int lb_ingress(struct k8snet_ctx *ctx, const k8s_jref *item, void *ud)
{
	static const char *const modes[] = { "VIP", "Proxy", NULL };
	struct ipctx ic = { ud, K8SNET_SERVICE_IP_LB_INGRESS };
	k8s_jref ipref = k8s_jref_member(item, "ip");
	const char *ip;
	int mode = 0, r = str_choice(ctx, item, "ipMode", modes, &mode);

	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "ip", K8S_OPTIONAL, &ip);
	if (mode == 1)
		ic.kind = K8SNET_SERVICE_IP_LB_INGRESS_PROXY;
	/* Hostname-only ingresses are for DNS, not for us. */
	return r <= 0 ? r : add_ip(ctx, &ipref, ip, &ic);
}

static int str_choice(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
		      const char *const *choices, int *ret)
{
	k8s_jref ref = k8s_jref_member(obj, key);
	const char *s;
	int r = k8s_json_get_str(ctx, obj, key, K8S_OPTIONAL, &s), i;

	if (r <= 0)
		return r;
	for (i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0) {
			*ret = i;
			return 1;
		}
	return k8s_jerror(ctx, &ref, -EINVAL, "'%s': unknown value", s);
}

/* spec.trafficDistribution; values this library does not know are ignored,
 * as kube-proxy does (the API adds new ones). */
static int traffic_distribution(struct k8snet_ctx *ctx, const k8s_jref *spec,
				struct k8snet_service *svc)
{
	const char *s;
	int r = k8s_json_get_str(ctx, spec, "trafficDistribution", K8S_OPTIONAL, &s);

	svc->traffic_dist = K8SNET_TRAFFIC_DISTRIBUTION_NONE;
	if (r <= 0)
		return r;
	if (strcmp(s, "PreferSameZone") == 0 || strcmp(s, "PreferClose") == 0)
		svc->traffic_dist = K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE;
	else if (strcmp(s, "PreferSameNode") == 0)
		svc->traffic_dist = K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE;
	return 0;
}

static int svc_spec(struct k8snet_ctx *ctx, const k8s_jref *spec, struct k8snet_service *svc)
{
	static const char *const types[] = { "ClusterIP", "NodePort", "LoadBalancer",
					     "ExternalName", NULL };
	static const char *const affinity[] = { "None", "ClientIP", NULL };
	static const char *const policy[] = { "Cluster", "Local", NULL };
	struct ipctx ic = { svc, K8SNET_SERVICE_IP_CLUSTER };
	int r, t = 0, aff = 0, etp = 0, itp = 0;
	k8s_jref ports, cfg, client, cip;
	int64_t timeout = 10800, hcnp = 0;
	const char *one;

	r = str_choice(ctx, spec, "type", types, &t);
	if (r >= 0)
		r = str_choice(ctx, spec, "sessionAffinity", affinity, &aff);
	if (r >= 0)
		r = str_choice(ctx, spec, "externalTrafficPolicy", policy, &etp);
	if (r >= 0)
		r = str_choice(ctx, spec, "internalTrafficPolicy", policy, &itp);
	if (r < 0)
		return r;
	svc->type = (uint32_t)t;
	svc->flags = (aff ? K8SNET_SERVICE_F_AFFINITY : 0) | (etp ? K8SNET_SERVICE_F_ETP_LOCAL : 0) |
		     (itp ? K8SNET_SERVICE_F_ITP_LOCAL : 0);
	if (t == 3)
		return 0;     /* ExternalName: DNS only, nothing else matters */
	r = k8s_json_get_object(ctx, spec, "sessionAffinityConfig", K8S_OPTIONAL, &cfg);
	/* Each ref points at its parent: a child needs a variable of its own. */
	if (r > 0 && (r = k8s_json_get_object(ctx, &cfg, "clientIP", K8S_OPTIONAL, &client)) > 0)
		r = k8s_json_get_int(ctx, &client, "timeoutSeconds", K8S_OPTIONAL, 1, 86400, &timeout);
	if (r < 0)
		return r;
	svc->affinity_timeout = (uint32_t)timeout;
	/* clusterIPs supersedes clusterIP; older objects only have the latter. */
	if (cJSON_IsArray(k8s_jref_member(spec, "clusterIPs").node)) {
		r = for_each_str(ctx, spec, "clusterIPs", add_ip, &ic);
	} else {
		r = k8s_json_get_str(ctx, spec, "clusterIP", K8S_OPTIONAL, &one);
		cip = k8s_jref_member(spec, "clusterIP");
		if (r > 0)
			r = add_ip(ctx, &cip, one, &ic);
	}
	ic.kind = K8SNET_SERVICE_IP_EXTERNAL;
	if (r >= 0)
		r = for_each_str(ctx, spec, "externalIPs", add_ip, &ic);
	ic.kind = K8SNET_SERVICE_IP_SOURCE_RANGE;
	if (r >= 0)
		r = for_each_str(ctx, spec, "loadBalancerSourceRanges", add_ip, &ic);
	if (r >= 0)
		r = k8s_json_get_int(ctx, spec, "healthCheckNodePort", K8S_OPTIONAL, 0, 65535, &hcnp);
	if (r >= 0)
		r = traffic_distribution(ctx, spec, svc);
	svc->hc_node_port = (uint32_t)hcnp;
	if (r >= 0)
		r = k8s_json_get_array(ctx, spec, "ports", K8S_OPTIONAL, &ports);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &ports, svc_port, svc);
	return r < 0 ? r : 0;
}

/* metadata.creationTimestamp decides which of two conflicting services
 * keeps an address (the older). */
static int read_created(struct k8snet_ctx *ctx, const k8s_jref *obj, struct k8snet_service *svc)
{
	k8s_jref md = k8s_jref_member(obj, "metadata"), ts;
	const char *text;
	int r = k8s_json_get_str(ctx, &md, "creationTimestamp", K8S_OPTIONAL, &text);

	if (r <= 0)
		return r;
	if (k8snet_service_set_str(svc, K8SNET_SERVICE_CREATION_TIMESTAMP, text) < 0) {
		ts = k8s_jref_member(&md, "creationTimestamp");
		return k8s_jerror(ctx, &ts, -EINVAL, "'%s': not an RFC 3339 UTC time "
				  "(2006-01-02T15:04:05Z)", text);
	}
	return 0;
}

static int read_service(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
			struct staging *st)
{
	struct k8snet_service *svc;
	k8s_jref spec, status, lb, ing;
	int r;

	r = nat_service_new(&svc);
	if (r < 0)
		return oom(ctx);
	r = k8snet_service_set_str(svc, K8SNET_SERVICE_NAME, meta->name);
	if (r >= 0 && meta->namespace_)
		r = k8snet_service_set_str(svc, K8SNET_SERVICE_NAMESPACE, meta->namespace_);
	if (r < 0) {
		k8s_jref md = k8s_jref_member(obj, "metadata");

		nat_service_free(svc);
		return k8s_jerror(ctx, &md, -EINVAL, "name and namespace must be DNS labels");
	}
	r = read_created(ctx, obj, svc);
	if (r >= 0)
		r = k8s_json_get_object(ctx, obj, "spec", K8S_REQUIRED, &spec);
	if (r > 0)
		r = svc_spec(ctx, &spec, svc);
	if (r >= 0 && svc->type == K8SNET_SERVICE_TYPE_LOAD_BALANCER)
		r = k8s_json_get_object(ctx, obj, "status", K8S_OPTIONAL, &status);
	if (r > 0 && (r = k8s_json_get_object(ctx, &status, "loadBalancer", K8S_OPTIONAL, &lb)) > 0 &&
	    (r = k8s_json_get_array(ctx, &lb, "ingress", K8S_OPTIONAL, &ing)) > 0)
		r = k8s_json_for_each_item(ctx, &ing, lb_ingress, svc);
	if (r >= 0 && nat_ptrvec_push(&st->svcs, svc) < 0)
		r = oom(ctx);
	if (r < 0)
		nat_service_free(svc);
	return r < 0 ? r : 0;
}

struct slice_read {
	struct nat_slice *sl;
	const k8s_jref *ports;
	int family;
};

struct ep_read {
	struct slice_read *sr;
	const char *node, *zone;
	char *hint_zones, *hint_nodes;
	uint32_t flags;
};

static int add_slice_ep(struct k8snet_ctx *ctx, const k8s_jref *ref, const char *addr, void *ud)
{
	struct ep_read *er = ud;
	struct nat_slice *sl = er->sr->sl;
	int i, n = k8s_json_array_size(er->sr->ports), r;

	for (i = 0; i < n; i++) {
		k8s_jref pref = k8s_jref_item(er->sr->ports, i);
		const char *name = "";
		int64_t port = 0;
		uint8_t proto;
		struct nat_ep *e;

		r = k8s_json_get_str(ctx, &pref, "name", K8S_OPTIONAL, &name);
		if (r >= 0)
			r = parse_proto(ctx, &pref, &proto);
		if (r >= 0)
			r = k8s_json_get_int(ctx, &pref, "port", K8S_OPTIONAL, 1, 65535, &port);
		if (r < 0)
			return r;
		if (!port)
			continue;  /* "all ports" slices have nothing for us */
		if (k8s_grow_pow2(&sl->eps, sl->neps, sizeof(*sl->eps)) < 0)
			return oom(ctx);
		e = &sl->eps[sl->neps];
		*e = (struct nat_ep){ .proto = proto, .port = (uint16_t)port, .flags = er->flags };
		if (nat_parse_addr(addr, &e->addr) < 0 || e->addr.family != er->sr->family)
			return k8s_jerror(ctx, ref, -EINVAL, "'%s': not an %s address", addr,
					  er->sr->family == AF_INET ? "IPv4" : "IPv6");
		e->port_name = strdup(name);
		e->node = er->node ? strdup(er->node) : NULL;
		e->zone = er->zone ? strdup(er->zone) : NULL;
		e->hint_zones = er->hint_zones ? strdup(er->hint_zones) : NULL;
		e->hint_nodes = er->hint_nodes ? strdup(er->hint_nodes) : NULL;
		sl->neps++;
		if (!e->port_name || (er->node && !e->node) || (er->zone && !e->zone) ||
		    (er->hint_zones && !e->hint_zones) || (er->hint_nodes && !e->hint_nodes))
			return oom(ctx);
	}
	return 0;
}

/* hints.forZones / forNodes: [{"name": ...}], into a comma-separated list. */
static int hint_names(struct k8snet_ctx *ctx, const k8s_jref *hints, const char *key, char **ret)
{
	k8s_jref arr, it;
	const char *name;
	int r = k8s_json_get_array(ctx, hints, key, K8S_OPTIONAL, &arr), i, n;

	if (r <= 0)
		return r;
	n = k8s_json_array_size(&arr);
	for (i = 0; i < n && r >= 0; i++) {
		it = k8s_jref_item(&arr, i);
		r = k8s_json_get_str(ctx, &it, "name", K8S_REQUIRED, &name);
		if (r >= 0 && (!*name || strchr(name, ',')))
			r = k8s_jerror(ctx, &it, -EINVAL, "'%s': not a zone or node name", name);
		if (r >= 0 && nat_list_add(ret, name) < 0)
			r = oom(ctx);
	}
	return r;
}

static int slice_ep_topology(struct k8snet_ctx *ctx, const k8s_jref *item, struct ep_read *er)
{
	k8s_jref hints;
	int r = k8s_json_get_str(ctx, item, "zone", K8S_OPTIONAL, &er->zone);

	if (r >= 0)
		r = k8s_json_get_object(ctx, item, "hints", K8S_OPTIONAL, &hints);
	if (r > 0)
		r = hint_names(ctx, &hints, "forZones", &er->hint_zones);
	if (r >= 0)
		r = hint_names(ctx, &hints, "forNodes", &er->hint_nodes);
	return r;
}

static int slice_ep_read(struct k8snet_ctx *ctx, const k8s_jref *item, struct ep_read *er);

static int slice_ep(struct k8snet_ctx *ctx, const k8s_jref *item, void *ud)
{
	struct ep_read er = { .sr = ud };
	int r = slice_ep_read(ctx, item, &er);

	free(er.hint_zones);
	free(er.hint_nodes);
	return r;
}

static int slice_ep_read(struct k8snet_ctx *ctx, const k8s_jref *item, struct ep_read *er)
{
	bool ready = true, serving = true, terminating = false;
	k8s_jref cond;
	int r;

	r = slice_ep_topology(ctx, item, er);
	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "nodeName", K8S_OPTIONAL, &er->node);
	if (r >= 0)
		r = k8s_json_get_object(ctx, item, "conditions", K8S_OPTIONAL, &cond);
	/* Absent ready means ready (the API's rule); serving defaults to ready. */
	if (r > 0) {
		r = k8s_json_get_bool(ctx, &cond, "ready", K8S_OPTIONAL, &ready);
		serving = ready;
		if (r >= 0)
			r = k8s_json_get_bool(ctx, &cond, "serving", K8S_OPTIONAL, &serving);
		if (r >= 0)
			r = k8s_json_get_bool(ctx, &cond, "terminating", K8S_OPTIONAL, &terminating);
	}
	if (r < 0)
		return r;
	er->flags = (ready ? K8SNET_ENDPOINT_F_READY : 0) | (serving ? K8SNET_ENDPOINT_F_SERVING : 0) |
		    (terminating ? K8SNET_ENDPOINT_F_TERMINATING : 0);
	return for_each_str(ctx, item, "addresses", add_slice_ep, er);
}

static int read_slice(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		      struct staging *st)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	k8s_jref ports, eps;
	cJSON *svcname = cJSON_GetObjectItemCaseSensitive(meta->labels, "kubernetes.io/service-name");
	struct staged_slice *ss;
	struct slice_read sr;
	int r, at = -1;

	r = str_choice(ctx, obj, "addressType", types, &at);
	if (r < 0)
		return r;
	if (r == 0) {
		k8s_jref ref = k8s_jref_member(obj, "addressType");

		return k8s_jerror(ctx, &ref, -EINVAL, "required field is missing");
	}
	if (at == 2 || !cJSON_IsString(svcname))
		return 0;  /* FQDN slices and slices of no service are not ours */
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return oom(ctx);
	ss->sl = calloc(1, sizeof(*ss->sl));
	ss->ns = strdup(meta->namespace_ ? meta->namespace_ : "default");
	ss->svc = strdup(svcname->valuestring);
	if (!ss->sl || !ss->ns || !ss->svc || !(ss->sl->name = strdup(meta->name)) ||
	    nat_ptrvec_push(&st->slices, ss) < 0) {
		staged_slice_free(ss);
		return oom(ctx);
	}
	r = k8s_json_get_array(ctx, obj, "ports", K8S_OPTIONAL, &ports);
	if (r >= 0)
		r = k8s_json_get_array(ctx, obj, "endpoints", K8S_OPTIONAL, &eps);
	if (r <= 0)
		return r;
	sr = (struct slice_read){ ss->sl, &ports, at == 0 ? AF_INET : AF_INET6 };
	return k8s_json_for_each_item(ctx, &eps, slice_ep, &sr);
}

static int read_object(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		       void *ud)
{
	k8s_jref md = k8s_jref_member(obj, "metadata");

	if (!meta->kind)
		return 0;
	if (strcmp(meta->kind, "Service") != 0 && strcmp(meta->kind, "EndpointSlice") != 0)
		return 0;   /* other kinds in a List are someone else's */
	if (!meta->name) {
		k8s_jref name = k8s_jref_member(&md, "name");

		return k8s_jerror(ctx, md.node ? &name : &md, -EINVAL, "required field is missing");
	}
	if (strcmp(meta->kind, "Service") == 0)
		return read_service(ctx, obj, meta, ud);
	return read_slice(ctx, obj, meta, ud);
}

int nat_load_json(struct k8snet_proxy *p, const char *json, size_t len)
{
	struct staging st = { 0 };
	cJSON *root = NULL;
	size_t i;
	int r;

	r = k8s_json_parse(p->ctx, json, len, &root);
	if (r >= 0)
		r = k8s_json_for_each_object(p->ctx, root, read_object, &st);
	cJSON_Delete(root);
	for (i = 0; r >= 0 && i < st.svcs.n; i++)
		r = k8snet_proxy_add_service(p, st.svcs.v[i]);
	for (i = 0; r >= 0 && i < st.slices.n; i++) {
		struct staged_slice *ss = st.slices.v[i];

		r = nat_set_slice(p, ss->ns, ss->svc, ss->sl);
		if (r < 0)
			r = oom(p->ctx);
		else
			ss->sl = NULL;
	}
	if (r >= 0)
		r = (int)(st.svcs.n + st.slices.n);
	nat_ptrvec_free(&st.svcs, nat_service_free);
	nat_ptrvec_free(&st.slices, staged_slice_free);
	return r;
}

K8SNET_EXPORT int k8snet_proxy_load_json(struct k8snet_proxy *p, const char *json, size_t len)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, json);
	return nat_load_json(p, json, len);
}
