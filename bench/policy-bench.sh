#!/bin/sh
# NetworkPolicy benchmarks: compile + sync of 1,000 policies over 10,000 pods,
# incremental updates, and TCP connection setup with 10 vs 1,000 policies.
# Needs root; uses throwaway namespaces k8st-pbench-* only.
set -eu
bin="$top_builddir/bench/policy-bench"
[ "$(id -u)" = 0 ] || { echo "SKIP: policy benchmarks need root"; exit 0; }
p="k8st-pbench-$$"
cleanup() { for n in node cli srv sync; do ip netns del "$p-$n" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
for n in node cli srv sync; do ip netns add "$p-$n"; done
ip -n "$p-node" link add br0 type bridge
ip -n "$p-node" link set br0 up
ip netns exec "$p-node" sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
i=0
for n in srv cli; do
	i=$((i + 1))
	ip -n "$p-node" link add "v$n" type veth peer name eth0 netns "$p-$n"
	ip -n "$p-node" link set "v$n" master br0 up
	ip -n "$p-$n" addr add "10.250.0.$((i + 1))/24" dev eth0
	ip -n "$p-$n" link set eth0 up
	ip -n "$p-$n" link set lo up
done
echo "== NetworkPolicy: compile and sync (nftables, one batch)"
"$bin" sync "/run/netns/$p-sync"
echo "== NetworkPolicy: connection setup does not grow with policies"
for n in 10 1000 10 1000; do  # interleaved: the machine may be busy
	"$bin" conn "/run/netns/$p-node" "/run/netns/$p-cli" "/run/netns/$p-srv" "$n"
done
