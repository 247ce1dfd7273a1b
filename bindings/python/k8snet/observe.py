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

To name pods created after the observer started, follow the files the
objects come from (the agent's ``/run/k8snet-agent/objects.json``, or files
an editor replaces): ``obs.follow("/run/k8snet-agent/objects.json")``.
:meth:`Observer.next` then reads them again whenever they change, as
``k8snet observe`` does, and :meth:`Observer.set_json` replaces the objects
for callers that get them another way.
"""
from __future__ import annotations

import ctypes
import enum
import json as _json
import logging
import os
import select
import time
from collections import namedtuple
from typing import Any, Iterator, List, Optional, Sequence, Union

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
_set_json = fn("k8snet_observer_set_json", ctypes.c_int, c_obs_p,
               ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t)
_get_fd = fn("k8snet_observer_get_fd", ctypes.c_int, c_obs_p)
_next = fn("k8snet_observer_next", ctypes.c_int, c_obs_p, ctypes.c_int)
_feed = fn("k8snet_observer_feed", ctypes.c_int, c_obs_p, ctypes.c_char_p, ctypes.c_size_t)
_get_str = fn("k8snet_observer_get_str", ctypes.c_char_p, c_obs_p, ctypes.c_uint32)
_get_u64 = fn("k8snet_observer_get_u64", ctypes.c_uint64, c_obs_p, ctypes.c_uint32)
_get_lost = fn("k8snet_observer_get_lost", ctypes.c_uint64, c_obs_p)

_log = logging.getLogger("k8snet.observe")

# How often followed files are looked at (seconds), as k8snet observe does.
FOLLOW_INTERVAL = 0.1

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

    _paths: Sequence[str] = ()
    _ids: List[tuple] = []
    _checked = 0.0
    follow_error: Optional[OSError] = None

    @staticmethod
    def _bytes(doc: Union[str, bytes, dict]) -> bytes:
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        return doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)

    def load_json(self, doc: Union[str, bytes, dict]) -> None:
        """Pods and Services (JSON text, bytes or a dict) to name addresses
        with, added to those loaded before."""
        data = self._bytes(doc)
        self._check(_load_json(self.handle, data, len(data)))

    def set_json(self, *docs: Union[str, bytes, dict]) -> None:
        """Replace every object loaded so far with those of docs, all at
        once; if one is refused the error's ``path`` starts with
        ``docs[I]`` and the previous objects stay.  No docs: drop them all."""
        data = [self._bytes(d) for d in docs]
        arr = (ctypes.c_char_p * max(len(data), 1))(*data)
        lens = (ctypes.c_size_t * max(len(data), 1))(*[len(d) for d in data])
        self._check(_set_json(self.handle, arr, lens, len(data)))

    @staticmethod
    def _file_id(path: str) -> tuple:
        try:
            st = os.stat(path)
        except OSError as e:
            return (e.errno,)
        return (0, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _reload(self, first: bool) -> None:
        docs, bad = [], None
        ids = []
        for path in self._paths:
            # The version read is the one fstat names, so a later change
            # shows as a new id and is read again.
            try:
                with open(path, "rb") as f:
                    st = os.fstat(f.fileno())
                    ids.append((0, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                st.st_ctime_ns))
                    docs.append(f.read())
            except OSError as e:
                ids.append((e.errno,))
                bad = bad or e
        self._ids = ids
        if bad is None:
            try:
                self.set_json(*docs)
                return
            except OSError as e:
                bad = e
        if first:
            raise bad
        # Once per failing version: the ids now name it.
        _log.warning("reloading %s: %s (events are still named with the objects read "
                     "before)", ", ".join(self._paths), bad)
        self.follow_error = bad

    def follow(self, *paths: str) -> None:
        """Name events with the objects of these JSON files, and read them
        again whenever one is replaced or rewritten (checked by
        :meth:`next` every 0.1 s and before it returns from a wait).  A
        file that cannot be read or is refused later leaves the previous
        objects in use: logged once on the ``k8snet.observe`` logger and
        kept in :attr:`follow_error`.  The first read raises instead.
        ``follow()`` with no paths stops following."""
        self._paths = tuple(os.fspath(p) for p in paths)
        self._ids = []
        if self._paths:
            try:
                self._reload(True)
            except BaseException:
                self._paths = ()
                raise
        self._checked = time.monotonic()

    def check_files(self) -> bool:
        """Read the followed files again if one changed; True if it did."""
        self._checked = time.monotonic()
        if not self._paths or [self._file_id(p) for p in self._paths] == self._ids:
            return False
        self.follow_error = None
        self._reload(False)
        return True

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
        if not self._paths:
            ms = -1 if timeout is None else int(timeout * 1000)
            return self._event() if self._check(_next(self.handle, ms)) == 1 else None
        return self._next_following(timeout)

    def _next_following(self, timeout: Optional[float]) -> Optional[Event]:
        # As k8snet observe: drain, then wait in slices and look at the
        # files when a wait ends, so an event is named with what its files
        # held when it arrived.
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = _get_fd(self.handle)
        while True:
            if time.monotonic() - self._checked >= FOLLOW_INTERVAL:
                self.check_files()
            if self._check(_next(self.handle, 0)) == 1:
                return self._event()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            wait = FOLLOW_INTERVAL if left is None else min(left, FOLLOW_INTERVAL)
            if fd >= 0:
                p = select.poll()
                p.register(fd, select.POLLIN)
                p.poll(int(wait * 1000))
            elif wait > 0:
                time.sleep(wait)
            self.check_files()

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
