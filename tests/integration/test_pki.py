# SPDX-License-Identifier: Apache-2.0
"""kube-firstboot pki: the output checked with independent tools (openssl CLI, kubectl,
python3-cryptography's AESGCM, Python's hmac), never with our own code."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import types

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "lib"))
from httpservers import TestHTTPSServer  # noqa: E402

KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
PKI = "etc/kubernetes/pki"

INIT = """apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: {node}
localAPIEndpoint:
  advertiseAddress: {addr}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
controlPlaneEndpoint: {cpe}
networking:
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [{sans}]
etcd:
  {etcd}
encryptionAlgorithm: {alg}
"""

JOIN = """apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  name: cp-2
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 127.0.0.2
discovery:
  bootstrapToken:
    token: abcdef.0123456789abcdef
    apiServerEndpoint: 127.0.0.1:6443
    unsafeSkipCAVerification: true
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
controlPlaneEndpoint: api.example.test
encryptionAlgorithm: ECDSA-P256
"""


def openssl(*args, input=None, check=True):
    p = subprocess.run(["openssl", *args], capture_output=True, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"openssl {args}: {p.stderr.decode()}")
    return p


def write_config(tmp_path, node="cp-1", addr="127.0.0.1", cpe="api.example.test", sans="10.0.0.5, lb.example.test",
                 etcd="local: {serverCertSANs: [etcd.example.test], peerCertSANs: [peer.example.test]}",
                 alg="ECDSA-P256", name="kubeadm.yaml"):
    path = tmp_path / name
    path.write_text(INIT.format(node=node, addr=addr, cpe=cpe, sans=sans, etcd=etcd, alg=alg))
    return path


def certs(kf, cfg, root, *extra):
    p = kf("pki", "certs", "--config", cfg, *extra, root=root)
    assert p.returncode == 0, p.stderr
    return {line.split()[1]: line.split()[0] for line in p.stdout.splitlines() if len(line.split()) >= 3}


def sans(path):
    out = openssl("x509", "-in", path, "-noout", "-ext", "subjectAltName").stdout.decode()
    return [s.strip() for s in out.splitlines()[1].split(",")]


def pubkey_of_cert(path):
    return openssl("x509", "-in", path, "-noout", "-pubkey").stdout


def pubkey_of_key(path):
    return openssl("pkey", "-in", path, "-pubout").stdout


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def init_root(kf, tmp_path):
    root = tmp_path / "root"
    cfg = write_config(tmp_path)
    actions = certs(kf, cfg, root)
    return types.SimpleNamespace(root=root, pki=root / PKI, kube=root / "etc/kubernetes", cfg=cfg, actions=actions)


def test_init_node_set_verifies_with_openssl(init_root):
    d = init_root.pki
    assert set(init_root.actions.values()) == {"created"}
    assert len(init_root.actions) == 16

    # Each leaf chains to its own CA, for its own purpose, and not for the other one.
    chains = [
        ("ca.crt", "apiserver.crt", ["sslserver"], ["sslclient"]),
        ("ca.crt", "apiserver-kubelet-client.crt", ["sslclient"], ["sslserver"]),
        ("front-proxy-ca.crt", "front-proxy-client.crt", ["sslclient"], ["sslserver"]),
        ("etcd/ca.crt", "etcd/server.crt", ["sslserver", "sslclient"], []),
        ("etcd/ca.crt", "etcd/peer.crt", ["sslserver", "sslclient"], []),
        ("etcd/ca.crt", "etcd/healthcheck-client.crt", ["sslclient"], ["sslserver"]),
        ("etcd/ca.crt", "apiserver-etcd-client.crt", ["sslclient"], ["sslserver"]),
    ]
    for ca, leaf, good, bad in chains:
        for purpose in good:
            p = openssl("verify", "-CAfile", d / ca, "-purpose", purpose, d / leaf, check=False)
            assert p.returncode == 0, (leaf, purpose, p.stderr)
        for purpose in bad:
            p = openssl("verify", "-CAfile", d / ca, "-purpose", purpose, d / leaf, check=False)
            assert p.returncode != 0, (leaf, purpose)
        # ... and not to another CA
        other = "front-proxy-ca.crt" if ca != "front-proxy-ca.crt" else "ca.crt"
        assert openssl("verify", "-CAfile", d / other, d / leaf, check=False).returncode != 0
        assert pubkey_of_cert(d / leaf) == pubkey_of_key(d / leaf.replace(".crt", ".key"))
        assert mode(d / leaf) == 0o644 and mode(d / leaf.replace(".crt", ".key")) == 0o600

    assert sans(d / "apiserver.crt") == [
        "DNS:api.example.test", "DNS:cp-1", "DNS:kubernetes", "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local", "DNS:lb.example.test",
        "IP Address:10.96.0.1", "IP Address:127.0.0.1", "IP Address:10.0.0.5"]
    assert sans(d / "etcd/server.crt") == [
        "DNS:cp-1", "DNS:etcd.example.test", "DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"]
    assert sans(d / "etcd/peer.crt") == [
        "DNS:cp-1", "DNS:localhost", "DNS:peer.example.test", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"]
    assert sans(d / "ca.crt") == ["DNS:kubernetes"]

    subjects = {
        "ca.crt": "CN=kubernetes", "apiserver.crt": "CN=kube-apiserver",
        # No Organization since kubernetes#138957 (backported to every branch we set up).
        "apiserver-kubelet-client.crt": "CN=kube-apiserver-kubelet-client",
        "front-proxy-ca.crt": "CN=front-proxy-ca", "front-proxy-client.crt": "CN=front-proxy-client",
        "etcd/ca.crt": "CN=etcd-ca", "etcd/server.crt": "CN=cp-1", "etcd/peer.crt": "CN=cp-1",
        "etcd/healthcheck-client.crt": "CN=kube-etcd-healthcheck-client",
        "apiserver-etcd-client.crt": "CN=kube-apiserver-etcd-client",
    }
    for f, subj in subjects.items():
        out = openssl("x509", "-in", d / f, "-noout", "-subject", "-nameopt", "RFC2253").stdout.decode().strip()
        assert out == "subject=" + subj, f

    text = openssl("x509", "-in", d / "ca.crt", "-noout", "-text").stdout.decode()
    assert "CA:TRUE" in text and "Certificate Sign" in text and "Subject Key Identifier" in text
    text = openssl("x509", "-in", d / "apiserver.crt", "-noout", "-text").stdout.decode()
    assert "CA:FALSE" in text and "Authority Key Identifier" in text and "ecdsa-with-SHA256" in text
    assert "Digital Signature, Key Encipherment" in text
    assert (d / "ca.key").read_text().startswith("-----BEGIN EC PRIVATE KEY-----\n")
    # sa: a key pair, sa.pub PKIX
    assert (d / "sa.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert openssl("pkey", "-in", d / "sa.pub", "-pubin").stdout == pubkey_of_key(d / "sa.key")


def test_rsa_default_and_validity(kf, tmp_path):
    root = tmp_path / "root"
    cfg = tmp_path / "k.yaml"
    cfg.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration: {name: n1}\n"
                   "localAPIEndpoint: {advertiseAddress: 10.0.0.1}\n---\napiVersion: kubeadm.k8s.io/v1beta4\n"
                   "kind: ClusterConfiguration\netcd: {external: {endpoints: [https://10.0.0.9:2379]}}\n"
                   "certificateValidityPeriod: 48h\n")
    actions = certs(kf, cfg, root)
    assert "etcd-ca" not in actions and "apiserver-etcd-client" not in actions
    assert not (root / PKI / "etcd").exists()
    d = root / PKI
    assert (d / "apiserver.key").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    text = openssl("x509", "-in", d / "apiserver.crt", "-noout", "-text").stdout.decode()
    assert "sha256WithRSAEncryption" in text and "Public-Key: (2048 bit)" in text
    assert openssl("verify", "-CAfile", d / "ca.crt", "-purpose", "sslserver", d / "apiserver.crt").returncode == 0
    # 48h leaf, 10 years CA: checkend says so
    assert openssl("x509", "-in", d / "apiserver.crt", "-noout", "-checkend", str(47 * 3600), check=False).returncode == 0
    assert openssl("x509", "-in", d / "apiserver.crt", "-noout", "-checkend", str(49 * 3600), check=False).returncode != 0
    assert openssl("x509", "-in", d / "ca.crt", "-noout", "-checkend", str(9 * 365 * 86400), check=False).returncode == 0


def test_kubeconfigs_work_with_kubectl(init_root, tmp_path):
    kube = init_root.kube
    for f in ["admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"]:
        assert mode(kube / f) == 0o600
    cache = str(tmp_path / "kcache")

    def kubectl(conf, *args):
        return subprocess.run(["kubectl", "--kubeconfig", str(kube / conf), "--cache-dir", cache, *args],
                              capture_output=True, text=True, timeout=60)

    want = {
        "admin.conf": ("https://api.example.test:6443", "kubernetes-admin"),
        "super-admin.conf": ("https://api.example.test:6443", "kubernetes-super-admin"),
        "kubelet.conf": ("https://127.0.0.1:6443", "system:node:cp-1"),
        "controller-manager.conf": ("https://127.0.0.1:6443", "system:kube-controller-manager"),
        "scheduler.conf": ("https://127.0.0.1:6443", "system:kube-scheduler"),
    }
    for conf, (server, user) in want.items():
        p = kubectl(conf, "config", "view", "--raw", "-o",
                    "jsonpath={.clusters[0].cluster.server} {.current-context} {.users[0].name}")
        assert p.returncode == 0, p.stderr
        assert p.stdout == f"{server} {user}@kubernetes {user}"
        p = kubectl(conf, "config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}")
        assert base64.b64decode(p.stdout) == (init_root.pki / "ca.crt").read_bytes()

    # A TLS server with our apiserver certificate that requires a client certificate from our CA.
    ours = types.SimpleNamespace(server_cert=str(init_root.pki / "apiserver.crt"),
                                 server_key=str(init_root.pki / "apiserver.key"),
                                 ca_cert=str(init_root.pki / "ca.crt"))
    srv = TestHTTPSServer(ours, require_client_cert=True).start()
    try:
        for conf, (_, user) in want.items():
            # kubectl checks the server certificate against our CA and the IP SAN 127.0.0.1.
            p = kubectl(conf, "--server", f"https://127.0.0.1:{srv.port}", "get", "--raw", "/whoami")
            assert p.returncode == 0, p.stderr
            assert p.stdout == user
    finally:
        srv.stop()


def test_rerun_is_a_noop_and_wrong_sans_are_replaced(kf, init_root, tmp_path):
    before = {p: p.read_bytes() for p in init_root.root.rglob("*") if p.is_file()}
    again = certs(kf, init_root.cfg, init_root.root)
    assert set(again.values()) == {"kept"} and len(again) == 16
    assert {p: p.read_bytes() for p in init_root.root.rglob("*") if p.is_file()} == before

    cfg = write_config(tmp_path, sans="10.0.0.5, lb.example.test, 10.0.0.77", name="more.yaml")
    third = certs(kf, cfg, init_root.root)
    assert third["apiserver"] == "replaced"
    assert all(v == "kept" for k, v in third.items() if k != "apiserver")
    assert "IP Address:10.0.0.77" in sans(init_root.pki / "apiserver.crt")
    assert (init_root.pki / "ca.crt").read_bytes() == before[init_root.pki / "ca.crt"]
    assert openssl("verify", "-CAfile", init_root.pki / "ca.crt", init_root.pki / "apiserver.crt").returncode == 0

    # A leaf signed by someone else (the openssl CLI here) is replaced too.
    d = init_root.pki
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=front-proxy-client", "-keyout", d / "front-proxy-client.key", "-out",
            d / "front-proxy-client.crt")
    fourth = certs(kf, cfg, init_root.root)
    assert fourth["front-proxy-client"] == "replaced"
    assert openssl("verify", "-CAfile", d / "front-proxy-ca.crt", d / "front-proxy-client.crt").returncode == 0


def test_user_ca_is_kept(kf, tmp_path):
    root = tmp_path / "root"
    d = root / PKI
    d.mkdir(parents=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=corp-root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,digitalSignature",
            "-keyout", d / "ca.key", "-out", d / "ca.crt")
    ca = (d / "ca.crt").read_bytes()
    actions = certs(kf, write_config(tmp_path), root)
    assert actions["ca"] == "kept" and actions["front-proxy-ca"] == "created"
    assert (d / "ca.crt").read_bytes() == ca
    assert openssl("verify", "-CAfile", d / "ca.crt", "-purpose", "sslserver", d / "apiserver.crt").returncode == 0
    # Not a CA: refused, and left alone.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=leaf", "-addext", "basicConstraints=critical,CA:FALSE",
            "-keyout", d / "front-proxy-ca.key", "-out", d / "front-proxy-ca.crt")
    leaf = (d / "front-proxy-ca.crt").read_bytes()
    p = kf("pki", "certs", "--config", write_config(tmp_path), root=root)
    assert p.returncode == 1 and "not a CA" in p.stderr
    assert (d / "front-proxy-ca.crt").read_bytes() == leaf


def test_ca_hash_matches_openssl(kf, init_root):
    ca = init_root.pki / "ca.crt"
    der = openssl("pkey", "-pubin", "-outform", "der", input=pubkey_of_cert(ca)).stdout
    p = kf("pki", "ca-hash", ca, check_rc=0)
    assert p.stdout.strip() == "sha256:" + hashlib.sha256(der).hexdigest()
    assert kf("pki", "ca-hash", init_root.cfg).returncode == 2


def test_certificate_key_and_token(kf):
    keys = {kf("pki", "certificate-key", check_rc=0).stdout.strip() for _ in range(3)}
    assert len(keys) == 3
    for k in keys:
        assert len(k) == 64 and bytes.fromhex(k)
    import re
    for _ in range(3):
        assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}\n", kf("pki", "token", check_rc=0).stdout)


def test_encrypt_certs_opens_with_python_aesgcm(kf, init_root):
    p = kf("pki", "encrypt-certs", "--certificate-key", KEY_HEX, root=init_root.root, check_rc=0)
    secret = json.loads(p.stdout)
    assert secret["kind"] == "Secret" and secret["metadata"] == {"name": "kubeadm-certs", "namespace": "kube-system"}
    files = {"ca.crt": "ca.crt", "ca.key": "ca.key", "front-proxy-ca.crt": "front-proxy-ca.crt",
             "front-proxy-ca.key": "front-proxy-ca.key", "sa.pub": "sa.pub", "sa.key": "sa.key",
             "etcd-ca.crt": "etcd/ca.crt", "etcd-ca.key": "etcd/ca.key"}
    assert set(secret["data"]) == set(files)
    aes = AESGCM(bytes.fromhex(KEY_HEX))
    for name, path in files.items():
        raw = base64.b64decode(secret["data"][name])
        assert aes.decrypt(raw[:12], raw[12:], None) == (init_root.pki / path).read_bytes(), name
    # The key can come from a file as well; each run seals with fresh nonces.
    kfile = init_root.root / "key.txt"
    kfile.write_text(KEY_HEX.upper() + "\n")
    p2 = kf("pki", "encrypt-certs", "--certificate-key-file", kfile, root=init_root.root, check_rc=0)
    assert json.loads(p2.stdout)["data"]["ca.crt"] != secret["data"]["ca.crt"]
    assert kf("pki", "encrypt-certs", "--certificate-key", "abcd", root=init_root.root).returncode == 2


def python_secret(files, key_hex=KEY_HEX):
    aes = AESGCM(bytes.fromhex(key_hex))
    data = {}
    for name, content in files.items():
        nonce = os.urandom(12)
        data[name] = base64.b64encode(nonce + aes.encrypt(nonce, content, None)).decode() if content else ""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "kubeadm-certs", "namespace": "kube-system", "uid": "x"}, "data": data}


def test_decrypt_certs_of_a_python_secret(kf, init_root, tmp_path):
    src = init_root.pki
    files = {"ca.crt": src / "ca.crt", "ca.key": src / "ca.key", "front-proxy-ca.crt": src / "front-proxy-ca.crt",
             "front-proxy-ca.key": src / "front-proxy-ca.key", "sa.pub": src / "sa.pub", "sa.key": src / "sa.key",
             "etcd-ca.crt": src / "etcd/ca.crt", "etcd-ca.key": src / "etcd/ca.key"}
    secret = python_secret({k: v.read_bytes() for k, v in files.items()})
    sfile = tmp_path / "secret.json"
    sfile.write_text(json.dumps(secret))
    root = tmp_path / "joiner"
    p = kf("pki", "decrypt-certs", "--certificate-key", KEY_HEX, "--secret", sfile, root=root, check_rc=0)
    assert len(p.stdout.splitlines()) == 8
    for name, path in files.items():
        out = root / path.relative_to(init_root.root)
        assert out.read_bytes() == path.read_bytes(), name
        # kubeadm's download-certs asks keyutil.ParsePublicKeysPEM first, which takes RSA/ECDSA keys,
        # public keys and certificates alike, and writes them with keyutil.WriteKey: all 0600.
        assert mode(out) == 0o600, name


def test_decrypt_certs_writes_nothing_on_failure(kf, init_root, tmp_path):
    secret = json.loads(kf("pki", "encrypt-certs", "--certificate-key", KEY_HEX, root=init_root.root,
                           check_rc=0).stdout)
    sfile = tmp_path / "s.json"

    def attempt(sec, key=KEY_HEX):
        sfile.write_text(json.dumps(sec))
        root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
        root.mkdir()
        p = kf("pki", "decrypt-certs", "--certificate-key", key, "--secret", sfile, root=root)
        return p, list(root.rglob("*"))

    p, written = attempt(secret, key="ff" * 32)
    assert p.returncode == 1 and "does not decrypt" in p.stderr and written == []

    # One byte flipped in the last entry: the earlier, good entries are not written either.
    t = json.loads(json.dumps(secret))
    raw = bytearray(base64.b64decode(t["data"]["etcd-ca.key"]))
    raw[20] ^= 1
    t["data"]["etcd-ca.key"] = base64.b64encode(bytes(raw)).decode()
    p, written = attempt(t)
    assert p.returncode == 1 and "etcd-ca.key" in p.stderr and written == []

    t = json.loads(json.dumps(secret))
    del t["data"]["sa.key"]
    p, written = attempt(t)
    assert p.returncode == 1 and "sa.key" in p.stderr and written == []

    # Right key, but plaintext that is neither a key nor certificates.
    t = python_secret({"ca.crt": b"hello"})
    p, written = attempt(t)
    assert p.returncode == 1 and written == []

    p, written = attempt({"not": "a secret"})
    assert p.returncode == 1 and "not a Secret" in p.stderr and written == []


def test_control_plane_join_flow(kf, init_root, tmp_path):
    """init node -> encrypt-certs -> joiner: decrypt-certs, then pki certs for its role."""
    secret = tmp_path / "s.json"
    secret.write_text(kf("pki", "encrypt-certs", "--certificate-key", KEY_HEX, root=init_root.root,
                         check_rc=0).stdout)
    joiner = tmp_path / "joiner"
    cfg = tmp_path / "join.yaml"
    cfg.write_text(JOIN)
    p = kf("pki", "certs", "--config", cfg, root=joiner)
    assert p.returncode == 1 and "decrypt-certs" in p.stderr  # never makes its own CA
    assert not (joiner / PKI / "ca.crt").exists()
    kf("pki", "decrypt-certs", "--certificate-key", KEY_HEX, "--secret", secret, root=joiner, check_rc=0)
    actions = certs(kf, cfg, joiner)
    assert actions["ca"] == "kept" and actions["sa"] == "kept" and actions["apiserver"] == "created"
    assert "super-admin.conf" not in actions and "kubelet.conf" not in actions
    assert sorted(f.name for f in (joiner / "etc/kubernetes").glob("*.conf")) == [
        "admin.conf", "controller-manager.conf", "scheduler.conf"]
    d = joiner / PKI
    assert openssl("verify", "-CAfile", init_root.pki / "ca.crt", d / "apiserver.crt").returncode == 0
    assert "IP Address:127.0.0.2" in sans(d / "apiserver.crt")
    assert sans(d / "etcd/peer.crt")[0] == "DNS:cp-2"
    # --role worker: nothing to do
    p = kf("pki", "certs", "--config", cfg, "--role", "worker", root=tmp_path / "w", check_rc=0)
    assert "nothing to write" in p.stdout


def test_jws_matches_python_hmac(kf, tmp_path):
    payload = tmp_path / "kubeconfig"
    payload.write_bytes(b"apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: \"\"\n")
    token = tmp_path / "token"
    token.write_text("07401b.f395accd246ae52d\n")
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    header = b64(b'{"alg":"HS256","kid":"07401b"}')
    assert header == "eyJhbGciOiJIUzI1NiIsImtpZCI6IjA3NDAxYiJ9"  # kubernetes' documented example
    sig = hmac.new(b"f395accd246ae52d", f"{header}.{b64(payload.read_bytes())}".encode(), hashlib.sha256).digest()
    want = f"{header}..{b64(sig)}"
    p = kf("pki", "jws", "--token-file", token, "--payload", payload, check_rc=0)
    assert p.stdout.strip() == want
    kf("pki", "jws", "--token-file", token, "--payload", payload, "--verify", want, check_rc=0)
    bad = want[:-2] + ("AA" if not want.endswith("AA") else "BB")
    assert kf("pki", "jws", "--token-file", token, "--payload", payload, "--verify", bad).returncode == 1


def test_check_lists_and_flags_problems(kf, init_root):
    p = kf("pki", "check", root=init_root.root, check_rc=0)
    lines = {line.split()[0]: line for line in p.stdout.splitlines()[1:]}
    assert len(lines) == 15
    assert " ok " in lines["apiserver"] and "kube-apiserver" in lines["apiserver"]
    assert "system:node:cp-1" in lines["kubelet.conf"]
    shutil.copy(init_root.pki / "front-proxy-client.key", init_root.pki / "apiserver.key")
    p = kf("pki", "check", root=init_root.root)
    assert p.returncode == 1
    assert "BAD" in [line for line in p.stdout.splitlines() if line.startswith("apiserver ")][0]
    p = kf("pki", "check", root=init_root.root / "empty", check_rc=0)
    assert p.stdout.count("absent") == 15


def test_external_etcd_files_travel(kf, tmp_path):
    root = tmp_path / "root"
    ext = root / "etc/etcd"
    ext.mkdir(parents=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=etcd-client", "-keyout", ext / "client.key", "-out", ext / "client.crt")
    shutil.copy(ext / "client.crt", ext / "ca.crt")
    cfg = write_config(tmp_path, etcd="external: {endpoints: [https://10.0.0.9:2379], caFile: /etc/etcd/ca.crt, "
                                      "certFile: /etc/etcd/client.crt, keyFile: /etc/etcd/client.key}")
    certs(kf, cfg, root)
    p = kf("pki", "encrypt-certs", "--certificate-key", KEY_HEX, "--config", cfg, "--external-etcd", root=root,
           check_rc=0)
    data = json.loads(p.stdout)["data"]
    assert set(data) == {"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key",
                         "external-etcd-ca.crt", "external-etcd.crt", "external-etcd.key"}
    sfile = tmp_path / "s.json"
    sfile.write_text(p.stdout)
    joiner = tmp_path / "joiner"
    assert kf("pki", "decrypt-certs", "--certificate-key", KEY_HEX, "--secret", sfile, root=joiner).returncode == 2
    kf("pki", "decrypt-certs", "--certificate-key", KEY_HEX, "--secret", sfile, "--config", cfg, root=joiner,
       check_rc=0)
    assert (joiner / "etc/etcd/client.key").read_bytes() == (ext / "client.key").read_bytes()
    assert mode(joiner / "etc/etcd/client.key") == 0o600


@pytest.mark.parametrize("sub", ["certs", "ca-hash", "certificate-key", "token", "encrypt-certs", "decrypt-certs",
                                 "check", "jws"])
def test_help(kf, sub):
    p = kf("pki", sub, "--help", check_rc=0)
    assert p.stdout.startswith("Usage: kube-firstboot pki " + sub)
    assert "Exit codes:" in p.stdout


def test_usage_errors(kf, tmp_path):
    assert kf("pki").returncode == 2
    assert kf("pki", "bogus").returncode == 2
    assert kf("pki", "certs").returncode == 2
    assert kf("pki", "certs", "--config", tmp_path / "missing.yaml").returncode == 2
    assert kf("pki", "token", "extra").returncode == 2


def test_static_binary(kf, tmp_path):
    """The same PKI from the static release binary, when it is built ('make static'): no run-time
    dependency of OpenSSL's (providers, config) may be missing from it."""
    static = os.path.join(os.environ.get("KF_BUILD", "build"), "static", "kube-firstboot")
    if not os.access(static, os.X_OK):
        pytest.skip(f"{static} is not built ('make static')")
    root = tmp_path / "root"
    cfg = write_config(tmp_path, alg="RSA-2048")
    p = subprocess.run([static, "pki", "certs", "--config", str(cfg), "--root", str(root)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d = root / PKI
    assert openssl("verify", "-CAfile", d / "ca.crt", "-purpose", "sslserver", d / "apiserver.crt").returncode == 0
    assert openssl("verify", "-CAfile", d / "etcd/ca.crt", "-purpose", "sslclient",
                   d / "apiserver-etcd-client.crt").returncode == 0
    p = subprocess.run([static, "pki", "encrypt-certs", "--certificate-key", KEY_HEX, "--root", str(root)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    raw = base64.b64decode(json.loads(p.stdout)["data"]["ca.key"])
    assert AESGCM(bytes.fromhex(KEY_HEX)).decrypt(raw[:12], raw[12:], None) == (d / "ca.key").read_bytes()


def test_ca_given_in_configuration(kf, tmp_path):
    """FirstbootConfiguration.ca: the certificate inline, the key from a node file: written as the cluster CA
    when none is on disk, then used like any CA on disk."""
    src = tmp_path / "src"
    src.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
            "-subj", "/CN=given-ca", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,digitalSignature", "-keyout", src / "ca.key", "-out",
            src / "ca.crt")
    root = tmp_path / "root"
    (root / "secrets").mkdir(parents=True)
    shutil.copy(src / "ca.key", root / "secrets/ca.key")
    cert = (src / "ca.crt").read_text()
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text() + "---\napiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                   "ca:\n  cert: |\n" + "".join("    " + line + "\n" for line in cert.splitlines()) +
                   "  keyFile: /secrets/ca.key\n")
    p = kf("pki", "certs", "--config", cfg, root=root, check_rc=0)
    assert "from the configuration" in [line for line in p.stdout.splitlines() if line.split()[1] == "ca"][0]
    d = root / PKI
    assert (d / "ca.crt").read_text() == cert
    assert pubkey_of_key(d / "ca.key") == pubkey_of_key(src / "ca.key")
    assert openssl("verify", "-CAfile", src / "ca.crt", "-purpose", "sslserver", d / "apiserver.crt").returncode == 0
    again = certs(kf, cfg, root)
    assert set(again.values()) == {"kept"}


def test_dry_run_writes_nothing(kf, tmp_path):
    root = tmp_path / "root"
    cfg = write_config(tmp_path, alg="RSA-4096")  # would take seconds per key: a dry run makes none
    p = kf("pki", "certs", "--config", cfg, "--dry-run", root=root, timeout=10, check_rc=0)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("dry run:")
    assert len(lines) == 17 and all(line.startswith("created ") for line in lines[1:])
    assert not root.exists()
