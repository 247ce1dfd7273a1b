#!/bin/sh
# k8snet policy check|render|sync: output and exit codes scripts rely on, the
# rendered text accepted by nft, and sync matching the render.
set -eu
. "$top_srcdir/tests/netns/lib.sh"
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d); trap '_k8st_cleanup; rm -rf "$tmp"' EXIT
# The e2e world plus one case's policies, as one List.
python3 - "$top_srcdir/tests/policy/netpol-e2e.json" > "$tmp/c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
case = [c for c in d["cases"] if c["name"].startswith("should support denying of egress")][0]
print(json.dumps({"kind": "List", "items": d["world"]["items"] + case["steps"][0]["apply"]}))
PY
fail() { echo "FAIL: $*"; exit 1; }

out=$("$k8snet" policy check "$tmp/c.json" --from x/a --to y/a --port 80 --protocol TCP) || fail "x/a -> y/a exit $?"
[ "$(echo "$out" | head -1)" = allow ] || fail "x/a -> y/a: $out"
echo "$out" | grep -q "egress: allowed by x/allow-to-ns-y-pod-a egress\[0\] to\[0\]" || fail "reasons: $out"
set +e
out=$("$k8snet" policy check "$tmp/c.json" --from x/a --to y/b --port 80 --protocol TCP); rc=$?
set -e
[ $rc = 1 ] && [ "$(echo "$out" | head -1)" = deny ] || fail "x/a -> y/b: rc $rc: $out"
set +e
"$k8snet" policy check "$tmp/c.json" --from x/a --to y/b --port 80 --protocol ICMP 2>/dev/null; rc1=$?
"$k8snet" policy check "$tmp/c.json" --from x/a --to y/b --port 0 --protocol TCP 2>/dev/null; rc2=$?
"$k8snet" policy check "$tmp/c.json" --from x/zz --to y/b --port 80 --protocol TCP 2>/dev/null; rc3=$?
echo '{"kind":"NetworkPolicy","metadata":{"name":"p"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":70000}]}]}}' > "$tmp/bad.json"
err=$("$k8snet" policy check "$tmp/bad.json" --from 1.1.1.1 --to 2.2.2.2 --port 1 --protocol TCP 2>&1); rc4=$?
set -e
[ $rc1 = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] && [ $rc4 = 2 ] || fail "bad input exit codes: $rc1 $rc2 $rc3 $rc4"
echo "$err" | grep -q "spec.ingress\[0\].ports\[0\].port: 70000 out of range" || fail "error: $err"
"$k8snet" policy check "$tmp/c.json" --from 10.244.1.11 --to 10.244.1.21 --port 80 --protocol UDP >/dev/null || fail "by address"

"$k8snet" policy render --node-name node1 "$tmp/c.json" > "$tmp/r.nft"
grep -q 'comment "y/allow-from-xa-on-yb-match-selector ingress\[0\] from\[0\]"' "$tmp/r.nft" || fail "render comments"

require_root
netns_add() { _k8st_n=$((_k8st_n + 1)); NETNS="k8st-$1-$$-$_k8st_n"; ip netns add "$NETNS"; _k8st_ns="$_k8st_ns $NETNS"; }
netns_add pcli; ns=$NETNS
ip netns exec "$ns" nft -c -f "$tmp/r.nft" || fail "nft refuses the rendered text"
"$k8snet" policy sync --node-netns "/run/netns/$ns" --node-name node1 "$tmp/c.json" || fail "sync"
ip netns exec "$ns" nft list table inet k8snet-policy > "$tmp/k.nft"
for c in $(grep -o 'chain [^ ]*' "$tmp/r.nft" | sort -u | cut -d' ' -f2); do
	grep -q "chain $c {" "$tmp/k.nft" || fail "chain $c missing in the kernel"
done
grep -q "10.244.1.22 : jump gin-" "$tmp/k.nft" || fail "map element missing"
# A second sync of the same input is a no-op; sync replaces a stale table.
"$k8snet" policy sync --node-netns "/run/netns/$ns" --node-name node1 "$tmp/c.json" || fail "resync"
echo "PASS: policy CLI"
