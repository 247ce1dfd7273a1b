#!/bin/sh
# ADD and DEL latency of k8snet-cni and of Debian's bridge + host-local, in
# the same run, over the same number of pods, one node namespace each; the
# two take turns pod by pod (see cni-bench.c).
# Bar (issue 8): k8snet-cni ADD median <= 5 ms and >= 4x faster.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
N=${N:-50}
[ "$(id -u)" = 0 ] || { echo "cni-bench: needs root, skipped"; exit 0; }
[ -x /usr/lib/cni/bridge ] || { echo "cni-bench: no /usr/lib/cni/bridge, skipped"; exit 0; }
BENCH="$top_builddir/bench/cni-bench"
PLUGIN="$top_builddir/examples/k8snet-cni"
TMP=$(mktemp -d /tmp/k8st-cnibench.XXXXXX)
tag="k8st-cb-$$"
cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$tag-"); do ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

for who in ref k8snet base; do
	ip netns add "$tag-$who-node"
	i=1
	while [ $i -le "$N" ]; do ip netns add "$tag-$who-$i"; i=$((i + 1)); done
	[ $who = base ] && continue
	cat >"$TMP/$who.json" <<EOC
{"cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "bench0",
 "isGateway": true, "isDefaultGateway": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.93.0.0/24"}]], "dataDir": "$TMP/ipam-$who"}}
EOC
done
ns=/run/netns/$tag
out=$("$BENCH" --baseline "$ns-base-node" "$tag-base" \
	"$N" "bridge+host-local" /usr/lib/cni/bridge "$TMP/ref.json" "$ns-ref-node" "$tag-ref" \
	k8snet-cni "$PLUGIN" "$TMP/k8snet.json" "$ns-k8snet-node" "$tag-k8snet")
ref=$(echo "$out" | grep '^bridge')
ours=$(echo "$out" | grep '^k8snet')
base=$(echo "$out" | grep '^baseline')
echo "$ref"
echo "$ours"
echo "$base"
med() { echo "$1" | awk -v c="$2" '$2 == c { print $4 }'; }
ra=$(med "$ref" ADD); oa=$(med "$ours" ADD); rd=$(med "$ref" DEL); od=$(med "$ours" DEL)
ex=$(med "$base" exec); su=$(med "$base" startup); dl=$(med "$base" dellink)
pd=$(med "$ours" DEL-raw)
echo "$ours" | grep DEL-raw >/dev/null || pd=0
awk -v ra="$ra" -v oa="$oa" -v rd="$rd" -v od="$od" -v ex="$ex" -v su="$su" -v dl="$dl" -v pd="$pd" 'BEGIN {
	printf "k8snet-cni vs reference: ADD %.1fx faster, DEL %.1fx faster\n", ra / oa, rd / od
	printf "bar (ADD median <= 5 ms and >= 4x): %s\n", (oa <= 5 && ra / oa >= 4) ? "met" : "NOT met"
	# Where a DEL goes (medians, so the parts only roughly add up): the
	# kernel deleting the veth, the plugin starting, and the rest, ours.
	printf "DEL, k8snet-cni: %.2f ms = startup %.2f (exec alone %.2f) + veth delete %.2f (RTM_DELLINK alone) + %.2f ms of our own\n", \
		od, su, ex, dl, od - su - dl
	printf "  pod by pod, DEL less the raw delete right after it: median %.2f ms, so %.2f ms over startup\n", \
		pd, pd - su
	printf "DEL, reference:  %.2f ms = %.2f over exec + veth delete\n", rd, rd - ex - dl
}'
echo "(the machine may be shared while this runs: compare within this run)"
