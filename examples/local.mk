# The k8snet command line tool.  Its commands and options are the tables of
# examples/cli-table.c; each layer's commands live in examples/cli-LAYER.c.
bin_PROGRAMS += examples/k8snet
examples_k8snet_SOURCES = examples/k8snet.c examples/cli.h examples/cli-table.c \
	examples/cli-args.c examples/cli-help.c examples/cli-util.c examples/cli-net.c \
	examples/cli-netns.c
examples_k8snet_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
examples_k8snet_LDADD = $(EXAMPLE_LDADD) $(CJSON_LIBS)

noinst_PROGRAMS += examples/netns-describe
examples_netns_describe_SOURCES = examples/netns-describe.c
examples_netns_describe_LDADD = $(EXAMPLE_LDADD)

examples_k8snet_SOURCES += examples/cli-link.c
examples_k8snet_SOURCES += examples/cli-ipam.c
examples_k8snet_SOURCES += examples/cli-dns.c
examples_k8snet_SOURCES += examples/cli-policy.c
examples_k8snet_SOURCES += examples/cli-nat.c
examples_k8snet_SOURCES += examples/cli-hostport.c
examples_k8snet_SOURCES += examples/cli-trace.c
examples_k8snet_SOURCES += examples/cli-observe.c

# bash completion: the script asks `k8snet __complete`, so it never goes
# stale.  bashcompletiondir comes from configure (bash-completion's
# pkg-config file, else $(datadir)/bash-completion/completions).
dist_bashcompletion_DATA = examples/bash-completion/k8snet

# The command line's tests: help, mistakes and -o json; k8snet(1) against
# the tables; completion; and, as root, gateways, forwarding and warnings.
TESTS += tests/cli/test-cli-help.sh tests/cli/test-cli-man.sh \
	tests/cli/test-cli-completion.sh tests/netns/test-cli-netns.sh
EXTRA_DIST += tests/cli/test-cli-help.sh tests/cli/test-cli-man.sh \
	tests/cli/test-cli-completion.sh tests/netns/test-cli-netns.sh

# The CNI plugin: the protocol in the binary, the work through the library
# (IPAM, link), hostPort/ipMasq through its own nftables table.
bin_PROGRAMS += examples/k8snet-cni
examples_k8snet_cni_SOURCES = examples/cni/cni.h examples/cni/main.c \
	examples/cni/conf.c examples/cni/result.c \
	examples/cni/delegate.c examples/cni/ipam.c \
	examples/cni/ipam-local.h examples/cni/ipam-local.c \
	examples/cni/net.c examples/cni/nft.c
examples_k8snet_cni_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS) $(LIBMNL_CFLAGS) $(LIBNFTNL_CFLAGS)
# The plugin carries the library in the binary, as CNI plugins dropped into
# /opt/cni/bin usually do: it runs wherever the runtime finds it, and each
# ADD, one exec, skips loading and relocating libk8snet.so (0.2-0.3 ms of an
# ADD).  It still calls the public API only.  CNI_DEPS_LIBS: see configure.ac.
examples_k8snet_cni_LDADD = lib/libk8snet-internal.la $(CNI_DEPS_LIBS)

# k8snet-cni's tests and benchmark.
TESTS += tests/netns/test-cni.sh tests/netns/test-cni-reference.sh \
	tests/netns/test-cni-parallel.sh tests/netns/test-cni-podman.sh \
	tests/netns/test-cni-valgrind.sh tests/netns/test-cni-demo.sh \
	tests/netns/test-cni-hostile.sh tests/netns/test-cni-property.sh \
	tests/netns/test-cni-portmap.sh
# The property test runs 25 s in `make check` and 2 minutes in `make check-long`.
LONG_TESTS += tests/netns/test-cni-property.sh
EXTRA_DIST += tests/netns/cni-lib.sh tests/netns/test-cni.sh tests/netns/test-cni-reference.sh \
	tests/netns/test-cni-parallel.sh tests/netns/test-cni-podman.sh \
	tests/netns/test-cni-valgrind.sh tests/netns/test-cni-demo.sh bench/cni-bench.sh \
	tests/netns/test-cni-hostile.sh tests/netns/test-cni-property.sh \
	tests/netns/test-cni-property.py tests/netns/test-cni-portmap.sh
noinst_PROGRAMS += bench/cni-bench
bench_cni_bench_SOURCES = bench/cni-bench.c
BENCH_RUNNERS += bench/cni-bench.sh bench/podman-bench.sh
EXTRA_DIST += bench/podman-bench.sh
EXTRA_DIST += examples/demo/cluster-in-a-box.sh
dist_man1_MANS += man/man1/k8snet.1 man/man1/k8snet-cni.1
FUZZ_TARGETS += cni
EXTRA_DIST += tests/fuzz/fuzz-cni.c tests/fuzz/corpus/cni
