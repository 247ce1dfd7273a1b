/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nft text of the ruleset, deterministic (chains and elements sorted).  It is
 * the ruleset sync programs, statement for statement. */
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

static const char *ipfam(int fam)
{
	return fam == AF_INET ? "ip" : "ip6";
}

static void addr_text(const struct nat_addr *a, struct k8s_buf *b, bool prefix)
{
	char buf[INET6_ADDRSTRLEN];

	nat_addr_str(a, buf, sizeof(buf));
	k8s_buf_printf(b, "%s", buf);
	if (prefix)
		k8s_buf_printf(b, "/%u", a->plen);
}

static void match_text(const struct nat_rule *r, int fam, struct k8s_buf *b)
{
	switch (r->match) {
	case M_SADDR_CIDR:
		k8s_buf_printf(b, "%s saddr ", ipfam(fam));
		addr_text(&r->cidr, b, true);
		k8s_buf_printf(b, " ");
		break;
	case M_FIB_SADDR_LOCAL:
		k8s_buf_printf(b, "fib saddr type local ");
		break;
	case M_NONE:
		break;
	}
}

static const char *numgen_mode(const struct k8snet_proxy *p)
{
	return p->cfg.flags & K8SNET_PROXY_F_ROUND_ROBIN ? "inc" : "random";
}

void nat_render_rule_text(const struct k8snet_proxy *p, int fam, struct nat_rule *r,
			  struct k8s_buf *b)
{
	uint32_t bit = 1u << p->cfg.mark_bit, i;

	match_text(r, fam, b);
	switch (r->kind) {
	case R_GOTO:
		k8s_buf_printf(b, "goto %s", r->target);
		break;
	case R_JUMP:
		k8s_buf_printf(b, "jump %s", r->target);
		break;
	case R_MARK_GOTO:
		k8s_buf_printf(b, "meta mark set meta mark | 0x%08x goto %s", bit, r->target);
		break;
	case R_MARK:
		k8s_buf_printf(b, "meta mark set meta mark | 0x%08x", bit);
		break;
	case R_PICK:
		k8s_buf_printf(b, "meta l4proto %s dnat %s to %s%smeta l4proto . th dport . numgen %s mod %u "
			    "map @%s", nat_proto_name(r->proto), ipfam(fam), r->nodeport ? "" : ipfam(fam),
			    r->nodeport ? "" : " daddr . ", numgen_mode(p), r->n,
			    r->nodeport ? "nodeport-endpoints" : "endpoints");
		break;
	case R_DROP:
		k8s_buf_printf(b, "drop");
		break;
	case R_AFF_CHECK:
		k8s_buf_printf(b, "%s saddr @%s goto %s", ipfam(fam), r->target, r->target2);
		break;
	case R_AFF_DNAT:
		k8s_buf_printf(b, "meta l4proto %s update @%s { %s saddr } dnat %s to %s",
			    nat_proto_name(r->proto),
			    r->target, ipfam(fam), ipfam(fam), fam == AF_INET6 ? "[" : "");
		addr_text(&r->addr, b, false);
		k8s_buf_printf(b, "%s:%u", fam == AF_INET6 ? "]" : "", r->port);
		break;
	case R_AFF_PICK:
		k8s_buf_printf(b, "numgen %s mod %u vmap { ", numgen_mode(p), r->n);
		for (i = 0; i < r->n; i++)
			k8s_buf_printf(b, "%s%u : goto %s", i ? ", " : "", i, r->targets[i]);
		k8s_buf_printf(b, " }");
		break;
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void nat_render_elem_text(int fam, const struct nat_elem *e, struct k8s_buf *b)
{
	size_t al = fam == AF_INET ? 4 : 16, off = 0;
	struct nat_addr a = { .family = fam };
	uint32_t idx;

	if (e->set == S_CLUSTER_IPS) {
		memcpy(a.a, e->key, al);
		addr_text(&a, b, false);
		return;
	}
	if (e->set == S_SERVICE_IPS || e->set == S_ENDPOINTS || e->set == S_SERVICE_COUNTERS ||
	    e->set == S_SERVICE_TRAFFIC) {
		memcpy(a.a, e->key, al);
		addr_text(&a, b, false);
		k8s_buf_printf(b, " . ");
		off = al;
	}
	k8s_buf_printf(b, "%s . %u", nat_proto_name(e->key[off]), be16(e->key + off + 4));
	if (e->chain) {
		k8s_buf_printf(b, " : goto %s", e->chain);
		return;
	}
	if (e->obj) {
		k8s_buf_printf(b, " : \"%s\"", e->obj);
		return;
	}
	memcpy(&idx, e->key + off + 8, 4);
	memcpy(a.a, e->data, al);
	k8s_buf_printf(b, " . %u : ", idx);
	addr_text(&a, b, false);
	k8s_buf_printf(b, " . %u", be16(e->data + al));
}

int nat_elem_cmp(const struct nat_elem *a, const struct nat_elem *b)
{
	int c;

	if (a->set != b->set)
		return (int)a->set - (int)b->set;
	if (a->klen != b->klen || a->dlen != b->dlen)
		return a->klen != b->klen ? (int)a->klen - (int)b->klen : (int)a->dlen - (int)b->dlen;
	if ((c = memcmp(a->key, b->key, a->klen)) || (c = memcmp(a->data, b->data, a->dlen)))
		return c;
	if (a->obj || b->obj) {
		if (!a->obj || !b->obj)
			return !!a->obj - !!b->obj;
		return strcmp(a->obj, b->obj);
	}
	if (!a->chain || !b->chain)
		return !!a->chain - !!b->chain;
	return strcmp(a->chain, b->chain);
}

/* ---------------- whole table ---------------- */

static int cmp_chain(const void *x, const void *y)
{
	return strcmp((*(struct nat_chain *const *)x)->name, (*(struct nat_chain *const *)y)->name);
}

static int cmp_elem(const void *x, const void *y)
{
	const struct nat_elem *a = *(struct nat_elem *const *)x, *b = *(struct nat_elem *const *)y;
	uint32_t ia, ib;
	int c;

	if (a->set != b->set || a->klen != b->klen)
		return a->set != b->set ? (int)a->set - (int)b->set : (int)a->klen - (int)b->klen;
	if (a->set != S_ENDPOINTS && a->set != S_NP_ENDPOINTS)
		return memcmp(a->key, b->key, a->klen);
	/* Endpoint keys end with a host-order index: sort it as a number. */
	if ((c = memcmp(a->key, b->key, a->klen - 4u)))
		return c;
	memcpy(&ia, a->key + a->klen - 4, 4);
	memcpy(&ib, b->key + b->klen - 4, 4);
	return ia < ib ? -1 : ia > ib;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void render_pick(const struct k8snet_proxy *p, int fam, const char *name, struct k8s_buf *b)
{
	struct nat_rule rules[4];
	size_t i, n = nat_pick_rules(p, fam, name, rules);

	k8s_buf_printf(b, "\n\tchain %s {\n", name);
	for (i = 0; i < n; i++) {
		k8s_buf_printf(b, "\t\t");
		nat_render_rule_text(p, fam, &rules[i], b);
		k8s_buf_printf(b, "\n");
	}
	k8s_buf_printf(b, "\t}\n");
}

static int cmp_aset(const void *x, const void *y)
{
	return strcmp((*(struct nat_aset *const *)x)->name, (*(struct nat_aset *const *)y)->name);
}

static int cmp_addr(const void *x, const void *y)
{
	return memcmp(((const struct nat_addr *)x)->a, ((const struct nat_addr *)y)->a, 16);
}

struct collected {
	struct ptrvec chains, elems, asets, picks, counters;
	struct nat_addr *hairpin;
	size_t nhairpin;
};

static int collect(struct collected *c, struct nat_frag *f)
{
	size_t i;

	for (i = 0; i < f->nchains; i++)
		if (nat_ptrvec_push(&c->chains, f->chains[i]) < 0)
			return -ENOMEM;
	for (i = 0; i < f->nelems; i++)
		if (nat_ptrvec_push(&c->elems, f->elems[i]) < 0)
			return -ENOMEM;
	for (i = 0; i < f->nasets; i++)
		if (nat_ptrvec_push(&c->asets, f->asets[i]) < 0)
			return -ENOMEM;
	for (i = 0; i < f->npicks; i++)
		if (nat_ptrvec_push(&c->picks, f->picks[i]) < 0)
			return -ENOMEM;
	for (i = 0; i < f->ncounters; i++)
		if (nat_ptrvec_push(&c->counters, f->counters[i]) < 0)
			return -ENOMEM;
	for (i = 0; i < f->nhairpin; i++) {
		if (k8s_grow_pow2(&c->hairpin, c->nhairpin, sizeof(*c->hairpin)) < 0)
			return -ENOMEM;
		c->hairpin[c->nhairpin++] = f->hairpin[i];
	}
	return 0;
}

static void render_elems(struct k8s_buf *b, int fam, const struct collected *c, enum nat_set_id set)
{
	bool first = true;
	size_t i;

	for (i = 0; i < c->elems.n; i++) {
		const struct nat_elem *el = c->elems.v[i];

		if (el->set != set)
			continue;
		k8s_buf_printf(b, "%s\n\t\t\t", first ? "\t\telements = {" : ",");
		nat_render_elem_text(fam, el, b);
		first = false;
	}
	if (!first)
		k8s_buf_printf(b, "\n\t\t}\n");
}

static void render_sets(struct k8snet_proxy *p, int fam, struct k8s_buf *b,
			const struct collected *c)
{
	const char *at = fam == AF_INET ? "ipv4_addr" : "ipv6_addr";
	size_t i;

	k8s_buf_printf(b, "\tmap service-ips {\n\t\ttype %s . inet_proto . inet_service : verdict\n", at);
	render_elems(b, fam, c, S_SERVICE_IPS);
	k8s_buf_printf(b, "\t}\n\n\tmap service-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n");
	render_elems(b, fam, c, S_NODEPORTS);
	/* nft's language has no sized integer type: typeof gives the same key. */
	k8s_buf_printf(b, "\t}\n\n\tmap endpoints {\n\t\ttypeof %s daddr . meta l4proto . th dport . "
		    "numgen inc mod 1 : %s daddr . tcp dport\n", ipfam(fam), ipfam(fam));
	render_elems(b, fam, c, S_ENDPOINTS);
	k8s_buf_printf(b, "\t}\n\n\tmap nodeport-endpoints {\n\t\ttypeof meta l4proto . th dport . "
		    "numgen inc mod 1 : %s daddr . tcp dport\n", ipfam(fam));
	render_elems(b, fam, c, S_NP_ENDPOINTS);
	k8s_buf_printf(b, "\t}\n\n\tset cluster-ips {\n\t\ttype %s\n", at);
	render_elems(b, fam, c, S_CLUSTER_IPS);
	k8s_buf_printf(b, "\t}\n\n\tset hairpin {\n\t\ttype %s . %s\n", at, at);
	for (i = 0; i < c->nhairpin; i++) {
		if (i && cmp_addr(&c->hairpin[i], &c->hairpin[i - 1]) == 0)
			continue;
		k8s_buf_printf(b, "%s\n\t\t\t", i ? "," : "\t\telements = {");
		addr_text(&c->hairpin[i], b, false);
		k8s_buf_printf(b, " . ");
		addr_text(&c->hairpin[i], b, false);
	}
	k8s_buf_printf(b, "%s\t}\n", c->nhairpin ? "\n\t\t}\n" : "");
	if (p->cfg.flags & K8SNET_PROXY_F_COUNT) {
		k8s_buf_printf(b, "\n\tmap service-counters {\n\t\ttype %s . inet_proto . inet_service : "
			    "counter\n", at);
		render_elems(b, fam, c, S_SERVICE_COUNTERS);
		k8s_buf_printf(b, "\t}\n\n\tmap nodeport-counters {\n\t\ttype inet_proto . inet_service : "
			    "counter\n");
		render_elems(b, fam, c, S_NODEPORT_COUNTERS);
		k8s_buf_printf(b, "\t}\n\n\tmap service-traffic {\n\t\ttype %s . inet_proto . inet_service : "
			    "counter\n", at);
		render_elems(b, fam, c, S_SERVICE_TRAFFIC);
		k8s_buf_printf(b, "\t}\n\n\tmap nodeport-traffic {\n\t\ttype inet_proto . inet_service : "
			    "counter\n");
		render_elems(b, fam, c, S_NODEPORT_TRAFFIC);
		k8s_buf_printf(b, "\t}\n");
	}
	for (i = 0; i < c->asets.n; i++) {
		const struct nat_aset *s = c->asets.v[i];

		k8s_buf_printf(b, "\n\tset %s {\n\t\ttype %s\n\t\tflags dynamic,timeout\n"
			    "\t\ttimeout %us\n\t}\n", s->name, at, s->timeout);
	}
}

/* What nft_batch_base() loads with counting (see base_traffic() in nft.c):
 * nft types "ct original proto-dst" only after a protocol match. */
static void render_traffic_chains(int fam, struct k8s_buf *b)
{
	const char *f = ipfam(fam), *l4 = "meta l4proto { tcp, udp, sctp }";

	k8s_buf_printf(b, "\n\tchain traffic {\n"
		    "\t\t%s counter name ct original %s daddr . meta l4proto . ct original proto-dst "
		    "map @service-traffic\n"
		    "\t\tct status dnat ct original %s daddr != @cluster-ips %s counter name "
		    "meta l4proto . ct original proto-dst map @nodeport-traffic\n\t}\n", l4, f, f, l4);
	k8s_buf_printf(b, "\n\tchain traffic-input {\n\t\ttype filter hook input priority 0; policy accept;\n"
		    "\t\tmeta iiftype loopback return\n\t\tjump traffic\n\t}\n");
	k8s_buf_printf(b, "\n\tchain traffic-forward {\n\t\ttype filter hook forward priority 0; policy accept;\n"
		    "\t\tjump traffic\n\t}\n");
	k8s_buf_printf(b, "\n\tchain traffic-output {\n\t\ttype filter hook output priority 0; policy accept;\n"
		    "\t\tjump traffic\n\t}\n");
}

static void render_base_chains(struct k8snet_proxy *p, int fam, struct k8s_buf *b)
{
	const struct nat_config *cfg = &p->cfg;
	const char *f = ipfam(fam);
	uint32_t bit = 1u << cfg->mark_bit;
	const struct nat_addr *np;
	bool count = cfg->flags & K8SNET_PROXY_F_COUNT;
	const char *np_count = "counter name meta l4proto . th dport map @nodeport-counters";
	const char *np_dispatch = "meta l4proto . th dport vmap @service-nodeports";
	size_t i, k, nnp;

	k8s_buf_printf(b, "\n\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n"
		    "\t\tjump services\n\t}\n");
	k8s_buf_printf(b, "\n\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		    "\t\tjump services\n\t}\n");
	k8s_buf_printf(b, "\n\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n"
		    "\t\tmeta mark & 0x%08x == 0x%08x meta mark set meta mark ^ 0x%08x masquerade\n"
		    "\t\t%s saddr . %s daddr @hairpin masquerade\n\t}\n", bit, bit, bit, f, f);
	k8s_buf_printf(b, "\n\tchain services {\n");
	if (count)
		k8s_buf_printf(b, "\t\tcounter name %s daddr . meta l4proto . th dport map "
			    "@service-counters\n", f);
	k8s_buf_printf(b, "\t\t%s daddr . meta l4proto . th dport vmap @service-ips\n", f);
	np = nat_nodeport_addrs(cfg, fam, &nnp);
	for (k = count ? 0 : 1; !np && k < 2; k++)
		k8s_buf_printf(b, "\t\tfib daddr type local %s daddr != %s %s\n", f,
			    fam == AF_INET ? "127.0.0.0/8" : "::1", k ? np_dispatch : np_count);
	for (i = 0; i < nnp; i++) {
		if (np[i].family != fam)
			continue;
		for (k = count ? 0 : 1; k < 2; k++) {
			k8s_buf_printf(b, "\t\t%s daddr ", f);
			addr_text(&np[i], b, true);
			k8s_buf_printf(b, " %s\n", k ? np_dispatch : np_count);
		}
	}
	k8s_buf_printf(b, "\t\t%s daddr @cluster-ips goto no-endpoints\n", f);
	for (i = 0; i < cfg->n_service_cidrs; i++) {
		if (cfg->service_cidrs[i].family != fam)
			continue;
		k8s_buf_printf(b, "\t\t%s daddr ", f);
		addr_text(&cfg->service_cidrs[i], b, true);
		k8s_buf_printf(b, " drop\n");
	}
	k8s_buf_printf(b, "\t}\n\n\tchain masq-outside {\n");
	for (i = 0; !(cfg->flags & K8SNET_PROXY_F_MASQUERADE_ALL) && i < cfg->n_cluster_cidrs; i++) {
		if (cfg->cluster_cidrs[i].family != fam)
			continue;
		k8s_buf_printf(b, "\t\t%s saddr ", f);
		addr_text(&cfg->cluster_cidrs[i], b, true);
		k8s_buf_printf(b, " return\n");
	}
	if (nat_masq_outside(cfg, fam))
		k8s_buf_printf(b, "\t\tmeta mark set meta mark | 0x%08x\n", bit);
	k8s_buf_printf(b, "\t}\n\n\tchain no-endpoints {\n\t\tmeta l4proto tcp reject with tcp reset\n"
		    "\t\treject\n\t}\n\n\tchain no-local-endpoints {\n\t\tdrop\n\t}\n");
	if (count)
		render_traffic_chains(fam, b);
}

static int render_family(struct k8snet_proxy *p, int fam, struct k8s_buf *b, struct ptrvec *planned)
{
	struct collected c = { 0 };
	struct k8s_map_node *n;
	size_t i, j;
	int r = 0;

	k8s_map_for_each(&p->entries, i, n) {
		struct nat_entry *e = n->val;
		struct nat_frag *f;

		r = nat_plan_entry(p, e, fam, &f);
		if (r < 0)
			break;
		if (!f)
			continue;
		if (nat_ptrvec_push(planned, f) < 0) {
			nat_frag_free(f);
			r = -ENOMEM;
			break;
		}
		if ((r = collect(&c, f)) < 0)
			break;
	}
	if (r >= 0) {
		/* qsort() wants a non-NULL base even for zero items. */
		if (c.chains.n)
			qsort(c.chains.v, c.chains.n, sizeof(void *), cmp_chain);
		if (c.elems.n)
			qsort(c.elems.v, c.elems.n, sizeof(void *), cmp_elem);
		if (c.asets.n)
			qsort(c.asets.v, c.asets.n, sizeof(void *), cmp_aset);
		if (c.picks.n)
			qsort(c.picks.v, c.picks.n, sizeof(void *), cmp_str);
		if (c.nhairpin)
			qsort(c.hairpin, c.nhairpin, sizeof(*c.hairpin), cmp_addr);
		if (c.counters.n)
			qsort(c.counters.v, c.counters.n, sizeof(void *), cmp_str);
		k8s_buf_printf(b, "table %s %s {\n", ipfam(fam), p->cfg.table);
		for (i = 0; i < c.counters.n; i++)
			k8s_buf_printf(b, "\tcounter %s {\n\t}\n\n", (char *)c.counters.v[i]);
		render_sets(p, fam, b, &c);
		render_base_chains(p, fam, b);
		for (i = 0; i < c.picks.n; i++)
			if (i == 0 || strcmp(c.picks.v[i], c.picks.v[i - 1]) != 0)
				render_pick(p, fam, c.picks.v[i], b);
		for (i = 0; i < c.chains.n; i++) {
			const struct nat_chain *ch = c.chains.v[i];

			k8s_buf_printf(b, "\n\tchain %s {\n", ch->name);
			for (j = 0; j < ch->nrules; j++)
				k8s_buf_printf(b, "\t\t%s\n", ch->rules[j]->text);
			k8s_buf_printf(b, "\t}\n");
		}
		k8s_buf_printf(b, "}\n");
	}
	nat_ptrvec_free(&c.picks, NULL);
	nat_ptrvec_free(&c.counters, NULL);
	nat_ptrvec_free(&c.chains, NULL);
	nat_ptrvec_free(&c.elems, NULL);
	nat_ptrvec_free(&c.asets, NULL);
	free(c.hairpin);
	return r;
}

int nat_render(struct k8snet_proxy *p, char **ret)
{
	struct ptrvec planned = { 0 };
	struct k8s_buf b = { 0 };
	size_t i;
	int r;

	r = nat_claims_update(p);
	if (r >= 0)
		r = render_family(p, AF_INET, &b, &planned);
	if (r >= 0)
		k8s_buf_printf(&b, "\n");
	if (r >= 0)
		r = render_family(p, AF_INET6, &b, &planned);
	/* The same plan as a sync: report what it leaves out. */
	if (r >= 0)
		r = nat_skipped_collect(p, (struct nat_frag *const *)planned.v, planned.n);
	for (i = 0; i < planned.n; i++)
		nat_frag_free(planned.v[i]);
	nat_ptrvec_free(&planned, NULL);
	if (r < 0) {
		k8s_buf_free(&b);
		return r;
	}
	return k8s_buf_take(&b, ret);
}

K8SNET_EXPORT int k8snet_proxy_render(struct k8snet_proxy *p, char **ret_text)
{
	int r;

	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	K8S_CHECK_ARG(p->ctx, ret_text);
	r = nat_render(p, ret_text);
	if (r < 0)
		return k8s_error(p->ctx, r, "render: %s", k8snet_strerror(r));
	return 0;
}
