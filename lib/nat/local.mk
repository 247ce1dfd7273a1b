# The nat layer (Service NAT): sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/nat/internal.h \
	lib/nat/util.c \
	lib/nat/model.c \
	lib/nat/json.c \
	lib/nat/plan.c \
	lib/nat/claims.c \
	lib/nat/render.c \
	lib/nat/nft.c \
	lib/nat/sync.c \
	lib/nat/conntrack.c \
	lib/nat/health.c \
	lib/nat/counters.c

k8snetinclude_HEADERS += include/k8snet/nat.h

dist_man3_MANS += \
	man/man3/k8snet_proxy_add_service.3 \
	man/man3/k8snet_proxy_add_str.3 \
	man/man3/k8snet_proxy_free.3 \
	man/man3/k8snet_proxy_get_str.3 \
	man/man3/k8snet_proxy_get_u32.3 \
	man/man3/k8snet_proxy_load_json.3 \
	man/man3/k8snet_proxy_new.3 \
	man/man3/k8snet_proxy_remove_service.3 \
	man/man3/k8snet_proxy_remove_slice.3 \
	man/man3/k8snet_proxy_render.3 \
	man/man3/k8snet_proxy_set_str.3 \
	man/man3/k8snet_proxy_set_u32.3 \
	man/man3/k8snet_proxy_sync.3 \
	man/man3/k8snet_proxy_sync_full.3 \
	man/man3/k8snet_proxy_get_skipped.3 \
	man/man3/k8snet_proxy_get_counters.3 \
	man/man3/k8snet_proxy_get_traffic.3 \
	man/man3/k8snet_proxy_get_health.3 \
	man/man3/k8snet_proxy_get_health_changed.3 \
	man/man3/k8snet_proxy_get_health_changed_count.3 \
	man/man3/k8snet_proxy_get_skipped_count.3 \
	man/man3/k8snet_service_add_endpoint.3 \
	man/man3/k8snet_service_add_ip.3 \
	man/man3/k8snet_service_add_port.3 \
	man/man3/k8snet_service_free.3 \
	man/man3/k8snet_service_get_str.3 \
	man/man3/k8snet_service_get_u32.3 \
	man/man3/k8snet_service_new.3 \
	man/man3/k8snet_service_get_error.3 \
	man/man3/k8snet_service_set_str.3 \
	man/man3/k8snet_service_set_u32.3 \
	man/man3/k8snet_service_set_endpoint_str.3

TESTS += tests/netns/test-nat-traffic.sh tests/netns/test-nat-conntrack.sh \
	tests/netns/test-nat-service-cidr.sh tests/netns/test-nat-topology.sh \
	tests/netns/test-nat-counters.sh
EXTRA_DIST += tests/netns/test-nat-traffic.sh tests/netns/test-nat-conntrack.sh \
	tests/netns/test-nat-service-cidr.sh tests/netns/test-nat-topology.sh \
	tests/netns/test-nat-counters.sh

noinst_PROGRAMS += bench/bench-nat
bench_bench_nat_SOURCES = bench/bench-nat.c
bench_bench_nat_LDADD = $(EXAMPLE_LDADD)
BENCH_RUNNERS += bench/nat-bench.sh

noinst_PROGRAMS += bench/bench-nat-conntrack
bench_bench_nat_conntrack_SOURCES = bench/bench-nat-conntrack.c
bench_bench_nat_conntrack_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)
bench_bench_nat_conntrack_LDADD = $(EXAMPLE_LDADD) $(LIBMNL_LIBS)
EXTRA_DIST += bench/nat-bench.sh bench/nat_gen.py bench/nat-traffic-bench.sh

check_PROGRAMS += tests/unit/test-nat
TESTS += tests/unit/test-nat
tests_unit_test_nat_SOURCES = tests/unit/test-nat.c
tests_unit_test_nat_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nat_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/netns/test-nat-sync
TESTS += tests/netns/test-nat-sync
tests_netns_test_nat_sync_SOURCES = tests/netns/test-nat-sync.c
tests_netns_test_nat_sync_LDADD = $(NETNS_LDADD)

FUZZ_TARGETS += nat
EXTRA_DIST += tests/fuzz/fuzz-nat.c tests/fuzz/corpus/nat
