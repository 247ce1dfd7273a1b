#!/bin/sh
# The README's main command must keep working: run the cluster-in-a-box demo
# and require success, the 30 s budget, and nothing left behind.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in named dig python3 nsenter kubectl; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
log=$(mktemp /tmp/k8st-demo.XXXXXX)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
top_srcdir="$top_srcdir" top_builddir="$top_builddir" sh "$top_srcdir/examples/demo/cluster-in-a-box.sh" >"$log" 2>&1
status=$?
took=$(( $(date +%s) - start ))
cat "$log"
[ $status = 0 ] || { echo "FAIL: the demo exited $status"; exit 1; }
[ $took -le 30 ] || { echo "FAIL: the demo took $took s (budget 30 s)"; exit 1; }
if ip netns list | grep -q '^kd-'; then echo "FAIL: the demo left namespaces"; exit 1; fi
ls -d /tmp/k8snet-demo.* >/dev/null 2>&1 && { echo "FAIL: the demo left its temporary directory"; exit 1; }
# Its API server and agents run with the temporary directory in their
# command lines: none may outlive the demo.
ps -eo args | grep -q '[k]8snet-demo\.' && { echo "FAIL: the demo left processes: $(ps -eo pid,args | grep '[k]8snet-demo\.')"; exit 1; }
echo "PASS: cluster-in-a-box in $took s, nothing left"
