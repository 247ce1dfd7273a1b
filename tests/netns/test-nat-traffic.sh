#!/bin/bash
# Service NAT with real traffic.  A node namespace holds a bridge (pods) and
# a link to an outside namespace; the rules come from `k8snet proxy sync`.
# Client and backend pods are namespaces with a veth on the bridge; backends
# run socat servers that answer with their name and the peer they see.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
command -v nsenter >/dev/null || { echo "SKIP: no nsenter"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="k8st-nat-$$"
PIDS=""
fails=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	_k8st_cleanup
	rm -rf "$WORK"
}
WORK=$(mktemp -d)
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

in_ns() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@"; }
# Background programs: started without a subshell so that $! is theirs.
bg_in() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@" & PIDS="$PIDS $!"; }
not() { ! "$@"; }

# ---------------------------------------------------------------- topology
add_ns node; add_ns out; add_ns cl
for b in b1 b2 b3; do add_ns $b; done
in_ns node ip link add br0 type bridge
in_ns node ip addr add 10.244.0.1/24 dev br0
in_ns node ip link set br0 up
in_ns node ip link set lo up
in_ns node sysctl -qw net.ipv4.ip_forward=1
# Pod-to-pod replies are bridged; conntrack must see them to undo the DNAT.
in_ns node sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' || {
	echo "SKIP: no br_netfilter"; exit 77; }
in_ns node sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables'
in_ns node sysctl -qw net.ipv6.conf.all.forwarding=1
in_ns node ip addr add fd00:244::1/64 dev br0 nodad
i=2
for p in cl b1 b2 b3; do
	in_ns node ip link add "v$p-$$" type veth peer name eth0 netns "$(ns $p)"
	in_ns node ip link set "v$p-$$" master br0 up
	# What kubelet's hairpin-veth mode does: a pod may reach itself via the node.
	in_ns node ip link set "v$p-$$" type bridge_slave hairpin on
	in_ns $p ip addr add "10.244.0.$i/24" dev eth0
	in_ns $p ip link set eth0 up
	in_ns $p ip link set lo up
	in_ns $p ip route add default via 10.244.0.1
	in_ns $p ip addr add "fd00:244::$i/64" dev eth0 nodad
	in_ns $p ip -6 route add default via fd00:244::1
	eval "IP_$p=10.244.0.$i"
	eval "IP6_$p=fd00:244::$i"
	i=$((i + 1))
done
in_ns node ip link add "vout-$$" type veth peer name eth0 netns "$(ns out)"
in_ns node ip addr add 192.168.50.1/24 dev "vout-$$"
in_ns node ip link set "vout-$$" up
in_ns out ip addr add 192.168.50.2/24 dev eth0
in_ns out ip link set eth0 up
in_ns out ip link set lo up

# ---------------------------------------------------------------- servers
for b in b1 b2 b3; do
	bg_in $b socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"echo $b \$SOCAT_PEERADDR"
	bg_in $b socat UDP-RECVFROM:5353,fork SYSTEM:"echo $b \$SOCAT_PEERADDR"
	bg_in $b socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:"echo $b; cat"
	bg_in $b socat TCP6-LISTEN:8080,ipv6only=1,fork,reuseaddr SYSTEM:"echo $b \$SOCAT_PEERADDR"
done
sleep 0.5

# ---------------------------------------------------------------- services
eps() {  # eps PORTNAME PORT NODE ADDR... : an EndpointSlice's endpoints+ports
	local pname=$1 port=$2 node=$3; shift 3
	local sep="" a
	printf '"endpoints":['
	for a in "$@"; do
		printf '%s{"addresses":["%s"],"conditions":{"ready":true},"nodeName":"%s"}' "$sep" "$a" "$node"
		sep=","
	done
	printf '],"ports":[{"name":"%s","port":%s,"protocol":"%s"}]' "$pname" "$port" "${PROTO:-TCP}"
}
slice() {  # slice NAME SERVICE BODY
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"%s","namespace":"default","labels":{"kubernetes.io/service-name":"%s"}},"addressType":"%s",%s}' "$1" "$2" "${AT:-IPv4}" "$3"
}
svc() {  # svc NAME SPEC [CREATION_TIMESTAMP]
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default"%s},"spec":%s}' \
		"$1" "${3:+,\"creationTimestamp\":\"$3\"}" "$2"
}
world() {  # world ECHO_ENDPOINTS... : the whole cluster as a List
	local echo_eps="$*"
	printf '{"apiVersion":"v1","kind":"List","items":['
	svc web '{"type":"NodePort","clusterIP":"10.96.0.10","ports":[{"name":"http","port":80,"protocol":"TCP","nodePort":30080},{"name":"dns","port":53,"protocol":"UDP"}]}'
	printf ,; slice web-tcp web "$(eps http 8080 n1 $IP_b1 $IP_b2 $IP_b3)"
	printf ,; slice web-udp web "$(PROTO=UDP eps dns 5353 n1 $IP_b1 $IP_b2 $IP_b3)"
	printf ,; svc aff '{"clusterIP":"10.96.0.11","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},"ports":[{"port":80}]}'
	printf ,; slice aff-1 aff "$(eps "" 8080 n1 $IP_b1 $IP_b2 $IP_b3)"
	printf ,; svc empty '{"clusterIP":"10.96.0.12","ports":[{"port":80}]}'
	printf ,; svc local '{"type":"NodePort","externalTrafficPolicy":"Local","clusterIP":"10.96.0.13","ports":[{"port":80,"nodePort":30081}]}'
	printf ,; slice local-1 local "$(eps "" 8080 n1 $IP_b1)"
	printf ,; slice local-2 local "$(eps "" 8080 n2 $IP_b2)"
	printf ,; svc remote '{"type":"NodePort","externalTrafficPolicy":"Local","clusterIP":"10.96.0.15","ports":[{"port":80,"nodePort":30082}]}'
	printf ,; slice remote-1 remote "$(eps "" 8080 n2 $IP_b2 $IP_b3)"
	printf ,; svc echo '{"clusterIP":"10.96.0.14","ports":[{"port":90}]}'
	printf ,; slice echo-1 echo "$(eps "" 9000 n1 $echo_eps)"
	printf ,; svc itp '{"internalTrafficPolicy":"Local","clusterIP":"10.96.0.16","ports":[{"port":80}]}'
	printf ,; slice itp-1 itp "$(eps "" 8080 n1 $IP_b3)"
	printf ,; slice itp-2 itp "$(eps "" 8080 n2 $IP_b1 $IP_b2)"
	printf ,; svc web6 '{"clusterIPs":["fd00:96::10"],"ipFamilies":["IPv6"],"ports":[{"port":80}]}'
	printf ,; AT=IPv6 slice web6-1 web6 "$(eps "" 8080 n1 $IP6_b1 $IP6_b2)"
	[ -n "${EXTRA:-}" ] && printf ',%s' "$EXTRA"
	printf ']}\n'
}
sync_world() {
	world "$@" > "$WORK/world.json"
	"$K8SNET" proxy sync --node-netns "/run/netns/$(ns node)" --node-name n1 --node-ip 192.168.50.1 \
		--cluster-cidr 10.244.0.0/16 ${SYNC_FLAGS:-} "$WORK/world.json"
}
sync_world $IP_b1 $IP_b2 || { echo "FAIL: sync"; exit 1; }

# render: the same ruleset as nft text, from standard input, that nft
# accepts (loaded into the otherwise unused outside namespace).
"$K8SNET" proxy render --node-name n1 --node-ip 192.168.50.1 --cluster-cidr 10.244.0.0/16 - \
	< "$WORK/world.json" > "$WORK/render.nft"
check "render from stdin is accepted by nft -f" in_ns out nft -f "$WORK/render.nft"
check "render lists what sync programmed" sh -c "grep -q 'fd00:96::10 . tcp . 80 : goto pick-2' '$WORK/render.nft' &&
	nsenter --net=/run/netns/$(ns node) nft list map ip6 k8snet service-ips | grep -q 'fd00:96::10 . tcp . 80 : goto pick-2'"
in_ns out nft flush ruleset

# ---------------------------------------------------------------- checks
tcp() { in_ns "$1" timeout 3 socat -T2 - "TCP:$2" </dev/null 2>/dev/null; }
# UDP has no handshake: a busy machine may lose the race with -T, so try again.
udp() {
	local i out
	for i in 1 2 3; do
		out=$(echo x | in_ns "$1" timeout 4 socat -T2 - "UDP:$2" 2>/dev/null)
		[ -n "$out" ] && break
	done
	echo "$out"
}

out=$(tcp cl 10.96.0.10:80)
check "ClusterIP TCP reaches a backend ($out)" [ -n "$out" ]
check "backend sees the client pod's address" [ "${out#* }" = "$IP_cl" ]
out=$(tcp cl 10.96.0.10:81 2>&1; in_ns cl timeout 3 socat -T2 - TCP:10.96.0.10:81 </dev/null 2>&1)
check "unused port of a ClusterIP: refused" sh -c "echo '$out' | grep -q 'Connection refused'"
out=$(tcp cl "[fd00:96::10]:80")
seen6=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1].strip("[]")))' "${out#* }" 2>/dev/null)
check "IPv6 ClusterIP reaches a backend, client address kept ($out)" [ "$seen6" = "$IP6_cl" ]
out=$(udp cl 10.96.0.10:53)
check "ClusterIP UDP reaches a backend ($out)" [ "${out#* }" = "$IP_cl" ]

in_ns cl sh -c 'for i in $(seq 300); do timeout 2 socat -T1 - TCP:10.96.0.10:80 </dev/null; done' \
	> "$WORK/300" 2>/dev/null
n=$(wc -l < "$WORK/300")
seen=$(cut -d' ' -f1 "$WORK/300" | sort -u | tr '\n' ' ')
check "300 connections all answered ($n)" [ "$n" = 300 ]
check "3 endpoints all reached ($seen)" [ "$seen" = "b1 b2 b3 " ]

hair=""
for i in $(seq 60); do
	out=$(tcp b1 10.96.0.10:80)
	case "$out" in b1\ *) hair=$out; break ;; esac
done
check "hairpin: a pod reaches itself through its service ($hair)" [ "$hair" = "b1 10.244.0.1" ]

out=$(tcp out 192.168.50.1:30080)
check "NodePort from outside ($out)" [ -n "$out" ]

in_ns cl sh -c 'for i in $(seq 20); do timeout 2 socat -T1 - TCP:10.96.0.11:80 </dev/null; done' \
	> "$WORK/aff" 2>/dev/null
check "affinity pins the client ($(sort -u "$WORK/aff" | tr '\n' ' '))" \
	[ "$(wc -l < "$WORK/aff")" = 20 -a "$(sort -u "$WORK/aff" | wc -l)" = 1 ]

start=$(date +%s%N)
in_ns cl timeout 5 socat -T4 - TCP:10.96.0.12:80 </dev/null 2>"$WORK/refused"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "no endpoints: refused at once (${ms} ms)" grep -q "Connection refused" "$WORK/refused"
check "no endpoints: under 1 s" [ "$ms" -lt 1000 ]
out=$(udp cl 10.96.0.12:80)
check "no endpoints: UDP gets nothing" [ -z "$out" ]

in_ns out sh -c 'for i in $(seq 10); do timeout 2 socat -T1 - TCP:192.168.50.1:30081 </dev/null; done' \
	> "$WORK/local" 2>/dev/null
check "eTP Local: local endpoint only, client address kept ($(sort -u "$WORK/local" | tr '\n' ' '))" \
	[ "$(sort -u "$WORK/local")" = "b1 192.168.50.2" -a "$(wc -l < "$WORK/local")" = 10 ]
in_ns cl sh -c 'for i in $(seq 10); do timeout 2 socat -T1 - TCP:10.96.0.16:80 </dev/null; done' \
	> "$WORK/itp" 2>/dev/null
check "iTP Local: pods reach the local endpoint only ($(sort -u "$WORK/itp" | tr '\n' ' '))" \
	[ "$(sort -u "$WORK/itp")" = "b3 $IP_cl" -a "$(wc -l < "$WORK/itp")" = 10 ]
out=$(tcp out 192.168.50.1:30082)
check "eTP Local: dropped without a local endpoint" [ -z "$out" ]

# An established connection survives an endpoint change that keeps its endpoint.
# The client holds one connection open across the resync (a small Python
# client: files in $WORK say when to go on).
cat > "$WORK/hold.py" <<'EOF_PY'
import os, socket, sys, time
work = sys.argv[1]
s = socket.create_connection(("10.96.0.14", 90), timeout=5)
f = s.makefile("rw")
first = f.readline().strip()
f.write("ping1\n"); f.flush()
r1 = f.readline().strip()
open(work + "/phase1.tmp", "w").write(first + "\n")
os.rename(work + "/phase1.tmp", work + "/phase1")
for _ in range(100):
    if os.path.exists(work + "/go"):
        break
    time.sleep(0.1)
f.write("ping2\n"); f.flush()
r2 = f.readline().strip()
open(work + "/result", "w").write("%s %s\n" % (r1, r2))
EOF_PY
bg_in cl timeout 20 python3 "$WORK/hold.py" "$WORK"
for i in $(seq 50); do [ -e "$WORK/phase1" ] && break; sleep 0.1; done
first=$(cat "$WORK/phase1" 2>/dev/null)
case "$first" in
b1) keep=$IP_b1 gone=b2 ;;
*) keep=$IP_b2 gone=b1 ;;
esac
sync_world "$keep" $IP_b3 || echo "FAIL: resync"
touch "$WORK/go"
for i in $(seq 50); do [ -e "$WORK/result" ] && break; sleep 0.1; done
check "established connection to $first survives an endpoint change ($(cat "$WORK/result" 2>/dev/null))" \
	[ "$(cat "$WORK/result" 2>/dev/null)" = "ping1 ping2" ]
in_ns cl sh -c 'for i in $(seq 20); do timeout 2 socat -T1 - TCP:10.96.0.14:90 </dev/null; done' \
	> "$WORK/echo" 2>/dev/null
check "new connections avoid the removed endpoint $gone" not grep -q "^$gone\$" "$WORK/echo"

# Two services claim one external IP and port.  The older (clash2, by its
# creationTimestamp, though its name sorts later) keeps it; clash1 is
# programmed without it and named; every other service goes on working.
EXTRA="$(svc clash1 '{"clusterIP":"10.96.0.20","externalIPs":["192.168.50.1"],"ports":[{"port":7000}]}' 2024-05-01T10:00:00Z),$(slice clash1-a clash1 "$(eps "" 8080 n1 $IP_b1)"),$(svc clash2 '{"clusterIP":"10.96.0.21","externalIPs":["192.168.50.1"],"ports":[{"port":7000}]}' 2023-01-01T10:00:00Z),$(slice clash2-a clash2 "$(eps "" 8080 n1 $IP_b2)")"
EXTRA=$EXTRA sync_world "$keep" $IP_b3 2>"$WORK/err"
rc=$?
check "conflict: the sync succeeds ($rc)" [ $rc -eq 0 ]
check "conflict: the newer service is named ($(cat "$WORK/err"))" \
	grep -q "service default/clash1 left out: externalIP 192.168.50.1 TCP/7000: held by service default/clash2" "$WORK/err"
out=$(tcp out 192.168.50.1:7000)
check "conflict: the older service gets the address ($out)" [ "${out%% *}" = b2 ]
out=$(tcp cl 10.96.0.20:7000)
check "conflict: the newer one keeps its ClusterIP ($out)" [ "${out%% *}" = b1 ]
out=$(tcp cl 10.96.0.10:80)
check "conflict: other services answer ($out)" [ "${out#* }" = "$IP_cl" ]
out=$(udp cl 10.96.0.10:53)
check "conflict: UDP (a DNS-like service) answers ($out)" [ -n "$out" ]
before=$(in_ns node nft list ruleset | md5sum)

unset EXTRA

# Bad input changes nothing either.
echo '{"kind":"Service","metadata":{"name":"x"},"spec":{"ports":[{"port":70000}]}}' > "$WORK/bad.json"
"$K8SNET" proxy sync --node-netns "/run/netns/$(ns node)" "$WORK/bad.json" 2>"$WORK/err"
rc=$?
check "bad input: exit 2 with the field ($(cat "$WORK/err"))" \
	[ $rc = 2 ] && grep -q "spec.ports\[0\].port" "$WORK/err"
check "bad input: ruleset unchanged" [ "$(in_ns node nft list ruleset | md5sum)" = "$before" ]

# Round robin: 9 connections in a row visit each of 3 endpoints 3 times.
SYNC_FLAGS=--round-robin sync_world $IP_b1 >/dev/null
in_ns cl sh -c 'for i in $(seq 9); do timeout 2 socat -T1 - TCP:10.96.0.10:80 </dev/null; done' \
	> "$WORK/rr" 2>/dev/null
rr=$(cut -d' ' -f1 "$WORK/rr" | sort | uniq -c | awk '{ print $1 }' | tr '\n' ' ')
check "round robin: each endpoint in turn ($rr)" [ "$rr" = "3 3 3 " ]

# Only our tables: another table in the node survives our syncs.
in_ns node nft add table inet keepme
check "a later sync succeeds" sync_world $IP_b1
check "other tables are left alone" in_ns node nft list table inet keepme >/dev/null

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all traffic checks passed"
