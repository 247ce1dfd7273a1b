"""IPAM: pod IPs, node CIDRs and ClusterIPs from pools, optionally kept in a
crash-safe state file shared by processes.

    from k8snet import Context, ipam
    with Context() as ctx, ipam.Pool(ctx, ["10.244.1.0/24"],
                                     state_file="/var/lib/k8snet/pods.state") as pool:
        cidr = pool.alloc("container-id", "eth0")     # "10.244.1.2/24"
        pool.release("container-id", "eth0")

A pool is used by one thread at a time; close it before its context.
"""
from __future__ import annotations

import collections.abc
import ctypes
import enum
import os
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Tuple, Union)

from . import _lib
from ._lib import c_ctx_p, check, fn

c_pool_p = ctypes.c_void_p
c_cfg_p = ctypes.c_void_p
CIDR_MAX = _lib.c_constant("K8SNET_IPAM_CIDR_MAX", 64)


@_lib.c_constants("K8SNET_IPAM_POOL_F_")
class PoolFlag(enum.IntFlag):
    """Flags of k8snet_ipam_pool_new()."""
    PREFIXES = 0x1


@_lib.c_constants("K8SNET_IPAM_")
class Strategy(enum.IntEnum):
    """Which free address alloc() hands out (k8snet_ipam_pool_set_strategy())."""
    NEXT_FREE = 0
    LOWEST_FREE = 1


# The names before the enums.
PREFIXES = PoolFlag.PREFIXES
NEXT_FREE = Strategy.NEXT_FREE
LOWEST_FREE = Strategy.LOWEST_FREE

VISIT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.c_char_p)

_pool_new = fn("k8snet_ipam_pool_new", ctypes.c_int, c_ctx_p, ctypes.c_uint32,
               ctypes.POINTER(c_pool_p))
_pool_free = fn("k8snet_ipam_pool_free", c_pool_p, c_pool_p)
_set_name = fn("k8snet_ipam_pool_set_name", ctypes.c_int, c_pool_p, ctypes.c_char_p)
_add_range = fn("k8snet_ipam_pool_add_range", ctypes.c_int, c_pool_p, ctypes.c_char_p,
                ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_add_exclusion = fn("k8snet_ipam_pool_add_exclusion", ctypes.c_int, c_pool_p, ctypes.c_char_p)
_set_strategy = fn("k8snet_ipam_pool_set_strategy", ctypes.c_int, c_pool_p, ctypes.c_uint32)
_set_block_len = fn("k8snet_ipam_pool_set_block_len", ctypes.c_int, c_pool_p, ctypes.c_uint32)
_set_state_file = fn("k8snet_ipam_pool_set_state_file", ctypes.c_int, c_pool_p,
                     ctypes.c_char_p)
_alloc = fn("k8snet_ipam_pool_alloc", ctypes.c_int, c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t)
_release = fn("k8snet_ipam_pool_release", ctypes.c_int, c_pool_p, ctypes.c_char_p,
              ctypes.c_char_p)
_release_addr = fn("k8snet_ipam_pool_release_addr", ctypes.c_int, c_pool_p, ctypes.c_char_p)
_lookup = fn("k8snet_ipam_pool_lookup", ctypes.c_int, c_pool_p, ctypes.c_char_p,
             ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t)
_count = fn("k8snet_ipam_pool_get_count", ctypes.c_int, c_pool_p)
_foreach = fn("k8snet_ipam_pool_foreach", ctypes.c_int, c_pool_p, VISIT_FN, ctypes.c_void_p)
_gc = fn("k8snet_ipam_pool_gc", ctypes.c_int, c_pool_p, ctypes.POINTER(ctypes.c_char_p),
         ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t)
_get_gateway = fn("k8snet_ipam_pool_get_gateway", ctypes.c_int, c_pool_p, ctypes.c_char_p,
                  ctypes.c_char_p, ctypes.c_size_t)

_cfg_parse = fn("k8snet_ipam_config_parse", ctypes.c_int, c_ctx_p, ctypes.c_char_p,
                ctypes.c_size_t, ctypes.POINTER(c_cfg_p))
_cfg_free = fn("k8snet_ipam_config_free", c_cfg_p, c_cfg_p)
_cfg_pool_count = fn("k8snet_ipam_config_get_pool_count", ctypes.c_int, c_cfg_p)
_cfg_new_pool = fn("k8snet_ipam_config_new_pool", ctypes.c_int, c_cfg_p, ctypes.c_uint32,
                   ctypes.POINTER(c_pool_p))
_cfg_data_dir = fn("k8snet_ipam_config_get_data_dir", ctypes.c_char_p, c_cfg_p)
_cfg_route_count = fn("k8snet_ipam_config_get_route_count", ctypes.c_int, c_cfg_p)
_cfg_route = fn("k8snet_ipam_config_get_route", ctypes.c_int, c_cfg_p, ctypes.c_uint32,
                ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p))

_enc = _lib.encode
_dec = _lib.decode


def _range_args(r):
    """A range is "CIDR" or a dict with subnet, rangeStart, rangeEnd, gateway
    (host-local's spelling)."""
    if isinstance(r, str):
        return _enc(r), None, None, None
    return (_enc(r["subnet"]), _enc(r.get("rangeStart")), _enc(r.get("rangeEnd")),
            _enc(r.get("gateway")))


# A range: "CIDR" or host-local's dict (subnet, rangeStart, rangeEnd, gateway).
Range = Union[str, Mapping[str, str]]
# One allocation: (cidr, owner, ifname).
Allocation = Tuple[str, str, str]
# What a foreach() callback returns to stop the walk: no errno value.
_STOP = -(1 << 30)


class Pool(_lib.Handle):
    """An address pool (``struct k8snet_ipam_pool``).

    ranges: CIDR strings or dicts (subnet, rangeStart, rangeEnd, gateway).
    prefixes=True makes a prefix pool (node CIDRs of block_len bits,
    default /24 or /64).  strategy: NEXT_FREE (default) or LOWEST_FREE.
    """

    _free = _pool_free

    def __init__(self, ctx: Any, ranges: Union[Range, Iterable[Range]] = (),
                 exclude: Union[str, Iterable[str]] = (), strategy: Optional[int] = None,
                 prefixes: bool = False, block_len: Optional[int] = None,
                 state_file: Union[str, os.PathLike, None] = None, name: Optional[str] = None,
                 _handle: Any = None) -> None:
        self._ctx = ctx.retain()
        if _handle is None:
            handle = c_pool_p()
            self._check(_pool_new(ctx.handle, PREFIXES if prefixes else 0,
                                  ctypes.byref(handle)))
            _handle = handle
        self._handle = _handle
        try:
            if name is not None:
                self._check(_set_name(self._handle, _enc(name)))
            for r in [ranges] if isinstance(ranges, (str, collections.abc.Mapping)) else ranges:
                self._check(_add_range(self._handle, *_range_args(r)))
            for x in _lib.one_or_many(exclude):
                self._check(_add_exclusion(self._handle, _enc(x)))
            if strategy is not None:
                self._check(_set_strategy(self._handle, strategy))
            if block_len is not None:
                self._check(_set_block_len(self._handle, block_len))
            if state_file is not None:
                self._check(_set_state_file(self._handle, _enc(str(state_file))))
        except BaseException:
            self.close()
            raise

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def alloc(self, owner: str, ifname: str = "", want: Optional[str] = None) -> str:
        """The address (prefix form) for (owner, ifname); the same one when
        asked again.  want: a specific address (or block)."""
        buf = ctypes.create_string_buffer(CIDR_MAX)
        self._check(_alloc(self.handle, _enc(owner), _enc(ifname), _enc(want), buf, CIDR_MAX))
        return _dec(buf.value)

    def release(self, owner: str, ifname: str = "") -> bool:
        """True if the key held an address."""
        return self._check(_release(self.handle, _enc(owner), _enc(ifname))) == 1

    def release_addr(self, addr: str) -> bool:
        return self._check(_release_addr(self.handle, _enc(addr))) == 1

    def lookup(self, owner: str, ifname: str = "") -> Optional[str]:
        """What (owner, ifname) holds, or None."""
        buf = ctypes.create_string_buffer(CIDR_MAX)
        found = self._check(_lookup(self.handle, _enc(owner), _enc(ifname), buf, CIDR_MAX))
        return _dec(buf.value) if found else None

    def __len__(self) -> int:
        return self._check(_count(self.handle))

    def allocations(self) -> List[Allocation]:
        """[(cidr, owner, ifname)] in address order."""
        out = []

        def visit(_userdata, cidr, owner, ifname):
            out.append((_dec(cidr), _dec(owner), _dec(ifname)))
            return 0
        self._check(_foreach(self.handle, VISIT_FN(visit), None))
        return out

    def foreach(self, fn: Callable[[str, str, str], Any]) -> int:
        """Call fn(cidr, owner, ifname) for each allocation in address order,
        keeping none of them: the way through a pool too large for a list.
        fn returning False stops the walk; an exception in fn stops it and
        is raised here.  Returns how many allocations fn saw.  With a state
        file the walk holds its lock: fn must not use this pool."""
        seen = 0
        raised = []

        def visit(_userdata, cidr, owner, ifname):
            nonlocal seen
            seen += 1
            try:
                go_on = fn(_dec(cidr), _dec(owner), _dec(ifname))
            except BaseException as e:  # noqa: B902 - re-raised below, out of C
                raised.append(e)
                return _STOP
            return _STOP if go_on is False else 0
        rc = _foreach(self.handle, VISIT_FN(visit), None)
        if raised:
            raise raised[0]
        if rc < 0 and rc != _STOP:
            self._check(rc)
        return seen

    def iter_allocations(self) -> Iterator[Allocation]:
        """An iterator of (cidr, owner, ifname) in address order.  The walk
        runs in one call (with a state file it holds the file's lock, which
        cannot be held across yields), so this iterates a snapshot taken at
        the first next(); use foreach() to visit a very large pool without
        one."""
        yield from self.allocations()

    def __iter__(self) -> Iterator[Allocation]:
        return self.iter_allocations()

    def gc(self, live: Iterable[Tuple[str, str]]) -> int:
        """Release all but the live keys, an iterable of (owner, ifname).
        Returns the number released."""
        live = list(live)
        owners = (ctypes.c_char_p * max(len(live), 1))(*[_enc(o) for o, _ in live])
        ifnames = (ctypes.c_char_p * max(len(live), 1))(*[_enc(i) for _, i in live])
        return self._check(_gc(self.handle, owners, ifnames, len(live)))

    def gateway(self, addr: str) -> Optional[str]:
        """The gateway of the range holding addr, or None."""
        buf = ctypes.create_string_buffer(CIDR_MAX)
        has = self._check(_get_gateway(self.handle, _enc(addr), buf, CIDR_MAX))
        return _dec(buf.value) if has else None


class Config(_lib.Handle):
    """host-local's "ipam" configuration (the object, or a whole CNI network
    configuration holding it).  ``Config(ctx, text_or_dict)``."""

    _free = _cfg_free

    def __init__(self, ctx: Any, config: Union[str, bytes, Dict[str, Any]]) -> None:
        import json
        text = config if isinstance(config, (str, bytes)) else json.dumps(config)
        data = text.encode("utf-8") if isinstance(text, str) else text
        handle = c_cfg_p()
        check(_cfg_parse(ctx.handle, data, len(data), ctypes.byref(handle)), ctx.handle)
        self._ctx = ctx.retain()
        self._handle = handle

    def __len__(self) -> int:
        return check(_cfg_pool_count(self.handle), self._ctx.handle)

    def pool(self, index: int, state_file: Union[str, os.PathLike, None] = None) -> Pool:
        """A new Pool from range set index."""
        handle = c_pool_p()
        check(_cfg_new_pool(self.handle, index, ctypes.byref(handle)), self._ctx.handle)
        return Pool(self._ctx, state_file=state_file, _handle=handle)

    @property
    def data_dir(self) -> Optional[str]:
        return _dec(_cfg_data_dir(self.handle))

    @property
    def routes(self) -> List[Tuple[str, Optional[str]]]:
        """[(dst, gw or None)]."""
        out = []
        for i in range(check(_cfg_route_count(self.handle), self._ctx.handle)):
            dst, gw = ctypes.c_char_p(), ctypes.c_char_p()
            check(_cfg_route(self.handle, i, ctypes.byref(dst), ctypes.byref(gw)),
                  self._ctx.handle)
            out.append((_dec(dst.value), _dec(gw.value)))
        return out
