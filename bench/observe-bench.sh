#!/bin/sh
# Observe benchmark: NFLOG verdict events decoded and named per second on
# one core (bar: 200,000), beside libmnl's bare walk.  No kernel, no root.
set -eu
echo "== observe: NFLOG events decoded per second"
"$top_builddir/bench/observe-bench" 2000000
