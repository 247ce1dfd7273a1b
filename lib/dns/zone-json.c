/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Services, EndpointSlices and Pods as `kubectl get -o json` prints them,
 * into the zone model.  The document is read twice: once to check every field
 * (errors name the path, "items[3].spec.ports[0].port: ..."), then to add, so
 * a bad document leaves the zone as it was.
 */
#include <string.h>

#include "dns/zone.h"
#include "json/json.h"

struct reader {
	struct k8snet_dns_zone *z;
	bool apply;              /* false: check only */
	int used;
	/* The object being read. */
	const char *ns, *name;
	struct zsvc *svc;
	bool ready;
	const char *hostname;
};

static int oom(struct k8snet_ctx *ctx)
{
	return k8s_error(ctx, -ENOMEM, "out of memory");
}

static int require_name(struct k8snet_ctx *ctx, const k8s_jref *obj, uint32_t kind,
			const char *what, const char *key, const char *value)
{
	const char *why = k8s_dns_check(kind, value);
	k8s_jref m;

	if (!why)
		return 0;
	m = k8s_jref_member(obj, key);
	return k8s_jerror(ctx, &m, -EINVAL, "'%s' is not a valid %s: %s", value, what, why);
}

static int read_meta_names(struct k8snet_ctx *ctx, const k8s_jref *obj,
			   const struct k8s_meta *meta, uint32_t name_kind, struct reader *rd)
{
	k8s_jref md = k8s_jref_member(obj, "metadata");
	int r;

	if (!meta->name) {
		k8s_jref m = k8s_jref_member(&md, "name");

		return k8s_jerror(ctx, &m, -EINVAL, "required field is missing");
	}
	if (!meta->namespace_) {
		k8s_jref m = k8s_jref_member(&md, "namespace");

		return k8s_jerror(ctx, &m, -EINVAL, "required field is missing");
	}
	if ((r = require_name(ctx, &md, K8SNET_DNS_LABEL, "namespace", "namespace",
			      meta->namespace_)) < 0 ||
	    (name_kind && (r = require_name(ctx, &md, name_kind, "name", "name", meta->name)) < 0))
		return r;
	rd->ns = meta->namespace_;
	rd->name = meta->name;
	return 0;
}

static int read_ip(struct k8snet_ctx *ctx, const k8s_jref *ref, char canon[static 46])
{
	const char *s;
	int r = k8s_json_as_str(ctx, ref, &s);

	if (r < 0)
		return r;
	if (k8s_dns_ip_canon(s, NULL, canon) < 0)
		return k8s_jerror(ctx, ref, -EINVAL, "'%s' is not an IP address", s);
	return 0;
}

/* name (optional; unnamed ports get no SRV), protocol (default TCP), port. */
static int read_port(struct k8snet_ctx *ctx, const k8s_jref *item, struct reader *rd,
		     bool endpoint)
{
	const char *name = NULL, *protocol = "TCP", *proto;
	int64_t port = 0;
	int r, found;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	if ((r = k8s_json_get_str(ctx, item, "name", K8S_OPTIONAL, &name)) < 0 ||
	    (r = k8s_json_get_str(ctx, item, "protocol", K8S_OPTIONAL, &protocol)) < 0)
		return r;
	/* An EndpointSlice port may be null: "all ports". */
	found = k8s_json_get_int(ctx, item, "port", endpoint ? K8S_OPTIONAL : K8S_REQUIRED,
				 1, 65535, &port);
	if (found < 0)
		return found;
	proto = k8s_dns_protocol(protocol);
	if (!proto || !*protocol) {
		k8s_jref m = k8s_jref_member(item, "protocol");

		return k8s_jerror(ctx, &m, -EINVAL, "'%s' must be TCP, UDP or SCTP", protocol);
	}
	if (name && *name && (r = require_name(ctx, item, K8SNET_DNS_LABEL, "port name", "name",
					       name)) < 0)
		return r;
	if (!rd->apply || !name || !*name || !found)
		return 0;
	r = k8s_zone_add_port(endpoint ? &rd->svc->endpoint_ports : &rd->svc->ports, name, proto,
			      (uint32_t)port);
	return r < 0 ? oom(ctx) : 0;
}

static int read_service_port(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	return read_port(ctx, item, userdata, false);
}

static int read_slice_port(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	return read_port(ctx, item, userdata, true);
}

static int read_cluster_ip(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct reader *rd = userdata;
	char canon[46];
	int r = read_ip(ctx, item, canon);

	if (r < 0 || !rd->apply)
		return r;
	return k8s_strv_push_unique(&rd->svc->cluster_ips, canon) < 0 ? oom(ctx) : 0;
}

static int read_service_kind(struct k8snet_ctx *ctx, const k8s_jref *spec, struct reader *rd,
			     const char **ret_external, bool *ret_headless)
{
	const char *type = "ClusterIP", *external = NULL, *cluster_ip = NULL;
	k8s_jref ips;
	int r;

	if ((r = k8s_json_get_str(ctx, spec, "type", K8S_OPTIONAL, &type)) < 0 ||
	    (r = k8s_json_get_str(ctx, spec, "clusterIP", K8S_OPTIONAL, &cluster_ip)) < 0 ||
	    (r = k8s_json_get_array(ctx, spec, "clusterIPs", K8S_OPTIONAL, &ips)) < 0)
		return r;
	if (strcmp(type, "ExternalName") == 0) {
		if ((r = k8s_json_get_str(ctx, spec, "externalName", K8S_REQUIRED, &external)) < 0)
			return r;
		if (!k8s_zone_external_name_ok(external)) {
			k8s_jref m = k8s_jref_member(spec, "externalName");

			return k8s_jerror(ctx, &m, -EINVAL,
					  "'%s' must be a lowercase DNS-1123 subdomain", external);
		}
		*ret_external = external;
		return 0;
	}
	*ret_headless = !cluster_ip || !*cluster_ip || strcmp(cluster_ip, "None") == 0;
	if (*ret_headless)
		return 0;
	if (ips.node)  /* dual-stack: clusterIPs[0] is clusterIP */
		return k8s_json_for_each_item(ctx, &ips, read_cluster_ip, rd);
	{
		k8s_jref m = k8s_jref_member(spec, "clusterIP");

		return read_cluster_ip(ctx, &m, rd);
	}
}

static int read_service(struct k8snet_ctx *ctx, const k8s_jref *obj,
			const struct k8s_meta *meta, struct reader *rd)
{
	const char *external = NULL;
	bool headless = false, publish = false;
	k8s_jref spec, ports;
	int r;

	if ((r = read_meta_names(ctx, obj, meta, K8SNET_DNS_1035_LABEL, rd)) < 0 ||
	    (r = k8s_json_get_object(ctx, obj, "spec", K8S_REQUIRED, &spec)) < 0 ||
	    (r = k8s_json_get_bool(ctx, &spec, "publishNotReadyAddresses", K8S_OPTIONAL,
				   &publish)) < 0 ||
	    (r = k8s_json_get_array(ctx, &spec, "ports", K8S_OPTIONAL, &ports)) < 0)
		return r;
	if (rd->apply) {
		rd->svc = k8s_zone_service(rd->z, rd->ns, rd->name);
		if (!rd->svc)
			return oom(ctx);
		rd->svc->declared = true;
		rd->svc->publish_not_ready = publish;
		/* A Service seen again replaces the earlier one. */
		k8s_strv_truncate(&rd->svc->cluster_ips, 0);
		k8s_zone_clear_ports(&rd->svc->ports);
	}
	if ((r = read_service_kind(ctx, &spec, rd, &external, &headless)) < 0)
		return r;
	if (rd->apply) {
		rd->svc->headless = headless;
		free(rd->svc->external_name);
		rd->svc->external_name = NULL;
		if (external && !(rd->svc->external_name = strdup(external)))
			return oom(ctx);
	}
	if (external)
		return 0;  /* ExternalName services get no SRV records */
	return k8s_json_for_each_item(ctx, &ports, read_service_port, rd);
}

static int read_slice_address(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct reader *rd = userdata;
	char canon[46];
	int r = read_ip(ctx, item, canon);

	if (r < 0 || !rd->apply)
		return r;
	r = k8s_zone_add_endpoint(rd->svc, canon, rd->hostname, rd->ready);
	return r < 0 ? oom(ctx) : 0;
}

static int read_slice_endpoint(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct reader *rd = userdata;
	k8s_jref conditions, addresses;
	bool ready = true;  /* the API: "nil should be interpreted as ready" */
	const char *hostname = NULL;
	int r;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	if ((r = k8s_json_get_array(ctx, item, "addresses", K8S_REQUIRED, &addresses)) < 0 ||
	    (r = k8s_json_get_str(ctx, item, "hostname", K8S_OPTIONAL, &hostname)) < 0 ||
	    (r = k8s_json_get_object(ctx, item, "conditions", K8S_OPTIONAL, &conditions)) < 0 ||
	    (r = k8s_json_get_bool(ctx, &conditions, "ready", K8S_OPTIONAL, &ready)) < 0)
		return r;
	if (hostname && *hostname &&
	    (r = require_name(ctx, item, K8SNET_DNS_LABEL, "hostname", "hostname", hostname)) < 0)
		return r;
	rd->ready = ready;
	rd->hostname = hostname;
	return k8s_json_for_each_item(ctx, &addresses, read_slice_address, rd);
}

static int read_endpoint_slice(struct k8snet_ctx *ctx, const k8s_jref *obj,
			       const struct k8s_meta *meta, struct reader *rd)
{
	const char *service = NULL, *type = NULL;
	k8s_jref md = k8s_jref_member(obj, "metadata"), labels, endpoints, ports;
	int r;

	if ((r = read_meta_names(ctx, obj, meta, 0, rd)) < 0 ||
	    (r = k8s_json_get_object(ctx, &md, "labels", K8S_OPTIONAL, &labels)) < 0 ||
	    (r = k8s_json_get_str(ctx, &labels, "kubernetes.io/service-name", K8S_OPTIONAL,
				  &service)) < 0 ||
	    (r = k8s_json_get_str(ctx, obj, "addressType", K8S_REQUIRED, &type)) < 0)
		return r;
	/* Slices that belong to no Service, and FQDN slices, make no records. */
	if (!service || strcmp(type, "FQDN") == 0)
		return 0;
	if ((r = require_name(ctx, &labels, K8SNET_DNS_1035_LABEL, "service name",
			      "kubernetes.io/service-name", service)) < 0 ||
	    (r = k8s_json_get_array(ctx, obj, "endpoints", K8S_OPTIONAL, &endpoints)) < 0 ||
	    (r = k8s_json_get_array(ctx, obj, "ports", K8S_OPTIONAL, &ports)) < 0)
		return r;
	if (rd->apply && !(rd->svc = k8s_zone_service(rd->z, rd->ns, service)))
		return oom(ctx);
	if ((r = k8s_json_for_each_item(ctx, &endpoints, read_slice_endpoint, rd)) < 0)
		return r;
	return k8s_json_for_each_item(ctx, &ports, read_slice_port, rd);
}

static int read_pod_ready(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct reader *rd = userdata;
	const char *type = NULL, *status = NULL;
	int r;

	if ((r = k8s_json_get_str(ctx, item, "type", K8S_OPTIONAL, &type)) < 0 ||
	    (r = k8s_json_get_str(ctx, item, "status", K8S_OPTIONAL, &status)) < 0)
		return r;
	if (type && strcmp(type, "Ready") == 0)
		rd->ready = status && strcmp(status, "True") == 0;
	return 0;
}

struct pod_names {
	struct reader *rd;
	const char *hostname, *subdomain;
};

static int read_pod_ip(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct pod_names *pn = userdata;
	k8s_jref ip = cJSON_IsObject(item->node) ? k8s_jref_member(item, "ip") : *item;
	char canon[46];
	int r = read_ip(ctx, &ip, canon);

	if (r < 0 || !pn->rd->apply)
		return r;
	r = k8s_zone_add_pod(pn->rd->z, pn->rd->ns, canon, pn->hostname, pn->subdomain,
			     pn->rd->ready);
	return r < 0 ? oom(ctx) : 0;
}

static int read_pod(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		    struct reader *rd)
{
	struct pod_names pn = { .rd = rd };
	k8s_jref spec, status, ips, conditions;
	int r;

	if ((r = read_meta_names(ctx, obj, meta, 0, rd)) < 0 ||
	    (r = k8s_json_get_object(ctx, obj, "spec", K8S_OPTIONAL, &spec)) < 0 ||
	    (r = k8s_json_get_str(ctx, &spec, "hostname", K8S_OPTIONAL, &pn.hostname)) < 0 ||
	    (r = k8s_json_get_str(ctx, &spec, "subdomain", K8S_OPTIONAL, &pn.subdomain)) < 0 ||
	    (r = k8s_json_get_object(ctx, obj, "status", K8S_OPTIONAL, &status)) < 0 ||
	    (r = k8s_json_get_array(ctx, &status, "podIPs", K8S_OPTIONAL, &ips)) < 0 ||
	    (r = k8s_json_get_array(ctx, &status, "conditions", K8S_OPTIONAL, &conditions)) < 0)
		return r;
	if ((pn.hostname && *pn.hostname &&
	     (r = require_name(ctx, &spec, K8SNET_DNS_LABEL, "hostname", "hostname",
			       pn.hostname)) < 0) ||
	    (pn.subdomain && *pn.subdomain &&
	     (r = require_name(ctx, &spec, K8SNET_DNS_LABEL, "subdomain", "subdomain",
			       pn.subdomain)) < 0))
		return r;
	rd->ready = false;
	if ((r = k8s_json_for_each_item(ctx, &conditions, read_pod_ready, rd)) < 0)
		return r;
	if (ips.node)
		return k8s_json_for_each_item(ctx, &ips, read_pod_ip, &pn);
	/* Older objects: status.podIP only. */
	ips = k8s_jref_member(&status, "podIP");
	return ips.node ? read_pod_ip(ctx, &ips, &pn) : 0;
}

static int read_object(struct k8snet_ctx *ctx, const k8s_jref *obj,
		       const struct k8s_meta *meta, void *userdata)
{
	struct reader *rd = userdata;
	int r;

	if (!meta->kind)
		return k8s_jerror(ctx, obj, -EINVAL, "kind: required field is missing");
	if (strcmp(meta->kind, "Service") == 0)
		r = read_service(ctx, obj, meta, rd);
	else if (strcmp(meta->kind, "EndpointSlice") == 0)
		r = read_endpoint_slice(ctx, obj, meta, rd);
	else if (strcmp(meta->kind, "Pod") == 0)
		r = read_pod(ctx, obj, meta, rd);
	else
		return 0;
	if (r >= 0)
		rd->used++;
	return r;
}

int k8s_zone_read_json(struct k8snet_dns_zone *z, const char *json, size_t len)
{
	struct reader rd = { .z = z };
	cJSON *root = NULL;
	int r = k8s_json_parse(z->ctx, json, len, &root);

	if (r < 0)
		return r;
	r = k8s_json_for_each_object(z->ctx, root, read_object, &rd);
	if (r >= 0) {
		rd = (struct reader){ .z = z, .apply = true };
		r = k8s_json_for_each_object(z->ctx, root, read_object, &rd);
	}
	cJSON_Delete(root);
	return r < 0 ? r : rd.used;
}
