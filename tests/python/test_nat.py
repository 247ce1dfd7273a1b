"""Tests of the Service NAT bindings: services in Python and from JSON,
render, errors naming the field, sync into a throwaway namespace."""
import os
import subprocess
import unittest
import uuid

import k8snet
from k8snet import nat

WEB = {
    "apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "web", "namespace": "default"},
         "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "protocol": "TCP"}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "web-1", "namespace": "default",
                      "labels": {"kubernetes.io/service-name": "web"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": ["10.244.0.5"]}, {"addresses": ["10.244.0.6"]}],
         "ports": [{"port": 8080}]},
    ]}


class ProxyTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.addCleanup(self.ctx.close)
        self.proxy = nat.Proxy(self.ctx, node_name="n1", cluster_cidrs=["10.244.0.0/16"])
        self.addCleanup(self.proxy.close)

    def test_settings(self):
        p = self.proxy
        self.assertEqual(p.node_name, "n1")
        self.assertEqual(p.table, "k8snet")
        p.mark_bit = 3
        self.assertEqual(p.mark_bit, 3)
        p.flags = nat.F_ROUND_ROBIN
        self.assertEqual(p.flags, nat.F_ROUND_ROBIN)
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            p.add_cluster_cidr("10.0.0.0/40")
        self.assertIn("not a CIDR", str(cm.exception))
        with self.assertRaises(k8snet.InvalidArgument):
            p.mark_bit = 40

    def test_json_and_render(self):
        self.assertEqual(self.proxy.load_json(WEB), 2)
        text = self.proxy.render()
        self.assertIn("10.96.0.10 . tcp . 80 : goto pick-2", text)
        self.assertIn("10.96.0.10 . tcp . 80 . 1 : 10.244.0.6 . 8080", text)
        self.assertEqual(text, self.proxy.render())

    def test_bad_json_names_field(self):
        bad = {"kind": "Service", "metadata": {"name": "x"},
               "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 80, "protocol": "IP"}]}}
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            self.proxy.load_json(bad)
        self.assertEqual(cm.exception.path, "spec.ports[0].protocol")
        self.assertNotIn("10.96.0.9", self.proxy.render())

    def test_service_cidr_render(self):
        p = self.proxy
        p.add_service_cidr("10.96.0.0/16")
        p.add_service_cidr("fd00:96::/112")
        self.assertEqual(p.service_cidr, "10.96.0.0/16")
        text = p.render()
        self.assertIn("ip daddr 10.96.0.0/16 drop", text)
        self.assertIn("ip6 daddr fd00:96::/112 drop", text)
        # After the reject of known ClusterIPs on unused ports.
        self.assertLess(text.index("ip daddr @cluster-ips goto no-endpoints"),
                        text.index("ip daddr 10.96.0.0/16 drop"))
        with self.assertRaises(k8snet.InvalidArgument):
            p.add_service_cidr("10.96.0.0/33")
        p.flags = nat.F_NO_CONNTRACK_CLEANUP
        self.assertEqual(p.flags, nat.F_NO_CONNTRACK_CLEANUP)
        self.assertEqual((p.conntrack_deleted, p.conntrack_filters), (0, 0))

    def test_topology(self):
        p = self.proxy
        p.node_zone = "a"
        self.assertEqual(p.node_zone, "a")
        with nat.Service("topo", traffic_distribution=nat.PREFER_CLOSE) as s:
            self.assertEqual(s.traffic_distribution, nat.PREFER_SAME_ZONE)
            s.add_ip("10.96.0.60").add_port(80)
            s.add_endpoint("10.244.0.5", 8080, zone="a")
            s.add_endpoint("10.244.0.6", 8080, zone="b")
            s.add_endpoint("10.244.0.7", 8080, zone="b", for_zones=["a", "b"])
            p.add_service(s)
        with nat.Service("bad") as s, self.assertRaises(k8snet.InvalidArgument):
            s.add_endpoint("10.244.0.8", 8080, zone="a,b")
        text = p.render()
        self.assertIn("10.96.0.60 . tcp . 80 : goto pick-2", text)
        self.assertNotIn("10.244.0.6", text)

    def test_service_object(self):
        with nat.Service("api", namespace="kube-system", flags=nat.F_AFFINITY,
                         affinity_timeout=30) as s:
            s.add_ip("10.96.0.1").add_port(443, "TCP", node_port=0)
            s.add_endpoint("10.244.0.9", 6443, node="n1")
            self.assertEqual((s.name, s.namespace, s.affinity_timeout), ("api", "kube-system", 30))
            self.proxy.add_service(s)
        text = self.proxy.render()
        self.assertIn("svc-kube-system/api/tcp/443", text)
        self.assertIn("timeout 30s", text)
        self.proxy.remove_service("kube-system", "api")
        self.assertNotIn("api", self.proxy.render())
        with self.assertRaises(k8snet.NotFound):
            self.proxy.remove_service("kube-system", "api")
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            nat.Service("Not_A_Label")
        self.assertIn("metadata.name: 'Not_A_Label' is not a DNS label", str(cm.exception))
        with nat.Service("x") as s, self.assertRaises(k8snet.InvalidArgument) as cm:
            s.add_ip("999.1.1.1")
        self.assertIn("spec.clusterIPs: '999.1.1.1' is not an IP address", str(cm.exception))
        with nat.Service("x") as s, self.assertRaises(k8snet.InvalidArgument) as cm:
            s.add_port(70000)
        self.assertIn("spec.ports[].port: 70000 out of range: must be 1..65535", str(cm.exception))


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class SyncTest(unittest.TestCase):
    def setUp(self):
        owner = os.environ.get("K8ST_OWNER")
        default = "k8st-%s-pynat" % owner if owner else "k8st-pynat"
        self.ns = "%s-%s" % (os.environ.get("K8ST_PY_PREFIX", default), uuid.uuid4().hex[:8])
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])

    def nft_list(self):
        return subprocess.run(["ip", "netns", "exec", self.ns, "nft", "list", "ruleset"],
                              check=True, capture_output=True, text=True).stdout

    def test_sync(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with nat.Proxy(ctx, cluster_cidrs=["10.244.0.0/16"]) as p:
                p.load_json(WEB)
                self.assertGreater(p.sync(), 0)
                self.assertIn("10.96.0.10 . tcp . 80 : goto pick-2", self.nft_list())
                self.assertEqual(p.sync(), 0)
                p.remove_service("default", "web")
                p.sync()
                self.assertNotIn("10.96.0.10", self.nft_list())

    def connect_attempts(self, n):
        """n connections from the node's namespace to the ClusterIP (its
        SYNs go out a veth whose peer drops them): n new flows the nat
        chains see."""
        in_ns = ["ip", "-n", self.ns]
        subprocess.run(in_ns + ["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
                       check=False)
        subprocess.run(in_ns + ["link", "set", "d1", "up"], check=True)
        subprocess.run(in_ns + ["addr", "replace", "10.244.0.1/24", "dev", "d0"], check=True)
        subprocess.run(in_ns + ["link", "set", "d0", "up"], check=True)
        subprocess.run(in_ns + ["route", "replace", "10.96.0.0/16", "dev", "d0"], check=True)
        subprocess.run(["ip", "netns", "exec", self.ns, "python3", "-c", """
import socket
for _ in range(%d):
    s = socket.socket(); s.setblocking(False)
    try:
        s.connect(("10.96.0.10", 80))
    except OSError:
        pass
    s.close()""" % n], check=True)

    def test_counters(self):
        other = {"kind": "Service", "metadata": {"name": "other", "namespace": "default"},
                 "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}]}}
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with nat.Proxy(ctx, cluster_cidrs=["10.244.0.0/16"], flags=nat.F_COUNT) as p:
                p.load_json(WEB)
                p.load_json(other)
                self.assertEqual(p.counters("default", "web"), (0, 0))   # not synced yet
                p.sync()
                self.assertIn('counter name ip daddr . meta l4proto . th dport map '
                              '@service-counters', self.nft_list())
                self.connect_attempts(4)
                packets, nbytes = p.counters("default", "web")
                self.assertEqual(packets, 4)
                self.assertGreaterEqual(nbytes, 4 * 40)
                self.assertEqual(p.counters("default", "other"), (0, 0))
                # Traffic: every packet of those connections (only SYNs here:
                # nothing answers), from the traffic chain's counters.
                self.assertIn('@service-traffic', self.nft_list())
                tpackets, tbytes = p.traffic("default", "web")
                self.assertGreaterEqual(tpackets, 4)
                self.assertGreaterEqual(tbytes, nbytes)
                self.assertEqual(p.traffic("default", "other"), (0, 0))
                other["spec"]["ports"][0]["port"] = 81       # an incremental sync
                p.load_json(other)
                self.assertGreater(p.sync(), 0)
                self.assertEqual(p.counters("default", "web"), (4, nbytes))
                self.assertEqual(p.traffic("default", "web"), (tpackets, tbytes))
                self.assertGreater(p.sync(full=True), 0)     # carried over
                self.assertEqual(p.counters("default", "web"), (4, nbytes))
                self.assertEqual(p.traffic("default", "web"), (tpackets, tbytes))
                with self.assertRaises(k8snet.NotFound):
                    p.counters("default", "nosuch")
                p.flags = 0
                with self.assertRaises(k8snet.NotFound):
                    p.counters("default", "web")
                with self.assertRaises(k8snet.NotFound):
                    p.traffic("default", "web")

    def test_drift_and_full(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with nat.Proxy(ctx, cluster_cidrs=["10.244.0.0/16"]) as p:
                p.load_json(WEB)
                p.sync()
                subprocess.run(["ip", "netns", "exec", self.ns, "nft", "delete", "table", "ip",
                                "k8snet"], check=True)
                # Nothing changed here: the sync still sees the drift.
                self.assertGreater(p.sync(), 0)
                self.assertIn("10.96.0.10 . tcp . 80 : goto pick-2", self.nft_list())
                self.assertGreater(p.sync(full=True), 0)
                self.assertEqual(p.sync(), 0)

    def udp_service(self, proxy, endpoint, cluster_ip="10.96.0.53", node_port=0):
        with nat.Service("dns", type=nat.TYPE_NODE_PORT if node_port else nat.TYPE_CLUSTER_IP) as s:
            s.add_ip(cluster_ip).add_port(53, "UDP", node_port=node_port)
            s.add_endpoint(endpoint, 5353)
            proxy.add_service(s)

    def send_udp(self, sport, dst="10.96.0.53", port=53):
        """A datagram from the namespace to the ClusterIP: DNATed out of a
        veth, it leaves a conntrack entry behind."""
        fam, any_addr = ("AF_INET6", "::") if ":" in dst else ("AF_INET", "0.0.0.0")
        subprocess.run(["ip", "netns", "exec", self.ns, "python3", "-c",
                        "import socket; s = socket.socket(socket.%s, socket.SOCK_DGRAM); "
                        "s.bind(('%s', %d)); s.sendto(b'x', ('%s', %d))"
                        % (fam, any_addr, sport, dst, port)], check=True)

    def test_conntrack_cleanup(self):
        run = lambda *a: subprocess.run(["ip", "-n", self.ns] + list(a), check=True)
        run("link", "add", "d0", "type", "veth", "peer", "name", "d1")
        run("link", "set", "d1", "up")
        run("addr", "add", "10.244.0.1/24", "dev", "d0")
        run("link", "set", "d0", "up")
        run("route", "add", "default", "dev", "d0")  # routed before the DNAT
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            for flags, want in ((nat.F_NO_CONNTRACK_CLEANUP, 0), (0, 2)):
                with nat.Proxy(ctx, cluster_cidrs=["10.244.0.0/16"], flags=flags) as p:
                    self.udp_service(p, "10.244.0.5")
                    p.sync()
                    self.send_udp(40000)
                    self.send_udp(40001)
                    self.udp_service(p, "10.244.0.6")   # the endpoint replaced
                    p.sync()
                    self.assertEqual(p.conntrack_deleted, want)
                    # Found through the index of entries: no walk of the table.
                    self.assertEqual(p.conntrack_filters, 0)
                    # Nothing leads to 10.244.0.6: nothing more to delete.
                    self.udp_service(p, "10.244.0.7")
                    p.sync()
                    self.assertEqual(p.conntrack_deleted, 0)
            # IPv6 the same way; and a service removed: all entries to it.
            run("addr", "add", "fd00:244::1/64", "dev", "d0", "nodad")
            run("-6", "route", "add", "default", "dev", "d0")
            with nat.Proxy(ctx) as p:
                self.udp_service(p, "fd00:244::5", "fd00:96::53")
                p.sync()
                self.send_udp(40000, "fd00:96::53")
                self.udp_service(p, "fd00:244::6", "fd00:96::53")
                p.sync()
                self.assertEqual((p.conntrack_deleted, p.conntrack_filters), (1, 0))
                self.send_udp(40001, "fd00:96::53")
                self.send_udp(40002, "fd00:96::53")
                p.remove_service("default", "dns")
                p.sync()
                self.assertEqual(p.conntrack_deleted, 2)
            # A NodePort reached on the node's own address.
            with nat.Proxy(ctx, cluster_cidrs=["10.244.0.0/16"]) as p:
                self.udp_service(p, "10.244.0.5", node_port=30053)
                p.sync()
                self.send_udp(40100, "10.244.0.1", 30053)
                self.udp_service(p, "10.244.0.6", node_port=30053)
                p.sync()
                self.assertEqual((p.conntrack_deleted, p.conntrack_filters), (1, 0))

    def test_health(self):
        lb = {"apiVersion": "v1", "kind": "List", "items": [
            {"kind": "Service", "metadata": {"name": "lb", "namespace": "default"},
             "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.30",
                      "externalTrafficPolicy": "Local", "healthCheckNodePort": 32100,
                      "ports": [{"port": 80, "nodePort": 30080}, {"name": "b", "port": 81}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "lb-1", "namespace": "default",
                          "labels": {"kubernetes.io/service-name": "lb"}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": ["10.244.0.5"], "nodeName": "n1"},
                           {"addresses": ["10.244.0.6"], "nodeName": "n1",
                            "conditions": {"ready": False}},
                           {"addresses": ["10.244.1.5"], "nodeName": "n2"}],
             "ports": [{"port": 8080}]}]}
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with nat.Proxy(ctx, node_name="n1") as p:
                p.load_json(lb)
                p.load_json(WEB)
                self.assertIsNone(p.health("default", "lb"))   # not synced yet
                p.sync()
                self.assertEqual(p.health("default", "lb"), (32100, 1))
                self.assertIsNone(p.health("default", "web"))   # no health check
                self.assertEqual(p.health_changed(), ["default/lb"])
                p.sync()
                self.assertEqual(p.health_changed(), [])
                # Another local endpoint; web changes but has no health check.
                lb["items"][1]["endpoints"][1]["conditions"]["ready"] = True
                p.load_json(lb)
                p.remove_service("default", "web")
                p.sync()
                self.assertEqual(p.health("default", "lb"), (32100, 2))
                self.assertEqual(p.health_changed(), ["default/lb"])
                p.remove_service("default", "lb")
                p.sync()
                self.assertIsNone(p.health("default", "lb"))
                self.assertEqual(p.health_changed(), ["default/lb"])
        with nat.Service("x", health_check_node_port=32000) as s:
            self.assertEqual(s.health_check_node_port, 32000)

    def test_conflict_skipped(self):
        with k8snet.Context(netns="/run/netns/" + self.ns) as ctx:
            with nat.Proxy(ctx) as p:
                for name, ts in (("new", "2025-01-01T00:00:00Z"), ("old", "2020-01-01T00:00:00Z")):
                    with nat.Service(name, creation_timestamp=ts) as s:
                        s.add_ip("10.96.0.%d" % (20 if name == "new" else 21))
                        s.add_ip("192.0.2.7", nat.IP_EXTERNAL).add_port(80)
                        s.add_endpoint("10.244.0.5", 8080)
                        self.assertEqual(s.creation_timestamp, ts)
                        p.add_service(s)
                p.sync()
                skipped = list(p.skipped())
                self.assertEqual(len(skipped), 1)
                self.assertEqual(skipped[0][0], "service default/new")
                self.assertIn("held by service default/old", skipped[0][1])
                self.assertIn("192.0.2.7 . tcp . 80 : goto ext-default/old/tcp/80",
                              self.nft_list())
        with self.assertRaises(k8snet.InvalidArgument):
            nat.Service("x", creation_timestamp="yesterday")


if __name__ == "__main__":
    unittest.main()
