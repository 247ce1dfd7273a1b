# The ipam layer: sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/ipam/ipam.h \
	lib/ipam/addr.c \
	lib/ipam/runs.c \
	lib/ipam/pool.h \
	lib/ipam/pool.c \
	lib/ipam/pool-config.c \
	lib/ipam/alloc.c \
	lib/ipam/base.c \
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

dist_man3_MANS += \
	man/man3/k8snet_ipam_config_free.3 \
	man/man3/k8snet_ipam_config_get_data_dir.3 \
	man/man3/k8snet_ipam_config_get_pool_count.3 \
	man/man3/k8snet_ipam_config_get_route.3 \
	man/man3/k8snet_ipam_config_get_route_count.3 \
	man/man3/k8snet_ipam_config_new_pool.3 \
	man/man3/k8snet_ipam_config_parse.3 \
	man/man3/k8snet_ipam_pool_add_exclusion.3 \
	man/man3/k8snet_ipam_pool_add_range.3 \
	man/man3/k8snet_ipam_pool_alloc.3 \
	man/man3/k8snet_ipam_pool_get_count.3 \
	man/man3/k8snet_ipam_pool_foreach.3 \
	man/man3/k8snet_ipam_pool_free.3 \
	man/man3/k8snet_ipam_pool_gc.3 \
	man/man3/k8snet_ipam_pool_get_gateway.3 \
	man/man3/k8snet_ipam_pool_lookup.3 \
	man/man3/k8snet_ipam_pool_new.3 \
	man/man3/k8snet_ipam_pool_release.3 \
	man/man3/k8snet_ipam_pool_release_addr.3 \
	man/man3/k8snet_ipam_pool_set_block_len.3 \
	man/man3/k8snet_ipam_pool_set_name.3 \
	man/man3/k8snet_ipam_pool_set_state_file.3 \
	man/man3/k8snet_ipam_pool_set_strategy.3

EXTRA_DIST += tests/fuzz/fuzz-ipam.c tests/fuzz/corpus/ipam
FUZZ_TARGETS += ipam
# The state file reader: snapshots and journals.
EXTRA_DIST += tests/fuzz/fuzz-ipam-state.c tests/fuzz/corpus/ipam-state
FUZZ_TARGETS += ipam-state
