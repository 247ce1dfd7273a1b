#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Property test for k8snet-cni (issue 13).

Four runners drive random ADD, DEL, CHECK and GC, in parallel, over 20
container IDs, each ADD with random portMappings, for DURATION seconds
(25 by default, 120 under `make check-long`).  After every step the state
the plugin left is checked against what the runners know:

  - no address is held twice, no key holds two;
  - every mapping the kernel holds belongs to a container that is live (or
    busy: its command is in flight), and points at that container's address;
  - every live container holds one address and exactly its mappings;
  - a deleted container holds nothing.

The check observes the node between commands: it takes the network's lock
exclusively, as GC does, so that no ADD or DEL is half done while it reads
the IPAM state and the kernel; a container whose command finished but whose
runner has not yet recorded it is left out of that check.  At the end every
container is deleted, and the IPAM state and the hostPort map must be empty.

Host ports come from a range of 100 per container, so that containers never
ask for the same port: today's hostPort map is keyed by protocol and port
alone, and a DEL removes its keys whoever holds them.
"""
import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ["top_builddir"]
PLUGIN = os.path.join(BUILD, "examples", "k8snet-cni")
# The binary itself, not libtool's wrapper script (which costs more than
# the plugin): it finds the library through LD_LIBRARY_PATH.
K8SNET = os.path.join(BUILD, "examples", ".libs", "k8snet")
if not os.access(K8SNET, os.X_OK):
    K8SNET = os.path.join(BUILD, "examples", "k8snet")
os.environ["LD_LIBRARY_PATH"] = os.path.join(BUILD, "lib", ".libs") + \
    (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else "")
LONG = os.environ.get("K8SNET_LONG") == "1"
DURATION = float(os.environ.get("DURATION", 120 if LONG else 25))
RUNNERS = 4
IDS = 20
SEED = int(os.environ.get("SEED", time.time()))

TAG = "k8st-prop-%d" % os.getpid()
NODE = TAG + "-node"
PODS = ["%s-p%d" % (TAG, i) for i in range(IDS)]
TMP = tempfile.mkdtemp(prefix="k8st-prop.")
DATA = os.path.join(TMP, "ipam")
STATE = os.path.join(DATA, "prop", "k8snet-0.state")
LOCK = os.path.join(DATA, "prop", "lock")
created = []


def sh(*argv, check=True, stdin=None):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


def cleanup(*_):
    for ns in created:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["rm", "-rf", TMP])


def config(cid, maps, command):
    c = {"cniVersion": "1.1.0", "name": "prop", "type": "k8snet-cni", "bridge": "prop0",
         "isGateway": True, "isDefaultGateway": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.68.0.0/24"}]],
                  "dataDir": DATA},
         "runtimeConfig": {"portMappings": [
             {"hostPort": h, "containerPort": c_, "protocol": p} for p, h, c_ in sorted(maps)]}}
    return c


def random_maps(i):
    """0 to 3 mappings from container i's own 100 host ports."""
    ports = random.sample(range(20000 + 100 * i, 20100 + 100 * i), random.randint(0, 3))
    return {(random.choice(["tcp", "udp"]), h, random.randint(1, 65535)) for h in ports}


def plugin(command, i, conf):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "c%d" % i, "CNI_IFNAME": "eth0",
           "CNI_NETNS": "/run/netns/" + PODS[i] if i >= 0 else "", "CNI_PATH": "/usr/lib/cni",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    r = subprocess.run(["nsenter", "--net=/run/netns/" + NODE, PLUGIN], env=env,
                       input=json.dumps(conf), capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else {}
    except ValueError:
        out = {"raw": r.stdout}
    return r.returncode, out


# ---- what the node holds ------------------------------------------------------

def ipam_holdings():
    """[(address, owner, ifname)] from the IPAM state file."""
    if not os.path.exists(STATE):
        return []
    out = sh(K8SNET, "ipam", "list", "--state", STATE).stdout
    return [tuple(line.split(" ")) for line in out.splitlines() if line]


def kernel_mappings(owner_of):
    """The hostPort mappings the kernel holds, per container:
    {container id or None: {(proto, host port, address, container port)}}.

    They are the elements of the library's host-port table (inet
    k8snet-hostports); each element's comment is its owner,
    "NETWORK/CONTAINER-ID/IFNAME", as k8snet-cni sets it.  A mapping whose
    owner is not the container its address belongs to (owner_of: address ->
    container id) is filed under None, which the invariants refuse."""
    per = {}
    for name in ("hp4-any", "hp6-any", "hp4", "hp6"):
        r = sh("nsenter", "--net=/run/netns/" + NODE, "nft", "-j", "list", "map", "inet",
               "k8snet-hostports", name, check=False)
        if r.returncode != 0:
            continue      # no table yet
        for obj in json.loads(r.stdout)["nftables"]:
            for elem in obj.get("map", {}).get("elem", []):
                key, value = elem
                if "elem" in key:
                    comment, key = key["elem"].get("comment"), key["elem"]["val"]
                else:
                    comment = None
                proto, hport = key["concat"][-2:]
                addr, cport = value["concat"]
                owner = comment.split("/")[1] if comment and comment.count("/") == 2 else None
                if owner != owner_of.get(addr):
                    owner = None
                per.setdefault(owner, set()).add((proto, int(hport), addr, int(cport)))
    return per


# ---- the model ---------------------------------------------------------------

class Model:
    def __init__(self):
        self.lock = threading.Condition()
        self.live = [False] * IDS
        self.busy = [False] * IDS
        self.version = [0] * IDS
        self.maps = [set() for _ in range(IDS)]
        self.prev = [None] * IDS
        self.gcs = 0
        self.failures = []
        self.steps = {"ADD": 0, "DEL": 0, "CHECK": 0, "GC": 0, "checks": 0}

    def snapshot(self):
        with self.lock:
            return (list(self.live), list(self.busy), list(self.version),
                    [set(m) for m in self.maps])

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)


def check(model, after):
    """Every invariant, observed with the network locked."""
    with open(LOCK, "r") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        live1, busy1, ver1, _ = model.snapshot()
        held = ipam_holdings()
        owner_of = {addr: owner for addr, owner, _ in held}
        per = kernel_mappings(owner_of)
        live2, busy2, ver2, maps2 = model.snapshot()
    where = "after %s" % after
    addrs = [a for a, _, _ in held]
    keys = [(o, i) for _, o, i in held]
    if len(set(addrs)) != len(addrs):
        return model.fail("%s: an address is held twice: %s" % (where, held))
    if len(set(keys)) != len(keys):
        return model.fail("%s: a key holds two addresses: %s" % (where, held))
    addr_of = {owner: addr for addr, owner, _ in held}
    for owner, elems in per.items():
        if owner is None:
            return model.fail("%s: mappings point at no container's address: %s" % (where, elems))
        i = int(owner[1:])
        if not (live1[i] or busy1[i] or live2[i] or busy2[i]):
            return model.fail("%s: %s is deleted but holds mappings %s" % (where, owner, elems))
    for i in range(IDS):
        if busy1[i] or busy2[i] or ver1[i] != ver2[i]:
            continue        # its command is in flight: judged at the next check
        cid = "c%d" % i
        have = {(p, h, c) for p, h, _, c in per.get(cid, set())}
        if live2[i]:
            if cid not in addr_of:
                return model.fail("%s: live %s holds no address" % (where, cid))
            if have != maps2[i]:
                return model.fail("%s: live %s: the kernel holds %s, it asked for %s" %
                                  (where, cid, sorted(have), sorted(maps2[i])))
        elif cid in addr_of or have:
            return model.fail("%s: deleted %s still holds %s %s" %
                              (where, cid, addr_of.get(cid), sorted(have)))
    with model.lock:
        model.steps["checks"] += 1


def pick(model, want_add):
    """An idle container (marked busy), or None."""
    with model.lock:
        while want_add and model.gcs:
            model.lock.wait()   # as a runtime: no new sandbox while GC decides
        idle = [i for i in range(IDS) if not model.busy[i]]
        if not idle:
            return None
        i = random.choice(idle)
        model.busy[i] = True
        return i


def release(model, i, **changes):
    with model.lock:
        for k, v in changes.items():
            getattr(model, k)[i] = v
        model.version[i] += 1
        model.busy[i] = False
        model.lock.notify_all()


def do_add(model, i):
    with model.lock:
        was_live, old_maps = model.live[i], model.maps[i]
    maps = random_maps(i) if not was_live else old_maps
    rc, out = plugin("ADD", i, config(i, maps, "ADD"))
    if was_live:
        # A repeated ADD: the interface exists (102) and nothing changes.
        if rc == 0 or out.get("code") != 102:
            model.fail("ADD of live c%d: %s %s" % (i, rc, out))
        release(model, i)
    elif rc != 0:
        model.fail("ADD c%d failed: %s" % (i, out))
        release(model, i)
    else:
        release(model, i, live=True, maps=maps, prev=out)


def do_del(model, i):
    with model.lock:
        maps = model.maps[i] if model.live[i] else random_maps(i)
    rc, out = plugin("DEL", i, config(i, maps, "DEL"))
    if rc != 0:
        model.fail("DEL c%d failed: %s" % (i, out))
    release(model, i, live=False, maps=set(), prev=None)


def do_check(model, i):
    with model.lock:
        live, maps, prev = model.live[i], model.maps[i], model.prev[i]
    if live:
        conf = config(i, maps, "CHECK")
        conf["prevResult"] = prev
        rc, out = plugin("CHECK", i, conf)
        if rc != 0:
            model.fail("CHECK of live c%d failed: %s" % (i, out))
    release(model, i)


def do_gc(model):
    with model.lock:
        model.gcs += 1
        valid = [i for i in range(IDS) if model.live[i] or model.busy[i]]
    conf = config(0, set(), "GC")
    conf["cni.dev/valid-attachments"] = [{"containerID": "c%d" % i, "ifname": "eth0"}
                                         for i in valid]
    rc, out = plugin("GC", -1, conf)
    if rc != 0:
        model.fail("GC failed: %s" % out)
    with model.lock:
        model.gcs -= 1
        model.lock.notify_all()


def runner(model, end, seed):
    rnd = random.Random(seed)
    while time.time() < end and not model.failures:
        op = rnd.choices(["ADD", "DEL", "CHECK", "GC"], [40, 30, 20, 10])[0]
        if op == "GC":
            do_gc(model)
        else:
            i = pick(model, op == "ADD")
            if i is None:
                continue
            {"ADD": do_add, "DEL": do_del, "CHECK": do_check}[op](model, i)
        with model.lock:
            model.steps[op] += 1
        if not model.failures:
            check(model, op)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    for f in (PLUGIN, K8SNET):
        if not os.access(f, os.X_OK):
            print("SKIP: %s not built" % f)
            return 77
    signal.signal(signal.SIGTERM, lambda *_: (cleanup(), sys.exit(130)))
    random.seed(SEED)
    try:
        for ns in [NODE] + PODS:
            sh("ip", "netns", "add", ns)
            created.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # The network's lock and state exist from the first command on.
        rc, out = plugin("DEL", 0, config(0, set(), "DEL"))
        if rc != 0:
            print("FAIL: first DEL: %s" % out)
            return 1
        model = Model()
        end = time.time() + DURATION
        threads = [threading.Thread(target=runner, args=(model, end, SEED + k))
                   for k in range(RUNNERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if model.failures:
            print("FAIL (seed %d): %s" % (SEED, model.failures[0]))
            return 1
        for i in range(IDS):
            rc, out = plugin("DEL", i, config(i, model.maps[i], "DEL"))
            if rc != 0:
                print("FAIL: final DEL c%d: %s" % (i, out))
                return 1
        held = ipam_holdings()
        per = kernel_mappings({a: o for a, o, _ in held})
        veths = sh("ip", "-n", NODE, "-o", "link", "show", "type", "veth").stdout.strip()
        if held or per or veths:
            print("FAIL: after DEL of all: IPAM %s, mappings %s, veths %s" % (held, per, veths))
            return 1
        print("PASS: %d s, %d runners, seed %d: %s, all invariants held after every step; "
              "empty after DEL of all" % (DURATION, RUNNERS, SEED, model.steps))
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
