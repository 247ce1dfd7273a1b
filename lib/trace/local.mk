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

noinst_PROGRAMS += bench/trace-bench
bench_trace_bench_SOURCES = bench/trace-bench.c
bench_trace_bench_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
bench_trace_bench_LDADD = $(EXAMPLE_LDADD) $(CJSON_LIBS)
BENCH_RUNNERS += bench/trace-bench.sh
EXTRA_DIST += bench/trace-bench.sh
