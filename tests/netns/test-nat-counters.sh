#!/bin/bash
# Per-service connection counters (proxy sync --counters, K8SNET_PROXY_F_COUNT)
# with real traffic: a node namespace with a bridge, a client pod and a
# backend pod.  N TCP connections through a ClusterIP and M through its
# NodePort are counted exactly (nat chains see each connection's first
# packet); UDP flows are counted too.  An incremental sync that changes
# another service leaves the counts alone; a full sync (a new process)
# carries them over.  The traffic counters (svc/.../traffic) count every
# packet and byte of those connections both ways: bulk transfers of known
# size through a ClusterIP and a NodePort, and UDP requests and answers.
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
# bulk: reads what the client sends to its end, then answers DOWN bytes.
UP=10000 DOWN=30000
bg_in b1 socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:"cat >/dev/null; head -c $DOWN /dev/zero"
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
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"bulk","namespace":"default"},"spec":{"type":"NodePort","clusterIP":"10.96.0.30","ports":[{"port":90,"protocol":"TCP","nodePort":30090}]}},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"bulk-1","namespace":"default","labels":{"kubernetes.io/service-name":"bulk"}},"addressType":"IPv4",%s,"ports":[{"port":9000,"protocol":"TCP"}]},' "$ep"
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
# traffic FILE SERVICE: "packets bytes" of the traffic counters.
traffic() {
	"$K8SNET" proxy counters $NODE "$1" "$2" | awk '{ print $7, $9 }'
}
bulk_n() {  # bulk_n N ADDR:PORT: N transfers of UP bytes up, DOWN down; prints bytes received
	in_ns cl sh -c "for i in \$(seq $1); do head -c $UP /dev/zero |
		timeout 10 socat -t5 -T5 - TCP:$2; done" 2>/dev/null | wc -c
}
tcp_n() {  # tcp_n N ADDR:PORT: N connections, prints how many were answered
	in_ns cl sh -c "for i in \$(seq $1); do timeout 3 socat -T2 - TCP:$2 </dev/null; done" \
		2>/dev/null | grep -c b1
}

# Is there a counter object NAME in the node's proxy table?  (Quiet, so that
# check's own PASS/FAIL line is what shows.)
has_counter() { in_ns node nft list counter ip k8snet "$1" >/dev/null 2>&1; }

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
assert set(d) == {'default/web', 'kube-system/dns', 'default/bulk', 'default/other'}, d
assert d['default/web']['connections'] == $((N + M)), d
assert d['default/web']['packets'] >= 5 * $((N + M)), d
assert d['default/web']['traffic_bytes'] > d['default/web']['bytes'], d" "$json"

# UDP: each socat is a new flow (a new source port): a new connection.
ok=0
for i in 1 2 3 4 5 6; do
	out=$(echo x | in_ns cl timeout 3 socat -T1 - UDP:10.96.0.53:53 2>/dev/null)
	[ "$out" = b1 ] && ok=$((ok + 1))
done
read -r upk uby <<<"$(counters "$WORK/w1.json" kube-system/dns)"
check "UDP flows counted: $ok answered of 6 sent, $upk counted" [ "$upk" -ge "$ok" -a "$upk" -le 6 -a "$ok" -ge 1 ]

read -r upk2 uby2 <<<"$(traffic "$WORK/w1.json" kube-system/dns)"
check "UDP traffic counted both ways: $upk2 packets >= 2 x $ok, $uby2 bytes" \
	[ "$upk2" -ge $((2 * ok)) -a "$upk2" -le 12 -a "$uby2" -ge $((ok * (30 + 31))) ]

# Traffic: every packet of bulk's connections, both ways, by the
# connection's original destination (ClusterIP or NodePort).
check "traffic starts at 0" [ "$(traffic "$WORK/w1.json" default/bulk)" = "0 0" ]
C1=4 C2=2
got=$(bulk_n $C1 10.96.0.30:90)
check "$C1 transfers through the ClusterIP ($got bytes down)" [ "$got" = $((C1 * DOWN)) ]
got=$(bulk_n $C2 10.244.0.1:30090)
check "$C2 transfers through the NodePort ($got bytes down)" [ "$got" = $((C2 * DOWN)) ]
sleep 0.3
read -r cpk cby <<<"$(counters "$WORK/w1.json" default/bulk)"
check "bulk's connection counter still counts connections ($cpk)" [ "$cpk" = $((C1 + C2)) ]
read -r tpk tby <<<"$(traffic "$WORK/w1.json" default/bulk)"
payload=$(((C1 + C2) * (UP + DOWN)))
# At least SYN, SYN-ACK, ACK, data each way, FIN each way per connection
# (segmentation offload may merge data segments into one packet); bytes at
# least the payload, and under payload + 100 bytes of headers per packet.
check "bulk's traffic: $tpk packets >= $((8 * (C1 + C2)))" [ "$tpk" -ge $((8 * (C1 + C2))) ]
check "bulk's traffic: $tby bytes >= payload $payload and < payload + 100 x packets" \
	[ "$tby" -ge $payload -a "$tby" -lt $((payload + 100 * tpk)) ]

# Incremental sync changing another service: web's counter is not reset.
echo "$WORK/w2.json" >&"${SYNC[1]}"
read -r -t 20 line <&"${SYNC[0]}"
check "incremental sync ($line)" [ "${line#synced}" != "$line" ]
check "incremental sync kept web's count" [ "$(counters "$WORK/w1.json" default/web)" = "$pk $by" ]
check "incremental sync kept dns's count" [ "$(counters "$WORK/w1.json" kube-system/dns)" = "$upk $uby" ]
check "incremental sync kept bulk's traffic" [ "$(traffic "$WORK/w1.json" default/bulk)" = "$tpk $tby" ]
check "the changed port's counter is the new port's" \
	has_counter svc/default/other/tcp/81
check "the old port's counter is gone" \
	not has_counter svc/default/other/tcp/80
exec {SYNC[1]}>&-
wait "$sync_pid" 2>/dev/null || true

# Full sync (a new process replaces the tables): the counts carry over.
check "full sync" "$K8SNET" proxy sync $NODE $COMMON --full "$WORK/w2.json"
check "full sync carried web's count over" [ "$(counters "$WORK/w2.json" default/web)" = "$pk $by" ]
check "full sync carried dns's count over" [ "$(counters "$WORK/w2.json" kube-system/dns)" = "$upk $uby" ]
check "full sync carried bulk's traffic over" [ "$(traffic "$WORK/w2.json" default/bulk)" = "$tpk $tby" ]
n=$(tcp_n 3 10.96.0.10:80)
read -r pk2 by2 <<<"$(counters "$WORK/w2.json" default/web)"
check "and counting goes on ($pk2 = $pk + $n)" [ "$pk2" = $((pk + n)) -a "$n" = 3 ]

check "render --counters is accepted by nft -f" sh -c "'$K8SNET' proxy render $FLAGS '$WORK/w2.json' > '$WORK/r.nft' &&
	nsenter --net=/run/netns/$(ns cl) nft -f '$WORK/r.nft' &&
	grep -q 'counter name ip daddr . meta l4proto . th dport map @service-counters' '$WORK/r.nft' &&
	grep -q '10.96.0.10 . tcp . 80 : \"svc/default/web/tcp/80\"' '$WORK/r.nft' &&
	grep -q 'ct original ip daddr . meta l4proto . ct original proto-dst map @service-traffic' '$WORK/r.nft' &&
	grep -q '10.96.0.30 . tcp . 90 : \"svc/default/bulk/tcp/90/traffic\"' '$WORK/r.nft' &&
	grep -q 'tcp . 30090 : \"svc/default/bulk/tcp/90/traffic\"' '$WORK/r.nft' &&
	grep -q 'chain traffic-forward' '$WORK/r.nft'"
in_ns cl nft flush ruleset

# Counting off: -ENOENT, said.
"$K8SNET" proxy sync $NODE --node-name n1 "$WORK/w2.json"
check "without --counters there are no counter objects" sh -c "[ -z \"\$(nsenter --net=/run/netns/$(ns node) nft list counters table ip k8snet | grep counter)\" ]"

[ "$fails" = 0 ] && echo "ALL PASS" || echo "$fails FAILED"
[ "$fails" = 0 ]
