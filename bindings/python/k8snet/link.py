"""Pod plumbing: the node bridge, veth pairs into pods, routes, and routing
to other nodes (host-gw and VXLAN).  See link.h and k8snet_link_pod_attach(3).

    from k8snet import Context, link

    with Context(netns="/run/netns/node1") as ctx:
        link.node_setup(ctx)
        link.bridge_ensure(ctx, "cni0", ["10.244.1.1/24"])
        pod = link.Pod(netns="/run/netns/pod1", container_id="abc", bridge="cni0",
                       addresses=[("10.244.1.5/24", "10.244.1.1")])
        result = link.attach(ctx, pod)        # a Result
        print(result.to_json())               # CNI-shaped
        link.detach(ctx, pod)
"""
from __future__ import annotations

import ctypes
import enum
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_pod_p = ctypes.c_void_p
c_res_p = ctypes.c_void_p
u32 = ctypes.c_uint32



@_lib.c_constants("K8SNET_LINK_POD_")
class PodAttr(enum.IntEnum):
    """Attributes of a pod (k8snet_link_pod_set_str(), _set_u32())."""
    NETNS_PATH = 0
    CONTAINER_ID = 1
    IFNAME = 2
    BRIDGE = 3
    MAC = 4
    MTU = 5
    FLAGS = 6


@_lib.c_constants("K8SNET_LINK_POD_F_")
class PodFlag(enum.IntFlag):
    HAIRPIN = 0x1
    NO_DEFAULT_ROUTE = 0x2


@_lib.c_constants("K8SNET_LINK_RESULT_")
class ResultList(enum.IntEnum):
    """The lists of a result (k8snet_link_result_get_count())."""
    INTERFACES = 0
    ADDRESSES = 1
    ROUTES = 2


@_lib.c_constants("K8SNET_LINK_")
class ResultAttr(enum.IntEnum):
    """The fields of a result's entries (k8snet_link_result_get_str(), _get_int())."""
    IFACE_NAME = 0
    IFACE_MAC = 1
    IFACE_SANDBOX = 2
    IFACE_MTU = 3
    ADDR_ADDRESS = 4
    ADDR_GATEWAY = 5
    ADDR_INTERFACE = 6
    ROUTE_DST = 7
    ROUTE_GATEWAY = 8


@_lib.c_constants("K8SNET_LINK_NODE_F_")
class NodeFlag(enum.IntFlag):
    """Flags of k8snet_link_node_setup()."""
    IPV6 = 0x1
    BRIDGE_NF = 0x2


@_lib.c_constants("K8SNET_LINK_PEER_")
class PeerMode(enum.IntEnum):
    """How another node's pods are reached (k8snet_link_peer_add())."""
    HOST_GW = 1
    VXLAN = 2


# The names before the enums.
POD_NETNS_PATH = PodAttr.NETNS_PATH
POD_CONTAINER_ID = PodAttr.CONTAINER_ID
POD_IFNAME = PodAttr.IFNAME
POD_BRIDGE = PodAttr.BRIDGE
POD_MAC = PodAttr.MAC
POD_MTU = PodAttr.MTU
POD_FLAGS = PodAttr.FLAGS
POD_F_HAIRPIN = PodFlag.HAIRPIN
POD_F_NO_DEFAULT_ROUTE = PodFlag.NO_DEFAULT_ROUTE

RESULT_INTERFACES = ResultList.INTERFACES
RESULT_ADDRESSES = ResultList.ADDRESSES
RESULT_ROUTES = ResultList.ROUTES
IFACE_NAME = ResultAttr.IFACE_NAME
IFACE_MAC = ResultAttr.IFACE_MAC
IFACE_SANDBOX = ResultAttr.IFACE_SANDBOX
IFACE_MTU = ResultAttr.IFACE_MTU
ADDR_ADDRESS = ResultAttr.ADDR_ADDRESS
ADDR_GATEWAY = ResultAttr.ADDR_GATEWAY
ADDR_INTERFACE = ResultAttr.ADDR_INTERFACE
ROUTE_DST = ResultAttr.ROUTE_DST
ROUTE_GATEWAY = ResultAttr.ROUTE_GATEWAY

NODE_F_IPV6 = NodeFlag.IPV6
NODE_F_BRIDGE_NF = NodeFlag.BRIDGE_NF
PEER_HOST_GW = PeerMode.HOST_GW
PEER_VXLAN = PeerMode.VXLAN
_MODES = {"host-gw": PEER_HOST_GW, "vxlan": PEER_VXLAN}

_bridge_ensure = fn("k8snet_link_bridge_ensure", ctypes.c_int, c_ctx_p, ctypes.c_char_p, u32,
                    ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t)
_pod_new = fn("k8snet_link_pod_new", ctypes.c_int, ctypes.POINTER(c_pod_p))
_pod_free = fn("k8snet_link_pod_free", c_pod_p, c_pod_p)
_pod_set_str = fn("k8snet_link_pod_set_str", ctypes.c_int, c_pod_p, u32, ctypes.c_char_p)
_pod_get_str = fn("k8snet_link_pod_get_str", ctypes.c_char_p, c_pod_p, u32)
_pod_set_u32 = fn("k8snet_link_pod_set_u32", ctypes.c_int, c_pod_p, u32, u32)
_pod_get_u32 = fn("k8snet_link_pod_get_u32", u32, c_pod_p, u32)
_pod_set_netns_fd = fn("k8snet_link_pod_set_netns_fd", ctypes.c_int, c_pod_p, ctypes.c_int)
_pod_add_address = fn("k8snet_link_pod_add_address", ctypes.c_int, c_pod_p, ctypes.c_char_p,
                      ctypes.c_char_p)
_pod_get_error = fn("k8snet_link_pod_get_error", ctypes.c_char_p, c_pod_p)
_pod_add_route = fn("k8snet_link_pod_add_route", ctypes.c_int, c_pod_p, ctypes.c_char_p,
                    ctypes.c_char_p)
_host_ifname = fn("k8snet_link_host_ifname", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                  ctypes.POINTER(ctypes.c_void_p))
_result_free = fn("k8snet_link_result_free", c_res_p, c_res_p)
_result_count = fn("k8snet_link_result_get_count", ctypes.c_int, c_res_p, u32)
_result_get_str = fn("k8snet_link_result_get_str", ctypes.c_char_p, c_res_p, u32, u32)
_result_get_int = fn("k8snet_link_result_get_int", ctypes.c_int, c_res_p, u32, u32)
_result_to_json = fn("k8snet_link_result_to_json", ctypes.c_int, c_res_p, ctypes.c_char_p,
                     ctypes.POINTER(ctypes.c_void_p))
_attach = fn("k8snet_link_pod_attach", ctypes.c_int, c_ctx_p, c_pod_p, ctypes.POINTER(c_res_p))
_detach = fn("k8snet_link_pod_detach", ctypes.c_int, c_ctx_p, c_pod_p)
_check = fn("k8snet_link_pod_check", ctypes.c_int, c_ctx_p, c_pod_p)
_node_setup = fn("k8snet_link_node_setup", ctypes.c_int, c_ctx_p, u32)
_set_route_localnet = fn("k8snet_link_set_route_localnet", ctypes.c_int, c_ctx_p,
                        ctypes.c_char_p, u32)
_vxlan_ensure = fn("k8snet_link_vxlan_ensure", ctypes.c_int, c_ctx_p, ctypes.c_char_p, u32, u32,
                   ctypes.c_char_p, u32)
_peer_add = fn("k8snet_link_peer_add", ctypes.c_int, c_ctx_p, u32, ctypes.c_char_p,
               ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_peer_del = fn("k8snet_link_peer_del", ctypes.c_int, c_ctx_p, u32, ctypes.c_char_p,
               ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)

_enc = _lib.encode

# An address or route: "CIDR" or (CIDR, gateway).
Address = Union[str, Tuple[str, Optional[str]]]
Netns = Union[str, os.PathLike, int]


def _entries(values):
    """Addresses or routes: one string is one entry, not its characters."""
    return [values] if isinstance(values, str) else values


def _arg_check(rc, what):
    """Object setters have no context: name the argument ourselves."""
    if rc < 0:
        raise _lib._BY_ERRNO.get(-rc, _lib.Error)(-rc, f"{what}: {_lib.strerror(rc)}", what)
    return rc


def host_ifname(container_id: str, ifname: str = "eth0") -> str:
    """The host-side veth name attach() uses for (container_id, ifname)."""
    out = ctypes.c_void_p()
    _arg_check(_host_ifname(_enc(container_id), _enc(ifname), ctypes.byref(out)), "container_id")
    return _lib.take_string(out.value)


class Pod(_lib.Handle):
    """What to attach (``struct k8snet_link_pod``).

    ``addresses`` is a list of CIDR strings or (cidr, gateway) pairs;
    ``routes`` a list of dst CIDRs or (dst, gateway) pairs; ``netns`` a path
    or an open descriptor.
    """

    _free = _pod_free

    def __init__(self, netns: Optional[Netns] = None, container_id: Optional[str] = None,
                 ifname: Optional[str] = None, bridge: Optional[str] = None,
                 mac: Optional[str] = None, mtu: int = 0, hairpin: bool = False,
                 default_route: bool = True, addresses: Union[Address, Iterable[Address]] = (),
                 routes: Union[Address, Iterable[Address]] = ()) -> None:
        handle = c_pod_p()
        check(_pod_new(ctypes.byref(handle)))
        self._handle = handle
        if netns is not None:
            self.netns = netns
        for attr, value, name in ((POD_CONTAINER_ID, container_id, "container_id"),
                                  (POD_IFNAME, ifname, "ifname"), (POD_BRIDGE, bridge, "bridge"),
                                  (POD_MAC, mac, "mac")):
            if value is not None:
                self._arg(_pod_set_str(self.handle, attr, _enc(value)), name)
        if mtu:
            self._arg(_pod_set_u32(self.handle, POD_MTU, mtu), "mtu")
        flags = (POD_F_HAIRPIN if hairpin else 0) | (0 if default_route else POD_F_NO_DEFAULT_ROUTE)
        self._arg(_pod_set_u32(self.handle, POD_FLAGS, flags), "flags")
        for a in _entries(addresses):
            cidr, gw = (a, None) if isinstance(a, str) else a
            self.add_address(cidr, gw)
        for r in _entries(routes):
            dst, gw = (r, None) if isinstance(r, str) else r
            self.add_route(dst, gw)

    @property
    def netns(self) -> Optional[str]:
        return _lib.decode(_pod_get_str(self.handle, POD_NETNS_PATH))

    @netns.setter
    def netns(self, where: Netns) -> None:
        if isinstance(where, int):
            self._arg(_pod_set_netns_fd(self.handle, where), "netns")
        else:
            self._arg(_pod_set_str(self.handle, POD_NETNS_PATH, _enc(os.fspath(where))), "netns")

    def _str_attr(attr):  # noqa: N805 - property factory
        def get(self) -> Optional[str]:
            return _lib.decode(_pod_get_str(self.handle, attr))
        return property(get)

    def _u32_attr(attr):  # noqa: N805 - property factory
        def get(self) -> int:
            return _pod_get_u32(self.handle, attr)
        return property(get)

    container_id = _str_attr(POD_CONTAINER_ID)
    ifname = _str_attr(POD_IFNAME)
    bridge = _str_attr(POD_BRIDGE)
    mac = _str_attr(POD_MAC)
    mtu = _u32_attr(POD_MTU)
    flags = _u32_attr(POD_FLAGS)
    del _str_attr, _u32_attr

    def _arg(self, rc, what):
        """A pod description has no context: its own last error names the
        field (k8snet_link_pod_get_error)."""
        if rc < 0:
            message = _lib.decode(_pod_get_error(self.handle)) or f"{what}: {_lib.strerror(rc)}"
            raise _lib._BY_ERRNO.get(-rc, _lib.Error)(-rc, message, what)
        return rc

    def add_address(self, cidr: str, gateway: Optional[str] = None) -> None:
        self._arg(_pod_add_address(self.handle, _enc(cidr), _enc(gateway)), "addresses")

    def add_route(self, dst: str, gateway: Optional[str] = None) -> None:
        self._arg(_pod_add_route(self.handle, _enc(dst), _enc(gateway)), "routes")


class Result(_lib.Handle):
    """The result of attach(): ``interfaces``, ``ips`` and ``routes`` as lists
    of dicts in CNI's shape; ``to_json()`` is the C renderer's output."""

    _free = _result_free

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def _count(self, what):
        return check(_result_count(self._handle, what))

    def _str(self, i, attr):
        return _lib.decode(_result_get_str(self._handle, i, attr))

    @property
    def interfaces(self) -> List[Dict[str, Any]]:
        return [{"name": self._str(i, IFACE_NAME), "mac": self._str(i, IFACE_MAC),
                 "sandbox": self._str(i, IFACE_SANDBOX),
                 "mtu": _result_get_int(self._handle, i, IFACE_MTU)}
                for i in range(self._count(RESULT_INTERFACES))]

    @property
    def ips(self) -> List[Dict[str, Any]]:
        return [{"address": self._str(i, ADDR_ADDRESS), "gateway": self._str(i, ADDR_GATEWAY),
                 "interface": _result_get_int(self._handle, i, ADDR_INTERFACE)}
                for i in range(self._count(RESULT_ADDRESSES))]

    @property
    def routes(self) -> List[Dict[str, Optional[str]]]:
        return [{"dst": self._str(i, ROUTE_DST), "gw": self._str(i, ROUTE_GATEWAY)}
                for i in range(self._count(RESULT_ROUTES))]

    def to_json(self, cni_version: Optional[str] = None) -> str:
        out = ctypes.c_void_p()
        check(_result_to_json(self._handle, _enc(cni_version), ctypes.byref(out)))
        return _lib.take_string(out.value)

    def to_dict(self, cni_version: Optional[str] = None) -> Dict[str, Any]:
        return json.loads(self.to_json(cni_version))


def bridge_ensure(ctx: Any, name: str, addresses: Union[str, Iterable[str]] = (),
                  mtu: int = 0) -> bool:
    """Create or top up the bridge; True when it was created."""
    addresses = _lib.one_or_many(addresses)
    arr = (ctypes.c_char_p * max(1, len(addresses)))(*[_enc(a) for a in addresses])
    return ctx._check(_bridge_ensure(ctx.handle, _enc(name), mtu, arr, len(addresses))) == 1


def attach(ctx: Any, pod: Pod) -> Result:
    res = c_res_p()
    ctx._check(_attach(ctx.handle, pod.handle, ctypes.byref(res)))
    return Result(res)


def detach(ctx: Any, pod: Pod) -> bool:
    """True when a link was removed, False when there was none."""
    return ctx._check(_detach(ctx.handle, pod.handle)) == 1


def check_pod(ctx: Any, pod: Pod) -> None:
    """Raises (NotFound, or Error with errno ESTALE and every difference in
    its message) unless the pod is as attached."""
    ctx._check(_check(ctx.handle, pod.handle))


def node_setup(ctx: Any, ipv6: bool = False, bridge_nf: bool = False) -> None:
    ctx._check(_node_setup(ctx.handle, (NODE_F_IPV6 if ipv6 else 0) |
                           (NODE_F_BRIDGE_NF if bridge_nf else 0)))


def set_route_localnet(ctx: Any, name: str, on: bool = True) -> bool:
    """route_localnet on the link name only; True when it was changed."""
    return ctx._check(_set_route_localnet(ctx.handle, _enc(name), 1 if on else 0)) == 1


def vxlan_ensure(ctx: Any, dev: str, vni: int, local_ip: str, port: int = 0,
                 mtu: int = 0) -> bool:
    """True when the device was created."""
    return ctx._check(_vxlan_ensure(ctx.handle, _enc(dev), vni, port, _enc(local_ip), mtu)) == 1


def _mode(mode):
    return _MODES[mode] if isinstance(mode, str) else mode


def peer_add(ctx: Any, mode: Union[str, int], pod_cidr: str, node_ip: str,
             dev: Optional[str] = None, vtep_mac: Optional[str] = None) -> None:
    """mode: "host-gw" or "vxlan" (or PEER_*)."""
    ctx._check(_peer_add(ctx.handle, _mode(mode), _enc(pod_cidr), _enc(node_ip), _enc(dev),
                         _enc(vtep_mac)))


def peer_del(ctx: Any, mode: Union[str, int], pod_cidr: str, node_ip: str,
             dev: Optional[str] = None, vtep_mac: Optional[str] = None) -> None:
    ctx._check(_peer_del(ctx.handle, _mode(mode), _enc(pod_cidr), _enc(node_ip), _enc(dev),
                         _enc(vtep_mac)))
