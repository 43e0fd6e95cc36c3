# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot discover` against the apiserver double with real etcd and the bootstrapsigner double
(tests/sim): token discovery as a joining node does it."""
import base64
import datetime
import hashlib
import os
import socket
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sim"))

from simlib.local import LocalCluster  # noqa: E402
from simlib.proc import wait_until  # noqa: E402

TOKEN_ID, TOKEN_SECRET = "disc01", "0123456789abcdef"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def token_secret(tid, secret, usages=("signing", "authentication"), ttl_hours=24):
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=ttl_hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    data = {"token-id": b64(tid), "token-secret": b64(secret), "expiration": b64(exp)}
    for u in usages:
        data["usage-bootstrap-" + u] = b64("true")
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": "bootstrap-token-" + tid, "namespace": "kube-system"}, "data": data}


def ca_hash(pem):
    cert = x509.load_pem_x509_certificate(pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    lc = LocalCluster(tmp_path_factory.mktemp("discover"))
    try:
        lc.start_etcd()
        url = lc.start_apiserver()
        lc.start_controller_manager(env={"KF_SIM_CONTROLLER_PERIOD": "0.3"})
        c = lc.admin()
        # What kubeadm's bootstrap-token phase creates: cluster-info and its anonymous RBAC.
        kc = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [
            {"name": "", "cluster": {"certificate-authority-data": base64.b64encode(lc.pki.ca_pem).decode(),
                                     "server": "https://cp.example:6443"}}],
            "contexts": None, "current-context": "", "preferences": {}, "users": None})
        c.create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}}, "kube-public")
        c.create("roles", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"},
                           "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                                      "resourceNames": ["cluster-info"]}]}, "kube-public",
                 group="rbac.authorization.k8s.io/v1")
        c.create("rolebindings", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"},
                                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": "kubeadm:bootstrap-signer-clusterinfo"},
                                  "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                                "name": "system:anonymous"}]}, "kube-public",
                 group="rbac.authorization.k8s.io/v1")
        c.create("secrets", token_secret(TOKEN_ID, TOKEN_SECRET), "kube-system")
        wait_until(lambda: "jws-kubeconfig-" + TOKEN_ID in
                   (c.get("configmaps", "cluster-info", "kube-public").get("data") or {}), 15,
                   what="the bootstrapsigner's signature")
        lc.endpoint = url.replace("https://", "")
        lc.hash = ca_hash(lc.pki.ca_pem)
        yield lc
    finally:
        lc.stop()


def test_discovery_succeeds_with_token_and_pin(kf, cluster, tmp_path):
    tf = tmp_path / "token"
    tf.write_text(f"{TOKEN_ID}.{TOKEN_SECRET}\n")
    p = kf("discover", "--api-server", cluster.endpoint, "--token-file", tf, "--ca-cert-hash", cluster.hash,
           check_rc=0)
    assert p.stdout.splitlines() == ["server:  https://cp.example:6443", f"ca-hash: {cluster.hash}"]
    # The secret never reaches the logs, even at debug level.
    p = kf("-v", "discover", "--api-server", cluster.endpoint, "--token-file", tf, "--ca-cert-hash",
           cluster.hash.upper().replace("SHA256", "sha256"), check_rc=0)
    assert TOKEN_SECRET not in p.stderr and TOKEN_SECRET not in p.stdout


def test_token_from_the_environment(kf, cluster):
    kf("discover", "--api-server", cluster.endpoint, "--ca-cert-hash", cluster.hash,
       env={"KUBE_FIRSTBOOT_TOKEN": f"{TOKEN_ID}.{TOKEN_SECRET}"}, check_rc=0)


def test_wrong_secret_is_a_signature_mismatch(kf, cluster):
    p = kf("discover", "--api-server", cluster.endpoint, "--token", f"{TOKEN_ID}.ffffffffffffffff",
           "--ca-cert-hash", cluster.hash)
    assert p.returncode == 1
    assert "token secret is wrong" in p.stderr


def test_unknown_token_id(kf, cluster):
    p = kf("discover", "--api-server", cluster.endpoint, "--token", "nosuch.0123456789abcdef",
           "--ca-cert-hash", cluster.hash, "--timeout", "2")
    assert p.returncode == 1
    assert "invalid for this cluster or has expired" in p.stderr


def test_pin_mismatch(kf, cluster):
    p = kf("discover", "--api-server", cluster.endpoint, "--token", f"{TOKEN_ID}.{TOKEN_SECRET}",
           "--ca-cert-hash", "sha256:" + "0" * 64)
    assert p.returncode == 1
    assert "matches none of the given CA cert hashes" in p.stderr
    assert cluster.hash in p.stderr


def test_a_pin_is_required_unless_unsafe(kf, cluster):
    p = kf("discover", "--api-server", cluster.endpoint, "--token", f"{TOKEN_ID}.{TOKEN_SECRET}")
    assert p.returncode == 2
    assert "unsafeSkipCAVerification" in p.stderr
    p = kf("discover", "--api-server", cluster.endpoint, "--token", f"{TOKEN_ID}.{TOKEN_SECRET}",
           "--unsafe-skip-ca-verification", check_rc=0)
    assert cluster.hash in p.stdout


def test_unreachable_endpoint_is_temporary(kf):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = kf("discover", "--api-server", f"127.0.0.1:{port}", "--token", f"{TOKEN_ID}.{TOKEN_SECRET}",
           "--ca-cert-hash", "sha256:" + "0" * 64, "--timeout", "2")
    assert p.returncode == 3
    assert "cannot read cluster-info" in p.stderr


@pytest.mark.parametrize("args", [
    ["--api-server", "127.0.0.1:1", "--token", "bad", "--unsafe-skip-ca-verification"],
    ["--api-server", "127.0.0.1:1", "--token", "abcdef.0123456789abcdef", "--ca-cert-hash", "md5:00"],
    ["--api-server", "127.0.0.1", "--token", "abcdef.0123456789abcdef", "--unsafe-skip-ca-verification"],
    ["--token", "abcdef.0123456789abcdef"],
    ["--api-server", "127.0.0.1:1"],
])
def test_bad_arguments_exit_2(kf, args):
    assert kf("discover", *args, env={"KUBE_FIRSTBOOT_TOKEN": ""}).returncode == 2
