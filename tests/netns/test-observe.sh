#!/bin/sh
# Verdict logging and k8snet observe against the kernel: a node with a
# bridge and three pods (web, client, intruder); web accepts TCP 8080 from
# role=client only.  With `policy sync --log-denied`, the intruder's refused
# connection appears in observe within 1 s, naming both pods and the policy;
# the client's allowed one does not, unless --log-allowed; a flood of
# refused packets is rate limited.
set -eu
. "$top_srcdir/tests/netns/lib.sh"
require_root
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d); trap '_k8st_cleanup; kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
srv=""
fail() { echo "FAIL: $*"; [ -f "$tmp/obs" ] && cat "$tmp/obs"; exit 1; }
netns_add tr17-onode; node=$NETNS
ip -n "$node" link add br0 type bridge
ip -n "$node" link set br0 up
ip -n "$node" addr add 10.245.0.1/24 dev br0
ip netns exec "$node" sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
i=1
for p in web client intruder; do
	i=$((i + 1))
	netns_add "tr17-o$p"; eval "ns_$p=$NETNS"
	ip -n "$node" link add "v$p" type veth peer name eth0 netns "$NETNS"
	ip -n "$node" link set "v$p" master br0 up
	ip -n "$NETNS" addr add "10.245.0.$i/24" dev eth0
	ip -n "$NETNS" link set eth0 up
done
cat > "$tmp/world.json" <<'JSON'
{"kind": "List", "items": [
 {"kind": "Namespace", "metadata": {"name": "shop"}},
 {"kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.245.0.2"}},
 {"kind": "Pod", "metadata": {"name": "client", "namespace": "shop", "labels": {"role": "client"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.245.0.3"}},
 {"kind": "Pod", "metadata": {"name": "intruder", "namespace": "shop", "labels": {"role": "other"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c"}]}, "status": {"podIP": "10.245.0.4"}},
 {"kind": "NetworkPolicy", "metadata": {"name": "web-from-client", "namespace": "shop"},
  "spec": {"podSelector": {"matchLabels": {"app": "web"}},
           "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                        "ports": [{"port": 8080}]}]}}]}
JSON
# shellcheck disable=SC2154
ip netns exec "$ns_web" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()' &
srv=$!
connect() { # NS -> exit 0 when web accepts
	ip netns exec "$1" python3 -c '
import socket, sys
try:
    socket.create_connection(("10.245.0.2", 8080), timeout=0.5).close()
except OSError:
    sys.exit(1)'
}
sync() { "$k8snet" policy sync --node-netns "/run/netns/$node" --node-name node1 "$@" "$tmp/world.json"; }
observe() { "$k8snet" observe --node-netns "/run/netns/$node" "$@" "$tmp/world.json" > "$tmp/obs" & obs=$!; sleep 0.5; }

sync --log-denied || fail "sync --log-denied"
ip netns exec "$node" nft list table inet k8snet-policy | grep -q 'log prefix "k8snet deny ingress shop/web-from-client" group 100' ||
	fail "no log rule: $(ip netns exec "$node" nft list table inet k8snet-policy)"

# A refused connection: within 1 s, both pods and the policy named.  One
# process times it on one clock (this machine's wall clock jumps): the
# attempt starts (non-blocking), the event line arrives.
# shellcheck disable=SC2154
python3 - "$k8snet" "/run/netns/$node" "$tmp/world.json" "$ns_intruder" > "$tmp/obs" <<'PY' || fail "observe"
import json, os, select, subprocess, sys, time
k8snet, netns, world, intruder = sys.argv[1:5]
obs = subprocess.Popen([k8snet, "observe", "--node-netns", netns, "--json", "--count", "1",
                        "--timeout", "5", world], stdout=subprocess.PIPE)
time.sleep(0.5)
t0 = time.monotonic()
cli = subprocess.Popen(["ip", "netns", "exec", intruder, "python3", "-c",
                        "import socket\ntry:\n socket.create_connection(('10.245.0.2', 8080), timeout=0.5)\nexcept OSError: pass"])
ready, _, _ = select.select([obs.stdout], [], [], 5)
line = obs.stdout.readline().decode() if ready else ""
ms = (time.monotonic() - t0) * 1000
cli.wait(); obs.wait()
print(line.strip())
print("latency_ms %d" % ms)
PY
ev=$(head -1 "$tmp/obs")
echo "$ev" | grep -q '"verdict":"deny","direction":"ingress","source":"shop/intruder","destination":"shop/web"' ||
	fail "event: $ev"
echo "$ev" | grep -q '"port":8080,"policy":"shop/web-from-client"' || fail "policy: $ev"
ms=$(sed -n 's/^latency_ms //p' "$tmp/obs")
[ "$ms" -lt 1000 ] || fail "the event came $ms ms after the attempt"
echo "ok: denied connection observed $ms ms after the attempt (client start included)"

# An allowed connection is not logged...
observe --timeout 2
# shellcheck disable=SC2154
connect "$ns_client" || fail "the client was refused"
wait $obs
[ ! -s "$tmp/obs" ] || fail "allowed connection logged without --log-allowed"
# ... unless asked.
sync --log-denied --log-allowed || fail "sync --log-allowed"
observe --count 1 --timeout 5
connect "$ns_client" || fail "the client was refused"
wait $obs || fail "observe failed"
grep -q "allow ingress shop/client -> shop/web TCP/8080 shop/web-from-client ingress\[0\] from\[0\] ports\[0\]" "$tmp/obs" ||
	fail "allowed event: $(cat "$tmp/obs")"
echo "ok: allowed connections logged only with --log-allowed"

# A flood of 2,000 refused packets in about a second: at most 10/s + burst 5.
sync --log-denied || fail "sync"
observe --timeout 3
ip netns exec "$ns_intruder" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"x", ("10.245.0.2", 8080 + i % 2))
    if i % 100 == 0: time.sleep(0.05)'
wait $obs
n=$(wc -l < "$tmp/obs")
[ "$n" -ge 5 ] && [ "$n" -le 45 ] || fail "flood: $n events logged"
echo "ok: a flood of 2,000 refused packets gave $n events (limit 10/s, burst 5)"
echo "PASS: verdict logging and observe"
