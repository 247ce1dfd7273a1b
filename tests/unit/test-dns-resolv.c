/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for a pod's resolv.conf: the kubelet's parser, the policies,
 * dnsConfig merging, the limits and their order, the warnings. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "dns/resolv.h"

static struct k8snet_ctx *ctx;
static struct k8snet_dns_resolv *res;

static void setup(void)
{
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_dns_resolv_new(ctx, &res), 0);
}

static void teardown(void)
{
	k8snet_dns_resolv_free(res);
	k8snet_ctx_free(ctx);
}

static void set(uint32_t attr, const char *value)
{
	int r = k8snet_dns_resolv_set_str(res, attr, value);

	ck_assert_msg(r == 0, "set %u=%s: %s", attr, value, k8snet_ctx_get_error(ctx));
}

/* Render and compare; returns the number of warnings. */
static int renders(const char *want)
{
	char *text = NULL;
	int n = k8snet_dns_resolv_render(res, &text);

	ck_assert_msg(n >= 0, "render: %s", k8snet_ctx_get_error(ctx));
	ck_assert_str_eq(text, want);
	k8snet_free(text);
	return n;
}

static void warning(uint32_t i, const char *want)
{
	const char *w = k8snet_dns_resolv_get_warning(res, i);

	ck_assert_ptr_nonnull(w);
	ck_assert_msg(strstr(w, want), "warning %u: '%s' lacks '%s'", i, w, want);
}

static const char *node_conf =
	"# the node's resolver\n"
	"  nameserver 192.0.2.53  # extra fields are ignored\n"
	"nameserver 192.0.2.54\n"
	"search old.example\n"
	"search corp.example. cluster.local\n"
	"options timeout:1\n"
	"options rotate ndots:2\n"
	"domain ignored.example\n";

START_TEST(test_parse_node_conf)
{
	struct k8s_resolv_conf rc;

	ck_assert_int_eq(k8s_resolv_conf_parse(ctx, "resolv.conf", node_conf, strlen(node_conf), false, &rc), 0);
	ck_assert_uint_eq(rc.nameservers.n, 2);
	ck_assert_str_eq(rc.nameservers.v[0], "192.0.2.53");
	ck_assert_str_eq(rc.nameservers.v[1], "192.0.2.54");
	/* The last search line wins, trailing dots stripped. */
	ck_assert_uint_eq(rc.searches.n, 2);
	ck_assert_str_eq(rc.searches.v[0], "corp.example");
	ck_assert_str_eq(rc.searches.v[1], "cluster.local");
	/* The last options line wins. */
	ck_assert_uint_eq(rc.options.n, 2);
	ck_assert_str_eq(rc.options.v[0], "rotate");
	ck_assert_str_eq(rc.options.v[1], "ndots:2");
	k8s_resolv_conf_clear(&rc);
}
END_TEST

START_TEST(test_parse_errors_name_lines)
{
	const char *bad = "nameserver 192.0.2.1\nnameserver\n#nameserver\n\tnameserver   \n";
	char *big;

	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_HOST_CONF, bad), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx),
			 "resolv.conf: line 2: nameserver without an address; "
			 "line 4: nameserver without an address");
	big = calloc(1, (10u << 20) + 2);
	memset(big, '#', (10u << 20) + 1);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_HOST_CONF, big), -EFBIG);
	free(big);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_HOST_CONF_FILE,
						   "/nonexistent/resolv.conf"), -ENOENT);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "/nonexistent/resolv.conf"));
}
END_TEST

START_TEST(test_host_conf_file)
{
	char path[] = "/tmp/test-dns-resolv-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "nameserver\n", 11), 11);
	close(fd);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_HOST_CONF_FILE, path),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "line 1: nameserver without"));
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), path));
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "nameserver 192.0.2.9\nsearch a.example\n", 38), 38);
	close(fd);
	set(K8SNET_DNS_RESOLV_HOST_CONF_FILE, path);
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	ck_assert_int_eq(renders("search a.example\nnameserver 192.0.2.9\n"), 0);
	unlink(path);
}
END_TEST

START_TEST(test_cluster_first)
{
	set(K8SNET_DNS_RESOLV_NAMESPACE, "web");
	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10,fd00::a");
	set(K8SNET_DNS_RESOLV_HOST_CONF, node_conf);
	/* The node's cluster.local is a duplicate: the first one stays. */
	ck_assert_int_eq(renders("search web.svc.cluster.local svc.cluster.local cluster.local "
				 "corp.example\n"
				 "nameserver 10.96.0.10\nnameserver fd00::a\n"
				 "options ndots:5\n"), 0);
	/* The default policy (an empty one) is ClusterFirst too. */
	set(K8SNET_DNS_RESOLV_POLICY, "");
	set(K8SNET_DNS_RESOLV_CLUSTER_DOMAIN, "Corp.Local.");
	ck_assert_int_eq(renders("search web.svc.corp.local svc.corp.local corp.local corp.example "
				 "cluster.local\n"
				 "nameserver 10.96.0.10\nnameserver fd00::a\n"
				 "options ndots:5\n"), 0);
	/* No cluster domain: the node's search list alone. */
	set(K8SNET_DNS_RESOLV_CLUSTER_DOMAIN, "");
	ck_assert_int_eq(renders("search corp.example cluster.local\n"
				 "nameserver 10.96.0.10\nnameserver fd00::a\n"
				 "options ndots:5\n"), 0);
}
END_TEST

START_TEST(test_policy_x_host_network)
{
	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\nsearch n.example\noptions edns0\n");
	/* ClusterFirst with hostNetwork: the node's file. */
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, K8SNET_DNS_RESOLV_HOST_NETWORK, 1), 0);
	renders("search n.example\nnameserver 192.0.2.1\noptions edns0\n");
	/* ClusterFirstWithHostNet: cluster DNS even with hostNetwork. */
	set(K8SNET_DNS_RESOLV_POLICY, "ClusterFirstWithHostNet");
	renders("search default.svc.cluster.local svc.cluster.local cluster.local n.example\n"
		"nameserver 10.96.0.10\noptions ndots:5\n");
	/* Default: the node's file, with or without hostNetwork. */
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	renders("search n.example\nnameserver 192.0.2.1\noptions edns0\n");
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, K8SNET_DNS_RESOLV_HOST_NETWORK, 0), 0);
	renders("search n.example\nnameserver 192.0.2.1\noptions edns0\n");
	/* An unknown policy is refused where it is set. */
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_POLICY, "clusterfirst"),
			 -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "dnsPolicy");
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, K8SNET_DNS_RESOLV_HOST_NETWORK, 2), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, 42, 1), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, 42, "x"), -EINVAL);
}
END_TEST

START_TEST(test_no_node_conf)
{
	/* The kubelet's --resolv-conf="": localhost and the root as search. */
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	renders("search .\nnameserver 127.0.0.1\n");
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\n");
	set(K8SNET_DNS_RESOLV_HOST_CONF_FILE, "");
	renders("search .\nnameserver 127.0.0.1\n");
	set(K8SNET_DNS_RESOLV_NODE_IPS, "192.0.2.7,2001:db8::7");
	renders("search .\nnameserver 127.0.0.1\nnameserver ::1\n");
	set(K8SNET_DNS_RESOLV_NODE_IPS, "2001:db8::7");
	renders("search .\nnameserver ::1\n");
}
END_TEST

START_TEST(test_missing_cluster_dns_falls_back)
{
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\n");
	ck_assert_int_eq(renders("nameserver 192.0.2.1\n"), 1);
	warning(0, "no cluster DNS address");
	warning(0, "\"ClusterFirst\"");
	ck_assert_ptr_null(k8snet_dns_resolv_get_warning(res, 1));
	/* The warnings are the last render's. */
	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	ck_assert_int_eq(renders("search default.svc.cluster.local svc.cluster.local cluster.local\n"
				 "nameserver 10.96.0.10\noptions ndots:5\n"), 0);
	ck_assert_ptr_null(k8snet_dns_resolv_get_warning(res, 0));
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.x"),
			 -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "clusterDNS: '10.96.0.x' is not an IP address");
}
END_TEST

START_TEST(test_none_policy)
{
	char *text = NULL;

	set(K8SNET_DNS_RESOLV_POLICY, "None");
	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\nsearch n.example\n");
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), -EINVAL);
	ck_assert_ptr_null(text);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "dnsConfig.nameservers");
	set(K8SNET_DNS_RESOLV_DNS_CONFIG, "{\"searches\":[\"a.example\"]}");
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), -EINVAL);
	set(K8SNET_DNS_RESOLV_DNS_CONFIG,
	    "{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"a.example\"],"
	    "\"options\":[{\"name\":\"ndots\",\"value\":\"2\"}]}");
	renders("search a.example\nnameserver 1.1.1.1\noptions ndots:2\n");
}
END_TEST

START_TEST(test_dns_config_merging)
{
	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	set(K8SNET_DNS_RESOLV_DNS_CONFIG,
	    "{\"nameservers\":[\"10.96.0.10\",\"192.0.2.1\",\"192.0.2.1\"],"
	    "\"searches\":[\"svc.cluster.local\",\"x.example\",\"x.example\"],"
	    "\"options\":[{\"name\":\"edns0\"},{\"name\":\"ndots\",\"value\":\"2\"},"
	    "{\"name\":\"timeout\",\"value\":\"1\"},{\"name\":\"timeout\",\"value\":\"3\"},"
	    "{\"name\":\"trust-ad\",\"value\":\"\"}]}");
	/* Duplicates removed (first wins); ndots replaced in place; new options
	 * appended in order; the last value of a repeated name wins. */
	renders("search default.svc.cluster.local svc.cluster.local cluster.local x.example\n"
		"nameserver 10.96.0.10\nnameserver 192.0.2.1\n"
		"options ndots:2 edns0 timeout:3 trust-ad\n");
	/* With the node's options as the base, their order is kept. */
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	set(K8SNET_DNS_RESOLV_HOST_CONF,
	    "nameserver 192.0.2.1\nnameserver 192.0.2.1\noptions rotate timeout:2 attempts:3\n");
	renders("search svc.cluster.local x.example\n"
		"nameserver 192.0.2.1\nnameserver 10.96.0.10\n"
		"options rotate timeout:3 attempts:3 edns0 ndots:2 trust-ad\n");
	/* A name repeated in the base: once, at its first place, last value. */
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\noptions ndots:1 rotate ndots:3\n");
	set(K8SNET_DNS_RESOLV_DNS_CONFIG, "{\"options\":[{\"name\":\"edns0\"}]}");
	renders("nameserver 192.0.2.1\noptions ndots:3 rotate edns0\n");
	set(K8SNET_DNS_RESOLV_HOST_CONF,
	    "nameserver 192.0.2.1\nnameserver 192.0.2.1\noptions rotate timeout:2 attempts:3\n");
	/* Without dnsConfig the kubelet keeps the node's duplicates. */
	set(K8SNET_DNS_RESOLV_DNS_CONFIG, NULL);
	renders("nameserver 192.0.2.1\nnameserver 192.0.2.1\n"
		"options rotate timeout:2 attempts:3\n");
}
END_TEST

static void dns_config_refused(const char *json, int err, const char *msg)
{
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_DNS_CONFIG, json), err);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), msg);
}

START_TEST(test_dns_config_errors_name_fields)
{
	dns_config_refused("{\"nameservers\":[\"1.1.1.1\",\"one\"]}", -EINVAL,
			   "dnsConfig.nameservers[1]: 'one' must be a valid IP address");
	dns_config_refused("{\"nameservers\":\"1.1.1.1\"}", -EINVAL,
			   "dnsConfig.nameservers: must be an array");
	dns_config_refused("{\"searches\":[\"ok.example\",\"Bad..\"]}", -EINVAL,
			   "dnsConfig.searches[1]: 'Bad..' must be a DNS subdomain "
			   "(lower case alphanumerics, '-', '_', '.')");
	dns_config_refused("{\"options\":[{\"value\":\"2\"}]}", -EINVAL,
			   "dnsConfig.options[0].name: required field is missing");
	dns_config_refused("{\"options\":[{\"name\":\"\"}]}", -EINVAL,
			   "dnsConfig.options[0].name: must not be empty");
	dns_config_refused("{\"options\":[{\"name\":\"ndots\",\"value\":2}]}", -EINVAL,
			   "dnsConfig.options[0].value: must be a string");
	dns_config_refused("[]", -EINVAL, "dnsConfig: must be an object");
	dns_config_refused("{\"nameservers\":[", -EINVAL,
			   "dnsConfig: invalid JSON at line 1, column 16");
	/* "." and "_srv" searches are fine (relaxed search validation). */
	set(K8SNET_DNS_RESOLV_DNS_CONFIG, "{\"searches\":[\".\",\"_x.example.\"]}");
}
END_TEST

static char *search_of(size_t count, size_t len)
{
	struct k8s_buf b = { 0 };
	size_t i, j;

	k8s_buf_puts(&b, "nameserver 192.0.2.1\nsearch");
	for (i = 0; i < count; i++) {
		k8s_buf_printf(&b, " d%02zu", i);
		for (j = 3; j < len; j++)
			k8s_buf_putc(&b, j % 10 == 9 ? '.' : 'x');
	}
	k8s_buf_putc(&b, '\n');
	return b.data;
}

START_TEST(test_nameserver_limit)
{
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	set(K8SNET_DNS_RESOLV_HOST_CONF, "nameserver 192.0.2.1\nnameserver 192.0.2.2\n"
	    "nameserver 192.0.2.3\nnameserver 192.0.2.4\n");
	ck_assert_int_eq(renders("nameserver 192.0.2.1\nnameserver 192.0.2.2\n"
				 "nameserver 192.0.2.3\n"), 1);
	warning(0, "the applied nameserver line is: 192.0.2.1 192.0.2.2 192.0.2.3");
}
END_TEST

START_TEST(test_search_count_limit_first)
{
	char *conf = search_of(40, 5), *text = NULL;

	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	set(K8SNET_DNS_RESOLV_HOST_CONF, conf);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), 1);
	ck_assert_ptr_nonnull(strstr(text, " d31xx"));
	ck_assert_ptr_null(strstr(text, " d32xx"));
	warning(0, "more than 32 search paths");
	k8snet_free(text);
	/* Legacy: 6. */
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, K8SNET_DNS_RESOLV_LEGACY_LIMITS, 1), 0);
	ck_assert_int_eq(renders("search d00xx d01xx d02xx d03xx d04xx d05xx\n"
				 "nameserver 192.0.2.1\n"), 1);
	warning(0, "more than 6 search paths");
	free(conf);
}
END_TEST

START_TEST(test_trim_order)
{
	struct k8s_buf conf = { 0 };
	char *long_one = search_of(1, 254), *text = NULL;
	size_t i;

	/* Entry 3 is over 253 characters, entry 33 too: the count limit comes
	 * first, so only entry 3 is dropped for its length. */
	k8s_buf_puts(&conf, "nameserver 192.0.2.1\nsearch");
	for (i = 0; i < 34; i++) {
		if (i == 3 || i == 33)
			k8s_buf_printf(&conf, " %.254s", strstr(long_one, "d00"));
		else
			k8s_buf_printf(&conf, " s%zu", i);
	}
	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	set(K8SNET_DNS_RESOLV_HOST_CONF, conf.data);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), 2);
	warning(0, "more than 32 search paths");
	warning(1, "a search path over 253 characters");
	/* 31 entries left: s0..s2, s4..s31. */
	ck_assert_ptr_nonnull(strstr(text, "search s0 s1 s2 s4 "));
	ck_assert_ptr_nonnull(strstr(text, " s31\n"));
	ck_assert_ptr_null(strstr(text, "d00"));
	k8snet_free(text);
	k8s_buf_free(&conf);
	free(long_one);
}
END_TEST

START_TEST(test_search_line_length_limit)
{
	/* 20 entries of 121 characters: 2439 > 2048, so drop from the end
	 * until it fits: 17 entries = 2073 > 2048, 16 = 1951. */
	char *conf = search_of(20, 121), *text = NULL;

	set(K8SNET_DNS_RESOLV_POLICY, "Default");
	set(K8SNET_DNS_RESOLV_HOST_CONF, conf);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), 1);
	warning(0, "a search line over 2048 characters");
	ck_assert_ptr_nonnull(strstr(text, " d15x"));
	ck_assert_ptr_null(strstr(text, " d16x"));
	k8snet_free(text);
	/* Legacy: 6 entries, then 256 characters: 2 entries (243). */
	ck_assert_int_eq(k8snet_dns_resolv_set_u32(res, K8SNET_DNS_RESOLV_LEGACY_LIMITS, 1), 0);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), 2);
	warning(0, "more than 6 search paths");
	warning(1, "a search line over 256 characters");
	ck_assert_ptr_nonnull(strstr(text, " d01x"));
	ck_assert_ptr_null(strstr(text, " d02x"));
	k8snet_free(text);
	free(conf);
}
END_TEST

START_TEST(test_cluster_search_then_limits)
{
	/* The cluster's three entries come first, so the node's last ones go. */
	char *conf = search_of(31, 5), *text = NULL;

	set(K8SNET_DNS_RESOLV_CLUSTER_DNS, "10.96.0.10");
	set(K8SNET_DNS_RESOLV_HOST_CONF, conf);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, &text), 1);
	ck_assert_ptr_nonnull(strstr(text, "search default.svc.cluster.local svc.cluster.local "
					   "cluster.local d00xx"));
	ck_assert_ptr_nonnull(strstr(text, " d28xx\n"));
	ck_assert_ptr_null(strstr(text, "d29xx"));
	k8snet_free(text);
	free(conf);
}
END_TEST

START_TEST(test_resolv_arguments)
{
	char *text;

	ck_assert_int_eq(k8snet_dns_resolv_new(NULL, &res), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_new(ctx, NULL), -EINVAL);
	ck_assert_ptr_null(k8snet_dns_resolv_free(NULL));
	ck_assert_int_eq(k8snet_dns_resolv_render(NULL, &text), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_render(res, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(NULL, 0, "x"), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_NAMESPACE, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_dns_resolv_set_str(res, K8SNET_DNS_RESOLV_NAMESPACE, "A"), -EINVAL);
	ck_assert_ptr_null(k8snet_dns_resolv_get_warning(NULL, 0));
}
END_TEST

static Suite *resolv_suite(void)
{
	Suite *s = suite_create("dns-resolv");
	TCase *tc = tcase_create("resolv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_node_conf);
	tcase_add_test(tc, test_parse_errors_name_lines);
	tcase_add_test(tc, test_host_conf_file);
	tcase_add_test(tc, test_cluster_first);
	tcase_add_test(tc, test_policy_x_host_network);
	tcase_add_test(tc, test_no_node_conf);
	tcase_add_test(tc, test_missing_cluster_dns_falls_back);
	tcase_add_test(tc, test_none_policy);
	tcase_add_test(tc, test_dns_config_merging);
	tcase_add_test(tc, test_dns_config_errors_name_fields);
	tcase_add_test(tc, test_nameserver_limit);
	tcase_add_test(tc, test_search_count_limit_first);
	tcase_add_test(tc, test_trim_order);
	tcase_add_test(tc, test_search_line_length_limit);
	tcase_add_test(tc, test_cluster_search_then_limits);
	tcase_add_test(tc, test_resolv_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resolv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
