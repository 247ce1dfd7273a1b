# The link layer (pod plumbing): bridge, veth into pods, routes, host-gw and
# VXLAN between nodes.  Pure planning (ip.c, pod.c, result.c) is kept apart
# from kernel I/O (bridge.c, attach.c, check.c, node.c, kernel.c, netns.c).
lib_libk8snet_internal_la_SOURCES += \
	lib/link/internal.h \
	lib/link/kernel.h \
	lib/link/ip.c \
	lib/link/pod.c \
	lib/link/result.c \
	lib/link/netns.c \
	lib/link/kernel.c \
	lib/link/bridge.c \
	lib/link/attach.c \
	lib/link/check.c \
	lib/link/node.c

k8snetinclude_HEADERS += include/k8snet/link.h

TESTS += tests/netns/test-link-pods.sh tests/netns/test-link-nodes.sh
EXTRA_DIST += tests/netns/test-link-pods.sh tests/netns/test-link-nodes.sh tests/netns/link-lib.sh
# Concurrent k8snet_link_bridge_ensure() calls on a fresh node (issue 13).
check_PROGRAMS += tests/netns/test-bridge-race
TESTS += tests/netns/test-bridge-race
tests_netns_test_bridge_race_SOURCES = tests/netns/test-bridge-race.c
tests_netns_test_bridge_race_LDADD = $(NETNS_LDADD)

noinst_PROGRAMS += bench/link-bench
bench_link_bench_SOURCES = bench/link-bench.c
bench_link_bench_LDADD = $(EXAMPLE_LDADD)
BENCH_RUNNERS += bench/link-bench.sh
EXTRA_DIST += bench/link-bench.sh bench/link-bench-cni.py

check_PROGRAMS += tests/unit/test-link
TESTS += tests/unit/test-link
tests_unit_test_link_SOURCES = tests/unit/test-link.c
tests_unit_test_link_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_link_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/netns/test-link-api
TESTS += tests/netns/test-link-api
tests_netns_test_link_api_SOURCES = tests/netns/test-link-api.c
tests_netns_test_link_api_LDADD = $(NETNS_LDADD)

dist_man3_MANS += \
	man/man3/k8snet_link_bridge_ensure.3 \
	man/man3/k8snet_link_host_ifname.3 \
	man/man3/k8snet_link_node_setup.3 \
	man/man3/k8snet_link_peer_add.3 \
	man/man3/k8snet_link_peer_del.3 \
	man/man3/k8snet_link_pod_add_address.3 \
	man/man3/k8snet_link_pod_add_route.3 \
	man/man3/k8snet_link_pod_attach.3 \
	man/man3/k8snet_link_pod_check.3 \
	man/man3/k8snet_link_pod_detach.3 \
	man/man3/k8snet_link_pod_free.3 \
	man/man3/k8snet_link_pod_get_error.3 \
	man/man3/k8snet_link_pod_get_str.3 \
	man/man3/k8snet_link_pod_get_u32.3 \
	man/man3/k8snet_link_pod_new.3 \
	man/man3/k8snet_link_pod_set_netns_fd.3 \
	man/man3/k8snet_link_pod_set_str.3 \
	man/man3/k8snet_link_pod_set_u32.3 \
	man/man3/k8snet_link_result_get_count.3 \
	man/man3/k8snet_link_result_free.3 \
	man/man3/k8snet_link_result_get_int.3 \
	man/man3/k8snet_link_result_get_str.3 \
	man/man3/k8snet_link_result_to_json.3 \
	man/man3/k8snet_link_set_route_localnet.3 \
	man/man3/k8snet_link_vxlan_ensure.3

EXTRA_DIST += tests/fuzz/fuzz-link.c tests/fuzz/corpus/link
FUZZ_TARGETS += link
