/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-service counters (K8SNET_PROXY_F_COUNT).  Each service port has two
 * named counter objects in each family's table: "svc/NS/NAME/PROTO/PORT",
 * which the services chain updates through object maps keyed like the
 * dispatch maps (connections: nat chains see first packets only), and
 * "svc/NS/NAME/PROTO/PORT/traffic", which the traffic chain updates for
 * every packet of those connections, both ways (see nft.c).  The objects live apart from rules and elements, so an
 * incremental sync touches only those of ports that come or go; a full
 * sync replaces the table, and the values are read just before and given
 * to the new objects (what the kernel counted between that read and the
 * commit is lost: a few packets at most).
 */
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

#include <linux/netfilter.h>

static int nfproto_of(int fi)
{
	return fi ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static int carry_one(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	uint64_t *v = malloc(2 * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[0] = packets;
	v[1] = bytes;
	if (k8s_map_put(data, name, v) < 0) {
		free(v);
		return -ENOMEM;
	}
	return 0;
}

int nat_carry_read(struct k8snet_proxy *p, struct nat_carry *c)
{
	int fi, r = 0;

	if (!(p->cfg.flags & K8SNET_PROXY_F_COUNT))
		return 0;
	for (fi = 0; fi < 2 && r >= 0; fi++) {
		r = nft_dump_counters(p->ctx, nfproto_of(fi), p->cfg.table, NULL, carry_one,
				      &c->m[fi]);
		if (r == -ENOENT)
			r = 0;      /* no table yet: nothing to carry */
	}
	return r;
}

void nat_carry_get(const struct nat_carry *c, int fi, const char *name, uint64_t ret[2])
{
	const uint64_t *v = c ? k8s_map_get(&c->m[fi], name) : NULL;

	ret[0] = v ? v[0] : 0;
	ret[1] = v ? v[1] : 0;
}

void nat_carry_free(struct nat_carry *c)
{
	k8s_map_free(&c->m[0], free);
	k8s_map_free(&c->m[1], free);
}

static int add_up(void *data, const char *name, uint64_t packets, uint64_t bytes)
{
	uint64_t *sum = data;

	(void)name;
	sum[0] += packets;
	sum[1] += bytes;
	return 0;
}

static int read_port(struct k8snet_proxy *p, int fi, const struct k8snet_service *svc,
		     const struct nat_port *sp, const char *suffix, uint64_t sum[2])
{
	char *name;
	int r;

	if (asprintf(&name, "svc/%s/%s/%s/%u%s", svc->ns, svc->name, nat_proto_name(sp->proto),
		     sp->port, suffix) < 0)
		return -ENOMEM;
	r = nft_dump_counters(p->ctx, nfproto_of(fi), p->cfg.table, name, add_up, sum);
	free(name);
	return r == -ENOENT ? 0 : r;
}

/* Sums the counters "svc/NS/NAME/PROTO/PORT<suffix>" of a service's ports
 * over both families. */
static int read_service(struct k8snet_proxy *p, const char *ns, const char *name,
			const char *suffix, uint64_t *ret_packets, uint64_t *ret_bytes)
{
	uint64_t sum[2] = { 0, 0 };
	const struct nat_entry *e;
	char *key;
	size_t i;
	int fi, r = 0;

	K8S_CHECK_ARG(p->ctx, name);
	if (!(p->cfg.flags & K8SNET_PROXY_F_COUNT))
		return k8s_error(p->ctx, -ENOENT, "counters: counting is off "
				 "(K8SNET_PROXY_F_COUNT)");
	if (asprintf(&key, "%s/%s", ns ? ns : "default", name) < 0)
		return -ENOMEM;
	e = k8s_map_get(&p->entries, key);
	if (!e || !e->svc) {
		r = k8s_error(p->ctx, -ENOENT, "counters: no service %s", key);
		free(key);
		return r;
	}
	free(key);
	/* The names follow from the service's ports, so that a process that
	 * loaded the objects but never synced (k8snet proxy counters) reads
	 * them too.  One that is missing (not synced yet, a family the service
	 * does not have, a table deleted behind our back) counts nothing. */
	for (fi = 0; fi < 2 && r >= 0; fi++)
		for (i = 0; i < e->svc->nports && r >= 0; i++)
			r = read_port(p, fi, e->svc, &e->svc->ports[i], suffix, sum);
	if (r < 0)
		return k8s_error(p->ctx, r, "counters: reading them: %s", k8snet_strerror(r));
	if (ret_packets)
		*ret_packets = sum[0];
	if (ret_bytes)
		*ret_bytes = sum[1];
	return 0;
}

K8SNET_EXPORT int k8snet_proxy_get_counters(struct k8snet_proxy *p, const char *ns,
					    const char *name, uint64_t *ret_packets,
					    uint64_t *ret_bytes)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	k8snet_ctx_clear_error(p->ctx);
	return read_service(p, ns, name, "", ret_packets, ret_bytes);
}

K8SNET_EXPORT int k8snet_proxy_get_traffic(struct k8snet_proxy *p, const char *ns,
					   const char *name, uint64_t *ret_packets,
					   uint64_t *ret_bytes)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	k8snet_ctx_clear_error(p->ctx);
	return read_service(p, ns, name, "/traffic", ret_packets, ret_bytes);
}
