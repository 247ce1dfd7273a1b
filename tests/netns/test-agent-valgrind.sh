#!/bin/sh
# k8snet-agent under valgrind: the unit tests, then the daemon through a
# workout (lists, watch events of every kind, a dropped stream, a 410, the
# API server gone and back, health-check ports, the zone file, /metrics,
# SIGTERM).  No error, no definite or indirect leak.
set -u
. "$top_srcdir/tests/netns/agent-lib.sh"
agent_world_init valgrind
VALGRIND=${VALGRIND:-valgrind}
command -v "$VALGRIND" >/dev/null || { echo "SKIP: no valgrind"; exit 77; }
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
VG="$VALGRIND --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"

CK_FORK=no $VG --log-file="$TMP/vg-unit.log" "$top_builddir/tests/agent/test-agent-unit" >"$TMP/unit.out" 2>&1 ||
	fail "the unit tests under valgrind: $(tail -20 "$TMP/vg-unit.log")"
ok "unit tests: valgrind clean"

# The binary itself, not libtool's wrapper script.
[ -x "$top_builddir/examples/.libs/k8snet-agent" ] && AGENT="$top_builddir/examples/.libs/k8snet-agent"
apiserver_start --bookmark-interval 1
node_ns_add node1 192.168.77.1
node_create node1 10.244.1.0/24 192.168.77.1
node_create node2 10.244.2.0/24 192.168.77.2
AGENT_WRAPPER="$VG --log-file=$TMP/vg-agent.log"
agent_start node1 node1 --min-sync-period 0 --healthz-address 127.0.0.1:10256 \
	--metrics-address 127.0.0.1:10249 --zone-file "$TMP/zone" --zone-reload-cmd true
AGENT_WRAPPER=
healthy() { nsenter --net="/run/netns/$CTL" curl -sf http://127.0.0.1:10256/healthz; }
wait_until 120 healthy || fail "the agent under valgrind never synced"

cat >"$TMP/objects.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "default", "labels": {"app": "web"}},
  "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 8080}]}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
  "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl", "namespace": "default"},
  "spec": {"clusterIP": "None", "ports": [{"port": 53, "protocol": "UDP"}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "web-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"},
   "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2030-01-01T00:00:00Z"}},
  "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true}, "nodeName": "node1"}]},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": "default"},
  "spec": {"podSelector": {"matchLabels": {"app": "web"}},
           "ingress": [{"ports": [{"port": "http"}]}]}}]}
EOF
kc apply -f "$TMP/objects.json" >/dev/null || fail "kubectl apply"
kc patch pod p1 --subresource=status --type=merge \
	-p '{"status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]}}' >/dev/null
HC=$(kc get service web -o jsonpath='{.spec.healthCheckNodePort}')
hc200() { nsenter --net="/run/netns/$(node_ns node1)" curl -sf "http://192.168.77.1:$HC/" >/dev/null; }
wait_until 60 hc200 || fail "the health check port never said 200"
wait_until 60 grep -q "^web.default.svc" "$TMP/zone" || fail "no zone written"
kc label node node2 topology.kubernetes.io/zone=z2 >/dev/null
kc delete node node2 >/dev/null
api_test POST drop-watches >/dev/null
sleep 2
kc delete networkpolicy np >/dev/null
api_test POST compact >/dev/null
api_test POST drop-watches >/dev/null
sleep 3
apiserver_stop TERM
sleep 2
apiserver_start --bookmark-interval 1
kc delete service web >/dev/null
kc delete endpointslice web-1 >/dev/null
wait_until 60 sh -c "! grep -q '^web.default.svc' '$TMP/zone'" || fail "the agent under valgrind missed the deletion"
nsenter --net="/run/netns/$CTL" curl -s http://127.0.0.1:10249/metrics >/dev/null
agent_kill node1 TERM
st=$?
[ $st = 0 ] || fail "the agent under valgrind exited $st: $(grep -v '^==[0-9]*== *$' "$TMP/vg-agent.log" | grep -A24 'uninitialised\|Invalid\|definitely lost\|indirectly lost' | head -80)"
grep -q "ERROR SUMMARY: 0 errors" "$TMP/vg-agent.log" || fail "valgrind: $(grep -A20 'ERROR SUMMARY' "$TMP/vg-agent.log" | head -40)"
ok "the daemon through lists, events, drops, a 410, a restarted API server and SIGTERM: valgrind clean"
echo "PASS"
