#!/bin/sh
# A real container runtime: Debian's podman with its CNI backend pointed at
# k8snet-cni, inside a throwaway node namespace.  One container serves HTTP,
# a second one fetches from it by the address k8snet-cni gave the first.
# Published ports as podman passes them (the portMappings capability):
# `-p 127.0.0.1:X:80` answers on 127.0.0.1 only, `-p Y:80` on the node's
# addresses and on 127.0.0.1, from the node, from another container and from
# the container itself (hairpin); `podman rm` leaves no address, veth or
# mapping behind.
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

netns_add p18-podman; NODE=$NETNS
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
   "hairpinMode": true, "capabilities": {"portMappings": true},
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

# A node address besides the bridge's, as a node's uplink would have.
ip -n "$NODE" link add up0 type veth peer name up1
ip -n "$NODE" link set up1 up
ip -n "$NODE" addr add 192.168.93.1/24 dev up0
ip -n "$NODE" link set up0 up
NODE_IP=192.168.93.1
# http NETNS HOST PORT: the page, from a client in the node namespace.
http() {
	nsenter --net="/run/netns/$1" timeout 5 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
c.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
out = b""
while True:   # headers and body may come in separate segments
    d = c.recv(4096)
    if not d:
        break
    out += d
print(out.decode())' "$2" "$3" 2>/dev/null
}
hello() { echo "$1" | grep -q "hello from k8snet-cni"; }

pm import -q "$TMP/rootfs.tar" localhost/k8st-bb:1 >/dev/null || fail "podman import"
if ! pm run -d --name web --network k8snet -p 127.0.0.1:18080:8080 -p 18081:8080 \
	localhost/k8st-bb:1 httpd -f -p 8080 -h /www >"$TMP/run.out" 2>&1; then
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

hello "$(http "$NODE" 127.0.0.1 18080)" || fail "-p 127.0.0.1:18080:8080: no answer on 127.0.0.1"
hello "$(http "$NODE" $NODE_IP 18080)" && fail "-p 127.0.0.1:18080:8080 answers on $NODE_IP too"
hello "$(http "$NODE" 127.0.0.1 18081)" || fail "-p 18081:8080: no answer on 127.0.0.1"
hello "$(http "$NODE" $NODE_IP 18081)" || fail "-p 18081:8080: no answer on the node's address"
ok "published ports: 127.0.0.1:18080 on 127.0.0.1 only, 18081 on 127.0.0.1 and $NODE_IP"
got=$(pm run --rm --network k8snet localhost/k8st-bb:1 \
	sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $NODE_IP 18081")
echo "$got" | grep -q "hello from k8snet-cni" || fail "another container through $NODE_IP:18081: '$got'"
got=$(pm exec web sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $NODE_IP 18081")
echo "$got" | grep -q "hello from k8snet-cni" || fail "web to its own published port: '$got'"
ok "hairpin: another container and the container itself through $NODE_IP:18081"
# A second container may not take a port the first holds; its failure
# leaves the first one's mapping.
pm run -d --name web2 --network k8snet -p 18081:8080 localhost/k8st-bb:1 \
	httpd -f -p 8080 -h /www >"$TMP/run2.out" 2>&1 &&
	fail "a second container took 18081 too"
grep -q "held by k8snet/" "$TMP/run2.out" || fail "the refusal does not name the holder: $(cat "$TMP/run2.out")"
pm rm -f -t 0 web2 >/dev/null 2>&1
hello "$(http "$NODE" $NODE_IP 18081)" || fail "web lost 18081 when web2 was refused"
ok "a second container asking for 18081 is refused, naming the holder; web keeps it"

held=$("$top_builddir/examples/k8snet" ipam list --state "$TMP"/ipam/k8snet/k8snet-0.state) &&
	echo "$held" | grep -q "$ip" || fail "k8snet ipam list does not show web's $ip: '$held'"
pm rm -f -t 0 web >/dev/null || fail "podman rm"
[ -z "$(ip -n "$NODE" -o link show type veth | grep -v " up[01]@")" ] || fail "podman rm left a veth"
if ip netns exec "$NODE" nft list table inet k8snet-hostports 2>/dev/null | grep -q elements; then
	fail "podman rm left a mapping: $(ip netns exec "$NODE" nft list table inet k8snet-hostports)"
fi
hello "$(http "$NODE" 127.0.0.1 18081)" && fail "18081 still answers after podman rm"
ls "$TMP"/ipam/k8snet/k8snet-*.state >/dev/null 2>&1 || fail "no IPAM state in $TMP/ipam/k8snet"
for f in "$TMP"/ipam/k8snet/k8snet-*.state; do
	left=$("$top_builddir/examples/k8snet" ipam list --state "$f") || fail "k8snet ipam list $f"
	[ -z "$left" ] || fail "podman rm left addresses in $f: $left"
done
ok "podman rm left no address, veth or mapping"
echo "PASS: podman runs containers on k8snet-cni"
