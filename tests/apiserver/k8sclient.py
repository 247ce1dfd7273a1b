#!/usr/bin/env python3
"""A small Kubernetes API client for tests (Python standard library).

    c = Client.from_kubeconfig(path)
    status, obj = c.request("GET", "/api/v1/namespaces/default/pods")
    with c.watch("/api/v1/pods", resourceVersion=rv, allowWatchBookmarks="true") as w:
        for event in w:            # dicts: {"type": ..., "object": ...}
            ...
        w.clean_end                # True when the server sent the last chunk

The watch reader parses HTTP/1.1 chunked encoding itself, so a test can tell
a stream the server ended (terminating chunk) from one that was cut.

As a command, for shell scripts (exit status 0 on 2xx, the body on stdout):
    k8sclient.py --kubeconfig KC GET /api/v1/nodes
    k8sclient.py --kubeconfig KC PATCH /api/v1/namespaces/default/pods/p/status \\
        '{"status":{"podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"}]}}'
    (PATCH defaults to application/merge-patch+json; --content-type changes it)
"""

import argparse
import base64
import http.client
import json
import os
import re
import socket
import ssl
import sys
import tempfile
from urllib.parse import urlencode, urlsplit


def read_kubeconfig(path):
    """The fields of the simple block-style kubeconfig apiserver.py writes
    (and kubectl config view --raw --minify prints)."""
    fields = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*([a-z-]+):\s*(.*?)\s*$", line)
            if m and m.group(2) and m.group(1) not in fields:
                v = m.group(2)
                if v.startswith('"'):
                    v = json.loads(v)
                fields[m.group(1)] = v
    return fields


class ApiFailure(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


class Client:
    def __init__(self, url, token=None, ca_data=None, cert_data=None, key_data=None,
                 timeout=30):
        u = urlsplit(url)
        self.host = u.hostname
        self.port = u.port or 443
        self.token = token
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cadata=ca_data.decode() if ca_data else None)
        self._files = []
        if cert_data:
            paths = []
            for data in (cert_data, key_data):
                fd, p = tempfile.mkstemp(prefix="k8sclient-")
                os.write(fd, data)
                os.close(fd)
                paths.append(p)
            self._files = paths
            self.ctx.load_cert_chain(paths[0], paths[1])
        self._conn = None

    @classmethod
    def from_kubeconfig(cls, path, **kw):
        f = read_kubeconfig(path)
        b64 = lambda k: base64.b64decode(f[k]) if k in f else None  # noqa: E731
        return cls(f["server"], token=kw.pop("token", f.get("token")),
                   ca_data=b64("certificate-authority-data"),
                   cert_data=b64("client-certificate-data"), key_data=b64("client-key-data"),
                   **kw)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for p in self._files:
            try:
                os.unlink(p)
            except OSError:
                pass
        self._files = []

    def headers(self, extra=None):
        h = {"Accept": "application/json", "User-Agent": "k8snet-test-client"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(extra or {})
        return h

    @staticmethod
    def path_with(path, params):
        params = {k: v for k, v in params.items() if v is not None}
        return path + ("?" + urlencode(params) if params else "")

    def raw(self, method, path, body=None, headers=None, **params):
        """(status, headers, body bytes) over a kept-alive connection."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        hdrs = self.headers(headers)
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                         timeout=self.timeout)
            try:
                self._conn.request(method, self.path_with(path, params), body=body,
                                   headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
                return resp.status, resp.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise

    def request(self, method, path, body=None, headers=None, **params):
        """(status, decoded JSON body)."""
        status, _, data = self.raw(method, path, body, headers, **params)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def must(self, method, path, body=None, headers=None, **params):
        status, obj = self.request(method, path, body, headers, **params)
        if status // 100 != 2:
            raise ApiFailure(status, obj)
        return obj

    def watch(self, path, headers=None, **params):
        params.setdefault("watch", "true")
        return WatchReader(self, self.path_with(path, params), headers)


class WatchReader:
    """Reads one watch response event by event."""

    def __init__(self, client, target, headers=None, timeout=60):
        self.sock = socket.create_connection((client.host, client.port), timeout=timeout)
        self.sock = client.ctx.wrap_socket(self.sock, server_hostname=client.host)
        hdrs = client.headers(headers)
        req = "GET %s HTTP/1.1\r\nHost: %s:%d\r\n" % (target, client.host, client.port)
        req += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        self.sock.sendall(req.encode())
        self.buf = b""
        self.clean_end = False
        self.cut = False
        self.lines = []
        self.status, self.headers = self._read_head()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.pending = b""
        self.body = None
        if not self.chunked:
            n = int(self.headers.get("content-length", "0"))
            self.body = self._read_exact(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def settimeout(self, t):
        self.sock.settimeout(t)

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError) as e:
            # A connection torn down without close_notify.
            if isinstance(e, ssl.SSLError) and "EOF" not in str(e) and \
                    "UNEXPECTED_EOF" not in str(e):
                raise
            data = b""
        if not data:
            return False
        self.buf += data
        return True

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_head(self):
        status = self._read_line()
        if status is None:
            raise ConnectionError("no response")
        code = int(status.split()[1])
        headers = {}
        while True:
            line = self._read_line()
            if not line:
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        return code, headers

    def _next_chunk(self):
        size_line = self._read_line()
        if size_line is None:
            self.cut = True
            return None
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            self._read_line()
            self.clean_end = True
            return None
        data = self._read_exact(size)
        if data is None or self._read_line() is None:
            self.cut = True
            self.pending += self.buf
            return None
        return data

    def next_event(self):
        """The next event dict, or None when the stream ended (see clean_end, cut)."""
        if self.body is not None:
            return None
        while b"\n" not in self.pending:
            chunk = self._next_chunk()
            if chunk is None:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        self.lines.append(line)
        return json.loads(line)

    def __iter__(self):
        while True:
            ev = self.next_event()
            if ev is None:
                return
            yield ev


def main(argv=None):
    p = argparse.ArgumentParser(description="Send one request to the API server.")
    p.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"), required=False)
    p.add_argument("--content-type")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("body", nargs="?", help="JSON text, or @FILE")
    a = p.parse_args(argv)
    if not a.kubeconfig:
        p.error("--kubeconfig or KUBECONFIG is needed")
    body = a.body
    if body is not None and body.startswith("@"):
        body = open(body[1:], "rb").read()
    elif body is not None:
        body = body.encode()
    ctype = a.content_type or ("application/merge-patch+json" if a.method.upper() == "PATCH"
                               else "application/json")
    c = Client.from_kubeconfig(a.kubeconfig)
    try:
        status, _, data = c.raw(a.method.upper(), a.path, body,
                                {"Content-Type": ctype} if body is not None else None)
    finally:
        c.close()
    out = sys.stdout if status // 100 == 2 else sys.stderr
    out.write(data.decode(errors="replace") + ("\n" if not data.endswith(b"\n") else ""))
    return 0 if status // 100 == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
