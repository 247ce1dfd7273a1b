"""NetworkPolicy sync from Python: a full sync, and a table deleted behind
the database's back rebuilt by the next sync (root, throwaway namespace)."""
import os
import subprocess
import unittest
import uuid

import k8snet
from k8snet import policy

DOC = {"kind": "List", "apiVersion": "v1", "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x",
                                                     "labels": {"app": "a"}},
     "spec": {"nodeName": "n1"}, "status": {"podIPs": [{"ip": "10.244.0.5"}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "deny", "namespace": "x"},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
]}


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PolicySyncTest(unittest.TestCase):
    def setUp(self):
        owner = os.environ.get("K8ST_OWNER")
        self.ns = "k8st-%spypol-%s" % (owner + "-" if owner else "", uuid.uuid4().hex[:8])
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])

    def nft(self, *args):
        return subprocess.run(["ip", "netns", "exec", self.ns, "nft"] + list(args), check=True,
                              capture_output=True, text=True).stdout

    def test_full_and_drift(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with policy.PolicyDB(ctx) as db:
                db.load_json(DOC)
                db.sync("n1")
                self.assertIn("10.244.0.5", self.nft("list", "ruleset"))
                self.nft("delete", "table", "inet", "k8snet-policy")
                db.sync("n1")
                self.assertIn("10.244.0.5", self.nft("list", "ruleset"))
                db.sync("n1", full=True)
                self.assertIn("10.244.0.5", self.nft("list", "ruleset"))


if __name__ == "__main__":
    unittest.main()
