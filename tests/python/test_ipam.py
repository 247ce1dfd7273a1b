"""Tests of the IPAM bindings: pools, prefix pools, state files, config."""
import os
import shutil
import tempfile
import unittest

import k8snet
from k8snet import ipam


class PoolTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.dir = tempfile.mkdtemp(prefix="k8snet-py-ipam-")

    def tearDown(self):
        self.ctx.close()
        shutil.rmtree(self.dir)

    def test_alloc_release_lookup(self):
        with ipam.Pool(self.ctx, ["10.0.0.0/29"], exclude=["10.0.0.2"]) as pool:
            self.assertEqual(pool.alloc("c1", "eth0"), "10.0.0.1/29")
            self.assertEqual(pool.alloc("c1", "eth0"), "10.0.0.1/29")
            self.assertEqual(pool.alloc("c2", "eth0"), "10.0.0.3/29")
            self.assertEqual(pool.alloc("c3", "eth0", want="10.0.0.6"), "10.0.0.6/29")
            self.assertEqual(pool.lookup("c2", "eth0"), "10.0.0.3/29")
            self.assertIsNone(pool.lookup("nobody", "eth0"))
            self.assertEqual(len(pool), 3)
            self.assertEqual(pool.allocations(),
                             [("10.0.0.1/29", "c1", "eth0"), ("10.0.0.3/29", "c2", "eth0"),
                              ("10.0.0.6/29", "c3", "eth0")])
            self.assertTrue(pool.release("c1", "eth0"))
            self.assertFalse(pool.release("c1", "eth0"))
            self.assertTrue(pool.release_addr("10.0.0.3"))
            self.assertEqual(pool.gc([("c3", "eth0")]), 0)
            self.assertEqual(pool.gc([]), 1)

    def test_errors(self):
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            ipam.Pool(self.ctx, ["10.0.0.0/024"])
        self.assertIn("not a CIDR", str(cm.exception))
        self.assertEqual(cm.exception.path, "subnet")
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            ipam.Pool(self.ctx, [{"subnet": "10.0.0.0/24", "rangeStart": "10.0.1.1"}])
        self.assertEqual(cm.exception.path, "rangeStart")
        pool = ipam.Pool(self.ctx, [{"subnet": "10.0.0.0/30", "gateway": "10.0.0.1"}])
        self.assertEqual(pool.gateway("10.0.0.2"), "10.0.0.1")
        pool.alloc("a")
        with self.assertRaises(k8snet.NoSpace) as cm:
            pool.alloc("b")
        self.assertIn("exhausted", str(cm.exception))
        with self.assertRaises(k8snet.Exists):
            pool.alloc("b", want="10.0.0.2")
        with self.assertRaises(k8snet.InvalidArgument):
            pool.alloc("b", want="10.9.9.9")
        pool.close()

    def test_state_file_and_strategies(self):
        path = os.path.join(self.dir, "pods.state")
        a = ipam.Pool(self.ctx, ["fd00::/64"], strategy=ipam.LOWEST_FREE, state_file=path)
        b = ipam.Pool(self.ctx, ["fd00::/64"], strategy=ipam.LOWEST_FREE, state_file=path)
        self.assertEqual(a.alloc("x", "eth0"), "fd00::1/64")
        self.assertEqual(b.alloc("y", "eth0"), "fd00::2/64")
        a.release("x", "eth0")
        self.assertEqual(b.alloc("z", "eth0"), "fd00::1/64")
        self.assertEqual([o for _, o, _ in a], ["z", "y"])
        a.close()
        b.close()
        with open(path, "w") as f:
            f.write("garbage\n")
        with self.assertRaises(k8snet.Error) as cm:
            ipam.Pool(self.ctx, ["fd00::/64"], state_file=path)
        self.assertIn("not a libk8snet IPAM state file", str(cm.exception))

    def test_prefix_pool(self):
        with ipam.Pool(self.ctx, ["10.244.0.0/16"], prefixes=True) as nodes:
            self.assertEqual(nodes.alloc("node-a"), "10.244.0.0/24")
            self.assertEqual(nodes.alloc("node-b"), "10.244.1.0/24")
        with ipam.Pool(self.ctx, ["10.244.0.0/16"], prefixes=True, block_len=20) as nodes:
            self.assertEqual(nodes.alloc("node-a"), "10.244.0.0/20")
            self.assertEqual(nodes.alloc("node-b"), "10.244.16.0/20")


class ConfigTest(unittest.TestCase):
    def test_host_local_config(self):
        ctx = k8snet.Context()
        conf = {"cniVersion": "1.0.0", "name": "pods", "type": "bridge",
                "ipam": {"type": "host-local",
                         "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "fd01::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd01::1"}],
                         "dataDir": "/tmp/x"}}
        with ipam.Config(ctx, conf) as cfg:
            self.assertEqual(len(cfg), 2)
            self.assertEqual(cfg.data_dir, "/tmp/x")
            self.assertEqual(cfg.routes, [("0.0.0.0/0", None), ("::/0", "fd01::1")])
            with cfg.pool(1) as pool:
                self.assertEqual(pool.alloc("c1", "eth0"), "fd01::2/64")
                self.assertEqual(pool.gateway("fd01::2"), "fd01::1")
            with self.assertRaises(k8snet.NotFound):
                cfg.pool(2)
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            ipam.Config(ctx, {"ipam": {"ranges": [[{"subnet": "10.1.0.0/24",
                                                     "rangeEnd": "10.2.0.1"}]]}})
        self.assertEqual(cm.exception.path, "ipam.ranges[0][0].rangeEnd")
        ctx.close()


if __name__ == "__main__":
    unittest.main()
