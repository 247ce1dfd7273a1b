#!/bin/sh
# k8snet-cni against hostile, concurrent and failing input (issue 13), each
# case as it was found to break the plugin, and each checked to leave
# nothing behind: no address in the IPAM state, no veth, no nftables table.
#   - a FIFO (and other non-network-namespace files) as CNI_NETNS;
#     /proc/PID/ns/net and bind-mounted /run/netns/NAME both work
#   - symbolic links as state files, world- or group-writable dataDirs,
#     another user's links and directories on the way
#   - parallel ADDs on a fresh node racing to create the bridge
#   - 60,000 portMappings (and 1,024, the limit, which works), over-long
#     CNI_ARGS, bad names
#   - "dataDir": "" (the default, in a private mount namespace)
#   - range sets added and removed between ADDs: nothing released that an
#     earlier ADD holds, nothing leaked
#   - a full disk (a tiny tmpfs in a private mount namespace): 999 with the
#     system's reason, not "pool exhausted"
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root
K8SNET="$top_builddir/examples/k8snet"
command -v unshare >/dev/null && command -v timeout >/dev/null || { echo "SKIP: util-linux"; exit 77; }
out=$TMP/out
chmod 755 "$TMP"    # other users must reach the directories made for them below

netns_add node; NODE=$NETNS
netns_add pod; POD=$NETNS

# conf FILE NAME DATADIR [EXTRA-JSON-MEMBERS] [RANGES]
conf() {
	python3 - "$@" <<'EOC'
import json, sys
path, name, data_dir = sys.argv[1:4]
extra = sys.argv[4] if len(sys.argv) > 4 else ""
ranges = sys.argv[5] if len(sys.argv) > 5 else '[[{"subnet": "10.61.0.0/24"}]]'
c = {"cniVersion": "1.1.0", "name": name, "type": "k8snet-cni", "bridge": "hbr0",
     "isGateway": True, "isDefaultGateway": True,
     "ipam": {"type": "host-local", "ranges": json.loads(ranges), "dataDir": data_dir}}
c.update(json.loads("{" + extra + "}"))
json.dump(c, open(path, "w"))
EOC
}

# What an IPAM state file holds, one "ADDRESS OWNER IFNAME" line each.
ipam_list() {
	[ -e "$1" ] || return 0
	"$K8SNET" ipam list --state "$1" || fail "cannot list $1"
}

# clean NODE POD STATE-FILE WHAT: nothing of a failed or deleted pod is left.
clean() {
	[ -z "$(ip -n "$1" -o link show type veth 2>/dev/null)" ] || fail "$4: a veth is left on the node"
	ip -n "$2" link show eth0 >/dev/null 2>&1 && fail "$4: eth0 is left in the pod"
	[ -z "$(ipam_list "$3")" ] || fail "$4: the IPAM state still holds $(ipam_list "$3")"
	if ip netns exec "$1" nft list table inet k8snet-hostports >"$TMP/table" 2>/dev/null; then
		grep -q "elements" "$TMP/table" && fail "$4: hostPort mappings left: $(cat "$TMP/table")"
	fi
	return 0
}

# ---- CNI_NETNS: a FIFO must not hang the plugin ------------------------------
conf "$TMP/n.json" netns "$TMP/ipam"
mkfifo "$TMP/fifo"
timeout 10 env CNI_COMMAND=ADD CNI_CONTAINERID=f1 CNI_NETNS="$TMP/fifo" CNI_IFNAME=eth0 \
	CNI_PATH="$REF_CNI_DIR" nsenter --net="/run/netns/$NODE" "$CNI_BIN" <"$TMP/n.json" >"$out"
rc=$?
[ $rc != 124 ] || fail "a FIFO as CNI_NETNS hung the plugin (killed after 10 s)"
[ $rc != 0 ] || fail "a FIFO was accepted as CNI_NETNS"
expect_code 4 "$out"
grep -q "a FIFO" "$out" || fail "the error does not say what CNI_NETNS is: $(cat "$out")"
timeout 10 env CNI_COMMAND=CHECK CNI_CONTAINERID=f1 CNI_NETNS="$TMP/fifo" CNI_IFNAME=eth0 \
	nsenter --net="/run/netns/$NODE" "$CNI_BIN" <"$TMP/n.json" >"$out"
[ $? != 124 ] || fail "CHECK hung on a FIFO"
# Other files that are no network namespace: a regular file, a directory, a
# namespace of another type.
: >"$TMP/plain"
for f in "$TMP/plain" "$TMP" /proc/self/ns/mnt /proc/self/ns/uts; do
	timeout 10 env CNI_COMMAND=ADD CNI_CONTAINERID=f2 CNI_NETNS="$f" CNI_IFNAME=eth0 \
		nsenter --net="/run/netns/$NODE" "$CNI_BIN" <"$TMP/n.json" >"$out" && fail "$f accepted as CNI_NETNS"
	expect_code 4 "$out"
done
clean "$NODE" "$POD" "$TMP/ipam/netns/k8snet-0.state" "CNI_NETNS refused"
# /proc/PID/ns/net of a process in the pod, and the bind mount, both work.
ip netns exec "$POD" sleep 30 &
sleeper=$!
CNI_EXTRA_CLEANUP="kill $sleeper"
sleep 0.2
sleeper_ns=$(pgrep -P "$sleeper" sleep 2>/dev/null || echo "$sleeper")
[ "$(readlink "/proc/$sleeper_ns/ns/net")" = "$(ip netns exec "$POD" readlink /proc/self/ns/net)" ] ||
	fail "the sleeper is not in the pod namespace"
env CNI_COMMAND=ADD CNI_CONTAINERID=p1 CNI_NETNS="/proc/$sleeper_ns/ns/net" CNI_IFNAME=eth0 \
	nsenter --net="/run/netns/$NODE" "$CNI_BIN" <"$TMP/n.json" >"$out" ||
	fail "ADD through /proc/PID/ns/net: $(cat "$out")"
ip -n "$POD" -o addr show eth0 | grep -q "inet 10.61.0." || fail "/proc/PID/ns/net: no address in the pod"
cni "$NODE" DEL p1 "$POD" eth0 "$TMP/n.json" >"$out" || fail "DEL: $(cat "$out")"
cni "$NODE" ADD p2 "$POD" eth0 "$TMP/n.json" >"$out" || fail "ADD through /run/netns: $(cat "$out")"
cni "$NODE" DEL p2 "$POD" eth0 "$TMP/n.json" >"$out" || fail "DEL: $(cat "$out")"
kill "$sleeper" 2>/dev/null
CNI_EXTRA_CLEANUP=:
clean "$NODE" "$POD" "$TMP/ipam/netns/k8snet-0.state" "/proc/PID/ns/net and /run/netns"
ok "CNI_NETNS: a FIFO refused at once (code 4), other files and namespace types too; /proc/PID/ns/net and /run/netns/NAME work"

# ---- the state directory and files --------------------------------------------
# A symbolic link as the state file, to a file only root may write.
mkdir -m 700 "$TMP/sl" "$TMP/sl/links"
printf 'root only\n' >"$TMP/victim"
chmod 600 "$TMP/victim"
ln -s "$TMP/victim" "$TMP/sl/links/k8snet-0.state"
conf "$TMP/sl.json" links "$TMP/sl"
cni "$NODE" ADD s1 "$POD" eth0 "$TMP/sl.json" >"$out" && fail "ADD through a symlinked state file"
expect_code 999 "$out"
grep -q "symbolic link" "$out" || fail "the error does not name the symbolic link: $(cat "$out")"
[ "$(cat "$TMP/victim")" = "root only" ] || fail "the link's target was written"
clean "$NODE" "$POD" /nonexistent "symlinked state file"
# Temporary files had predictable names (STATE.tmp, STATE.new.PID): a link
# planted there made root truncate and rewrite its target at the next
# snapshot (GC writes one).
conf "$TMP/tl.json" tmplink "$TMP/sl"
cni "$NODE" ADD g1 "$POD" eth0 "$TMP/tl.json" >"$out" || fail "ADD g1: $(cat "$out")"
ln -s "$TMP/victim" "$TMP/sl/tmplink/k8snet-0.state.tmp"
cni "$NODE" GC "" "" "" "$TMP/tl.json" >"$out" || fail "GC: $(cat "$out")"
[ "$(cat "$TMP/victim")" = "root only" ] || fail "a snapshot was written through a planted link"
[ -z "$(ipam_list "$TMP/sl/tmplink/k8snet-0.state")" ] || fail "GC did not release g1"
cni "$NODE" DEL g1 "$POD" eth0 "$TMP/tl.json" >"$out" || fail "DEL g1: $(cat "$out")"
clean "$NODE" "$POD" "$TMP/sl/tmplink/k8snet-0.state" "planted temporary link"
# A dataDir others may write to (the attack: an unprivileged user plants a
# link there and root follows it): refused, and nothing created in it.
for mode in 777 775 770; do
	rm -rf "$TMP/ww"
	mkdir "$TMP/ww"
	chmod "$mode" "$TMP/ww"
	conf "$TMP/ww.json" ww "$TMP/ww"
	cni "$NODE" ADD w1 "$POD" eth0 "$TMP/ww.json" >"$out" && fail "ADD with dataDir mode $mode"
	expect_code 999 "$out"
	grep -q "writable by group or others (mode 0$mode)" "$out" ||
		fail "mode $mode: the refusal does not say why: $(cat "$out")"
	[ -z "$(ls -A "$TMP/ww")" ] || fail "mode $mode: left $(ls -A "$TMP/ww") in the refused dataDir"
	clean "$NODE" "$POD" /nonexistent "dataDir mode $mode"
done
# Sticky and world-writable, as /tmp: what other users plant there is
# refused (their directory, their link to root's directory); once the
# plugin's own 0700 directory is there, nobody else can touch it.
rm -rf "$TMP/st"
mkdir "$TMP/st"
chmod 1777 "$TMP/st"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if command -v setpriv >/dev/null && nobody mkdir "$TMP/st/planted" 2>/dev/null; then
	conf "$TMP/st.json" planted "$TMP/st"
	cni "$NODE" ADD t1 "$POD" eth0 "$TMP/st.json" >"$out" && fail "ADD into another user's directory"
	grep -q "owned by uid 65534" "$out" || fail "another user's directory: $(cat "$out")"
	mkdir -m 700 "$TMP/rootdir"
	nobody ln -s "$TMP/rootdir" "$TMP/st/linked"
	conf "$TMP/st.json" linked "$TMP/st"
	cni "$NODE" ADD t1 "$POD" eth0 "$TMP/st.json" >"$out" && fail "ADD through another user's link"
	grep -q "symbolic link owned by uid 65534" "$out" || fail "another user's link: $(cat "$out")"
	[ -z "$(ls -A "$TMP/rootdir")" ] || fail "wrote through another user's link"
	clean "$NODE" "$POD" /nonexistent "planted directory and link"
fi
conf "$TMP/st.json" mine "$TMP/st"
cni "$NODE" ADD t2 "$POD" eth0 "$TMP/st.json" >"$out" || fail "ADD under a sticky dataDir: $(cat "$out")"
[ "$(stat -c %a "$TMP/st/mine")" = 700 ] || fail "state directory not 0700: $(stat -c %a "$TMP/st/mine")"
[ "$(stat -c %a "$TMP/st/mine/k8snet-0.state")" = 600 ] || fail "state file not 0600"
[ "$(stat -c %a "$TMP/st/mine/lock")" = 600 ] || fail "lock file not 0600"
cni "$NODE" DEL t2 "$POD" eth0 "$TMP/st.json" >"$out" || fail "DEL: $(cat "$out")"
clean "$NODE" "$POD" "$TMP/st/mine/k8snet-0.state" "sticky dataDir"
ok "state: symbolic links never followed, dataDirs others may write refused (nothing created), files 0600, directories 0700"

# ---- parallel ADDs on a fresh node race to create the bridge ------------------
# (tests/netns/test-bridge-race makes the library's race certain with a
# barrier; here, the plugin as a runtime runs it.  IPAM spaces ADDs out, so
# every other round goes without it, as a chained plugin would.)
conf "$TMP/race.json" race "$TMP/race"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); del c["ipam"]; json.dump(c, open(sys.argv[2], "w"))' \
	"$TMP/race.json" "$TMP/race-noipam.json"
round=1 failed=0
while [ $round -le 15 ]; do
	netns_add rnode; rnode=$NETNS
	for i in 1 2 3 4; do netns_add rpod; eval "rpod$i=\$NETNS"; done
	rc=$TMP/race.json
	[ $((round % 2)) = 0 ] && rc=$TMP/race-noipam.json
	for i in 1 2 3 4; do
		eval "p=\$rpod$i"
		( cni "$rnode" ADD "r$round-$i" "$p" eth0 "$rc" >"$TMP/race.$i" 2>&1
		  echo $? >"$TMP/race.$i.rc" ) &
	done
	wait
	for i in 1 2 3 4; do
		if [ "$(cat "$TMP/race.$i.rc")" != 0 ]; then
			failed=$((failed + 1))
			echo "round $round ADD $i: $(cat "$TMP/race.$i")"
		fi
		eval "p=\$rpod$i"
		cni "$rnode" DEL "r$round-$i" "$p" eth0 "$rc" >/dev/null || fail "race DEL"
	done
	round=$((round + 1))
done
[ $failed = 0 ] || fail "$failed of 60 parallel ADDs on fresh nodes failed"
[ -z "$(ipam_list "$TMP/race/race/k8snet-0.state")" ] || fail "race: addresses left"
ok "60 ADDs, 4 at a time on 15 fresh nodes: all created or found the bridge"

# ---- limits: portMappings, CNI_ARGS, names ------------------------------------
pm() { # FILE N
	python3 - "$1" "$2" "$TMP" <<'EOC'
import json, sys
path, n, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = {"cniVersion": "1.0.0", "name": "pm", "type": "k8snet-cni", "bridge": "hbr0",
     "isGateway": True, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.62.0.0/24"}]],
                                 "dataDir": tmp + "/pm"},
     "runtimeConfig": {"portMappings": [{"hostPort": 1 + i % 65535, "containerPort": 80,
                                         "protocol": "udp" if i >= 65535 else "tcp"} for i in range(n)]}}
json.dump(c, open(path, "w"))
EOC
}
pm "$TMP/pm60k.json" 60000
cni "$NODE" ADD m1 "$POD" eth0 "$TMP/pm60k.json" >"$out" && fail "ADD with 60,000 portMappings"
expect_code 7 "$out"
grep -q "runtimeConfig.portMappings: 60000 mappings, more than the limit of 1024" "$out" ||
	fail "the limit is not named: $(cat "$out")"
clean "$NODE" "$POD" "$TMP/pm/pm/k8snet-0.state" "60,000 portMappings"
cni "$NODE" DEL m1 "$POD" eth0 "$TMP/pm60k.json" >"$out" || fail "DEL with 60,000 portMappings: $(cat "$out")"
pm "$TMP/pm1k.json" 1024
cni "$NODE" ADD m2 "$POD" eth0 "$TMP/pm1k.json" >"$out" || fail "ADD with 1,024 portMappings: $(cat "$out")"
n=$(ip netns exec "$NODE" nft -j list map inet k8snet-hostports hp4-any |
	python3 -c 'import json,sys; print(sum(len(x["map"].get("elem", [])) for x in json.load(sys.stdin)["nftables"] if "map" in x))')
[ "$n" = 1024 ] || fail "1,024 portMappings: the kernel holds $n"
cni "$NODE" DEL m2 "$POD" eth0 "$TMP/pm1k.json" >"$out" || fail "DEL with 1,024 portMappings: $(cat "$out")"
clean "$NODE" "$POD" "$TMP/pm/pm/k8snet-0.state" "1,024 portMappings, deleted"
long=$(python3 -c 'print("K8S_POD_NAME=" + "x" * 9000)')
cni "$NODE" ADD a1 "$POD" eth0 "$TMP/n.json" CNI_ARGS="$long" >"$out" && fail "9 KB of CNI_ARGS"
expect_code 4 "$out"
grep -q "CNI_ARGS: 9013 bytes, more than the limit of 8192" "$out" || fail "CNI_ARGS limit: $(cat "$out")"
cni "$NODE" DEL a1 "$POD" eth0 "$TMP/n.json" CNI_ARGS="$long" >"$out" || fail "DEL with long CNI_ARGS"
long=$(python3 -c 'print("c" * 300)')
cni "$NODE" ADD "$long" "$POD" eth0 "$TMP/n.json" >"$out" && fail "a 300-character container id"
expect_code 4 "$out"
for name in '../x' 'a b' "$(python3 -c 'print("n" * 129)')" '.hidden'; do
	conf "$TMP/bad.json" "$name" "$TMP/ipam"
	cni "$NODE" ADD b1 "$POD" eth0 "$TMP/bad.json" >"$out" && fail "network name '$name' accepted"
	expect_code 7 "$out"
	grep -q '"name: must be' "$out" || grep -q 'name: must be' "$out" || fail "name not named: $(cat "$out")"
done
clean "$NODE" "$POD" "$TMP/ipam/netns/k8snet-0.state" "limits"
ok "limits: 60,000 portMappings refused by name (DEL still succeeds), 1,024 work; CNI_ARGS, ids, names"

# ---- range sets changed between ADDs ---------------------------------------------
V4='[{"subnet": "10.63.0.0/24"}]' V6='[{"subnet": "fd00:63::/64"}]'
conf "$TMP/r1.json" rs "$TMP/rs" "" "[$V4]"
conf "$TMP/r2.json" rs "$TMP/rs" "" "[$V4, $V6]"
s0=$TMP/rs/rs/k8snet-0.state s1=$TMP/rs/rs/k8snet-1.state
cni "$NODE" ADD x1 "$POD" eth0 "$TMP/r1.json" >"$out" || fail "ADD x1: $(cat "$out")"
a=$(ipam_list "$s0")
# The runtime retries ADD after an IPv6 range set was added: eth0 exists, so
# it fails, and must release the new IPv6 address only, not the IPv4 one
# the running pod uses.
cni "$NODE" ADD x1 "$POD" eth0 "$TMP/r2.json" >"$out" && fail "second ADD of x1 succeeded"
expect_code 102 "$out"
[ "$(ipam_list "$s0")" = "$a" ] || fail "a failed retry released the IPv4 address an earlier ADD holds"
[ -z "$(ipam_list "$s1")" ] || fail "a failed retry kept its new IPv6 address: $(ipam_list "$s1")"
cni "$NODE" DEL x1 "$POD" eth0 "$TMP/r2.json" >"$out" || fail "DEL x1"
cni "$NODE" ADD x1 "$POD" eth0 "$TMP/r2.json" >"$out" || fail "ADD x1 (two range sets): $(cat "$out")"
[ -n "$(ipam_list "$s1")" ] || fail "no IPv6 address"
# The IPv6 range set is dropped again: DEL must still release from its file.
cni "$NODE" DEL x1 "$POD" eth0 "$TMP/r1.json" >"$out" || fail "DEL x1 (one range set): $(cat "$out")"
[ -z "$(ipam_list "$s0")" ] && [ -z "$(ipam_list "$s1")" ] ||
	fail "leaked: $(ipam_list "$s0") $(ipam_list "$s1")"
# ... and GC too, for a pod whose DEL never came.
cni "$NODE" ADD x2 "$POD" eth0 "$TMP/r2.json" >"$out" || fail "ADD x2: $(cat "$out")"
ip -n "$NODE" link del "$(ip -n "$NODE" -o link show type veth | awk -F'[:@]' '{print $2}' | tr -d ' ')"
cni "$NODE" GC "" "" "" "$TMP/r1.json" >"$out" || fail "GC: $(cat "$out")"
[ -z "$(ipam_list "$s0")" ] && [ -z "$(ipam_list "$s1")" ] ||
	fail "GC leaked: $(ipam_list "$s0") $(ipam_list "$s1")"
clean "$NODE" "$POD" "$s0" "range sets changed"
ok "range sets changed between ADDs: a failed retry releases only its own, DEL and GC reach dropped range sets"

# ---- "dataDir": "" is the default, not the filesystem root -----------------------
# In a private mount namespace with a tmpfs over /var/lib/cni, so that the
# host's own directory is never touched.
# Named after this run, and removed should a regression put it at the root.
dd_name=k8st-emptydd-$$
[ -e "/$dd_name" ] && fail "/$dd_name exists before the test"
CNI_EXTRA_CLEANUP="rm -rf /$dd_name"
conf "$TMP/dd.json" "$dd_name" ""
cat >"$TMP/dd.sh" <<EOS
set -e
mount -t tmpfs -o size=4m,mode=755 k8st-cni "/var/lib/cni" 2>/dev/null ||
	{ mkdir -p /var/lib/cni && mount -t tmpfs -o size=4m,mode=755 k8st-cni /var/lib/cni; }
env CNI_COMMAND=ADD CNI_CONTAINERID=d1 CNI_NETNS=/run/netns/$POD CNI_IFNAME=eth0 \
	nsenter --net=/run/netns/$NODE "$CNI_BIN" <"$TMP/dd.json" >"$TMP/dd.out"
test -f /var/lib/cni/networks/$dd_name/k8snet-0.state
test ! -e /$dd_name
"$K8SNET" ipam list --state /var/lib/cni/networks/$dd_name/k8snet-0.state >"$TMP/dd.list"
env CNI_COMMAND=DEL CNI_CONTAINERID=d1 CNI_NETNS=/run/netns/$POD CNI_IFNAME=eth0 \
	nsenter --net=/run/netns/$NODE "$CNI_BIN" <"$TMP/dd.json" >/dev/null
EOS
unshare -m --propagation private sh "$TMP/dd.sh" || fail "dataDir \"\": $(cat "$TMP/dd.out" 2>/dev/null)"
grep -q " d1 eth0" "$TMP/dd.list" || fail "dataDir \"\": the default state holds $(cat "$TMP/dd.list")"
[ -e "/$dd_name" ] && fail "dataDir \"\" wrote /$dd_name"
CNI_EXTRA_CLEANUP=:
clean "$NODE" "$POD" /nonexistent "dataDir empty"
ok "\"dataDir\": \"\" means /var/lib/cni/networks"

# ---- a full disk ---------------------------------------------------------------------
# A 256 KiB tmpfs, filled, in a private mount namespace: the state file
# cannot be created, which is the system's failure (999, its message), not
# an exhausted pool (101); and nothing is left, not even a temporary file.
mkdir "$TMP/full"
conf "$TMP/full.json" fullnet "$TMP/full"
conf "$TMP/tiny.json" tiny "$TMP/full" "" '[[{"subnet": "10.64.0.0/30"}]]'
cat >"$TMP/full.sh" <<EOS
mount -t tmpfs -o size=256k,mode=700 k8st-cni-full "$TMP/full" || exit 3
cni() {
	env CNI_COMMAND=\$1 CNI_CONTAINERID=\$2 CNI_NETNS=/run/netns/$POD CNI_IFNAME=eth0 \
		nsenter --net=/run/netns/$NODE "$CNI_BIN" <"\$3"
}
# An exhausted pool first, while there is room: 101.
cni ADD e1 "$TMP/tiny.json" >"$TMP/full.e1" || exit 4
cni ADD e2 "$TMP/tiny.json" >"$TMP/full.e2"
cni DEL e1 "$TMP/tiny.json" >/dev/null || exit 5
mkdir -m 700 "$TMP/full/fullnet"
dd if=/dev/zero of="$TMP/full/filler" bs=4k 2>/dev/null
cni ADD f1 "$TMP/full.json" >"$TMP/full.f1"
ls -A "$TMP/full/fullnet" >"$TMP/full.ls"
"$K8SNET" ipam alloc --state "$TMP/full/fullnet/cli.state" --pool 10.65.0.0/24 --owner c \
	--ifname eth0 2>"$TMP/full.cli" && exit 6
exit 0
EOS
unshare -m --propagation private sh "$TMP/full.sh" || fail "disk-full script failed at step $?"
expect_code 101 "$TMP/full.e2"
grep -q "exhausted" "$TMP/full.e2" || fail "pool exhaustion: $(cat "$TMP/full.e2")"
expect_code 999 "$TMP/full.f1"
grep -q "No space left on device" "$TMP/full.f1" || fail "disk full: not the system's reason: $(cat "$TMP/full.f1")"
grep -q "exhausted" "$TMP/full.f1" && fail "disk full reported as an exhausted pool"
[ -z "$(grep -v '^lock$' "$TMP/full.ls")" ] || fail "disk full left files: $(cat "$TMP/full.ls")"
grep -q "No space left on device" "$TMP/full.cli" || fail "k8snet ipam alloc, disk full: $(cat "$TMP/full.cli")"
grep -q "exhausted" "$TMP/full.cli" && fail "k8snet ipam alloc: a full disk reported as an exhausted pool"
[ -z "$(ip -n "$NODE" -o link show type veth)" ] || fail "disk full: a veth is left"
ip -n "$POD" link show eth0 >/dev/null 2>&1 && fail "disk full: eth0 is left in the pod"
ok "a full disk: 999 with \"No space left on device\" (the library: -EIO), nothing left; an exhausted pool is still 101"

echo "PASS: k8snet-cni against hostile, concurrent and failing input"
