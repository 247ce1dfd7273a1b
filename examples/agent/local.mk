# k8snet-agent: the node agent (examples/agent/), its tests and benchmark.
# libcurl is the agent's alone; the library never links it.
bin_PROGRAMS += examples/k8snet-agent
AGENT_CORE_SOURCES = examples/agent/agent.h examples/agent/util.c examples/agent/yaml.c \
	examples/agent/kubeconfig.c examples/agent/kinds.c examples/agent/informer.c
examples_k8snet_agent_SOURCES = $(AGENT_CORE_SOURCES) examples/agent/main.c \
	examples/agent/api.c examples/agent/model.c examples/agent/node.c \
	examples/agent/stopgap.c examples/agent/zone.c examples/agent/metrics.c \
	examples/agent/serve.c examples/agent/sync.c examples/agent/objects.c
examples_k8snet_agent_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS) $(LIBCURL_CFLAGS) -pthread
examples_k8snet_agent_LDADD = $(EXAMPLE_LDADD) $(CJSON_LIBS) $(LIBCURL_LIBS) -lm
examples_k8snet_agent_LDFLAGS = $(AM_LDFLAGS) -pthread

# The agent's pure logic (kubeconfig, YAML, informer) against fixtures.
check_PROGRAMS += tests/agent/test-agent-unit
TESTS += tests/agent/test-agent-unit
tests_agent_test_agent_unit_SOURCES = tests/agent/test-agent-unit.c $(AGENT_CORE_SOURCES)
tests_agent_test_agent_unit_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS) $(CHECK_CFLAGS)
tests_agent_test_agent_unit_LDADD = $(CJSON_LIBS) $(CHECK_LIBS) -lm

# Real kernel, real traffic (root): agents against the test API server.
TESTS += tests/netns/test-agent-cluster.sh tests/netns/test-agent-features.sh \
	tests/netns/test-agent-valgrind.sh tests/netns/test-agent-observe.sh
EXTRA_DIST += tests/netns/agent-lib.sh tests/netns/test-agent-cluster.sh \
	tests/netns/test-agent-features.sh tests/netns/test-agent-valgrind.sh \
	tests/netns/test-agent-observe.sh

# Benchmark: start to first sync, change-to-kernel latency, memory and idle
# CPU with 10,000 services (bench/agent-bench.sh runs it, with the peers).
noinst_PROGRAMS += bench/agent-bench
bench_agent_bench_SOURCES = bench/agent-bench.c examples/agent/agent.h examples/agent/util.c \
	examples/agent/yaml.c examples/agent/kubeconfig.c
bench_agent_bench_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS) $(LIBCURL_CFLAGS)
bench_agent_bench_LDADD = $(CJSON_LIBS) $(LIBCURL_LIBS) -lm
BENCH_RUNNERS += bench/agent-bench.sh
EXTRA_DIST += bench/agent-bench.sh

dist_man8_MANS = man/man8/k8snet-agent.8
EXTRA_DIST += deploy/k8snet-agent.yaml deploy/k8snet-agent.service
