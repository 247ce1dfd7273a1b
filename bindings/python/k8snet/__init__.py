"""Python bindings for libk8snet (ctypes over the C library).

Each layer is a submodule: ``k8snet.core`` (contexts, errors) is imported
here; the others are imported by name (``from k8snet import ipam``).
"""
from ._lib import (Error, Exists, InvalidArgument, NoSpace, NotFound,  # noqa: F401
                   strerror)
from .core import CidrFlag, Context, addr_parse, cidr_parse, version, version_num  # noqa: F401
