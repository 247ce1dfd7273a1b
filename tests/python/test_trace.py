"""Tests of the trace bindings: names through the search list, Services,
endpoint eligibility, policy verdicts, mixed answers and errors."""
import unittest

import k8snet
from k8snet.policy import PolicyDB
from k8snet.trace import Trace


def pod(ns, name, ip, labels, node="n1"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "c"}]},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


WORLD = {"kind": "List", "items": [
    {"kind": "Namespace", "metadata": {"name": "x"}},
    {"kind": "Namespace", "metadata": {"name": "y"}},
    pod("x", "cli", "10.0.0.3", {"app": "cli"}),
    pod("y", "cli", "10.0.1.3", {"app": "cli"}, node="n2"),
    pod("x", "web1", "10.0.0.11", {"app": "web", "v": "1"}),
    pod("x", "web2", "10.0.0.12", {"app": "web", "v": "2"}, node="n2"),
    pod("x", "web3", "10.0.0.13", {"app": "web", "v": "3"}),
    {"kind": "Service", "metadata": {"name": "web", "namespace": "x"},
     "spec": {"clusterIP": "10.96.0.20",
              "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "web-1", "namespace": "x",
                  "labels": {"kubernetes.io/service-name": "web"}},
     "addressType": "IPv4",
     "endpoints": [
         {"addresses": ["10.0.0.11"], "conditions": {"ready": True}, "nodeName": "n1"},
         {"addresses": ["10.0.0.12"], "conditions": {"ready": True}, "nodeName": "n2"},
         {"addresses": ["10.0.0.13"], "conditions": {"ready": False}, "nodeName": "n1"}],
     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
    # Only web1 may be reached, and only from x.
    {"kind": "NetworkPolicy", "metadata": {"name": "web-in", "namespace": "x"},
     "spec": {"podSelector": {"matchLabels": {"v": "1"}},
              "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "cli"}}}],
                           "ports": [{"port": 8080}]}]}},
    {"kind": "NetworkPolicy", "metadata": {"name": "web2-closed", "namespace": "x"},
     "spec": {"podSelector": {"matchLabels": {"v": "2"}}, "policyTypes": ["Ingress"]}},
]}


class TraceTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.t = Trace(self.ctx)
        self.addCleanup(self.ctx.close)
        self.addCleanup(self.t.close)
        self.t.load_json(WORLD)

    def test_name_service_mixed(self):
        r = self.t.run("x/cli", "web", "TCP", 80)
        self.assertEqual(r.verdict, "mixed")
        self.assertEqual(r.text.splitlines()[0], "mixed")
        self.assertEqual(r.json["service"], "x/web")
        self.assertEqual(r.json["tried"], ["web.x.svc.cluster.local"])
        verdicts = {ep["pod"]: ep["verdict"] for ep in r.endpoints}
        self.assertEqual(verdicts, {"x/web1": "allow", "x/web2": "deny"})
        web2 = [ep for ep in r.endpoints if ep["pod"] == "x/web2"][0]
        self.assertIn("denied", " ".join(web2["ingress"]["reasons"]))
        self.assertIn("peer node", web2["path"])
        not_ready = [c for c in r.json["candidates"] if c["address"] == "10.0.0.13"][0]
        self.assertFalse(not_ready["eligible"])
        self.assertEqual(not_ready["why"], "not ready")

    def test_other_namespace_needs_its_name(self):
        r = self.t.run("y/cli", "web", "TCP", 80)
        self.assertEqual(r.verdict, "deny")
        self.assertIn("does not resolve", r.text)
        r = self.t.run("y/cli", "web.x", "TCP", 80)
        self.assertEqual(r.json["tried"][-1], "web.x.svc.cluster.local")
        self.assertEqual(r.verdict, "deny")   # the policy admits x's clients only

    def test_direct_and_address(self):
        self.assertEqual(self.t.run("x/cli", "x/web1", "TCP", 8080).verdict, "allow")
        self.assertEqual(self.t.run("x/cli", "x/web1", "TCP", 9090).verdict, "deny")
        self.assertEqual(self.t.run("10.0.0.3", "10.96.0.20", "TCP", 80).verdict, "mixed")
        self.assertEqual(self.t.run("x/cli", "svc:x/web", "TCP", 81).verdict, "deny")

    def test_borrowed_db(self):
        db = PolicyDB(self.ctx)
        self.addCleanup(db.close)
        db.load_json(WORLD)
        db.delete("NetworkPolicy", "x", "web2-closed")
        self.t.use_policy_db(db)
        self.assertEqual(self.t.run("x/cli", "web", "TCP", 80).verdict, "allow")

    def test_bad_input(self):
        with self.assertRaises(k8snet.NotFound):
            self.t.run("x/nobody", "web", "TCP", 80)
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            self.t.run("x/cli", "web", "ICMP", 80)
        self.assertIn("protocol", str(cm.exception))
        with self.assertRaises(k8snet.InvalidArgument):
            self.t.run("x/cli", "we b", "TCP", 80)


if __name__ == "__main__":
    unittest.main()
