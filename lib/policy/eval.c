/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The evaluator: judges one new connection against the model and says why. */
#include <string.h>

#include "policy/internal.h"

struct endpoint {
	const char *text;         /* as given */
	struct pl_pod *pod;       /* NULL for an address outside the cluster's pods */
	struct pl_addr addr;      /* the address the packet carries (family 0: none) */
	bool have_addr;
};

static int resolve(struct k8snet_policy_db *db, const char *what, const char *text,
		   struct endpoint *ep)
{
	const char *slash = strchr(text, '/');

	*ep = (struct endpoint){ .text = text };
	if (slash && pl_addr_parse(text, &ep->addr) < 0) {
		char *ns = strndup(text, (size_t)(slash - text));

		if (!ns)
			return k8s_error(db->ctx, -ENOMEM, "out of memory");
		ep->pod = pl_db_pod(db, ns, slash + 1);
		free(ns);
		if (!ep->pod)
			return k8s_error_at(db->ctx, -ENOENT, what, "pod %s: not found", text);
		if (ep->pod->nips) {
			ep->addr = ep->pod->ips[0];
			ep->have_addr = true;
		}
		return 0;
	}
	if (pl_addr_parse(text, &ep->addr) < 0)
		return k8s_error_at(db->ctx, -EINVAL, what,
				    "'%s': must be NAMESPACE/POD or an IP address", text);
	ep->have_addr = true;
	ep->pod = pl_db_pod_by_ip(db, &ep->addr);
	return 0;
}

/* Use the destination address of the source's family (dual-stack pods). */
static void match_family(struct endpoint *dst, const struct endpoint *src)
{
	size_t i;

	if (!dst->pod || !src->have_addr)
		return;
	for (i = 0; i < dst->pod->nips; i++) {
		if (dst->pod->ips[i].family == src->addr.family) {
			dst->addr = dst->pod->ips[i];
			dst->have_addr = true;
			return;
		}
	}
}

static bool peer_matches(struct k8snet_policy_db *db, const struct pl_policy *pol,
			 const struct pl_peer *peer, const struct endpoint *ep)
{
	size_t j;

	if (peer->is_block) {
		if (!ep->have_addr || !pl_cidr_contains(&peer->cidr, &ep->addr))
			return false;
		for (j = 0; j < peer->nexcept; j++)
			if (pl_cidr_contains(&peer->except[j], &ep->addr))
				return false;
		return true;
	}
	return ep->pod && pl_peer_matches_pod(db, pol, peer, ep->pod);
}

static bool port_matches(const struct pl_rport *rp, const struct endpoint *dst, uint8_t proto,
			 uint16_t port)
{
	size_t i;

	if (rp->proto != proto)
		return false;
	if (rp->name) {
		/* Named ports mean something only on a pod that declares them. */
		for (i = 0; dst->pod && i < dst->pod->nports; i++) {
			const struct pl_cport *cp = &dst->pod->ports[i];

			if (cp->name && strcmp(cp->name, rp->name) == 0 && cp->proto == proto &&
			    cp->port == port)
				return true;
		}
		return false;
	}
	return rp->port == 0 || (port >= rp->port && port <= rp->end_port);
}

/* Does rule allow it?  Says which peer and port matched. */
static bool rule_allows(struct k8snet_policy_db *db, const struct pl_policy *pol,
			const struct pl_rule *rule, const struct endpoint *peer,
			const struct endpoint *dst, uint8_t proto, uint16_t port,
			long *which_peer, long *which_port)
{
	size_t i;

	*which_peer = *which_port = -1;
	for (i = 0; i < rule->nports && *which_port < 0; i++)
		if (port_matches(&rule->ports[i], dst, proto, port))
			*which_port = (long)i;
	if (rule->nports && *which_port < 0)
		return false;
	for (i = 0; i < rule->npeers && *which_peer < 0; i++)
		if (peer_matches(db, pol, &rule->peers[i], peer))
			*which_peer = (long)i;
	return !rule->npeers || *which_peer >= 0;
}

struct side {
	bool egress;            /* judging the source's egress, else the destination's ingress */
	const struct endpoint *self, *peer, *dst;
};

/* One direction: 1 allowed, 0 denied; reasons go to f. */
static int judge_side(struct k8snet_policy_db *db, const struct side *s, uint8_t proto,
		      uint16_t port, FILE *f)
{
	const char *dir = s->egress ? "egress" : "ingress";
	const struct pl_pod *pod = s->self->pod;
	bool isolated = false, allowed = false;
	size_t i, j;

	if (!pod) {
		fprintf(f, "%s: %s is not a pod: no %s policy applies\n", dir, s->self->text, dir);
		return 1;
	}
	if (pod->host_network) {
		fprintf(f, "%s: %s/%s uses the host network: its traffic is the node's and "
			"NetworkPolicy does not apply\n", dir, pod->ns, pod->name);
		return 1;
	}
	for (i = 0; i < db->npol; i++) {
		const struct pl_policy *pol = &db->pol[i];

		if (!(s->egress ? pol->egress : pol->ingress) || !pl_policy_selects(pol, pod))
			continue;
		fprintf(f, "%s: %s/%s is isolated for %s by %s/%s\n", dir, pod->ns, pod->name, dir,
			pol->ns, pol->name);
		isolated = true;
		for (j = 0; j < (s->egress ? pol->neg : pol->nin); j++) {
			const struct pl_rule *rule = s->egress ? &pol->eg[j] : &pol->in[j];
			long pe, po;

			if (!rule_allows(db, pol, rule, s->peer, s->dst, proto, port, &pe, &po))
				continue;
			allowed = true;
			fprintf(f, "%s: allowed by %s/%s %s[%zu]", dir, pol->ns, pol->name, dir, j);
			if (pe >= 0)
				fprintf(f, " %s[%ld]", s->egress ? "to" : "from", pe);
			else
				fprintf(f, " (any peer)");
			if (po >= 0)
				fprintf(f, " ports[%ld]", po);
			else
				fprintf(f, " (any port)");
			fputc('\n', f);
		}
	}
	if (!isolated) {
		fprintf(f, "%s: %s/%s is not isolated for %s (no policy selects it)\n", dir,
			pod->ns, pod->name, dir);
		return 1;
	}
	if (!allowed) {
		const struct endpoint *from = s->egress ? s->self : s->peer;
		const struct endpoint *to = s->egress ? s->peer : s->self;

		fprintf(f, "%s: denied: no %s rule of the policies above allows %s -> %s %s/%u\n",
			dir, dir, from->text, to->text, pl_proto_name(proto), port);
	}
	return allowed;
}

static int check(struct k8snet_policy_db *db, const struct endpoint *src,
		 const struct endpoint *dst, uint8_t proto, uint16_t port, FILE *f)
{
	struct side eg = { true, src, dst, dst }, in = { false, dst, src, dst };
	int a, b;

	if (src->pod && src->pod == dst->pod) {
		fprintf(f, "self: a pod reaching itself is always allowed (the traffic never "
			"leaves the pod)\n");
		return 1;
	}
	/* The node's own traffic to its pods is not filtered (kubelet probes);
	 * a hostNetwork pod's traffic is the node's. */
	if (src->pod && src->pod->host_network && dst->pod && !dst->pod->host_network &&
	    src->pod->node && dst->pod->node && strcmp(src->pod->node, dst->pod->node) == 0) {
		fprintf(f, "node: %s/%s uses the host network of node %s, and a node's traffic "
			"to its own pods is always allowed\n", src->pod->ns, src->pod->name,
			src->pod->node);
		return 1;
	}
	a = judge_side(db, &eg, proto, port, f);
	b = judge_side(db, &in, proto, port, f);
	return a && b;
}

K8SNET_EXPORT int k8snet_policy_db_check(struct k8snet_policy_db *db, const char *from,
					 const char *to, const char *protocol, uint32_t port,
					 char **ret_reasons)
{
	struct endpoint src, dst;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int proto, r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, from && to && protocol);
	proto = pl_proto_parse(protocol);
	if (proto < 0)
		return k8s_error_at(db->ctx, -EINVAL, "protocol", "'%s': must be TCP, UDP or SCTP",
				    protocol);
	if (port < 1 || port > 65535)
		return k8s_error_at(db->ctx, -ERANGE, "port", "%u out of range: must be 1..65535",
				    port);
	r = resolve(db, "from", from, &src);
	if (r >= 0)
		r = resolve(db, "to", to, &dst);
	if (r < 0)
		return r;
	match_family(&dst, &src);
	f = open_memstream(&buf, &size);
	if (!f)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	r = check(db, &src, &dst, (uint8_t)proto, (uint16_t)port, f);
	fclose(f);
	if (ret_reasons)
		*ret_reasons = buf;
	else
		free(buf);
	return r ? K8SNET_POLICY_ALLOW : K8SNET_POLICY_DENY;
}
