#!/bin/sh
# k8snet observe follows its file under valgrind: the file is replaced 90
# times (a valid version, a broken one, none at all, in turn) while observe
# runs; observe stays up to its --timeout, says each failing version it saw
# once, and ends with no valgrind error and no definite or indirect leak.
# (The library's own reload loop, with RSS, is in test-observe-decode.)
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
VALGRIND=${VALGRIND:-valgrind}
command -v "$VALGRIND" >/dev/null || { echo "SKIP: no valgrind"; exit 77; }
tmp=$(mktemp -d /tmp/k8st-follow.XXXXXX)
trap '_k8st_cleanup; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
netns_add follow; ns=$NETNS
good='{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "a", "namespace": "x"},
 "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": "10.0.0.1"}}]}'
put() { printf '%s' "$1" >"$tmp/t"; mv "$tmp/t" "$tmp/o.json"; }
put "$good"
k8snet="$top_builddir/examples/k8snet"
[ -x "$top_builddir/examples/.libs/k8snet" ] && k8snet="$top_builddir/examples/.libs/k8snet"
LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$VALGRIND" --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--log-file="$tmp/vg.log" "$k8snet" observe --netns "/run/netns/$ns" --timeout 20 \
	"$tmp/o.json" >"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
until ip netns exec "$ns" cat /proc/net/netfilter/nfnetlink_log | grep -q '^ *100 '; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "observe did not start: $(cat "$tmp/err")"
	sleep 0.1
done
i=0
while [ $i -lt 90 ]; do
	case $((i % 3)) in
	0) put "$good" ;;
	1) put '{"kind": "List", "items": [' ;;
	2) rm -f "$tmp/o.json" ;;
	esac
	i=$((i + 1))
	sleep 0.05
done
put "$good"
wait $pid
rc=$?
[ $rc = 0 ] || fail "observe exited $rc: $(tail -5 "$tmp/err"); valgrind: $(head -40 "$tmp/vg.log")"
bad=$(grep -c "still named with the objects read before" "$tmp/err")
# Each broken or missing version is said at most once (some come and go
# between two looks at the file, 100 ms apart).
[ "$bad" -ge 5 ] && [ "$bad" -le 60 ] || fail "$bad messages for 60 failing versions: $(head "$tmp/err")"
other=$(grep -vc "still named with the objects read before" "$tmp/err")
[ "$other" = 0 ] || fail "other messages: $(grep -v "still named" "$tmp/err" | head)"
echo "PASS: observe followed 90 versions of its file under valgrind ($bad failing ones said), clean"
