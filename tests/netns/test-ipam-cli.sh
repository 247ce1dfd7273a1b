#!/bin/sh
# The `k8snet ipam` command line: output stable for scripts, and every bad
# input of the issue gives a non-zero exit, one line on stderr and a state
# file left byte for byte as it was.
set -eu
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
st="$tmp/pods.state"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$k8snet" ipam alloc --state "$st" --pool 10.244.1.0/29 --owner c1 --ifname eth0)
[ "$out" = 10.244.1.1/29 ] || fail "first alloc gave '$out'"
out=$("$k8snet" ipam alloc --state "$st" --pool 10.244.1.0/29 --owner c2 --ifname eth0 --ip 10.244.1.5)
[ "$out" = 10.244.1.5/29 ] || fail "--ip gave '$out'"
out=$("$k8snet" ipam alloc --state "$st" --pool 10.244.1.0/29 --owner c1 --ifname eth0)
[ "$out" = 10.244.1.1/29 ] || fail "repeated alloc gave '$out'"
out=$("$k8snet" ipam alloc --state "$st" --pool 10.244.1.0/29 --range-start 10.244.1.2 \
	--range-end 10.244.1.3 --owner c3 --ifname eth1)
[ "$out" = 10.244.1.2/29 ] || fail "range alloc gave '$out'"
"$k8snet" ipam list --state "$st" > "$tmp/list"
printf '10.244.1.1 c1 eth0\n10.244.1.2 c3 eth1\n10.244.1.5 c2 eth0\n' | cmp -s - "$tmp/list" ||
	fail "list: $(cat "$tmp/list")"

# Fill the small range so that the next allocation from it is refused.
"$k8snet" ipam alloc --state "$st" --pool 10.244.1.0/29 --range-start 10.244.1.2 \
	--range-end 10.244.1.3 --owner c4 --ifname eth0 > /dev/null
cp "$st" "$tmp/before"
bad() {   # bad EXPECTED-STDERR-FRAGMENT ARGS...
	want="$1"; shift
	if "$k8snet" ipam "$@" > "$tmp/out" 2> "$tmp/err"; then
		fail "'$*' succeeded"
	fi
	[ "$(wc -l < "$tmp/err")" = 1 ] || fail "'$*': stderr is not one line: $(cat "$tmp/err")"
	grep -q -- "$want" "$tmp/err" || fail "'$*': stderr lacks '$want': $(cat "$tmp/err")"
	[ ! -s "$tmp/out" ] || fail "'$*' printed $(cat "$tmp/out")"
	cmp -s "$st" "$tmp/before" || fail "'$*' changed the state file"
}
p="alloc --state $st --owner c9 --ifname eth0"
bad "not a CIDR" $p --pool 10.244.1.0/33
bad "not a CIDR" $p --pool banana
bad "not a CIDR" $p --pool 10.244.1.0/024
bad "rangeStart: 10.9.0.1 is outside the subnet" $p --pool 10.244.1.0/29 --range-start 10.9.0.1
bad "after rangeEnd" $p --pool 10.244.1.0/29 --range-start 10.244.1.4 --range-end 10.244.1.3
bad "pool 10.244.1.0/29 is exhausted" $p --pool 10.244.1.0/29 --range-start 10.244.1.2 \
	--range-end 10.244.1.3
bad "not in pool" $p --pool 10.244.1.0/29 --ip 10.244.2.1
bad "already held by owner c2" $p --pool 10.244.1.0/29 --ip 10.244.1.5
bad "reserved" $p --pool 10.244.1.0/29 --ip 10.244.1.7
bad "not an IP address" $p --pool 10.244.1.0/29 --ip 10.244.1.300
bad "owner" alloc --state "$st" --pool 10.244.1.0/29 --owner "a b" --ifname eth0
bad "--pool is required" alloc --state "$st" --owner c9 --ifname eth0
bad "state is required" list
bad "unknown command .ipam frobnicate." frobnicate --state "$st"

# A foreign file is refused and left alone.
echo "not ours" > "$tmp/foreign"
if "$k8snet" ipam alloc --state "$tmp/foreign" --pool 10.0.0.0/24 --owner a --ifname eth0 \
	2> "$tmp/err"; then fail "foreign file accepted"; fi
grep -q "not a libk8snet IPAM state file" "$tmp/err" || fail "foreign: $(cat "$tmp/err")"
[ "$(cat "$tmp/foreign")" = "not ours" ] || fail "foreign file changed"

# Release by key (twice: still fine) and by address.
"$k8snet" ipam release --state "$st" --owner c1 --ifname eth0
"$k8snet" ipam release --state "$st" --owner c1 --ifname eth0
"$k8snet" ipam release --state "$st" --ip 10.244.1.5
"$k8snet" ipam list --state "$st" > "$tmp/list"
printf '10.244.1.2 c3 eth1\n10.244.1.3 c4 eth0\n' | cmp -s - "$tmp/list" ||
	fail "list after release: $(cat "$tmp/list")"

# Node CIDRs.
out=$("$k8snet" ipam alloc --state "$tmp/nodes" --pool 10.244.0.0/16 --prefix-len 24 \
	--owner node-a --ifname "")
[ "$out" = 10.244.0.0/24 ] || fail "node CIDR '$out'"
echo "PASS: k8snet ipam alloc/release/list, bad input refused, state untouched"
