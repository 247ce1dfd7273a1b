/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kubernetes JSON -> the policy model, validated as the API server does it.
 * A document is read whole into new objects first and only then committed,
 * so a bad field anywhere changes nothing. */
#include <string.h>

#include "json/json.h"
#include "policy/internal.h"

struct staged {
	size_t nns, npods, npol;
	char **ns_names;
	struct pl_labels *ns_labels;
	struct pl_pod *pods;
	struct pl_policy *pol;
};

static int push(void **arr, size_t n, size_t size)
{
	void *p = realloc(*arr, (n + 1) * size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	memset((char *)p + n * size, 0, size);
	return 0;
}

static int oom(struct k8snet_ctx *ctx)
{
	return k8s_error(ctx, -ENOMEM, "out of memory");
}

/* ---- labels and selectors ---- */

static int read_label(struct k8snet_ctx *ctx, const k8s_jref *value, const char *key,
		      const char *val, void *userdata)
{
	const char *err = pl_check_label_key(key);

	if (err)
		return k8s_jerror(ctx, value, -EINVAL, "invalid label key '%s': %s", key, err);
	err = pl_check_label_value(val);
	if (err)
		return k8s_jerror(ctx, value, -EINVAL, "invalid label value '%s': %s", val, err);
	return pl_labels_set(userdata, key, val) < 0 ? oom(ctx) : 0;
}

static int read_labels(struct k8snet_ctx *ctx, const k8s_jref *obj, struct pl_labels *ret)
{
	k8s_jref md, labels;
	int r = k8s_json_get_object(ctx, obj, "metadata", K8S_OPTIONAL, &md);

	if (r <= 0)
		return r;
	r = k8s_json_get_object(ctx, &md, "labels", K8S_OPTIONAL, &labels);
	if (r <= 0)
		return r;
	return k8s_json_for_each_string_pair(ctx, &labels, read_label, ret);
}

static int match_label(struct k8snet_ctx *ctx, const k8s_jref *value, const char *key,
		       const char *val, void *userdata)
{
	const char *err = pl_check_label_key(key);
	char *v = (char *)val;

	if (err)
		return k8s_jerror(ctx, value, -EINVAL, "invalid label key '%s': %s", key, err);
	err = pl_check_label_value(val);
	if (err)
		return k8s_jerror(ctx, value, -EINVAL, "invalid label value '%s': %s", val, err);
	return pl_selector_add(userdata, key, PL_IN, &v, 1) < 0 ? oom(ctx) : 0;
}

static int read_value(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	char ***vals = userdata;
	const char *s, *err;
	size_t n = 0;
	int r = k8s_json_as_str(ctx, item, &s);

	if (r < 0)
		return r;
	err = pl_check_label_value(s);
	if (err)
		return k8s_jerror(ctx, item, -EINVAL, "invalid value '%s': %s", s, err);
	while (*vals && (*vals)[n])
		n++;
	if (push((void **)vals, n + 1, sizeof(char *)) < 0)
		return oom(ctx);
	(*vals)[n] = (char *)s;  /* borrowed from the JSON tree */
	(*vals)[n + 1] = NULL;
	return 0;
}

static int read_expression(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist" };
	const char *key, *op, *err;
	char **vals = NULL;
	k8s_jref values;
	size_t i, n = 0;
	int r;

	r = k8s_json_get_str(ctx, item, "key", K8S_REQUIRED, &key);
	if (r < 0)
		return r;
	err = pl_check_label_key(key);
	if (err) {
		k8s_jref kref = k8s_jref_member(item, "key");

		return k8s_jerror(ctx, &kref, -EINVAL, "invalid label key '%s': %s", key, err);
	}
	r = k8s_json_get_str(ctx, item, "operator", K8S_REQUIRED, &op);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(ops) && strcmp(op, ops[i]) != 0; i++)
		;
	if (i == ARRAY_SIZE(ops)) {
		k8s_jref oref = k8s_jref_member(item, "operator");

		return k8s_jerror(ctx, &oref, -EINVAL, "Unsupported value: \"%s\": supported "
				  "values: \"DoesNotExist\", \"Exists\", \"In\", \"NotIn\"", op);
	}
	r = k8s_json_get_array(ctx, item, "values", K8S_OPTIONAL, &values);
	if (r < 0)
		return r;
	r = k8s_json_for_each_item(ctx, &values, read_value, &vals);
	while (r >= 0 && vals && vals[n])
		n++;
	if (r >= 0 && i < 2 && n == 0)
		r = k8s_jerror(ctx, &values, -EINVAL,
			       "must be specified when `operator` is 'In' or 'NotIn'");
	else if (r >= 0 && i >= 2 && n > 0)
		r = k8s_jerror(ctx, &values, -EINVAL,
			       "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
	if (r >= 0 && pl_selector_add(userdata, key, (enum pl_op)i, vals, n) < 0)
		r = oom(ctx);
	free(vals);
	return r;
}

/* A LabelSelector at obj.key; returns 1 when present, 0 when absent. */
static int read_selector(struct k8snet_ctx *ctx, const k8s_jref *obj, const char *key,
			 struct pl_selector *ret)
{
	k8s_jref sel, ml, me;
	int r = k8s_json_get_object(ctx, obj, key, K8S_OPTIONAL, &sel);

	if (r <= 0)
		return r;
	r = k8s_json_get_object(ctx, &sel, "matchLabels", K8S_OPTIONAL, &ml);
	if (r > 0)
		r = k8s_json_for_each_string_pair(ctx, &ml, match_label, ret);
	if (r >= 0)
		r = k8s_json_get_array(ctx, &sel, "matchExpressions", K8S_OPTIONAL, &me);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &me, read_expression, ret);
	return r < 0 ? r : 1;
}

/* ---- NetworkPolicy ---- */

static int read_cidr(struct k8snet_ctx *ctx, const k8s_jref *ref, const char *text,
		     struct pl_cidr *ret)
{
	if (pl_cidr_parse(text, ret, NULL) < 0)
		return k8s_jerror(ctx, ref, -EINVAL, "'%s': must be a valid CIDR", text);
	return 0;
}

static int read_except(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct pl_peer *p = userdata;
	struct pl_cidr *c;
	const char *s;
	int r = k8s_json_as_str(ctx, item, &s);

	if (r < 0)
		return r;
	if (push((void **)&p->except, p->nexcept, sizeof(*c)) < 0)
		return oom(ctx);
	c = &p->except[p->nexcept];
	r = read_cidr(ctx, item, s, c);
	if (r < 0)
		return r;
	if (c->addr.family != p->cidr.addr.family || c->prefix <= p->cidr.prefix ||
	    !pl_cidr_contains(&p->cidr, &c->addr))
		return k8s_jerror(ctx, item, -EINVAL, "'%s': must be a strict subset of `cidr`", s);
	p->nexcept++;
	return 0;
}

static int read_ipblock(struct k8snet_ctx *ctx, const k8s_jref *blk, struct pl_peer *p)
{
	k8s_jref cref = k8s_jref_member(blk, "cidr"), exc;
	const char *cidr;
	int r = k8s_json_get_str(ctx, blk, "cidr", K8S_REQUIRED, &cidr);

	if (r < 0)
		return r;
	r = read_cidr(ctx, &cref, cidr, &p->cidr);
	if (r >= 0)
		r = k8s_json_get_array(ctx, blk, "except", K8S_OPTIONAL, &exc);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &exc, read_except, p);
	p->is_block = true;
	return r < 0 ? r : 0;
}

static int read_peer(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct pl_rule *rule = userdata;
	struct pl_peer *p;
	k8s_jref blk;
	int r;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	if (push((void **)&rule->peers, rule->npeers, sizeof(*p)) < 0)
		return oom(ctx);
	p = &rule->peers[rule->npeers++];
	r = read_selector(ctx, item, "podSelector", &p->pod_sel);
	if (r < 0)
		return r;
	p->has_pod_sel = r > 0;
	r = read_selector(ctx, item, "namespaceSelector", &p->ns_sel);
	if (r < 0)
		return r;
	p->has_ns_sel = r > 0;
	r = k8s_json_get_object(ctx, item, "ipBlock", K8S_OPTIONAL, &blk);
	if (r < 0)
		return r;
	if (r > 0 && (p->has_pod_sel || p->has_ns_sel))
		return k8s_jerror(ctx, item, -EINVAL, "may not specify more than 1 peer type");
	if (r > 0)
		return read_ipblock(ctx, &blk, p);
	if (!p->has_pod_sel && !p->has_ns_sel)
		return k8s_jerror(ctx, item, -EINVAL, "must specify a peer");
	return 0;
}

static int read_port(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct pl_rule *rule = userdata;
	k8s_jref pref = k8s_jref_member(item, "port"), eref = k8s_jref_member(item, "endPort");
	const char *proto = "TCP", *name = NULL, *err;
	int64_t port = -1, end = -1;
	struct pl_rport *rp;
	int r, pr;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	r = k8s_json_get_str(ctx, item, "protocol", K8S_OPTIONAL, &proto);
	if (r < 0)
		return r;
	pr = pl_proto_parse(proto);
	if (pr < 0) {
		k8s_jref ref = k8s_jref_member(item, "protocol");

		return k8s_jerror(ctx, &ref, -EINVAL, "Unsupported value: \"%s\": supported "
				  "values: \"SCTP\", \"TCP\", \"UDP\"", proto);
	}
	r = k8s_json_get_int_or_str(ctx, item, "port", K8S_OPTIONAL, &port, &name);
	if (r < 0)
		return r;
	if (name && (err = pl_check_port_name(name)))
		return k8s_jerror(ctx, &pref, -EINVAL, "'%s': %s", name, err);
	if (!name && pref.node && (port < 1 || port > 65535))
		return k8s_jerror(ctx, &pref, -ERANGE, "%lld out of range: must be 1..65535",
				  (long long)port);
	r = k8s_json_get_int(ctx, item, "endPort", K8S_OPTIONAL, INT32_MIN, INT32_MAX, &end);
	if (r < 0)
		return r;
	if (r > 0) {
		if (name)
			return k8s_jerror(ctx, &eref, -EINVAL,
					  "may not be specified when `port` is non-numeric");
		if (port < 0)
			return k8s_jerror(ctx, &eref, -EINVAL,
					  "may not be specified when `port` is not specified");
		if (end < port)
			return k8s_jerror(ctx, &eref, -EINVAL,
					  "%lld: must be greater than or equal to `port`", (long long)end);
		if (end > 65535)
			return k8s_jerror(ctx, &eref, -ERANGE,
					  "%lld out of range: must be 1..65535", (long long)end);
	}
	if (push((void **)&rule->ports, rule->nports, sizeof(*rp)) < 0)
		return oom(ctx);
	rp = &rule->ports[rule->nports++];
	rp->proto = (uint8_t)pr;
	rp->port = port > 0 ? (uint16_t)port : 0;
	rp->end_port = end > 0 ? (uint16_t)end : rp->port;
	if (name && !(rp->name = strdup(name)))
		return oom(ctx);
	return 0;
}

struct rules_ctx {
	const char *peers_key;
	struct pl_rule **rules;
	size_t *n;
};

static int read_rule(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct rules_ctx *rc = userdata;
	struct pl_rule *rule;
	k8s_jref peers, ports;
	int r;

	if (!cJSON_IsObject(item->node))
		return k8s_jerror(ctx, item, -EINVAL, "must be an object");
	if (push((void **)rc->rules, *rc->n, sizeof(*rule)) < 0)
		return oom(ctx);
	rule = &(*rc->rules)[(*rc->n)++];
	r = k8s_json_get_array(ctx, item, "ports", K8S_OPTIONAL, &ports);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &ports, read_port, rule);
	if (r >= 0)
		r = k8s_json_get_array(ctx, item, rc->peers_key, K8S_OPTIONAL, &peers);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &peers, read_peer, rule);
	return r < 0 ? r : 0;
}

static int read_policy_types(struct k8snet_ctx *ctx, const k8s_jref *spec, struct pl_policy *pol,
			     bool has_egress)
{
	k8s_jref types;
	int i, n, r = k8s_json_get_array(ctx, spec, "policyTypes", K8S_OPTIONAL, &types);

	if (r < 0)
		return r;
	n = k8s_json_array_size(&types);
	if (n == 0) {
		/* The API server's defaulting. */
		pol->ingress = true;
		pol->egress = has_egress;
		return 0;
	}
	if (n > 2)
		return k8s_jerror(ctx, &types, -EINVAL, "must have at most 2 items");
	for (i = 0; i < n; i++) {
		k8s_jref it = k8s_jref_item(&types, i);
		const char *t;

		r = k8s_json_as_str(ctx, &it, &t);
		if (r < 0)
			return r;
		if (strcmp(t, "Ingress") == 0)
			pol->ingress = true;
		else if (strcmp(t, "Egress") == 0)
			pol->egress = true;
		else
			return k8s_jerror(ctx, &it, -EINVAL, "Unsupported value: \"%s\": supported "
					  "values: \"Egress\", \"Ingress\"", t);
	}
	return 0;
}

static int read_names(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		      bool namespaced, const char **ns)
{
	k8s_jref md = k8s_jref_member(obj, "metadata"), nref = k8s_jref_member(&md, "name");
	const char *err;

	if (!meta->name)
		return k8s_jerror(ctx, &nref, -EINVAL, "required field is missing");
	err = namespaced ? pl_check_dns_subdomain(meta->name) : pl_check_dns_label(meta->name);
	if (err)
		return k8s_jerror(ctx, &nref, -EINVAL, "'%s': %s", meta->name, err);
	if (!namespaced)
		return 0;
	*ns = meta->namespace_ ? meta->namespace_ : "default";
	err = pl_check_dns_label(*ns);
	if (err) {
		k8s_jref sref = k8s_jref_member(&md, "namespace");

		return k8s_jerror(ctx, &sref, -EINVAL, "'%s': %s", *ns, err);
	}
	return 0;
}

/* metadata.annotations["k8snet.io/log-verdicts"]: see log.c. */
static int read_log_annotation(struct k8snet_ctx *ctx, const k8s_jref *obj, struct pl_policy *pol)
{
	k8s_jref md, ann;
	const char *v = NULL;
	int r = k8s_json_get_object(ctx, obj, "metadata", K8S_OPTIONAL, &md);

	if (r > 0)
		r = k8s_json_get_object(ctx, &md, "annotations", K8S_OPTIONAL, &ann);
	if (r > 0)
		r = k8s_json_get_str(ctx, &ann, "k8snet.io/log-verdicts", K8S_OPTIONAL, &v);
	if (r <= 0 || !v)
		return r < 0 ? r : 0;
	if (pl_log_parse_annotation(v, &pol->log) < 0)
		return k8s_jerror(ctx, &ann, -EINVAL, "k8snet.io/log-verdicts: '%s': must be "
				  "denied, allowed, denied,allowed or none", v);
	return 0;
}

static int read_policy(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		       struct pl_policy *pol)
{
	k8s_jref spec, in, eg;
	const char *ns = NULL;
	struct rules_ctx ric = { "from", &pol->in, &pol->nin }, rec = { "to", &pol->eg, &pol->neg };
	int r = read_names(ctx, obj, meta, true, &ns);

	if (r < 0)
		return r;
	pol->ns = strdup(ns);
	pol->name = strdup(meta->name);
	if (!pol->ns || !pol->name)
		return oom(ctx);
	r = read_log_annotation(ctx, obj, pol);
	if (r < 0)
		return r;
	r = k8s_json_get_object(ctx, obj, "spec", K8S_REQUIRED, &spec);
	if (r >= 0)
		r = read_selector(ctx, &spec, "podSelector", &pol->pod_sel);
	if (r >= 0)
		r = k8s_json_get_array(ctx, &spec, "ingress", K8S_OPTIONAL, &in);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &in, read_rule, &ric);
	if (r >= 0)
		r = k8s_json_get_array(ctx, &spec, "egress", K8S_OPTIONAL, &eg);
	if (r > 0)
		r = k8s_json_for_each_item(ctx, &eg, read_rule, &rec);
	if (r >= 0)
		r = read_policy_types(ctx, &spec, pol, k8s_json_array_size(&eg) > 0);
	return r < 0 ? r : 0;
}

/* ---- Pod ---- */

static int read_cport(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	struct pl_pod *pod = userdata;
	const char *name = NULL, *proto = "TCP", *err;
	int64_t port;
	struct pl_cport *cp;
	int r, pr;

	r = k8s_json_get_int(ctx, item, "containerPort", K8S_REQUIRED, 1, 65535, &port);
	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "name", K8S_OPTIONAL, &name);
	if (r >= 0)
		r = k8s_json_get_str(ctx, item, "protocol", K8S_OPTIONAL, &proto);
	if (r < 0)
		return r;
	if (name && (err = pl_check_port_name(name))) {
		k8s_jref ref = k8s_jref_member(item, "name");

		return k8s_jerror(ctx, &ref, -EINVAL, "'%s': %s", name, err);
	}
	pr = pl_proto_parse(proto);
	if (pr < 0) {
		k8s_jref ref = k8s_jref_member(item, "protocol");

		return k8s_jerror(ctx, &ref, -EINVAL, "Unsupported value: \"%s\": supported "
				  "values: \"SCTP\", \"TCP\", \"UDP\"", proto);
	}
	if (push((void **)&pod->ports, pod->nports, sizeof(*cp)) < 0)
		return oom(ctx);
	cp = &pod->ports[pod->nports++];
	cp->proto = (uint8_t)pr;
	cp->port = (uint16_t)port;
	if (name && !(cp->name = strdup(name)))
		return oom(ctx);
	return 0;
}

static int read_container(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	k8s_jref ports;
	int r = k8s_json_get_array(ctx, item, "ports", K8S_OPTIONAL, &ports);

	if (r <= 0)
		return r;
	return k8s_json_for_each_item(ctx, &ports, read_cport, userdata);
}

static int add_ip(struct k8snet_ctx *ctx, const k8s_jref *ref, const char *s, struct pl_pod *pod)
{
	struct pl_addr a;
	size_t i;

	if (pl_addr_parse(s, &a) < 0)
		return k8s_jerror(ctx, ref, -EINVAL, "'%s': must be a valid IP address", s);
	for (i = 0; i < pod->nips; i++)
		if (memcmp(&pod->ips[i], &a, sizeof(a)) == 0)
			return 0;
	if (push((void **)&pod->ips, pod->nips, sizeof(a)) < 0)
		return oom(ctx);
	pod->ips[pod->nips++] = a;
	return 0;
}

static int read_pod_ip(struct k8snet_ctx *ctx, const k8s_jref *item, void *userdata)
{
	k8s_jref ref = k8s_jref_member(item, "ip");
	const char *s;
	int r = k8s_json_get_str(ctx, item, "ip", K8S_REQUIRED, &s);

	return r < 0 ? r : add_ip(ctx, &ref, s, userdata);
}

static int read_pod(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		    struct pl_pod *pod)
{
	k8s_jref spec, status, list;
	const char *ns = NULL, *node = NULL, *ip = NULL;
	bool hn = false;
	int r = read_names(ctx, obj, meta, true, &ns);

	if (r < 0)
		return r;
	pod->ns = strdup(ns);
	pod->name = strdup(meta->name);
	if (!pod->ns || !pod->name)
		return oom(ctx);
	r = read_labels(ctx, obj, &pod->labels);
	if (r >= 0)
		r = k8s_json_get_object(ctx, obj, "spec", K8S_OPTIONAL, &spec);
	if (r > 0) {
		r = k8s_json_get_str(ctx, &spec, "nodeName", K8S_OPTIONAL, &node);
		if (r >= 0)
			r = k8s_json_get_bool(ctx, &spec, "hostNetwork", K8S_OPTIONAL, &hn);
		if (r >= 0)
			r = k8s_json_get_array(ctx, &spec, "containers", K8S_OPTIONAL, &list);
		if (r > 0)
			r = k8s_json_for_each_item(ctx, &list, read_container, pod);
	}
	pod->host_network = hn;
	if (node && !(pod->node = strdup(node)))
		return oom(ctx);
	if (r >= 0)
		r = k8s_json_get_object(ctx, obj, "status", K8S_OPTIONAL, &status);
	if (r > 0) {
		const char *phase = NULL;

		r = k8s_json_get_str(ctx, &status, "phase", K8S_OPTIONAL, &phase);
		/* A finished pod's addresses go back to IPAM and to new pods:
		 * they must not stand for it any more. */
		if (r < 0 || (phase && (strcmp(phase, "Succeeded") == 0 ||
					strcmp(phase, "Failed") == 0)))
			return r < 0 ? r : 0;
		r = k8s_json_get_array(ctx, &status, "podIPs", K8S_OPTIONAL, &list);
		if (r > 0)
			r = k8s_json_for_each_item(ctx, &list, read_pod_ip, pod);
		if (r >= 0)
			r = k8s_json_get_str(ctx, &status, "podIP", K8S_OPTIONAL, &ip);
		if (r > 0) {
			k8s_jref ref = k8s_jref_member(&status, "podIP");

			r = add_ip(ctx, &ref, ip, pod);
		}
	}
	return r < 0 ? r : 0;
}

/* ---- the document ---- */

static int read_object(struct k8snet_ctx *ctx, const k8s_jref *obj, const struct k8s_meta *meta,
		       void *userdata)
{
	struct staged *st = userdata;
	int r;

	if (!meta->kind)
		return 0;
	if (strcmp(meta->kind, "Namespace") == 0) {
		r = read_names(ctx, obj, meta, false, NULL);
		if (r < 0)
			return r;
		if (push((void **)&st->ns_names, st->nns, sizeof(char *)) < 0 ||
		    push((void **)&st->ns_labels, st->nns, sizeof(struct pl_labels)) < 0)
			return oom(ctx);
		st->ns_names[st->nns] = (char *)meta->name;
		st->nns++;
		return read_labels(ctx, obj, &st->ns_labels[st->nns - 1]);
	}
	if (strcmp(meta->kind, "Pod") == 0) {
		if (push((void **)&st->pods, st->npods, sizeof(*st->pods)) < 0)
			return oom(ctx);
		return read_pod(ctx, obj, meta, &st->pods[st->npods++]);
	}
	if (strcmp(meta->kind, "NetworkPolicy") == 0) {
		if (push((void **)&st->pol, st->npol, sizeof(*st->pol)) < 0)
			return oom(ctx);
		return read_policy(ctx, obj, meta, &st->pol[st->npol++]);
	}
	return 0;
}

static int commit(struct k8snet_policy_db *db, struct staged *st)
{
	size_t i;
	int r;

	for (i = 0; i < st->nns; i++) {
		r = pl_db_put_ns(db, st->ns_names[i], &st->ns_labels[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < st->npods; i++) {
		r = pl_db_put_pod(db, &st->pods[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < st->npol; i++) {
		r = pl_db_put_policy(db, &st->pol[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int pl_read_json(struct k8snet_policy_db *db, const char *text, size_t len)
{
	struct staged st = { 0 };
	cJSON *root = NULL;
	size_t i;
	int r = k8s_json_parse(db->ctx, text, len, &root);

	if (r >= 0)
		r = k8s_json_for_each_object(db->ctx, root, read_object, &st);
	if (r >= 0)
		r = commit(db, &st);
	if (r == -ENOMEM)
		oom(db->ctx);
	for (i = 0; i < st.nns; i++)
		pl_labels_clear(&st.ns_labels[i]);
	free(st.ns_names);
	free(st.ns_labels);
	for (i = 0; i < st.npods; i++)
		pl_pod_clear(&st.pods[i]);
	free(st.pods);
	for (i = 0; i < st.npol; i++)
		pl_policy_clear(&st.pol[i]);
	free(st.pol);
	cJSON_Delete(root);
	return r < 0 ? r : 0;
}
