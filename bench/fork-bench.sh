#!/bin/sh
# The fork rule's check, per call: a context's page read against getpid()
# (the fallback, and the check on objects made without a context).
set -eu
exec "$top_builddir/bench/bench-fork"
