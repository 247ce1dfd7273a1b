#!/bin/sh
# Trace benchmark: one k8snet_trace_run() with 10,000 Services and 1,000
# NetworkPolicies loaded (bar: 1 ms), beside the policy evaluator alone.
# No kernel, no root.
set -eu
echo "== trace: one connection explained, 10,000 services, 1,000 policies"
"$top_builddir/bench/trace-bench" 10000 1000 3000
