# The policy layer: sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/policy/internal.h \
	lib/policy/labels.c \
	lib/policy/model.c \
	lib/policy/reader.c \
	lib/policy/eval.c \
	lib/policy/plan.h \
	lib/policy/plan.c \
	lib/policy/nft.c

k8snetinclude_HEADERS += include/k8snet/policy.h

check_PROGRAMS += tests/unit/test-policy
TESTS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c tests/policy/cases.c tests/policy/cases.h
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS) -DPOLICY_CASES='"$(abs_top_srcdir)/tests/policy/netpol-e2e.json"'
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
EXTRA_DIST += tests/policy

check_PROGRAMS += tests/netns/test-policy-conformance
TESTS += tests/netns/test-policy-conformance
tests_netns_test_policy_conformance_SOURCES = tests/netns/test-policy-conformance.c \
	tests/policy/cases.c tests/policy/cases.h
tests_netns_test_policy_conformance_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
tests_netns_test_policy_conformance_LDADD = $(NETNS_LDADD) $(CJSON_LIBS)
