# The policy layer: sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/policy/internal.h \
	lib/policy/labels.c \
	lib/policy/model.c \
	lib/policy/reader.c \
	lib/policy/eval.c \
	lib/policy/plan.h \
	lib/policy/plan-build.c \
	lib/policy/plan-render.c \
	lib/policy/plan-delta.c \
	lib/policy/nft.c \
	lib/policy/log.c

k8snetinclude_HEADERS += include/k8snet/policy.h

check_PROGRAMS += tests/unit/test-policy
TESTS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c tests/policy/cases.c tests/policy/cases.h
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS) -DPOLICY_CASES='"$(abs_top_srcdir)/tests/policy/netpol-e2e.json"'
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
EXTRA_DIST += tests/policy/netpol-e2e.json
EXTRA_DIST += bench/policy_gen.py

check_PROGRAMS += tests/netns/test-policy-conformance
TESTS += tests/netns/test-policy-conformance
tests_netns_test_policy_conformance_SOURCES = tests/netns/test-policy-conformance.c \
	tests/policy/cases.c tests/policy/cases.h
tests_netns_test_policy_conformance_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
tests_netns_test_policy_conformance_LDADD = $(NETNS_LDADD) $(CJSON_LIBS)

dist_man3_MANS += \
	man/man3/k8snet_policy_db_new.3 \
	man/man3/k8snet_policy_db_free.3 \
	man/man3/k8snet_policy_db_load_json.3 \
	man/man3/k8snet_policy_db_set_namespace.3 \
	man/man3/k8snet_policy_db_set_pod.3 \
	man/man3/k8snet_policy_db_add_pod_port.3 \
	man/man3/k8snet_policy_db_delete.3 \
	man/man3/k8snet_policy_db_check.3 \
	man/man3/k8snet_policy_db_render.3 \
	man/man3/k8snet_policy_db_sync.3 \
	man/man3/k8snet_policy_db_sync_full.3 \
	man/man3/k8snet_policy_selector_match.3 \
	man/man3/k8snet_policy_db_set_log.3 \
	man/man3/k8snet_policy_db_get_counters.3

EXTRA_DIST += tests/fuzz/fuzz-policy.c tests/fuzz/corpus/policy \
	tests/fuzz/fuzz-selector.c tests/fuzz/corpus/selector
FUZZ_TARGETS += policy selector

TESTS += tests/netns/test-policy-cli.sh
EXTRA_DIST += tests/netns/test-policy-cli.sh
TESTS += tests/netns/test-policy-counters.sh
EXTRA_DIST += tests/netns/test-policy-counters.sh

noinst_PROGRAMS += bench/policy-bench
bench_policy_bench_SOURCES = bench/policy-bench.c
bench_policy_bench_LDADD = $(EXAMPLE_LDADD)
BENCH_RUNNERS += bench/policy-bench.sh
EXTRA_DIST += bench/policy-bench.sh

check_PROGRAMS += tests/netns/test-policy-dualstack
TESTS += tests/netns/test-policy-dualstack
tests_netns_test_policy_dualstack_SOURCES = tests/netns/test-policy-dualstack.c
tests_netns_test_policy_dualstack_LDADD = $(NETNS_LDADD)

dist_man1_MANS += man/man1/k8snet-policy.1

check_PROGRAMS += tests/netns/test-policy-multinode
TESTS += tests/netns/test-policy-multinode
tests_netns_test_policy_multinode_SOURCES = tests/netns/test-policy-multinode.c
tests_netns_test_policy_multinode_LDADD = $(NETNS_LDADD)
