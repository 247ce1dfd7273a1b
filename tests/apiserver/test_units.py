"""Unit tests of the test API server's parts, without HTTP: selectors,
patches, the store's resourceVersion, history, paging and persistence."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import apimodel  # noqa: E402
import apipatch  # noqa: E402
from apistore import ApiError, Store, BY_NAME, parse_continue  # noqa: E402
from labelsel import FieldSelector, LabelSelector, SelectorError  # noqa: E402

PODS, SVCS, NODES = BY_NAME["pods"], BY_NAME["services"], BY_NAME["nodes"]
EPS, NPS, NSS = BY_NAME["endpointslices"], BY_NAME["networkpolicies"], BY_NAME["namespaces"]


def pod(name, labels=None, node="n1", ns=None):
    meta = {"name": name, "labels": labels or {}}
    if ns:
        meta["namespace"] = ns
    return {"metadata": meta, "spec": {"nodeName": node,
                                       "containers": [{"name": "c", "image": "busybox"}]}}


class LabelSelectorTest(unittest.TestCase):
    LABELS = {"app": "web", "tier": "front", "n": "5"}

    def check(self, text, want):
        self.assertEqual(LabelSelector(text).matches(self.LABELS), want, text)

    def test_operators(self):
        for text, want in [("app=web", True), ("app==web", True), ("app=db", False),
                           ("app!=db", True), ("app!=web", False), ("missing!=x", True),
                           ("app in (db,web)", True), ("app in (db)", False),
                           ("app notin (db)", True), ("app notin (web, db)", False),
                           ("missing notin (x)", True), ("missing in (x)", False),
                           ("app", True), ("missing", False), ("!missing", True),
                           ("!app", False), ("n>4", True), ("n>5", False), ("n<6", True),
                           ("app=web,tier=front", True), ("app=web, tier=back", False),
                           ("", True), ("example.com/role", False), ("app=", False)]:
            self.check(text, want)

    def test_kube_proxy_selector(self):
        sel = LabelSelector("!service.kubernetes.io/service-proxy-name,"
                            "!service.kubernetes.io/headless")
        self.assertTrue(sel.matches({"app": "x"}))
        self.assertFalse(sel.matches({"service.kubernetes.io/headless": ""}))
        self.assertFalse(sel.matches({"service.kubernetes.io/service-proxy-name": "other"}))

    def test_errors(self):
        for text in ("app in ()", "app=web,", "app in (a", "a b", "n>x", "=web", "a/b/c=d",
                     "app=-bad-", "x" * 64 + "=1"):
            with self.assertRaises(SelectorError, msg=text):
                LabelSelector(text)


class FieldSelectorTest(unittest.TestCase):
    def test_pods(self):
        p = pod("a", node="n1")
        p["metadata"]["namespace"] = "ns"
        f = PODS.fields
        self.assertTrue(FieldSelector("spec.nodeName=n1", f).matches(p))
        self.assertTrue(FieldSelector("spec.nodeName==n1,metadata.name=a", f).matches(p))
        self.assertFalse(FieldSelector("spec.nodeName!=n1", f).matches(p))
        self.assertTrue(FieldSelector("metadata.namespace=ns", f).matches(p))
        self.assertFalse(FieldSelector("spec.nodeName=", f).matches(p))
        self.assertTrue(FieldSelector("spec.nodeName=", f).matches(pod("b", node="")))
        self.assertTrue(FieldSelector(r"metadata.name=a\,b", f).matches(pod("a,b")))
        with self.assertRaisesRegex(SelectorError, "field label not supported: spec.foo"):
            FieldSelector("spec.foo=1", f)
        with self.assertRaises(SelectorError):
            FieldSelector("metadata.name", f)
        with self.assertRaisesRegex(SelectorError, "not supported"):
            FieldSelector("spec.nodeName=x", SVCS.fields)


class PatchTest(unittest.TestCase):
    def test_merge(self):
        doc = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
        out = apipatch.merge_patch(doc, {"a": {"b": None, "c": [3]}, "e": {"f": 1}})
        self.assertEqual(out, {"a": {"c": [3]}, "d": 1, "e": {"f": 1}})
        self.assertEqual(doc["a"]["b"], 1, "the target is not changed")

    def test_json_patch(self):
        doc = {"a": [1, 2], "b": {"c": "x"}}
        out = apipatch.json_patch(doc, [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "add", "path": "/a/0", "value": 0},
            {"op": "replace", "path": "/b/c", "value": "y"},
            {"op": "copy", "from": "/b/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e~1f"},
            {"op": "remove", "path": "/a/1"},
            {"op": "test", "path": "/e~1f", "value": "y"}])
        self.assertEqual(out, {"a": [0, 2, 3], "b": {"c": "y"}, "e/f": "y"})
        with self.assertRaisesRegex(apipatch.PatchError, "test failed"):
            apipatch.json_patch(doc, [{"op": "test", "path": "/b/c", "value": "z"}])
        with self.assertRaises(apipatch.PatchError):
            apipatch.json_patch(doc, [{"op": "remove", "path": "/nope"}])
        with self.assertRaises(apipatch.PatchError):
            apipatch.json_patch(doc, [{"op": "replace", "path": "/a/5", "value": 1}])

    def test_strategic_lists_by_key(self):
        cur = {"spec": {"containers": [{"name": "a", "image": "1", "env": [{"name": "X",
                                                                          "value": "1"}]},
                                       {"name": "b", "image": "1"}],
                        "tolerations": [{"key": "t"}]}}
        out = apipatch.strategic_merge_patch(cur, {"spec": {
            "containers": [{"name": "a", "image": "2", "env": [{"name": "Y", "value": "2"}]},
                           {"name": "c", "image": "3"}, {"name": "b", "$patch": "delete"}],
            "tolerations": [{"key": "u"}]}}, apimodel.POD_SMP)
        self.assertEqual(out["spec"]["containers"], [
            {"name": "a", "image": "2", "env": [{"name": "X", "value": "1"},
                                                {"name": "Y", "value": "2"}]},
            {"name": "c", "image": "3"}])
        self.assertEqual(out["spec"]["tolerations"], [{"key": "u"}], "atomic lists replace")

    def test_strategic_directives(self):
        cur = {"metadata": {"finalizers": ["a", "b"], "labels": {"x": "1", "y": "2"}},
               "spec": {"ports": [{"port": 80, "name": "h"}, {"port": 81, "name": "i"}],
                        "selector": {"app": "x"}}}
        out = apipatch.strategic_merge_patch(cur, {
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"],
                         "labels": {"$patch": "replace", "z": "3"}},
            "spec": {"$setElementOrder/ports": [{"port": 81}, {"port": 80}],
                     "ports": [{"port": 80, "targetPort": 8080}],
                     "selector": None}}, apimodel.SERVICE_SMP)
        self.assertEqual(out["metadata"], {"finalizers": ["b", "c"], "labels": {"z": "3"}})
        self.assertEqual(out["spec"], {"ports": [{"port": 81, "name": "i"},
                                                 {"port": 80, "name": "h", "targetPort": 8080}]})
        out = apipatch.strategic_merge_patch(cur, {"spec": {"ports": [{"$patch": "replace"},
                                                                      {"port": 1}]}},
                                             apimodel.SERVICE_SMP)
        self.assertEqual(out["spec"]["ports"], [{"port": 1}])
        out = apipatch.strategic_merge_patch(cur, {"spec": {"$retainKeys": ["ports"]}},
                                             apimodel.SERVICE_SMP)
        self.assertEqual(list(out["spec"]), ["ports"])
        with self.assertRaisesRegex(apipatch.PatchError, "merge key"):
            apipatch.strategic_merge_patch(cur, {"spec": {"ports": [{"name": "x"}]}},
                                           apimodel.SERVICE_SMP)


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.s = Store(history=100)
        self.s.ensure_default_namespaces()

    def test_create_sets_system_fields(self):
        obj = self.s.create(PODS, "default", pod("p"))
        meta = obj["metadata"]
        self.assertRegex(meta["uid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                      r"[0-9a-f]{12}$")
        self.assertRegex(meta["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(meta["resourceVersion"], str(self.s.rv))
        self.assertNotIn("generation", meta, "pods have no generation in 1.32")
        self.assertEqual(obj["status"], {"phase": "Pending", "qosClass": "BestEffort"})
        np = self.s.create(NPS, "default", {"metadata": {"name": "np"}, "spec": {}})
        self.assertEqual(np["metadata"]["generation"], 1)
        self.assertEqual(np["spec"]["policyTypes"], ["Ingress"])

    def test_errors(self):
        self.s.create(PODS, "default", pod("p"))
        with self.assertRaises(ApiError) as e:
            self.s.create(PODS, "default", pod("p"))
        self.assertEqual((e.exception.code, e.exception.reason), (409, "AlreadyExists"))
        with self.assertRaises(ApiError) as e:
            self.s.create(PODS, "nope", pod("p"))
        self.assertEqual(e.exception.message, 'namespaces "nope" not found')
        with self.assertRaises(ApiError) as e:
            self.s.create(SVCS, "default", {"metadata": {"name": "1x"}, "spec": {}})
        st = e.exception.status()
        self.assertEqual(st["code"], 422)
        self.assertEqual({c["field"] for c in st["details"]["causes"]},
                         {"metadata.name", "spec.ports"})
        with self.assertRaises(ApiError) as e:
            self.s.update(PODS, "default", "p", {"metadata": {"name": "p",
                                                              "resourceVersion": "1"}})
        self.assertEqual(e.exception.reason, "Conflict")

    def test_generation_rules(self):
        self.s.create(EPS, "default", {"metadata": {"name": "e"}, "addressType": "IPv4",
                                       "endpoints": [{"addresses": ["10.0.0.1"]}]})
        up = lambda f: self.s.patch(EPS, "default", "e", f)  # noqa: E731
        self.assertEqual(up(lambda o: apipatch.merge_patch(o, {"metadata": {"labels": {
            "a": "b"}}}))["metadata"]["generation"], 1)
        self.assertEqual(up(lambda o: apipatch.merge_patch(o, {"endpoints": [
            {"addresses": ["10.0.0.2"]}]}))["metadata"]["generation"], 2)

    def test_no_op_update_keeps_version(self):
        obj = self.s.create(PODS, "default", pod("p"))
        rv = self.s.rv
        again = self.s.update(PODS, "default", "p", json.loads(json.dumps(obj)))
        self.assertEqual(again["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"])
        self.assertEqual(self.s.rv, rv)

    def test_paging_is_consistent(self):
        for i in range(7):
            self.s.create(PODS, "default", pod("p%d" % i))
        rv, page, token, remaining = self.s.list(PODS, "default", limit=3)
        self.assertEqual([e.obj["metadata"]["name"] for e in page], ["p0", "p1", "p2"])
        self.assertEqual(remaining, 4)
        self.assertEqual(parse_continue(token), (rv, "default/p2\x00"))
        self.s.delete(PODS, "default", "p4")
        self.s.create(PODS, "default", pod("p35"))
        self.s.patch(PODS, "default", "p5", lambda o: apipatch.merge_patch(
            o, {"metadata": {"labels": {"new": "yes"}}}))
        rv2, page, token, _ = self.s.list(PODS, "default", limit=3, cont=token)
        self.assertEqual(rv2, rv)
        self.assertEqual([e.obj["metadata"]["name"] for e in page], ["p3", "p4", "p5"])
        self.assertNotIn("new", page[2].obj["metadata"]["labels"])
        _, page, token, _ = self.s.list(PODS, "default", limit=3, cont=token)
        self.assertEqual([e.obj["metadata"]["name"] for e in page], ["p6"])
        self.assertIsNone(token)
        self.s.compact()
        with self.assertRaises(ApiError) as e:
            self.s.list(PODS, "default", limit=3, cont=parse_token(rv, "default/p2"))
        self.assertEqual((e.exception.code, e.exception.reason), (410, "Expired"))
        self.assertIn("continue", e.exception.status()["metadata"])

    def test_history_bound(self):
        s = Store(history=3)
        s.ensure_default_namespaces()
        start = s.rv
        for i in range(5):
            s.create(PODS, "default", pod("p%d" % i))
        with self.assertRaisesRegex(ApiError, "too old resource version: %d" % start):
            s.check_watch_start(start)
        s.check_watch_start(s.rv - 3)
        self.assertEqual([e.rv for e in s.events_after(s.rv - 3)], [s.rv - 2, s.rv - 1, s.rv])

    def test_namespace_deletion_cascades(self):
        self.s.create(NSS, None, {"metadata": {"name": "x"}})
        self.s.create(PODS, "x", pod("p"))
        self.s.create(PODS, "default", pod("q"))
        start = self.s.rv
        self.s.delete(NSS, None, "x")
        kinds = [(e.type, e.res.name, e.key) for e in self.s.events_after(start)]
        self.assertEqual(kinds, [("MODIFIED", "namespaces", "x"), ("DELETED", "pods", "x/p"),
                                 ("DELETED", "namespaces", "x")])
        self.assertIn("default/q", self.s.objects["pods"])

    def test_finalizers_hold_deletion(self):
        p = pod("p")
        p["metadata"]["finalizers"] = ["example.com/hold"]
        self.s.create(PODS, "default", p)
        obj, gone = self.s.delete(PODS, "default", "p")
        self.assertFalse(gone)
        self.assertIn("deletionTimestamp", obj["metadata"])
        self.s.patch(PODS, "default", "p", lambda o: apipatch.merge_patch(
            o, {"metadata": {"finalizers": None}}))
        self.assertNotIn("default/p", self.s.objects["pods"])
        self.assertEqual(self.s.events[-1].type, "DELETED")

    def test_service_allocation(self):
        a = self.s.create(SVCS, "default", {"metadata": {"name": "a"},
                                            "spec": {"ports": [{"port": 80}],
                                                     "type": "NodePort"}})
        ip = a["spec"]["clusterIP"]
        self.assertTrue(ip.startswith("10."), ip)
        self.assertTrue(30000 <= a["spec"]["ports"][0]["nodePort"] <= 32767)
        with self.assertRaisesRegex(ApiError, "provided IP is already allocated"):
            self.s.create(SVCS, "default", {"metadata": {"name": "b"},
                                            "spec": {"clusterIP": ip, "ports": [{"port": 80}]}})
        with self.assertRaisesRegex(ApiError, "may not change once set"):
            self.s.patch(SVCS, "default", "a", lambda o: apipatch.merge_patch(
                o, {"spec": {"clusterIP": "10.96.0.77", "clusterIPs": ["10.96.0.77"]}}))
        kept = self.s.update(SVCS, "default", "a", {"metadata": {"name": "a"},
                                                    "spec": {"ports": [{"port": 80}],
                                                             "type": "NodePort"}})
        self.assertEqual(kept["spec"]["clusterIP"], ip)
        self.assertEqual(kept["spec"]["ports"][0]["nodePort"], a["spec"]["ports"][0]["nodePort"])
        port = a["spec"]["ports"][0]["nodePort"]
        plain = self.s.patch(SVCS, "default", "a", lambda o: apipatch.strategic_merge_patch(
            o, {"spec": {"type": "ClusterIP"}}, apimodel.SERVICE_SMP))
        self.assertNotIn("nodePort", plain["spec"]["ports"][0], "ClusterIP drops node ports")
        self.assertNotIn("externalTrafficPolicy", plain["spec"])
        self.s.create(SVCS, "default", {"metadata": {"name": "c"}, "spec": {
            "type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}})
        self.s.delete(SVCS, "default", "a")
        self.s.create(SVCS, "default", {"metadata": {"name": "b"},
                                        "spec": {"clusterIP": ip, "ports": [{"port": 80}]}})

    def test_persistence_snapshot_and_journal(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "state")
            s = Store(history=50, state=path)
            s.ensure_default_namespaces()
            s.create(PODS, "default", pod("a"))
            s.write_snapshot()
            s.create(PODS, "default", pod("b"))
            s.delete(PODS, "default", "a")
            uid = s.objects["pods"]["default/b"].obj["metadata"]["uid"]
            s.journal.close()      # as after kill -9: no final snapshot
            with open(path + ".journal", "ab") as f:
                f.write(b'{"rv":99,"type":"ADDED","res')        # a line cut short
            t = Store(history=50, state=path)
            self.assertTrue(t.load_state())
            self.assertEqual(t.rv, s.rv)
            self.assertEqual(sorted(t.objects["pods"]), ["default/b"])
            self.assertEqual(t.objects["pods"]["default/b"].obj["metadata"]["uid"], uid)
            self.assertEqual([(e.type, e.key) for e in t.events_after(t.rv - 2)],
                             [("ADDED", "default/b"), ("DELETED", "default/a")])
            t.write_snapshot()
            t.close()
            u = Store(history=50, state=path)
            u.load_state()
            self.assertEqual(u.rv, s.rv)
            self.assertEqual([(e.type, e.key, e.rv) for e in u.events],
                             [(e.type, e.key, e.rv) for e in t.events])
            self.assertEqual(u.events[-1].prev.obj["metadata"]["name"], "a")


def parse_token(rv, key):
    from apistore import continue_token
    return continue_token(rv, key)


class GeneratorTest(unittest.TestCase):
    def test_generated_objects_load(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "gen-objects.py"), "20", "30",
                              "25", "4", "--namespaces", "3"], capture_output=True, check=True)
        doc = json.loads(out.stdout)
        self.assertEqual(doc["kind"], "List")
        s = Store()
        s.ensure_default_namespaces()
        created, skipped = s.preload(doc["items"])
        self.assertEqual((created, skipped), (3 + 2 + 25 + 20 + 30 + 4, 0))
        self.assertEqual(s.preload(doc["items"]), (0, created))
        eps = s.objects["endpointslices"]["bench-1/svc-1-1"].obj
        self.assertEqual(eps["metadata"]["labels"]["kubernetes.io/service-name"], "svc-1")
        self.assertEqual(len(eps["endpoints"]), 5)
        p = s.objects["pods"]["bench-0/pod-0"].obj
        self.assertEqual(p["status"]["phase"], "Running", "preload keeps status")


if __name__ == "__main__":
    unittest.main()
