# The shared nftables module: one batch builder, one way to send a batch and
# read its answer, one set of expression helpers, drift detection.  Used by
# Service NAT, NetworkPolicy and host ports; internal (no public header).
lib_libk8snet_internal_la_SOURCES += \
	lib/nft/nft.h \
	lib/nft/internal.h \
	lib/nft/batch.c \
	lib/nft/commit.c \
	lib/nft/expr.c \
	lib/nft/gen.c \
	lib/nft/dump.c \
	lib/nft/inventory.c

# The kernel path against a real kernel, as a long-lived embedder uses it.
check_PROGRAMS += tests/netns/test-nft-core
TESTS += tests/netns/test-nft-core
tests_netns_test_nft_core_SOURCES = tests/netns/test-nft-core.c
tests_netns_test_nft_core_CFLAGS = $(UNIT_CFLAGS)
tests_netns_test_nft_core_LDADD = $(UNIT_LDADD) tests/netns/libharness.la

check_PROGRAMS += tests/netns/test-nft-kill
TESTS += tests/netns/test-nft-kill
tests_netns_test_nft_kill_SOURCES = tests/netns/test-nft-kill.c
tests_netns_test_nft_kill_CFLAGS = $(UNIT_CFLAGS)
tests_netns_test_nft_kill_LDADD = $(UNIT_LDADD) tests/netns/libharness.la

# What acknowledging every message costs a full sync (bench/nat-bench.sh).
noinst_PROGRAMS += bench/nft-ack-bench
bench_nft_ack_bench_SOURCES = bench/nft-ack-bench.c
bench_nft_ack_bench_CFLAGS = $(UNIT_CFLAGS)
bench_nft_ack_bench_LDADD = lib/libk8snet-internal.la $(DEPS_LIBS)
