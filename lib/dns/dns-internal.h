/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal pieces of the DNS layer.  Never installed. */
#ifndef K8SNET_DNS_INTERNAL_H
#define K8SNET_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"
#include "core/strbuf.h"
#include "core/vec.h"
#include <k8snet/dns.h>

#define K8S_DNS_DEFAULT_ZONE "cluster.local"
#define K8S_DNS_LABEL_MAX 63
#define K8S_DNS_SUBDOMAIN_MAX 253
#define K8S_DNS_PORT_NAME_MAX 15

/* ---- A list of owned strings ------------------------------------------- */
struct k8s_strv {
	char **v;
	size_t n, cap;
};
int k8s_strv_push(struct k8s_strv *s, const char *str, size_t len);
bool k8s_strv_contains(const struct k8s_strv *s, const char *str);
/* Push unless already there (the kubelet's omitDuplicates: first wins). */
int k8s_strv_push_unique(struct k8s_strv *s, const char *str);
void k8s_strv_truncate(struct k8s_strv *s, size_t n);
void k8s_strv_remove(struct k8s_strv *s, size_t i);
void k8s_strv_clear(struct k8s_strv *s);
int k8s_strv_copy(struct k8s_strv *dst, const struct k8s_strv *src);
/* "a b c" (sep between items); NULL on allocation failure. */
char *k8s_strv_join(const struct k8s_strv *s, const char *sep);
size_t k8s_strv_joined_len(const struct k8s_strv *s);

/* ---- Name rules -------------------------------------------------------- */
/* NULL when valid, else a static description of the failed rule. */
const char *k8s_dns_check(uint32_t kind, const char *name);
/* k8s_dns_check() with the error recorded on ctx as "WHAT: 'NAME': RULE". */
int k8s_dns_require(struct k8snet_ctx *ctx, uint32_t kind, const char *what, const char *name);
/* The zone, lowercased, without a trailing dot, validated as a subdomain. */
int k8s_dns_zone_normalize(struct k8snet_ctx *ctx, const char *zone, char **ret);
/* The canonical text of an IP (inet_ntop), its family, or -EINVAL. */
int k8s_dns_ip_canon(const char *ip, int *ret_family, char canon[static 46]);
/* The dashed-IP label of an address; "0" pads a leading or trailing "-". */
void k8s_dns_dashed_ip(const char *canon_ip, char out[static 48]);
/* The PTR owner of an address, without a trailing dot. */
int k8s_dns_ptr_of(const char *ip, struct k8s_buf *out);
/* The port protocol lowercased (tcp, udp, sctp), or NULL. */
const char *k8s_dns_protocol(const char *proto);

/* ---- resolv.conf text -------------------------------------------------- */
/* The kubelet's parser (parseResolvConf): nameserver lines accumulate (extra
 * fields ignored), the last search line wins (trailing dots stripped), the
 * last options line wins.  A bare "nameserver" is an error naming its line.
 * With glibc set, it reads like glibc instead: "domain" and "search" replace
 * each other, options lines accumulate.  Errors start with source (a path,
 * or "resolv.conf"). */
struct k8s_resolv_conf {
	struct k8s_strv nameservers, searches, options;
};
int k8s_resolv_conf_parse(struct k8snet_ctx *ctx, const char *source, const char *text,
			  size_t len, bool glibc, struct k8s_resolv_conf *ret);
void k8s_resolv_conf_clear(struct k8s_resolv_conf *rc);

/* k8snet_dns_query_parse() for the library's own use (the trace): the query
 * is not checked against getpid() on each call (the fork rule). */
int k8s_dns_query_parse(struct k8snet_ctx *ctx, const char *name, const char *zone,
			struct k8snet_dns_query **ret);

#endif
