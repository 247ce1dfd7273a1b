#!/bin/sh
# The k8snet-cni property test (test-cni-property.py): 4 runners, random
# ADD/DEL/CHECK/GC over 20 container IDs with random portMappings, every
# invariant checked after every step.  25 s in `make check`; the full 2
# minutes under `make check-long` (K8SNET_LONG=1); DURATION=S and SEED=N
# override.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: no nft"; exit 77; }
exec "${PYTHON3:-python3}" "$top_srcdir/tests/netns/test-cni-property.py"
