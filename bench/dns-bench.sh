#!/bin/sh
# DNS layer benchmarks: zone generation for 10,000 services x 5 endpoints
# (bar: 100 ms).  Run by `make bench`; prints one comparison line per way.
set -eu
exec "$top_builddir/bench/bench-dns-zone"
