"""Tests of the link bindings: Pod and Result objects without a kernel, and
attach/check/detach, bridges, VXLAN and peers in throwaway namespaces."""
import json
import os
import subprocess
import unittest
import uuid

import k8snet
from k8snet import link


class PodObjectTest(unittest.TestCase):
    def test_fields_round_trip(self):
        pod = link.Pod(container_id="c1", ifname="net1", bridge="cni0", mac="02:00:00:00:00:09",
                       mtu=1450, hairpin=True, netns="/run/netns/x",
                       addresses=[("10.0.0.5/24", "10.0.0.1"), "fd00::5/64"],
                       routes=["10.96.0.0/12", ("192.168.0.0/16", "10.0.0.254")])
        self.assertEqual((pod.container_id, pod.ifname, pod.bridge, pod.mac, pod.netns),
                         ("c1", "net1", "cni0", "02:00:00:00:00:09", "/run/netns/x"))
        self.assertEqual(pod.mtu, 1450)
        self.assertEqual(pod.flags, link.POD_F_HAIRPIN)
        self.assertEqual(link.Pod().ifname, "eth0")
        pod.close()
        pod.close()

    def test_bad_values_raise(self):
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            link.Pod(ifname="a/b")
        self.assertEqual(cm.exception.path, "ifname")
        with self.assertRaises(k8snet.InvalidArgument):
            link.Pod(addresses=["10.0.0.5"])   # no prefix
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            link.Pod(mtu=10)
        self.assertEqual(str(cm.exception), "[Errno 34] mtu: 10 out of range: must be 68..65535 (or 0)")
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            link.Pod(addresses=["10.0.0.0/ 24"])
        self.assertIn("address: '10.0.0.0/ 24' is not an address with a prefix", str(cm.exception))
        with self.assertRaises(k8snet.Exists):
            link.Pod(addresses=["10.0.0.5/24", "10.0.0.5/24"])

    def test_host_ifname(self):
        name = link.host_ifname("abc", "eth0")
        self.assertEqual(name, link.host_ifname("abc"))
        self.assertNotEqual(name, link.host_ifname("abc", "net1"))
        self.assertTrue(name.startswith("veth") and len(name) == 15, name)
        with self.assertRaises(k8snet.InvalidArgument):
            link.host_ifname("")

    def test_attach_validates_before_the_kernel(self):
        with k8snet.Context() as ctx:
            with self.assertRaises(k8snet.InvalidArgument) as cm:
                link.attach(ctx, link.Pod(bridge="cni0"))
            self.assertEqual(cm.exception.path, "pod.container_id")


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces")
class LinkNetnsTest(unittest.TestCase):
    def ns(self, tag):
        name = "k8st-py%s-%d-%s" % (tag, os.getpid(), uuid.uuid4().hex[:6])
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", name])
        return name

    def sh(self, ns, *cmd):
        return subprocess.run(["ip", "-n", ns, *cmd], check=True, capture_output=True,
                              text=True).stdout

    def test_attach_check_detach(self):
        node, pod_ns = self.ns("node"), self.ns("pod")
        with k8snet.Context(netns="/run/netns/" + node) as ctx:
            link.node_setup(ctx)
            self.assertTrue(link.bridge_ensure(ctx, "cni0", ["10.77.0.1/24"], mtu=1400))
            self.assertFalse(link.bridge_ensure(ctx, "cni0", ["10.77.0.1/24"]))
            pod = link.Pod(netns="/run/netns/" + pod_ns, container_id="py1", bridge="cni0",
                           addresses=[("10.77.0.9/24", "10.77.0.1")], routes=["10.96.0.0/12"])
            result = link.attach(ctx, pod)
            names = [i["name"] for i in result.interfaces]
            self.assertEqual(names, ["cni0", link.host_ifname("py1"), "eth0"])
            self.assertEqual(result.interfaces[2]["mtu"], 1400)
            self.assertEqual(result.ips, [{"address": "10.77.0.9/24", "gateway": "10.77.0.1",
                                           "interface": 2}])
            self.assertEqual([r["dst"] for r in result.routes], ["0.0.0.0/0", "10.96.0.0/12"])
            cni = result.to_dict("1.0.0")
            self.assertEqual(cni["cniVersion"], "1.0.0")
            self.assertEqual(cni["interfaces"][2]["mac"], result.interfaces[2]["mac"])
            self.assertIn(result.interfaces[2]["mac"], self.sh(pod_ns, "link", "show", "eth0"))
            self.assertIn("10.77.0.9/24", self.sh(pod_ns, "addr", "show", "eth0"))
            link.check_pod(ctx, pod)
            self.sh(pod_ns, "route", "del", "10.96.0.0/12")
            with self.assertRaises(k8snet.Error) as cm:
                link.check_pod(ctx, pod)
            self.assertIn("route 10.96.0.0/12 via 10.77.0.1 missing", str(cm.exception))
            self.assertTrue(link.detach(ctx, pod))
            self.assertFalse(link.detach(ctx, pod))
            with self.assertRaises(k8snet.NotFound):
                link.check_pod(ctx, pod)
            with self.assertRaises(k8snet.Error) as cm:
                link.attach(ctx, link.Pod(netns="/run/netns/" + pod_ns, container_id="py2",
                                          bridge="nope0"))
            self.assertIn("nope0", str(cm.exception))

    def test_pod_by_fd_and_vxlan_peer(self):
        node, pod_ns = self.ns("node"), self.ns("pod")
        with k8snet.Context(netns="/run/netns/" + node) as ctx:
            link.bridge_ensure(ctx, "cni0", ["10.78.0.1/24"])
            fd = os.open("/run/netns/" + pod_ns, os.O_RDONLY)
            try:
                pod = link.Pod(netns=fd, container_id="py3", bridge="cni0",
                               addresses=["10.78.0.3/24"])
            finally:
                os.close(fd)
            link.attach(ctx, pod).close()
            self.assertIn("10.78.0.3/24", self.sh(pod_ns, "addr", "show", "eth0"))
            self.assertTrue(link.vxlan_ensure(ctx, "vx0", 5, "192.0.2.1"))
            self.assertFalse(link.vxlan_ensure(ctx, "vx0", 5, "192.0.2.1"))
            link.peer_add(ctx, "vxlan", "10.79.0.0/24", "192.0.2.2", dev="vx0")
            self.assertIn("10.79.0.0/24 via 10.79.0.0 dev vx0", self.sh(node, "route"))
            fdb = subprocess.run(["bridge", "-n", node, "fdb", "show", "dev", "vx0"],
                                 capture_output=True, text=True).stdout
            self.assertIn("0a:58:c0:00:02:02 dst 192.0.2.2", fdb)
            link.peer_del(ctx, "vxlan", "10.79.0.0/24", "192.0.2.2", dev="vx0")
            link.peer_del(ctx, "vxlan", "10.79.0.0/24", "192.0.2.2", dev="vx0")
            self.assertNotIn("10.79.0.0/24", self.sh(node, "route"))
            self.assertTrue(link.detach(ctx, pod))


if __name__ == "__main__":
    unittest.main()
