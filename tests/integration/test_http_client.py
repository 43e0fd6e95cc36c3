# SPDX-License-Identifier: Apache-2.0
"""The HTTP client (common/http.c) against real TLS servers on loopback, through `kube-firstboot http-get`."""
import pytest


def test_verified_tls_with_ca_in_memory(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/ok"), "--cacert", pki.ca_cert, check_rc=0)
    assert p.stdout.splitlines() == ["status 200", "ok"]


def test_ipv6_literal(kf, pki, https_server):
    s = https_server(host="::1")
    p = kf("http-get", s.url("/ok"), "--cacert", pki.ca_cert, check_rc=0)
    assert p.stdout.startswith("status 200")


def test_wrong_ca_is_refused(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/ok"), "--cacert", pki.other_ca_cert)
    assert p.returncode == 1
    assert "status" not in p.stdout
    assert "certificate" in p.stderr.lower()
    # No retry can make a wrong CA right: the server saw no request.
    assert s.httpd.requests == []


def test_only_the_given_ca_is_trusted_not_the_system_bundle(kf, pki, https_server):
    # A server whose name matches but whose CA is absent from --cacert: refused even with the
    # system bundle present on the machine.
    s = https_server()
    p = kf("http-get", s.url("/ok"), "--cacert", pki.other_ca_cert)
    assert p.returncode == 1


def test_hostname_mismatch_is_refused(kf, pki, https_server):
    # The server certificate is for 127.0.0.1, ::1 and localhost only.
    s = https_server(host="127.0.0.2")
    p = kf("http-get", s.url("/ok"), "--cacert", pki.ca_cert)
    assert p.returncode == 1
    assert "127.0.0.2" in p.stderr


def test_client_certificate_is_presented(kf, pki, https_server):
    s = https_server(require_client_cert=True)
    p = kf("http-get", s.url("/whoami"), "--cacert", pki.ca_cert, "--cert", pki.client_cert,
           "--key", pki.client_key, check_rc=0)
    assert p.stdout.splitlines()[1] == "kubernetes-admin"


def test_missing_client_certificate_fails_the_handshake(kf, pki, https_server):
    s = https_server(require_client_cert=True)
    p = kf("http-get", s.url("/whoami"), "--cacert", pki.ca_cert)
    assert p.returncode in (1, 3)
    assert "status" not in p.stdout


def test_retry_on_5xx_then_success(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/flaky/a/2/503"), "--cacert", pki.ca_cert, "--retries", "3", "-v", check_rc=0)
    assert p.stdout.splitlines() == ["status 200", "recovered"]
    assert len(s.httpd.requests) == 3
    assert "3 attempt(s)" in p.stderr


def test_no_retry_without_retries(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/flaky/b/1/502"), "--cacert", pki.ca_cert)
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == "status 502"
    assert len(s.httpd.requests) == 1


def test_retries_exhausted_returns_last_status(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/flaky/c/10/500"), "--cacert", pki.ca_cert, "--retries", "2")
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == "status 500"
    assert len(s.httpd.requests) == 3


def test_4xx_is_not_retried(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/status/404"), "--cacert", pki.ca_cert, "--retries", "3")
    assert p.returncode == 1
    assert len(s.httpd.requests) == 1


def test_retry_after_is_honoured(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/retry-after/d/1"), "--cacert", pki.ca_cert, "--retries", "1", check_rc=0)
    assert p.stdout.splitlines()[1] == "after"


def test_connection_reset_is_retried(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/reset/e/2"), "--cacert", pki.ca_cert, "--retries", "3", check_rc=0)
    assert p.stdout.splitlines()[1] == "recovered"
    assert len(s.httpd.requests) == 3


def test_connection_reset_without_retries_is_temporary(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/reset/f/5"), "--cacert", pki.ca_cert)
    assert p.returncode == 3


def test_timeout(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/slow/5"), "--cacert", pki.ca_cert, "--timeout", "1", timeout=30)
    assert p.returncode == 3
    assert "timed out" in p.stderr.lower() or "timeout" in p.stderr.lower()


def test_connection_refused_is_temporary(kf, pki):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    p = kf("http-get", f"https://127.0.0.1:{port}/", "--cacert", pki.ca_cert)
    assert p.returncode == 3


def test_closed_during_the_handshake_is_temporary(kf, pki):
    """A load balancer with no healthy backend accepts the connection and closes it during the TLS handshake
    (haproxy in TCP mode): a reset, retried, and exit 3 when it lasts (issue 21)."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port, accepted, stop = srv.getsockname()[1], [], threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            accepted.append(1)
            c.recv(512)  # the ClientHello
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        p = kf("http-get", f"https://127.0.0.1:{port}/", "--cacert", pki.ca_cert, "--retries", "2", "-v")
    finally:
        stop.set()
        t.join(5)
        srv.close()
    assert p.returncode == 3, p.stderr
    assert len(accepted) == 3, accepted  # retried as a reset


def test_body_cap(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/bytes/5000"), "--cacert", pki.ca_cert, "--max-bytes", "4999")
    assert p.returncode == 1
    assert "4999" in p.stderr
    assert "status" not in p.stdout
    p = kf("http-get", s.url("/bytes/5000"), "--cacert", pki.ca_cert, "--max-bytes", "5000", check_rc=0)
    assert len(p.stdout.splitlines()[1]) == 5000


def test_body_cap_on_a_body_without_content_length(kf, pki, https_server):
    # HEAD-less chunked answers are capped in the write callback: a 2 MiB body with the default cap.
    s = https_server()
    p = kf("http-get", s.url("/bytes/2097152"), "--cacert", pki.ca_cert)
    assert p.returncode == 1


def test_method_body_and_headers(kf, pki, https_server):
    s = https_server()
    p = kf("http-get", s.url("/echo"), "--cacert", pki.ca_cert, "--method", "PUT", "--data", "hello",
           "--header", "X-Test: 42", check_rc=0)
    assert p.stdout.splitlines()[1] == "PUT auth=no x-test=42 body=hello"


def test_plain_http_is_spoken(kf, pki, https_server):
    s = https_server(tls=False)
    kf("http-get", s.url("/ok"), check_rc=0)


def test_unsupported_scheme_is_refused(kf):
    p = kf("http-get", "file:///etc/passwd")
    assert p.returncode == 2  # a bad URL is bad usage (-EINVAL)
    assert "root:" not in p.stdout


@pytest.mark.parametrize("args", [[], ["a", "b"], ["https://x", "--timeout", "0"], ["https://x", "--retries", "x"],
                                  ["https://x", "--cert", "/nonexistent"], ["https://x", "--header", "nocolon"]])
def test_usage_errors_exit_2(kf, args):
    assert kf("http-get", *args).returncode == 2
