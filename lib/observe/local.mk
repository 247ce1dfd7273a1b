# The observe layer: NFLOG verdict events, decoded and named.
lib_libk8snet_internal_la_SOURCES += lib/observe/observe.c

k8snetinclude_HEADERS += include/k8snet/observe.h

TESTS += tests/netns/test-observe.sh
EXTRA_DIST += tests/netns/test-observe.sh
