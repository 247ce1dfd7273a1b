"""Trace: follow one connection hop by hop, from a DNS name through a
Service to every endpoint that may answer, with the policy verdicts at both
ends and the path (``k8snet/trace.h``).

    from k8snet import Context
    from k8snet.trace import Trace

    with Context() as ctx, Trace(ctx) as t:
        t.load_json(open("cluster.json").read())
        result = t.run("x/client", "web", "TCP", 80)
        print(result.verdict)            # "allow", "deny" or "mixed"
        for ep in result.endpoints:
            print(ep["address"], ep["verdict"], ep["ingress"]["reasons"])
"""
import ctypes
import json as _json
from collections import namedtuple

from . import _lib
from ._lib import c_ctx_p, check, fn

c_trace_p = ctypes.c_void_p

DENY, ALLOW, MIXED = 0, 1, 2
CLUSTER_DOMAIN, NODE_NAME, CLUSTER_CIDR, NODE_IP, FLAGS = range(5)
CFG_MASQUERADE_ALL = 0x1
F_JSON = 0x1

_new = fn("k8snet_trace_new", ctypes.c_int, c_ctx_p, ctypes.POINTER(c_trace_p))
_free = fn("k8snet_trace_free", c_trace_p, c_trace_p)
_load_json = fn("k8snet_trace_load_json", ctypes.c_int, c_trace_p, ctypes.c_char_p,
                ctypes.c_size_t)
_set_str = fn("k8snet_trace_set_str", ctypes.c_int, c_trace_p, ctypes.c_uint32, ctypes.c_char_p)
_add_str = fn("k8snet_trace_add_str", ctypes.c_int, c_trace_p, ctypes.c_uint32, ctypes.c_char_p)
_set_u32 = fn("k8snet_trace_set_u32", ctypes.c_int, c_trace_p, ctypes.c_uint32, ctypes.c_uint32)
_use_policy_db = fn("k8snet_trace_use_policy_db", ctypes.c_int, c_trace_p, ctypes.c_void_p)
_use_proxy = fn("k8snet_trace_use_proxy", ctypes.c_int, c_trace_p, ctypes.c_void_p)
_run = fn("k8snet_trace_run", ctypes.c_int, c_trace_p, ctypes.c_char_p, ctypes.c_char_p,
          ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p))

Result = namedtuple("Result", "verdict hops endpoints text json")
Result.__doc__ = """A trace's answer: verdict ("allow", "deny" or "mixed"), hops (list of
(hop, text) pairs), endpoints (list of dicts: address, port, pod, node,
masquerade, egress and ingress {allowed, reasons}, path, verdict), text (the
human explanation) and json (the whole JSON object as a dict)."""


class Trace(_lib.Handle):
    """The cluster's objects and the questions asked of them
    (``struct k8snet_trace``).  Use it from one thread at a time, with its
    context; keep the context (and any borrowed database or proxy) open
    while it is used."""

    _free = _free

    def __init__(self, ctx, cluster_domain=None, node_name=None, cluster_cidrs=(),
                 node_ips=(), masquerade_all=False):
        handle = c_trace_p()
        check(_new(ctx.handle, ctypes.byref(handle)), ctx.handle)
        self._ctx = ctx.retain()
        self._handle = handle
        self._borrowed = []
        if cluster_domain is not None:
            self._check(_set_str(self.handle, CLUSTER_DOMAIN, _lib.encode(cluster_domain)))
        if node_name is not None:
            self._check(_set_str(self.handle, NODE_NAME, _lib.encode(node_name)))
        for cidr in cluster_cidrs:
            self._check(_add_str(self.handle, CLUSTER_CIDR, _lib.encode(cidr)))
        for ip in node_ips:
            self._check(_add_str(self.handle, NODE_IP, _lib.encode(ip)))
        if masquerade_all:
            self._check(_set_u32(self.handle, FLAGS, CFG_MASQUERADE_ALL))

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def load_json(self, doc):
        """Add Namespaces, Pods, NetworkPolicies, Services and EndpointSlices:
        JSON text, bytes, or a dict as `kubectl get -A -o json` gives it."""
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)
        self._check(_load_json(self.handle, data, len(data)))

    def use_policy_db(self, db):
        """Explain with a :class:`k8snet.policy.PolicyDB` kept up to date
        elsewhere (borrowed: it is kept alive as long as this trace)."""
        self._check(_use_policy_db(self.handle, db.handle))
        self._borrowed.append(db)

    def use_proxy(self, proxy):
        """Explain with a :class:`k8snet.nat.Proxy` kept up to date elsewhere."""
        self._check(_use_proxy(self.handle, proxy.handle))
        self._borrowed.append(proxy)

    def run(self, src, dst, protocol, port):
        """Follow a new connection from src ("ns/pod" or an address) to dst
        ("ns/pod", an address, "svc:ns/name" or a DNS name as the source pod
        would type it)."""
        out = ctypes.c_void_p()
        args = (self.handle, _lib.encode(src), _lib.encode(dst), _lib.encode(protocol), port)
        self._check(_run(*args, F_JSON, ctypes.byref(out)))
        doc = _json.loads(_lib.take_string(out.value))
        self._check(_run(*args, 0, ctypes.byref(out)))
        text = _lib.take_string(out.value)
        return Result(doc["verdict"], [(h["hop"], h["text"]) for h in doc["hops"]],
                      doc["endpoints"], text, doc)
