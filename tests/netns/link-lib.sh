# Helpers for the link layer's shell tests (sourced after lib.sh).
K8SNET="${top_builddir:-.}/examples/k8snet"
_link_pids=""

# link_ns TAG: a throwaway namespace, removed on exit; prints its name.
link_ns() {
	_k8st_n=$((_k8st_n + 1))
	_name="k8st-$1-$$-$_k8st_n"
	ip netns add "$_name" || exit 1
	_k8st_ns="$_k8st_ns $_name"
	LINK_NS=$_name
}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# in NS CMD...: run a command inside a namespace (nsenter keeps /sys as is).
inns() { _ns=$1; shift; nsenter --net="/run/netns/$_ns" "$@"; }

# serve NS ADDR PORT: a TCP server that answers every client with the
# client's address as it sees it (SOCAT_PEERADDR).  Killed at exit.
serve() {
	case $2 in *:*) _l="TCP6-LISTEN:$3,bind=[$2]" ;; *) _l="TCP4-LISTEN:$3,bind=$2" ;; esac
	# nsenter itself, not the inns function: $! must be the server's pid.
	nsenter --net="/run/netns/$1" timeout 60 socat "$_l,reuseaddr,fork" \
		SYSTEM:'echo "$SOCAT_PEERADDR"' 2>/dev/null &
	_link_pids="$_link_pids $!"
	for _i in $(seq 50); do
		inns "$1" ss -ltnH "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
	fail "server in $1 on $2:$3 did not start"
}

# ask NS ADDR PORT: connect, print what the server saw as our address.
ask() {
	case $2 in *:*) _t="TCP6:[$2]:$3" ;; *) _t="TCP4:$2:$3" ;; esac
	inns "$1" timeout 5 socat -T 3 - "$_t,connect-timeout=2" </dev/null 2>/dev/null
}

# expect_peer NS ADDR PORT WANT: the server must see WANT as the client.
expect_peer() {
	_got=$(ask "$1" "$2" "$3")
	_want=$4
	case $_want in *:*) _got=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1].strip('[]')))" "$_got" 2>/dev/null) ;; esac
	[ "$_got" = "$_want" ] || fail "$1 -> $2:$3: server saw '$_got', expected '$_want'"
}

expect_no_connect() {
	_got=$(ask "$1" "$2" "$3")
	[ -z "$_got" ] || fail "$1 -> $2:$3 connected (saw '$_got') but should not"
}

_link_cleanup() {
	for _p in $_link_pids; do kill "$_p" 2>/dev/null; done
	wait 2>/dev/null
	_k8st_cleanup
}
trap _link_cleanup EXIT
trap '_link_cleanup; exit 130' INT TERM HUP

veth_count() { ip -n "$1" -o link show type veth | wc -l; }

# expect_from NS WANT4 WANT6 PORT4 PORT6 TARGET...: from NS, connect to every
# target (IPv4 ones on PORT4, IPv6 ones on PORT6) in one process; fail unless
# each server saw WANT4 or WANT6, the client pod's own address.
expect_from() {
	_ns=$1; shift
	nsenter --net="/run/netns/$_ns" timeout 30 python3 - "$@" <<'PY' || fail "from $_ns: see above"
import ipaddress, socket, sys
want4, want6, port4, port6, targets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
bad = 0
for t in targets:
    v6 = ":" in t
    try:
        with socket.create_connection((t, port6 if v6 else port4), timeout=3) as s:
            data = b""
            while chunk := s.recv(256):
                data += chunk
        seen = ipaddress.ip_address(data.decode().strip().strip("[]"))
    except (OSError, ValueError) as e:
        print(f"{t}: {e}", file=sys.stderr); bad += 1; continue
    if seen != ipaddress.ip_address(want6 if v6 else want4):
        print(f"{t}: server saw {seen}, not us", file=sys.stderr); bad += 1
sys.exit(1 if bad else 0)
PY
}
