#!/bin/bash
# Host ports with real traffic, through `k8snet hostport` (the library's
# host-port API).  A node namespace holds a bridge with two pods and a link
# to an outside namespace.  Checks: a published port from outside, from the
# node on its own address and on 127.0.0.1, UDP, IPv6, a mapping restricted
# to one host address, hairpin from the same pod and from another, owners
# (a conflict names the holder; the loser's removal leaves the winner's
# mapping alone; gc by prefix), check, and 100,000 mappings refused with
# nothing left behind.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
command -v nsenter >/dev/null || { echo "SKIP: no nsenter"; exit 77; }

K8SNET="$top_builddir/examples/k8snet"
TAG="k8st-hp-$$"
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
bg_in() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@" & PIDS="$PIDS $!"; }
not() { ! "$@"; }
hp() { "$K8SNET" hostport "$@" --node-netns "/run/netns/$(ns node)"; }
tcp() { in_ns "$1" timeout 3 socat -T2 - "TCP:$2" </dev/null 2>/dev/null; }
tcp6() { in_ns "$1" timeout 3 socat -T2 - "TCP6:$2" </dev/null 2>/dev/null; }
udp() { echo x | in_ns "$1" timeout 3 socat -T2 - "UDP:$2" 2>/dev/null; }

# ---------------------------------------------------------------- topology
add_ns node; add_ns out; add_ns p1; add_ns p2
in_ns node ip link set lo up
in_ns node ip link add br0 type bridge
in_ns node ip addr add 10.250.0.1/24 dev br0
in_ns node ip addr add fd00:250::1/64 dev br0 nodad
in_ns node ip link set br0 up
in_ns node sysctl -qw net.ipv4.ip_forward=1
in_ns node sysctl -qw net.ipv6.conf.all.forwarding=1
# What k8snet-cni does for a network with published ports: loopback
# connections may be routed to the pods.
in_ns node sysctl -qw net.ipv4.conf.br0.route_localnet=1
i=2
for p in p1 p2; do
	in_ns node ip link add "v$p-$$" type veth peer name eth0 netns "$(ns $p)"
	in_ns node ip link set "v$p-$$" master br0 up
	in_ns node ip link set "v$p-$$" type bridge_slave hairpin on
	in_ns $p ip addr add "10.250.0.$i/24" dev eth0
	in_ns $p ip addr add "fd00:250::$i/64" dev eth0 nodad
	in_ns $p ip link set eth0 up
	in_ns $p ip link set lo up
	in_ns $p ip route add default via 10.250.0.1
	in_ns $p ip -6 route add default via fd00:250::1
	i=$((i + 1))
done
in_ns node ip link add "vout-$$" type veth peer name eth0 netns "$(ns out)"
in_ns node ip addr add 192.168.77.1/24 dev "vout-$$"
in_ns node ip addr add fd00:77::1/64 dev "vout-$$" nodad
in_ns node ip link set "vout-$$" up
in_ns out ip addr add 192.168.77.2/24 dev eth0
in_ns out ip addr add fd00:77::2/64 dev eth0 nodad
in_ns out ip link set eth0 up
in_ns out ip link set lo up
P1=10.250.0.2 P2=10.250.0.3

for p in p1 p2; do
	bg_in $p socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $p \$SOCAT_PEERADDR"
	bg_in $p socat TCP6-LISTEN:80,ipv6only=1,fork,reuseaddr SYSTEM:"echo $p \$SOCAT_PEERADDR"
	bg_in $p socat UDP-RECVFROM:53,fork SYSTEM:"echo $p \$SOCAT_PEERADDR"
done
sleep 0.5

# ---------------------------------------------------------------- mappings
check "A publishes TCP and UDP" hp set --owner net1/A tcp:18080:$P1:80 udp:18053:$P1:53
check "the pod network: hairpin masquerading" hp network --network net1 10.250.0.0/24 fd00:250::/64
out=$(tcp out 192.168.77.1:18080)
check "from outside, the client address kept ($out)" [ "$out" = "p1 192.168.77.2" ]
out=$(udp out 192.168.77.1:18053)
check "UDP from outside ($out)" [ "${out%% *}" = p1 ]
out=$(tcp node 192.168.77.1:18080)
check "from the node on its own address ($out)" [ "${out%% *}" = p1 ]
out=$(tcp node 127.0.0.1:18080)
check "from the node on 127.0.0.1, masqueraded ($out)" [ "$out" = "p1 10.250.0.1" ]
out=$(tcp p1 192.168.77.1:18080)
check "hairpin: a pod to its own published port ($out)" [ "$out" = "p1 10.250.0.1" ]
out=$(tcp p2 192.168.77.1:18080)
check "hairpin: another pod of the network ($out)" [ "$out" = "p1 10.250.0.1" ]

check "B publishes on 127.0.0.1 only" hp set --owner net1/B tcp:127.0.0.1:18081:$P2:80
out=$(tcp node 127.0.0.1:18081)
check "B answers on 127.0.0.1 ($out)" [ "${out%% *}" = p2 ]
check "B does not answer on the node's address" not tcp out 192.168.77.1:18081

check "C publishes IPv6" hp set --owner net1/C "tcp:18082:[fd00:250::3]:80"
out=$(tcp6 out "[fd00:77::1]:18082")
check "IPv6 from outside ($out)" [ "${out%% *}" = p2 ]

# Owners: D may not take A's port; D's removal (a failed ADD's DEL) leaves A's.
before=$(in_ns node nft list table inet k8snet-hostports | md5sum)
hp set --owner net1/D tcp:18080:$P2:80 2>"$WORK/err"
rc=$?
check "a held port is refused with exit 1 ($rc)" [ $rc = 1 ]
check "the error names the holder ($(cat "$WORK/err"))" grep -q "TCP 18080 .*is held by net1/A" "$WORK/err"
check "a refused set changes nothing" [ "$(in_ns node nft list table inet k8snet-hostports | md5sum)" = "$before" ]
hp set --owner net1/D tcp:192.168.77.1:18080:$P2:80 2>"$WORK/err"
check "a specific address overlapping A's wildcard is refused too" grep -q "held by net1/A" "$WORK/err"
check "D's removal succeeds" hp remove --owner net1/D
out=$(tcp out 192.168.77.1:18080)
check "A still answers after D's removal ($out)" [ "${out%% *}" = p1 ]

check "check: A's mappings are in place" hp check --owner net1/A tcp:18080:$P1:80 udp:18053:$P1:53
check "check: a different list fails" not hp check --owner net1/A tcp:18080:$P1:80
in_ns node nft delete element inet k8snet-hostports hp4-any '{ udp . 18053 }'
hp check --owner net1/A tcp:18080:$P1:80 udp:18053:$P1:53 2>"$WORK/err"
check "check: a mapping deleted behind our back is named ($(cat "$WORK/err"))" \
	grep -q "UDP 18053 .*not published" "$WORK/err"
check "set again repairs it" hp set --owner net1/A tcp:18080:$P1:80 udp:18053:$P1:53
out=$(udp out 192.168.77.1:18053)
check "UDP answers again ($out)" [ "${out%% *}" = p1 ]

# A chain flushed behind our back is whole after the next change.
in_ns node nft flush chain inet k8snet-hostports hostports
check "a later change succeeds" hp set --owner net2/E tcp:18090:$P2:80
out=$(tcp out 192.168.77.1:18080)
check "after a flush and a change, A answers again ($out)" [ "${out%% *}" = p1 ]

# gc by prefix: net1 keeps A and C; B goes; net2's E is not net1's to judge.
out=$(hp gc --prefix net1/ net1/A net1/C)
check "gc removes B's one mapping ($out)" [ "$out" = "1 removed" ]
check "B's port is gone" not tcp node 127.0.0.1:18081
out=$(tcp out 192.168.77.1:18090)
check "another network's mapping stays ($out)" [ "${out%% *}" = p2 ]

# Too many mappings: a clear error, nothing sent.
before=$(in_ns node nft list table inet k8snet-hostports | md5sum)
seq 1 100000 | awk -v p=$P1 '{ printf "tcp:%d:%s:80\n", $1 % 60000 + 1, p }' > "$WORK/many"
hp set --owner net1/many --mappings "$WORK/many" 2>"$WORK/err" >/dev/null
rc=$?
check "100,000 mappings: refused ($rc: $(head -c 200 "$WORK/err"))" \
	grep -q "more than 65536 mappings" "$WORK/err"
check "100,000 mappings: nothing changed" \
	[ "$(in_ns node nft list table inet k8snet-hostports | md5sum)" = "$before" ]

# Removal leaves nothing of the owner behind.
hp remove --owner net1/A; hp remove --owner net1/C; hp remove --owner net2/E
check "after removing every owner the maps are empty" \
	not in_ns node sh -c "nft list table inet k8snet-hostports | grep -q elements"
check "and A's port is gone" not tcp out 192.168.77.1:18080

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all host port checks passed"
