#!/bin/sh
# k8snet observe follows the agent's objects (real kernel, real traffic):
#   - k8snet-agent writes STATE_DIR/objects.json (a List, mode 0640) with the
#     pods and policies created through kubectl;
#   - an observe started before a pod existed names that pod's refused
#     connection ("default/intruder"), reading the file again after the
#     agent replaced it;
#   - a broken version of a followed file is reported once on stderr and the
#     objects read before stay in use; a valid version that drops the pod
#     turns its name back into its address.
set -u
. "$top_srcdir/tests/netns/agent-lib.sh"
agent_world_init observe
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
K8SNET="$top_builddir/examples/k8snet"

apiserver_start --bookmark-interval 1
node_ns_add node1 192.168.77.1
N1=$(node_ns node1)
node_create node1 10.244.1.0/24 192.168.77.1
agent_start node1 node1 --min-sync-period 0 --healthz-address 127.0.0.1:10256 \
	--metrics-address 127.0.0.1:10249
OBJ="$TMP/state-node1/objects.json"
wait_until 15 test -s "$TMP/cni-node1/10-k8snet.conflist" || fail "the agent wrote no CNI config"

pod_json() { # NAME LABEL-KEY LABEL-VALUE
	echo "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"$1\", \"namespace\": \"default\",
	 \"labels\": {\"$2\": \"$3\"}}, \"spec\": {\"nodeName\": \"node1\", \"containers\": [{\"name\": \"c\",
	 \"image\": \"busybox\"}]}}"
}
pod_create() { # NAME LABEL-KEY LABEL-VALUE: the namespace, the Pod, its address
	pod_add "$1" node1
	pod_json "$@" >"$TMP/pod-$1.json"
	kc apply -f "$TMP/pod-$1.json" >/dev/null || fail "kubectl apply pod $1"
	kc patch pod "$1" --subresource=status --type=merge \
		-p "{\"status\": {\"phase\": \"Running\", \"podIP\": \"$POD_IP\", \"podIPs\": [{\"ip\": \"$POD_IP\"}]}}" \
		>/dev/null || fail "kubectl patch pod $1 status"
}
# The policy asks for its refusals to be logged (the annotation).
cat >"$TMP/policy.json" <<'JSON'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "web-from-frontend", "namespace": "default",
              "annotations": {"k8snet.io/log-verdicts": "denied"}},
 "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
  "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
               "ports": [{"protocol": "TCP", "port": 8080}]}]}}
JSON
pod_create web app web
WEB_IP=$POD_IP
serve web 8080
kc apply -f "$TMP/policy.json" >/dev/null || fail "kubectl apply the NetworkPolicy"

# ---- the objects file ----------------------------------------------------------
has() { # FILE WORD...: the file is a List holding every word
	python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["kind"] == "List", doc["kind"]
text = json.dumps(doc["items"])
sys.exit(0 if all(w in text for w in sys.argv[2:]) else 1)
PY
}
wait_until 15 has "$OBJ" '"web-from-frontend"' "\"$WEB_IP\"" '"k8snet.io/log-verdicts"' ||
	fail "objects.json lacks the pod or the policy: $(cat "$OBJ" 2>&1 | head -c 2000)"
mode=$(stat -c %a "$OBJ")
[ "$mode" = 640 ] || fail "objects.json has mode $mode, want 640"
python3 -c '
import json, sys
kinds = sorted({i["kind"] for i in json.load(open(sys.argv[1]))["items"]})
assert {"Pod", "NetworkPolicy"} <= set(kinds), kinds
assert "Node" not in kinds, kinds' "$OBJ" || fail "objects.json kinds: $(cat "$OBJ" | head -c 2000)"
logged() { ip netns exec "$N1" nft list ruleset | grep -q 'prefix "k8snet deny ingress default/web-from-frontend"'; }
wait_until 15 logged || fail "the agent did not program the logging rule: $(ip netns exec "$N1" nft list ruleset)"
ok "objects.json: a List (mode 640) with the pod and the policy; the logging rule is in"

# ---- observe follows it --------------------------------------------------------
bound() { ip netns exec "$N1" cat /proc/net/netfilter/nfnetlink_log | grep -q '^ *100 '; }
unbound() { wait_until 5 sh -c "! ip netns exec $N1 cat /proc/net/netfilter/nfnetlink_log | grep -q '^ *100 '"; }
# observe OUT FILE ARGS...: in the background, until its group is bound.
observe() {
	_out=$1 _file=$2
	shift 2
	"$K8SNET" observe --netns "/run/netns/$N1" --json "$@" "$_file" >"$TMP/$_out" 2>"$TMP/$_out.err" &
	OBS_PID=$!
	track $OBS_PID
	wait_until 10 bound || fail "observe did not bind NFLOG group 100: $(cat "$TMP/$_out.err")"
}
observe obs1 "$OBJ" --count 1 --timeout 40
# --netns is observe's own spelling: no "old name" note.
[ ! -s "$TMP/obs1.err" ] || fail "observe --netns wrote to stderr: $(cat "$TMP/obs1.err")"
# A pod created after observe started.
pod_create intruder role other
INTRUDER_IP=$POD_IP
wait_until 15 has "$OBJ" "\"$INTRUDER_IP\"" || fail "objects.json never got the intruder ($INTRUDER_IP)"
wait_until 10 probe_is - intruder "$WEB_IP" 8080 || fail "the intruder reached web despite the policy"
wait_until 10 test -s "$TMP/obs1" || fail "observe printed nothing for the refused connection"
wait "$OBS_PID" || fail "observe failed: $(cat "$TMP/obs1.err")"
untrack "$OBS_PID"
ev=$(head -1 "$TMP/obs1")
echo "$ev" | grep -q '"verdict":"deny","direction":"ingress","source":"default/intruder","destination":"default/web"' ||
	fail "the event does not name the new pod: $ev"
echo "$ev" | grep -q '"port":8080,"policy":"default/web-from-frontend"' || fail "policy: $ev"
ok "observe named a pod created after it started: $ev"

# ---- a followed file that breaks, then drops the pod -----------------------------
# One UDP datagram: exactly one refused packet, one event.
udp_send() { echo x | nsenter --net="/run/netns/$(pod_ns intruder)" socat -u - "UDP:$WEB_IP:8080"; }
cp "$OBJ" "$TMP/edit.json"
unbound || fail "the first observe still holds the group"
observe obs2 "$TMP/edit.json" --count 2 --timeout 40
printf '{"kind": "List", "items": [' >"$TMP/edit.tmp"
mv "$TMP/edit.tmp" "$TMP/edit.json"         # an editor's save: a rename
sleep 0.5                                     # about five looks at the file
n=$(grep -c . "$TMP/obs2.err")
[ "$n" = 1 ] || fail "a broken file gave $n messages, want 1: $(cat "$TMP/obs2.err")"
grep -q "^k8snet: observe: $TMP/edit.json: .*still named with the objects read before" "$TMP/obs2.err" ||
	fail "the message: $(cat "$TMP/obs2.err")"
udp_send || fail "udp send"
wait_until 10 test -s "$TMP/obs2" || fail "observe printed nothing after the broken file"
head -1 "$TMP/obs2" | grep -q '"source":"default/intruder","destination":"default/web"' ||
	fail "after a broken file the old objects should still name the pod: $(head -1 "$TMP/obs2")"
# A valid version without the intruder: its address again.
python3 - "$OBJ" "$TMP/edit.tmp" "$INTRUDER_IP" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["items"] = [i for i in doc["items"] if i.get("status", {}).get("podIP") != sys.argv[3]]
json.dump(doc, open(sys.argv[2], "w"))
PY
mv "$TMP/edit.tmp" "$TMP/edit.json"
sleep 0.3
udp_send || fail "udp send"
wait "$OBS_PID" || fail "observe failed: $(cat "$TMP/obs2.err")"
untrack "$OBS_PID"
[ "$(wc -l <"$TMP/obs2")" = 2 ] || fail "want 2 events: $(cat "$TMP/obs2")"
tail -1 "$TMP/obs2" | grep -q "\"source\":\"$INTRUDER_IP\"" ||
	fail "the pod dropped from the file is still named: $(tail -1 "$TMP/obs2")"
[ "$(grep -c . "$TMP/obs2.err")" = 1 ] || fail "more messages: $(cat "$TMP/obs2.err")"
ok "a broken file: one message, old names kept; a file without the pod: its address"
echo "PASS: observe follows the agent's objects"
