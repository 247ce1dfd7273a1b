"""The resources the test API server serves and what kube-apiserver does to
them on create and update: defaults, generation, status subresource rules,
the validation node agents depend on, Service ClusterIP and NodePort
allocation, field selectors, strategic merge keys, Table columns, discovery
documents and the little OpenAPI kubectl reads.

Sources: pkg/registry/*/strategy.go, pkg/apis/*/v1/defaults.go,
pkg/apis/*/validation in kubernetes/kubernetes (read, not copied), and the
API reference for each kind.
"""

import datetime
import ipaddress
import json
import random
import re
import socket
import time

from apipatch import ListMerge
from labelsel import SelectorError, check_key, check_value

SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-k8snet-test",
                  "gitCommit": "0000000000000000000000000000000000000000",
                  "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z",
                  "goVersion": "go1.23.3", "compiler": "gc", "platform": "linux/amd64"}


# ---- field errors and the Invalid Status they make -----------------------

def go_value(v):
    """A value the way Go's %#v prints it in field errors."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[]string{%s}" % ", ".join(json.dumps(str(x)) for x in v)
    if v is None:
        return "null"
    return str(v)


class FieldError:
    REASONS = {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired",
               "Forbidden": "FieldValueForbidden", "Duplicate": "FieldValueDuplicate",
               "NotSupported": "FieldValueNotSupported"}

    def __init__(self, kind, field, value=None, detail=""):
        self.kind, self.field, self.value, self.detail = kind, field, value, detail

    def body(self):
        if self.kind == "Required":
            text = "Required value"
        elif self.kind == "Forbidden":
            text = "Forbidden"
        elif self.kind == "Duplicate":
            text = "Duplicate value: %s" % go_value(self.value)
        elif self.kind == "NotSupported":
            text = "Unsupported value: %s" % go_value(self.value)
        else:
            text = "Invalid value: %s" % go_value(self.value)
        if self.detail:
            text += ": " + self.detail
        return text

    def __str__(self):
        return "%s: %s" % (self.field, self.body())


class InvalidError(Exception):
    """Raised with the field errors of an object kube-apiserver would refuse (422)."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# ---- names ----------------------------------------------------------------

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def check_subdomain(name):
    if len(name) > 253:
        return "must be no more than 253 characters"
    if not _SUBDOMAIN.match(name):
        return ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character "
                "(e.g. 'example.com', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    return None


def check_label(name):
    if len(name) > 63:
        return "must be no more than 63 characters"
    if not _LABEL.match(name):
        return ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
                "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    return None


def check_dns1035(name):
    if len(name) > 63:
        return "must be no more than 63 characters"
    if not _DNS1035.match(name):
        return ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character "
                "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')")
    return None


_now_cache = [0, ""]


def now_rfc3339():
    sec = int(time.time())
    if _now_cache[0] != sec:
        _now_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))
        _now_cache[0] = sec
    return _now_cache[1]


def _dig(obj, *path, default=""):
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return default
        obj = obj[p]
    return obj


def _str_field(*path):
    return lambda o: str(_dig(o, *path) or "")


def _bool_field(*path):
    return lambda o: "true" if _dig(o, *path, default=False) else "false"


def _first_pod_ip(o):
    ips = _dig(o, "status", "podIPs", default=None) or []
    return (ips[0].get("ip", "") if ips else "") or _dig(o, "status", "podIP") or ""


# ---- Service allocation ---------------------------------------------------

class Allocator:
    """ClusterIPs from the service CIDRs and NodePorts from 30000-32767, as the
    Service REST storage allocates them.  The store holds its lock while it
    calls these."""

    NODE_PORTS = (30000, 32767)

    def __init__(self, cidrs):
        self.cidrs = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        self.ips = {}      # address string -> service key
        self.ports = {}    # (protocol, port) -> service key

    def _family_cidr(self, family):
        for net in self.cidrs:
            if ("IPv%d" % net.version) == family:
                return net
        return None

    def families(self):
        return ["IPv%d" % n.version for n in self.cidrs]

    def _net_of(self, ip):
        """The service CIDR holding ip (a valid literal), or None."""
        v = ip_version(ip)
        n = int.from_bytes(socket.inet_pton(socket.AF_INET if v == 4 else socket.AF_INET6, ip),
                           "big")
        for net in self.cidrs:
            if net.version == v and int(net.network_address) <= n <= int(net.broadcast_address):
                return net, n
        return None, n

    def check_ip(self, ip, key, field):
        if ip_version(ip) is None:
            return FieldError("Invalid", field, [ip], "must be a valid IP address, (e.g. 10.9.8.7 "
                              "or 2001:db8::ffff)")
        net, n = self._net_of(ip)
        if net is None or n in (int(net.network_address), int(net.broadcast_address)):
            return FieldError("Invalid", field, [ip], "failed to allocate IP %s: the provided IP "
                              "(%s) is not in the valid range. The range of valid IPs is %s"
                              % (ip, ip, ",".join(str(c) for c in self.cidrs)))
        owner = self.ips.get(canonical_ip(ip))
        if owner is not None and owner != key:
            return FieldError("Invalid", field, [ip], "failed to allocate IP %s: provided IP is "
                              "already allocated" % ip)
        return None

    def pick_ip(self, family, taken):
        net = self._family_cidr(family)
        if net is None:
            return None
        size = net.num_addresses
        for _ in range(10000):
            # Skip the network address and the first host, which a real
            # cluster gives to the kubernetes Service.
            cand = str(net.network_address + random.randrange(2, max(3, size - 1)))
            if cand not in self.ips and cand not in taken:
                return cand
        raise InvalidError([FieldError("Invalid", "spec.clusterIPs", [], "failed to allocate a "
                                       "serviceIP: range is full")])

    def check_port(self, proto, port, key, field):
        lo, hi = self.NODE_PORTS
        if not isinstance(port, int) or not lo <= port <= hi:
            return FieldError("Invalid", field, port, "provided port is not in the valid range. "
                              "The range of valid ports is %d-%d" % (lo, hi))
        owner = self.ports.get((proto, port))
        if owner is not None and owner != key:
            return FieldError("Invalid", field, port, "provided port is already allocated")
        return None

    def pick_port(self, proto, taken):
        lo, hi = self.NODE_PORTS
        for _ in range(20000):
            cand = random.randint(lo, hi)
            if (proto, cand) not in self.ports and (proto, cand) not in taken:
                return cand
        raise InvalidError([FieldError("Invalid", "spec.ports", [], "failed to allocate a "
                                       "nodePort: range is full")])

    @staticmethod
    def _held(svc):
        spec = svc.get("spec") or {}
        ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
        ports = [(p.get("protocol", "TCP"), p["nodePort"]) for p in spec.get("ports") or []
                 if isinstance(p, dict) and p.get("nodePort")]
        hc = spec.get("healthCheckNodePort")
        if hc:
            ports.append(("TCP", hc))
        return ips, ports

    def hold(self, key, svc):
        ips, ports = self._held(svc)
        for ip in ips:
            if ip_version(ip):
                self.ips[canonical_ip(ip)] = key
        for p in ports:
            self.ports[p] = key

    def release(self, key, svc):
        ips, ports = self._held(svc)
        for ip in ips:
            if ip_version(ip) and self.ips.get(canonical_ip(ip)) == key:
                del self.ips[canonical_ip(ip)]
        for p in ports:
            if self.ports.get(p) == key:
                del self.ports[p]


# ---- per-kind behaviour ---------------------------------------------------

def _default_ports(ports, default_target=True):
    for p in ports or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if default_target and "targetPort" not in p and "port" in p:
                p["targetPort"] = p["port"]


def _drop_type_dependent(spec, ospec):
    """A Service leaving NodePort/LoadBalancer loses the node ports, health
    check port and traffic policy it still carries unchanged from before
    (kube-apiserver's dropTypeDependentFields), so they are freed."""
    node_types = ("NodePort", "LoadBalancer")
    if ospec.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer" and \
            spec.get("allocateLoadBalancerNodePorts") == ospec.get("allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)
    if ospec.get("type") not in node_types or spec.get("type") in node_types:
        return
    olds = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in ospec.get("ports") or [] if isinstance(p, dict)}
    for p in spec.get("ports") or []:
        if isinstance(p, dict) and p.get("nodePort") and \
                p["nodePort"] == olds.get((p.get("port"), p.get("protocol", "TCP"))):
            del p["nodePort"]
    for k in ("healthCheckNodePort", "externalTrafficPolicy", "allocateLoadBalancerNodePorts"):
        if k in spec and spec[k] == ospec.get(k):
            del spec[k]


def default_service(svc, old, ctx):
    if old is None:
        svc["status"] = {"loadBalancer": {}}
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    _default_ports(spec.get("ports"))
    if spec["type"] == "ExternalName":
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if old is not None:
        ospec = old.get("spec") or {}
        _drop_type_dependent(spec, ospec)
        # Service updates keep what was allocated when the new object leaves
        # it out (the REST storage's patchAllocatedValues).
        if not spec.get("clusterIP") and ospec.get("clusterIP"):
            spec["clusterIP"] = ospec["clusterIP"]
            spec.setdefault("clusterIPs", ospec.get("clusterIPs"))
            for k in ("ipFamilies", "ipFamilyPolicy"):
                if k not in spec and k in ospec:
                    spec[k] = ospec[k]
        olds = {(p.get("port"), p.get("protocol", "TCP")): p for p in ospec.get("ports") or []
                if isinstance(p, dict)}
        for p in spec.get("ports") or []:
            was = olds.get((p.get("port"), p.get("protocol", "TCP")))
            if isinstance(p, dict) and "nodePort" not in p and was and was.get("nodePort") \
                    and spec["type"] in ("NodePort", "LoadBalancer"):
                p["nodePort"] = was["nodePort"]
        if not spec.get("healthCheckNodePort") and ospec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = ospec["healthCheckNodePort"]
    alloc = ctx.allocator
    headless = spec.get("clusterIP") == "None"
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    fams = alloc.families()
    policy = spec.setdefault("ipFamilyPolicy", "SingleStack")
    if "ipFamilies" not in spec:
        if not headless and spec.get("clusterIPs"):
            spec["ipFamilies"] = ["IPv%d" % ip_version(ip)
                                  for ip in spec["clusterIPs"] if _is_ip(ip)]
        else:
            spec["ipFamilies"] = fams[:1] if policy == "SingleStack" else fams[:2]
    if headless:
        spec["clusterIPs"] = ["None"]
        return
    taken = set()
    ips = list(spec.get("clusterIPs") or [])
    for fam in spec["ipFamilies"][len(ips):]:
        ip = alloc.pick_ip(fam, taken)
        if ip is not None:
            taken.add(ip)
            ips.append(ip)
    spec["clusterIPs"] = ips
    if ips:
        spec["clusterIP"] = ips[0]
    if spec["type"] in ("NodePort", "LoadBalancer") and not (
            spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is False):
        held = set()
        for p in spec.get("ports") or []:
            if isinstance(p, dict) and not p.get("nodePort"):
                p["nodePort"] = alloc.pick_port(p.get("protocol", "TCP"), held)
                held.add((p.get("protocol", "TCP"), p["nodePort"]))
    if spec["type"] == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local" \
            and not spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = alloc.pick_port("TCP", set())


def ip_version(s):
    """4 or 6 for an IP address literal, None otherwise (inet_pton: fast,
    and as strict as Go's net.ParseIP for what matters here)."""
    if not isinstance(s, str):
        return None
    for fam, v in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            socket.inet_pton(fam, s)
            return v
        except OSError:
            pass
    return None


def canonical_ip(s):
    v = ip_version(s)
    fam = socket.AF_INET if v == 4 else socket.AF_INET6
    return socket.inet_ntop(fam, socket.inet_pton(fam, s))


def _is_ip(s):
    return ip_version(s) is not None


def validate_service(svc, old, key, ctx):
    errs = []
    spec = svc.get("spec") or {}
    stype = spec.get("type")
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        errs.append(FieldError("NotSupported", "spec.type", stype,
                               'supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
                               '"NodePort"'))
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports") or []
    if not ports and not headless and stype != "ExternalName":
        errs.append(FieldError("Required", "spec.ports"))
    names = set()
    for i, p in enumerate(ports):
        f = "spec.ports[%d]" % i
        if not isinstance(p, dict):
            errs.append(FieldError("Invalid", f, str(p), "must be an object"))
            continue
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            errs.append(FieldError("Invalid", f + ".port", port,
                                   "must be between 1 and 65535, inclusive"))
        if p.get("protocol") not in ("TCP", "UDP", "SCTP"):
            errs.append(FieldError("NotSupported", f + ".protocol", p.get("protocol"),
                                   'supported values: "SCTP", "TCP", "UDP"'))
        name = p.get("name", "")
        if len(ports) > 1 and not name:
            errs.append(FieldError("Required", f + ".name"))
        elif name in names:
            errs.append(FieldError("Duplicate", f + ".name", name))
        names.add(name)
        if "nodePort" in p and p["nodePort"] and stype in ("NodePort", "LoadBalancer"):
            e = ctx.allocator.check_port(p.get("protocol", "TCP"), p["nodePort"], key,
                                         f + ".nodePort")
            if e:
                errs.append(e)
    if stype == "ExternalName" and not spec.get("externalName"):
        errs.append(FieldError("Required", "spec.externalName"))
    if spec.get("externalTrafficPolicy") and stype not in ("NodePort", "LoadBalancer"):
        errs.append(FieldError("Invalid", "spec.externalTrafficPolicy",
                               spec["externalTrafficPolicy"], "may only be set when `type` is "
                               "'NodePort' or 'LoadBalancer'"))
    if stype != "ExternalName" and not headless:
        for i, ip in enumerate(spec.get("clusterIPs") or []):
            e = ctx.allocator.check_ip(ip, key, "spec.clusterIPs")
            if e:
                errs.append(e)
    if old is not None:
        ospec = old.get("spec") or {}
        if ospec.get("type") != "ExternalName" and stype != "ExternalName" \
                and ospec.get("clusterIP") and spec.get("clusterIP") != ospec.get("clusterIP"):
            errs.append(FieldError("Invalid", "spec.clusterIPs[0]", [spec.get("clusterIP")],
                                   "may not change once set"))
    return errs


def default_pod(pod, old, ctx):
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        image = c.get("image", "")
        tagged = ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
        c.setdefault("imagePullPolicy", "IfNotPresent" if tagged or "@" in image else "Always")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        _default_ports(c.get("ports"), default_target=False)
    if old is None:
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


_POD_UPDATE_RULE = ("pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)")


def _pod_spec_frozen(spec):
    """The part of a pod spec an update may not change."""
    out = {k: v for k, v in spec.items()
           if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")}
    for field in ("containers", "initContainers"):
        out[field] = [{k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                      for c in spec.get(field) or []]
    return out


def validate_pod(pod, old, key, ctx):
    errs = []
    spec = pod.get("spec") or {}
    containers = spec.get("containers")
    if not containers:
        errs.append(FieldError("Required", "spec.containers"))
    seen = set()
    for i, c in enumerate(containers or []):
        f = "spec.containers[%d]" % i
        if not isinstance(c, dict):
            errs.append(FieldError("Invalid", f, str(c), "must be an object"))
            continue
        name = c.get("name", "")
        if not name:
            errs.append(FieldError("Required", f + ".name"))
        elif check_label(name):
            errs.append(FieldError("Invalid", f + ".name", name, check_label(name)))
        elif name in seen:
            errs.append(FieldError("Duplicate", f + ".name", name))
        seen.add(name)
        if not c.get("image"):
            errs.append(FieldError("Required", f + ".image"))
    if old is not None and _pod_spec_frozen(spec) != _pod_spec_frozen(old.get("spec") or {}):
        errs.append(FieldError("Forbidden", "spec", None, _POD_UPDATE_RULE))
    for i, ip in enumerate(_dig(pod, "status", "podIPs", default=None) or []):
        if not isinstance(ip, dict) or not _is_ip(ip.get("ip", "")):
            errs.append(FieldError("Invalid", "status.podIPs[%d]" % i, str(ip),
                                   "must be a valid IP address"))
    return errs


def validate_node(node, old, key, ctx):
    errs = []
    spec = node.get("spec") or {}
    cidrs = spec.get("podCIDRs") or []
    if spec.get("podCIDR") and cidrs and cidrs[0] != spec["podCIDR"]:
        errs.append(FieldError("Invalid", "spec.podCIDRs", cidrs,
                               "the first entry must equal spec.podCIDR"))
    for i, c in enumerate(cidrs):
        try:
            ipaddress.ip_network(c, strict=False)
        except ValueError:
            errs.append(FieldError("Invalid", "spec.podCIDRs[%d]" % i, c,
                                   "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                   "2001:db8::/64)"))
    if old is not None:
        ocidrs = _dig(old, "spec", "podCIDRs", default=None) or []
        if ocidrs and cidrs != ocidrs:
            errs.append(FieldError("Forbidden", "spec.podCIDRs", None,
                                   "node updates may not change podCIDR except from \"\" to "
                                   "valid"))
    return errs


_NODE_INFO = ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage",
              "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem",
              "architecture")


def default_node(node, old, ctx):
    spec = node.setdefault("spec", {})
    if isinstance(spec, dict) and spec.get("podCIDR") and not spec.get("podCIDRs"):
        spec["podCIDRs"] = [spec["podCIDR"]]
    # Structs are never omitted by Go's encoder: a Node always shows these.
    status = node.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 0}})
        info = status.setdefault("nodeInfo", {})
        if isinstance(info, dict):
            for k in _NODE_INFO:
                info.setdefault(k, "")


def default_namespace(ns, old, ctx):
    ns.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    meta = ns["metadata"]
    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    if old is None:
        ns["status"] = {"phase": "Active"}


def default_endpointslice(eps, old, ctx):
    # endpoints and ports have no omitempty in the Go type: an empty one is
    # null on the wire; conditions is a struct, so always an object.
    eps.setdefault("endpoints", None)
    eps.setdefault("ports", None)
    for ep in eps.get("endpoints") or []:
        if isinstance(ep, dict):
            ep.setdefault("conditions", {})
    for p in eps.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            p.setdefault("name", "")


def validate_endpointslice(eps, old, key, ctx):
    errs = []
    at = eps.get("addressType")
    if not at:
        errs.append(FieldError("Required", "addressType"))
    elif at not in ("IPv4", "IPv6", "FQDN"):
        errs.append(FieldError("NotSupported", "addressType", at,
                               'supported values: "FQDN", "IPv4", "IPv6"'))
    endpoints = eps.get("endpoints")
    for i, ep in enumerate(endpoints or []):
        f = "endpoints[%d].addresses" % i
        addrs = ep.get("addresses") if isinstance(ep, dict) else None
        if not addrs:
            errs.append(FieldError("Required", f, None, "must contain at least 1 address"))
            continue
        if len(addrs) > 100:
            errs.append(FieldError("Invalid", f, len(addrs), "must have at most 100 addresses"))
        for j, a in enumerate(addrs):
            if at in ("IPv4", "IPv6"):
                ok = ip_version(a) == int(at[-1])
                if not ok:
                    errs.append(FieldError("Invalid", "%s[%d]" % (f, j), a,
                                           "must be a valid %s address" % at))
    if endpoints is not None and len(endpoints) > 1000:
        errs.append(FieldError("Invalid", "endpoints", len(endpoints), "must have at most 1000 "
                               "items"))
    for i, p in enumerate(eps.get("ports") or []):
        if isinstance(p, dict) and p.get("protocol") not in ("TCP", "UDP", "SCTP"):
            errs.append(FieldError("NotSupported", "ports[%d].protocol" % i, p.get("protocol"),
                                   'supported values: "SCTP", "TCP", "UDP"'))
    return errs


def default_networkpolicy(np, old, ctx):
    spec = np.setdefault("spec", {})
    spec.setdefault("podSelector", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
        if isinstance(rule, dict):
            for p in rule.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def validate_networkpolicy(np, old, key, ctx):
    errs = []
    spec = np.get("spec") or {}
    for i, t in enumerate(spec.get("policyTypes") or []):
        if t not in ("Ingress", "Egress"):
            errs.append(FieldError("NotSupported", "spec.policyTypes[%d]" % i, t,
                                   'supported values: "Egress", "Ingress"'))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers) or []):
                block = (peer or {}).get("ipBlock")
                if block is None:
                    continue
                f = "spec.%s[%d].%s[%d].ipBlock" % (direction, i, peers, j)
                try:
                    ipaddress.ip_network(block.get("cidr", ""), strict=False)
                except ValueError:
                    errs.append(FieldError("Invalid", f + ".cidr", block.get("cidr", ""),
                                           "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                           "2001:db8::/64)"))
    return errs


# ---- Tables (the columns kubectl prints) -----------------------------------

def human_age(ts):
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    d = h // 24
    if d < 8:
        return "%dd%dh" % (d, h % 24) if h % 24 else "%dd" % d
    return "%dd" % d


def _col(name, typ="string", priority=0, fmt=""):
    return {"name": name, "type": typ, "format": fmt, "description": name, "priority": priority}


def _pod_row(p):
    cs = _dig(p, "status", "containerStatuses", default=None) or []
    ready = sum(1 for c in cs if c.get("ready"))
    total = len(_dig(p, "spec", "containers", default=None) or [])
    restarts = sum(int(c.get("restartCount", 0)) for c in cs)
    status = _dig(p, "status", "reason") or _dig(p, "status", "phase") or "Unknown"
    if _dig(p, "metadata", "deletionTimestamp"):
        status = "Terminating"
    return ["%d/%d" % (ready, total), status, restarts, human_age(_dig(p, "metadata",
                                                                      "creationTimestamp")),
            _first_pod_ip(p) or "<none>", _dig(p, "spec", "nodeName") or "<none>", "<none>",
            "<none>"]


def _svc_row(s):
    spec = s.get("spec") or {}
    ingress = _dig(s, "status", "loadBalancer", "ingress", default=None) or []
    ext = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or (
        spec.get("externalName") or ("<pending>" if spec.get("type") == "LoadBalancer"
                                     else "<none>"))
    ports = ",".join("%s%s/%s" % (p.get("port"), ":%s" % p["nodePort"] if p.get("nodePort") else "",
                                  p.get("protocol", "TCP")) for p in spec.get("ports") or [])
    sel = ",".join("%s=%s" % kv for kv in sorted((spec.get("selector") or {}).items()))
    return [spec.get("type", ""), spec.get("clusterIP") or "<none>", ext, ports or "<none>",
            human_age(_dig(s, "metadata", "creationTimestamp")), sel or "<none>"]


def _node_row(n):
    conds = {c.get("type"): c.get("status") for c in _dig(n, "status", "conditions",
                                                          default=None) or []}
    status = {"True": "Ready", "False": "NotReady"}.get(conds.get("Ready"), "Unknown")
    if _dig(n, "spec", "unschedulable", default=False):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (_dig(n, "metadata", "labels", default=None) or {})
                   if k.startswith("node-role.kubernetes.io/"))
    addrs = {a.get("type"): a.get("address") for a in _dig(n, "status", "addresses",
                                                           default=None) or []}
    info = _dig(n, "status", "nodeInfo", default=None) or {}
    return [status, ",".join(roles) or "<none>",
            human_age(_dig(n, "metadata", "creationTimestamp")),
            info.get("kubeletVersion", ""), addrs.get("InternalIP", "<none>"),
            addrs.get("ExternalIP", "<none>"), info.get("osImage", "<unknown>"),
            info.get("kernelVersion", "<unknown>"), info.get("containerRuntimeVersion",
                                                             "<unknown>")]


def _ns_row(n):
    return [_dig(n, "status", "phase"), human_age(_dig(n, "metadata", "creationTimestamp"))]


def _eps_row(e):
    ports = ",".join(str(p.get("port", "<unset>")) for p in e.get("ports") or []) or "<unset>"
    addrs = [a for ep in e.get("endpoints") or [] for a in ep.get("addresses") or []]
    shown = ",".join(addrs[:3]) + (" + %d more..." % (len(addrs) - 3) if len(addrs) > 3 else "")
    return [e.get("addressType", ""), ports, shown or "<unset>",
            human_age(_dig(e, "metadata", "creationTimestamp"))]


def _np_row(n):
    sel = _dig(n, "spec", "podSelector", default=None) or {}
    parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        parts.append("%s %s (%s)" % (e.get("key"), e.get("operator", "").lower(),
                                     ",".join(e.get("values") or [])))
    return [",".join(parts) or "<none>", human_age(_dig(n, "metadata", "creationTimestamp"))]


# ---- the resource table ----------------------------------------------------

META_SMP = {"finalizers": ListMerge(None), "ownerReferences": ListMerge("uid")}
_CONTAINER = {"ports": ListMerge("containerPort"), "env": ListMerge("name"),
              "volumeMounts": ListMerge("mountPath"), "volumeDevices": ListMerge("devicePath")}
POD_SMP = {
    "metadata": META_SMP,
    "spec": {"containers": ListMerge("name", _CONTAINER),
             "initContainers": ListMerge("name", _CONTAINER),
             "ephemeralContainers": ListMerge("name", _CONTAINER),
             "volumes": ListMerge("name"), "imagePullSecrets": ListMerge("name"),
             "hostAliases": ListMerge("ip"), "schedulingGates": ListMerge("name"),
             "topologySpreadConstraints": ListMerge("topologyKey"),
             "resourceClaims": ListMerge("name")},
    "status": {"conditions": ListMerge("type"), "podIPs": ListMerge("ip"),
               "hostIPs": ListMerge("ip"), "resourceClaimStatuses": ListMerge("name")},
}
SERVICE_SMP = {"metadata": META_SMP, "spec": {"ports": ListMerge("port")},
               "status": {"conditions": ListMerge("type")}}
NODE_SMP = {"metadata": META_SMP, "spec": {"podCIDRs": ListMerge(None)},
            "status": {"conditions": ListMerge("type"), "addresses": ListMerge("type")}}
NAMESPACE_SMP = {"metadata": META_SMP, "status": {"conditions": ListMerge("type")}}
PLAIN_SMP = {"metadata": META_SMP}


class Resource:
    def __init__(self, name, kind, group, namespaced, *, short=(), categories=(),
                 status=False, status_on_create=False, generation=None, fields=None,
                 smp=PLAIN_SMP, default=None, validate=None, name_check=check_subdomain,
                 returns_deleted=False, columns=(), row=None, deletecollection=True):
        self.name = name
        self.kind = kind
        self.group = group
        self.version = "v1"
        self.api_version = "%s/v1" % group if group else "v1"
        self.list_kind = kind + "List"
        self.namespaced = namespaced
        self.short = list(short)
        self.categories = list(categories)
        self.status = status                  # has the status subresource
        self.status_on_create = status_on_create
        self.generation = generation          # None, "spec" or "nonmeta"
        self.fields = {"metadata.name": _str_field("metadata", "name")}
        if namespaced:
            self.fields["metadata.namespace"] = _str_field("metadata", "namespace")
        self.fields.update(fields or {})
        self.smp = smp
        self.default = default
        self.validate = validate
        self.name_check = name_check
        self.returns_deleted = returns_deleted
        self.columns = [_col("Name", fmt="name")] + list(columns)
        self.row = row
        self.deletecollection = deletecollection
        # "Group" qualified resource, as Status messages name it.
        self.qualified = name + ("." + group if group else "")
        self.qualified_kind = kind + ("." + group if group else "")
        # The serialised head every object of this kind starts with, so list
        # items can be cut out of the stored bytes without re-encoding.
        self.head = ('{"apiVersion":"%s","kind":"%s",' % (self.api_version, kind)).encode()

    def key(self, namespace, name):
        return "%s/%s" % (namespace, name) if self.namespaced else name

    def status_path_allowed(self):
        return self.status


RESOURCES = [
    Resource("namespaces", "Namespace", "", False, short=["ns"], status=True,
             fields={"status.phase": _str_field("status", "phase")}, smp=NAMESPACE_SMP,
             default=default_namespace, name_check=check_label, returns_deleted=True,
             columns=[_col("Status"), _col("Age")], row=_ns_row, deletecollection=False),
    Resource("nodes", "Node", "", False, short=["no"], status=True, status_on_create=True,
             fields={"spec.unschedulable": _bool_field("spec", "unschedulable")}, smp=NODE_SMP,
             default=default_node, validate=validate_node,
             columns=[_col("Status"), _col("Roles"), _col("Age"), _col("Version"),
                      _col("Internal-IP", priority=1), _col("External-IP", priority=1),
                      _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
                      _col("Container-Runtime", priority=1)], row=_node_row),
    Resource("pods", "Pod", "", True, short=["po"], categories=["all"], status=True,
             fields={"spec.nodeName": _str_field("spec", "nodeName"),
                     "spec.restartPolicy": _str_field("spec", "restartPolicy"),
                     "spec.schedulerName": _str_field("spec", "schedulerName"),
                     "spec.serviceAccountName": _str_field("spec", "serviceAccountName"),
                     "spec.hostNetwork": _bool_field("spec", "hostNetwork"),
                     "status.phase": _str_field("status", "phase"),
                     "status.podIP": _first_pod_ip,
                     "status.nominatedNodeName": _str_field("status", "nominatedNodeName")},
             smp=POD_SMP, default=default_pod, validate=validate_pod, returns_deleted=True,
             columns=[_col("Ready"), _col("Status"), _col("Restarts", "integer"), _col("Age"),
                      _col("IP", priority=1), _col("Node", priority=1),
                      _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
             row=_pod_row),
    Resource("services", "Service", "", True, short=["svc"], categories=["all"], status=True,
             fields={"spec.clusterIP": _str_field("spec", "clusterIP"),
                     "spec.type": _str_field("spec", "type")},
             smp=SERVICE_SMP, default=default_service, validate=validate_service,
             name_check=check_dns1035, returns_deleted=True,
             columns=[_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"),
                      _col("Age"), _col("Selector", priority=1)], row=_svc_row),
    Resource("endpointslices", "EndpointSlice", "discovery.k8s.io", True,
             generation="nonmeta", default=default_endpointslice,
             validate=validate_endpointslice,
             columns=[_col("AddressType"), _col("Ports"), _col("Endpoints"), _col("Age")],
             row=_eps_row),
    Resource("networkpolicies", "NetworkPolicy", "networking.k8s.io", True, short=["netpol"],
             generation="spec", default=default_networkpolicy, validate=validate_networkpolicy,
             columns=[_col("Pod-Selector"), _col("Age")], row=_np_row),
]

BY_GROUP = {}
for _r in RESOURCES:
    BY_GROUP.setdefault((_r.group, _r.version), {})[_r.name] = _r
NAMESPACED_NAMES = {r.name for r in RESOURCES if r.namespaced}


def lookup(group, version, name):
    return BY_GROUP.get((group, version), {}).get(name)


def validate_metadata(res, obj):
    """Checks every kind shares: name format, labels, annotations size."""
    meta = obj.get("metadata") or {}
    errs = []
    name = meta.get("name", "")
    if name:
        msg = res.name_check(name)
        if msg:
            errs.append(FieldError("Invalid", "metadata.name", name, msg))
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        errs.append(FieldError("Invalid", "metadata.labels", str(labels), "must be an object"))
        labels = {}
    for k, v in labels.items():
        try:
            if not isinstance(v, str):
                raise SelectorError("label values must be strings")
            check_key(k)
            check_value(v)
        except SelectorError as e:
            errs.append(FieldError("Invalid", "metadata.labels", v if isinstance(v, str)
                                   else str(v), str(e).replace("unable to parse requirement: ",
                                                               "")))
    ann = meta.get("annotations") or {}
    if not isinstance(ann, dict) or any(not isinstance(v, str) for v in ann.values()):
        errs.append(FieldError("Invalid", "metadata.annotations", str(ann),
                               "annotation values must be strings"))
    elif sum(len(k) + len(v) for k, v in ann.items()) > 256 * 1024:
        errs.append(FieldError("Invalid", "metadata.annotations", "",
                               "must have at most 262144 bytes"))
    return errs


# ---- Table conversion -------------------------------------------------------

def partial_metadata(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def table(res, objs, include, list_meta=None, headers=True):
    rows = []
    for o in objs:
        meta = o.get("metadata") or {}
        cells = [meta.get("name", "")]
        if res.row:
            cells += res.row(o)
        else:
            cells.append(human_age(meta.get("creationTimestamp")))
        cells = cells[:len(res.columns)]
        row = {"cells": cells}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = partial_metadata(o)
        rows.append(row)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta or {}}
    if headers:
        out["columnDefinitions"] = res.columns
    out["rows"] = rows
    return out


# ---- discovery and OpenAPI --------------------------------------------------

def _verbs(res):
    v = ["create", "delete", "get", "list", "patch", "update", "watch"]
    if res.deletecollection:
        v.insert(1, "deletecollection")
    return v


def resource_list(group, version):
    resources = []
    for res in sorted(BY_GROUP.get((group, version), {}).values(), key=lambda r: r.name):
        entry = {"name": res.name, "singularName": res.kind.lower(), "namespaced": res.namespaced,
                 "kind": res.kind, "verbs": _verbs(res)}
        if res.short:
            entry["shortNames"] = res.short
        if res.categories:
            entry["categories"] = res.categories
        resources.append(entry)
        if res.status:
            resources.append({"name": res.name + "/status", "singularName": "",
                              "namespaced": res.namespaced, "kind": res.kind,
                              "verbs": ["get", "patch", "update"]})
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


def api_group(group):
    gv = {"groupVersion": "%s/v1" % group, "version": "v1"}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv],
            "preferredVersion": gv}


def api_group_list():
    groups = sorted({g for g, _ in BY_GROUP if g})
    out = []
    for g in groups:
        d = api_group(g)
        del d["kind"], d["apiVersion"]
        out.append(d)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _aggregated_resource(res):
    entry = {"resource": res.name, "responseKind": {"group": res.group, "version": "v1",
                                                    "kind": res.kind},
             "scope": "Namespaced" if res.namespaced else "Cluster",
             "singularResource": res.kind.lower(), "verbs": _verbs(res)}
    if res.short:
        entry["shortNames"] = res.short
    if res.categories:
        entry["categories"] = res.categories
    if res.status:
        entry["subresources"] = [{"subresource": "status",
                                  "responseKind": {"group": res.group, "version": "v1",
                                                   "kind": res.kind},
                                  "verbs": ["get", "patch", "update"]}]
    return entry


def aggregated_discovery(legacy, version):
    """APIGroupDiscoveryList (apidiscovery.k8s.io v2 or v2beta1) for /api or /apis."""
    items = []
    for group in sorted({g for g, _ in BY_GROUP if (g == "") == legacy}):
        resources = [_aggregated_resource(r) for r in
                     sorted(BY_GROUP[(group, "v1")].values(), key=lambda r: r.name)]
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": [{"version": "v1", "resources": resources,
                                    "freshness": "Current"}]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/" + version,
            "metadata": {}, "items": items}


def openapi_v3_paths():
    paths = {}
    for group, version in sorted(BY_GROUP):
        gv = "api/%s" % version if not group else "apis/%s/%s" % (group, version)
        paths[gv] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (gv, _OPENAPI_HASH)}
    return {"paths": paths}


_OPENAPI_HASH = "K8STEST0000000000000000000000000000000000000000000000000000000000000000000000"


def openapi_v3_document(group, version):
    """Just enough OpenAPI v3 for kubectl: each kind's PATCH operation
    carries x-kubernetes-group-version-kind and the fieldValidation query
    parameter, which tells kubectl 1.27+ to ask the server to validate
    (fieldValidation=Strict) instead of downloading schemas."""
    paths = {}
    prefix = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
    for res in BY_GROUP.get((group, version), {}).values():
        item = prefix + ("/namespaces/{namespace}" if res.namespaced else "") \
            + "/%s/{name}" % res.name
        gvk = {"group": group, "version": version, "kind": res.kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
        op = {"operationId": "patch%s" % res.kind, "parameters": params,
              "responses": {"200": {"description": "OK"}},
              "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk}
        paths[item] = {"patch": op}
        if res.status:
            paths[item + "/status"] = {"patch": dict(op, operationId="patch%sStatus" % res.kind)}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes",
                                         "version": SERVER_VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}


def _pb_field(number, payload):
    """One length-delimited protobuf field (wire type 2)."""
    out = bytearray([(number << 3) | 2])
    n = len(payload)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + payload


def openapi_v2_protobuf():
    """A minimal OpenAPI v2 document in the gnostic protobuf encoding that
    kubectl downloads (application/com.github.proto-openapi.spec.v2@v1.0+protobuf):
    swagger "2.0" and info, no definitions, so kubectl finds no schema for any
    kind and skips client-side validation, as it does for kinds the server does
    not describe."""
    info = _pb_field(1, b"Kubernetes") + _pb_field(2, SERVER_VERSION["gitVersion"].encode())
    return _pb_field(1, b"2.0") + _pb_field(2, info)


def openapi_v2_json():
    return {"swagger": "2.0", "info": {"title": "Kubernetes",
                                       "version": SERVER_VERSION["gitVersion"]},
            "paths": {}, "definitions": {}}
