#!/bin/sh
# A real kubectl against the test API server: it lists, creates (YAML and
# JSON files), gets (-o json, -o jsonpath), applies, patches (strategic,
# merge, json), labels, replaces (409 on a stale version), deletes and
# watches (get --watch -o json --output-watch-events in the background).
# Only commands kubectl 1.20 (Debian's kubernetes-client) also has; no
# --validate=false.  KUBECTL=path picks another kubectl.
set -u
. "$top_srcdir/tests/netns/lib.sh"
require_root
py="${PYTHON3:-python3}"
KUBECTL="${KUBECTL:-kubectl}"
command -v "$KUBECTL" >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
command -v "$py" >/dev/null || { echo "SKIP: no python3"; exit 77; }

tmp=$(mktemp -d /tmp/k8st-apisrv-kubectl.XXXXXX)
server=""
watcher=""
cleanup() {
	for p in $watcher $server; do kill "$p" 2>/dev/null; done
	for p in $watcher $server; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
	_k8st_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() { echo "FAIL: $*"; [ -f "$tmp/server.log" ] && sed 's/^/  server: /' "$tmp/server.log"; exit 1; }
expect() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac; }

netns_add apisrv
ip netns exec "$NETNS" "$py" "$top_srcdir/tests/apiserver/apiserver.py" \
	--listen 127.0.0.1:0 --tls-dir "$tmp/tls" --token "k8st-$$-token" \
	--kubeconfig-out "$tmp/kubeconfig" --ready-file "$tmp/ready" \
	--bookmark-interval 1 >"$tmp/server.log" 2>&1 &
server=$!
i=0
while [ ! -s "$tmp/ready" ]; do
	i=$((i + 1))
	[ $i -le 300 ] && kill -0 "$server" 2>/dev/null || fail "the API server did not start"
	sleep 0.1
done
mkdir "$tmp/home"
k() { ip netns exec "$NETNS" env HOME="$tmp/home" KUBECONFIG="$tmp/kubeconfig" "$KUBECTL" "$@"; }
echo "kubectl: $(k version --client -o json 2>/dev/null | tr -d ' \n' | sed 's/.*"gitVersion":"\([^"]*\)".*/\1/')"

# Discovery and version.
out=$(k version -o json) || fail "kubectl version: $out"
contains "$out" '"gitVersion": "v1.32.0-k8snet-test"' "server version"
out=$(k api-resources -o name) || fail "api-resources: $out"
for r in namespaces nodes pods services endpointslices.discovery.k8s.io \
	networkpolicies.networking.k8s.io; do
	contains "$out" "$r" "api-resources"
done
expect "$(k get namespaces -o name | sort | tr '\n' ' ')" \
	"namespace/default namespace/kube-node-lease namespace/kube-public namespace/kube-system " \
	"default namespaces"

# Create from YAML and JSON files.
cat >"$tmp/ns.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: shop
EOF
cat >"$tmp/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
EOF
cat >"$tmp/pod.json" <<'EOF'
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
 "spec": {"nodeName": "node-a",
          "containers": [{"name": "web", "image": "busybox:1.36",
                          "ports": [{"containerPort": 8080}]}]}}
EOF
out=$(k create -f "$tmp/ns.yaml" 2>&1) || fail "create namespace: $out"
expect "$out" "namespace/shop created" "create namespace"
out=$(k create -f "$tmp/svc.yaml" -f "$tmp/pod.json" 2>&1) || fail "create: $out"
expect "$(echo "$out" | tr '\n' ' ')" "service/web created pod/web-1 created " "create"
out=$(k create -f "$tmp/svc.yaml" 2>&1) && fail "a second create succeeded: $out"
contains "$out" "AlreadyExists" "second create"
contains "$out" 'services "web" already exists' "second create"

# Get: -o json, -o jsonpath, tables, selectors.
json=$(k get service web -n shop -o json) || fail "get -o json"
ip=$(echo "$json" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["spec"]["clusterIP"])')
case "$ip" in 10.*) ;; *) fail "ClusterIP '$ip' not allocated from 10.96.0.0/12" ;; esac
expect "$(k get svc web -n shop -o jsonpath='{.spec.type} {.spec.ports[0].protocol} {.spec.ports[0].targetPort}')" \
	"ClusterIP TCP 8080" "defaults"
out=$(k get pods -n shop) || fail "get pods (table)"
contains "$out" "web-1" "table"
contains "$out" "Pending" "table status"
expect "$(k get pods,svc -n shop -l app=web -o name | sort | tr '\n' ' ')" \
	"pod/web-1 service/web " "label selector"
expect "$(k get pods -n shop --field-selector spec.nodeName=node-b -o name)" "" "field selector"

# Apply: create, change, no change.
cat >"$tmp/eps.yaml" <<'EOF'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses: ["10.244.1.5"]
  conditions:
    ready: true
  nodeName: node-a
EOF
cat >"$tmp/np.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-ingress
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: client
    ports:
    - port: 8080
EOF
out=$(k apply -f "$tmp/eps.yaml" -f "$tmp/np.yaml" 2>&1) || fail "apply: $out"
contains "$out" "endpointslice.discovery.k8s.io/web-abc created" "apply"
contains "$out" "networkpolicy.networking.k8s.io/web-ingress created" "apply"
expect "$(k get netpol web-ingress -n shop -o jsonpath='{.spec.policyTypes[0]} {.metadata.generation}')" \
	"Ingress 1" "NetworkPolicy defaults and generation"
sed 's/targetPort: 8080/targetPort: 9090/' "$tmp/svc.yaml" >"$tmp/svc2.yaml"
out=$(k apply -f "$tmp/svc2.yaml" 2>&1) || fail "apply change: $out"
contains "$out" "service/web configured" "apply change"
expect "$(k get svc web -n shop -o jsonpath='{.spec.ports[0].targetPort} {.spec.clusterIP}')" \
	"9090 $ip" "applied change keeps the ClusterIP"
out=$(k apply -f "$tmp/svc2.yaml" 2>&1) || fail "apply again: $out"
contains "$out" "service/web unchanged" "apply without change"
sed 's/10.244.1.5/10.244.1.6/' "$tmp/eps.yaml" >"$tmp/eps2.yaml"
out=$(k apply -f "$tmp/eps2.yaml" 2>&1) || fail "apply slice: $out"
expect "$(k get endpointslice web-abc -n shop -o jsonpath='{.endpoints[0].addresses[0]} {.metadata.generation}')" \
	"10.244.1.6 2" "applied EndpointSlice"

# Patch: strategic (ports merge by port), merge, json.
out=$(k patch svc web -n shop -p '{"spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}}' 2>&1) ||
	fail "strategic patch: $out"
expect "$(k get svc web -n shop -o jsonpath='{.spec.ports[*].port}')" "80 443" "strategic merge by port"
out=$(k patch svc web -n shop --type merge -p '{"metadata":{"annotations":{"owner":"team-a"}}}' 2>&1) ||
	fail "merge patch: $out"
expect "$(k get svc web -n shop -o jsonpath='{.metadata.annotations.owner}')" "team-a" "merge patch"
out=$(k patch endpointslice web-abc -n shop --type json \
	-p '[{"op":"replace","path":"/endpoints/0/addresses/0","value":"10.244.1.9"}]' 2>&1) ||
	fail "json patch: $out"
expect "$(k get endpointslice web-abc -n shop -o jsonpath='{.endpoints[0].addresses[0]}')" \
	"10.244.1.9" "json patch"
out=$(k patch svc missing -n shop --type merge -p '{"metadata":{"labels":{"a":"b"}}}' 2>&1) &&
	fail "patching a missing object succeeded"
contains "$out" 'services "missing" not found' "patch missing"

# Label, and replace with a stale resourceVersion.
k get pod web-1 -n shop -o json >"$tmp/stale.json" || fail "get for replace"
out=$(k label pod web-1 -n shop tier=front 2>&1) || fail "label: $out"
expect "$(k get pods -n shop -l tier=front -o name)" "pod/web-1" "label"
out=$(k replace -f "$tmp/stale.json" 2>&1) && fail "replace with a stale version succeeded"
contains "$out" "the object has been modified" "stale replace"
out=$(k label pod web-1 -n shop tier- 2>&1) || fail "unlabel: $out"
expect "$(k get pods -n shop -l tier -o name)" "" "unlabel"

# Cluster-scoped objects with status.
cat >"$tmp/node.yaml" <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: node-a
spec:
  podCIDR: 10.244.1.0/24
status:
  addresses:
  - type: InternalIP
    address: 192.0.2.10
EOF
out=$(k create -f "$tmp/node.yaml" 2>&1) || fail "create node: $out"
expect "$(k get node node-a -o jsonpath='{.spec.podCIDRs[0]} {.status.addresses[0].address}')" \
	"10.244.1.0/24 192.0.2.10" "node"

# Watch in the background: it must see ADDED, MODIFIED and DELETED.
k get pods -n shop --watch -o json --output-watch-events >"$tmp/watch.out" 2>"$tmp/watch.err" &
watcher=$!
i=0
until grep -q '"web-1"' "$tmp/watch.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the watch printed nothing: $(cat "$tmp/watch.err")"
	sleep 0.1
done
sed 's/web-1/web-2/' "$tmp/pod.json" >"$tmp/pod2.json"
k create -f "$tmp/pod2.json" >/dev/null || fail "create web-2"
k label pod web-2 -n shop stage=canary >/dev/null || fail "label web-2"
out=$(k delete -f "$tmp/pod2.json" 2>&1) || fail "delete: $out"
contains "$out" 'pod "web-2" deleted' "delete"
i=0
events() {
	"$py" - "$tmp/watch.out" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec, pos, out = json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    try:
        ev, pos = dec.raw_decode(text, pos)
    except ValueError:
        break
    if ev["object"]["metadata"]["name"] == "web-2":
        out.append(ev["type"])
print(" ".join(out))
EOF
}
until [ "$(events)" = "ADDED MODIFIED DELETED" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "watch saw '$(events)' for web-2, want 'ADDED MODIFIED DELETED'"
	sleep 0.1
done
kill "$watcher"
wait "$watcher" 2>/dev/null
watcher=""
out=$(k get pod web-2 -n shop 2>&1) && fail "web-2 still there"
contains "$out" 'pods "web-2" not found' "deleted pod"

# The raw API, and deleting the namespace takes its content with it.
out=$(k get --raw /api/v1/namespaces/shop/services/web) || fail "get --raw"
contains "$out" '"kind":"Service"' "get --raw"
out=$(k delete namespace shop 2>&1) || fail "delete namespace: $out"
out=$(k get namespace shop 2>&1) && fail "namespace shop still there: $out"
expect "$(k get pods,svc,endpointslices,netpol -A -o name | grep -c shop)" "0" "namespace content"
out=$(k delete node node-a 2>&1) || fail "delete node: $out"

stats=$(ip netns exec "$NETNS" "$py" "$top_srcdir/tests/apiserver/k8sclient.py" \
	--kubeconfig "$tmp/kubeconfig" GET /_test/stats) || fail "stats"
echo "server stats: $stats"
echo "PASS: kubectl lists, creates, gets, applies, patches, labels, replaces, deletes and watches"
