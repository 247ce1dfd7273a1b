/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's HTTP endpoints, served from the main poll loop:
 *  - --healthz-address: /healthz and /livez, kube-proxy's answer (200 once
 *    synced and while syncs succeed, 503 otherwise, a small JSON body);
 *  - --metrics-address: /metrics (and /healthz, as kube-proxy does);
 *  - each externalTrafficPolicy: Local service's healthCheckNodePort, bound
 *    inside the node namespace (load balancers probe the node there): 200
 *    with the count of local endpoints, 503 when there are none.
 * Requests are tiny and answers are generated at once; every connection is
 * closed after its answer.  A connection that sends nothing for 10 s is
 * dropped, and at most 128 are open at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "agent.h"

#define W_HEALTHZ 0x1u
#define W_METRICS 0x2u
#define W_HCNP    0x4u
#define MAX_CLIENTS 128
#define MAX_REQUEST 8192
#define CLIENT_TIMEOUT 10.0

struct listener {
	int fd;
	unsigned what;
	uint16_t port;            /* health-check node port */
	char *svc_key;
};

struct client {
	int fd;
	unsigned what;
	char *svc_key;
	struct buf in, out;
	size_t out_off;
	bool writing;
	double deadline;
};

struct server {
	struct agent *a;
	struct listener *ls;
	size_t nls;
	struct client cs[MAX_CLIENTS];
	size_t ncs;
};

/* ---- sockets ---- */

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl;
	int r;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	r = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
	if (r != 0 || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int listen_on(const struct sockaddr *sa, socklen_t len)
{
	int one = 1, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		int zero = 0;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, sa, len) < 0 || listen(fd, 64) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

struct ns_listen {
	int nsfd;
	uint16_t port;
	int result;
};

/* A listening socket belongs to the namespace it was created in: make it
 * on a short-lived thread that enters the node namespace, so the main
 * thread never leaves its own. */
static void *listen_in_ns_thread(void *p)
{
	struct ns_listen *nl = p;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(nl->port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(nl->port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };

	if (nl->nsfd >= 0 && setns(nl->nsfd, CLONE_NEWNET) < 0) {
		nl->result = -errno;
		return NULL;
	}
	nl->result = listen_on((struct sockaddr *)&s6, sizeof(s6));
	if (nl->result == -EAFNOSUPPORT || nl->result == -EADDRNOTAVAIL)
		nl->result = listen_on((struct sockaddr *)&s4, sizeof(s4));
	return NULL;
}

static int listen_in_node(struct server *s, uint16_t port)
{
	struct ns_listen nl = { s->a->opt.netns ? k8snet_ctx_get_netns_fd(s->a->model.ctx) : -1,
				port, -EIO };
	pthread_t t;
	int r;

	if (nl.nsfd < 0) {
		listen_in_ns_thread(&nl);
		return nl.result;
	}
	r = pthread_create(&t, NULL, listen_in_ns_thread, &nl);
	if (r != 0)
		return -r;
	pthread_join(t, NULL);
	return nl.result;
}

static int add_listener(struct server *s, int fd, unsigned what, uint16_t port, const char *key)
{
	struct listener *v = realloc(s->ls, (s->nls + 1) * sizeof(*v));

	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	s->ls = v;
	v[s->nls++] = (struct listener){ fd, what, port, xstrdup(key) };
	return 0;
}

static int open_address(struct server *s, const char *addr, unsigned what, const char *flag)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (parse_hostport(addr, &ss, &len) < 0) {
		log_err("%s %s: not ADDRESS:PORT", flag, addr);
		return -EINVAL;
	}
	fd = listen_on((struct sockaddr *)&ss, len);
	if (fd < 0) {
		log_err("%s %s: %s", flag, addr, strerror(-fd));
		return fd;
	}
	log_info("serving %s on %s", what & W_METRICS ? (what & W_HEALTHZ ? "/metrics and /healthz" :
		 "/metrics") : "/healthz and /livez", addr);
	return add_listener(s, fd, what, 0, NULL);
}

int server_new(struct agent *a, struct server **ret)
{
	struct server *s = calloc(1, sizeof(*s));
	const char *hz = a->opt.healthz_address, *mx = a->opt.metrics_address;
	int r = s ? 0 : -ENOMEM;

	if (r >= 0)
		s->a = a;
	if (r >= 0 && *hz && *mx && strcmp(hz, mx) == 0) {
		r = open_address(s, hz, W_HEALTHZ | W_METRICS, "--healthz-address");
	} else {
		if (r >= 0 && *hz)
			r = open_address(s, hz, W_HEALTHZ, "--healthz-address");
		if (r >= 0 && *mx)
			r = open_address(s, mx, W_METRICS | W_HEALTHZ, "--metrics-address");
	}
	if (r < 0)
		s = server_free(s);
	*ret = s;
	return r;
}

static void client_close(struct server *s, size_t i)
{
	struct client *c = &s->cs[i];

	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->svc_key);
	s->cs[i] = s->cs[--s->ncs];
}

struct server *server_free(struct server *s)
{
	size_t i;

	if (!s)
		return NULL;
	while (s->ncs)
		client_close(s, 0);
	for (i = 0; i < s->nls; i++) {
		close(s->ls[i].fd);
		free(s->ls[i].svc_key);
	}
	free(s->ls);
	free(s);
	return NULL;
}

void server_update_health_ports(struct server *s)
{
	struct agent *a = s->a;
	struct smap_node *n;
	size_t i;

	if (!a->health.ports_dirty)
		return;
	a->health.ports_dirty = false;
	/* Close listeners whose service no longer wants one (or moved). */
	for (i = 0; i < s->nls;) {
		struct listener *l = &s->ls[i];
		const struct health_svc *h = l->what == W_HCNP ? health_get(a, l->svc_key) : NULL;

		if (l->what != W_HCNP || (h && h->selected && h->hc_node_port == l->port)) {
			i++;
			continue;
		}
		log_info("health check node port %u (%s) closed", l->port, l->svc_key);
		close(l->fd);
		free(l->svc_key);
		s->ls[i] = s->ls[--s->nls];
	}
	smap_for_each(&a->health.svcs, i, n) {
		const struct health_svc *h = health_get(a, n->key);
		size_t j;
		int fd;

		if (!h || !h->selected || !h->hc_node_port)
			continue;
		for (j = 0; j < s->nls; j++)
			if (s->ls[j].what == W_HCNP && s->ls[j].port == h->hc_node_port)
				break;
		if (j < s->nls)
			continue;
		fd = listen_in_node(s, h->hc_node_port);
		if (fd < 0) {
			log_warn("health check node port %u (%s): %s; retrying at the next sync",
				 h->hc_node_port, n->key, strerror(-fd));
			a->health.ports_dirty = true;
			continue;
		}
		log_info("health check node port %u (%s) open", h->hc_node_port, n->key);
		add_listener(s, fd, W_HCNP, h->hc_node_port, n->key);
	}
}

/* ---- answers ---- */

static void iso8601(double t, char *out, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void respond(struct client *c, int code, const char *ctype, const char *extra_headers,
		    const char *body, size_t len, bool head_only)
{
	const char *reason = code == 200 ? "OK" : code == 404 ? "Not Found" :
			     code == 405 ? "Method Not Allowed" : code == 503 ? "Service Unavailable" :
			     "Bad Request";

	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n",
		   code, reason, ctype, len, extra_headers ? extra_headers : "");
	if (!head_only && len)
		buf_append(&c->out, body, len);
	c->writing = true;
}

static void answer_healthz(struct server *s, struct client *c, bool head)
{
	struct agent *a = s->a;
	bool ok = agent_healthy(a);
	char last[32] = "", now[32];
	char *body;

	iso8601(wall_now(), now, sizeof(now));
	if (a->metrics.last_sync_ts > 0)
		iso8601(a->metrics.last_sync_ts, last, sizeof(last));
	body = xasprintf("{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\", \"nodeEligible\": true}",
			 last, now);
	a->metrics.healthz[ok ? 0 : 1]++;
	respond(c, ok ? 200 : 503, "application/json", NULL, body ? body : "", body ? strlen(body) : 0,
		head);
	free(body);
}

static void answer_metrics(struct server *s, struct client *c, bool head)
{
	struct buf b = { 0 };

	if (metrics_render(s->a, &b) < 0) {
		respond(c, 503, "text/plain", NULL, "out of memory\n", 14, head);
	} else {
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len, head);
	}
	buf_free(&b);
}

static void answer_service_health(struct server *s, struct client *c, bool head)
{
	const struct health_svc *h = health_get(s->a, c->svc_key);
	int64_t n = h ? h->local_ready : 0;
	const char *slash = strchr(c->svc_key, '/');
	char *body, *hdr;
	bool proxy_ok = agent_healthy(s->a);

	body = xasprintf("{\"service\": {\"namespace\": \"%.*s\", \"name\": \"%s\"}, "
			 "\"localEndpoints\": %lld, \"serviceProxyHealthy\": %s}",
			 slash ? (int)(slash - c->svc_key) : 0, c->svc_key, slash ? slash + 1 : c->svc_key,
			 (long long)n, proxy_ok ? "true" : "false");
	hdr = xasprintf("X-Load-Balancing-Endpoint-Weight: %lld\r\n", (long long)n);
	respond(c, n > 0 && proxy_ok ? 200 : 503, "application/json", hdr, body ? body : "",
		body ? strlen(body) : 0, head);
	free(body);
	free(hdr);
}

static void answer(struct server *s, struct client *c)
{
	char method[8] = "", path[256] = "";
	bool head;

	if (sscanf(c->in.p, "%7s %255s", method, path) != 2) {
		respond(c, 400, "text/plain", NULL, "bad request\n", 12, false);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !head) {
		respond(c, 405, "text/plain", NULL, "method not allowed\n", 19, false);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (c->what & W_HCNP)
		answer_service_health(s, c, head);
	else if ((c->what & W_METRICS) && strcmp(path, "/metrics") == 0)
		answer_metrics(s, c, head);
	else if ((c->what & W_HEALTHZ) && (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0))
		answer_healthz(s, c, head);
	else
		respond(c, 404, "text/plain", NULL, "404 page not found\n", 19, head);
}

/* ---- the loop's part ---- */

unsigned server_nfds(const struct server *s)
{
	return s ? (unsigned)(s->nls + s->ncs) : 0;
}

unsigned server_pollfds(struct server *s, struct pollfd *fds, unsigned max, double now,
			double *deadline)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; s && i < s->nls && n < max; i++)
		fds[n++] = (struct pollfd){ s->ls[i].fd, POLLIN, 0 };
	for (i = 0; s && i < s->ncs && n < max; i++) {
		fds[n++] = (struct pollfd){ s->cs[i].fd, s->cs[i].writing ? POLLOUT : POLLIN, 0 };
		if (!*deadline || s->cs[i].deadline < *deadline)
			*deadline = s->cs[i].deadline;
	}
	return n;
}

static void accept_one(struct server *s, const struct listener *l, double now)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->ncs == MAX_CLIENTS) {
		close(fd);
		return;
	}
	s->cs[s->ncs++] = (struct client){ .fd = fd, .what = l->what, .svc_key = xstrdup(l->svc_key),
					   .deadline = now + CLIENT_TIMEOUT };
}

/* false when the client is done (closed). */
static bool client_io(struct server *s, struct client *c)
{
	char chunk[2048];
	ssize_t n;

	if (c->writing) {
		n = write(c->fd, c->out.p + c->out_off, c->out.len - c->out_off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out_off += (size_t)n;
		return c->out_off < c->out.len;
	}
	n = read(c->fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0 || buf_append(&c->in, chunk, (size_t)n) < 0)
		return false;
	if (strstr(c->in.p, "\r\n\r\n") || strstr(c->in.p, "\n\n"))
		answer(s, c);
	else if (c->in.len > MAX_REQUEST)
		respond(c, 400, "text/plain", NULL, "request too large\n", 18, false);
	return true;
}

void server_handle(struct server *s, const struct pollfd *fds, unsigned n, double now)
{
	unsigned k;
	size_t i;

	if (!s)
		return;
	for (k = 0; k < n; k++) {
		if (!fds[k].revents)
			continue;
		for (i = 0; i < s->nls; i++)
			if (s->ls[i].fd == fds[k].fd)
				accept_one(s, &s->ls[i], now);
		for (i = 0; i < s->ncs; i++)
			if (s->cs[i].fd == fds[k].fd) {
				if (!client_io(s, &s->cs[i]))
					client_close(s, i);
				break;
			}
	}
	for (i = 0; i < s->ncs;) {
		if (s->cs[i].deadline <= now)
			client_close(s, i);
		else
			i++;
	}
}
