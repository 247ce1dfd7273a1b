#!/bin/sh
# 100 ADDs at once, each in its own process, then 100 DELs at once: every ADD
# succeeds, no address is handed out twice, and afterwards nothing is left
# (the IPAM state holds no allocation, the node has no veth).
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root
N=${N:-100}

netns_add node; NODE=$NETNS
cat >"$TMP/net.json" <<EOC
{"cniVersion": "1.0.0", "name": "par", "type": "k8snet-cni", "bridge": "par0",
 "isGateway": true, "isDefaultGateway": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.91.0.0/24"}]], "dataDir": "$TMP/ipam"}}
EOC
i=1
while [ $i -le $N ]; do netns_add p; echo "$NETNS" >"$TMP/ns.$i"; i=$((i + 1)); done

run_all() { # COMMAND
	i=1
	while [ $i -le $N ]; do
		( cni "$NODE" "$1" "c$i" "$(cat "$TMP/ns.$i")" eth0 "$TMP/net.json" >"$TMP/$1.$i" 2>&1
		  echo $? >"$TMP/$1.$i.rc" ) &
		i=$((i + 1))
	done
	wait
	i=1
	while [ $i -le $N ]; do
		[ "$(cat "$TMP/$1.$i.rc")" = 0 ] || fail "$1 c$i: $(cat "$TMP/$1.$i")"
		i=$((i + 1))
	done
}

run_all ADD
python3 -c '
import json, sys
for i in range(1, int(sys.argv[2]) + 1):
    print(json.load(open("%s/ADD.%d" % (sys.argv[1], i)))["ips"][0]["address"])' "$TMP" "$N" >"$TMP/addrs"
[ "$(wc -l <"$TMP/addrs")" = "$N" ] || fail "not $N addresses"
dups=$(sort "$TMP/addrs" | uniq -d)
[ -z "$dups" ] || fail "addresses handed out twice: $dups"
# Each pod really holds its address.
i=1
while [ $i -le $N ]; do
	a=$(sed -n "${i}p" "$TMP/addrs")
	ip -n "$(cat "$TMP/ns.$i")" -o addr show eth0 | grep -q "inet $a" || fail "pod $i lacks $a"
	i=$((i + 1))
done
[ "$(ip -n "$NODE" -o link show type veth | wc -l)" = "$N" ] || fail "not $N veths on the node"
ok "$N parallel ADDs: $N distinct addresses"

run_all DEL
left=$(ip -n "$NODE" -o link show type veth | wc -l)
[ "$left" = 0 ] || fail "$left veths left after DEL"
state=$TMP/ipam/par/k8snet-0.state
if [ -x "$top_builddir/examples/k8snet" ] &&
   "$top_builddir/examples/k8snet" ipam list --state "$state" >"$TMP/list" 2>"$TMP/list.err"; then
	[ ! -s "$TMP/list" ] || fail "IPAM state not empty: $(head -3 "$TMP/list")"
else
	fail "cannot list the IPAM state: $(cat "$TMP/list.err")"
fi
ok "$N parallel DELs: no veth, no allocation left"
echo "PASS: parallel ADD/DEL"
