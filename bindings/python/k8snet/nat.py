"""Service NAT: kube-proxy's job in nftables (``k8snet/nat.h``).

    from k8snet import Context, nat

    with Context(netns="/run/netns/node1") as ctx, nat.Proxy(ctx) as proxy:
        proxy.node_name = "node1"
        proxy.add_cluster_cidr("10.244.0.0/16")
        proxy.load_json(open("cluster.json").read())
        proxy.sync()
        print(proxy.render())
"""
from __future__ import annotations

import ctypes
import enum
import json as _json
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from . import _lib
from ._lib import c_ctx_p, check, fn

c_proxy_p = ctypes.c_void_p
c_svc_p = ctypes.c_void_p
u32 = ctypes.c_uint32



# The constants of nat.h (tests/python/test_constants.py compares them).
@_lib.c_constants("K8SNET_PROXY_")
class ProxyAttr(enum.IntEnum):
    NODE_NAME = 0
    TABLE = 1
    NODE_IP = 2
    CLUSTER_CIDR = 3
    NODEPORT_ADDRESS = 4
    MARK_BIT = 5
    NODEPORT_MIN = 6
    NODEPORT_MAX = 7
    FLAGS = 8
    CONNTRACK_DELETED = 9
    CONNTRACK_FILTERS = 10
    SERVICE_CIDR = 11
    NODE_ZONE = 12


@_lib.c_constants("K8SNET_PROXY_F_")
class ProxyFlag(enum.IntFlag):
    MASQUERADE_ALL = 0x1
    ROUND_ROBIN = 0x2
    NO_CONNTRACK_CLEANUP = 0x4
    COUNT = 0x8


@_lib.c_constants("K8SNET_SERVICE_")
class ServiceAttr(enum.IntEnum):
    NAMESPACE = 0
    NAME = 1
    TYPE = 2
    FLAGS = 3
    AFFINITY_TIMEOUT = 4
    CREATION_TIMESTAMP = 5
    HEALTH_CHECK_NODE_PORT = 6
    TRAFFIC_DISTRIBUTION = 7


@_lib.c_constants("K8SNET_TRAFFIC_DISTRIBUTION_")
class TrafficDistribution(enum.IntEnum):
    """spec.trafficDistribution (PreferClose is PREFER_SAME_ZONE)."""
    NONE = 0
    PREFER_SAME_ZONE = 1
    PREFER_SAME_NODE = 2


@_lib.c_constants("K8SNET_SERVICE_TYPE_")
class ServiceType(enum.IntEnum):
    CLUSTER_IP = 0
    NODE_PORT = 1
    LOAD_BALANCER = 2
    EXTERNAL_NAME = 3


@_lib.c_constants("K8SNET_SERVICE_F_")
class ServiceFlag(enum.IntFlag):
    AFFINITY = 0x1
    ETP_LOCAL = 0x2
    ITP_LOCAL = 0x4


@_lib.c_constants("K8SNET_SERVICE_IP_")
class IPKind(enum.IntEnum):
    """Which list of a Service an address goes in (Service.add_ip())."""
    CLUSTER = 0
    EXTERNAL = 1
    LB_INGRESS = 2
    SOURCE_RANGE = 3
    LB_INGRESS_PROXY = 4


@_lib.c_constants("K8SNET_ENDPOINT_")
class EndpointAttr(enum.IntEnum):
    """String attributes of an endpoint (Service.add_endpoint(zone=, for_zones=, for_nodes=))."""
    ZONE = 0
    HINT_ZONE = 1
    HINT_NODE = 2


@_lib.c_constants("K8SNET_ENDPOINT_F_")
class EndpointFlag(enum.IntFlag):
    READY = 0x1
    SERVING = 0x2
    TERMINATING = 0x4


# The names before the enums.
PROXY_NODE_NAME = ProxyAttr.NODE_NAME
PROXY_TABLE = ProxyAttr.TABLE
PROXY_NODE_IP = ProxyAttr.NODE_IP
PROXY_CLUSTER_CIDR = ProxyAttr.CLUSTER_CIDR
PROXY_NODEPORT_ADDRESS = ProxyAttr.NODEPORT_ADDRESS
PROXY_MARK_BIT = ProxyAttr.MARK_BIT
PROXY_NODEPORT_MIN = ProxyAttr.NODEPORT_MIN
PROXY_NODEPORT_MAX = ProxyAttr.NODEPORT_MAX
PROXY_FLAGS = ProxyAttr.FLAGS
PROXY_CONNTRACK_DELETED = ProxyAttr.CONNTRACK_DELETED
PROXY_CONNTRACK_FILTERS = ProxyAttr.CONNTRACK_FILTERS
PROXY_SERVICE_CIDR = ProxyAttr.SERVICE_CIDR
PROXY_NODE_ZONE = ProxyAttr.NODE_ZONE
F_MASQUERADE_ALL = ProxyFlag.MASQUERADE_ALL
F_ROUND_ROBIN = ProxyFlag.ROUND_ROBIN
F_NO_CONNTRACK_CLEANUP = ProxyFlag.NO_CONNTRACK_CLEANUP
F_COUNT = ProxyFlag.COUNT

SERVICE_NAMESPACE = ServiceAttr.NAMESPACE
SERVICE_NAME = ServiceAttr.NAME
SERVICE_TYPE = ServiceAttr.TYPE
SERVICE_FLAGS = ServiceAttr.FLAGS
SERVICE_AFFINITY_TIMEOUT = ServiceAttr.AFFINITY_TIMEOUT
SERVICE_CREATION_TIMESTAMP = ServiceAttr.CREATION_TIMESTAMP
SERVICE_HEALTH_CHECK_NODE_PORT = ServiceAttr.HEALTH_CHECK_NODE_PORT
SERVICE_TRAFFIC_DISTRIBUTION = ServiceAttr.TRAFFIC_DISTRIBUTION
TRAFFIC_DISTRIBUTION_NONE, PREFER_SAME_ZONE, PREFER_SAME_NODE = TrafficDistribution
PREFER_CLOSE = PREFER_SAME_ZONE
ENDPOINT_ZONE, ENDPOINT_HINT_ZONE, ENDPOINT_HINT_NODE = EndpointAttr
TYPE_CLUSTER_IP, TYPE_NODE_PORT, TYPE_LOAD_BALANCER, TYPE_EXTERNAL_NAME = ServiceType
F_AFFINITY = ServiceFlag.AFFINITY
F_ETP_LOCAL = ServiceFlag.ETP_LOCAL
F_ITP_LOCAL = ServiceFlag.ITP_LOCAL
IP_CLUSTER, IP_EXTERNAL, IP_LB_INGRESS, IP_SOURCE_RANGE, IP_LB_INGRESS_PROXY = IPKind
EP_READY = EndpointFlag.READY
EP_SERVING = EndpointFlag.SERVING
EP_TERMINATING = EndpointFlag.TERMINATING
PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}

_proxy_new = fn("k8snet_proxy_new", ctypes.c_int, c_ctx_p, ctypes.POINTER(c_proxy_p))
_proxy_free = fn("k8snet_proxy_free", c_proxy_p, c_proxy_p)
_proxy_set_str = fn("k8snet_proxy_set_str", ctypes.c_int, c_proxy_p, u32, ctypes.c_char_p)
_proxy_add_str = fn("k8snet_proxy_add_str", ctypes.c_int, c_proxy_p, u32, ctypes.c_char_p)
_proxy_set_u32 = fn("k8snet_proxy_set_u32", ctypes.c_int, c_proxy_p, u32, u32)
_proxy_get_str = fn("k8snet_proxy_get_str", ctypes.c_char_p, c_proxy_p, u32)
_proxy_get_u32 = fn("k8snet_proxy_get_u32", u32, c_proxy_p, u32)
_proxy_load_json = fn("k8snet_proxy_load_json", ctypes.c_int, c_proxy_p, ctypes.c_char_p,
                      ctypes.c_size_t)
_proxy_add_service = fn("k8snet_proxy_add_service", ctypes.c_int, c_proxy_p, c_svc_p)
_proxy_remove_service = fn("k8snet_proxy_remove_service", ctypes.c_int, c_proxy_p,
                           ctypes.c_char_p, ctypes.c_char_p)
_proxy_remove_slice = fn("k8snet_proxy_remove_slice", ctypes.c_int, c_proxy_p,
                         ctypes.c_char_p, ctypes.c_char_p)
_proxy_sync = fn("k8snet_proxy_sync", ctypes.c_int, c_proxy_p)
_proxy_sync_full = fn("k8snet_proxy_sync_full", ctypes.c_int, c_proxy_p)
_proxy_get_skipped_count = fn("k8snet_proxy_get_skipped_count", ctypes.c_int, c_proxy_p)
_proxy_get_skipped = fn("k8snet_proxy_get_skipped", ctypes.c_int, c_proxy_p, u32,
                        ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p))
_proxy_get_health = fn("k8snet_proxy_get_health", ctypes.c_int, c_proxy_p, ctypes.c_char_p,
                       ctypes.c_char_p, ctypes.POINTER(u32), ctypes.POINTER(u32))
_proxy_get_health_changed_count = fn("k8snet_proxy_get_health_changed_count", ctypes.c_int,
                                     c_proxy_p)
_proxy_get_health_changed = fn("k8snet_proxy_get_health_changed", ctypes.c_int, c_proxy_p, u32,
                               ctypes.POINTER(ctypes.c_char_p))
_proxy_get_counters = fn("k8snet_proxy_get_counters", ctypes.c_int, c_proxy_p, ctypes.c_char_p,
                         ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64),
                         ctypes.POINTER(ctypes.c_uint64))
_proxy_get_traffic = fn("k8snet_proxy_get_traffic", ctypes.c_int, c_proxy_p, ctypes.c_char_p,
                        ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64),
                        ctypes.POINTER(ctypes.c_uint64))
_proxy_render = fn("k8snet_proxy_render", ctypes.c_int, c_proxy_p,
                   ctypes.POINTER(ctypes.c_void_p))

_svc_new = fn("k8snet_service_new", ctypes.c_int, ctypes.POINTER(c_svc_p))
_svc_free = fn("k8snet_service_free", c_svc_p, c_svc_p)
_svc_set_str = fn("k8snet_service_set_str", ctypes.c_int, c_svc_p, u32, ctypes.c_char_p)
_svc_get_str = fn("k8snet_service_get_str", ctypes.c_char_p, c_svc_p, u32)
_svc_set_u32 = fn("k8snet_service_set_u32", ctypes.c_int, c_svc_p, u32, u32)
_svc_get_u32 = fn("k8snet_service_get_u32", u32, c_svc_p, u32)
_svc_get_error = fn("k8snet_service_get_error", ctypes.c_char_p, c_svc_p)
_svc_add_ip = fn("k8snet_service_add_ip", ctypes.c_int, c_svc_p, u32, ctypes.c_char_p)
_svc_add_port = fn("k8snet_service_add_port", ctypes.c_int, c_svc_p, ctypes.c_char_p, u32, u32, u32)
_svc_set_endpoint_str = fn("k8snet_service_set_endpoint_str", ctypes.c_int, c_svc_p,
                           ctypes.c_char_p, u32, ctypes.c_char_p)
_svc_add_endpoint = fn("k8snet_service_add_endpoint", ctypes.c_int, c_svc_p, ctypes.c_char_p,
                       ctypes.c_char_p, u32, ctypes.c_char_p, u32)


def _proto(p):
    return PROTOCOLS[p.upper()] if isinstance(p, str) else int(p)


class Service(_lib.Handle):
    """A Service built in Python (``struct k8snet_service``); hand it to
    :meth:`Proxy.add_service`, which copies it."""

    _free = _svc_free

    def __init__(self, name: str, namespace: str = "default", type: int = TYPE_CLUSTER_IP,
                 flags: int = 0, affinity_timeout: Optional[int] = None,
                 creation_timestamp: Optional[str] = None, health_check_node_port: int = 0,
                 traffic_distribution: int = TRAFFIC_DISTRIBUTION_NONE) -> None:
        handle = c_svc_p()
        check(_svc_new(ctypes.byref(handle)))
        self._handle = handle
        self._set_str(SERVICE_NAME, name)
        self._set_str(SERVICE_NAMESPACE, namespace)
        self._set_u32(SERVICE_TYPE, type)
        self._set_u32(SERVICE_FLAGS, flags)
        if affinity_timeout is not None:
            self._set_u32(SERVICE_AFFINITY_TIMEOUT, affinity_timeout)
        if creation_timestamp is not None:
            self.creation_timestamp = creation_timestamp
        if health_check_node_port:
            self._set_u32(SERVICE_HEALTH_CHECK_NODE_PORT, health_check_node_port)
        if traffic_distribution:
            self._set_u32(SERVICE_TRAFFIC_DISTRIBUTION, traffic_distribution)

    def _rc(self, rc: int, what: str) -> int:
        """A Service has no context: its own last error names the field
        (k8snet_service_get_error); what is the fallback."""
        if rc < 0:
            message = _lib.decode(_svc_get_error(self.handle)) or \
                "%s: %s" % (what, _lib.strerror(rc))
            raise _lib._BY_ERRNO.get(-rc, _lib.Error)(-rc, message, what)
        return rc

    def _set_str(self, attr: int, value: str) -> None:
        self._rc(_svc_set_str(self.handle, attr, _lib.encode(value)), "attribute")

    def _set_u32(self, attr: int, value: int) -> None:
        self._rc(_svc_set_u32(self.handle, attr, value), "attribute")

    @property
    def name(self) -> Optional[str]:
        return _lib.decode(_svc_get_str(self.handle, SERVICE_NAME))

    @property
    def namespace(self) -> Optional[str]:
        return _lib.decode(_svc_get_str(self.handle, SERVICE_NAMESPACE))

    @property
    def creation_timestamp(self) -> Optional[str]:
        """metadata.creationTimestamp (RFC 3339, UTC): the older of two
        services claiming one address keeps it."""
        return _lib.decode(_svc_get_str(self.handle, SERVICE_CREATION_TIMESTAMP))

    @creation_timestamp.setter
    def creation_timestamp(self, value: Optional[str]) -> None:
        rc = _svc_set_str(self.handle, SERVICE_CREATION_TIMESTAMP, _lib.encode(value))
        if rc < 0:
            raise _lib.InvalidArgument(-rc, "%r: not an RFC 3339 UTC time "
                                       "(2006-01-02T15:04:05Z)" % value)

    @property
    def flags(self) -> int:
        return _svc_get_u32(self.handle, SERVICE_FLAGS)

    @property
    def type(self) -> int:
        return _svc_get_u32(self.handle, SERVICE_TYPE)

    @property
    def affinity_timeout(self) -> int:
        return _svc_get_u32(self.handle, SERVICE_AFFINITY_TIMEOUT)

    @property
    def traffic_distribution(self) -> int:
        """PREFER_SAME_ZONE (PreferClose), PREFER_SAME_NODE or 0."""
        return _svc_get_u32(self.handle, SERVICE_TRAFFIC_DISTRIBUTION)

    @property
    def health_check_node_port(self) -> int:
        """spec.healthCheckNodePort (0: none)."""
        return _svc_get_u32(self.handle, SERVICE_HEALTH_CHECK_NODE_PORT)

    def add_ip(self, addr: str, kind: int = IP_CLUSTER) -> "Service":
        self._rc(_svc_add_ip(self.handle, kind, _lib.encode(addr)), "address")
        return self

    def add_port(self, port: int, protocol: Union[str, int] = "TCP", name: str = "",
                 node_port: int = 0) -> "Service":
        self._rc(_svc_add_port(self.handle, _lib.encode(name), _proto(protocol), port, node_port),
                 "port")
        return self

    def add_endpoint(self, addr: str, port: int, port_name: str = "", node: Optional[str] = None,
                     flags: int = EP_READY, zone: Optional[str] = None,
                     for_zones: Union[str, Iterable[str]] = (),
                     for_nodes: Union[str, Iterable[str]] = ()) -> "Service":
        """An endpoint; zone and hints (for_zones, for_nodes) apply to
        every endpoint of the address."""
        self._rc(_svc_add_endpoint(self.handle, _lib.encode(addr), _lib.encode(port_name), port,
                                   _lib.encode(node), flags), "endpoint")
        topo = [(ENDPOINT_ZONE, zone)] if zone else []
        topo += [(ENDPOINT_HINT_ZONE, z) for z in for_zones]
        topo += [(ENDPOINT_HINT_NODE, n) for n in for_nodes]
        for attr, value in topo:
            self._rc(_svc_set_endpoint_str(self.handle, _lib.encode(addr), attr,
                                           _lib.encode(value)), "endpoint topology")
        return self


class Proxy(_lib.Handle):
    """A Service NAT proxy (``struct k8snet_proxy``) bound to a
    :class:`k8snet.Context`. Keep the context open while the proxy lives."""

    _free = _proxy_free

    def __init__(self, ctx: Any, node_name: Optional[str] = None,
                 cluster_cidrs: Union[str, Iterable[str]] = (),
                 node_ips: Union[str, Iterable[str]] = (), flags: Optional[int] = None,
                 service_cidrs: Union[str, Iterable[str]] = ()) -> None:
        handle = c_proxy_p()
        check(_proxy_new(ctx.handle, ctypes.byref(handle)), ctx.handle)
        self._handle = handle
        self._ctx = ctx.retain()
        if node_name is not None:
            self.node_name = node_name
        for c in _lib.one_or_many(cluster_cidrs):
            self.add_cluster_cidr(c)
        for ip in _lib.one_or_many(node_ips):
            self.add_node_ip(ip)
        for c in _lib.one_or_many(service_cidrs):
            self.add_service_cidr(c)
        if flags is not None:
            self.flags = flags

    def _check(self, rc):
        return check(rc, self._ctx.handle)

    # settings
    def _get_str(self, attr):
        return _lib.decode(_proxy_get_str(self.handle, attr))

    @property
    def node_name(self) -> Optional[str]:
        return self._get_str(PROXY_NODE_NAME)

    @node_name.setter
    def node_name(self, value: str) -> None:
        self._check(_proxy_set_str(self.handle, PROXY_NODE_NAME, _lib.encode(value)))

    @property
    def node_zone(self) -> Optional[str]:
        """This node's zone, for topology-aware routing."""
        return self._get_str(PROXY_NODE_ZONE)

    @node_zone.setter
    def node_zone(self, value: str) -> None:
        self._check(_proxy_set_str(self.handle, PROXY_NODE_ZONE, _lib.encode(value)))

    @property
    def table(self) -> Optional[str]:
        return self._get_str(PROXY_TABLE)

    @table.setter
    def table(self, value: str) -> None:
        self._check(_proxy_set_str(self.handle, PROXY_TABLE, _lib.encode(value)))

    def add_node_ip(self, ip: str) -> None:
        self._check(_proxy_add_str(self.handle, PROXY_NODE_IP, _lib.encode(ip)))

    def add_cluster_cidr(self, cidr: str) -> None:
        self._check(_proxy_add_str(self.handle, PROXY_CLUSTER_CIDR, _lib.encode(cidr)))

    def add_nodeport_address(self, cidr: str) -> None:
        self._check(_proxy_add_str(self.handle, PROXY_NODEPORT_ADDRESS, _lib.encode(cidr)))

    def add_service_cidr(self, cidr: str) -> None:
        """A service CIDR (v4 or v6): its addresses that no service has are
        dropped at the node."""
        self._check(_proxy_add_str(self.handle, PROXY_SERVICE_CIDR, _lib.encode(cidr)))

    @property
    def service_cidr(self) -> Optional[str]:
        """The first service CIDR given, or None."""
        return self._get_str(PROXY_SERVICE_CIDR)

    def _u32(name, attr):  # noqa: N805 - property factory
        def get(self) -> int:
            return _proxy_get_u32(self.handle, attr)

        def put(self, value: int) -> None:
            self._check(_proxy_set_u32(self.handle, attr, value))
        return property(get, put, doc=name)

    mark_bit = _u32("masquerade mark bit", PROXY_MARK_BIT)
    nodeport_min = _u32("lowest NodePort", PROXY_NODEPORT_MIN)
    nodeport_max = _u32("highest NodePort", PROXY_NODEPORT_MAX)
    flags = _u32("F_MASQUERADE_ALL | F_ROUND_ROBIN | F_NO_CONNTRACK_CLEANUP | F_COUNT",
                 PROXY_FLAGS)

    @property
    def conntrack_deleted(self) -> int:
        """Conntrack entries the last sync deleted (stale UDP/SCTP flows)."""
        return _proxy_get_u32(self.handle, PROXY_CONNTRACK_DELETED)

    @property
    def conntrack_filters(self) -> int:
        """Filtered conntrack dumps (table walks) the last sync made: 0 when
        the proxy's index of entries had them all."""
        return _proxy_get_u32(self.handle, PROXY_CONNTRACK_FILTERS)
    del _u32

    # services
    def load_json(self, doc: Union[str, bytes, Dict[str, Any]]) -> int:
        """Add or replace Services and EndpointSlices from a JSON document
        (str, bytes, or a dict as json.load gives it). All or nothing;
        returns the number of objects taken."""
        if isinstance(doc, dict):
            doc = _json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else bytes(doc)
        return self._check(_proxy_load_json(self.handle, data, len(data)))

    def add_service(self, svc: Service) -> None:
        self._check(_proxy_add_service(self.handle, svc.handle))

    def remove_service(self, namespace: str, name: str) -> None:
        self._check(_proxy_remove_service(self.handle, _lib.encode(namespace), _lib.encode(name)))

    def remove_slice(self, namespace: str, name: str) -> None:
        self._check(_proxy_remove_slice(self.handle, _lib.encode(namespace), _lib.encode(name)))

    def sync(self, full: bool = False) -> int:
        """Program the kernel (one atomic batch); returns the messages sent.
        Success means the kernel acknowledged all of it; after a failure the
        next sync replaces the tables.  ``full=True`` replaces them now
        (a periodic full resync)."""
        return self._check((_proxy_sync_full if full else _proxy_sync)(self.handle))

    def skipped(self) -> Iterator[Tuple[str, str]]:
        """What the last sync or render left out because an older service
        holds the address: an iterator of (object, reason) pairs."""
        obj, why = ctypes.c_char_p(), ctypes.c_char_p()
        i = 0
        while _proxy_get_skipped(self.handle, i, ctypes.byref(obj), ctypes.byref(why)) == 0:
            yield _lib.decode(obj.value), _lib.decode(why.value)
            i += 1

    def health(self, namespace: str, name: str) -> Optional[Tuple[int, int]]:
        """Health-check data of a service with externalTrafficPolicy Local
        and a healthCheckNodePort, as of the last sync: (node_port,
        local_ready_endpoints), or None."""
        port, local = u32(), u32()
        rc = _proxy_get_health(self.handle, _lib.encode(namespace), _lib.encode(name),
                               ctypes.byref(port), ctypes.byref(local))
        if rc == -2:   # ENOENT
            return None
        self._check(rc)
        return port.value, local.value

    def health_changed(self) -> List[str]:
        """The services ("ns/name") whose health-check data the last sync
        changed: appeared, changed, or went away."""
        out = ctypes.c_char_p()
        n = _proxy_get_health_changed_count(self.handle)
        return [_lib.decode(out.value) for i in range(n)
                if _proxy_get_health_changed(self.handle, i, ctypes.byref(out)) == 0]

    def counters(self, namespace: str, name: str) -> Tuple[int, int]:
        """With ``F_COUNT``: (packets, bytes) the kernel counted for a
        service, summed over its ports and families.  Only the first packet
        of each connection is counted, so packets are connections.  Raises
        OSError(ENOENT) for an unknown service or when counting is off."""
        packets, nbytes = ctypes.c_uint64(), ctypes.c_uint64()
        self._check(_proxy_get_counters(self.handle, _lib.encode(namespace), _lib.encode(name),
                                        ctypes.byref(packets), ctypes.byref(nbytes)))
        return packets.value, nbytes.value

    def traffic(self, namespace: str, name: str) -> Tuple[int, int]:
        """With ``F_COUNT``: (packets, bytes) of every connection to a
        service, both directions, summed over its ports and families.
        Raises OSError(ENOENT) for an unknown service or when counting is
        off."""
        packets, nbytes = ctypes.c_uint64(), ctypes.c_uint64()
        self._check(_proxy_get_traffic(self.handle, _lib.encode(namespace), _lib.encode(name),
                                       ctypes.byref(packets), ctypes.byref(nbytes)))
        return packets.value, nbytes.value

    def render(self) -> str:
        """The ruleset as nft text."""
        out = ctypes.c_void_p()
        self._check(_proxy_render(self.handle, ctypes.byref(out)))
        return _lib.take_string(out.value)
