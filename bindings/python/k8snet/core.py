"""The context: which network namespace the library acts in, logging, errors."""
from __future__ import annotations

import ctypes
import enum
import json
import os
from typing import Any, Callable, Dict, Optional, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)

_version = fn("k8snet_version", ctypes.c_char_p)
_version_num = fn("k8snet_version_num", ctypes.c_uint32)
_new = fn("k8snet_ctx_new", ctypes.c_int, ctypes.POINTER(c_ctx_p))
_free = fn("k8snet_ctx_free", c_ctx_p, c_ctx_p)
_set_netns_path = fn("k8snet_ctx_set_netns_path", ctypes.c_int, c_ctx_p, ctypes.c_char_p)
_set_netns_fd = fn("k8snet_ctx_set_netns_fd", ctypes.c_int, c_ctx_p, ctypes.c_int)
_get_netns_fd = fn("k8snet_ctx_get_netns_fd", ctypes.c_int, c_ctx_p)
_connect = fn("k8snet_ctx_connect", ctypes.c_int, c_ctx_p)
_set_log_fn = fn("k8snet_ctx_set_log_fn", ctypes.c_int, c_ctx_p, LOG_FN, ctypes.c_void_p)
_set_log_priority = fn("k8snet_ctx_set_log_priority", ctypes.c_int, c_ctx_p, ctypes.c_int)
_get_log_priority = fn("k8snet_ctx_get_log_priority", ctypes.c_int, c_ctx_p)
_get_error = fn("k8snet_ctx_get_error", ctypes.c_char_p, c_ctx_p)
_get_error_path = fn("k8snet_ctx_get_error_path", ctypes.c_char_p, c_ctx_p)
_get_errno = fn("k8snet_ctx_get_errno", ctypes.c_int, c_ctx_p)
_clear_error = fn("k8snet_ctx_clear_error", None, c_ctx_p)
_describe = fn("k8snet_ctx_describe", ctypes.c_int, c_ctx_p, ctypes.POINTER(ctypes.c_void_p))


def version() -> str:
    """The loaded library's release, e.g. "0.2.0"."""
    return _lib.decode(_version())


def version_num() -> int:
    """The loaded library's release as 0xMMmmpp."""
    return _version_num()


class Context(_lib.Handle):
    """A libk8snet context (``struct k8snet_ctx``).

    ``Context(netns="/run/netns/x")`` binds it to a namespace at once. Use it
    from one thread at a time; close it, or use it as a context manager.
    """

    _free = _free

    def __init__(self, netns: Union[str, os.PathLike, int, None] = None) -> None:
        handle = c_ctx_p()
        check(_new(ctypes.byref(handle)))
        self._handle = handle
        self._log_cb = None
        if netns is not None:
            self.set_netns(netns)

    def _check(self, rc):
        return check(rc, self.handle)

    def retain(self) -> "_lib.ContextRef":
        """A reference of one's own to this context (objects made on it
        hold one, so they outlive ``close()``)."""
        return _lib.ContextRef(self.handle)

    def set_netns(self, where: Union[str, os.PathLike, int]) -> None:
        """Bind to a namespace given as a path or an open file descriptor."""
        if isinstance(where, int):
            self._check(_set_netns_fd(self.handle, where))
        else:
            self._check(_set_netns_path(self.handle, _lib.encode(os.fspath(where))))

    @property
    def netns_fd(self) -> int:
        return self._check(_get_netns_fd(self.handle))

    def connect(self) -> None:
        """Open the netlink sockets inside the namespace now."""
        self._check(_connect(self.handle))

    def set_log(self, callback: Optional[Callable[[int, str], None]],
                priority: Optional[int] = None) -> None:
        """callback(priority:int, message:str), or None to stop logging."""
        if callback is None:
            self._log_cb = None
            self._check(_set_log_fn(self.handle, LOG_FN(), None))
        else:
            def trampoline(_userdata, prio, message):
                callback(prio, _lib.decode(message))
            self._log_cb = LOG_FN(trampoline)  # keep it alive as long as we are
            self._check(_set_log_fn(self.handle, self._log_cb, None))
        if priority is not None:
            self.log_priority = priority

    @property
    def log_priority(self) -> int:
        return self._check(_get_log_priority(self.handle))

    @log_priority.setter
    def log_priority(self, priority: int) -> None:
        self._check(_set_log_priority(self.handle, priority))

    @property
    def error(self) -> str:
        """The last error message ("" when none)."""
        return _lib.decode(_get_error(self.handle))

    @property
    def error_path(self) -> str:
        return _lib.decode(_get_error_path(self.handle))

    @property
    def errno(self) -> int:
        return _get_errno(self.handle)

    def clear_error(self) -> None:
        _clear_error(self.handle)

    def describe(self) -> Dict[str, Any]:
        """What the library sees in its namespace: a dict of links and tables."""
        out = ctypes.c_void_p()
        self._check(_describe(self.handle, ctypes.byref(out)))
        return json.loads(_lib.take_string(out.value))


_addr_parse = fn("k8snet_addr_parse", ctypes.c_int, c_ctx_p, ctypes.c_char_p,
                 ctypes.POINTER(ctypes.c_void_p))
_cidr_parse = fn("k8snet_cidr_parse", ctypes.c_int, c_ctx_p, ctypes.c_char_p, ctypes.c_uint32,
                 ctypes.POINTER(ctypes.c_void_p))


@_lib.c_constants("K8SNET_CIDR_F_")
class CidrFlag(enum.IntFlag):
    """Flags of k8snet_cidr_parse()."""
    NETWORK = 0x1
    ADDRESS = 0x2


def addr_parse(text: str, ctx: Optional[Context] = None) -> str:
    """The canonical form of one IPv4 or IPv6 address, by the library's rules
    (libk8snet(7), "Addresses and CIDRs"); InvalidArgument otherwise."""
    ctx = ctx or Context()
    out = ctypes.c_void_p()
    ctx._check(_addr_parse(ctx.handle, _lib.encode(text), ctypes.byref(out)))
    return _lib.take_string(out.value)


def cidr_parse(text: str, network: bool = False, address: bool = False,
               ctx: Optional[Context] = None) -> str:
    """The canonical ADDRESS/LENGTH: ``network`` clears host bits (a pod or
    service CIDR), ``address`` takes a bare address as a full-length prefix."""
    flags = (CidrFlag.NETWORK if network else 0) | (CidrFlag.ADDRESS if address else 0)
    ctx = ctx or Context()
    out = ctypes.c_void_p()
    ctx._check(_cidr_parse(ctx.handle, _lib.encode(text), flags, ctypes.byref(out)))
    return _lib.take_string(out.value)
