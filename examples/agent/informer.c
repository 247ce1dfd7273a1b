/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An informer, as client-go's reflector does it: LIST the collection (in
 * pages), then WATCH from the list's resourceVersion with bookmarks; every
 * event advances the resume point; a watch that ends is resumed from there;
 * a resume point the server no longer has (410 Gone, as an HTTP status or as
 * an ERROR event) means LIST again and replace: objects the new list does
 * not have are reported removed.  Failures back off exponentially with
 * jitter, capped; a healthy watch resets the backoff.
 *
 * The watch body is a stream of JSON objects, one per line; each line is
 * parsed as soon as it is complete, so a watch is never held in memory
 * beyond one event.  A list page is read the same way: each item is parsed
 * when its closing brace arrives.  Holding one item at a time, the page
 * size is only a matter of round trips: pages of 10,000 (client-go asks for
 * 500 but its first list, resourceVersion=0, is answered whole from the
 * watch cache, whatever the limit).
 *
 * The informer knows nothing of HTTP: a transport (api.c) runs the requests
 * and feeds the bytes in, so tests can drive it with fixtures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define ERROR_BODY_MAX (64 * 1024)
/* A watch shorter than this that ends without an event counts as a failure:
 * a server that accepts and closes at once must not be hammered. */
#define HEALTHY_WATCH_SECONDS 1.0

static void object_free(void *p)
{
	struct object *o = p;

	if (!o)
		return;
	free(o->key);
	free(o->rv);
	free(o->json);
	free(o);
}

void informer_init(struct informer *inf, enum kind k, const char *label_selector,
		   const struct informer_ops *ops, void *ud)
{
	*inf = (struct informer){
		.kind = k,
		.info = &kind_infos[k],
		.label_selector = label_selector,
		.ops = ops,
		.ud = ud,
		.page_limit = 10000,
		.watch_timeout = 0,       /* 0: client-go's 5-10 min, drawn per watch */
		.backoff_base = 0.25,
		.backoff_cap = 30,
	};
}

static void scan_reset(struct list_scan *sc)
{
	struct buf item = sc->item, meta = sc->meta;

	item.len = meta.len = 0;
	*sc = (struct list_scan){ .item = item, .meta = meta };
}

static void scan_free(struct list_scan *sc)
{
	buf_free(&sc->item);
	buf_free(&sc->meta);
	scan_reset(sc);
}

void informer_clear(struct informer *inf)
{
	free(inf->rv);
	free(inf->cont);
	buf_free(&inf->body);
	scan_free(&inf->scan);
	buf_free(&inf->line);
	smap_free(&inf->objects, object_free);
	inf->rv = inf->cont = NULL;
}

size_t informer_count(const struct informer *inf)
{
	return inf->objects.n;
}

const struct object *informer_get(const struct informer *inf, const char *key)
{
	return smap_get(&inf->objects, key);
}

/* ---- requests ---- */

static int add_param(struct buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int r = buf_printf(b, "%c%s=", strchr(b->p, '?') ? '&' : '?', name);

	for (p = (const unsigned char *)value; r >= 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			r = buf_append(b, p, 1);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			r = buf_append(b, enc, 3);
		}
	}
	return r;
}

static char *list_url(struct informer *inf)
{
	struct buf b = { 0 };
	char limit[16];
	int r;

	snprintf(limit, sizeof(limit), "%u", inf->page_limit);
	r = buf_printf(&b, "%s", inf->info->path);
	if (r >= 0)
		r = add_param(&b, "limit", limit);
	if (r >= 0 && inf->cont)
		r = add_param(&b, "continue", inf->cont);
	if (r >= 0 && inf->label_selector)
		r = add_param(&b, "labelSelector", inf->label_selector);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

static char *watch_url(struct informer *inf)
{
	struct buf b = { 0 };
	char timeout[16];
	unsigned t = inf->watch_timeout ? inf->watch_timeout : 300 + (unsigned)(drand48() * 300);
	int r;

	snprintf(timeout, sizeof(timeout), "%u", t);
	r = buf_printf(&b, "%s", inf->info->path);
	if (r >= 0)
		r = add_param(&b, "watch", "1");
	if (r >= 0)
		r = add_param(&b, "resourceVersion", inf->rv);
	if (r >= 0)
		r = add_param(&b, "allowWatchBookmarks", "true");
	if (r >= 0)
		r = add_param(&b, "timeoutSeconds", timeout);
	if (r >= 0 && inf->label_selector)
		r = add_param(&b, "labelSelector", inf->label_selector);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

static void schedule_retry(struct informer *inf, double now, const char *why)
{
	double d = backoff_delay(inf->failures, inf->backoff_base, inf->backoff_cap);

	inf->failures++;
	inf->next_start = now + d;
	log_warn("%s: %s; retrying in %.2f s", inf->info->resource, why, d);
}

double informer_tick(struct informer *inf, double now)
{
	char *url;
	int r;

	if (inf->phase != INF_IDLE)
		return 0;
	if (now < inf->not_before)
		return inf->not_before;
	if (now < inf->next_start)
		return inf->next_start;
	buf_free(&inf->body);
	buf_free(&inf->line);
	scan_reset(&inf->scan);
	inf->http_status = 0;
	inf->got_event = inf->expired = false;
	if (!inf->rv) {
		if (!inf->cont)
			inf->gen++;   /* a new list: objects it does not mention go */
		url = list_url(inf);
		inf->phase = INF_LISTING;
	} else {
		url = watch_url(inf);
		inf->phase = INF_WATCHING;
		inf->stats.watches++;
	}
	inf->started = now;
	r = url ? inf->ops->request(inf->ud, inf, url) : -ENOMEM;
	if (r < 0) {
		inf->phase = INF_IDLE;
		schedule_retry(inf, now, "cannot start a request");
	} else {
		log_debug("%s: GET %s", inf->info->resource, url);
	}
	free(url);
	return r < 0 ? inf->next_start : 0;
}

/* ---- objects ---- */

static void set_kind(struct informer *inf, cJSON *obj)
{
	/* List items come without kind and apiVersion; the library's JSON
	 * readers dispatch on kind. */
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "kind"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
		cJSON_AddStringToObject(obj, "kind", inf->info->kind);
	}
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "apiVersion"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");
		cJSON_AddStringToObject(obj, "apiVersion", inf->info->api_version);
	}
}

static int upsert(struct informer *inf, cJSON *obj)
{
	char *key = object_key(obj);
	const char *rv = json_str(obj, "metadata.resourceVersion");
	struct object *old, *o;
	void *prev;

	if (!key) {
		inf->stats.decode_errors++;
		log_warn("%s: an object without metadata.name; skipped", inf->info->resource);
		return 0;
	}
	old = smap_get(&inf->objects, key);
	if (old && rv && old->rv && strcmp(rv, old->rv) == 0) {
		old->gen = inf->gen;     /* unchanged (a relist sees it again) */
		free(key);
		return 0;
	}
	set_kind(inf, obj);
	inf->info->trim(obj);
	o = calloc(1, sizeof(*o));
	if (!o || !(o->json = cJSON_PrintUnformatted(obj)) || (rv && !(o->rv = strdup(rv)))) {
		object_free(o);
		free(key);
		return -ENOMEM;
	}
	o->key = key;
	o->len = strlen(o->json);
	o->gen = inf->gen;
	if (smap_put(&inf->objects, key, o, &prev) < 0) {
		object_free(o);
		return -ENOMEM;
	}
	inf->ops->upsert(inf->ud, inf->kind, prev, o, obj);
	object_free(prev);
	return 0;
}

static void remove_key(struct informer *inf, const char *key)
{
	struct object *old = smap_del(&inf->objects, key);

	if (!old)
		return;
	inf->ops->remove(inf->ud, inf->kind, old);
	object_free(old);
}

static int delete_obj(struct informer *inf, const cJSON *obj)
{
	char *key = object_key(obj);

	if (!key) {
		inf->stats.decode_errors++;
		return 0;
	}
	remove_key(inf, key);
	free(key);
	return 0;
}

/* After a complete list: what it did not mention is gone. */
static int drop_stale(struct informer *inf)
{
	struct smap_node *n;
	char **stale = NULL;
	size_t i, ns = 0;

	smap_for_each(&inf->objects, i, n) {
		struct object *o = n->val;

		if (o->gen == inf->gen)
			continue;
		if (ns % 64 == 0) {
			char **v = realloc(stale, (ns + 64) * sizeof(*v));

			if (!v) {
				free(stale);
				return -ENOMEM;
			}
			stale = v;
		}
		stale[ns++] = o->key;
	}
	for (i = 0; i < ns; i++) {
		/* remove_key frees the object and with it the key: copy first. */
		char *k = strdup(stale[i]);

		if (k)
			remove_key(inf, k);
		free(k);
	}
	if (ns)
		log_info("%s: %zu objects gone since the last list", inf->info->resource, ns);
	free(stale);
	return 0;
}

static void set_str(char **dst, const char *s)
{
	char *c = s && *s ? strdup(s) : NULL;

	free(*dst);
	*dst = c;
}

/* ---- the watch stream ---- */

static int handle_event(struct informer *inf, cJSON *ev)
{
	const char *type = json_str(ev, "type"), *rv;
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	int r = 0;

	if (!type || !cJSON_IsObject(obj)) {
		inf->stats.decode_errors++;
		log_warn("%s: a watch event without type or object", inf->info->resource);
		return -EBADMSG;
	}
	if (strcmp(type, "ERROR") == 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const char *msg = json_str(obj, "message");

		if (cJSON_IsNumber(code) && code->valueint == 410) {
			inf->expired = true;
			log_info("%s: resourceVersion %s expired (%s): relisting", inf->info->resource,
				 inf->rv, msg ? msg : "410 Gone");
		} else {
			inf->stats.errors++;
			log_warn("%s: watch error %d: %s", inf->info->resource,
				 cJSON_IsNumber(code) ? code->valueint : 0, msg ? msg : "(no message)");
		}
		return -ECONNABORTED;   /* end this watch either way */
	}
	rv = json_str(obj, "metadata.resourceVersion");
	inf->got_event = true;
	if (strcmp(type, "BOOKMARK") == 0) {
		inf->stats.bookmarks++;
	} else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		inf->stats.events++;
		r = upsert(inf, obj);
	} else if (strcmp(type, "DELETED") == 0) {
		inf->stats.events++;
		r = delete_obj(inf, obj);
	} else {
		inf->stats.decode_errors++;
		log_warn("%s: unknown watch event type \"%s\"", inf->info->resource, type);
		return 0;
	}
	/* Resume after this event next time (bookmarks carry only this). */
	if (rv && *rv)
		set_str(&inf->rv, rv);
	return r;
}

static int handle_line(struct informer *inf, const char *line, size_t len)
{
	cJSON *ev;
	int r;

	while (len && (line[0] == ' ' || line[0] == '\r' || line[0] == '\t')) {
		line++;
		len--;
	}
	if (!len)
		return 0;
	ev = cJSON_ParseWithLength(line, len);
	if (!ev) {
		inf->stats.decode_errors++;
		log_warn("%s: a watch event that is not JSON: dropping the stream", inf->info->resource);
		return -EBADMSG;
	}
	r = handle_event(inf, ev);
	cJSON_Delete(ev);
	return r;
}

/* ---- the list stream ---- */

enum { CAP_META = 1, CAP_ITEM = 2 };

static int list_item(struct informer *inf, const char *text, size_t len)
{
	cJSON *item = cJSON_ParseWithLength(text, len);
	int r;

	if (!item || !cJSON_IsObject(item)) {
		cJSON_Delete(item);
		inf->stats.decode_errors++;
		return -EBADMSG;
	}
	r = upsert(inf, item);
	cJSON_Delete(item);
	inf->scan.items++;
	return r;
}

/* Close the byte span [from, to) of the capture into its buffer. */
static int cap_flush(struct list_scan *sc, const char *data, size_t from, size_t to)
{
	if (!sc->cap || to <= from)
		return 0;
	return buf_append(sc->cap == CAP_META ? &sc->meta : &sc->item, data + from, to - from);
}

static int scan_list(struct informer *inf, const char *data, size_t len)
{
	struct list_scan *sc = &inf->scan;
	size_t i, from = 0;

	for (i = 0; i < len && sc->error >= 0; i++) {
		char c = data[i];

		if (sc->in_str) {
			if (sc->esc) {
				sc->esc = false;
			} else if (c == '\\') {
				sc->esc = true;
			} else if (c == '"') {
				sc->in_str = false;
				if (sc->key_str) {
					memcpy(sc->cur_key, sc->key, sc->klen);
					sc->cur_key[sc->klen] = '\0';
				}
			} else if (sc->key_str) {
				if (sc->klen < sizeof(sc->key) - 1)
					sc->key[sc->klen++] = c;
				else
					sc->key_str = false;   /* a long key: not one we want */
			}
			continue;
		}
		switch (c) {
		case '"':
			sc->in_str = true;
			sc->esc = false;
			sc->key_str = sc->depth == 1 && sc->expect_key;
			sc->klen = 0;
			if (sc->key_str)
				sc->cur_key[0] = '\0';
			break;
		case '{':
		case '[':
			sc->depth++;
			if (sc->depth == 1)
				sc->expect_key = true;
			if (sc->cap)
				break;
			if (sc->depth == 2 && c == '{' && strcmp(sc->cur_key, "metadata") == 0) {
				sc->cap = CAP_META;
				sc->meta.len = 0;
			} else if (sc->depth == 2 && c == '[' && strcmp(sc->cur_key, "items") == 0) {
				sc->in_items = true;
			} else if (sc->depth == 3 && sc->in_items && c == '{') {
				sc->cap = CAP_ITEM;
				sc->item.len = 0;
			}
			if (sc->cap) {
				sc->cap_depth = sc->depth;
				from = i;
			}
			break;
		case '}':
		case ']':
			if (sc->cap && sc->depth == sc->cap_depth) {
				int was = sc->cap;

				sc->error = cap_flush(sc, data, from, i + 1);
				sc->cap = 0;
				if (was == CAP_ITEM && sc->error >= 0)
					sc->error = list_item(inf, sc->item.p, sc->item.len);
			}
			if (sc->depth == 2 && sc->in_items && c == ']')
				sc->in_items = false;
			sc->depth--;
			if (sc->depth < 0)
				sc->error = -EBADMSG;
			break;
		case ':':
			if (sc->depth == 1)
				sc->expect_key = false;
			break;
		case ',':
			if (sc->depth == 1)
				sc->expect_key = true;
			break;
		default:
			break;
		}
	}
	if (sc->error >= 0)
		sc->error = cap_flush(sc, data, from, len);
	if (sc->error < 0) {
		inf->stats.decode_errors++;
		return sc->error;
	}
	return 0;
}

int informer_feed(struct informer *inf, long status, const char *data, size_t len)
{
	size_t start = 0, i;
	int r;

	inf->http_status = status;
	if (status != 200) {
		if (inf->body.len + len > ERROR_BODY_MAX)
			return 0;   /* enough of an error body to report it */
		return buf_append(&inf->body, data, len);
	}
	if (inf->phase == INF_LISTING)
		return scan_list(inf, data, len);
	if (inf->phase != INF_WATCHING)
		return 0;
	/* Complete lines are parsed straight from the transport's buffer; only
	 * a partial line is kept for the next call. */
	for (i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (inf->line.len) {
			r = buf_append(&inf->line, data + start, i - start);
			if (r >= 0)
				r = handle_line(inf, inf->line.p, inf->line.len);
			inf->line.len = 0;
		} else {
			r = handle_line(inf, data + start, i - start);
		}
		if (r < 0)
			return r;
		start = i + 1;
	}
	return start < len ? buf_append(&inf->line, data + start, len - start) : 0;
}

/* ---- the end of a request ---- */

static const char *status_message(struct informer *inf)
{
	static char msg[256];
	cJSON *st = inf->body.len ? cJSON_ParseWithLength(inf->body.p, inf->body.len) : NULL;
	const char *m = json_str(st, "message");

	snprintf(msg, sizeof(msg), "HTTP %ld%s%s", inf->http_status, m ? ": " : "", m ? m : "");
	cJSON_Delete(st);
	return msg;
}

static int list_page(struct informer *inf, double now)
{
	struct list_scan *sc = &inf->scan;
	cJSON *meta = NULL;
	const char *rv, *cont;
	int r = 0;

	if (sc->error < 0 || sc->depth != 0 || !sc->meta.len ||
	    !(meta = cJSON_ParseWithLength(sc->meta.p, sc->meta.len))) {
		inf->stats.decode_errors++;
		return -EBADMSG;
	}
	rv = json_str(meta, "resourceVersion");
	cont = json_str(meta, "continue");
	if (cont && *cont) {
		set_str(&inf->cont, cont);
	} else if (!rv || !*rv) {
		inf->stats.decode_errors++;
		r = -EBADMSG;
	} else {
		r = drop_stale(inf);
		set_str(&inf->rv, rv);
		set_str(&inf->cont, NULL);
		inf->stats.lists++;
		if (inf->synced)
			inf->stats.relists++;
		log_info("%s: listed %zu objects at resourceVersion %s", inf->info->resource,
			 inf->objects.n, inf->rv);
		if (!inf->synced && r >= 0) {
			inf->synced = true;
			inf->ops->synced(inf->ud, inf->kind);
		}
	}
	cJSON_Delete(meta);
	inf->next_start = now;
	return r;
}

static void list_done(struct informer *inf, long status, bool curl_ok, const char *err,
		      double now)
{
	int r;

	if (curl_ok && status == 200) {
		r = list_page(inf, now);
		if (r >= 0) {
			inf->failures = 0;
			return;
		}
		schedule_retry(inf, now, r == -ENOMEM ? "out of memory" : "a list response that is not a List");
	} else if (curl_ok && status == 410 && inf->cont) {
		/* The continue token expired: start the list over. */
		set_str(&inf->cont, NULL);
		inf->next_start = now;
		log_info("%s: list continue token expired; listing again", inf->info->resource);
	} else if (curl_ok) {
		schedule_retry(inf, now, status_message(inf));
	} else {
		schedule_retry(inf, now, err && *err ? err : "list failed");
	}
}

static void watch_done(struct informer *inf, long status, bool curl_ok, const char *err,
		       double now)
{
	bool healthy = inf->got_event || now - inf->started >= HEALTHY_WATCH_SECONDS;

	if (inf->expired || (curl_ok && status == 410)) {
		inf->stats.expired++;
		set_str(&inf->rv, NULL);
		set_str(&inf->cont, NULL);
		inf->failures = 0;
		inf->next_start = now;
		return;
	}
	inf->stats.watch_restarts++;
	if (healthy)
		inf->failures = 0;
	if (curl_ok && status == 200 && healthy) {
		inf->next_start = now;    /* the server ended it (timeoutSeconds): resume */
		log_debug("%s: watch ended; resuming at %s", inf->info->resource, inf->rv);
	} else if (curl_ok && status != 200) {
		schedule_retry(inf, now, status_message(inf));
	} else {
		schedule_retry(inf, now, err && *err ? err : "the watch ended at once");
	}
}

void informer_done(struct informer *inf, long status, bool curl_ok, const char *curl_error)
{
	double now = mono_now();
	enum informer_phase was = inf->phase;

	inf->phase = INF_IDLE;
	inf->http_status = status;
	if (was == INF_LISTING)
		list_done(inf, status, curl_ok, curl_error, now);
	else if (was == INF_WATCHING)
		watch_done(inf, status, curl_ok, curl_error, now);
	buf_free(&inf->body);
	buf_free(&inf->line);
	if (!inf->cont)
		scan_free(&inf->scan);    /* between pages the buffers are reused */
	else
		scan_reset(&inf->scan);
}
