#!/bin/sh
# Service NAT benchmarks, with the peers in the same run:
#   - our full sync of N services x 5 endpoints into a fresh namespace,
#     a one-service change with N present, peak memory;
#   - `nft -f` of the kube-proxy-shaped ruleset (kp_nft_gen.py N 5);
#   - `nft -f` of our own rendered text;
#   - connection setup time through a ClusterIP with 10 and with the most
#     services.
# Environment: NAT_BENCH_SIZES (default "1000 5000 10000"), KP_MAX (largest N
# for the kube-proxy peer, default 10000: it takes ~2 minutes there; use 5000
# when short of time), KP_GEN (path of kp_nft_gen.py).
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
BIN="$top_builddir/bench/bench-nat"
SIZES="${NAT_BENCH_SIZES:-1000 5000 10000}"
KP_MAX="${KP_MAX:-10000}"
KP_GEN="${KP_GEN:-}"
for g in "$top_srcdir/../shared/bench/kp_nft_gen.py" "$top_srcdir/../../shared/bench/kp_nft_gen.py" \
	/work/shared/bench/kp_nft_gen.py; do
	[ -z "$KP_GEN" ] && [ -f "$g" ] && KP_GEN=$g
done
WORK=$(mktemp -d)
NS=""
cleanup() { for n in $NS; do ip netns del "$n" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
fresh_ns() {  # prints the name of a new namespace with lo up
	n="k8st-natbench-$$-$1"
	ip netns add "$n"; NS="$NS $n"
	ip -n "$n" link set lo up
	echo "$n"
}
drop_ns() { ip netns del "$1"; }
# "%e %M" of one command: seconds and peak KB
timed() { /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || {
	cat "$WORK/err" >&2; echo "FAILED"; return 0; }; cat "$WORK/time"; }

for n in $SIZES; do
	echo "== $n services x 5 endpoints"
	ns=$(fresh_ns "ours-$n")
	"$BIN" --netns "/run/netns/$ns" --services "$n" --endpoints 5 --render "$WORK/own-$n.nft" \
		| tee "$WORK/ours-$n"
	drop_ns "$ns"
	ours=$(sed -n 's/^full sync: .*: \([0-9.]*\) s.*/\1/p' "$WORK/ours-$n")

	ns=$(fresh_ns "own-$n")
	set -- $(timed ip netns exec "$ns" nft -f "$WORK/own-$n.nft")
	drop_ns "$ns"
	echo "nft -f of our own rendered text: ${1} s (user ${2:-?} s, sys ${3:-?} s, ${4:-?} KB)"
	own=$1
	echo "ratio: nft -f own text / our sync = $(echo "$own $ours" | awk '{ printf "%.1f", $1 / $2 }')x"

	if [ -n "$KP_GEN" ] && [ "$n" -le "$KP_MAX" ]; then
		python3 "$KP_GEN" "$n" 5 > "$WORK/kp-$n.nft"
		ns=$(fresh_ns "kp-$n")
		set -- $(timed ip netns exec "$ns" nft -f "$WORK/kp-$n.nft")
		drop_ns "$ns"
		echo "nft -f of the kube-proxy shape: ${1} s (user ${2:-?} s, sys ${3:-?} s, ${4:-?} KB)"
		echo "ratio: kube-proxy shape / our sync = $(echo "$1 $ours" | awk '{ printf "%.0f", $1 / $2 }')x"
	else
		echo "nft -f of the kube-proxy shape: skipped (N > KP_MAX=$KP_MAX or no kp_nft_gen.py)"
	fi
	rm -f "$WORK"/*.nft
done

echo "== per-service counters (--count) against none, same sizes"
n=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
for mode in "" --count; do
	ns=$(fresh_ns "count$mode-$n")
	"$BIN" --netns "/run/netns/$ns" --services "$n" --endpoints 5 --changes 30 $mode \
		| tee "$WORK/count$mode"
	drop_ns "$ns"
done
full() { sed -n 's/^full sync.*: \([0-9.]*\) s.*/\1/p' "$1"; }
one() { sed -n 's/^one-service change.*: median \([0-9.]*\) ms.*/\1/p' "$1"; }
echo "ratio: full sync counting / not = $(echo "$(full "$WORK/count--count") $(full "$WORK/count")" |
	awk '{ printf "%.2f", $1 / $2 }')x, one change counting / not = $(echo \
	"$(one "$WORK/count--count") $(one "$WORK/count")" | awk '{ printf "%.2f", $1 / $2 }')x"

echo "== connection setup through a ClusterIP"
n=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
ns=$(fresh_ns "conn-$n")
ip -n "$ns" addr add 10.128.0.1/32 dev lo
ip -n "$ns" route add 10.96.0.0/12 dev lo
"$BIN" --netns "/run/netns/$ns" --services "$n" --endpoints 5 --changes 1 --connect 2000 \
	| grep "connection setup"
drop_ns "$ns"

echo "== conntrack cleanup: one UDP endpoint replaced with 100,000 entries present"
ns=$(fresh_ns "ct-$n")
"$top_builddir/bench/bench-nat-conntrack" --netns "/run/netns/$ns" --services "$n" --endpoints 5 \
	--entries 100000
drop_ns "$ns"
