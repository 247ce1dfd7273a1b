#!/bin/sh
# The k8snet command line as people use it, without root: --help on the
# tool, on every group and on every command `k8snet --help` lists (usage
# with every option, a purpose, stdout, exit 0), and a table of wrong
# invocations with the exit status and message each must give.
set -u
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

"$k8snet" __check >"$tmp/check" 2>&1 || fail "the tables are inconsistent: $(cat "$tmp/check")"

# ---- --help everywhere ---------------------------------------------------
"$k8snet" --help >"$tmp/top" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] && [ ! -s "$tmp/err" ] || fail "k8snet --help: exit $rc, stderr $(cat "$tmp/err")"
"$k8snet" help >"$tmp/top2" 2>&1 && cmp -s "$tmp/top" "$tmp/top2" || fail "k8snet help differs from --help"
# The command list: the lines between "Commands:" and the next blank line.
sed -n '/^Commands:/,/^$/p' "$tmp/top" | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' |
	sed 's/ *$//' >"$tmp/commands"
n=$(wc -l <"$tmp/commands")
[ "$n" -ge 25 ] || fail "k8snet --help lists only $n commands"
while read -r cmd; do
	# shellcheck disable=SC2086
	"$k8snet" $cmd --help >"$tmp/h" 2>"$tmp/err"; rc=$?
	if [ $rc != 0 ] || [ -s "$tmp/err" ]; then
		fail "k8snet $cmd --help: exit $rc, stderr: $(cat "$tmp/err")"; continue
	fi
	head -1 "$tmp/h" | grep -q "^Usage: k8snet $cmd\( \|$\)" || fail "k8snet $cmd --help: no usage line"
	# The purpose: the first paragraph after the usage, one sentence.
	purpose=$(sed -n '/^$/{n;p;q}' "$tmp/h")
	case $purpose in [A-Z]*.) ;; *) fail "k8snet $cmd --help: no purpose line ('$purpose')" ;; esac
	grep -q '^  -h, --help ' "$tmp/h" || fail "k8snet $cmd --help: no --help in the options"
	# Every option listed is in the usage (the usage shows them all).
	usage=$(sed -n '1,/^$/p' "$tmp/h")
	for opt in $(sed -n '/^Options:/,/^$/p' "$tmp/h" | grep -o '^  \(-., \)\?--[a-z0-9-]*' |
			grep -o -- '--[a-z0-9-]*'); do
		[ "$opt" = --help ] && continue
		echo "$usage" | grep -q -- "\[\?$opt\( \|]\|\.\|$\)" || fail "k8snet $cmd: $opt not in the usage"
	done
	# -h and `k8snet help CMD` say the same.
	# shellcheck disable=SC2086
	"$k8snet" $cmd -h >"$tmp/h2" 2>&1 && cmp -s "$tmp/h" "$tmp/h2" || fail "k8snet $cmd -h differs"
	# shellcheck disable=SC2086
	"$k8snet" help $cmd >"$tmp/h3" 2>&1 && cmp -s "$tmp/h" "$tmp/h3" || fail "k8snet help $cmd differs"
	# --help wins over a mistake elsewhere on the line.
	# shellcheck disable=SC2086
	"$k8snet" $cmd --no-such-option --help >"$tmp/h4" 2>&1 && cmp -s "$tmp/h" "$tmp/h4" ||
		fail "k8snet $cmd --no-such-option --help did not show the help"
done <"$tmp/commands"
echo "ok: --help, -h and help on the $n commands of k8snet --help"

# Groups: every leading part of a command ("pod", "node peer", "dns fqdn").
for group in $(awk '{ p = $1; print p; for (i = 2; i < NF; i++) { p = p "_" $i; print p } }' \
		"$tmp/commands" | sort -u); do
	g=$(echo "$group" | tr _ ' ')
	# shellcheck disable=SC2086
	"$k8snet" $g --help >"$tmp/g" 2>"$tmp/err"
	rc=$?
	grep -q "^  $g$" "$tmp/commands" && continue  # a command, not a group
	[ $rc = 0 ] && [ ! -s "$tmp/err" ] || { fail "k8snet $g --help: exit $rc"; continue; }
	for cmd in $(grep "^$g " "$tmp/commands" | tr ' ' _); do
		grep -q "^  $(echo "$cmd" | tr _ ' ') " "$tmp/g" || fail "k8snet $g --help misses $cmd"
	done
done
echo "ok: --help on every group lists its commands"

# ---- Wrong invocations ---------------------------------------------------
# bad RC MESSAGE-PART -- ARGS...: exit RC, nothing on stdout, the message on
# stderr in one line that starts with "k8snet: ".
bad() {
	want_rc=$1 want=$2
	shift 3
	"$k8snet" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ $rc != "$want_rc" ] || [ -s "$tmp/out" ] || ! grep -qF -- "$want" "$tmp/err" ||
		[ "$(grep -cv '^k8snet: note:' "$tmp/err")" != 1 ] || ! grep -q '^k8snet: ' "$tmp/err"; then
		fail "k8snet $*: exit $rc (want $want_rc); stderr: $(cat "$tmp/err") (want: $want)"
	else
		echo "ok: k8snet $* -> $want_rc: $(grep -v '^k8snet: note:' "$tmp/err")"
	fi
}
bad 2 "a command is needed" --
bad 2 "unknown command 'frobnicate' (see 'k8snet --help')" -- frobnicate
bad 2 "unknown command 'pod frobnicate' (see 'k8snet pod --help')" -- pod frobnicate
bad 2 "pod: a command is needed: attach, check, detach" -- pod
bad 2 "unknown option '--frob'" -- --frob
bad 2 "pod attach: unknown option '--frob' (see 'k8snet pod attach --help')" -- \
	pod attach --frob --pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/24
bad 2 "unknown option '-x'" -- version -x
bad 2 "--gateway is not an option of this command" -- bridge ensure --bridge b --gateway 10.0.0.1
bad 2 "--bridge needs a value (BR)" -- bridge ensure --bridge
bad 2 "--bridge needs a value (BR)" -- bridge ensure --bridge --address 10.0.0.1/24
bad 2 "--output needs a value (FORMAT)" -- version -o
bad 2 "--output yaml: must be one of: text, json" -- version -o yaml
bad 2 "--mode bgp: must be one of: host-gw, vxlan" -- \
	node peer add --mode bgp --peer-pod-cidr 10.0.0.0/24 --peer-ip 1.1.1.1
bad 2 "--mode vxlan needs --vxlan-dev" -- \
	node peer add --mode vxlan --peer-pod-cidr 10.0.0.0/24 --peer-ip 1.1.1.1
bad 2 "--hairpin takes no value" -- pod attach --hairpin=yes
bad 2 "--bridge is required" -- bridge ensure --address 10.0.0.1/24
bad 2 "--state is required" -- ipam list
bad 2 "--node-netns is required" -- policy sync --node-name n x.json
bad 2 "expected FILE.json" -- proxy render
bad 2 "unexpected argument 'b.json' (expected FILE.json)" -- proxy render a.json b.json
bad 2 "unexpected argument 'extra'" -- ipam list --state "$tmp/s" extra
bad 2 "expected KIND NAME" -- dns validate label
bad 2 "--bridge given twice ('a' and 'b')" -- bridge ensure --bridge a --bridge b
bad 2 "--mtu 12: must be a number in 68..65535" -- \
	bridge ensure --bridge b --mtu 12 --node-netns /nonexistent
bad 2 "--port 0: must be a number in 1..65535" -- policy check x.json --from a/b --to c/d \
	--port 0 --protocol TCP
bad 2 "needs --owner and --ifname, or --ip" -- ipam release --state "$tmp/s" --owner a
bad 2 "help: no command 'frobnicate'" -- help frobnicate
# Both spellings of an aliased option, in every combination of kinds.
bad 2 "--node-netns and --in-netns are two names of --node-netns: give it once" -- \
	node setup --node-netns /run/netns/a --in-netns /run/netns/a
bad 2 "--netns and --node-netns are two names of --node-netns: give it once" -- \
	proxy sync --netns /run/netns/a --node-netns /run/netns/a x.json
bad 2 "--netns is not an option of this command" -- proxy render --netns /run/netns/a x.json
bad 2 "--pod-netns and --netns are two names of --pod-netns: give it once" -- \
	pod detach --container-id c --pod-netns /run/netns/a --netns /run/netns/a
bad 2 "--dns-policy and --policy are two names of --dns-policy: give it once" -- \
	dns resolv-conf --dns-policy Default --policy Default --namespace n --cluster-dns "" \
	--cluster-domain cluster.local
bad 2 "--nodeport-cidr and --nodeport-address are two names of --nodeport-cidr" -- \
	proxy render --nodeport-cidr 10.0.0.0/8 --nodeport-address 10.0.0.0/8 x.json
bad 2 "--name and --bridge are two names of --bridge" -- bridge ensure --name a --bridge a
bad 2 "--pod-cidr and --peer-pod-cidr are two names of --peer-pod-cidr" -- \
	node peer add --mode host-gw --pod-cidr 10.0.0.0/24 --peer-pod-cidr 10.0.0.0/24 --peer-ip 1.1.1.1
# A dual-stack pod with a gateway for one family only, when the bridge (here
# there is none) cannot give the other: refused before anything is made.
bad 2 "--address fd00::2/64: no IPv6 gateway: give --gateway for it" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge no-such-br0 \
	--address 10.0.0.2/24 --address fd00::2/64 --gateway 10.0.0.1
bad 2 "--gateway 10.0.0.1 and 10.0.0.254: one gateway per family" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/24 \
	--gateway 10.0.0.1 --gateway 10.0.0.254
bad 2 "--gateway fd00::1: no --address of its family (IPv6)" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/24 \
	--gateway fd00::1
bad 2 "--address 10.0.0.2: not an address with its prefix length" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2
# The library's address rules (k8snet_cidr_parse): no leading zeros in the
# length or the address, no sign.
bad 2 "--address 10.0.0.2/024: not an address with its prefix length" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/024
bad 2 "--address 10.0.0.2/+24: not an address with its prefix length" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/+24
bad 2 "--gateway 10.0.0.01: not an IP address" -- pod attach \
	--pod-netns /run/netns/x --container-id c --bridge b --address 10.0.0.2/24 --gateway 10.0.0.01

# ---- Old spellings still work, with a note -------------------------------
args="--namespace web --cluster-dns 10.96.0.10 --cluster-domain cluster.local"
# shellcheck disable=SC2086
"$k8snet" dns resolv-conf --dns-policy ClusterFirst $args >"$tmp/new" 2>"$tmp/new.err" ||
	fail "resolv-conf --dns-policy"
# shellcheck disable=SC2086
"$k8snet" dns resolv-conf --policy ClusterFirst $args >"$tmp/old" 2>"$tmp/old.err" ||
	fail "resolv-conf --policy"
cmp -s "$tmp/new" "$tmp/old" || fail "--policy and --dns-policy give different files"
[ ! -s "$tmp/new.err" ] || fail "--dns-policy: stderr $(cat "$tmp/new.err")"
grep -qx "k8snet: note: --policy is now --dns-policy; the old name goes away after release 0.2" \
	"$tmp/old.err" || fail "--policy: no note ($(cat "$tmp/old.err"))"
echo "ok: an old spelling works, with a note on stderr"

# ---- -o json -------------------------------------------------------------
json_ok() {  # json_ok PYTHON-ASSERTION ARGS...
	expr=$1; shift
	"$k8snet" "$@" >"$tmp/j" 2>"$tmp/err" || { fail "k8snet $*: exit $?: $(cat "$tmp/err")"; return; }
	python3 -c "import json,sys; j = json.load(open(sys.argv[1])); assert $expr, j" "$tmp/j" ||
		fail "k8snet $*: $(cat "$tmp/j")"
}
json_ok 'j["version"] == j["library"]' version -o json
json_ok 'j == {"cidr": "10.244.1.1/29", "ip": "10.244.1.1", "owner": "c1", "ifname": "eth0"}' \
	ipam alloc --state "$tmp/st" --pool 10.244.1.0/29 --owner c1 --ifname eth0 --output json
json_ok 'j["allocations"] == [{"ip": "10.244.1.1", "owner": "c1", "ifname": "eth0"}]' \
	ipam list --state "$tmp/st" -o json
json_ok 'j["allocations"] == [{"cidr": "10.244.1.1/29", "ip": "10.244.1.1", "owner": "c1", "ifname": "eth0"}]' \
	ipam list --state "$tmp/st" --pool 10.244.1.0/29 -o json
printf 'search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' >"$tmp/rc"
json_ok 'j["candidates"][0] == "api.default.svc.cluster.local" and len(j["candidates"]) == 4' \
	dns candidates api --resolv-conf "$tmp/rc" -o json
json_ok 'j == {"kind": "service", "zone": "cluster.local", "namespace": "default", "service": "api"}' \
	dns parse api.default.svc.cluster.local -o json
"$k8snet" ipam list --state "$tmp/st" -o text >"$tmp/t" && [ "$(cat "$tmp/t")" = "10.244.1.1 c1 eth0" ] ||
	fail "ipam list -o text: $(cat "$tmp/t")"
echo "ok: -o json"

[ $status = 0 ] && echo "PASS: k8snet help, mistakes and -o json"
exit $status
