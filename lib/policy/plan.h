/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan: what the kernel should hold for one node, as plain data that can
 * be rendered as nft text, diffed against the previous plan, and turned into
 * netlink messages.  Ruleset shape (table inet k8snet-policy):
 *
 *   prerouting-egress  hook prerouting prio -90 (after Service DNAT at
 *                   -100): ct established,related accept;
 *                   ip/ip6 saddr vmap @egress4/@egress6 (local isolated pods)
 *   forward-ingress hook forward prio 0: ct established,related accept;
 *                   ip/ip6 daddr vmap @ingress4/@ingress6
 *   gin-HASH/geg-HASH  one chain per distinct set of isolating policies:
 *                   jump to each policy's chain, then drop
 *   pin/NS/NAME, peg/NS/NAME  a policy's rules: match, accept
 *   pods4-HASH ...  pod addresses of a peer selector (shared by identity)
 *   port4-HASH ...  addr . proto . port of a named port (all pods)
 *
 * An accept ends only its own base chain, so egress (prerouting) and
 * ingress (forward) are both judged for a new connection; replies pass by
 * conntrack.  Only two base chains bind the big verdict maps: adding a
 * jump element makes the kernel validate every chain reachable from them.
 * Pod churn changes set and map elements; policy changes rewrite one chain.
 */
#ifndef K8SNET_POLICY_PLAN_H
#define K8SNET_POLICY_PLAN_H

#include "core/vec.h"
#include "policy/internal.h"

#define PL_TABLE "k8snet-policy"

enum pl_key_kind { PL_K_ADDR4, PL_K_ADDR6, PL_K_NAMED4, PL_K_NAMED6 };

struct pl_elem {
	uint8_t key[24];
	const char *chain;        /* verdict maps: jump target (a plan chain's name) */
};

struct pl_pset {
	char *name;
	enum pl_key_kind kind;
	bool is_map;
	char *comment;
	size_t n, cap;
	struct pl_elem *e;        /* sorted by key once built */
	/* What decides membership, for incremental updates of pod churn: */
	bool is_peer;             /* pods of peer (selectors), policy namespace pol_ns */
	struct pl_peer peer;
	char *pol_ns;
	char *port_name;          /* named ports: name and protocol */
	uint8_t port_proto;
};

/* The addresses each pod had when the plan was made. */
struct pl_ppod {
	char *key;                /* "ns/name" */
	size_t nips;
	struct pl_addr *ips;
};

/* One element change of an incremental update. */
struct pl_eop {
	const struct pl_pset *set;
	bool add;
	uint8_t key[24];
	const char *chain;
};

struct pl_eops {
	size_t n, cap;
	struct pl_eop *v;
	size_t nchains, chains_cap;
	const char **chains;      /* group chains made by the update (names) */
};

enum pl_special { PL_R_PLAIN, PL_R_CT_ACCEPT, PL_R_VMAP, PL_R_ND_ACCEPT };
enum pl_verdict { PL_V_NONE, PL_V_ACCEPT, PL_V_DROP, PL_V_JUMP };
/* Verdict logging (log.c): a rate-limited rule of its own before a group
 * chain's drop; or logging inside a policy rule that accepts. */
enum pl_log { PL_LOG_NONE, PL_LOG_DENY, PL_LOG_ALLOW };

struct pl_prule {
	enum pl_special special;
	uint8_t nfproto;          /* 0, NFPROTO_IPV4, NFPROTO_IPV6 */
	const char *addr_set;     /* ip saddr/daddr @set */
	bool addr_is_src;
	bool has_cidr, cidr_is_src;
	struct pl_cidr cidr;
	size_t nexcept;
	struct pl_cidr *except;
	uint8_t l4proto;          /* 0 = any */
	uint16_t port_lo, port_hi;
	const char *named_set;    /* ip daddr . meta l4proto . th dport @set */
	enum pl_verdict verdict;
	const char *target;
	char *comment;
	enum pl_log log;
	bool count;               /* a counter (K8SNET_POLICY_F_COUNT) */
	uint16_t log_group;
	uint32_t log_rate;        /* PL_LOG_DENY: packets per second */
};

struct pl_pchain {
	char *name;
	int hook;                 /* -1 regular, else NF_INET_* */
	int prio;
	size_t n, cap;
	struct pl_prule *r;
	char *text;               /* rendered rules: compared to find changed chains */
};

struct pl_plan {
	size_t nsets, sets_cap, nchains, chains_cap;
	struct pl_pset *sets;     /* sorted by name once built */
	struct pl_pchain *chains;
	bool v4, v6;              /* address families the rules were made for */
	size_t npods, pods_cap;
	struct pl_ppod *pods;
	struct k8s_map pod_idx;    /* "ns/name" -> index in pods */
};

/* plan-build.c: model -> plan (pl_plan_build, pl_plan_free in internal.h),
 * and the pieces the delta reuses to extend a built plan the same way. */
size_t pl_key_len(enum pl_key_kind k);
const struct pl_pset *pl_plan_set(const struct pl_plan *p, const char *name);
const struct pl_pchain *pl_plan_chain(const struct pl_plan *p, const char *name);
void pl_addr_key(const struct pl_addr *a, uint8_t *key);
void pl_named_port_key(const struct pl_addr *a, uint8_t proto, uint16_t port, uint8_t key[24]);
char *pl_hex_name(const char *prefix, const char *id);
const char *pl_proto_lower(uint8_t proto);
char *pl_policy_chain_name(const struct pl_policy *pol, bool ingress);
int pl_fill_group_chain(const struct k8snet_policy_db *db, struct pl_pchain *c,
			const char *const *targets, size_t n, bool ingress, const char *policies);
int pl_record_pod(struct pl_plan *p, const struct pl_pod *pod, const char *key);

/* plan-render.c: the plan as nft text (pl_plan_render in internal.h) */
void pl_rule_render(const struct pl_prule *r, FILE *f);

/* plan-delta.c: pod churn */
/* Bring plan p up to date with the pods listed in keys ("ns/name"), in place,
 * recording the element changes in ops.  Returns 0 when a full rebuild is
 * needed instead (nothing changed then), 1 when done, or a negative errno
 * (p is then unusable). */
int pl_plan_update_pods(struct k8snet_policy_db *db, struct pl_plan *p, const char *node,
			char *const *keys, size_t nkeys, struct pl_eops *ops);

/* log.c: what verdict logging adds to the plan */
bool pl_log_deny_rule(const struct k8snet_policy_db *db, const char *const *targets, size_t n,
		      bool ingress, const char *policies, struct pl_prule *r, char **ret_comment);
void pl_log_allow(const struct k8snet_policy_db *db, const struct pl_policy *pol,
		  struct pl_prule *r);
void pl_log_drop(const struct k8snet_policy_db *db, struct pl_prule *r);
void pl_log_render(const struct pl_prule *r, FILE *f);
void pl_log_exprs(struct nft_rule *nr, const struct pl_prule *r);
/* Named counters (K8SNET_POLICY_F_COUNT): the names the rules of some chains
 * use, sorted; the table's values read before it is replaced; NEWOBJ (or
 * DELOBJ) of each name not in except, with its carried value. */
struct nft_batch;
struct pl_names {
	char **v;
	size_t n, cap;
};
struct pl_carry_one;
struct pl_carry {
	struct pl_carry_one *v;
	size_t n, cap;
};
int pl_counters_of_chains(const struct pl_pchain *c, size_t nchains, struct pl_names *ret);
bool pl_names_has(const struct pl_names *n, const char *name);
void pl_names_free(struct pl_names *n);
int pl_carry_read(struct k8snet_policy_db *db, struct pl_carry *ret);
void pl_carry_free(struct pl_carry *c);
void pl_counters_msgs(struct nft_batch *b, const struct pl_names *n, const struct pl_carry *carry,
		      const struct pl_names *except, uint16_t type);
void pl_log_render_counters(const struct pl_plan *p, FILE *f);

#endif
