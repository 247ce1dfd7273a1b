#!/bin/sh
# The test API server's protocol tests (test_protocol.py), inside a
# throwaway network namespace: the servers listen on its 127.0.0.1.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
py="${PYTHON3:-python3}"
command -v "$py" >/dev/null || { echo "SKIP: no python3"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
netns_add apisrv
export PYTHONDONTWRITEBYTECODE=1 K8ST_NETNS="$NETNS"
ip netns exec "$NETNS" "$py" "$top_srcdir/tests/apiserver/test_protocol.py"
