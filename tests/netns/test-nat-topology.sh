#!/bin/bash
# Topology-aware routing with real traffic: three endpoints in two zones,
# trafficDistribution PreferSameZone, a node in zone a.  100 connections
# from a client pod reach only the zone-a endpoints; once those are gone,
# the zone-b one.  The control (no --node-zone) reaches all three.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="${K8ST_TAG:-k8st-nattopo}-$$"
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

in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
bg_in() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@" & PIDS="$PIDS $!"; }

add_ns node
in_ns node ip link set lo up
in_ns node ip link add br0 type bridge
in_ns node ip addr add 10.244.0.1/24 dev br0
in_ns node ip link set br0 up
in_ns node sysctl -qw net.ipv4.ip_forward=1
in_ns node sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null || {
	echo "SKIP: no br_netfilter"; exit 77; }
i=2
for p in cl b1 b2 b3; do
	add_ns $p
	in_ns node ip link add "v$p" type veth peer name eth0 netns "$(ns $p)"
	in_ns node ip link set "v$p" master br0 up
	in_ns $p ip addr add "10.244.0.$i/24" dev eth0
	in_ns $p ip link set eth0 up
	in_ns $p ip link set lo up
	in_ns $p ip route add default via 10.244.0.1
	eval "IP_$p=10.244.0.$i"
	i=$((i + 1))
done
for b in b1 b2 b3; do
	bg_in $b socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"echo $b"
done

state() {  # state FILE EP:ZONE...
	local f=$1 sep="" e; shift
	{
	printf '{"apiVersion":"v1","kind":"List","items":['
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},'
	printf '"spec":{"clusterIP":"10.96.0.70","trafficDistribution":"PreferSameZone",'
	printf '"ports":[{"port":80}]}},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-1",'
	printf '"namespace":"default","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",'
	printf '"endpoints":['
	for e in "$@"; do
		printf '%s{"addresses":["%s"],"zone":"%s","nodeName":"n-%s"}' "$sep" "${e%:*}" "${e#*:}" "${e#*:}"
		sep=","
	done
	printf '],"ports":[{"port":8080}]}]}\n'
	} > "$WORK/$f.json"
}
state all "$IP_b1:a" "$IP_b2:a" "$IP_b3:b"
state bonly "$IP_b3:b"
sync() {  # sync STATE [FLAGS...]
	local f=$1; shift
	"$K8SNET" proxy sync --node-netns "/run/netns/$(ns node)" --node-name n1 \
		--cluster-cidr 10.244.0.0/16 "$@" "$WORK/$f.json"
}
cat > "$WORK/conns.py" <<'EOF'
import collections, socket
seen = collections.Counter()
for _ in range(100):
    try:
        s = socket.create_connection(("10.96.0.70", 80), timeout=2)
        seen[s.makefile().readline().strip() or "empty"] += 1
        s.close()
    except OSError as e:
        seen["error"] += 1
print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))
EOF
conns() { in_ns cl python3 "$WORK/conns.py"; }
sleep 0.3

sync all || { echo "FAIL: sync"; exit 1; }
out=$(conns)
check "control: without --node-zone, 100 connections reach all three ($out)" \
	sh -c "case '$out' in *b1=*b2=*b3=*) ! echo '$out' | grep -q error;; *) exit 1;; esac"

sync all --node-zone a || { echo "FAIL: sync"; exit 1; }
"$K8SNET" proxy render --node-name n1 --node-zone a "$WORK/all.json" > "$WORK/render"
check "render shows zone a's endpoints only" \
	sh -c "grep -q '$IP_b1 . 8080' '$WORK/render' && ! grep -q '$IP_b3 . 8080' '$WORK/render'"
out=$(conns)
check "zone a: 100 connections reach only b1 and b2 ($out)" \
	sh -c "case '$out' in 'b1='*' b2='*) [ \$(echo '$out' | wc -w) = 2 ];; *) exit 1;; esac"

sync bonly --node-zone a || { echo "FAIL: sync"; exit 1; }
out=$(conns)
check "zone a gone: 100 connections reach b3 ($out)" [ "$out" = "b3=100" ]

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
