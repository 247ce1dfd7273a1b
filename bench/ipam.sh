#!/bin/sh
# Runs the IPAM benchmarks: in-memory throughput, then persistent allocation
# latency for the library, the k8snet CLI and Debian's host-local plugin.
set -eu
b="$top_builddir"
cli="$b/examples/.libs/k8snet"
[ -x "$cli" ] || cli="$b/examples/k8snet"
export LD_LIBRARY_PATH="$b/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$b/bench/bench-ipam" --k8snet "$cli" --host-local /usr/lib/cni/host-local "$@"
