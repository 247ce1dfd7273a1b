"""Tests of the observe bindings (decoding fed NFLOG messages, no kernel)
and of PolicyDB.set_log (the rendered ruleset)."""
import json
import os
import socket
import struct
import tempfile
import unittest

import k8snet
from k8snet.observe import Observer
from k8snet.policy import PolicyDB

NFULNL_MSG_PACKET, NFNL_SUBSYS_ULOG = 0, 4
NFULA_PAYLOAD, NFULA_PREFIX = 9, 10


def attr(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * ((4 - n % 4) % 4)


def nflog(src, dst, port, prefix):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    tcp = struct.pack("!HH", 40000, port) + b"\0" * 16
    body = struct.pack("=BBH", socket.AF_INET, 0, socket.htons(100))
    body += attr(NFULA_PREFIX, prefix.encode() + b"\0") + attr(NFULA_PAYLOAD, ip + tcp)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET,
                       0, 0, 0) + body


POD = {"kind": "Pod", "metadata": {"name": "a", "namespace": "x", "labels": {"app": "a"}},
       "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
       "status": {"podIP": "10.0.0.1"}}


class ObserveTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.addCleanup(self.ctx.close)

    def test_decode(self):
        with Observer(self.ctx, no_socket=True) as obs:
            obs.load_json(POD)
            obs.feed(nflog("10.0.0.9", "10.0.0.1", 8080, "k8snet deny ingress x/closed"))
            ev = obs.next(0)
            self.assertEqual((ev.verdict, ev.direction, ev.source, ev.destination, ev.protocol,
                              ev.port, ev.policy),
                             ("deny", "ingress", "10.0.0.9", "x/a", "TCP", 8080, "x/closed"))
            self.assertIsNone(obs.next(0))
            obs.feed(nflog("10.0.0.1", "10.0.0.9", 53, "k8snet allow egress x/p egress[0]") * 3)
            self.assertEqual([e.verdict for e in obs.events(timeout=0)], ["allow"] * 3)

    def test_set_json_replaces(self):
        moved = dict(POD, status={"podIP": "10.0.0.3"})
        with Observer(self.ctx, no_socket=True) as obs:
            obs.load_json(POD)
            obs.set_json(moved)
            obs.feed(nflog("10.0.0.3", "10.0.0.1", 80, "k8snet deny ingress x/closed"))
            ev = obs.next(0)
            self.assertEqual((ev.source, ev.destination), ("x/a", "10.0.0.1"))
            # A refused document: the path names it, the old objects stay.
            with self.assertRaises(k8snet.Error) as cm:
                obs.set_json(POD, '{"kind": "List", "items": [')
            self.assertTrue(cm.exception.path.startswith("docs[1]"), cm.exception.path)
            obs.feed(nflog("10.0.0.3", "10.0.0.1", 80, "k8snet deny ingress x/closed"))
            self.assertEqual(obs.next(0).source, "x/a")
            obs.set_json()
            obs.feed(nflog("10.0.0.3", "10.0.0.1", 80, "k8snet deny ingress x/closed"))
            self.assertEqual(obs.next(0).source, "10.0.0.3")

    def test_follow(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        d = tmp.name
        path = os.path.join(d, "objects.json")

        def replace(text):  # as an editor or the agent saves: a rename
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)

        def source():
            obs.feed(nflog("10.0.0.7", "10.0.0.1", 80, "k8snet deny ingress x/closed"))
            return obs.next(0).source

        replace(json.dumps({"kind": "List", "items": [POD]}))
        with Observer(self.ctx, no_socket=True) as obs:
            obs.follow(path)
            self.assertEqual(source(), "10.0.0.7")
            self.assertFalse(obs.check_files())
            new = dict(POD, metadata={"name": "new", "namespace": "x"},
                       status={"podIP": "10.0.0.7"})
            replace(json.dumps({"kind": "List", "items": [POD, new]}))
            self.assertTrue(obs.check_files())
            self.assertEqual(source(), "x/new")
            # Broken: logged once, the old objects stay.
            replace('{"kind": "List", "items": [')
            with self.assertLogs("k8snet.observe", "WARNING") as logs:
                self.assertTrue(obs.check_files())
            self.assertEqual(len(logs.records), 1)
            self.assertIsInstance(obs.follow_error, k8snet.Error)
            self.assertFalse(obs.check_files())
            self.assertEqual(source(), "x/new")
            # next() looks at the files by itself.
            replace(json.dumps(POD))
            obs._checked = 0.0
            obs.feed(nflog("10.0.0.7", "10.0.0.1", 80, "k8snet deny ingress x/closed"))
            self.assertEqual(obs.next(0).source, "10.0.0.7")
            self.assertIsNone(obs.follow_error)
            with self.assertRaises(FileNotFoundError):
                obs.follow(os.path.join(d, "missing.json"))

    def test_set_log_renders_nflog(self):
        with PolicyDB(self.ctx) as db:
            db.load_json(POD)
            db.load_json({"kind": "NetworkPolicy", "metadata": {"name": "closed", "namespace": "x"},
                          "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
            self.assertNotIn("log group", db.render("n1"))
            db.set_log(denied=True, group=7, rate=3)
            text = db.render("n1")
            self.assertIn('limit rate 3/second burst 5 packets log group 7 prefix '
                          '"k8snet deny ingress x/closed"', text)
            with self.assertRaises(k8snet.Error):
                db.set_log(group=70000)
            db.set_log(denied=False, counters=True)
            self.assertIn("counter drop comment", db.render("n1"))
            with self.assertRaises(k8snet.NotFound):
                db.counters("x", "nope")

    def test_annotation(self):
        with PolicyDB(self.ctx) as db:
            db.load_json(POD)
            db.load_json({"kind": "NetworkPolicy",
                          "metadata": {"name": "closed", "namespace": "x",
                                       "annotations": {"k8snet.io/log-verdicts": "denied"}},
                          "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
            self.assertIn('log group 100 prefix "k8snet deny ingress x/closed"', db.render("n1"))
            with self.assertRaises(k8snet.InvalidArgument) as cm:
                db.load_json({"kind": "NetworkPolicy",
                              "metadata": {"name": "bad", "namespace": "x",
                                           "annotations": {"k8snet.io/log-verdicts": "loud"}},
                              "spec": {"podSelector": {}}})
            self.assertIn("k8snet.io/log-verdicts", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
