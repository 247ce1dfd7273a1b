"""Tests of the core bindings: version, context, namespaces, errors, logging."""
import os
import subprocess
import sys
import unittest
import uuid

import k8snet
from k8snet import _lib


class VersionTest(unittest.TestCase):
    def test_version(self):
        v = k8snet.version()
        major, minor, patch = (int(x) for x in v.split("."))
        self.assertEqual(k8snet.version_num(), (major << 16) | (minor << 8) | patch)


class ContextTest(unittest.TestCase):
    def test_lifetime(self):
        with k8snet.Context() as ctx:
            self.assertGreaterEqual(ctx.netns_fd, 0)
            self.assertEqual(ctx.error, "")
            self.assertEqual(ctx.errno, 0)
        with self.assertRaises(ValueError):
            ctx.netns_fd
        ctx.close()  # twice is fine

    def test_objects_outlive_a_closed_context(self):
        # The objects hold their own reference: closing the context first
        # used to leave them writing errors into freed memory.  A child
        # with MALLOC_PERTURB_ makes such a write fatal.
        code = """
import k8snet
from k8snet import ipam, nat, policy
ctx = k8snet.Context()
pool = ipam.Pool(ctx, ["10.244.1.0/24"])
proxy = nat.Proxy(ctx)
db = policy.PolicyDB(ctx)
ctx.close()
try:
    pool.alloc("c1", "eth0", want="10.9.9.9")
except k8snet.Error as e:
    assert "10.9.9.9" in str(e), e
else:
    raise SystemExit("no error")
try:
    proxy.load_json("{")
except k8snet.Error as e:
    assert str(e), e
print(pool.alloc("c2", "eth0"))
pool.close(); proxy.close(); db.close()
"""
        env = dict(os.environ, MALLOC_PERTURB_="165", MALLOC_CHECK_="3")
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("10.244.1.", r.stdout)

    def test_bad_netns_raises_with_message(self):
        ctx = k8snet.Context()
        with self.assertRaises(k8snet.NotFound) as cm:
            ctx.set_netns("/nonexistent/ns")
        self.assertIn("/nonexistent/ns", str(cm.exception))
        self.assertIsInstance(cm.exception, OSError)
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            ctx.set_netns("/proc/self/status")
        self.assertIn("not a network namespace", cm.exception.strerror)
        self.assertEqual(ctx.errno, -22)
        ctx.clear_error()
        self.assertEqual(ctx.error, "")

    def test_log_priority(self):
        ctx = k8snet.Context()
        self.assertEqual(ctx.log_priority, 3)
        ctx.log_priority = 7
        self.assertEqual(ctx.log_priority, 7)
        with self.assertRaises(k8snet.InvalidArgument):
            ctx.log_priority = 42

    def test_log_callback_receives_debug(self):
        seen = []
        ctx = k8snet.Context()
        ctx.set_log(lambda prio, msg: seen.append((prio, msg)), priority=7)
        with self.assertRaises(k8snet.NotFound):
            ctx.set_netns("/nonexistent/ns2")
        self.assertTrue(any("/nonexistent/ns2" in m for _, m in seen), seen)
        ctx.set_log(None)

    def test_strerror(self):
        self.assertEqual(k8snet.strerror(-28), "No space left on device")
        self.assertEqual(_lib.strerror(28), "No space left on device")

    def test_error_classes(self):
        with self.assertRaises(k8snet.NoSpace):
            _lib.check(-28)
        with self.assertRaises(k8snet.Exists):
            _lib.check(-17)
        with self.assertRaises(k8snet.Error):
            _lib.check(-5)
        self.assertEqual(_lib.check(3), 3)


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces")
class NetnsTest(unittest.TestCase):
    def setUp(self):
        self.ns = "k8st-py-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])

    def test_describe_sees_namespace(self):
        subprocess.run(["ip", "-n", self.ns, "link", "add", "k8stpy0", "type", "veth", "peer", "name", "k8stpy1"],
                       check=True)
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            ctx.connect()
            seen = ctx.describe()
        names = sorted(link["name"] for link in seen["links"])
        self.assertEqual(names, ["k8stpy0", "k8stpy1", "lo"])
        self.assertEqual(seen["nftables_tables"], [])

    def test_bind_by_fd(self):
        fd = os.open("/run/netns/" + self.ns, os.O_RDONLY)
        try:
            ctx = k8snet.Context()
            ctx.set_netns(fd)
        finally:
            os.close(fd)
        self.assertEqual([l["name"] for l in ctx.describe()["links"]], ["lo"])


class AddressTest(unittest.TestCase):
    """The library's one address parser, as scripts see it."""

    def test_canonical(self):
        self.assertEqual(k8snet.cidr_parse("10.244.1.5/16", network=True), "10.244.0.0/16")
        self.assertEqual(k8snet.cidr_parse("10.244.1.5/24"), "10.244.1.5/24")
        self.assertEqual(k8snet.cidr_parse("fd00::1", address=True), "fd00::1/128")
        self.assertEqual(k8snet.addr_parse("FD00:0::1"), "fd00::1")

    def test_refusals_say_what(self):
        for text in ("10.244.0.0/016", "10.244.0.0/ 16", "10.244.0.0"):
            with self.assertRaises(k8snet.InvalidArgument) as cm:
                k8snet.cidr_parse(text, network=True)
            self.assertIn("'%s': not a CIDR" % text, str(cm.exception))
        with self.assertRaises(k8snet.InvalidArgument):
            k8snet.addr_parse("010.0.0.1")


if __name__ == "__main__":
    unittest.main()
