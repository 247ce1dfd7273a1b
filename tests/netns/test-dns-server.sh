#!/bin/sh
# The generated zones served by a real DNS server, and a pod resolving through
# the generated resolv.conf.
#
# Two throwaway namespaces joined by a veth pair: "dns" holds bind9's named
# (private config, pid file and working directory in a temp dir, foreground,
# listening only on 10.96.0.10 inside the namespace) serving the cluster zone
# and the in-addr.arpa and ip6.arpa zones that `k8snet dns zone` wrote; "pod" gets the
# resolv.conf that `k8snet dns resolv-conf` wrote, through
# /etc/netns/<pod>/resolv.conf (which `ip netns exec` bind-mounts).  Then dig
# asks for a service A, an SRV, a PTR, a headless endpoint and an ExternalName
# CNAME, and `getent hosts api` in the pod finds the service by its short name
# through the search list.  named's query log then shows that glibc asks for
# exactly the names `k8snet dns candidates` lists, in that order.  Everything
# is removed on every exit path.
set -eu
. "$top_srcdir/tests/netns/lib.sh"
require_root
for tool in named dig named-checkzone nsenter getent; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d /tmp/k8st-dns.XXXXXX)
dns_ns="k8st-dns-$$-1"
pod_ns="k8st-dnspod-$$-2"
named_pid=""
made_etc_netns=""

cleanup() {
	if [ -n "$named_pid" ]; then
		kill "$named_pid" 2>/dev/null || true
		wait "$named_pid" 2>/dev/null || true
	fi
	rm -rf "/etc/netns/$pod_ns"
	[ -z "$made_etc_netns" ] || rmdir /etc/netns 2>/dev/null || true
	rm -rf "$tmp"
	_k8st_cleanup
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

fail() { echo "FAIL: $*"; [ -f "$tmp/named.log" ] && tail -20 "$tmp/named.log"; exit 1; }

netns_add() {
	ip netns add "$1"
	_k8st_ns="$_k8st_ns $1"
}

# --- the network: dns (10.96.0.10) <-> pod (10.96.0.20) --------------------
netns_add "$dns_ns"
netns_add "$pod_ns"
ip -n "$dns_ns" link add k8st-d type veth peer name k8st-p netns "$pod_ns"
ip -n "$dns_ns" addr add 10.96.0.10/24 dev k8st-d
ip -n "$pod_ns" addr add 10.96.0.20/24 dev k8st-p
for ns in "$dns_ns" "$pod_ns"; do
	ip -n "$ns" link set lo up
done
ip -n "$dns_ns" link set k8st-d up
ip -n "$pod_ns" link set k8st-p up

# --- the cluster, as kubectl get -o json prints it -------------------------
cat > "$tmp/cluster.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "kube-dns", "namespace": "kube-system"},
  "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
           "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "api", "namespace": "default"},
  "spec": {"type": "ClusterIP", "clusterIP": "10.96.1.1", "clusterIPs": ["10.96.1.1"],
           "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}},
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "dual", "namespace": "default"},
  "spec": {"clusterIP": "10.96.2.2", "clusterIPs": ["10.96.2.2", "fd00::2"],
           "ipFamilies": ["IPv4", "IPv6"], "ports": [{"port": 443}]}},
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "db", "namespace": "default"},
  "spec": {"clusterIP": "None", "clusterIPs": ["None"],
           "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "db-7xk2p", "namespace": "default",
               "labels": {"kubernetes.io/service-name": "db"}},
  "addressType": "IPv4",
  "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["10.244.0.5"], "hostname": "db-0",
                 "conditions": {"ready": true}},
                {"addresses": ["10.244.0.6"], "hostname": "db-1",
                 "conditions": {"ready": false}}]},
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "ext", "namespace": "default"},
  "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
]}
EOF

"$k8snet" dns zone --zone cluster.local "$tmp/cluster.json" > "$tmp/cluster.local.zone" ||
	fail "k8snet dns zone"
"$k8snet" dns zone --zone cluster.local --reverse in-addr.arpa "$tmp/cluster.json" \
	> "$tmp/in-addr.arpa.zone" || fail "k8snet dns zone --reverse"
"$k8snet" dns zone --zone cluster.local --reverse ip6.arpa "$tmp/cluster.json" \
	> "$tmp/ip6.arpa.zone" || fail "k8snet dns zone --reverse ip6.arpa"
named-checkzone -k fail -n fail ip6.arpa "$tmp/ip6.arpa.zone" || fail "named-checkzone ip6.arpa"
named-checkzone -k fail -n fail cluster.local "$tmp/cluster.local.zone" ||
	fail "named-checkzone cluster.local"
named-checkzone -k fail -n fail in-addr.arpa "$tmp/in-addr.arpa.zone" ||
	fail "named-checkzone in-addr.arpa"

# --- named, private to this test ------------------------------------------
cat > "$tmp/named.conf" <<EOF
options {
	directory "$tmp";
	pid-file "$tmp/named.pid";
	session-keyfile "$tmp/session.key";
	managed-keys-directory "$tmp";
	listen-on port 53 { 10.96.0.10; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	allow-query { any; };
	querylog yes;
};
controls { };
zone "cluster.local" { type primary; file "$tmp/cluster.local.zone"; };
zone "in-addr.arpa" { type primary; file "$tmp/in-addr.arpa.zone"; };
zone "ip6.arpa" { type primary; file "$tmp/ip6.arpa.zone"; };
EOF
nsenter --net="/run/netns/$dns_ns" named -g -n 1 -c "$tmp/named.conf" > "$tmp/named.log" 2>&1 &
named_pid=$!

in_pod() { nsenter --net="/run/netns/$pod_ns" "$@"; }
ask() { in_pod dig +short +time=1 +tries=2 @10.96.0.10 "$@"; }

i=0
until [ "$(ask dns-version.cluster.local TXT 2>/dev/null)" = '"1.1.0"' ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "named did not answer within 10 s"
	kill -0 "$named_pid" 2>/dev/null || fail "named exited"
	sleep 0.2
done

expect() {
	got=$(ask "$@" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || fail "dig $*: got '$got', want '$want'"
	echo "ok: dig $* -> $got"
}
want=10.96.1.1 expect api.default.svc.cluster.local A
want="0 100 80 api.default.svc.cluster.local." expect _http._tcp.api.default.svc.cluster.local SRV
want="api.default.svc.cluster.local." expect -x 10.96.1.1
want="db-0.db.default.svc.cluster.local." expect -x 10.244.0.5
want=fd00::2 expect dual.default.svc.cluster.local AAAA
want=10.96.2.2 expect dual.default.svc.cluster.local A
want="dual.default.svc.cluster.local." expect -x fd00::2
want=10.244.0.5 expect db-0.db.default.svc.cluster.local A
want=10.244.0.5 expect db.default.svc.cluster.local A
want="0 100 5432 db-0.db.default.svc.cluster.local." expect _pg._tcp.db.default.svc.cluster.local SRV
want="db.example.com." expect ext.default.svc.cluster.local CNAME
want="" expect db-1.db.default.svc.cluster.local A
status=$(in_pod dig +time=1 +tries=2 @10.96.0.10 nosuch.default.svc.cluster.local A |
	sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$status" = NXDOMAIN ] || fail "an unknown service gave $status, want NXDOMAIN"
echo "ok: unknown service -> NXDOMAIN"

# --- a pod resolving through the generated resolv.conf --------------------
[ -d /etc/netns ] || made_etc_netns=1
mkdir -p "/etc/netns/$pod_ns"
"$k8snet" dns resolv-conf --dns-policy ClusterFirst --namespace default \
	--cluster-dns 10.96.0.10 --cluster-domain cluster.local \
	--dns-config '{"options":[{"name":"timeout","value":"1"},{"name":"attempts","value":"1"}]}' \
	> "/etc/netns/$pod_ns/resolv.conf" || fail "k8snet dns resolv-conf"
cat "/etc/netns/$pod_ns/resolv.conf"
grep -qx "search default.svc.cluster.local svc.cluster.local cluster.local" \
	"/etc/netns/$pod_ns/resolv.conf" || fail "unexpected search line"

for name in api api.default api.default.svc; do
	got=$(ip netns exec "$pod_ns" getent hosts "$name") || fail "getent hosts $name failed"
	set -- $got
	[ "$1" = 10.96.1.1 ] && [ "$2" = api.default.svc.cluster.local ] ||
		fail "getent hosts $name: got '$got'"
	echo "ok: getent hosts $name -> $got"
done
# A headless endpoint through the search list too.
got=$(ip netns exec "$pod_ns" getent hosts db-0.db) || fail "getent hosts db-0.db failed"
set -- $got
[ "$1" = 10.244.0.5 ] && [ "$2" = db-0.db.default.svc.cluster.local ] ||
	fail "getent hosts db-0.db: got '$got'"
echo "ok: getent hosts db-0.db -> $got"
if ip netns exec "$pod_ns" getent hosts nosuch >/dev/null; then
	fail "getent hosts nosuch found something"
fi
echo "ok: getent hosts nosuch -> not found"
# The names glibc really asked for, in order, are the ones
# `k8snet dns candidates` lists (named logs each query; A only with ahostsv4):
# fewer dots than ndots (search first), at least ndots (as is first), and a
# trailing dot (once).
glibc_asks() {
	"$k8snet" dns candidates "$1" --resolv-conf "/etc/netns/$pod_ns/resolv.conf" \
		> "$tmp/want" || fail "k8snet dns candidates $1"
	before=$(wc -l < "$tmp/named.log")
	if ip netns exec "$pod_ns" getent ahostsv4 "$1" >/dev/null; then fail "$1 resolved"; fi
	sleep 0.2
	tail -n +"$((before + 1))" "$tmp/named.log" |
		sed -n 's/.*query: \([^ ]*\) IN A .*/\1/p' | uniq > "$tmp/got"
	diff -u "$tmp/want" "$tmp/got" || fail "glibc's queries for $1 differ from k8snet dns candidates"
	echo "ok: for $1 glibc asked $(tr '\n' ' ' < "$tmp/got")as k8snet dns candidates says"
}
glibc_asks nosuch.default
glibc_asks a.b.c.d.nosuch.default
glibc_asks nosuch.default.svc.cluster.local.
echo "PASS: named served the generated zones; the pod resolved 'api' through its search list"
