/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The NetworkPolicy layer's model, shared by its parts:
 *   labels.c  labels, selectors (API form and kubectl text), name checks
 *   model.c   the database: namespaces, pods, policies; the C API
 *   reader.c  Kubernetes JSON -> model, with API-server validation
 *   eval.c    the evaluator that explains verdicts
 *   plan-build.c   model -> plan (sets, chains, rules, maps); plan.h
 *   plan-render.c  the plan as nft text
 *   plan-delta.c   pod churn: a built plan updated in place, element changes
 *   nft.c     plan -> diff against the last one -> one libnftnl batch
 */
#ifndef K8SNET_POLICY_INTERNAL_H
#define K8SNET_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <k8snet/policy.h>

#include "core/internal.h"
#include "core/map.h"
#include "nft/nft.h"

#define PL_TCP 6
#define PL_UDP 17
#define PL_SCTP 132

struct pl_label {
	char *key, *val;
};

/* Sorted by key; keys unique. */
struct pl_labels {
	size_t n;
	struct pl_label *v;
};

enum pl_op { PL_IN, PL_NOTIN, PL_EXISTS, PL_NOTEXISTS };

struct pl_req {
	char *key;
	enum pl_op op;
	size_t nvals;
	char **vals;
};

/* AND of requirements; none matches everything. */
struct pl_selector {
	size_t n;
	struct pl_req *r;
};

struct pl_addr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t a[16];
};

struct pl_cidr {
	struct pl_addr addr; /* masked */
	int prefix;
};

struct pl_ns {
	char *name;
	struct pl_labels labels;  /* always has kubernetes.io/metadata.name */
};

struct pl_cport {
	char *name;          /* NULL when unnamed */
	uint8_t proto;
	uint16_t port;
};

struct pl_pod {
	char *ns, *name;
	struct pl_labels labels;
	size_t nips;
	struct pl_addr *ips;
	size_t nports;
	struct pl_cport *ports;
	char *node;          /* NULL: unscheduled */
	bool host_network;
	bool dead;           /* deleted (slot kept so indices stay stable) */
};

struct pl_peer {
	bool has_pod_sel, has_ns_sel, is_block;
	struct pl_selector pod_sel, ns_sel;
	struct pl_cidr cidr;
	size_t nexcept;
	struct pl_cidr *except;
};

struct pl_rport {
	uint8_t proto;
	uint16_t port, end_port;  /* port 0 = every port; end_port >= port */
	char *name;               /* named port (port is then 0) */
};

struct pl_rule {
	size_t npeers;            /* 0 = any peer */
	struct pl_peer *peers;
	size_t nports;            /* 0 = any port */
	struct pl_rport *ports;
};

struct pl_policy {
	char *ns, *name;
	struct pl_selector pod_sel;
	bool ingress, egress;     /* policyTypes after defaulting */
	uint32_t log;             /* K8SNET_POLICY_LOG_*: annotation k8snet.io/log-verdicts */
	size_t nin, neg;
	struct pl_rule *in, *eg;
	bool dead;
};

struct k8snet_policy_db {
	struct k8snet_ctx *ctx;
	size_t nns, nns_cap;
	struct pl_ns *ns;
	size_t npods, npods_cap;
	struct pl_pod *pods;
	size_t npol, npol_cap;
	struct pl_policy *pol;
	struct k8s_map ns_by_name, pod_by_name, pol_by_name, pod_by_ip;
	struct pl_plan *last;     /* what we last programmed (sync) */
	struct nft_track track;   /* ... and whether the kernel still holds it */
	char *last_node;
	/* Changes since the last sync: pods by key, anything else as a flag. */
	struct k8s_map dirty_map;
	size_t ndirty, dirty_cap;
	char **dirty;
	bool struct_dirty;
	/* Verdict logging (log.c) */
	bool log_set;
	uint32_t log_flags, log_group, log_rate;
};

/* labels.c */
void pl_labels_clear(struct pl_labels *l);
int pl_labels_set(struct pl_labels *l, const char *key, const char *val);
const char *pl_labels_get(const struct pl_labels *l, const char *key);
int pl_labels_copy(struct pl_labels *dst, const struct pl_labels *src);
/* "a=b,c=d" -> labels; errors name the label. */
int pl_labels_parse(struct k8snet_ctx *ctx, const char *text, struct pl_labels *ret);
void pl_selector_clear(struct pl_selector *s);
int pl_selector_add(struct pl_selector *s, const char *key, enum pl_op op,
		    char *const *vals, size_t nvals);
bool pl_selector_matches(const struct pl_selector *s, const struct pl_labels *l);
/* kubectl syntax; the error message names the offset. */
int pl_selector_parse(struct k8snet_ctx *ctx, const char *text, struct pl_selector *ret);
/* Canonical text ("a in (b,c),!d"); "" for match-all. malloc'd. */
char *pl_selector_str(const struct pl_selector *s);
int pl_selector_copy(struct pl_selector *dst, const struct pl_selector *src);
/* Validation as the API server does it; NULL when valid, else a message. */
const char *pl_check_label_key(const char *key);
const char *pl_check_label_value(const char *val);
const char *pl_check_port_name(const char *name);
const char *pl_check_dns_label(const char *name);
const char *pl_check_dns_subdomain(const char *name);
int pl_proto_parse(const char *name);           /* -1 unless TCP/UDP/SCTP */
const char *pl_proto_name(uint8_t proto);
int pl_addr_parse(const char *text, struct pl_addr *ret);
int pl_cidr_parse(const char *text, struct pl_cidr *ret, bool *ret_was_masked);
bool pl_cidr_contains(const struct pl_cidr *c, const struct pl_addr *a);
char *pl_addr_str(const struct pl_addr *a, char buf[static 64]);
char *pl_cidr_str(const struct pl_cidr *c, char buf[static 64]);

/* model.c */
struct pl_ns *pl_db_ns(struct k8snet_policy_db *db, const char *name);
struct pl_pod *pl_db_pod(struct k8snet_policy_db *db, const char *ns, const char *name);
struct pl_pod *pl_db_pod_by_ip(struct k8snet_policy_db *db, const struct pl_addr *a);
/* Take ownership of *pod / *pol (replacing one of the same name). */
int pl_db_put_ns(struct k8snet_policy_db *db, const char *name, struct pl_labels *labels);
int pl_db_put_pod(struct k8snet_policy_db *db, struct pl_pod *pod);
int pl_db_put_policy(struct k8snet_policy_db *db, struct pl_policy *pol);
void pl_pod_clear(struct pl_pod *p);
void pl_policy_clear(struct pl_policy *p);
/* Does pod match a peer of policy pol (selector peers only; ipBlocks by address)? */
bool pl_peer_matches_pod(struct k8snet_policy_db *db, const struct pl_policy *pol,
			 const struct pl_peer *peer, const struct pl_pod *pod);
bool pl_policy_selects(const struct pl_policy *pol, const struct pl_pod *pod);

void pl_db_mark_pod(struct k8snet_policy_db *db, const char *ns, const char *name);
void pl_db_clear_dirty(struct k8snet_policy_db *db);
int pl_peer_copy(struct pl_peer *dst, const struct pl_peer *src);
void pl_peer_clear(struct pl_peer *p);

/* reader.c */
int pl_read_json(struct k8snet_policy_db *db, const char *text, size_t len);

/* plan-build.c, plan-render.c (plan.h: the plan itself) */
struct pl_plan;
int pl_plan_build(struct k8snet_policy_db *db, const char *node, struct pl_plan **ret);
void pl_plan_free(struct pl_plan *p);
int pl_plan_render(const struct pl_plan *p, FILE *f);

/* log.c */
int pl_log_parse_annotation(const char *value, uint32_t *ret);

/* nft.c */
struct pl_eops;
/* ops: element changes only; else old -> plan diff; else the whole plan,
 * sent at generation gen (0: unchecked). */
int pl_nft_send(struct k8snet_policy_db *db, const struct pl_plan *old, const struct pl_plan *plan,
		const struct pl_eops *ops, uint32_t gen);

#endif
