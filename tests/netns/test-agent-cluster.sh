#!/bin/sh
# k8snet-agent end to end, real kernel, real traffic: one test API server
# (driven with kubectl), two node namespaces each with its own agent, pods
# attached by k8snet-cni with the configuration the agents wrote.
#   - a Node created in the API makes the other node route to its podCIDR;
#   - a Service's ClusterIP answers on both nodes; scaling its EndpointSlice
#     moves the traffic; a NetworkPolicy turns a connection off and deleting
#     it turns it back on;
#   - the API server restarted mid-watch, a 410 (history compacted while an
#     agent was away) and a dropped stream each end with the node correct;
#   - an agent killed with -9 and restarted: no failed connection to the
#     Service meanwhile; SIGTERM leaves the rules in place.
set -u
. "$top_srcdir/tests/netns/agent-lib.sh"
agent_world_init cluster
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

H1=127.0.0.1:10256 M1=127.0.0.1:10249 H2=127.0.0.1:10356 M2=127.0.0.1:10349
apiserver_start --bookmark-interval 1
node_ns_add node1 192.168.77.1
node_ns_add node2 192.168.77.2
N1=$(node_ns node1) N2=$(node_ns node2)

route_via() { ip -n "$1" route show "$2" | grep -q "via $3"; }
no_route() { [ -z "$(ip -n "$1" route show "$2")" ]; }

# ---- nodes -------------------------------------------------------------------
node_create node1 10.244.1.0/24 192.168.77.1
agent_start node1 node1 --min-sync-period 0 --healthz-address $H1 --metrics-address $M1
agent_start node2 node2 --min-sync-period 0 --healthz-address $H2 --metrics-address $M2
wait_until 15 test -s "$TMP/cni-node1/10-k8snet.conflist" || fail "node1's agent wrote no CNI config"
grep -q '"subnet":[[:space:]]*"10.244.1.0/24"' "$TMP/cni-node1/10-k8snet.conflist" ||
	fail "node1's CNI config lacks its podCIDR: $(cat "$TMP/cni-node1/10-k8snet.conflist")"
wait_until 10 nsenter --net="/run/netns/$CTL" curl -sf "http://$H1/healthz" ||
	fail "node1's agent never became healthy"
[ ! -e "$TMP/cni-node2/10-k8snet.conflist" ] || fail "node2's agent wrote a CNI config before its Node existed"
no_route "$N1" 10.244.2.0/24 || fail "node1 routes 10.244.2.0/24 before node2 exists"

node_create node2 10.244.2.0/24 192.168.77.2
wait_until 10 route_via "$N1" 10.244.2.0/24 192.168.77.2 || fail "creating node2 did not make node1 route to it"
wait_until 10 route_via "$N2" 10.244.1.0/24 192.168.77.1 || fail "node2 does not route to node1"
wait_until 10 test -s "$TMP/cni-node2/10-k8snet.conflist" || fail "node2's agent wrote no CNI config"
ok "creating Node node2 made node1 route 10.244.2.0/24 via 192.168.77.2 (and node2 route back)"

# ---- pods through k8snet-cni, with the agents' CNI configuration ------------
pod_add web1 node1; pod_add client1 node1
pod_add web2 node2; pod_add client2 node2
case "$(pod_ip web1) $(pod_ip web2)" in
	10.244.1.*" "10.244.2.*) ;;
	*) fail "pods did not get addresses from their node's podCIDR: $(pod_ip web1) $(pod_ip web2)" ;;
esac
serve web1 8080
serve web2 8080
wait_until 10 probe_is web2 client1 "$(pod_ip web2)" 8080 || fail "client1 (node1) cannot reach web2 (node2)"
ok "pods from k8snet-cni: web1 $(pod_ip web1), web2 $(pod_ip web2); node to node works"

# ---- Services ----------------------------------------------------------------
pod_json() { # NAME NODE LABEL-KEY LABEL-VALUE
	echo "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"$1\", \"namespace\": \"default\",
	 \"labels\": {\"$3\": \"$4\"}}, \"spec\": {\"nodeName\": \"$2\", \"containers\": [{\"name\": \"c\",
	 \"image\": \"busybox\", \"ports\": [{\"name\": \"http\", \"containerPort\": 8080}]}]}}"
}
{
	echo '{"apiVersion": "v1", "kind": "List", "items": ['
	pod_json web1 node1 app web; echo ,
	pod_json web2 node2 app web; echo ,
	pod_json client1 node1 role frontend; echo ,
	pod_json client2 node2 role other; echo ,
	echo '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
	 "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}'
	echo ']}'
} >"$TMP/objects.json"
kc apply -f "$TMP/objects.json" >/dev/null || fail "kubectl apply pods and service"
for p in web1 web2 client1 client2; do
	ip=$(pod_ip $p)
	kc patch pod $p --subresource=status --type=merge \
		-p "{\"status\": {\"phase\": \"Running\", \"podIP\": \"$ip\", \"podIPs\": [{\"ip\": \"$ip\"}]}}" \
		>/dev/null || fail "kubectl patch pod $p status"
done
SVC_IP=$(kc get service web -o jsonpath='{.spec.clusterIP}')
[ -n "$SVC_IP" ] || fail "the Service got no ClusterIP"

slice() { # the web EndpointSlice with the given pods (NAME:NODE ...)
	eps=""
	for pn in "$@"; do
		p=${pn%%:*} n=${pn#*:}
		eps="$eps${eps:+,}{\"addresses\": [\"$(pod_ip $p)\"], \"conditions\": {\"ready\": true}, \"nodeName\": \"$n\",
		  \"targetRef\": {\"kind\": \"Pod\", \"name\": \"$p\", \"namespace\": \"default\"}}"
	done
	echo "{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\",
	 \"metadata\": {\"name\": \"web-x1\", \"namespace\": \"default\", \"labels\": {\"kubernetes.io/service-name\": \"web\"},
	 \"annotations\": {\"endpoints.kubernetes.io/last-change-trigger-time\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}},
	 \"addressType\": \"IPv4\", \"ports\": [{\"name\": \"http\", \"port\": 8080, \"protocol\": \"TCP\"}],
	 \"endpoints\": [$eps]}" >"$TMP/slice.json"
	kc apply -f "$TMP/slice.json" >/dev/null || fail "kubectl apply the EndpointSlice"
}
slice web1:node1
wait_until 10 probe_is web1 client1 "$SVC_IP" 80 || fail "ClusterIP $SVC_IP does not answer on node1"
wait_until 10 probe_is web1 client2 "$SVC_IP" 80 || fail "ClusterIP $SVC_IP does not answer on node2"
ok "Service web: ClusterIP $SVC_IP answers on both nodes (web1)"

slice web2:node2
wait_until 10 probe_is web2 client1 "$SVC_IP" 80 || fail "node1 still sends $SVC_IP to web1 after the slice moved"
wait_until 10 probe_is web2 client2 "$SVC_IP" 80 || fail "node2 still sends $SVC_IP to web1 after the slice moved"
for i in 1 2 3 4 5; do
	probe_is web2 client1 "$SVC_IP" 80 || fail "a connection to $SVC_IP did not reach web2"
done
np=$(metric $M1 kubeproxy_network_programming_duration_seconds_count)
[ "${np:-0}" -ge 1 ] || fail "no network programming latency recorded (got '$np')"
ok "scaling the EndpointSlice to web2 moved the traffic on both nodes"

# ---- NetworkPolicy -------------------------------------------------------------
cat >"$TMP/policy.json" <<'EOF'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "web-from-frontend", "namespace": "default"},
 "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
  "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
               "ports": [{"protocol": "TCP", "port": 8080}]}]}}
EOF
probe_is web2 client2 "$(pod_ip web2)" 8080 || fail "client2 cannot reach web2 before the policy"
kc apply -f "$TMP/policy.json" >/dev/null || fail "kubectl apply the NetworkPolicy"
wait_until 10 probe_is - client2 "$(pod_ip web2)" 8080 || fail "the NetworkPolicy did not turn client2 -> web2 off"
probe_is web2 client1 "$(pod_ip web2)" 8080 || fail "the NetworkPolicy turned the frontend off too"
probe_is web2 client1 "$SVC_IP" 80 || fail "the frontend lost the Service under the policy"
probe_is - client2 "$SVC_IP" 80 || fail "client2 reaches web2 through the Service despite the policy"
kc delete networkpolicy web-from-frontend >/dev/null || fail "kubectl delete the NetworkPolicy"
wait_until 10 probe_is web2 client2 "$(pod_ip web2)" 8080 || fail "deleting the NetworkPolicy did not turn client2 -> web2 on"
ok "NetworkPolicy off (client2 refused, frontend allowed), deleted: on again"

# ---- the API server restarts mid-watch --------------------------------------------
restarts_before=$(metric $M1 'k8snet_agent_watch_restarts_total{resource="endpointslices"}')
apiserver_stop TERM
probe_is web2 client1 "$SVC_IP" 80 || fail "service traffic stopped with the API server"
sleep 1
apiserver_start --bookmark-interval 1
slice web1:node1
wait_until 20 probe_is web1 client1 "$SVC_IP" 80 || fail "node1 missed a change after the API server restarted"
wait_until 10 probe_is web1 client2 "$SVC_IP" 80 || fail "node2 missed a change after the API server restarted"
restarts_after=$(metric $M1 'k8snet_agent_watch_restarts_total{resource="endpointslices"}')
[ "$restarts_after" -gt "$restarts_before" ] || fail "no watch restart counted ($restarts_before -> $restarts_after)"
ok "API server restarted mid-watch: both agents resumed and applied the next change"

# ---- 410 Gone: history compacted while node2's agent was away ----------------
cat >"$TMP/extra.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "extra", "namespace": "default"},
  "spec": {"ports": [{"name": "http", "port": 81, "targetPort": 8080}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "extra-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "extra"}},
  "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["WEB1"], "conditions": {"ready": true}, "nodeName": "node1"}]}]}
EOF
sed -i "s/WEB1/$(pod_ip web1)/" "$TMP/extra.json"
kc apply -f "$TMP/extra.json" >/dev/null || fail "kubectl apply extra"
EXTRA_IP=$(kc get service extra -o jsonpath='{.spec.clusterIP}')
wait_until 10 probe_is web1 client2 "$EXTRA_IP" 81 || fail "service extra does not answer on node2"
relists_before=$(metric $M2 'k8snet_agent_relists_total{resource="services"}')
kill -STOP "$(agent_pid node2)"
api_test POST drop-watches >/dev/null
kc delete service extra >/dev/null
kc delete endpointslice extra-1 >/dev/null
slice web2:node2
api_test POST compact >/dev/null
kill -CONT "$(agent_pid node2)"
wait_until 15 probe_is web2 client2 "$SVC_IP" 80 || fail "node2 did not apply the change it missed (410)"
wait_until 10 probe_is - client2 "$EXTRA_IP" 81 || fail "node2 still serves the Service deleted while it was away"
nsenter --net="/run/netns/$N2" nft list map ip k8snet service-ips | grep -q "$EXTRA_IP" &&
	fail "node2's service map still holds $EXTRA_IP"
relists_after=$(metric $M2 'k8snet_agent_relists_total{resource="services"}')
[ "$relists_after" -gt "$relists_before" ] || fail "node2's agent did not relist ($relists_before -> $relists_after)"
ok "410 Gone: node2 relisted, dropped the deleted Service and applied the missed change"

# ---- a dropped stream: node1's agent resumes where it was ----------------------
expired_before=$(metric $M1 'k8snet_agent_watch_expired_total{resource="endpointslices"}')
kill -STOP "$(agent_pid node1)"
api_test POST drop-watches >/dev/null
slice web1:node1
kill -CONT "$(agent_pid node1)"
wait_until 10 probe_is web1 client1 "$SVC_IP" 80 || fail "node1 missed the change made while its stream was cut"
expired_after=$(metric $M1 'k8snet_agent_watch_expired_total{resource="endpointslices"}')
[ "$expired_after" = "$expired_before" ] || fail "a dropped stream caused a relist ($expired_before -> $expired_after)"
ok "dropped stream: node1 resumed from its resourceVersion and applied the missed change"

# ---- kill -9 and restart: no gap ---------------------------------------------------
cat >"$TMP/hammer.py" <<'EOF'
import socket, sys, time
host, port, secs, started = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
ok = bad = 0
end = time.time() + secs
while time.time() < end:
    try:
        c = socket.create_connection((host, port), timeout=1); c.settimeout(1)
        if c.recv(64): ok += 1
        else: bad += 1
        if ok == 1: open(started, "w").close()
        c.close()
    except Exception:
        bad += 1
    time.sleep(0.01)
print(ok, bad)
EOF
nsenter --net="/run/netns/$(pod_ns client1)" python3 "$TMP/hammer.py" "$SVC_IP" 80 12 "$TMP/hammer.started" >"$TMP/hammer.out" &
hammer=$!
wait_until 10 test -e "$TMP/hammer.started" || fail "the traffic did not start"
sleep 0.5
agent_kill node1 KILL
nsenter --net="/run/netns/$N1" nft list table ip k8snet >/dev/null || fail "the NAT table is gone after kill -9"
sleep 0.5
agent_start node1 node1 --min-sync-period 0 --healthz-address $H1 --metrics-address $M1
two_syncs() { [ "$(grep -c 'first complete sync' "$TMP/agent-node1.log")" -ge 2 ]; }
wait_until 10 two_syncs || fail "the restarted agent did not sync"
# The new agent's first sync (it replaces the tables) happened under load.
kill -0 "$hammer" 2>/dev/null || fail "the traffic ended before the restarted agent's first sync"
wait "$hammer"
read -r good bad <"$TMP/hammer.out"
[ "$bad" = 0 ] && [ "$good" -gt 50 ] || fail "service traffic across kill -9 and restart: $good answered, $bad failed"
wait_until 10 nsenter --net="/run/netns/$CTL" curl -sf "http://$H1/healthz" || fail "the restarted agent is not healthy"
slice web2:node2
wait_until 10 probe_is web2 client1 "$SVC_IP" 80 || fail "the restarted agent does not apply changes"
grep -q "peer routes installed by an earlier run" "$TMP/agent-node1.log" || fail "the restarted agent did not adopt its peers"
ok "kill -9 and restart: $good connections answered, none failed; the new agent took over"

# ---- SIGTERM leaves the rules in place ---------------------------------------------
agent_kill node2 TERM || fail "the agent did not exit 0 on SIGTERM"
grep -q "stay in place" "$TMP/agent-node2.log" || fail "no shutdown message"
probe_is web2 client2 "$SVC_IP" 80 || fail "node2's Service rules went with its agent"
route_via "$N2" 10.244.1.0/24 192.168.77.1 || fail "node2's peer route went with its agent"
ok "SIGTERM: the agent exited 0 and node2 still serves $SVC_IP and routes to node1"
echo "PASS"
