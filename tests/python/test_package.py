"""The package's promises to its users apart from the C calls: type hints on
every public function, the py.typed marker, one string taken as one address
where addresses are taken, iterators where lists can be large."""
import inspect
import os
import unittest

import k8snet
from k8snet import _lib, core, dns, hostport, ipam, link, nat, observe, policy, trace

MODULES = (core, dns, hostport, ipam, link, nat, observe, policy, trace)
PACKAGE_DIR = os.path.dirname(k8snet.__file__)


def public_functions(module):
    """(qualified name, function) of the module's public functions and of
    its public classes' public methods and properties."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield "%s.%s" % (module.__name__, name), obj
        elif inspect.isclass(obj) and not issubclass(obj, (int, tuple)):
            for mname, member in vars(obj).items():
                if mname.startswith("_") and mname != "__init__":
                    continue
                if isinstance(member, property):
                    for f in (member.fget, member.fset):
                        if f is not None:
                            yield "%s.%s.%s" % (module.__name__, name, mname), f
                elif inspect.isfunction(member):
                    yield "%s.%s.%s" % (module.__name__, name, mname), member


class TestTypeHints(unittest.TestCase):

    def test_py_typed(self):
        self.assertTrue(os.path.exists(os.path.join(PACKAGE_DIR, "py.typed")))

    def test_public_functions_are_annotated(self):
        missing = []
        for qualname, f in (p for m in MODULES for p in public_functions(m)):
            sig = inspect.signature(f)
            for pname, param in sig.parameters.items():
                if pname in ("self", "cls"):
                    continue
                if param.annotation is param.empty:
                    missing.append("%s(%s)" % (qualname, pname))
            if sig.return_annotation is sig.empty:
                missing.append("%s -> ?" % qualname)
        self.assertEqual(missing, [], "public functions without type hints")

    def test_hints_resolve(self):
        """The annotations are strings (from __future__ import annotations):
        each must name something real."""
        import typing
        for qualname, f in (p for m in MODULES for p in public_functions(m)):
            with self.subTest(qualname):
                typing.get_type_hints(f)


class TestOneOrMany(unittest.TestCase):

    def test_one_or_many(self):
        self.assertEqual(_lib.one_or_many("10.0.0.1"), ["10.0.0.1"])
        self.assertEqual(_lib.one_or_many(["10.0.0.1", "10.0.0.2"]), ["10.0.0.1", "10.0.0.2"])
        self.assertEqual(_lib.one_or_many(x for x in ("a",)), ["a"])
        self.assertEqual(_lib.one_or_many(None), [])

    def test_set_pod_one_string(self):
        """set_pod(ips="10.0.0.1") is one address, not nine characters."""
        with k8snet.Context() as ctx, policy.PolicyDB(ctx) as db:
            db.set_namespace("x", {"ns": "x"})
            db.set_pod("x", "a", {"app": "a"}, ips="10.0.0.1")
            db.set_pod("x", "b", {"app": "b"}, ips=["10.0.0.2", "fd00::2"])
            verdict = db.check("10.0.0.2", "10.0.0.1", "TCP", 80)
            self.assertTrue(verdict.allowed)
            self.assertTrue(any("x/a" in r for r in verdict.reasons), verdict.reasons)

    def test_pod_one_address(self):
        pod = link.Pod(container_id="c1", addresses="10.244.1.5/24", routes="10.96.0.0/12")
        pod.close()
        with self.assertRaises(k8snet.InvalidArgument):
            link.Pod(container_id="c1", addresses="1")  # one bad address, not a character

    def test_ipam_one_range_one_exclusion(self):
        with k8snet.Context() as ctx, ipam.Pool(ctx, "10.9.0.0/29",
                                                exclude="10.9.0.2/32") as pool:
            got = {pool.alloc("c%d" % i) for i in range(4)}
            self.assertNotIn("10.9.0.2/29", got)

    def test_proxy_one_cidr(self):
        with k8snet.Context() as ctx, nat.Proxy(ctx, cluster_cidrs="10.244.0.0/16",
                                                 node_ips="192.0.2.1") as proxy:
            self.assertIn("10.244.0.0/16", proxy.render())


class TestIterators(unittest.TestCase):

    def setUp(self):
        self.ctx = k8snet.Context()
        self.pool = ipam.Pool(self.ctx, ["10.8.0.0/28"])
        for i in range(5):
            self.pool.alloc("c%d" % i, "eth0")

    def tearDown(self):
        self.pool.close()
        self.ctx.close()

    def test_iter_allocations_is_an_iterator(self):
        it = self.pool.iter_allocations()
        self.assertIs(iter(it), it)
        first = next(it)
        self.assertEqual(len(first), 3)
        self.assertEqual([first] + list(it), self.pool.allocations())

    def test_allocations_still_a_list(self):
        allocs = self.pool.allocations()
        self.assertIsInstance(allocs, list)
        self.assertEqual(len(allocs), 5)
        self.assertEqual(list(self.pool), allocs)

    def test_foreach_streams_and_stops(self):
        seen = []
        self.assertEqual(self.pool.foreach(lambda *a: seen.append(a)), 5)
        self.assertEqual(seen, self.pool.allocations())
        seen.clear()
        self.assertEqual(self.pool.foreach(lambda *a: seen.append(a) or len(seen) < 2), 2)
        self.assertEqual(len(seen), 2)

    def test_foreach_raises_what_the_callback_raised(self):
        def boom(cidr, owner, ifname):
            raise KeyError(owner)
        with self.assertRaises(KeyError):
            self.pool.foreach(boom)

    def test_skipped_is_an_iterator(self):
        with nat.Proxy(self.ctx) as proxy:
            it = proxy.skipped()
            self.assertIs(iter(it), it)
            self.assertEqual(list(it), [])


if __name__ == "__main__":
    unittest.main()
