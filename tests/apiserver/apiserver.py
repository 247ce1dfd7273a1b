#!/usr/bin/env python3
"""A Kubernetes API server for tests, in the Python standard library.

It serves core/v1 namespaces, nodes, pods and services (with their status
subresource), discovery.k8s.io/v1 endpointslices and networking.k8s.io/v1
networkpolicies over HTTPS with the semantics of kube-apiserver that clients
depend on: one resourceVersion counter, list with resourceVersion, limit and
continue, label and field selectors, chunked watch streams with bookmarks and
410 Expired, create/update/patch (merge, JSON, strategic)/delete with the
real Status errors, discovery and enough OpenAPI for kubectl.  kubectl works
against it unchanged (tests/apiserver/test-kubectl.sh proves it).

It is not kube-apiserver: no controllers (namespace deletion is done at
once, pods are deleted without a grace period), no admission, no RBAC (one
bearer token or any client certificate from its CA), no server-side apply.

Usage (see --help): apiserver.py --listen 127.0.0.1:0 --tls-dir DIR
    --token TOKEN --kubeconfig-out PATH --ready-file PATH [--state FILE]
    [--history N] [--bookmark-interval S] [--preload FILE.json]

Test-control endpoints (same bearer token):
    POST /_test/drop-watches   every watch stream is cut mid-chunk
    POST /_test/compact        the event history is forgotten (next resume: 410)
    GET  /_test/stats          open watches, events sent, lists served, ...
"""

import argparse
import base64
import fcntl
import hmac
import json
import os
import random
import secrets
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import apimodel  # noqa: E402
import apipatch as patchlib  # noqa: E402
from apistore import ApiError, Store, parse_rv  # noqa: E402
from labelsel import FieldSelector, LabelSelector, SelectorError  # noqa: E402

JSON = "application/json"
TABLE_CT = "application/json;as=Table;v=v1;g=meta.k8s.io"
# kubectl asks for the "@" spelling; Go's mime parser refuses "@" in a
# response Content-Type, so kube-openapi answers with the dotted one.
PB_V2_ACCEPT = ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
PB_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")
WRITE_BATCH = 256 * 1024
GZIP_MIN = 128 * 1024


def truthy(v):
    return v is not None and v.lower() in ("1", "true", "yes")


def parse_accept(header):
    """[(type, params)] from an Accept header, in order of preference."""
    out = []
    for i, part in enumerate((header or "*/*").split(",")):
        bits = [b.strip() for b in part.split(";")]
        params = {}
        for b in bits[1:]:
            if "=" in b:
                k, v = b.split("=", 1)
                params[k.strip().lower()] = v.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        out.append((-q, i, bits[0].lower(), params))
    return [(t, p) for _, _, t, p in sorted(out)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8snet-test-apiserver/" + apimodel.SERVER_VERSION["gitVersion"]
    sys_version = ""
    timeout = 600

    # ---- plumbing ---------------------------------------------------------

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("apiserver: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_bytes(self, code, body, ctype=JSON, extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, code, obj, ctype=JSON):
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(), ctype)

    def send_status(self, err):
        self.send_json(err.code, err.status())

    def dispatch(self, method):
        store = self.server.store
        with store.cond:
            store.stats["requests"] += 1
        self.body = b""
        try:
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                self.body = self.read_body()
            url = urlsplit(self.path)
            self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            path = "/" + url.path.strip("/")
            if self.public(method, path):
                return
            self.authenticate()
            self.route(method, path)
        except ApiError as e:
            self.send_status(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - answer 500, as the real server does
            traceback.print_exc()
            try:
                self.send_status(ApiError(500, "Internal error occurred: %s" % e))
            except OSError:
                self.close_connection = True

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            if hmac.compare_digest(auth[7:].strip().encode(), self.server.opts.token.encode()):
                return
        else:
            try:
                if self.connection.getpeercert():
                    return
            except (AttributeError, ValueError):
                pass
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def negotiate(self):
        """'json', 'table' or 'meta' (PartialObjectMetadata) from Accept."""
        for mtype, params in parse_accept(self.headers.get("Accept")):
            if mtype not in (JSON, "*/*", "application/*"):
                continue
            as_ = params.get("as")
            if as_ is None:
                return "json"
            if params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
                if as_ == "Table":
                    return "table"
                if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                    return "meta"
        raise ApiError(406, "only the following media types are accepted: application/json, "
                       "application/json;as=Table;v=v1;g=meta.k8s.io, "
                       "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
                       "NotAcceptable")

    def aggregated(self):
        for mtype, params in parse_accept(self.headers.get("Accept")):
            if mtype == JSON and params.get("as") == "APIGroupDiscoveryList" \
                    and params.get("g") == "apidiscovery.k8s.io" \
                    and params.get("v") in ("v2", "v2beta1"):
                return params["v"]
            if mtype in (JSON, "*/*") and "as" not in params:
                return None
        return None

    # ---- unauthenticated and discovery paths -------------------------------

    def public(self, method, path):
        if method == "GET" and path.split("/")[1] in ("healthz", "livez", "readyz"):
            self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
            return True
        if method == "GET" and path == "/version":
            self.send_json(200, apimodel.SERVER_VERSION)
            return True
        return False

    def discovery(self, path):
        opts = self.server.opts
        if path in ("/api", "/apis"):
            version = self.aggregated()
            if version:
                self.send_json(200, apimodel.aggregated_discovery(path == "/api", version),
                               "application/json;g=apidiscovery.k8s.io;v=%s;"
                               "as=APIGroupDiscoveryList" % version)
            elif path == "/api":
                self.send_json(200, apimodel.api_versions(opts.hostport))
            else:
                self.send_json(200, apimodel.api_group_list())
            return True
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            if parts[1] != "v1":
                raise self.not_found()
            self.send_json(200, apimodel.resource_list("", "v1"))
            return True
        if parts[0] == "apis" and len(parts) in (2, 3):
            groups = {g for g, _ in apimodel.BY_GROUP if g}
            if parts[1] not in groups or (len(parts) == 3 and parts[2] != "v1"):
                raise self.not_found()
            self.send_json(200, apimodel.api_group(parts[1]) if len(parts) == 2
                           else apimodel.resource_list(parts[1], "v1"))
            return True
        if path == "/openapi/v2":
            if any(t in PB_V2_ACCEPT for t, _ in parse_accept(self.headers.get("Accept"))):
                self.send_bytes(200, apimodel.openapi_v2_protobuf(), PB_V2)
            else:
                self.send_json(200, apimodel.openapi_v2_json())
            return True
        if path == "/openapi/v3":
            self.send_json(200, apimodel.openapi_v3_paths())
            return True
        if path.startswith("/openapi/v3/"):
            rest = path[len("/openapi/v3/"):].split("/")
            if rest[0] == "api" and rest[1:] == ["v1"]:
                doc = apimodel.openapi_v3_document("", "v1")
            elif rest[0] == "apis" and len(rest) == 3 and (rest[1], rest[2]) in apimodel.BY_GROUP:
                doc = apimodel.openapi_v3_document(rest[1], rest[2])
            else:
                raise self.not_found()
            self.send_json(200, doc)
            return True
        return False

    @staticmethod
    def not_found():
        return ApiError(404, "the server could not find the requested resource", "NotFound",
                        {})

    # ---- routing ------------------------------------------------------------

    def route(self, method, path):
        if path.startswith("/_test/"):
            return self.test_control(method, path)
        if method == "GET" and self.discovery(path):
            return
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise self.not_found()
        legacy_watch = False
        if rest[0] == "watch":
            legacy_watch, rest = True, rest[1:]
        ns = None
        resources = apimodel.BY_GROUP.get((group, version), {})
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in resources \
                and resources[rest[2]].namespaced:
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3 or rest[0] not in resources:
            raise self.not_found()
        res = resources[rest[0]]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if (res.namespaced and name is not None and ns is None) or (not res.namespaced and ns):
            raise self.not_found()
        if sub is not None and not (sub == "status" and res.status):
            raise self.not_found()
        if legacy_watch:
            if method != "GET":
                raise self.method_not_allowed()
            self.query["watch"] = "true"
            if name is not None:
                self.query["fieldSelector"] = "metadata.name=%s" % name
                name = None
        if method == "GET":
            if name is None:
                return self.collection_get(res, ns)
            return self.item_get(res, ns, name)
        if method == "POST" and name is None:
            return self.create(res, ns)
        if method == "PUT" and name is not None:
            return self.update(res, ns, name, sub)
        if method == "PATCH" and name is not None:
            return self.patch(res, ns, name, sub)
        if method == "DELETE" and name is not None and sub is None:
            return self.delete(res, ns, name)
        if method == "DELETE" and name is None and res.deletecollection:
            return self.delete_collection(res, ns)
        raise self.method_not_allowed()

    @staticmethod
    def method_not_allowed():
        return ApiError(405, "the server does not allow this method on the requested resource",
                        "MethodNotAllowed", {})

    def test_control(self, method, path):
        store = self.server.store
        if method == "POST" and path == "/_test/drop-watches":
            self.send_json(200, {"dropped": store.drop_watches()})
        elif method == "POST" and path == "/_test/compact":
            self.send_json(200, {"compactedResourceVersion": str(store.compact())})
        elif method == "GET" and path == "/_test/stats":
            self.send_json(200, store.snapshot_stats())
        else:
            raise self.not_found()

    def selectors(self, res):
        try:
            lsel = LabelSelector(self.query.get("labelSelector", ""))
            fsel = FieldSelector(self.query.get("fieldSelector", ""), res.fields)
        except SelectorError as e:
            raise ApiError(400, str(e))
        return lsel or None, fsel or None

    def json_body(self):
        try:
            obj = json.loads(self.body or b"null")
        except ValueError as e:
            ctype = self.headers.get("Content-Type", "")
            if "yaml" in ctype:
                raise ApiError(415, "the body of the request was in an unknown format - "
                               "accepted media types include: application/json")
            raise ApiError(400, "the object provided is unrecognized (must be of type JSON): %s"
                           % e)
        return obj

    def dry_run(self):
        v = self.query.get("dryRun")
        if v not in (None, "", "All"):
            raise ApiError(400, 'dryRun: Unsupported value: "%s": supported values: "All"' % v)
        return v == "All"

    # ---- reads ------------------------------------------------------------

    def render(self, res, obj, fmt):
        if fmt == "table":
            return apimodel.table(res, [obj], self.query.get("includeObject", "Metadata"),
                                  {"resourceVersion": obj["metadata"].get("resourceVersion",
                                                                          "")}), TABLE_CT
        if fmt == "meta":
            return apimodel.partial_metadata(obj), JSON
        return obj, JSON

    def item_get(self, res, ns, name):
        fmt = self.negotiate()
        if truthy(self.query.get("watch")):
            # A watch on one object is a watch on its collection narrowed by name.
            lsel, fsel = self.selectors(res)
            terms = "metadata.name=%s" % name
            if fsel is not None:
                terms += "," + fsel.text
            fsel = FieldSelector(terms, res.fields)
            return WatchStream(self, res, ns, lsel, fsel, fmt).run()
        entry = self.server.store.get(res, ns, name)
        if fmt == "json":
            return self.send_bytes(200, entry.raw)
        body, ctype = self.render(res, entry.obj, fmt)
        self.send_json(200, body, ctype)

    def collection_get(self, res, ns):
        fmt = self.negotiate()
        lsel, fsel = self.selectors(res)
        if truthy(self.query.get("watch")):
            return WatchStream(self, res, ns, lsel, fsel, fmt).run()
        if self.query.get("sendInitialEvents") is not None:
            raise list_options_invalid("sendInitialEvents", "sendInitialEvents is forbidden "
                                       "for list")
        limit = self.query.get("limit") or "0"
        try:
            limit = max(0, int(limit))
        except ValueError:
            raise ApiError(400, 'invalid limit: "%s"' % limit)
        rv, entries, token, remaining = self.server.store.list(
            res, ns, lsel, fsel, limit, self.query.get("continue"),
            self.query.get("resourceVersion"), self.query.get("resourceVersionMatch"))
        meta = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        if fmt == "json":
            return self.stream_list(res, meta, entries)
        if fmt == "table":
            body = apimodel.table(res, [e.obj for e in entries],
                                  self.query.get("includeObject", "Metadata"), meta)
            return self.send_json(200, body, TABLE_CT)
        self.send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                             "metadata": meta,
                             "items": [apimodel.partial_metadata(e.obj) for e in entries]})

    def wants_gzip(self):
        for part in self.headers.get("Accept-Encoding", "").split(","):
            bits = part.strip().split(";")
            if bits[0].strip().lower() == "gzip" and not any(
                    b.strip().replace(" ", "") in ("q=0", "q=0.0") for b in bits[1:]):
                return True
        return False

    def stream_list(self, res, meta, entries):
        """The list body from the stored bytes of each object: items lose
        their apiVersion and kind, as in kube-apiserver's typed lists.  Above
        128 KiB and when the client accepts it, gzip (level 1) in chunks, as
        kube-apiserver's APIResponseCompression does."""
        head = b'{"kind":"%s","apiVersion":"%s","metadata":%s,"items":[' % (
            res.list_kind.encode(), res.api_version.encode(),
            json.dumps(meta, separators=(",", ":")).encode())
        cut = len(res.head)
        size = len(head) + 2 + sum(len(e.raw) - cut + 1 for e in entries) + \
            max(0, len(entries) - 1)
        gz = None
        if size > GZIP_MIN and not self.server.opts.no_gzip and self.wants_gzip():
            gz = zlib.compressobj(1, zlib.DEFLATED, 31)
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        if gz:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

        def out(data):
            if gz:
                data = gz.compress(data)
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)

        buf = [head]
        used = len(head)
        for i, e in enumerate(entries):
            if i:
                buf.append(b",")
            buf.append(b"{")
            buf.append(memoryview(e.raw)[cut:])
            used += len(e.raw) - cut + 2
            if used >= WRITE_BATCH:
                out(b"".join(buf))
                buf, used = [], 0
        buf.append(b"]}")
        out(b"".join(buf))
        if gz:
            tail = gz.flush()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))

    # ---- writes ---------------------------------------------------------------

    def check_object(self, res, ns, obj, name=None):
        if not isinstance(obj, dict):
            raise ApiError(400, "the object provided is unrecognized (must be a JSON object)")
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if av and av != res.api_version:
            raise ApiError(400, "the API version in the data (%s) does not match the expected "
                           "API version (%s)" % (av, res.api_version))
        if kind and kind != res.kind:
            raise ApiError(400, "the kind in the data (%s) does not match the expected kind (%s)"
                           % (kind, res.kind))
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise ApiError(400, "metadata must be a JSON object")
        meta = meta or {}
        if res.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise ApiError(400, "the namespace of the provided object does not match the "
                           "namespace sent on the request")
        if name is not None and meta.get("name") and meta["name"] != name:
            raise ApiError(400, "the name of the object (%s) does not match the name on the URL "
                           "(%s)" % (meta["name"], name))

    def respond_object(self, code, res, obj):
        fmt = self.negotiate()
        body, ctype = self.render(res, obj, fmt)
        self.send_json(code, body, ctype)

    def create(self, res, ns):
        obj = self.json_body()
        self.check_object(res, ns, obj)
        dry = self.dry_run()
        created = self.server.store.create(res, ns, obj, dry)
        self.respond_object(201, res, created)

    def update(self, res, ns, name, sub):
        obj = self.json_body()
        self.check_object(res, ns, obj, name)
        updated = self.server.store.update(res, ns, name, obj, sub, self.dry_run())
        self.respond_object(200, res, updated)

    def patch(self, res, ns, name, sub):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in PATCH_TYPES:
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: application/json-patch+json, "
                           "application/merge-patch+json, "
                           "application/strategic-merge-patch+json", "UnsupportedMediaType")
        doc = self.json_body()

        def apply(current):
            try:
                if ctype == "application/json-patch+json":
                    return patchlib.json_patch(current, doc)
                if ctype == "application/merge-patch+json":
                    return patchlib.merge_patch(current, doc)
                return patchlib.strategic_merge_patch(current, doc, res.smp)
            except patchlib.PatchError as e:
                raise ApiError(e.code, str(e))

        updated = self.server.store.patch(res, ns, name, apply, sub, self.dry_run())
        self.respond_object(200, res, updated)

    def delete_options(self):
        if not self.body.strip():
            opts = {}
        else:
            opts = self.json_body()
            if not isinstance(opts, dict):
                raise ApiError(400, "DeleteOptions must be a JSON object")
        pre = {}
        if self.query.get("preconditions.uid"):
            pre["uid"] = self.query["preconditions.uid"]
        if self.query.get("preconditions.resourceVersion"):
            pre["resourceVersion"] = self.query["preconditions.resourceVersion"]
        if pre:
            opts.setdefault("preconditions", {}).update(pre)
        return opts

    def delete(self, res, ns, name):
        opts = self.delete_options()
        obj, gone = self.server.store.delete(res, ns, name, opts, self.dry_run())
        if res.returns_deleted or not gone:
            return self.respond_object(200, res, obj)
        details = {"name": name}
        if res.group:
            details["group"] = res.group
        details["kind"] = res.name
        details["uid"] = obj["metadata"]["uid"]
        self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success", "details": details})

    def delete_collection(self, res, ns):
        self.delete_options()
        lsel, fsel = self.selectors(res)
        rv, objs = self.server.store.delete_collection(res, ns, lsel, fsel, self.dry_run())
        self.send_json(200, {"kind": res.list_kind, "apiVersion": res.api_version,
                             "metadata": {"resourceVersion": str(rv)}, "items": objs})


def list_options_invalid(field, detail):
    msg = "%s: Forbidden: %s" % (field, detail)
    return ApiError(422, 'ListOptions.meta.k8s.io "" is invalid: %s' % msg, "Invalid",
                    {"group": "meta.k8s.io", "kind": "ListOptions",
                     "causes": [{"reason": "FieldValueForbidden", "message": "Forbidden: " + detail,
                                 "field": field}]})


class WatchStream:
    """One watch request: an HTTP/1.1 chunked response with one JSON event
    per line, fed from the store's history until the timeout, a drop, the
    client going away or the server stopping."""

    def __init__(self, handler, res, ns, lsel, fsel, fmt):
        self.h = handler
        self.store = handler.server.store
        self.opts = handler.server.opts
        self.res, self.ns, self.lsel, self.fsel, self.fmt = res, ns, lsel, fsel, fmt
        self.prefix = ns + "/" if ns and res.namespaced else None
        self.plain = lsel is None and fsel is None and fmt == "json"
        self.include = handler.query.get("includeObject", "Metadata")
        self.table_headers = True

    # -- filtering and encoding --

    def passes(self, obj):
        if self.lsel and not self.lsel.matches(obj["metadata"].get("labels")):
            return False
        return not self.fsel or self.fsel.matches(obj)

    def encode(self, etype, obj=None, raw=None):
        if self.fmt == "json":
            if raw is None:
                raw = json.dumps(obj, separators=(",", ":")).encode()
            return b'{"type":"%s","object":%s}\n' % (etype.encode(), raw)
        if obj is None:
            obj = json.loads(raw)
        if self.fmt == "table" and etype in ("ADDED", "MODIFIED", "DELETED"):
            obj = apimodel.table(self.res, [obj], self.include,
                                 {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                                 headers=self.table_headers)
            self.table_headers = False
        elif self.fmt == "meta" and etype in ("ADDED", "MODIFIED", "DELETED"):
            obj = apimodel.partial_metadata(obj)
        return b'{"type":"%s","object":%s}\n' % (etype.encode(),
                                                 json.dumps(obj, separators=(",", ":")).encode())

    def event_line(self, ev):
        if ev.res is not self.res or (self.prefix and not ev.key.startswith(self.prefix)):
            return None
        if self.plain:
            return ev.line()
        if ev.type == "DELETED":
            return self.encode("DELETED", raw=ev.entry.raw) if self.passes(ev.entry.obj) else None
        now = self.passes(ev.entry.obj)
        before = ev.type == "MODIFIED" and ev.prev is not None and self.passes(ev.prev.obj)
        if now:
            return self.encode("MODIFIED" if before else "ADDED", raw=ev.entry.raw)
        if before:
            # It stopped matching: a DELETED of what the watcher last saw, at
            # this event's resourceVersion.
            gone = ev.prev.copy()
            gone["metadata"]["resourceVersion"] = str(ev.rv)
            return self.encode("DELETED", gone)
        return None

    def bookmark(self, rv, initial_end=False):
        meta = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return self.encode("BOOKMARK", {"kind": self.res.kind, "apiVersion": self.res.api_version,
                                        "metadata": meta})

    # -- the wire --

    def frame(self, lines):
        size = self.opts.chunk_size
        if size <= 0:
            return b"".join(b"%x\r\n%s\r\n" % (len(ln), ln) for ln in lines)
        data = b"".join(lines)
        return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                        for i in range(0, len(data), size))

    def start_response(self):
        h = self.h
        h.send_response(200)
        h.send_header("Content-Type", TABLE_CT if self.fmt == "table" else JSON)
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-cache, private")
        h.end_headers()

    def write(self, lines):
        if lines:
            self.h.wfile.write(self.frame(lines))

    def end(self):
        self.h.wfile.write(b"0\r\n\r\n")

    def cut(self):
        """Ends the stream the way a crashed server or a broken proxy does:
        a chunk announced and never finished, then the connection is gone
        (no TLS close_notify, no terminating chunk)."""
        h = self.h
        try:
            h.wfile.write(b"%x\r\n" % 4096 + b'{"type":"MODIFIED","object":{"kind":"')
        except OSError:
            pass
        try:
            conn = h.connection
            if isinstance(conn, ssl.SSLSocket):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            else:
                conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        h.close_connection = True

    def client_gone(self):
        try:
            readable, _, _ = select.select([self.h.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    # -- the request --

    def parse_options(self):
        q = self.h.query
        self.bookmarks = truthy(q.get("allowWatchBookmarks"))
        self.rv_param = q.get("resourceVersion") or ""
        rv_match = q.get("resourceVersionMatch")
        sie = q.get("sendInitialEvents")
        self.send_initial = None if sie is None else truthy(sie)
        if self.send_initial is not None:
            if rv_match != "NotOlderThan":
                raise list_options_invalid("resourceVersionMatch", "sendInitialEvents requires "
                                           "setting resourceVersionMatch to NotOlderThan")
            if not self.bookmarks:
                raise list_options_invalid("allowWatchBookmarks", "sendInitialEvents requires "
                                           "setting allowWatchBookmarks to true")
        elif rv_match:
            raise list_options_invalid("resourceVersionMatch", "resourceVersionMatch is "
                                       "forbidden for watch unless sendInitialEvents is "
                                       "provided")
        t = q.get("timeoutSeconds") or "0"
        try:
            self.timeout = max(0, int(t))
        except ValueError:
            raise ApiError(400, 'invalid timeoutSeconds: "%s"' % t)
        if self.timeout == 0:
            # Unset or 0: between the minimum request timeout and twice it.
            self.timeout = self.opts.min_request_timeout * (1 + random.random())

    def initial_entries(self):
        """Under the lock: the current matching objects, key order."""
        return [e for e in self.store.current(self.res, self.ns) if self.passes(e.obj)]

    def run(self):
        store = self.store
        self.parse_options()
        initial = []
        expired = None
        w = None
        with store.cond:
            if self.rv_param and self.rv_param != "0":
                want = parse_rv(self.rv_param)
                if want > store.rv and not store.wait_for_rv(want):
                    raise store.too_large(want)
            if self.send_initial or (self.send_initial is None and self.rv_param in ("", "0")):
                initial = self.initial_entries()
                pos = store.rv
            elif not self.rv_param or self.rv_param == "0":
                pos = store.rv
            else:
                pos = parse_rv(self.rv_param)
                try:
                    store.check_watch_start(pos)
                except ApiError as e:
                    if self.opts.watch_expired == "http":
                        raise
                    expired = e
            if expired is None:
                w = store.watches_register()
        self.start_response()
        if expired is not None:
            self.write([self.encode("ERROR", expired.status())])
            self.end()
            return
        try:
            self.stream(w, pos, initial)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            self.h.close_connection = True
        finally:
            store.watches_unregister(w)

    def stream(self, w, pos, initial):
        store = self.store
        sent = 0
        batch = []
        for e in initial:
            batch.append(self.encode("ADDED", raw=e.raw))
            if len(batch) >= 256:
                self.write(batch)
                sent += len(batch)
                batch = []
        if self.send_initial:
            batch.append(self.bookmark(pos, initial_end=True))
        self.write(batch)
        sent += len(batch)
        with store.cond:
            store.stats["eventsSent"] += sent
        now = time.monotonic()
        deadline = now + self.timeout
        interval = self.opts.bookmark_interval
        next_bookmark = now + interval
        next_check = now + 1.0
        while True:
            events = []
            with store.cond:
                while True:
                    if w.dropped or store.stopping:
                        break
                    if pos < store.floor:
                        break
                    events = store.events_after(pos)
                    if events:
                        pos = store.rv
                        break
                    pos = store.rv
                    now = time.monotonic()
                    wake = min(deadline, next_check, next_bookmark if self.bookmarks
                               else deadline)
                    if now >= wake:
                        break
                    store.cond.wait(wake - now)
                dropped, stopping, lost = w.dropped, store.stopping, pos < store.floor
                floor = store.floor
            if dropped:
                self.cut()
                return
            if lost:
                # History was compacted past this watcher: it must relist.
                err = ApiError(410, "too old resource version: %d (%d)" % (pos, floor),
                               "Expired")
                self.write([self.encode("ERROR", err.status())])
                self.end()
                return
            lines = [ln for ln in (self.event_line(ev) for ev in events) if ln is not None]
            now = time.monotonic()
            if self.bookmarks and (now >= next_bookmark or now >= deadline or stopping):
                lines.append(self.bookmark(pos))
                next_bookmark = now + interval
                with store.cond:
                    store.stats["bookmarksSent"] += 1
            for i in range(0, len(lines), 512):
                self.write(lines[i:i + 512])
            if lines:
                with store.cond:
                    store.stats["eventsSent"] += len(lines)
            if now >= deadline or stopping:
                self.end()
                return
            if now >= next_check:
                next_check = now + 1.0
                if self.client_gone():
                    self.h.close_connection = True
                    return


# ---- TLS material and kubeconfig ---------------------------------------------

def _openssl(*args, stdin=None):
    r = subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.decode(errors="replace")))


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    os.chmod(path, 0o600)


def _sign(tls, name, subject, ext, days=825):
    key, csr, crt = (os.path.join(tls, name + s) for s in (".key", ".csr", ".crt"))
    extfile = os.path.join(tls, name + ".ext")
    _new_key(key)
    _openssl("req", "-new", "-key", key, "-subj", subject, "-out", csr)
    with open(extfile, "w") as f:
        f.write(ext)
    _openssl("x509", "-req", "-in", csr, "-CA", os.path.join(tls, "ca.crt"),
             "-CAkey", os.path.join(tls, "ca.key"), "-set_serial",
             "0x" + secrets.token_hex(16), "-days", str(days), "-sha256",
             "-extfile", extfile, "-out", crt + ".tmp")
    os.replace(crt + ".tmp", crt)
    os.unlink(csr)
    os.unlink(extfile)


def ensure_tls(tls, sans):
    """A CA, a server certificate for `sans` and a client certificate in
    `tls`, made once and reused; the server certificate is remade when the
    names it must cover change."""
    os.makedirs(tls, exist_ok=True)
    with open(os.path.join(tls, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ca_crt, ca_key = os.path.join(tls, "ca.crt"), os.path.join(tls, "ca.key")
        fresh_ca = False
        if not (os.path.exists(ca_crt) and os.path.exists(ca_key)):
            _new_key(ca_key)
            _openssl("req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=k8snet-test-ca",
                     "-days", "3650", "-sha256",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                     "-out", ca_crt)
            fresh_ca = True
        names = []
        for s in sans:
            try:
                import ipaddress
                ipaddress.ip_address(s)
                names.append("IP:" + s)
            except ValueError:
                names.append("DNS:" + s)
        want = ",".join(names)
        sans_file = os.path.join(tls, "server.sans")
        have = open(sans_file).read().strip() if os.path.exists(sans_file) else None
        if fresh_ca or have != want or not os.path.exists(os.path.join(tls, "server.crt")):
            _sign(tls, "server", "/CN=kube-apiserver",
                  "basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % want)
            with open(sans_file, "w") as f:
                f.write(want + "\n")
        if fresh_ca or not os.path.exists(os.path.join(tls, "client.crt")):
            _sign(tls, "client", "/O=system:masters/CN=k8snet-test-admin",
                  "basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=clientAuth\n")


def _yaml_scalar(s):
    import re
    return s if re.match(r"^[A-Za-z0-9._/:=+-]+$", s) and not s[0] in "-:" else json.dumps(s)


def write_kubeconfig(path, url, tls, token=None, cert=False):
    b64 = lambda p: base64.b64encode(open(os.path.join(tls, p), "rb").read()).decode()  # noqa
    if cert:
        user = ("    client-certificate-data: %s\n    client-key-data: %s\n"
                % (b64("client.crt"), b64("client.key")))
    else:
        user = "    token: %s\n" % _yaml_scalar(token)
    text = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
            "    certificate-authority-data: %s\n    server: %s\n  name: k8snet-test\n"
            "contexts:\n- context:\n    cluster: k8snet-test\n    namespace: default\n"
            "    user: k8snet-test\n  name: k8snet-test\ncurrent-context: k8snet-test\n"
            "preferences: {}\nusers:\n- name: k8snet-test\n  user:\n%s"
            % (b64("ca.crt"), url, user))
    atomic_write(path, text, 0o600)


def atomic_write(path, text, mode=0o644):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---- the server ---------------------------------------------------------------

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, store, opts, ssl_ctx):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.store, self.opts, self.ssl_ctx = store, opts, ssl_ctx
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, so a slow or
        # silent client never holds up accept().
        try:
            # Headers and body go out in separate writes: without NODELAY,
            # Nagle holds the body until the client's delayed ACK (40 ms).
            if request.family in (socket.AF_INET, socket.AF_INET6):
                request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(10)
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            conn.settimeout(None)
            self.RequestHandlerClass(conn, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        if self.opts.verbose:
            traceback.print_exc()


def parse_listen(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def load_preload(path):
    with open(path, "rb") as f:
        doc = json.load(f)
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        return doc["items"]
    raise ValueError("%s: expected a List (kind: List, items: [...]) or a JSON array" % path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0", help="ADDR:PORT (port 0: pick one)")
    p.add_argument("--tls-dir", required=True, help="CA, server and client certificates "
                   "(made if missing)")
    p.add_argument("--token", help="the bearer token clients must send (default: random)")
    p.add_argument("--kubeconfig-out", help="write a kubeconfig using the token here")
    p.add_argument("--kubeconfig-cert-out", help="write a kubeconfig using the client "
                   "certificate here")
    p.add_argument("--ready-file", help="written (with the URL) once the server listens")
    p.add_argument("--state", help="persist objects, resourceVersion and history in FILE "
                   "(and FILE.journal)")
    p.add_argument("--history", type=int, default=10000, help="events kept for resuming "
                   "watches and consistent paging (default 10000)")
    p.add_argument("--bookmark-interval", type=float, default=60.0,
                   help="seconds between BOOKMARK events (default 60)")
    p.add_argument("--preload", action="append", default=[], help="a List of objects to "
                   "create at start (repeatable)")
    p.add_argument("--service-cidr", action="append", default=[],
                   help="ClusterIP range, one per family (default 10.96.0.0/12)")
    p.add_argument("--tls-san", action="append", default=[], help="extra server certificate "
                   "name or address")
    p.add_argument("--watch-expired", choices=("event", "http"), default="event",
                   help="a watch from a compacted version gets an ERROR event (default, as "
                   "the watch cache answers) or an HTTP 410")
    p.add_argument("--chunk-size", type=int, default=0, help="split watch streams into "
                   "chunks of N bytes regardless of event boundaries (default: one chunk per "
                   "event)")
    p.add_argument("--min-request-timeout", type=float, default=1800.0,
                   help="watches without timeoutSeconds last between this and twice this")
    p.add_argument("--no-gzip", action="store_true", help="never compress lists (default: "
                   "gzip above 128 KiB for clients that accept it, as kube-apiserver)")
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args(argv)
    # Many watch threads wake for each event; a shorter GIL switch interval
    # lets each one write its line sooner (latency over throughput).
    sys.setswitchinterval(0.0005)
    opts.token = opts.token or secrets.token_hex(16)

    host, port = parse_listen(opts.listen)
    sans = ["127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default",
            "kubernetes.default.svc"]
    if host not in ("0.0.0.0", "::") and host not in sans:
        sans.append(host)
    sans += [s for s in opts.tls_san if s not in sans]
    ensure_tls(opts.tls_dir, sans)

    store = Store(history=opts.history, service_cidrs=opts.service_cidr or ["10.96.0.0/12"],
                  state=opts.state)
    t0 = time.monotonic()
    store.load_state()
    store.ensure_default_namespaces()
    created = 0
    for path in opts.preload:
        c, _ = store.preload(load_preload(path))
        created += c
    if opts.state:
        store.write_snapshot()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(opts.tls_dir, "server.crt"),
                        os.path.join(opts.tls_dir, "server.key"))
    ctx.load_verify_locations(os.path.join(opts.tls_dir, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])

    server = Server((host, port), store, opts, ctx)
    bound = server.server_address[1]
    shown = "127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else host
    opts.hostport = ("[%s]:%d" if ":" in shown else "%s:%d") % (shown, bound)
    url = "https://" + opts.hostport
    if opts.kubeconfig_out:
        write_kubeconfig(opts.kubeconfig_out, url, opts.tls_dir, token=opts.token)
    if opts.kubeconfig_cert_out:
        write_kubeconfig(opts.kubeconfig_cert_out, url, opts.tls_dir, cert=True)

    def stop(signum, frame):
        with store.cond:
            store.stopping = True
            store.cond.notify_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if opts.ready_file:
        atomic_write(opts.ready_file, url + "\n")
    counts = store.snapshot_stats()["objects"]
    sys.stderr.write("apiserver: serving %s (resourceVersion %d, %d objects%s, ready in "
                     "%.2f s)\n" % (url, store.rv, sum(counts.values()),
                                    ", %d preloaded" % created if opts.preload else "",
                                    time.monotonic() - t0))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        # Let watch streams end with their terminating chunk, then save.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            with store.cond:
                if not store.watches:
                    break
                store.cond.wait(0.05)
        if opts.state:
            store.write_snapshot()
        store.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
