#!/bin/sh
# A real container runtime: Debian's podman with its CNI backend pointed at
# k8snet-cni, inside a throwaway node namespace.  One container serves HTTP,
# a second one fetches from it by the address k8snet-cni gave the first.
# Settings from CNI.md: runc (crun refuses the hybrid cgroup layout here),
# cgroupfs, explicit ulimits, a private CONTAINERS_CONF, vfs storage in a
# temporary root, an image made from busybox-static with no registry.
set -u
. "$top_srcdir/tests/netns/cni-lib.sh"
require_root
for t in podman runc busybox; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed (dev.sh deps installs it)"; exit 77; }
done
BB=$(command -v busybox)
file -L "$BB" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BB" 2>&1 | grep -q 'not a dynamic' || { echo "SKIP: busybox is not static"; exit 77; }

netns_add node; NODE=$NETNS
mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/www" "$TMP/rootfs/etc" "$TMP/rootfs/proc" \
	"$TMP/rootfs/sys" "$TMP/rootfs/dev" "$TMP/rootfs/tmp" "$TMP/plugins" "$TMP/netd"
cp "$BB" "$TMP/rootfs/bin/busybox"
for a in sh ip nc printf grep httpd cat sleep; do ln -s busybox "$TMP/rootfs/bin/$a"; done
echo "hello from k8snet-cni" >"$TMP/rootfs/www/index.html"
tar -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" .

# The plugin directory podman searches: k8snet-cni, run from the build tree.
cat >"$TMP/plugins/k8snet-cni" <<EOC
#!/bin/sh
LD_LIBRARY_PATH="$LD_LIBRARY_PATH" exec "$CNI_BIN" "\$@"
EOC
chmod +x "$TMP/plugins/k8snet-cni"
cat >"$TMP/netd/k8snet.conflist" <<EOC
{"cniVersion": "1.0.0", "name": "k8snet", "plugins": [
  {"type": "k8snet-cni", "bridge": "pod0", "isGateway": true, "isDefaultGateway": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.92.0.0/24"}]], "dataDir": "$TMP/ipam"}}]}
EOC
cat >"$TMP/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$TMP/plugins"]
network_config_dir = "$TMP/netd"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOC
export CONTAINERS_CONF="$TMP/containers.conf"
pm() { nsenter --net="/run/netns/$NODE" podman --root "$TMP/root" --runroot "$TMP/run" \
	--storage-driver vfs "$@"; }
podman_cleanup() { pm rm -f -t 0 -a >/dev/null 2>&1; pm rmi -a -f >/dev/null 2>&1; }
CNI_EXTRA_CLEANUP=podman_cleanup

pm import -q "$TMP/rootfs.tar" localhost/k8st-bb:1 >/dev/null || fail "podman import"
if ! pm run -d --name web --network k8snet localhost/k8st-bb:1 \
	httpd -f -p 8080 -h /www >"$TMP/run.out" 2>&1; then
	echo "podman could not run a container on this machine:"; cat "$TMP/run.out"
	fail "podman run"
fi
ip=$(pm inspect -f '{{(index .NetworkSettings.Networks "k8snet").IPAddress}}' web)
case "$ip" in 10.92.0.*) ;; *) fail "container address '$ip' is not from k8snet-cni's pool" ;; esac
ok "podman container 'web' got $ip from k8snet-cni"
# (busybox-static's wget crashes in this Debian build, so HTTP by hand over nc.)
got=$(pm run --rm --network k8snet localhost/k8st-bb:1 \
	sh -c "ip addr show eth0 | grep -q 'inet 10.92.0.' &&
	       printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $ip 8080")
echo "$got" | grep -q "hello from k8snet-cni" || fail "second container could not fetch from $ip: '$got'"
ok "a second container reached the first over HTTP"
pm rm -f -t 0 web >/dev/null || fail "podman rm"
[ -z "$(ip -n "$NODE" -o link show type veth)" ] || fail "podman rm left a veth"
echo "PASS: podman runs containers on k8snet-cni"
