# The ipam layer: sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/ipam/ipam.h \
	lib/ipam/addr.c \
	lib/ipam/runs.c \
	lib/ipam/pool.c \
	lib/ipam/store.c \
	lib/ipam/config.c

k8snetinclude_HEADERS += include/k8snet/ipam.h

check_PROGRAMS += tests/unit/test-ipam
TESTS += tests/unit/test-ipam
tests_unit_test_ipam_SOURCES = tests/unit/test-ipam.c
tests_unit_test_ipam_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ipam_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/netns/test-ipam-procs
TESTS += tests/netns/test-ipam-procs
tests_netns_test_ipam_procs_SOURCES = tests/netns/test-ipam-procs.c
tests_netns_test_ipam_procs_LDADD = $(NETNS_LDADD)

noinst_PROGRAMS += bench/bench-ipam
bench_bench_ipam_SOURCES = bench/bench-ipam.c
bench_bench_ipam_LDADD = lib/libk8snet.la
BENCH_RUNNERS += bench/ipam.sh
EXTRA_DIST += bench/ipam.sh

TESTS += tests/netns/test-ipam-cli.sh
EXTRA_DIST += tests/netns/test-ipam-cli.sh
