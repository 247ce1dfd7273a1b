#!/usr/bin/env python3
"""policy-bench's model (bench/policy-bench.c) as a kubectl List for
`k8snet policy render` (e.g. to compare renders across builds): NNS
namespaces x PPN pods, NPOL policies.

usage: policy_gen.py NNS PPN NPOL > world.json"""
import json, sys
nns, ppn, npol = map(int, sys.argv[1:4])
items = []
for i in range(nns):
    items.append({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "ns%d" % i, "labels": {"team": "team%d" % (i % 10)}}})
    for j in range(ppn):
        ip = "10.%d.%d.%d" % (100 + i // 100 + j // 250, i % 100, j % 250 + 2)
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "pod%d" % j, "namespace": "ns%d" % i,
                                   "labels": {"app": "app%d" % (j % 10), "tier": "t%d" % (j % 3)}},
                      "spec": {"nodeName": "node1" if j % 2 == 0 else "node2",
                               "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
                      "status": {"podIP": ip, "podIPs": [{"ip": ip}]}})
for n in range(npol):
    ns, k = n % nns, n // nns
    items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": "p%d" % k, "namespace": "ns%d" % ns},
                  "spec": {"podSelector": {"matchLabels": {"app": "app%d" % (k % 10)}},
                           "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "t%d" % (k % 3)}}},
                                                 {"namespaceSelector": {"matchLabels": {"team": "team%d" % ((ns + k) % 10)}},
                                                  "podSelector": {"matchLabels": {"app": "app%d" % (k % 10)}}}],
                                        "ports": [{"port": 80}, {"port": "http"}]}],
                           "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                                       "ports": [{"protocol": "UDP", "port": 53}]}]}})
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
