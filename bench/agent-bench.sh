#!/bin/sh
# k8snet-agent benchmark, with the peer in the same run.  The test API server
# (tests/apiserver) serves 10,000 Services with one EndpointSlice of 5
# endpoints each, 1,000 NetworkPolicies and 10,000 Pods (gen-objects.py);
# one agent programs a node namespace.  Measured:
#   - agent start -> first complete sync (every layer)        bar <= 3 s
#   - one EndpointSlice PATCHed in the API -> its element committed in the
#     kernel, over 200 changes, --min-sync-period 0           bars p50 <= 5 ms, p99 <= 50 ms
#   - resident memory (peak)                                   bar <= 250 MB
#   - CPU while nothing changes, over 10 s                     ~0
#   - peer: `nft -f` of the kube-proxy-shaped ruleset for the same services
#     (kp_nft_gen.py N 5), next to the agent's first NAT sync.
# Environment: AGENT_BENCH_SERVICES (10000), AGENT_BENCH_PODS (10000),
# AGENT_BENCH_POLICIES (1000), AGENT_BENCH_CHANGES (200), KP_MAX (largest N
# for the kube-proxy peer, default 10000: about 2 minutes at 10,000),
# KP_GEN (path of kp_nft_gen.py).  Throwaway namespaces k8st-agent-bench-*.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
. "$top_srcdir/tests/netns/agent-lib.sh"
agent_world_init bench

N=${AGENT_BENCH_SERVICES:-10000}
PODS=${AGENT_BENCH_PODS:-10000}
POLICIES=${AGENT_BENCH_POLICIES:-1000}
CHANGES=${AGENT_BENCH_CHANGES:-200}
KP_MAX=${KP_MAX:-10000}
KP_GEN=${KP_GEN:-}
for g in "$top_srcdir/../shared/bench/kp_nft_gen.py" "$top_srcdir/../../shared/bench/kp_nft_gen.py" \
	/work/shared/bench/kp_nft_gen.py; do
	[ -z "$KP_GEN" ] && [ -f "$g" ] && KP_GEN=$g
done
MISSED=""
bar() { # NAME VALUE LIMIT (numbers; VALUE <= LIMIT)
	if awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }'; then echo "  bar $1: $2 <= $3: met"
	else echo "  bar $1: $2 > $3: MISSED"; MISSED="$MISSED $1"; fi
}
echo "(the machine may be shared: figures are wall-clock on whatever else runs)"

echo "== data set: $N services x 5 endpoints, $PODS pods, $POLICIES policies"
python3 "$top_srcdir/tests/apiserver/gen-objects.py" "$N" "$N" "$PODS" "$POLICIES" \
	--nodes bench-node-0,bench-node-1 >"$TMP/objects.json" || fail "gen-objects.py"
t=$(date +%s%N)
apiserver_start --preload "$TMP/objects.json" --bookmark-interval 60
echo "test API server up with the data set in $(( ($(date +%s%N) - t) / 1000000 )) ms"
node_ns_add bench-node-0 192.168.0.1
node_ns_add bench-node-1 192.168.0.2
NODE=$(node_ns bench-node-0)

echo "== agent start -> first complete sync"
t0=$(date -u +%s.%N)
agent_start bench-node-0 bench-node-0 --min-sync-period 0 --healthz-address 127.0.0.1:10256 \
	--metrics-address 127.0.0.1:10249
PID=$(agent_pid bench-node-0)
LOG="$TMP/agent-bench-node-0.log"
synced_or_dead() { grep -q "first complete sync" "$LOG" || ! kill -0 "$PID"; }
wait_until 120 synced_or_dead
grep -q "first complete sync" "$LOG" || fail "no first complete sync"
grep -E "listed|first sync|first complete|every initial" "$LOG" | sed 's/^/  /'
line=$(grep "first complete sync" "$LOG")
own=$(echo "$line" | sed -n 's/.*first complete sync, \([0-9]*\) ms after start.*/\1/p')
when=$(date -u -d "today ${line%% *}" +%s.%N)
ext=$(awk -v a="$t0" -v b="$when" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
nat_ms=$(sed -n 's/.*Service NAT: first sync in \([0-9.]*\) ms.*/\1/p' "$LOG")
echo "agent start -> first complete sync: $own ms (the agent's clock), $ext ms (exec to log line)"
bar "start-to-first-sync-ms" "$ext" 3000
rss1=$(awk '/VmRSS/ { print $2 }' /proc/$PID/status)

echo "== one EndpointSlice changed in the API -> rules in the kernel ($CHANGES changes)"
nsenter --net="/run/netns/$CTL" "$top_builddir/bench/agent-bench" --kubeconfig "$KCFG" \
	--netns "/run/netns/$NODE" --slice bench-0/svc-0-0 --changes "$CHANGES" | tee "$TMP/latency"
p50=$(sed -n 's/.*committed: p50 \([0-9.]*\) ms.*/\1/p' "$TMP/latency")
p99=$(sed -n 's/.*p99 \([0-9.]*\) ms, max.*/\1/p' "$TMP/latency")
bar "change-p50-ms" "${p50:-999}" 5
bar "change-p99-ms" "${p99:-999}" 50

echo "== memory"
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$PID/status)
rss2=$(awk '/VmRSS/ { print $2 }' /proc/$PID/status)
echo "resident memory: $((rss1 / 1024)) MB after the first sync, $((rss2 / 1024)) MB after the changes, peak $((hwm / 1024)) MB"
bar "peak-rss-MB" "$((hwm / 1024))" 250

echo "== CPU while nothing changes (10 s)"
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' /proc/$PID/stat; }
c1=$(cpu)
sleep 10
c2=$(cpu)
idle=$(awk -v a="$c1" -v b="$c2" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t / 10 * 100 }')
echo "CPU: $((c2 - c1)) ticks in 10 s = $idle % of one core"
bar "idle-cpu-percent" "$idle" 0.5

echo "== peer: nft -f of the kube-proxy-shaped ruleset for the same $N services x 5 endpoints"
if [ -n "$KP_GEN" ] && [ "$N" -le "$KP_MAX" ]; then
	python3 "$KP_GEN" "$N" 5 >"$TMP/kp.nft"
	_ns_new kp
	/usr/bin/time -f "%e %U %S %M" -o "$TMP/kp.time" nsenter --net="/run/netns/$NETNS" nft -f "$TMP/kp.nft" ||
		fail "nft -f of the kube-proxy shape"
	read -r kp_s kp_u kp_sys kp_kb <"$TMP/kp.time"
	echo "nft -f (kube-proxy shape): $kp_s s (user $kp_u s, sys $kp_sys s, peak $((kp_kb / 1024)) MB)"
	echo "agent's first Service NAT sync: $nat_ms ms; its whole start to first complete sync: $ext ms"
	awk -v kp="$kp_s" -v n="$nat_ms" -v e="$ext" 'BEGIN { printf "ratio: kube-proxy shape / agent NAT sync = %.0fx; / agent start-to-sync = %.0fx\n", kp * 1000 / n, kp * 1000 / e }'
else
	echo "skipped (N > KP_MAX=$KP_MAX or no kp_nft_gen.py)"
fi

agent_kill bench-node-0 TERM
if [ -n "$MISSED" ]; then echo "agent-bench: missed:$MISSED"; exit 1; fi
echo "agent-bench: every bar met"
