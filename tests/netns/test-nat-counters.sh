#!/bin/bash
# Per-service connection counters (proxy sync --counters, K8SNET_PROXY_F_COUNT)
# with real traffic: a node namespace with a bridge, a client pod and a
# backend pod.  N TCP connections through a ClusterIP and M through its
# NodePort are counted exactly (nat chains see each connection's first
# packet); UDP flows are counted too.  An incremental sync that changes
# another service leaves the counts alone; a full sync (a new process)
# carries them over.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
command -v nsenter >/dev/null || { echo "SKIP: no nsenter"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="k8st-nat-cnt-$$"
PIDS=""
fails=0
WORK=$(mktemp -d)
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	_k8st_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

in_ns() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@"; }
bg_in() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@" & PIDS="$PIDS $!"; }
not() { ! "$@"; }

add_ns node; add_ns cl; add_ns b1
in_ns node ip link add br0 type bridge
in_ns node ip addr add 10.244.0.1/24 dev br0
in_ns node ip link set br0 up
in_ns node ip link set lo up
in_ns node sysctl -qw net.ipv4.ip_forward=1
in_ns node sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' || {
	echo "SKIP: no br_netfilter"; exit 77; }
i=2
for p in cl b1; do
	in_ns node ip link add "v$p-$$" type veth peer name eth0 netns "$(ns $p)"
	in_ns node ip link set "v$p-$$" master br0 up
	in_ns $p ip addr add "10.244.0.$i/24" dev eth0
	in_ns $p ip link set eth0 up
	in_ns $p ip link set lo up
	in_ns $p ip route add default via 10.244.0.1
	i=$((i + 1))
done
bg_in b1 socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"echo b1"
bg_in b1 socat UDP-RECVFROM:5353,fork SYSTEM:"echo b1"
sleep 0.5

# world OTHER_PORT: web (TCP 80 + NodePort 30080), dns (UDP 53), other
# (its port is what the incremental sync changes).
world() {
	local ep='"endpoints":[{"addresses":["10.244.0.3"],"conditions":{"ready":true}}]'
	printf '{"apiVersion":"v1","kind":"List","items":['
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"type":"NodePort","clusterIP":"10.96.0.10","ports":[{"name":"http","port":80,"protocol":"TCP","nodePort":30080}]}},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-1","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",%s,"ports":[{"name":"http","port":8080,"protocol":"TCP"}]},' "$ep"
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"dns","namespace":"kube-system"},"spec":{"clusterIP":"10.96.0.53","ports":[{"port":53,"protocol":"UDP"}]}},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"dns-1","namespace":"kube-system","labels":{"kubernetes.io/service-name":"dns"}},"addressType":"IPv4",%s,"ports":[{"port":5353,"protocol":"UDP"}]},' "$ep"
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"other","namespace":"default"},"spec":{"clusterIP":"10.96.0.20","ports":[{"port":%s,"protocol":"TCP"}]}},' "$1"
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"other-1","namespace":"default","labels":{"kubernetes.io/service-name":"other"}},"addressType":"IPv4",%s,"ports":[{"port":8080,"protocol":"TCP"}]}' "$ep"
	printf ']}\n'
}
world 80 > "$WORK/w1.json"
world 81 > "$WORK/w2.json"
NODE="--node-netns /run/netns/$(ns node)"
FLAGS="--node-name n1 --cluster-cidr 10.244.0.0/16 --counters"
COMMON="$FLAGS --no-conntrack-cleanup"

# counters FILE SERVICE: "connections bytes" as proxy counters reads them
# in a process of its own.
counters() {
	"$K8SNET" proxy counters $NODE "$1" "$2" | awk '{ print $3, $5 }'
}
tcp_n() {  # tcp_n N ADDR:PORT: N connections, prints how many were answered
	in_ns cl sh -c "for i in \$(seq $1); do timeout 3 socat -T2 - TCP:$2 </dev/null; done" \
		2>/dev/null | grep -c b1
}

# The long-lived proxy: incremental syncs in the same process (--follow).
coproc SYNC { exec "$K8SNET" proxy sync $NODE $COMMON --follow "$WORK/w1.json" 2>&1; }
# bash unsets SYNC_PID as soon as it reaps the coprocess: keep our own copy.
sync_pid=$SYNC_PID
PIDS="$PIDS $sync_pid"
read -r -t 20 line <&"${SYNC[0]}"
check "first sync ($line)" [ "${line#synced}" != "$line" ]

check "counters start at 0" [ "$(counters "$WORK/w1.json" default/web)" = "0 0" ]
N=20 M=5
n=$(tcp_n $N 10.96.0.10:80)
check "$N connections through the ClusterIP answered ($n)" [ "$n" = $N ]
n=$(tcp_n $M 10.244.0.1:30080)
check "$M connections through the NodePort answered ($n)" [ "$n" = $M ]
read -r pk by <<<"$(counters "$WORK/w1.json" default/web)"
check "web counted $((N + M)) connections exactly ($pk)" [ "$pk" = $((N + M)) ]
# A SYN is at least a 40-byte header; with options it is ~60 bytes.
check "web counted their first packets' bytes ($by)" [ "$by" -ge $(( (N + M) * 40 )) -a "$by" -le $(( (N + M) * 100 )) ]
json=$("$K8SNET" proxy counters $NODE -o json "$WORK/w1.json")
check "-o json lists every service with connections" python3 -c "
import json, sys
d = {s['namespace'] + '/' + s['name']: s for s in json.loads(sys.argv[1])}
assert set(d) == {'default/web', 'kube-system/dns', 'default/other'}, d
assert d['default/web']['connections'] == $((N + M)), d" "$json"

# UDP: each socat is a new flow (a new source port): a new connection.
ok=0
for i in 1 2 3 4 5 6; do
	out=$(echo x | in_ns cl timeout 3 socat -T1 - UDP:10.96.0.53:53 2>/dev/null)
	[ "$out" = b1 ] && ok=$((ok + 1))
done
read -r upk uby <<<"$(counters "$WORK/w1.json" kube-system/dns)"
check "UDP flows counted: $ok answered of 6 sent, $upk counted" [ "$upk" -ge "$ok" -a "$upk" -le 6 -a "$ok" -ge 1 ]

# Incremental sync changing another service: web's counter is not reset.
echo "$WORK/w2.json" >&"${SYNC[1]}"
read -r -t 20 line <&"${SYNC[0]}"
check "incremental sync ($line)" [ "${line#synced}" != "$line" ]
check "incremental sync kept web's count" [ "$(counters "$WORK/w1.json" default/web)" = "$pk $by" ]
check "incremental sync kept dns's count" [ "$(counters "$WORK/w1.json" kube-system/dns)" = "$upk $uby" ]
check "the changed port's counter is the new port's" \
	in_ns node nft list counter ip k8snet svc/default/other/tcp/81 >/dev/null
check "the old port's counter is gone" \
	not in_ns node nft list counter ip k8snet svc/default/other/tcp/80 2>/dev/null
exec {SYNC[1]}>&-
wait "$sync_pid" 2>/dev/null || true

# Full sync (a new process replaces the tables): the counts carry over.
check "full sync" "$K8SNET" proxy sync $NODE $COMMON --full "$WORK/w2.json"
check "full sync carried web's count over" [ "$(counters "$WORK/w2.json" default/web)" = "$pk $by" ]
check "full sync carried dns's count over" [ "$(counters "$WORK/w2.json" kube-system/dns)" = "$upk $uby" ]
n=$(tcp_n 3 10.96.0.10:80)
read -r pk2 by2 <<<"$(counters "$WORK/w2.json" default/web)"
check "and counting goes on ($pk2 = $pk + $n)" [ "$pk2" = $((pk + n)) -a "$n" = 3 ]

check "render --counters is accepted by nft -f" sh -c "'$K8SNET' proxy render $FLAGS '$WORK/w2.json' > '$WORK/r.nft' &&
	nsenter --net=/run/netns/$(ns cl) nft -f '$WORK/r.nft' &&
	grep -q 'counter name ip daddr . meta l4proto . th dport map @service-counters' '$WORK/r.nft' &&
	grep -q '10.96.0.10 . tcp . 80 : \"svc/default/web/tcp/80\"' '$WORK/r.nft'"
in_ns cl nft flush ruleset

# Counting off: -ENOENT, said.
"$K8SNET" proxy sync $NODE --node-name n1 "$WORK/w2.json"
check "without --counters there are no counter objects" sh -c "[ -z \"\$(nsenter --net=/run/netns/$(ns node) nft list counters table ip k8snet | grep counter)\" ]"

[ "$fails" = 0 ] && echo "ALL PASS" || echo "$fails FAILED"
[ "$fails" = 0 ]
