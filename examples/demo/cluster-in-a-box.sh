#!/bin/sh
# Cluster in a box: two Kubernetes nodes as network namespaces, each kept in
# step by its own k8snet-agent watching an API server; pods attached by the
# k8snet-cni plugin with the configuration the agents wrote; Services,
# cluster DNS (bind9 serving the zone the agent writes) and a NetworkPolicy,
# all created through the API with kubectl; as root, in under 30 s.
#
#   ./dev.sh demo          (or: examples/demo/cluster-in-a-box.sh from a build)
#
# The API server is tests/apiserver/apiserver.py, the project's test server
# (no kube-apiserver is packaged for Debian); in a cluster the agent talks to
# kube-apiserver, deployed by deploy/k8snet-agent.yaml.
#
# Everything lives in namespaces named kd-<pid>-* and a temporary directory;
# all of it is removed on every exit path.  Exit status: 0 when everything
# the demo shows worked, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}" "${top_builddir:=$top_srcdir}"
K8SNET="$top_builddir/examples/k8snet"
CNI="$top_builddir/examples/k8snet-cni"
AGENT="$top_builddir/examples/k8snet-agent"
APISERVER="$top_srcdir/tests/apiserver/apiserver.py"
export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONDONTWRITEBYTECODE=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

[ "$(id -u)" = 0 ] || { echo "cluster-in-a-box: run me as root" >&2; exit 1; }
[ -x "$K8SNET" ] && [ -x "$CNI" ] && [ -x "$AGENT" ] ||
	{ echo "cluster-in-a-box: build first (./dev.sh build)" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "cluster-in-a-box: needs kubectl (./dev.sh deps)" >&2; exit 1; }

t0=$(date +%s.%N)
tag="kd-$$"
tmp=$(mktemp -d /tmp/k8snet-demo.XXXXXX)
FAILED=0
PIDS=""
PODS=""          # "name node namespace ip labels" lines, in $tmp/pods

# ---- presentation ------------------------------------------------------
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
good() { printf '   ok    %s\n' "$*"; }
bad() { printf '   FAIL  %s\n' "$*"; FAILED=1; }

cleanup() {
	trap - EXIT INT TERM HUP
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$tag-"); do
		rm -rf "/etc/netns/$ns"
		ip netns del "$ns"
	done
	rmdir /etc/netns 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ns() { echo "$tag-$1"; }
in_ns() { _n=$1; shift; nsenter --net="/run/netns/$(ns "$_n")" "$@"; }
kc() { in_ns api kubectl --kubeconfig "$tmp/kubeconfig" --cache-dir "$tmp/kcache" "$@"; }
# until SECONDS CMD...: retry CMD every 0.1 s
until_ok() {
	_end=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt $_end ] || return 1
		sleep 0.1
	done
}

# Small programs the pods run: a TCP server answering with the pod's name,
# and a prober connecting to many targets at once.
cat >"$tmp/server.py" <<'EOF'
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", port)); s.listen(64)
while True:
    c, a = s.accept()
    try: c.sendall(("%s %s\n" % (name, a[0])).encode())
    finally: c.close()
EOF
cat >"$tmp/probe.py" <<'EOF'
# probe.py TIMEOUT HOST:PORT...  -> one "HOST:PORT ANSWER|-" line each, in parallel
import socket, sys, threading
out = {}
def one(t):
    h, p = t.rsplit(":", 1)
    try:
        c = socket.create_connection((h, int(p)), timeout=float(sys.argv[1]))
        c.settimeout(float(sys.argv[1])); out[t] = c.recv(128).decode().split()[0]; c.close()
    except Exception:
        out[t] = "-"
ts = [threading.Thread(target=one, args=(t,)) for t in sys.argv[2:]]
for t in ts: t.start()
for t in ts: t.join()
for t in sys.argv[2:]: print(t, out[t])
EOF

# ---- 0. the control plane ------------------------------------------------
bold "0. The API server (the project's test server, tests/apiserver), driven with kubectl"
ip netns add "$(ns api)" && ip -n "$(ns api)" link set lo up || { bad "cannot create namespaces"; exit 1; }
# Started with nsenter itself, not a shell function, so $! is the server.
nsenter --net="/run/netns/$(ns api)" python3 "$APISERVER" --listen 127.0.0.1:0 --tls-dir "$tmp/tls" --kubeconfig-out "$tmp/kubeconfig" \
	--ready-file "$tmp/api.ready" --bookmark-interval 5 >"$tmp/apiserver.log" 2>&1 &
PIDS="$PIDS $!"
api_ready() { # the server starts while the nodes are set up
	until_ok 20 test -s "$tmp/api.ready" ||
		{ bad "the API server did not start: $(tail -3 "$tmp/apiserver.log")"; exit 1; }
}

# ---- 1. nodes ----------------------------------------------------------
ip netns add "$(ns n1)" && ip netns add "$(ns n2)" || { bad "cannot create namespaces"; exit 1; }
ip -n "$(ns n1)" link add ul0 type veth peer name ul0 netns "$(ns n2)"
i=1
for n in n1 n2; do
	ip -n "$(ns $n)" link set lo up
	ip -n "$(ns $n)" addr add "192.168.50.$i/24" dev ul0
	ip -n "$(ns $n)" link set ul0 up
	# The controller-manager's part: a podCIDR per node, here from IPAM.
	cidr=$("$K8SNET" ipam alloc --state "$tmp/node-cidrs.state" --pool 10.244.0.0/16 \
		--prefix-len 24 --owner "node$i" --ifname "") || bad "node CIDR for node$i"
	eval "CIDR_$n=\$cidr"
	cat >>"$tmp/nodes.json" <<EOF
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node$i"},
 "spec": {"podCIDR": "$cidr", "podCIDRs": ["$cidr"]},
 "status": {"addresses": [{"type": "InternalIP", "address": "192.168.50.$i"}]}}
EOF
	i=$((i + 1))
done
api_ready
good "API server at $(cat "$tmp/api.ready") (HTTPS, a bearer token in $tmp/kubeconfig)"
bold "1. Two nodes: Node objects in the API, one k8snet-agent each (host-gw)"
kc apply -f "$tmp/nodes.json" >/dev/null || bad "kubectl apply the Nodes"
kc get nodes -o custom-columns=NODE:.metadata.name,POD-CIDR:.spec.podCIDR,INTERNAL-IP:.status.addresses[0].address |
	sed 's/^/   /'
start_agent() { # N NODE-NAME [EXTRA ARGS...]
	_n=$1 _name=$2
	shift 2
	mkdir -p "$tmp/cni-$_n" "$tmp/state-$_n"
	nsenter --net="/run/netns/$(ns api)" "$AGENT" --node-name "$_name" --kubeconfig "$tmp/kubeconfig" --netns "/run/netns/$(ns "$_n")" \
		--cni-conf-dir "$tmp/cni-$_n" --state-dir "$tmp/state-$_n" --cluster-cidr 10.244.0.0/16 \
		--service-cidr 10.96.0.0/12 --min-sync-period 100ms "$@" >"$tmp/agent-$_n.log" 2>&1 &
	PIDS="$PIDS $!"
}
# node1's agent also writes the cluster DNS zone; named reloads it on SIGHUP.
start_agent n1 node1 --healthz-address 127.0.0.1:10251 --metrics-address 127.0.0.1:10241 \
	--zone-file "$tmp/cluster.local.zone" \
	--zone-reload-cmd "[ ! -s $tmp/named.pid ] || kill -HUP \$(cat $tmp/named.pid)"
start_agent n2 node2 --healthz-address 127.0.0.1:10252 --metrics-address 127.0.0.1:10242
routed() { ip -n "$(ns "$1")" route show "$2" | grep -q "via $3"; }
until_ok 15 routed n1 "$CIDR_n2" 192.168.50.2 && until_ok 5 routed n2 "$CIDR_n1" 192.168.50.1 &&
	until_ok 5 test -s "$tmp/cni-n1/10-k8snet.conflist" -a -s "$tmp/cni-n2/10-k8snet.conflist" ||
	bad "the agents did not route the nodes or write the CNI configuration: $(tail -3 "$tmp/agent-n1.log")"
good "the agents routed node1 -> $CIDR_n2 via 192.168.50.2, node2 -> $CIDR_n1 via 192.168.50.1"
good "and wrote the CNI configuration: $(grep -o '"subnet":[^}]*' "$tmp/cni-n1/10-k8snet.conflist" | tr -d '\t') on node1"

# ---- 2. pods through k8snet-cni ---------------------------------------
bold "2. Pods attached by the k8snet-cni plugin with the agents' configuration (CNI ADD)"
# A runtime gives each plugin of the list its entry, with name and cniVersion.
python3 - "$tmp" <<'EOF'
import json, sys
for n in ("n1", "n2"):
    c = json.load(open("%s/cni-%s/10-k8snet.conflist" % (sys.argv[1], n)))
    p = dict(c["plugins"][0], name=c["name"], cniVersion=c["cniVersion"])
    json.dump(p, open("%s/%s.conf" % (sys.argv[1], n), "w"))
EOF
mkdir -p "$tmp/varlib-n1" "$tmp/varlib-n2"
# Each node keeps host-local IPAM state in its own /var/lib/cni: a mount
# namespace per plugin run gives it the node's, as a real node would have
# (a tmpfs over /var/lib first, so nothing is made on this machine's disk).
cni() { # COMMAND NAME NODE
	CNI_COMMAND=$1 CNI_CONTAINERID="$2" CNI_NETNS="/run/netns/$(ns "$2")" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni in_ns "$3" unshare -m sh -c 'mount -t tmpfs k8snet /var/lib && mkdir /var/lib/cni && mount --bind "$1" /var/lib/cni && exec "$2"' \
		sh "$tmp/varlib-$3" "$CNI" <"$tmp/$3.conf"
}
# name node namespace labels
cat >"$tmp/podlist" <<'EOF'
web-1 n1 default app=web
frontend n1 default role=frontend
dns n1 kube-system k8s-app=kube-dns
web-2 n2 default app=web
intruder n2 default role=other
EOF
printf '   %-9s %-6s %-12s %-16s %s\n' POD NODE NAMESPACE IP LABELS
while read -r name node kns labels; do
	ip netns add "$(ns "$name")"
	t1=$(date +%s%N)
	if cni ADD "$name" "$node" >"$tmp/$name.result" 2>&1; then
		ms=$(( ($(date +%s%N) - t1) / 1000000 ))
		ip=$(sed -n 's#.*"address":[[:space:]]*"\([0-9.]*\)/.*#\1#p' "$tmp/$name.result" | head -n 1)
		echo "$name $node $kns $ip $labels" >>"$tmp/pods"
		printf '   %-9s %-6s %-12s %-16s %-18s (ADD %d ms, with nsenter and unshare)\n' "$name" "$node" "$kns" "$ip" "$labels" "$ms"
	else
		bad "CNI ADD $name: $(cat "$tmp/$name.result")"
	fi
done <"$tmp/podlist"
ip_of() { awk -v n="$1" '$1 == n { print $4 }' "$tmp/pods"; }
for name in web-1 web-2 frontend intruder; do
	nsenter --net="/run/netns/$(ns "$name")" python3 "$tmp/server.py" "$name" 8080 &
	PIDS="$PIDS $!"     # nsenter execs python: this is the server's own pid
done
listening() { in_ns "$1" ss -Hltn 'sport = :8080' | grep -q .; }
for name in web-1 web-2 frontend intruder; do
	until_ok 30 listening "$name" || bad "the server in $name does not listen"
done

# ---- 3. reachability --------------------------------------------------
APPS="web-1 web-2 frontend intruder"
matrix() { # TITLE EXPECTED-FUNCTION
	printf '   %-10s' "from\\to"
	for d in $APPS; do printf ' %-9s' "$d"; done
	echo
	probes=""
	for s in $APPS; do      # every pod probes at once
		targets=""
		for d in $APPS; do [ "$d" = "$s" ] || targets="$targets $(ip_of "$d"):8080"; done
		# shellcheck disable=SC2086
		in_ns "$s" python3 "$tmp/probe.py" 1 $targets >"$tmp/probe.$s" &
		probes="$probes $!"
	done
	for p in $probes; do wait "$p"; done
	for s in $APPS; do
		printf '   %-10s' "$s"
		for d in $APPS; do
			if [ "$d" = "$s" ]; then printf ' %-9s' "."; continue; fi
			got=$(awk -v t="$(ip_of "$d"):8080" '$1 == t { print $2 }' "$tmp/probe.$s")
			want=$($2 "$s" "$d")
			if [ "$got" = "$d" ]; then cell=yes; else cell=no; fi
			if [ "$cell" = "$want" ]; then printf ' %-9s' "$cell"
			else printf ' %-9s' "$cell(!)"; FAILED=1; fi
		done
		echo
	done
}
all_open() { echo yes; }
bold "3. Reachability between pods (TCP 8080), across both nodes, no policy yet"
matrix "before" all_open

# ---- 4. the cluster's objects through the API -------------------------
bold "4. Pods, Services and EndpointSlices created with kubectl; the agents program Service NAT"
python3 - "$tmp" <<'EOF'
import json, sys
tmp = sys.argv[1]
pods = [l.split() for l in open(tmp + "/pods")]
nodes = {"n1": "node1", "n2": "node2"}
items, statuses = [], []
for name, node, ns, ip, label in pods:
    k, v = label.split("=")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": {k: v}},
           "spec": {"nodeName": nodes[node], "containers": [{"name": "c", "image": "demo",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]}}
    items.append(pod)
    # What the kubelet reports once the sandbox is up (status subresource).
    statuses.append(dict(pod, status={"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                      "conditions": [{"type": "Ready", "status": "True"}]}))
def service(ns, name, ports, typ="ClusterIP", ip=None):
    spec = {"type": typ, "ports": ports, "selector": {}}
    if ip:
        spec["clusterIP"] = ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}
def slice_(ns, svc, name, ports, sel):
    eps = [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": nodes[node],
            "targetRef": {"kind": "Pod", "name": pname, "namespace": ns}}
           for pname, node, pns, ip, label in pods if label == sel and pns == ns]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "ports": ports, "endpoints": eps}
http = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
dnsports = [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]
items += [
    service("kube-system", "kube-dns", dnsports, ip="10.96.0.10"),
    slice_("kube-system", "kube-dns", "kube-dns-abcde", dnsports, "k8s-app=kube-dns"),
    service("default", "web", http),
    slice_("default", "web", "web-abcde", [{"name": "http", "port": 8080, "protocol": "TCP"}], "app=web"),
    service("default", "web-nodeport", [dict(http[0], nodePort=30080)], "NodePort"),
    slice_("default", "web-nodeport", "web-nodeport-fghij", [{"name": "http", "port": 8080, "protocol": "TCP"}], "app=web"),
]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(tmp + "/cluster.json", "w"), indent=1)
json.dump({"apiVersion": "v1", "kind": "List", "items": statuses}, open(tmp + "/pod-status.json", "w"), indent=1)
policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "web-from-frontend", "namespace": "default"},
          "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
                                "ports": [{"protocol": "TCP", "port": 8080}]}]}}
json.dump(policy, open(tmp + "/policy.json", "w"), indent=1)
EOF
kc apply -f "$tmp/cluster.json" | sed 's/^/   kubectl apply: /'
kc replace --subresource=status -f "$tmp/pod-status.json" >/dev/null || bad "kubectl replace the pods' status"
DNS_IP=10.96.0.10
kc get services -A >"$tmp/services.txt"
sed 's/^/   /' "$tmp/services.txt"
WEB_IP=$(awk '$2 == "web" { print $4 }' "$tmp/services.txt")
# One connection, the answer's first word ("-" when none): socat, as an
# interpreter start would cost more than the connection.
first_word() { # FROM HOST:PORT
	_w=$(in_ns "$1" timeout 2 socat -T 1 -u "TCP:$2,connect-timeout=1" - 2>/dev/null | head -n 1)
	echo "${_w%% *}" | grep . || echo -
}
answers() { first_word "$1" "$2:80" | grep -q "^web-"; }
until_ok 10 answers frontend "$WEB_IP" && until_ok 5 answers intruder "$WEB_IP" ||
	bad "ClusterIP $WEB_IP does not answer on both nodes: $(tail -3 "$tmp/agent-n1.log")"
good "web $WEB_IP:80 answers on node1 (frontend) and node2 (intruder); the API server allocated the ClusterIPs"

# ---- 5. cluster DNS ---------------------------------------------------
bold "5. Cluster DNS: bind9 serving the zone node1's agent writes, pods using generated resolv.conf"
DNS_OK=0
if command -v named >/dev/null; then
	until_ok 10 grep -q "^web.default.svc" "$tmp/cluster.local.zone" || bad "node1's agent wrote no zone"
	cat >"$tmp/named.conf" <<EOF
options {
	directory "$tmp"; pid-file "$tmp/named.pid"; session-keyfile "$tmp/session.key";
	managed-keys-directory "$tmp";
	listen-on port 53 { $(ip_of dns); }; listen-on-v6 { none; };
	recursion no; dnssec-validation no; allow-query { any; };
};
controls { };
zone "cluster.local" { type primary; file "$tmp/cluster.local.zone"; };
EOF
	nsenter --net="/run/netns/$(ns dns)" named -g -n 1 -c "$tmp/named.conf" >"$tmp/named.log" 2>&1 &
	PIDS="$PIDS $!"
	for name in web-1 web-2 frontend intruder; do
		mkdir -p "/etc/netns/$(ns "$name")"
		"$K8SNET" dns resolv-conf --dns-policy ClusterFirst --namespace default \
			--cluster-dns "$DNS_IP" --cluster-domain cluster.local \
			--dns-config '{"options":[{"name":"timeout","value":"1"},{"name":"attempts","value":"2"}]}' \
			>"/etc/netns/$(ns "$name")/resolv.conf" || bad "k8snet dns resolv-conf"
	done
	resolves() { in_ns frontend dig +short +time=1 +tries=1 "@$DNS_IP" "web.default.svc.cluster.local" A | grep -q .; }
	until_ok 10 resolves || bad "kube-dns ($DNS_IP) does not answer"
	echo "   frontend's /etc/resolv.conf (generated):"
	sed 's/^/      /' "/etc/netns/$(ns frontend)/resolv.conf"
	for q in web web-nodeport.default kube-dns.kube-system; do
		got=$(ip netns exec "$(ns frontend)" getent hosts "$q")
		if [ -n "$got" ]; then good "frontend: getent hosts $q -> $got"; DNS_OK=1
		else bad "frontend: getent hosts $q found nothing"; DNS_OK=0; fi
	done
	srv=$(in_ns frontend dig +short +time=1 +tries=2 "@$DNS_IP" _http._tcp.web.default.svc.cluster.local SRV)
	[ -n "$srv" ] && good "SRV _http._tcp.web.default.svc.cluster.local -> $srv" ||
		bad "no SRV record for web"
else
	bad "missing: bind9 (named)"
fi

# ---- 6. load spread ---------------------------------------------------
bold "6. How the web Service's connections spread across its endpoints"
if [ $DNS_OK = 1 ]; then target=web.default.svc.cluster.local; else target=$WEB_IP; fi
spread() { # FROM-NS TARGET PORT COUNT
	ip netns exec "$(ns "$1")" python3 - "$2" "$3" "$4" <<'EOF'
import collections, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
count = collections.Counter()
for _ in range(n):
    try:
        c = socket.create_connection((host, port), timeout=1)
        count[c.recv(128).decode().split()[0]] += 1; c.close()
    except Exception:
        count["(failed)"] += 1
print(" ".join("%s=%d" % kv for kv in sorted(count.items())))
EOF
}
got=$(spread frontend "$target" 80 40)
echo "   frontend -> $target:80, 40 connections: $got"
case "$got" in *web-1=*web-2=*) case "$got" in *failed*) bad "some connections failed";; *) good "both endpoints served";; esac ;;
	*) bad "connections did not reach both endpoints" ;; esac
got=$(spread n2 192.168.50.1 30080 20)
echo "   node2 (outside the pod network) -> node1 192.168.50.1:30080 (NodePort), 20 connections: $got"
case "$got" in *failed*) bad "some NodePort connections failed" ;; *web-*) good "NodePort answers from outside" ;;
	*) bad "NodePort did not answer" ;; esac

# ---- 7. NetworkPolicy -------------------------------------------------
bold "7. NetworkPolicy web-from-frontend (kubectl apply): pods app=web accept TCP 8080 only from role=frontend"
kc apply -f "$tmp/policy.json" | sed 's/^/   kubectl apply: /'
refused() { [ "$(first_word intruder "$(ip_of web-1):8080")" = - ]; }
until_ok 10 refused || bad "the agents did not enforce the policy"
web_from_frontend() { case "$2" in web-*) [ "$1" = frontend ] && echo yes || echo no ;; *) echo yes ;; esac; }
echo "   after the policy (no = refused; (!) = not what the policy says):"
matrix "after" web_from_frontend
a=$(first_word frontend "$WEB_IP:80")
b=$(first_word intruder "$WEB_IP:80")
case "$a/$b" in web-*/-) good "through the Service too: frontend gets $a, intruder is refused" ;;
	*) bad "through the Service: frontend got '$a', intruder got '$b'" ;; esac
for i in 1 2; do
	m=$(in_ns api curl -s "http://127.0.0.1:1024$i/metrics" | awk '
		/^kubeproxy_sync_proxy_rules_duration_seconds_count/ { n = $2 }
		/^kubeproxy_sync_proxy_rules_duration_seconds_sum/ { s = $2 }
		/^k8snet_agent_watch_events_total/ { e += $2 }
		END { if (n) printf "%d syncs, %.2f ms each on average, %d watch events", n, s / n * 1000, e }')
	echo "   node$i's agent (/metrics): $m"
done

# ---- 8. teardown ------------------------------------------------------
bold "8. Teardown: CNI DEL for every pod; the agents stop (their rules would stay) and the API server"
for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
grep -q "stay in place" "$tmp/agent-n1.log" && good "node1's agent: SIGTERM, rules left in place (as kube-proxy)"
while read -r name node kns ip labels; do
	cni DEL "$name" "$node" >"$tmp/del" 2>&1 || bad "CNI DEL $name: $(cat "$tmp/del")"
done <"$tmp/pods"
left=$( (ip -n "$(ns n1)" -o link show type veth; ip -n "$(ns n2)" -o link show type veth) | grep -vc ' ul0')
[ "$left" = 0 ] && good "no pod veth left on either node" || bad "$left pod veths left"
allocs=$(for n in n1 n2; do "$K8SNET" ipam list --state "$tmp/varlib-$n/networks/k8snet/k8snet-0.state"; done | grep -c .)
[ "$allocs" = 0 ] && good "no pod address left allocated" || bad "$allocs pod addresses still allocated"

t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ $FAILED = 0 ]; then bold "All shown steps worked, in $t s. Removing everything."
else bold "Some steps FAILED (see above), in $t s. Removing everything."; fi
exit $FAILED
