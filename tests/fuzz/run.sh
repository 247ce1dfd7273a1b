#!/bin/sh
# Builds each libFuzzer target (tests/fuzz/fuzz-NAME.c) with clang, ASan and
# UBSan against the library sources (compiled once, see tests/sanitize/lib.sh),
# then fuzzes it briefly from its seed corpus.  FUZZ_SECONDS (default 10) per
# target; skipped without clang.
set -eu
[ -n "${CLANG:-}" ] || { echo "SKIP: clang not installed"; exit 77; }
. "$top_srcdir/tests/sanitize/lib.sh"
out="$top_builddir/tests/fuzz/build"
mkdir -p "$out"
lib=$(sanitize_lib fuzz "-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all") ||
	{ echo "FAIL: cannot build the library for fuzzing"; exit 1; }
status=0
for t in $FUZZ_TARGETS; do
	bin="$out/fuzz-$t"
	# A target may build more sources with it, and flags: comment lines
	# "fuzz-sources: FILE..." (from the source tree) and "fuzz-cflags: ...".
	target="$top_srcdir/tests/fuzz/fuzz-$t.c"
	extra="" cflags=$(sed -n 's/^ *\** *fuzz-cflags: *//p' "$target")
	for f in $(sed -n 's/^ *\** *fuzz-sources: *//p' "$target"); do extra="$extra $top_srcdir/$f"; done
	# shellcheck disable=SC2086
	if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-include "$top_builddir/config.h" $FUZZ_CFLAGS $cflags "$target" $extra "$lib" \
		$FUZZ_LIBS -o "$bin"; then
		echo "FAIL: cannot build fuzz-$t"; status=1; continue
	fi
	work="$out/corpus-$t"; mkdir -p "$work"
	if "$bin" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=1024 \
		"$work" "$top_srcdir/tests/fuzz/corpus/$t" > "$out/fuzz-$t.log" 2>&1; then
		echo "PASS: fuzz-$t: $(grep -o 'Done [0-9]* runs' "$out/fuzz-$t.log" | tail -1)"
	else
		tail -40 "$out/fuzz-$t.log"; echo "FAIL: fuzz-$t found a crash"; status=1
	fi
done
exit $status
