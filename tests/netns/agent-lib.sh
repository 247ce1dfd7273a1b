# Helpers for the k8snet-agent tests and benchmark (POSIX sh; source after
# setting top_srcdir and top_builddir).
#
# The world: a control namespace (CTL) where the test API server, kubectl and
# the agents run (the agents program node namespaces through --netns), node
# namespaces joined by an underlay veth, and pod namespaces attached by
# k8snet-cni with the CNI configuration the agent of their node wrote.
# Everything is named k8st-agent-PID-*, lives in $TMP, and is removed on exit.
#
#   agent_world_init TAG          namespaces CTL, and $TMP
#   apiserver_start [ARGS...]     the test API server in CTL ($API_URL, $KCFG)
#   apiserver_stop                SIGTERM, wait
#   kc ARGS...                    kubectl against it
#   node_ns_add NAME IP           a node namespace on the underlay (192.168.77.0/24)
#   agent_start NAME NODE [ARGS]  k8snet-agent for node NAME in its namespace
#   agent_kill NAME [SIGNAL]      stop it (by pid), wait
#   pod_add POD NODE              a pod namespace attached by k8snet-cni -> $POD_IP
#   serve POD PORT                a TCP server in the pod answering its name
#   probe POD HOST PORT           one connection: the answer's first word or "-"
#   wait_until SECONDS CMD...     retry CMD every 0.1 s; 1 on timeout
. "$top_srcdir/tests/netns/lib.sh"

AGENT="$top_builddir/examples/k8snet-agent"
# The binary, not libtool's wrapper script (a shell start per agent start).
[ -x "$top_builddir/examples/.libs/k8snet-agent" ] && AGENT="$top_builddir/examples/.libs/k8snet-agent"
CNI_BIN="$top_builddir/examples/k8snet-cni"
APISERVER="$top_srcdir/tests/apiserver/apiserver.py"
LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

fail() { echo "FAIL: $*"; agent_logs_tail; exit 1; }
_t0=$(date +%s%N)
ok() { echo "ok ($(( ($(date +%s%N) - _t0) / 1000000 )) ms): $*"; }

_agent_pids=""
_agent_cleanup() {
	for p in $_agent_pids; do kill "$p" 2>/dev/null; done
	for p in $_agent_pids; do wait "$p" 2>/dev/null; done
	_agent_pids=""
	_k8st_cleanup
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

agent_world_init() {
	require_root
	for t in python3 nsenter unshare socat; do
		command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
	done
	[ -x "$AGENT" ] || { echo "SKIP: k8snet-agent not built"; exit 77; }
	TMP=$(mktemp -d /tmp/k8st-agent.XXXXXX)
	trap _agent_cleanup EXIT
	trap '_agent_cleanup; exit 130' INT TERM HUP
	AGENT_TAG="agent-$1"
	_ns_new ctl
	CTL=$NETNS
}

# A namespace named k8st-agent-TAG-PID-NAME (lib.sh's netns_add numbers them).
_ns_new() {
	NETNS="k8st-$AGENT_TAG-$$-$1"
	ip netns add "$NETNS" || { echo "cannot create $NETNS" >&2; exit 1; }
	_k8st_ns="$_k8st_ns $NETNS"
	ip -n "$NETNS" link set lo up
}

track() { _agent_pids="$_agent_pids $1"; }
# A name usable in a shell variable (node-1 -> node_1).
_var() { echo "$1" | tr -c 'A-Za-z0-9_\n' '_'; }
untrack() {
	_n=""
	for p in $_agent_pids; do [ "$p" = "$1" ] || _n="$_n $p"; done
	_agent_pids=$_n
}

wait_until() {
	_t=$1
	shift
	_end=$(( $(date +%s%N) / 1000000 + _t * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $_end ] || return 1
		sleep 0.1
	done
	return 0
}

# ---- the API server ----

API_TOKEN=agent-test-token
apiserver_start() {
	rm -f "$TMP/api.ready"
	nsenter --net="/run/netns/$CTL" python3 "$APISERVER" --listen "${API_LISTEN:-127.0.0.1:0}" \
		--tls-dir "$TMP/tls" --token "$API_TOKEN" --kubeconfig-out "$TMP/kubeconfig" \
		--ready-file "$TMP/api.ready" --state "$TMP/api.state" "$@" \
		>>"$TMP/apiserver.log" 2>&1 &
	APISERVER_PID=$!
	track $APISERVER_PID
	wait_until 30 test -s "$TMP/api.ready" || fail "the API server did not start: $(tail -5 "$TMP/apiserver.log")"
	API_URL=$(cat "$TMP/api.ready")
	API_LISTEN=${API_URL#https://}
	KCFG="$TMP/kubeconfig"
}

apiserver_stop() {
	kill "-${1:-TERM}" "$APISERVER_PID" 2>/dev/null
	wait "$APISERVER_PID" 2>/dev/null
	untrack "$APISERVER_PID"
}

kc() {
	nsenter --net="/run/netns/$CTL" kubectl --kubeconfig "$KCFG" --cache-dir "$TMP/kcache" "$@"
}

# POST/GET a test-control endpoint.
api_test() {
	nsenter --net="/run/netns/$CTL" curl -sk -X "$1" -H "Authorization: Bearer $API_TOKEN" \
		"$API_URL/_test/$2"
}

# ---- nodes ----

node_ns_add() {
	if [ -z "${_underlay:-}" ]; then
		# A switch of its own: no node's netfilter sees other nodes' traffic.
		_ns_new underlay
		_underlay=$NETNS
		ip -n "$_underlay" link add br0 type bridge
		ip -n "$_underlay" link set br0 up
	fi
	_ns_new "$1"
	eval "NODE_NS_$(_var "$1")=\$NETNS"
	ip -n "$_underlay" link add "ul-$1" type veth peer name ul0 netns "$NETNS"
	ip -n "$_underlay" link set "ul-$1" master br0 up
	ip -n "$NETNS" addr add "$2/24" dev ul0
	ip -n "$NETNS" link set ul0 up
}
node_ns() { eval "echo \$NODE_NS_$(_var "$1")"; }

# A Node object: NAME POD_CIDR INTERNAL_IP [LABELS-JSON]
node_object() {
	_labels=${4:-"{}"}
	cat <<EOF
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "$1", "labels": $_labels},
 "spec": {"podCIDR": "$2", "podCIDRs": ["$2"]}}
EOF
}

# Create a Node with its status (addresses live in the status subresource).
node_create() {
	node_object "$@" >"$TMP/node-$1.json"
	kc create -f "$TMP/node-$1.json" >/dev/null || fail "kubectl create node $1"
	kc patch node "$1" --subresource=status --type=merge \
		-p "{\"status\": {\"addresses\": [{\"type\": \"InternalIP\", \"address\": \"$3\"}]}}" \
		>/dev/null || fail "kubectl patch node $1 status"
}

# ---- agents ----

agent_start() {
	_name=$1 _node=$2
	shift 2
	mkdir -p "$TMP/cni-$_name" "$TMP/state-$_name"
	nsenter --net="/run/netns/$CTL" ${AGENT_WRAPPER:-} "$AGENT" --node-name "$_name" \
		--kubeconfig "$KCFG" --netns "/run/netns/$(node_ns "$_node")" \
		--cni-conf-dir "$TMP/cni-$_name" --state-dir "$TMP/state-$_name" \
		--cluster-cidr 10.244.0.0/16 "$@" >>"$TMP/agent-$_name.log" 2>&1 &
	eval "AGENT_PID_$(_var "$_name")=$!"
	track $!
}
agent_pid() { eval "echo \$AGENT_PID_$(_var "$1")"; }
agent_kill() {
	_p=$(agent_pid "$1")
	kill "-${2:-TERM}" "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	_st=$?
	untrack "$_p"
	return $_st
}
agent_logs_tail() {
	for f in "${TMP:-/nonexistent}"/agent-*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 15 lines)"
		tail -15 "$f"
	done
}
# metric NAME METRIC-LINE-PREFIX: the value on the agent's /metrics
metric() {
	nsenter --net="/run/netns/$CTL" curl -s "http://$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

# ---- pods ----

# pod_add POD NODE: attach with the CNI config the node's agent wrote (the
# first plugin of its conflist, given name and cniVersion as a runtime
# does), in a mount namespace whose /var/lib/cni is the node's own.
pod_add() {
	_ns_new "$1"
	eval "POD_NS_$(_var "$1")=\$NETNS"
	_conf="$TMP/cni-$2/10-k8snet.conflist"
	[ -f "$_conf" ] || fail "no CNI configuration from the agent of $2"
	[ "$_conf" -ot "$TMP/plugin-$2.conf" ] ||
		python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); p=dict(c["plugins"][0]); p["name"]=c["name"]; p["cniVersion"]=c["cniVersion"]; print(json.dumps(p))' \
		"$_conf" >"$TMP/plugin-$2.conf"
	cp "$TMP/plugin-$2.conf" "$TMP/pod-$1.conf"
	mkdir -p "$TMP/varlib-$2"
	CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="/run/netns/$NETNS" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni nsenter --net="/run/netns/$(node_ns "$2")" \
		unshare -m sh -c 'mount -t tmpfs k8snet /var/lib && mkdir /var/lib/cni && mount --bind "$1" /var/lib/cni && exec "$2"' sh "$TMP/varlib-$2" "$CNI_BIN" \
		<"$TMP/pod-$1.conf" >"$TMP/pod-$1.result" 2>&1 || fail "CNI ADD $1: $(cat "$TMP/pod-$1.result")"
	POD_IP=$(sed -n 's#.*"address":[[:space:]]*"\([0-9.]*\)/.*#\1#p' "$TMP/pod-$1.result" | head -n 1)
	eval "POD_IP_$(_var "$1")=\$POD_IP"
}
pod_ns() { eval "echo \$POD_NS_$(_var "$1")"; }
pod_ip() { eval "echo \$POD_IP_$(_var "$1")"; }

cat_server_py() {
	cat <<'EOF'
import socket, sys
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", port)); s.listen(128)
while True:
    c, a = s.accept()
    try: c.sendall(("%s %s\n" % (name, a[0])).encode())
    except OSError: pass
    finally: c.close()
EOF
}

serve() {
	[ -f "$TMP/server.py" ] || cat_server_py >"$TMP/server.py"
	nsenter --net="/run/netns/$(pod_ns "$1")" python3 "$TMP/server.py" "$1" "$2" &
	track $!
}

probe() {
	# socat, not python: on a loaded machine an interpreter start costs
	# seconds, and the tests probe hundreds of times.
	_a=$(nsenter --net="/run/netns/$(pod_ns "$1")" timeout "$(( ${4:-1} + 1 ))" \
		socat -T "${4:-1}" -u "TCP:$2:$3,connect-timeout=${4:-1}" - 2>/dev/null | head -n 1)
	echo "${_a%% *}" | grep . || echo -
}

# probe_is WANT POD HOST PORT: succeeds when the answer is WANT
probe_is() { [ "$(probe "$2" "$3" "$4")" = "$1" ]; }
