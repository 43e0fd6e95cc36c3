# SPDX-License-Identifier: Apache-2.0
"""A small Kubernetes API client for the tests (client certificate, bearer token or anonymous), able to
connect from inside a network namespace the test created (the socket is made after setns(2) on this
thread only, then the thread goes back)."""
import base64
import contextlib
import ctypes
import http.client
import json
import os
import socket
import ssl
import tempfile
import urllib.parse

import yaml

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def in_netns(name):
    """Run the body with this thread in network namespace /run/netns/<name> (None: stay)."""
    if not name:
        yield
        return
    with open("/proc/thread-self/ns/net") as cur, open(f"/run/netns/{name}") as tgt:
        if _libc.setns(tgt.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        try:
            yield
        finally:
            if _libc.setns(cur.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")


def connect(host, port, timeout=10, netns=None):
    with in_netns(netns):
        return socket.create_connection((host, port), timeout=timeout)


class ApiError(Exception):
    def __init__(self, code, body):
        self.code = code
        self.body = body
        self.status = body if isinstance(body, dict) else {}
        self.reason = self.status.get("reason")
        super().__init__(f"HTTP {code}: {self.status.get('message') or body}")


class Client:
    def __init__(self, server, ca_pem=None, cert_pem=None, key_pem=None, token=None, netns=None, timeout=10,
                 insecure=False):
        u = urllib.parse.urlsplit(server)
        self.host, self.port = u.hostname, u.port or 443
        self.token = token
        self.netns = netns
        self.timeout = timeout
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        if insecure or not ca_pem:
            self.ctx.verify_mode = ssl.CERT_NONE
        else:
            self.ctx.load_verify_locations(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
        if cert_pem:
            with tempfile.TemporaryDirectory() as d:
                c, k = os.path.join(d, "c"), os.path.join(d, "k")
                with open(c, "wb") as f:
                    f.write(cert_pem)
                with open(k, "wb") as f:
                    f.write(key_pem)
                self.ctx.load_cert_chain(c, k)

    @classmethod
    def from_kubeconfig(cls, path, netns=None, server=None, **kw):
        with open(path) as f:
            kc = yaml.safe_load(f)
        ctxname = kc.get("current-context")
        ctx = next(c["context"] for c in kc["contexts"] if c["name"] == ctxname)
        cl = next(c["cluster"] for c in kc["clusters"] if c["name"] == ctx["cluster"])
        us = next(u["user"] for u in kc["users"] if u["name"] == ctx["user"])

        def data(d, key, fkey):
            if d.get(key):
                return base64.b64decode(d[key])
            if d.get(fkey):
                p = d[fkey]
                if not os.path.isabs(p):
                    p = os.path.join(os.path.dirname(path), p)
                with open(p, "rb") as f:
                    return f.read()
            return None

        return cls(server or cl["server"], data(cl, "certificate-authority-data", "certificate-authority"),
                   data(us, "client-certificate-data", "client-certificate"),
                   data(us, "client-key-data", "client-key"), us.get("token"), netns=netns, **kw)

    def request(self, method, path, body=None, ctype="application/json", headers=None, raw=False):
        sock = connect(self.host, self.port, self.timeout, self.netns)
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.ctx)
        conn.sock = self.ctx.wrap_socket(sock, server_hostname=None)
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None:
            h["Content-Type"] = ctype
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if raw:
            return r.status, data
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data.decode(errors="replace")
        if r.status >= 400:
            raise ApiError(r.status, doc)
        return doc

    # conveniences
    @staticmethod
    def path(resource, name=None, ns=None, group=None, sub=None):
        if group and "/" not in group:
            group += "/v1"
        base = f"/apis/{group}" if group else "/api/v1"
        p = base + (f"/namespaces/{ns}" if ns else "") + f"/{resource}"
        if name:
            p += f"/{name}"
        if sub:
            p += f"/{sub}"
        return p

    def get(self, resource, name=None, ns=None, group=None):
        return self.request("GET", self.path(resource, name, ns, group))

    def list(self, resource, ns=None, group=None, **q):
        p = self.path(resource, None, ns, group)
        if q:
            p += "?" + urllib.parse.urlencode(q)
        return self.request("GET", p)["items"]

    def create(self, resource, obj, ns=None, group=None):
        return self.request("POST", self.path(resource, None, ns, group), obj)

    def update(self, resource, obj, ns=None, group=None, sub=None):
        return self.request("PUT", self.path(resource, obj["metadata"]["name"], ns, group, sub), obj)

    def patch(self, resource, name, p, ns=None, group=None, kind="merge", sub=None):
        ct = {"merge": "application/merge-patch+json", "strategic": "application/strategic-merge-patch+json",
              "json": "application/json-patch+json"}[kind]
        return self.request("PATCH", self.path(resource, name, ns, group, sub), p, ctype=ct)

    def delete(self, resource, name, ns=None, group=None, body=None):
        return self.request("DELETE", self.path(resource, name, ns, group), body)

    def exists(self, resource, name, ns=None, group=None):
        try:
            self.get(resource, name, ns, group)
            return True
        except ApiError as e:
            if e.code == 404:
                return False
            raise

    def healthz(self, path="/healthz"):
        return self.request("GET", path, raw=True)
