"""Published ports and pod-network masquerading (``k8snet/hostport.h``).

    from k8snet import Context, hostport

    with Context(netns="/run/netns/node1") as ctx, hostport.HostPorts(ctx) as hp:
        hp.set("podman/4f1c/eth0", [("tcp", 8080, "10.88.0.5", 80),
                                    ("tcp", "127.0.0.1", 8443, "10.88.0.5", 443)])
        hp.set_network("podman", ["10.88.0.0/16"], masquerade=True)
        hp.remove("podman/4f1c/eth0")

A mapping is a tuple ``(protocol, [host_ip,] host_port, pod_ip, pod_port)``
or a :class:`PortMap`; the protocol is "tcp", "udp", "sctp" or a number.
"""
from __future__ import annotations

import ctypes
import enum
import errno
from typing import Any, Iterable, Optional, Tuple, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_hp_p = ctypes.c_void_p
c_pm_p = ctypes.c_void_p
u32 = ctypes.c_uint32



# The constants of hostport.h (tests/python/test_constants.py compares them).
@_lib.c_constants("K8SNET_HOSTPORTS_")
class Attr(enum.IntEnum):
    """Settings of the host-port table (k8snet_hostports_set_str(), _set_u32())."""
    TABLE = 0
    MARK_BIT = 1


@_lib.c_constants("K8SNET_HOSTPORTS_F_")
class NetworkFlag(enum.IntFlag):
    """Flags of k8snet_hostports_set_network()."""
    MASQUERADE = 0x1
    NO_HAIRPIN = 0x2


MAX_MAPPINGS = _lib.c_constant("K8SNET_HOSTPORTS_MAX_MAPPINGS", 65536)

# The names before the enums.
TABLE = Attr.TABLE
MARK_BIT = Attr.MARK_BIT
F_MASQUERADE = NetworkFlag.MASQUERADE
F_NO_HAIRPIN = NetworkFlag.NO_HAIRPIN
PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132}

_new = fn("k8snet_hostports_new", ctypes.c_int, c_ctx_p, ctypes.POINTER(c_hp_p))
_free = fn("k8snet_hostports_free", c_hp_p, c_hp_p)
_set_str = fn("k8snet_hostports_set_str", ctypes.c_int, c_hp_p, u32, ctypes.c_char_p)
_set_u32 = fn("k8snet_hostports_set_u32", ctypes.c_int, c_hp_p, u32, u32)
_set = fn("k8snet_hostports_set", ctypes.c_int, c_hp_p, ctypes.c_char_p, c_pm_p)
_remove = fn("k8snet_hostports_remove", ctypes.c_int, c_hp_p, ctypes.c_char_p)
_check_fn = fn("k8snet_hostports_check", ctypes.c_int, c_hp_p, ctypes.c_char_p, c_pm_p)
_gc = fn("k8snet_hostports_gc", ctypes.c_int, c_hp_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t)
_set_network = fn("k8snet_hostports_set_network", ctypes.c_int, c_hp_p, ctypes.c_char_p,
                  ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, u32)

_pm_new = fn("k8snet_portmap_new", ctypes.c_int, ctypes.POINTER(c_pm_p))
_pm_free = fn("k8snet_portmap_free", c_pm_p, c_pm_p)
_pm_add = fn("k8snet_portmap_add", ctypes.c_int, c_pm_p, u32, ctypes.c_char_p, u32,
             ctypes.c_char_p, u32)
_pm_count = fn("k8snet_portmap_get_count", ctypes.c_int, c_pm_p)


def _proto(p):
    return PROTOCOLS[p.lower()] if isinstance(p, str) else int(p)


def _strings(values):
    """A C array of UTF-8 strings (kept alive by the returned tuple)."""
    encoded = [_lib.encode(v) for v in values]
    return (ctypes.c_char_p * max(len(encoded), 1))(*encoded), len(encoded)


# (protocol, [host_ip,] host_port, pod_ip, pod_port)
Mapping = Tuple[Any, ...]


class PortMap(_lib.Handle):
    """A list of mappings (``struct k8snet_portmap``)."""

    _free = _pm_free

    def __init__(self, mappings: Iterable[Mapping] = ()) -> None:
        handle = c_pm_p()
        check(_pm_new(ctypes.byref(handle)))
        self._handle = handle
        for m in mappings:
            self.add(*m)

    def add(self, protocol: Union[str, int], *args: Any) -> "PortMap":
        """add(protocol, [host_ip,] host_port, pod_ip, pod_port); host_ip
        None, "", "0.0.0.0" or "::" is every local address."""
        if len(args) == 3:
            host_ip, (host_port, pod_ip, pod_port) = None, args
        elif len(args) == 4:
            host_ip, host_port, pod_ip, pod_port = args
        else:
            raise TypeError("add(protocol, [host_ip,] host_port, pod_ip, pod_port)")
        rc = _pm_add(self.handle, _proto(protocol), _lib.encode(host_ip), host_port,
                     _lib.encode(pod_ip), pod_port)
        if rc == -errno.E2BIG:
            raise _lib.InvalidArgument(errno.E2BIG, "more than %d mappings" % MAX_MAPPINGS)
        if rc < 0:
            raise _lib.InvalidArgument(-rc, "bad mapping %r" % ((protocol,) + args,))
        return self

    def __len__(self) -> int:
        return _pm_count(self.handle)


def _portmap(mappings):
    return mappings if isinstance(mappings, PortMap) else PortMap(mappings)


class HostPorts(_lib.Handle):
    """The node's host-port table (``struct k8snet_hostports``) in the
    context's namespace.  Keep the context open while it lives."""

    _free = _free

    def __init__(self, ctx: Any, table: Optional[str] = None,
                 mark_bit: Optional[int] = None) -> None:
        handle = c_hp_p()
        check(_new(ctx.handle, ctypes.byref(handle)), ctx.handle)
        self._handle = handle
        self._ctx = ctx.retain()
        if table is not None:
            self._check(_set_str(self.handle, TABLE, _lib.encode(table)))
        if mark_bit is not None:
            self._check(_set_u32(self.handle, MARK_BIT, mark_bit))

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def set(self, owner: str, mappings: Union[PortMap, Iterable[Mapping]]) -> int:
        """The owner's mappings become exactly these; returns how many.
        Raises an Error (errno EADDRINUSE) naming the holder when another
        owner holds one of the host ports."""
        pm = _portmap(mappings)
        try:
            return self._check(_set(self.handle, _lib.encode(owner), pm.handle))
        finally:
            if pm is not mappings:
                pm.close()

    def check(self, owner: str, mappings: Union[PortMap, Iterable[Mapping]]) -> None:
        """Raise unless the owner's mappings are exactly these."""
        pm = _portmap(mappings)
        try:
            self._check(_check_fn(self.handle, _lib.encode(owner), pm.handle))
        finally:
            if pm is not mappings:
                pm.close()

    def remove(self, owner: str) -> int:
        """Withdraw the owner's mappings; returns how many there were."""
        return self._check(_remove(self.handle, _lib.encode(owner)))

    def gc(self, live: Union[str, Iterable[str]], prefix: Optional[str] = None) -> int:
        """Withdraw the mappings of owners starting with prefix that are not
        in live; returns how many went."""
        arr, n = _strings(_lib.one_or_many(live))
        return self._check(_gc(self.handle, _lib.encode(prefix), arr, n))

    def set_network(self, network: str, subnets: Union[str, Iterable[str]],
                    masquerade: bool = False, hairpin: bool = True) -> None:
        """A pod network's hairpin and (masquerade=True) ipMasq
        masquerading; no subnets removes it."""
        flags = (F_MASQUERADE if masquerade else 0) | (0 if hairpin else F_NO_HAIRPIN)
        arr, n = _strings(_lib.one_or_many(subnets))
        self._check(_set_network(self.handle, _lib.encode(network), arr, n, flags))
