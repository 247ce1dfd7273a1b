/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Observe: NFLOG (nfnetlink_log) verdict events, decoded one at a time into
 * the observer's own event slot, so memory stays flat however many arrive.
 * The prefix that lib/policy/log.c puts on each logging rule names the
 * verdict, the direction and the policies; the packet's addresses are named
 * with the objects the observer was given (through its trace object's
 * pod and service indexes).
 */
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include <k8snet/observe.h>

#include "trace/internal.h"

#define RECV_BUF (256u * 1024u)
#define SOCK_RCVBUF (8 * 1024 * 1024)
#define COPY_RANGE 128u   /* enough for the IP and transport headers */

struct k8snet_observer {
	struct k8snet_ctx *ctx;
	struct k8snet_trace *names;
	struct mnl_socket *nl;
	uint32_t group;
	uint8_t *buf;              /* received (or fed) messages */
	size_t len, off;
	uint64_t lost;
	/* The current event. */
	char src[320], dst[320], src_ip[INET6_ADDRSTRLEN], dst_ip[INET6_ADDRSTRLEN];
	char proto[8], verdict[8], direction[8], policy[128];
	uint64_t time_ns;
	uint16_t sport, dport;
};

/* ---- the socket ---- */

static struct nlmsghdr *config_msg(uint8_t *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0 ? -errno : 0;
}

/* Bind the group; copy 128 bytes of each packet; deliver each at once (the
 * kernel's defaults batch up to 100 packets or one second). */
static int bind_group(struct mnl_socket *nl, uint16_t group)
{
	/* Zeroed: libmnl 1.0.4's mnl_attr_put() leaves the attributes'
	 * padding as it was, and it is sent (valgrind: uninitialised bytes). */
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(COPY_RANGE),
					       .copy_mode = NFULNL_COPY_PACKET };
	struct nlmsghdr *nlh;
	int r;

	memset(buf, 0, sizeof(buf));
	nlh = config_msg(buf, group, 1);

	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	r = talk(nl, nlh);
	if (r < 0)
		return r;
	nlh = config_msg(buf, group, 2);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
	return talk(nl, nlh);
}

static int open_socket(struct k8snet_observer *obs)
{
	int saved = -1, r, size = SOCK_RCVBUF;

	r = k8s_netns_enter(obs->ctx->netns_fd, &saved);
	if (r < 0)
		return k8s_error(obs->ctx, r, "cannot enter the context's network namespace");
	/* Blocking: the configuration's acknowledgements are read at once;
	 * events are read with MSG_DONTWAIT after poll(). */
	obs->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	r = obs->nl ? 0 : -errno;
	k8s_netns_leave(saved);
	if (r < 0)
		return k8s_error(obs->ctx, r, "netlink socket: %s", strerror(-r));
	if (mnl_socket_bind(obs->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return k8s_error(obs->ctx, -errno, "netlink bind: %s", strerror(errno));
	/* Room for bursts; privileged callers may go past rmem_max. */
	if (setsockopt(mnl_socket_get_fd(obs->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(obs->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	r = bind_group(obs->nl, (uint16_t)obs->group);
	if (r < 0)
		return k8s_error_at(obs->ctx, r, "nflog_group", "cannot bind NFLOG group %u: %s",
				    obs->group, strerror(-r));
	return 0;
}

K8SNET_EXPORT int k8snet_observer_new(struct k8snet_ctx *ctx, uint32_t nflog_group,
				      uint32_t flags, struct k8snet_observer **ret)
{
	struct k8snet_observer *obs;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	if (!ctx || !ret)
		return -EINVAL;
	if (nflog_group > 65535)
		return k8s_error_at(ctx, -ERANGE, "nflog_group", "%u: must be 0..65535", nflog_group);
	if (flags & ~K8SNET_OBSERVER_F_NO_SOCKET)
		return k8s_error_at(ctx, -EINVAL, "flags", "0x%x: unknown flags", flags);
	obs = calloc(1, sizeof(*obs));
	if (!obs || !(obs->buf = malloc(RECV_BUF))) {
		free(obs);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	obs->ctx = k8snet_ctx_ref(ctx);
	obs->group = nflog_group ? nflog_group : 100;
	r = k8snet_trace_new(ctx, &obs->names);
	if (r >= 0 && !(flags & K8SNET_OBSERVER_F_NO_SOCKET))
		r = open_socket(obs);
	if (r < 0) {
		k8snet_observer_free(obs);
		return r;
	}
	*ret = obs;
	return 0;
}

K8SNET_EXPORT struct k8snet_observer *k8snet_observer_free(struct k8snet_observer *obs)
{
	if (!obs)
		return NULL;
	if (obs->nl)
		mnl_socket_close(obs->nl);
	k8snet_trace_free(obs->names);
	free(obs->buf);
	k8snet_ctx_unref(obs->ctx);
	free(obs);
	return NULL;
}

K8SNET_EXPORT int k8snet_observer_load_json(struct k8snet_observer *obs, const char *json,
					    size_t len)
{
	K8S_FORK_GUARD(obs);
	if (!obs)
		return -EINVAL;
	return k8snet_trace_load_json(obs->names, json, len);
}

/* Put "docs[i]" in front of the path of the error a load recorded, so the
 * caller can tell which document was refused. */
static int blame_document(struct k8snet_ctx *ctx, int err, size_t i)
{
	const char *msg = ctx->err_msg ? ctx->err_msg : "", *path = ctx->err_path;
	size_t plen = path ? strlen(path) : 0;
	char *where = NULL, *body;

	if (plen && strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
		msg += plen + 2;          /* the path is written again below */
	body = strdup(msg);
	if (plen ? asprintf(&where, "docs[%zu].%s", i, path) < 0 :
		   asprintf(&where, "docs[%zu]", i) < 0)
		where = NULL;
	err = k8s_error_at(ctx, err, where ? where : "docs", "%s", body ? body : "");
	free(where);
	free(body);
	return err;
}

K8SNET_EXPORT int k8snet_observer_set_json(struct k8snet_observer *obs, const char *const *docs,
					   const size_t *lens, size_t n)
{
	struct k8snet_trace *names = NULL;
	size_t i;
	int r;

	K8S_FORK_GUARD(obs);
	if (!obs)
		return -EINVAL;
	K8S_CHECK_ARG(obs->ctx, (docs && lens) || !n);
	r = k8s_ctx_check_process(obs->ctx);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (!docs[i])
			return k8s_error_at(obs->ctx, -EINVAL, "docs", "docs[%zu] is NULL", i);
	/* A new set, so that a refused document leaves the current one whole
	 * and events are never named by half of each. */
	r = k8snet_trace_new(obs->ctx, &names);
	for (i = 0; r >= 0 && i < n; i++) {
		r = k8snet_trace_load_json(names, docs[i], lens[i]);
		if (r < 0)
			r = blame_document(obs->ctx, r, i);
	}
	if (r >= 0)
		r = tr_index(names);
	if (r < 0) {
		k8snet_trace_free(names);
		return r;
	}
	k8snet_trace_free(obs->names);
	obs->names = names;
	return 0;
}

K8SNET_EXPORT int k8snet_observer_get_fd(const struct k8snet_observer *obs)
{
	K8S_FORK_GUARD(obs);
	if (!obs)
		return -EINVAL;
	return obs->nl ? mnl_socket_get_fd(obs->nl) : -EBADF;
}

K8SNET_EXPORT int k8snet_observer_feed(struct k8snet_observer *obs, const void *buf, size_t len)
{
	K8S_FORK_GUARD(obs);
	if (!obs)
		return -EINVAL;
	K8S_CHECK_ARG(obs->ctx, buf || !len);
	if (len > RECV_BUF)
		return k8s_error_at(obs->ctx, -E2BIG, "len", "%zu: at most %u bytes at a time", len,
				    RECV_BUF);
	memcpy(obs->buf, buf, len);
	obs->len = len;
	obs->off = 0;
	return 0;
}

/* ---- decoding ---- */

static void name_addr(struct k8snet_observer *obs, int fam, const uint8_t *a, char *name,
		      size_t nlen, char *ip, size_t iplen)
{
	struct k8snet_trace *t = obs->names;
	struct pl_addr pa = { .family = fam };
	struct nat_addr na = { .family = fam, .plen = fam == AF_INET ? 32 : 128 };
	const struct nat_entry *e;
	struct pl_pod *pod;

	memcpy(pa.a, a, fam == AF_INET ? 4 : 16);
	memcpy(na.a, a, fam == AF_INET ? 4 : 16);
	inet_ntop(fam, a, ip, (socklen_t)iplen);
	if ((pod = pl_db_pod_by_ip(t->db, &pa)))
		snprintf(name, nlen, "%s/%s", pod->ns, pod->name);
	else if ((e = tr_find_service_ip(t, &na)))
		snprintf(name, nlen, "svc:%s", e->key);
	else
		snprintf(name, nlen, "%s", ip);
}

static const char *proto_text(uint8_t p, char buf[static 8])
{
	switch (p) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_SCTP: return "SCTP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "ICMPv6";
	default: snprintf(buf, 8, "%u", p); return buf;
	}
}

/* The IP header (and the ports) of the logged packet. */
static int decode_payload(struct k8snet_observer *obs, const uint8_t *p, size_t n)
{
	const uint8_t *src, *dst, *l4;
	uint8_t proto;
	int fam;
	size_t hl;

	if (n < 1)
		return -EBADMSG;
	if ((p[0] >> 4) == 4 && n >= 20) {
		fam = AF_INET;
		hl = (size_t)(p[0] & 0xf) * 4;
		proto = p[9];
		src = p + 12;
		dst = p + 16;
	} else if ((p[0] >> 4) == 6 && n >= 40) {
		fam = AF_INET6;
		hl = 40;          /* extension headers are not followed */
		proto = p[6];
		src = p + 8;
		dst = p + 24;
	} else {
		return -EBADMSG;
	}
	name_addr(obs, fam, src, obs->src, sizeof(obs->src), obs->src_ip, sizeof(obs->src_ip));
	name_addr(obs, fam, dst, obs->dst, sizeof(obs->dst), obs->dst_ip, sizeof(obs->dst_ip));
	snprintf(obs->proto, sizeof(obs->proto), "%s", proto_text(proto, (char[8]){ 0 }));
	obs->sport = obs->dport = 0;
	l4 = p + hl;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
	    n >= hl + 4) {
		obs->sport = (uint16_t)(l4[0] << 8 | l4[1]);
		obs->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	}
	return 0;
}

/* "k8snet VERDICT DIRECTION POLICIES..." (lib/policy/log.c). */
static void decode_prefix(struct k8snet_observer *obs, const char *prefix)
{
	char v[16] = "", d[16] = "";
	int off = 0;

	obs->verdict[0] = obs->direction[0] = obs->policy[0] = '\0';
	if (sscanf(prefix, "k8snet %15s %15s %n", v, d, &off) < 2 || !off) {
		snprintf(obs->policy, sizeof(obs->policy), "%s", prefix);
		return;
	}
	snprintf(obs->verdict, sizeof(obs->verdict), "%s", v);
	snprintf(obs->direction, sizeof(obs->direction), "%s", d);
	snprintf(obs->policy, sizeof(obs->policy), "%s", prefix + off);
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFULA_MAX) > 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int decode_packet(struct k8snet_observer *obs, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	char prefix[128] = "";
	struct timespec now;
	int r;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0 || !tb[NFULA_PAYLOAD])
		return -EBADMSG;
	r = decode_payload(obs, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			   mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]));
	if (r < 0)
		return r;
	if (tb[NFULA_PREFIX]) {
		size_t n = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);

		if (n >= sizeof(prefix))
			n = sizeof(prefix) - 1;
		memcpy(prefix, mnl_attr_get_payload(tb[NFULA_PREFIX]), n);
		prefix[n] = '\0';
	}
	decode_prefix(obs, prefix);
	if (tb[NFULA_TIMESTAMP] &&
	    mnl_attr_get_payload_len(tb[NFULA_TIMESTAMP]) >= sizeof(struct nfulnl_msg_packet_timestamp)) {
		const struct nfulnl_msg_packet_timestamp *ts = mnl_attr_get_payload(tb[NFULA_TIMESTAMP]);

		obs->time_ns = be64toh(ts->sec) * 1000000000ull + be64toh(ts->usec) * 1000ull;
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		obs->time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	}
	return 1;
}

/* The next event in the buffer: 1, or 0 when the buffer is used up. */
static int next_in_buffer(struct k8snet_observer *obs)
{
	while (obs->off < obs->len) {
		const struct nlmsghdr *nlh = (const void *)(obs->buf + obs->off);
		size_t left = obs->len - obs->off;

		if (!mnl_nlmsg_ok(nlh, (int)left)) {
			obs->off = obs->len;
			return 0;
		}
		obs->off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) &&
		    decode_packet(obs, nlh) == 1)
			return 1;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int receive(struct k8snet_observer *obs, int timeout_ms)
{
	long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	for (;;) {
		struct pollfd p = { mnl_socket_get_fd(obs->nl), POLLIN, 0 };
		ssize_t n = recv(p.fd, obs->buf, RECV_BUF, MSG_DONTWAIT);
		int wait;

		if (n > 0) {
			obs->len = (size_t)n;
			obs->off = 0;
			return 1;
		}
		if (n < 0 && errno == ENOBUFS) {
			obs->lost++;   /* the kernel dropped some: go on with the rest */
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return k8s_error(obs->ctx, -errno, "NFLOG receive: %s", strerror(errno));
		wait = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : (int)(deadline - now_ms());
		if (timeout_ms >= 0 && wait <= 0)
			return 0;
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return k8s_error(obs->ctx, -errno, "poll: %s", strerror(errno));
	}
}

K8SNET_EXPORT int k8snet_observer_next(struct k8snet_observer *obs, int timeout_ms)
{
	int r;

	K8S_FORK_GUARD(obs);
	if (!obs)
		return -EINVAL;
	r = tr_index(obs->names);
	if (r < 0)
		return r;
	for (;;) {
		if (next_in_buffer(obs))
			return 1;
		if (!obs->nl)
			return 0;
		r = receive(obs, timeout_ms);
		if (r <= 0)
			return r;
	}
}

K8SNET_EXPORT const char *k8snet_observer_get_str(const struct k8snet_observer *obs, uint32_t attr)
{
	K8S_FORK_GUARD_OR(obs, NULL);
	if (!obs)
		return NULL;
	switch (attr) {
	case K8SNET_EVENT_SOURCE: return obs->src;
	case K8SNET_EVENT_DESTINATION: return obs->dst;
	case K8SNET_EVENT_PROTOCOL: return obs->proto;
	case K8SNET_EVENT_VERDICT: return obs->verdict;
	case K8SNET_EVENT_DIRECTION: return obs->direction;
	case K8SNET_EVENT_POLICY: return obs->policy;
	case K8SNET_EVENT_SOURCE_IP: return obs->src_ip;
	case K8SNET_EVENT_DEST_IP: return obs->dst_ip;
	default: return NULL;
	}
}

K8SNET_EXPORT uint64_t k8snet_observer_get_u64(const struct k8snet_observer *obs, uint32_t attr)
{
	K8S_FORK_GUARD_OR(obs, 0);
	if (!obs)
		return 0;
	switch (attr) {
	case K8SNET_EVENT_TIME_NS: return obs->time_ns;
	case K8SNET_EVENT_PORT: return obs->dport;
	case K8SNET_EVENT_SOURCE_PORT: return obs->sport;
	default: return 0;
	}
}

K8SNET_EXPORT uint64_t k8snet_observer_get_lost(const struct k8snet_observer *obs)
{
	K8S_FORK_GUARD_OR(obs, 0);
	return obs ? obs->lost : 0;
}
