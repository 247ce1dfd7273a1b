/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names of the Kubernetes DNS specification (schema 1.1.0). */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "core/addr.h"
#include "dns/dns-internal.h"

int k8s_dns_zone_normalize(struct k8snet_ctx *ctx, const char *zone, char **ret)
{
	const char *label;
	size_t n, i;
	char *z;

	if (!zone)
		zone = K8S_DNS_DEFAULT_ZONE;
	n = strlen(zone);
	if (n > 1 && zone[n - 1] == '.')
		n--;
	z = strndup(zone, n);
	if (!z)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		z[i] = (char)tolower((unsigned char)z[i]);
	if (k8s_dns_require(ctx, K8SNET_DNS_SUBDOMAIN, "zone", z) < 0)
		goto bad;
	/* A subdomain in Kubernetes may have long labels; DNS may not. */
	for (label = z; label; label = strchr(label, '.') ? strchr(label, '.') + 1 : NULL) {
		const char *dot = strchr(label, '.');

		if ((dot ? (size_t)(dot - label) : strlen(label)) > K8S_DNS_LABEL_MAX) {
			k8s_error(ctx, -EINVAL, "zone: '%s' has a label longer than 63 characters", z);
			goto bad;
		}
	}
	*ret = z;
	return 0;
bad:
	free(z);
	return -EINVAL;
}

int k8s_dns_ip_canon(const char *ip, int *ret_family, char canon[static 46])
{
	struct k8s_addr a;

	if (k8s_addr_parse(ip, &a) < 0 || !inet_ntop(a.family, a.a, canon, 46))
		return -EINVAL;
	if (ret_family)
		*ret_family = a.family;
	return 0;
}

void k8s_dns_dashed_ip(const char *canon_ip, char out[static 48])
{
	size_t i = 0, o = 0;

	/* "::1" would give "--1"; a label must start and end alphanumeric. */
	if (canon_ip[0] == ':')
		out[o++] = '0';
	for (; canon_ip[i]; i++)
		out[o++] = canon_ip[i] == ':' || canon_ip[i] == '.' ? '-' : canon_ip[i];
	if (o && out[o - 1] == '-')
		out[o++] = '0';
	out[o] = '\0';
}

int k8s_dns_ptr_of(const char *ip, struct k8s_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	int i;

	if (inet_pton(AF_INET, ip, a) == 1) {
		for (i = 3; i >= 0; i--) {
			k8s_buf_u32(out, a[i]);
			k8s_buf_putc(out, '.');
		}
		k8s_buf_puts(out, "in-addr.arpa");
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) == 1) {
		char nib[64];

		for (i = 15; i >= 0; i--) {
			nib[(15 - i) * 4] = hex[a[i] & 0xf];
			nib[(15 - i) * 4 + 1] = '.';
			nib[(15 - i) * 4 + 2] = hex[a[i] >> 4];
			nib[(15 - i) * 4 + 3] = '.';
		}
		k8s_buf_add(out, nib, sizeof(nib));
		k8s_buf_puts(out, "ip6.arpa");
		return 0;
	}
	return -EINVAL;
}

const char *k8s_dns_protocol(const char *proto)
{
	if (!proto || !*proto || strcasecmp(proto, "tcp") == 0)
		return "tcp";
	if (strcasecmp(proto, "udp") == 0)
		return "udp";
	if (strcasecmp(proto, "sctp") == 0)
		return "sctp";
	return NULL;
}

/* Join labels (NULL-terminated) and the zone into a malloc'd name. */
static int join_name(struct k8snet_ctx *ctx, const char *zone, char **ret, ...)
{
	_cleanup_(freep) char *z = NULL;
	struct k8s_buf b = { 0 };
	const char *part;
	va_list ap;
	int r = k8s_dns_zone_normalize(ctx, zone, &z);

	if (r < 0)
		return r;
	va_start(ap, ret);
	while ((part = va_arg(ap, const char *))) {
		k8s_buf_puts(&b, part);
		k8s_buf_putc(&b, '.');
	}
	va_end(ap);
	k8s_buf_puts(&b, z);
	if (b.len > K8S_DNS_SUBDOMAIN_MAX) {
		r = k8s_error(ctx, -EINVAL, "name '%s' is longer than 253 characters", b.data);
		k8s_buf_free(&b);
		return r;
	}
	r = k8s_buf_take(&b, ret);
	return r < 0 ? k8s_error(ctx, r, "out of memory") : 0;
}

K8SNET_EXPORT int k8snet_dns_service_fqdn(struct k8snet_ctx *ctx, const char *service,
					  const char *ns, const char *zone, char **ret)
{
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && service && ns && ret);
	if ((r = k8s_dns_require(ctx, K8SNET_DNS_1035_LABEL, "service", service)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0)
		return r;
	return join_name(ctx, zone, ret, service, ns, "svc", NULL);
}

K8SNET_EXPORT int k8snet_dns_srv_name(struct k8snet_ctx *ctx, const char *port_name,
				      const char *protocol, const char *service,
				      const char *ns, const char *zone, char **ret)
{
	_cleanup_(freep) char *port_label = NULL;
	const char *proto;
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && port_name && protocol && service && ns && ret);
	proto = k8s_dns_protocol(protocol);
	if (!proto || !*protocol)
		return k8s_error(ctx, -EINVAL, "protocol: '%s' must be TCP, UDP or SCTP", protocol);
	/* Service port names are DNS-1123 labels (an unnamed port has no SRV). */
	if ((r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "port", port_name)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_1035_LABEL, "service", service)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0)
		return r;
	if (asprintf(&port_label, "_%s._%s", port_name, proto) < 0)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	return join_name(ctx, zone, ret, port_label, service, ns, "svc", NULL);
}

K8SNET_EXPORT int k8snet_dns_endpoint_name(struct k8snet_ctx *ctx, const char *hostname,
					   const char *service, const char *ns,
					   const char *zone, char **ret)
{
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && hostname && service && ns && ret);
	if ((r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "hostname", hostname)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_1035_LABEL, "service", service)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0)
		return r;
	return join_name(ctx, zone, ret, hostname, service, ns, "svc", NULL);
}

K8SNET_EXPORT int k8snet_dns_pod_fqdn(struct k8snet_ctx *ctx, const char *hostname,
				      const char *subdomain, const char *ns,
				      const char *zone, char **ret)
{
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && hostname && subdomain && ns && ret);
	/* spec.hostname and spec.subdomain are DNS-1123 labels. */
	if ((r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "hostname", hostname)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "subdomain", subdomain)) < 0 ||
	    (r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0)
		return r;
	return join_name(ctx, zone, ret, hostname, subdomain, ns, "svc", NULL);
}

K8SNET_EXPORT int k8snet_dns_pod_ip_name(struct k8snet_ctx *ctx, const char *ip,
					 const char *ns, const char *zone, char **ret)
{
	char canon[46], dashed[48];
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && ip && ns && ret);
	if (k8s_dns_ip_canon(ip, NULL, canon) < 0)
		return k8s_error(ctx, -EINVAL, "ip: '%s' is not an IPv4 or IPv6 address", ip);
	if ((r = k8s_dns_require(ctx, K8SNET_DNS_LABEL, "namespace", ns)) < 0)
		return r;
	k8s_dns_dashed_ip(canon, dashed);
	return join_name(ctx, zone, ret, dashed, ns, "pod", NULL);
}

K8SNET_EXPORT int k8snet_dns_ptr_name(struct k8snet_ctx *ctx, const char *ip, char **ret)
{
	struct k8s_buf b = { 0 };
	int r;

	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx && ip && ret);
	if (k8s_dns_ptr_of(ip, &b) < 0) {
		k8s_buf_free(&b);
		return k8s_error(ctx, -EINVAL, "ip: '%s' is not an IPv4 or IPv6 address", ip);
	}
	r = k8s_buf_take(&b, ret);
	return r < 0 ? k8s_error(ctx, r, "out of memory") : 0;
}
