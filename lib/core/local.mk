lib_libk8snet_internal_la_SOURCES += \
	lib/core/internal.h \
	lib/core/addr.h \
	lib/core/addr.c \
	lib/core/hash.h \
	lib/core/strbuf.h \
	lib/core/strbuf.c \
	lib/core/vec.h \
	lib/core/vec.c \
	lib/core/map.h \
	lib/core/map.c \
	lib/core/ctx.c \
	lib/core/error.c \
	lib/core/netns.c \
	lib/core/describe.c \
	lib/core/version.c

k8snetinclude_HEADERS += \
	include/k8snet/k8snet.h \
	include/k8snet/common.h
EXTRA_DIST += include/k8snet/version.h.in

dist_man3_MANS += \
	man/man3/k8snet_version.3 \
	man/man3/k8snet_version_num.3 \
	man/man3/k8snet_ctx_new.3 \
	man/man3/k8snet_ctx_free.3 \
	man/man3/k8snet_ctx_ref.3 \
	man/man3/k8snet_ctx_unref.3 \
	man/man3/k8snet_cidr_parse.3 \
	man/man3/k8snet_addr_parse.3 \
	man/man3/k8snet_ctx_set_netns_path.3 \
	man/man3/k8snet_ctx_set_netns_fd.3 \
	man/man3/k8snet_ctx_get_netns_fd.3 \
	man/man3/k8snet_ctx_connect.3 \
	man/man3/k8snet_ctx_set_log_fn.3 \
	man/man3/k8snet_ctx_set_log_priority.3 \
	man/man3/k8snet_ctx_get_log_priority.3 \
	man/man3/k8snet_ctx_get_error.3 \
	man/man3/k8snet_ctx_get_error_path.3 \
	man/man3/k8snet_ctx_get_errno.3 \
	man/man3/k8snet_ctx_clear_error.3 \
	man/man3/k8snet_strerror.3 \
	man/man3/k8snet_ctx_describe.3 \
	man/man3/k8snet_free.3

check_PROGRAMS += tests/unit/test-core
TESTS += tests/unit/test-core
tests_unit_test_core_SOURCES = tests/unit/test-core.c
tests_unit_test_core_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_core_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/netns/test-ctx-netns
TESTS += tests/netns/test-ctx-netns
tests_netns_test_ctx_netns_SOURCES = tests/netns/test-ctx-netns.c
tests_netns_test_ctx_netns_LDADD = $(NETNS_LDADD)

check_PROGRAMS += tests/unit/test-addr
TESTS += tests/unit/test-addr
tests_unit_test_addr_SOURCES = tests/unit/test-addr.c
tests_unit_test_addr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_addr_LDADD = $(UNIT_LDADD)

# The fork rule: every exported function refuses in a child (the table is
# checked against lib/libk8snet.map).
check_PROGRAMS += tests/unit/test-fork
TESTS += tests/unit/test-fork
tests_unit_test_fork_SOURCES = tests/unit/test-fork.c
tests_unit_test_fork_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fork_LDADD = $(UNIT_LDADD)

# What the fork rule's check costs (bench/bench-fork.c): ns per check.
noinst_PROGRAMS += bench/bench-fork
bench_bench_fork_SOURCES = bench/bench-fork.c
bench_bench_fork_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
bench_bench_fork_LDADD = lib/libk8snet-internal.la $(DEPS_LIBS)
BENCH_RUNNERS += bench/fork-bench.sh
EXTRA_DIST += bench/fork-bench.sh

check_PROGRAMS += tests/unit/test-containers
TESTS += tests/unit/test-containers
tests_unit_test_containers_SOURCES = tests/unit/test-containers.c
tests_unit_test_containers_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_containers_LDADD = $(UNIT_LDADD)
