#!/bin/sh
# The library under sanitizers, against a real kernel (throwaway namespaces):
#   - test-threads under ThreadSanitizer: two threads with their own
#     contexts render and sync at once; any shared access is a failure;
#   - test-nft-core under AddressSanitizer and UBSan: the kernel path, the
#     batch builder with 100,000 elements, 60,000 host ports;
#   - test-fork under AddressSanitizer and UBSan: the fork rule.
# Skipped without clang or root.
set -eu
[ -n "${CLANG:-}" ] || { echo "SKIP: clang not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
. "$top_srcdir/tests/sanitize/lib.sh"
out="$top_builddir/tests/sanitize/build"
mkdir -p "$out"
harness="$top_srcdir/tests/netns/harness.c"
status=0

tsan=$(sanitize_lib tsan "-fsanitize=thread") || { echo "FAIL: cannot build the library with TSan"; exit 1; }
# shellcheck disable=SC2086
"$CLANG" -g -O1 -fsanitize=thread -include "$top_builddir/config.h" $FUZZ_CFLAGS \
	-I"$top_srcdir/tests/netns" "$top_srcdir/tests/sanitize/test-threads.c" "$harness" "$tsan" \
	$FUZZ_LIBS -lpthread -o "$out/test-threads"
if TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0" "$out/test-threads" \
	>"$out/test-threads.log" 2>&1; then
	echo "PASS: test-threads under ThreadSanitizer: $(tail -1 "$out/test-threads.log")"
else
	tail -60 "$out/test-threads.log"; echo "FAIL: test-threads under ThreadSanitizer"; status=1
fi

asan=$(sanitize_lib asan "-fsanitize=address,undefined -fno-sanitize-recover=all") ||
	{ echo "FAIL: cannot build the library with ASan"; exit 1; }
# shellcheck disable=SC2086
"$CLANG" -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-include "$top_builddir/config.h" $FUZZ_CFLAGS -I"$top_srcdir/tests/netns" \
	"$top_srcdir/tests/netns/test-nft-core.c" "$harness" "$asan" $FUZZ_LIBS -o "$out/test-nft-core"
if ASAN_OPTIONS="detect_leaks=1" "$out/test-nft-core" >"$out/test-nft-core.log" 2>&1; then
	echo "PASS: test-nft-core under ASan+UBSan: $(tail -1 "$out/test-nft-core.log")"
else
	tail -60 "$out/test-nft-core.log"; echo "FAIL: test-nft-core under ASan+UBSan"; status=1
fi
# The fork rule's test: every exported function in a child, then the
# parent's objects, with the child freeing what it inherited.
# shellcheck disable=SC2086
"$CLANG" -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-include "$top_builddir/config.h" $FUZZ_CFLAGS "$top_srcdir/tests/unit/test-fork.c" "$asan" \
	$FUZZ_LIBS -o "$out/test-fork"
if ASAN_OPTIONS="detect_leaks=1" "$out/test-fork" >"$out/test-fork.log" 2>&1; then
	echo "PASS: test-fork under ASan+UBSan: $(tail -1 "$out/test-fork.log")"
else
	tail -60 "$out/test-fork.log"; echo "FAIL: test-fork under ASan+UBSan"; status=1
fi
exit $status
