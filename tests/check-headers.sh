#!/bin/sh
# Each public header compiles alone, as C89 (pedantic) and as C++.
set -eu
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0; n=0
for h in "$top_srcdir"/include/k8snet/*.h "$top_builddir"/include/k8snet/version.h; do
	[ -f "$h" ] || continue
	name=$(basename "$h")
	printf '#include <k8snet/%s>\nint k8snet_header_check_dummy;\n' "$name" > "$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cc"
	inc="-I$top_srcdir/include -I$top_builddir/include"
	if ! ${CC:-cc} -std=c89 -pedantic -Wall -Wextra -Werror $inc -fsyntax-only "$tmp/t.c"; then
		echo "FAIL: $name as C89"; status=1
	fi
	if ! ${CXX:-c++} -std=c++11 -pedantic -Wall -Wextra -Werror $inc -fsyntax-only "$tmp/t.cc"; then
		echo "FAIL: $name as C++"; status=1
	fi
	n=$((n + 1))
done
[ $status = 0 ] && echo "PASS: $n headers compile alone as C89 and C++"
exit $status
