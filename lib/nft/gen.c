/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ruleset generation.  The kernel counts commits per network namespace;
 * a layer remembers the generation at which its record of its tables was
 * known to be right.  If every commit since then came from this context
 * (its own layers), nobody else can have touched those tables, and a delta
 * is safe; the delta is then sent with that generation (NFNL_BATCH_GENID),
 * so a commit sneaking in between makes the kernel refuse it rather than
 * apply it to something we did not expect.
 */
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "nft/internal.h"

struct gen_reply {
	uint32_t seq;
	uint32_t gen;
	int err;
	bool done;
};

static int gen_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

static void gen_take(const struct nlmsghdr *nlh, struct gen_reply *g)
{
	if (nlh->nlmsg_seq != g->seq)
		return;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (e->error) {
			g->err = e->error;
			g->done = true;
		}
		return;
	}
	if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN) {
		mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, &g->gen);
		g->done = true;
	}
}

int nft_gen_get(struct k8snet_ctx *ctx, uint32_t *ret)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct gen_reply g = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int r = nft_socket(ctx, &nl);

	if (r < 0)
		return r;
	nft_drain(ctx, nl);
	g.seq = nft_next_seq(ctx, 1);
	memset(buf, 0, 64);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, g.seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return k8s_error(ctx, -errno, "asking for the nftables generation: %m");
	while (!g.done) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), 0);
		int len;

		if (n < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;    /* ENOBUFS: an old overflow; our answer is still due */
		if (n < 0) {
			ctx->nfnl_unread = true;
			return k8s_error(ctx, -errno, "reading the nftables generation: %m");
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			gen_take(nlh, &g);
	}
	if (g.err)
		return k8s_error(ctx, g.err, "reading the nftables generation: %s",
				 k8snet_strerror(g.err));
	*ret = g.gen;
	return 0;
}

void nft_gen_note_own(struct k8snet_ctx *ctx, uint32_t gen)
{
	ctx->nft_own_gens[ctx->nft_own_pos++ % ARRAY_SIZE(ctx->nft_own_gens)] = gen;
	if (ctx->nft_own_n < ARRAY_SIZE(ctx->nft_own_gens))
		ctx->nft_own_n++;
}

static bool is_own(const struct k8snet_ctx *ctx, uint32_t gen)
{
	unsigned i;

	for (i = 0; i < ctx->nft_own_n; i++)
		if (ctx->nft_own_gens[i] == gen)
			return true;
	return false;
}

bool nft_gen_only_own(const struct k8snet_ctx *ctx, uint32_t from, uint32_t to)
{
	uint32_t g = from;
	unsigned steps = 0;

	while (g != to) {
		g = nft_gen_after(g);
		if (!is_own(ctx, g) || ++steps > ARRAY_SIZE(ctx->nft_own_gens))
			return false;
	}
	return true;
}

/*
 * Writers that retry at once can keep beating each other: four CNI ADDs at a
 * time, each reading the table and committing at that generation, lost eight
 * times in a row.  So wait before trying again, longer each time (0.2 ms
 * doubling up to 25 ms, about 0.6 s over all the attempts) and not in step
 * with the others (a random share of the pause).
 */
void nft_retry_pause(unsigned attempt)
{
	unsigned shift = attempt > 8 ? 7 : attempt ? attempt - 1 : 0;
	long base_us = 200L << shift, us;
	struct timespec ts;
	unsigned int noise;

	if (base_us > 25000)
		base_us = 25000;
	if (getrandom(&noise, sizeof(noise), GRND_NONBLOCK) != (ssize_t)sizeof(noise))
		noise = (unsigned int)getpid() * 2654435761u + attempt;
	us = base_us / 2 + (long)(noise % (unsigned int)(base_us / 2 + 1));
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000L;
	/* An interrupted pause is still a pause; we try again either way. */
	(void)nanosleep(&ts, NULL);
}

int nft_retry(struct k8snet_ctx *ctx, int (*once)(void *arg), void *arg)
{
	unsigned attempt;
	int r;

	for (attempt = 1;; attempt++) {
		r = once(arg);
		if (r != -ERESTART && r != -EAGAIN)
			return r;
		if (attempt == NFT_RETRY_ATTEMPTS)
			break;
		k8snet_ctx_clear_error(ctx);
		nft_retry_pause(attempt);
	}
	if (!*k8snet_ctx_get_error(ctx))
		r = k8s_error(ctx, r, "the ruleset kept changing (%u tries)", attempt);
	return r;
}
