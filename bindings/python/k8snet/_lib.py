"""Loading libk8snet with ctypes, and the error convention shared by layers.

The library is found in this order: the path in ``K8SNET_LIBRARY`` (the
build tree's tests set it); ``libk8snet.so.1`` next to this package's files
(a copy shipped with the package); the SONAME as the dynamic linker finds it
(``LD_LIBRARY_PATH``, the ld.so cache: Debian's libk8snet1, ``make
install``).
"""
from __future__ import annotations

import ctypes
import errno
import os
import typing
from typing import Optional

SONAME = "libk8snet.so.1"


def _library_path():
    """The path or name to dlopen: see the module's docstring."""
    explicit = os.environ.get("K8SNET_LIBRARY")
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)
    if os.path.exists(beside):
        return beside
    return SONAME


def _load():
    path = _library_path()
    try:
        return ctypes.CDLL(path, use_errno=True)
    except OSError as e:
        # Say where it looked: "cannot open shared object file" alone does
        # not tell a pip user that the C library is a separate install.
        raise ImportError(
            "k8snet: cannot load %s (%s); install libk8snet1 (Debian) or the "
            "library with `make install`, or set K8SNET_LIBRARY to its path"
            % (path, e)) from e


lib = _load()

c_ctx_p = ctypes.c_void_p


def fn(name, restype, *argtypes):
    """Declare one C function's signature; returns the ctypes function."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    if restype is None or restype is ctypes.c_int or name.endswith(("_free", "_unref")):
        return f
    return _refusing_in_child(f)


def _refusing_in_child(f):
    """A C function that returns a pointer or a value says "this object was
    made by another process before a fork()" with NULL or 0 and errno ECHILD
    (libk8snet(7)): raise then, as check() does for the int functions,
    instead of passing None or 0 on as if it were the answer."""
    def call(*args):
        ctypes.set_errno(0)
        result = f(*args)
        if not result and ctypes.get_errno() == errno.ECHILD:
            raise Error(errno.ECHILD, "%s: this object was made by another process "
                        "before a fork(): make a new one in this process" % f.__name__)
        return result
    call.__name__ = f.__name__
    return call


def encode(s):
    return None if s is None else s.encode("utf-8")


def decode(b):
    return None if b is None else b.decode("utf-8")


class Error(OSError):
    """A libk8snet call failed. ``errno`` is positive, ``strerror`` is the
    context's message (which names the bad field for bad input), ``path`` is
    that field's path or ""."""

    def __init__(self, code, message, path=""):
        super().__init__(code, message)
        self.path = path


class InvalidArgument(Error, ValueError):
    pass


class NotFound(Error, LookupError):
    pass


class Exists(Error):
    pass


class NoSpace(Error):
    pass


_BY_ERRNO = {
    errno.EINVAL: InvalidArgument,
    errno.ERANGE: InvalidArgument,
    errno.ENOENT: NotFound,
    errno.EEXIST: Exists,
    errno.ENOSPC: NoSpace,
}

_strerror = fn("k8snet_strerror", ctypes.c_char_p, ctypes.c_int)
_get_error = fn("k8snet_ctx_get_error", ctypes.c_char_p, c_ctx_p)
_get_error_path = fn("k8snet_ctx_get_error_path", ctypes.c_char_p, c_ctx_p)
free = fn("k8snet_free", None, ctypes.c_void_p)
_ctx_ref = fn("k8snet_ctx_ref", c_ctx_p, c_ctx_p)
_ctx_unref = fn("k8snet_ctx_unref", c_ctx_p, c_ctx_p)


class Handle:
    """A C object owned by a Python object: ``close()`` frees it, and so do
    leaving a ``with`` block and garbage collection.  Subclasses set ``_free``
    to the C free function and store the pointer in ``_handle``."""

    _free = None
    _handle = None

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            type(self)._free(self._handle)
            self._handle = None
        ctx = self.__dict__.get("_ctx")
        if isinstance(ctx, ContextRef):
            ctx.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class ContextRef(Handle):
    """An object's own reference to the context it was made on, so that
    closing the :class:`k8snet.Context` first leaves the object working (its
    errors are still read from that context)."""

    _free = _ctx_unref

    def __init__(self, handle: int) -> None:
        self._handle = _ctx_ref(handle)

    def retain(self) -> "ContextRef":
        return ContextRef(self.handle)


def strerror(code: int) -> str:
    """Description of an errno code (either sign)."""
    return decode(_strerror(code))


def check(rc: int, ctx_handle: Optional[int] = None) -> int:
    """Raise the right Error subclass for a negative return code."""
    if rc >= 0:
        return rc
    code = -rc
    message = decode(_get_error(ctx_handle)) if ctx_handle else ""
    path = decode(_get_error_path(ctx_handle)) if ctx_handle else ""
    raise _BY_ERRNO.get(code, Error)(code, message or strerror(code), path)


def take_string(ptr):
    """Copy a library-allocated C string and free it."""
    try:
        return decode(ctypes.string_at(ptr)) if ptr else None
    finally:
        free(ptr)


# The C headers' constants: name -> value, filled in by c_constants() and
# c_constant() as the modules are imported.  tests/python/test_constants.py
# compares it with every #define and enum constant of include/k8snet/*.h.
C_CONSTANTS: typing.Dict[str, int] = {}


def c_constants(prefix: str, **spelled: str) -> typing.Callable[[type], type]:
    """Class decorator for an IntEnum or IntFlag whose members are the C
    constants ``prefix + member name``; ``spelled`` gives the C name of a
    member whose C spelling is no Python identifier (``K8SNET_DNS_1035_LABEL``)."""
    def register(cls):
        for member in cls:
            C_CONSTANTS[spelled.get(member.name, prefix + member.name)] = int(member)
        cls._c_prefix = prefix
        return cls
    return register


def c_constant(name: str, value: int) -> int:
    """A lone C constant (not one of a family): records it, returns value."""
    C_CONSTANTS[name] = value
    return value


def one_or_many(value: "typing.Union[str, typing.Iterable[str], None]") -> typing.List[str]:
    """Where a list of addresses (or names) is taken, one string is one
    item, never its characters; None is none."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]
    return list(value)
