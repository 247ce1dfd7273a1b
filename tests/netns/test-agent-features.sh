#!/bin/sh
# k8snet-agent, the rest of its surface, real kernel:
#   - the command line refuses bad flags with a message naming them;
#   - credentials: a client certificate (node1), in-cluster config from
#     KUBERNETES_SERVICE_HOST/PORT and the service-account files (node2);
#   - VXLAN mode: pods on two nodes talk over the agent's VXLAN device;
#   - a Node deleted while the agent was down: its route goes at restart;
#   - externalTrafficPolicy Local: the healthCheckNodePort answers 200 with
#     the local endpoint count on the node that has one, 503 on the other;
#   - services other proxies own (service-proxy-name) and headless ones are
#     not programmed; the DNS zone file has every service, headless too, and
#     the reload command runs when it changes;
#   - /metrics carries kube-proxy's names.
set -u
. "$top_srcdir/tests/netns/agent-lib.sh"
agent_world_init features
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

# ---- the command line ---------------------------------------------------------
expect_usage_error() { # WANT-IN-MESSAGE ARGS...
	_want=$1
	shift
	"$AGENT" "$@" >"$TMP/usage.out" 2>&1
	_st=$?
	[ $_st != 0 ] || fail "k8snet-agent $* succeeded"
	grep -q -- "$_want" "$TMP/usage.out" || fail "k8snet-agent $*: no '$_want' in: $(cat "$TMP/usage.out")"
}
expect_usage_error "--node-name is required" --kubeconfig /nonexistent
expect_usage_error "--mode bridge: must be host-gw or vxlan" --node-name n --mode bridge
expect_usage_error "--cluster-cidr 10.244.0.0/33: not a CIDR" --node-name n --cluster-cidr 10.244.0.0/33
expect_usage_error "--service-cidr banana: not a CIDR" --node-name n --service-cidr banana
expect_usage_error "--min-sync-period 1 sec: not a duration" --node-name n --min-sync-period "1 sec"
expect_usage_error "--zone-reload-cmd needs --zone-file" --node-name n --zone-reload-cmd true
expect_usage_error "kubeconfig /nonexistent/kc: No such file" --node-name n --kubeconfig /nonexistent/kc
env -u KUBERNETES_SERVICE_HOST "$AGENT" --node-name n >"$TMP/usage.out" 2>&1 &&
	fail "no kubeconfig and no in-cluster config, yet it started"
grep -q "KUBERNETES_SERVICE_HOST" "$TMP/usage.out" || fail "no in-cluster hint: $(cat "$TMP/usage.out")"
printf 'current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n' >"$TMP/bad.kubeconfig"
expect_usage_error "flow collections" --node-name n --kubeconfig "$TMP/bad.kubeconfig"
ok "bad flags and configurations are refused, naming what is wrong"

# ---- two nodes in VXLAN mode, two kinds of credentials -------------------------
apiserver_start --bookmark-interval 1 --kubeconfig-cert-out "$TMP/kubeconfig-cert"
node_ns_add node1 192.168.77.1
node_ns_add node2 192.168.77.2
N1=$(node_ns node1) N2=$(node_ns node2)
node_create node1 10.244.1.0/24 192.168.77.1
node_create node2 10.244.2.0/24 192.168.77.2
node_create node3 10.244.3.0/24 192.168.77.3
grep -q client-certificate-data "$TMP/kubeconfig-cert" || fail "no client certificate kubeconfig"
KCFG_SAVED=$KCFG
KCFG="$TMP/kubeconfig-cert"
agent_start node1 node1 --mode vxlan --min-sync-period 0 --healthz-address 127.0.0.1:10256 \
	--metrics-address 127.0.0.1:10249 --zone-file "$TMP/cluster.local.zone" \
	--zone-reload-cmd "echo reloaded >> $TMP/reloads"
KCFG=$KCFG_SAVED
# node2: in-cluster configuration (token and CA files, the service variables).
mkdir -p "$TMP/sa"
cp "$TMP/tls/ca.crt" "$TMP/sa/ca.crt"
printf '%s' "$API_TOKEN" >"$TMP/sa/token"
mkdir -p "$TMP/cni-node2" "$TMP/state-node2"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=${API_LISTEN##*:} K8SNET_AGENT_SA_DIR="$TMP/sa" \
	nsenter --net="/run/netns/$CTL" "$AGENT" --node-name node2 --netns "/run/netns/$N2" \
	--cni-conf-dir "$TMP/cni-node2" --state-dir "$TMP/state-node2" --cluster-cidr 10.244.0.0/16 \
	--mode vxlan --min-sync-period 0 --healthz-address 127.0.0.1:10356 \
	--metrics-address 127.0.0.1:10349 >>"$TMP/agent-node2.log" 2>&1 &
AGENT_PID_node2=$!
track $!
wait_until 15 test -s "$TMP/cni-node1/10-k8snet.conflist" || fail "node1 (client certificate) wrote no CNI config"
wait_until 15 test -s "$TMP/cni-node2/10-k8snet.conflist" || fail "node2 (in-cluster config) wrote no CNI config"
ok "a client certificate (node1) and the in-cluster configuration (node2) both work"

vxlan_route() { ip -n "$1" route show "$2" | grep -q "dev k8snet.1"; }
wait_until 10 vxlan_route "$N1" 10.244.2.0/24 || fail "node1 has no VXLAN route to node2: $(ip -n "$N1" route)"
wait_until 10 vxlan_route "$N2" 10.244.1.0/24 || fail "node2 has no VXLAN route to node1"
ip -n "$N1" -d link show k8snet.1 | grep -q "vxlan id 1" || fail "k8snet.1 is not a VXLAN device"
pod_add web1 node1; pod_add client2 node2
serve web1 8080
wait_until 10 probe_is web1 client2 "$(pod_ip web1)" 8080 || fail "client2 (node2) cannot reach web1 (node1) over VXLAN"
ok "VXLAN: node2 reaches a pod on node1 through k8snet.1"

# ---- a Node deleted while the agent is down ------------------------------------
wait_until 10 vxlan_route "$N1" 10.244.3.0/24 || fail "node1 has no route to node3"
agent_kill node1 TERM
kc delete node node3 >/dev/null || fail "kubectl delete node node3"
KCFG="$TMP/kubeconfig-cert"
agent_start node1 node1 --mode vxlan --min-sync-period 0 --healthz-address 127.0.0.1:10256 \
	--metrics-address 127.0.0.1:10249 --zone-file "$TMP/cluster.local.zone" \
	--zone-reload-cmd "echo reloaded >> $TMP/reloads"
KCFG=$KCFG_SAVED
gone() { [ -z "$(ip -n "$1" route show "$2")" ]; }
wait_until 10 gone "$N1" 10.244.3.0/24 || fail "the route to node3 survived the agent's restart"
vxlan_route "$N1" 10.244.2.0/24 || fail "the route to node2 went too"
ok "a Node deleted while its peer's agent was down: the route went at restart, the others stayed"

# ---- services: Local traffic policy, other proxies, headless ----------------------
cat >"$TMP/services.json" <<EOF
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "default"},
  "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
           "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "lb-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "lb"}},
  "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["$(pod_ip web1)"], "conditions": {"ready": true}, "nodeName": "node1"}]},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "other", "namespace": "default",
   "labels": {"service.kubernetes.io/service-proxy-name": "someone-else"}},
  "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "default"},
  "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "db-1", "namespace": "default",
   "labels": {"kubernetes.io/service-name": "db", "service.kubernetes.io/headless": ""}},
  "addressType": "IPv4", "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["10.244.1.77"], "hostname": "db-0", "conditions": {"ready": true}}]}]}
EOF
kc apply -f "$TMP/services.json" >/dev/null || fail "kubectl apply services"
HC=$(kc get service lb -o jsonpath='{.spec.healthCheckNodePort}')
LB_IP=$(kc get service lb -o jsonpath='{.spec.clusterIP}')
OTHER_IP=$(kc get service other -o jsonpath='{.spec.clusterIP}')
[ -n "$HC" ] || fail "the LoadBalancer service got no healthCheckNodePort"
hc() { # NODE-NS IP -> "CODE BODY"
	nsenter --net="/run/netns/$1" curl -s -o "$TMP/hc.body" -w '%{http_code}' "http://$2:$HC/healthz"
}
hc_is() { [ "$(hc "$1" "$2")" = "$3" ]; }
wait_until 10 hc_is "$N1" 192.168.77.1 200 || fail "node1's health check port $HC: $(hc "$N1" 192.168.77.1) $(cat "$TMP/hc.body" 2>/dev/null)"
grep -q '"localEndpoints": 1' "$TMP/hc.body" || fail "node1's health check body: $(cat "$TMP/hc.body")"
grep -q '"name": "lb"' "$TMP/hc.body" || fail "the health check body does not name the service"
wait_until 10 hc_is "$N2" 192.168.77.2 503 || fail "node2's health check port $HC: $(hc "$N2" 192.168.77.2) (no local endpoint: want 503)"
grep -q '"localEndpoints": 0' "$TMP/hc.body" || fail "node2's health check body: $(cat "$TMP/hc.body")"
ok "externalTrafficPolicy Local: port $HC says 200 (1 local endpoint) on node1, 503 on node2"

wait_until 10 probe_is web1 client2 "$LB_IP" 80 || fail "the lb ClusterIP does not answer on node2"
nsenter --net="/run/netns/$N1" nft list map ip k8snet service-ips >"$TMP/map"
grep -q "$LB_IP" "$TMP/map" || fail "lb is not in node1's service map"
grep -q "$OTHER_IP" "$TMP/map" && fail "a service of another proxy ($OTHER_IP) is programmed"
ok "a Service labelled service-proxy-name is left to its proxy; the headless one has no rules"

# ---- a full resync (SIGHUP; --sync-period does the same periodically) --------------
full_count() { metric 127.0.0.1:10249 kubeproxy_sync_full_proxy_rules_duration_seconds_count; }
before=$(full_count)
kill -HUP "$(agent_pid node1)"
full_done() { [ "$(full_count)" -gt "$before" ]; }
wait_until 10 full_done || fail "SIGHUP did not make a full resync ($before -> $(full_count))"
probe_is web1 client2 "$LB_IP" 80 || fail "the lb ClusterIP stopped answering after a full resync"
nsenter --net="/run/netns/$N1" nft list map ip k8snet service-ips | grep -q "$LB_IP" ||
	fail "lb left node1's service map after a full resync"
ok "a full resync (SIGHUP) replaced the tables: the service still answers"

# ---- the DNS zone ----------------------------------------------------------------------
zone_has() { grep -q "$1" "$TMP/cluster.local.zone" 2>/dev/null; }
wait_until 10 zone_has "^lb.default.svc" || fail "no zone record for lb: $(head -30 "$TMP/cluster.local.zone" 2>&1)"
grep "^lb.default.svc" "$TMP/cluster.local.zone" | grep -q "$LB_IP" || fail "lb's record lacks $LB_IP"
wait_until 10 zone_has "^db-0.db.default.svc.*10.244.1.77" || fail "no record for the headless endpoint db-0"
zone_has "^other.default.svc" || fail "the zone lacks the service of another proxy"
wait_until 5 test -s "$TMP/reloads" || fail "the zone reload command did not run"
serial1=$(awk '/SOA/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/ && length($i) >= 8) { print $i; exit } }' "$TMP/cluster.local.zone")
reloads1=$(wc -l <"$TMP/reloads")
kc delete service other >/dev/null
wait_until 10 sh -c "! grep -q '^other.default.svc' '$TMP/cluster.local.zone'" || fail "the zone still has a deleted service"
serial2=$(awk '/SOA/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/ && length($i) >= 8) { print $i; exit } }' "$TMP/cluster.local.zone")
[ -n "$serial1" ] && [ "$serial2" -gt "$serial1" ] || fail "the SOA serial did not grow ($serial1 -> $serial2)"
wait_until 5 sh -c "[ \$(wc -l <'$TMP/reloads') -gt $reloads1 ]" || fail "no reload after the zone changed"
ok "DNS zone: every service (headless too), a new serial and a reload on change"

# ---- metrics ---------------------------------------------------------------------------
nsenter --net="/run/netns/$CTL" curl -s http://127.0.0.1:10249/metrics >"$TMP/metrics"
for m in kubeproxy_sync_proxy_rules_duration_seconds_bucket kubeproxy_network_programming_duration_seconds_count \
	kubeproxy_sync_proxy_rules_last_timestamp_seconds kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds \
	kubeproxy_sync_proxy_rules_no_local_endpoints_total kubeproxy_proxy_healthz_total \
	kubeproxy_sync_full_proxy_rules_duration_seconds_count kubeproxy_sync_partial_proxy_rules_duration_seconds_count \
	k8snet_agent_watch_restarts_total k8snet_agent_objects process_resident_memory_bytes; do
	grep -q "^$m" "$TMP/metrics" || fail "no $m in /metrics"
done
[ "$(awk '$1 == "k8snet_agent_objects{resource=\"services\"}" { print $2 }' "$TMP/metrics")" -ge 2 ] ||
	fail "k8snet_agent_objects does not count the services"
nsenter --net="/run/netns/$CTL" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/livez | grep -q 200 ||
	fail "/livez is not 200"
nsenter --net="/run/netns/$CTL" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/nothing | grep -q 404 ||
	fail "an unknown path is not 404"
ok "/metrics has kube-proxy's names and the agent's own; /livez 200, unknown paths 404"
echo "PASS"
