# Helpers for the k8snet-cni tests: source after setting top_srcdir/top_builddir.
#   netns_add TAG            -> $NETNS (a k8st-* namespace removed on exit)
#   cni NODE CMD ID NETNS IF CONF [VAR=VALUE...]   run the plugin inside NODE
#   json EXPR < file         evaluate a Python expression over the JSON (as j)
. "$top_srcdir/tests/netns/lib.sh"

CNI_BIN="$top_builddir/examples/k8snet-cni"
LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
REF_CNI_DIR=/usr/lib/cni

TMP=$(mktemp -d /tmp/k8st-cni.XXXXXX)
CNI_EXTRA_CLEANUP=:
_cni_cleanup() {
	$CNI_EXTRA_CLEANUP
	_k8st_cleanup
	rm -rf "$TMP"
}
trap _cni_cleanup EXIT
trap '_cni_cleanup; exit 130' INT TERM HUP

netns_add() {
	_k8st_n=$((_k8st_n + 1))
	NETNS="k8st-$1-$$-$_k8st_n"
	ip netns add "$NETNS" || { echo "FAIL: ip netns add $NETNS"; exit 1; }
	_k8st_ns="$_k8st_ns $NETNS"
	ip -n "$NETNS" link set lo up
}

# cni NODE COMMAND CONTAINERID NETNS IFNAME CONFIG [VAR=VALUE...]
# NETNS is a namespace name (or "" for none); output on stdout, status kept.
cni() {
	_node=$1 _cmd=$2 _id=$3 _ns=$4 _if=$5 _conf=$6
	shift 6
	env CNI_COMMAND="$_cmd" CNI_CONTAINERID="$_id" \
		CNI_NETNS="${_ns:+/run/netns/$_ns}" CNI_IFNAME="$_if" CNI_PATH="$REF_CNI_DIR" \
		"$@" nsenter --net="/run/netns/$_node" "${PLUGIN:-$CNI_BIN}" <"$_conf"
}

json() {
	python3 -c 'import json,sys; j=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,(dict,list)) else json.dumps(r))' "$1"
}

# tcp_get NETNS HOST PORT: what a TCP server there sends, "" on failure.
# The server is started just before, in the background: connections
# refused are tried again for 5 s, since a loaded machine may start it late.
tcp_get() {
	nsenter --net="/run/netns/$1" python3 -c '
import socket, sys, time
for attempt in range(50):
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
else:
    sys.exit(1)
print(c.recv(64).decode())' "$2" "$3"
}

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# expect_code CODE OUTPUT-FILE: the plugin failed with the spec's error CODE.
expect_code() {
	got=$(json 'j["code"]' <"$2" 2>/dev/null) || fail "no error JSON for code $1: $(cat "$2")"
	[ "$got" = "$1" ] || fail "expected code $1, got $got: $(cat "$2")"
}
