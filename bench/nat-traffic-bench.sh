#!/bin/bash
# nat-traffic-bench: the per-packet cost of the traffic counters
# (proxy sync --counters adds a filter chain that looks every packet of a
# service's connections up in an object map).  Moves MB megabytes over one
# TCP connection from a client pod to a server pod through a ClusterIP
# (node namespace with a bridge, as in tests/netns/test-nat-counters.sh),
# ROUNDS times with counting off and on, alternating, and prints the
# medians and their ratio.
#   bench/nat-traffic-bench.sh [MB] [ROUNDS]      (root; needs socat)
set -eu
MB=${1:-200} ROUNDS=${2:-3}
K8SNET=${K8SNET:-$(dirname "$0")/../examples/k8snet}
P=k8st-bench-trf-$$
cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	for n in node cl sv; do ip netns del "$P-$n" 2>/dev/null || true; done
	rm -f "/tmp/$P.json"
}
trap cleanup EXIT
for n in node cl sv; do ip netns add "$P-$n"; done
x() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
x node ip link add br0 type bridge
x node ip addr add 10.244.0.1/24 dev br0
x node ip link set br0 up
x node ip link set lo up
x node sysctl -qw net.ipv4.ip_forward=1
x node sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
i=2
for p in cl sv; do
	x node ip link add "v$p" type veth peer name eth0 netns "$P-$p"
	x node ip link set "v$p" master br0 up
	x $p ip addr add "10.244.0.$i/24" dev eth0
	x $p ip link set eth0 up
	x $p ip link set lo up
	x $p ip route add default via 10.244.0.1
	i=$((i + 1))
done
cat > "/tmp/$P.json" <<'J'
{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"v1","kind":"Service","metadata":{"name":"sink","namespace":"default"},"spec":{"clusterIP":"10.96.0.40","ports":[{"port":80,"protocol":"TCP"}]}},
{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"sink-1","namespace":"default","labels":{"kubernetes.io/service-name":"sink"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.0.3"],"conditions":{"ready":true}}],"ports":[{"port":9000,"protocol":"TCP"}]}]}
J
ip netns exec "$P-sv" socat -u TCP-LISTEN:9000,fork,reuseaddr OPEN:/dev/null &
SRV=$!
sleep 0.3
one() {  # seconds to send MB megabytes through the ClusterIP
	local t0 t1
	t0=$(date +%s.%N)
	x cl sh -c "head -c ${MB}M /dev/zero | socat -u - TCP:10.96.0.40:80"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
off="" on=""
for r in $(seq "$ROUNDS"); do
	"$K8SNET" proxy sync --node-netns "/run/netns/$P-node" --node-name n1 \
		--cluster-cidr 10.244.0.0/16 --full "/tmp/$P.json" >/dev/null
	t=$(one); off="$off $t"; echo "round $r counting off: $t s"
	"$K8SNET" proxy sync --node-netns "/run/netns/$P-node" --node-name n1 \
		--cluster-cidr 10.244.0.0/16 --counters --full "/tmp/$P.json" >/dev/null
	t=$(one); on="$on $t"; echo "round $r counting on:  $t s"
done
"$K8SNET" proxy counters --node-netns "/run/netns/$P-node" "/tmp/$P.json"
moff=$(echo $off | tr ' ' '\n' | median) mon=$(echo $on | tr ' ' '\n' | median)
echo "$MB MB through a ClusterIP, median of $ROUNDS: counting off $moff s ($(echo "$MB / $moff" | bc) MB/s), on $mon s ($(echo "$MB / $mon" | bc) MB/s), on/off $(echo "scale=3; $mon / $moff" | bc)"
