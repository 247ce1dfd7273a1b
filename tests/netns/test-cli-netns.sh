#!/bin/sh
# The k8snet command line against a real kernel, in throwaway namespaces:
# dual-stack gateways (given, taken from the bridge, or refused), node setup
# turning forwarding on for each family the node has, and each warning of
# k8snet(1) DIAGNOSTICS triggered once, none changing the exit status.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	_k8st_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP
status=0
fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok: $*"; }

# run ARGS...: k8snet with rc, $tmp/out and $tmp/err.
run() { "$k8snet" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# warnings: the number of warning lines; warned TEXT: how many contain TEXT.
warnings() { grep -c '^k8snet: warning: ' "$tmp/err"; }
warned() { grep '^k8snet: warning: ' "$tmp/err" | grep -cF -- "$1"; }
sysctl_in() { ip netns exec "$1" cat "/proc/sys/net/$2"; }

netns_add cli-node; N=$NETNS
netns_add cli-node4; N4=$NETNS
netns_add cli-pod; P=$NETNS
netns_add cli-pod2; Q=$NETNS
NN="--node-netns /run/netns/$N"

# ---- forwarding --------------------------------------------------------------
# A new namespace forwards nothing: a dual-stack bridge there says so, once
# per family, and still succeeds.
run bridge ensure $NN --bridge cni0 --address 10.244.1.1/24 --address fd00:244:1::1/64
[ $rc = 0 ] || fail "bridge ensure: exit $rc: $(cat "$tmp/err")"
[ "$(warnings)" = 2 ] && [ "$(warned 'IPv4 forwarding is off')" = 1 ] &&
	[ "$(warned 'IPv6 forwarding is off')" = 1 ] ||
	fail "bridge ensure before node setup: $(cat "$tmp/err")"
ok "bridge ensure warns once per family it would leave unforwarded: $(head -1 "$tmp/err")"

# node setup without --ipv6 on a node with an IPv6 address: both families.
run node setup $NN
[ $rc = 0 ] && [ ! -s "$tmp/err" ] || fail "node setup: exit $rc: $(cat "$tmp/err")"
[ "$(sysctl_in $N ipv4/ip_forward)" = 1 ] && [ "$(sysctl_in $N ipv6/conf/all/forwarding)" = 1 ] ||
	fail "node setup left a family unforwarded on a dual-stack node"
run bridge ensure $NN --bridge cni0 --address 10.244.1.1/24 --address fd00:244:1::1/64
[ $rc = 0 ] && [ "$(warnings)" = 0 ] || fail "bridge ensure after node setup: $(cat "$tmp/err")"
ok "node setup turned on IPv4 and IPv6 forwarding (the node has IPv6); no more warnings"

# An IPv4-only node: IPv6 stays as it was, unless --ipv6.
ip -n $N4 addr add 192.168.60.1/24 dev lo
run node setup --node-netns /run/netns/$N4
[ "$(sysctl_in $N4 ipv4/ip_forward)" = 1 ] && [ "$(sysctl_in $N4 ipv6/conf/all/forwarding)" = 0 ] ||
	fail "node setup on an IPv4-only node"
run node setup --ipv6 --node-netns /run/netns/$N4
[ "$(sysctl_in $N4 ipv6/conf/all/forwarding)" = 1 ] || fail "node setup --ipv6"
ok "IPv4-only node: IPv6 forwarding only with --ipv6"

# ---- dual-stack gateways -------------------------------------------------------
run bridge ensure $NN --bridge v4only --address 10.244.9.1/24
[ $rc = 0 ] || fail "bridge v4only: $(cat "$tmp/err")"
veths() { ip -n "$1" -o link show type veth | wc -l; }
# A family the bridge cannot give a gateway for, and none given: refused,
# nothing made.
run pod attach $NN --bridge v4only --pod-netns /run/netns/$P --container-id c1 \
	--address 10.244.9.5/24 --address fd00:244:9::5/64 --gateway 10.244.9.1
[ $rc = 2 ] && grep -q "fd00:244:9::5/64: no IPv6 gateway" "$tmp/err" ||
	fail "a family without a gateway: exit $rc: $(cat "$tmp/err")"
[ "$(veths $N)" = 0 ] && [ "$(veths $P)" = 0 ] || fail "the refused attach left a veth"
ok "no IPv6 gateway and none on the bridge: exit 2, $(cat "$tmp/err")"

# No --gateway at all: both come from the bridge cni0, and packets use them.
ip -n $N addr add 192.0.2.1/32 dev lo
ip -n $N addr add 2001:db8::1/128 dev lo
ATT="$NN --bridge cni0 --pod-netns /run/netns/$P --container-id c2 --address 10.244.1.5/24 --address fd00:244:1::5/64"
run pod attach $ATT
[ $rc = 0 ] && [ ! -s "$tmp/err" ] || fail "attach with derived gateways: exit $rc: $(cat "$tmp/err")"
grep -q '^0.0.0.0/0  *10.244.1.1$' "$tmp/out" && grep -q '^::/0  *fd00:244:1::1$' "$tmp/out" ||
	fail "attach result: $(cat "$tmp/out")"
ip -n $P route show default | grep -q "via 10.244.1.1" &&
	ip -n $P -6 route show default | grep -q "via fd00:244:1::1" || fail "default routes in the pod"
for _ in 1 2 3 4 5 6 7 8 9 10; do  # IPv6 DAD on the pod's address
	ip -n $P -6 addr show tentative | grep -q . || break
	sleep 0.2
done
ip netns exec $P ping -c1 -W2 192.0.2.1 >/dev/null && ip netns exec $P ping -6 -c1 -W2 2001:db8::1 >/dev/null ||
	fail "the pod does not reach the node through its default routes"
run pod check $ATT
[ $rc = 0 ] || fail "pod check with derived gateways: $(cat "$tmp/err")"
ok "gateways taken from the bridge: default routes in both families carry packets; check agrees"

run pod attach $NN --bridge v4only --pod-netns /run/netns/$Q --container-id c3 \
	--address 10.244.9.6/24 --address fd00:244:9::6/64 --no-default-route -o json
[ $rc = 0 ] || fail "--no-default-route: $(cat "$tmp/err")"
python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["routes"] == [], r' "$tmp/out" ||
	fail "--no-default-route -o json: $(cat "$tmp/out")"
[ -z "$(ip -n $Q route show default)" ] && [ -z "$(ip -n $Q -6 route show default)" ] ||
	fail "--no-default-route left a default route"
ok "--no-default-route: no family needs a gateway"

# ---- a bridge address outside the pod CIDR --------------------------------------
run bridge ensure $NN --bridge cni1 --pod-cidr 10.244.1.0/24 --pod-cidr fd00:244:1::/64 \
	--address 10.245.1.1/24 --address fd00:244:1::2/64
[ $rc = 0 ] && [ "$(warnings)" = 1 ] &&
	[ "$(warned "--address 10.245.1.1/24 is outside this node's pod CIDR 10.244.1.0/24")" = 1 ] ||
	fail "bridge address outside the pod CIDR: exit $rc: $(cat "$tmp/err")"
ok "bridge ensure warns about an address outside --pod-cidr, exit 0"
ip -n $N link del cni1
ip -n $N link del v4only

# ---- proxy sync: the cluster CIDR, the NodePort range ------------------------------
cat >"$tmp/svc.json" <<'JSON'
{"kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
  "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
           "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}}]}
JSON
run proxy sync $NN --node-name n1 --cluster-cidr 10.245.0.0/16 "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 1 ] &&
	[ "$(warned "no --cluster-cidr covers this node's pod CIDR 10.244.1.0/24 (bridge cni0)")" = 1 ] ||
	fail "cluster CIDR missing the pod CIDR: exit $rc: $(cat "$tmp/err")"
ok "proxy sync warns once: $(cat "$tmp/err")"
run proxy sync $NN --node-name n1 --cluster-cidr 10.244.0.0/16 --cluster-cidr fd00:244::/32 "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 0 ] || fail "covering cluster CIDRs still warned: $(cat "$tmp/err")"
run proxy render --cluster-cidr 10.244.0.0/16 --pod-cidr 10.250.3.0/24 "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 1 ] && [ "$(warned "10.250.3.0/24 (--pod-cidr)")" = 1 ] ||
	fail "render with --pod-cidr: $(cat "$tmp/err")"
ok "covered: no warning; a --pod-cidr is checked too (render)"

# Local services inside the NodePort range: TCP 30500 and UDP 31050 listen
# in the node's namespace.
ip netns exec $N python3 -c '
import socket, time
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 30500)); t.listen(1)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", 31050))
time.sleep(60)' &
pids="$pids $!"
for _ in $(seq 50); do
	ip netns exec $N ss -H -ltn 'sport = :30500' | grep -q . &&
		ip netns exec $N ss -H -lun 'sport = :31050' | grep -q . && break
	sleep 0.1
done
SYNC="proxy sync $NN --node-name n1 --cluster-cidr 10.244.0.0/16"
run $SYNC "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 2 ] &&
	[ "$(warned "a TCP socket listens on port 30500 in the node's namespace, inside the NodePort range 30000-32767")" = 1 ] &&
	[ "$(warned "a UDP socket listens on port 31050")" = 1 ] ||
	fail "listeners in the NodePort range: exit $rc: $(cat "$tmp/err")"
run $SYNC --nodeport-range 31000-31100 "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 1 ] && [ "$(warned "UDP socket listens on port 31050")" = 1 ] ||
	fail "--nodeport-range 31000-31100: exit $rc: $(cat "$tmp/err")"
run $SYNC --nodeport-range 32000-32767 "$tmp/svc.json"
[ $rc = 0 ] && [ "$(warnings)" = 0 ] || fail "--nodeport-range 32000-32767: $(cat "$tmp/err")"
ok "local listeners inside the NodePort range are warned about, each once"

# ---- peers and tables ----------------------------------------------------------------
# N4: IPv4 forwarding on, IPv6 off again; an underlay link in both families.
ip netns exec $N4 sysctl -qw net.ipv6.conf.all.forwarding=0
ip -n $N4 link add ul0 type veth peer name ul1
ip -n $N4 addr add fd00:50::1/64 dev ul0 nodad
ip -n $N4 link set ul0 up
ip -n $N4 link set ul1 up
run node peer add --mode host-gw --peer-pod-cidr 10.244.2.0/24 --peer-ip 192.168.60.2 \
	--node-netns /run/netns/$N4
[ $rc = 0 ] && [ "$(warnings)" = 0 ] || fail "IPv4 peer: exit $rc: $(cat "$tmp/err")"
run node peer add --mode host-gw --peer-pod-cidr fd00:244:2::/64 --peer-ip fd00:50::2 \
	--node-netns /run/netns/$N4
[ $rc = 0 ] && [ "$(warnings)" = 1 ] && [ "$(warned "IPv6 forwarding is off")" = 1 ] ||
	fail "IPv6 peer on a node without IPv6 forwarding: exit $rc: $(cat "$tmp/err")"
ip -n $N4 -6 route show fd00:244:2::/64 | grep -q "via fd00:50::2" || fail "the IPv6 peer route is missing"
ok "node peer add: warns for the family it would leave unforwarded, and adds the route"

run netns describe $NN
[ $rc = 0 ] && grep -q '^cni0  *bridge  *up  *1500  *10.244.1.1/24 fd00:244:1::1/64' "$tmp/out" ||
	fail "netns describe table: $(cat "$tmp/out")"
run netns describe $NN -o json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
cni0 = [l for l in d["links"] if l["name"] == "cni0"][0]
assert cni0["kind"] == "bridge" and "fd00:244:1::1/64" in cni0["addresses"], cni0
assert {"family": "ip", "name": "k8snet"} in d["nftables_tables"], d["nftables_tables"]' "$tmp/out" ||
	fail "netns describe -o json: $(cat "$tmp/out")"
ok "netns describe: a table, and JSON with -o json"

# An old spelling still acts, with a note.
run bridge ensure --in-netns /run/netns/$N --name cni0 --address 10.244.1.1/24
[ $rc = 0 ] && grep -q "note: --in-netns is now --node-netns" "$tmp/err" &&
	grep -q "note: --name is now --bridge" "$tmp/err" || fail "old spellings: $(cat "$tmp/err")"
ok "old spellings act, with notes"

[ $status = 0 ] && echo "PASS: k8snet against the kernel: gateways, forwarding, warnings"
exit $status
