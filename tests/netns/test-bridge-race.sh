#!/bin/sh
# k8snet_link_bridge_ensure() racing itself: on a fresh node, 8 processes ask
# for the same bridge at the same moment, 15 times over (the bridge removed
# between rounds).  Every call must succeed and leave one bridge that is up;
# the losers of the race find the winner's bridge instead of failing with
# "cannot create: Object exists".  A link of another kind under that name is
# still refused.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
k8snet="$top_builddir/examples/k8snet"
[ -x "$k8snet" ] || { echo "SKIP: no k8snet"; exit 77; }
LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
TMP=$(mktemp -d /tmp/k8st-brrace.XXXXXX)
trap '_k8st_cleanup; rm -rf "$TMP"' EXIT
trap '_k8st_cleanup; rm -rf "$TMP"; exit 130' INT TERM HUP
fail() { echo "FAIL: $*"; exit 1; }

netns_add brrace; NS=$NETNS
P=8 ROUNDS=${ROUNDS:-15}
round=1 failed=0
while [ $round -le "$ROUNDS" ]; do
	i=1
	while [ $i -le $P ]; do
		( "$k8snet" bridge ensure --name rbr0 --address 10.77.0.1/24 \
			--in-netns "/run/netns/$NS" >"$TMP/out.$i" 2>&1; echo $? >"$TMP/rc.$i" ) &
		i=$((i + 1))
	done
	wait
	i=1
	while [ $i -le $P ]; do
		if [ "$(cat "$TMP/rc.$i")" != 0 ]; then
			failed=$((failed + 1))
			echo "round $round, process $i: $(cat "$TMP/out.$i")"
		fi
		i=$((i + 1))
	done
	ip -n "$NS" -d link show rbr0 | grep -q "bridge" || fail "round $round: no bridge rbr0"
	ip -n "$NS" link show rbr0 | grep -q "state UP\|,UP" || fail "round $round: rbr0 not up"
	[ "$(ip -n "$NS" -o addr show dev rbr0 | grep -c 'inet 10.77.0.1/24')" = 1 ] ||
		fail "round $round: gateway address missing or doubled"
	ip -n "$NS" link del rbr0
	round=$((round + 1))
done
[ $failed = 0 ] || fail "$failed of $((P * ROUNDS)) concurrent bridge ensure calls failed"

# Not a bridge under that name: still refused, and left alone.
ip -n "$NS" link add rbr0 type veth peer name rbr0p
if "$k8snet" bridge ensure --name rbr0 --in-netns "/run/netns/$NS" >"$TMP/out" 2>&1; then
	fail "a veth was accepted as the bridge"
fi
grep -q "kind veth" "$TMP/out" || fail "refusal does not name the kind: $(cat "$TMP/out")"
ip -n "$NS" -d link show rbr0 | grep -q veth || fail "the veth was changed"
echo "PASS: $((P * ROUNDS)) concurrent bridge ensure calls all succeeded; a non-bridge is refused"
