# The nat layer (Service NAT): sources, headers, man pages, tests.
lib_libk8snet_internal_la_SOURCES += \
	lib/nat/nat.h \
	lib/nat/util.c \
	lib/nat/model.c \
	lib/nat/json.c \
	lib/nat/plan.c \
	lib/nat/render.c \
	lib/nat/nft.c \
	lib/nat/sync.c

k8snetinclude_HEADERS += include/k8snet/nat.h

TESTS += tests/netns/test-nat-traffic.sh
EXTRA_DIST += tests/netns/test-nat-traffic.sh

noinst_PROGRAMS += bench/nat-bench
bench_nat_bench_SOURCES = bench/nat-bench.c
bench_nat_bench_LDADD = $(EXAMPLE_LDADD)
BENCH_RUNNERS += bench/nat-bench.sh
EXTRA_DIST += bench/nat-bench.sh bench/nat_gen.py
