/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the JSON layer: paths in errors, typed getters, Lists. */
#include <check.h>
#include <string.h>

#include "json/json.h"

static struct k8snet_ctx *ctx;

static void setup(void) { ck_assert_int_eq(k8snet_ctx_new(&ctx), 0); }
static void teardown(void) { k8snet_ctx_free(ctx); }

static cJSON *parse(const char *text)
{
	cJSON *root = NULL;

	ck_assert_int_eq(k8s_json_parse(ctx, text, strlen(text), &root), 0);
	return root;
}

START_TEST(test_parse_error_names_line)
{
	const char *bad = "{\n  \"a\": 1,\n  \"b\": }\n";
	cJSON *root = NULL;

	ck_assert_int_eq(k8s_json_parse(ctx, bad, strlen(bad), &root), -EINVAL);
	ck_assert_ptr_null(root);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "line 3"));
}
END_TEST

struct port_sum {
	int64_t sum;
};

static int read_port(struct k8snet_ctx *c, const k8s_jref *item, void *userdata)
{
	struct port_sum *ps = userdata;
	int64_t port;
	int r = k8s_json_get_int(c, item, "port", K8S_REQUIRED, 1, 65535, &port);

	if (r < 0)
		return r;
	ps->sum += port;
	return 0;
}

static int read_service(struct k8snet_ctx *c, const k8s_jref *obj,
			const struct k8s_meta *meta, void *userdata)
{
	k8s_jref spec, ports;
	int r;

	if (!meta->kind || strcmp(meta->kind, "Service") != 0)
		return 0;
	r = k8s_json_get_object(c, obj, "spec", K8S_REQUIRED, &spec);
	if (r < 0)
		return r;
	r = k8s_json_get_array(c, &spec, "ports", K8S_OPTIONAL, &ports);
	if (r < 0)
		return r;
	return k8s_json_for_each_item(c, &ports, read_port, userdata);
}

START_TEST(test_list_walk_and_error_path)
{
	cJSON *root = parse(
		"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
		" \"spec\":{\"ports\":[{\"port\":80},{\"port\":443}]}},"
		"{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"skip\"}},"
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"b\"},"
		" \"spec\":{\"ports\":[{\"port\":53},{\"port\":70000}]}}]}");
	struct port_sum ps = { 0 };

	ck_assert_int_eq(k8s_json_for_each_object(ctx, root, read_service, &ps), -ERANGE);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "items[2].spec.ports[1].port");
	ck_assert_str_eq(k8snet_ctx_get_error(ctx),
			 "items[2].spec.ports[1].port: 70000 out of range: must be 1..65535");
	ck_assert_int_eq(ps.sum, 80 + 443 + 53);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_single_object_paths)
{
	cJSON *root = parse("{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"},"
			    "\"spec\":{\"ports\":[{\"port\":\"http\"}]}}");
	struct port_sum ps = { 0 };

	ck_assert_int_eq(k8s_json_for_each_object(ctx, root, read_service, &ps), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "spec.ports[0].port: must be an integer");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_required_and_types)
{
	cJSON *root = parse("{\"spec\":{\"flag\":1,\"name\":5,\"n\":1.5,\"list\":{}}}");
	k8s_jref top = k8s_jref_root(root), spec, x;
	const char *s = NULL;
	bool b;
	int64_t n;

	ck_assert_int_eq(k8s_json_get_object(ctx, &top, "spec", K8S_REQUIRED, &spec), 1);
	ck_assert_int_eq(k8s_json_get_str(ctx, &spec, "missing", K8S_OPTIONAL, &s), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(k8s_json_get_str(ctx, &spec, "missing", K8S_REQUIRED, &s), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "spec.missing: required field is missing");
	ck_assert_int_eq(k8s_json_get_bool(ctx, &spec, "flag", K8S_REQUIRED, &b), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "spec.flag: must be true or false");
	ck_assert_int_eq(k8s_json_get_str(ctx, &spec, "name", K8S_REQUIRED, &s), -EINVAL);
	ck_assert_int_eq(k8s_json_get_int(ctx, &spec, "n", K8S_REQUIRED, 0, 10, &n), -EINVAL);
	ck_assert_int_eq(k8s_json_get_array(ctx, &spec, "list", K8S_REQUIRED, &x), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "spec.list: must be an array");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_int_or_string)
{
	cJSON *root = parse("{\"a\":8080,\"b\":\"http\",\"c\":true}");
	k8s_jref top = k8s_jref_root(root);
	const char *s;
	int64_t n;

	ck_assert_int_eq(k8s_json_get_int_or_str(ctx, &top, "a", K8S_REQUIRED, &n, &s), 1);
	ck_assert_int_eq(n, 8080);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(k8s_json_get_int_or_str(ctx, &top, "b", K8S_REQUIRED, &n, &s), 1);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(s, "http");
	ck_assert_int_eq(k8s_json_get_int_or_str(ctx, &top, "c", K8S_REQUIRED, &n, &s), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "c: must be an integer or a string");
	cJSON_Delete(root);
}
END_TEST

struct pairs {
	int count;
	char joined[128];
};

static int collect_pair(struct k8snet_ctx *c, const k8s_jref *value, const char *key,
			const char *val, void *userdata)
{
	struct pairs *p = userdata;

	p->count++;
	strncat(p->joined, key, sizeof(p->joined) - strlen(p->joined) - 1);
	strncat(p->joined, "=", sizeof(p->joined) - strlen(p->joined) - 1);
	strncat(p->joined, val, sizeof(p->joined) - strlen(p->joined) - 1);
	strncat(p->joined, ";", sizeof(p->joined) - strlen(p->joined) - 1);
	return 0;
}

START_TEST(test_meta_and_labels)
{
	cJSON *root = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
			    "\"namespace\":\"ns\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}}}");
	k8s_jref top = k8s_jref_root(root), labels;
	struct k8s_meta meta;
	struct pairs p = { 0 };

	ck_assert_int_eq(k8s_json_read_meta(ctx, &top, &meta), 0);
	ck_assert_str_eq(meta.kind, "Pod");
	ck_assert_str_eq(meta.api_version, "v1");
	ck_assert_str_eq(meta.name, "p");
	ck_assert_str_eq(meta.namespace_, "ns");
	labels = k8s_jref_root(meta.labels);
	ck_assert_int_eq(k8s_json_for_each_string_pair(ctx, &labels, collect_pair, &p), 0);
	ck_assert_int_eq(p.count, 2);
	ck_assert_str_eq(p.joined, "app=web;tier=fe;");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_bad_label_value_path)
{
	cJSON *root = parse("{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{"
			    "\"labels\":{\"app\":3}}}]}");
	k8s_jref top = k8s_jref_root(root), items, item, md, labels;
	struct pairs p = { 0 };

	ck_assert_int_eq(k8s_json_get_array(ctx, &top, "items", K8S_REQUIRED, &items), 1);
	item = k8s_jref_item(&items, 0);
	md = k8s_jref_member(&item, "metadata");
	labels = k8s_jref_member(&md, "labels");
	ck_assert_int_eq(k8s_json_for_each_string_pair(ctx, &labels, collect_pair, &p), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "items[0].metadata.labels.app: must be a string");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_not_an_object)
{
	cJSON *root = parse("[1,2]");

	ck_assert_int_eq(k8s_json_for_each_object(ctx, root, read_service, NULL), -EINVAL);
	cJSON_Delete(root);
	root = parse("{\"kind\":\"ServiceList\",\"items\":[3]}");
	ck_assert_int_eq(k8s_json_for_each_object(ctx, root, read_service, NULL), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "items[0]: must be an object");
	cJSON_Delete(root);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_error_names_line);
	tcase_add_test(tc, test_list_walk_and_error_path);
	tcase_add_test(tc, test_single_object_paths);
	tcase_add_test(tc, test_required_and_types);
	tcase_add_test(tc, test_int_or_string);
	tcase_add_test(tc, test_meta_and_labels);
	tcase_add_test(tc, test_bad_label_value_path);
	tcase_add_test(tc, test_not_an_object);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
