#!/bin/sh
# Three nodes joined by an underlay (a bridge in its own namespace), two
# dual-stack pods on each node.  In host-gw mode and in VXLAN mode every pod reaches every
# other pod over TCP and the server sees the client pod's own address.  For
# VXLAN the underlay holds no pod-CIDR route anywhere: only the overlay can
# deliver.  Removing a peer cuts exactly that node off.
set -u
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/netns/link-lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }

NODES="1 2 3"
PODS="2 3"

world() { # world MODE: fresh underlay, nodes and pods
	mode=$1
	link_ns ul; U=$LINK_NS
	ip -n $U link add br-ul type bridge && ip -n $U link set br-ul up || fail "underlay"
	for i in $NODES; do
		link_ns n$i; eval "N$i=$LINK_NS"
		ip -n $U link add ul$i type veth peer name ul0 netns $LINK_NS
		ip -n $U link set ul$i master br-ul up
		ip -n $LINK_NS addr add 192.168.50.$i/24 dev ul0
		ip -n $LINK_NS addr add fd00:50::$i/64 dev ul0 nodad
		ip -n $LINK_NS link set ul0 up
		ip -n $LINK_NS link set lo up
		IN="--node-netns /run/netns/$LINK_NS"
		$K8SNET node setup --ipv6 $IN || fail "node setup"
		$K8SNET bridge ensure --bridge cni0 --address 10.244.$i.1/24 \
			--address fd00:244:$i::1/64 $IN || fail "bridge"
		mtu=1500; [ $mode = vxlan ] && mtu=1450
		for p in $PODS; do
			link_ns p$i$p; eval "P$i$p=$LINK_NS"
			$K8SNET pod attach --pod-netns /run/netns/$LINK_NS --container-id c$i$p --ifname eth0 \
				--bridge cni0 --address 10.244.$i.$p/24 --gateway 10.244.$i.1 --mtu $mtu \
				--address fd00:244:$i::$p/64 --gateway fd00:244:$i::1 \
				$IN >/dev/null || fail "attach pod $i.$p"
			serve $LINK_NS 10.244.$i.$p 8080
			serve $LINK_NS fd00:244:$i::$p 8086
		done
	done
}

ns_of() { eval "echo \$$1"; }

peers() { # peers MODE add|del
	for i in $NODES; do for j in $NODES; do
		[ $i = $j ] && continue
		extra=""
		[ $1 = vxlan ] && extra="--vni 42 --vxlan-dev vxlan0 --local-ip 192.168.50.$i"
		$K8SNET node peer $2 --mode $1 --peer-pod-cidr 10.244.$j.0/24 --peer-ip 192.168.50.$j \
			$extra --node-netns /run/netns/$(ns_of N$i) || fail "peer $2 $i->$j"
		# IPv6 pods: host-gw through the IPv6 underlay, VXLAN over the IPv4 one.
		node6=fd00:50::$j; [ $1 = vxlan ] && node6=192.168.50.$j
		$K8SNET node peer $2 --mode $1 --peer-pod-cidr fd00:244:$j::/64 --peer-ip $node6 \
			$extra --node-netns /run/netns/$(ns_of N$i) || fail "peer6 $2 $i->$j"
	done; done
}

all_to_all() {
	for i in $NODES; do for p in $PODS; do
		targets=""
		for j in $NODES; do for q in $PODS; do
			[ $i$p = $j$q ] || targets="$targets 10.244.$j.$q fd00:244:$j::$q"
		done; done
		expect_from $(ns_of P$i$p) 10.244.$i.$p fd00:244:$i::$p 8080 8086 $targets
	done; done
}

for mode in host-gw vxlan; do
	world $mode
	# Negative control: before peers, other nodes' pods are unreachable.
	expect_no_connect $(ns_of P12) 10.244.2.2 8080
	peers $mode add
	peers $mode add    # idempotent
	all_to_all
	if [ $mode = vxlan ]; then
		for i in $NODES; do
			ip -n $(ns_of N$i) route | grep "^10.244" | grep -v "dev vxlan0\|dev cni0" &&
				fail "node $i routes a pod CIDR outside the overlay"
			ip -n $(ns_of N$i) -6 route | grep "^fd00:244" | grep -v "dev vxlan0\|dev cni0" &&
				fail "node $i routes an IPv6 pod CIDR outside the overlay"
			ip -n $(ns_of N$i) -d link show vxlan0 | grep -q "vxlan id 42" || fail "vxlan0 on $i"
			[ "$(bridge -n $(ns_of N$i) fdb show dev vxlan0 | grep -c 'dst 192.168.50')" = 2 ] ||
				fail "node $i: expected 2 FDB entries"
		done
		ip -n $U route | grep -q 10.244 && fail "the underlay routes pod CIDRs"
		ip -n $U -6 route | grep -q fd00:244 && fail "the underlay routes IPv6 pod CIDRs"
	fi
	ok "$mode: 6 dual-stack pods on 3 nodes, all 30 pairs connect over IPv4 and IPv6, servers see client pod IPs"
	# Remove one peer at a time: node 1 loses node 2 only.
	$K8SNET node peer del --mode $mode --peer-pod-cidr 10.244.2.0/24 --peer-ip 192.168.50.2 \
		--vxlan-dev vxlan0 --node-netns /run/netns/$N1 || fail "peer del"
	$K8SNET node peer del --mode $mode --peer-pod-cidr 10.244.2.0/24 --peer-ip 192.168.50.2 \
		--vxlan-dev vxlan0 --node-netns /run/netns/$N1 || fail "peer del twice"
	expect_no_connect $(ns_of P12) 10.244.2.2 8080
	expect_peer $(ns_of P12) 10.244.3.2 8080 10.244.1.2
	ip -n $N1 route | grep -q "^10.244.2.0/24" && fail "peer del left the route"
	if [ $mode = vxlan ]; then
		bridge -n $N1 fdb show dev vxlan0 | grep -q "dst 192.168.50.2" && fail "peer del left the FDB entry"
		ip -n $N1 neigh show dev vxlan0 | grep -q "10.244.2.0" && fail "peer del left the neighbour"
	fi
	ok "$mode: peer del cuts off that node only"
	for p in $_link_pids; do kill $p 2>/dev/null; done
	wait 2>/dev/null
	_link_pids=""
	_k8st_cleanup
done
echo PASS
