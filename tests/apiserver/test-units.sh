#!/bin/sh
# Unit tests of the test API server's parts (selectors, patches, the store):
# no root, no network.
set -u
py="${PYTHON3:-python3}"
command -v "$py" >/dev/null || { echo "SKIP: no python3"; exit 77; }
export PYTHONDONTWRITEBYTECODE=1
cd "$top_srcdir/tests/apiserver" && exec "$py" -m unittest -v test_units
