#!/usr/bin/env python3
"""How fast the test API server is with the agent benchmark's data set, so
the agent's figures can be read knowing what the server adds:

    bench-apiserver.py [--services 10000 --slices 10000 --pods 10000
                        --policies 1000 --watchers 12 --changes 200]

It makes a throwaway network namespace (root needed), starts apiserver.py
there with gen-objects.py's data preloaded, and prints: the start-up time;
the time to read each full list (bytes only, no decoding) and a paged list
(limit 500); and for single EndpointSlice changes, the time from sending a
PATCH to its response and to the MODIFIED event on every one of --watchers
watch streams (p50, p99).  There is no peer: kube-apiserver is not packaged
for Debian.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from k8sclient import Client  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def read_raw(client, path, headers=None):
    """Seconds to GET path and read the whole body, and its size."""
    t = time.monotonic()
    status, _, body = client.raw("GET", path, headers=headers)
    if status != 200:
        raise RuntimeError("GET %s: %d" % (path, status))
    return time.monotonic() - t, len(body)


def inner(a):
    tmp = tempfile.mkdtemp(prefix="k8st-apisrv-bench-")
    data = os.path.join(tmp, "objects.json")
    with open(data, "wb") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "gen-objects.py"), str(a.services),
                        str(a.slices), str(a.pods), str(a.policies)], stdout=f, check=True)
    kc, ready = os.path.join(tmp, "kubeconfig"), os.path.join(tmp, "ready")
    t0 = time.monotonic()
    log = open(os.path.join(tmp, "log"), "wb")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "apiserver.py"),
                             "--listen", "127.0.0.1:0", "--tls-dir", os.path.join(tmp, "tls"),
                             "--kubeconfig-out", kc, "--ready-file", ready,
                             "--preload", data], stdout=log, stderr=log)
    try:
        while not os.path.exists(ready):
            if proc.poll() is not None:
                raise RuntimeError(open(os.path.join(tmp, "log")).read())
            time.sleep(0.02)
        print("start with %d objects preloaded (TLS material made once): %.2f s"
              % (a.services + a.slices + a.pods + a.policies, time.monotonic() - t0))
        c = Client.from_kubeconfig(kc)
        for path in ("/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices",
                     "/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies"):
            times = []
            for _ in range(3):
                dt, size = read_raw(c, path)
                times.append(dt)
            print("list %-44s %6.1f MB  best of 3: %6.3f s" % (path, size / 1e6, min(times)))
        gz = min(read_raw(c, "/apis/discovery.k8s.io/v1/endpointslices",
                          {"Accept-Encoding": "gzip"})[0] for _ in range(3))
        print("list of endpointslices with Accept-Encoding: gzip: best of 3: %.3f s" % gz)
        t = time.monotonic()
        pages, cont = 0, None
        while True:
            q = {"limit": "500"}
            if cont:
                q["continue"] = cont
            body = c.must("GET", "/apis/discovery.k8s.io/v1/endpointslices", **q)
            pages += 1
            cont = body["metadata"].get("continue")
            if not cont:
                break
        print("paged list of endpointslices, limit 500: %d pages in %.3f s (client decoding "
              "included)" % (pages, time.monotonic() - t))

        rv = c.must("GET", "/api/v1/namespaces", limit="1")["metadata"]["resourceVersion"]
        seen = {}
        lock = threading.Condition()

        def watch(i):
            w = c_w[i].watch("/apis/discovery.k8s.io/v1/endpointslices", resourceVersion=rv,
                             allowWatchBookmarks="true")
            w.settimeout(None)
            for ev in w:
                if ev["type"] == "MODIFIED":
                    mark = ev["object"]["metadata"].get("annotations", {}).get("bench/seq")
                    with lock:
                        seen.setdefault(mark, []).append(time.monotonic())
                        lock.notify_all()

        c_w = [Client.from_kubeconfig(kc) for _ in range(a.watchers)]
        for i in range(a.watchers):
            threading.Thread(target=watch, args=(i,), daemon=True).start()
        time.sleep(1)
        to_response, to_all = [], []
        merge = {"Content-Type": "application/merge-patch+json"}
        for n in range(a.changes):
            k = n % a.services
            path = "/apis/discovery.k8s.io/v1/namespaces/bench-%d/endpointslices/svc-%d-0" % (
                k % 10, k)
            patch = {"metadata": {"annotations": {"bench/seq": str(n)}},
                     "endpoints": [{"addresses": ["10.244.%d.%d" % (n // 250 % 250,
                                                                  n % 250 + 1)],
                                    "conditions": {"ready": True}}]}
            t = time.monotonic()
            c.must("PATCH", path, patch, merge)
            to_response.append(time.monotonic() - t)
            with lock:
                if not lock.wait_for(lambda: len(seen.get(str(n), [])) >= a.watchers, 10):
                    raise RuntimeError("change %d did not reach every watcher" % n)
                to_all.append(max(seen[str(n)]) - t)
        ms = lambda v: v * 1000  # noqa: E731
        print("EndpointSlice PATCH -> response:              p50 %.2f ms  p99 %.2f ms  (%d changes)"
              % (ms(pct(to_response, 50)), ms(pct(to_response, 99)), a.changes))
        print("EndpointSlice PATCH -> event on all %3d watches: p50 %.2f ms  p99 %.2f ms"
              % (a.watchers, ms(pct(to_all, 50)), ms(pct(to_all, 99))))
        print("(the machine may be shared: figures are indicative; no peer, kube-apiserver is "
              "not packaged for Debian)")
        stats = c.must("GET", "/_test/stats")
        print("server stats:", json.dumps({k: stats[k] for k in ("eventsSent", "listsServed",
                                                                  "watches")}))
    finally:
        proc.terminate()
        proc.wait(30)
        subprocess.run(["rm", "-rf", tmp])
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=10000)
    p.add_argument("--slices", type=int, default=10000)
    p.add_argument("--pods", type=int, default=10000)
    p.add_argument("--policies", type=int, default=1000)
    p.add_argument("--watchers", type=int, default=12)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.inner:
        return inner(a)
    if os.geteuid() != 0:
        print("SKIP: needs root (it runs in a network namespace of its own)")
        return 77
    ns = "k8st-apisrv-bench-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable,
                               os.path.abspath(__file__), "--inner"] + sys.argv[1:]).returncode
    finally:
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    sys.exit(main())
