/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to lib/nft: the batch's insides, shared by its files. */
#ifndef K8SNET_NFT_INTERNAL_H
#define K8SNET_NFT_INTERNAL_H

#include "nft/nft.h"

struct nftnl_set;

/* Pages of 1 MiB: a full sync of 10,000 services is about a dozen. */
#define NFT_BATCH_PAGE (1u << 20)
#define NFT_BATCH_FIRST_PAGE (64u << 10)
/* No message we build may be larger: rules have a bounded number of
 * expressions, element lists are cut at NFT_BATCH_ELEMS_MAX. */
#define NFT_BATCH_MSG_MAX (256u << 10)
/* An element list is one netlink attribute, whose length is 16 bits. */
#define NFT_BATCH_ELEMS_MAX 60000u

struct nft_page {
	char *buf;
	size_t len, cap;
};

struct nft_msg_rec {
	uint32_t page, off;        /* where the message lies */
	uint32_t owner;            /* string id */
	uint32_t set_name;         /* element messages: string id of the set */
	uint32_t elem0, nelem;     /* element messages: their owners in elem_owners */
};

/* Elements gathered for one message, not yet built. */
struct nft_pending {
	struct nftnl_set *set;
	const char *table;
	uint16_t type;
	int nfproto;
	uint32_t set_id, set_name;
	size_t n, cap, bound;
	uint32_t *owners;
};

struct nft_batch {
	struct k8snet_ctx *ctx;
	struct nft_page *pages;
	size_t npages;
	size_t cur_bound;
	struct nft_msg_rec *msgs;
	size_t nmsgs, msgs_cap;
	uint32_t *elem_owners;
	size_t nelem_owners;
	struct nft_str {
		const char *s;
		bool owned;            /* ours to free (else the caller's, see nft_batch_owner_ref) */
	} *strs;
	size_t nstrs, strs_cap;
	uint32_t owner;
	uint32_t set_id;
	nft_describe_fn describe;
	void *describe_data;
	struct nft_pending pend;
	uint32_t commit_gen;
	/* Expectation mode: messages update these inventories instead. */
	const struct nft_table_ref *expect;
	size_t nexpect;
	int err;
};

void nft_batch_flush_pending(struct nft_batch *b);
const char *nft_batch_str(const struct nft_batch *b, uint32_t id);

struct nft_rule {
	struct nftnl_rule *r;
	int nfproto;
	const char *table, *chain;  /* the copies inside r */
	size_t bound;               /* upper bound of the payload, in bytes */
	size_t nexprs;
	int err;
};

#endif
