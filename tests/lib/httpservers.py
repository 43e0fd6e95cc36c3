# SPDX-License-Identifier: Apache-2.0
"""A real TLS server on loopback with the misbehaviours our HTTP client must survive.

Routes:
  /ok                     200 "ok"
  /status/<code>          that status
  /flaky/<key>/<n>/<code> <code> for the first n requests with that key, then 200 "recovered"
  /reset/<key>/<n>        drops the connection (RST) for the first n requests, then 200
  /slow/<seconds>         waits, then 200
  /bytes/<n>              a body of n bytes
  /whoami                 the client certificate's subject CN (or "anonymous")
  /echo                   the method, the Authorization header's presence and the request body
  /retry-after/<key>/<s>  first request: 503 with Retry-After: s; then 200
"""
import http.server
import socket
import ssl
import struct
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep pytest output clean
        pass

    def _send(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _count(self, key):
        with self.server.lock:
            n = self.server.counts.get(key, 0)
            self.server.counts[key] = n + 1
            return n

    def _route(self):
        parts = self.path.strip("/").split("/")
        self.server.requests.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts[0] == "ok":
            return self._send(200, b"ok")
        if parts[0] == "status":
            return self._send(int(parts[1]), b"status")
        if parts[0] == "flaky":
            key, n, code = parts[1], int(parts[2]), int(parts[3])
            if self._count(key) < n:
                return self._send(code, b"not yet")
            return self._send(200, b"recovered")
        if parts[0] == "reset":
            key, n = parts[1], int(parts[2])
            if self._count(key) < n:
                # SO_LINGER 0 makes close() send a RST: a connection reset, not a clean close.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            return self._send(200, b"recovered")
        if parts[0] == "slow":
            time.sleep(float(parts[1]))
            return self._send(200, b"slow")
        if parts[0] == "bytes":
            return self._send(200, b"x" * int(parts[1]))
        if parts[0] == "whoami":
            cert = self.connection.getpeercert()
            cn = "anonymous"
            if cert:
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
            return self._send(200, cn.encode())
        if parts[0] == "echo":
            auth = "auth=yes" if self.headers.get("Authorization") else "auth=no"
            extra = self.headers.get("X-Test", "")
            return self._send(200, f"{self.command} {auth} x-test={extra} body=".encode() + body)
        if parts[0] == "retry-after":
            key, secs = parts[1], parts[2]
            if self._count(key) == 0:
                return self._send(503, b"busy", {"Retry-After": secs})
            return self._send(200, b"after")
        return self._send(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, family):
        self.address_family = family
        super().__init__(addr, _Handler)
        self.lock = threading.Lock()
        self.counts = {}
        self.requests = []


class TestHTTPSServer:
    __test__ = False  # not a pytest class

    def __init__(self, pki, host="127.0.0.1", require_client_cert=False, tls=True):
        self.pki = pki
        self.host = host
        self.require_client_cert = require_client_cert
        self.tls = tls
        self.httpd = None
        self.thread = None

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.httpd = _Server((self.host, 0), family)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
            ctx.load_verify_locations(self.pki.ca_cert)
            ctx.verify_mode = ssl.CERT_REQUIRED if self.require_client_cert else ssl.CERT_OPTIONAL
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path="/"):
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.httpd = None
