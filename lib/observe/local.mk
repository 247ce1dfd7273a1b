# The observe layer: NFLOG verdict events, decoded and named.
lib_libk8snet_internal_la_SOURCES += lib/observe/observe.c

k8snetinclude_HEADERS += include/k8snet/observe.h

dist_man3_MANS += \
	man/man3/k8snet_observer_new.3 \
	man/man3/k8snet_observer_free.3 \
	man/man3/k8snet_observer_load_json.3 \
	man/man3/k8snet_observer_set_json.3 \
	man/man3/k8snet_observer_next.3 \
	man/man3/k8snet_observer_get_fd.3 \
	man/man3/k8snet_observer_feed.3 \
	man/man3/k8snet_observer_get_lost.3 \
	man/man3/k8snet_observer_get_str.3 \
	man/man3/k8snet_observer_get_u64.3
dist_man1_MANS += man/man1/k8snet-observe.1

TESTS += tests/netns/test-observe.sh tests/netns/test-observe-follow.sh
EXTRA_DIST += tests/netns/test-observe.sh tests/netns/test-observe-follow.sh

check_PROGRAMS += tests/observe/test-observe-decode
TESTS += tests/observe/test-observe-decode
tests_observe_test_observe_decode_SOURCES = tests/observe/test-observe-decode.c \
	tests/observe/nflog-gen.h
tests_observe_test_observe_decode_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)
tests_observe_test_observe_decode_LDADD = $(EXAMPLE_LDADD) $(LIBMNL_LIBS)

noinst_PROGRAMS += bench/observe-bench
bench_observe_bench_SOURCES = bench/observe-bench.c
bench_observe_bench_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)
bench_observe_bench_LDADD = $(EXAMPLE_LDADD) $(LIBMNL_LIBS)
BENCH_RUNNERS += bench/observe-bench.sh
EXTRA_DIST += bench/observe-bench.sh
