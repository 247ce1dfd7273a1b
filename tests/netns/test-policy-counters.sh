#!/bin/sh
# Per-policy named counters (policy sync --counters) against the kernel: a
# node with a bridge and pods web, db, client, intruder; policy web-in lets
# role=client reach web:8080, policy db-in lets app=web reach db:8080.
# Allowed connections are counted exactly per policy (their first packets),
# denied ones at least once each, each on its own policy; the counts survive
# a rewrite of the policies' rules and a full sync (a new process replacing
# the table).
set -eu
. "$top_srcdir/tests/netns/lib.sh"
require_root
k8snet="$top_builddir/examples/k8snet"
T=pcnt
tmp=$(mktemp -d); srv=""
trap '_k8st_cleanup; kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
netns_add "$T-node"; node=$NETNS
ip -n "$node" link add br0 type bridge
ip -n "$node" link set br0 up
ip -n "$node" addr add 10.246.0.1/24 dev br0
ip netns exec "$node" sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' ||
	{ echo "SKIP: no br_netfilter"; exit 77; }
i=1
for p in web db client intruder; do
	i=$((i + 1))
	netns_add "$T-$p"; eval "ns_$p=$NETNS"
	ip -n "$node" link add "v$p-$$" type veth peer name eth0 netns "$NETNS"
	ip -n "$node" link set "v$p-$$" master br0 up
	ip -n "$NETNS" addr add "10.246.0.$i/24" dev eth0
	ip -n "$NETNS" link set eth0 up
done
world() { # PORTS of web-in
	cat <<JSON
{"kind": "List", "items": [
 {"kind": "Namespace", "metadata": {"name": "shop"}},
 {"kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.246.0.2"}},
 {"kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.246.0.3"}},
 {"kind": "Pod", "metadata": {"name": "client", "namespace": "shop", "labels": {"role": "client"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.246.0.4"}},
 {"kind": "Pod", "metadata": {"name": "intruder", "namespace": "shop", "labels": {"role": "other"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.246.0.5"}},
 {"kind": "NetworkPolicy", "metadata": {"name": "web-in", "namespace": "shop"},
  "spec": {"podSelector": {"matchLabels": {"app": "web"}},
           "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                        "ports": [$1]}]}},
 {"kind": "NetworkPolicy", "metadata": {"name": "db-in", "namespace": "shop"},
  "spec": {"podSelector": {"matchLabels": {"app": "db"}},
           "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}}]}
JSON
}
world '{"port": 8080}' > "$tmp/w1.json"
world '{"port": 8080}, {"port": 8081}' > "$tmp/w2.json"
for p in web db; do
	eval "ns=\$ns_$p"
	ip netns exec "$ns" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()' &
	srv="$srv $!"
done
sleep 0.3
connect() { # NS ADDR N -> how many of N connections got in
	ip netns exec "$1" python3 -c '
import socket, sys
ok = 0
for _ in range(int(sys.argv[2])):
    try:
        socket.create_connection((sys.argv[1], 8080), timeout=0.3).close()
        ok += 1
    except OSError:
        pass
print(ok)' "$2" "$3"
}
sync() { "$k8snet" policy sync --node-netns "/run/netns/$node" --node-name node1 --counters "$@"; }
# counters FILE POLICY -> "allowed_packets allowed_bytes denied_packets denied_bytes"
counters() {
	"$k8snet" policy counters --node-netns "/run/netns/$node" -o json "$1" | python3 -c '
import json, sys
c = {p["name"]: p for p in json.load(sys.stdin)}[sys.argv[1]]
print(c["allowed_packets"], c["allowed_bytes"], c["denied_packets"], c["denied_bytes"])' "$2"
}

sync "$tmp/w1.json" || fail "sync --counters"
ip netns exec "$node" nft list counters table inet k8snet-policy | grep -q 'counter pol/shop/web-in/allowed' ||
	fail "no named counter: $(ip netns exec "$node" nft list table inet k8snet-policy)"
[ "$(connect "$ns_client" 10.246.0.2 7)" = 7 ] || fail "client refused by web"
[ "$(connect "$ns_intruder" 10.246.0.2 3)" = 0 ] || fail "intruder got into web"
[ "$(connect "$ns_web" 10.246.0.3 4)" = 4 ] || fail "web refused by db"
[ "$(connect "$ns_client" 10.246.0.3 2)" = 0 ] || fail "client got into db"
set -- $(counters "$tmp/w1.json" web-in)
web="$*"
[ "$1" = 7 ] && [ "$2" -ge $((7 * 40)) ] || fail "web-in allowed: $web, expected 7 connections"
[ "$3" -ge 3 ] && [ "$4" -ge $((3 * 40)) ] || fail "web-in denied: $web, expected at least 3"
echo "ok: web-in $web"
set -- $(counters "$tmp/w1.json" db-in)
db="$*"
[ "$1" = 4 ] || fail "db-in allowed: $db, expected 4"
[ "$3" -ge 2 ] || fail "db-in denied: $db, expected at least 2"
echo "ok: db-in $db"

# A new process replaces the table (a full sync) with web-in rewritten:
# both policies' counts go on.
sync --full "$tmp/w2.json" || fail "sync w2"
ip netns exec "$node" nft list chain inet k8snet-policy pin/shop/web-in | grep -q 8081 ||
	fail "web-in not rewritten"
[ "$(counters "$tmp/w2.json" web-in)" = "$web" ] || fail "web-in after the rewrite: $(counters "$tmp/w2.json" web-in), was $web"
[ "$(counters "$tmp/w2.json" db-in)" = "$db" ] || fail "db-in after the rewrite: $(counters "$tmp/w2.json" db-in), was $db"
[ "$(connect "$ns_client" 10.246.0.2 2)" = 2 ] || fail "client refused by web after the rewrite"
set -- $(counters "$tmp/w2.json" web-in)
[ "$1" = 9 ] || fail "web-in allowed after 2 more: $*"
echo "ok: counts survive a rewrite and a full sync ($*)"
# The same in one process (the Python binding): a sync that rewrites only
# web-in's chain (a delta) and a pod's churn keep both policies' counts.
PYTHONPATH="$top_srcdir/bindings/python" \
python3 - "/run/netns/$node" "$tmp/w1.json" "$tmp/w2.json" "$ns_client" <<'PY' || fail "delta syncs"
import json, subprocess, sys
import k8snet
from k8snet import policy
netns, w1, w2, client = sys.argv[1:5]
def connect(n):
    subprocess.run(["ip", "netns", "exec", client, "python3", "-c", """
import socket
for _ in range(%d):
    socket.create_connection(("10.246.0.2", 8080), timeout=0.3).close()""" % n], check=True)
with k8snet.Context(netns=netns) as ctx, policy.PolicyDB(ctx) as db:
    db.set_log(denied=False, counters=True)
    db.load_json(open(w1).read())
    db.sync("node1", full=True)            # carries the counts over
    before = db.counters("shop", "web-in")
    assert before["allowed_packets"] == 9, before
    connect(2)
    db.load_json(open(w2).read())          # web-in rewritten: a delta
    db.sync("node1")
    after = db.counters("shop", "web-in")
    assert after["allowed_packets"] == 11, (before, after)
    db.delete("Pod", "shop", "intruder")   # pod churn: element changes only
    db.sync("node1")
    assert db.counters("shop", "web-in") == after, db.counters("shop", "web-in")
    assert db.counters("shop", "db-in")["allowed_packets"] == 4
print("ok: counts survive a delta rewrite and pod churn in one process:", after)
PY
# render --counters: the objects and the references, accepted by nft -f.
"$k8snet" policy render --node-name node1 --counters "$tmp/w2.json" > "$tmp/r.nft" || fail "render"
grep -q 'counter name "pol/shop/web-in/allowed"' "$tmp/r.nft" || fail "render: no reference: $(cat "$tmp/r.nft")"
ip netns exec "$ns_intruder" nft -f "$tmp/r.nft" || fail "nft -f of the render"
echo "PASS: per-policy named counters"
