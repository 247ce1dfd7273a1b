#!/bin/sh
# k8snet-cni driven by hand (environment + stdin), as a runtime would, into
# throwaway namespaces: every command, every error code we can provoke,
# results per CNI version, real packets between pods, DEL idempotence,
# delegation, chaining, hostPort, GC, STATUS.
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root

netns_add node; NODE=$NETNS
for i in 1 2 3 4 5; do netns_add pod; eval "POD$i=\$NETNS"; done

# conf FILE VERSION [EXTRA-JSON-MEMBERS] [IPAM-JSON]
DEF_IPAM='{"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/24"}]], "dataDir": "'$TMP/ipam'"}'
conf() {
	python3 - "$@" "$DEF_IPAM" <<'EOC'
import json, sys
path, version, extra, ipam = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] or sys.argv[5]
c = {"cniVersion": version, "name": "testnet", "type": "k8snet-cni", "bridge": "k8sbr0",
     "isGateway": True, "isDefaultGateway": True}
c.update(json.loads("{" + extra + "}"))
c["ipam"] = json.loads(ipam)
json.dump(c, open(path, "w"))
EOC
}
out=$TMP/out

# ---- VERSION ----------------------------------------------------------
for v in 0.4.0 1.0.0 1.1.0; do
	echo "{\"cniVersion\": \"$v\"}" >"$TMP/v.json"
	cni "$NODE" VERSION "" "" "" "$TMP/v.json" >"$out" || fail "VERSION $v"
	[ "$(json 'j["cniVersion"]' <"$out")" = "$v" ] || fail "VERSION answers in $v"
	[ "$(json '",".join(j["supportedVersions"])' <"$out")" = "0.4.0,1.0.0,1.1.0" ] ||
		fail "supportedVersions: $(cat "$out")"
done
: >"$TMP/empty"
cni "$NODE" VERSION "" "" "" "$TMP/empty" >"$out" || fail "VERSION with empty stdin"
ok "VERSION"

# ---- errors: code 4, invalid environment --------------------------------
conf "$TMP/c10.json" 1.0.0 "" ""
env -u CNI_COMMAND nsenter --net=/run/netns/$NODE "$CNI_BIN" <"$TMP/c10.json" >"$out" && fail "no CNI_COMMAND"
expect_code 4 "$out"
cni "$NODE" ADD c1 "" eth0 "$TMP/c10.json" >"$out" && fail "ADD without CNI_NETNS"
expect_code 4 "$out"
grep -q CNI_NETNS "$out" || fail "message names CNI_NETNS: $(cat "$out")"
cni "$NODE" ADD 'bad/id' "$POD1" eth0 "$TMP/c10.json" >"$out" && fail "bad container id"
expect_code 4 "$out"
cni "$NODE" ADD c1 "$POD1" 'eth0/x' "$TMP/c10.json" >"$out" && fail "bad ifname"
expect_code 4 "$out"
cni "$NODE" ADD c1 "$POD1" eth0 "$TMP/c10.json" CNI_ARGS='FOO' >"$out" && fail "bad CNI_ARGS"
expect_code 4 "$out"
cni "$NODE" FROB c1 "$POD1" eth0 "$TMP/c10.json" >"$out" && fail "unknown command"
expect_code 4 "$out"
ok "code 4 (env)"

# ---- code 6, decode; code 1, version -----------------------------------
echo 'not json' >"$TMP/bad.json"
cni "$NODE" ADD c1 "$POD1" eth0 "$TMP/bad.json" >"$out" && fail "garbage config"
expect_code 6 "$out"
echo '[1, 2]' >"$TMP/bad.json"
cni "$NODE" ADD c1 "$POD1" eth0 "$TMP/bad.json" >"$out" && fail "array config"
expect_code 6 "$out"
conf "$TMP/old.json" 0.3.1 "" ""
cni "$NODE" ADD c1 "$POD1" eth0 "$TMP/old.json" >"$out" && fail "0.3.1 config"
expect_code 1 "$out"
cni "$NODE" GC "" "" "" "$TMP/c10.json" >"$out" && fail "GC with 1.0.0"
expect_code 1 "$out"
cni "$NODE" STATUS "" "" "" "$TMP/c10.json" >"$out" && fail "STATUS with 1.0.0"
expect_code 1 "$out"
ok "codes 6 and 1"

# ---- code 7, invalid config; code 2, unsupported field -----------------
expect7() { # FILE what
	cni "$NODE" ADD c1 "$POD1" eth0 "$1" >"$out" && fail "$2 accepted"
	expect_code 7 "$out"
	grep -q "$3" "$out" || fail "$2: message should name $3: $(cat "$out")"
}
echo '{"cniVersion": "1.0.0", "type": "k8snet-cni"}' >"$TMP/e.json"
expect7 "$TMP/e.json" "no name" name
conf "$TMP/e.json" 1.0.0 '' '{"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/33"}]]}'
expect7 "$TMP/e.json" "bad subnet" 'ipam.ranges\[0\]\[0\].subnet'
conf "$TMP/e.json" 1.0.0 '"mtu": 70000' ""
expect7 "$TMP/e.json" "mtu 70000" mtu
conf "$TMP/e.json" 1.0.0 '"bridge": "a-very-long-bridge-name"' ""
expect7 "$TMP/e.json" "long bridge" bridge
conf "$TMP/e.json" 1.0.0 '"runtimeConfig": {"portMappings": [{"hostPort": 0, "containerPort": 80}]}' ""
expect7 "$TMP/e.json" "hostPort 0" 'portMappings\[0\].hostPort'
conf "$TMP/e.json" 1.0.0 '' '{"type": "no-such-ipam"}'
expect7 "$TMP/e.json" "missing IPAM plugin" no-such-ipam
cni "$NODE" CHECK c1 "$POD1" eth0 "$TMP/c10.json" >"$out" && fail "CHECK without prevResult"
expect_code 7 "$out"
conf "$TMP/e.json" 1.0.0 '"vlan": 100' ""
cni "$NODE" ADD c1 "$POD1" eth0 "$TMP/e.json" >"$out" && fail "vlan accepted"
expect_code 2 "$out"
conf "$TMP/e.json" 1.0.0 '"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "protocol": "icmp"}]}' ""
expect7 "$TMP/e.json" "icmp hostPort" 'portMappings\[0\].protocol.*must be tcp, udp or sctp'
conf "$TMP/e.json" 1.0.0 '"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "hostIP": "localhost"}]}' ""
expect7 "$TMP/e.json" "hostIP not an address" 'portMappings\[0\].hostIP.*is not an IP address'
# DEL of a config ADD refused succeeds: nothing is held under it.
cni "$NODE" DEL c1 "$POD1" eth0 "$TMP/e.json" >"$out" || fail "DEL of a refused config: $(cat "$out")"
ok "codes 7 and 2"

# ---- code 3: the namespace does not exist ------------------------------
cni "$NODE" ADD c1 k8st-no-such-ns eth0 "$TMP/c10.json" >"$out" && fail "ADD into a missing netns"
expect_code 3 "$out"
ok "code 3"

# Nothing above may have left a link or an allocation behind.
[ -z "$(ip -n "$NODE" -o link show type veth)" ] || fail "a failed ADD left a veth"
ip -n "$POD1" -o link show eth0 >/dev/null 2>&1 && fail "a failed ADD left eth0 in the pod"

# ---- ADD in each version, real packets ----------------------------------
i=1
for v in 0.4.0 1.0.0 1.1.0; do
	eval "pod=\$POD$i"
	conf "$TMP/c$i.json" "$v" "" ""
	cni "$NODE" ADD "c$i" "$pod" eth0 "$TMP/c$i.json" >"$TMP/r$i.json" ||
		fail "ADD $v: $(cat "$TMP/r$i.json")"
	[ "$(json 'j["cniVersion"]' <"$TMP/r$i.json")" = "$v" ] || fail "result version $v"
	addr=$(json '[ip["address"] for ip in j["ips"]][0]' <"$TMP/r$i.json")
	idx=$(json 'j["ips"][0]["interface"]' <"$TMP/r$i.json")
	[ "$(json "j['interfaces'][$idx]['name']" <"$TMP/r$i.json")" = eth0 ] || fail "ips[0].interface is eth0"
	[ "$(json "j['interfaces'][$idx]['sandbox']" <"$TMP/r$i.json")" = "/run/netns/$pod" ] || fail "sandbox"
	has_ver=$(json '"version" in j["ips"][0]' <"$TMP/r$i.json")
	if [ "$v" = 0.4.0 ]; then [ "$has_ver" = True ] || fail "0.4.0 ips carry version"
	else [ "$has_ver" = False ] || fail "$v ips carry no version"; fi
	ip -n "$pod" -o addr show eth0 | grep -q "inet $addr" || fail "$addr not on eth0 in $pod"
	ip -n "$pod" route show default | grep -q "via 10.77.0.1" || fail "no default route in $pod"
	eval "ADDR$i=\${addr%/*}"
	i=$((i + 1))
done
[ "$ADDR1" != "$ADDR2" ] && [ "$ADDR2" != "$ADDR3" ] || fail "duplicate addresses"
ip netns exec "$POD1" ping -c1 -W2 "$ADDR2" >/dev/null || fail "pod1 cannot ping pod2"
ip netns exec "$POD3" ping -c1 -W2 10.77.0.1 >/dev/null || fail "pod3 cannot ping the gateway"
# TCP, and the server sees the client's own address (no NAT between pods).
nsenter --net=/run/netns/$POD2 python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 8080)); s.listen(1); s.settimeout(5); c, a = s.accept(); c.sendall(a[0].encode()); c.close()' &
srv=$!
sleep 0.3
seen=$(tcp_get "$POD1" "$ADDR2" 8080)
wait $srv
[ "$seen" = "$ADDR1" ] || fail "TCP pod1 -> pod2: server saw '$seen', not $ADDR1"
ok "ADD 0.4.0/1.0.0/1.1.0, ping and TCP between pods"

# ---- CHECK ---------------------------------------------------------------
withprev() { # CONF RESULT OUT: CONF with prevResult = RESULT
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["prevResult"]=json.load(open(sys.argv[2])); json.dump(c, open(sys.argv[3],"w"))' "$@"
}
withprev "$TMP/c2.json" "$TMP/r2.json" "$TMP/chk2.json"
cni "$NODE" CHECK c2 "$POD2" eth0 "$TMP/chk2.json" >"$out" || fail "CHECK: $(cat "$out")"
ip -n "$POD2" addr flush dev eth0
cni "$NODE" CHECK c2 "$POD2" eth0 "$TMP/chk2.json" >"$out" && fail "CHECK passed with the address gone"
expect_code 103 "$out"
ok "CHECK passes, then fails when the pod's address is gone"

# ---- ADD when the interface exists: fails, and frees nothing it did not take
cni "$NODE" ADD c1-again "$POD1" eth0 "$TMP/c1.json" >"$out" && fail "ADD onto an existing eth0"
expect_code 102 "$out"
ip netns exec "$POD1" ping -c1 -W2 10.77.0.1 >/dev/null || fail "pod1 broken by the failed ADD"
ok "code 102 (interface exists), pod untouched"

# ---- code 101: pool exhausted, and nothing left behind -------------------
small='{"type": "host-local", "ranges": [[{"subnet": "10.78.0.0/30"}]], "dataDir": "'$TMP/ipam'"}'
conf "$TMP/s.json" 1.0.0 '"bridge": "k8sbr1"' "$small"
cni "$NODE" ADD s1 "$POD4" eth0 "$TMP/s.json" >"$out" || fail "ADD in /30: $(cat "$out")"
cni "$NODE" ADD s2 "$POD5" eth0 "$TMP/s.json" >"$out" && fail "a /30 gave two pod addresses"
expect_code 101 "$out"
ip -n "$POD5" -o link show eth0 >/dev/null 2>&1 && fail "exhausted ADD left eth0"
ok "code 101 (exhausted), nothing left"

# ---- a requested address (CNI_ARGS IP=, runtimeConfig.ips) ----------------
netns_add pod; POD7=$NETNS
cni "$NODE" ADD ip1 "$POD7" eth0 "$TMP/c2.json" CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.77.0.77' >"$out" ||
	fail "ADD with CNI_ARGS IP: $(cat "$out")"
[ "$(json 'j["ips"][0]["address"]' <"$out")" = 10.77.0.77/24 ] || fail "CNI_ARGS IP not honoured: $(cat "$out")"
conf "$TMP/rq.json" 1.0.0 '"runtimeConfig": {"ips": ["10.77.0.77/24"]}' ""
netns_add pod; POD8=$NETNS
cni "$NODE" ADD ip2 "$POD8" eth0 "$TMP/rq.json" >"$out" && fail "an address held by another pod was given"
expect_code 101 "$out"
cni "$NODE" DEL ip1 "$POD7" eth0 "$TMP/c2.json" >/dev/null || fail "DEL ip1"
cni "$NODE" ADD ip2 "$POD8" eth0 "$TMP/rq.json" >"$out" || fail "runtimeConfig.ips: $(cat "$out")"
[ "$(json 'j["ips"][0]["address"]' <"$out")" = 10.77.0.77/24 ] || fail "runtimeConfig.ips not honoured"
cni "$NODE" DEL ip2 "$POD8" eth0 "$TMP/rq.json" >/dev/null || fail "DEL ip2"
ok "requested addresses: CNI_ARGS IP and runtimeConfig.ips; taken -> 101"

# ---- code 999: the IPAM state cannot be written (the system's reason) ------
: >"$TMP/notadir"
conf "$TMP/io.json" 1.0.0 '' '{"type": "host-local", "ranges": [[{"subnet": "10.82.0.0/24"}]], "dataDir": "'$TMP/notadir'"}'
cni "$NODE" ADD io1 "$POD8" eth0 "$TMP/io.json" >"$out" && fail "ADD with a file as dataDir"
expect_code 999 "$out"
grep -q "Not a directory" "$out" || fail "the system's reason is missing: $(cat "$out")"
ip -n "$POD8" -o link show eth0 >/dev/null 2>&1 && fail "I/O failure left eth0"
ok "code 999 (IPAM state I/O, with the system's reason)"

# ---- DEL: repeated, and with the namespace gone --------------------------
cni "$NODE" DEL s1 "$POD4" eth0 "$TMP/s.json" >"$out" || fail "DEL: $(cat "$out")"
cni "$NODE" DEL s1 "$POD4" eth0 "$TMP/s.json" >"$out" || fail "DEL again: $(cat "$out")"
cni "$NODE" ADD s2 "$POD5" eth0 "$TMP/s.json" >"$out" || fail "DEL did not free the /30's address"
ip netns del "$POD5"
cni "$NODE" DEL s2 "$POD5" eth0 "$TMP/s.json" >"$out" || fail "DEL with the netns gone: $(cat "$out")"
cni "$NODE" DEL s2 "" eth0 "$TMP/s.json" >"$out" || fail "DEL without CNI_NETNS: $(cat "$out")"
ok "DEL twice, DEL with the namespace gone"

# ---- delegation to another IPAM plugin through CNI_PATH -------------------
if [ -x "$REF_CNI_DIR/static" ]; then
	conf "$TMP/d.json" 1.0.0 '"bridge": "k8sbr2"' \
		'{"type": "static", "addresses": [{"address": "10.79.0.9/24", "gateway": "10.79.0.1"}]}'
	cni "$NODE" ADD d1 "$POD4" eth0 "$TMP/d.json" >"$out" || fail "delegated ADD: $(cat "$out")"
	[ "$(json 'j["ips"][0]["address"]' <"$out")" = 10.79.0.9/24 ] || fail "static address"
	ip -n "$POD4" -o addr show eth0 | grep -q 10.79.0.9/24 || fail "static address not in pod"
	cni "$NODE" DEL d1 "$POD4" eth0 "$TMP/d.json" >"$out" || fail "delegated DEL"
	ok "ipam.type static delegated through CNI_PATH"
fi

# ---- chaining: prevResult's interfaces come first, indices follow --------
cat >"$TMP/prev.json" <<'EOC'
{"cniVersion": "1.0.0", "interfaces": [{"name": "net0", "sandbox": "/x"}],
 "ips": [{"address": "192.0.2.5/24", "interface": 0}], "dns": {"nameservers": ["192.0.2.53"]}}
EOC
conf "$TMP/ch.json" 1.0.0 '"bridge": "k8sbr3"' ""
withprev "$TMP/ch.json" "$TMP/prev.json" "$TMP/ch2.json"
cni "$NODE" ADD ch1 "$POD4" eth1 "$TMP/ch2.json" >"$out" || fail "chained ADD: $(cat "$out")"
[ "$(json 'j["interfaces"][0]["name"]' <"$out")" = net0 ] || fail "prevResult interface kept first"
[ "$(json 'j["ips"][0]["address"]' <"$out")" = 192.0.2.5/24 ] || fail "prevResult address kept"
idx=$(json 'j["ips"][1]["interface"]' <"$out")
[ "$(json "j['interfaces'][$idx]['name']" <"$out")" = eth1 ] || fail "our address points at eth1"
[ "$(json 'j["dns"]["nameservers"][0]' <"$out")" = 192.0.2.53 ] || fail "prevResult dns kept"
cni "$NODE" DEL ch1 "$POD4" eth1 "$TMP/ch2.json" >/dev/null || fail "chained DEL"
ok "chaining with prevResult"

# ---- hostPort through nftables -------------------------------------------
netns_add client; CLIENT=$NETNS
ip link add k8st-cv0 netns "$NODE" type veth peer name eth0 netns "$CLIENT"
ip -n "$NODE" addr add 192.168.77.1/24 dev k8st-cv0
ip -n "$NODE" link set k8st-cv0 up
ip -n "$CLIENT" addr add 192.168.77.2/24 dev eth0
ip -n "$CLIENT" link set eth0 up
conf "$TMP/pm.json" 1.0.0 '"runtimeConfig": {"portMappings": [{"hostPort": 8081, "containerPort": 80, "protocol": "tcp"}]}' ""
cni "$NODE" ADD pm1 "$POD4" eth0 "$TMP/pm.json" >"$TMP/pm-r.json" || fail "hostPort ADD: $(cat "$TMP/pm-r.json")"
nsenter --net=/run/netns/$POD4 python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 80)); s.listen(1); s.settimeout(5); c, a = s.accept(); c.sendall(b"hello"); c.close()' &
srv=$!
sleep 0.3
got=$(tcp_get "$CLIENT" 192.168.77.1 8081)
wait $srv
[ "$got" = hello ] || fail "hostPort 8081 did not reach the pod's port 80 (got '$got')"
withprev "$TMP/pm.json" "$TMP/pm-r.json" "$TMP/pm-chk.json"
cni "$NODE" CHECK pm1 "$POD4" eth0 "$TMP/pm-chk.json" >"$out" || fail "CHECK with hostPort: $(cat "$out")"
ip netns exec "$NODE" nft flush map inet k8snet-hostports hp4-any
cni "$NODE" CHECK pm1 "$POD4" eth0 "$TMP/pm-chk.json" >"$out" && fail "CHECK passed with the hostPort gone"
expect_code 103 "$out"
# Put it back as its owner had it (the owner is the element's comment).
ip netns exec "$NODE" nft add element inet k8snet-hostports hp4-any "{ tcp . 8081 comment \"testnet/pm1/eth0\" : $(json 'j["ips"][0]["address"].split("/")[0]' <"$TMP/pm-r.json") . 80 }"
cni "$NODE" CHECK pm1 "$POD4" eth0 "$TMP/pm-chk.json" >"$out" || fail "CHECK after the hostPort is back: $(cat "$out")"
# The same host port for another pod is refused, and leaves nothing.
netns_add pod; POD6=$NETNS
cni "$NODE" ADD pm2 "$POD6" eth0 "$TMP/pm.json" >"$out" && fail "one hostPort given twice"
expect_code 101 "$out"
ip -n "$POD6" -o link show eth0 >/dev/null 2>&1 && fail "refused hostPort left eth0"
cni "$NODE" DEL pm1 "$POD4" eth0 "$TMP/pm.json" >/dev/null || fail "hostPort DEL"
cni "$NODE" DEL pm1 "$POD4" eth0 "$TMP/pm.json" >/dev/null || fail "hostPort DEL again"
ip netns exec "$NODE" nft -j list map inet k8snet-hostports hp4-any | grep -q '"elem"' && fail "hostPort element left after DEL"
# The loser of the conflict (pm2) is deleted too: nothing of pm1's may go.
cni "$NODE" ADD pm1 "$POD4" eth0 "$TMP/pm.json" >/dev/null 2>&1 || fail "hostPort ADD again"
cni "$NODE" DEL pm2 "$POD6" eth0 "$TMP/pm.json" >/dev/null || fail "DEL of the conflict's loser"
ip netns exec "$NODE" nft list map inet k8snet-hostports hp4-any | grep -q 'tcp . 8081' ||
	fail "the loser's DEL removed the winner's hostPort"
cni "$NODE" DEL pm1 "$POD4" eth0 "$TMP/pm.json" >/dev/null || fail "hostPort DEL (2)"
ok "hostPort 8081 -> pod:80 from another namespace; CHECK sees it and its loss; conflict refused; DEL removes it"

# ---- ipMasq: a pod reaches a network with no route back to pods -----------
conf "$TMP/mq.json" 1.0.0 '"bridge": "k8sbr5", "ipMasq": true' \
	'{"type": "host-local", "ranges": [[{"subnet": "10.83.0.0/24"}]], "dataDir": "'$TMP/ipam'"}'
netns_add pod; POD9=$NETNS
cni "$NODE" ADD mq1 "$POD9" eth0 "$TMP/mq.json" >"$out" || fail "ipMasq ADD: $(cat "$out")"
nsenter --net=/run/netns/$CLIENT python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 9000)); s.listen(1); s.settimeout(5); c, a = s.accept(); c.sendall(a[0].encode()); c.close()' &
srv=$!
sleep 0.3
seen=$(tcp_get "$POD9" 192.168.77.2 9000)
wait $srv
[ "$seen" = 192.168.77.1 ] || fail "ipMasq: the outside saw '$seen', not the node's 192.168.77.1"
cni "$NODE" DEL mq1 "$POD9" eth0 "$TMP/mq.json" >/dev/null || fail "ipMasq DEL"
ok "ipMasq: traffic leaving the pod network carries the node's address"

# ---- dual stack: one address per range set ---------------------------------
conf "$TMP/ds.json" 1.1.0 '"bridge": "k8sbr6"' \
	'{"type": "host-local", "ranges": [[{"subnet": "10.84.0.0/24"}], [{"subnet": "fd00:84::/64"}]], "dataDir": "'$TMP/ipam'"}'
netns_add pod; POD10=$NETNS
cni "$NODE" ADD ds1 "$POD10" eth0 "$TMP/ds.json" >"$out" || fail "dual-stack ADD: $(cat "$out")"
[ "$(json '" ".join(i["address"] for i in j["ips"])' <"$out")" = "10.84.0.2/24 fd00:84::2/64" ] ||
	fail "dual-stack addresses: $(cat "$out")"
[ "$(json '" ".join(r["dst"] for r in j["routes"])' <"$out")" = "0.0.0.0/0 ::/0" ] ||
	fail "dual-stack default routes: $(cat "$out")"
ip netns exec "$POD10" ping -6 -c1 -W3 fd00:84::1 >/dev/null || fail "pod cannot ping its IPv6 gateway"
cni "$NODE" DEL ds1 "$POD10" eth0 "$TMP/ds.json" >/dev/null || fail "dual-stack DEL"
ok "dual stack: IPv4 and IPv6 addresses, default routes, IPv6 gateway reachable"

# ---- GC and STATUS (1.1.0) -----------------------------------------------
conf "$TMP/g.json" 1.1.0 '"bridge": "k8sbr4"' \
	'{"type": "host-local", "ranges": [[{"subnet": "10.80.0.0/24"}]], "dataDir": "'$TMP/ipam'"}'
netns_add pod; G1=$NETNS
netns_add pod; G2=$NETNS
withports() { # IN OUT HOSTPORT
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["runtimeConfig"]={"portMappings":[{"hostPort":int(sys.argv[3]),"containerPort":80}]}; json.dump(c, open(sys.argv[2],"w"))' "$@"
}
withports "$TMP/g.json" "$TMP/g1.json" 8091
withports "$TMP/g.json" "$TMP/g2.json" 8092
cni "$NODE" ADD g1 "$G1" eth0 "$TMP/g1.json" >/dev/null || fail "ADD g1"
cni "$NODE" ADD g2 "$G2" eth0 "$TMP/g2.json" >/dev/null || fail "ADD g2"
cni "$NODE" STATUS "" "" "" "$TMP/g.json" >"$out" || fail "STATUS: $(cat "$out")"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["cni.dev/valid-attachments"]=[{"containerID":"g1","ifname":"eth0"}]; json.dump(c, open(sys.argv[2],"w"))' \
	"$TMP/g.json" "$TMP/gc.json"
cni "$NODE" GC "" "" "" "$TMP/gc.json" >"$out" || fail "GC: $(cat "$out")"
K8SNET="$top_builddir/examples/k8snet"
state=$(ls "$TMP"/ipam/testnet/k8snet-0.state)
if "$K8SNET" ipam list --state "$state" >"$TMP/list" 2>/dev/null; then
	grep -q ' g1 eth0' "$TMP/list" || fail "GC released a valid attachment: $(cat "$TMP/list")"
	grep -q ' g2 ' "$TMP/list" && fail "GC kept a stale attachment: $(cat "$TMP/list")"
fi
ip netns exec "$NODE" nft list map inet k8snet-hostports hp4-any >"$TMP/map"
grep -q 'tcp . 8091' "$TMP/map" || fail "GC removed the valid pod's hostPort: $(cat "$TMP/map")"
grep -q 'tcp . 8092' "$TMP/map" && fail "GC kept the stale pod's hostPort: $(cat "$TMP/map")"
# STATUS is "not available" (50) when the state cannot be used.
: >"$TMP/afile"
conf "$TMP/st.json" 1.1.0 '' '{"type": "host-local", "ranges": [[{"subnet": "10.81.0.0/24"}]], "dataDir": "'$TMP/afile'"}'
cni "$NODE" STATUS "" "" "" "$TMP/st.json" >"$out" && fail "STATUS with an unusable dataDir"
expect_code 50 "$out"
ok "GC keeps only valid attachments (addresses and hostPorts); STATUS 0 and 50"

echo "PASS: k8snet-cni protocol"
