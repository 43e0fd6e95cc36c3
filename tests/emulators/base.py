# SPDX-License-Identifier: Apache-2.0
"""Shared plumbing for the metadata-service emulators: a threaded HTTP server on loopback (IPv4 or IPv6)
that records every request, can answer slowly, and is stopped by the test that started it."""
import http.server
import socket
import socketserver
import threading
import time
import urllib.parse


class Recorded:
    def __init__(self, method, path, headers):
        self.method = method
        self.path = path
        self.headers = headers

    def __repr__(self):
        return f"{self.method} {self.path}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading (a size cap): its business

    def _dispatch(self):
        em = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        self.url_path = url.path
        self.query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        with em.lock:
            em.requests.append(Recorded(self.command, self.path, dict(self.headers)))
        if em.delay:
            time.sleep(em.delay)
        em.handle(self)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = _dispatch


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class Emulator:
    """Subclasses implement handle(handler). start() binds a free loopback port; url is the base URL."""

    def __init__(self, ipv6=False):
        self.ipv6 = ipv6
        self.requests = []
        self.lock = threading.Lock()
        self.delay = 0
        self.httpd = None
        self.thread = None

    def start(self, host=None, port=0):
        """Binds loopback on a free port, or host:port (a simulated cloud's addresses, tests/sim)."""
        cls = _Server6 if self.ipv6 else _Server
        self.httpd = cls((host or ("::1" if self.ipv6 else "127.0.0.1"), port), Handler)
        self.httpd.emulator = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def url(self):
        host = self.httpd.server_address[0]
        return f"http://[{host}]:{self.port}" if self.ipv6 else f"http://{host}:{self.port}"

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.httpd = None

    def handle(self, h):
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
