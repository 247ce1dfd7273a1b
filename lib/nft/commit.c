/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sending a batch and reading the kernel's answer.
 *
 * The kernel handles a whole batch inside sendmsg(): it checks every
 * message, commits or aborts the transaction, and only then queues the
 * answers (an error for each refused message, an acknowledgement for each
 * that asked for one, in order).  So the answers must fit the receive
 * buffer, which is sized for them before sending.  When it cannot be made
 * large enough (a test caps it; a process without CAP_NET_ADMIN), only the
 * last message asks for an acknowledgement: errors are sent whatever the
 * flags say, so a successful batch then has a single answer, and a lost
 * answer (ENOBUFS) can only have been an error.  Either way, success is
 * reported only after the last message's acknowledgement arrived and no
 * error came before it.
 *
 * A batch whose commit fails as a whole (-ERESTART for a stale generation,
 * -ENOMEM, a loop found at commit) is answered with an error for its
 * BATCH_BEGIN message.
 */
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "nft/internal.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Receive-buffer cost of one queued acknowledgement (the skb's truesize,
 * with room to spare). */
#define ACK_COST 1280
#define RECV_BUF (64u << 10)

int nft_socket(struct k8snet_ctx *ctx, struct mnl_socket **ret)
{
	int one = 1, r = k8s_ctx_nfnl(ctx, ret), fd;

	if (r < 0 || ctx->nfnl_acks_set)
		return r;
	fd = mnl_socket_get_fd(*ret);
	/* Errors carry the kernel's text and the offending attribute's
	 * offset, and do not echo our (possibly large) message back. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
		return k8s_error(ctx, -errno, "nfnetlink socket options: %m");
	ctx->nfnl_acks_set = true;
	return 0;
}

uint32_t nft_next_seq(struct k8snet_ctx *ctx, uint32_t n)
{
	uint32_t seq;

	/* Sequence numbers only grow on a socket, so that an answer to an
	 * earlier request can never pass for one to this. */
	if (!ctx->seq)
		ctx->seq = (uint32_t)time(NULL) << 8;
	if (ctx->seq > UINT32_MAX - n - 1)
		ctx->seq = 1;
	seq = ctx->seq;
	ctx->seq += n;
	return seq;
}

/* Throw away whatever an earlier, abandoned exchange left queued. */
void nft_drain(struct k8snet_ctx *ctx, struct mnl_socket *nl)
{
	char buf[4096];

	if (!ctx->nfnl_unread)
		return;
	while (recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS ||
	       errno == EINTR)
		;
	ctx->nfnl_unread = false;
}

/* Ask for at least want bytes of a socket buffer; returns what we got. */
static int buffer_at_least(int fd, int opt_force, int opt, int want, int *cache)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (*cache >= want)
		return *cache;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	/* The kernel reports twice what it keeps for data, as it accounts. */
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) < 0)
		got = 0;
	*cache = got;
	return got;
}

static int clamp_int(size_t v)
{
	return v > INT_MAX / 2 ? INT_MAX / 2 : (int)v;
}

/* ---------------- the answer ---------------- */

struct answer {
	uint32_t seq0, last;
	size_t acked, nerrors;
	int err;                   /* first error */
	uint32_t err_seq;
	uint32_t err_off;          /* NLMSGERR_ATTR_OFFS, 0 when none */
	char ext[256];             /* NLMSGERR_ATTR_MSG */
	bool done;
};

static void read_ext_ack(const struct nlmsghdr *nlh, struct answer *a)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t hdr = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NETLINK_CAP_ACK the refused message follows the header. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hdr += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(attr, nlh, hdr) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(a->ext, sizeof(a->ext), "%s", mnl_attr_get_str(attr));
		else if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_OFFS &&
			 mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->err_off = mnl_attr_get_u32(attr);
	}
}

static void take_message(const struct nlmsghdr *nlh, struct answer *a)
{
	const struct nlmsgerr *e;

	/* Answers to an earlier batch are not about this one. */
	if (nlh->nlmsg_seq < a->seq0 || nlh->nlmsg_seq > a->last || nlh->nlmsg_type != NLMSG_ERROR)
		return;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error) {
		if (!a->nerrors++) {
			a->err = e->error;
			a->err_seq = nlh->nlmsg_seq;
			read_ext_ack(nlh, a);
		}
		/* An error for BATCH_BEGIN is about the whole batch: nothing
		 * else is sure to follow. */
		if (nlh->nlmsg_seq == a->seq0)
			a->done = true;
	}
	if (nlh->nlmsg_seq != a->seq0)
		a->acked++;
	if (nlh->nlmsg_seq == a->last)
		a->done = true;
}

static int read_answer(struct k8snet_ctx *ctx, struct mnl_socket *nl, struct answer *a)
{
	char *buf = malloc(RECV_BUF);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (!a->done) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, RECV_BUF, MSG_TRUNC);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = k8s_error(ctx, -errno, "reading the kernel's answer to the nftables batch: %m%s",
				      errno == ENOBUFS ? " (answers were lost: what the kernel holds "
							 "is unknown)" : "");
			break;
		}
		if ((size_t)n > RECV_BUF) {
			r = k8s_error(ctx, -EMSGSIZE, "an nftables answer of %zd bytes was cut short", n);
			break;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len))
			take_message(nlh, a);
	}
	free(buf);
	return r;
}

/* ---------------- naming the refused object ---------------- */

/* Which element of an element message the offset points into (-1: none);
 * its key in *key, *klen. */
static long elem_at(const struct nlmsghdr *nlh, uint32_t off, const uint8_t **key, uint32_t *klen)
{
	const struct nlattr *attr, *el, *k, *v;
	long i = 0;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, attr) {
			uint32_t start = (uint32_t)((const char *)el - (const char *)nlh);

			if (off < start || off >= start + el->nla_len) {
				i++;
				continue;
			}
			mnl_attr_for_each_nested(k, el) {
				if (mnl_attr_get_type(k) != NFTA_SET_ELEM_KEY)
					continue;
				mnl_attr_for_each_nested(v, k)
					if (mnl_attr_get_type(v) == NFTA_DATA_VALUE) {
						*key = mnl_attr_get_payload(v);
						*klen = mnl_attr_get_payload_len(v);
					}
			}
			return i;
		}
	}
	return -1;
}

static const char *op_name(uint16_t type)
{
	switch (type & 0xff) {
	case NFT_MSG_NEWTABLE: return "adding table";
	case NFT_MSG_DELTABLE: return "deleting table";
	case NFT_MSG_NEWCHAIN: return "adding chain";
	case NFT_MSG_DELCHAIN: return "deleting chain";
	case NFT_MSG_NEWRULE: return "adding a rule";
	case NFT_MSG_DELRULE: return "flushing a chain";
	case NFT_MSG_NEWSET: return "adding set";
	case NFT_MSG_DELSET: return "deleting set";
	case NFT_MSG_NEWSETELEM: return "adding an element to";
	case NFT_MSG_DELSETELEM: return "deleting an element from";
	}
	return "a message";
}

/* The owner of the element at the error's offset, if we can tell. */
static const char *elem_owner(struct nft_batch *b, const struct nft_msg_rec *rec,
			      const struct nlmsghdr *nlh, uint32_t off, char *buf, size_t len)
{
	const uint8_t *key = NULL;
	uint32_t klen = 0;
	long i = elem_at(nlh, off, &key, &klen);

	if (i < 0 || (uint32_t)i >= rec->nelem)
		return NULL;
	if (b->describe && key &&
	    b->describe(b->describe_data, nft_batch_str(b, rec->set_name), key, klen, buf, len) > 0)
		return buf;
	return nft_batch_str(b, b->elem_owners[rec->elem0 + (uint32_t)i]);
}

static int report(struct nft_batch *b, const struct answer *a)
{
	const struct nft_msg_rec *rec = NULL;
	const struct nlmsghdr *nlh = NULL;
	const char *owner = NULL, *set = NULL, *eo;
	char more[48] = "", ext[300] = "", desc[160];

	if (a->err_seq > a->seq0 && a->err_seq - a->seq0 - 1 < b->nmsgs) {
		rec = &b->msgs[a->err_seq - a->seq0 - 1];
		nlh = (const struct nlmsghdr *)(b->pages[rec->page].buf + rec->off);
		owner = nft_batch_str(b, rec->owner);
		set = nft_batch_str(b, rec->set_name);
		if (rec->nelem && a->err_off &&
		    (eo = elem_owner(b, rec, nlh, a->err_off, desc, sizeof(desc))))
			owner = eo;
	}
	if (a->nerrors > 1)
		snprintf(more, sizeof(more), " (and %zu more errors)", a->nerrors - 1);
	if (a->ext[0])
		snprintf(ext, sizeof(ext), " (kernel: %s)", a->ext);
	if (!rec)
		return k8s_error(b->ctx, a->err, "nftables refused the batch: %s%s%s",
				 a->err == -ERESTART ? "the ruleset changed while it was being made" :
				 k8snet_strerror(a->err), ext, more);
	return k8s_error(b->ctx, a->err, "nftables refused the batch at %s (%s%s%s): %s%s%s",
			 owner ? owner : "an unnamed object", op_name(nlh->nlmsg_type),
			 set ? " set " : "", set ? set : "", k8snet_strerror(a->err), ext, more);
}

/* ---------------- sending ---------------- */

static size_t put_marker(char *buf, uint16_t type, uint32_t seq, uint32_t genid)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	return nlh->nlmsg_len;
}

/* Number the messages and choose who asks for an acknowledgement. */
static void stamp(struct nft_batch *b, uint32_t seq0, bool ack_all)
{
	size_t i;

	for (i = 0; i < b->nmsgs; i++) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b->pages[b->msgs[i].page].buf + b->msgs[i].off);

		nlh->nlmsg_seq = seq0 + 1 + (uint32_t)i;
		if (ack_all || i == b->nmsgs - 1)
			nlh->nlmsg_flags |= NLM_F_ACK;
		else
			nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	}
}

static int send_all(struct nft_batch *b, struct mnl_socket *nl, const char *begin, size_t nbegin,
		    const char *end, size_t nend)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa) };
	size_t i, niov = b->npages + 2;
	struct iovec *iov;
	ssize_t n;

	if (niov > IOV_MAX)
		return k8s_error(b->ctx, -E2BIG, "nftables batch of %zu bytes is too large",
				 nft_batch_bytes(b));
	iov = calloc(niov, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	iov[0] = (struct iovec){ (void *)begin, nbegin };
	for (i = 0; i < b->npages; i++)
		iov[i + 1] = (struct iovec){ b->pages[i].buf, b->pages[i].len };
	iov[niov - 1] = (struct iovec){ (void *)end, nend };
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	/* A signal can only interrupt the wait for buffer memory, before the
	 * kernel has seen the batch: sending again is safe. */
	do
		n = sendmsg(mnl_socket_get_fd(nl), &msg, 0);
	while (n < 0 && errno == EINTR);
	free(iov);
	if (n < 0)
		return k8s_error(b->ctx, -errno, "sending the nftables batch (%zu bytes): %m",
				 nft_batch_bytes(b));
	return 0;
}

int nft_batch_commit(struct nft_batch *b, uint32_t genid)
{
	struct k8snet_ctx *ctx = b->ctx;
	char begin[64], end[64];
	struct answer a = { 0 };
	struct mnl_socket *nl;
	size_t nbegin, nend, want;
	int fd, r, cap;
	bool ack_all;

	nft_batch_flush_pending(b);
	if (b->err)
		return k8snet_ctx_get_errno(ctx) == b->err ? b->err :
		       k8s_error(ctx, b->err, "building the nftables batch: %s", k8snet_strerror(b->err));
	b->commit_gen = 0;
	if (b->expect)
		return -EINVAL;
	if (!b->nmsgs)
		return 0;
	r = nft_socket(ctx, &nl);
	if (r < 0)
		return r;
	fd = mnl_socket_get_fd(nl);
	nft_drain(ctx, nl);
	a.seq0 = nft_next_seq(ctx, (uint32_t)b->nmsgs + 2);
	a.last = a.seq0 + (uint32_t)b->nmsgs;
	nbegin = put_marker(begin, NFNL_MSG_BATCH_BEGIN, a.seq0, genid);
	nend = put_marker(end, NFNL_MSG_BATCH_END, a.last + 1, 0);

	buffer_at_least(fd, SO_SNDBUFFORCE, SO_SNDBUF,
			clamp_int(nft_batch_bytes(b) + nbegin + nend + 4096), &ctx->nfnl_sndbuf);
	want = b->nmsgs * ACK_COST + (256u << 10);
	cap = ctx->nfnl_rcvbuf_cap;
	if (cap && want > (size_t)cap)
		want = (size_t)cap;
	ack_all = (size_t)buffer_at_least(fd, SO_RCVBUFFORCE, SO_RCVBUF, clamp_int(want),
					  &ctx->nfnl_rcvbuf) >= b->nmsgs * ACK_COST;
	if (cap) {
		/* A capped buffer is set as asked, even when smaller. */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cap, sizeof(cap));
		ctx->nfnl_rcvbuf = 0;
		ack_all = false;
	}
	stamp(b, a.seq0, ack_all);

	r = send_all(b, nl, begin, nbegin, end, nend);
	if (r >= 0)
		r = read_answer(ctx, nl, &a);
	/* After a failure, or an error for the whole batch, more answers may
	 * still come: the next exchange starts by throwing them away. */
	if (r < 0 || a.nerrors)
		ctx->nfnl_unread = true;
	if (r < 0)
		return r;
	if (a.nerrors)
		return report(b, &a);
	if (ack_all && a.acked != b->nmsgs)
		return k8s_error(ctx, -EPROTO, "nftables acknowledged %zu of %zu messages", a.acked,
				 b->nmsgs);
	b->commit_gen = genid ? nft_gen_after(genid) : 0;
	if (b->commit_gen)
		nft_gen_note_own(ctx, b->commit_gen);
	return 0;
}

uint32_t nft_batch_commit_gen(const struct nft_batch *b)
{
	return b->commit_gen;
}
