#!/bin/bash
# What a container's network costs under a real runtime:
#   podman run --rm --network NET IMAGE true
# median of N (default 10) with NET = k8snet-cni, the reference chain
# (bridge + host-local + portmap, as podman's own default network) and
# none, taking turns run by run, in one throwaway node namespace.  Each
# plugin runs through a wrapper that times it, so the output says what share
# of the network's cost (a run less a --network none run) is the plugins'
# own ADD and DEL, and what is podman's (libcni, the namespace, port
# reservation, teardown).  Same settings as tests/netns/test-cni-podman.sh.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
N=${N:-10}
[ "$(id -u)" = 0 ] || { echo "podman-bench: needs root, skipped"; exit 0; }
for t in podman runc busybox; do
	command -v $t >/dev/null || { echo "podman-bench: no $t, skipped"; exit 0; }
done
for p in bridge host-local portmap; do
	[ -x /usr/lib/cni/$p ] || { echo "podman-bench: no /usr/lib/cni/$p, skipped"; exit 0; }
done
CNI_BIN=$(cd "$top_builddir/examples" && pwd)/k8snet-cni
LIBDIR=$(cd "$top_builddir/lib/.libs" && pwd)
TMP=$(mktemp -d /tmp/k8st-podbench.XXXXXX)
NODE="${K8ST_BENCH_PREFIX:-k8st-pb}-$$"
cleanup() {
	pm rm -f -t 0 -a >/dev/null 2>&1 || true
	pm rmi -a -f >/dev/null 2>&1 || true
	ip netns del "$NODE" 2>/dev/null || true
	rm -rf "$TMP"
}
pm() { nsenter --net="/run/netns/$NODE" podman --root "$TMP/root" --runroot "$TMP/run" \
	--storage-driver vfs "$@"; }
trap cleanup EXIT INT TERM

ip netns add "$NODE"
ip -n "$NODE" link set lo up
mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" \
	"$TMP/rootfs/dev" "$TMP/rootfs/tmp" "$TMP/plugins"
cp "$(command -v busybox)" "$TMP/rootfs/bin/busybox"
for a in sh true; do ln -s busybox "$TMP/rootfs/bin/$a"; done
tar -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" .

# wrapper NAME BINARY: the plugin, timed; one line per command in $TMP/log.
wrapper() {
	cat >"$TMP/plugins/$1" <<EOC
#!/bin/sh
t0=\$(date +%s%N)
LD_LIBRARY_PATH="$LIBDIR" "$2" "\$@"
rc=\$?
t1=\$(date +%s%N)
echo "$1 \$CNI_COMMAND \$(( (t1 - t0) / 1000 ))" >>"$TMP/log"
exit \$rc
EOC
	chmod +x "$TMP/plugins/$1"
}
wrapper k8snet-cni "$CNI_BIN"
wrapper bridge /usr/lib/cni/bridge
wrapper portmap /usr/lib/cni/portmap
# A network directory and a containers.conf per network: podman runs VERSION
# on the plugins of every network it finds, so each run sees its own only.
mkdir -p "$TMP/netd-k8snet" "$TMP/netd-ref"
cat >"$TMP/netd-k8snet/k8snet.conflist" <<EOC
{"cniVersion": "1.0.0", "name": "k8snet", "plugins": [
  {"type": "k8snet-cni", "bridge": "kpod0", "isGateway": true, "isDefaultGateway": true,
   "hairpinMode": true, "ipMasq": true, "capabilities": {"portMappings": true},
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.94.0.0/24"}]],
            "dataDir": "$TMP/ipam"}}]}
EOC
cat >"$TMP/netd-ref/ref.conflist" <<EOC
{"cniVersion": "1.0.0", "name": "ref", "plugins": [
  {"type": "bridge", "bridge": "rpod0", "isGateway": true, "isDefaultGateway": true,
   "hairpinMode": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.95.0.0/24"}]],
            "dataDir": "$TMP/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOC
for net in k8snet ref; do
	cat >"$TMP/containers-$net.conf" <<EOC
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$TMP/plugins", "/usr/lib/cni"]
network_config_dir = "$TMP/netd-$net"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOC
done
cp "$TMP/containers-k8snet.conf" "$TMP/containers-none.conf"
export CONTAINERS_CONF="$TMP/containers-k8snet.conf"
pm import -q "$TMP/rootfs.tar" localhost/k8st-bench:1 >/dev/null

now_us() { echo $(( $(date +%s%N) / 1000 )); }
# run NET: one container, its wall time and its plugins' time (us) appended
# to $TMP/NET.wall and $TMP/NET.plugin.
run() {
	: >"$TMP/log"
	local t0 t1
	t0=$(now_us)
	CONTAINERS_CONF="$TMP/containers-$1.conf" \
		pm run --rm --network "$1" localhost/k8st-bench:1 true >/dev/null 2>"$TMP/err" ||
		{ echo "podman-bench: podman run --network $1 failed:"; cat "$TMP/err"; exit 1; }
	t1=$(now_us)
	echo $((t1 - t0)) >>"$TMP/$1.wall"
	awk '{ s += $3 } END { print s + 0 }' "$TMP/log" >>"$TMP/$1.plugin"
	cat "$TMP/log" >>"$TMP/$1.calls"
}
for net in none ref k8snet; do  # warm up
	run $net; : >"$TMP/$net.wall"; : >"$TMP/$net.plugin"; : >"$TMP/$net.calls"
done
i=0
while [ $i -lt "$N" ]; do
	# Taking turns, in a rotating order: drift hits all three alike.
	case $((i % 3)) in
	0) order="none ref k8snet" ;; 1) order="ref k8snet none" ;; *) order="k8snet none ref" ;;
	esac
	for net in $order; do run $net; done
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'; }
none=$(med "$TMP/none.wall"); ref=$(med "$TMP/ref.wall"); ours=$(med "$TMP/k8snet.wall")
refp=$(med "$TMP/ref.plugin"); oursp=$(med "$TMP/k8snet.plugin")
# The network's cost: the median of the differences round by round (the
# runs of a round are seconds apart, so load drifts less within one).
paste "$TMP/ref.wall" "$TMP/none.wall" | awk '{ print $1 - $2 }' >"$TMP/ref.cost"
paste "$TMP/k8snet.wall" "$TMP/none.wall" | awk '{ print $1 - $2 }' >"$TMP/k8snet.cost"
refc=$(med "$TMP/ref.cost"); oursc=$(med "$TMP/k8snet.cost")
echo "podman run --rm IMAGE true, median of $N (ms):"
printf '  --network none                            %7.1f\n' "$none"
printf '  reference (bridge+host-local+portmap)     %7.1f   plugins %6.1f\n' "$ref" "$refp"
printf '  k8snet-cni                                %7.1f   plugin  %6.1f\n' "$ours" "$oursp"
awk -v rn="$refc" -v on="$oursc" -v rp="$refp" -v op="$oursp" 'BEGIN {
	printf "network cost over --network none (median of round-by-round differences): reference %.1f ms, k8snet-cni %.1f ms (%.2fx less)\n", rn, on, (on > 0 ? rn / on : 0)
	rs = rn > 0 ? 100 * rp / rn : 0; os = on > 0 ? 100 * op / on : 0
	printf "share of the network cost that is the plugins (every command): reference %.0f%%, k8snet-cni %.0f%%\n", rs, os
	printf "the rest (podman, libcni, the namespace, the timing wrapper): reference %.1f ms, k8snet-cni %.1f ms\n", rn - rp, on - op
}'
# Which commands podman ran, per container, and their medians.
for net in ref k8snet; do
	awk -v n="$N" '{ k = $1 " " $2; c[k]++; v[k, c[k]] = $3 }
	END { for (k in c) { m = c[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		printf "    %-22s %4.1f per run, median %.1f ms\n", k, m / n, a[int((m + 1) / 2)] / 1000 } }' "$TMP/$net.calls"
done
echo "(one run of each in turn; the machine may be shared while this runs: compare within this run)"
