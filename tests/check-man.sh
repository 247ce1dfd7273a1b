#!/bin/sh
# Every exported symbol has its man3 page, and every page is mandoc-lint clean.
set -eu
[ -n "${MANDOC:-}" ] || { echo "SKIP: mandoc not installed"; exit 77; }
so="$top_builddir/lib/.libs/libk8snet.so"
status=0
for sym in $(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | grep '^k8snet_' | sort -u); do
	page="$top_srcdir/man/man3/$sym.3"
	if [ ! -f "$page" ]; then
		echo "FAIL: $sym has no man page man/man3/$sym.3"; status=1
	elif ! grep -qw "$sym" "$page"; then
		echo "FAIL: man/man3/$sym.3 does not mention $sym"; status=1
	fi
done
for page in "$top_srcdir"/man/man*/*.[1378]; do
	# .so links are resolved relative to the man root.
	if ! out=$(cd "$top_srcdir/man" && "$MANDOC" -T lint -W warning "$page" 2>&1) || [ -n "$out" ]; then
		echo "FAIL: mandoc -T lint $page"; echo "$out"; status=1
	fi
done
[ $status = 0 ] && echo "PASS: every symbol has a page; all pages lint clean"
exit $status
