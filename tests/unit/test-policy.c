/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the policy layer: selectors, validation, defaulting, the
 * C API, the evaluator against the upstream e2e truth tables, rendering. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "../policy/cases.h"
#include "policy/internal.h"
#include "policy/plan.h"

static struct k8snet_ctx *ctx;
static struct k8snet_policy_db *db;

static void setup(void)
{
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_policy_db_new(ctx, &db), 0);
}

static void teardown(void)
{
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
}

static int load(const char *json)
{
	return k8snet_policy_db_load_json(db, json, strlen(json));
}

START_TEST(test_selector_text)
{
	static const struct { const char *sel, *labels; int want; } cases[] = {
		{ "", "a=b", 1 },
		{ "a=b", "a=b", 1 },
		{ "a==b", "a=b", 1 },
		{ "a=b", "a=c", 0 },
		{ "a!=b", "", 1 },
		{ "a!=b", "a=b", 0 },
		{ "a in (x, y), !f", "a=y", 1 },
		{ "a in (x,y),!f", "a=y,f=1", 0 },
		{ "a notin (x,y)", "", 1 },
		{ "a notin (x,y)", "a=x", 0 },
		{ "e", "e=", 1 },
		{ "  k8s.io/app = web , tier", "k8s.io/app=web,tier=x", 1 },
		{ "a=", "a=", 1 },
	};
	static const char *const bad[] = {
		"a=b,", ",", "a in x", "a in (x", "a in ()", "!", "a=b c", "a>1", "-a=b",
		"a=b=c", "a in (x,-y)", "in (x)y", "a/b/c=d",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_msg(k8snet_policy_selector_match(ctx, cases[i].sel, cases[i].labels) ==
			      cases[i].want, "%s vs %s", cases[i].sel, cases[i].labels);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(k8snet_policy_selector_match(ctx, bad[i], "") == -EINVAL, "%s", bad[i]);
		ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "offset"));
	}
	ck_assert_int_eq(k8snet_policy_selector_match(ctx, "a", "a"), -EINVAL);
	ck_assert_int_eq(k8snet_policy_selector_match(NULL, "a", "a"), -EINVAL);
	ck_assert_int_eq(k8snet_policy_selector_match(ctx, NULL, "a"), -EINVAL);
}
END_TEST

START_TEST(test_selector_canonical)
{
	struct pl_selector s;
	char *t;

	ck_assert_int_eq(pl_selector_parse(ctx, "b notin (z,y),a=1,!c", &s), 0);
	t = pl_selector_str(&s);
	ck_assert_str_eq(t, "!c,a=1,b notin (y,z)");
	free(t);
	pl_selector_clear(&s);
}
END_TEST

#define POL(spec) "{\"kind\":\"List\",\"items\":[{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}," \
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},\"spec\":" spec "}]}"

START_TEST(test_validation)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ POL("{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80},{\"port\":\"http\",\"endPort\":90}]}]}"),
		  "items[1].spec.ingress[0].ports[1].endPort: may not be specified when `port` is non-numeric" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80,\"endPort\":79}]}]}"),
		  "items[1].spec.ingress[0].ports[0].endPort: 79: must be greater than or equal to `port`" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"endPort\":79}]}]}"),
		  "items[1].spec.ingress[0].ports[0].endPort: may not be specified when `port` is not specified" },
		{ POL("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":70000}]}]}"),
		  "items[1].spec.egress[0].ports[0].port: 70000 out of range: must be 1..65535" },
		{ POL("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":0}]}]}"),
		  "items[1].spec.egress[0].ports[0].port: 0 out of range: must be 1..65535" },
		{ POL("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}]}"),
		  "items[1].spec.egress[0].ports[0].protocol: Unsupported value: \"ICMP\"" },
		{ POL("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":\"Bad_Name\"}]}]}"),
		  "items[1].spec.egress[0].ports[0].port: 'Bad_Name': must contain only lowercase" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"11.0.0.0/16\"]}}]}]}"),
		  "items[1].spec.ingress[0].from[0].ipBlock.except[0]: '11.0.0.0/16': must be a strict subset of `cidr`" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.0.0.0/8\"]}}]}]}"),
		  "items[1].spec.ingress[0].from[0].ipBlock.except[0]: '10.0.0.0/8': must be a strict subset" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}"),
		  "items[1].spec.ingress[0].from[0].ipBlock.cidr: '10.0.0.0/33': must be a valid CIDR" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}"),
		  "items[1].spec.ingress[0].from[0]: may not specify more than 1 peer type" },
		{ POL("{\"podSelector\":{},\"ingress\":[{\"from\":[{}]}]}"),
		  "items[1].spec.ingress[0].from[0]: must specify a peer" },
		{ POL("{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}}"),
		  "items[1].spec.podSelector.matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'" },
		{ POL("{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}}"),
		  "items[1].spec.podSelector.matchExpressions[0].values: may not be specified" },
		{ POL("{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}}"),
		  "items[1].spec.podSelector.matchExpressions[0].operator: Unsupported value: \"Gt\"" },
		{ POL("{\"podSelector\":{\"matchLabels\":{\"a\":\"-x\"}}}"),
		  "items[1].spec.podSelector.matchLabels.a: invalid label value '-x'" },
		{ POL("{\"podSelector\":{\"matchLabels\":{\"a b\":\"x\"}}}"),
		  "items[1].spec.podSelector.matchLabels.a b: invalid label key 'a b'" },
		{ POL("{\"podSelector\":{},\"policyTypes\":[\"Sideways\"]}"),
		  "items[1].spec.policyTypes[0]: Unsupported value: \"Sideways\"" },
		{ POL("{\"podSelector\":{},\"ingress\":{}}"), "items[1].spec.ingress: must be an array" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"status\":{\"podIP\":\"10.1\"}}",
		  "status.podIP: '10.1': must be a valid IP address" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"X\"}}",
		  "metadata.namespace: 'X': must be a lowercase DNS-1123 label" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":80,\"protocol\":\"tcp\"}]}]}}",
		  "spec.containers[0].ports[0].protocol: Unsupported value: \"tcp\"" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = load(cases[i].json);

		ck_assert_msg(r < 0, "case %zu accepted", i);
		ck_assert_msg(strncmp(k8snet_ctx_get_error(ctx), cases[i].msg, strlen(cases[i].msg)) == 0,
			      "case %zu: got '%s', want '%s'", i, k8snet_ctx_get_error(ctx), cases[i].msg);
	}
	/* Nothing half-applied: the namespace of the failed documents is absent. */
	ck_assert_ptr_null(pl_db_ns(db, "x"));
}
END_TEST

START_TEST(test_defaulting)
{
	size_t idx;

	ck_assert_int_eq(load(POL("{\"podSelector\":{},\"egress\":[{}]}")), 0);
	ck_assert(k8s_map_get_index(&db->pol_by_name, "x/p", &idx));
	ck_assert(db->pol[idx].ingress && db->pol[idx].egress);
	ck_assert_int_eq(load(POL("{\"podSelector\":{},\"egress\":[]}")), 0);
	ck_assert(db->pol[idx].ingress && !db->pol[idx].egress);
	ck_assert_int_eq(load(POL("{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}],\"policyTypes\":[\"Egress\"]}")), 0);
	ck_assert(!db->pol[idx].ingress && db->pol[idx].egress);
	ck_assert_int_eq(db->pol[idx].in[0].ports[0].proto, PL_TCP);
	ck_assert_str_eq(pl_labels_get(&pl_db_ns(db, "x")->labels, "kubernetes.io/metadata.name"), "x");
}
END_TEST

START_TEST(test_c_api_and_reasons)
{
	char *why = NULL;

	ck_assert_int_eq(k8snet_policy_db_set_namespace(db, "x", "team=a"), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "web", "app=web", "10.0.0.2,fd00::2", "n1", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "cli", "app=cli", "10.0.0.3", "n1", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "host", "", "192.168.0.1", "n1",
						  K8SNET_POLICY_POD_HOST_NETWORK), 0);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "x", "web", "http", "TCP", 8080), 0);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "x", "web", "http", "ICMP", 8080), -EINVAL);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "x", "nope", NULL, "TCP", 1), -ENOENT);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "x", "web", NULL, "TCP", 0), -ERANGE);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "bad", "a", "", NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "bad", "", "1.2.3", NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "bad", "", "", NULL, 8), -EINVAL);
	ck_assert_int_eq(load("{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"web-in\",\"namespace\":\"x\"},"
			      "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{"
			      "\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}],"
			      "\"ports\":[{\"port\":\"http\"}]}]}}"), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "TCP", 8080, &why), K8SNET_POLICY_ALLOW);
	ck_assert_ptr_nonnull(strstr(why, "ingress: x/web is isolated for ingress by x/web-in"));
	ck_assert_ptr_nonnull(strstr(why, "ingress: allowed by x/web-in ingress[0] from[0] ports[0]"));
	free(why);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "10.0.0.2", "TCP", 8081, &why), K8SNET_POLICY_DENY);
	ck_assert_ptr_nonnull(strstr(why, "denied: no ingress rule"));
	free(why);
	/* The named port is the pod's, not a number: UDP 8080 is not "http". */
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "UDP", 8080, NULL), K8SNET_POLICY_DENY);
	/* hostNetwork pods are the node: neither isolated nor selected, and
	 * the node's traffic to its own pods passes (kubelet probes). */
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/host", "x/web", "TCP", 8080, &why), K8SNET_POLICY_ALLOW);
	ck_assert_ptr_nonnull(strstr(why, "node: x/host uses the host network of node n1"));
	free(why);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "host2", "", "192.168.0.2", "n2",
						  K8SNET_POLICY_POD_HOST_NETWORK), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/host2", "x/web", "TCP", 8080, &why), K8SNET_POLICY_DENY);
	ck_assert_ptr_nonnull(strstr(why, "host network: its traffic is the node's"));
	free(why);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/web", "x/host2", "TCP", 1, NULL), K8SNET_POLICY_ALLOW);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/web", "x/web", "TCP", 1, &why), K8SNET_POLICY_ALLOW);
	ck_assert_ptr_nonnull(strstr(why, "itself"));
	free(why);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/web", "8.8.8.8", "UDP", 53, NULL), K8SNET_POLICY_ALLOW);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/zz", "x/web", "TCP", 1, NULL), -ENOENT);
	ck_assert_int_eq(k8snet_policy_db_check(db, "junk", "x/web", "TCP", 1, NULL), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "from");
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "TCP", 0, NULL), -ERANGE);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "tcp", 1, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "NetworkPolicy", "x", "web-in"), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "TCP", 8081, NULL), K8SNET_POLICY_ALLOW);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "NetworkPolicy", "x", "web-in"), -ENOENT);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "Pod", "x", "cli"), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/cli", "x/web", "TCP", 1, NULL), -ENOENT);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "Service", "x", "cli"), -EINVAL);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "Namespace", NULL, "x"), 0);
	ck_assert_int_eq(k8snet_policy_db_set_namespace(db, "X", ""), -EINVAL);
}
END_TEST

START_TEST(test_ipblock_except_and_dual_stack)
{
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "a", "app=a", "10.1.0.5,fd00::5", NULL, 0), 0);
	ck_assert_int_eq(load("{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},"
			      "\"spec\":{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
			      "\"except\":[\"10.2.0.0/16\"]}},{\"ipBlock\":{\"cidr\":\"fd00::/64\"}}],"
			      "\"ports\":[{\"protocol\":\"UDP\",\"port\":1000,\"endPort\":2000}]}]}}"), 0);
	/* A finished pod gives its address back: it no longer stands for it. */
	ck_assert_int_eq(load("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"done\",\"namespace\":\"x\"},"
			      "\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.9.9.9\"}}"), 0);
	ck_assert_ptr_null(pl_db_pod_by_ip(db, &(struct pl_addr){ .family = AF_INET,
								  .a = { 10, 9, 9, 9 } }));
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/a", "10.3.0.1", "UDP", 1500, NULL), 1);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/a", "10.2.0.1", "UDP", 1500, NULL), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/a", "10.3.0.1", "UDP", 2001, NULL), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "x/a", "10.3.0.1", "TCP", 1500, NULL), 0);
	ck_assert_int_eq(k8snet_policy_db_check(db, "fd00::5", "fd00::9", "UDP", 1000, NULL), 1);
	ck_assert_int_eq(k8snet_policy_db_check(db, "fd00::5", "fd01::9", "UDP", 1000, NULL), 0);
}
END_TEST

struct conf {
	int cells, mismatches;
};

static int conf_step(void *userdata, struct k8snet_policy_db *d, const char *name, int step,
		     const cJSON *probes)
{
	struct conf *cf = userdata;
	const cJSON *probe;
	int i, j;

	cJSON_ArrayForEach(probe, probes) {
		const char *proto = cJSON_GetObjectItem(probe, "protocol")->valuestring;
		int port = cJSON_GetObjectItem(probe, "port")->valueint;

		for (i = 0; i < PC_NPODS; i++) {
			for (j = 0; j < PC_NPODS; j++) {
				bool want = pc_expected(probe, pc_pods[i], pc_pods[j]);
				char *why = NULL;
				int got = k8snet_policy_db_check(d, pc_pods[i], pc_pods[j], proto,
								 (uint32_t)port, &why);

				cf->cells++;
				if (got != want) {
					cf->mismatches++;
					fprintf(stderr, "MISMATCH %s (step %d) %s %d %s -> %s: want %s, got %d\n%s",
						name, step, proto, port, pc_pods[i], pc_pods[j],
						want ? "allow" : "deny", got, why ? why : "");
				}
				free(why);
			}
		}
	}
	return 0;
}

START_TEST(test_conformance_evaluator)
{
	cJSON *doc = pc_load(POLICY_CASES);
	struct conf cf = { 0 };

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(pc_run(ctx, doc, conf_step, &cf), 0);
	fprintf(stderr, "conformance (evaluator): %d cells, %d mismatches\n", cf.cells, cf.mismatches);
	ck_assert_int_gt(cf.cells, 4000);
	ck_assert_int_eq(cf.mismatches, 0);
	cJSON_Delete(doc);
}
END_TEST

/* Sets and maps of two plans hold the same elements (chains may differ: an
 * incremental update leaves unused group chains for the next rebuild). */
static void assert_same_sets(const struct pl_plan *a, const struct pl_plan *b)
{
	size_t i, j;

	for (i = 0; i < b->nsets; i++) {
		const struct pl_pset *sb = &b->sets[i], *sa = pl_plan_set(a, sb->name);

		ck_assert_msg(sa != NULL, "set %s missing", sb->name);
		ck_assert_msg(sa->n == sb->n, "set %s: %zu vs %zu elements", sb->name, sa->n, sb->n);
		for (j = 0; j < sb->n; j++) {
			ck_assert(memcmp(sa->e[j].key, sb->e[j].key, pl_key_len(sb->kind)) == 0);
			if (sb->is_map)
				ck_assert_str_eq(sa->e[j].chain, sb->e[j].chain);
		}
	}
}

START_TEST(test_incremental_equals_rebuild)
{
	cJSON *doc = pc_load(POLICY_CASES), *c;
	char *world = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "world"));
	struct pl_plan *inc = NULL, *full = NULL;
	struct pl_eops ops = { 0 };
	int n = 0;

	ck_assert_int_eq(load(world), 0);
	/* every policy of the suite at once (names are per case: prefix them) */
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		cJSON *step = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "steps"), 0), *pol;

		cJSON_ArrayForEach(pol, cJSON_GetObjectItem(step, "apply")) {
			cJSON *copy = cJSON_Duplicate(pol, 1), *md = cJSON_GetObjectItem(copy, "metadata");
			char name[32], *text;

			snprintf(name, sizeof(name), "p%d", n++);
			cJSON_ReplaceItemInObject(md, "name", cJSON_CreateString(name));
			text = cJSON_PrintUnformatted(copy);
			ck_assert_int_eq(load(text), 0);
			free(text);
			cJSON_Delete(copy);
		}
	}
	ck_assert_int_eq(pl_plan_build(db, "node1", &inc), 0);
	db->last = inc;  /* as after a sync: changes are tracked from here */
	pl_db_clear_dirty(db);
	/* pod churn: relabel, new pods (one remote, one host network), moved,
	 * re-addressed, deleted */
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "b", "pod=b,pod2=updated", "10.244.1.12",
						  "node1", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "y", "d", "pod=a", "10.244.1.24", "node1", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "y", "d", "serve-80-tcp", "TCP", 8080), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "z", "r", "pod=b", "10.244.2.5", "node2", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "z", "h", "pod=a", "10.0.0.1", "node1",
						  K8SNET_POLICY_POD_HOST_NETWORK), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "y", "c", "pod=c", "10.244.1.99", "node2", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_delete(db, "Pod", "z", "c"), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "c", "pod=a", "10.244.1.13", "node1", 0), 0);
	/* a combination of policies no pod had: a new group chain */
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "a", "pod=zz,target=isolated", "10.244.1.11",
						  "node1", 0), 0);
	ck_assert(!db->struct_dirty);
	ck_assert_int_eq(db->ndirty, 8);
	ck_assert_int_eq(pl_plan_update_pods(db, inc, "node1", db->dirty, db->ndirty, &ops), 1);
	{
		/* a first IPv6 address in an IPv4 cluster needs new rules: rebuild */
		char *key = strdup("z/v6");
		struct pl_eops none = { 0 };

		ck_assert_int_eq(k8snet_policy_db_set_pod(db, "z", "v6", "pod=a", "fd00::7", "node1", 0), 0);
		ck_assert_int_eq(pl_plan_update_pods(db, inc, "node1", &key, 1, &none), 0);
		ck_assert_int_eq(none.n, 0);
		ck_assert_int_eq(k8snet_policy_db_delete(db, "Pod", "z", "v6"), 0);
		free(key);
	}
	ck_assert_int_gt(ops.n, 10);
	ck_assert_int_ge(ops.nchains, 1);
	ck_assert_int_eq(pl_plan_build(db, "node1", &full), 0);
	{
		size_t i;

		/* the new group chain is the one a rebuild makes */
		for (i = 0; i < ops.nchains; i++)
			ck_assert_str_eq(pl_plan_chain(inc, ops.chains[i])->text,
					 pl_plan_chain(full, ops.chains[i])->text);
	}
	assert_same_sets(inc, full);
	assert_same_sets(full, inc);
	free(ops.v);
	free(ops.chains);
	db->last = NULL;
	pl_plan_free(inc);
	pl_plan_free(full);
	free(world);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(test_render_text)
{
	char *text = NULL;

	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "a", "app=a", "10.0.0.5,fd00::5", "n1", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_set_pod(db, "x", "b", "app=b", "10.0.0.6", "n2", 0), 0);
	ck_assert_int_eq(k8snet_policy_db_add_pod_port(db, "x", "b", "dns", "UDP", 5353), 0);
	ck_assert_int_eq(load("{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},"
			      "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"egress\":[{\"to\":["
			      "{\"podSelector\":{\"matchLabels\":{\"app\":\"b\"}}},{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
			      "\"except\":[\"10.1.0.0/16\"]}}],\"ports\":[{\"protocol\":\"UDP\",\"port\":\"dns\"},"
			      "{\"protocol\":\"SCTP\",\"port\":1000,\"endPort\":1010}]}]}}"), 0);
	ck_assert_int_eq(k8snet_policy_db_render(db, "n1", &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "table inet k8snet-policy {"));
	ck_assert_ptr_nonnull(strstr(text, "10.0.0.5 : jump geg-"));
	ck_assert_ptr_nonnull(strstr(text, "fd00::5 : jump geg-"));
	ck_assert_ptr_null(strstr(text, "10.0.0.6 : jump"));   /* not on n1 */
	ck_assert_ptr_nonnull(strstr(text, "10.0.0.6 . udp . 5353"));
	ck_assert_ptr_nonnull(strstr(text, "meta nfproto ipv4 ip daddr 10.0.0.0/8 ip daddr != 10.1.0.0/16 "
				     "meta l4proto sctp th dport 1000-1010 accept comment \"x/p egress[0] to[1] ports[1]\""));
	ck_assert_ptr_nonnull(strstr(text, "ip daddr . meta l4proto . th dport @port4/dns/udp accept "
				     "comment \"x/p egress[0] to[0] ports[0]\""));
	ck_assert_ptr_nonnull(strstr(text, "drop comment \"isolated for egress by x/p\""));
	free(text);
	ck_assert_int_eq(k8snet_policy_db_render(db, "", &text), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_selector_text);
	tcase_add_test(tc, test_selector_canonical);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_defaulting);
	tcase_add_test(tc, test_c_api_and_reasons);
	tcase_add_test(tc, test_ipblock_except_and_dual_stack);
	tcase_add_test(tc, test_conformance_evaluator);
	tcase_add_test(tc, test_incremental_equals_rebuild);
	tcase_add_test(tc, test_render_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
