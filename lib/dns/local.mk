# The dns layer: Kubernetes names, validation, query parsing, a pod's
# resolv.conf, glibc search expansion and zone records.  No kernel I/O.
lib_libk8snet_internal_la_SOURCES += \
	lib/dns/dns-internal.h \
	lib/dns/util.c \
	lib/dns/validate.c \
	lib/dns/names.c \
	lib/dns/query.c \
	lib/dns/resolv-parse.c \
	lib/dns/resolv.h \
	lib/dns/resolv.c \
	lib/dns/resolv-plan.c \
	lib/dns/candidates.c \
	lib/dns/zone.h \
	lib/dns/zone.c \
	lib/dns/zone-json.c \
	lib/dns/zone-render.c

k8snetinclude_HEADERS += include/k8snet/dns.h

dist_man3_MANS += \
	man/man3/k8snet_dns_validate.3 \
	man/man3/k8snet_dns_service_fqdn.3 \
	man/man3/k8snet_dns_srv_name.3 \
	man/man3/k8snet_dns_endpoint_name.3 \
	man/man3/k8snet_dns_pod_fqdn.3 \
	man/man3/k8snet_dns_pod_ip_name.3 \
	man/man3/k8snet_dns_ptr_name.3 \
	man/man3/k8snet_dns_query_parse.3 \
	man/man3/k8snet_dns_query_free.3 \
	man/man3/k8snet_dns_query_get_kind.3 \
	man/man3/k8snet_dns_query_get_str.3 \
	man/man3/k8snet_dns_resolv_new.3 \
	man/man3/k8snet_dns_resolv_free.3 \
	man/man3/k8snet_dns_resolv_set_str.3 \
	man/man3/k8snet_dns_resolv_set_u32.3 \
	man/man3/k8snet_dns_resolv_render.3 \
	man/man3/k8snet_dns_resolv_get_warning.3 \
	man/man3/k8snet_dns_candidates.3 \
	man/man3/k8snet_dns_zone_new.3 \
	man/man3/k8snet_dns_zone_free.3 \
	man/man3/k8snet_dns_zone_set_u32.3 \
	man/man3/k8snet_dns_zone_set_str.3 \
	man/man3/k8snet_dns_zone_add_json.3 \
	man/man3/k8snet_dns_zone_add_service.3 \
	man/man3/k8snet_dns_zone_add_service_port.3 \
	man/man3/k8snet_dns_zone_add_endpoint.3 \
	man/man3/k8snet_dns_zone_add_endpoint_port.3 \
	man/man3/k8snet_dns_zone_add_pod.3 \
	man/man3/k8snet_dns_zone_render.3

check_PROGRAMS += tests/unit/test-dns
TESTS += tests/unit/test-dns
tests_unit_test_dns_SOURCES = tests/unit/test-dns.c
tests_unit_test_dns_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dns_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-dns-resolv
TESTS += tests/unit/test-dns-resolv
tests_unit_test_dns_resolv_SOURCES = tests/unit/test-dns-resolv.c
tests_unit_test_dns_resolv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dns_resolv_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-dns-zone
TESTS += tests/unit/test-dns-zone
tests_unit_test_dns_zone_SOURCES = tests/unit/test-dns-zone.c
tests_unit_test_dns_zone_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dns_zone_LDADD = $(UNIT_LDADD)

# A real DNS server (bind9's named) serving the generated zones inside a test
# namespace, and a pod namespace resolving through the generated resolv.conf.
TESTS += tests/netns/test-dns-server.sh
EXTRA_DIST += tests/netns/test-dns-server.sh

EXTRA_DIST += tests/fuzz/fuzz-dns-resolv.c tests/fuzz/corpus/dns-resolv \
	tests/fuzz/fuzz-dns-query.c tests/fuzz/corpus/dns-query \
	tests/fuzz/fuzz-dns-zone.c tests/fuzz/corpus/dns-zone
FUZZ_TARGETS += dns-resolv dns-query dns-zone

noinst_PROGRAMS += bench/bench-dns-zone
bench_bench_dns_zone_SOURCES = bench/bench-dns-zone.c
bench_bench_dns_zone_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
bench_bench_dns_zone_LDADD = lib/libk8snet.la $(CJSON_LIBS)
BENCH_RUNNERS += bench/dns-bench.sh
EXTRA_DIST += bench/dns-bench.sh

# The `k8snet dns` command line: output and exit codes.
TESTS += tests/unit/test-dns-cli.sh
EXTRA_DIST += tests/unit/test-dns-cli.sh
