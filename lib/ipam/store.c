/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state file: a journal of one-line records, each with a checksum.
 *
 *   k8snet-ipam<TAB>1
 *   a<TAB>10.244.1.2<TAB>OWNER<TAB>IFNAME<TAB>CHECKSUM     allocated, cursor moves
 *   r<TAB>10.244.1.9<TAB>OWNER<TAB>IFNAME<TAB>CHECKSUM     asked for, cursor stays
 *   d<TAB>10.244.1.2<TAB>CHECKSUM                          released
 *   c<TAB>10.244.1.2<TAB>CHECKSUM                          the cursor (snapshots)
 *
 * A change is one write() of one record then fdatasync(): the cost does not
 * grow with the number of allocations, unlike rewriting the whole state.  A
 * kill -9 can only cut the last record short, which then has no newline:
 * it was never acknowledged, so it is ignored and cut off by the next
 * writer.  A bad checksum on a whole line, or anything else unexpected, is
 * corruption: we refuse the file and never write to it.
 *
 * When the journal holds many more records than live allocations it is
 * compacted: a snapshot goes to PATH.tmp, is fsync'd and renamed over PATH,
 * and the directory is fsync'd.  GC writes a snapshot too, so that it is
 * all or nothing.
 *
 * Processes share the file with flock().  Since compaction replaces the
 * file, a locker checks that the path still names the inode it locked, and
 * tries again otherwise.  Each process keeps the pool it built from the file
 * and reads only what was appended since (or everything, after another
 * process replaced the file).
 */
#include <endian.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam/ipam.h"

#define HEADER "k8snet-ipam\t1\n"
#define HEADER_PREFIX "k8snet-ipam\t"

struct k8s_store {
	struct k8snet_ctx *ctx;
	char *path;
	int fd;             /* cached between calls; -1 when none */
	bool locked;
	bool read_only;     /* fd was opened O_RDONLY (no write permission) */
	bool loaded;        /* the pool reflects (dev, ino) up to applied */
	dev_t dev;
	ino_t ino;
	off_t applied;      /* bytes of whole lines applied */
	size_t lines;       /* lines applied, the header included */
	size_t records;     /* lines after the header */
	off_t size;         /* the file's size when locked */
	int swap_fd;        /* after a snapshot: the new file, used from unlock on */
};

/* FNV-style over 8-byte little-endian words: cheap enough that checking every
 * record costs little when a process loads thousands of them. */
static uint32_t checksum(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ le64toh(w)) * 0x100000001b3ULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ le64toh(w) ^ (uint64_t)n << 56) * 0x100000001b3ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

int k8s_store_open(struct k8snet_ctx *ctx, const char *path, struct k8s_store **ret)
{
	struct k8s_store *s = calloc(1, sizeof(*s));

	if (!s || !(s->path = strdup(path))) {
		free(s);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	s->ctx = ctx;
	s->fd = -1;
	s->swap_fd = -1;
	*ret = s;
	return 0;
}

void k8s_store_free(struct k8s_store *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->swap_fd >= 0)
		close(s->swap_fd);
	free(s->path);
	free(s);
}

static int sys_error(struct k8s_store *s, const char *what)
{
	int err = -errno;

	return k8s_error(s->ctx, err, "%s: %s: %s", s->path, what, strerror(-err));
}

static int fsync_dir(struct k8s_store *s)
{
	_cleanup_(freep) char *copy = strdup(s->path);
	_cleanup_(k8s_closep) int dfd = -1;

	if (!copy)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return sys_error(s, "syncing its directory");
	return 0;
}

static int write_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* A new file holding the header alone; losing a race to create it is fine. */
static int create_file(struct k8s_store *s)
{
	_cleanup_(freep) char *tmp = NULL;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.new.%d", s->path, (int)getpid()) < 0)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sys_error(s, "creating");
	if (write_all(fd, HEADER, strlen(HEADER), 0) < 0 || fsync(fd) < 0)
		r = sys_error(s, "writing");
	close(fd);
	if (r >= 0 && link(tmp, s->path) < 0 && errno != EEXIST)
		r = sys_error(s, "creating");
	unlink(tmp);
	return r < 0 ? r : fsync_dir(s);
}

static int bad(struct k8s_store *s, const char *fmt, ...) _printf_(2, 3);
static int bad(struct k8s_store *s, const char *fmt, ...)
{
	_cleanup_(freep) char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return k8s_error(s->ctx, -EBADMSG, "%s: line %zu: %s", s->path, s->lines + 1,
			 msg ? msg : "corrupt");
}

/* Split a whole line (without its newline) into tab-separated fields. */
static int split(char *line, char **fields, int max)
{
	int n = 0;

	fields[n++] = line;
	for (; *line; line++)
		if (*line == '\t') {
			if (n == max)
				return -1;
			*line = '\0';
			fields[n++] = line + 1;
		}
	return n;
}

/* Exactly 8 lower-case hex digits (strtoul would take signs and spaces). */
static int parse_hex32(const char *p, uint32_t *ret)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		char c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

static int apply_record(struct k8s_store *s, struct k8snet_ipam_pool *pool, char *line,
			size_t len)
{
	char *f[6], *tab = memrchr(line, '\t', len);
	struct k8s_ip ip;
	uint32_t sum;
	int n, r;

	if (!tab || line + len - (tab + 1) != 8 || parse_hex32(tab + 1, &sum) < 0)
		return bad(s, "not a record");
	if (sum != checksum(line, (size_t)(tab + 1 - line)))
		return bad(s, "bad checksum");
	*tab = '\0';
	n = split(line, f, 5);
	if (n < 2 || strlen(f[0]) != 1 || k8s_ip_parse(f[1], &ip) < 0)
		return bad(s, "not a record");
	if (!k8s_pool_family(pool))
		k8s_pool_adopt_family(pool, ip.family);
	if (ip.family != k8s_pool_family(pool))
		return bad(s, "%s is not of the pool's address family", f[1]);
	switch (f[0][0]) {
	case K8S_REC_ALLOC:
	case K8S_REC_RESERVE:
		if (n != 4 || !*f[2])
			return bad(s, "not a record");
		if (k8s_pool_is_foreign_slot(pool, ip.v))
			return bad(s, "%s starts no block of this pool", f[1]);
		r = k8s_pool_apply_add(pool, ip.v, f[2], f[3], f[0][0] == K8S_REC_ALLOC);
		if (r == -EEXIST)
			return bad(s, "%s or its key is held twice", f[1]);
		return r < 0 ? k8s_error(s->ctx, r, "out of memory") : 0;
	case K8S_REC_DELETE:
		if (n != 2)
			return bad(s, "not a record");
		r = k8s_pool_apply_del(pool, ip.v);
		if (r == -ENOENT)
			return bad(s, "releases %s, which is not allocated", f[1]);
		return r < 0 ? k8s_error(s->ctx, r, "out of memory") : 0;
	case 'c':
		if (n != 2)
			return bad(s, "not a record");
		k8s_pool_apply_cursor(pool, ip.v);
		return 0;
	}
	return bad(s, "unknown record type '%s'", f[0]);
}

static int check_header(struct k8s_store *s, const char *buf, size_t len)
{
	size_t n = strlen(HEADER);

	if (len >= n && memcmp(buf, HEADER, n) == 0)
		return 0;
	if (len >= strlen(HEADER_PREFIX) && memcmp(buf, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0)
		return k8s_error(s->ctx, -EBADMSG, "%s: unsupported state file version", s->path);
	return k8s_error(s->ctx, -EBADMSG, "%s: not a libk8snet IPAM state file", s->path);
}

/* Apply the whole lines of buf, read at file offset from; a last line
 * without newline is a torn write and is left for the next writer to cut. */
static int apply_lines(struct k8s_store *s, struct k8snet_ipam_pool *pool, char *buf,
		       size_t len, off_t from)
{
	size_t off = 0;
	int r;

	if (from == 0) {
		r = check_header(s, buf, len);
		if (r < 0)
			return r;
		off = strlen(HEADER);
		s->applied = (off_t)off;
		s->lines = 1;
	}
	while (off < len) {
		char *line = buf + off, *nl = memchr(line, '\n', len - off);

		if (!nl)
			break;
		if (memchr(line, '\0', (size_t)(nl - line)))
			return bad(s, "holds a NUL byte");
		*nl = '\0';
		r = apply_record(s, pool, line, (size_t)(nl - line));
		if (r < 0)
			return r;
		off = (size_t)(nl - buf) + 1;
		s->applied = from + (off_t)off;
		s->lines++;
		s->records++;
	}
	return 0;
}

static size_t count_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* Bring the pool up to date with the locked file, whose status is st. */
static int sync_pool(struct k8s_store *s, struct k8snet_ipam_pool *pool, const struct stat *st)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len;
	ssize_t n;
	int r;

	if (!s->loaded || st->st_ino != s->ino || st->st_dev != s->dev || st->st_size < s->applied) {
		r = k8s_pool_reset(pool);
		if (r < 0)
			return r;
		s->applied = 0;
		s->lines = s->records = 0;
		s->dev = st->st_dev;
		s->ino = st->st_ino;
		s->loaded = true;
	}
	s->size = st->st_size;
	if (s->applied == 0 && st->st_size < (off_t)strlen(HEADER))
		return check_header(s, "", 0);   /* empty or truncated: not ours */
	if (st->st_size == s->applied)
		return 0;
	len = (size_t)(st->st_size - s->applied);
	buf = malloc(len + 1);
	if (!buf)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	n = pread(s->fd, buf, len, s->applied);
	if (n < 0)
		return sys_error(s, "reading");
	buf[n] = '\0';
	/* Size the tables once rather than doubling them all the way up. */
	k8s_pool_reserve(pool, count_lines(buf, (size_t)n));
	return apply_lines(s, pool, buf, (size_t)n, s->applied);
}

static int open_locked(struct k8s_store *s, bool exclusive, struct stat *st)
{
	struct stat now;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (s->fd >= 0 && exclusive && s->read_only) {
			close(s->fd);
			s->fd = -1;
		}
		if (s->fd < 0) {
			s->read_only = false;
			s->fd = open(s->path, O_RDWR | O_CLOEXEC);
			if (s->fd < 0 && !exclusive && (errno == EACCES || errno == EROFS)) {
				s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
				s->read_only = true;
			}
			if (s->fd < 0 && errno == ENOENT) {
				if (!exclusive)
					return 0;   /* no file yet: no allocations */
				int r = create_file(s);

				if (r < 0)
					return r;
				continue;
			}
			if (s->fd < 0)
				return sys_error(s, "opening");
		}
		while (flock(s->fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
			if (errno != EINTR)
				return sys_error(s, "locking");
		if (fstat(s->fd, st) < 0)
			return sys_error(s, "stat");
		if (stat(s->path, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev) {
			s->locked = true;
			return 1;
		}
		/* Replaced (compacted) or removed while we waited: start over. */
		close(s->fd);
		s->fd = -1;
	}
	return k8s_error(s->ctx, -EAGAIN, "%s: keeps being replaced", s->path);
}

int k8s_store_lock(struct k8s_store *s, struct k8snet_ipam_pool *pool, bool exclusive)
{
	struct stat st;
	int r = open_locked(s, exclusive, &st);

	if (r == 0) {
		/* No file: an empty state, whatever we knew before. */
		if (s->loaded) {
			s->loaded = false;
			return k8s_pool_reset(pool);
		}
		return 0;
	}
	if (r > 0)
		r = sync_pool(s, pool, &st);
	if (r < 0) {
		/* Never act on half of a file: the next call reads it all again. */
		s->loaded = false;
		k8s_pool_reset(pool);
		k8s_store_unlock(s);
	}
	return r;
}

void k8s_store_unlock(struct k8s_store *s)
{
	if (s->fd >= 0 && s->locked)
		flock(s->fd, LOCK_UN);
	s->locked = false;
	if (s->swap_fd >= 0) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = s->swap_fd;
		s->swap_fd = -1;
	}
}

static char *format_record(int type, int family, k8s_u128 addr, const char *owner,
			   const char *ifname, size_t *ret_len)
{
	char ip[K8S_IP_STRLEN], *line = NULL;
	int n;

	k8s_ip_format(&(struct k8s_ip){ addr, family }, ip);
	if (owner)
		n = asprintf(&line, "%c\t%s\t%s\t%s\t", type, ip, owner, ifname);
	else
		n = asprintf(&line, "%c\t%s\t", type, ip);
	if (n < 0)
		return NULL;
	/* Room for the checksum: 8 digits, a newline and the NUL. */
	char *full = realloc(line, (size_t)n + 10);
	if (!full) {
		free(line);
		return NULL;
	}
	snprintf(full + n, 10, "%08x\n", checksum(full, (size_t)n));
	*ret_len = (size_t)n + 9;
	return full;
}

int k8s_store_append(struct k8s_store *s, int type, int family, k8s_u128 addr,
		     const char *owner, const char *ifname)
{
	_cleanup_(freep) char *line = NULL;
	size_t len;
	int r;

	if (s->fd < 0 || !s->locked)
		return k8s_error(s->ctx, -EIO, "%s: not locked", s->path);
	line = format_record(type, family, addr, owner, ifname, &len);
	if (!line)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	/* Cut off a torn record a killed writer may have left. */
	r = write_all(s->fd, line, len, s->applied);
	if (r >= 0 && s->size > s->applied + (off_t)len &&
	    ftruncate(s->fd, s->applied + (off_t)len) < 0)
		r = -errno;
	if (r >= 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(s->fd, s->applied) < 0)
			s->loaded = false;
		return k8s_error(s->ctx, r, "%s: writing: %s", s->path, strerror(-r));
	}
	s->applied += (off_t)len;
	s->size = s->applied;
	s->lines++;
	s->records++;
	return 0;
}

static int write_snapshot(struct k8s_store *s, struct k8snet_ipam_pool *pool, int fd,
			  bool (*keep)(const struct k8s_alloc *, void *), void *userdata,
			  off_t *ret_size, size_t *ret_records)
{
	_cleanup_(freep) struct k8s_alloc **v = NULL;
	FILE *f = fdopen(dup(fd), "we");
	size_t i, n = 0, records = 0, len;
	int family = k8s_pool_family(pool), r;
	k8s_u128 cursor;
	char *line;

	if (!f)
		return -errno;
	r = k8s_pool_sorted(pool, &v, &n);
	fputs(HEADER, f);
	if (r >= 0 && k8s_pool_get_cursor(pool, &cursor)) {
		line = format_record('c', family, cursor, NULL, NULL, &len);
		if (!line || fwrite(line, 1, len, f) != len)
			r = -ENOMEM;
		free(line);
		records++;
	}
	for (i = 0; r >= 0 && i < n; i++) {
		if (keep && !keep(v[i], userdata))
			continue;
		line = format_record(K8S_REC_RESERVE, family, v[i]->addr, k8s_alloc_owner(v[i]),
				     k8s_alloc_ifname(v[i]), &len);
		if (!line || fwrite(line, 1, len, f) != len)
			r = -ENOMEM;
		free(line);
		records++;
	}
	if (r >= 0 && fflush(f) != 0)
		r = -errno;
	*ret_size = r >= 0 ? ftello(f) : 0;
	fclose(f);
	*ret_records = records;
	return r;
}

int k8s_store_snapshot(struct k8s_store *s, struct k8snet_ipam_pool *pool,
		       bool (*keep)(const struct k8s_alloc *a, void *userdata), void *userdata)
{
	_cleanup_(freep) char *tmp = NULL;
	struct stat st;
	size_t records = 0;
	off_t size = 0;
	int fd, r;

	if (asprintf(&tmp, "%s.tmp", s->path) < 0)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sys_error(s, "creating a snapshot");
	r = write_snapshot(s, pool, fd, keep, userdata, &size, &records);
	if (r >= 0 && (fsync(fd) < 0 || fstat(fd, &st) < 0))
		r = -errno;
	if (r >= 0 && rename(tmp, s->path) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		unlink(tmp);
		return k8s_error(s->ctx, r, "%s: writing a snapshot: %s", s->path, strerror(-r));
	}
	r = fsync_dir(s);
	/* The new file holds exactly the pool (as the caller will make it). */
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->applied = s->size = size;
	s->records = records;
	s->lines = records + 1;
	if (s->swap_fd >= 0)
		close(s->swap_fd);
	s->swap_fd = fd;
	return r;
}

void k8s_store_invalidate(struct k8s_store *s)
{
	s->loaded = false;
}

int k8s_store_maybe_compact(struct k8s_store *s, struct k8snet_ipam_pool *pool)
{
	if (s->records <= 2 * k8s_pool_live(pool) + 256)
		return 0;
	/* The change is already durable; a failed compaction only costs space. */
	return k8s_store_snapshot(s, pool, NULL, NULL);
}
