/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state file: a snapshot (base.c) followed by a journal of one-line
 * records, each with a checksum.
 *
 *   SNAPSHOT (binary, starting "k8snet-ipam<TAB>2<LF>"): the allocations
 *            and the cursor when it was written
 *   a<TAB>10.244.1.2<TAB>OWNER<TAB>IFNAME<TAB>CHECKSUM     allocated, cursor moves
 *   r<TAB>10.244.1.9<TAB>OWNER<TAB>IFNAME<TAB>CHECKSUM     asked for, cursor stays
 *   d<TAB>10.244.1.2<TAB>CHECKSUM                          released
 *
 * A change is one write() of one record then fdatasync(): the cost does not
 * grow with the number of allocations, unlike rewriting the whole state.  A
 * kill -9 can only cut the last record short, which then has no newline:
 * it was never acknowledged, so it is ignored and cut off by the next
 * writer.  A bad checksum on a whole line, or anything else unexpected, is
 * corruption: we refuse the file and never write to it.
 *
 * Opening the state reads the snapshot's header and the journal only; the
 * snapshot is mapped and asked in place (base.c), so an exec'd process pays
 * the same at 10 allocations as at 10,000.  When the journal has grown long
 * enough that replaying it costs more than a new snapshot would, spread over
 * the changes in between, a snapshot of the whole state goes to a new file
 * (O_EXCL, an unpredictable name), is fsync'd and renamed over the state
 * file, and the directory is fsync'd.  GC writes a snapshot too, so that it
 * is all or nothing.  Version 1 files (the journal alone, with 'c' cursor
 * records in its snapshots) are read as before and rewritten as version 2 at
 * the first change.
 *
 * Processes share the file with flock().  Since compaction replaces the
 * file, a locker checks that the name still leads to the inode it locked,
 * and tries again otherwise.  Each process keeps the pool it built from the
 * file and reads only what was appended since (or starts again, after
 * another process replaced the file).
 *
 * Whoever can change the directory can change the state, or make us write
 * elsewhere: the directory must belong to us (or root) and be writable by
 * nobody else, every directory above it likewise (or sticky, as /tmp), and
 * no component may be a symbolic link someone else owns.  The state file is
 * opened with O_NOFOLLOW and must be a regular file of ours; new files are
 * created 0600 whatever the umask.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "ipam/ipam.h"

#define HEADER_V1 "k8snet-ipam\t1\n"
#define HEADER_PREFIX "k8snet-ipam\t"
#define HEADER_LEN 14   /* both versions */

struct k8s_store {
	struct k8snet_ctx *ctx;
	char *path, *dir, *name;
	int dfd;            /* the checked directory; -1 until it exists */
	int fd;             /* cached between calls; -1 when none */
	bool locked;
	bool read_only;     /* fd was opened O_RDONLY (no write permission) */
	bool loaded;        /* the pool reflects (dev, ino) up to applied */
	dev_t dev;
	ino_t ino;
	int version;        /* of the loaded file */
	off_t applied;      /* bytes of whole lines applied */
	size_t lines;       /* lines read, for messages (v1: the header included) */
	size_t records;     /* journal records after the snapshot */
	off_t size;         /* the file's size when locked */
	void *map;          /* the loaded file, mapped for its snapshot */
	size_t map_len;
	struct k8s_base *base;
	int swap_fd;        /* after a snapshot: the new file, used from unlock on */
};

int k8s_store_open(struct k8snet_ctx *ctx, const char *path, struct k8s_store **ret)
{
	struct k8s_store *s = calloc(1, sizeof(*s));
	_cleanup_(freep) char *d = NULL, *b = NULL;

	if (s) {
		s->path = strdup(path);
		d = strdup(path);
		b = strdup(path);
	}
	if (!s || !s->path || !d || !b || !(s->dir = strdup(dirname(d))) ||
	    !(s->name = strdup(basename(b)))) {
		if (s) {
			free(s->path);
			free(s->dir);
		}
		free(s);
		return k8s_error(ctx, -ENOMEM, "out of memory");
	}
	if (!*s->name || !strcmp(s->name, "/") || !strcmp(s->name, ".") || !strcmp(s->name, "..")) {
		int r = k8s_error(ctx, -EINVAL, "%s: not a file name", path);

		free(s->path);
		free(s->dir);
		free(s->name);
		free(s);
		return r;
	}
	s->ctx = ctx;
	s->dfd = s->fd = s->swap_fd = -1;
	*ret = s;
	return 0;
}

static void drop_map(struct k8s_store *s)
{
	k8s_base_close(s->base);
	s->base = NULL;
	if (s->map)
		munmap(s->map, s->map_len);
	s->map = NULL;
	s->map_len = 0;
}

void k8s_store_free(struct k8s_store *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->swap_fd >= 0)
		close(s->swap_fd);
	if (s->dfd >= 0)
		close(s->dfd);
	drop_map(s);
	free(s->path);
	free(s->dir);
	free(s->name);
	free(s);
}

/* The system's reason, except that a full disk must not read as a full
 * pool: -ENOSPC means the pool is exhausted, so it becomes -EIO here, its
 * message still saying "No space left on device". */
static int io_error(struct k8s_store *s, const char *what, int err)
{
	return k8s_error(s->ctx, err == ENOSPC ? -EIO : -err, "%s: %s: %s", s->path, what,
			 strerror(err));
}

static int sys_error(struct k8s_store *s, const char *what)
{
	return io_error(s, what, errno);
}

/* ---- the directory ----------------------------------------------------------- */

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int refuse(struct k8s_store *s, const char *where, const struct stat *st, bool state_dir)
{
	if (!trusted_owner(st->st_uid))
		return k8s_error(s->ctx, -EPERM, "%s: refusing to keep IPAM state under %s: owned by "
				 "uid %u, not by this process (uid %u) or root", s->path, where,
				 (unsigned)st->st_uid, (unsigned)geteuid());
	return k8s_error(s->ctx, -EPERM, "%s: refusing to keep IPAM state %s %s: writable by group or "
			 "others (mode %04o)", s->path, state_dir ? "in" : "under", where,
			 (unsigned)(st->st_mode & 07777));
}

/* The state's own directory: ours and writable by nobody else.  A
 * directory above it may also be sticky and writable by all (/tmp): others
 * cannot rename or remove what is ours there. */
static bool dir_is_safe(const struct stat *st, bool state_dir)
{
	if (!trusted_owner(st->st_uid))
		return false;
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return true;
	return !state_dir && (st->st_mode & S_ISVTX);
}

/* The path as written, component by component: a symbolic link that someone
 * else owns, or a directory they may change, could send us elsewhere.
 * 0 when a component is missing (no state yet), 1 when all are there. */
static int check_path_as_written(struct k8s_store *s)
{
	_cleanup_(freep) char *p = strdup(s->dir);
	struct stat st;
	size_t i, len;

	if (!p)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	len = strlen(p);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (lstat(p, &st) < 0) {
			int err = errno;

			if (err == ENOENT)
				return 0;
			return k8s_error(s->ctx, -err, "%s: %s: %s", s->path, p, strerror(err));
		}
		if (S_ISLNK(st.st_mode) && !trusted_owner(st.st_uid))
			return k8s_error(s->ctx, -EPERM, "%s: refusing to follow %s: a symbolic link "
					 "owned by uid %u", s->path, p, (unsigned)st.st_uid);
		if (S_ISDIR(st.st_mode) && i < len && !dir_is_safe(&st, false))
			return refuse(s, p, &st, false);
		if (i < len)
			p[i] = '/';
	}
	return 1;
}

/* The name of the directory `up` levels above the state's, for messages. */
static char *ancestor_name(const struct k8s_store *s, unsigned up)
{
	char *p = realpath(s->dir, NULL);

	while (p && up--) {
		char *slash = strrchr(p, '/');

		if (!slash)
			break;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return p;
}

/* The directory as opened, then every real parent up to the root: what the
 * path went through in the end, symbolic links resolved. */
static int check_real_ancestry(struct k8s_store *s, int dfd)
{
	struct stat st, up;
	int fd = dfd, r = 0;
	unsigned level = 0;

	if (fstat(dfd, &st) < 0)
		return sys_error(s, "its directory");
	for (;;) {
		if (!dir_is_safe(&st, level == 0)) {
			_cleanup_(freep) char *name = ancestor_name(s, level);

			r = refuse(s, name ? name : s->dir, &st, level == 0);
			break;
		}
		int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (parent < 0 || fstat(parent, &up) < 0) {
			r = sys_error(s, "a directory above it");
			if (parent >= 0)
				close(parent);
			break;
		}
		if (fd != dfd)
			close(fd);
		fd = parent;
		if ((up.st_dev == st.st_dev && up.st_ino == st.st_ino) || ++level > 4096)
			break;   /* the root is its own parent */
		st = up;
	}
	if (fd != dfd)
		close(fd);
	return r;
}

/* Open and check the directory once; later calls use the descriptor, so a
 * path changed behind our back changes nothing.  0 when it does not exist. */
static int open_dir(struct k8s_store *s)
{
	int r, fd;

	if (s->dfd >= 0)
		return 1;
	r = check_path_as_written(s);
	if (r <= 0)
		return r;
	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : io_error(s, "opening its directory", errno);
	r = check_real_ancestry(s, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	s->dfd = fd;
	return 1;
}

static int fsync_dir(struct k8s_store *s)
{
	return fsync(s->dfd) < 0 ? sys_error(s, "syncing its directory") : 0;
}

/* A new file beside the state file: an unpredictable name, O_EXCL, 0600
 * whatever the umask.  *ret_name gets the name. */
static int create_temp(struct k8s_store *s, char **ret_name)
{
	uint64_t rnd;
	char *tmp;
	int fd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sys_error(s, "choosing a temporary name");
	if (asprintf(&tmp, "%s.tmp-%016llx", s->name, (unsigned long long)rnd) < 0)
		return k8s_error(s->ctx, -ENOMEM, "out of memory");
	fd = openat(s->dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(tmp);
		return sys_error(s, "creating a temporary file");
	}
	if (fchmod(fd, 0600) < 0) {
		int r = sys_error(s, "creating a temporary file");

		close(fd);
		unlinkat(s->dfd, tmp, 0);
		free(tmp);
		return r;
	}
	*ret_name = tmp;
	return fd;
}

static int write_all(int fd, const void *data, size_t len, off_t off)
{
	const char *buf = data;

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

/* Write a snapshot to a new file and fsync it; the caller links or renames
 * it into place.  Returns the descriptor, *ret_name the file's name. */
static int write_temp(struct k8s_store *s, const uint8_t *data, size_t len, char **ret_name)
{
	int fd = create_temp(s, ret_name), err;

	if (fd < 0)
		return fd;
	err = -write_all(fd, data, len, 0);
	if (!err && fsync(fd) < 0)
		err = errno;
	if (err) {
		close(fd);
		unlinkat(s->dfd, *ret_name, 0);
		free(*ret_name);
		*ret_name = NULL;
		return io_error(s, "writing a snapshot", err);
	}
	return fd;
}

/* A new file holding an empty snapshot; losing a race to create it is fine. */
static int create_file(struct k8s_store *s)
{
	static const struct k8s_base_params empty = { .step = 1 };
	_cleanup_(freep) uint8_t *data = NULL;
	_cleanup_(freep) char *tmp = NULL;
	size_t len;
	int fd, r;

	r = k8s_base_build(&empty, NULL, 0, &data, &len);
	if (r < 0)
		return k8s_error(s->ctx, r, "out of memory");
	fd = write_temp(s, data, len, &tmp);
	if (fd < 0)
		return fd;
	close(fd);
	r = 0;
	if (linkat(s->dfd, tmp, s->dfd, s->name, 0) < 0 && errno != EEXIST)
		r = sys_error(s, "creating");
	unlinkat(s->dfd, tmp, 0);
	return r < 0 ? r : fsync_dir(s);
}

/* ---- reading --------------------------------------------------------------------- */

static int bad(struct k8s_store *s, const char *fmt, ...) _printf_(2, 3);
static int bad(struct k8s_store *s, const char *fmt, ...)
{
	_cleanup_(freep) char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = k8s_vasprintf(fmt, ap);
	va_end(ap);
	return k8s_error(s->ctx, -EBADMSG, "%s: %s %zu: %s", s->path,
			 s->version == 1 ? "line" : "journal record", s->lines + 1,
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

/* The pool's answer to a record: conflicts are the file's fault, a damaged
 * snapshot already has its message. */
static int record_result(struct k8s_store *s, int r, const char *addr)
{
	if (r == -EEXIST)
		return bad(s, "%s or its key is held twice", addr);
	if (r == -ENOENT)
		return bad(s, "releases %s, which is not allocated", addr);
	if (r == -ENOMEM)
		return k8s_error(s->ctx, r, "out of memory");
	return r < 0 ? r : 0;
}

static int apply_record(struct k8s_store *s, struct k8snet_ipam_pool *pool, char *line,
			size_t len)
{
	char *f[6], *tab = memrchr(line, '\t', len);
	struct k8s_ip ip;
	uint32_t sum;
	int n;

	if (!tab || line + len - (tab + 1) != 8 || parse_hex32(tab + 1, &sum) < 0)
		return bad(s, "not a record");
	if (sum != k8s_ipam_checksum(line, (size_t)(tab + 1 - line)))
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
		return record_result(s, k8s_pool_apply_add(pool, ip.v, f[2], f[3],
							   f[0][0] == K8S_REC_ALLOC), f[1]);
	case K8S_REC_DELETE:
		if (n != 2)
			return bad(s, "not a record");
		return record_result(s, k8s_pool_apply_del(pool, ip.v), f[1]);
	case 'c':
		if (n != 2)
			return bad(s, "not a record");
		k8s_pool_apply_cursor(pool, ip.v);
		return 0;
	}
	return bad(s, "unknown record type '%s'", f[0]);
}

/* Apply the whole lines of buf, read at file offset from; a last line
 * without newline is a torn write and is left for the next writer to cut. */
static int apply_lines(struct k8s_store *s, struct k8snet_ipam_pool *pool, char *buf,
		       size_t len, off_t from)
{
	size_t off = 0;
	int r;

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

/* Version 2: map the file and consult its snapshot in place. */
static int load_snapshot(struct k8s_store *s, struct k8snet_ipam_pool *pool,
			 const struct stat *st)
{
	int r;

	s->map_len = (size_t)st->st_size;
	s->map = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return sys_error(s, "mapping");
	}
	r = k8s_base_open(s->ctx, s->path, s->map, s->map_len, &s->base);
	if (r < 0)
		return r;
	s->version = 2;
	s->applied = (off_t)k8s_base_size(s->base);
	return k8s_pool_attach_base(pool, s->base);
}

/* A file we have not read yet: which version, and its head. */
static int read_head(struct k8s_store *s, struct k8snet_ipam_pool *pool, const struct stat *st)
{
	char head[HEADER_LEN];
	ssize_t n = 0;

	if (st->st_size >= HEADER_LEN)
		n = pread(s->fd, head, HEADER_LEN, 0);
	if (n < 0)
		return sys_error(s, "reading");
	if (n == HEADER_LEN && !memcmp(head, K8S_BASE_MAGIC, HEADER_LEN))
		return load_snapshot(s, pool, st);
	if (n == HEADER_LEN && !memcmp(head, HEADER_V1, HEADER_LEN)) {
		s->version = 1;
		s->applied = HEADER_LEN;
		s->lines = 1;
		return 0;
	}
	if (n >= (ssize_t)strlen(HEADER_PREFIX) && !memcmp(head, HEADER_PREFIX, strlen(HEADER_PREFIX)))
		return k8s_error(s->ctx, -EBADMSG, "%s: unsupported state file version", s->path);
	return k8s_error(s->ctx, -EBADMSG, "%s: not a libk8snet IPAM state file", s->path);
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
		drop_map(s);
		if (r < 0)
			return r;
		s->applied = 0;
		s->lines = s->records = 0;
		s->version = 0;
		s->dev = st->st_dev;
		s->ino = st->st_ino;
		s->loaded = true;
		s->size = st->st_size;
		r = read_head(s, pool, st);
		if (r < 0)
			return r;
	}
	s->size = st->st_size;
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

/* Only a regular file of ours, writable by nobody else. */
static int check_file(struct k8s_store *s, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sys_error(s, "stat");
	if (!S_ISREG(st.st_mode))
		return k8s_error(s->ctx, -EPERM, "%s: not a regular file; refusing to use it", s->path);
	if (!trusted_owner(st.st_uid))
		return k8s_error(s->ctx, -EPERM, "%s: owned by uid %u, not by this process (uid %u) "
				 "or root; refusing to use it", s->path, (unsigned)st.st_uid,
				 (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return k8s_error(s->ctx, -EPERM, "%s: writable by group or others (mode %04o); "
				 "refusing to use it", s->path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The state file, opened: 1, or 0 when there is none (shared lock only). */
static int open_file(struct k8s_store *s, bool exclusive)
{
	int flags = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, r, tries;

	for (tries = 0; tries < 100; tries++) {
		r = open_dir(s);
		if (r == 0 && exclusive)
			return k8s_error(s->ctx, -ENOENT, "%s: cannot create: %s: %s", s->path, s->dir,
					 strerror(ENOENT));
		if (r <= 0)
			return r;
		s->read_only = false;
		s->fd = openat(s->dfd, s->name, O_RDWR | flags);
		if (s->fd < 0 && !exclusive && (errno == EACCES || errno == EROFS)) {
			s->fd = openat(s->dfd, s->name, O_RDONLY | flags);
			s->read_only = true;
		}
		if (s->fd < 0 && errno == ENOENT) {
			if (!exclusive)
				return 0;   /* no file yet: no allocations */
			r = create_file(s);
			if (r < 0)
				return r;
			continue;
		}
		if (s->fd < 0 && errno == ELOOP)
			return k8s_error(s->ctx, -ELOOP, "%s: a symbolic link; refusing to follow it",
					 s->path);
		if (s->fd < 0)
			return sys_error(s, "opening");
		r = check_file(s, s->fd);
		if (r < 0) {
			close(s->fd);
			s->fd = -1;
			return r;
		}
		return 1;
	}
	return k8s_error(s->ctx, -EAGAIN, "%s: keeps disappearing", s->path);
}

/* What we read of a file is ours to keep only while we hold it open: once
 * closed, its inode number can come back on the file that replaced it, and
 * (dev, ino) would take that for the file we know. */
static void close_file(struct k8s_store *s)
{
	close(s->fd);
	s->fd = -1;
	s->loaded = false;
}

static int open_locked(struct k8s_store *s, bool exclusive, struct stat *st)
{
	struct stat now;
	int tries, r;

	for (tries = 0; tries < 1000; tries++) {
		if (s->fd >= 0 && exclusive && s->read_only)
			close_file(s);
		if (s->fd < 0) {
			r = open_file(s, exclusive);
			if (r <= 0)
				return r;
		}
		while (flock(s->fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
			if (errno != EINTR)
				return sys_error(s, "locking");
		if (fstat(s->fd, st) < 0)
			return sys_error(s, "stat");
		if (fstatat(s->dfd, s->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_ino == st->st_ino && now.st_dev == st->st_dev) {
			s->locked = true;
			return 1;
		}
		/* Replaced (compacted) or removed while we waited: start over. */
		close_file(s);
	}
	return k8s_error(s->ctx, -EAGAIN, "%s: keeps being replaced", s->path);
}

int k8s_store_lock(struct k8s_store *s, struct k8snet_ipam_pool *pool, bool exclusive)
{
	struct stat st;
	int r;

	/* A forked child shares the parent's open file, and with it the lock. */
	r = k8s_ctx_check_process(s->ctx);
	if (r < 0)
		return r;
	r = open_locked(s, exclusive, &st);

	if (r == 0) {
		/* No file: an empty state, whatever we knew before. */
		if (s->loaded) {
			s->loaded = false;
			r = k8s_pool_reset(pool);
			drop_map(s);
		}
		return r;
	}
	if (r > 0)
		r = sync_pool(s, pool, &st);
	if (r < 0) {
		/* Never act on half of a file: the next call reads it all again. */
		s->loaded = false;
		k8s_pool_reset(pool);
		drop_map(s);
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

/* ---- writing ---------------------------------------------------------------------- */

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
	snprintf(full + n, 10, "%08x\n", k8s_ipam_checksum(full, (size_t)n));
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
		return io_error(s, "writing", -r);
	}
	s->applied += (off_t)len;
	s->size = s->applied;
	s->lines++;
	s->records++;
	return 0;
}

/* The allocations a snapshot keeps, sorted by address. */
static int snapshot_entries(struct k8snet_ipam_pool *pool,
			    bool (*keep)(const struct k8s_alloc *, void *), void *userdata,
			    struct k8s_alloc ***ret, size_t *ret_n)
{
	size_t i, n = 0, kept = 0;
	int r = k8s_pool_sorted(pool, ret, &n);

	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (!keep || keep((*ret)[i], userdata))
			(*ret)[kept++] = (*ret)[i];
	*ret_n = kept;
	return 0;
}

int k8s_store_snapshot(struct k8s_store *s, struct k8snet_ipam_pool *pool,
		       bool (*keep)(const struct k8s_alloc *a, void *userdata), void *userdata)
{
	_cleanup_(freep) struct k8s_alloc **v = NULL;
	_cleanup_(freep) uint8_t *data = NULL;
	_cleanup_(freep) char *tmp = NULL;
	struct k8s_base_params params = { .family = k8s_pool_family(pool),
					   .step = k8s_pool_step(pool) };
	struct stat st;
	size_t n = 0, len = 0;
	int fd, r;

	if (s->dfd < 0 || !s->locked)
		return k8s_error(s->ctx, -EIO, "%s: not locked", s->path);
	r = snapshot_entries(pool, keep, userdata, &v, &n);
	if (r < 0)
		return r;
	params.has_cursor = k8s_pool_get_cursor(pool, &params.cursor);
	r = k8s_base_build(&params, v, n, &data, &len);
	if (r < 0)
		return k8s_error(s->ctx, r, "%s: writing a snapshot: %s", s->path, strerror(-r));
	fd = write_temp(s, data, len, &tmp);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || renameat(s->dfd, tmp, s->dfd, s->name) < 0) {
		r = sys_error(s, "writing a snapshot");
		close(fd);
		unlinkat(s->dfd, tmp, 0);
		return r;
	}
	r = fsync_dir(s);
	/* The new file holds exactly the pool (as the caller will make it), and
	 * the pool no longer consults the old snapshot. */
	drop_map(s);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->version = 2;
	s->applied = s->size = (off_t)len;
	s->records = s->lines = 0;
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
	/* Each exec replays the journal; a snapshot costs about as much as
	 * replaying all live allocations once.  Compacting past 256 records
	 * plus 1/64 of the live ones keeps both small at any size. */
	if (s->version == 2 && s->records <= 256 + k8s_pool_live(pool) / 64)
		return 0;
	/* The change is already durable; a failed compaction only costs space. */
	return k8s_store_snapshot(s, pool, NULL, NULL);
}
