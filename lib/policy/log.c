/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verdict logging: connections NetworkPolicy drops (rate limited), and
 * optionally the new ones a rule admits, go to NFLOG with a prefix that names
 * the verdict, the direction and the policies, which k8snet_observe decodes:
 *
 *   "k8snet deny ingress NS/A, NS/B"           (the isolating policies)
 *   "k8snet allow egress NS/P egress[0] to[1]" (the rule that admitted it)
 *
 * Node-wide with k8snet_policy_db_set_log(); per policy with the annotation
 * k8snet.io/log-verdicts: "denied", "allowed" or "denied,allowed".  The plan
 * (plan.c) asks here what to add; this file keeps the formats in one place.
 *
 * Counters (K8SNET_POLICY_F_COUNT) are named objects of the table, two per
 * policy: "pol/NS/NAME/allowed", referenced by the policy's accepting
 * rules, and "pol/NS/NAME/denied", referenced by the drop rule of every
 * group chain the policy isolates (a packet dropped for pods isolated by
 * two policies counts for both).  Rules name them; the names follow from
 * the rules' comments, so the plan needs nothing more.  Rewriting rules
 * leaves the objects alone, and a table replace carries their values over.
 */
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "policy/plan.h"
#include "nft/nft.h"

#include <linux/netfilter/nf_tables.h>

#define LOG_GROUP_DEFAULT 100u
#define LOG_RATE_DEFAULT 10u
#define LOG_BURST 5u

K8SNET_EXPORT int k8snet_policy_db_set_log(struct k8snet_policy_db *db, uint32_t flags,
					   uint32_t nflog_group, uint32_t rate)
{
	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	if (flags & ~(K8SNET_POLICY_F_LOG_DENIED | K8SNET_POLICY_F_LOG_ALLOWED | K8SNET_POLICY_F_COUNT))
		return k8s_error_at(db->ctx, -EINVAL, "flags", "0x%x: unknown flags", flags);
	if (nflog_group > 65535)
		return k8s_error_at(db->ctx, -ERANGE, "nflog_group", "%u: must be 0..65535",
				    nflog_group);
	if (rate > 1000000)
		return k8s_error_at(db->ctx, -ERANGE, "rate", "%u: at most 1000000 per second", rate);
	db->log_flags = flags;
	db->log_group = nflog_group ? nflog_group : LOG_GROUP_DEFAULT;
	db->log_rate = rate ? rate : LOG_RATE_DEFAULT;
	db->log_set = true;
	db->struct_dirty = true;
	return 0;
}

/* The annotation's value into K8SNET_POLICY_LOG_* flags. */
int pl_log_parse_annotation(const char *value, uint32_t *ret)
{
	const char *p = value;

	*ret = 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 6 && strncmp(p, "denied", 6) == 0)
			*ret |= K8SNET_POLICY_F_LOG_DENIED;
		else if (n == 7 && strncmp(p, "allowed", 7) == 0)
			*ret |= K8SNET_POLICY_F_LOG_ALLOWED;
		else if (!(n == 4 && strncmp(p, "none", 4) == 0))
			return -EINVAL;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

static uint16_t group_of(const struct k8snet_policy_db *db)
{
	return (uint16_t)(db->log_set ? db->log_group : LOG_GROUP_DEFAULT);
}

/* "pin/NS/NAME" or "peg/NS/NAME" -> the policy. */
static const struct pl_policy *policy_of_chain(const struct k8snet_policy_db *db,
					       const char *chain)
{
	size_t idx;

	if (strlen(chain) < 5 || !k8s_map_get_index(&db->pol_by_name, chain + 4, &idx))
		return NULL;
	return &db->pol[idx];
}

bool pl_log_deny_rule(const struct k8snet_policy_db *db, const char *const *targets, size_t n,
		      bool ingress, const char *policies, struct pl_prule *r, char **ret_comment)
{
	bool want = db->log_flags & K8SNET_POLICY_F_LOG_DENIED;
	size_t i;

	for (i = 0; i < n && !want; i++) {
		const struct pl_policy *pol = policy_of_chain(db, targets[i]);

		want = pol && (pol->log & K8SNET_POLICY_F_LOG_DENIED);
	}
	if (!want)
		return false;
	*r = (struct pl_prule){ .log = PL_LOG_DENY, .log_group = group_of(db),
				.log_rate = db->log_set ? db->log_rate : LOG_RATE_DEFAULT };
	if (asprintf(ret_comment, "k8snet deny %s %s", ingress ? "ingress" : "egress",
		     policies) < 0)
		*ret_comment = NULL;
	return true;
}

void pl_log_allow(const struct k8snet_policy_db *db, const struct pl_policy *pol,
		  struct pl_prule *r)
{
	r->count = db->log_flags & K8SNET_POLICY_F_COUNT;
	if (!((db->log_flags | pol->log) & K8SNET_POLICY_F_LOG_ALLOWED))
		return;
	r->log = PL_LOG_ALLOW;
	r->log_group = group_of(db);
}

void pl_log_drop(const struct k8snet_policy_db *db, struct pl_prule *r)
{
	r->count = db->log_flags & K8SNET_POLICY_F_COUNT;
}

/* The NFLOG prefix of a logging rule, from its comment. */
static void prefix(const struct pl_prule *r, char *buf, size_t len)
{
	const char *c = r->comment ? r->comment : "";
	const char *sp = strchr(c, ' ');
	size_t dir = sp ? strcspn(sp + 1, "[") : 0;

	if (r->log == PL_LOG_DENY)
		snprintf(buf, len, "%s", c);
	else
		snprintf(buf, len, "k8snet allow %.*s %s", (int)dir, sp ? sp + 1 : "", c);
}

/* ---- counter names ---- */

static bool names_push(struct pl_names *n, char *name)
{
	char **v;

	if (!name)
		return false;
	if (n->n == n->cap) {
		v = realloc(n->v, (n->cap ? 2 * n->cap : 16) * sizeof(*v));
		if (!v) {
			free(name);
			return false;
		}
		n->v = v;
		n->cap = n->cap ? 2 * n->cap : 16;
	}
	n->v[n->n++] = name;
	return true;
}

void pl_names_free(struct pl_names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

static char *counter_name(const char *key, size_t klen, const char *what)
{
	char *s;

	return asprintf(&s, "pol/%.*s/%s", (int)klen, key, what) < 0 ? NULL : s;
}

/* The counters a rule updates, from its comment: accepting rules say
 * "NS/NAME ingress[0] ...", drop rules "isolated for ingress by NS/A, NS/B"
 * (plan.c).  false on ENOMEM. */
static bool rule_counters(const struct pl_prule *r, struct pl_names *out)
{
	static const char *const drops[] = { "isolated for ingress by ", "isolated for egress by " };
	const char *c = r->comment, *p;
	size_t i, n;

	if (!r->count || !c)
		return true;
	if (r->verdict == PL_V_ACCEPT)
		return names_push(out, counter_name(c, strcspn(c, " "), "allowed"));
	for (i = 0; i < ARRAY_SIZE(drops); i++) {
		if (strncmp(c, drops[i], strlen(drops[i])) != 0)
			continue;
		for (p = c + strlen(drops[i]); *p; p += n) {
			n = strcspn(p, ",");
			if (!names_push(out, counter_name(p, n, "denied")))
				return false;
			while (p[n] == ',' || p[n] == ' ')
				n++;
		}
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort_unique(struct pl_names *n)
{
	size_t i, j = 0;

	if (!n->n)
		return;
	qsort(n->v, n->n, sizeof(*n->v), cmp_str);
	for (i = 0; i < n->n; i++)
		if (j && strcmp(n->v[i], n->v[j - 1]) == 0)
			free(n->v[i]);
		else
			n->v[j++] = n->v[i];
	n->n = j;
}

int pl_counters_of_chains(const struct pl_pchain *c, size_t nchains, struct pl_names *ret)
{
	size_t i, j;

	for (i = 0; i < nchains; i++)
		for (j = 0; j < c[i].n; j++)
			if (!rule_counters(&c[i].r[j], ret)) {
				pl_names_free(ret);
				return -ENOMEM;
			}
	names_sort_unique(ret);
	return 0;
}

bool pl_names_has(const struct pl_names *n, const char *name)
{
	return n->n && bsearch(&name, n->v, n->n, sizeof(*n->v), cmp_str);
}

void pl_log_render_counters(const struct pl_plan *p, FILE *f)
{
	struct pl_names n = { 0 };
	size_t i;

	if (pl_counters_of_chains(p->chains, p->nchains, &n) < 0)
		return;
	for (i = 0; i < n.n; i++)
		fprintf(f, "\tcounter %s {\n\t}\n\n", n.v[i]);
	pl_names_free(&n);
}

void pl_log_render(const struct pl_prule *r, FILE *f)
{
	struct pl_names n = { 0 };
	char buf[512];
	const char *s;
	size_t i;

	if (r->count && rule_counters(r, &n))
		for (i = 0; i < n.n; i++)
			fprintf(f, "%scounter name \"%s\"", i ? " " : "", n.v[i]);
	if (r->count && r->log)
		fputc(' ', f);
	pl_names_free(&n);
	if (!r->log)
		return;
	prefix(r, buf, sizeof(buf));
	if (r->log == PL_LOG_DENY)
		fprintf(f, "limit rate %u/second burst %u packets ", r->log_rate, LOG_BURST);
	fprintf(f, "log group %u prefix \"", r->log_group);
	for (s = buf; *s && s - buf < 127; s++)
		fputc(*s == '"' ? '\'' : *s, f);
	fputc('"', f);
}

void pl_log_exprs(struct nft_rule *nr, const struct pl_prule *r)
{
	struct pl_names n = { 0 };
	char buf[512];
	size_t i;

	if (r->count && !rule_counters(r, &n))
		nft_rule_fail(nr, -ENOMEM);
	for (i = 0; i < n.n; i++)
		nft_e_objref(nr, NFT_OBJECT_COUNTER, n.v[i]);
	pl_names_free(&n);
	if (!r->log)
		return;
	prefix(r, buf, sizeof(buf));
	if (r->log == PL_LOG_DENY)
		nft_e_limit_pkts(nr, r->log_rate, LOG_BURST);
	nft_e_log(nr, r->log_group, buf);
}

/* ---- counters: creating, carrying over, reading ---- */

struct pl_carry_one {
	char *name;
	uint64_t packets, bytes;
};

static int carry_cb(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	struct pl_carry *c = data;
	struct pl_carry_one *v;

	if (c->n == c->cap) {
		v = realloc(c->v, (c->cap ? 2 * c->cap : 16) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = c->cap ? 2 * c->cap : 16;
	}
	c->v[c->n].name = strdup(name);
	if (!c->v[c->n].name)
		return -ENOMEM;
	c->v[c->n].packets = packets;
	c->v[c->n].bytes = bytes;
	c->n++;
	return 0;
}

static int cmp_carry(const void *a, const void *b)
{
	return strcmp(((const struct pl_carry_one *)a)->name, ((const struct pl_carry_one *)b)->name);
}

int pl_carry_read(struct k8snet_policy_db *db, struct pl_carry *ret)
{
	int r = nft_dump_counters(db->ctx, NFPROTO_INET, PL_TABLE, NULL, carry_cb, ret);

	if (r == -ENOENT)
		r = 0;
	if (r >= 0 && ret->n)
		qsort(ret->v, ret->n, sizeof(*ret->v), cmp_carry);
	return r;
}

void pl_carry_free(struct pl_carry *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* NEWOBJ of a counter that exists leaves it (and its count) alone: the
 * kernel updates only objects that can be, and counters cannot. */
void pl_counters_msgs(struct nft_batch *b, const struct pl_names *n, const struct pl_carry *carry,
		      const struct pl_names *except, uint16_t type)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct pl_carry_one key = { .name = n->v[i] }, *v = NULL;
		struct nft_counter_def c = { n->v[i], 0, 0 };

		if (except && pl_names_has(except, n->v[i]))
			continue;
		if (carry && carry->n)
			v = bsearch(&key, carry->v, carry->n, sizeof(*carry->v), cmp_carry);
		if (v) {
			c.packets = v->packets;
			c.bytes = v->bytes;
		}
		nft_batch_owner(b, "counter %s", n->v[i]);
		nft_batch_counter(b, type, NFPROTO_INET, PL_TABLE, &c);
	}
}

static int add_up(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	uint64_t *v = data;

	(void)name;
	v[0] += packets;
	v[1] += bytes;
	return 0;
}

static int read_counter(struct k8snet_policy_db *db, const char *key, const char *what,
			uint64_t v[2])
{
	_cleanup_(freep) char *name = counter_name(key, strlen(key), what);
	int r;

	if (!name)
		return -ENOMEM;
	r = nft_dump_counters(db->ctx, NFPROTO_INET, PL_TABLE, name, add_up, v);
	/* Not there: the policy selects no pod here, or no sync counted yet. */
	return r == -ENOENT ? 0 : r;
}

K8SNET_EXPORT int k8snet_policy_db_get_counters(struct k8snet_policy_db *db, const char *ns,
						const char *name, uint64_t *allowed_packets,
						uint64_t *allowed_bytes, uint64_t *denied_packets,
						uint64_t *denied_bytes)
{
	_cleanup_(freep) char *key = NULL;
	uint64_t v[4] = { 0 };
	size_t idx;
	int r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, ns && name);
	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	if (!k8s_map_get_index(&db->pol_by_name, key, &idx))
		return k8s_error_at(db->ctx, -ENOENT, "name", "NetworkPolicy %s: not found", key);
	r = read_counter(db, key, "allowed", v);
	if (r >= 0)
		r = read_counter(db, key, "denied", v + 2);
	if (r < 0)
		return k8s_error(db->ctx, r, "reading the counters of table inet %s: %s", PL_TABLE,
				 strerror(-r));
	if (allowed_packets)
		*allowed_packets = v[0];
	if (allowed_bytes)
		*allowed_bytes = v[1];
	if (denied_packets)
		*denied_packets = v[2];
	if (denied_bytes)
		*denied_bytes = v[3];
	return 0;
}
