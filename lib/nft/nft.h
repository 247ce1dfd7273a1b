/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one path to nftables, shared by Service NAT, NetworkPolicy and host
 * ports.  Never installed.
 *
 *   batch.c     a batch builder: pages of netlink messages that can grow
 *               without bound and never overflow, one owner per message
 *               (and per set element) to name what the kernel refused
 *   commit.c    sending a batch and reading every acknowledgement
 *   expr.c      expression helpers for rules, each checking its allocation
 *   gen.c       the ruleset generation: was anything changed behind us?
 *   inventory.c what one of our tables holds, counted, to detect drift
 *   dump.c      reading set elements back (host ports keep owners there),
 *               rule counters and named counter objects
 *
 * The failure model every layer follows:
 *   - a batch is applied whole or not at all (the kernel's transaction);
 *   - commit returns 0 only when the kernel acknowledged the batch's every
 *     message and reported no error; anything else (an error, a lost
 *     acknowledgement, a signal) is a failure, and after a failure the
 *     caller treats its record of the kernel as unknown;
 *   - a layer that keeps a record sends deltas only at a generation it
 *     trusts (NFNL_BATCH_GENID makes the kernel refuse the batch if anyone
 *     committed since), and replaces its tables whole otherwise.
 */
#ifndef K8SNET_NFT_H
#define K8SNET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

struct nftnl_rule;
struct nft_rule;
struct mnl_socket;

/* Longest name the kernel takes for a table, chain or set (NUL excluded). */
#define NFT_NAME_MAX 255

/* nft's datatype numbers, so that `nft list` shows our sets readably. */
#define NFT_TYPE_VERDICT 1
#define NFT_TYPE_INTEGER 4
#define NFT_TYPE_MARK 19
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_CONCAT(a, b) (((a) << 6) | (b))

/* ---------------- batch.c ---------------- */

struct nft_batch;

int nft_batch_new(struct k8snet_ctx *ctx, struct nft_batch **ret);
/* A batch that builds no messages: what they would create goes into the
 * inventories of the given tables (see inventory.c), so that a layer
 * states what it expects the kernel to hold with the very code that
 * programs it.  Cannot be committed. */
struct nft_table_ref;
int nft_batch_new_expect(struct k8snet_ctx *ctx, const struct nft_table_ref *tables, size_t n,
			 struct nft_batch **ret);
void nft_batch_free(struct nft_batch *b);
/* The first error met while building (-ENOMEM, -ENAMETOOLONG, -E2BIG), or 0.
 * Building calls after an error do nothing. */
int nft_batch_error(const struct nft_batch *b);
/* Record a failure met by the caller while building (-ENOMEM). */
void nft_batch_fail(struct nft_batch *b, int err);
size_t nft_batch_count(const struct nft_batch *b);      /* messages */
size_t nft_batch_bytes(const struct nft_batch *b);

/* What the following messages are about ("service default/web"), named in
 * errors.  Returns an id usable as an element's owner; 0 on ENOMEM. */
uint32_t nft_batch_owner(struct nft_batch *b, const char *fmt, ...) _printf_(2, 3);
/* The same without a copy: what must outlive the batch. */
uint32_t nft_batch_owner_ref(struct nft_batch *b, const char *what);
/* Who owns an element, asked only when the kernel refused it: writes a
 * description ("pod default/web-1") into buf and returns 1, or returns 0. */
typedef int (*nft_describe_fn)(void *userdata, const char *set, const uint8_t *key, uint32_t klen,
			       char *buf, size_t len);
void nft_batch_set_describe(struct nft_batch *b, nft_describe_fn fn, void *userdata);
void nft_batch_set_owner(struct nft_batch *b, uint32_t owner);

void nft_batch_table(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     uint32_t flags);
/* NEWTABLE + DELTABLE + NEWTABLE: whatever was there is replaced in the
 * same transaction, so there is never a moment without rules. */
void nft_batch_table_replace(struct nft_batch *b, int nfproto, const char *table);
/* NEWTABLE + DELTABLE: gone, whether it existed or not. */
void nft_batch_table_delete(struct nft_batch *b, int nfproto, const char *table);

struct nft_hook {
	uint32_t hooknum;          /* NF_INET_* */
	int32_t prio;
	const char *type;          /* "nat", "filter" */
};
/* hook NULL: a regular chain. */
void nft_batch_chain(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     const char *chain, const struct nft_hook *hook);
void nft_batch_flush_chain(struct nft_batch *b, int nfproto, const char *table, const char *chain);
/* A new chain with a comment (its user data), read back by nft_chain_comment(). */
void nft_batch_chain_comment(struct nft_batch *b, int nfproto, const char *table,
			     const char *chain, const struct nft_hook *hook, const char *comment);

struct nft_set_def {
	const char *name;
	uint32_t id;               /* 0: the batch picks one (NEWSET) */
	uint32_t flags;            /* NFT_SET_* */
	uint32_t key_type, key_len, data_type, data_len;
	uint64_t timeout_ms;
	bool key_host_order;       /* integer keys written by numgen */
	const char *comment;
	uint32_t obj_type;         /* NFT_OBJECT_*: an object map (elements name objects) */
};
void nft_batch_set(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		   const struct nft_set_def *def);

struct nft_elem {
	const uint8_t *key;
	uint32_t klen;
	const uint8_t *data;       /* data maps */
	uint32_t dlen;
	int verdict;               /* verdict maps: NFT_JUMP/NFT_GOTO ... (0: none) */
	const char *chain;
	const char *comment;       /* element comment (kept by the kernel) */
	const char *objref;        /* object maps: the object's name */
	uint32_t owner;            /* 0: the batch's current owner */
};
/* Elements of one set, split into messages that stay under the 16-bit
 * attribute length; consecutive calls for the same set and operation share
 * messages. */
void nft_batch_elems(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		     const char *set, uint32_t set_id, const struct nft_elem *e, size_t n);
/* A named counter object (an nftables stateful object): NFT_MSG_NEWOBJ
 * creates it with the given values (so a replaced table can carry its
 * counts over), NFT_MSG_DELOBJ deletes it (the values are not used).
 * Rules reference it with nft_e_objref() or through an object map. */
struct nft_counter_def {
	const char *name;
	uint64_t packets, bytes;
};
void nft_batch_counter(struct nft_batch *b, uint16_t type, int nfproto, const char *table,
		       const struct nft_counter_def *c);
/* A rule made with nft_rule_new(); the batch takes it (and frees it). */
void nft_batch_rule(struct nft_batch *b, struct nft_rule *r);
/* An id for a set made in this batch (anonymous sets). */
uint32_t nft_batch_next_set_id(struct nft_batch *b);

/* ---------------- commit.c ---------------- */

/* Send the batch as one transaction and read its acknowledgements.
 * genid != 0: the kernel applies it only if the ruleset generation is still
 * genid (-ERESTART otherwise).  An empty batch is not sent (returns 0).
 * On failure the context's error names the object whose message the kernel
 * refused, with the kernel's own text when it gave one. */
int nft_batch_commit(struct nft_batch *b, uint32_t genid);
/* The generation the last successful commit produced (0: none). */
uint32_t nft_batch_commit_gen(const struct nft_batch *b);

/* ---------------- expr.c ---------------- */

struct nft_rule;
struct nft_rule *nft_rule_new(int nfproto, const char *table, const char *chain);
void nft_rule_free(struct nft_rule *r);
/* Errors are kept in the rule and reported when the batch takes it. */
void nft_rule_fail(struct nft_rule *r, int err);
void nft_rule_comment(struct nft_rule *r, const char *comment);

void nft_e_payload(struct nft_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
void nft_e_meta_get(struct nft_rule *r, uint32_t key, uint32_t dreg);
void nft_e_meta_set(struct nft_rule *r, uint32_t key, uint32_t sreg);
void nft_e_ct_get(struct nft_rule *r, uint32_t key, int dir, uint32_t dreg);  /* dir -1: none */
void nft_e_cmp(struct nft_rule *r, uint32_t sreg, uint32_t op, const void *data, uint32_t len);
/* reg = (reg & mask) ^ xor */
void nft_e_bitwise(struct nft_rule *r, uint32_t reg, const void *mask, const void *xor,
		   uint32_t len);
void nft_e_verdict(struct nft_rule *r, int verdict, const char *chain);
void nft_e_imm(struct nft_rule *r, uint32_t dreg, const void *data, uint32_t len);
/* dreg -1: a plain set lookup; NFT_REG_VERDICT for a verdict map. */
void nft_e_lookup(struct nft_rule *r, const char *set, uint32_t set_id, uint32_t sreg, int dreg,
		  uint32_t flags);
void nft_e_dynset_update(struct nft_rule *r, const char *set, uint32_t sreg_key);
void nft_e_numgen(struct nft_rule *r, uint32_t dreg, uint32_t mod, uint32_t type);
void nft_e_nat(struct nft_rule *r, uint32_t type, int nfproto, uint32_t reg_addr, uint32_t reg_proto);
void nft_e_masq(struct nft_rule *r);
void nft_e_reject(struct nft_rule *r, uint32_t type, uint8_t code);
void nft_e_counter(struct nft_rule *r);
/* counter name "NAME": a named object of the table (type NFT_OBJECT_*). */
void nft_e_objref(struct nft_rule *r, uint32_t type, const char *name);
/* counter name KEY map @set: the object named by an object map's element
 * for the key in sreg (no element: the rest of the rule is skipped). */
void nft_e_objref_map(struct nft_rule *r, uint32_t sreg, const char *set, uint32_t set_id);
/* log group G prefix "..." (to NFLOG; the prefix is cut at 127 bytes) */
void nft_e_log(struct nft_rule *r, uint16_t group, const char *prefix);
/* limit rate N/second burst B packets */
void nft_e_limit_pkts(struct nft_rule *r, uint64_t per_second, uint32_t burst);

/* Composites used by every layer. */
/* nfproto: NFPROTO_IPV4 or NFPROTO_IPV6 (the packet's, in an inet table). */
void nft_e_addr(struct nft_rule *r, int nfproto, bool src, uint32_t dreg);
/* [ip|ip6] saddr|daddr within (op NFT_CMP_EQ) or outside (NFT_CMP_NEQ)
 * addr/plen; addr is 4 or 16 bytes by nfproto. */
void nft_e_cidr(struct nft_rule *r, int nfproto, bool src, const uint8_t *addr, unsigned plen,
		uint32_t op);
/* fib saddr|daddr type local */
void nft_e_fib_local(struct nft_rule *r, uint32_t flag);
/* meta nfproto|l4proto == v */
void nft_e_meta_eq_u8(struct nft_rule *r, uint32_t key, uint8_t v);
/* meta mark |= bit */
void nft_e_mark_or(struct nft_rule *r, uint32_t bit);

/* A name nft accepts for a table: a letter, then letters, digits, '-' and
 * '_', at most 64 characters. */
bool nft_table_name_valid(const char *s);

/* ---------------- gen.c ---------------- */

/* The ruleset generation of the context's namespace. */
int nft_gen_get(struct k8snet_ctx *ctx, uint32_t *ret);
/* The generation after gen (the kernel skips 0). */
static inline uint32_t nft_gen_after(uint32_t gen)
{
	return gen + 1 ? gen + 1 : 1;
}
/* Remember a generation this context's commit produced. */
void nft_gen_note_own(struct k8snet_ctx *ctx, uint32_t gen);
/* Were all commits after "from" up to and including "to" made by this
 * context?  (Then nothing else changed the ruleset in between.) */
bool nft_gen_only_own(const struct k8snet_ctx *ctx, uint32_t from, uint32_t to);

/* How often a layer tries again when its commit lost the race to another
 * writer (-ERESTART), and the pause before try number "attempt" (1, 2, ...).
 * 16 was not enough: with four host-port writers committing in a loop, one
 * lost 16 times in a row (CI, test-nft-core); 32 tries wait about 0.6 s in
 * all before giving up. */
#define NFT_RETRY_ATTEMPTS 32
void nft_retry_pause(unsigned attempt);
/* Read-then-commit, again while it loses the race: runs once(arg) until it
 * returns anything but -ERESTART (a stale generation at commit) or -EAGAIN
 * (a dump interrupted by a commit), at most NFT_RETRY_ATTEMPTS times with
 * nft_retry_pause() between; returns the last result. */
int nft_retry(struct k8snet_ctx *ctx, int (*once)(void *arg), void *arg);

/* A layer's record of its tables: right as of generation gen. */
struct nft_track {
	bool valid;                /* false: unknown, the next sync replaces */
	uint32_t gen;
};
/* Reads the current generation into *ret_gen.  1: only this context
 * committed since t->gen, so the record holds; 0: someone else did (or the
 * record is unknown); negative errno on failure. */
int nft_track_check(struct k8snet_ctx *ctx, const struct nft_track *t, uint32_t *ret_gen);

/* ---------------- inventory.c ---------------- */

/* What a table holds, in counts and order-independent element hashes. */
struct nft_inv_set {
	char *name;
	size_t nelems;
	uint64_t hash;
	bool dynamic;              /* filled by packets (timeouts): elements not compared */
};
struct nft_inv_chain {
	char *name;
	size_t nrules;
};
struct nft_inv {
	bool present;              /* the table exists */
	size_t nsets, nchains, sets_cap, chains_cap;
	struct nft_inv_set *sets;
	struct nft_inv_chain *chains;
	size_t nobjs, objs_cap;
	char **objs;               /* stateful objects (named counters), by name */
	int err;
};
void nft_inv_clear(struct nft_inv *inv);
/* The layer's expectation, built from its record (present = true). */
void nft_inv_expect_set(struct nft_inv *inv, const char *name, bool dynamic);
void nft_inv_expect_elem(struct nft_inv *inv, const char *set, const struct nft_elem *e);
void nft_inv_expect_chain(struct nft_inv *inv, const char *name, size_t nrules);
/* Objects are compared by name only: their values are the packets'. */
void nft_inv_expect_obj(struct nft_inv *inv, const char *name);
void nft_inv_forget_obj(struct nft_inv *inv, const char *name);
struct nft_inv_chain *nft_inv_chain(struct nft_inv *inv, const char *name);
/* Read the table as the kernel holds it at generation gen (-EAGAIN if the
 * ruleset changed while reading).  Anonymous sets are left out. */
int nft_inv_read(struct k8snet_ctx *ctx, int nfproto, const char *table, uint32_t gen,
		 struct nft_inv *ret);
/* 0 when equal, else 1 and the first difference in what. */
int nft_inv_compare(struct nft_inv *want, struct nft_inv *have, char *what, size_t len);

struct nft_table_ref {
	int nfproto;
	const char *table;
	struct nft_inv *want;
};
/* Compare each table with its expectation at generation gen: 1 all equal,
 * 0 one differs (logged), negative errno (-EAGAIN: changed while read). */
int nft_inv_verify(struct k8snet_ctx *ctx, const struct nft_table_ref *tables, size_t n,
		   uint32_t gen);

/* ---------------- dump.c ---------------- */

/* Every element of a set, with its data and comment, as of generation gen
 * (-EAGAIN otherwise); -ENOENT when the set (or table) does not exist. */
struct nft_dumped_elem {
	uint8_t key[64], data[64];
	uint32_t klen, dlen;
	char *comment;
};
struct nft_dumped_set {
	size_t n, cap;
	struct nft_dumped_elem *e;
};
void nft_dumped_set_clear(struct nft_dumped_set *s);
/* Every rule of a table that has counters: fn gets its chain, its comment
 * ("" for none) and the sums of its counters.  A negative return of fn
 * ends the dump with it.  -ENOENT when the table is not there. */
typedef int (*nft_rule_counter_fn)(void *data, const char *chain, const char *comment,
				   uint64_t packets, uint64_t bytes);
int nft_dump_rule_counters(struct k8snet_ctx *ctx, int nfproto, const char *table,
			   nft_rule_counter_fn fn, void *data);
/* A chain's comment at generation gen: 1 and the comment ("" when it has
 * none), 0 when there is no such chain, -EAGAIN when the generation moved. */
int nft_chain_comment(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *chain,
		      uint32_t gen, char *buf, size_t len);
int nft_dump_set(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *set,
		 uint32_t gen, struct nft_dumped_set *ret);
/* The named counter objects of a table (name NULL), or the one named:
 * fn gets each one's name, packets and bytes; a negative return of fn
 * ends the dump with it.  -ENOENT when the table (or the named counter)
 * is not there. */
typedef int (*nft_counter_fn)(void *data, const char *name, uint64_t packets, uint64_t bytes);
int nft_dump_counters(struct k8snet_ctx *ctx, int nfproto, const char *table, const char *name,
		      nft_counter_fn fn, void *data);

/* Helpers for the other files of this module. */
uint64_t nft_elem_hash(const uint8_t *key, uint32_t klen, const uint8_t *data, uint32_t dlen,
		       int verdict, const char *chain, const char *objref);
int nft_socket(struct k8snet_ctx *ctx, struct mnl_socket **ret);
uint32_t nft_next_seq(struct k8snet_ctx *ctx, uint32_t n);
void nft_drain(struct k8snet_ctx *ctx, struct mnl_socket *nl);

#endif
