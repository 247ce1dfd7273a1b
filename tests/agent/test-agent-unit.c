/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet-agent's pure logic, without a server or a kernel: the kubeconfig
 * reader (YAML and JSON), durations and timestamps, and the informer
 * (list pages, watch events cut at any byte, bookmarks, 410 on a watch and
 * on a continue token, relist-and-replace, backoff) driven by fixtures.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../examples/agent/agent.h"

/* ---- durations, timestamps, base64 ---- */

START_TEST(test_durations)
{
	double d;

	ck_assert_int_eq(parse_duration("1s", &d), 0);
	ck_assert_double_eq_tol(d, 1, 1e-9);
	ck_assert_int_eq(parse_duration("250ms", &d), 0);
	ck_assert_double_eq_tol(d, 0.25, 1e-9);
	ck_assert_int_eq(parse_duration("1m30s", &d), 0);
	ck_assert_double_eq_tol(d, 90, 1e-9);
	ck_assert_int_eq(parse_duration("1h2m", &d), 0);
	ck_assert_double_eq_tol(d, 3720, 1e-9);
	ck_assert_int_eq(parse_duration("0", &d), 0);
	ck_assert_double_eq_tol(d, 0, 1e-9);
	ck_assert_int_eq(parse_duration("2.5", &d), 0);
	ck_assert_double_eq_tol(d, 2.5, 1e-9);
	ck_assert_int_eq(parse_duration("100us", &d), 0);
	ck_assert_double_eq_tol(d, 1e-4, 1e-12);
	ck_assert_int_eq(parse_duration("", &d), -EINVAL);
	ck_assert_int_eq(parse_duration("1x", &d), -EINVAL);
	ck_assert_int_eq(parse_duration("s", &d), -EINVAL);
	ck_assert_int_eq(parse_duration("-1s", &d), -EINVAL);
	ck_assert_int_eq(parse_duration("1s2", &d), -EINVAL);
}
END_TEST

START_TEST(test_rfc3339)
{
	double t;

	ck_assert_int_eq(parse_rfc3339("1970-01-01T00:00:10Z", &t), 0);
	ck_assert_double_eq_tol(t, 10, 1e-9);
	ck_assert_int_eq(parse_rfc3339("2024-05-01T10:00:00.250Z", &t), 0);
	ck_assert_double_eq_tol(t, 1714557600.25, 1e-6);
	ck_assert_int_eq(parse_rfc3339("2024-05-01T12:00:00+02:00", &t), 0);
	ck_assert_double_eq_tol(t, 1714557600, 1e-6);
	ck_assert_int_eq(parse_rfc3339("2024-05-01 10:00:00Z", &t), 0);
	ck_assert_int_eq(parse_rfc3339("2024-05-01T10:00:00", &t), -EINVAL);
	ck_assert_int_eq(parse_rfc3339("2024-13-01T10:00:00Z", &t), -EINVAL);
	ck_assert_int_eq(parse_rfc3339("yesterday", &t), -EINVAL);
}
END_TEST

START_TEST(test_base64)
{
	size_t n;
	char *s = base64_decode("aGVsbG8g\nd29ybGQ=", &n);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(n, 11);
	ck_assert_str_eq(s, "hello world");
	free(s);
	ck_assert_ptr_null(base64_decode("aGVs!G8=", &n));
	ck_assert_ptr_null(base64_decode("a", &n));
}
END_TEST

START_TEST(test_backoff_is_capped_and_jittered)
{
	unsigned i;
	double d;

	for (i = 0; i < 40; i++) {
		d = backoff_delay(i, 0.25, 30);
		ck_assert(d <= 30.0 + 1e-9);
		ck_assert(d >= (i < 7 ? 0.25 * (1u << i) : 30.0) / 2 - 1e-9);
	}
}
END_TEST

/* ---- YAML and kubeconfig ---- */

static const char *kubectl_yaml =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: aGVsbG8=   # a comment\n"
	"    server: https://10.0.0.1:6443/\n"
	"  name: prod\n"
	"- cluster:\n"
	"    server: \"https://other:443\"\n"
	"    insecure-skip-tls-verify: true\n"
	"  name: other\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: prod\n"
	"    user: admin\n"
	"  name: prod-admin\n"
	"- name: other\n"
	"  context:\n"
	"    cluster: other\n"
	"    user: 'it''s me'\n"
	"current-context: prod-admin\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate: certs/admin.crt\n"
	"    client-key: /abs/admin.key\n"
	"- name: it's me\n"
	"  user:\n"
	"    token: abc#def\n";

START_TEST(test_yaml_kubectl_layout)
{
	cJSON *root = NULL;
	char *err = NULL;

	ck_assert_int_eq(yaml_parse(kubectl_yaml, &root, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(json_str(root, "current-context"), "prod-admin");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "clusters")), 2);
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "clusters"), 0),
				  "cluster.server"), "https://10.0.0.1:6443/");
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "contexts"), 1),
				  "context.user"), "it's me");
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "users"), 1),
				  "user.token"), "abc#def");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(root, "preferences")));
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_yaml_errors_name_the_line)
{
	static const char *const bad[] = {
		"a: 1\n\tb: 2\n",                       /* tab */
		"a: &x 1\nb: *x\n",                     /* anchors */
		"a: |\n  text\n",                       /* block scalar */
		"a:\n  - 1\n   b: 2\n",                 /* bad indentation */
		"a: 1\na: 2\n",                         /* duplicate key */
		"a: \"unterminated\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *root = NULL;
		char *err = NULL;

		ck_assert_msg(yaml_parse(bad[i], &root, &err) == -EINVAL, "accepted: %s", bad[i]);
		ck_assert_ptr_null(root);
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strncmp(err, "line ", 5) == 0, "%s", err);
		free(err);
	}
}
END_TEST

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/k8snet-agent-unit-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(test_kubeconfig_current_context)
{
	struct kube_config cfg;
	char *err = NULL, *path = write_tmp(kubectl_yaml), *dir = strdup(path);

	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(kube_config_load(path, &cfg, &err), 0);
	ck_assert_str_eq(cfg.server, "https://10.0.0.1:6443");   /* trailing slash gone */
	ck_assert_uint_eq(cfg.ca_len, 5);
	ck_assert_str_eq(cfg.ca_data, "hello");
	ck_assert_str_eq(cfg.key_file, "/abs/admin.key");
	ck_assert(strncmp(cfg.cert_file, dir, strlen(dir)) == 0);   /* relative to the file */
	ck_assert_str_eq(cfg.cert_file + strlen(dir), "/certs/admin.crt");
	ck_assert(!cfg.insecure);
	ck_assert_ptr_null(kube_config_token(&cfg));
	kube_config_clear(&cfg);
	unlink(path);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_kubeconfig_json_and_token_file)
{
	struct kube_config cfg;
	char *err = NULL, *tok = write_tmp("tok-1\n"), *text, *path;

	text = xasprintf("{\"current-context\": \"c\", \"contexts\": [{\"name\": \"c\", \"context\": "
			 "{\"cluster\": \"k\", \"user\": \"u\"}}], \"clusters\": [{\"name\": \"k\", "
			 "\"cluster\": {\"server\": \"https://[fd00::1]:6443\", "
			 "\"insecure-skip-tls-verify\": true}}], \"users\": [{\"name\": \"u\", \"user\": "
			 "{\"tokenFile\": \"%s\"}}]}", tok);
	path = write_tmp(text);
	ck_assert_int_eq(kube_config_load(path, &cfg, &err), 0);
	ck_assert(cfg.insecure);
	ck_assert_str_eq(kube_config_token(&cfg), "tok-1");
	/* A rotated token is picked up (the mtime changes). */
	sleep(1);
	{
		FILE *f = fopen(tok, "w");

		fputs("tok-2", f);
		fclose(f);
	}
	ck_assert_str_eq(kube_config_token(&cfg), "tok-2");
	kube_config_clear(&cfg);
	unlink(path);
	unlink(tok);
	free(path);
	free(tok);
	free(text);
}
END_TEST

START_TEST(test_kubeconfig_errors)
{
	static const char *const bad[][2] = {
		{ "apiVersion: v1\nkind: Config\n", "current-context: not set" },
		{ "current-context: x\ncontexts: []\n", "names no entry of contexts" },
		{ "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n",
		  "names no entry of clusters" },
		{ "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n", "flow" },
		{ "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
		  "clusters:\n- name: c\n  cluster:\n    server: ftp://x\n", "server: must be" },
		{ "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n"
		  "clusters:\n- name: c\n  cluster:\n    server: https://x\nusers:\n- name: u\n  user:\n"
		  "    exec:\n      command: aws\n", "exec and auth-provider" },
		{ "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
		  "clusters:\n- name: c\n  cluster:\n    server: https://x\n"
		  "    certificate-authority-data: '@@@'\n", "not valid base64" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kube_config cfg;
		char *err = NULL, *path = write_tmp(bad[i][0]);

		ck_assert_int_lt(kube_config_load(path, &cfg, &err), 0);
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strstr(err, bad[i][1]), "case %zu: %s", i, err);
		free(err);
		unlink(path);
		free(path);
	}
}
END_TEST

/* ---- the informer, with fixtures ---- */

struct recorder {
	char log[8192];
	char last_url[1024];
	int requests, synced;
};

static void rec(struct recorder *r, const char *what, const char *key, const char *rv)
{
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s %s%s%s ", what, key, rv ? "@" : "", rv ? rv : "");
}

static void on_upsert(void *ud, enum kind k, const struct object *old, const struct object *cur,
		      const cJSON *obj)
{
	rec(ud, old ? "MOD" : "ADD", cur->key, cur->rv);
}

static void on_remove(void *ud, enum kind k, const struct object *old)
{
	rec(ud, "DEL", old->key, NULL);
}

static void on_synced(void *ud, enum kind k)
{
	((struct recorder *)ud)->synced++;
}

static int on_request(void *ud, struct informer *inf, const char *url)
{
	struct recorder *r = ud;

	r->requests++;
	snprintf(r->last_url, sizeof(r->last_url), "%s", url);
	return 0;
}

static const struct informer_ops rec_ops = { on_upsert, on_remove, on_synced, on_request };

static void feed(struct informer *inf, const char *text)
{
	ck_assert_int_eq(informer_feed(inf, 200, text, strlen(text)), 0);
}

/* Feed in pieces of n bytes, as a network would cut it. */
static int feed_cut(struct informer *inf, const char *text, size_t n)
{
	size_t off = 0, len = strlen(text);
	int r = 0;

	while (off < len && r >= 0) {
		size_t k = len - off < n ? len - off : n;

		r = informer_feed(inf, 200, text + off, k);
		off += k;
	}
	return r;
}

#define SVC(name, rv) "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"d\",\"resourceVersion\":\"" rv \
	"\",\"managedFields\":[{\"manager\":\"kubectl\"}],\"annotations\":{\"big\":\"x\"}},\"spec\":{}}"

static void start_list(struct informer *inf, struct recorder *r)
{
	informer_init(inf, K_SERVICE, PROXY_LABEL_SELECTOR, &rec_ops, r);
	inf->watch_timeout = 300;
	ck_assert_double_eq(informer_tick(inf, mono_now()), 0);
	ck_assert_int_eq(inf->phase, INF_LISTING);
}

START_TEST(test_informer_list_pages_then_watch)
{
	struct informer inf;
	struct recorder r = { 0 };
	const struct object *o;

	start_list(&inf, &r);
	ck_assert_str_eq(r.last_url, "/api/v1/services?limit=10000&labelSelector="
			 "%21service.kubernetes.io%2Fservice-proxy-name%2C%21service.kubernetes.io%2Fheadless");
	feed(&inf, "{\"kind\":\"ServiceList\",\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"c 1\"},"
		   "\"items\":[" SVC("a", "3") "]}");
	informer_done(&inf, 200, true, NULL);
	ck_assert_int_eq(r.synced, 0);
	informer_tick(&inf, mono_now());
	ck_assert_ptr_nonnull(strstr(r.last_url, "&continue=c%201&"));
	feed(&inf, "{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[" SVC("b", "5") "]}");
	informer_done(&inf, 200, true, NULL);
	ck_assert_int_eq(r.synced, 1);
	ck_assert_str_eq(r.log, "ADD d/a@3 ADD d/b@5 ");
	ck_assert_str_eq(inf.rv, "7");
	/* Items came without kind: the informer sets it; trimming dropped
	 * managedFields and annotations. */
	o = informer_get(&inf, "d/a");
	ck_assert_ptr_nonnull(strstr(o->json, "\"kind\":\"Service\""));
	ck_assert_ptr_null(strstr(o->json, "managedFields"));
	ck_assert_ptr_null(strstr(o->json, "annotations"));
	informer_tick(&inf, mono_now());
	ck_assert_int_eq(inf.phase, INF_WATCHING);
	ck_assert_str_eq(r.last_url, "/api/v1/services?watch=1&resourceVersion=7&allowWatchBookmarks=true"
			 "&timeoutSeconds=300&labelSelector=%21service.kubernetes.io%2Fservice-proxy-name"
			 "%2C%21service.kubernetes.io%2Fheadless");
	informer_clear(&inf);
}
END_TEST

START_TEST(test_informer_list_stream_cut)
{
	/* Strings with braces, brackets, escaped quotes and keys named like
	 * the ones the scanner looks for; metadata after the items. */
	static const char *page =
		"{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"items\":[ "
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"resourceVersion\":\"3\","
		"\"labels\":{\"x\":\"}]\\\"{[\"}},\"spec\":{\"items\":[{\"metadata\":1}]}},\n"
		"{\"metadata\":{\"name\":\"b\",\"namespace\":\"d\",\"resourceVersion\":\"5\"},"
		"\"spec\":{\"ports\":[{\"port\":80}]}}],"
		"\"metadata\":{\"resourceVersion\":\"9\",\"note\":\"{items}\"}}";
	size_t cut, len = strlen(page);

	for (cut = 1; cut <= len; cut++) {
		struct informer inf;
		struct recorder r = { 0 };
		const struct object *o;

		start_list(&inf, &r);
		ck_assert_int_eq(feed_cut(&inf, page, cut), 0);
		informer_done(&inf, 200, true, NULL);
		ck_assert_msg(strcmp(r.log, "ADD d/a@3 ADD d/b@5 ") == 0, "cut %zu: %s", cut, r.log);
		ck_assert_int_eq(r.synced, 1);
		ck_assert_str_eq(inf.rv, "9");
		o = informer_get(&inf, "d/a");
		ck_assert_ptr_nonnull(strstr(o->json, "\"x\":\"}]\\\"{[\""));
		informer_clear(&inf);
	}
}
END_TEST

START_TEST(test_informer_list_truncated)
{
	struct informer inf;
	struct recorder r = { 0 };

	start_list(&inf, &r);
	feed(&inf, "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[" SVC("a", "3") ",{\"meta");
	informer_done(&inf, 200, false, "transfer closed");
	ck_assert_int_eq(r.synced, 0);
	ck_assert_ptr_null(inf.rv);
	ck_assert(inf.next_start > mono_now());
	/* A complete body with a broken item: not synced, retried. */
	informer_tick(&inf, inf.next_start);
	{
		const char *bad = "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"a\":tru}]}";

		ck_assert_int_lt(informer_feed(&inf, 200, bad, strlen(bad)), 0);
	}
	informer_done(&inf, 200, false, "aborted");
	ck_assert_int_eq(r.synced, 0);
	ck_assert_uint_ge(inf.stats.decode_errors, 1);
	informer_clear(&inf);
}
END_TEST

static const char *events =
	"{\"type\":\"ADDED\",\"object\":" SVC("c", "8") "}\n"
	"{\"type\":\"MODIFIED\",\"object\":" SVC("a", "9") "}\n"
	"\n"
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Service\",\"metadata\":{\"resourceVersion\":\"12\"}}}\r\n"
	"{\"type\":\"DELETED\",\"object\":" SVC("b", "13") "}\n"
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Service\",\"metadata\":{\"resourceVersion\":\"15\"}}}\n";

static void listed(struct informer *inf, struct recorder *r)
{
	start_list(inf, r);
	feed(inf, "{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[" SVC("a", "3") "," SVC("b", "5") "]}");
	informer_done(inf, 200, true, NULL);
	informer_tick(inf, mono_now());
	ck_assert_int_eq(inf->phase, INF_WATCHING);
	r->log[0] = '\0';
}

START_TEST(test_informer_watch_stream)
{
	size_t cut, len = strlen(events);

	/* Every way of cutting the stream gives the same events. */
	for (cut = 1; cut <= len; cut += cut < 64 ? 1 : 61) {
		struct informer inf;
		struct recorder r = { 0 };

		listed(&inf, &r);
		ck_assert_int_eq(feed_cut(&inf, events, cut), 0);
		ck_assert_msg(strcmp(r.log, "ADD d/c@8 MOD d/a@9 DEL d/b ") == 0, "cut %zu: %s", cut, r.log);
		ck_assert_str_eq(inf.rv, "15");            /* the last bookmark */
		ck_assert_uint_eq(inf.stats.bookmarks, 2);
		ck_assert_uint_eq(informer_count(&inf), 2);
		/* The server ends the watch: resume at once from the bookmark. */
		informer_done(&inf, 200, true, NULL);
		ck_assert_uint_eq(inf.failures, 0);
		informer_tick(&inf, mono_now());
		ck_assert_ptr_nonnull(strstr(r.last_url, "resourceVersion=15&"));
		informer_clear(&inf);
	}
}
END_TEST

START_TEST(test_informer_expired_relists_and_replaces)
{
	struct informer inf;
	struct recorder r = { 0 };
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			   "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n";

	listed(&inf, &r);
	feed(&inf, "{\"type\":\"ADDED\",\"object\":" SVC("c", "8") "}\n");
	/* The ERROR event ends the stream (the transport aborts it). */
	ck_assert_int_lt(informer_feed(&inf, 200, gone, strlen(gone)), 0);
	informer_done(&inf, 200, false, "aborted");
	ck_assert_ptr_null(inf.rv);
	ck_assert_uint_eq(inf.stats.expired, 1);
	r.log[0] = '\0';
	informer_tick(&inf, mono_now());
	ck_assert_int_eq(inf.phase, INF_LISTING);
	ck_assert_ptr_null(strstr(r.last_url, "resourceVersion"));
	/* The new list: a unchanged, b changed, c gone, d new. */
	feed(&inf, "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[" SVC("a", "3") "," SVC("b", "18")
		   "," SVC("d", "19") "]}");
	informer_done(&inf, 200, true, NULL);
	ck_assert_str_eq(r.log, "MOD d/b@18 ADD d/d@19 DEL d/c ");
	ck_assert_int_eq(r.synced, 1);                 /* synced once, not again */
	ck_assert_uint_eq(inf.stats.relists, 1);
	ck_assert_str_eq(inf.rv, "20");
	informer_clear(&inf);
}
END_TEST

START_TEST(test_informer_http_410_and_continue_expiry)
{
	struct informer inf;
	struct recorder r = { 0 };

	listed(&inf, &r);
	informer_feed(&inf, 410, "{\"kind\":\"Status\",\"code\":410}", 28);
	informer_done(&inf, 410, true, NULL);
	ck_assert_ptr_null(inf.rv);
	informer_tick(&inf, mono_now());
	ck_assert_int_eq(inf.phase, INF_LISTING);
	feed(&inf, "{\"metadata\":{\"resourceVersion\":\"30\",\"continue\":\"tok\"},\"items\":[" SVC("a", "3") "]}");
	informer_done(&inf, 200, true, NULL);
	informer_tick(&inf, mono_now());
	ck_assert_ptr_nonnull(strstr(r.last_url, "continue=tok"));
	/* The continue token expired: the list starts over, from the top. */
	informer_feed(&inf, 410, "{}", 2);
	informer_done(&inf, 410, true, NULL);
	informer_tick(&inf, mono_now());
	ck_assert_ptr_null(strstr(r.last_url, "continue"));
	feed(&inf, "{\"metadata\":{\"resourceVersion\":\"31\"},\"items\":[" SVC("a", "3") "]}");
	informer_done(&inf, 200, true, NULL);
	ck_assert_str_eq(r.log, "DEL d/b ");
	informer_clear(&inf);
}
END_TEST

START_TEST(test_informer_failures_back_off)
{
	struct informer inf;
	struct recorder r = { 0 };
	double prev = 0, now;
	int i;

	listed(&inf, &r);
	inf.backoff_base = 0.5;
	inf.backoff_cap = 4;
	for (i = 0; i < 8; i++) {
		/* Connection refused at once, before any event. */
		informer_done(&inf, 0, false, "Couldn't connect to server");
		now = mono_now();
		ck_assert_uint_eq(inf.failures, (unsigned)i + 1);
		ck_assert(inf.next_start - now <= 4.0 + 0.01);
		ck_assert(inf.next_start - now >= (i < 3 ? 0.5 * (1 << i) : 4.0) / 2 - 0.01);
		ck_assert_double_ne(inf.next_start, prev);
		prev = inf.next_start;
		/* Not due yet: no request. */
		ck_assert_double_eq(informer_tick(&inf, now), inf.next_start);
		informer_tick(&inf, inf.next_start);
		ck_assert_int_eq(inf.phase, INF_WATCHING);
		ck_assert_str_eq(inf.rv, "7");             /* resumes, no relist */
	}
	/* A watch that delivered events resets the backoff. */
	feed(&inf, "{\"type\":\"ADDED\",\"object\":" SVC("c", "8") "}\n");
	informer_done(&inf, 200, false, "connection reset");
	ck_assert_uint_eq(inf.failures, 1);
	ck_assert(inf.next_start - mono_now() <= 0.5);
	informer_clear(&inf);
}
END_TEST

START_TEST(test_informer_bad_stream)
{
	struct informer inf;
	struct recorder r = { 0 };

	listed(&inf, &r);
	ck_assert_int_lt(informer_feed(&inf, 200, "{not json}\n", 11), 0);
	informer_done(&inf, 200, false, "aborted");
	ck_assert_uint_eq(inf.stats.decode_errors, 1);
	ck_assert_str_eq(inf.rv, "7");                 /* resume, do not relist */
	ck_assert_int_eq(inf.phase, INF_IDLE);
	/* A list that is not a List is retried later. */
	informer_clear(&inf);
	r.synced = 0;
	start_list(&inf, &r);
	feed(&inf, "[]");
	informer_done(&inf, 200, true, NULL);
	ck_assert_int_eq(r.synced, 0);
	ck_assert(inf.next_start > mono_now());
	informer_clear(&inf);
}
END_TEST

START_TEST(test_trim_pod_and_node)
{
	cJSON *pod = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a\":\"b\"},"
		"\"managedFields\":[1],\"ownerReferences\":[1]},\"spec\":{\"nodeName\":\"n1\",\"volumes\":[1],"
		"\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[1],\"ports\":[{\"containerPort\":80}]}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"containerStatuses\":[1],"
		"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastProbeTime\":null}]}}");
	cJSON *node = cJSON_Parse("{\"metadata\":{\"name\":\"n\",\"labels\":{\"topology.kubernetes.io/zone\":\"z\"}},"
		"\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"taints\":[1]},\"status\":{\"images\":[1,2,3],"
		"\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"1.2.3.4\"}],\"nodeInfo\":{}}}");
	char *p, *n;

	kind_infos[K_POD].trim(pod);
	kind_infos[K_NODE].trim(node);
	p = cJSON_PrintUnformatted(pod);
	n = cJSON_PrintUnformatted(node);
	ck_assert_str_eq(p, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a\":\"b\"}},"
			 "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80}]}]},"
			 "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
			 "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
	ck_assert_str_eq(n, "{\"metadata\":{\"name\":\"n\",\"labels\":{\"topology.kubernetes.io/zone\":\"z\"}},"
			 "\"spec\":{\"podCIDR\":\"10.244.1.0/24\"},"
			 "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"1.2.3.4\"}]}}");
	free(p);
	free(n);
	cJSON_Delete(pod);
	cJSON_Delete(node);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("agent");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_durations);
	tcase_add_test(t, test_rfc3339);
	tcase_add_test(t, test_base64);
	tcase_add_test(t, test_backoff_is_capped_and_jittered);
	tcase_add_test(t, test_yaml_kubectl_layout);
	tcase_add_test(t, test_yaml_errors_name_the_line);
	tcase_add_test(t, test_kubeconfig_current_context);
	tcase_add_test(t, test_kubeconfig_json_and_token_file);
	tcase_add_test(t, test_kubeconfig_errors);
	tcase_add_test(t, test_informer_list_pages_then_watch);
	tcase_add_test(t, test_informer_list_stream_cut);
	tcase_add_test(t, test_informer_list_truncated);
	tcase_add_test(t, test_informer_watch_stream);
	tcase_add_test(t, test_informer_expired_relists_and_replaces);
	tcase_add_test(t, test_informer_http_410_and_continue_expiry);
	tcase_add_test(t, test_informer_failures_back_off);
	tcase_add_test(t, test_informer_bad_stream);
	tcase_add_test(t, test_trim_pod_and_node);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	agent_log_level = getenv("V") ? LOG_LVL_DEBUG : LOG_LVL_ERR;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
