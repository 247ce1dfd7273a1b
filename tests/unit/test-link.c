/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the link layer's pure parts: address parsing, host names,
 * MACs, the pod description and the planned result.  No kernel. */
#include <check.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "link/internal.h"

static struct k8snet_ctx *ctx;

static void setup(void) { ck_assert_int_eq(k8snet_ctx_new(&ctx), 0); }
static void teardown(void) { k8snet_ctx_free(ctx); }

START_TEST(test_ip_parse)
{
	struct link_ip ip, net;
	char *s;

	ck_assert_int_eq(link_ip_parse("10.244.1.5/24", true, &ip), 0);
	ck_assert_int_eq(ip.family, AF_INET);
	ck_assert_uint_eq(ip.prefix, 24);
	link_ip_network(&ip, &net);
	s = link_ip_format(&net, true);
	ck_assert_str_eq(s, "10.244.1.0/24");
	free(s);
	ck_assert_int_eq(link_ip_parse("fd00::1:5/64", true, &ip), 0);
	ck_assert_int_eq(ip.family, AF_INET6);
	ck_assert_int_eq(link_ip_parse("10.0.0.1", false, &ip), 0);
	ck_assert_uint_eq(ip.prefix, 32);
	/* Strict: no libnl shorthands, no missing or out-of-range prefixes. */
	ck_assert_int_eq(link_ip_parse("default", true, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0.1", true, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0.1/33", true, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0.1/", true, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0.1/-1", true, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0.1/24", false, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("10.0.0", false, &ip), -EINVAL);
	ck_assert_int_eq(link_ip_parse("", false, &ip), -EINVAL);
}
END_TEST

START_TEST(test_host_ifname)
{
	char *a = NULL, *b = NULL, *c = NULL;

	ck_assert_int_eq(k8snet_link_host_ifname("0123456789abcdef0123456789abcdef", "eth0", &a), 0);
	ck_assert_int_eq(k8snet_link_host_ifname("0123456789abcdef0123456789abcdef", "eth0", &b), 0);
	ck_assert_int_eq(k8snet_link_host_ifname("0123456789abcdef0123456789abcdef", "net1", &c), 0);
	ck_assert_str_eq(a, b);            /* deterministic */
	ck_assert_str_ne(a, c);            /* per interface */
	ck_assert_uint_eq(strlen(a), 15);  /* IFNAMSIZ - 1 */
	ck_assert(strncmp(a, "veth", 4) == 0);
	k8snet_free(b);
	/* The separator keeps ("ab", "c") and ("a", "bc") apart. */
	b = link_host_ifname("ab", "c");
	k8snet_free(c);
	c = link_host_ifname("a", "bc");
	ck_assert_str_ne(b, c);
	k8snet_free(a);
	k8snet_free(b);
	k8snet_free(c);
	ck_assert_int_eq(k8snet_link_host_ifname("", "eth0", &a), -EINVAL);
	ck_assert_int_eq(k8snet_link_host_ifname("x", "bad/name", &a), -EINVAL);
}
END_TEST

START_TEST(test_macs)
{
	struct link_ip ip;
	uint8_t m[6], m2[6];
	char *s;

	ck_assert_int_eq(link_ip_parse("192.168.50.2", false, &ip), 0);
	link_mac_from_ip(&ip, m);
	s = link_mac_format(m);
	ck_assert_str_eq(s, "0a:58:c0:a8:32:02");
	free(s);
	ck_assert_int_eq(link_mac_parse("0a:58:c0:a8:32:02", m2), 0);
	ck_assert_int_eq(memcmp(m, m2, 6), 0);
	ck_assert_int_eq(link_mac_parse("01:00:5e:00:00:01", m2), -EINVAL);  /* multicast */
	ck_assert_int_eq(link_mac_parse("00:00:00:00:00:00", m2), -EINVAL);
	ck_assert_int_eq(link_mac_parse("0a:58:c0:a8:32", m2), -EINVAL);
	ck_assert_int_eq(link_mac_parse("0a:58:c0:a8:32:02:", m2), -EINVAL);
	link_mac_from_key("c1", "eth0", 'h', m);
	link_mac_from_key("c1", "eth0", 'p', m2);
	ck_assert_int_ne(memcmp(m, m2, 6), 0);
	ck_assert_int_eq(m[0] & 3, 2);   /* local, unicast */
	ck_assert_int_eq(m2[0] & 3, 2);
}
END_TEST

START_TEST(test_pod_setters)
{
	struct k8snet_link_pod *pod;

	ck_assert_int_eq(k8snet_link_pod_new(&pod), 0);
	ck_assert_str_eq(k8snet_link_pod_get_str(pod, K8SNET_LINK_POD_IFNAME), "eth0");
	ck_assert_int_eq(k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, "net1"), 0);
	ck_assert_str_eq(k8snet_link_pod_get_str(pod, K8SNET_LINK_POD_IFNAME), "net1");
	ck_assert_int_eq(k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, "much-too-long-name"), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_MAC, "zz"), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_set_str(pod, 99, "x"), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_MTU, 1450), 0);
	ck_assert_uint_eq(k8snet_link_pod_get_u32(pod, K8SNET_LINK_POD_MTU), 1450);
	ck_assert_int_eq(k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_MTU, 20), -ERANGE);
	/* No context: the object says what was wrong, naming the field. */
	ck_assert_str_eq(k8snet_link_pod_get_error(pod), "mtu: 20 out of range: must be 68..65535 (or 0)");
	ck_assert_int_eq(k8snet_link_pod_set_u32(pod, K8SNET_LINK_POD_FLAGS, 0x100), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_link_pod_get_error(pod), "flags: unknown flags 0x100"));
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "10.244.1.5/24", "10.244.1.1"), 0);
	ck_assert_str_eq(k8snet_link_pod_get_error(pod), "");
	ck_assert_str_eq(k8snet_link_pod_get_error(NULL), "");
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "10.244.1.5/24", NULL), -EEXIST);
	ck_assert_ptr_nonnull(strstr(k8snet_link_pod_get_error(pod), "address: 10.244.1.5/24"));
	/* One gateway per family: the default route goes through it. */
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "10.244.2.5/24", "10.244.2.1"), -EEXIST);
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "fd00::5/64", "10.244.1.1"), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "10.244.1.6", NULL), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "10.96.0.0/12", NULL), 0);
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "10.96.0.0/12", "fd00::1"), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_set_netns_fd(pod, -1), -EINVAL);
	ck_assert_ptr_null(k8snet_link_pod_free(pod));
	ck_assert_ptr_null(k8snet_link_pod_free(NULL));
}
END_TEST

START_TEST(test_validate_names_field)
{
	struct k8snet_link_pod *pod;

	ck_assert_int_eq(k8snet_link_pod_new(&pod), 0);
	ck_assert_int_eq(link_pod_validate(ctx, pod), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "pod.container_id");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, "c1");
	ck_assert_int_eq(link_pod_validate(ctx, pod), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "pod.bridge");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_BRIDGE, "cni0");
	ck_assert_int_eq(link_pod_validate(ctx, pod), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "pod.netns");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_NETNS_PATH, "/run/netns/x");
	ck_assert_int_eq(link_pod_validate(ctx, pod), 0);
	/* Public entry points check their arguments. */
	ck_assert_int_eq(k8snet_link_pod_attach(ctx, NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_link_pod_detach(NULL, pod), -EINVAL);
	ck_assert_int_eq(k8snet_link_bridge_ensure(ctx, "bad/name", 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_link_peer_add(ctx, 7, "10.0.0.0/24", "1.1.1.1", NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_link_node_setup(ctx, 0x80), -EINVAL);
	ck_assert_int_eq(k8snet_link_set_route_localnet(NULL, "cni0", 1), -EINVAL);
	ck_assert_int_eq(k8snet_link_set_route_localnet(ctx, "bad/name", 1), -EINVAL);
	ck_assert_int_eq(k8snet_link_set_route_localnet(ctx, "cni0", 2), -EINVAL);
	ck_assert_int_eq(k8snet_link_set_route_localnet(ctx, NULL, 1), -EINVAL);
	k8snet_link_pod_free(pod);
}
END_TEST

START_TEST(test_result_plan_and_json)
{
	struct k8snet_link_pod *pod;
	struct k8snet_link_result *res;
	char *json = NULL;
	cJSON *root;

	ck_assert_int_eq(k8snet_link_pod_new(&pod), 0);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, "c1");
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_NETNS_PATH, "/run/netns/p1");
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "10.244.1.5/24", "10.244.1.1"), 0);
	ck_assert_int_eq(k8snet_link_pod_add_address(pod, "fd00::5/64", "fd00::1"), 0);
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "10.96.0.0/12", NULL), 0);
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "192.168.0.0/16", "10.244.1.254"), 0);
	/* An IPAM's explicit default route next to the gateway: planned once;
	 * host bits of a destination are cleared. */
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "0.0.0.0/0", NULL), 0);
	ck_assert_int_eq(k8snet_link_pod_add_route(pod, "192.168.7.7/16", NULL), 0);
	ck_assert_int_eq(link_result_plan(pod, "cni0", &res), 0);
	ck_assert_int_eq(link_result_set_iface(res, 2, "02:00:00:00:00:01", 1500), 0);

	ck_assert_int_eq(k8snet_link_result_get_count(res, K8SNET_LINK_RESULT_INTERFACES), 3);
	ck_assert_int_eq(k8snet_link_result_get_count(res, K8SNET_LINK_RESULT_ADDRESSES), 2);
	ck_assert_int_eq(k8snet_link_result_get_count(res, K8SNET_LINK_RESULT_ROUTES), 4);
	ck_assert_int_eq(k8snet_link_result_get_count(res, 9), -EINVAL);
	ck_assert_str_eq(k8snet_link_result_get_str(res, 0, K8SNET_LINK_IFACE_NAME), "cni0");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 2, K8SNET_LINK_IFACE_NAME), "eth0");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 2, K8SNET_LINK_IFACE_SANDBOX), "/run/netns/p1");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 2, K8SNET_LINK_IFACE_MAC), "02:00:00:00:00:01");
	ck_assert_int_eq(k8snet_link_result_get_int(res, 2, K8SNET_LINK_IFACE_MTU), 1500);
	ck_assert_str_eq(k8snet_link_result_get_str(res, 1, K8SNET_LINK_ADDR_ADDRESS), "fd00::5/64");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 1, K8SNET_LINK_ADDR_GATEWAY), "fd00::1");
	ck_assert_int_eq(k8snet_link_result_get_int(res, 0, K8SNET_LINK_ADDR_INTERFACE), 2);
	ck_assert_str_eq(k8snet_link_result_get_str(res, 0, K8SNET_LINK_ROUTE_DST), "0.0.0.0/0");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 1, K8SNET_LINK_ROUTE_DST), "::/0");
	/* An extra route without a gateway goes through its family's gateway. */
	ck_assert_str_eq(k8snet_link_result_get_str(res, 2, K8SNET_LINK_ROUTE_GATEWAY), "10.244.1.1");
	ck_assert_str_eq(k8snet_link_result_get_str(res, 3, K8SNET_LINK_ROUTE_GATEWAY), "10.244.1.254");
	ck_assert_ptr_null(k8snet_link_result_get_str(res, 4, K8SNET_LINK_ROUTE_DST));
	ck_assert_int_eq(k8snet_link_result_get_int(res, 9, K8SNET_LINK_ADDR_INTERFACE), -EINVAL);

	ck_assert_int_eq(k8snet_link_result_to_json(res, "1.1.0", &json), 0);
	root = cJSON_Parse(json);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(cJSON_GetObjectItem(root, "cniVersion")->valuestring, "1.1.0");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "interfaces")), 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "interfaces"), 2),
					     "mtu")->valueint, 1500);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "ips"), 0),
					     "interface")->valueint, 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "routes"), 0),
					     "gw")->valuestring, "10.244.1.1");
	cJSON_Delete(root);
	k8snet_free(json);
	/* CNI 1.0.0 has no interface mtu. */
	ck_assert_int_eq(k8snet_link_result_to_json(res, NULL, &json), 0);
	ck_assert_ptr_null(strstr(json, "mtu"));
	ck_assert_ptr_nonnull(strstr(json, "\"1.0.0\""));
	k8snet_free(json);
	ck_assert_int_eq(k8snet_link_result_to_json(res, "", &json), -EINVAL);
	ck_assert_ptr_null(k8snet_link_result_free(res));
	k8snet_link_pod_free(pod);
}
END_TEST

static Suite *link_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc = tcase_create("link");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ip_parse);
	tcase_add_test(tc, test_host_ifname);
	tcase_add_test(tc, test_macs);
	tcase_add_test(tc, test_pod_setters);
	tcase_add_test(tc, test_validate_names_field);
	tcase_add_test(tc, test_result_plan_and_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(link_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
