"""NetworkPolicy: the model, the evaluator that explains verdicts, and the
compiler to nftables (``k8snet/policy.h``).

    from k8snet import Context
    from k8snet.policy import PolicyDB

    with Context() as ctx, PolicyDB(ctx) as db:
        db.load_json(open("cluster.json").read())
        verdict = db.check("x/b", "x/a", "TCP", 80)
        print(verdict.allowed, verdict.reasons)
"""
from __future__ import annotations

import ctypes
import enum
import json as _json
from collections import namedtuple
from typing import Any, Dict, Iterable, Optional, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_db_p = ctypes.c_void_p



@_lib.c_constants("K8SNET_POLICY_POD_")
class PodFlag(enum.IntFlag):
    """Flags of k8snet_policy_db_set_pod()."""
    HOST_NETWORK = 0x1


@_lib.c_constants("K8SNET_POLICY_")
class Decision(enum.IntEnum):
    """What k8snet_policy_db_check() returns for a connection."""
    DENY = 0
    ALLOW = 1


@_lib.c_constants("K8SNET_POLICY_F_")
class LogFlag(enum.IntFlag):
    """Flags of k8snet_policy_db_set_log(): verdict logging and counters."""
    LOG_DENIED = 0x1
    LOG_ALLOWED = 0x2
    COUNT = 0x4


# The names before the enums.
HOST_NETWORK = PodFlag.HOST_NETWORK
LOG_DENIED = LogFlag.LOG_DENIED
LOG_ALLOWED = LogFlag.LOG_ALLOWED
COUNT = LogFlag.COUNT

_new = fn("k8snet_policy_db_new", ctypes.c_int, c_ctx_p, ctypes.POINTER(c_db_p))
_free = fn("k8snet_policy_db_free", c_db_p, c_db_p)
_load_json = fn("k8snet_policy_db_load_json", ctypes.c_int, c_db_p, ctypes.c_char_p, ctypes.c_size_t)
_set_namespace = fn("k8snet_policy_db_set_namespace", ctypes.c_int, c_db_p, ctypes.c_char_p,
                    ctypes.c_char_p)
_set_pod = fn("k8snet_policy_db_set_pod", ctypes.c_int, c_db_p, ctypes.c_char_p, ctypes.c_char_p,
              ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32)
_add_pod_port = fn("k8snet_policy_db_add_pod_port", ctypes.c_int, c_db_p, ctypes.c_char_p,
                   ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32)
_delete = fn("k8snet_policy_db_delete", ctypes.c_int, c_db_p, ctypes.c_char_p, ctypes.c_char_p,
             ctypes.c_char_p)
_check = fn("k8snet_policy_db_check", ctypes.c_int, c_db_p, ctypes.c_char_p, ctypes.c_char_p,
            ctypes.c_char_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p))
_render = fn("k8snet_policy_db_render", ctypes.c_int, c_db_p, ctypes.c_char_p,
             ctypes.POINTER(ctypes.c_void_p))
_sync = fn("k8snet_policy_db_sync", ctypes.c_int, c_db_p, ctypes.c_char_p)
_sync_full = fn("k8snet_policy_db_sync_full", ctypes.c_int, c_db_p, ctypes.c_char_p)
_set_log = fn("k8snet_policy_db_set_log", ctypes.c_int, c_db_p, ctypes.c_uint32, ctypes.c_uint32,
               ctypes.c_uint32)
_get_counters = fn("k8snet_policy_db_get_counters", ctypes.c_int, c_db_p, ctypes.c_char_p,
                    ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64),
                    ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64),
                    ctypes.POINTER(ctypes.c_uint64))
_selector_match = fn("k8snet_policy_selector_match", ctypes.c_int, c_ctx_p, ctypes.c_char_p,
                     ctypes.c_char_p)

Verdict = namedtuple("Verdict", "allowed reasons")
Verdict.__doc__ = "The evaluator's answer: allowed (bool) and reasons (list of lines)."


def _labels(labels):
    """A dict or "k=v,k2=v2" text, as the C API takes it."""
    if labels is None:
        return None
    if isinstance(labels, dict):
        return ",".join("%s=%s" % kv for kv in sorted(labels.items()))
    return labels


Labels = Union[str, Dict[str, str], None]


def selector_match(ctx: Any, selector: str, labels: Labels) -> bool:
    """Whether labels (dict or "k=v,...") match a kubectl-syntax selector."""
    return bool(check(_selector_match(ctx.handle, _lib.encode(selector),
                                      _lib.encode(_labels(labels) or "")), ctx.handle))


class PolicyDB(_lib.Handle):
    """A NetworkPolicy database (``struct k8snet_policy_db``) on a Context.

    Use it from one thread at a time, with its context; close it, or use it
    as a context manager.  The context must stay open while it is used.
    """

    _free = _free

    def __init__(self, ctx: Any) -> None:
        handle = c_db_p()
        check(_new(ctx.handle, ctypes.byref(handle)), ctx.handle)
        self._ctx = ctx.retain()
        self._handle = handle

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def load_json(self, doc: Union[str, bytes, Dict[str, Any]]) -> None:
        """Add Namespace, Pod and NetworkPolicy objects: JSON text, bytes, or
        a dict as `kubectl get ... -o json` gives it. All or nothing."""
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)
        self._check(_load_json(self.handle, data, len(data)))

    def set_namespace(self, name: str, labels: Labels = None) -> None:
        self._check(_set_namespace(self.handle, _lib.encode(name), _lib.encode(_labels(labels))))

    def set_pod(self, namespace: str, name: str, labels: Labels = None,
                ips: Union[str, Iterable[str]] = (), node: Optional[str] = None,
                host_network: bool = False) -> None:
        """Add or replace a pod; ips is one address or a list of them."""
        ips = _lib.one_or_many(ips)
        self._check(_set_pod(self.handle, _lib.encode(namespace), _lib.encode(name),
                             _lib.encode(_labels(labels)), _lib.encode(",".join(ips)),
                             _lib.encode(node), HOST_NETWORK if host_network else 0))

    def add_pod_port(self, namespace: str, pod: str, protocol: str, port: int,
                     name: Optional[str] = None) -> None:
        self._check(_add_pod_port(self.handle, _lib.encode(namespace), _lib.encode(pod),
                                  _lib.encode(name), _lib.encode(protocol), port))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Remove a "Pod" or "NetworkPolicy" (or a "Namespace"'s labels)."""
        self._check(_delete(self.handle, _lib.encode(kind), _lib.encode(namespace),
                            _lib.encode(name)))

    def check(self, src: str, dst: str, protocol: str, port: int) -> Verdict:
        """Judge a new connection: src and dst are "ns/pod" or addresses."""
        out = ctypes.c_void_p()
        rc = self._check(_check(self.handle, _lib.encode(src), _lib.encode(dst),
                                _lib.encode(protocol), port, ctypes.byref(out)))
        reasons = _lib.take_string(out.value) or ""
        return Verdict(rc == 1, reasons.splitlines())

    def render(self, node: str) -> str:
        """The nftables ruleset for a node's pods, as nft text."""
        out = ctypes.c_void_p()
        self._check(_render(self.handle, _lib.encode(node), ctypes.byref(out)))
        return _lib.take_string(out.value)

    def sync(self, node: str, full: bool = False) -> None:
        """Program that ruleset in the context's namespace (incrementally).
        Success means the kernel acknowledged all of it; after a failure,
        or a table changed behind our back, the next sync replaces it.
        ``full=True`` replaces it now."""
        self._check((_sync_full if full else _sync)(self.handle, _lib.encode(node)))

    def set_log(self, denied: bool = True, allowed: bool = False, group: int = 0, rate: int = 0,
                counters: bool = False) -> None:
        """Verdict logging through NFLOG at the next sync: connections the
        policies drop (at most ``rate`` per second, default 10), and new ones
        a rule admits when ``allowed``; ``group`` 0 means NFLOG group 100.
        Read them with :class:`k8snet.observe.Observer`.  ``counters``
        counts what each policy admits and drops (see :meth:`counters`)."""
        flags = ((LOG_DENIED if denied else 0) | (LOG_ALLOWED if allowed else 0) |
                 (COUNT if counters else 0))
        self._check(_set_log(self.handle, flags, group, rate))

    def counters(self, namespace: str, name: str) -> Dict[str, int]:
        """What the kernel counted for a policy (after a sync with
        ``set_log(counters=True)``): a dict of allowed_packets,
        allowed_bytes, denied_packets, denied_bytes."""
        v = [ctypes.c_uint64() for _ in range(4)]
        self._check(_get_counters(self.handle, _lib.encode(namespace), _lib.encode(name),
                                  *[ctypes.byref(x) for x in v]))
        return dict(zip(("allowed_packets", "allowed_bytes", "denied_packets", "denied_bytes"),
                        (x.value for x in v)))
