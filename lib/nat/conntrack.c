/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stale conntrack entries of UDP and SCTP services (kube-proxy's
 * pkg/proxy/conntrack).  A UDP "connection" lives as long as packets keep
 * coming: a client sending from a fixed port every second stays pinned to
 * the endpoint its first packet was DNATed to, even after that endpoint is
 * gone and the rules point elsewhere.  After a sync has committed, the
 * entries that lead to removed endpoints are deleted, so the next packet
 * goes through the new rules.
 *
 * What is deleted, per family, from the difference between the fragment the
 * kernel had and the one it has now (nat_ct_diff()):
 *  - a destination (ClusterIP, external or LB IP and port, or a NodePort)
 *    whose endpoint (address and port) went away while others stay: entries
 *    whose original destination is it and whose reply source is the endpoint;
 *  - a destination left with no endpoint, or gone with its service: every
 *    entry whose original destination is it.
 * Nothing else: TCP, and endpoints that stay, are never touched.
 *
 * How: the kernel has no index by original destination, so each filter is
 * one dump with the filter applied in the kernel (CTA_FILTER, Linux 5.8):
 * only the matching entries cross to user space, then each is deleted by
 * its exact tuple and id.  A kernel that ignored the filter would send
 * everything; every entry is matched again here before it is deleted.
 * The socket is our own (ctnetlink), opened in the context's namespace.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/filter.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nat/internal.h"

/* The kernel's CTA_FILTER flag bits (net/netfilter/nf_conntrack_netlink.c;
 * not in the uapi headers). */
#define CT_FILTER_IP_SRC        (1u << 0)
#define CT_FILTER_IP_DST        (1u << 1)
#define CT_FILTER_PROTO_NUM     (1u << 3)
#define CT_FILTER_PROTO_SRC_PORT (1u << 4)
#define CT_FILTER_PROTO_DST_PORT (1u << 5)

/* ---------------- what to delete ---------------- */

static int cmp_dest(const struct nat_ctflow *a, const struct nat_ctflow *b)
{
	int c = (int)a->nodeport - (int)b->nodeport;

	if (!c)
		c = memcmp(a->daddr, b->daddr, 16);
	if (!c)
		c = (int)a->proto - (int)b->proto;
	if (!c)
		c = (int)a->port - (int)b->port;
	return c;
}

int nat_ctflow_cmp(const void *x, const void *y)
{
	const struct nat_ctflow *a = x, *b = y;
	int c = cmp_dest(a, b);

	if (!c)
		c = (int)a->has_ep - (int)b->has_ep;
	if (!c)
		c = memcmp(a->ep, b->ep, 16);
	if (!c)
		c = (int)a->ep_port - (int)b->ep_port;
	return c;
}

static int push_del(struct nat_ctwork *w, int fam, const struct nat_ctflow *f, bool whole_dest)
{
	struct nat_ct_del *d;

	if (k8s_grow_pow2(&w->v, w->n, sizeof(*w->v)) < 0)
		return -ENOMEM;
	d = &w->v[w->n++];
	d->fam = fam;
	d->f = *f;
	if (whole_dest) {
		d->f.has_ep = false;
		memset(d->f.ep, 0, sizeof(d->f.ep));
		d->f.ep_port = 0;
	}
	return 0;
}

static bool has_endpoints(const struct nat_ctflow *v, size_t n)
{
	return n && v[0].has_ep;   /* a destination lists "no endpoint" alone */
}

static bool flow_in(const struct nat_ctflow *f, const struct nat_ctflow *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nat_ctflow_cmp(f, &v[i]) == 0)
			return true;
	return false;
}

/* One destination: o[no] what it had, n[nn] what it has (both sorted). */
static int diff_dest(struct nat_ctwork *w, int fam, const struct nat_ctflow *o, size_t no,
		     const struct nat_ctflow *n, size_t nn)
{
	size_t i;
	int r = 0;

	if (!has_endpoints(o, no))
		return 0;
	if (!has_endpoints(n, nn))
		return push_del(w, fam, &o[0], true);
	for (i = 0; i < no && r >= 0; i++)
		if (!flow_in(&o[i], n, nn))
			r = push_del(w, fam, &o[i], false);
	return r;
}

static size_t dest_run(const struct nat_ctflow *v, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && cmp_dest(&v[i], &v[j]) == 0)
		j++;
	return j - i;
}

int nat_ct_diff(int fam, const struct nat_frag *old, const struct nat_frag *new,
		struct nat_ctwork *w)
{
	const struct nat_ctflow *o = old ? old->ctflows : NULL, *n = new ? new->ctflows : NULL;
	size_t no = old ? old->nctflows : 0, nn = new ? new->nctflows : 0, i = 0, j = 0;
	int r = 0;

	/* Both lists are sorted by destination: walk them side by side. */
	while (i < no && r >= 0) {
		size_t ro = dest_run(o, no, i), rn = 0;
		int c = j < nn ? cmp_dest(&o[i], &n[j]) : -1;

		if (c > 0) {
			j += dest_run(n, nn, j);
			continue;
		}
		if (c == 0)
			rn = dest_run(n, nn, j);
		r = diff_dest(w, fam, &o[i], ro, c == 0 ? &n[j] : NULL, rn);
		i += ro;
		j += rn;
	}
	return r;
}

void nat_ctwork_free(struct nat_ctwork *w)
{
	free(w->v);
	*w = (struct nat_ctwork){ 0 };
}

/* ---------------- ctnetlink ---------------- */

struct ct_sock {
	struct mnl_socket *nl;
	uint32_t portid, seq;
};

static int open_ct(struct k8snet_ctx *ctx, void *userdata)
{
	struct ct_sock *s = userdata;
	int one = 1;

	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!s->nl)
		return k8s_error(ctx, -errno, "conntrack: cannot open ctnetlink socket: %m");
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(s->nl);
		s->nl = NULL;
		return k8s_error(ctx, r, "conntrack: cannot bind ctnetlink socket: %s",
				 k8snet_strerror(r));
	}
	/* Errors come back as extended acks with the message that failed. */
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	return 0;
}

static struct nlmsghdr *ct_msg(char *buf, uint16_t type, uint16_t flags, int fam, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)fam;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static size_t alen(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

/* A tuple attribute: the given address as source or destination, protocol,
 * and the ports that are non-zero. */
static void put_tuple(struct nlmsghdr *nlh, uint16_t type, int fam, const uint8_t *src,
		      const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (src)
		mnl_attr_put(nlh, fam == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, alen(fam), src);
	if (dst)
		mnl_attr_put(nlh, fam == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST, alen(fam), dst);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	if (sport)
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	if (dport)
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* An entry as the dump gives it: enough to match it and delete it. */
struct ct_entry {
	uint8_t osrc[16], odst[16], rsrc[16];
	uint16_t osport, odport, rsport;
	uint8_t proto;
	bool has_zone, has_id;
	uint16_t zone;
	uint32_t id;
};

struct tuple_attrs {
	const struct nlattr *a[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
};

static int nest_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = ((const struct nlattr **)data);
	uint16_t type = mnl_attr_get_type(attr);

	tb[type] = attr;
	return MNL_CB_OK;
}

static int parse_tuple(const struct nlattr *t, int fam, uint8_t *src, uint8_t *dst,
		       uint16_t *sport, uint16_t *dport, uint8_t *proto)
{
	const struct nlattr *a[CTA_TUPLE_MAX + 1] = { 0 }, *ip[CTA_IP_MAX + 1] = { 0 };
	const struct nlattr *pr[CTA_PROTO_MAX + 1] = { 0 };
	uint16_t s = fam == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
	uint16_t d = fam == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST;

	if (!t || mnl_attr_parse_nested(t, nest_cb, a) < 0 || !a[CTA_TUPLE_IP] || !a[CTA_TUPLE_PROTO])
		return -EINVAL;
	if (mnl_attr_parse_nested(a[CTA_TUPLE_IP], nest_cb, ip) < 0 ||
	    mnl_attr_parse_nested(a[CTA_TUPLE_PROTO], nest_cb, pr) < 0)
		return -EINVAL;
	if (!ip[s] || !ip[d] || mnl_attr_get_payload_len(ip[s]) != alen(fam) ||
	    mnl_attr_get_payload_len(ip[d]) != alen(fam) || !pr[CTA_PROTO_NUM])
		return -EINVAL;
	memcpy(src, mnl_attr_get_payload(ip[s]), alen(fam));
	memcpy(dst, mnl_attr_get_payload(ip[d]), alen(fam));
	*proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	*sport = pr[CTA_PROTO_SRC_PORT] ? ntohs(mnl_attr_get_u16(pr[CTA_PROTO_SRC_PORT])) : 0;
	*dport = pr[CTA_PROTO_DST_PORT] ? ntohs(mnl_attr_get_u16(pr[CTA_PROTO_DST_PORT])) : 0;
	return 0;
}

struct dump_state {
	int fam;
	const struct nat_ct_del *want;
	struct ct_entry *v;
	size_t n;
	size_t seen;                 /* entries the kernel sent */
	int err;
};

/* The entry matches the deletion: checked here too, whatever the kernel did. */
static bool entry_matches(const struct nat_ct_del *d, const struct ct_entry *e)
{
	const struct nat_ctflow *f = &d->f;
	size_t l = alen(d->fam);

	if (e->proto != f->proto || e->odport != f->port)
		return false;
	if (!f->nodeport && memcmp(e->odst, f->daddr, l) != 0)
		return false;
	return !f->has_ep || (memcmp(e->rsrc, f->ep, l) == 0 && e->rsport == f->ep_port);
}

/* An entry of a dump or an event; its family in *fam.  -EINVAL: not one. */
static int parse_entry(const struct nlmsghdr *nlh, struct ct_entry *e, int *fam)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	uint8_t rdst[16], rproto;
	uint16_t rdport;

	*e = (struct ct_entry){ 0 };
	*fam = nfg->nfgen_family;
	if ((*fam != AF_INET && *fam != AF_INET6) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nest_cb, tb) < 0)
		return -EINVAL;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], *fam, e->osrc, e->odst, &e->osport, &e->odport,
			&e->proto) < 0 ||
	    parse_tuple(tb[CTA_TUPLE_REPLY], *fam, e->rsrc, rdst, &e->rsport, &rdport, &rproto) < 0)
		return -EINVAL;
	if (tb[CTA_ZONE]) {
		e->has_zone = true;
		e->zone = ntohs(mnl_attr_get_u16(tb[CTA_ZONE]));
	}
	if (tb[CTA_ID]) {
		e->has_id = true;
		e->id = mnl_attr_get_u32(tb[CTA_ID]);
	}
	return 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *st = data;
	struct ct_entry e;
	int fam;

	st->seen++;
	if (parse_entry(nlh, &e, &fam) < 0 || fam != st->fam || !entry_matches(st->want, &e))
		return MNL_CB_OK;
	if (k8s_grow_pow2(&st->v, st->n, sizeof(*st->v)) < 0) {
		st->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	st->v[st->n++] = e;
	return MNL_CB_OK;
}

/* Receive until an answer is complete: a dump's DONE, or one ack. */
static int ct_recv(struct ct_sock *s, mnl_cb_t cb, void *data)
{
	char buf[65536];
	ssize_t len;
	int r;

	do {
		len = mnl_socket_recvfrom(s->nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)len, 0, s->portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? -errno : 0;
}

static int ct_dump(struct ct_sock *s, struct dump_state *st)
{
	const struct nat_ctflow *f = &st->want->f;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t oflags, rflags = 0;
	struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, st->fam, ++s->seq);
	struct nlattr *n;

	oflags = CT_FILTER_PROTO_NUM | CT_FILTER_PROTO_DST_PORT | (f->nodeport ? 0 : CT_FILTER_IP_DST);
	put_tuple(nlh, CTA_TUPLE_ORIG, st->fam, NULL, f->nodeport ? NULL : f->daddr, f->proto, 0,
		  f->port);
	if (f->has_ep) {
		rflags = CT_FILTER_IP_SRC | CT_FILTER_PROTO_NUM | CT_FILTER_PROTO_SRC_PORT;
		put_tuple(nlh, CTA_TUPLE_REPLY, st->fam, f->ep, NULL, f->proto, f->ep_port, 0);
	}
	n = mnl_attr_nest_start(nlh, CTA_FILTER);
	mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, oflags);
	mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, rflags);
	mnl_attr_nest_end(nlh, n);
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return ct_recv(s, dump_cb, st);
}

/* Deletions of dumped entries, many to a send; an entry that expired
 * meanwhile (ENOENT) is what we wanted anyway. */
static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int ct_delete(struct ct_sock *s, int fam, const struct ct_entry *v, size_t n,
		     size_t *ret_deleted)
{
	static const size_t per_send = 128;
	char *buf = calloc(per_send, 256);   /* the gaps between messages are sent too */
	size_t i = 0, k, off;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (i < n && r >= 0) {
		for (k = 0, off = 0; k < per_send && i < n; k++, i++) {
			struct nlmsghdr *nlh = ct_msg(buf + off, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, fam,
						      ++s->seq);

			put_tuple(nlh, CTA_TUPLE_ORIG, fam, v[i].osrc, v[i].odst, v[i].proto,
				  v[i].osport, v[i].odport);
			if (v[i].has_zone)
				mnl_attr_put_u16(nlh, CTA_ZONE, htons(v[i].zone));
			if (v[i].has_id)
				mnl_attr_put_u32(nlh, CTA_ID, v[i].id);
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		if (mnl_socket_sendto(s->nl, buf, off) < 0) {
			r = -errno;
			break;
		}
		/* One ack per message; ENOENT acks count as done too. */
		while (k-- > 0) {
			int a = ct_recv(s, ack_cb, NULL);

			if (a == 0)
				(*ret_deleted)++;
			else if (a != -ENOENT && r >= 0)
				r = a;
		}
	}
	free(buf);
	return r;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void describe(const struct nat_ct_del *d, char *buf, size_t len)
{
	struct nat_addr a = { .family = d->fam };
	char dst[INET6_ADDRSTRLEN] = "*", ep[INET6_ADDRSTRLEN] = "";

	if (!d->f.nodeport) {
		memcpy(a.a, d->f.daddr, 16);
		nat_addr_str(&a, dst, sizeof(dst));
	}
	if (d->f.has_ep) {
		memcpy(a.a, d->f.ep, 16);
		nat_addr_str(&a, ep, sizeof(ep));
	}
	snprintf(buf, len, "%s %s:%u%s%s", d->f.proto == IPPROTO_UDP ? "udp" : "sctp", dst,
		 d->f.port, *ep ? " via " : "", ep);
}

/* ---------------- the index ----------------
 * A filtered dump walks the kernel's whole conntrack table (shared by all
 * namespaces): ~30 ms for 100,000 entries on a small machine, whatever it
 * finds.  So the proxy keeps its own index of the UDP and SCTP entries of
 * its namespace by original destination: built once from a full dump, then
 * kept by conntrack events (new, destroy) read at each sync.  A cleanup
 * finds its entries there and deletes them by exact tuple, at a cost that
 * follows what it deletes.  Lost events (the socket overflowed) make the
 * index unknown: that sync falls back to filtered dumps, the next rebuilds
 * the index.  A NodePort deletion (any local address) looks at every
 * destination of the index with that port: memory, not the kernel's table. */

struct ct_rec {
	struct ct_entry e;
	int fam;
	bool dead;
	struct ct_bucket *bucket;
};

struct ct_bucket {             /* the entries to one destination */
	struct ptrvec v;
	size_t dead;
};

struct nat_ctindex {
	struct ct_sock ev;         /* subscribed to new and destroy events */
	struct ct_sock op;         /* dumps and deletes */
	bool valid;
	struct k8s_map by_dest;       /* dest key -> ct_bucket */
	struct k8s_map by_tuple;      /* tuple key -> ct_rec */
	size_t n;
};

static void dest_key(char *buf, size_t len, int fam, uint8_t proto, const uint8_t *addr,
		     uint16_t port)
{
	char a[33];

	nat_hex(a, addr, alen(fam));
	snprintf(buf, len, "%d/%u/%s/%u", fam, proto, a, port);
}

static void tuple_key(char *buf, size_t len, int fam, const struct ct_entry *e)
{
	char s[33], d[33];

	nat_hex(s, e->osrc, alen(fam));
	nat_hex(d, e->odst, alen(fam));
	snprintf(buf, len, "%d/%u/%s/%u/%s/%u/%u", fam, e->proto, s, e->osport, d, e->odport,
		 e->has_zone ? e->zone : 0);
}

static void rec_free(void *v)
{
	free(v);
}

static void bucket_free(void *v)
{
	struct ct_bucket *b = v;

	nat_ptrvec_free(&b->v, rec_free);
	free(b);
}

static void index_clear(struct nat_ctindex *x)
{
	k8s_map_free(&x->by_tuple, NULL);
	k8s_map_free(&x->by_dest, bucket_free);
	x->n = 0;
	x->valid = false;
}

static bool indexed_proto(uint8_t proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

static int index_add(struct nat_ctindex *x, int fam, const struct ct_entry *e)
{
	char key[160];
	struct ct_bucket *b;
	struct ct_rec *rec;

	if (!indexed_proto(e->proto))
		return 0;
	tuple_key(key, sizeof(key), fam, e);
	if (k8s_map_get(&x->by_tuple, key))
		return 0;
	rec = calloc(1, sizeof(*rec));
	if (!rec || k8s_map_put(&x->by_tuple, key, rec) < 0) {
		free(rec);
		return -ENOMEM;
	}
	rec->e = *e;
	rec->fam = fam;
	dest_key(key, sizeof(key), fam, e->proto, e->odst, e->odport);
	b = k8s_map_get(&x->by_dest, key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || k8s_map_put(&x->by_dest, key, b) < 0) {
			free(b);
			return -ENOMEM;
		}
	}
	rec->bucket = b;
	x->n++;
	return nat_ptrvec_push(&b->v, rec);
}

/* Dead records stay in their bucket until half of it is dead. */
static void bucket_compact(struct ct_bucket *b)
{
	size_t i, j;

	if (b->dead * 2 < b->v.n)
		return;
	for (i = j = 0; i < b->v.n; i++) {
		struct ct_rec *rec = b->v.v[i];

		if (rec->dead)
			free(rec);
		else
			b->v.v[j++] = rec;
	}
	b->v.n = j;
	b->dead = 0;
}

static void index_forget(struct nat_ctindex *x, int fam, const struct ct_entry *e)
{
	struct ct_bucket *b;
	char key[160];
	struct ct_rec *rec;

	tuple_key(key, sizeof(key), fam, e);
	rec = k8s_map_remove(&x->by_tuple, key);
	if (!rec)
		return;
	rec->dead = true;
	b = rec->bucket;
	b->dead++;
	x->n--;
	/* The last one: the destination goes (a node talks to many over time). */
	if (b->dead == b->v.n) {
		dest_key(key, sizeof(key), fam, rec->e.proto, rec->e.odst, rec->e.odport);
		if (k8s_map_remove(&x->by_dest, key) == b)
			bucket_free(b);
		return;
	}
	bucket_compact(b);
}

struct index_fill {
	struct nat_ctindex *x;
	int err;
};

static int index_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct index_fill *fill = data;
	struct ct_entry e;
	int fam;

	if (parse_entry(nlh, &e, &fam) == 0 && index_add(fill->x, fam, &e) < 0) {
		fill->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int index_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct index_fill *fill = data;
	struct ct_entry e;
	int fam;

	if (parse_entry(nlh, &e, &fam) < 0)
		return MNL_CB_OK;
	if ((nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE)
		index_forget(fill->x, fam, &e);
	else if (index_add(fill->x, fam, &e) < 0)
		fill->err = -ENOMEM;
	return MNL_CB_OK;
}

/* Events of every TCP connection of the node would be read and dropped at
 * each sync: a socket filter lets only UDP and SCTP ones through (and any
 * message of another shape, which user space then ignores).  The offsets
 * are those of the attribute CTA_TUPLE_ORIG > CTA_TUPLE_PROTO >
 * CTA_PROTO_NUM, found by the kernel's netlink attribute helpers. */
static void filter_events(int fd)
{
	enum { ACCEPT = 15 };
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_IMM, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg))),
		/* 1 */ BPF_STMT(BPF_LDX | BPF_IMM, CTA_TUPLE_ORIG),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, ACCEPT - 4, 0),
		/* 4 */ BPF_STMT(BPF_LDX | BPF_IMM, CTA_TUPLE_PROTO),
		/* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR_NEST),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, ACCEPT - 7, 0),
		/* 7 */ BPF_STMT(BPF_LDX | BPF_IMM, CTA_PROTO_NUM),
		/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR_NEST),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, ACCEPT - 10, 0),
		/* 10 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 11 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, NLA_HDRLEN),
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, ACCEPT - 13, 0),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_SCTP, ACCEPT - 14, 0),
		/* 14 */ BPF_STMT(BPF_RET | BPF_K, 0),
		/* 15 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { ARRAY_SIZE(code), code };

	/* Without it the events are only more numerous. */
	setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int open_events(struct k8snet_ctx *ctx, void *userdata)
{
	struct ct_sock *s = userdata;
	int size = 8 << 20, r;

	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!s->nl)
		return k8s_error(ctx, -errno, "conntrack: cannot open the event socket: %m");
	/* Events pile up between syncs: room for many (FORCE needs CAP_NET_ADMIN,
	 * which the proxy has anyway). */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	filter_events(mnl_socket_get_fd(s->nl));
	if (mnl_socket_bind(s->nl, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY,
			    MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(s->nl);
		s->nl = NULL;
		return k8s_error(ctx, r, "conntrack: cannot subscribe to events: %s",
				 k8snet_strerror(r));
	}
	s->portid = mnl_socket_get_portid(s->nl);
	return 0;
}

/* Read every queued event.  -ENOBUFS: some were lost. */
static int index_drain(struct nat_ctindex *x)
{
	struct index_fill fill = { x, 0 };
	char buf[65536];
	ssize_t len;

	for (;;) {
		len = recv(mnl_socket_get_fd(x->ev.nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? fill.err : -errno;
		mnl_cb_run(buf, (size_t)len, 0, 0, index_event_cb, &fill);
		if (fill.err)
			return fill.err;
	}
}

static int index_dump(struct nat_ctindex *x, int fam)
{
	struct index_fill fill = { x, 0 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, fam, ++x->op.seq);
	int r;

	if (mnl_socket_sendto(x->op.nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = ct_recv(&x->op, index_dump_cb, &fill);
	return fill.err ? fill.err : r;
}

/* Subscribe first, then dump: an entry made in between comes both ways
 * (kept once), one destroyed in between is forgotten by its event. */
static int index_build(struct k8snet_proxy *p, struct nat_ctindex *x)
{
	int r = 0;

	index_clear(x);
	if (x->ev.nl) {
		mnl_socket_close(x->ev.nl);
		x->ev.nl = NULL;
	}
	r = k8s_ctx_in_netns(p->ctx, open_events, &x->ev);
	if (r >= 0)
		r = index_dump(x, AF_INET);
	if (r >= 0)
		r = index_dump(x, AF_INET6);
	if (r >= 0)
		r = index_drain(x);
	x->valid = r >= 0;
	return r;
}

/* The index, up to date; NULL when it cannot be had this time. */
static struct nat_ctindex *index_get(struct k8snet_proxy *p)
{
	struct nat_ctindex *x = p->ct_index;
	double t0 = now_ms();
	int r = 0;

	if (!x) {
		x = p->ct_index = calloc(1, sizeof(*x));
		if (!x)
			return NULL;
	}
	if (!x->op.nl)
		r = k8s_ctx_in_netns(p->ctx, open_ct, &x->op);
	if (r < 0)
		return NULL;
	if (x->valid && (r = index_drain(x)) < 0) {
		k8s_log(p->ctx, LOG_INFO, "conntrack: events lost (%s), rebuilding the index",
			k8snet_strerror(r));
		/* This sync cannot trust it; the rebuild is for the next. */
		index_build(p, x);
		k8s_log(p->ctx, LOG_DEBUG, "conntrack: index of %zu entries rebuilt in %.2f ms",
			x->n, now_ms() - t0);
		return NULL;
	}
	if (!x->valid) {
		r = index_build(p, x);
		k8s_log(p->ctx, LOG_DEBUG, "conntrack: index of %zu entries built in %.2f ms",
			x->n, now_ms() - t0);
		if (r < 0) {
			k8s_log(p->ctx, LOG_WARNING, "conntrack: cannot index entries: %s",
				k8snet_strerror(r));
			return NULL;
		}
	}
	return x;
}

void nat_ct_free(struct k8snet_proxy *p)
{
	struct nat_ctindex *x = p->ct_index;

	if (!x)
		return;
	index_clear(x);
	if (x->ev.nl)
		mnl_socket_close(x->ev.nl);
	if (x->op.nl)
		mnl_socket_close(x->op.nl);
	free(x);
	p->ct_index = NULL;
}

static int bucket_find(const struct ct_bucket *b, const struct nat_ct_del *d, struct dump_state *st)
{
	size_t i;

	for (i = 0; b && i < b->v.n; i++) {
		const struct ct_rec *rec = b->v.v[i];

		st->seen++;
		if (rec->dead || rec->fam != d->fam || !entry_matches(d, &rec->e))
			continue;
		if (k8s_grow_pow2(&st->v, st->n, sizeof(*st->v)) < 0)
			return -ENOMEM;
		st->v[st->n++] = rec->e;
	}
	return 0;
}

/* The entries of a deletion, from the index.  A bucket's records share
 * their destination: for a NodePort, the first one tells whether the
 * bucket is to the port. */
static int index_find(struct nat_ctindex *x, const struct nat_ct_del *d, struct dump_state *st)
{
	struct k8s_map_node *node;
	char key[160];
	size_t i;
	int r = 0;

	if (!d->f.nodeport) {
		dest_key(key, sizeof(key), d->fam, d->f.proto, d->f.daddr, d->f.port);
		return bucket_find(k8s_map_get(&x->by_dest, key), d, st);
	}
	k8s_map_for_each(&x->by_dest, i, node) {
		const struct ct_bucket *b = node->val;
		const struct ct_rec *first = b->v.n ? b->v.v[0] : NULL;

		if (r >= 0 && first && first->fam == d->fam && first->e.proto == d->f.proto &&
		    first->e.odport == d->f.port)
			r = bucket_find(b, d, st);
	}
	return r;
}

/* One deletion: its entries from the index, or a filtered dump. */
static int clean_one(struct k8snet_proxy *p, struct ct_sock *s, struct nat_ctindex *x,
		     const struct nat_ct_del *d, size_t *deleted, size_t *seen)
{
	struct dump_state st = { .fam = d->fam, .want = d };
	char what[128];
	size_t i;
	int r;

	if (x) {
		r = index_find(x, d, &st);
	} else {
		r = ct_dump(s, &st);
		p->ct_filters++;
	}
	if (r >= 0 && st.err)
		r = st.err;
	if (r >= 0)
		r = ct_delete(s, st.fam, st.v, st.n, deleted);
	for (i = 0; x && r >= 0 && i < st.n; i++)
		index_forget(x, st.fam, &st.v[i]);
	*seen += st.seen;
	describe(d, what, sizeof(what));
	if (r < 0)
		k8s_log(p->ctx, LOG_WARNING, "conntrack cleanup of %s: %s", what, k8snet_strerror(r));
	else
		k8s_log(p->ctx, LOG_DEBUG, "conntrack: %zu entries of %s", st.n, what);
	free(st.v);
	return r;
}

int nat_ct_cleanup(struct k8snet_proxy *p, const struct nat_ctwork *w, bool keep_index)
{
	struct nat_ctindex *x = NULL;
	struct ct_sock own = { 0 }, *s;
	size_t i, deleted = 0, seen = 0;
	double t0 = now_ms();
	int r = 0;

	p->ct_deleted = 0;
	p->ct_filters = 0;
	if (keep_index || p->ct_index)
		x = index_get(p);
	if (!w->n)
		return 0;
	s = p->ct_index && p->ct_index->op.nl ? &p->ct_index->op : &own;
	if (!s->nl)
		r = k8s_ctx_in_netns(p->ctx, open_ct, s);
	if (r < 0)
		k8s_log(p->ctx, LOG_WARNING, "conntrack cleanup: %s", k8snet_strerror(r));
	for (i = 0; i < w->n && r >= 0; i++)
		r = clean_one(p, s, x, &w->v[i], &deleted, &seen);
	if (own.nl)
		mnl_socket_close(own.nl);
	p->ct_deleted = deleted > UINT32_MAX ? UINT32_MAX : (uint32_t)deleted;
	k8s_log(p->ctx, LOG_DEBUG, "conntrack cleanup: %zu deletions, %u filtered dumps, %zu "
		"entries looked at, %zu deleted, %.2f ms", w->n, p->ct_filters, seen, deleted,
		now_ms() - t0);
	return r;
}
