#!/bin/sh
# Every Check unit test again under valgrind memcheck: no invalid access, no
# leak.  CK_FORK=no keeps each test in the process valgrind watches.
set -eu
[ -n "${VALGRIND:-}" ] || { echo "SKIP: valgrind not installed"; exit 77; }
status=0
for t in $UNIT_TESTS; do
	if ! CK_FORK=no "$VALGRIND" --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$top_builddir/$t" > "$top_builddir/$t.valgrind.log" 2>&1; then
		echo "FAIL: $t under valgrind"; tail -40 "$top_builddir/$t.valgrind.log"; status=1
	else
		echo "PASS: $t clean under valgrind"
	fi
done
exit $status
