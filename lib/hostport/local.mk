# The host ports layer: published ports and pod-network masquerading.
lib_libk8snet_internal_la_SOURCES += \
	lib/hostport/internal.h \
	lib/hostport/portmap.c \
	lib/hostport/table.c \
	lib/hostport/mappings.c \
	lib/hostport/network.c

k8snetinclude_HEADERS += include/k8snet/hostport.h

dist_man3_MANS += \
	man/man3/k8snet_hostports_new.3 \
	man/man3/k8snet_hostports_free.3 \
	man/man3/k8snet_hostports_set_str.3 \
	man/man3/k8snet_hostports_set_u32.3 \
	man/man3/k8snet_portmap_new.3 \
	man/man3/k8snet_portmap_free.3 \
	man/man3/k8snet_portmap_add.3 \
	man/man3/k8snet_portmap_get_count.3 \
	man/man3/k8snet_hostports_set.3 \
	man/man3/k8snet_hostports_remove.3 \
	man/man3/k8snet_hostports_check.3 \
	man/man3/k8snet_hostports_gc.3 \
	man/man3/k8snet_hostports_set_network.3

TESTS += tests/netns/test-hostport.sh
EXTRA_DIST += tests/netns/test-hostport.sh
