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
