"""Tests of the host-port bindings: mappings, owners, conflicts, check, gc,
networks, in a throwaway namespace (root)."""
import errno
import os
import subprocess
import unittest
import uuid

import k8snet
from k8snet import hostport


class PortMapTest(unittest.TestCase):
    def test_add_and_errors(self):
        with hostport.PortMap([("tcp", 8080, "10.88.0.5", 80),
                               ("udp", "127.0.0.1", 5353, "10.88.0.5", 53)]) as pm:
            self.assertEqual(len(pm), 2)
            with self.assertRaises(k8snet.InvalidArgument):
                pm.add("tcp", 70000, "10.88.0.5", 80)
            with self.assertRaises(k8snet.InvalidArgument):
                pm.add("tcp", "::1", 8080, "10.88.0.5", 80)   # a host address of another family
            with self.assertRaises(KeyError):
                pm.add("icmp", 8080, "10.88.0.5", 80)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class HostPortsTest(unittest.TestCase):
    def setUp(self):
        self.ns = "k8st-pyhp-%s" % uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])
        self.ctx = k8snet.Context(netns="/run/netns/" + self.ns)
        self.addCleanup(self.ctx.close)
        self.hp = hostport.HostPorts(self.ctx)
        self.addCleanup(self.hp.close)

    def listing(self):
        return subprocess.run(["ip", "netns", "exec", self.ns, "nft", "list", "table", "inet",
                               "k8snet-hostports"], check=True, capture_output=True,
                              text=True).stdout

    def test_owners(self):
        a = [("tcp", 8080, "10.88.0.5", 80), ("tcp", "::", 8080, "fd00::5", 80)]
        self.assertEqual(self.hp.set("net/a/eth0", a), 2)
        self.hp.check("net/a/eth0", a)
        text = self.listing()
        self.assertIn('tcp . 8080 comment "net/a/eth0" : 10.88.0.5 . 80', text)
        self.assertIn('tcp . 8080 comment "net/a/eth0" : fd00::5 . 80', text)
        with self.assertRaises(k8snet.Error) as cm:
            self.hp.set("net/b/eth0", [("tcp", 8080, "10.88.0.6", 80)])
        self.assertEqual(cm.exception.errno, errno.EADDRINUSE)
        self.assertIn("held by net/a/eth0", cm.exception.strerror)
        self.assertEqual(self.hp.remove("net/b/eth0"), 0)     # the loser's DEL
        self.hp.check("net/a/eth0", a)
        with self.assertRaises(k8snet.Error):
            self.hp.check("net/a/eth0", a[:1])
        self.hp.set("net/c/eth0", [("udp", 53, "10.88.0.7", 53)])
        self.assertEqual(self.hp.gc(["net/a/eth0"], prefix="net/"), 1)
        self.assertEqual(self.hp.remove("net/a/eth0"), 2)
        self.assertNotIn("elements", self.listing())

    def test_network(self):
        self.hp.set_network("pods", ["10.88.0.0/16", "fd00::/64"], masquerade=True)
        text = self.listing()
        self.assertIn("chain net-pods", text)
        self.assertIn("ip saddr 10.88.0.0/16 ip daddr != 10.88.0.0/16", text)
        self.hp.set_network("pods", [])
        self.assertNotIn("net-pods", self.listing())
        with self.assertRaises(k8snet.InvalidArgument):
            self.hp.set_network("pods", ["10.88.0.0/40"])


if __name__ == "__main__":
    unittest.main()
