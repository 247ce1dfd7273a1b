#!/usr/bin/env python3
"""Writes a Kubernetes List of generated objects for apiserver.py --preload:

    gen-objects.py N_SERVICES N_SLICES N_PODS N_POLICIES [options] > objects.json

- N_SERVICES ClusterIP Services svc-K (port 80 -> 8080, selector app=app-K),
  with explicit ClusterIPs from --service-cidr so runs are reproducible;
- N_SLICES EndpointSlices: slice J belongs to Service J mod N_SERVICES
  (label kubernetes.io/service-name), each with --endpoints-per-slice ready
  endpoints whose addresses are pod IPs, the last-change-trigger-time
  annotation kube-proxy measures from;
- N_PODS Pods pod-I (label app=app-(I mod N_SERVICES), role=server), spread
  over --nodes, with status.podIP(s) from --pod-cidr and phase Running;
- N_POLICIES NetworkPolicies allowing TCP 8080 to app=app-K from pods with
  role=client in namespaces labelled team=bench;
- the --namespaces Namespaces bench-0... (labelled team=bench) that hold them,
  and a Node for each --nodes name with its podCIDR.

The benchmark set of issue 16: gen-objects.py 10000 10000 10000 1000
"""

import argparse
import ipaddress
import json
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("services", type=int)
    p.add_argument("slices", type=int)
    p.add_argument("pods", type=int)
    p.add_argument("policies", type=int)
    p.add_argument("--endpoints-per-slice", type=int, default=5)
    p.add_argument("--namespaces", type=int, default=10)
    p.add_argument("--nodes", default="bench-node-0,bench-node-1",
                   help="comma-separated Node names (empty: no Nodes; pods then name "
                   "bench-node-0)")
    p.add_argument("--pod-cidr", default="10.244.0.0/16")
    p.add_argument("--service-cidr", default="10.96.0.0/12")
    p.add_argument("--timestamp", default="2025-01-01T00:00:00Z",
                   help="the endpoints.kubernetes.io/last-change-trigger-time value")
    a = p.parse_args(argv)
    if a.services <= 0 and a.slices > 0:
        p.error("EndpointSlices need at least one Service")
    if a.namespaces <= 0:
        p.error("--namespaces must be at least 1")

    nodes = [n for n in a.nodes.split(",") if n]
    pod_net = ipaddress.ip_network(a.pod_cidr)
    svc_net = ipaddress.ip_network(a.service_cidr)
    if a.services + 16 > svc_net.num_addresses:
        p.error("--service-cidr %s is too small for %d Services" % (svc_net, a.services))
    if a.pods + 16 > pod_net.num_addresses:
        p.error("--pod-cidr %s is too small for %d Pods" % (pod_net, a.pods))
    node_cidrs = list(pod_net.subnets(new_prefix=24)) if pod_net.prefixlen <= 24 else [pod_net]

    def ns_of(i):
        return "bench-%d" % (i % a.namespaces)

    def pod_ip(i):
        return str(pod_net.network_address + 2 + i)

    def node_of(i):
        return nodes[i % len(nodes)] if nodes else "bench-node-0"

    items = []
    for n in range(a.namespaces):
        items.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": "bench-%d" % n, "labels": {"team": "bench"}}})
    for i, name in enumerate(nodes):
        cidr = str(node_cidrs[i % len(node_cidrs)])
        items.append({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                      "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
                      "status": {"addresses": [{"type": "InternalIP",
                                                "address": "192.168.%d.%d" % (i // 250,
                                                                              i % 250 + 1)},
                                               {"type": "Hostname", "address": name}],
                                 "conditions": [{"type": "Ready", "status": "True"}]}})
    for i in range(a.pods):
        ip = pod_ip(i)
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "pod-%d" % i, "namespace": ns_of(i),
                                   "labels": {"app": "app-%d" % (i % max(1, a.services)),
                                              "role": "server"}},
                      "spec": {"nodeName": node_of(i),
                               "containers": [{"name": "c", "image": "busybox:1.36",
                                               "ports": [{"containerPort": 8080}]}]},
                      "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                 "hostIP": "192.168.0.1",
                                 "conditions": [{"type": "Ready", "status": "True"}],
                                 "containerStatuses": [{"name": "c", "ready": True,
                                                        "started": True, "restartCount": 0,
                                                        "image": "busybox:1.36", "imageID": "",
                                                        "state": {"running": {
                                                            "startedAt": a.timestamp}}}]}})
    for k in range(a.services):
        ip = str(svc_net.network_address + 16 + k)
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "svc-%d" % k, "namespace": ns_of(k),
                                   "labels": {"app": "app-%d" % k}},
                      "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                               "selector": {"app": "app-%d" % k},
                               "ports": [{"name": "http", "port": 80, "targetPort": 8080,
                                          "protocol": "TCP"}]}})
    per = a.endpoints_per_slice
    for j in range(a.slices):
        k = j % a.services
        endpoints = []
        for e in range(per):
            i = (j * per + e) % a.pods if a.pods else j * per + e
            ep = {"addresses": [pod_ip(i)], "conditions": {"ready": True, "serving": True,
                                                           "terminating": False},
                  "nodeName": node_of(i)}
            if a.pods:
                ep["targetRef"] = {"kind": "Pod", "namespace": ns_of(i), "name": "pod-%d" % i}
            endpoints.append(ep)
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": "svc-%d-%d" % (k, j // a.services),
                                   "namespace": ns_of(k),
                                   "labels": {"kubernetes.io/service-name": "svc-%d" % k,
                                              "endpointslice.kubernetes.io/managed-by":
                                              "endpointslice-controller.k8s.io"},
                                   "annotations": {
                                       "endpoints.kubernetes.io/last-change-trigger-time":
                                       a.timestamp}},
                      "addressType": "IPv4",
                      "endpoints": endpoints,
                      "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})
    for n in range(a.policies):
        items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "np-%d" % n, "namespace": ns_of(n)},
                      "spec": {"podSelector": {"matchLabels": {
                                   "app": "app-%d" % (n % max(1, a.services))}},
                               "policyTypes": ["Ingress"],
                               "ingress": [{"from": [{"podSelector": {"matchLabels":
                                                                      {"role": "client"}},
                                                      "namespaceSelector": {"matchLabels":
                                                                            {"team": "bench"}}}],
                                            "ports": [{"protocol": "TCP", "port": 8080}]}]}})
    out = sys.stdout
    out.write('{"apiVersion":"v1","kind":"List","metadata":{},"items":[\n')
    for i, obj in enumerate(items):
        if i:
            out.write(",\n")
        out.write(json.dumps(obj, separators=(",", ":")))
    out.write("\n]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
