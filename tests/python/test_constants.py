"""Every constant of the C headers has its Python twin, with the same value.

The headers (include/k8snet/*.h) are parsed for ``#define K8SNET_...`` with
an integer value and for the constants of ``enum`` declarations; the Python
side is what the modules registered with ``_lib.c_constants()`` (the
IntEnum/IntFlag classes) and ``_lib.c_constant()``.  A constant missing on
either side, or with another value, fails.
"""
import enum
import glob
import os
import re
import unittest

import k8snet
from k8snet import _lib, core, dns, hostport, ipam, link, nat, observe, policy, trace  # noqa: F401 (registers)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")
BUILDDIR = os.environ.get("top_builddir") or SRCDIR
HEADERS = os.path.join(SRCDIR, "include", "k8snet")

# version.h describes the headers' release (the library's is k8snet.version()
# at run time): checked apart, below.
NOT_CONSTANTS = {"version.h"}

_DEFINE = re.compile(r"^\s*#\s*define\s+(K8SNET_\w+)(\(?)(.*)$")
_INT_SUFFIX = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b")
_SAFE_EXPR = re.compile(r"^[0-9a-fA-FxX\s()<>|&~+\-*]*$")


def c_value(expr):
    """The integer value of a C constant expression as the headers write
    them (1u, 0x2u, (1u << 3), 65536); None when it is not one."""
    expr = re.sub(r"/\*.*?\*/", "", expr).strip()
    expr = _INT_SUFFIX.sub(r"\1", expr)
    if not expr or not _SAFE_EXPR.match(expr):
        return None
    try:
        return int(eval(expr, {"__builtins__": {}}))  # digits and operators only
    except (SyntaxError, ValueError, TypeError):
        return None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def header_constants(path):
    """{name: value} of one header, and the names it could not evaluate."""
    found, unknown = {}, []
    with open(path) as f:
        text = f.read()
    # #defines: one logical line each (a trailing backslash continues it).
    for line in strip_comments(text).replace("\\\n", " ").splitlines():
        m = _DEFINE.match(line)
        if not m:
            continue
        name, function_like, rest = m.groups()
        if function_like or name.endswith("_H") or not rest.strip():
            continue  # macros with arguments, include guards, flags for #ifdef
        value = c_value(rest)
        if value is None:
            unknown.append(name)
        else:
            found[name] = value
    # enums: implicit values count on from the previous one.
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", strip_comments(text), flags=re.S):
        nxt = 0
        for item in filter(None, (i.strip() for i in body.split(","))):
            name, _, expr = item.partition("=")
            name = name.strip()
            value = c_value(expr) if expr else nxt
            if value is None:
                unknown.append(name)
                continue
            if name.startswith("K8SNET_"):
                found[name] = value
            nxt = value + 1
    return found, unknown


def all_header_constants():
    found, unknown = {}, []
    for path in sorted(glob.glob(os.path.join(HEADERS, "*.h"))):
        if os.path.basename(path) in NOT_CONSTANTS:
            continue
        f, u = header_constants(path)
        found.update(f)
        unknown.extend(u)
    return found, unknown


class TestParser(unittest.TestCase):
    """The parser itself: a constant it cannot read must not vanish."""

    def test_values(self):
        self.assertEqual(c_value("0x2u"), 2)
        self.assertEqual(c_value("(1u << 3) /* bit */"), 8)
        self.assertEqual(c_value("65536"), 65536)
        self.assertIsNone(c_value('"k8snet"'))
        self.assertIsNone(c_value("__attribute__((visibility(\"default\")))"))

    def test_enum_and_define(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".h", delete=False) as f:
            f.write("#ifndef K8SNET_X_H\n#define K8SNET_X_H\n"
                    "#define K8SNET_A 0x4u /* a */\n#define K8SNET_F(x) (x)\n"
                    "enum k8snet_e { K8SNET_E0, K8SNET_E5 = 5, K8SNET_E6, };\n"
                    "#define K8SNET_S \"text\"\n#endif\n")
        try:
            found, unknown = header_constants(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(found, {"K8SNET_A": 4, "K8SNET_E0": 0, "K8SNET_E5": 5, "K8SNET_E6": 6})
        self.assertEqual(unknown, ["K8SNET_S"])


class TestConstants(unittest.TestCase):

    def test_headers_parse(self):
        found, unknown = all_header_constants()
        self.assertGreater(len(found), 50, "no constants found in %s" % HEADERS)
        self.assertEqual(unknown, [], "constants whose value this test cannot read")

    def test_every_c_constant_in_python(self):
        found, _ = all_header_constants()
        missing = sorted(set(found) - set(_lib.C_CONSTANTS))
        self.assertEqual(missing, [], "in the headers, not in the Python modules "
                         "(add them to an IntEnum with @_lib.c_constants)")

    def test_no_python_constant_without_c(self):
        found, _ = all_header_constants()
        stale = sorted(set(_lib.C_CONSTANTS) - set(found))
        self.assertEqual(stale, [], "in the Python modules, no longer in the headers")

    def test_same_values(self):
        found, _ = all_header_constants()
        differ = {name: (found[name], _lib.C_CONSTANTS[name])
                  for name in found if name in _lib.C_CONSTANTS
                  and found[name] != _lib.C_CONSTANTS[name]}
        self.assertEqual(differ, {}, "name: (C value, Python value)")

    def test_headers_release_is_the_library_s(self):
        path = os.path.join(BUILDDIR, "include", "k8snet", "version.h")
        if not os.path.exists(path):
            self.skipTest("no generated version.h (not configured)")
        with open(path) as f:
            m = re.search(r'#define K8SNET_VERSION_STRING "([^"]*)"', f.read())
        self.assertEqual(m.group(1), k8snet.version())


class TestEnums(unittest.TestCase):
    """The enums are ints to ctypes and to old code, and the old names stay."""

    def test_old_names_are_the_members(self):
        self.assertIs(nat.PROXY_FLAGS, nat.ProxyAttr.FLAGS)
        self.assertIs(nat.TYPE_NODE_PORT, nat.ServiceType.NODE_PORT)
        self.assertIs(nat.IP_SOURCE_RANGE, nat.IPKind.SOURCE_RANGE)
        self.assertIs(link.PEER_VXLAN, link.PeerMode.VXLAN)
        self.assertIs(ipam.LOWEST_FREE, ipam.Strategy.LOWEST_FREE)
        self.assertIs(hostport.F_NO_HAIRPIN, hostport.NetworkFlag.NO_HAIRPIN)
        self.assertIs(policy.HOST_NETWORK, policy.PodFlag.HOST_NETWORK)
        self.assertEqual(dns.KINDS["dns1035"], dns.Kind.DNS1035_LABEL)

    def test_ints(self):
        self.assertEqual(nat.F_MASQUERADE_ALL | nat.F_ROUND_ROBIN, 3)
        self.assertIsInstance(nat.ProxyFlag.MASQUERADE_ALL | nat.ProxyFlag.ROUND_ROBIN,
                              nat.ProxyFlag)
        self.assertEqual(link.PodAttr.MTU, 5)  # numbered from 0 since 0.2

    def test_every_family_is_registered(self):
        """An IntEnum or IntFlag in a module is a family of C constants."""
        for module in (core, dns, hostport, ipam, link, nat, observe, policy, trace):
            for name, obj in vars(module).items():
                if isinstance(obj, type) and issubclass(obj, enum.Enum) \
                        and obj.__module__ == module.__name__:
                    self.assertTrue(hasattr(obj, "_c_prefix"),
                                    "%s.%s: no @_lib.c_constants" % (module.__name__, name))


if __name__ == "__main__":
    unittest.main()
