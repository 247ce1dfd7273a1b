"""Kubernetes DNS names: validation, the names of the DNS specification,
query parsing, a pod's resolv.conf, glibc search expansion, zone files.

Every function takes an optional ``ctx`` (a :class:`k8snet.Context`); without
one a private context is used.  Bad input raises
:class:`k8snet.InvalidArgument` with the library's message, which says which
rule failed or names the field (``items[3].spec.ports[0].port: ...``).
"""
from __future__ import annotations

import ctypes
import enum
import json
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _lib
from ._lib import c_ctx_p, check, fn
from .core import Context

_c_p = ctypes.c_void_p
_str = ctypes.c_char_p
_u32 = ctypes.c_uint32
_out = ctypes.POINTER(ctypes.c_void_p)



# The constants of dns.h (tests/python/test_constants.py compares them).
@_lib.c_constants("K8SNET_DNS_", DNS1035_LABEL="K8SNET_DNS_1035_LABEL")
class Kind(enum.IntEnum):
    """What k8snet_dns_validate() checks a name against."""
    LABEL = 1           # DNS-1123 label
    SUBDOMAIN = 2       # DNS-1123 subdomain
    DNS1035_LABEL = 3   # DNS-1035 label (C: K8SNET_DNS_1035_LABEL)
    LABEL_KEY = 4
    LABEL_VALUE = 5
    PORT_NAME = 6       # IANA_SVC_NAME


@_lib.c_constants("K8SNET_DNS_QUERY_KIND_")
class QueryKind(enum.IntEnum):
    SERVICE = 1
    POD = 2
    SCHEMA = 3


@_lib.c_constants("K8SNET_DNS_QUERY_")
class QueryPart(enum.IntEnum):
    """The parts of a parsed query (k8snet_dns_query_get_str())."""
    ZONE = 0
    NAMESPACE = 1
    SERVICE = 2
    ENDPOINT = 3
    PORT = 4
    PROTOCOL = 5
    IP = 6


@_lib.c_constants("K8SNET_DNS_RESOLV_")
class ResolvAttr(enum.IntEnum):
    """The inputs of a resolv.conf (k8snet_dns_resolv_set_str(), _set_u32())."""
    POLICY = 0
    NAMESPACE = 1
    CLUSTER_DOMAIN = 2
    CLUSTER_DNS = 3
    HOST_CONF = 4
    HOST_CONF_FILE = 5
    DNS_CONFIG = 6
    NODE_IPS = 7
    HOST_NETWORK = 8
    LEGACY_LIMITS = 9


@_lib.c_constants("K8SNET_DNS_ZONE_")
class ZoneAttr(enum.IntEnum):
    """Settings of a zone (k8snet_dns_zone_set_u32(), _set_str())."""
    TTL = 0
    SERIAL = 1
    NAMESERVER_IP = 2


@_lib.c_constants("K8SNET_DNS_SERVICE_F_")
class ServiceFlag(enum.IntFlag):
    PUBLISH_NOT_READY = 1 << 0


@_lib.c_constants("K8SNET_DNS_ENDPOINT_F_")
class EndpointFlag(enum.IntFlag):
    NOT_READY = 1 << 0


@_lib.c_constants("K8SNET_DNS_POD_F_")
class PodFlag(enum.IntFlag):
    NOT_READY = 1 << 0


KINDS = {
    "label": Kind.LABEL,
    "subdomain": Kind.SUBDOMAIN,
    "dns1035": Kind.DNS1035_LABEL,
    "label-key": Kind.LABEL_KEY,
    "label-value": Kind.LABEL_VALUE,
    "port-name": Kind.PORT_NAME,
}

_validate = fn("k8snet_dns_validate", ctypes.c_int, c_ctx_p, _u32, _str)
_service_fqdn = fn("k8snet_dns_service_fqdn", ctypes.c_int, c_ctx_p, _str, _str, _str, _out)
_srv_name = fn("k8snet_dns_srv_name", ctypes.c_int, c_ctx_p, _str, _str, _str, _str, _str, _out)
_endpoint_name = fn("k8snet_dns_endpoint_name", ctypes.c_int, c_ctx_p, _str, _str, _str, _str,
                    _out)
_pod_fqdn = fn("k8snet_dns_pod_fqdn", ctypes.c_int, c_ctx_p, _str, _str, _str, _str, _out)
_pod_ip_name = fn("k8snet_dns_pod_ip_name", ctypes.c_int, c_ctx_p, _str, _str, _str, _out)
_ptr_name = fn("k8snet_dns_ptr_name", ctypes.c_int, c_ctx_p, _str, _out)
_query_parse = fn("k8snet_dns_query_parse", ctypes.c_int, c_ctx_p, _str, _str, _out)
_query_free = fn("k8snet_dns_query_free", _c_p, _c_p)
_query_get_kind = fn("k8snet_dns_query_get_kind", _u32, _c_p)
_query_get_str = fn("k8snet_dns_query_get_str", _str, _c_p, _u32)
_candidates = fn("k8snet_dns_candidates", ctypes.c_int, c_ctx_p, _str, _str, _out)
_resolv_new = fn("k8snet_dns_resolv_new", ctypes.c_int, c_ctx_p, _out)
_resolv_free = fn("k8snet_dns_resolv_free", _c_p, _c_p)
_resolv_set_str = fn("k8snet_dns_resolv_set_str", ctypes.c_int, _c_p, _u32, _str)
_resolv_set_u32 = fn("k8snet_dns_resolv_set_u32", ctypes.c_int, _c_p, _u32, _u32)
_resolv_render = fn("k8snet_dns_resolv_render", ctypes.c_int, _c_p, _out)
_resolv_get_warning = fn("k8snet_dns_resolv_get_warning", _str, _c_p, _u32)
_zone_new = fn("k8snet_dns_zone_new", ctypes.c_int, c_ctx_p, _str, _out)
_zone_free = fn("k8snet_dns_zone_free", _c_p, _c_p)
_zone_set_u32 = fn("k8snet_dns_zone_set_u32", ctypes.c_int, _c_p, _u32, _u32)
_zone_set_str = fn("k8snet_dns_zone_set_str", ctypes.c_int, _c_p, _u32, _str)
_zone_add_json = fn("k8snet_dns_zone_add_json", ctypes.c_int, _c_p, _str, ctypes.c_size_t)
_zone_add_service = fn("k8snet_dns_zone_add_service", ctypes.c_int, _c_p, _str, _str, _str, _str,
                       _u32)
_zone_add_service_port = fn("k8snet_dns_zone_add_service_port", ctypes.c_int, _c_p, _str, _str,
                            _str, _str, _u32)
_zone_add_endpoint = fn("k8snet_dns_zone_add_endpoint", ctypes.c_int, _c_p, _str, _str, _str,
                        _str, _u32)
_zone_add_endpoint_port = fn("k8snet_dns_zone_add_endpoint_port", ctypes.c_int, _c_p, _str,
                             _str, _str, _str, _u32)
_zone_add_pod = fn("k8snet_dns_zone_add_pod", ctypes.c_int, _c_p, _str, _str, _str, _str, _u32)
_zone_render = fn("k8snet_dns_zone_render", ctypes.c_int, _c_p, _str, _out)

_e = _lib.encode


def _call_string(ctx, f, *args):
    """Call a builder that hands out a string, with a context for errors."""
    ctx = ctx or Context()
    out = ctypes.c_void_p()
    check(f(ctx.handle, *args, ctypes.byref(out)), ctx.handle)
    return _lib.take_string(out.value)


def validate(kind: str, name: str, ctx: Optional[Context] = None) -> None:
    """Raise InvalidArgument (saying which rule failed) unless name is a valid
    ``kind``: label, subdomain, dns1035, label-key, label-value, port-name."""
    if kind not in KINDS:
        raise ValueError("unknown kind %r (one of %s)" % (kind, ", ".join(KINDS)))
    ctx = ctx or Context()
    check(_validate(ctx.handle, KINDS[kind], _e(name)), ctx.handle)


def is_valid(kind: str, name: str) -> bool:
    """True when name is a valid ``kind`` (see validate())."""
    try:
        validate(kind, name)
    except _lib.InvalidArgument:
        return False
    return True


def service_fqdn(service: str, namespace: str, zone: Optional[str] = None,
                 ctx: Optional[Context] = None) -> str:
    """<service>.<namespace>.svc.<zone>"""
    return _call_string(ctx, _service_fqdn, _e(service), _e(namespace), _e(zone))


def srv_name(port: str, protocol: str, service: str, namespace: str,
             zone: Optional[str] = None, ctx: Optional[Context] = None) -> str:
    """_<port>._<protocol>.<service>.<namespace>.svc.<zone>"""
    return _call_string(ctx, _srv_name, _e(port), _e(protocol), _e(service), _e(namespace),
                        _e(zone))


def endpoint_name(hostname: str, service: str, namespace: str, zone: Optional[str] = None,
                  ctx: Optional[Context] = None) -> str:
    """<hostname>.<service>.<namespace>.svc.<zone> (headless endpoint)"""
    return _call_string(ctx, _endpoint_name, _e(hostname), _e(service), _e(namespace), _e(zone))


def pod_fqdn(hostname: str, subdomain: str, namespace: str, zone: Optional[str] = None,
             ctx: Optional[Context] = None) -> str:
    """<hostname>.<subdomain>.<namespace>.svc.<zone>"""
    return _call_string(ctx, _pod_fqdn, _e(hostname), _e(subdomain), _e(namespace), _e(zone))


def pod_ip_name(ip: str, namespace: str, zone: Optional[str] = None,
                ctx: Optional[Context] = None) -> str:
    """<dashed-ip>.<namespace>.pod.<zone>"""
    return _call_string(ctx, _pod_ip_name, _e(ip), _e(namespace), _e(zone))


def ptr_name(ip: str, ctx: Optional[Context] = None) -> str:
    """d.c.b.a.in-addr.arpa, or the reversed nibbles under ip6.arpa."""
    return _call_string(ctx, _ptr_name, _e(ip))


class Query:
    """The parts of a cluster query name (see parse_query())."""

    KINDS = {1: "service", 2: "pod", 3: "schema"}
    PARTS = ("zone", "namespace", "service", "endpoint", "port", "protocol", "ip")

    def __init__(self, kind: str, **parts: Optional[str]) -> None:
        self.kind = kind
        for p in self.PARTS:
            setattr(self, p, parts.get(p))

    def as_dict(self) -> Dict[str, str]:
        d = {"kind": self.kind}
        d.update({p: getattr(self, p) for p in self.PARTS if getattr(self, p) is not None})
        return d

    def __repr__(self):
        return "Query(%s)" % ", ".join("%s=%r" % kv for kv in self.as_dict().items())


def parse_query(name: str, zone: Optional[str] = None, ctx: Optional[Context] = None) -> Query:
    """Split a query name into a Query.  Raises InvalidArgument when it is not
    a DNS name and NotFound (with the reason) when it is not a cluster name."""
    ctx = ctx or Context()
    q = ctypes.c_void_p()
    check(_query_parse(ctx.handle, _e(name), _e(zone), ctypes.byref(q)), ctx.handle)
    try:
        parts = {p: _lib.decode(_query_get_str(q, i)) for i, p in enumerate(Query.PARTS)}
        return Query(Query.KINDS[_query_get_kind(q)], **parts)
    finally:
        _query_free(q)


def candidates(name: str, resolv_conf: Optional[str] = None,
               ctx: Optional[Context] = None) -> List[str]:
    """The names a glibc resolver tries for name, in order, under the text of
    a resolv.conf (None: ndots 1, no search list)."""
    ctx = ctx or Context()
    out = ctypes.c_void_p()
    check(_candidates(ctx.handle, _e(name), _e(resolv_conf), ctypes.byref(out)), ctx.handle)
    return _lib.take_string(out.value).splitlines()


class _Object(_lib.Handle):
    """An object that keeps its context (for messages) alive."""

    def __init__(self, ctx: Optional[Context]) -> None:
        self.ctx = ctx or Context()

    def _check(self, rc):
        return check(rc, self.ctx.handle)


class ResolvConf(_Object):
    """A pod's resolv.conf with the kubelet's rules.

    ``ResolvConf(policy="ClusterFirst", namespace="web", cluster_dns=["10.96.0.10"],
    cluster_domain="cluster.local", host_resolv_conf=text, dns_config={...})``;
    ``render()`` returns the text and leaves ``warnings`` set.
    """

    _free = staticmethod(_resolv_free)
    _STR = {"policy": ResolvAttr.POLICY, "namespace": ResolvAttr.NAMESPACE,
            "cluster_domain": ResolvAttr.CLUSTER_DOMAIN, "cluster_dns": ResolvAttr.CLUSTER_DNS,
            "host_resolv_conf": ResolvAttr.HOST_CONF,
            "host_resolv_conf_file": ResolvAttr.HOST_CONF_FILE,
            "dns_config": ResolvAttr.DNS_CONFIG, "node_ips": ResolvAttr.NODE_IPS}
    _U32 = {"host_network": ResolvAttr.HOST_NETWORK, "legacy_limits": ResolvAttr.LEGACY_LIMITS}

    def __init__(self, ctx: Optional[Context] = None, **settings: Any) -> None:
        super().__init__(ctx)
        handle = ctypes.c_void_p()
        self._check(_resolv_new(self.ctx.handle, ctypes.byref(handle)))
        self._handle = handle
        self.warnings = []
        for key, value in settings.items():
            self.set(key, value)

    def set(self, key: str, value: Any) -> None:
        """Set one input by name (the keyword arguments of the constructor)."""
        if key in self._U32:
            self._check(_resolv_set_u32(self.handle, self._U32[key], int(bool(value))))
            return
        if key not in self._STR:
            raise TypeError("unknown setting %r" % key)
        if key in ("cluster_dns", "node_ips") and not isinstance(value, (str, type(None))):
            value = ",".join(value)
        if key == "dns_config" and isinstance(value, dict):
            value = json.dumps(value)
        self._check(_resolv_set_str(self.handle, self._STR[key], _e(value)))

    def render(self) -> str:
        out = ctypes.c_void_p()
        n = self._check(_resolv_render(self.handle, ctypes.byref(out)))
        text = _lib.take_string(out.value)
        self.warnings = [_lib.decode(_resolv_get_warning(self.handle, i)) for i in range(n)]
        return text


class Zone(_Object):
    """Zone records from Services, EndpointSlices and Pods.

    ``Zone("cluster.local", ttl=30)``; add objects with ``add_json()`` (a
    dict, a list of dicts or JSON text as kubectl prints it) or the
    ``add_*`` methods; ``render()`` writes the zone file, ``render(origin=
    "in-addr.arpa")`` a reverse zone.
    """

    _free = staticmethod(_zone_free)

    def __init__(self, zone: Optional[str] = None, ttl: Optional[int] = None,
                 serial: Optional[int] = None, nameserver_ip: Optional[str] = None,
                 ctx: Optional[Context] = None) -> None:
        super().__init__(ctx)
        handle = ctypes.c_void_p()
        self._check(_zone_new(self.ctx.handle, _e(zone), ctypes.byref(handle)))
        self._handle = handle
        if ttl is not None:
            self._check(_zone_set_u32(self.handle, ZoneAttr.TTL, ttl))
        if serial is not None:
            self._check(_zone_set_u32(self.handle, ZoneAttr.SERIAL, serial))
        if nameserver_ip is not None:
            self._check(_zone_set_str(self.handle, ZoneAttr.NAMESERVER_IP, _e(nameserver_ip)))

    def add_json(self, doc: Union[str, bytes, Dict[str, Any], List[Dict[str, Any]]]) -> int:
        """Add the Services, EndpointSlices and Pods of a document; returns
        how many objects were used."""
        if not isinstance(doc, (str, bytes)):
            if isinstance(doc, list):
                doc = {"apiVersion": "v1", "kind": "List", "items": doc}
            doc = json.dumps(doc)
        data = doc.encode("utf-8") if isinstance(doc, str) else doc
        return self._check(_zone_add_json(self.handle, data, len(data)))

    def add_service(self, namespace: str, name: str,
                    cluster_ips: Union[str, Iterable[str], None] = None,
                    external_name: Optional[str] = None, publish_not_ready: bool = False) -> None:
        """cluster_ips: a list (or "None"/empty for a headless service)."""
        if cluster_ips is not None and not isinstance(cluster_ips, str):
            cluster_ips = ",".join(cluster_ips)
        self._check(_zone_add_service(self.handle, _e(namespace), _e(name), _e(cluster_ips),
                                      _e(external_name), 1 if publish_not_ready else 0))

    def add_service_port(self, namespace: str, service: str, name: str, protocol: str,
                         port: int) -> None:
        self._check(_zone_add_service_port(self.handle, _e(namespace), _e(service), _e(name),
                                           _e(protocol), port))

    def add_endpoint(self, namespace: str, service: str, ip: str, hostname: Optional[str] = None,
                     ready: bool = True) -> None:
        self._check(_zone_add_endpoint(self.handle, _e(namespace), _e(service), _e(ip),
                                       _e(hostname), 0 if ready else 1))

    def add_endpoint_port(self, namespace: str, service: str, name: str, protocol: str,
                          port: int) -> None:
        self._check(_zone_add_endpoint_port(self.handle, _e(namespace), _e(service), _e(name),
                                            _e(protocol), port))

    def add_pod(self, namespace: str, ip: str, hostname: Optional[str] = None,
                subdomain: Optional[str] = None, ready: bool = True) -> None:
        self._check(_zone_add_pod(self.handle, _e(namespace), _e(ip), _e(hostname),
                                  _e(subdomain), 0 if ready else 1))

    def render(self, origin: Optional[str] = None) -> str:
        out = ctypes.c_void_p()
        self._check(_zone_render(self.handle, _e(origin), ctypes.byref(out)))
        return _lib.take_string(out.value)
