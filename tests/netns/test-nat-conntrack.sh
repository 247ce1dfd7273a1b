#!/bin/bash
# Stale UDP conntrack entries, with real traffic.  A client pod sends a
# datagram from a fixed source port every 100 ms to a ClusterIP; the
# service's only endpoint is replaced, scaled to zero and back.  Conntrack
# keeps such a client pinned to the endpoint of its first packet for as
# long as it keeps sending; after a sync that deleted the stale entries its
# packets must reach the new endpoint within 1 s.  A first phase runs the
# same replacement with --no-conntrack-cleanup and checks that the client
# stays pinned: the test can fail, and does without the cleanup.  A TCP
# connection to an endpoint that stays (the removed UDP endpoint's own
# address) lives through it all.
#
# One `k8snet proxy sync --follow` process keeps its record between syncs,
# as a daemon would; each line on its input names the next state.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="${K8ST_TAG:-k8st-natct}-$$"
PIDS=""
fails=0
WORK=$(mktemp -d)

cleanup() {
	exec 8>&- 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	_k8st_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
# Background programs must not hold the proxy's input open (fd 8).
bg_in() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@" 8>&- & PIDS="$PIDS $!"; }

# ---------------------------------------------------------------- topology
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
	# Made inside the node's namespace: nothing touches the host's.
	in_ns node ip link add "v$p" type veth peer name eth0 netns "$(ns $p)"
	in_ns node ip link set "v$p" master br0 up
	in_ns $p ip addr add "10.244.0.$i/24" dev eth0
	in_ns $p ip link set eth0 up
	in_ns $p ip link set lo up
	in_ns $p ip route add default via 10.244.0.1
	eval "IP_$p=10.244.0.$i"
	i=$((i + 1))
done

# ---------------------------------------------------------------- programs
# Backends log every datagram they receive; b1 also echoes TCP.
for b in b1 b2 b3; do
	bg_in $b socat -u UDP-RECV:5353 OPEN:"$WORK/$b.log",creat,append
done
bg_in b1 socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat
cat > "$WORK/udp-client.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[3])))
n = 0
while True:
    try:
        s.sendto(b"%d\n" % n, (sys.argv[1], int(sys.argv[2])))
    except OSError:
        pass
    n += 1
    time.sleep(0.1)
EOF
# The TCP client sends a line every 100 ms and counts echoes; it writes
# "dead" and stops at the first failure.
cat > "$WORK/tcp-client.py" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
n = 0
out = open(sys.argv[3], "w")
while True:
    try:
        s.sendall(b"x\n")
        if s.recv(16) == b"":
            raise OSError("closed")
        n += 1
        out.seek(0); out.write("%d \n" % n); out.flush()
    except OSError as e:
        out.seek(0); out.write("dead %s\n" % e); out.flush()
        break
    time.sleep(0.1)
EOF
sleep 0.3

# ---------------------------------------------------------------- states
state() {  # state FILE UDP_ENDPOINTS... : service dns, its TCP port always on b1
	local f=$1 sep="" a; shift
	{
	printf '{"apiVersion":"v1","kind":"List","items":['
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"dns","namespace":"default"},'
	printf '"spec":{"clusterIP":"10.96.0.20","ports":[{"name":"dns","port":53,"protocol":"UDP"},'
	printf '{"name":"echo","port":90,"protocol":"TCP"}]}},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"dns-udp",'
	printf '"namespace":"default","labels":{"kubernetes.io/service-name":"dns"}},"addressType":"IPv4",'
	printf '"endpoints":['
	for a in "$@"; do
		printf '%s{"addresses":["%s"],"conditions":{"ready":true},"nodeName":"n1"}' "$sep" "$a"
		sep=","
	done
	printf '],"ports":[{"name":"dns","port":5353,"protocol":"UDP"}]},'
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"dns-tcp",'
	printf '"namespace":"default","labels":{"kubernetes.io/service-name":"dns"}},"addressType":"IPv4",'
	printf '"endpoints":[{"addresses":["%s"],"conditions":{"ready":true},"nodeName":"n1"}],' "$IP_b1"
	printf '"ports":[{"name":"echo","port":9000,"protocol":"TCP"}]}]}\n'
	} > "$WORK/$f.json"
}
state b1 "$IP_b1"
state b2 "$IP_b2"
state b3 "$IP_b3"
state none

# proxy_start INITIAL [FLAGS...]: a following proxy on fd 8, output in proxy.out
proxy_start() {
	local first=$1; shift
	mkfifo "$WORK/in.$first"
	"$K8SNET" proxy sync --follow --node-netns "/run/netns/$(ns node)" --node-name n1 \
		--cluster-cidr 10.244.0.0/16 "$@" "$WORK/$first.json" \
		< "$WORK/in.$first" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
	PROXY=$!
	PIDS="$PIDS $PROXY"
	exec 8> "$WORK/in.$first"
	synced=1
	wait_synced
}
wait_synced() {
	local i
	for i in $(seq 50); do
		[ "$(grep -c '^synced' "$WORK/proxy.out" 2>/dev/null)" -ge "$synced" ] && return 0
		sleep 0.1
	done
	echo "proxy did not sync: $(cat "$WORK/proxy.err")"
	return 1
}
to() {  # to STATE: the proxy syncs it
	echo "$WORK/$1.json" >&8
	synced=$((synced + 1))
	wait_synced
	tail -n1 "$WORK/proxy.out"
}
proxy_stop() { exec 8>&-; wait "$PROXY" 2>/dev/null; rm -f "$WORK/in."*; : > "$WORK/proxy.out"; }

count() { wc -l < "$WORK/$1.log" 2>/dev/null || echo 0; }
# receives B: B's count grows over half a second
receives() { local a b; a=$(count "$1"); sleep 0.5; b=$(count "$1"); [ "$b" -gt "$a" ]; }
silent() { local a b; a=$(count "$1"); sleep 0.5; b=$(count "$1"); [ "$b" = "$a" ]; }
client() {  # client SPORT: start the UDP client, its pid in CLIENT
	bg_in cl python3 "$WORK/udp-client.py" 10.96.0.20 53 "$1"
	CLIENT=$!
}
# starts_reaching B: within 10 s (a loaded machine starts python slowly)
starts_reaching() {
	local a i
	a=$(count "$1")
	for i in $(seq 100); do [ "$(count "$1")" -gt "$a" ] && return 0; sleep 0.1; done
	return 1
}

# ------------------------------------------------ control: no cleanup, pinned
proxy_start b1 --no-conntrack-cleanup || exit 1
client 40000
check "control: the client reaches b1" starts_reaching b1
to b2 >/dev/null
sleep 1
check "control: without cleanup the client stays pinned to b1" receives b1
check "control: ... and b2 sees nothing" silent b2
kill "$CLIENT"
proxy_stop

# ------------------------------------------------ with cleanup
# CT_FLAGS=--no-conntrack-cleanup shows this part failing without the cleanup.
proxy_start b2 ${CT_FLAGS:-} || exit 1
bg_in cl python3 "$WORK/tcp-client.py" 10.96.0.20 90 "$WORK/tcp.state"
TCP=$!
client 40001
check "the client reaches b2" starts_reaching b2
out=$(to b3)
sleep 1
check "endpoint replaced: within 1 s the client reaches b3 ($out)" receives b3
check "... and b2 no longer" silent b2
to none >/dev/null
sleep 0.5
check "scaled to zero: nobody receives" sh -c "$(declare -f count silent); WORK=$WORK; silent b1 && silent b2 && silent b3"
to b1 >/dev/null
sleep 1
check "scaled back: within 1 s the client reaches b1" receives b1
to b2 >/dev/null
sleep 1
check "b1 (the TCP endpoint's address) replaced: within 1 s the client reaches b2" receives b2
tcp=$(cat "$WORK/tcp.state" 2>/dev/null)
check "the TCP connection to b1 lived through the cleanups ($tcp)" \
	sh -c "case '$tcp' in dead*|'') exit 1;; esac; [ ${tcp% } -gt 20 ]"
t1=$(cat "$WORK/tcp.state"); sleep 0.5; t2=$(cat "$WORK/tcp.state")
check "... and still carries data" [ "$t1" != "$t2" ]
kill "$CLIENT" "$TCP"
proxy_stop

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
