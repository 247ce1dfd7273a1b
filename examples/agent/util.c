/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet-agent helpers: logging, clocks, durations, files, a string map. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

int agent_log_level = LOG_LVL_INFO;

void alog(int prio, const char *fmt, ...)
{
	static const char *const names[] = { "", "", "", "error", "warning", "", "info", "debug" };
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (prio > agent_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld k8snet-agent: %s: ", when, ts.tv_nsec / 1000000,
		names[prio < 0 || prio > 7 ? 6 : prio]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_number(const char **p, double *ret)
{
	char *end;

	if (!((**p >= '0' && **p <= '9') || **p == '.'))
		return -EINVAL;
	errno = 0;
	*ret = strtod(*p, &end);
	if (errno || end == *p || !isfinite(*ret))
		return -EINVAL;
	*p = end;
	return 0;
}

int parse_duration(const char *s, double *ret)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "ms", 1e-3 },
		{ "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	double total = 0, v;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (parse_number(&p, &v) == 0 && !*p) {   /* a bare number is seconds */
		*ret = v;
		return 0;
	}
	for (p = s; *p;) {
		size_t i, l = 0;

		if (parse_number(&p, &v) < 0)
			return -EINVAL;
		/* "ms" before "m": the table lists the longer unit first. */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			l = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, l) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		total += v * units[i].mult;
		p += l;
	}
	*ret = total;
	return 0;
}

static int digits(const char **p, int n, int *ret)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

int parse_rfc3339(const char *s, double *ret)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double frac = 0;
	const char *p = s;
	time_t t;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' ') || !*p++ ||
	    digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		double scale = 0.1;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			frac += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (double)t + frac - sign * (oh * 3600 + om * 60);
	return 0;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	size_t off = 0;
	int fd, r = 0;

	if (!tmp)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	while (off < len && r == 0) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	else
		r = fsync_dir_of(path);
	free(tmp);
	return r;
}

char *read_file(const char *path, size_t *ret_len)
{
	struct buf b = { 0 };
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && buf_append(&b, chunk, (size_t)n) < 0)) {
			int e = n < 0 ? errno : ENOMEM;

			close(fd);
			buf_free(&b);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
	}
	close(fd);
	if (buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		errno = ENOMEM;
		return NULL;
	}
	if (ret_len)
		*ret_len = b.len - 1;
	return b.p;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

char *base64_decode(const char *in, size_t *ret_len)
{
	size_t n = strlen(in), o = 0;
	char *out = malloc(n / 4 * 3 + 4);
	unsigned acc = 0, bits = 0;
	bool pad = false;

	if (!out)
		return NULL;
	for (; *in; in++) {
		int v;

		if (*in == ' ' || *in == '\n' || *in == '\r' || *in == '\t')
			continue;
		if (*in == '=') {
			pad = true;
			continue;
		}
		v = b64_value((unsigned char)*in);
		if (v < 0 || pad) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6) {   /* a lone sextet cannot encode a byte */
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*ret_len = o;
	return out;
}

/* ---- buffers ---- */

static int buf_reserve(struct buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (buf_reserve(b, (size_t)n) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -ENOMEM;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* ---- string map ---- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void *smap_get(const struct smap *m, const char *key)
{
	uint32_t h;
	struct smap_node *n;

	if (!m->nslots)
		return NULL;
	h = hash_str(key);
	for (n = m->slots[h & (m->nslots - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n->val;
	return NULL;
}

static int smap_grow(struct smap *m)
{
	size_t ns = m->nslots ? m->nslots * 2 : 64, i;
	struct smap_node **slots = calloc(ns, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->nslots; i++) {
		struct smap_node *n = m->slots[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = slots[n->hash & (ns - 1)];
			slots[n->hash & (ns - 1)] = n;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = ns;
	return 0;
}

int smap_put(struct smap *m, const char *key, void *val, void **ret_old)
{
	uint32_t h = hash_str(key);
	struct smap_node *n;
	size_t kl;

	if (ret_old)
		*ret_old = NULL;
	if (m->nslots) {
		for (n = m->slots[h & (m->nslots - 1)]; n; n = n->next)
			if (n->hash == h && strcmp(n->key, key) == 0) {
				if (ret_old)
					*ret_old = n->val;
				n->val = val;
				return 0;
			}
	}
	if (m->n + 1 > m->nslots && smap_grow(m) < 0)
		return -ENOMEM;
	kl = strlen(key);
	n = malloc(sizeof(*n) + kl + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n->key, key, kl + 1);
	n->hash = h;
	n->val = val;
	n->next = m->slots[h & (m->nslots - 1)];
	m->slots[h & (m->nslots - 1)] = n;
	m->n++;
	return 0;
}

void *smap_del(struct smap *m, const char *key)
{
	uint32_t h;
	struct smap_node **pp, *n;
	void *v;

	if (!m->nslots)
		return NULL;
	h = hash_str(key);
	for (pp = &m->slots[h & (m->nslots - 1)]; (n = *pp); pp = &n->next)
		if (n->hash == h && strcmp(n->key, key) == 0) {
			*pp = n->next;
			v = n->val;
			free(n);
			m->n--;
			return v;
		}
	return NULL;
}

void smap_free(struct smap *m, void (*free_val)(void *))
{
	size_t i;

	for (i = 0; i < m->nslots; i++) {
		struct smap_node *n = m->slots[i], *next;

		for (; n; n = next) {
			next = n->next;
			if (free_val)
				free_val(n->val);
			free(n);
		}
	}
	free(m->slots);
	*m = (struct smap){ 0 };
}

double backoff_delay(unsigned attempt, double base, double cap)
{
	double d = base * ldexp(1.0, attempt > 30 ? 30 : (int)attempt);

	if (d > cap)
		d = cap;
	/* drand48 is seeded in main: a cluster of agents restarted together
	 * must not reconnect in lock step. */
	return d * (0.5 + 0.5 * drand48());
}
