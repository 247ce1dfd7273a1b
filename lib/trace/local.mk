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
