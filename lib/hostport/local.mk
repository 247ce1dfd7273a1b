# The host ports layer: published ports and pod-network masquerading.
lib_libk8snet_internal_la_SOURCES += \
	lib/hostport/internal.h \
	lib/hostport/portmap.c \
	lib/hostport/table.c \
	lib/hostport/mappings.c \
	lib/hostport/network.c

k8snetinclude_HEADERS += include/k8snet/hostport.h

TESTS += tests/netns/test-hostport.sh
EXTRA_DIST += tests/netns/test-hostport.sh
