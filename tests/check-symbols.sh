#!/bin/sh
# The library exports exactly the symbols the version script lists, all
# k8snet_-prefixed, all at a K8SNET_ version node.
set -eu
so="$top_builddir/lib/.libs/libk8snet.so"
map="$top_srcdir/lib/libk8snet.map"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Nothing else either, but the version nodes' own absolute symbols
# (K8SNET_0.1 A), which GNU ld adds as for every symbol-versioned library.
nm -D --defined-only "$so" | awk '!($2 == "A" && $3 ~ /^K8SNET_[0-9.]+(@@K8SNET_[0-9.]+)?$/) { print $3 }' |
	sort > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | sed 's,/\*.*\*/,,' | tr -d ' \t;' | \
	grep '^k8snet_' | sort > "$tmp/listed"

status=0
if grep -v '^k8snet_' "$tmp/exported" | grep .; then
	echo "FAIL: exported symbols without the k8snet_ prefix (above)"; status=1
fi
if grep -v '@@K8SNET_' "$tmp/exported" | grep .; then
	echo "FAIL: exported symbols without a K8SNET_ version node (above)"; status=1
fi
sed 's/@.*//' "$tmp/exported" | sort > "$tmp/names"
if ! diff -u "$tmp/listed" "$tmp/names"; then
	echo "FAIL: lib/libk8snet.map (-) and the library's exports (+) differ"; status=1
fi
[ $status = 0 ] && echo "PASS: $(wc -l < "$tmp/names") symbols, all k8snet_*, all versioned"
exit $status
