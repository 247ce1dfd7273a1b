#!/bin/sh
# Runs the Python binding tests (unittest) against the build tree's library.
set -eu
py="${PYTHON3:-python3}"
command -v "$py" >/dev/null || { echo "SKIP: no python3"; exit 77; }
export PYTHONPATH="$top_srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
cd "$top_srcdir/tests/python"
exec "$py" -m unittest discover -v -s . -p 'test_*.py'
