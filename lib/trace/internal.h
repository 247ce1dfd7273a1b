/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The trace layer: explains one connection with the other layers' models.
 *   model.c    the object, its settings, the documents, the address index
 *   resolve.c  source and destination: pods, addresses, Services, DNS names
 *   explain.c  service port -> eligible endpoints -> masquerade -> policy
 *              verdicts and path per endpoint
 *   render.c   the explanation (a cJSON tree) as text
 * Data flows one way: the run builds a cJSON tree, then prints it.
 */
#ifndef K8SNET_TRACE_INTERNAL_H
#define K8SNET_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <k8snet/dns.h>
#include <k8snet/trace.h>

#include "core/internal.h"
#include "nat/internal.h"
#include "policy/internal.h"

/* Where a service port is reached: an index entry (by address, protocol,
 * port; or by NodePort). */
struct tr_dest {
	const struct nat_entry *e;
	const struct nat_port *sp;
	uint32_t kind;             /* K8SNET_SERVICE_IP_* or NAT_DEST_NODEPORT */
	struct nat_addr addr;      /* family 0 for a NodePort */
};

struct k8snet_trace {
	struct k8snet_ctx *ctx;
	struct k8snet_policy_db *db;
	struct k8snet_proxy *proxy;
	bool db_borrowed, proxy_borrowed;
	char *domain, *node;
	struct nat_addr *cidrs, *node_ips;
	size_t ncidrs, nnode_ips;
	uint32_t flags;
	struct k8s_map by_dest;       /* "ADDR/PROTO/PORT" or "np/PROTO/PORT" -> tr_dest */
	struct k8s_map by_ip;         /* service address -> nat_entry (ports it lacks) */
	bool stale;                /* the index needs rebuilding */
};

/* The source of the connection. */
struct tr_src {
	const char *text;          /* as given */
	struct pl_pod *pod;        /* NULL: not a pod */
	struct nat_addr addr;      /* family 0: none known */
	const char *node;          /* the node it sends from (NULL: unknown) */
};

/* One run: the answer being built. */
struct tr_run {
	struct k8snet_trace *t;
	struct tr_src src;
	uint8_t proto;
	uint16_t port;
	int fam;                   /* the family of the connection */
	cJSON *root, *hops, *eps;
	int err;
};

/* model.c */
int tr_index(struct k8snet_trace *t);
const struct tr_dest *tr_find_dest(const struct k8snet_trace *t, const struct nat_addr *a,
				   uint8_t proto, uint16_t port);
const struct tr_dest *tr_find_nodeport(const struct k8snet_trace *t, uint8_t proto,
				       uint16_t port);
const struct nat_entry *tr_find_service_ip(const struct k8snet_trace *t,
					   const struct nat_addr *a);
bool tr_is_node_ip(const struct k8snet_trace *t, const struct nat_addr *a);
bool tr_cidrs_contain(const struct nat_addr *cidrs, size_t n, const struct nat_addr *a);

/* resolve.c */
int tr_resolve_src(struct tr_run *run, const char *from);
int tr_resolve_dst(struct tr_run *run, const char *to);

/* explain.c */
void tr_hop(struct tr_run *run, const char *hop, const char *fmt, ...) _printf_(3, 4);
int tr_explain_service(struct tr_run *run, const struct nat_entry *e, const struct nat_port *sp,
		       uint32_t kind, const struct nat_addr *addr);
int tr_explain_direct(struct tr_run *run, const struct nat_addr *addr, const char *why);
int tr_service_port(const struct nat_entry *e, uint8_t proto, uint16_t port,
		    const struct nat_port **ret);

/* render.c */
char *tr_render_text(const cJSON *root);

#endif
