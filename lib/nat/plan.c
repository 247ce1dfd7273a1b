/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The planner: what one service contributes to one family's table, with no
 * kernel involved.
 *
 * Shape (per family table):
 *   services      daddr . l4proto . dport vmap @service-ips  (ClusterIPs, external IPs)
 *                 local daddr: l4proto . dport vmap @service-nodeports
 *   pick-N        shared by every service with N endpoints: masquerade
 *                 if from outside the cluster, then
 *                 dnat to daddr . l4proto . dport . numgen mod N map @endpoints
 *                 A ClusterIP's element in @service-ips goes straight there:
 *                 a plain service has no chain of its own, only elements.
 *   pick-local-N, pick-np-N   the same without masquerade; by NodePort
 *   ext-..., np-...   external IPs / LB IPs, NodePorts: masquerade (or
 *                 keep the client address with externalTrafficPolicy Local)
 *                 and goto a pick chain
 *   fw-...        loadBalancerSourceRanges, then ext-...
 *   svc-..., ep-... + set aff-...   only for ClientIP affinity
 *
 * Why pick chains: the kernel walks every binding of a map for each element
 * added to it, and every element at each binding from a new chain.  With the
 * endpoint lookup in a few shared chains, the big maps have a handful of
 * bindings, and a full sync costs time linear in the number of services.
 */
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

const char *const nat_set_names[S_NSETS] = {
	[S_SERVICE_IPS] = "service-ips",
	[S_NODEPORTS] = "service-nodeports",
	[S_ENDPOINTS] = "endpoints",
	[S_NP_ENDPOINTS] = "nodeport-endpoints",
	[S_CLUSTER_IPS] = "cluster-ips",
	[S_HAIRPIN] = "hairpin",
	[S_SERVICE_COUNTERS] = "service-counters",
	[S_NODEPORT_COUNTERS] = "nodeport-counters",
	[S_SERVICE_TRAFFIC] = "service-traffic",
	[S_NODEPORT_TRAFFIC] = "nodeport-traffic",
};

/* ---------------- fragment building ---------------- */

struct builder {
	struct k8snet_proxy *p;
	const struct nat_entry *e;
	int fam;                       /* AF_INET / AF_INET6 */
	const char *ipfam;             /* "ip" / "ip6" */
	struct nat_frag *f;
	char **used;                   /* claim keys this fragment took */
	size_t nused;
	const char *counter;           /* the port's named counter (K8SNET_PROXY_F_COUNT) */
	const char *traffic;           /* and its traffic counter ("svc/.../traffic") */
	int err;
};

static void rule_free(struct nat_rule *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; r->targets && i < r->n; i++)
		free(r->targets[i]);
	free(r->targets);
	free(r->target);
	free(r->target2);
	free(r->text);
	free(r);
}

static void chain_free(struct nat_chain *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		rule_free(c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c);
}

void nat_frag_free(struct nat_frag *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nchains; i++)
		chain_free(f->chains[i]);
	for (i = 0; i < f->nelems; i++) {
		free(f->elems[i]->chain);
		free(f->elems[i]->obj);
		free(f->elems[i]);
	}
	for (i = 0; i < f->ncounters; i++)
		free(f->counters[i]);
	free(f->counters);
	for (i = 0; i < f->nasets; i++) {
		free(f->asets[i]->name);
		free(f->asets[i]);
	}
	free(f->chains);
	free(f->elems);
	free(f->asets);
	for (i = 0; i < f->npicks; i++)
		free(f->picks[i]);
	free(f->picks);
	free(f->hairpin);
	for (i = 0; i < f->nskipped; i++)
		free(f->skipped[i]);
	free(f->skipped);
	free(f->ctflows);
	free(f->what);
	free(f);
}

static void fail(struct builder *b, int err)
{
	if (!b->err)
		b->err = err;
}

static char *vxasprintf(struct builder *b, const char *fmt, va_list ap) _printf_(2, 0);
static char *vxasprintf(struct builder *b, const char *fmt, va_list ap)
{
	char *s = k8s_vasprintf(fmt, ap);

	if (!s)
		fail(b, -ENOMEM);
	return s;
}

static char *xasprintf(struct builder *b, const char *fmt, ...) _printf_(2, 3);
static char *xasprintf(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vxasprintf(b, fmt, ap);
	va_end(ap);
	return s;
}

static struct nat_chain *add_chain(struct builder *b, char *name)
{
	struct nat_chain *c = calloc(1, sizeof(*c));

	if (!c || !name || k8s_grow_pow2(&b->f->chains, b->f->nchains, sizeof(c)) < 0) {
		free(c);
		free(name);
		fail(b, -ENOMEM);
		return NULL;
	}
	c->name = name;
	b->f->chains[b->f->nchains++] = c;
	return c;
}

static void add_rule(struct builder *b, struct nat_chain *c, struct nat_rule *r)
{
	struct k8s_buf t = { 0 };

	if (!c || !r || b->err) {
		rule_free(r);
		if (!r)
			fail(b, -ENOMEM);
		return;
	}
	nat_render_rule_text(b->p, b->fam, r, &t);
	r->text = k8s_buf_steal(&t);
	if (!r->text || k8s_grow_pow2(&c->rules, c->nrules, sizeof(r)) < 0) {
		rule_free(r);
		fail(b, -ENOMEM);
		return;
	}
	c->rules[c->nrules++] = r;
}

static struct nat_rule *new_rule(struct builder *b, enum nat_rule_kind kind, const char *target)
{
	struct nat_rule *r = calloc(1, sizeof(*r));

	if (!r || (target && !(r->target = strdup(target)))) {
		free(r);
		fail(b, -ENOMEM);
		return NULL;
	}
	r->kind = kind;
	return r;
}

static size_t addr_len(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

static void put_be16_pad(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	p[2] = p[3] = 0;
}

static void add_elem(struct builder *b, struct nat_elem *el)
{
	if (k8s_grow_pow2(&b->f->elems, b->f->nelems, sizeof(el)) < 0) {
		free(el->chain);
		free(el);
		fail(b, -ENOMEM);
		return;
	}
	b->f->elems[b->f->nelems++] = el;
}

/* The same key : the port's counter, in the map the counting rule before
 * the dispatch looks up: what is counted is exactly what is dispatched.
 * The same key : its traffic counter, in the map the traffic chain looks
 * up with the connection's original destination (every packet, both ways). */
static void add_counter_elem(struct builder *b, const struct nat_elem *dispatch, bool traffic)
{
	struct nat_elem *el = calloc(1, sizeof(*el));
	bool svc = dispatch->set == S_SERVICE_IPS;

	if (!el || !(el->obj = strdup(traffic ? b->traffic : b->counter))) {
		free(el);
		fail(b, -ENOMEM);
		return;
	}
	if (traffic)
		el->set = svc ? S_SERVICE_TRAFFIC : S_NODEPORT_TRAFFIC;
	else
		el->set = svc ? S_SERVICE_COUNTERS : S_NODEPORT_COUNTERS;
	memcpy(el->key, dispatch->key, dispatch->klen);
	el->klen = dispatch->klen;
	add_elem(b, el);
}

static char *push_counter(struct builder *b, char *name)
{
	if (!name || k8s_grow_pow2(&b->f->counters, b->f->ncounters, sizeof(name)) < 0) {
		free(name);
		fail(b, -ENOMEM);
		return NULL;
	}
	b->f->counters[b->f->ncounters++] = name;
	return name;
}

/* "svc/NS/NAME/PROTO/PORT" (connections) and ".../traffic" (packets and
 * bytes of those connections): per service port, the same in both
 * families' tables (documented in k8snet_proxy_get_counters(3)). */
static void add_counter(struct builder *b, const char *base)
{
	b->counter = push_counter(b, xasprintf(b, "svc/%s", base));
	b->traffic = b->counter ? push_counter(b, xasprintf(b, "svc/%s/traffic", base)) : NULL;
	if (!b->traffic)
		b->counter = NULL;
}

/* daddr . proto . port : goto chain (or proto . port for NodePorts) */
static void add_dispatch(struct builder *b, const struct nat_addr *a, const struct nat_port *sp,
			 uint16_t port, const char *chain)
{
	struct nat_elem *el = calloc(1, sizeof(*el));
	size_t al = a ? addr_len(b->fam) : 0;

	if (!el || !(el->chain = strdup(chain))) {
		free(el);
		fail(b, -ENOMEM);
		return;
	}
	el->set = a ? S_SERVICE_IPS : S_NODEPORTS;
	if (a)
		memcpy(el->key, a->a, al);
	el->key[al] = sp->proto;
	put_be16_pad(el->key + al + 4, port);
	el->klen = (uint8_t)(al + 8);
	add_elem(b, el);
	if (b->counter && !b->err)
		add_counter_elem(b, el, false);
	if (b->traffic && !b->err)
		add_counter_elem(b, el, true);
}

/* [daddr .] proto . port . index : addr . port in @endpoints / @nodeport-endpoints */
static void add_endpoint_elem(struct builder *b, const struct nat_addr *daddr, uint8_t proto,
			      uint16_t port, uint32_t idx, const struct nat_ep *ep)
{
	struct nat_elem *el = calloc(1, sizeof(*el));
	size_t al = addr_len(b->fam), off = daddr ? al : 0;

	if (!el) {
		fail(b, -ENOMEM);
		return;
	}
	el->set = daddr ? S_ENDPOINTS : S_NP_ENDPOINTS;
	if (daddr)
		memcpy(el->key, daddr->a, al);
	el->key[off] = proto;
	put_be16_pad(el->key + off + 4, port);
	/* The index is what numgen writes: a u32 in host order. */
	memcpy(el->key + off + 8, &idx, 4);
	el->klen = (uint8_t)(off + 12);
	memcpy(el->data, ep->addr.a, al);
	put_be16_pad(el->data + al, ep->port);
	el->dlen = (uint8_t)(al + 4);
	add_elem(b, el);
}

static void use_pick(struct builder *b, const char *name)
{
	size_t i;
	char *copy;

	for (i = 0; i < b->f->npicks; i++)
		if (strcmp(b->f->picks[i], name) == 0)
			return;
	copy = strdup(name);
	if (!copy || k8s_grow_pow2(&b->f->picks, b->f->npicks, sizeof(copy)) < 0) {
		free(copy);
		fail(b, -ENOMEM);
		return;
	}
	b->f->picks[b->f->npicks++] = copy;
}

size_t nat_pick_rules(const struct k8snet_proxy *p, int fam, const char *name,
		      struct nat_rule rules[4])
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	bool nodeport = false, masq = false;
	unsigned long v;
	size_t i, n = 0;
	char *end;

	if (strncmp(name, "pick-", 5) != 0)
		return 0;
	name += 5;
	if (strncmp(name, "np-", 3) == 0) {
		nodeport = true;
		name += 3;
	} else if (strncmp(name, "local-", 6) == 0) {
		name += 6;
	} else {
		masq = nat_masq_outside(&p->cfg, fam);
	}
	v = strtoul(name, &end, 10);
	if (*end || end == name || v == 0 || v > UINT32_MAX)
		return 0;
	if (masq)
		rules[n++] = (struct nat_rule){ .kind = R_JUMP, .target = (char *)"masq-outside" };
	/* One rule per protocol: a port mapping needs a protocol match. */
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		rules[n++] = (struct nat_rule){ .kind = R_PICK, .n = (uint32_t)v,
						.nodeport = nodeport, .proto = protos[i] };
	return n;
}

/* ---------------- endpoints ---------------- */

struct eplist {
	const struct nat_ep **v;
	size_t n;
};

static int ep_cmp(const void *x, const void *y)
{
	const struct nat_ep *a = *(const struct nat_ep *const *)x, *b = *(const struct nat_ep *const *)y;
	int c = memcmp(a->addr.a, b->addr.a, 16);

	return c ? c : (int)a->port - (int)b->port;
}

static void eps_push(struct builder *b, struct eplist *l, const struct nat_ep *e)
{
	if (k8s_grow_pow2(&l->v, l->n, sizeof(*l->v)) < 0) {
		fail(b, -ENOMEM);
		return;
	}
	l->v[l->n++] = e;
}

static bool ep_matches(const struct nat_ep *e, const struct nat_port *sp, int fam)
{
	return e->addr.family == fam && strcmp(e->port_name, sp->name) == 0 &&
	       (e->proto == 0 || e->proto == sp->proto);
}

static void collect_eps(struct builder *b, const struct nat_entry *e, const struct nat_port *sp,
			struct eplist *all)
{
	struct k8s_map_node *n;
	size_t i, j;

	for (i = 0; e->svc && i < e->svc->neps; i++)
		if (ep_matches(&e->svc->eps[i], sp, b->fam))
			eps_push(b, all, &e->svc->eps[i]);
	k8s_map_for_each(&e->slices, i, n) {
		const struct nat_slice *sl = n->val;

		for (j = 0; j < sl->neps; j++)
			if (ep_matches(&sl->eps[j], sp, b->fam))
				eps_push(b, all, &sl->eps[j]);
	}
	if (all->n)
		qsort(all->v, all->n, sizeof(*all->v), ep_cmp);
	/* The same address may be listed by two slices while pods move. */
	for (i = j = 0; i < all->n; i++)
		if (j == 0 || ep_cmp(&all->v[i], &all->v[j - 1]) != 0)
			all->v[j++] = all->v[i];
		else if (all->v[i]->flags & K8SNET_ENDPOINT_F_READY)
			all->v[j - 1] = all->v[i];
	all->n = j;
}

/* ---------------- topology (kube-proxy's pkg/proxy/topology.go) ----------------
 * EndpointSlice hints say which zones (forZones) or nodes (forNodes) an
 * endpoint is for.  They count only when every ready endpoint has them and
 * one is for this zone or node; otherwise all endpoints are used. */

enum topo { TOPO_NONE, TOPO_ZONE, TOPO_NODE };

struct topology {
	enum topo mode;
	const char *zone, *node;
	const struct k8snet_service *svc;
};

/* An endpoint's own hints; without any, those the EndpointSlice controller
 * gives for the service's trafficDistribution. */
static const char *hint_zones(const struct k8snet_service *svc, const struct nat_ep *e)
{
	if (e->hint_zones || e->hint_nodes)
		return e->hint_zones;
	return svc->traffic_dist ? e->zone : NULL;
}

static const char *hint_nodes(const struct k8snet_service *svc, const struct nat_ep *e)
{
	if (e->hint_zones || e->hint_nodes)
		return e->hint_nodes;
	return svc->traffic_dist == K8SNET_TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE ? e->node : NULL;
}

static struct topology topology_of(const struct k8snet_proxy *p, const struct k8snet_service *svc,
				   const struct eplist *all)
{
	struct topology t = { TOPO_NONE, p->cfg.node_zone, p->cfg.node_name, svc };
	bool all_zone = true, all_node = true, for_zone = false, for_node = false;
	size_t i;

	for (i = 0; i < all->n; i++) {
		const char *hz = hint_zones(svc, all->v[i]), *hn = hint_nodes(svc, all->v[i]);

		if (!(all->v[i]->flags & K8SNET_ENDPOINT_F_READY))
			continue;
		if (!hz)
			all_zone = false;
		else if (t.zone && nat_list_has(hz, t.zone))
			for_zone = true;
		if (!hn)
			all_node = false;
		else if (t.node && nat_list_has(hn, t.node))
			for_node = true;
	}
	if (all_node && for_node)
		t.mode = TOPO_NODE;
	else if (all_zone && for_zone)
		t.mode = TOPO_ZONE;
	return t;
}

static bool topology_allows(const struct topology *t, const struct nat_ep *e)
{
	switch (t->mode) {
	case TOPO_ZONE:
		return nat_list_has(hint_zones(t->svc, e), t->zone);
	case TOPO_NODE:
		return nat_list_has(hint_nodes(t->svc, e), t->node);
	default:
		return true;
	}
}

/* Ready endpoints; when there are none, serving terminating ones.  Local
 * ones (node) ignore topology; cluster ones (topo) follow it. */
static void usable_eps(struct builder *b, const struct eplist *all, const char *node,
		       const struct topology *topo, struct eplist *ret)
{
	int pass;
	size_t i;

	for (pass = 0; pass < 2 && ret->n == 0; pass++)
		for (i = 0; i < all->n; i++) {
			const struct nat_ep *e = all->v[i];
			uint32_t f = e->flags;

			if (node && (!e->node || strcmp(e->node, node) != 0))
				continue;
			if (topo && !topology_allows(topo, e))
				continue;
			if (pass == 0 ? (f & K8SNET_ENDPOINT_F_READY) :
			    (f & K8SNET_ENDPOINT_F_SERVING) && (f & K8SNET_ENDPOINT_F_TERMINATING))
				eps_push(b, ret, e);
		}
}

/* ---------------- per service port ---------------- */

struct sp_plan {
	const struct k8snet_service *svc;
	const struct nat_port *sp;
	char *base;                   /* NS/NAME/PROTO/PORT */
	char *svc_chain, *ext_chain, *fw_chain;
	struct eplist cluster, local;
	const struct nat_addr *addrs;   /* the destinations a pick serves */
	size_t naddrs;
	const char *pick_kind;          /* "", "local-" or "np-" */
};

static char *ep_name(struct builder *b, const char *prefix, const struct sp_plan *s,
		     const struct nat_ep *ep)
{
	char buf[INET6_ADDRSTRLEN], *c;

	nat_addr_str(&ep->addr, buf, sizeof(buf));
	/* ':' is not allowed in an nft identifier; IPv6 text has no '-'. */
	for (c = buf; *c; c++)
		if (*c == ':')
			*c = '-';
	return xasprintf(b, "%s-%s/%s/%u", prefix, s->base, buf, ep->port);
}

static void add_hairpin(struct builder *b, const struct nat_addr *a)
{
	size_t i;

	for (i = 0; i < b->f->nhairpin; i++)
		if (memcmp(b->f->hairpin[i].a, a->a, 16) == 0)
			return;
	if (k8s_grow_pow2(&b->f->hairpin, b->f->nhairpin, sizeof(*a)) < 0) {
		fail(b, -ENOMEM);
		return;
	}
	b->f->hairpin[b->f->nhairpin++] = *a;
}

/* Per-endpoint chain and affinity set, created once per endpoint. */
static void affinity_endpoint(struct builder *b, const struct sp_plan *s, const struct nat_ep *ep)
{
	char *chain = ep_name(b, "ep", s, ep), *set = ep_name(b, "aff", s, ep);
	struct nat_aset *as;
	struct nat_rule *r;
	struct nat_chain *c;
	size_t i;

	for (i = 0; chain && i < b->f->nchains; i++)
		if (strcmp(b->f->chains[i]->name, chain) == 0) {
			free(chain);
			free(set);
			return;    /* already made for the other path */
		}
	as = calloc(1, sizeof(*as));
	if (!as || !set || k8s_grow_pow2(&b->f->asets, b->f->nasets, sizeof(as)) < 0) {
		free(as);
		free(set);
		free(chain);
		fail(b, -ENOMEM);
		return;
	}
	as->name = set;
	as->timeout = s->svc->affinity_timeout;
	b->f->asets[b->f->nasets++] = as;
	c = add_chain(b, chain);
	r = new_rule(b, R_AFF_DNAT, set);
	if (r) {
		r->addr = ep->addr;
		r->port = ep->port;
		r->proto = s->sp->proto;
	}
	add_rule(b, c, r);
}

/* The shared pick chain for eps, and the elements it looks up for each
 * destination (s->addrs, or the NodePort).  Returns the chain's name. */
static char *use_pick_chain(struct builder *b, const struct sp_plan *s, const struct eplist *eps)
{
	const struct nat_port *sp = s->sp;
	bool np = strcmp(s->pick_kind, "np-") == 0;
	char *pick = xasprintf(b, "pick-%s%zu", s->pick_kind, eps->n);
	size_t i, a;

	if (!pick)
		return NULL;
	use_pick(b, pick);
	for (i = 0; i < eps->n; i++) {
		if (np)
			add_endpoint_elem(b, NULL, sp->proto, sp->node_port, (uint32_t)i, eps->v[i]);
		for (a = 0; !np && a < s->naddrs; a++)
			add_endpoint_elem(b, &s->addrs[a], sp->proto, sp->port, (uint32_t)i, eps->v[i]);
	}
	return pick;
}

/* Session affinity: remembered clients first, then a pick among the
 * per-endpoint chains (which remember the client). */
static void affinity_rules(struct builder *b, const struct sp_plan *s, struct nat_chain *c,
			   const struct eplist *eps)
{
	struct nat_rule *r;
	size_t i;

	for (i = 0; i < eps->n; i++) {
		affinity_endpoint(b, s, eps->v[i]);
		r = new_rule(b, R_AFF_CHECK, NULL);
		if (r) {
			r->target = ep_name(b, "aff", s, eps->v[i]);
			r->target2 = ep_name(b, "ep", s, eps->v[i]);
		}
		add_rule(b, c, r);
	}
	r = new_rule(b, R_AFF_PICK, NULL);
	if (r && !(r->targets = calloc(eps->n, sizeof(char *))))
		fail(b, -ENOMEM);
	if (r && r->targets) {
		r->n = (uint32_t)eps->n;
		for (i = 0; i < eps->n; i++)
			r->targets[i] = ep_name(b, "ep", s, eps->v[i]);
	}
	add_rule(b, c, r);
}

static void cidr_rule(struct builder *b, struct nat_chain *c, enum nat_rule_kind kind,
		      const struct nat_addr *cidr, const char *target)
{
	struct nat_rule *r = new_rule(b, kind, target);

	if (r) {
		r->match = M_SADDR_CIDR;
		r->cidr = *cidr;
	}
	add_rule(b, c, r);
}

/* External traffic (external IPs and LB IPs, or the NodePort). */
static void external_chain(struct builder *b, struct sp_plan *s, const char *name)
{
	bool local = s->svc->flags & K8SNET_SERVICE_F_ETP_LOCAL;
	const struct eplist *eps = local ? &s->local : &s->cluster;
	struct nat_chain *c = add_chain(b, strdup(name));
	struct nat_rule *r;
	char *pick;

	/* Cluster policy masquerades all of it.  Local policy keeps the client
	 * address and uses local endpoints only; clients on the node itself
	 * are masqueraded, or replies would not come back through us. */
	r = new_rule(b, R_MARK, NULL);
	if (r && local)
		r->match = M_FIB_SADDR_LOCAL;
	if (!eps->n || (s->svc->flags & K8SNET_SERVICE_F_AFFINITY) || local) {
		add_rule(b, c, r);
		if (!eps->n)
			add_rule(b, c, new_rule(b, R_DROP, NULL));
		else if (s->svc->flags & K8SNET_SERVICE_F_AFFINITY)
			affinity_rules(b, s, c, eps);
		else if ((pick = use_pick_chain(b, s, eps))) {
			add_rule(b, c, new_rule(b, R_GOTO, pick));
			free(pick);
		}
		return;
	}
	/* Cluster policy, no affinity: one rule. */
	pick = use_pick_chain(b, s, eps);
	if (r && pick) {
		r->kind = R_MARK_GOTO;
		r->target = pick;
		pick = NULL;
	}
	free(pick);
	add_rule(b, c, r);
}

static void firewall_chain(struct builder *b, struct sp_plan *s)
{
	struct nat_chain *c = add_chain(b, strdup(s->fw_chain));
	size_t i;

	for (i = 0; i < s->svc->nips[K8SNET_SERVICE_IP_SOURCE_RANGE]; i++) {
		const struct nat_addr *a = &s->svc->ips[K8SNET_SERVICE_IP_SOURCE_RANGE][i];

		if (a->family == b->fam)
			cidr_rule(b, c, R_GOTO, a, s->ext_chain);
	}
	add_rule(b, c, new_rule(b, R_DROP, NULL));
}

static bool has_ranges(const struct k8snet_service *svc, int fam)
{
	size_t i;

	for (i = 0; i < svc->nips[K8SNET_SERVICE_IP_SOURCE_RANGE]; i++)
		if (svc->ips[K8SNET_SERVICE_IP_SOURCE_RANGE][i].family == fam)
			return true;
	return false;
}

/* ---------------- destinations and their claims ---------------- */

size_t nat_port_dests_max(const struct k8snet_service *svc)
{
	return svc->nips[K8SNET_SERVICE_IP_CLUSTER] + svc->nips[K8SNET_SERVICE_IP_EXTERNAL] +
	       svc->nips[K8SNET_SERVICE_IP_LB_INGRESS] + 1;
}

size_t nat_port_dests(const struct k8snet_proxy *p, const struct k8snet_service *svc,
		      const struct nat_port *sp, int fam, struct nat_dest dests[], size_t max)
{
	static const uint32_t kinds[] = { K8SNET_SERVICE_IP_CLUSTER, K8SNET_SERVICE_IP_EXTERNAL,
					  K8SNET_SERVICE_IP_LB_INGRESS };
	size_t k, i, n = 0;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		if (kinds[k] == K8SNET_SERVICE_IP_LB_INGRESS &&
		    svc->type != K8SNET_SERVICE_TYPE_LOAD_BALANCER)
			continue;
		for (i = 0; i < svc->nips[kinds[k]] && n < max; i++)
			if (svc->ips[kinds[k]][i].family == fam)
				dests[n++] = (struct nat_dest){ kinds[k], &svc->ips[kinds[k]][i],
								sp->port };
	}
	/* NodePorts outside the configured range are not ours to answer. */
	if (sp->node_port && svc->type != K8SNET_SERVICE_TYPE_CLUSTER_IP &&
	    sp->node_port >= p->cfg.np_min && sp->node_port <= p->cfg.np_max && n < max)
		dests[n++] = (struct nat_dest){ NAT_DEST_NODEPORT, NULL, sp->node_port };
	return n;
}

static void skip(struct builder *b, const char *fmt, ...) _printf_(2, 3);
static void skip(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vxasprintf(b, fmt, ap);
	va_end(ap);
	if (!s)
		return;
	if (k8s_grow_pow2(&b->f->skipped, b->f->nskipped, sizeof(s)) < 0) {
		free(s);
		fail(b, -ENOMEM);
		return;
	}
	b->f->skipped[b->f->nskipped++] = s;
}

static const char *dest_kind(uint32_t kind)
{
	switch (kind) {
	case K8SNET_SERVICE_IP_CLUSTER: return "clusterIP";
	case K8SNET_SERVICE_IP_EXTERNAL: return "externalIP";
	case K8SNET_SERVICE_IP_LB_INGRESS: return "load-balancer IP";
	}
	return "nodePort";
}

static void dest_text(const struct nat_dest *d, uint8_t proto, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";

	if (d->addr)
		nat_addr_str(d->addr, a, sizeof(a));
	snprintf(buf, len, "%s %s%s%s/%u", dest_kind(d->kind), a, *a ? " " : "",
		 proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : "SCTP", d->port);
}

/* Does this fragment get the key?  Its service must hold it, and must not
 * have used it already (a port or address listed twice). */
static bool take_claim(struct builder *b, char *key, const char *what)
{
	const struct nat_entry *holder;
	size_t i;

	if (!key) {
		fail(b, -ENOMEM);
		return false;
	}
	for (i = 0; i < b->nused; i++)
		if (strcmp(b->used[i], key) == 0) {
			skip(b, "%s: listed twice", what);
			free(key);
			return false;
		}
	holder = nat_claim_holder(b->p, key);
	if (holder && holder != b->e) {
		skip(b, "%s: held by service %s, which is older", what, holder->key);
		free(key);
		return false;
	}
	if (k8s_grow_pow2(&b->used, b->nused, sizeof(key)) < 0) {
		free(key);
		fail(b, -ENOMEM);
		return false;
	}
	b->used[b->nused++] = key;
	return true;
}

/* The destinations of one service port this fragment may program. */
static size_t kept_dests(struct builder *b, const struct nat_port *sp, struct nat_dest *dests)
{
	size_t n = nat_port_dests(b->p, b->e->svc, sp, b->fam, dests, nat_port_dests_max(b->e->svc));
	size_t i, k = 0;
	char what[96];

	for (i = 0; i < n; i++) {
		dest_text(&dests[i], sp->proto, what, sizeof(what));
		if (take_claim(b, nat_claim_key(b->fam, &dests[i], sp->proto), what))
			dests[k++] = dests[i];
	}
	return k;
}

static void dispatch(struct builder *b, struct sp_plan *s, const struct nat_dest *dests, size_t n,
		     const char *internal, const char *np_chain, bool reject)
{
	const char *ext = reject ? "no-endpoints" : s->ext_chain;
	const char *lb = reject ? "no-endpoints" : s->fw_chain ? s->fw_chain : s->ext_chain;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (dests[i].kind) {
		case K8SNET_SERVICE_IP_CLUSTER:
			add_dispatch(b, dests[i].addr, s->sp, s->sp->port, internal);
			break;
		case K8SNET_SERVICE_IP_EXTERNAL:
			add_dispatch(b, dests[i].addr, s->sp, s->sp->port, ext);
			break;
		case K8SNET_SERVICE_IP_LB_INGRESS:
			add_dispatch(b, dests[i].addr, s->sp, s->sp->port, lb);
			break;
		default:
			add_dispatch(b, NULL, s->sp, s->sp->node_port,
				     reject ? "no-endpoints" : np_chain);
		}
	}
}

/* The kept addresses of some kinds, as a small array. */
static struct nat_addr *addrs_of(struct builder *b, const struct nat_dest *dests, size_t n,
				 bool internal, size_t *ret_n)
{
	struct nat_addr *v = NULL;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (dests[i].kind == NAT_DEST_NODEPORT ||
		    (dests[i].kind == K8SNET_SERVICE_IP_CLUSTER) != internal)
			continue;
		if (k8s_grow_pow2(&v, k, sizeof(*v)) < 0) {
			fail(b, -ENOMEM);
			break;
		}
		v[k++] = *dests[i].addr;
	}
	*ret_n = k;
	return v;
}

static bool has_kind(const struct nat_dest *dests, size_t n, uint32_t kind)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dests[i].kind == kind)
			return true;
	return false;
}

/* Where ClusterIP traffic goes: straight to a shared pick chain when it
 * can (no chain of its own at all), else to svc-... */
static char *internal_target(struct builder *b, struct sp_plan *s)
{
	const struct eplist *eps = s->svc->flags & K8SNET_SERVICE_F_ITP_LOCAL ? &s->local : &s->cluster;
	struct nat_chain *c;

	if (!eps->n)
		return strdup("no-local-endpoints");
	s->pick_kind = "";
	if (!(s->svc->flags & K8SNET_SERVICE_F_AFFINITY))
		return use_pick_chain(b, s, eps);
	c = add_chain(b, strdup(s->svc_chain));
	if (nat_masq_outside(&b->p->cfg, b->fam))
		add_rule(b, c, new_rule(b, R_JUMP, "masq-outside"));
	affinity_rules(b, s, c, eps);
	return strdup(s->svc_chain);
}

static void add_ctflow(struct builder *b, const struct nat_dest *d, uint8_t proto,
		       const struct nat_ep *ep)
{
	struct nat_ctflow *f;

	if (k8s_grow_pow2(&b->f->ctflows, b->f->nctflows, sizeof(*f)) < 0) {
		fail(b, -ENOMEM);
		return;
	}
	f = &b->f->ctflows[b->f->nctflows++];
	*f = (struct nat_ctflow){ .nodeport = !d->addr, .proto = proto, .port = d->port };
	if (d->addr)
		memcpy(f->daddr, d->addr->a, addr_len(b->fam));
	if (ep) {
		f->has_ep = true;
		memcpy(f->ep, ep->addr.a, addr_len(b->fam));
		f->ep_port = ep->port;
	}
}

/* UDP and SCTP destinations and the endpoints behind each, as programmed:
 * what conntrack cleanup compares between syncs. */
static void record_ctflows(struct builder *b, const struct sp_plan *s, const struct nat_dest *dests,
			   size_t n)
{
	uint32_t local_flag;
	size_t i, k;

	if (s->sp->proto != IPPROTO_UDP && s->sp->proto != IPPROTO_SCTP)
		return;
	for (i = 0; i < n; i++) {
		const struct eplist *eps;

		local_flag = dests[i].kind == K8SNET_SERVICE_IP_CLUSTER ? K8SNET_SERVICE_F_ITP_LOCAL :
			     K8SNET_SERVICE_F_ETP_LOCAL;
		eps = !s->cluster.n ? &s->cluster : (s->svc->flags & local_flag) ? &s->local : &s->cluster;
		for (k = 0; k < eps->n; k++)
			add_ctflow(b, &dests[i], s->sp->proto, eps->v[k]);
		if (!eps->n)
			add_ctflow(b, &dests[i], s->sp->proto, NULL);
	}
}

static void plan_port(struct builder *b, const struct nat_entry *e, const struct nat_port *sp)
{
	const struct k8snet_service *svc = e->svc;
	struct eplist all = { 0 };
	struct sp_plan s = { .svc = svc, .sp = sp };
	struct nat_dest *dests = calloc(nat_port_dests_max(svc), sizeof(*dests));
	struct nat_addr *cips = NULL, *eips = NULL;
	size_t ncips = 0, neips = 0, ndests = 0, i;
	char *np_chain = NULL, *internal = NULL;
	bool local = svc->flags & K8SNET_SERVICE_F_ETP_LOCAL;
	struct topology topo;

	s.base = xasprintf(b, "%s/%s/%s/%u", svc->ns, svc->name, nat_proto_name(sp->proto), sp->port);
	if (!s.base || !dests) {
		fail(b, -ENOMEM);
		goto out;
	}
	if (b->p->cfg.flags & K8SNET_PROXY_F_COUNT)
		add_counter(b, s.base);
	ndests = kept_dests(b, sp, dests);
	s.svc_chain = xasprintf(b, "svc-%s", s.base);
	cips = addrs_of(b, dests, ndests, true, &ncips);
	eips = addrs_of(b, dests, ndests, false, &neips);
	if (neips)
		s.ext_chain = xasprintf(b, "ext-%s", s.base);
	if (s.ext_chain && svc->type == K8SNET_SERVICE_TYPE_LOAD_BALANCER && has_ranges(svc, b->fam) &&
	    has_kind(dests, ndests, K8SNET_SERVICE_IP_LB_INGRESS))
		s.fw_chain = xasprintf(b, "fw-%s", s.base);
	if (has_kind(dests, ndests, NAT_DEST_NODEPORT))
		np_chain = xasprintf(b, "np-%s", s.base);
	collect_eps(b, e, sp, &all);
	topo = topology_of(b->p, svc, &all);
	usable_eps(b, &all, NULL, &topo, &s.cluster);
	if (b->p->cfg.node_name)
		usable_eps(b, &all, b->p->cfg.node_name, NULL, &s.local);
	for (i = 0; i < s.cluster.n; i++)
		add_hairpin(b, &s.cluster.v[i]->addr);
	record_ctflows(b, &s, dests, ndests);
	if (b->err || !s.svc_chain)
		goto out;
	if (!s.cluster.n) {
		/* No endpoints at all: reject at once, never a silent timeout. */
		dispatch(b, &s, dests, ndests, "no-endpoints", np_chain, true);
		goto out;
	}
	s.addrs = cips;
	s.naddrs = ncips;
	internal = ncips ? internal_target(b, &s) : strdup("no-endpoints");
	if (!internal) {
		fail(b, -ENOMEM);
		goto out;
	}
	dispatch(b, &s, dests, ndests, internal, np_chain, false);
	s.addrs = eips;
	s.naddrs = neips;
	s.pick_kind = local ? "local-" : "";
	if (s.ext_chain)
		external_chain(b, &s, s.ext_chain);
	if (s.fw_chain)
		firewall_chain(b, &s);
	s.pick_kind = "np-";
	if (np_chain)
		external_chain(b, &s, np_chain);
out:
	free(internal);
	free(all.v);
	free(s.cluster.v);
	free(s.local.v);
	free(s.base);
	free(s.svc_chain);
	free(s.ext_chain);
	free(s.fw_chain);
	free(np_chain);
	free(cips);
	free(eips);
	free(dests);
}

static bool applies(const struct k8snet_service *svc, int fam)
{
	size_t i;

	if (!svc || svc->type == K8SNET_SERVICE_TYPE_EXTERNAL_NAME)
		return false;
	for (i = 0; i < svc->nips[K8SNET_SERVICE_IP_CLUSTER]; i++)
		if (svc->ips[K8SNET_SERVICE_IP_CLUSTER][i].family == fam)
			return true;
	return false;
}

/* Traffic to a ClusterIP on a port the service does not have is rejected,
 * like kube-proxy does: the address goes into cluster-ips. */
static void plan_cluster_ips(struct builder *b)
{
	const struct k8snet_service *svc = b->e->svc;
	char what[64], a[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < svc->nips[K8SNET_SERVICE_IP_CLUSTER] && !b->err; i++) {
		const struct nat_addr *ip = &svc->ips[K8SNET_SERVICE_IP_CLUSTER][i];
		struct nat_elem *el;

		if (ip->family != b->fam)
			continue;
		nat_addr_str(ip, a, sizeof(a));
		snprintf(what, sizeof(what), "clusterIP %s", a);
		if (!take_claim(b, nat_claim_key_cluster_ip(ip), what))
			continue;
		el = calloc(1, sizeof(*el));
		if (!el) {
			fail(b, -ENOMEM);
			break;
		}
		el->set = S_CLUSTER_IPS;
		memcpy(el->key, ip->a, addr_len(b->fam));
		el->klen = (uint8_t)addr_len(b->fam);
		add_elem(b, el);
	}
}

int nat_plan_entry(struct k8snet_proxy *p, const struct nat_entry *e, int fam,
		   struct nat_frag **ret)
{
	struct builder b = { .p = p, .e = e, .fam = fam, .ipfam = fam == AF_INET ? "ip" : "ip6" };
	size_t i;

	*ret = NULL;
	if (!applies(e->svc, fam))
		return 0;
	b.f = calloc(1, sizeof(*b.f));
	if (!b.f)
		return -ENOMEM;
	b.f->what = xasprintf(&b, "service %s", e->key);
	for (i = 0; i < e->svc->nports && !b.err; i++)
		plan_port(&b, e, &e->svc->ports[i]);
	plan_cluster_ips(&b);
	if (b.f->nctflows)
		qsort(b.f->ctflows, b.f->nctflows, sizeof(*b.f->ctflows), nat_ctflow_cmp);
	for (i = 0; i < b.nused; i++)
		free(b.used[i]);
	free(b.used);
	if (b.err) {
		nat_frag_free(b.f);
		return b.err;
	}
	*ret = b.f;
	return 0;
}
