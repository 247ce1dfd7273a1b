#!/bin/sh
# k8snet trace: the first line and exit codes scripts rely on (0 allow,
# 1 deny, 3 mixed, 2 bad input), --json, several files, names through the
# source pod's search list.  No kernel: runs without root.
set -eu
k8snet="$top_builddir/examples/k8snet"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
def pod(ns, name, ip, labels, node="n1"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "c"}]},
            "status": {"podIP": ip}}
ep = lambda ip, node, ready=True: {"addresses": [ip], "conditions": {"ready": ready}, "nodeName": node}
pods = {"kind": "List", "items": [
    {"kind": "Namespace", "metadata": {"name": "shop"}},
    {"kind": "Namespace", "metadata": {"name": "other"}},
    pod("shop", "client", "10.0.0.3", {"role": "client"}),
    pod("other", "intruder", "10.0.1.9", {"role": "client"}, "n2"),
    pod("shop", "web-1", "10.0.0.11", {"app": "web", "v": "1"}),
    pod("shop", "web-2", "10.0.0.12", {"app": "web", "v": "2"}, "n2"),
    {"kind": "NetworkPolicy", "metadata": {"name": "web-from-client", "namespace": "shop"},
     "spec": {"podSelector": {"matchLabels": {"v": "1"}},
              "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}]}},
    {"kind": "NetworkPolicy", "metadata": {"name": "web-2-closed", "namespace": "shop"},
     "spec": {"podSelector": {"matchLabels": {"v": "2"}}, "policyTypes": ["Ingress"]}}]}
svcs = {"kind": "List", "items": [
    {"kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"clusterIP": "10.96.0.80", "ports": [{"port": 80, "targetPort": 8080}]}},
    {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
     "metadata": {"name": "web-a", "namespace": "shop",
                  "labels": {"kubernetes.io/service-name": "web"}},
     "addressType": "IPv4", "endpoints": [ep("10.0.0.11", "n1"), ep("10.0.0.12", "n2")],
     "ports": [{"port": 8080, "protocol": "TCP"}]},
    {"kind": "Service", "metadata": {"name": "one", "namespace": "shop"},
     "spec": {"clusterIP": "10.96.0.81", "ports": [{"port": 80, "targetPort": 8080}]}},
    {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
     "metadata": {"name": "one-a", "namespace": "shop",
                  "labels": {"kubernetes.io/service-name": "one"}},
     "addressType": "IPv4", "endpoints": [ep("10.0.0.11", "n1"), ep("10.0.0.12", "n2", False)],
     "ports": [{"port": 8080, "protocol": "TCP"}]}]}
json.dump(pods, open(d + "/pods.json", "w"))
json.dump(svcs, open(d + "/svcs.json", "w"))
PY
run() { set +e; out=$("$k8snet" trace "$tmp/pods.json" "$tmp/svcs.json" "$@" 2>&1); rc=$?; set -e; }

run --from shop/client --to web --port 80 --protocol TCP
[ $rc = 3 ] && [ "$(echo "$out" | head -1)" = mixed ] || fail "mixed: rc $rc: $out"
echo "$out" | grep -q "^name: web -> web.shop.svc.cluster.local" || fail "name hop: $out"
echo "$out" | grep -q "isolated for ingress by shop/web-2-closed" || fail "policy named: $out"
run --from shop/client --to one --port 80 --protocol TCP
[ $rc = 0 ] && [ "$(echo "$out" | head -1)" = allow ] || fail "allow: rc $rc: $out"
echo "$out" | grep -q "10.0.0.12:8080 shop/web-2: not eligible: not ready" || fail "not ready: $out"
run --from other/intruder --to web.shop --port 80 --protocol TCP
[ $rc = 1 ] && [ "$(echo "$out" | head -1)" = deny ] || fail "intruder: rc $rc: $out"
echo "$out" | grep -q "peer node" || fail "path: $out"
run --from other/intruder --to web --port 80 --protocol TCP
[ $rc = 1 ] && echo "$out" | grep -q "does not resolve" || fail "short name from other ns: $out"
run --from shop/client --to svc:shop/web --port 80 --protocol TCP --json
[ $rc = 3 ] || fail "json rc $rc"
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["verdict"]=="mixed" and d["service"]=="shop/web" and len(d["endpoints"])==2, d' || fail "json: $out"
run --from shop/client --to 10.96.0.80 --port 81 --protocol TCP
[ $rc = 1 ] && echo "$out" | grep -q "no port 81/TCP" || fail "missing port: $out"
for bad in "--from shop/nobody --to web --port 80 --protocol TCP" \
	   "--from shop/client --to web --port 0 --protocol TCP" \
	   "--from shop/client --to web --port 80 --protocol ICMP" \
	   "--from shop/client --to svc:shop/nope --port 80 --protocol TCP" \
	   "--from shop/client --to 'a b' --port 80 --protocol TCP"; do
	# shellcheck disable=SC2086
	eval run $bad
	[ $rc = 2 ] || fail "bad input exit $rc for $bad: $out"
done
echo "PASS: k8snet trace"
