# SPDX-License-Identifier: Apache-2.0
"""A small client for etcd's v3 JSON gateway (POST /v3/kv/range, /v3/kv/txn, /v3/cluster/...)
over TLS with a client certificate. Thread-safe: one keep-alive connection per thread and endpoint."""
import base64
import http.client
import json
import ssl
import threading
import urllib.parse


class EtcdError(Exception):
    def __init__(self, status, message, code=None):
        super().__init__(f"etcd: HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.code = code


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def unb64(s):
    return base64.b64decode(s or "")


def prefix_end(prefix):
    """The range_end that selects every key starting with prefix (bytes)."""
    if isinstance(prefix, str):
        prefix = prefix.encode()
    b = bytearray(prefix)
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\0"


def _netns_connect(conn, netns, ctx):
    def connect():
        from .kubeclient import connect as ns_connect
        sock = ns_connect(conn.host, conn.port, conn.timeout, netns)
        conn.sock = ctx.wrap_socket(sock, server_hostname=None) if ctx else sock
    return connect


class Etcd:
    def __init__(self, endpoints, cafile=None, certfile=None, keyfile=None, timeout=10, netns=None):
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e]
        self.endpoints = endpoints
        self.timeout = timeout
        self.netns = netns
        self.ctx = None
        if any(e.startswith("https://") for e in endpoints):
            self.ctx = ssl.create_default_context(cafile=cafile)
            self.ctx.check_hostname = False  # etcd certs carry IP SANs; the CA is what we pin
            if certfile:
                self.ctx.load_cert_chain(certfile, keyfile)
        self._local = threading.local()
        self._preferred = 0

    def _conn(self, ep):
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        c = conns.get(ep)
        if c is None:
            u = urllib.parse.urlsplit(ep)
            if u.scheme == "https":
                c = http.client.HTTPSConnection(u.hostname, u.port or 2379, timeout=self.timeout, context=self.ctx)
            else:
                c = http.client.HTTPConnection(u.hostname, u.port or 2379, timeout=self.timeout)
            if self.netns:
                c.connect = _netns_connect(c, self.netns, self.ctx if u.scheme == "https" else None)
            conns[ep] = c
        return c

    def _drop(self, ep):
        c = self._local.conns.pop(ep, None)
        if c:
            c.close()

    def call(self, path, body, timeout=None):
        """POST a JSON body to the first endpoint that answers; raises EtcdError or OSError."""
        data = json.dumps(body).encode()
        last = None
        n = len(self.endpoints)
        for k in range(n):
            i = (self._preferred + k) % n
            ep = self.endpoints[i]
            for attempt in range(2):  # a kept-alive connection may have been closed by the server
                c = self._conn(ep)
                try:
                    c.timeout = timeout or self.timeout
                    if c.sock is not None:
                        c.sock.settimeout(c.timeout)
                    c.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    raw = r.read()
                except (OSError, http.client.HTTPException) as e:
                    self._drop(ep)
                    last = e
                    if attempt == 0 and isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                                       ConnectionResetError)):
                        continue
                    break
                self._preferred = i
                try:
                    doc = json.loads(raw or b"{}")
                except ValueError:
                    doc = {"error": raw.decode(errors="replace")}
                if r.status != 200:
                    raise EtcdError(r.status, doc.get("error") or doc.get("message") or raw.decode(errors="replace"),
                                    doc.get("code"))
                return doc
        raise last if last else OSError("etcd: no endpoints")

    # ---- KV ----
    def get(self, key):
        """(value bytes, mod_revision, create_revision) or None."""
        d = self.call("/v3/kv/range", {"key": b64(key)})
        kvs = d.get("kvs") or []
        if not kvs:
            return None
        kv = kvs[0]
        return unb64(kv.get("value")), int(kv.get("mod_revision", 0)), int(kv.get("create_revision", 0))

    def range_prefix(self, prefix, timeout=None):
        """([(key, value, mod_revision, create_revision)], header revision)."""
        d = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(prefix_end(prefix))}, timeout=timeout)
        out = []
        for kv in d.get("kvs") or []:
            out.append((unb64(kv["key"]).decode(), unb64(kv.get("value")), int(kv.get("mod_revision", 0)),
                        int(kv.get("create_revision", 0))))
        return out, int(d.get("header", {}).get("revision", 0))

    def put(self, key, value):
        d = self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(d["header"]["revision"])

    def create(self, key, value):
        """Put only if the key does not exist. Returns the new revision, or None if it exists."""
        d = self.call("/v3/kv/txn", {
            "compare": [{"key": b64(key), "target": "CREATE", "create_revision": "0", "result": "EQUAL"}],
            "success": [{"request_put": {"key": b64(key), "value": b64(value)}}],
        })
        return int(d["header"]["revision"]) if d.get("succeeded") else None

    def cas(self, key, value, mod_revision):
        """Put only if the key's mod_revision is as given. Returns the new revision, or None."""
        d = self.call("/v3/kv/txn", {
            "compare": [{"key": b64(key), "target": "MOD", "mod_revision": str(mod_revision), "result": "EQUAL"}],
            "success": [{"request_put": {"key": b64(key), "value": b64(value)}}],
        })
        return int(d["header"]["revision"]) if d.get("succeeded") else None

    def delete(self, key, mod_revision=None):
        """Delete (only if at mod_revision when given). Returns the revision, or None if nothing was deleted."""
        if mod_revision is None:
            d = self.call("/v3/kv/deleterange", {"key": b64(key)})
            return int(d["header"]["revision"]) if int(d.get("deleted", 0)) else None
        d = self.call("/v3/kv/txn", {
            "compare": [{"key": b64(key), "target": "MOD", "mod_revision": str(mod_revision), "result": "EQUAL"}],
            "success": [{"request_delete_range": {"key": b64(key)}}],
        })
        return int(d["header"]["revision"]) if d.get("succeeded") else None

    def watch(self, prefix, start_revision, deadline, stop=None):
        """Yields etcd watch events [(type 'PUT'|'DELETE', key, value, mod_revision, create_revision,
        prev_value)] for keys under prefix from start_revision until time.time() > deadline.
        Raises EtcdError(410) when start_revision was compacted."""
        import time
        ep = self.endpoints[self._preferred % len(self.endpoints)]
        u = urllib.parse.urlsplit(ep)
        if u.scheme == "https":
            c = http.client.HTTPSConnection(u.hostname, u.port or 2379, timeout=self.timeout, context=self.ctx)
        else:
            c = http.client.HTTPConnection(u.hostname, u.port or 2379, timeout=self.timeout)
        if self.netns:
            c.connect = _netns_connect(c, self.netns, self.ctx if u.scheme == "https" else None)
        import socket
        import threading

        def end():
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass
        timer = threading.Timer(max(0.0, deadline - time.time()), end)
        timer.daemon = True
        timer.start()
        try:
            c.request("POST", "/v3/watch", body=json.dumps({"create_request": {
                "key": b64(prefix), "range_end": b64(prefix_end(prefix)), "start_revision": str(start_revision),
                "prev_kv": True}}), headers={"Content-Type": "application/json"})
            r = c.getresponse()
            if r.status != 200:
                raise EtcdError(r.status, r.read().decode(errors="replace"))
            c.sock.settimeout(None)
            buf = b""
            while time.time() < deadline and not (stop and stop()):
                try:
                    chunk = r.read1(65536)
                except (OSError, ValueError, http.client.HTTPException):
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    msg = json.loads(line).get("result") or {}
                    if int(msg.get("compact_revision", 0) or 0):
                        raise EtcdError(410, "required revision has been compacted")
                    for ev in msg.get("events") or []:
                        kv = ev.get("kv") or {}
                        prev = ev.get("prev_kv") or {}
                        yield (ev.get("type", "PUT"), unb64(kv.get("key")).decode(), unb64(kv.get("value")),
                               int(kv.get("mod_revision", 0)), int(kv.get("create_revision", 0)),
                               unb64(prev.get("value")) if prev else None)
        finally:
            timer.cancel()
            c.close()

    # ---- cluster ----
    def members(self):
        return self.call("/v3/cluster/member/list", {}).get("members") or []

    def member_add(self, peer_urls, learner=False, timeout=15):
        return self.call("/v3/cluster/member/add", {"peerURLs": list(peer_urls), "isLearner": learner}, timeout=timeout)

    def member_promote(self, member_id, timeout=15):
        return self.call("/v3/cluster/member/promote", {"ID": str(member_id)}, timeout=timeout)

    def member_remove(self, member_id, timeout=15):
        return self.call("/v3/cluster/member/remove", {"ID": str(member_id)}, timeout=timeout)

    def status(self):
        return self.call("/v3/maintenance/status", {})

    def close(self):
        for c in (getattr(self._local, "conns", None) or {}).values():
            c.close()
