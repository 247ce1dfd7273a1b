#!/bin/sh
# Cluster in a box: two Kubernetes nodes as network namespaces, pods attached
# by the k8snet-cni plugin, Services through the NAT layer, cluster DNS from
# bind9 serving the zone the DNS layer writes, and a NetworkPolicy, all
# driven by the k8snet command and the plugin, as root, in under 30 s.
#
#   ./dev.sh demo          (or: examples/demo/cluster-in-a-box.sh from a build)
#
# Everything lives in namespaces named kd-<pid>-* and a temporary directory;
# all of it is removed on every exit path.  Exit status: 0 when everything
# the demo shows worked, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}" "${top_builddir:=$top_srcdir}"
K8SNET="$top_builddir/examples/k8snet"
CNI="$top_builddir/examples/k8snet-cni"
export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

[ "$(id -u)" = 0 ] || { echo "cluster-in-a-box: run me as root" >&2; exit 1; }
[ -x "$K8SNET" ] && [ -x "$CNI" ] || { echo "cluster-in-a-box: build first (./dev.sh build)" >&2; exit 1; }

t0=$(date +%s.%N)
tag="kd-$$"
tmp=$(mktemp -d /tmp/k8snet-demo.XXXXXX)
FAILED=0
PIDS=""
PODS=""          # "name node netns ip" lines, in $tmp/pods

# ---- presentation ------------------------------------------------------
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
good() { printf '   ok    %s\n' "$*"; }
bad() { printf '   FAIL  %s\n' "$*"; FAILED=1; }
# Every layer is part of the build: a piece that is missing is a failure.
missing() { bad "missing: $*"; }
has() { "$K8SNET" help "$1" >/dev/null 2>&1; }

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

# ---- 1. nodes ----------------------------------------------------------
bold "1. Two nodes, their pod CIDRs from IPAM, routes between them (host-gw)"
ip netns add "$(ns n1)" && ip netns add "$(ns n2)" || { bad "cannot create namespaces"; exit 1; }
ip -n "$(ns n1)" link add ul0 type veth peer name ul0 netns "$(ns n2)"
i=1
for n in n1 n2; do
	ip -n "$(ns $n)" link set lo up
	ip -n "$(ns $n)" addr add "192.168.50.$i/24" dev ul0
	ip -n "$(ns $n)" link set ul0 up
	"$K8SNET" node setup --bridge-nf --node-netns "/run/netns/$(ns $n)" >/dev/null ||
		bad "k8snet node setup on $n"
	cidr=$("$K8SNET" ipam alloc --state "$tmp/node-cidrs.state" --pool 10.244.0.0/16 \
		--prefix-len 24 --owner "node$i" --ifname "") || bad "node CIDR for node$i"
	eval "CIDR_$n=\$cidr"
	echo "   node$i  underlay 192.168.50.$i  pod CIDR $cidr"
	i=$((i + 1))
done
"$K8SNET" node peer add --mode host-gw --peer-pod-cidr "$CIDR_n2" --peer-ip 192.168.50.2 \
	--node-netns "/run/netns/$(ns n1)" >/dev/null || bad "peer route node1 -> node2"
"$K8SNET" node peer add --mode host-gw --peer-pod-cidr "$CIDR_n1" --peer-ip 192.168.50.1 \
	--node-netns "/run/netns/$(ns n2)" >/dev/null || bad "peer route node2 -> node1"
good "node1 routes $CIDR_n2 via 192.168.50.2; node2 routes $CIDR_n1 via 192.168.50.1"

# ---- 2. pods through k8snet-cni ---------------------------------------
bold "2. Pods attached by the k8snet-cni plugin (CNI ADD, as a runtime calls it)"
for n in n1 n2; do
	eval "cidr=\$CIDR_$n"
	cat >"$tmp/$n.conf" <<EOF
{"cniVersion": "1.1.0", "name": "k8s-pod-network", "type": "k8snet-cni",
 "bridge": "cni0", "isGateway": true, "isDefaultGateway": true, "hairpinMode": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "dataDir": "$tmp/ipam-$n"}}
EOF
done
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
	if CNI_COMMAND=ADD CNI_CONTAINERID="$name" CNI_NETNS="/run/netns/$(ns "$name")" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni in_ns "$node" "$CNI" <"$tmp/$node.conf" \
		>"$tmp/$name.result" 2>&1; then
		ms=$(( ($(date +%s%N) - t1) / 1000000 ))
		ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$tmp/$name.result")
		echo "$name $node $kns $ip $labels" >>"$tmp/pods"
		printf '   %-9s %-6s %-12s %-16s %-18s (ADD %d ms, with nsenter)\n' "$name" "$node" "$kns" "$ip" "$labels" "$ms"
	else
		bad "CNI ADD $name: $(cat "$tmp/$name.result")"
	fi
done <"$tmp/podlist"
ip_of() { awk -v n="$1" '$1 == n { print $4 }' "$tmp/pods"; }
for name in web-1 web-2 frontend intruder; do
	nsenter --net="/run/netns/$(ns "$name")" python3 "$tmp/server.py" "$name" 8080 &
	PIDS="$PIDS $!"     # nsenter execs python: this is the server's own pid
done

# ---- the cluster as kubectl would print it ----------------------------
# ClusterIPs come from the IPAM layer too (the service CIDR is a pool).
svc_ip() {
	"$K8SNET" ipam alloc --state "$tmp/service-cidr.state" --pool 10.96.0.0/12 \
		--owner "$1" --ifname "" ${2:+--ip "$2"} | sed 's#/.*##'
}
DNS_IP=$(svc_ip kube-system/kube-dns 10.96.0.10)
WEB_IP=$(svc_ip default/web)
WEBNP_IP=$(svc_ip default/web-nodeport)
python3 - "$tmp" "$DNS_IP" "$WEB_IP" "$WEBNP_IP" <<'EOF'
import json, sys
tmp, dns_ip, web_ip, webnp_ip = sys.argv[1:5]
pods = [l.split() for l in open(tmp + "/pods")]
nodes = {"n1": "node1", "n2": "node2"}
items = [{"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}
         for ns in ("default", "kube-system")]
for name, node, ns, ip, label in pods:
    k, v = label.split("=")
    items.append({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": name, "namespace": ns, "labels": {k: v}},
                  "spec": {"nodeName": nodes[node], "containers": [{"name": "c", "image": "demo",
                           "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
                  "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
def service(ns, name, ip, ports, typ="ClusterIP"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": typ, "clusterIP": ip, "clusterIPs": [ip], "ports": ports,
                     "selector": {}}}
def slice_(ns, svc, ports, sel):
    eps = [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": nodes[node],
            "targetRef": {"kind": "Pod", "name": name, "namespace": ns}}
           for name, node, pns, ip, label in pods if label == sel and pns == ns]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": svc + "-abcde", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "ports": ports, "endpoints": eps}
http = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
items += [
    service("kube-system", "kube-dns", dns_ip,
            [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]),
    slice_("kube-system", "kube-dns", [{"name": "dns", "port": 53, "protocol": "UDP"},
                                       {"name": "dns-tcp", "port": 53, "protocol": "TCP"}], "k8s-app=kube-dns"),
    service("default", "web", web_ip, http),
    slice_("default", "web", [{"name": "http", "port": 8080, "protocol": "TCP"}], "app=web"),
    service("default", "web-nodeport", webnp_ip, [dict(http[0], nodePort=30080)], "NodePort"),
    dict(slice_("default", "web-nodeport", [{"name": "http", "port": 8080, "protocol": "TCP"}], "app=web"),
         metadata={"name": "web-nodeport-fghij", "namespace": "default",
                   "labels": {"kubernetes.io/service-name": "web-nodeport"}}),
]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(tmp + "/cluster.json", "w"), indent=1)
policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "web-from-frontend", "namespace": "default"},
          "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
                                "ports": [{"protocol": "TCP", "port": 8080}]}]}}
json.dump({"apiVersion": "v1", "kind": "List", "items": items + [policy]},
          open(tmp + "/cluster-policy.json", "w"), indent=1)
EOF

# ---- 3. reachability --------------------------------------------------
APPS="web-1 web-2 frontend intruder"
matrix() { # TITLE EXPECTED-FUNCTION
	printf '   %-10s' "from\\to"
	for d in $APPS; do printf ' %-9s' "$d"; done
	echo
	for s in $APPS; do
		targets=""
		for d in $APPS; do [ "$d" = "$s" ] || targets="$targets $(ip_of "$d"):8080"; done
		# shellcheck disable=SC2086
		in_ns "$s" python3 "$tmp/probe.py" 1 $targets >"$tmp/probe.$s"
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

# ---- 4. services through the NAT layer --------------------------------
bold "4. Services through the NAT layer (k8snet proxy sync on each node)"
NAT=0
if has proxy; then
	NAT=1
	i=1
	for n in n1 n2; do
		eval "cidr=\$CIDR_$n"
		"$K8SNET" proxy sync --node-netns "/run/netns/$(ns $n)" --node-name "node$i" \
			--node-ip "192.168.50.$i" --cluster-cidr 10.244.0.0/16 "$tmp/cluster.json" \
			>"$tmp/proxy.$n" 2>&1 || { bad "k8snet proxy sync on node$i: $(cat "$tmp/proxy.$n")"; NAT=0; }
		i=$((i + 1))
	done
	echo "   kube-dns      ClusterIP $DNS_IP:53 -> dns pod $(ip_of dns):53"
	echo "   web           ClusterIP $WEB_IP:80 -> web-1, web-2 :8080"
	echo "   web-nodeport  NodePort  *:30080 (ClusterIP $WEBNP_IP) -> web-1, web-2 :8080"
else
	missing "the NAT layer is not in this build: no Services (k8snet proxy missing)"
fi

# ---- 5. cluster DNS ---------------------------------------------------
bold "5. Cluster DNS: bind9 serving the zone k8snet dns zone wrote, pods using generated resolv.conf"
DNS_OK=0
if has dns && command -v named >/dev/null; then
	"$K8SNET" dns zone --zone cluster.local "$tmp/cluster.json" >"$tmp/cluster.local.zone" ||
		bad "k8snet dns zone"
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
	# With Services, pods ask the kube-dns ClusterIP; without, the DNS pod itself.
	if [ $NAT = 1 ]; then server=$DNS_IP; else server=$(ip_of dns); fi
	for name in web-1 web-2 frontend intruder; do
		mkdir -p "/etc/netns/$(ns "$name")"
		"$K8SNET" dns resolv-conf --dns-policy ClusterFirst --namespace default \
			--cluster-dns "$server" --cluster-domain cluster.local \
			--dns-config '{"options":[{"name":"timeout","value":"1"},{"name":"attempts","value":"2"}]}' \
			>"/etc/netns/$(ns "$name")/resolv.conf" || bad "k8snet dns resolv-conf"
	done
	i=0
	until in_ns frontend dig +short +time=1 +tries=1 "@$server" "web.default.svc.cluster.local" A 2>/dev/null | grep -q .; do
		i=$((i + 1)); [ $i -lt 40 ] || break; sleep 0.1
	done
	echo "   frontend's /etc/resolv.conf (generated):"
	sed 's/^/      /' "/etc/netns/$(ns frontend)/resolv.conf"
	for q in web web-nodeport.default kube-dns.kube-system; do
		got=$(ip netns exec "$(ns frontend)" getent hosts "$q")
		if [ -n "$got" ]; then good "frontend: getent hosts $q -> $got"; DNS_OK=1
		else bad "frontend: getent hosts $q found nothing"; DNS_OK=0; fi
	done
	srv=$(in_ns frontend dig +short +time=1 +tries=2 "@$server" _http._tcp.web.default.svc.cluster.local SRV)
	[ -n "$srv" ] && good "SRV _http._tcp.web.default.svc.cluster.local -> $srv" ||
		bad "no SRV record for web"
else
	missing "the DNS layer or bind9 (named) is not available"
fi

# ---- 6. load spread ---------------------------------------------------
bold "6. How the web Service's connections spread across its endpoints"
if [ $NAT = 1 ]; then
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
else
	missing "needs the NAT layer"
fi

# ---- 7. NetworkPolicy -------------------------------------------------
bold "7. NetworkPolicy web-from-frontend: pods app=web accept TCP 8080 only from role=frontend"
if has policy; then
	i=1
	pol_ok=1
	for n in n1 n2; do
		"$K8SNET" policy sync --node-netns "/run/netns/$(ns $n)" --node-name "node$i" \
			"$tmp/cluster-policy.json" >"$tmp/policy.$n" 2>&1 ||
			{ bad "k8snet policy sync on node$i: $(cat "$tmp/policy.$n")"; pol_ok=0; }
		i=$((i + 1))
	done
	web_from_frontend() { case "$2" in web-*) [ "$1" = frontend ] && echo yes || echo no ;; *) echo yes ;; esac; }
	if [ $pol_ok = 1 ]; then
		echo "   after the policy (no = refused; (!) = not what the policy says):"
		matrix "after" web_from_frontend
		if [ $NAT = 1 ]; then
			a=$(in_ns frontend python3 "$tmp/probe.py" 1 "$WEB_IP:80" | awk '{print $2}')
			b=$(in_ns intruder python3 "$tmp/probe.py" 1 "$WEB_IP:80" | awk '{print $2}')
			case "$a/$b" in web-*/-) good "through the Service too: frontend gets $a, intruder is refused" ;;
				*) bad "through the Service: frontend got '$a', intruder got '$b'" ;; esac
		fi
	fi
else
	missing "the policy layer is not in this build (k8snet policy missing)"
fi

# ---- 8. teardown through CNI DEL --------------------------------------
bold "8. Teardown: CNI DEL for every pod"
for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
while read -r name node kns ip labels; do
	CNI_COMMAND=DEL CNI_CONTAINERID="$name" CNI_NETNS="/run/netns/$(ns "$name")" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni in_ns "$node" "$CNI" <"$tmp/$node.conf" >"$tmp/del" 2>&1 ||
		bad "CNI DEL $name: $(cat "$tmp/del")"
done <"$tmp/pods"
left=$( (ip -n "$(ns n1)" -o link show type veth; ip -n "$(ns n2)" -o link show type veth) | grep -vc ' ul0')
[ "$left" = 0 ] && good "no pod veth left on either node" || bad "$left pod veths left"
allocs=$(for n in n1 n2; do "$K8SNET" ipam list --state "$tmp/ipam-$n/k8s-pod-network/k8snet-0.state"; done | grep -c .)
[ "$allocs" = 0 ] && good "no pod address left allocated" || bad "$allocs pod addresses still allocated"

t=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")
if [ $FAILED = 0 ]; then bold "All shown steps worked, in $t s. Removing everything."
else bold "Some steps FAILED (see above), in $t s. Removing everything."; fi
exit $FAILED
