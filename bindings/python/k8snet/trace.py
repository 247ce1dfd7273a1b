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
from __future__ import annotations

import ctypes
import enum
import json as _json
from collections import namedtuple
from typing import Any, Iterable, Optional, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_trace_p = ctypes.c_void_p



@_lib.c_constants("K8SNET_TRACE_")
class Verdict(enum.IntEnum):
    """What k8snet_trace_run() returns."""
    DENY = 0
    ALLOW = 1
    MIXED = 2


@_lib.c_constants("K8SNET_TRACE_")
class TraceAttr(enum.IntEnum):
    CLUSTER_DOMAIN = 0
    NODE_NAME = 1
    CLUSTER_CIDR = 2
    NODE_IP = 3
    FLAGS = 4


@_lib.c_constants("K8SNET_TRACE_F_")
class TraceFlag(enum.IntFlag):
    MASQUERADE_ALL = 0x1


@_lib.c_constants("K8SNET_TRACE_RUN_F_")
class RunFlag(enum.IntFlag):
    JSON = 0x1


# The names before the enums.
DENY, ALLOW, MIXED = Verdict
CLUSTER_DOMAIN, NODE_NAME, CLUSTER_CIDR, NODE_IP, FLAGS = TraceAttr
CFG_MASQUERADE_ALL = TraceFlag.MASQUERADE_ALL
F_JSON = RunFlag.JSON

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

    def __init__(self, ctx: Any, cluster_domain: Optional[str] = None,
                 node_name: Optional[str] = None, cluster_cidrs: Union[str, Iterable[str]] = (),
                 node_ips: Union[str, Iterable[str]] = (), masquerade_all: bool = False) -> None:
        handle = c_trace_p()
        check(_new(ctx.handle, ctypes.byref(handle)), ctx.handle)
        self._ctx = ctx.retain()
        self._handle = handle
        self._borrowed = []
        if cluster_domain is not None:
            self._check(_set_str(self.handle, CLUSTER_DOMAIN, _lib.encode(cluster_domain)))
        if node_name is not None:
            self._check(_set_str(self.handle, NODE_NAME, _lib.encode(node_name)))
        for cidr in _lib.one_or_many(cluster_cidrs):
            self._check(_add_str(self.handle, CLUSTER_CIDR, _lib.encode(cidr)))
        for ip in _lib.one_or_many(node_ips):
            self._check(_add_str(self.handle, NODE_IP, _lib.encode(ip)))
        if masquerade_all:
            self._check(_set_u32(self.handle, FLAGS, CFG_MASQUERADE_ALL))

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def load_json(self, doc: Union[str, bytes, dict]) -> None:
        """Add Namespaces, Pods, NetworkPolicies, Services and EndpointSlices:
        JSON text, bytes, or a dict as `kubectl get -A -o json` gives it."""
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)
        self._check(_load_json(self.handle, data, len(data)))

    def use_policy_db(self, db: Any) -> None:
        """Explain with a :class:`k8snet.policy.PolicyDB` kept up to date
        elsewhere (borrowed: it is kept alive as long as this trace)."""
        self._check(_use_policy_db(self.handle, db.handle))
        self._borrowed.append(db)

    def use_proxy(self, proxy: Any) -> None:
        """Explain with a :class:`k8snet.nat.Proxy` kept up to date elsewhere."""
        self._check(_use_proxy(self.handle, proxy.handle))
        self._borrowed.append(proxy)

    def run(self, src: str, dst: str, protocol: str, port: int) -> Result:
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
