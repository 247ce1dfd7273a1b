# The observe layer: NFLOG verdict events, decoded and named.
lib_libk8snet_internal_la_SOURCES += lib/observe/observe.c

k8snetinclude_HEADERS += include/k8snet/observe.h

TESTS += tests/netns/test-observe.sh
EXTRA_DIST += tests/netns/test-observe.sh

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
