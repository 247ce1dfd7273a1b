"""Tests of the DNS bindings: validation, names, parsing, resolv.conf,
candidates, zones."""
import unittest

import k8snet
from k8snet import dns


class ValidateTest(unittest.TestCase):
    def test_kinds(self):
        dns.validate("label", "my-name")
        dns.validate("subdomain", "a.example.com")
        dns.validate("dns1035", "api")
        dns.validate("label-key", "app.kubernetes.io/name")
        dns.validate("label-value", "")
        dns.validate("port-name", "http")
        self.assertTrue(dns.is_valid("label", "a"))
        self.assertFalse(dns.is_valid("dns1035", "1a"))

    def test_reason(self):
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            dns.validate("port-name", "a--b")
        self.assertIn("consecutive hyphens", str(cm.exception))
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            dns.validate("label", "x" * 64)
        self.assertIn("no more than 63", cm.exception.strerror)
        with self.assertRaises(ValueError):
            dns.validate("nope", "a")


class NamesTest(unittest.TestCase):
    def test_builders(self):
        self.assertEqual(dns.service_fqdn("api", "default"), "api.default.svc.cluster.local")
        self.assertEqual(dns.service_fqdn("api", "default", zone="k8s.example."),
                         "api.default.svc.k8s.example")
        self.assertEqual(dns.srv_name("https", "TCP", "api", "default"),
                         "_https._tcp.api.default.svc.cluster.local")
        self.assertEqual(dns.endpoint_name("db-0", "db", "default"),
                         "db-0.db.default.svc.cluster.local")
        self.assertEqual(dns.pod_fqdn("web-0", "web", "shop"), "web-0.web.shop.svc.cluster.local")
        self.assertEqual(dns.pod_ip_name("2001:db8::1", "default"),
                         "2001-db8--1.default.pod.cluster.local")
        self.assertEqual(dns.ptr_name("10.1.2.3"), "3.2.1.10.in-addr.arpa")
        self.assertTrue(dns.ptr_name("::1").endswith(".ip6.arpa"))

    def test_errors(self):
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            dns.service_fqdn("Api", "default")
        self.assertIn("service: 'Api'", str(cm.exception))
        ctx = k8snet.Context()
        with self.assertRaises(k8snet.InvalidArgument):
            dns.ptr_name("1.2.3", ctx=ctx)
        self.assertIn("1.2.3", ctx.error)


class QueryTest(unittest.TestCase):
    def test_parse(self):
        q = dns.parse_query("_http._tcp.api.default.svc.cluster.local.")
        self.assertEqual(q.kind, "service")
        self.assertEqual((q.port, q.protocol, q.service, q.namespace), ("http", "tcp", "api",
                                                                        "default"))
        q = dns.parse_query("10-1-2-3.kube-system.pod.corp.local", zone="corp.local")
        self.assertEqual(q.as_dict(), {"kind": "pod", "zone": "corp.local",
                                       "namespace": "kube-system", "endpoint": "10-1-2-3",
                                       "ip": "10.1.2.3"})
        self.assertEqual(dns.parse_query("dns-version.cluster.local").kind, "schema")

    def test_not_cluster(self):
        with self.assertRaises(k8snet.NotFound) as cm:
            dns.parse_query("www.example.com")
        self.assertIn("not under the zone", str(cm.exception))
        with self.assertRaises(k8snet.InvalidArgument):
            dns.parse_query("a..b")


class ResolvConfTest(unittest.TestCase):
    def test_cluster_first_with_dns_config(self):
        r = dns.ResolvConf(policy="ClusterFirst", namespace="web", cluster_dns=["10.96.0.10"],
                           cluster_domain="cluster.local",
                           host_resolv_conf="nameserver 192.0.2.1\nsearch corp.example\n",
                           dns_config={"searches": ["x.example"],
                                       "options": [{"name": "ndots", "value": "2"},
                                                   {"name": "edns0"}]})
        self.assertEqual(r.render(),
                         "search web.svc.cluster.local svc.cluster.local cluster.local "
                         "corp.example x.example\nnameserver 10.96.0.10\n"
                         "options ndots:2 edns0\n")
        self.assertEqual(r.warnings, [])
        r.close()
        with self.assertRaises(ValueError):
            r.render()

    def test_warnings_and_errors(self):
        with dns.ResolvConf(policy="Default", legacy_limits=True,
                            host_resolv_conf="search " + " ".join("d%d" % i for i in range(8))
                            ) as r:
            self.assertEqual(r.render(), "search d0 d1 d2 d3 d4 d5\n")
            self.assertEqual(len(r.warnings), 1)
            self.assertIn("more than 6 search paths", r.warnings[0])
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            dns.ResolvConf(policy="Sometimes")
        self.assertEqual(cm.exception.path, "dnsPolicy")
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            dns.ResolvConf(dns_config={"nameservers": ["1.1.1.1", "bad"]})
        self.assertEqual(cm.exception.path, "dnsConfig.nameservers[1]")
        with self.assertRaises(k8snet.InvalidArgument):
            dns.ResolvConf(host_resolv_conf="nameserver\n")
        with self.assertRaises(TypeError):
            dns.ResolvConf(colour="blue")


class CandidatesTest(unittest.TestCase):
    def test_search_order(self):
        conf = "search default.svc.cluster.local svc.cluster.local cluster.local\n" \
               "options ndots:5\n"
        self.assertEqual(dns.candidates("api.default", conf),
                         ["api.default.default.svc.cluster.local",
                          "api.default.svc.cluster.local", "api.default.cluster.local",
                          "api.default"])
        self.assertEqual(dns.candidates("api.default.", conf), ["api.default"])
        self.assertEqual(dns.candidates("api"), ["api"])


class ZoneTest(unittest.TestCase):
    CLUSTER = [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "api", "namespace": "default"},
         "spec": {"clusterIP": "10.96.1.1", "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "ext", "namespace": "default"},
         "spec": {"type": "ExternalName", "externalName": "example.com"}},
    ]

    def test_json_and_c_api(self):
        with dns.Zone("cluster.local", ttl=30, nameserver_ip="10.96.0.10") as z:
            self.assertEqual(z.add_json(self.CLUSTER), 2)
            z.add_service("default", "db", cluster_ips="None")
            z.add_endpoint("default", "db", "10.244.0.5", hostname="db-0")
            z.add_endpoint("default", "db", "10.244.0.6", ready=False)
            z.add_endpoint_port("default", "db", "pg", "TCP", 5432)
            z.add_pod("default", "10.244.0.5", hostname="db-0", subdomain="db")
            text = z.render()
            self.assertIn("$TTL 30\n", text)
            self.assertIn("\napi.default.svc\tIN\tA\t10.96.1.1\n", text)
            self.assertIn("\n_http._tcp.api.default.svc\tIN\tSRV\t0 100 80 "
                          "api.default.svc.cluster.local.\n", text)
            self.assertIn("\next.default.svc\tIN\tCNAME\texample.com.\n", text)
            self.assertIn("\ndb-0.db.default.svc\tIN\tA\t10.244.0.5\n", text)
            self.assertNotIn("10.244.0.6", text)
            rev = z.render(origin="in-addr.arpa")
            self.assertIn("1.1.96.10.in-addr.arpa.\tIN\tPTR\tapi.default.svc.cluster.local.",
                          rev)

    def test_errors_name_fields(self):
        z = dns.Zone()
        bad = dict(self.CLUSTER[0], spec={"clusterIP": "10.96.1.1", "ports": [{"port": 0}]})
        with self.assertRaises(k8snet.InvalidArgument) as cm:
            z.add_json([self.CLUSTER[1], bad])
        self.assertEqual(cm.exception.path, "items[1].spec.ports[0].port")
        self.assertNotIn("ext.default", z.render())  # nothing half-added
        with self.assertRaises(k8snet.InvalidArgument):
            z.add_service("default", "1bad")
        with self.assertRaises(k8snet.InvalidArgument):
            z.render(origin="example.com")


if __name__ == "__main__":
    unittest.main()
