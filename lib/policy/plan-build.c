/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model -> plan (see plan.h for the ruleset's shape); the text is plan-render.c,
 * pod churn plan-delta.c. */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <string.h>

#include "core/hash.h"
#include "core/strbuf.h"
#include "policy/plan.h"

size_t pl_key_len(enum pl_key_kind k)
{
	static const size_t len[] = { 4, 16, 12, 24 };

	return len[k];
}

/* ---- building blocks ---- */

struct builder {
	struct k8snet_policy_db *db;
	const char *node;
	struct pl_plan *p;
	struct k8s_map set_by_id, chain_by_name;
	bool v4, v6;              /* address families present in the cluster */
	size_t nnsg;
	struct nsgroup {
		const char *name;
		const struct pl_labels *labels;   /* NULL: only the implied name label */
		size_t n, cap, npols, pols_cap;
		size_t *pods, *pols;
	} *nsg;
	struct k8s_map nsg_by_name;
};

static struct pl_pset *new_set(struct builder *b, const char *name, enum pl_key_kind kind,
			       bool is_map, const char *comment)
{
	struct pl_pset *s;

	if (k8s_grow(&b->p->sets, &b->p->sets_cap, b->p->nsets, sizeof(*s)) < 0)
		return NULL;
	s = &b->p->sets[b->p->nsets];
	*s = (struct pl_pset){ .name = strdup(name), .kind = kind, .is_map = is_map,
			       .comment = comment ? strdup(comment) : NULL };
	if (!s->name || (comment && !s->comment)) {
		free(s->name);
		free(s->comment);
		return NULL;
	}
	b->p->nsets++;
	return s;
}

static int add_elem(struct pl_pset *s, const uint8_t *key, const char *chain)
{
	struct pl_elem *e;

	if (k8s_grow(&s->e, &s->cap, s->n, sizeof(*e)) < 0)
		return -ENOMEM;
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, pl_key_len(s->kind));
	e->chain = chain;
	return 0;
}

static struct pl_pchain *new_chain(struct builder *b, const char *name, int hook, int prio)
{
	struct pl_pchain *c;

	if (k8s_grow(&b->p->chains, &b->p->chains_cap, b->p->nchains, sizeof(*c)) < 0)
		return NULL;
	c = &b->p->chains[b->p->nchains];
	*c = (struct pl_pchain){ .name = strdup(name), .hook = hook, .prio = prio };
	if (!c->name || k8s_map_put_index(&b->chain_by_name, name, b->p->nchains) < 0) {
		free(c->name);
		return NULL;
	}
	b->p->nchains++;
	return c;
}

static struct pl_prule *add_rule(struct pl_pchain *c, const struct pl_prule *tmpl,
				 const char *comment)
{
	struct pl_prule *r;

	if (k8s_grow(&c->r, &c->cap, c->n, sizeof(*r)) < 0)
		return NULL;
	r = &c->r[c->n];
	*r = *tmpl;
	r->except = NULL;
	r->comment = comment ? strdup(comment) : NULL;
	if (tmpl->nexcept) {
		r->except = malloc(tmpl->nexcept * sizeof(*r->except));
		if (!r->except) {
			free(r->comment);
			return NULL;
		}
		memcpy(r->except, tmpl->except, tmpl->nexcept * sizeof(*r->except));
	}
	if (comment && !r->comment) {
		free(r->except);
		return NULL;
	}
	c->n++;
	return r;
}

/* ---- namespaces and their pods ---- */

static struct nsgroup *nsgroup(struct builder *b, const char *name)
{
	size_t i;
	struct nsgroup *g;

	if (k8s_map_get_index(&b->nsg_by_name, name, &i))
		return &b->nsg[i];
	g = realloc(b->nsg, (b->nnsg + 1) * sizeof(*g));
	if (!g)
		return NULL;
	b->nsg = g;
	g = &b->nsg[b->nnsg];
	*g = (struct nsgroup){ .name = name };
	if (k8s_map_put_index(&b->nsg_by_name, name, b->nnsg) < 0)
		return NULL;
	b->nnsg++;
	return g;
}

static int index_pods(struct builder *b)
{
	struct k8snet_policy_db *db = b->db;
	size_t i, j;

	for (i = 0; i < db->nns; i++) {
		struct nsgroup *g = nsgroup(b, db->ns[i].name);

		if (!g)
			return -ENOMEM;
		g->labels = &db->ns[i].labels;
	}
	for (i = 0; i < db->npol; i++) {
		struct nsgroup *g;

		if (db->pol[i].dead)
			continue;
		g = nsgroup(b, db->pol[i].ns);
		if (!g || k8s_grow(&g->pols, &g->pols_cap, g->npols, sizeof(size_t)) < 0)
			return -ENOMEM;
		g->pols[g->npols++] = i;
	}
	for (i = 0; i < db->npods; i++) {
		const struct pl_pod *pod = &db->pods[i];
		struct nsgroup *g;

		if (pod->dead || pod->host_network)
			continue;
		g = nsgroup(b, pod->ns);
		if (!g || k8s_grow(&g->pods, &g->cap, g->n, sizeof(size_t)) < 0)
			return -ENOMEM;
		g->pods[g->n++] = i;
		for (j = 0; j < pod->nips; j++) {
			if (pod->ips[j].family == AF_INET)
				b->v4 = true;
			else
				b->v6 = true;
		}
	}
	return 0;
}

static bool nsgroup_matches(const struct nsgroup *g, const struct pl_selector *sel)
{
	struct pl_labels implied = { 0 };
	bool m;

	if (g->labels)
		return pl_selector_matches(sel, g->labels);
	if (pl_labels_set(&implied, "kubernetes.io/metadata.name", g->name) < 0)
		return false;
	m = pl_selector_matches(sel, &implied);
	pl_labels_clear(&implied);
	return m;
}

/* ---- peer and named-port sets ---- */

void pl_addr_key(const struct pl_addr *a, uint8_t *key)
{
	memcpy(key, a->a, a->family == AF_INET ? 4 : 16);
}

/* The element of a named-port set: address . protocol . port, each field
 * padded to nft's 32-bit register boundary. */
void pl_named_port_key(const struct pl_addr *a, uint8_t proto, uint16_t port, uint8_t key[24])
{
	size_t off = a->family == AF_INET ? 4 : 16;
	uint16_t be_port = htons(port);

	memset(key, 0, 24);
	pl_addr_key(a, key);
	key[off] = proto;
	memcpy(key + off + 4, &be_port, 2);
}

char *pl_hex_name(const char *prefix, const char *id)
{
	return k8s_asprintf("%s-%016llx", prefix, (unsigned long long)k8s_hash_str(id));
}

/* The pods4/pods6 sets of a selector peer; created once per identity. */
static int peer_sets(struct builder *b, const struct pl_policy *pol, const struct pl_peer *peer,
		     const char **ret4, const char **ret6)
{
	_cleanup_(freep) char *ps = peer->has_pod_sel ? pl_selector_str(&peer->pod_sel) : strdup("");
	_cleanup_(freep) char *ns = peer->has_ns_sel ? pl_selector_str(&peer->ns_sel) : NULL;
	_cleanup_(freep) char *id = NULL, *comment = NULL, *n4 = NULL, *n6 = NULL;
	struct pl_pset *s4, *s6;
	size_t i, j, k, idx;

	if (!ps || (peer->has_ns_sel && !ns))
		return -ENOMEM;
	if (asprintf(&id, "%s%s|%s", peer->has_ns_sel ? "nssel:" : "ns:",
		     peer->has_ns_sel ? ns : pol->ns, ps) < 0)
		return -ENOMEM;
	n4 = pl_hex_name("pods4", id);
	n6 = pl_hex_name("pods6", id);
	if (!n4 || !n6)
		return -ENOMEM;
	if (k8s_map_get_index(&b->set_by_id, id, &idx)) {
		*ret4 = b->p->sets[idx].name;
		*ret6 = b->p->sets[idx + 1].name;
		return 0;
	}
	if (asprintf(&comment, "pods %s%s%s%s%s", *ps ? "matching " : "", ps, *ps ? " " : "",
		     peer->has_ns_sel ? "in namespaces matching " : "in namespace ",
		     peer->has_ns_sel ? (*ns ? ns : "(all)") : pol->ns) < 0)
		return -ENOMEM;
	idx = b->p->nsets;
	s4 = new_set(b, n4, PL_K_ADDR4, false, comment);
	s6 = s4 ? new_set(b, n6, PL_K_ADDR6, false, comment) : NULL;
	if (!s6 || k8s_map_put_index(&b->set_by_id, id, idx) < 0)
		return -ENOMEM;
	s4 = &b->p->sets[idx];
	for (i = 0; i < 2; i++) {
		s4[i].is_peer = true;
		s4[i].pol_ns = strdup(pol->ns);
		if (!s4[i].pol_ns || pl_peer_copy(&s4[i].peer, peer) < 0)
			return -ENOMEM;
	}
	for (i = 0; i < b->nnsg; i++) {
		const struct nsgroup *g = &b->nsg[i];

		if (peer->has_ns_sel ? !nsgroup_matches(g, &peer->ns_sel) : strcmp(g->name, pol->ns))
			continue;
		for (j = 0; j < g->n; j++) {
			const struct pl_pod *pod = &b->db->pods[g->pods[j]];

			if (peer->has_pod_sel && !pl_selector_matches(&peer->pod_sel, &pod->labels))
				continue;
			for (k = 0; k < pod->nips; k++) {
				uint8_t key[24] = { 0 };
				struct pl_pset *s = pod->ips[k].family == AF_INET ? s4 : s4 + 1;

				pl_addr_key(&pod->ips[k], key);
				if (add_elem(s, key, NULL) < 0)
					return -ENOMEM;
			}
		}
	}
	*ret4 = s4->name;
	*ret6 = s4[1].name;
	return 0;
}

const char *pl_proto_lower(uint8_t proto)
{
	return proto == PL_TCP ? "tcp" : proto == PL_UDP ? "udp" : "sctp";
}

static int named_sets(struct builder *b, const char *name, uint8_t proto, const char **ret4,
		      const char **ret6)
{
	_cleanup_(freep) char *id = NULL, *n6 = NULL, *comment = NULL;
	size_t i, j, k, idx;

	if (asprintf(&id, "port4/%s/%s", name, pl_proto_lower(proto)) < 0 ||
	    asprintf(&n6, "port6/%s/%s", name, pl_proto_lower(proto)) < 0 ||
	    asprintf(&comment, "pods' container ports named %s/%s", name, pl_proto_name(proto)) < 0)
		return -ENOMEM;
	if (!k8s_map_get_index(&b->set_by_id, id, &idx)) {
		idx = b->p->nsets;
		if (!new_set(b, id, PL_K_NAMED4, false, comment) ||
		    !new_set(b, n6, PL_K_NAMED6, false, comment) ||
		    k8s_map_put_index(&b->set_by_id, id, idx) < 0)
			return -ENOMEM;
		for (i = 0; i < 2; i++) {
			b->p->sets[idx + i].port_proto = proto;
			b->p->sets[idx + i].port_name = strdup(name);
			if (!b->p->sets[idx + i].port_name)
				return -ENOMEM;
		}
		for (i = 0; i < b->db->npods; i++) {
			const struct pl_pod *pod = &b->db->pods[i];

			if (pod->dead || pod->host_network)
				continue;
			for (j = 0; j < pod->nports; j++) {
				const struct pl_cport *cp = &pod->ports[j];

				if (!cp->name || cp->proto != proto || strcmp(cp->name, name))
					continue;
				for (k = 0; k < pod->nips; k++) {
					uint8_t key[24];
					bool v4 = pod->ips[k].family == AF_INET;

					pl_named_port_key(&pod->ips[k], proto, cp->port, key);
					if (add_elem(&b->p->sets[idx + (v4 ? 0 : 1)], key, NULL) < 0)
						return -ENOMEM;
				}
			}
		}
	}
	*ret4 = b->p->sets[idx].name;
	*ret6 = b->p->sets[idx + 1].name;
	return 0;
}

/* ---- policy chains ---- */

struct rule_ctx {
	struct builder *b;
	const struct pl_policy *pol;
	bool ingress;
	size_t ri;
	struct pl_pchain *chain;
};

/* "NS/NAME ingress[0] from[1] ports[0]": the policy and rule a match comes from. */
static char *rule_comment(const struct rule_ctx *rc, long pi, long po)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fprintf(f, "%s/%s %s[%zu]", rc->pol->ns, rc->pol->name, rc->ingress ? "ingress" : "egress",
		rc->ri);
	if (pi >= 0)
		fprintf(f, " %s[%ld]", rc->ingress ? "from" : "to", pi);
	if (po >= 0)
		fprintf(f, " ports[%ld]", po);
	fclose(f);
	return buf;
}

/* One nft rule for (peer, port, family); peer/port NULL mean "any". */
static int emit(struct rule_ctx *rc, const struct pl_peer *peer, long pi,
		const struct pl_rport *port, long po, int family)
{
	struct pl_prule r = { .verdict = PL_V_ACCEPT };
	_cleanup_(freep) char *comment = NULL;
	const char *s4 = NULL, *s6 = NULL;
	int ret;

	if (family)
		r.nfproto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	if (peer && peer->is_block) {
		r.has_cidr = true;
		r.cidr_is_src = rc->ingress;
		r.cidr = peer->cidr;
		r.nexcept = peer->nexcept;
		r.except = peer->except;
	} else if (peer) {
		ret = peer_sets(rc->b, rc->pol, peer, &s4, &s6);
		if (ret < 0)
			return ret;
		r.addr_set = family == AF_INET ? s4 : s6;
		r.addr_is_src = rc->ingress;
	}
	if (port) {
		r.l4proto = port->proto;
		if (port->name) {
			ret = named_sets(rc->b, port->name, port->proto, &s4, &s6);
			if (ret < 0)
				return ret;
			r.named_set = family == AF_INET ? s4 : s6;
		} else {
			r.port_lo = port->port;
			r.port_hi = port->end_port;
		}
	}
	comment = rule_comment(rc, pi, po);
	if (!comment)
		return -ENOMEM;
	pl_log_allow(rc->b->db, rc->pol, &r);
	return add_rule(rc->chain, &r, comment) ? 0 : -ENOMEM;
}

static int emit_families(struct rule_ctx *rc, const struct pl_peer *peer, long pi,
			 const struct pl_rport *port, long po)
{
	int r = 0;

	if (peer && peer->is_block)
		return emit(rc, peer, pi, port, po, peer->cidr.addr.family);
	if (!peer && !(port && port->name))
		return emit(rc, NULL, pi, port, po, 0);
	/* Sets hold one family each: one rule per family in use. */
	if (rc->b->v4)
		r = emit(rc, peer, pi, port, po, AF_INET);
	if (r >= 0 && rc->b->v6)
		r = emit(rc, peer, pi, port, po, AF_INET6);
	return r;
}

/* "pin/NS/NAME" (ingress) or "peg/NS/NAME"; hashed when too long for the kernel. */
char *pl_policy_chain_name(const struct pl_policy *pol, bool ingress)
{
	char *name = NULL, *h;

	if (asprintf(&name, "%s/%s/%s", ingress ? "pin" : "peg", pol->ns, pol->name) < 0)
		return NULL;
	if (strlen(name) <= 240)
		return name;
	h = pl_hex_name(ingress ? "pin" : "peg", name);
	free(name);
	return h;
}

static int policy_chain(struct builder *b, const struct pl_policy *pol, bool ingress,
			const char **ret)
{
	_cleanup_(freep) char *name = pl_policy_chain_name(pol, ingress);
	struct rule_ctx rc = { b, pol, ingress, 0, NULL };
	size_t i, j, k, idx;
	int r;

	if (!name)
		return -ENOMEM;
	if (k8s_map_get_index(&b->chain_by_name, name, &idx)) {
		*ret = b->p->chains[idx].name;
		return 0;
	}
	rc.chain = new_chain(b, name, -1, 0);
	if (!rc.chain)
		return -ENOMEM;
	idx = b->p->nchains - 1;
	for (i = 0; i < (ingress ? pol->nin : pol->neg); i++) {
		const struct pl_rule *rule = ingress ? &pol->in[i] : &pol->eg[i];

		rc.ri = i;
		for (j = 0; j < (rule->npeers ? rule->npeers : 1); j++) {
			const struct pl_peer *peer = rule->npeers ? &rule->peers[j] : NULL;

			for (k = 0; k < (rule->nports ? rule->nports : 1); k++) {
				rc.chain = &b->p->chains[idx];
				r = emit_families(&rc, peer, rule->npeers ? (long)j : -1,
						  rule->nports ? &rule->ports[k] : NULL,
						  rule->nports ? (long)k : -1);
				if (r < 0)
					return r;
			}
		}
	}
	*ret = b->p->chains[idx].name;
	return 0;
}

/* ---- per-pod dispatch ---- */

/* A group chain: jump to each isolating policy's chain, then drop. */
int pl_fill_group_chain(const struct k8snet_policy_db *db, struct pl_pchain *c,
			const char *const *targets, size_t n, bool ingress, const char *policies)
{
	struct pl_prule dr = { .verdict = PL_V_DROP }, lr;
	_cleanup_(freep) char *comment = NULL, *log_comment = NULL;
	size_t i;

	if (asprintf(&comment, "isolated for %s by %s", ingress ? "ingress" : "egress",
		     policies) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct pl_prule jr = { .verdict = PL_V_JUMP, .target = targets[i] };

		if (!add_rule(c, &jr, NULL))
			return -ENOMEM;
	}
	pl_log_drop(db, &dr);
	if (pl_log_deny_rule(db, targets, n, ingress, policies, &lr, &log_comment) &&
	    (!log_comment || !add_rule(c, &lr, log_comment)))
		return -ENOMEM;
	return add_rule(c, &dr, comment) ? 0 : -ENOMEM;
}

static bool isolates(const struct pl_policy *pol, const struct pl_pod *pod, bool ingress)
{
	return (ingress ? pol->ingress : pol->egress) && pl_policy_selects(pol, pod);
}

/* The group chain of a pod: one per distinct list of isolating policies,
 * named by the hash of that list ("gin-HASH", "geg-HASH"). */
static int group_chain(struct builder *b, const struct pl_pod *pod, bool ingress,
		       const char **ret)
{
	const struct nsgroup *g = nsgroup(b, pod->ns);
	uint64_t h = K8S_FNV1A_SEED;  /* hashed piece by piece: k8s_hash_str of the list */
	const char **targets = NULL;
	char name[32], *key = NULL;
	size_t i, n = 0, idx, size = 0;
	struct pl_pchain *c;
	FILE *f;
	int r = 0;

	*ret = NULL;
	for (i = 0; g && i < g->npols; i++) {
		const struct pl_policy *pol = &b->db->pol[g->pols[i]];

		if (isolates(pol, pod, ingress)) {
			h = k8s_fnv1a(k8s_fnv1a(k8s_fnv1a(k8s_fnv1a(h, n++ ? ", " : ""), pol->ns), "/"),
				      pol->name);
		}
	}
	if (n == 0)
		return 0;
	snprintf(name, sizeof(name), "%s-%016llx", ingress ? "gin" : "geg", (unsigned long long)h);
	if (k8s_map_get_index(&b->chain_by_name, name, &idx)) {
		*ret = b->p->chains[idx].name;
		return 0;
	}
	/* A new group: now its text and its policies' chains. */
	targets = calloc(n, sizeof(*targets));
	f = targets ? open_memstream(&key, &size) : NULL;
	if (!f) {
		free(targets);
		return -ENOMEM;
	}
	for (i = 0, n = 0; i < g->npols && r >= 0; i++) {
		const struct pl_policy *pol = &b->db->pol[g->pols[i]];

		if (!isolates(pol, pod, ingress))
			continue;
		fprintf(f, "%s%s/%s", n ? ", " : "", pol->ns, pol->name);
		r = policy_chain(b, pol, ingress, &targets[n++]);
	}
	fclose(f);
	if (r >= 0 && !key)
		r = -ENOMEM;
	c = r >= 0 ? new_chain(b, name, -1, 0) : NULL;
	if (r >= 0 && !c)
		r = -ENOMEM;
	if (r >= 0) {
		r = pl_fill_group_chain(b->db, c, targets, n, ingress, key);
		*ret = c->name;
	}
	free(targets);
	free(key);
	return r;
}

static int dispatch_pods(struct builder *b)
{
	size_t i, k;
	int r;

	for (i = 0; i < b->db->npods; i++) {
		const struct pl_pod *pod = &b->db->pods[i];
		const char *gin, *geg;

		if (pod->dead || pod->host_network || !pod->nips || !pod->node ||
		    strcmp(pod->node, b->node) != 0)
			continue;
		r = group_chain(b, pod, true, &gin);
		if (r >= 0)
			r = group_chain(b, pod, false, &geg);
		if (r < 0)
			return r;
		for (k = 0; k < pod->nips; k++) {
			uint8_t key[24] = { 0 };
			bool v4 = pod->ips[k].family == AF_INET;

			pl_addr_key(&pod->ips[k], key);
			/* maps: egress4, egress6, ingress4, ingress6 */
			if (geg && add_elem(&b->p->sets[v4 ? 0 : 1], key, geg) < 0)
				return -ENOMEM;
			if (gin && add_elem(&b->p->sets[v4 ? 2 : 3], key, gin) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int pl_record_pod(struct pl_plan *p, const struct pl_pod *pod, const char *key)
{
	struct pl_ppod *rec;
	size_t idx;

	if (!k8s_map_get_index(&p->pod_idx, key, &idx)) {
		if (k8s_grow(&p->pods, &p->pods_cap, p->npods, sizeof(*rec)) < 0)
			return -ENOMEM;
		idx = p->npods;
		p->pods[idx] = (struct pl_ppod){ .key = strdup(key) };
		if (!p->pods[idx].key || k8s_map_put_index(&p->pod_idx, key, idx) < 0) {
			free(p->pods[idx].key);
			return -ENOMEM;
		}
		p->npods++;
	}
	rec = &p->pods[idx];
	free(rec->ips);
	rec->ips = NULL;
	rec->nips = 0;
	if (!pod || pod->dead || pod->host_network || !pod->nips)
		return 0;
	rec->ips = malloc(pod->nips * sizeof(*rec->ips));
	if (!rec->ips)
		return -ENOMEM;
	memcpy(rec->ips, pod->ips, pod->nips * sizeof(*rec->ips));
	rec->nips = pod->nips;
	return 0;
}

static int record_pods(struct pl_plan *p, const struct k8snet_policy_db *db)
{
	size_t i;

	for (i = 0; i < db->npods; i++) {
		const struct pl_pod *pod = &db->pods[i];
		char *key = NULL;
		int r;

		if (pod->dead || pod->host_network || !pod->nips)
			continue;
		if (asprintf(&key, "%s/%s", pod->ns, pod->name) < 0)
			return -ENOMEM;
		r = pl_record_pod(p, pod, key);
		free(key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every policy gets its chains, even one that isolates no pod of this node
 * yet, so that pod churn never needs more than a new group chain. */
static int all_policy_chains(struct builder *b)
{
	size_t i;
	const char *name;
	int r = 0;

	for (i = 0; i < b->db->npol && r >= 0; i++) {
		const struct pl_policy *pol = &b->db->pol[i];

		if (pol->dead)
			continue;
		if (pol->ingress)
			r = policy_chain(b, pol, true, &name);
		if (r >= 0 && pol->egress)
			r = policy_chain(b, pol, false, &name);
	}
	return r;
}

static int base_chains(struct builder *b)
{
	static const struct {
		const char *name, *m4, *m6;
		int hook, prio;
		bool src;
	} bases[] = {
		/* Egress before routing but after Service DNAT (dstnat, -100), so
		 * that one chain sees traffic to other pods, to the node and out,
		 * on the destination the Service chose. */
		{ "prerouting-egress", "egress4", "egress6", NF_INET_PRE_ROUTING, -90, true },
		{ "forward-ingress", "ingress4", "ingress6", NF_INET_FORWARD, 0, false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		struct pl_pchain *c = new_chain(b, bases[i].name, bases[i].hook, bases[i].prio);
		struct pl_prule ct = { .special = PL_R_CT_ACCEPT, .verdict = PL_V_ACCEPT };
		struct pl_prule nd = { .special = PL_R_ND_ACCEPT, .nfproto = NFPROTO_IPV6,
				       .verdict = PL_V_ACCEPT };
		struct pl_prule v4 = { .special = PL_R_VMAP, .nfproto = NFPROTO_IPV4,
				       .addr_set = bases[i].m4, .addr_is_src = bases[i].src };
		struct pl_prule v6 = v4;

		v6.nfproto = NFPROTO_IPV6;
		v6.addr_set = bases[i].m6;
		if (!c || !add_rule(c, &ct, "replies and related traffic of allowed connections") ||
		    !add_rule(c, &nd, "IPv6 neighbor discovery (the ARP of IPv6) always passes") ||
		    !add_rule(c, &v4, "isolated pods of this node") ||
		    !add_rule(&b->p->chains[b->p->nchains - 1], &v6, "isolated pods of this node"))
			return -ENOMEM;
	}
	return 0;
}

/* ---- finishing: sort, dedupe, render chain text ---- */

/* Keys are zero past their length (add_elem, insert_elem), so comparing
 * the whole array orders a set as comparing its key length would, and the
 * comparison needs no state shared between threads. */
static int cmp_elem(const void *a, const void *b)
{
	return memcmp(((const struct pl_elem *)a)->key, ((const struct pl_elem *)b)->key,
		      sizeof(((const struct pl_elem *)a)->key));
}

static int cmp_set(const void *a, const void *b)
{
	return strcmp(((const struct pl_pset *)a)->name, ((const struct pl_pset *)b)->name);
}

static int cmp_chain(const void *a, const void *b)
{
	return strcmp(((const struct pl_pchain *)a)->name, ((const struct pl_pchain *)b)->name);
}

static void set_clear(struct pl_pset *s)
{
	free(s->name);
	free(s->comment);
	free(s->e);
	pl_peer_clear(&s->peer);
	free(s->pol_ns);
	free(s->port_name);
}

/* Peer and named-port sets exist per family; keep those some rule uses. */
static int drop_unused_sets(struct pl_plan *p)
{
	struct k8s_map used = { 0 };
	size_t i, j, n, dummy;
	int r = 0;

	for (i = 0; i < p->nchains && r >= 0; i++) {
		for (j = 0; j < p->chains[i].n && r >= 0; j++) {
			const struct pl_prule *rule = &p->chains[i].r[j];

			if (rule->addr_set)
				r = k8s_map_put_index(&used, rule->addr_set, 1);
			if (r >= 0 && rule->named_set)
				r = k8s_map_put_index(&used, rule->named_set, 1);
		}
	}
	for (i = 0, n = 0; i < p->nsets && r >= 0; i++) {
		if (p->sets[i].is_map || k8s_map_get_index(&used, p->sets[i].name, &dummy)) {
			p->sets[n++] = p->sets[i];
		} else {
			set_clear(&p->sets[i]);
		}
	}
	if (r >= 0)
		p->nsets = n;
	k8s_map_free(&used, NULL);
	return r;
}

static int finish(struct pl_plan *p)
{
	size_t i, j, n;

	if (drop_unused_sets(p) < 0)
		return -ENOMEM;

	for (i = 0; i < p->nsets; i++) {
		struct pl_pset *s = &p->sets[i];

		if (s->n)
			qsort(s->e, s->n, sizeof(*s->e), cmp_elem);
		for (j = 0, n = 0; j < s->n; j++)
			if (n == 0 || cmp_elem(&s->e[n - 1], &s->e[j]) != 0)
				s->e[n++] = s->e[j];
		s->n = n;
	}
	qsort(p->sets, p->nsets, sizeof(*p->sets), cmp_set);
	qsort(p->chains, p->nchains, sizeof(*p->chains), cmp_chain);
	for (i = 0; i < p->nchains; i++) {
		struct pl_pchain *c = &p->chains[i];
		size_t size = 0;
		FILE *f = open_memstream(&c->text, &size);

		if (!f)
			return -ENOMEM;
		for (j = 0; j < c->n; j++) {
			pl_rule_render(&c->r[j], f);
			fputc('\n', f);
		}
		fclose(f);
		if (!c->text)
			return -ENOMEM;
	}
	return 0;
}

void pl_plan_free(struct pl_plan *p)
{
	size_t i, j;

	if (!p)
		return;
	for (i = 0; i < p->nsets; i++)
		set_clear(&p->sets[i]);
	free(p->sets);
	for (i = 0; i < p->npods; i++) {
		free(p->pods[i].key);
		free(p->pods[i].ips);
	}
	free(p->pods);
	k8s_map_free(&p->pod_idx, NULL);
	for (i = 0; i < p->nchains; i++) {
		for (j = 0; j < p->chains[i].n; j++) {
			free(p->chains[i].r[j].comment);
			free(p->chains[i].r[j].except);
		}
		free(p->chains[i].r);
		free(p->chains[i].name);
		free(p->chains[i].text);
	}
	free(p->chains);
	free(p);
}

int pl_plan_build(struct k8snet_policy_db *db, const char *node, struct pl_plan **ret)
{
	struct builder b = { .db = db, .node = node };
	size_t i;
	int r;

	b.p = calloc(1, sizeof(*b.p));
	if (!b.p)
		return -ENOMEM;
	/* The four verdict maps come first so dispatch_pods() can index them. */
	r = new_set(&b, "egress4", PL_K_ADDR4, true, "isolated pods -> their egress chain") &&
	    new_set(&b, "egress6", PL_K_ADDR6, true, "isolated pods -> their egress chain") &&
	    new_set(&b, "ingress4", PL_K_ADDR4, true, "isolated pods -> their ingress chain") &&
	    new_set(&b, "ingress6", PL_K_ADDR6, true, "isolated pods -> their ingress chain")
	    ? 0 : -ENOMEM;
	if (r >= 0)
		r = index_pods(&b);
	b.p->v4 = b.v4;
	b.p->v6 = b.v6;
	if (r >= 0)
		r = base_chains(&b);
	if (r >= 0)
		r = record_pods(b.p, db);
	if (r >= 0)
		r = dispatch_pods(&b);
	if (r >= 0)
		r = all_policy_chains(&b);
	/* Map elements point at chain names, which stay put while finish()
	 * sorts the chains around them. */
	if (r >= 0)
		r = finish(b.p);
	k8s_map_free(&b.set_by_id, NULL);
	k8s_map_free(&b.chain_by_name, NULL);
	k8s_map_free(&b.nsg_by_name, NULL);
	for (i = 0; i < b.nnsg; i++) {
		free(b.nsg[i].pods);
		free(b.nsg[i].pols);
	}
	free(b.nsg);
	if (r < 0) {
		pl_plan_free(b.p);
		return r;
	}
	*ret = b.p;
	return 0;
}

const struct pl_pset *pl_plan_set(const struct pl_plan *p, const char *name)
{
	struct pl_pset key = { .name = (char *)name };

	return bsearch(&key, p->sets, p->nsets, sizeof(*p->sets), cmp_set);
}

const struct pl_pchain *pl_plan_chain(const struct pl_plan *p, const char *name)
{
	struct pl_pchain key = { .name = (char *)name };

	return bsearch(&key, p->chains, p->nchains, sizeof(*p->chains), cmp_chain);
}
