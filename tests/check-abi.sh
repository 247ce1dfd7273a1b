#!/bin/sh
# The library's ABI equals the committed baseline abi/libk8snet.abi.
# After a reviewed, intended change (new symbols in a new version node, or a
# release), refresh the baseline on purpose with:   make abi-refresh
# (which runs this script with --refresh).  Only types of the public headers
# count: the layout of opaque structs is private and may change freely.
set -eu
[ -n "${ABIDW:-}" ] && [ -n "${ABIDIFF:-}" ] || { echo "SKIP: abigail-tools not installed"; exit 77; }
base="$top_srcdir/abi/libk8snet.abi"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$ABIDW" --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types --drop-undefined-syms \
	--headers-dir "$top_srcdir/include/k8snet" --headers-dir "$top_builddir/include/k8snet" \
	"$top_builddir/lib/.libs/libk8snet.so" > "$tmp/current.abi"
if [ "${1:-}" = --refresh ]; then
	cp "$tmp/current.abi" "$base"
	echo "refreshed $base"
	exit 0
fi
[ -f "$base" ] || { echo "FAIL: no baseline $base (run: make abi-refresh)"; exit 1; }
if "$ABIDIFF" "$base" "$tmp/current.abi" > "$tmp/diff" 2>&1; then
	echo "PASS: ABI matches abi/libk8snet.abi"
	exit 0
fi
cat "$tmp/diff"
echo "FAIL: the ABI changed; if intended, run 'make abi-refresh' and commit abi/libk8snet.abi"
exit 1
