"""Protocol tests of apiserver.py over HTTPS, with a client that parses the
wire itself (k8sclient.py): list + watch resume, bookmarks, 410 after a
compaction or past the history, dropped streams, selectors, paging, auth,
status subresources, Status errors, persistence across restarts.

Run by test-protocol.sh inside a throwaway network namespace.
"""

import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from k8sclient import Client  # noqa: E402

APISERVER = os.path.join(HERE, "apiserver.py")
TOKEN = "k8st-token-" + os.urandom(6).hex()
TMP = None


class Server:
    """An apiserver.py process."""

    def __init__(self, name, *args):
        self.name = name
        self.args = list(args)
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.kubeconfig_cert = os.path.join(self.dir, "kubeconfig-cert")
        self.proc = None
        self.start()

    def start(self, *extra):
        ready = os.path.join(self.dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        cmd = [sys.executable, APISERVER, "--listen", "127.0.0.1:0",
               "--tls-dir", os.path.join(TMP, "tls"), "--token", TOKEN,
               "--kubeconfig-out", self.kubeconfig, "--kubeconfig-cert-out", self.kubeconfig_cert,
               "--ready-file", ready] + self.args + list(extra)
        self.log = open(os.path.join(self.dir, "log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        end = time.monotonic() + 60
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > end:
                with open(os.path.join(self.dir, "log")) as f:
                    raise RuntimeError("apiserver.py did not start: %s" % f.read())
            time.sleep(0.05)
        with open(ready) as f:
            self.url = f.read().strip()
        self.client = Client.from_kubeconfig(self.kubeconfig)

    def stop(self, sig=signal.SIGTERM):
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(30)
        self.log.close()
        return self.proc.returncode

    def restart(self, sig=signal.SIGTERM, *extra):
        self.stop(sig)
        self.start(*extra)


def create_ns(c, name):
    c.must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": name}})


def pod(name, labels=None, node="node-a"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1.36"}]}}


def svc(name, **spec):
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def names(obj):
    return [i["metadata"]["name"] for i in obj["items"]]


def collect(w, n=None, until=None, seconds=10):
    """Events from a watch: n of them, or until one satisfies `until`."""
    w.settimeout(seconds)
    out = []
    for ev in w:
        out.append(ev)
        if (n is not None and len(out) >= n) or (until and until(ev)):
            break
    return out


class Shared(unittest.TestCase):
    """Tests against one server; each test uses namespaces of its own."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("shared", "--bookmark-interval", "0.5", "--history", "1000")
        cls.c = cls.server.client

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def ns(self):
        name = self.id().rsplit(".", 1)[-1].replace("_", "-").lower()[:50]
        create_ns(self.c, name)
        return name

    # ---- auth and discovery ----

    def test_unauthorized_without_token(self):
        with open(os.path.join(TMP, "tls", "ca.crt"), "rb") as f:
            ca = f.read()
        anon = Client(self.server.url, ca_data=ca)
        bad = Client(self.server.url, token="wrong", ca_data=ca)
        try:
            for client in (anon, bad):
                status, body = client.request("GET", "/api/v1/namespaces")
                self.assertEqual(status, 401)
                self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                        "status": "Failure", "message": "Unauthorized",
                                        "reason": "Unauthorized", "code": 401})
                status, _ = client.request("POST", "/_test/compact")
                self.assertEqual(status, 401)
                w = client.watch("/api/v1/pods")
                self.assertEqual(w.status, 401)
                w.close()
            status, _, body = anon.raw("GET", "/healthz")
            self.assertEqual((status, body), (200, b"ok"))
        finally:
            anon.close()
            bad.close()
        cert = Client.from_kubeconfig(self.server.kubeconfig_cert)
        try:
            self.assertEqual(cert.request("GET", "/api/v1/namespaces/default")[0], 200)
        finally:
            cert.close()

    def test_discovery(self):
        c = self.c
        self.assertEqual(c.must("GET", "/api")["versions"], ["v1"])
        groups = {g["name"]: g["preferredVersion"]["groupVersion"]
                  for g in c.must("GET", "/apis")["groups"]}
        self.assertEqual(groups, {"discovery.k8s.io": "discovery.k8s.io/v1",
                                  "networking.k8s.io": "networking.k8s.io/v1"})
        core = {r["name"]: r for r in c.must("GET", "/api/v1")["resources"]}
        self.assertEqual(set(core), {"namespaces", "namespaces/status", "nodes", "nodes/status",
                                     "pods", "pods/status", "services", "services/status"})
        self.assertTrue(core["pods"]["namespaced"])
        self.assertFalse(core["nodes"]["namespaced"])
        self.assertIn("watch", core["services"]["verbs"])
        eps = c.must("GET", "/apis/discovery.k8s.io/v1")["resources"]
        self.assertEqual([(r["name"], r["kind"]) for r in eps], [("endpointslices",
                                                                  "EndpointSlice")])
        self.assertEqual(c.must("GET", "/version")["minor"], "32")
        self.assertEqual(c.request("GET", "/apis/apps/v1")[0], 404)

    # ---- objects and errors ----

    def test_create_get_and_status_errors(self):
        ns = self.ns()
        c = self.c
        base = "/api/v1/namespaces/%s/services" % ns
        status, created = c.request("POST", base, svc("web"))
        self.assertEqual(status, 201)
        meta = created["metadata"]
        self.assertEqual((meta["namespace"], meta["name"]), (ns, "web"))
        self.assertTrue(meta["resourceVersion"].isdigit())
        self.assertEqual(c.must("GET", base + "/web")["metadata"]["uid"], meta["uid"])
        status, body = c.request("POST", base, svc("web"))
        self.assertEqual((status, body), (409, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'services "web" already exists', "reason": "AlreadyExists",
            "details": {"name": "web", "kind": "services"}, "code": 409}))
        status, body = c.request("GET", "/apis/discovery.k8s.io/v1/namespaces/%s/"
                                 "endpointslices/nope" % ns)
        self.assertEqual((status, body), (404, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'endpointslices.discovery.k8s.io "nope" not found',
            "reason": "NotFound",
            "details": {"name": "nope", "group": "discovery.k8s.io", "kind": "endpointslices"},
            "code": 404}))
        status, body = c.request("POST", "/api/v1/namespaces/no-such-ns/pods", pod("p"))
        self.assertEqual((status, body["message"]), (404, 'namespaces "no-such-ns" not found'))
        status, body = c.request("POST", base, {"metadata": {"name": "Bad_Name"},
                                                "spec": {"ports": [{"port": 0}]}})
        self.assertEqual((status, body["reason"]), (422, "Invalid"))
        self.assertTrue(body["message"].startswith('Service "Bad_Name" is invalid: ['))
        self.assertEqual([x["field"] for x in body["details"]["causes"]],
                         ["metadata.name", "spec.ports[0].port"])
        status, body = c.request("POST", base, {"kind": "Pod", "metadata": {"name": "x"}})
        self.assertEqual(status, 400)
        status, body = c.request("POST", base, svc("other") | {
            "metadata": {"name": "other", "namespace": "default"}})
        self.assertEqual(status, 400)
        self.assertIn("does not match the namespace", body["message"])
        status, body = c.request("DELETE", base + "/web")
        self.assertEqual((status, body["metadata"]["name"]), (200, "web"))
        self.assertEqual(c.request("GET", base + "/web")[0], 404)

    def test_update_conflict_and_no_op(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        first = c.must("POST", url, pod("p"))
        stale = json.loads(json.dumps(first))
        first["metadata"]["labels"] = {"a": "1"}
        second = c.must("PUT", url + "/p", first)
        self.assertGreater(int(second["metadata"]["resourceVersion"]),
                           int(first["metadata"]["resourceVersion"]))
        stale["metadata"]["labels"] = {"a": "2"}
        status, body = c.request("PUT", url + "/p", stale)
        self.assertEqual(status, 409)
        self.assertEqual(body["reason"], "Conflict")
        self.assertEqual(body["message"], 'Operation cannot be fulfilled on pods "p": the object '
                         'has been modified; please apply your changes to the latest version '
                         'and try again')
        status, body = c.request("PATCH", url + "/p", {"metadata": {
            "resourceVersion": stale["metadata"]["resourceVersion"], "labels": {"b": "1"}}},
            {"Content-Type": "application/merge-patch+json"})
        self.assertEqual(status, 409, "a resourceVersion in a patch is a precondition")
        same = c.must("PUT", url + "/p", second)
        self.assertEqual(same["metadata"]["resourceVersion"], second["metadata"]["resourceVersion"],
                         "a no-op update writes nothing")
        del stale["metadata"]["resourceVersion"]
        self.assertEqual(c.must("PUT", url + "/p", stale)["metadata"]["labels"], {"a": "2"},
                         "an update without resourceVersion is unconditional")

    def test_generation(self):
        ns = self.ns()
        c = self.c
        url = "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies" % ns
        c.must("POST", url, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"name": "np"}, "spec": {"podSelector": {}}})
        merge = {"Content-Type": "application/merge-patch+json"}
        g = lambda body: c.must("PATCH", url + "/np", body, merge)["metadata"]["generation"]  # noqa
        self.assertEqual(g({"metadata": {"labels": {"x": "y"}}}), 1)
        self.assertEqual(g({"spec": {"policyTypes": ["Ingress", "Egress"]}}), 2)
        s = c.must("POST", "/api/v1/namespaces/%s/services" % ns, svc("s"))
        self.assertNotIn("generation", s["metadata"])

    def test_status_subresource(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/services/lb" % ns
        body = svc("lb", type="LoadBalancer")
        body["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
        created = c.must("POST", "/api/v1/namespaces/%s/services" % ns, body)
        self.assertEqual(created["status"], {"loadBalancer": {}}, "status is not set on create")
        created["status"] = body["status"]
        self.assertEqual(c.must("PUT", url, created)["status"], {"loadBalancer": {}},
                         "the main resource ignores status")
        merge = {"Content-Type": "application/merge-patch+json"}
        out = c.must("PATCH", url + "/status", {"status": body["status"],
                                                "spec": {"type": "ClusterIP"}}, merge)
        self.assertEqual(out["status"], body["status"])
        self.assertEqual(out["spec"]["type"], "LoadBalancer", "the status endpoint keeps spec")
        self.assertEqual(c.must("GET", url + "/status")["status"], body["status"])
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": ns + "-node"},
                "spec": {"podCIDR": "10.244.7.0/24"},
                "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.7"}]}}
        got = c.must("POST", "/api/v1/nodes", node)
        self.assertEqual(got["status"]["addresses"], node["status"]["addresses"],
                         "nodes keep status on create")
        self.assertEqual(got["status"]["nodeInfo"]["kubeletVersion"], "",
                         "struct fields Go never omits are there")
        self.assertEqual(got["spec"]["podCIDRs"], ["10.244.7.0/24"])
        c.must("DELETE", "/api/v1/nodes/" + node["metadata"]["name"])

    def test_patch_types(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods/p" % ns
        p = pod("p")
        p["spec"]["containers"].append({"name": "d", "image": "busybox:1.36"})
        c.must("POST", "/api/v1/namespaces/%s/pods" % ns, p)
        smp = {"Content-Type": "application/strategic-merge-patch+json"}
        out = c.must("PATCH", url, {"spec": {"containers": [{"name": "d", "image": "x:2"}]}}, smp)
        self.assertEqual([(x["name"], x["image"]) for x in out["spec"]["containers"]],
                         [("c", "busybox:1.36"), ("d", "x:2")])
        jp = {"Content-Type": "application/json-patch+json"}
        out = c.must("PATCH", url, [{"op": "add", "path": "/metadata/labels/k", "value": "v"}],
                     jp)
        self.assertEqual(out["metadata"]["labels"], {"k": "v"})
        status, body = c.request("PATCH", url, [{"op": "test", "path": "/metadata/name",
                                                 "value": "q"}], jp)
        self.assertEqual((status, body["kind"]), (422, "Status"))
        status, _ = c.request("PATCH", url, {"a": 1}, {"Content-Type": "text/plain"})
        self.assertEqual(status, 415)

    def test_resource_version_is_global(self):
        ns = self.ns()
        c = self.c
        rvs = [int(c.must("POST", "/api/v1/namespaces/%s/services" % ns, svc("a"))["metadata"]
                   ["resourceVersion"]),
               int(c.must("POST", "/api/v1/namespaces/%s/pods" % ns, pod("a"))["metadata"]
                   ["resourceVersion"]),
               int(c.must("POST", "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % ns,
                          {"metadata": {"name": "a"}, "addressType": "IPv4",
                           "endpoints": []})["metadata"]["resourceVersion"])]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(len(set(rvs)), 3)
        listed = int(c.must("GET", "/api/v1/namespaces/%s/services" % ns)["metadata"]
                     ["resourceVersion"])
        self.assertGreaterEqual(listed, rvs[-1])

    # ---- selectors and paging ----

    def test_selectors(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        for name, labels, node in (("a", {"app": "web", "tier": "fe"}, "n1"),
                                   ("b", {"app": "web"}, "n2"), ("c", {"app": "db"}, "n1"),
                                   ("d", {}, "")):
            c.must("POST", url, pod(name, labels, node))
        for sel, want in (("app=web", "ab"), ("app==web", "ab"), ("app!=web", "cd"),
                          ("app in (web,db)", "abc"), ("app notin (web)", "cd"),
                          ("tier", "a"), ("!tier", "bcd"), ("app=web,!tier", "b")):
            self.assertEqual("".join(names(c.must("GET", url, labelSelector=sel))), want, sel)
        for sel, want in (("spec.nodeName=n1", "ac"), ("spec.nodeName!=n1", "bd"),
                          ("spec.nodeName=", "d"), ("metadata.name=b", "b"),
                          ("metadata.namespace=%s" % ns, "abcd"),
                          ("metadata.namespace=default", "")):
            self.assertEqual("".join(names(c.must("GET", url, fieldSelector=sel))), want, sel)
        self.assertEqual(names(c.must("GET", "/api/v1/pods", fieldSelector="metadata.name=c",
                                      labelSelector="app=db")), ["c"])
        status, body = c.request("GET", url, fieldSelector="spec.foo=1")
        self.assertEqual((status, body["message"]), (400, "field label not supported: spec.foo"))
        status, body = c.request("GET", url, labelSelector="app in (")
        self.assertEqual(status, 400)

    def test_paging(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        for i in range(25):
            c.must("POST", url, pod("p%02d" % i))
        first = c.must("GET", url, limit=10)
        rv = first["metadata"]["resourceVersion"]
        self.assertEqual(names(first), ["p%02d" % i for i in range(10)])
        self.assertEqual(first["metadata"]["remainingItemCount"], 15)
        # Changes between pages do not show: the pages are one snapshot.
        c.must("DELETE", url + "/p15")
        c.must("POST", url, pod("p10a"))
        second = c.must("GET", url, limit=10, **{"continue": first["metadata"]["continue"]})
        self.assertEqual(second["metadata"]["resourceVersion"], rv)
        self.assertEqual(names(second), ["p%02d" % i for i in range(10, 20)])
        self.assertEqual(second["metadata"]["remainingItemCount"], 5)
        third = c.must("GET", url, limit=10, **{"continue": second["metadata"]["continue"]})
        self.assertEqual(names(third), ["p%02d" % i for i in range(20, 25)])
        self.assertNotIn("continue", third["metadata"])
        self.assertNotIn("remainingItemCount", third["metadata"])
        now = c.must("GET", url)
        self.assertIn("p10a", names(now))
        self.assertNotIn("p15", names(now))
        exact = c.must("GET", url, resourceVersion=rv, resourceVersionMatch="Exact")
        self.assertEqual(names(exact), ["p%02d" % i for i in range(25)])
        self.assertEqual(c.request("GET", url, limit=5, resourceVersion=rv,
                                   **{"continue": first["metadata"]["continue"]})[0], 400)
        self.assertEqual(c.request("GET", url, **{"continue": "garbage"})[0], 400)
        sel = c.must("GET", url, limit=3, labelSelector="!x")
        self.assertNotIn("remainingItemCount", sel["metadata"])

    def test_list_too_large_resource_version(self):
        c = self.c
        rv = int(c.must("GET", "/api/v1/namespaces")["metadata"]["resourceVersion"])
        t = time.monotonic()
        status, body = c.request("GET", "/api/v1/namespaces", resourceVersion=str(rv + 1000))
        self.assertEqual((status, body["reason"]), (504, "Timeout"))
        self.assertEqual(body["details"]["causes"][0]["reason"], "ResourceVersionTooLarge")
        self.assertGreater(time.monotonic() - t, 2.5, "it waits for the version first")
        self.assertEqual(c.request("GET", "/api/v1/namespaces", resourceVersionMatch="Exact")[0],
                         400)

    # ---- watch ----

    def test_list_then_watch_and_resume(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        c.must("POST", url, pod("before"))
        rv = c.must("GET", url)["metadata"]["resourceVersion"]
        a = c.must("POST", url, pod("a"))
        c.must("PATCH", url + "/a", {"metadata": {"labels": {"x": "1"}}},
               {"Content-Type": "application/merge-patch+json"})
        c.must("DELETE", url + "/a")
        c.must("POST", "/api/v1/namespaces/%s/services" % ns, svc("other-kind"))
        with c.watch(url, resourceVersion=rv, allowWatchBookmarks="false") as w:
            self.assertEqual(w.status, 200)
            self.assertEqual(w.headers["transfer-encoding"], "chunked")
            events = collect(w, 3)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(events[0]["object"]["metadata"]["uid"], a["metadata"]["uid"])
        self.assertEqual(events[0]["object"]["kind"], "Pod")
        # Resuming from the second event's version gives only the third.
        with c.watch(url, resourceVersion=str(rvs[1]), timeoutSeconds="1") as w:
            events = list(w)
            self.assertTrue(w.clean_end, "timeoutSeconds ends the stream with the last chunk")
        self.assertEqual([(e["type"], int(e["object"]["metadata"]["resourceVersion"]))
                          for e in events], [("DELETED", rvs[2])])

    def test_watch_selector_transitions(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        merge = {"Content-Type": "application/merge-patch+json"}
        rv = c.must("GET", url)["metadata"]["resourceVersion"]
        with c.watch(url, resourceVersion=rv, labelSelector="app=web") as w:
            c.must("POST", url, pod("p", {"app": "web"}))
            c.must("POST", url, pod("q", {"app": "db"}))
            moved = c.must("PATCH", url + "/p", {"metadata": {"labels": {"app": "db"}}}, merge)
            c.must("PATCH", url + "/q", {"metadata": {"labels": {"app": "web"}}}, merge)
            c.must("PATCH", url + "/q", {"metadata": {"labels": {"x": "1"}}}, merge)
            events = collect(w, 4)
        got = [(e["type"], e["object"]["metadata"]["name"], e["object"]["metadata"]["labels"])
               for e in events]
        self.assertEqual(got, [("ADDED", "p", {"app": "web"}),
                               ("DELETED", "p", {"app": "web"}),
                               ("ADDED", "q", {"app": "web"}),
                               ("MODIFIED", "q", {"app": "web", "x": "1"})])
        self.assertEqual(events[1]["object"]["metadata"]["resourceVersion"],
                         moved["metadata"]["resourceVersion"],
                         "the DELETED of an object leaving the selector carries the new version")
        with c.watch("/api/v1/pods", resourceVersion=rv, fieldSelector="metadata.name=q",
                     timeoutSeconds="1") as w:
            self.assertEqual({e["object"]["metadata"]["name"] for e in w}, {"q"})

    def test_bookmarks(self):
        c = self.c
        rv = c.must("GET", "/api/v1/namespaces")["metadata"]["resourceVersion"]
        with c.watch("/apis/discovery.k8s.io/v1/endpointslices", resourceVersion=rv,
                     allowWatchBookmarks="true") as w:
            ev = collect(w, 1, seconds=5)[0]
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(set(ev["object"]), {"kind", "apiVersion", "metadata"})
        self.assertEqual(ev["object"]["kind"], "EndpointSlice")
        self.assertEqual(list(ev["object"]["metadata"]), ["resourceVersion"])
        self.assertGreaterEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(rv))
        with c.watch("/apis/discovery.k8s.io/v1/endpointslices", resourceVersion=rv,
                     timeoutSeconds="2") as w:
            self.assertEqual([e["type"] for e in w if e["type"] == "BOOKMARK"], [],
                             "no bookmarks unless asked for")

    def test_initial_events(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        for n in "ab":
            c.must("POST", url, pod(n))
        with c.watch(url, timeoutSeconds="1") as w:
            self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in w],
                             [("ADDED", "a"), ("ADDED", "b")])
        with c.watch(url, sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                     allowWatchBookmarks="true", resourceVersion="") as w:
            events = collect(w, 3)
        self.assertEqual([e["type"] for e in events], ["ADDED", "ADDED", "BOOKMARK"])
        self.assertEqual(events[2]["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})
        status, body = c.request("GET", url, watch="true", sendInitialEvents="true",
                                 resourceVersionMatch="NotOlderThan")
        self.assertEqual((status, body["reason"]), (422, "Invalid"))

    def test_drop_watches_cuts_streams(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        rv = c.must("GET", url)["metadata"]["resourceVersion"]
        watches = [c.watch(url, resourceVersion=rv, allowWatchBookmarks="true")
                   for _ in range(2)]
        c.must("POST", url, pod("a"))
        for w in watches:
            self.assertEqual(collect(w, until=lambda e: e["type"] == "ADDED")[-1]["type"],
                             "ADDED")
        self.assertGreaterEqual(c.must("GET", "/_test/stats")["watches"], 2)
        self.assertGreaterEqual(c.must("POST", "/_test/drop-watches")["dropped"], 2)
        for w in watches:
            w.settimeout(10)
            list(w)
            self.assertTrue(w.cut, "the stream ends inside a chunk")
            self.assertFalse(w.clean_end)
            w.close()
        self.assertEqual(c.must("GET", "/_test/stats")["watches"], 0)
        c.must("POST", url, pod("b"))
        with c.watch(url, resourceVersion=rv, timeoutSeconds="1") as w:
            self.assertEqual([e["object"]["metadata"]["name"] for e in w], ["a", "b"],
                             "a watch resumes after the drop")

    def test_stats(self):
        c = self.c
        before = c.must("GET", "/_test/stats")
        c.must("GET", "/api/v1/pods")
        after = c.must("GET", "/_test/stats")
        self.assertEqual(after["listsServed"], before["listsServed"] + 1)
        for k in ("watches", "eventsSent", "bookmarksSent", "resourceVersion", "objects"):
            self.assertIn(k, after)

    def test_namespace_deletion_and_finalizers(self):
        ns = self.ns()
        c = self.c
        url = "/api/v1/namespaces/%s/pods" % ns
        c.must("POST", url, pod("a"))
        held = pod("held")
        held["metadata"]["finalizers"] = ["example.com/hold"]
        c.must("POST", url, held)
        rv = c.must("GET", url)["metadata"]["resourceVersion"]
        with c.watch(url, resourceVersion=rv) as w:
            status, body = c.request("DELETE", "/api/v1/namespaces/" + ns)
            self.assertEqual((status, body["status"]["phase"]), (200, "Terminating"))
            got = collect(w, 2)
            self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in got],
                             [("DELETED", "a"), ("MODIFIED", "held")])
            self.assertIn("deletionTimestamp", got[1]["object"]["metadata"])
            self.assertEqual(c.request("POST", url, pod("late"))[0], 403)
            c.must("PATCH", url + "/held", {"metadata": {"finalizers": None}},
                   {"Content-Type": "application/merge-patch+json"})
            self.assertEqual(collect(w, 1)[0]["type"], "DELETED")
        self.assertEqual(c.request("GET", "/api/v1/namespaces/" + ns)[0], 404)


class History(unittest.TestCase):
    """A server that keeps 5 events of history."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("history", "--history", "5")
        cls.c = cls.server.client
        create_ns(cls.c, "h")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def changes(self, n, prefix):
        for i in range(n):
            self.c.must("POST", "/api/v1/namespaces/h/pods", pod("%s%d" % (prefix, i)))

    def test_resume_past_history_is_410(self):
        c = self.c
        start = c.must("GET", "/api/v1/namespaces/h/pods")["metadata"]["resourceVersion"]
        self.changes(8, "x")
        with c.watch("/api/v1/namespaces/h/pods", resourceVersion=start) as w:
            self.assertEqual(w.status, 200)
            events = list(w)
            self.assertTrue(w.clean_end)
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["type"], "ERROR")
        st = events[0]["object"]
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 410, "Expired"))
        self.assertRegex(st["message"], r"^too old resource version: %s \(\d+\)$" % start)
        recent = int(c.must("GET", "/api/v1/namespaces/h/pods")["metadata"]["resourceVersion"])
        with c.watch("/api/v1/namespaces/h/pods", resourceVersion=str(recent - 5),
                     timeoutSeconds="1") as w:
            self.assertEqual([e["type"] for e in w], ["ADDED"] * 5)

    def test_compact(self):
        c = self.c
        self.changes(2, "w")
        first = c.must("GET", "/api/v1/namespaces/h/pods", limit=1)
        rv = first["metadata"]["resourceVersion"]
        self.changes(1, "y")
        c.must("POST", "/_test/compact")
        with c.watch("/api/v1/namespaces/h/pods", resourceVersion=rv) as w:
            ev = collect(w, 1)[0]
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        status, body = c.request("GET", "/api/v1/namespaces/h/pods", limit=1,
                                 **{"continue": first["metadata"]["continue"]})
        self.assertEqual((status, body["reason"]), (410, "Expired"))
        self.assertIn("continue", body["metadata"])
        now = c.must("GET", "/api/v1/namespaces/h/pods")["metadata"]["resourceVersion"]
        with c.watch("/api/v1/namespaces/h/pods", resourceVersion=now) as w:
            self.changes(1, "z")
            self.assertEqual(collect(w, 1)[0]["type"], "ADDED", "watching from now still works")

    def test_expired_as_http_410(self):
        other = Server("history-http", "--history", "2", "--watch-expired", "http")
        try:
            c = other.client
            rv = c.must("GET", "/api/v1/pods")["metadata"]["resourceVersion"]
            for i in range(3):
                c.must("POST", "/api/v1/namespaces/default/pods", pod("p%d" % i))
            with c.watch("/api/v1/pods", resourceVersion=rv) as w:
                self.assertEqual(w.status, 410)
                self.assertEqual(json.loads(w.body)["reason"], "Expired")
        finally:
            other.stop()


class Streams(unittest.TestCase):
    def test_events_split_across_chunks(self):
        server = Server("chunks", "--chunk-size", "7")
        try:
            c = server.client
            rv = c.must("GET", "/api/v1/pods")["metadata"]["resourceVersion"]
            for n in "ab":
                c.must("POST", "/api/v1/namespaces/default/pods", pod(n))
            with c.watch("/api/v1/pods", resourceVersion=rv, timeoutSeconds="1") as w:
                self.assertEqual([e["object"]["metadata"]["name"] for e in w], ["a", "b"])
                self.assertTrue(w.clean_end)
        finally:
            server.stop()

    def test_sigterm_ends_watches_cleanly(self):
        server = Server("sigterm")
        c = server.client
        rv = c.must("GET", "/api/v1/pods")["metadata"]["resourceVersion"]
        w = c.watch("/api/v1/pods", resourceVersion=rv, allowWatchBookmarks="true")
        try:
            time.sleep(0.3)
            self.assertEqual(server.stop(), 0)
            w.settimeout(10)
            events = list(w)
            self.assertTrue(w.clean_end, "a stopping server ends its streams with the last chunk")
            self.assertEqual([e["type"] for e in events], ["BOOKMARK"])
            self.assertEqual(events[0]["object"]["metadata"]["resourceVersion"], rv)
        finally:
            w.close()


class Persistence(unittest.TestCase):
    def test_restart_keeps_objects_versions_and_history(self):
        state = os.path.join(TMP, "state.json")
        server = Server("persist", "--state", state, "--history", "100")
        try:
            c = server.client
            create_ns(c, "p")
            a = c.must("POST", "/api/v1/namespaces/p/pods", pod("a"))
            rv_a = a["metadata"]["resourceVersion"]
            c.must("POST", "/api/v1/namespaces/p/services", svc("s"))
            server.restart()                       # SIGTERM: a clean stop
            c = server.client
            got = c.must("GET", "/api/v1/namespaces/p/pods/a")
            self.assertEqual(got["metadata"]["uid"], a["metadata"]["uid"])
            listed = c.must("GET", "/api/v1/namespaces/p/services")
            rv_before = int(listed["metadata"]["resourceVersion"])
            b = c.must("POST", "/api/v1/namespaces/p/pods", pod("b"))
            self.assertEqual(int(b["metadata"]["resourceVersion"]), rv_before + 1,
                             "the counter continues where it stopped")
            server.restart(signal.SIGKILL)         # no final snapshot: the journal has it
            c = server.client
            self.assertEqual(names(c.must("GET", "/api/v1/namespaces/p/pods")), ["a", "b"])
            with c.watch("/api/v1/namespaces/p/pods", resourceVersion=rv_a,
                         timeoutSeconds="1") as w:
                self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in w],
                                 [("ADDED", "b")], "history survives the restarts")
            s = c.must("GET", "/api/v1/namespaces/p/services/s")
            status, body = c.request("POST", "/api/v1/namespaces/p/services",
                                     svc("t", clusterIP=s["spec"]["clusterIP"]))
            self.assertEqual(status, 422, "allocated ClusterIPs survive the restart")
        finally:
            server.stop()

    def test_preload(self):
        data = os.path.join(TMP, "objects.json")
        with open(data, "wb") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen-objects.py"), "50", "60",
                            "400", "5"], stdout=f, check=True)
        state = os.path.join(TMP, "preload-state.json")
        server = Server("preload", "--preload", data, "--state", state)
        try:
            c = server.client
            count = lambda path: len(c.must("GET", path)["items"])  # noqa: E731
            self.assertEqual(count("/api/v1/services"), 50)
            self.assertEqual(count("/apis/discovery.k8s.io/v1/endpointslices"), 60)
            self.assertEqual(count("/api/v1/pods"), 400)
            self.assertEqual(count("/apis/networking.k8s.io/v1/networkpolicies"), 5)
            status, headers, plain = c.raw("GET", "/api/v1/pods")
            self.assertGreater(len(plain), 128 * 1024)
            self.assertIsNone(headers.get("Content-Encoding"))
            status, headers, packed = c.raw("GET", "/api/v1/pods",
                                            headers={"Accept-Encoding": "gzip"})
            self.assertEqual((status, headers["Content-Encoding"]), (200, "gzip"))
            self.assertLess(len(packed), len(plain) // 4)
            self.assertEqual(gzip.decompress(packed), plain, "large lists are gzipped on request")
            rv = c.must("GET", "/api/v1/pods")["metadata"]["resourceVersion"]
            server.restart()
            c = server.client
            self.assertEqual(count("/api/v1/pods"), 400, "a restart with the same --preload "
                             "creates nothing twice")
            self.assertEqual(c.must("GET", "/api/v1/pods")["metadata"]["resourceVersion"], rv)
        finally:
            server.stop()


def main():
    global TMP
    if not os.environ.get("K8ST_NETNS"):
        print("SKIP: run me through test-protocol.sh (inside a throwaway network namespace)")
        return 77
    with tempfile.TemporaryDirectory(prefix="k8st-apisrv-") as TMP:
        prog = unittest.main(exit=False, verbosity=2)
        return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
