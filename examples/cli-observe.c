/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet observe --netns PATH [--json] [--count N] [--timeout S]
 *                [--log-group N] [FILE.json...]
 *   one line per NetworkPolicy verdict that verdict logging sends to NFLOG:
 *   TIME VERDICT DIRECTION SOURCE -> DESTINATION PROTO/PORT POLICIES
 *   (--json: one object per line); exit 0, or 1 when it could not listen.
 *
 * The files are followed: when one is replaced (an editor's or the agent's
 * rename) or rewritten, all are read again and replace the objects events
 * are named with (k8snet_observer_set_json()).  A file that cannot be read
 * or is refused leaves the previous objects in place, with one message on
 * stderr per change.  Why polling (stat between reads) and not inotify: a
 * rename replaces the inode inotify watches, the files are few, and a stat
 * every 100 ms costs nothing next to decoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* How often the files are looked at while events keep coming; when none
 * come, the wait for them is cut into slices this long. */
#define FOLLOW_MS 100

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What tells a file's versions apart. */
struct file_id {
	int err;                  /* 0, or why it could not be read */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct follow {
	char **paths;             /* the FILE.json arguments ("-": read once) */
	size_t n;
	struct file_id *ids;      /* what was last read (or tried) */
	char **texts;             /* while loading; stdin's for good */
	size_t *lens;
	long checked_ms;
};

static bool same_id(const struct file_id *a, const struct file_id *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void id_of(const struct stat *st, int err, struct file_id *id)
{
	*id = (struct file_id){ .err = err };
	if (err)
		return;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static int stat_id(const char *path, struct file_id *id)
{
	struct stat st;
	int err = stat(path, &st) < 0 ? errno : 0;

	id_of(&st, err, id);
	return -err;
}

/* The whole of fd, NUL-terminated. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;

	do {
		if (cap - len < 65536) {
			if (!(p = realloc(buf, cap + 65536 + 1))) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return (int)n;
		}
		len += (size_t)n;
	} while (n > 0);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Read path into text and say which version was read: fstat of the open
 * file, so the text is that version's (a later change shows as a new id). */
static int read_version(const char *path, struct file_id *id, char **text, size_t *len)
{
	struct stat st;
	int fd, r;

	if (strcmp(path, "-") == 0) {
		*id = (struct file_id){ 0 };
		return read_all(STDIN_FILENO, text, len);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		id_of(NULL, -r, id);
		return r;
	}
	id_of(&st, 0, id);
	r = read_all(fd, text, len);
	close(fd);
	if (r < 0)
		id->err = -r;
	return r;
}

static void follow_free(struct follow *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->texts[i]);
	free(f->texts);
	free(f->lens);
	free(f->ids);
}

/* The file a k8snet_observer_set_json() error is about ("docs[I]..."), and
 * the message without that part (the file name says it). */
static const char *refused_file(const struct k8snet_ctx *ctx, const struct follow *f,
				const char **ret_msg)
{
	const char *msg = k8snet_ctx_get_error(ctx), *end;
	size_t i;

	*ret_msg = msg;
	if (sscanf(k8snet_ctx_get_error_path(ctx), "docs[%zu]", &i) != 1 || i >= f->n)
		return "objects";
	if (strncmp(msg, "docs[", 5) == 0 && (end = strchr(msg, ']')))
		*ret_msg = end[1] == '.' ? end + 2 : strncmp(end + 1, ": ", 2) == 0 ? end + 3 : msg;
	return f->paths[i];
}

/* Read every file and load them as the one set of objects.  At start a
 * failure ends the command; later it keeps the previous objects. */
static int follow_load(struct follow *f, struct k8snet_ctx *ctx, struct k8snet_observer *obs,
		       bool first)
{
	const char *keep = first ? "" : " (events are still named with the objects read before)";
	size_t i;
	int r, bad = 0;

	/* Every file, even after one failed: each id must be the version
	 * tried, or an unchanged file would look changed and be reported
	 * again and again. */
	for (i = 0; i < f->n; i++) {
		if (!first && strcmp(f->paths[i], "-") == 0)
			continue;             /* stdin was read once, its text is kept */
		free(f->texts[i]);
		f->texts[i] = NULL;
		r = read_version(f->paths[i], &f->ids[i], &f->texts[i], &f->lens[i]);
		if (r < 0) {
			fprintf(stderr, "k8snet: observe: %s: %s%s\n", f->paths[i], strerror(-r), keep);
			bad = first ? CLI_USAGE : CLI_FAIL;
		}
	}
	if (!bad) {
		r = k8snet_observer_set_json(obs, (const char *const *)f->texts, f->lens, f->n);
		if (r < 0) {
			const char *msg, *file = refused_file(ctx, f, &msg);

			fprintf(stderr, "k8snet: observe: %s: %s%s\n", file, msg, keep);
			bad = r == -EINVAL || r == -ERANGE ? CLI_USAGE : CLI_FAIL;
		}
	}
	/* The texts are read again at the next change; only stdin's, which
	 * cannot be, is kept (a big objects file is not held twice). */
	for (i = 0; i < f->n; i++)
		if (strcmp(f->paths[i], "-") != 0) {
			free(f->texts[i]);
			f->texts[i] = NULL;
		}
	return bad ? bad : CLI_OK;
}

static int follow_init(struct follow *f, const struct cli_call *call, struct k8snet_ctx *ctx,
		       struct k8snet_observer *obs)
{
	*f = (struct follow){ .paths = call->args, .n = (size_t)call->n_args };
	if (!f->n)
		return CLI_OK;
	f->ids = calloc(f->n, sizeof(*f->ids));
	f->texts = calloc(f->n, sizeof(*f->texts));
	f->lens = calloc(f->n, sizeof(*f->lens));
	if (!f->ids || !f->texts || !f->lens) {
		fprintf(stderr, "k8snet: out of memory\n");
		return CLI_FAIL;
	}
	return follow_load(f, ctx, obs, true);
}

/* Reload when a file is not the version read last.  A failure is told
 * once: the ids now hold the version that failed, so the same version is
 * not tried (nor reported) again. */
static void follow_check(struct follow *f, struct k8snet_ctx *ctx, struct k8snet_observer *obs)
{
	struct file_id id;
	size_t i;

	f->checked_ms = now_ms();
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->paths[i], "-") == 0)
			continue;
		stat_id(f->paths[i], &id);
		if (!same_id(&id, &f->ids[i]))
			break;
	}
	if (i < f->n)
		follow_load(f, ctx, obs, false);
}

static void time_text(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ns / 1000000u % 1000u));
}

static int print_event(const struct k8snet_observer *obs, bool json)
{
	char when[64];
	const char *policy = k8snet_observer_get_str(obs, K8SNET_EVENT_POLICY);

	time_text(k8snet_observer_get_u64(obs, K8SNET_EVENT_TIME_NS), when, sizeof(when));
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(j, "time", when);
		cJSON_AddStringToObject(j, "verdict", k8snet_observer_get_str(obs, K8SNET_EVENT_VERDICT));
		cJSON_AddStringToObject(j, "direction",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DIRECTION));
		cJSON_AddStringToObject(j, "source", k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE));
		cJSON_AddStringToObject(j, "destination",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DESTINATION));
		cJSON_AddStringToObject(j, "source_ip",
					k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE_IP));
		cJSON_AddStringToObject(j, "destination_ip",
					k8snet_observer_get_str(obs, K8SNET_EVENT_DEST_IP));
		cJSON_AddStringToObject(j, "protocol", k8snet_observer_get_str(obs, K8SNET_EVENT_PROTOCOL));
		cJSON_AddNumberToObject(j, "port", (double)k8snet_observer_get_u64(obs, K8SNET_EVENT_PORT));
		cJSON_AddStringToObject(j, "policy", policy);
		text = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		if (!text)
			return CLI_FAIL;
		printf("%s\n", text);
		free(text);
	} else {
		printf("%s %s %s %s -> %s %s/%llu %s\n", when,
		       k8snet_observer_get_str(obs, K8SNET_EVENT_VERDICT),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_DIRECTION),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_SOURCE),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_DESTINATION),
		       k8snet_observer_get_str(obs, K8SNET_EVENT_PROTOCOL),
		       (unsigned long long)k8snet_observer_get_u64(obs, K8SNET_EVENT_PORT), policy);
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

/* Events until count or the deadline; the files are looked at before each
 * wait ends and every FOLLOW_MS while events keep coming, so an event is
 * named with the objects its files held when it was read. */
static int watch(const struct cli_call *call, struct k8snet_ctx *ctx,
		 struct k8snet_observer *obs, struct follow *f, uint32_t count, uint32_t timeout_s)
{
	bool json = call->json || cli_flag(call, OPT_JSON);
	long deadline = timeout_s ? now_ms() + (long)timeout_s * 1000 : 0;
	struct pollfd p = { k8snet_observer_get_fd(obs), POLLIN, 0 };
	uint32_t seen = 0;

	while (!count || seen < count) {
		int wait = deadline ? (int)(deadline - now_ms()) : -1;
		int r;

		if (deadline && wait <= 0)
			break;
		/* Before the next event is decoded (and named). */
		if (f->n && now_ms() - f->checked_ms >= FOLLOW_MS)
			follow_check(f, ctx, obs);
		r = k8snet_observer_next(obs, 0);
		if (r < 0)
			return cli_report(ctx, r, "observe");
		if (r == 1) {
			if (print_event(obs, json) != CLI_OK)
				return CLI_FAIL;
			seen++;
			continue;
		}
		if (f->n && (wait < 0 || wait > FOLLOW_MS))
			wait = FOLLOW_MS;
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return cli_report(ctx, -errno, "poll");
		if (f->n)
			follow_check(f, ctx, obs);    /* a wait ended: events may be in */
	}
	return CLI_OK;
}

int cli_observe(const struct cli_call *call)
{
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_observer *obs = NULL;
	struct follow f = { 0 };
	uint32_t count = 0, timeout_s = 0, group = 0;
	int r = cli_u32(call, OPT_COUNT, 1, UINT32_MAX, &count);

	if (!r)
		r = cli_u32(call, OPT_TIMEOUT, 1, 86400 * 365, &timeout_s);
	if (!r)
		r = cli_u32(call, OPT_LOG_GROUP, 1, 65535, &group);
	if (r)
		return r;
	r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), &ctx);
	if (r)
		return r;
	r = k8snet_observer_new(ctx, group, 0, &obs);
	if (r < 0)
		r = cli_report(ctx, r, "observe");
	else
		r = follow_init(&f, call, ctx, obs);
	if (r == CLI_OK)
		r = watch(call, ctx, obs, &f, count, timeout_s);
	follow_free(&f);
	k8snet_observer_free(obs);
	k8snet_ctx_free(ctx);
	return r;
}
