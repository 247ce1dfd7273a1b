# The trace layer: explains a connection end to end with the other layers'
# models (policy, Service NAT, DNS names).
lib_libk8snet_internal_la_SOURCES += \
	lib/trace/internal.h \
	lib/trace/model.c \
	lib/trace/resolve.c \
	lib/trace/explain.c \
	lib/trace/render.c \
	lib/trace/run.c

k8snetinclude_HEADERS += include/k8snet/trace.h

dist_man3_MANS += \
	man/man3/k8snet_trace_new.3 \
	man/man3/k8snet_trace_free.3 \
	man/man3/k8snet_trace_load_json.3 \
	man/man3/k8snet_trace_use_policy_db.3 \
	man/man3/k8snet_trace_use_proxy.3 \
	man/man3/k8snet_trace_set_str.3 \
	man/man3/k8snet_trace_add_str.3 \
	man/man3/k8snet_trace_set_u32.3 \
	man/man3/k8snet_trace_run.3
dist_man1_MANS += man/man1/k8snet-trace.1

TESTS += tests/netns/test-trace-cli.sh
EXTRA_DIST += tests/netns/test-trace-cli.sh

noinst_PROGRAMS += bench/trace-bench
bench_trace_bench_SOURCES = bench/trace-bench.c
bench_trace_bench_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
bench_trace_bench_LDADD = $(EXAMPLE_LDADD) $(CJSON_LIBS)
BENCH_RUNNERS += bench/trace-bench.sh
EXTRA_DIST += bench/trace-bench.sh
