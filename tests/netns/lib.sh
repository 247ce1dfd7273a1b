# Shell side of the netns harness: source it, then
#   require_root
#   netns_add tag; ns=$NETNS   # removed on exit, error or signal
# Namespaces are named k8st-TAG-PID-N (k8st-OWNER-TAG-PID-N with K8ST_OWNER
# set, as in the C harness), never the host's own.
_k8st_ns=""
_k8st_n=0

require_root() {
	if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
	command -v ip >/dev/null || { echo "SKIP: no ip"; exit 77; }
}

_k8st_cleanup() {
	for ns in $_k8st_ns; do ip netns del "$ns" 2>/dev/null; done
	_k8st_ns=""
}
trap _k8st_cleanup EXIT
trap '_k8st_cleanup; exit 130' INT TERM HUP


# netns_add TAG: creates a namespace and sets NETNS to its name. Not a
# subshell ($(...) would lose the record of what to remove).
netns_add() {
	NETNS="k8st-${K8ST_OWNER:+$K8ST_OWNER-}$1-$$-$_k8st_n"
	_k8st_n=$((_k8st_n + 1))
	ip netns add "$NETNS" || { echo "cannot create $NETNS" >&2; exit 1; }
	_k8st_ns="$_k8st_ns $NETNS"
	ip -n "$NETNS" link set lo up
}

# Tests with several named namespaces: set TAG (unique per run, e.g.
# "k8st-nat-$$") and fails=0, then
#   add_ns node; ns node   # creates / names "$TAG-node", removed on exit
#   check NAME COMMAND...  # runs it, prints PASS or FAIL, counts failures
ns() { echo "k8st-${K8ST_OWNER:+$K8ST_OWNER-}${TAG#k8st-}-$1"; }
add_ns() { ip netns add "$(ns "$1")" && _k8st_ns="$_k8st_ns $(ns "$1")"; }
check() {
	local name=$1; shift
	if "$@"; then echo "PASS: $name"; else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
