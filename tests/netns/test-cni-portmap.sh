#!/bin/bash
# Published ports as runtimes use them, each case run twice: with the
# reference chain (Debian's bridge + host-local + portmap, in one node
# namespace) and with k8snet-cni (in another), asserting the same outcome:
# a published port reached from another namespace, from the node on its own
# address and on 127.0.0.1, a hostIP-restricted mapping answering on that
# address only, IPv6, hairpin from the same container and from another,
# UDP, SCTP (k8snet only: not every reference build has it), a mapping
# conflict and the DEL of the loser (the winner keeps its port), and the
# last DEL leaving the port closed.  Then, k8snet-cni only: CHECK names a
# mapping deleted behind its back, route_localnet is on the bridge only, and
# DEL succeeds for configs ADD refuses, a missing namespace, missing state;
# SCTP and an IPv6 hostIP; snat false sets neither route_localnet nor
# hairpin masquerading; route_localnet does not open the node's 127.0.0.1
# to the pods (CVE-2020-8558).
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root
for t in socat iptables ip6tables; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
for p in bridge host-local portmap; do
	[ -x "$REF_CNI_DIR/$p" ] || { echo "SKIP: no reference $p in $REF_CNI_DIR"; exit 77; }
done

PIDS=""
kill_servers() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; PIDS=""; }
CNI_EXTRA_CLEANUP=kill_servers

in_ns() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@"; }
bg_in() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@" & PIDS="$PIDS $!"; }
tcp() { in_ns "$1" timeout 3 socat -T2 - "TCP:$2" </dev/null 2>/dev/null; }
tcp6() { in_ns "$1" timeout 3 socat -T2 - "TCP6:$2" </dev/null 2>/dev/null; }
udp() { echo x | in_ns "$1" timeout 3 socat -T2 - "UDP:$2" 2>/dev/null; }

NODE_IP=192.168.91.1 OUT_IP=192.168.91.2 GW=10.91.0.1

# conf WHO ID MAPPINGS: the configuration(s) for one container.
#   ref:    $TMP/ref-ID-bridge.json, $TMP/ref-ID-portmap.json (prevResult
#           filled in by ref_add)
#   k8snet: $TMP/k8snet-ID.json
conf() {
	python3 - "$TMP" "$1" "$2" "$3" <<'EOF'
import json, sys
tmp, who, cid, maps = sys.argv[1:]
net = {"cniVersion": "1.0.0", "name": "pmtest", "bridge": "pm0", "isGateway": True,
       "isDefaultGateway": True, "hairpinMode": True,
       "ipam": {"type": "host-local",
                "ranges": [[{"subnet": "10.91.0.0/24"}], [{"subnet": "fd00:91::/64"}]],
                "dataDir": f"{tmp}/ipam-{who}"}}
rc = {"portMappings": json.loads(maps)}
if who == "ref":
    json.dump(dict(net, type="bridge"), open(f"{tmp}/ref-{cid}-bridge.json", "w"))
    json.dump({"cniVersion": "1.0.0", "name": "pmtest", "type": "portmap",
               "capabilities": {"portMappings": True}, "snat": True, "runtimeConfig": rc},
              open(f"{tmp}/ref-{cid}-portmap.json", "w"))
else:
    json.dump(dict(net, type="k8snet-cni", capabilities={"portMappings": True},
                   runtimeConfig=rc), open(f"{tmp}/k8snet-{cid}.json", "w"))
EOF
}

with_prev() {
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1])); c["prevResult"] = json.load(open(sys.argv[2]))
json.dump(c, open(sys.argv[3], "w"))' "$1" "$2" "$3"
}

# add WHO ID NETNS: ADD as the runtime would (the chain for ref); status kept,
# the last plugin's output in $TMP/WHO-ID.out.
add() {
	local who=$1 id=$2 ns=$3
	if [ "$who" = ref ]; then
		PLUGIN=$REF_CNI_DIR/bridge cni "$node" ADD "$id" "$ns" eth0 \
			"$TMP/ref-$id-bridge.json" >"$TMP/ref-$id.res" || { cp "$TMP/ref-$id.res" "$TMP/ref-$id.out"; return 1; }
		with_prev "$TMP/ref-$id-portmap.json" "$TMP/ref-$id.res" "$TMP/ref-$id-pm.json"
		PLUGIN=$REF_CNI_DIR/portmap cni "$node" ADD "$id" "$ns" eth0 \
			"$TMP/ref-$id-pm.json" >"$TMP/ref-$id.out"
	else
		cni "$node" ADD "$id" "$ns" eth0 "$TMP/k8snet-$id.json" >"$TMP/k8snet-$id.out"
	fi
}

del() {
	local who=$1 id=$2 ns=$3 rc=0
	if [ "$who" = ref ]; then
		PLUGIN=$REF_CNI_DIR/portmap cni "$node" DEL "$id" "$ns" eth0 \
			"$TMP/ref-$id-portmap.json" >"$TMP/ref-$id.del" || rc=1
		PLUGIN=$REF_CNI_DIR/bridge cni "$node" DEL "$id" "$ns" eth0 \
			"$TMP/ref-$id-bridge.json" >>"$TMP/ref-$id.del" || rc=1
	else
		cni "$node" DEL "$id" "$ns" eth0 "$TMP/k8snet-$id.json" >"$TMP/k8snet-$id.del" || rc=1
	fi
	return $rc
}

# outcome NAME VALUE: what one case gave, kept for the comparison.
outcome() { printf '%-48s %s\n' "$1" "$2" >>"$TMP/$who.outcomes"; }

MAPS_P1='[{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"},
	  {"hostPort": 18053, "containerPort": 53, "protocol": "udp"},
	  {"hostPort": 18081, "containerPort": 80, "protocol": "tcp", "hostIP": "127.0.0.1"},
	  {"hostPort": 18082, "containerPort": 80, "protocol": "tcp", "hostIP": "192.168.91.1"}]'
MAPS_P2='[{"hostPort": 18090, "containerPort": 80, "protocol": "tcp", "hostIP": ""}]'
MAPS_P3='[{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]'

for who in ref k8snet; do
	start=$(date +%s)
	: >"$TMP/$who.outcomes"
	netns_add "p18-$who"; node=$NETNS
	netns_add p18-out; out=$NETNS
	netns_add p18-p1; p1=$NETNS
	netns_add p18-p2; p2=$NETNS
	netns_add p18-p3; p3=$NETNS
	in_ns "$node" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$node" link add up0 type veth peer name eth0 netns "$out"
	in_ns "$node" ip addr add $NODE_IP/24 dev up0
	in_ns "$node" ip addr add fd00:92::1/64 dev up0 nodad
	in_ns "$node" ip link set up0 up
	in_ns "$out" ip addr add $OUT_IP/24 dev eth0
	in_ns "$out" ip addr add fd00:92::2/64 dev eth0 nodad
	in_ns "$out" ip link set eth0 up

	conf $who p1 "$MAPS_P1"; conf $who p2 "$MAPS_P2"; conf $who p3 "$MAPS_P3"
	add $who p1 "$p1" || fail "$who ADD p1: $(cat "$TMP/$who-p1.out")"
	add $who p2 "$p2" || fail "$who ADD p2: $(cat "$TMP/$who-p2.out")"
	# Pods: servers that say who they are and whom they see.
	for p in p1 p2; do
		n=$(eval echo \$$p)
		in_ns "$n" ip -6 addr show dev eth0 | grep -q tentative && sleep 1
		bg_in "$n" socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $p \$SOCAT_PEERADDR"
		bg_in "$n" socat TCP6-LISTEN:80,ipv6only=1,fork,reuseaddr SYSTEM:"echo $p \$SOCAT_PEERADDR"
		bg_in "$n" socat UDP-RECVFROM:53,fork SYSTEM:"echo $p \$SOCAT_PEERADDR"
	done
	sleep 0.5
	a1=$(json '[i["address"] for i in j["ips"] if "." in i["address"]][0].split("/")[0]' <"$TMP/$who-p1.out")

	outcome "from another namespace" "$(tcp "$out" $NODE_IP:18080)"
	outcome "from another namespace, IPv6" "$(tcp6 "$out" "[fd00:92::1]:18080" | cut -d' ' -f1)"
	outcome "UDP from another namespace" "$(udp "$out" $NODE_IP:18053)"
	outcome "from the node on its own address" "$(tcp "$node" $NODE_IP:18080 | cut -d' ' -f1)"
	outcome "from the node on the bridge address" "$(tcp "$node" $GW:18080 | cut -d' ' -f1)"
	outcome "from the node on 127.0.0.1" "$(tcp "$node" 127.0.0.1:18080)"
	outcome "hostIP 127.0.0.1: on 127.0.0.1" "$(tcp "$node" 127.0.0.1:18081)"
	outcome "hostIP 127.0.0.1: from another namespace" "$(tcp "$out" $NODE_IP:18081)"
	outcome "hostIP 127.0.0.1: on the node's address" "$(tcp "$node" $NODE_IP:18081)"
	outcome "hostIP node address: from another namespace" "$(tcp "$out" $NODE_IP:18082)"
	outcome "hostIP node address: on 127.0.0.1" "$(tcp "$node" 127.0.0.1:18082)"
	outcome "hostIP node address: on the bridge address" "$(tcp "$node" $GW:18082)"
	outcome "hostIP \"\": from another namespace" "$(tcp "$out" $NODE_IP:18090)"
	outcome "hairpin: p1 to its own published port" "$(tcp "$p1" $NODE_IP:18080)"
	outcome "hairpin: p2 to p1's published port" "$(tcp "$p2" $NODE_IP:18080)"
	outcome "direct: p2 to p1's address keeps its source" "$(tcp "$p2" "$a1:80" | sed 's/10\.91\.0\.[0-9]*/POD/')"

	# A conflict: p3 asks for p1's port.  The reference portmap takes it
	# (the first rule wins), k8snet-cni refuses it (code 101); either way
	# p1 keeps answering, and the loser's DEL leaves p1's mapping alone.
	add $who p3 "$p3"; echo "   $who: ADD of a conflicting mapping: exit $? $(tr -d '\n' <"$TMP/$who-p3.out" | head -c 160)"
	outcome "conflict: the first owner keeps the port" "$(tcp "$out" $NODE_IP:18080 | cut -d' ' -f1)"
	del $who p3 "$p3" || fail "$who DEL of the loser: $(cat "$TMP/$who-p3.del")"
	outcome "DEL of the loser: the winner still answers" "$(tcp "$out" $NODE_IP:18080 | cut -d' ' -f1)"
	outcome "DEL of the loser: the winner on 127.0.0.1" "$(tcp "$node" 127.0.0.1:18080 | cut -d' ' -f1)"

	if [ $who = k8snet ]; then
		[ "$(in_ns "$node" sysctl -n net.ipv4.conf.pm0.route_localnet)" = 1 ] ||
			fail "k8snet: route_localnet not set on the bridge"
		[ "$(in_ns "$node" sysctl -n net.ipv4.conf.up0.route_localnet)" = 0 ] &&
		[ "$(in_ns "$node" sysctl -n net.ipv4.conf.all.route_localnet)" = 0 ] ||
			fail "k8snet: route_localnet set beyond the bridge"
		ok "k8snet: route_localnet on the bridge only"
		# ... which must not open the node's 127.0.0.0/8 to the pods: p2
		# routes 127.0.0.1 to the gateway and sends to a service the node
		# has there (UDP: one packet is enough).
		in_ns "$p2" sysctl -qw net.ipv4.conf.all.route_localnet=1
		in_ns "$p2" sysctl -qw net.ipv4.conf.eth0.route_localnet=1
		ip -n "$p2" route del table local local 127.0.0.1 dev lo
		ip -n "$p2" route del table local local 127.0.0.0/8 dev lo
		ip -n "$p2" route add 127.0.0.1/32 via $GW dev eth0
		in_ns "$node" timeout 3 socat -u UDP-RECV:7778,bind=127.0.0.1 - >"$TMP/guard.out" &
		sleep 0.3
		for i in 1 2 3; do echo "from p2" | in_ns "$p2" socat -u - UDP:127.0.0.1:7778; sleep 0.2; done
		wait $!
		[ -s "$TMP/guard.out" ] && fail "k8snet: a pod reached the node's 127.0.0.1: $(cat "$TMP/guard.out")"
		ok "k8snet: a pod cannot reach the node's 127.0.0.1 through the bridge"
		# CHECK names a mapping deleted behind its back.
		with_prev "$TMP/k8snet-p1.json" "$TMP/k8snet-p1.out" "$TMP/k8snet-p1-check.json"
		cni "$node" CHECK p1 "$p1" eth0 "$TMP/k8snet-p1-check.json" >"$TMP/check.out" ||
			fail "k8snet: CHECK of an intact pod: $(cat "$TMP/check.out")"
		in_ns "$node" nft delete element inet k8snet-hostports hp4-any '{ udp . 18053 }'
		cni "$node" CHECK p1 "$p1" eth0 "$TMP/k8snet-p1-check.json" >"$TMP/check.out" &&
			fail "k8snet: CHECK missed a deleted mapping"
		expect_code 103 "$TMP/check.out"
		grep -q "UDP 18053.*not published" "$TMP/check.out" ||
			fail "k8snet: CHECK does not name the mapping: $(cat "$TMP/check.out")"
		ok "k8snet: CHECK reports the missing mapping ($(json 'j["details"]' <"$TMP/check.out"))"
	fi

	del $who p1 "$p1" || fail "$who DEL p1: $(cat "$TMP/$who-p1.del")"
	del $who p2 "$p2" || fail "$who DEL p2: $(cat "$TMP/$who-p2.del")"
	outcome "after the last DEL: the port is closed" "$(tcp "$out" $NODE_IP:18080)"
	[ -z "$(ip -n "$node" -o link show type veth | grep -v "up0@")" ] || fail "$who: DEL left a veth: $(ip -n "$node" -o link show type veth)"
	if [ $who = k8snet ] && in_ns "$node" nft list table inet k8snet-hostports | grep -q elements; then
		fail "k8snet: DEL left a mapping: $(in_ns "$node" nft list table inet k8snet-hostports)"
	fi
	kill_servers
	echo "   $who: $(($(date +%s) - start)) s"; sed "s/^/   $who: /" "$TMP/$who.outcomes"
done

if ! diff -u "$TMP/ref.outcomes" "$TMP/k8snet.outcomes"; then
	fail "k8snet-cni and the reference chain differ (- reference, + k8snet)"
fi
sed 's/^/   /' "$TMP/k8snet.outcomes"
# The expected values themselves, so that both failing alike fails too.
expect() { grep -qxF "$(printf '%-48s %s' "$1" "$2")" "$TMP/k8snet.outcomes" || fail "$1: expected '$2'"; }
expect "from another namespace" "p1 $OUT_IP"
expect "from another namespace, IPv6" "p1"
expect "UDP from another namespace" "p1 $OUT_IP"
expect "from the node on its own address" "p1"
expect "from the node on 127.0.0.1" "p1 $GW"
expect "hostIP 127.0.0.1: on 127.0.0.1" "p1 $GW"
expect "hostIP 127.0.0.1: from another namespace" ""
expect "hostIP 127.0.0.1: on the node's address" ""
expect "hostIP node address: from another namespace" "p1 $OUT_IP"
expect "hostIP node address: on 127.0.0.1" ""
expect "hairpin: p1 to its own published port" "p1 $GW"
expect "hairpin: p2 to p1's published port" "p1 $GW"
expect "hostIP \"\": from another namespace" "p2 $OUT_IP"
expect "DEL of the loser: the winner still answers" "p1"
expect "after the last DEL: the port is closed" ""
ok "the same outcome as the reference chain in every case"

# ---- k8snet-cni only: SCTP, and a DEL that never refuses.
netns_add p18-node; node=$NETNS
netns_add p18-p4; p4=$NETNS
conf k8snet p4 '[{"hostPort": 18100, "containerPort": 100, "protocol": "sctp"},
		{"hostPort": 18101, "containerPort": 100, "protocol": "tcp", "hostIP": "fd00:92::1"}]'
add k8snet p4 "$p4" || fail "k8snet ADD with SCTP and an IPv6 hostIP: $(cat "$TMP/k8snet-p4.out")"
set_ok=$(in_ns "$node" nft list map inet k8snet-hostports hp4-any)
echo "$set_ok" | grep -q "sctp . 18100" || fail "no SCTP mapping: $set_ok"
in_ns "$node" nft list map inet k8snet-hostports hp6 | grep -q "fd00:92::1 . tcp . 18101" ||
	fail "no IPv6 hostIP mapping: $(in_ns "$node" nft list map inet k8snet-hostports hp6)"
in_ns "$node" nft list map inet k8snet-hostports hp4 | grep -q 18101 &&
	fail "an IPv6 hostIP was mapped for the IPv4 address too"
ok "k8snet: SCTP, and an IPv6 hostIP for the IPv6 address only"
del k8snet p4 "$p4" || fail "k8snet DEL p4"

python3 - "$TMP" <<'EOF'
import json, sys
tmp = sys.argv[1]
base = json.load(open(f"{tmp}/k8snet-p4.json"))
def put(what, **kw):
    c = dict(base); c.update(kw); json.dump(c, open(f"{tmp}/del-{what}.json", "w"))
put("badmap", runtimeConfig={"portMappings": [{"hostPort": 70000, "containerPort": 0,
                                               "protocol": "icmp", "hostIP": "nope"}]})
put("vlan", vlan=5)
put("badipam", ipam={"type": "host-local", "ranges": "not a list"})
put("badprev", prevResult={"ips": "broken"})
put("badname", name="/etc")
EOF
conf k8snet p5 "$MAPS_P3"
add k8snet p5 "$p4" || fail "k8snet ADD p5: $(cat "$TMP/k8snet-p5.out")"
for c in badmap vlan badipam badprev badname; do
	cni "$node" DEL p5 "$p4" eth0 "$TMP/del-$c.json" >"$TMP/del.out" ||
		fail "k8snet: DEL refused a config ADD would refuse ($c): $(cat "$TMP/del.out")"
done
in_ns "$node" nft list table inet k8snet-hostports | grep -q 18080 &&
	fail "k8snet: DEL with a bad mapping list left the mapping"
[ -z "$(ip -n "$node" -o link show type veth)" ] || fail "k8snet: DEL left the veth"
cni "$node" DEL p5 "" eth0 "$TMP/k8snet-p5.json" >"$TMP/del.out" ||
	fail "k8snet: DEL without a namespace: $(cat "$TMP/del.out")"
cni "$node" DEL never-added "k8st-p18-gone-$$" eth0 "$TMP/k8snet-p5.json" >"$TMP/del.out" ||
	fail "k8snet: DEL of a container never added, its namespace gone: $(cat "$TMP/del.out")"
rm -rf "$TMP/ipam-k8snet"
cni "$node" DEL p5 "" eth0 "$TMP/k8snet-p5.json" >"$TMP/del.out" ||
	fail "k8snet: DEL with the IPAM state gone: $(cat "$TMP/del.out")"
ok "k8snet: DEL succeeds for configs ADD refuses, a missing namespace, missing state"

# snat false: neither route_localnet nor hairpin masquerading (as portmap).
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
c.update(name="pmtest2", bridge="pm1", snat=False)
c["ipam"]["dataDir"] += "-nosnat"
json.dump(c, open(sys.argv[2], "w"))' "$TMP/k8snet-p5.json" "$TMP/nosnat.json"
cni "$node" ADD p6 "$p4" eth0 "$TMP/nosnat.json" >"$TMP/nosnat.out" ||
	fail "k8snet ADD with snat false: $(cat "$TMP/nosnat.out")"
[ "$(in_ns "$node" sysctl -n net.ipv4.conf.pm1.route_localnet)" = 0 ] ||
	fail "k8snet: snat false still set route_localnet"
in_ns "$node" nft list chain inet k8snet-hostports net-pmtest2 | grep -q hairpin &&
	fail "k8snet: snat false still masquerades hairpin connections"
cni "$node" DEL p6 "$p4" eth0 "$TMP/nosnat.json" >/dev/null || fail "k8snet DEL with snat false"
ok "k8snet: snat false sets neither route_localnet nor hairpin masquerading"
echo "PASS: published ports behave as with the reference portmap"
