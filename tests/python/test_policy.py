"""Tests of the NetworkPolicy bindings: model, validation errors, evaluator,
render, and sync into a throwaway namespace."""
import os
import subprocess
import unittest
import uuid

import k8snet
from k8snet.policy import PolicyDB, selector_match

POLICY = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "web-in", "namespace": "x"},
    "spec": {"podSelector": {"matchLabels": {"app": "web"}},
             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "cli"}}}],
                          "ports": [{"port": "http"}]}]},
}


def world(db):
    db.set_namespace("x", {"team": "a"})
    db.set_pod("x", "web", {"app": "web"}, ["10.0.0.2"], node="n1")
    db.add_pod_port("x", "web", "TCP", 8080, name="http")
    db.set_pod("x", "cli", "app=cli", ["10.0.0.3"], node="n1")
    db.load_json(POLICY)


class PolicyTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.db = PolicyDB(self.ctx)
        self.addCleanup(self.ctx.close)
        self.addCleanup(self.db.close)

    def test_check_explains(self):
        world(self.db)
        v = self.db.check("x/cli", "x/web", "TCP", 8080)
        self.assertTrue(v.allowed)
        self.assertIn("ingress: allowed by x/web-in ingress[0] from[0] ports[0]", v.reasons)
        v = self.db.check("10.0.0.3", "x/web", "TCP", 8081)
        self.assertFalse(v.allowed)
        self.assertTrue(any("denied" in line for line in v.reasons))
        self.db.delete("NetworkPolicy", "x", "web-in")
        self.assertTrue(self.db.check("x/cli", "x/web", "TCP", 8081).allowed)

    def test_errors_name_the_field(self):
        bad = dict(POLICY, spec={"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 70}]}]})
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            self.db.load_json({"kind": "List", "items": [bad]})
        self.assertEqual(cm.exception.path, "items[0].spec.ingress[0].ports[0].endPort")
        with self.assertRaises(k8snet.NotFound):
            self.db.check("x/nope", "10.0.0.1", "TCP", 80)
        with self.assertRaises(k8snet.InvalidArgument):
            self.db.check("x/nope", "10.0.0.1", "ICMP", 80)
        with self.assertRaises(k8snet.InvalidArgument):
            self.db.set_pod("x", "p", "bad label", [])

    def test_selector(self):
        self.assertTrue(selector_match(self.ctx, "a in (x,y),!b", {"a": "y"}))
        self.assertFalse(selector_match(self.ctx, "a notin (x,y)", "a=x"))
        with self.assertRaises(k8snet.InvalidArgument):
            selector_match(self.ctx, "a in (", "")

    def test_render(self):
        world(self.db)
        text = self.db.render("n1")
        self.assertIn("table inet k8snet-policy", text)
        self.assertIn('comment "x/web-in ingress[0] from[0] ports[0]"', text)
        self.assertIn("10.0.0.2 . tcp . 8080", text)


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces")
class SyncTest(unittest.TestCase):
    def setUp(self):
        self.ns = "k8st-pypol-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])

    def nft(self):
        return subprocess.run(["ip", "netns", "exec", self.ns, "nft", "list", "ruleset"],
                              check=True, capture_output=True, text=True).stdout

    def test_sync_and_delta(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx, PolicyDB(ctx) as db:
            world(db)
            db.sync("n1")
            self.assertIn("10.0.0.2 : jump gin-", self.nft())
            db.set_pod("x", "web2", {"app": "web"}, ["10.0.0.9"], node="n1")
            db.sync("n1")
            self.assertIn("10.0.0.9 : jump gin-", self.nft())
            db.delete("NetworkPolicy", "x", "web-in")
            db.sync("n1")
            self.assertNotIn("web-in", self.nft())

    def test_sync_heals_a_table_changed_behind_its_back(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx, PolicyDB(ctx) as db:
            world(db)
            db.sync("n1")
            subprocess.run(["ip", "netns", "exec", self.ns, "nft", "delete", "table", "inet",
                            "k8snet-policy"], check=True)
            db.set_pod("x", "web3", {"app": "web"}, ["10.0.0.10"], node="n1")
            db.sync("n1")  # the delta fails in the kernel; the table is rebuilt whole
            out = self.nft()
            self.assertIn("10.0.0.10 : jump gin-", out)
            self.assertIn("10.0.0.2 : jump gin-", out)


if __name__ == "__main__":
    unittest.main()
