#!/bin/sh
# Pods on one node's bridge: TCP between pods (IPv4 and IPv6), pod <-> node,
# two processes of one pod over localhost, CHECK, and detach / failed attach
# leaving nothing behind.  All in throwaway namespaces.
set -u
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/netns/link-lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }

# Bad command lines exit 2 and name the problem, before touching anything.
expect_usage() {
	out=$("$@" 2>&1); rc=$?
	[ $rc = 2 ] || fail "exit $rc (want 2) for: $* ($out)"
}
expect_usage $K8SNET pod attach --address 10.0.0.1 --node-netns /nonexistent
expect_usage $K8SNET pod attach --mtu 12 --node-netns /nonexistent
expect_usage $K8SNET pod frobnicate
expect_usage $K8SNET bridge ensure --address 10.0.0.1/24
expect_usage $K8SNET node peer add --mode bgp --peer-pod-cidr 10.0.0.0/24 --peer-ip 1.1.1.1
expect_usage $K8SNET node peer add --mode vxlan --peer-pod-cidr 10.0.0.0/24 --peer-ip 1.1.1.1
ok "usage errors exit 2"

link_ns node; N=$LINK_NS
link_ns poda; A=$LINK_NS
link_ns podb; B=$LINK_NS
IN="--node-netns /run/netns/$N"

$K8SNET node setup --ipv6 $IN || fail "node setup"
[ "$(inns $N cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward not set in the node"
$K8SNET bridge ensure --bridge cni0 --address 10.244.1.1/24 --address fd00:244:1::1/64 $IN ||
	fail "bridge ensure"
$K8SNET bridge ensure --bridge cni0 --address 10.244.1.1/24 $IN || fail "bridge ensure is not idempotent"
[ "$(ip -n $N -o addr show dev cni0 | grep -c 10.244.1.1/24)" = 1 ] || fail "bridge address duplicated"

# A link of another kind with the bridge's name is refused, not taken over.
ip -n $N link add cni1 type veth peer name cni1p
out=$($K8SNET bridge ensure --bridge cni1 --address 10.9.0.1/24 $IN 2>&1) && fail "took over a veth"
out2=$($K8SNET bridge ensure --bridge cni0 --address 10.9.0.1/33 $IN 2>&1); rc=$?
[ $rc = 2 ] && echo "$out2" | grep -q "bridge.addresses" || fail "bad address: exit $rc: $out2"
echo "$out" | grep -q "kind veth" || fail "unclear error: $out"
ok "bridge ensure: idempotent, refuses a veth named like it"

pod() { # pod NS ID LAST-OCTET [extra args]
	_ns=$1 _id=$2 _o=$3; shift 3
	$K8SNET pod attach --pod-netns /run/netns/$_ns --container-id $_id --ifname eth0 --bridge cni0 \
		--address 10.244.1.$_o/24 --address fd00:244:1::$_o/64 \
		--gateway 10.244.1.1 --gateway fd00:244:1::1 $IN "$@"
}
json=$(pod $A ctr-a 2 --hairpin -o json) || fail "attach A"
pod $B ctr-b 3 >/dev/null || fail "attach B"
echo "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert [i["name"] for i in r["interfaces"]][0::2] == ["cni0", "eth0"], r
assert r["interfaces"][2]["sandbox"].startswith("/run/netns/"), r
assert {i["address"] for i in r["ips"]} == {"10.244.1.2/24", "fd00:244:1::2/64"}, r
assert all(i["interface"] == 2 for i in r["ips"]), r
assert {x["dst"] for x in r["routes"]} == {"0.0.0.0/0", "::/0"}, r
' || fail "attach result JSON: $json"
host=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][1]["name"])')
[ ${#host} -le 15 ] || fail "host name $host too long"
ip -n $N -d link show "$host" | grep -q "hairpin on" || fail "hairpin not set on $host"
ip -n $N -d link show "$host" | grep -q "master cni0" || fail "$host not on cni0"
# One queue per end, asked at creation (no per-CPU queues trimmed afterwards).
ip -n $N -d link show "$host" | grep -q "numtxqueues 1 numrxqueues 1" ||
	fail "$host not created single-queue"
ip -n $A -d link show eth0 | grep -q "numtxqueues 1 numrxqueues 1" ||
	fail "pod eth0 not created single-queue"
ok "attach: result JSON, host end $host on the bridge with hairpin, single-queue veth"

serve $B 10.244.1.3 8080
serve $B fd00:244:1::3 8081
expect_peer $A 10.244.1.3 8080 10.244.1.2
expect_peer $A fd00:244:1::3 8081 fd00:244:1::2
ok "pod A -> pod B over TCP (IPv4, IPv6), B sees A's own address"

serve $N 10.244.1.1 8082
expect_peer $A 10.244.1.1 8082 10.244.1.2
serve $A 10.244.1.2 8083
expect_peer $N 10.244.1.2 8083 10.244.1.1
ok "pod -> node and node -> pod"

serve $A 127.0.0.1 9000
expect_peer $A 127.0.0.1 9000 127.0.0.1
ok "two processes in one pod namespace over localhost"

CHK="--pod-netns /run/netns/$A --container-id ctr-a --ifname eth0 --bridge cni0 --address 10.244.1.2/24 --address fd00:244:1::2/64 --gateway 10.244.1.1 --gateway fd00:244:1::1 $IN"
$K8SNET pod check $CHK --hairpin || fail "check of an intact pod"
ip -n $N link set "$host" type bridge_slave hairpin off
out=$($K8SNET pod check $CHK --hairpin 2>&1) && fail "check missed hairpin off"
echo "$out" | grep -q "hairpin mode off" || fail "check message: $out"
ip -n $A route del default
ip -n $A link set eth0 mtu 1400
out=$($K8SNET pod check $CHK 2>&1) && fail "check missed a change"
echo "$out" | grep -q "route 0.0.0.0/0 via 10.244.1.1 missing" || fail "check message: $out"
echo "$out" | grep -q "mtu 1400, expected 1500" || fail "check message: $out"
ok "check: $out"

# Attaching the same (container, ifname) twice fails and leaves the first alone.
n=$(veth_count $N)
out=$(pod $A ctr-a 2 2>&1) && fail "second attach succeeded"
echo "$out" | grep -q "already exists" || fail "unclear error: $out"
[ "$(veth_count $N)" = "$n" ] || fail "second attach changed the node's links"
expect_peer $B 10.244.1.1 8082 10.244.1.3

# Failed attaches leave no link: interface name taken in the pod...
link_ns podc; C=$LINK_NS
ip -n $C link add eth0 type veth peer name other0
out=$(pod $C ctr-c 4 2>&1) && fail "attach into a taken ifname succeeded"
echo "$out" | grep -q "eth0 already exists in the pod namespace" || fail "unclear error: $out"
[ "$(veth_count $N)" = "$n" ] || fail "failed attach (ifname taken) left a link"
# ... an address already in use in the pod (fails after the veth exists) ...
link_ns podd; D=$LINK_NS
ip -n $D addr add 10.244.1.5/32 dev lo
out=$(pod $D ctr-d 5 2>&1) && fail "attach with an address in use succeeded"
echo "$out" | grep -q "address in use" || fail "unclear error: $out"
[ "$(veth_count $N)" = "$n" ] || fail "failed attach (address in use) left a link"
[ "$(veth_count $D)" = 0 ] || fail "failed attach left an interface in the pod"
# ... and a route the kernel refuses (its gateway is not reachable).
out=$(pod $D ctr-d 6 --route 10.50.0.0/16,192.0.2.1 2>&1) && fail "attach with a bad route succeeded"
[ "$(veth_count $N)" = "$n" ] || fail "failed attach (bad route) left a link"
[ "$(veth_count $D)" = 0 ] || fail "failed attach (bad route) left an interface in the pod"
ok "failed attaches leave no link behind"

DET="--pod-netns /run/netns/$A --container-id ctr-a --ifname eth0 $IN"
$K8SNET pod detach $DET || fail "detach"
$K8SNET pod detach $DET || fail "second detach"
ip -n $N link show "$host" >/dev/null 2>&1 && fail "$host still there after detach"
[ "$(veth_count $A)" = 0 ] || fail "pod A still has its veth"
ok "detach twice"

# The pod namespace is gone (its name removed; a process still pins it, as a
# dying container would): detach finds the host end by name.
nsenter --net=/run/netns/$B sleep 30 &
pin=$!
_link_pids="$_link_pids $pin"
sleep 0.2
hostb=$(ip -n $N -o link show master cni0 | awk -F': ' '{print $2}' | cut -d@ -f1)
ip netns del $B
$K8SNET pod detach --pod-netns /run/netns/$B --container-id ctr-b --ifname eth0 $IN || fail "detach after netns delete"
ip -n $N link show "$hostb" >/dev/null 2>&1 && fail "$hostb survived detach"
$K8SNET pod detach --container-id ctr-b --ifname eth0 $IN || fail "detach without netns"
ok "detach after the namespace was deleted"
echo "PASS"
