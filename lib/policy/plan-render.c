/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan as nft text (k8snet_policy_db_render, and each chain's text that
 * the delta compares). */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <string.h>

#include "policy/plan.h"

/* ---- nft text ---- */

static const char *ip_kw(uint8_t nfproto)
{
	return nfproto == NFPROTO_IPV6 ? "ip6" : "ip";
}

static void render_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' ? '\'' : *s, f);
	fputc('"', f);
}

void pl_rule_render(const struct pl_prule *r, FILE *f)
{
	char buf[64];
	size_t i;
	const char *sep = "";

	if (r->special == PL_R_CT_ACCEPT) {
		fputs("ct state established,related accept", f);
		goto comment;
	}
	if (r->nfproto) {
		fprintf(f, "meta nfproto %s", r->nfproto == NFPROTO_IPV4 ? "ipv4" : "ipv6");
		sep = " ";
	}
	if (r->special == PL_R_ND_ACCEPT) {
		fputs(" meta l4proto ipv6-icmp icmpv6 type 133-137 accept", f);
		goto comment;
	}
	if (r->special == PL_R_VMAP) {
		fprintf(f, "%s%s %s vmap @%s", sep, ip_kw(r->nfproto), r->addr_is_src ? "saddr" : "daddr",
			r->addr_set);
		goto comment;
	}
	if (r->addr_set) {
		fprintf(f, "%s%s %s @%s", sep, ip_kw(r->nfproto), r->addr_is_src ? "saddr" : "daddr",
			r->addr_set);
		sep = " ";
	}
	if (r->has_cidr) {
		const char *dir = r->cidr_is_src ? "saddr" : "daddr";

		fprintf(f, "%s%s %s %s", sep, ip_kw(r->nfproto), dir, pl_cidr_str(&r->cidr, buf));
		for (i = 0; i < r->nexcept; i++)
			fprintf(f, " %s %s != %s", ip_kw(r->nfproto), dir, pl_cidr_str(&r->except[i], buf));
		sep = " ";
	}
	if (r->named_set) {
		fprintf(f, "%s%s daddr . meta l4proto . th dport @%s", sep, ip_kw(r->nfproto),
			r->named_set);
		sep = " ";
	}
	if (r->l4proto && !r->named_set) {
		fprintf(f, "%smeta l4proto %s", sep, pl_proto_lower(r->l4proto));
		if (r->port_lo && r->port_lo == r->port_hi)
			fprintf(f, " th dport %u", r->port_lo);
		else if (r->port_lo)
			fprintf(f, " th dport %u-%u", r->port_lo, r->port_hi);
		sep = " ";
	}
	if (r->log || r->count) {
		fputs(sep, f);
		pl_log_render(r, f);
		sep = " ";
	}
	switch (r->verdict) {
	case PL_V_ACCEPT:
		fprintf(f, "%saccept", sep);
		break;
	case PL_V_DROP:
		fprintf(f, "%sdrop", sep);
		break;
	case PL_V_JUMP:
		fprintf(f, "%sjump %s", sep, r->target);
		break;
	case PL_V_NONE:
		break;
	}
comment:
	if (r->comment) {
		fputs(" comment ", f);
		render_quoted(f, r->comment);
	}
}

static void render_key(FILE *f, enum pl_key_kind kind, const uint8_t *key)
{
	struct pl_addr a = { .family = kind == PL_K_ADDR4 || kind == PL_K_NAMED4 ? AF_INET : AF_INET6 };
	size_t off = a.family == AF_INET ? 4 : 16;
	char buf[64];
	uint16_t port;

	memcpy(a.a, key, off);
	fputs(pl_addr_str(&a, buf), f);
	if (kind == PL_K_NAMED4 || kind == PL_K_NAMED6) {
		memcpy(&port, key + off + 4, 2);
		fprintf(f, " . %s . %u", pl_proto_lower(key[off]), ntohs(port));
	}
}

static const char *key_type(enum pl_key_kind k)
{
	static const char *const t[] = { "ipv4_addr", "ipv6_addr",
		"ipv4_addr . inet_proto . inet_service", "ipv6_addr . inet_proto . inet_service" };

	return t[k];
}

int pl_plan_render(const struct pl_plan *p, FILE *f)
{
	size_t i, j;

	fprintf(f, "table inet %s {\n", PL_TABLE);
	pl_log_render_counters(p, f);
	for (i = 0; i < p->nsets; i++) {
		const struct pl_pset *s = &p->sets[i];

		fprintf(f, "\t%s %s {\n\t\ttype %s%s\n", s->is_map ? "map" : "set", s->name,
			key_type(s->kind), s->is_map ? " : verdict" : "");
		if (s->comment) {
			fputs("\t\tcomment ", f);
			render_quoted(f, s->comment);
			fputc('\n', f);
		}
		if (s->n) {
			fputs("\t\telements = { ", f);
			for (j = 0; j < s->n; j++) {
				fputs(j ? ",\n\t\t\t     " : "", f);
				render_key(f, s->kind, s->e[j].key);
				if (s->is_map)
					fprintf(f, " : jump %s", s->e[j].chain);
			}
			fputs(" }\n", f);
		}
		fputs("\t}\n", f);
	}
	for (i = 0; i < p->nchains; i++) {
		const struct pl_pchain *c = &p->chains[i];

		fprintf(f, "\n\tchain %s {\n", c->name);
		if (c->hook >= 0)
			fprintf(f, "\t\ttype filter hook %s priority %d; policy accept;\n",
				c->hook == NF_INET_FORWARD ? "forward" : "prerouting", c->prio);
		for (j = 0; j < c->n; j++) {
			fputs("\t\t", f);
			pl_rule_render(&c->r[j], f);
			fputc('\n', f);
		}
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

K8SNET_EXPORT int k8snet_policy_db_render(struct k8snet_policy_db *db, const char *node,
					  char **ret_text)
{
	struct pl_plan *p = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, node && *node && ret_text);
	r = pl_plan_build(db, node, &p);
	if (r < 0)
		return k8s_error(db->ctx, r, "cannot build the ruleset: %s", k8snet_strerror(r));
	f = open_memstream(&buf, &size);
	if (!f) {
		pl_plan_free(p);
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	}
	r = pl_plan_render(p, f);
	fclose(f);
	pl_plan_free(p);
	if (r < 0) {
		free(buf);
		return k8s_error(db->ctx, r, "cannot render the ruleset");
	}
	*ret_text = buf;
	return 0;
}
