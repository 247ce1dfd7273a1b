#!/bin/sh
# The `k8snet dns` command line: output and exit codes scripts rely on
# (0 success or valid, 1 invalid or not a cluster name, 2 bad input).
set -u
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# check WANT_RC WANT_STDOUT WANT_STDERR_PART -- ARGS...
check() {
	want_rc=$1 want_out=$2 want_err=$3
	shift 4
	out=$("$k8snet" dns "$@" 2>"$tmp/err"); rc=$?
	if [ -z "$want_err" ]; then err_ok=$([ ! -s "$tmp/err" ] && echo y); else
		err_ok=$(grep -qF -- "$want_err" "$tmp/err" && echo y); fi
	if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] || [ "$err_ok" != y ]; then
		echo "FAIL: k8snet dns $*: rc $rc (want $want_rc)"
		echo "  stdout: $out"; echo "  want:   $want_out"
		echo "  stderr: $(cat "$tmp/err")"; echo "  want:   ${want_err:-(nothing)}"
		status=1
	else
		echo "ok: k8snet dns $*"
	fi
}

nl='
'
check 0 "" "" -- validate label my-name
check 1 "" "must end with an alphanumeric character" -- validate label my-name-
check 1 "" "must start with a lower case letter" -- validate dns1035 1api
check 0 "" "" -- validate subdomain a.example.com
check 0 "" "" -- validate label-key app.kubernetes.io/name
check 1 "" "prefix part must not be empty" -- validate label-key /name
check 0 "" "" -- validate label-value ""
check 1 "" "consecutive hyphens" -- validate port-name a--b
check 2 "" "unknown kind 'colour'" -- validate colour x
check 2 "" "dns validate: expected KIND NAME" -- validate label

check 0 "api.default.svc.cluster.local" "" -- fqdn service api default
check 0 "api.prod.svc.k8s.example" "" -- fqdn service api prod --zone k8s.example.
check 2 "" "service: 'Api'" -- fqdn service Api default
check 0 "_https._tcp.api.default.svc.cluster.local" "" -- fqdn srv https TCP api default
check 0 "db-0.db.default.svc.cluster.local" "" -- fqdn endpoint db-0 db default
check 0 "2001-db8--1.default.pod.cluster.local" "" -- fqdn pod 2001:db8::1 default
check 0 "web-0.web.shop.svc.cluster.local" "" -- fqdn pod-hostname web-0 web shop
check 0 "3.2.1.10.in-addr.arpa" "" -- ptr 10.1.2.3
check 2 "" "not an IPv4 or IPv6 address" -- ptr 10.1.2

check 0 "kind=service${nl}zone=cluster.local${nl}namespace=default${nl}service=api${nl}port=http${nl}protocol=tcp" \
	"" -- parse _http._tcp.api.default.svc.cluster.local.
check 1 "" "not under the zone 'cluster.local'" -- parse www.example.com
check 2 "" "empty label" -- parse a..b

printf 'search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
	> "$tmp/resolv.conf"
check 0 "api.default.default.svc.cluster.local${nl}api.default.svc.cluster.local${nl}api.default.cluster.local${nl}api.default" \
	"" -- candidates api.default --resolv-conf "$tmp/resolv.conf"
check 0 "api.default.svc.cluster.local" "" -- candidates api.default.svc.cluster.local. \
	--resolv-conf "$tmp/resolv.conf"
check 2 "" "--resolv-conf is required" -- candidates api.default

printf 'nameserver 192.0.2.1\nsearch corp.example\noptions timeout:2\n' > "$tmp/node.conf"
check 0 "search web.svc.cluster.local svc.cluster.local cluster.local corp.example x.example${nl}nameserver 10.96.0.10${nl}nameserver 192.0.2.53${nl}options ndots:2 edns0" \
	"" -- resolv-conf --dns-policy ClusterFirst --namespace web --cluster-dns 10.96.0.10 \
	--cluster-domain cluster.local --host-resolv-conf "$tmp/node.conf" \
	--dns-config '{"nameservers":["192.0.2.53"],"searches":["x.example"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]}'
check 0 "search corp.example${nl}nameserver 192.0.2.1${nl}options timeout:2" "" -- \
	resolv-conf --dns-policy ClusterFirst --host-network --namespace web --cluster-dns 10.96.0.10 \
	--cluster-domain cluster.local --host-resolv-conf "$tmp/node.conf"
check 0 "search corp.example${nl}nameserver 192.0.2.1${nl}options timeout:2" \
	"warning: no cluster DNS address" -- resolv-conf --dns-policy ClusterFirst --namespace web \
	--cluster-dns "" --cluster-domain cluster.local --host-resolv-conf "$tmp/node.conf"
check 0 "search d0 d1 d2 d3 d4 d5${nl}nameserver 127.0.0.1" "more than 6 search paths" -- \
	resolv-conf --dns-policy None --namespace web --cluster-dns 10.96.0.10 \
	--cluster-domain cluster.local --legacy-limits \
	--dns-config '{"nameservers":["127.0.0.1"],"searches":["d0","d1","d2","d3","d4","d5","d6"]}'
check 2 "" "dnsPolicy: 'Sometimes' must be" -- resolv-conf --dns-policy Sometimes --namespace web \
	--cluster-dns 10.96.0.10 --cluster-domain cluster.local
check 2 "" "dnsConfig.nameservers[0]: 'x'" -- resolv-conf --dns-policy Default --namespace web \
	--cluster-dns 10.96.0.10 --cluster-domain cluster.local --dns-config '{"nameservers":["x"]}'
check 2 "" "must provide at least one nameserver" -- resolv-conf --dns-policy None --namespace web \
	--cluster-dns 10.96.0.10 --cluster-domain cluster.local
printf 'nameserver\n' > "$tmp/bad.conf"
check 2 "" "bad.conf: line 1: nameserver without an address" -- resolv-conf --dns-policy Default \
	--namespace web --cluster-dns 10.96.0.10 --cluster-domain cluster.local \
	--host-resolv-conf "$tmp/bad.conf"
check 2 "" "--dns-policy is required" -- resolv-conf --namespace web --cluster-dns 10.96.0.10 \
	--cluster-domain cluster.local

cat > "$tmp/svc.json" <<'JSON'
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "default"},
 "spec": {"clusterIP": "10.96.1.1", "ports": [{"name": "http", "port": 80}]}}
JSON
"$k8snet" dns zone --zone cluster.local --ttl 30 "$tmp/svc.json" > "$tmp/zone" || status=1
grep -qx "api.default.svc	IN	A	10.96.1.1" "$tmp/zone" &&
	grep -qx '\$TTL 30' "$tmp/zone" && echo "ok: k8snet dns zone" ||
	{ echo "FAIL: k8snet dns zone"; cat "$tmp/zone"; status=1; }
printf '{"kind":"Service","metadata":{"name":"api","namespace":"default"},"spec":{"ports":[{"port":0}]}}' \
	> "$tmp/bad.json"
check 2 "" "spec.ports[0].port: 0 out of range" -- zone --zone cluster.local "$tmp/bad.json"
check 2 "" "--zone is required" -- zone "$tmp/svc.json"
exit $status
