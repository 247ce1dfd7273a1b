/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for DNS names: validation rules, builders, the query parser and
 * glibc's search expansion. */
#include <check.h>
#include <string.h>

#include "dns/dns-internal.h"

static struct k8snet_ctx *ctx;

static void setup(void) { ck_assert_int_eq(k8snet_ctx_new(&ctx), 0); }
static void teardown(void) { k8snet_ctx_free(ctx); }

/* Valid, or invalid with a message containing why. */
static void ok(uint32_t kind, const char *name)
{
	int r = k8snet_dns_validate(ctx, kind, name);

	ck_assert_msg(r == 0, "'%s' (kind %u) should be valid: %s", name, kind,
		      k8snet_ctx_get_error(ctx));
}

static void bad(uint32_t kind, const char *name, const char *why)
{
	ck_assert_int_eq(k8snet_dns_validate(ctx, kind, name), -EINVAL);
	ck_assert_msg(strstr(k8snet_ctx_get_error(ctx), why), "'%s': got '%s', want '%s'", name,
		      k8snet_ctx_get_error(ctx), why);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_dns1123_label)
{
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);

	ok(K8SNET_DNS_LABEL, "a");
	ok(K8SNET_DNS_LABEL, "0abc");
	ok(K8SNET_DNS_LABEL, "my-name");
	ok(K8SNET_DNS_LABEL, s63);
	bad(K8SNET_DNS_LABEL, s64, "no more than 63 characters");
	bad(K8SNET_DNS_LABEL, "", "must not be empty");
	bad(K8SNET_DNS_LABEL, "Abc", "lower case alphanumeric");
	bad(K8SNET_DNS_LABEL, "a.b", "lower case alphanumeric");
	bad(K8SNET_DNS_LABEL, "a_b", "lower case alphanumeric");
	bad(K8SNET_DNS_LABEL, "-ab", "must start with an alphanumeric");
	bad(K8SNET_DNS_LABEL, "ab-", "must end with an alphanumeric");
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "'ab-' is not a DNS-1123 label"));
	free(s63);
	free(s64);
}
END_TEST

START_TEST(test_dns1123_subdomain)
{
	char *long_ok = repeat('a', 253), *too_long = repeat('a', 254);

	ok(K8SNET_DNS_SUBDOMAIN, "example.com");
	ok(K8SNET_DNS_SUBDOMAIN, "a");
	ok(K8SNET_DNS_SUBDOMAIN, "1.2-3.x");
	ok(K8SNET_DNS_SUBDOMAIN, long_ok);  /* apimachinery has no 63 limit per label */
	bad(K8SNET_DNS_SUBDOMAIN, too_long, "no more than 253 characters");
	bad(K8SNET_DNS_SUBDOMAIN, "", "must not be empty");
	bad(K8SNET_DNS_SUBDOMAIN, "a..b", "empty label");
	bad(K8SNET_DNS_SUBDOMAIN, ".a", "empty label");
	bad(K8SNET_DNS_SUBDOMAIN, "a.", "must not end with '.'");
	bad(K8SNET_DNS_SUBDOMAIN, "a.-b", "must start with an alphanumeric");
	bad(K8SNET_DNS_SUBDOMAIN, "a-.b", "must end with an alphanumeric");
	bad(K8SNET_DNS_SUBDOMAIN, "A.b", "lower case alphanumeric");
	free(long_ok);
	free(too_long);
}
END_TEST

START_TEST(test_dns1035_label)
{
	ok(K8SNET_DNS_1035_LABEL, "api");
	ok(K8SNET_DNS_1035_LABEL, "a1-b2");
	bad(K8SNET_DNS_1035_LABEL, "1api", "must start with a lower case letter");
	bad(K8SNET_DNS_1035_LABEL, "-api", "must start with a lower case letter");
	bad(K8SNET_DNS_1035_LABEL, "api-", "must end with an alphanumeric");
	bad(K8SNET_DNS_1035_LABEL, "api.x", "lower case alphanumeric");
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "DNS-1035 label"));
}
END_TEST

START_TEST(test_label_key_and_value)
{
	char *name64 = repeat('a', 64), *key, *prefix254 = repeat('a', 254);

	ok(K8SNET_DNS_LABEL_KEY, "app");
	ok(K8SNET_DNS_LABEL_KEY, "app.kubernetes.io/name");
	ok(K8SNET_DNS_LABEL_KEY, "My_Key.v1");
	ok(K8SNET_DNS_LABEL_KEY, "example.com/A-b_c.D");
	bad(K8SNET_DNS_LABEL_KEY, "", "name part must not be empty");
	bad(K8SNET_DNS_LABEL_KEY, "example.com/", "name part must not be empty");
	bad(K8SNET_DNS_LABEL_KEY, "/name", "prefix part must not be empty");
	bad(K8SNET_DNS_LABEL_KEY, "a/b/c", "at most one '/'");
	bad(K8SNET_DNS_LABEL_KEY, "Example.com/name", "prefix part must be a lowercase DNS-1123");
	bad(K8SNET_DNS_LABEL_KEY, "_name", "name part must start with an alphanumeric");
	bad(K8SNET_DNS_LABEL_KEY, "name.", "name part must end with an alphanumeric");
	bad(K8SNET_DNS_LABEL_KEY, "na me", "name part must consist of");
	bad(K8SNET_DNS_LABEL_KEY, name64, "name part must be no more than 63");
	ck_assert_int_gt(asprintf(&key, "%s/x", prefix254), 0);
	bad(K8SNET_DNS_LABEL_KEY, key, "prefix part must be no more than 253");
	free(key);

	ok(K8SNET_DNS_LABEL_VALUE, "");
	ok(K8SNET_DNS_LABEL_VALUE, "v1.2_beta-3");
	ok(K8SNET_DNS_LABEL_VALUE, "A");
	bad(K8SNET_DNS_LABEL_VALUE, name64, "no more than 63");
	bad(K8SNET_DNS_LABEL_VALUE, "-v", "must start with an alphanumeric");
	bad(K8SNET_DNS_LABEL_VALUE, "v_", "must end with an alphanumeric");
	bad(K8SNET_DNS_LABEL_VALUE, "a/b", "must consist of");
	free(name64);
	free(prefix254);
}
END_TEST

START_TEST(test_port_name)
{
	ok(K8SNET_DNS_PORT_NAME, "http");
	ok(K8SNET_DNS_PORT_NAME, "h2c-1");
	ok(K8SNET_DNS_PORT_NAME, "a23456789012345");
	bad(K8SNET_DNS_PORT_NAME, "a234567890123456", "no more than 15");
	bad(K8SNET_DNS_PORT_NAME, "", "must not be empty");
	bad(K8SNET_DNS_PORT_NAME, "HTTP", "only lower case alphanumeric");
	bad(K8SNET_DNS_PORT_NAME, "8080", "at least one letter");
	bad(K8SNET_DNS_PORT_NAME, "a--b", "consecutive hyphens");
	bad(K8SNET_DNS_PORT_NAME, "-ab", "begin or end with a hyphen");
	bad(K8SNET_DNS_PORT_NAME, "ab-", "begin or end with a hyphen");
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "IANA_SVC_NAME"));
}
END_TEST

START_TEST(test_validate_arguments)
{
	ck_assert_int_eq(k8snet_dns_validate(ctx, 99, "a"), -EINVAL);
	ck_assert_int_eq(k8snet_dns_validate(ctx, K8SNET_DNS_LABEL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_dns_validate(NULL, K8SNET_DNS_LABEL, "a"), -EINVAL);
}
END_TEST

static void check_built(int r, char *s, const char *want)
{
	ck_assert_msg(r == 0, "%s", k8snet_ctx_get_error(ctx));
	ck_assert_str_eq(s, want);
	k8snet_free(s);
}

/* The call must finish before s is read. */
#define built(call, s, want)                                                   \
	do {                                                                   \
		int r_ = (call);                                               \
		check_built(r_, s, want);                                      \
		s = NULL;                                                      \
	} while (0)

START_TEST(test_builders)
{
	char *s = NULL;

	built(k8snet_dns_service_fqdn(ctx, "api", "default", NULL, &s), s,
	      "api.default.svc.cluster.local");
	built(k8snet_dns_service_fqdn(ctx, "api", "prod", "Corp.Example.", &s), s,
	      "api.prod.svc.corp.example");
	built(k8snet_dns_srv_name(ctx, "https", "TCP", "api", "default", NULL, &s), s,
	      "_https._tcp.api.default.svc.cluster.local");
	built(k8snet_dns_srv_name(ctx, "dns", "udp", "kube-dns", "kube-system", "k8s.local", &s),
	      s, "_dns._udp.kube-dns.kube-system.svc.k8s.local");
	built(k8snet_dns_endpoint_name(ctx, "db-0", "db", "default", NULL, &s), s,
	      "db-0.db.default.svc.cluster.local");
	built(k8snet_dns_pod_fqdn(ctx, "web-1", "web", "shop", NULL, &s), s,
	      "web-1.web.shop.svc.cluster.local");
	built(k8snet_dns_pod_ip_name(ctx, "10.1.2.3", "default", NULL, &s), s,
	      "10-1-2-3.default.pod.cluster.local");
	built(k8snet_dns_pod_ip_name(ctx, "2001:DB8::1", "default", NULL, &s), s,
	      "2001-db8--1.default.pod.cluster.local");
	built(k8snet_dns_pod_ip_name(ctx, "::1", "default", NULL, &s), s,
	      "0--1.default.pod.cluster.local");
	built(k8snet_dns_pod_ip_name(ctx, "fd00::", "default", NULL, &s), s,
	      "fd00--0.default.pod.cluster.local");
	built(k8snet_dns_ptr_name(ctx, "10.1.2.3", &s), s, "3.2.1.10.in-addr.arpa");
	built(k8snet_dns_ptr_name(ctx, "2001:db8::567:89ab", &s), s,
	      "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}
END_TEST

static void refused(int r, const char *why)
{
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(k8snet_ctx_get_error(ctx), why), "got '%s', want '%s'",
		      k8snet_ctx_get_error(ctx), why);
}

START_TEST(test_builders_refuse_bad_parts)
{
	char *s = NULL, *long_ns = repeat('n', 63), *long_svc = repeat('s', 63);
	char *long_zone;

	refused(k8snet_dns_service_fqdn(ctx, "1api", "default", NULL, &s), "service: '1api'");
	refused(k8snet_dns_service_fqdn(ctx, "api", "Default", NULL, &s), "namespace: 'Default'");
	refused(k8snet_dns_service_fqdn(ctx, "api", "default", "bad..zone", &s), "zone:");
	refused(k8snet_dns_srv_name(ctx, "http", "icmp", "api", "default", NULL, &s),
		"must be TCP, UDP or SCTP");
	refused(k8snet_dns_srv_name(ctx, "Http", "tcp", "api", "default", NULL, &s), "port:");
	refused(k8snet_dns_endpoint_name(ctx, "db_0", "db", "default", NULL, &s), "hostname:");
	refused(k8snet_dns_pod_ip_name(ctx, "10.1.2", "default", NULL, &s), "not an IPv4 or IPv6");
	refused(k8snet_dns_pod_ip_name(ctx, "010.1.2.3", "default", NULL, &s), "not an IPv4");
	refused(k8snet_dns_ptr_name(ctx, "bogus", &s), "not an IPv4 or IPv6");
	/* Labels fine alone, too long together. */
	ck_assert_int_gt(asprintf(&long_zone, "%s.%s", long_ns, long_svc), 0);
	refused(k8snet_dns_service_fqdn(ctx, long_svc, long_ns, long_zone, &s),
		"longer than 253");
	ck_assert_ptr_null(s);
	refused(k8snet_dns_service_fqdn(ctx, "api", "default", NULL, NULL), "invalid argument");
	free(long_ns);
	free(long_svc);
	free(long_zone);
}
END_TEST

static struct k8snet_dns_query *parsed(const char *name, const char *zone, uint32_t kind)
{
	struct k8snet_dns_query *q = NULL;
	int r = k8snet_dns_query_parse(ctx, name, zone, &q);

	ck_assert_msg(r == 0, "%s: %s", name, k8snet_ctx_get_error(ctx));
	ck_assert_uint_eq(k8snet_dns_query_get_kind(q), kind);
	return q;
}

static void part(const struct k8snet_dns_query *q, uint32_t p, const char *want)
{
	const char *got = k8snet_dns_query_get_str(q, p);

	if (!want)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got ? got : "(null)", want);
}

START_TEST(test_query_parse)
{
	struct k8snet_dns_query *q;

	q = parsed("API.Default.svc.cluster.local.", NULL, K8SNET_DNS_QUERY_KIND_SERVICE);
	part(q, K8SNET_DNS_QUERY_ZONE, "cluster.local");
	part(q, K8SNET_DNS_QUERY_NAMESPACE, "default");
	part(q, K8SNET_DNS_QUERY_SERVICE, "api");
	part(q, K8SNET_DNS_QUERY_ENDPOINT, NULL);
	part(q, K8SNET_DNS_QUERY_PORT, NULL);
	part(q, 99, NULL);
	k8snet_dns_query_free(q);

	q = parsed("_https._tcp.api.default.svc.corp.local", "corp.local.",
		   K8SNET_DNS_QUERY_KIND_SERVICE);
	part(q, K8SNET_DNS_QUERY_PORT, "https");
	part(q, K8SNET_DNS_QUERY_PROTOCOL, "tcp");
	part(q, K8SNET_DNS_QUERY_SERVICE, "api");
	part(q, K8SNET_DNS_QUERY_ZONE, "corp.local");
	k8snet_dns_query_free(q);

	q = parsed("db-0.db.default.svc.cluster.local", NULL, K8SNET_DNS_QUERY_KIND_SERVICE);
	part(q, K8SNET_DNS_QUERY_ENDPOINT, "db-0");
	part(q, K8SNET_DNS_QUERY_SERVICE, "db");
	k8snet_dns_query_free(q);

	q = parsed("10-1-2-3.kube-system.pod.cluster.local", NULL, K8SNET_DNS_QUERY_KIND_POD);
	part(q, K8SNET_DNS_QUERY_IP, "10.1.2.3");
	part(q, K8SNET_DNS_QUERY_ENDPOINT, "10-1-2-3");
	part(q, K8SNET_DNS_QUERY_NAMESPACE, "kube-system");
	part(q, K8SNET_DNS_QUERY_SERVICE, NULL);
	k8snet_dns_query_free(q);

	q = parsed("2001-db8--1.default.pod.cluster.local", NULL, K8SNET_DNS_QUERY_KIND_POD);
	part(q, K8SNET_DNS_QUERY_IP, "2001:db8::1");
	k8snet_dns_query_free(q);
	/* Three dashes but not IPv4: read as IPv6. */
	q = parsed("fd00-1--3.default.pod.cluster.local", NULL, K8SNET_DNS_QUERY_KIND_POD);
	part(q, K8SNET_DNS_QUERY_IP, "fd00:1::3");
	k8snet_dns_query_free(q);

	q = parsed("dns-version.cluster.local", NULL, K8SNET_DNS_QUERY_KIND_SCHEMA);
	part(q, K8SNET_DNS_QUERY_NAMESPACE, NULL);
	k8snet_dns_query_free(q);
	ck_assert_ptr_null(k8snet_dns_query_free(NULL));
	ck_assert_uint_eq(k8snet_dns_query_get_kind(NULL), 0);
}
END_TEST

static void not_cluster(const char *name, int err, const char *why)
{
	struct k8snet_dns_query *q = NULL;

	ck_assert_int_eq(k8snet_dns_query_parse(ctx, name, NULL, &q), err);
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(k8snet_ctx_get_error(ctx), why), "%s: got '%s', want '%s'", name,
		      k8snet_ctx_get_error(ctx), why);
}

START_TEST(test_query_reasons)
{
	char *long_label = repeat('a', 64), *name;

	not_cluster("", -EINVAL, "empty");
	not_cluster(".", -EINVAL, "empty or the root");
	not_cluster("a..cluster.local", -EINVAL, "empty label");
	ck_assert_int_gt(asprintf(&name, "%s.default.svc.cluster.local", long_label), 0);
	not_cluster(name, -EINVAL, "longer than 63");
	not_cluster("example.com", -ENOENT, "not under the zone 'cluster.local'");
	not_cluster("local", -ENOENT, "not under the zone");
	not_cluster("x.cluster.local", -ENOENT, "expected 'svc' or 'pod'");
	not_cluster("cluster.local", -ENOENT, "the zone itself");
	not_cluster("svc.cluster.local", -ENOENT, "no namespace before 'svc'");
	not_cluster("default.svc.cluster.local", -ENOENT, "names a namespace");
	not_cluster("api.Bad_ns.svc.cluster.local", -ENOENT, "namespace 'bad_ns'");
	not_cluster("1api.default.svc.cluster.local", -ENOENT, "service '1api'");
	not_cluster("_http.api.default.svc.cluster.local", -ENOENT, "needs both _<port>");
	not_cluster("_http._icmp.api.default.svc.cluster.local", -ENOENT, "not tcp, udp or sctp");
	not_cluster("http._tcp.api.default.svc.cluster.local", -ENOENT, "SRV names are");
	not_cluster("a.b.c.d.default.svc.cluster.local", -ENOENT, "too many labels");
	not_cluster("10-1-2.default.pod.cluster.local", -ENOENT, "not a dashed IPv4 or IPv6");
	not_cluster("x.10-1-2-3.default.pod.cluster.local", -ENOENT, "pod names are");
	not_cluster("api.default.foo.cluster.local", -ENOENT, "got 'foo'");
	ck_assert_int_eq(k8snet_dns_query_parse(ctx, "a.b", "bad..zone", &(struct k8snet_dns_query *){ NULL }),
			 -EINVAL);
	free(long_label);
	free(name);
}
END_TEST

static void expands(const char *name, const char *conf, int n, const char *want)
{
	char *got = NULL;
	int r = k8snet_dns_candidates(ctx, name, conf, &got);

	ck_assert_msg(r == n, "%s: %d candidates, want %d (%s)", name, r, n,
		      k8snet_ctx_get_error(ctx));
	ck_assert_str_eq(got, want);
	k8snet_free(got);
}

START_TEST(test_candidates)
{
	const char *pod = "search default.svc.cluster.local svc.cluster.local cluster.local\n"
			  "nameserver 10.96.0.10\noptions ndots:5\n";

	expands("api", pod, 4,
		"api.default.svc.cluster.local\napi.svc.cluster.local\napi.cluster.local\napi\n");
	/* Fewer than ndots dots: search first, as is last (DNS.md's example). */
	expands("api.default", pod, 4,
		"api.default.default.svc.cluster.local\napi.default.svc.cluster.local\n"
		"api.default.cluster.local\napi.default\n");
	/* ndots or more: as is first. */
	expands("a.b.c.d.e.f", pod, 4,
		"a.b.c.d.e.f\na.b.c.d.e.f.default.svc.cluster.local\n"
		"a.b.c.d.e.f.svc.cluster.local\na.b.c.d.e.f.cluster.local\n");
	/* A trailing dot: once, as is. */
	expands("api.default.svc.cluster.local.", pod, 1, "api.default.svc.cluster.local\n");
	/* No file: ndots 1, no search. */
	expands("api", NULL, 1, "api\n");
	expands("example.com", NULL, 1, "example.com\n");
	/* glibc: domain and search replace each other; options accumulate;
	 * ndots is capped at 15; the root in the search list tries the name as is. */
	expands("x", "search a.example\ndomain b.example\n", 2, "x.b.example\nx\n");
	expands("x.y", "options ndots:2\noptions timeout:1\nsearch s\n", 2, "x.y.s\nx.y\n");
	expands("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "options ndots:99\nsearch s\n", 2,
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p\na.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.s\n");
	expands("x", "search . s\n", 2, "x\nx.s\n");
	expands("x", "search s.\n", 2, "x.s\nx\n");
	expands("x", "search s\noptions no-tld-query\n", 1, "x.s\n");
	expands("x.y", "search s\noptions no-tld-query ndots:3\n", 2, "x.y.s\nx.y\n");
	expands("x", "; comment\n# search bad\nsearch s\n", 2, "x.s\nx\n");
	/* glibc ignores a keyword that does not start its line. */
	expands("x", "search s\n  search t\n", 2, "x.s\nx\n");
	ck_assert_int_eq(k8snet_dns_candidates(ctx, "a..b", NULL, &(char *){ NULL }), -EINVAL);
	ck_assert_int_eq(k8snet_dns_candidates(ctx, "", NULL, &(char *){ NULL }), -EINVAL);
	ck_assert_int_eq(k8snet_dns_candidates(ctx, NULL, NULL, &(char *){ NULL }), -EINVAL);
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("names");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dns1123_label);
	tcase_add_test(tc, test_dns1123_subdomain);
	tcase_add_test(tc, test_dns1035_label);
	tcase_add_test(tc, test_label_key_and_value);
	tcase_add_test(tc, test_port_name);
	tcase_add_test(tc, test_validate_arguments);
	tcase_add_test(tc, test_builders);
	tcase_add_test(tc, test_builders_refuse_bad_parts);
	tcase_add_test(tc, test_query_parse);
	tcase_add_test(tc, test_query_reasons);
	tcase_add_test(tc, test_candidates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
