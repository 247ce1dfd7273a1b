#!/bin/sh
# One configuration file, given to Debian's reference bridge plugin (with
# host-local) in one node namespace and to k8snet-cni in another: the results
# have the same shape (keys, interface list, address-to-interface links,
# addresses, routes) and the pods get the same connectivity.
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root
[ -x "$REF_CNI_DIR/bridge" ] && [ -x "$REF_CNI_DIR/host-local" ] ||
	{ echo "SKIP: no reference plugins in $REF_CNI_DIR"; exit 77; }

# The shape of a result: everything but MACs and the host veth's name.
shape() {
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
ifs = [dict(name=("HOSTVETH" if i > 0 and "sandbox" not in x else x["name"]),
            keys=sorted(x)) for i, x in enumerate(j.get("interfaces", []))]
print(json.dumps(dict(keys=sorted(j), cniVersion=j["cniVersion"], interfaces=ifs,
                      ips=j.get("ips"), routes=j.get("routes"), dns=j.get("dns")),
                 sort_keys=True))' "$1"
}

for v in 0.4.0 1.0.0; do   # Debian's reference plugins stop at 1.0.0
	cat >"$TMP/net.json" <<EOC
{"cniVersion": "$v", "name": "refcmp", "type": "bridge", "bridge": "cmp0",
 "isGateway": true, "isDefaultGateway": true, "hairpinMode": true, "mtu": 1400,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.90.0.0/24"}]],
          "routes": [{"dst": "10.96.0.0/12"}], "dataDir": "$TMP/ipam-$v"}}
EOC
	for who in ref k8snet; do
		netns_add "$who"; node=$NETNS
		netns_add pod; p1=$NETNS
		netns_add pod; p2=$NETNS
		if [ $who = ref ]; then plugin=$REF_CNI_DIR/bridge; else plugin=$CNI_BIN; fi
		# Each node gets its own dataDir so both start from an empty pool.
		sed "s#$TMP/ipam-$v#$TMP/ipam-$v-$who#" "$TMP/net.json" >"$TMP/$who.json"
		PLUGIN=$plugin cni "$node" ADD "${who}1" "$p1" eth0 "$TMP/$who.json" >"$TMP/$who-1.json" ||
			fail "$who ADD ($v): $(cat "$TMP/$who-1.json")"
		PLUGIN=$plugin cni "$node" ADD "${who}2" "$p2" eth0 "$TMP/$who.json" >"$TMP/$who-2.json" ||
			fail "$who ADD 2 ($v): $(cat "$TMP/$who-2.json")"
		a2=$(json 'j["ips"][0]["address"].split("/")[0]' <"$TMP/$who-2.json")
		ip netns exec "$p1" ping -c1 -W2 "$a2" >/dev/null || fail "$who: pod1 cannot ping pod2"
		ip netns exec "$p1" ping -c1 -W2 10.90.0.1 >/dev/null || fail "$who: pod1 cannot ping the gateway"
		ip -n "$p1" route show 10.96.0.0/12 | grep -q . || fail "$who: ipam route missing"
		[ "$(ip -n "$p1" -o link show eth0 | sed -n 's/.*mtu \([0-9]*\).*/\1/p')" = 1400 ] ||
			fail "$who: mtu 1400 not applied"
		nsenter --net=/run/netns/$p2 python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 9000)); s.listen(1); s.settimeout(5); c, a = s.accept(); c.sendall(a[0].encode()); c.close()' &
		srv=$!
		sleep 0.3
		seen=$(tcp_get "$p1" "$a2" 9000)
		wait $srv
		a1=$(json 'j["ips"][0]["address"].split("/")[0]' <"$TMP/$who-1.json")
		[ "$seen" = "$a1" ] || fail "$who: TCP pod1 -> pod2 saw '$seen'"
		shape "$TMP/$who-1.json" >"$TMP/$who-1.shape"
		PLUGIN=$plugin cni "$node" DEL "${who}1" "$p1" eth0 "$TMP/$who.json" >/dev/null || fail "$who DEL"
		PLUGIN=$plugin cni "$node" DEL "${who}2" "$p2" eth0 "$TMP/$who.json" >/dev/null || fail "$who DEL 2"
		[ -z "$(ip -n "$node" -o link show type veth)" ] || fail "$who: DEL left a veth"
	done
	if ! cmp -s "$TMP/ref-1.shape" "$TMP/k8snet-1.shape"; then
		echo "reference: $(cat "$TMP/ref-1.shape")"
		echo "k8snet:    $(cat "$TMP/k8snet-1.shape")"
		fail "results differ in shape ($v)"
	fi
	ok "$v: same result shape and connectivity as the reference bridge plugin"
	echo "   $(cat "$TMP/k8snet-1.shape")"
done
echo "PASS: k8snet-cni matches the reference bridge plugin"
