#!/usr/bin/env python3
"""Drive the reference CNI bridge plugin (host-local IPAM) through the CNI
protocol: env vars + the network config on stdin, run inside the test node
namespace with nsenter, one ADD per pod namespace then one DEL each; then
print the comparison with the library's numbers (lib.txt from link-bench)."""
import json
import os
import statistics
import subprocess
import sys
import time

tag, n, data, plugin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
node = f"/run/netns/{tag}-cninode"
conf = json.dumps({
    "cniVersion": "1.0.0", "name": "k8sb", "type": "bridge", "bridge": "cni0",
    "isGateway": True,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.251.0.0/16"}]],
             "dataDir": os.path.join(data, "host-local")},
})


def run(command, i):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": f"bench-container-{i}",
           "CNI_NETNS": f"/run/netns/{tag}-pod{i}", "CNI_IFNAME": "eth0",
           "CNI_PATH": os.path.dirname(plugin), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    t = time.perf_counter()
    p = subprocess.run(["nsenter", f"--net={node}", plugin], input=conf.encode(), env=env,
                       capture_output=True)
    ms = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit(f"{command} {i}: {p.stdout.decode()} {p.stderr.decode()}")
    return ms


def stats(v):
    s = sorted(v)
    return s[len(s) // 2], s[(len(s) * 9) // 10]


def nsenter_overhead():
    v = []
    for _ in range(20):
        t = time.perf_counter()
        subprocess.run(["nsenter", f"--net={node}", "/bin/true"], check=True)
        v.append((time.perf_counter() - t) * 1e3)
    return statistics.median(v)


results = {}
results["attach"] = [run("ADD", i) for i in range(n)]
results["detach"] = [run("DEL", i) for i in range(n)]
k = 50 if n >= 100 else max(1, n // 2)
ref = {}
for phase, v in results.items():
    for sl, part in (("all", v), ("first50", v[:k]), ("last50", v[-k:])):
        ref[(phase, sl)] = stats(part)
        print(f"cni {phase} {sl} {ref[(phase, sl)][0]:.3f} {ref[(phase, sl)][1]:.3f}")
print(f"(nsenter + exec of /bin/true alone: {nsenter_overhead():.2f} ms median, "
      "included in every reference figure)")

lib = {}
with open(os.path.join(data, "lib.txt")) as f:
    for line in f:
        _, phase, sl, med, p90 = line.split()
        lib[(phase, sl)] = (float(med), float(p90))
if ("attach-cpu", "all") in lib:
    print("libk8snet attach, CPU time of the calling thread (user+kernel; unaffected by "
          "waiting for a CPU): median/p90 all %.3f/%.3f, first50 %.3f, last50 %.3f ms" % (
              lib[("attach-cpu", "all")] + (lib[("attach-cpu", "first50")][0],
                                            lib[("attach-cpu", "last50")][0])))
print()
print(f"{'':16} {'libk8snet med/p90':>20} {'bridge+host-local med/p90':>28} {'ratio (median)':>15}")
for phase in ("attach", "detach"):
    for sl in ("all", "first50", "last50"):
        a, b = lib[(phase, sl)], ref[(phase, sl)]
        print(f"{phase + ' ' + sl:16} {a[0]:9.3f} /{a[1]:8.3f} {b[0]:14.3f} /{b[1]:10.3f} "
              f"{b[0] / a[0]:12.1f}x")
med = lib[("attach", "all")][0]
print(f"\nbar: library attach median {med:.3f} ms <= 2 ms: {'PASS' if med <= 2.0 else 'FAIL'}")
for who, d in (("libk8snet", lib), ("reference", ref)):
    g = d[("attach", "last50")][0] / d[("attach", "first50")][0]
    print(f"{who}: attach median last50/first50 = {g:.2f}")
