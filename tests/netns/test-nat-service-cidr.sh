#!/bin/bash
# Service CIDRs and LoadBalancer ipMode with real traffic.  A node routes everything it does not
# know to an outside namespace, which counts what arrives for the service
# range.  With --service-cidr, a pod's packets to an unallocated address of
# the range stop at the node; a ClusterIP on a port its service lacks is
# still rejected at once.  Without the setting (the control) the same
# packets leave the node: the test can fail.  A load balancer IP with
# ipMode Proxy is not short-cut: the node's own traffic to it leaves the
# node, while one with ipMode VIP goes to the endpoint.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="${K8ST_TAG:-k8st-natcidr}-$$"
fails=0
WORK=$(mktemp -d)
cleanup() { _k8st_cleanup; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

add_ns node; add_ns cl; add_ns out
in_ns node ip link set lo up
in_ns node sysctl -qw net.ipv4.ip_forward=1
in_ns node sysctl -qw net.ipv6.conf.all.forwarding=1
in_ns node ip link add vcl type veth peer name eth0 netns "$(ns cl)"
in_ns node ip addr add 10.244.0.1/24 dev vcl
in_ns node ip addr add fd00:244::1/64 dev vcl nodad
in_ns node ip link set vcl up
in_ns cl ip link set lo up
in_ns cl ip addr add 10.244.0.2/24 dev eth0
in_ns cl ip addr add fd00:244::2/64 dev eth0 nodad
in_ns cl ip link set eth0 up
in_ns cl ip route add default via 10.244.0.1
in_ns cl ip -6 route add default via fd00:244::1
in_ns node ip link add vout type veth peer name eth0 netns "$(ns out)"
in_ns node ip addr add 192.168.50.1/24 dev vout
in_ns node ip addr add fd00:50::1/64 dev vout nodad
in_ns node ip link set vout up
in_ns node ip route add default via 192.168.50.2
in_ns node ip -6 route add default via fd00:50::2
in_ns out ip link set lo up
in_ns out ip addr add 192.168.50.2/24 dev eth0
in_ns out ip addr add fd00:50::2/64 dev eth0 nodad
in_ns out ip link set eth0 up
in_ns out nft -f - <<'EOF'
table inet seen {
	counter v4 { }
	counter v6 { }
	counter lbproxy { }
	counter lbvip { }
	chain pre {
		ip daddr 192.0.2.50 counter name lbproxy
		ip daddr 192.0.2.51 counter name lbvip
		type filter hook prerouting priority 0; policy accept;
		ip daddr 10.96.0.0/16 counter name v4
		ip6 daddr fd00:96::/112 counter name v6
	}
}
EOF

cat > "$WORK/world.json" <<'EOF'
{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},
  "spec":{"clusterIPs":["10.96.0.10","fd00:96::10"],"ports":[{"port":80}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"lb","namespace":"default"},
  "spec":{"type":"LoadBalancer","clusterIP":"10.96.0.11","ports":[{"port":80,"nodePort":30080}]},
  "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.50","ipMode":"Proxy"},
                                        {"ip":"192.0.2.51","ipMode":"VIP"}]}}},
 {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"lb-1",
  "namespace":"default","labels":{"kubernetes.io/service-name":"lb"}},"addressType":"IPv4",
  "endpoints":[{"addresses":["10.244.0.2"]}],"ports":[{"port":8080}]}]}
EOF
sync() {
	"$K8SNET" proxy sync --node-netns "/run/netns/$(ns node)" --node-name n1 \
		--cluster-cidr 10.244.0.0/16 "$@" "$WORK/world.json"
}
seen() { in_ns out nft list counter inet seen "$1" | grep -o 'packets [0-9]*' | cut -d' ' -f2; }
poke() {  # poke ADDR: a TCP SYN and a UDP datagram to ADDR:80
	in_ns cl timeout 1 socat -T1 - "TCP:$1:80" </dev/null >/dev/null 2>&1
	echo x | in_ns cl timeout 1 socat -T0.3 - "UDP:$1:80" >/dev/null 2>&1
}
reset() { in_ns out nft reset counters >/dev/null; }

# Control: no service CIDR, the unallocated address is routed away.
sync || { echo "FAIL: sync"; exit 1; }
reset
poke 10.96.0.99; poke '[fd00:96::99]'
check "control: without --service-cidr the packets leave the node (v4 $(seen v4), v6 $(seen v6))" \
	[ "$(seen v4)" -gt 0 -a "$(seen v6)" -gt 0 ]

sync --service-cidr 10.96.0.0/16 --service-cidr fd00:96::/112 || { echo "FAIL: sync"; exit 1; }
in_ns node nft list chain ip k8snet services > "$WORK/services"
check "the services chain drops the range" grep -q 'ip daddr 10.96.0.0/16 drop' "$WORK/services"
reset
poke 10.96.0.99; poke '[fd00:96::99]'
check "unallocated addresses: dropped at the node (v4 $(seen v4), v6 $(seen v6))" \
	[ "$(seen v4)" = 0 -a "$(seen v6)" = 0 ]
start=$(date +%s%N)
out=$(in_ns cl timeout 3 socat -T2 - TCP:10.96.0.10:81 </dev/null 2>&1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a ClusterIP on an unused port is still rejected at once (${ms} ms: $out)" \
	sh -c "echo '$out' | grep -q 'Connection refused' && [ $ms -lt 1500 ]"
out=$(in_ns cl timeout 3 socat -T2 - 'TCP:[fd00:96::10]:81' </dev/null 2>&1)
check "... in IPv6 too" sh -c "echo '$out' | grep -q 'Connection refused'"
check "... and nothing of it left the node" [ "$(seen v4)" = 0 -a "$(seen v6)" = 0 ]

reset
in_ns node timeout 1 socat -T1 - TCP:192.0.2.50:80 </dev/null >/dev/null 2>&1
in_ns node timeout 1 socat -T1 - TCP:192.0.2.51:80 </dev/null >/dev/null 2>&1
check "ipMode Proxy: the node's traffic to the LB IP leaves the node ($(seen lbproxy) packets)" \
	[ "$(seen lbproxy)" -gt 0 ]
check "ipMode VIP: the node's traffic to the LB IP is short-cut ($(seen lbvip) packets out)" \
	[ "$(seen lbvip)" = 0 ]

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
