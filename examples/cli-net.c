/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Addresses, and what a node's namespace holds, for the command line's own
 * checks (gateways derived from the bridge, warnings about likely mistakes).
 * Links and addresses come from k8snet_ctx_describe(); sysctls and sockets
 * from /proc as the namespace shows them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* Through the library's own parser (k8snet_cidr_parse, k8snet_addr_parse),
 * so that the command line accepts exactly what the library will. */
int cli_prefix_parse(const char *s, bool want_len, struct cli_prefix *ret)
{
	struct k8snet_ctx *ctx = NULL;
	char *canonical = NULL, *slash;
	int family = -1;

	*ret = (struct cli_prefix){ 0 };
	if (k8snet_ctx_new(&ctx) < 0)
		return -1;
	family = want_len ? k8snet_cidr_parse(ctx, s, 0, &canonical)
			  : k8snet_addr_parse(ctx, s, &canonical);
	k8snet_ctx_free(ctx);
	if (family < 0)
		return -1;
	ret->family = family;
	ret->len = family == AF_INET ? 32 : 128;
	slash = strchr(canonical, '/');
	if (slash) {
		*slash = '\0';
		ret->len = (unsigned)atoi(slash + 1);  /* canonical: digits only */
	}
	inet_pton(family, canonical, ret->addr);  /* canonical: cannot fail */
	k8snet_free(canonical);
	return 0;
}

static bool same_bits(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool cli_prefix_contains(const struct cli_prefix *net, const struct cli_prefix *addr)
{
	return net->family == addr->family && same_bits(net->addr, addr->addr, net->len);
}

struct cli_prefix cli_prefix_network(const struct cli_prefix *p)
{
	struct cli_prefix n = *p;
	unsigned size = p->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < size; i++) {
		unsigned keep = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;

		n.addr[i] &= (unsigned char)(0xff00 >> keep);
	}
	return n;
}

const char *cli_prefix_str(const struct cli_prefix *p, bool with_len, char *buf)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	if (with_len)
		snprintf(buf, 64, "%s/%u", a, p->len);
	else
		snprintf(buf, 64, "%s", a);
	return buf;
}

const char *cli_family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* Loopback and link-local addresses say nothing about the networks a node
 * is in. */
static bool is_global(const struct cli_prefix *p)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (p->family == AF_INET)
		return p->addr[0] != 127 && !(p->addr[0] == 169 && p->addr[1] == 254);
	return memcmp(p->addr, v6_loopback, 16) != 0 &&
	       !(p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0x80);
}

static int add_link_addrs(const cJSON *link, struct cli_link_addr **v, size_t *n)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(link, "name");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(link, "kind");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(link, "addresses"), *a;

	cJSON_ArrayForEach(a, addrs) {
		struct cli_link_addr la = { .prefix = { 0 } };
		struct cli_link_addr *nv;

		if (!cJSON_IsString(a) || cli_prefix_parse(a->valuestring, true, &la.prefix) < 0 ||
		    !is_global(&la.prefix))
			continue;
		snprintf(la.link, sizeof(la.link), "%s", cJSON_IsString(name) ? name->valuestring : "");
		snprintf(la.kind, sizeof(la.kind), "%s", cJSON_IsString(kind) ? kind->valuestring : "");
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		nv[(*n)++] = la;
	}
	return 0;
}

int cli_link_addrs(struct k8snet_ctx *ctx, struct cli_link_addr **ret, size_t *ret_n)
{
	struct cli_link_addr *v = NULL;
	const cJSON *link;
	cJSON *root;
	char *json = NULL;
	size_t n = 0;
	int r = k8snet_ctx_describe(ctx, &json);

	*ret = NULL;
	*ret_n = 0;
	if (r < 0)
		return r;
	root = cJSON_Parse(json);
	k8snet_free(json);
	if (!root)
		return -EBADMSG;
	cJSON_ArrayForEach(link, cJSON_GetObjectItemCaseSensitive(root, "links")) {
		r = add_link_addrs(link, &v, &n);
		if (r < 0)
			break;
	}
	cJSON_Delete(root);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Open path inside the context's namespace and come back: /proc/sys/net and
 * /proc/thread-self/net show the namespace of the thread that opens them. */
static int open_in_netns(struct k8snet_ctx *ctx, const char *path)
{
	int target = k8snet_ctx_get_netns_fd(ctx), self, fd, saved;

	if (target < 0)
		return open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	if (setns(target, CLONE_NEWNET) < 0) {
		close(self);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	saved = errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Every later step would act in the wrong namespace. */
		fprintf(stderr, "k8snet: cannot return to the original network namespace: %s\n",
			strerror(errno));
		exit(CLI_FAIL);
	}
	close(self);
	errno = saved;
	return fd;
}

char *cli_netns_read(struct k8snet_ctx *ctx, const char *path)
{
	int fd = open_in_netns(ctx, path);
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	do {
		if (cap - len < 4096) {
			nb = realloc(buf, cap + 4096 + 1);
			if (!nb) {
				n = -1;
				break;
			}
			buf = nb;
			cap += 4096;
		}
		n = read(fd, buf + len, cap - len);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

int cli_forwarding(struct k8snet_ctx *ctx, int family)
{
	char *v = cli_netns_read(ctx, family == AF_INET ? "/proc/sys/net/ipv4/ip_forward" :
				 "/proc/sys/net/ipv6/conf/all/forwarding");
	int on;

	if (!v)
		return -1;
	on = atoi(v) != 0;
	free(v);
	return on;
}

void cli_warn_forwarding(struct k8snet_ctx *ctx, int family, const char *what)
{
	if (cli_forwarding(ctx, family) == 0)
		cli_warn("%s forwarding is off in the node's namespace: %s ('k8snet node "
			 "setup%s' turns it on)", cli_family_name(family), what,
			 family == AF_INET6 ? " --ipv6" : "");
}
