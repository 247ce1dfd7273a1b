/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Service NAT internals.  Data flows one way:
 *   model.c, json.c   services and endpoint slices (what Kubernetes says)
 *   plan.c            per-service fragments: chains, rules, set elements
 *   render.c          fragments -> nft text
 *   claims.c          who owns an address, port and protocol when services
 *                     conflict (the older one)
 *   nft.c             fragments -> nftables messages (through lib/nft)
 *   sync.c            diff of fragments against what was programmed
 *   counters.c        per-service named counters: carried over a table
 *                     replace, read for k8snet_proxy_get_counters()
 */
#ifndef K8SNET_NAT_INTERNAL_H
#define K8SNET_NAT_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <k8snet/nat.h>

#include "core/internal.h"
#include "core/map.h"
#include "core/strbuf.h"
#include "core/vec.h"
#include "nft/nft.h"

/* ---- small containers ---- */

/* A growable array of pointers. */
struct ptrvec {
	void **v;
	size_t n, cap;
};
int nat_ptrvec_push(struct ptrvec *pv, void *p);
void nat_ptrvec_free(struct ptrvec *pv, void (*fn)(void *));

/* ---- model ---- */

struct nat_addr {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t a[16];
	uint8_t plen;            /* prefix length for CIDRs */
};
int nat_parse_addr(const char *s, struct nat_addr *ret);
/* n bytes as 2n lowercase hex digits and a NUL (keys of hash maps). */
void nat_hex(char *out, const uint8_t *b, size_t n);
/* "tcp", "udp" or "sctp", as nft and the counter names write it. */
const char *nat_proto_name(uint8_t proto);
int nat_parse_cidr(const char *s, struct nat_addr *ret);
void nat_addr_str(const struct nat_addr *a, char *buf, size_t len);

struct nat_port {
	char *name;
	uint8_t proto;
	uint16_t port, node_port;
};

struct nat_ep {              /* one address serving one named port */
	struct nat_addr addr;
	char *port_name;
	uint8_t proto;           /* 0: any (C API) */
	uint16_t port;
	char *node;
	uint32_t flags;
	char *zone;              /* NULL: unknown */
	char *hint_zones;        /* hints.forZones, comma-separated; NULL: none */
	char *hint_nodes;        /* hints.forNodes, likewise */
};
void nat_ep_clear(struct nat_ep *e);
/* Add item to a comma-separated list (*list may be NULL). */
int nat_list_add(char **list, const char *item);
bool nat_list_has(const char *list, const char *item);

struct k8snet_service {
	char *ns, *name;
	char *created;             /* metadata.creationTimestamp as given */
	int64_t created_s;         /* ... in seconds since the epoch, -1 when unset */
	uint32_t type, flags, affinity_timeout, hc_node_port, traffic_dist;
	struct nat_addr *ips[5];   /* by K8SNET_SERVICE_IP_* */
	size_t nips[5];
	struct nat_port *ports;
	size_t nports;
	struct nat_ep *eps;        /* C API endpoints */
	size_t neps;
	char *error;               /* the last failed call's message (no context) */
	pid_t pid;                 /* the process that made it (the fork rule); 0: ours */
};
/* k8snet_service_new() for the proxy's own copies: pid 0, so the fork rule's
 * check costs no getpid() per call (the proxy is checked already). */
int nat_service_new(struct k8snet_service **ret);
int nat_service_copy(const struct k8snet_service *src, struct k8snet_service **ret);
void nat_service_free(void *svc);

struct nat_slice {
	char *name;
	struct nat_ep *eps;
	size_t neps;
};
void nat_slice_free(void *sl);

struct nat_frag;

/* Everything known about one service: the Service (may be absent while only
 * slices arrived) and its slices, plus what was last programmed for it. */
struct nat_entry {
	char *key;                     /* "ns/name" */
	struct k8snet_service *svc;
	struct k8s_map slices;            /* slice name -> nat_slice; "" = C API */
	bool dirty;
	struct nat_frag *frag[2];      /* programmed, [0] ip, [1] ip6 */
	char **claims;                 /* claim keys (claims.c), sorted */
	size_t nclaims;
	bool hc;                       /* health-check data as of the last sync */
	uint32_t hc_port, hc_local;
};

struct nat_config {
	char *node_name, *table, *node_zone;
	struct nat_addr *node_ips, *cluster_cidrs, *nodeport_addrs, *service_cidrs;
	size_t n_node_ips, n_cluster_cidrs, n_nodeport_addrs, n_service_cidrs;
	uint32_t mark_bit, np_min, np_max, flags;
};

/* An object left out because it conflicts with an older one. */
struct nat_skip {
	char *object;                  /* "service ns/name" */
	char *reason;
};

struct k8snet_proxy {
	struct k8snet_ctx *ctx;
	struct nat_config cfg;
	char *first_str[12];           /* k8snet_proxy_get_str() of list attributes */
	struct k8s_map entries;           /* "ns/name" -> nat_entry */
	struct ptrvec dirty;           /* entries changed since the last sync */
	struct k8s_map slice_owner;       /* "ns/slice" -> "ns/service" */
	struct k8s_map hairpin[2];        /* address text -> refcount (as pointer) */
	struct nft_track track;        /* is our record of the kernel right? */
	struct k8s_map picks[2];          /* shared pick chain name -> refcount */
	struct k8s_map claims;            /* claim key -> struct ptrvec of contending entries */
	struct nat_skip *skipped;      /* as of the last sync or render */
	size_t nskipped;
	struct k8s_map skipping;          /* "ns/name" -> entry whose fragments left something out */
	bool synced;                   /* a sync was tried: the table name is fixed */
	uint32_t ct_deleted, ct_filters;   /* conntrack cleanup of the last sync */
	struct nat_ctindex *ct_index;  /* UDP/SCTP entries by destination (conntrack.c) */
	struct ptrvec hc_changed;      /* "ns/name" whose health data the last sync changed */
};

bool nat_masq_outside(const struct nat_config *cfg, int fam);
const struct nat_addr *nat_nodeport_addrs(const struct nat_config *cfg, int fam, size_t *ret_n);
void nat_mark_dirty(struct k8snet_proxy *p, struct nat_entry *e);
struct nat_entry *nat_entry_get(struct k8snet_proxy *p, const char *ns, const char *name,
				bool create);
int nat_set_slice(struct k8snet_proxy *p, const char *ns, const char *svc_name,
		  struct nat_slice *sl);
int nat_load_json(struct k8snet_proxy *p, const char *json, size_t len);

/* Health-check data of the entries marked dirty, noting what changed
 * (health.c); before the dirty list is cleared. */
int nat_health_update(struct k8snet_proxy *p);
void nat_health_clear(struct k8snet_proxy *p);

/* ---- plan ---- */

/* Register-level building blocks of our rules.  Each rule is also its nft
 * text, which serves as its identity for the diff. */
enum nat_rule_kind {
	R_GOTO,          /* [match] goto chain */
	R_JUMP,          /* jump chain */
	R_MARK_GOTO,     /* [match] meta mark |= bit, goto chain */
	R_MARK,          /* [match] meta mark |= bit */
	R_PICK,          /* pick chain: dnat to daddr . proto . dport . numgen mod n map */
	R_DROP,
	R_AFF_CHECK,     /* ip saddr @set goto chain */
	R_AFF_DNAT,      /* update @set { ip saddr } dnat to addr:port */
	R_AFF_PICK,      /* numgen mod n vmap { i : goto chain_i } */
};
enum nat_match {
	M_NONE,
	M_SADDR_CIDR,    /* ip saddr CIDR */
	M_FIB_SADDR_LOCAL,
};

struct nat_rule {
	enum nat_rule_kind kind;
	enum nat_match match;
	struct nat_addr cidr;
	char *target;             /* chain for goto / set for aff */
	char *target2;            /* second name (chain for R_AFF_CHECK) */
	uint32_t n;               /* numgen modulus */
	bool nodeport;            /* R_PICK: keyed by port only */
	struct nat_addr addr;     /* R_AFF_DNAT */
	uint16_t port;
	uint8_t proto;            /* R_AFF_DNAT: a port mapping needs a protocol match */
	char **targets;           /* R_AFF_PICK chains */
	char *text;
};

struct nat_chain {
	char *name;
	struct nat_rule **rules;
	size_t nrules;
};

enum nat_set_id { S_SERVICE_IPS, S_NODEPORTS, S_ENDPOINTS, S_NP_ENDPOINTS, S_CLUSTER_IPS, S_HAIRPIN,
		  S_SERVICE_COUNTERS, S_NODEPORT_COUNTERS, S_SERVICE_TRAFFIC, S_NODEPORT_TRAFFIC,
		  S_NSETS };

struct nat_elem {
	enum nat_set_id set;
	uint32_t owner;            /* batch owner id while a batch is built */
	uint8_t key[40];
	uint8_t klen;
	uint8_t data[20];          /* for S_*ENDPOINTS: addr . port */
	uint8_t dlen;
	char *chain;               /* verdict goto, for vmaps */
	char *obj;                 /* S_*COUNTERS: the counter's name */
};

struct nat_aset {              /* affinity set of one endpoint */
	char *name;
	uint32_t timeout;
};

/* A UDP or SCTP destination and one endpoint behind it: what conntrack
 * entries may lead where (conntrack.c).  Sorted in a fragment. */
struct nat_ctflow {
	uint8_t daddr[16];         /* zero for a NodePort */
	bool nodeport;
	uint8_t proto;
	uint16_t port;             /* service port, or the NodePort */
	bool has_ep;               /* false: the destination has no endpoint */
	uint8_t ep[16];
	uint16_t ep_port;
};

/* What one service contributes to one family's table. */
struct nat_frag {
	char *what;                /* "service default/web" for errors */
	struct nat_chain **chains;
	size_t nchains;
	struct nat_elem **elems;
	size_t nelems;
	struct nat_aset **asets;
	size_t nasets;
	char **picks;              /* shared pick chains used ("pick-5", "pick-np-2") */
	size_t npicks;
	struct nat_addr *hairpin;  /* endpoint addresses (for the hairpin set) */
	size_t nhairpin;
	char **skipped;            /* what was left out, and why (conflicts) */
	size_t nskipped;
	struct nat_ctflow *ctflows;  /* UDP/SCTP destinations and endpoints, sorted */
	size_t nctflows;
	char **counters;           /* K8SNET_PROXY_F_COUNT: two named counters per port
				    * (connections, then ".../traffic") */
	size_t ncounters;
};

int nat_plan_entry(struct k8snet_proxy *p, const struct nat_entry *e, int fam,
		   struct nat_frag **ret);

/* Where one service port is reached in one family: its ClusterIPs, external
 * and load-balancer addresses, and its NodePort (addr NULL). */
struct nat_dest {
	uint32_t kind;             /* K8SNET_SERVICE_IP_*, or NAT_DEST_NODEPORT */
	const struct nat_addr *addr;
	uint16_t port;
};
#define NAT_DEST_NODEPORT 100u
size_t nat_port_dests(const struct k8snet_proxy *p, const struct k8snet_service *svc,
		      const struct nat_port *sp, int fam, struct nat_dest dests[], size_t max);
size_t nat_port_dests_max(const struct k8snet_service *svc);

/* ---- claims ---- */
/* The claim key of a destination, or of a ClusterIP (the cluster-ips set). */
char *nat_claim_key(int fam, const struct nat_dest *d, uint8_t proto);
char *nat_claim_key_cluster_ip(const struct nat_addr *a);
/* Recompute the claims of the entries marked dirty; contenders of a key
 * whose holder may change are marked dirty too. */
int nat_claims_update(struct k8snet_proxy *p);
void nat_claims_drop(struct k8snet_proxy *p, struct nat_entry *e);
/* The entry that holds the key (NULL when nobody claims it). */
const struct nat_entry *nat_claim_holder(const struct k8snet_proxy *p, const char *key);
void nat_claims_free(struct k8snet_proxy *p);
/* The skipped list from the given fragments (both families of every entry). */
int nat_skipped_collect(struct k8snet_proxy *p, struct nat_frag *const *frags, size_t n);
void nat_skipped_clear(struct k8snet_proxy *p);
void nat_frag_free(struct nat_frag *f);
/* A shared pick chain's name says all about it: "pick-N" (keyed by
 * destination address, masquerades traffic from outside the cluster),
 * "pick-local-N" (the same without masquerade) or "pick-np-N" (NodePorts,
 * keyed by port).  Its rules, in order, into rules[4]; returns their count
 * (0: not a pick chain name). */
size_t nat_pick_rules(const struct k8snet_proxy *p, int fam, const char *name,
		      struct nat_rule rules[4]);

/* Names of the fixed objects. */
#define NAT_SET_NAME(s) (nat_set_names[s])
extern const char *const nat_set_names[S_NSETS];

/* ---- conntrack ---- */
/* One deletion: entries to f's destination (and, when f.has_ep, whose reply
 * comes from f's endpoint). */
struct nat_ct_del {
	int fam;
	struct nat_ctflow f;
};
struct nat_ctwork {
	struct nat_ct_del *v;
	size_t n;
};
int nat_ctflow_cmp(const void *a, const void *b);
/* What to delete when a family's fragment goes from old to new (either NULL). */
int nat_ct_diff(int fam, const struct nat_frag *old, const struct nat_frag *new,
		struct nat_ctwork *w);
/* Delete the entries; sets p->ct_deleted and p->ct_filters.  keep_index:
 * UDP or SCTP services exist, keep (or start) the index of entries. */
int nat_ct_cleanup(struct k8snet_proxy *p, const struct nat_ctwork *w, bool keep_index);
void nat_ct_free(struct k8snet_proxy *p);
void nat_ctwork_free(struct nat_ctwork *w);

/* ---- counters (counters.c) ---- */
/* The values of the named counters of one family's table, by name, read
 * before a full sync replaces it: what the new counters start from. */
struct nat_carry {
	struct k8s_map m[2];          /* [0] ip, [1] ip6: name -> uint64_t[2] */
};
int nat_carry_read(struct k8snet_proxy *p, struct nat_carry *c);
/* packets and bytes of a counter about to be created (0 when unknown). */
void nat_carry_get(const struct nat_carry *c, int fi, const char *name, uint64_t ret[2]);
void nat_carry_free(struct nat_carry *c);

/* ---- render ---- */
int nat_render(struct k8snet_proxy *p, char **ret);
/* The nft text of an element ("10.96.0.1 . tcp . 80 : goto pick-2"). */
void nat_render_elem_text(int fam, const struct nat_elem *e, struct k8s_buf *b);
/* Elements compare by set, key, data and target: the identity for diffs. */
int nat_elem_cmp(const struct nat_elem *a, const struct nat_elem *b);
void nat_render_rule_text(const struct k8snet_proxy *p, int fam, struct nat_rule *r,
			  struct k8s_buf *b);

/* ---- nft ---- */
struct nat_batch;
int nat_batch_new(struct k8snet_proxy *p, struct nat_batch **ret);
/* A batch that only fills want[0] (ip) and want[1] (ip6) with what it
 * would create (see lib/nft/inventory.c). */
int nat_batch_new_expect(struct k8snet_proxy *p, struct nft_inv want[2], struct nat_batch **ret);
uint32_t nat_batch_owner(struct nat_batch *b, const char *what);
void nat_batch_free(struct nat_batch *b);
/* Each call records what object the following messages belong to. */
void nat_batch_what(struct nat_batch *b, const char *what);
int nat_batch_table_replace(struct nat_batch *b, int fam);
int nat_batch_table_delete(struct nat_batch *b, int fam);
int nat_batch_chain(struct nat_batch *b, int fam, const char *name, bool add);
int nat_batch_flush_chain(struct nat_batch *b, int fam, const char *name);
int nat_batch_rule(struct nat_batch *b, int fam, const char *chain, const struct nat_rule *r);
int nat_batch_aset(struct nat_batch *b, int fam, const struct nat_aset *s, bool add);
/* Elements sorted by set, each with its owner id from nat_batch_owner(). */
int nat_batch_elems(struct nat_batch *b, int fam, struct nat_elem *const *elems, size_t n,
		    bool add);
int nat_batch_hairpin(struct nat_batch *b, int fam, const struct nat_addr *a, size_t n, bool add);
/* A service port's named counter, created with initial values (carried
 * over from a replaced table) or deleted. */
int nat_batch_counter(struct nat_batch *b, int fam, const char *name, uint64_t packets,
		      uint64_t bytes, bool add);
int nat_batch_base(struct nat_batch *b, int fam);
int nat_batch_pick_chain(struct nat_batch *b, int fam, const char *name, bool add);
size_t nat_batch_count(const struct nat_batch *b);
size_t nat_batch_len(const struct nat_batch *b);
int nat_batch_send(struct nat_batch *b, uint32_t genid);
uint32_t nat_batch_commit_gen(const struct nat_batch *b);

#endif
