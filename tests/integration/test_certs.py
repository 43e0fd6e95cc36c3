# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot certs check-expiration` against what `kubeadm certs check-expiration` prints, and the nearest
expiry that `refresh` records in status.json. The PKI is made by `kube-firstboot pki certs` and changed with
openssl; the clock is set with libfaketime so that the dates are those of a kubeadm transcript. Every expected
text is written out here from kubeadm's rules (cmd/kubeadm/app/cmd/certs.go certTextPrinter: tabwriter minwidth
10, padding 3; "%-8v" for the last column; HumanDuration; docs/design/self-healing.md §2.6), never taken from
our output."""
import glob
import http.server
import json
import os
import ssl
import subprocess
import threading

import pytest

PKI = "etc/kubernetes/pki"
MADE = "2025-08-19 09:03:30"     # the cluster of the transcript: leaves until Aug 19, 2026, CAs until Aug 17, 2035
CHECKED = "2025-08-24 09:03:00"  # five days later: 360d and 9y left

INIT = """apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: ECDSA-P256
{extra}
"""

# kubeadm 1.33-era, a cluster made Aug 19, 2025 09:03 UTC and read five days later (a third-party transcript of
# the real command, docs/design/self-healing.md §2.6), trailing blanks included.
TRANSCRIPT = """\
CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver                  Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
apiserver-kubelet-client   Aug 19, 2026 09:03 UTC   360d            ca                      no      
controller-manager.conf    Aug 19, 2026 09:03 UTC   360d            ca                      no      
etcd-healthcheck-client    Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-peer                  Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-server                Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
front-proxy-client         Aug 19, 2026 09:03 UTC   360d            front-proxy-ca          no      
scheduler.conf             Aug 19, 2026 09:03 UTC   360d            ca                      no      
super-admin.conf           Aug 19, 2026 09:03 UTC   360d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
"""

FETCHED = """\
[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...
[check-expiration] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.
"""
FALLBACK = "[check-expiration] Error reading configuration from the Cluster. Falling back to default configuration\n\n"


def faketime(when, frozen=False):
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libs:
        pytest.skip("libfaketime is not installed (package faketime)")
    # Frozen for making files (every notAfter the same second); ticking from `when` where a client talks to a
    # server, with the monotonic clock left alone so that timeouts still pass.
    return {"LD_PRELOAD": libs[0], "FAKETIME": when if frozen else "@" + when, "TZ": "UTC",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def make_pki(kf, tmp_path, extra="", name="root"):
    root = tmp_path / name
    cfg = tmp_path / (name + ".yaml")
    cfg.write_text(INIT.format(extra=extra))
    kf("pki", "certs", "--config", cfg, root=root, env=faketime(MADE, frozen=True), check_rc=0)
    return root, cfg


def check(kf, root, *args, when=CHECKED, rc=0):
    return kf("certs", "check-expiration", *args, root=root, env=faketime(when), check_rc=rc)


def openssl(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(["openssl", *[str(a) for a in args]], capture_output=True, text=True, env=e)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_init_node_prints_what_kubeadm_printed(kf, tmp_path):
    root, cfg = make_pki(kf, tmp_path)
    # No usable kubeconfig: kubeadm's defaults, and no "[check-expiration]" lines.
    p = check(kf, root, "--kubeconfig", "/nonexistent")
    assert p.stdout == TRANSCRIPT
    assert p.stderr == ""
    # --config: certificatesDir from the file, no lines either; -o text is the default.
    assert check(kf, root, "--config", cfg, "-o", "text").stdout == TRANSCRIPT


def test_joined_control_plane_with_external_ca_expired_and_missing(kf, tmp_path):
    """A control plane that joined (no super-admin.conf), the cluster CA's key kept elsewhere (kubeadm's external
    CA mode: every certificate the CA signs is 'yes'), an etcd certificate that expired, a missing one."""
    root, _ = make_pki(kf, tmp_path)
    d = root / PKI
    os.unlink(root / "etc/kubernetes/super-admin.conf")
    os.unlink(d / "ca.key")
    os.unlink(d / "front-proxy-client.crt")
    # Issued by the etcd CA on Aug 1, 2025 10:00 for ten days.
    csr = tmp_path / "hc.csr"
    openssl("req", "-new", "-key", d / "etcd/healthcheck-client.key", "-subj", "/CN=kube-etcd-healthcheck-client",
            "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", d / "etcd/ca.crt", "-CAkey", d / "etcd/ca.key", "-set_serial", "7",
            "-days", "10", "-out", d / "etcd/healthcheck-client.crt", env=faketime("2025-08-01 10:00:00", frozen=True))
    assert "notAfter=Aug 11 10:00:00 2025 GMT" in openssl("x509", "-in", d / "etcd/healthcheck-client.crt",
                                                         "-noout", "-enddate")

    # First column: "!MISSING! front-proxy-client" (28) + 3; the missing rows pad their empty cells out to the
    # end of the fourth column (31 + 25 + 16 + 24 = 96 characters).
    want = """\
CERTIFICATE                    EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                     Aug 19, 2026 09:03 UTC   360d            ca                      yes     
apiserver                      Aug 19, 2026 09:03 UTC   360d            ca                      yes     
apiserver-etcd-client          Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
apiserver-kubelet-client       Aug 19, 2026 09:03 UTC   360d            ca                      yes     
controller-manager.conf        Aug 19, 2026 09:03 UTC   360d            ca                      yes     
etcd-healthcheck-client        Aug 11, 2025 10:00 UTC   <invalid>       etcd-ca                 no      
etcd-peer                      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-server                    Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
!MISSING! front-proxy-client                                                                    
scheduler.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      yes     
!MISSING! super-admin.conf                                                                      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              yes     
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
"""
    p = check(kf, root, "--kubeconfig", "/nonexistent")
    assert p.stdout == want
    assert len(p.stdout.splitlines()[9]) == 96

    # A lost CA is a missing CA row (nothing it signs is there to be checked against it).
    for f in ("front-proxy-ca.crt", "front-proxy-ca.key"):
        os.unlink(d / f)
    p = check(kf, root, "--kubeconfig", "/nonexistent")
    assert p.stdout.endswith("""
CERTIFICATE AUTHORITY      EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                         Aug 17, 2035 09:03 UTC   9y              yes     
etcd-ca                    Aug 17, 2035 09:03 UTC   9y              no      
!MISSING! front-proxy-ca                                            
""")


def test_external_etcd_has_no_etcd_rows(kf, tmp_path):
    root, cfg = make_pki(kf, tmp_path, extra="etcd: {external: {endpoints: [https://10.0.0.9:2379]}}")
    want = """\
CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver                  Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver-kubelet-client   Aug 19, 2026 09:03 UTC   360d            ca                      no      
controller-manager.conf    Aug 19, 2026 09:03 UTC   360d            ca                      no      
front-proxy-client         Aug 19, 2026 09:03 UTC   360d            front-proxy-ca          no      
scheduler.conf             Aug 19, 2026 09:03 UTC   360d            ca                      no      
super-admin.conf           Aug 19, 2026 09:03 UTC   360d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
"""
    assert check(kf, root, "--config", cfg).stdout == want
    # Without the configuration the etcd rows are expected, and missing.
    p = check(kf, root, "--kubeconfig", "/nonexistent")
    assert "!MISSING! etcd-server" in p.stdout and "!MISSING! etcd-ca" in p.stdout


def test_residual_times_as_they_run_down(kf, tmp_path):
    root, _ = make_pki(kf, tmp_path)
    rows = lambda p: {l.split("   ")[0].strip(): l for l in p.stdout.splitlines()}  # noqa: E731
    # HumanDuration as the end comes nearer (the clock runs from `when`, so a fraction of a second has passed):
    # minutes below 3 hours, days below 2 years, years and days below 8 years; "0s" in the last second.
    for when, leaf, ca in [("2026-08-19 08:50:00", "13m", "9y"), ("2026-08-19 06:30:00", "153m", "9y"),
                           ("2026-08-15 09:00:00", "4d", "9y"), ("2026-08-19 09:10:00", "<invalid>", "8y"),
                           ("2028-08-20 00:00:00", "<invalid>", "6y363d"), ("2030-08-18 09:03:00", "<invalid>", "5y"),
                           ("2035-08-17 08:00:00", "<invalid>", "63m"), ("2035-08-17 09:03:29", "<invalid>", "0s")]:
        r = rows(check(kf, root, "--kubeconfig", "/nonexistent", when=when))
        assert f"   {leaf} " in r["apiserver"], (when, r["apiserver"])
        assert f"   {ca} " in r["ca"], (when, r["ca"])


def test_where_kubeadm_stops(kf, tmp_path):
    root, _ = make_pki(kf, tmp_path)
    d = root / PKI
    # External CA mode needs the apiserver's key to check the apiserver certificate against the CA.
    os.unlink(d / "ca.key")
    os.unlink(d / "apiserver.key")
    p = check(kf, root, "--kubeconfig", "/nonexistent", rc=1)
    assert p.stdout == ""
    assert "Error checking external CA condition for ca certificate authority: failure loading key for apiserver" \
        in p.stderr
    # A certificate that is not one.
    root, _ = make_pki(kf, tmp_path, name="root2")
    (root / PKI / "etcd/peer.crt").write_text("garbage\n")
    p = check(kf, root, "--kubeconfig", "/nonexistent", rc=1)
    assert "failed to load existing certificate etcd/peer" in p.stderr and p.stdout == ""


def test_options(kf, tmp_path):
    root, _ = make_pki(kf, tmp_path)
    p = kf("certs", "--help", check_rc=0)
    assert p.stdout.startswith("Usage: kube-firstboot certs") and "check-expiration" in p.stdout
    p = kf("certs", "check-expiration", "--help", check_rc=0)
    assert "!MISSING!" in p.stdout and "--cert-dir" in p.stdout and "kubeadm-config" in p.stdout
    assert "check-expiration" in kf("pki", "--help", check_rc=0).stdout
    assert kf("certs", "renew", "all").returncode == 2
    assert kf("certs").returncode == 2
    assert check(kf, root, "-o", "json", rc=4).stdout == ""
    assert check(kf, root, "--cert-dir", "relative", rc=2).stdout == ""
    # --cert-dir moves the certificates (not the kubeconfigs).
    os.rename(root / PKI, root / "srv-pki")
    p = check(kf, root, "--kubeconfig", "/nonexistent", "--cert-dir", "/srv-pki")
    assert p.stdout == TRANSCRIPT


class _KubeadmConfig(http.server.BaseHTTPRequestHandler):
    """GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config, as the apiserver answers it."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.server.cluster_configuration is None or \
                self.path != "/api/v1/namespaces/kube-system/configmaps/kubeadm-config":
            body, code = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}', 403
        else:
            body, code = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
                                     "data": {"ClusterConfiguration": self.server.cluster_configuration}}).encode(), 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def apiserver():
    """Starts the kubeadm-config server with a certificate and key (the node's own apiserver.crt: valid at the
    faked time, unlike the test PKI made today); stops it after the test."""
    servers = []

    def start(cert, key):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KubeadmConfig)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.paths, srv.cluster_configuration = [], None
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        servers.append((srv, t))
        return srv

    yield start
    for srv, t in servers:
        srv.shutdown()
        srv.server_close()
        t.join(timeout=5)


def point_admin_conf_at(root, srv):
    """admin.conf as 'pki certs' wrote it, with the server's port: /etc/kubernetes/test-admin.conf."""
    admin = (root / "etc/kubernetes/admin.conf").read_text()
    assert "server: https://127.0.0.1:6443\n" in admin
    (root / "etc/kubernetes/test-admin.conf").write_text(
        admin.replace("https://127.0.0.1:6443", f"https://127.0.0.1:{srv.server_address[1]}"))
    return "/etc/kubernetes/test-admin.conf"


def test_configuration_from_the_cluster(kf, tmp_path, apiserver):
    # The cluster keeps its certificates in /srv/kubernetes/pki: kubeadm-config says so.
    root, _ = make_pki(kf, tmp_path, extra="certificatesDir: /srv/kubernetes/pki")
    srv = apiserver(root / "srv/kubernetes/pki/apiserver.crt", root / "srv/kubernetes/pki/apiserver.key")
    kubeconfig = point_admin_conf_at(root, srv)
    srv.cluster_configuration = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n" \
                                "certificatesDir: /srv/kubernetes/pki\n"
    p = check(kf, root, "--kubeconfig", kubeconfig)
    assert p.stdout == FETCHED + "\n" + TRANSCRIPT
    assert srv.paths == ["/api/v1/namespaces/kube-system/configmaps/kubeadm-config"]

    # kubeadm-config unreadable: kubeadm's fallback line, then the defaults (/etc/kubernetes/pki: only the
    # kubeconfigs are there, and without ca.crt kubeadm stops at the first of them).
    srv.cluster_configuration = None
    p = check(kf, root, "--kubeconfig", kubeconfig, rc=1)
    assert p.stdout == FETCHED + FALLBACK
    assert "failure loading certificate for CA" in p.stderr
    # ... and with the certificates where the defaults look, the table after the fallback lines.
    assert not (root / PKI).exists()
    os.rename(root / "srv/kubernetes/pki", root / PKI)
    srv2 = apiserver(root / PKI / "apiserver.crt", root / PKI / "apiserver.key")
    kubeconfig = point_admin_conf_at(root, srv2)
    assert check(kf, root, "--kubeconfig", kubeconfig).stdout == FETCHED + FALLBACK + TRANSCRIPT
    assert len(srv2.paths) == 1


def test_refresh_records_the_nearest_expiry(kf, tmp_path):
    root, _ = make_pki(kf, tmp_path)
    status = root / "run/kube-firstboot/status.json"
    state = root / "var/lib/kube-firstboot"
    state.mkdir(parents=True)

    # Not set up by kube-firstboot (no done marker): nothing to record in.
    p = kf("refresh", "--no-metadata", "--kubeconfig", "/nonexistent", root=root)
    assert p.returncode == 1
    assert not status.exists()

    # Set up by an earlier boot whose /run is gone: the status file comes back, with the expiry, even though the
    # API cannot be reached.
    (state / "done").write_text("i-0123")
    (state / "journal.json").write_text('{"role": "init", "phases": {}}')
    p = kf("refresh", "--no-metadata", "--kubeconfig", "/nonexistent", root=root, env=faketime(CHECKED))
    assert p.returncode == 1
    doc = json.loads(status.read_text())
    assert doc["role"] == "init" and doc["result"] == "success"
    # Every leaf was made in the same (frozen) second: the first in kubeadm's order is named.
    assert doc["certificates"]["nearestExpiry"] == {"name": "admin.conf", "notAfter": "2026-08-19T09:03:30Z"}
    assert doc["certificates"]["nearestCAExpiry"] == {"name": "ca", "notAfter": "2035-08-17T09:03:30Z"}
    assert "Certificates: the first to expire is admin.conf, on Aug 19, 2026 09:03 UTC (360d left)." in p.stderr
    p = kf("status", root=root, check_rc=0)
    assert "expiry: admin.conf, 2026-08-19T09:03:30Z (the first certificate to expire)\n" in p.stdout

    # The run's own status file keeps what it said; a CA closer to its end than any leaf is named.
    status.write_text(json.dumps({"role": "control-plane", "phase": "mark-control-plane", "result": "success",
                                  "phases": [{"name": "preflight", "state": "done"}], "requests": {"api": 9}}))
    ca_key = root / PKI / "front-proxy-ca.key"
    openssl("req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=front-proxy-ca", "-days", "30",
            "-out", root / PKI / "front-proxy-ca.crt", env=faketime(MADE, frozen=True))
    p = kf("refresh", "--no-metadata", "--kubeconfig", "/nonexistent", root=root, env=faketime(CHECKED))
    assert "Certificates: the first to expire is front-proxy-ca, on Sep 18, 2025 09:03 UTC (25d left)." in p.stderr
    doc = json.loads(status.read_text())
    assert doc["role"] == "control-plane" and doc["requests"] == {"api": 9} and len(doc["phases"]) == 1
    assert doc["certificates"]["nearestExpiry"] == {"name": "front-proxy-ca", "notAfter": "2025-09-18T09:03:30Z"}
    assert doc["certificates"]["nearestCAExpiry"] == doc["certificates"]["nearestExpiry"]
