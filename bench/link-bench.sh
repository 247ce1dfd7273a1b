#!/bin/sh
# Pod attach/detach latency: libk8snet against Debian's reference CNI bridge
# plugin with host-local IPAM, driven through the CNI protocol (env + stdin),
# both into the same kind of namespaces, N pods on one bridge each, inside
# throwaway node namespaces (never the host's).  Usage: link-bench.sh [N]
set -eu
N=${1:-200}
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
tag="k8sb-$$"
data=$(mktemp -d)
cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$tag-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$data"
}
trap cleanup EXIT
trap "exit 130" INT TERM HUP
{
	echo "netns add $tag-node"
	echo "netns add $tag-cninode"
	i=0; while [ $i -lt "$N" ]; do echo "netns add $tag-pod$i"; i=$((i + 1)); done
} | ip -batch -
echo "== libk8snet: $N pods attached, then detached (ms)"
"$top_builddir/bench/link-bench" "/run/netns/$tag-node" "/run/netns/$tag-pod" "$N" | tee "$data/lib.txt"

plugin=/usr/lib/cni/bridge
if [ ! -x "$plugin" ] || [ ! -x /usr/lib/cni/host-local ]; then
	echo "reference plugin not installed (containernetworking-plugins): no comparison"
	exit 0
fi
echo "== reference: $plugin + host-local, same namespaces, via the CNI protocol (ms)"
# Not exec: the EXIT trap must still remove the namespaces.
python3 "$top_srcdir/bench/link-bench-cni.py" "$tag" "$N" "$data" "$plugin"
