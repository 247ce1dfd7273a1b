/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host ports internals.
 *   portmap.c   the list of mappings a caller gives, and its checks
 *   table.c     the table's fixed part (maps, chains, rules); settings
 *   mappings.c  set, remove, check, gc: read the maps, decide, one batch
 *   network.c   per-network masquerading (a chain per network)
 *
 * The table (inet, one per node):
 *   map hp4      ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
 *   map hp4-any  inet_proto . inet_service : ipv4_addr . inet_service
 *   map hp6, hp6-any   the same for IPv6
 *   chain prerouting  nat, dstnat:    fib daddr type local jump hostports
 *   chain output      nat, -100:      fib daddr type local jump hostports
 *   chain hostports   per map: lookup; mark |= bit; dnat to the result
 *   chain postrouting nat, srcnat:    marked from 127.0.0.0/8: masquerade
 *   chain input       filter, 0:      new to 127.0.0.0/8 not from lo: drop
 *   chain net-NAME    nat, srcnat+1:  per pod network: hairpin and ipMasq
 * A map element's comment is its owner.
 */
#ifndef K8SNET_HOSTPORT_INTERNAL_H
#define K8SNET_HOSTPORT_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <k8snet/hostport.h>

#include "core/internal.h"
#include "nft/nft.h"

#define HP_DEFAULT_TABLE "k8snet-hostports"

struct hp_addr {
	int family;                /* AF_INET or AF_INET6 */
	uint8_t a[16];
};
int hp_parse_addr(const char *s, struct hp_addr *ret);
/* "ADDR/LEN"; host bits are cleared. */
int hp_parse_cidr(const char *s, struct hp_addr *ret, unsigned *ret_len);
void hp_addr_str(const struct hp_addr *a, char *buf, size_t len);

struct hp_mapping {
	uint8_t proto;
	bool any;                  /* wildcard host address */
	struct hp_addr host;       /* family always set (the pod's) */
	uint16_t host_port;
	struct hp_addr pod;
	uint16_t pod_port;
};

struct k8snet_portmap {
	struct hp_mapping *v;
	size_t n, cap;
	pid_t pid;                 /* the process that made it (the fork rule) */
};

struct k8snet_hostports {
	struct k8snet_ctx *ctx;
	char *table;
	uint32_t mark_bit;
};

/* The four maps, by family and wildcard. */
enum hp_map { HP4, HP4_ANY, HP6, HP6_ANY, HP_NMAPS };
extern const char *const hp_map_names[HP_NMAPS];
enum hp_map hp_map_of(const struct hp_mapping *m);

/* A mapping's map element (key and data), as kept in the kernel. */
struct hp_elem {
	enum hp_map map;
	uint8_t key[24], data[20];
	uint32_t klen, dlen;
};
void hp_elem_of(const struct hp_mapping *m, struct hp_elem *ret);
/* "TCP 8080 on 127.0.0.1" */
void hp_mapping_text(const struct hp_mapping *m, char *buf, size_t len);
/* The same from a map element (the key only). */
void hp_elem_text(enum hp_map map, const uint8_t *key, char *buf, size_t len);

/* The owner as stored: itself, or when too long for an element comment,
 * its start and a hash of the whole (deterministic). */
int hp_owner_stored(struct k8snet_ctx *ctx, const char *owner, char buf[128]);

/* table.c: the fixed part, made again (idempotently) by every change. */
void hp_table_base(struct k8snet_hostports *hp, struct nft_batch *b);
uint32_t hp_mark(const struct k8snet_hostports *hp);

#endif
