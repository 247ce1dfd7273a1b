/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One rule set for addresses and CIDRs (lib/core/addr.h), seen through
 * every layer's public entry points: the same input gets the same verdict
 * from Service NAT, NetworkPolicy, pod plumbing, IPAM and DNS.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <k8snet/k8snet.h>

#include "core/addr.h"

enum kind { ADDRESS, NETWORK };

static const struct {
	const char *text;
	enum kind kind;
	bool ok;
} cases[] = {
	{ "10.244.0.5", ADDRESS, true },
	{ "fd00::5", ADDRESS, true },
	{ "::ffff:10.0.0.1", ADDRESS, true },
	{ "010.244.0.5", ADDRESS, false },         /* leading zero */
	{ "10.244.0.05", ADDRESS, false },
	{ " 10.244.0.5", ADDRESS, false },         /* whitespace */
	{ "10.244.0.5 ", ADDRESS, false },
	{ "10.244.0", ADDRESS, false },
	{ "10.244.0.256", ADDRESS, false },
	{ "fe80::1%eth0", ADDRESS, false },        /* zone */
	{ "10.244.0.5/32", ADDRESS, false },       /* a prefix is not an address */
	{ "", ADDRESS, false },
	{ "10.244.0.0/16", NETWORK, true },
	{ "10.244.0.5/16", NETWORK, true },        /* host bits: cleared */
	{ "fd00:10:244::/56", NETWORK, true },
	{ "fd00:10:244::7/56", NETWORK, true },
	{ "0.0.0.0/0", NETWORK, true },
	{ "::/0", NETWORK, true },
	{ "10.244.0.0/32", NETWORK, true },
	{ "10.244.0.0/ 16", NETWORK, false },
	{ "10.244.0.0 /16", NETWORK, false },
	{ "10.244.0.0/+16", NETWORK, false },
	{ "10.244.0.0/-1", NETWORK, false },
	{ "10.244.0.0/016", NETWORK, false },
	{ "10.244.0.0/00", NETWORK, false },
	{ "10.244.0.0/33", NETWORK, false },
	{ "fd00::/129", NETWORK, false },
	{ "10.244.0.0/16 ", NETWORK, false },
	{ "10.244.0.0/", NETWORK, false },
	{ "10.244.0.0", NETWORK, false },          /* a network has a length */
	{ "010.244.0.0/16", NETWORK, false },
	{ "10.244.0.0/1a", NETWORK, false },
	{ "/16", NETWORK, false },
};

/* Each layer's verdict: 1 accepted, 0 refused with -EINVAL (and, where the
 * layer has a context, a message), -1 anything else. */
static int verdict(int r, struct k8snet_ctx *ctx)
{
	if (r >= 0)
		return 1;
	if (r != -EINVAL)
		return -1;
	return ctx && !*k8snet_ctx_get_error(ctx) ? -1 : 0;
}

static int nat_network(struct k8snet_ctx *ctx, const char *s)
{
	struct k8snet_proxy *p = NULL;
	int r;

	ck_assert_int_eq(k8snet_proxy_new(ctx, &p), 0);
	r = verdict(k8snet_proxy_add_str(p, K8SNET_PROXY_CLUSTER_CIDR, s), ctx);
	k8snet_proxy_free(p);
	return r;
}

static int nat_source_range(const char *s)
{
	struct k8snet_service *svc = NULL;
	int r;

	ck_assert_int_eq(k8snet_service_new(&svc), 0);
	r = verdict(k8snet_service_add_ip(svc, K8SNET_SERVICE_IP_SOURCE_RANGE, s), NULL);
	k8snet_service_free(svc);
	return r;
}

static int nat_address(const char *s)
{
	struct k8snet_service *svc = NULL;
	int r;

	ck_assert_int_eq(k8snet_service_new(&svc), 0);
	r = verdict(k8snet_service_add_ip(svc, K8SNET_SERVICE_IP_CLUSTER, s), NULL);
	k8snet_service_free(svc);
	return r;
}

static int policy_network(struct k8snet_ctx *ctx, const char *s)
{
	struct k8snet_policy_db *db = NULL;
	char *json = NULL;
	int n, r;

	ck_assert_int_eq(k8snet_policy_db_new(ctx, &db), 0);
	n = asprintf(&json, "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\","
		     "\"namespace\":\"default\"},\"spec\":{\"podSelector\":{},\"ingress\":[{"
		     "\"from\":[{\"ipBlock\":{\"cidr\":\"%s\"}}]}]}}", s);
	ck_assert_int_gt(n, 0);
	r = k8snet_policy_db_load_json(db, json, (size_t)n);
	r = verdict(r, ctx);
	free(json);
	k8snet_policy_db_free(db);
	return r;
}

static int link_route(const char *s)
{
	struct k8snet_link_pod *pod = NULL;
	int r;

	ck_assert_int_eq(k8snet_link_pod_new(&pod), 0);
	r = verdict(k8snet_link_pod_add_route(pod, s, NULL), NULL);
	k8snet_link_pod_free(pod);
	return r;
}

static int link_gateway(const char *s)
{
	struct k8snet_link_pod *pod = NULL;
	const char *dst = strchr(s, ':') ? "::/0" : "0.0.0.0/0";
	int r;

	ck_assert_int_eq(k8snet_link_pod_new(&pod), 0);
	r = verdict(k8snet_link_pod_add_route(pod, dst, s), NULL);
	k8snet_link_pod_free(pod);
	return r;
}

static int ipam_network(struct k8snet_ctx *ctx, const char *s)
{
	struct k8snet_ipam_pool *pool = NULL;
	int r;

	ck_assert_int_eq(k8snet_ipam_pool_new(ctx, 0, &pool), 0);
	r = verdict(k8snet_ipam_pool_add_range(pool, s, NULL, NULL, NULL), ctx);
	k8snet_ipam_pool_free(pool);
	return r;
}

static int dns_address(struct k8snet_ctx *ctx, const char *s)
{
	char *name = NULL;
	int r = verdict(k8snet_dns_ptr_name(ctx, s, &name), ctx);

	free(name);
	return r;
}

/* The parser as callers see it (k8snet_cidr_parse, k8snet_addr_parse): the
 * CLI checks its arguments through these. */
static int public_network(struct k8snet_ctx *ctx, const char *s)
{
	char *text = NULL;
	int r = k8snet_cidr_parse(ctx, s, K8SNET_CIDR_F_NETWORK, &text);

	free(text);
	return r == AF_INET || r == AF_INET6 ? 1 : verdict(r, ctx);
}

static int public_address(struct k8snet_ctx *ctx, const char *s)
{
	char *text = NULL;
	int r = k8snet_addr_parse(ctx, s, &text);

	free(text);
	return r == AF_INET || r == AF_INET6 ? 1 : verdict(r, ctx);
}

START_TEST(test_same_verdict_everywhere)
{
	const char *text = cases[_i].text;
	struct k8snet_ctx *ctx = NULL;
	int want = cases[_i].ok ? 1 : 0;

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	if (cases[_i].kind == NETWORK) {
		ck_assert_msg(nat_network(ctx, text) == want, "nat cluster CIDR '%s'", text);
		ck_assert_msg(nat_source_range(text) == want, "nat source range '%s'", text);
		ck_assert_msg(policy_network(ctx, text) == want, "policy ipBlock '%s'", text);
		ck_assert_msg(link_route(text) == want, "link route '%s'", text);
		ck_assert_msg(public_network(ctx, text) == want, "k8snet_cidr_parse '%s'", text);
		/* A /0 or a /32 is no pool, whatever the parser says. */
		if (!strstr(text, "/0") && !strstr(text, "/32"))
			ck_assert_msg(ipam_network(ctx, text) == want, "ipam subnet '%s'", text);
	} else {
		ck_assert_msg(nat_address(text) == want, "nat cluster IP '%s'", text);
		ck_assert_msg(link_gateway(text) == want, "link gateway '%s'", text);
		ck_assert_msg(dns_address(ctx, text) == want, "dns PTR of '%s'", text);
		ck_assert_msg(public_address(ctx, text) == want, "k8snet_addr_parse '%s'", text);
	}
	k8snet_ctx_free(ctx);
}
END_TEST

/* The parser itself: host bits of a network cleared and reported, an
 * interface address's kept. */
START_TEST(test_host_bits)
{
	struct k8s_addr a;

	ck_assert_int_eq(k8s_prefix_parse("10.244.1.5/16", K8S_PREFIX_NETWORK, &a), 0);
	ck_assert(a.had_host_bits);
	ck_assert_int_eq(a.plen, 16);
	ck_assert_int_eq(a.a[2], 0);
	ck_assert_int_eq(a.a[3], 0);
	ck_assert_int_eq(k8s_prefix_parse("10.244.0.0/16", K8S_PREFIX_NETWORK, &a), 0);
	ck_assert(!a.had_host_bits);
	ck_assert_int_eq(k8s_prefix_parse("10.244.1.5/24", 0, &a), 0);
	ck_assert_int_eq(a.a[3], 5);
	ck_assert_int_eq(k8s_prefix_parse("10.244.1.5", K8S_PREFIX_OPTIONAL, &a), 0);
	ck_assert_int_eq(a.plen, 32);
	ck_assert_int_eq(k8s_prefix_parse("10.244.1.5", 0, &a), -EINVAL);
}
END_TEST

/* What the public parser hands back, and what it says when it refuses. */
START_TEST(test_public_parser)
{
	struct k8snet_ctx *ctx = NULL;
	char *text = NULL;

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "10.244.1.5/16", K8SNET_CIDR_F_NETWORK, &text), AF_INET);
	ck_assert_str_eq(text, "10.244.0.0/16");
	k8snet_free(text);
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "10.244.1.5/24", 0, &text), AF_INET);
	ck_assert_str_eq(text, "10.244.1.5/24");
	k8snet_free(text);
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "FD00:0::7/56", K8SNET_CIDR_F_NETWORK, &text), AF_INET6);
	ck_assert_str_eq(text, "fd00::/56");
	k8snet_free(text);
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "10.0.0.1", K8SNET_CIDR_F_ADDRESS, &text), AF_INET);
	ck_assert_str_eq(text, "10.0.0.1/32");
	k8snet_free(text);
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "10.0.0.1", 0, &text), -EINVAL);
	ck_assert_ptr_null(text);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "'10.0.0.1': not a CIDR"));
	ck_assert_int_eq(k8snet_cidr_parse(ctx, "10.0.0.0/8", 0x80, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_addr_parse(ctx, "::FFFF:10.0.0.1", &text), AF_INET6);
	ck_assert_str_eq(text, "::ffff:10.0.0.1");
	k8snet_free(text);
	ck_assert_int_eq(k8snet_addr_parse(ctx, "10.0.0.01", NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "'10.0.0.01': not an IPv4 or IPv6 address"));
	ck_assert_int_eq(k8snet_addr_parse(NULL, "10.0.0.1", NULL), -EINVAL);
	k8snet_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_same_verdict_everywhere, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_host_bits);
	tcase_add_test(tc, test_public_parser);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
