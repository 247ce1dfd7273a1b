#!/usr/bin/env python3
"""Print a kubectl-shaped List of N ClusterIP Services with E endpoints each
(one EndpointSlice per service), the same shape kp_nft_gen.py programs:
service i at 10.96.x.y:80/TCP, endpoints 10.(128+)...:8080.

usage: nat_gen.py N E [SEED_OFFSET]"""
import json
import sys


def cluster_ip(i):
    return "10.96.%d.%d" % ((i >> 8) & 255, i & 255) if i < 65536 else "10.97.%d.%d" % (
        (i >> 8) & 255, i & 255)


def ep_ip(i, j):
    k = i * 16 + j
    return "10.%d.%d.%d" % (128 + ((k >> 16) & 63), (k >> 8) & 255, k & 255)


def main():
    n, e = int(sys.argv[1]), int(sys.argv[2])
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 8080
    items = []
    for i in range(n):
        name = "svc-%d" % i
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": name, "namespace": "bench"},
                      "spec": {"type": "ClusterIP", "clusterIP": cluster_ip(i),
                               "clusterIPs": [cluster_ip(i)],
                               "ports": [{"name": "http", "port": 80, "protocol": "TCP",
                                          "targetPort": 8080}]}})
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": name + "-a", "namespace": "bench",
                                   "labels": {"kubernetes.io/service-name": name}},
                      "addressType": "IPv4",
                      "endpoints": [{"addresses": [ep_ip(i, j)], "conditions": {"ready": True}}
                                    for j in range(e)],
                      "ports": [{"name": "http", "port": port, "protocol": "TCP"}]})
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)


if __name__ == "__main__":
    main()
