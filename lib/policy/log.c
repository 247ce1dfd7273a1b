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
 */
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "policy/plan.h"

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

	if (strlen(chain) < 5 || !pl_map_get(&db->pol_by_name, chain + 4, &idx))
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

void pl_log_render(const struct pl_prule *r, FILE *f)
{
	char buf[512];
	const char *s;

	if (r->count)
		fputs(r->log ? "counter " : "counter", f);
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
	char buf[512];

	if (r->count)
		nft_e_counter(nr);
	if (!r->log)
		return;
	prefix(r, buf, sizeof(buf));
	if (r->log == PL_LOG_DENY)
		nft_e_limit_pkts(nr, r->log_rate, LOG_BURST);
	nft_e_log(nr, r->log_group, buf);
}

/* ---- counters ---- */

struct tally {
	const char *key;           /* "ns/name" */
	size_t klen;
	uint64_t v[4];             /* allowed packets, bytes, denied packets, bytes */
};

/* Whether list ("ns/a, ns/b") names key. */
static bool lists(const char *list, const struct tally *t)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == t->klen && strncmp(p, t->key, n) == 0)
			return true;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return false;
}

/* Accept rules say "NS/NAME ingress[0] ..."; drop rules "isolated for
 * ingress by NS/A, NS/B" (plan.c). */
static int tally_rule(void *data, const char *chain, const char *comment, uint64_t packets,
		      uint64_t bytes)
{
	struct tally *t = data;
	static const char *const drops[] = { "isolated for ingress by ", "isolated for egress by " };
	size_t i;

	(void)chain;
	if (strncmp(comment, t->key, t->klen) == 0 && comment[t->klen] == ' ') {
		t->v[0] += packets;
		t->v[1] += bytes;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(drops); i++)
		if (strncmp(comment, drops[i], strlen(drops[i])) == 0 &&
		    lists(comment + strlen(drops[i]), t)) {
			t->v[2] += packets;
			t->v[3] += bytes;
		}
	return 0;
}

K8SNET_EXPORT int k8snet_policy_db_get_counters(struct k8snet_policy_db *db, const char *ns,
						const char *name, uint64_t *allowed_packets,
						uint64_t *allowed_bytes, uint64_t *denied_packets,
						uint64_t *denied_bytes)
{
	_cleanup_(freep) char *key = NULL;
	struct tally t = { 0 };
	size_t idx;
	int r;

	K8S_FORK_GUARD(db);
	if (!db)
		return -EINVAL;
	K8S_CHECK_ARG(db->ctx, ns && name);
	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return k8s_error(db->ctx, -ENOMEM, "out of memory");
	if (!pl_map_get(&db->pol_by_name, key, &idx))
		return k8s_error_at(db->ctx, -ENOENT, "name", "NetworkPolicy %s: not found", key);
	t.key = key;
	t.klen = strlen(key);
	r = nft_dump_rule_counters(db->ctx, NFPROTO_INET, PL_TABLE, tally_rule, &t);
	if (r < 0 && r != -ENOENT)
		return k8s_error(db->ctx, r, "reading the counters of table inet %s: %s", PL_TABLE,
				 strerror(-r));
	if (allowed_packets)
		*allowed_packets = t.v[0];
	if (allowed_bytes)
		*allowed_bytes = t.v[1];
	if (denied_packets)
		*denied_packets = t.v[2];
	if (denied_bytes)
		*denied_bytes = t.v[3];
	return 0;
}
