/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mappings a caller gives, checked as they come; their map elements. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/vec.h"
#include "hostport/internal.h"

const char *const hp_map_names[HP_NMAPS] = {
	[HP4] = "hp4", [HP4_ANY] = "hp4-any", [HP6] = "hp6", [HP6_ANY] = "hp6-any",
};

/* One address, as inet_pton takes it: nothing before, nothing after. */
int hp_parse_addr(const char *s, struct hp_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ret->a) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ret->a) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int hp_parse_cidr(const char *s, struct hp_addr *ret, unsigned *ret_len)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char addr[INET6_ADDRSTRLEN];
	unsigned len = 0, max, i;
	const char *p;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1])
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (hp_parse_addr(addr, ret) < 0)
		return -EINVAL;
	max = ret->family == AF_INET ? 32 : 128;
	/* Decimal digits only, no sign, no leading zero: "/016" is a typo. */
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || (p == slash + 1 && *p == '0' && p[1]))
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
		if (len > max)
			return -EINVAL;
	}
	for (i = 0; i < 16; i++) {
		int bits = (int)len - (int)i * 8;

		ret->a[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff00 >> bits);
	}
	*ret_len = len;
	return 0;
}

void hp_addr_str(const struct hp_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

K8SNET_EXPORT int k8snet_portmap_new(struct k8snet_portmap **ret)
{
	if (!ret)
		return -EINVAL;
	*ret = calloc(1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	(*ret)->pid = getpid();
	return 0;
}

K8SNET_EXPORT struct k8snet_portmap *k8snet_portmap_free(struct k8snet_portmap *pm)
{
	if (pm) {
		free(pm->v);
		free(pm);
	}
	return NULL;
}

static bool is_wildcard(const char *host_ip)
{
	return !host_ip || !*host_ip || strcmp(host_ip, "0.0.0.0") == 0 || strcmp(host_ip, "::") == 0;
}

K8SNET_EXPORT int k8snet_portmap_add(struct k8snet_portmap *pm, uint32_t protocol,
				     const char *host_ip, uint32_t host_port,
				     const char *pod_ip, uint32_t pod_port)
{
	struct hp_mapping m = { 0 };

	K8S_FORK_GUARD_PID(pm, NULL);
	if (!pm || (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP && protocol != IPPROTO_SCTP) ||
	    host_port < 1 || host_port > 65535 || pod_port < 1 || pod_port > 65535)
		return -EINVAL;
	if (hp_parse_addr(pod_ip, &m.pod) < 0)
		return -EINVAL;
	m.any = is_wildcard(host_ip);
	if (!m.any && (hp_parse_addr(host_ip, &m.host) < 0 || m.host.family != m.pod.family))
		return -EINVAL;
	m.host.family = m.pod.family;
	m.proto = (uint8_t)protocol;
	m.host_port = (uint16_t)host_port;
	m.pod_port = (uint16_t)pod_port;
	if (pm->n >= K8SNET_HOSTPORTS_MAX_MAPPINGS)
		return -E2BIG;
	if (k8s_grow(&pm->v, &pm->cap, pm->n, sizeof(*pm->v)) < 0)
		return -ENOMEM;
	pm->v[pm->n++] = m;
	return 0;
}

K8SNET_EXPORT int k8snet_portmap_get_count(const struct k8snet_portmap *pm)
{
	K8S_FORK_GUARD_PID(pm, NULL);
	return pm ? (int)pm->n : -EINVAL;
}

/* ---------------- map elements ---------------- */

enum hp_map hp_map_of(const struct hp_mapping *m)
{
	if (m->pod.family == AF_INET)
		return m->any ? HP4_ANY : HP4;
	return m->any ? HP6_ANY : HP6;
}

/* A 16-bit port in network order in a 32-bit field, as nft keys have it. */
static void put_port(uint8_t *p, uint16_t port)
{
	p[0] = (uint8_t)(port >> 8);
	p[1] = (uint8_t)port;
	p[2] = p[3] = 0;
}

void hp_elem_of(const struct hp_mapping *m, struct hp_elem *ret)
{
	uint32_t al = m->pod.family == AF_INET ? 4 : 16, off = 0;

	memset(ret, 0, sizeof(*ret));
	ret->map = hp_map_of(m);
	if (!m->any) {
		memcpy(ret->key, m->host.a, al);
		off = al;
	}
	ret->key[off] = m->proto;
	put_port(ret->key + off + 4, m->host_port);
	ret->klen = off + 8;
	memcpy(ret->data, m->pod.a, al);
	put_port(ret->data + al, m->pod_port);
	ret->dlen = al + 4;
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "TCP" : p == IPPROTO_UDP ? "UDP" : p == IPPROTO_SCTP ? "SCTP" : "?";
}

void hp_elem_text(enum hp_map map, const uint8_t *key, char *buf, size_t len)
{
	struct hp_addr a = { map == HP4 || map == HP4_ANY ? AF_INET : AF_INET6, { 0 } };
	uint32_t off = map == HP4 ? 4 : map == HP6 ? 16 : 0;
	char text[INET6_ADDRSTRLEN] = "every local address";

	if (off) {
		memcpy(a.a, key, off);
		hp_addr_str(&a, text, sizeof(text));
	}
	snprintf(buf, len, "%s %u on %s%s", proto_name(key[off]),
		 (unsigned)key[off + 4] << 8 | key[off + 5], text,
		 off ? "" : a.family == AF_INET ? " (IPv4)" : " (IPv6)");
}

void hp_mapping_text(const struct hp_mapping *m, char *buf, size_t len)
{
	struct hp_elem e;

	hp_elem_of(m, &e);
	hp_elem_text(e.map, e.key, buf, len);
}

/* ---------------- owners ---------------- */

static uint64_t fnv64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* Element comments hold at most 127 bytes; longer owners keep their first
 * 100 (so a prefix such as "NETWORK/" still tells them apart) and a hash. */
int hp_owner_stored(struct k8snet_ctx *ctx, const char *owner, char buf[128])
{
	size_t n, i;

	if (!owner || !*owner)
		return k8s_error(ctx, -EINVAL, "owner: must not be empty");
	n = strlen(owner);
	for (i = 0; i < n; i++)
		if ((unsigned char)owner[i] < 0x20 || owner[i] == 0x7f)
			return k8s_error(ctx, -EINVAL, "owner: control characters are not allowed");
	if (n <= 120) {
		memcpy(buf, owner, n + 1);
		return 0;
	}
	snprintf(buf, 128, "%.100s~%016llx", owner, (unsigned long long)fnv64(owner));
	return 0;
}
