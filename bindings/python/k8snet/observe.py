"""Observe: live NetworkPolicy verdicts from NFLOG (``k8snet/observe.h``).

    from k8snet import Context
    from k8snet.observe import Observer

    with Context() as ctx:
        ctx.set_netns_path("/run/netns/node1")
        with Observer(ctx) as obs:
            obs.load_json(open("cluster.json").read())
            for ev in obs.events(timeout=10):
                print(ev.verdict, ev.source, "->", ev.destination, ev.policy)

Turn logging on with ``PolicyDB.set_log()`` (or ``k8snet policy sync
--log-denied``) before the sync.
"""
from __future__ import annotations

import ctypes
import enum
import json as _json
from collections import namedtuple
from typing import Any, Iterator, Optional, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_obs_p = ctypes.c_void_p


@_lib.c_constants("K8SNET_OBSERVER_F_")
class ObserverFlag(enum.IntFlag):
    NO_SOCKET = 0x1


@_lib.c_constants("K8SNET_EVENT_")
class EventAttr(enum.IntEnum):
    """The attributes of an event (k8snet_observer_get_str/_get_u64)."""
    SOURCE = 0
    DESTINATION = 1
    PROTOCOL = 2
    VERDICT = 3
    DIRECTION = 4
    POLICY = 5
    SOURCE_IP = 6
    DEST_IP = 7
    TIME_NS = 8
    PORT = 9
    SOURCE_PORT = 10


# The names before the enums.
F_NO_SOCKET = ObserverFlag.NO_SOCKET
(SOURCE, DESTINATION, PROTOCOL, VERDICT, DIRECTION, POLICY, SOURCE_IP, DEST_IP, TIME_NS, PORT,
 SOURCE_PORT) = EventAttr

_new = fn("k8snet_observer_new", ctypes.c_int, c_ctx_p, ctypes.c_uint32, ctypes.c_uint32,
          ctypes.POINTER(c_obs_p))
_free = fn("k8snet_observer_free", c_obs_p, c_obs_p)
_load_json = fn("k8snet_observer_load_json", ctypes.c_int, c_obs_p, ctypes.c_char_p,
                ctypes.c_size_t)
_get_fd = fn("k8snet_observer_get_fd", ctypes.c_int, c_obs_p)
_next = fn("k8snet_observer_next", ctypes.c_int, c_obs_p, ctypes.c_int)
_feed = fn("k8snet_observer_feed", ctypes.c_int, c_obs_p, ctypes.c_char_p, ctypes.c_size_t)
_get_str = fn("k8snet_observer_get_str", ctypes.c_char_p, c_obs_p, ctypes.c_uint32)
_get_u64 = fn("k8snet_observer_get_u64", ctypes.c_uint64, c_obs_p, ctypes.c_uint32)
_get_lost = fn("k8snet_observer_get_lost", ctypes.c_uint64, c_obs_p)

Event = namedtuple("Event", "time_ns verdict direction source destination protocol port policy "
                            "source_ip destination_ip")
Event.__doc__ = "One logged verdict; source and destination are ns/pod, svc:ns/name or addresses."


class Observer(_lib.Handle):
    """A subscription to the NFLOG group of verdict logging in the
    context's namespace (``struct k8snet_observer``).  ``no_socket=True``
    decodes only what :meth:`feed` gives it (tests)."""

    _free = _free

    def __init__(self, ctx: Any, group: int = 0, no_socket: bool = False) -> None:
        handle = c_obs_p()
        check(_new(ctx.handle, group, F_NO_SOCKET if no_socket else 0, ctypes.byref(handle)),
              ctx.handle)
        self._ctx = ctx.retain()
        self._handle = handle

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    def load_json(self, doc: Union[str, bytes, dict]) -> None:
        """Pods and Services (JSON text, bytes or a dict) to name addresses with."""
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)
        self._check(_load_json(self.handle, data, len(data)))

    def fileno(self) -> int:
        return self._check(_get_fd(self.handle))

    def feed(self, data: bytes) -> None:
        """Netlink messages to decode instead of the socket's."""
        self._check(_feed(self.handle, bytes(data), len(data)))

    @property
    def lost(self) -> int:
        """Events the kernel could not queue for us."""
        return _get_lost(self.handle)

    def _event(self):
        s = lambda a: _lib.decode(_get_str(self.handle, a))  # noqa: E731
        return Event(_get_u64(self.handle, TIME_NS), s(VERDICT), s(DIRECTION), s(SOURCE),
                     s(DESTINATION), s(PROTOCOL), _get_u64(self.handle, PORT), s(POLICY),
                     s(SOURCE_IP), s(DEST_IP))

    def next(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, or None after timeout seconds (None: wait for ever)."""
        ms = -1 if timeout is None else int(timeout * 1000)
        return self._event() if self._check(_next(self.handle, ms)) == 1 else None

    def events(self, timeout: Optional[float] = None,
               count: Optional[int] = None) -> Iterator[Event]:
        """Iterate over events until timeout seconds pass with none, or count."""
        n = 0
        while count is None or n < count:
            ev = self.next(timeout)
            if ev is None:
                return
            n += 1
            yield ev

    def __iter__(self) -> Iterator[Event]:
        return self.events()
