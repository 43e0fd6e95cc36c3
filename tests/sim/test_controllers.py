# SPDX-License-Identifier: Apache-2.0
"""The controllers beside the apiserver double: bootstrapsigner (JWS), tokencleaner + garbage collection
(kubeadm-certs dies with its TTL token), CSR approval and signing (kubelet TLS bootstrap)."""
import base64
import hashlib
import hmac
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simlib import bootstrap, simclock
from simlib.proc import wait_until
from simlib.bootstrap import token_secret


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def test_jws_matches_the_spec():
    # Header bytes as in the spec's documented example.
    assert bootstrap.detached_jws("x", "07401b", "f395accd246ae52d").split("..")[0] == \
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IjA3NDAxYiJ9"
    content = "apiVersion: v1\nclusters: []\n"
    jws = bootstrap.detached_jws(content, "abcdef", "0123456789abcdef")
    head, sig = jws.split("..")
    # HS256 over b64url(header).b64url(payload), key = the secret zero-padded to 32 bytes (same HMAC).
    key = b"0123456789abcdef".ljust(32, b"\0")
    want = hmac.new(key, (head + "." + b64url(content.encode())).encode(), hashlib.sha256).digest()
    assert sig == b64url(want)
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "kid": "abcdef"}


def test_bootstrapsigner_signs_and_unsigns_cluster_info(cluster):
    c = cluster.admin()
    kc = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://cp:6443\n  name: \"\"\nkind: Config\n"
    try:
        c.create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}}, "kube-public")
    except Exception:
        c.update("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}}, "kube-public")
    c.create("secrets", token_secret("sig001", "aaaaaaaaaaaaaaaa"), "kube-system")
    c.create("secrets", token_secret("sig002", "bbbbbbbbbbbbbbbb", usages=("authentication",)), "kube-system")
    data = wait_until(lambda: (lambda d: d if "jws-kubeconfig-sig001" in d else None)(
        c.get("configmaps", "cluster-info", "kube-public")["data"]), 10, what="JWS for sig001")
    assert data["jws-kubeconfig-sig001"] == bootstrap.detached_jws(kc, "sig001", "aaaaaaaaaaaaaaaa")
    assert "jws-kubeconfig-sig002" not in data  # no signing usage
    c.delete("secrets", "bootstrap-token-sig001", "kube-system")
    wait_until(lambda: "jws-kubeconfig-sig001" not in c.get("configmaps", "cluster-info", "kube-public")["data"], 10,
               what="JWS removed after the token is deleted")


def test_kubeadm_certs_dies_with_its_ttl_token(cluster, clock_file):
    """upload-certs: a 2 h token without usages owns kubeadm-certs; tokencleaner deletes the token after
    expiry and the garbage collector deletes the Secret. The clock jumps 2 h ahead."""
    c = cluster.admin()
    tok = c.create("secrets", token_secret("ttl001", "cccccccccccccccc", ttl=7200, usages=(), groups=None),
                   "kube-system")
    c.create("secrets", {"metadata": {"name": "kubeadm-certs", "ownerReferences": [{
        "apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-ttl001", "uid": tok["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True}]}, "data": {"ca.crt": ""}}, "kube-system")
    # Another Secret whose owner is alive, and one with a stale uid: GC keeps the first, deletes the second.
    c.create("secrets", {"metadata": {"name": "stale-owner", "ownerReferences": [{
        "apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-ttl001", "uid": "not-the-uid"}]}},
        "kube-system")
    wait_until(lambda: not c.exists("secrets", "stale-owner", "kube-system"), 10, what="GC of stale owner ref")
    assert c.exists("secrets", "kubeadm-certs", "kube-system")
    assert c.exists("secrets", "bootstrap-token-ttl001", "kube-system")
    simclock.jump(clock_file, 7201)
    wait_until(lambda: not c.exists("secrets", "bootstrap-token-ttl001", "kube-system"), 10, what="tokencleaner")
    wait_until(lambda: not c.exists("secrets", "kubeadm-certs", "kube-system"), 10, what="GC of kubeadm-certs")


def make_csr(cn, org):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                                    x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return key, base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def csr_obj(name, req):
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {"request": req, "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                     "usages": ["digital signature", "client auth"]}}


def test_kubelet_tls_bootstrap_csr_flow(cluster):
    c = cluster.admin()
    c.create("secrets", token_secret("csr001", "dddddddddddddddd"), "kube-system")
    g = "system:bootstrappers:kubeadm:default-node-token"
    rb = "rbac.authorization.k8s.io/v1"
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
    sub = [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}]
    c.create("clusterrolebindings", {"metadata": {"name": "kubeadm:kubelet-bootstrap"},
                                     "roleRef": dict(ref, name="system:node-bootstrapper"), "subjects": sub}, None, rb)
    joiner = cluster.client(token="csr001.dddddddddddddddd")
    # Without the nodeclient binding the CSR is created but stays pending.
    _, req = make_csr("system:node:w9", "system:nodes")
    created = joiner.create("certificatesigningrequests", csr_obj("node-csr-w9", req), group="certificates.k8s.io/v1")
    assert created["spec"]["username"] == "system:bootstrap:csr001"
    assert created["spec"]["groups"] == ["system:bootstrappers", g, "system:authenticated"]
    c.create("clusterrolebindings", {"metadata": {"name": "kubeadm:node-autoapprove-bootstrap"},
                                     "roleRef": dict(ref, name="system:certificates.k8s.io:certificatesigningrequests:"
                                                                "nodeclient"), "subjects": sub}, None, rb)

    def issued():
        o = joiner.get("certificatesigningrequests", "node-csr-w9", group="certificates.k8s.io/v1")
        return o if (o.get("status") or {}).get("certificate") else None

    o = wait_until(issued, 15, what="CSR approved and signed")
    assert [(x["type"], x["reason"]) for x in o["status"]["conditions"]] == [("Approved", "AutoApproved")]
    cert = x509.load_pem_x509_certificate(base64.b64decode(o["status"]["certificate"]))
    assert cert.subject.rfc4514_string() == "CN=system:node:w9,O=system:nodes"
    ca = x509.load_pem_x509_certificate(cluster.pki.ca_pem)
    assert cert.issuer == ca.subject
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    # A CSR asking for another subject (not a node client) is never auto-approved.
    _, bad = make_csr("admin", "system:masters")
    joiner.create("certificatesigningrequests", csr_obj("evil", bad), group="certificates.k8s.io/v1")
    # A bootstrap user may not approve by itself.
    e = None
    try:
        joiner.request("PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/evil/approval",
                       {"metadata": {"name": "evil"}, "status": {"conditions": [{"type": "Approved"}]}})
    except Exception as ex:  # noqa: BLE001
        e = ex
    assert e is not None and e.code == 403
    import time
    time.sleep(1.5)
    o = c.get("certificatesigningrequests", "evil", group="certificates.k8s.io/v1")
    assert not (o.get("status") or {}).get("conditions")


def test_controller_manager_holds_the_lease(cluster):
    c = cluster.admin()
    lease = c.get("leases", "kube-controller-manager", "kube-system", "coordination.k8s.io/v1")
    assert lease["spec"]["holderIdentity"] and lease["spec"]["leaseDurationSeconds"] == 15
    roots = c.get("configmaps", "kube-root-ca.crt", "default")
    assert roots["data"]["ca.crt"] == cluster.pki.ca_pem.decode()


def test_a_faster_clock_expires_the_default_24h_token(cluster, clock_file):
    """With the clock 20000x faster, kubeadm init's 24 h token expires in ~4 s: it stops authenticating,
    its JWS disappears and tokencleaner deletes it."""
    c = cluster.admin()
    c.create("secrets", token_secret("fast01", "ffffffffffffffff", ttl=86400), "kube-system")
    kc = "apiVersion: v1\nkind: Config\n"
    try:
        c.create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}}, "kube-public")
    except Exception:  # noqa: BLE001 - made by an earlier test
        pass
    wait_until(lambda: "jws-kubeconfig-fast01" in c.get("configmaps", "cluster-info", "kube-public")["data"], 10,
               what="JWS for fast01")
    simclock.set_speed(clock_file, 20000)
    try:
        wait_until(lambda: not c.exists("secrets", "bootstrap-token-fast01", "kube-system"), 15,
                   what="24 h token cleaned up")
        wait_until(lambda: "jws-kubeconfig-fast01" not in c.get("configmaps", "cluster-info", "kube-public")["data"],
                   10, what="JWS removed")
    finally:
        simclock.set_speed(clock_file, 1)


def test_only_a_signer_may_issue(cluster):
    """Writing status.certificate needs 'sign' on signers/<signerName>: a node may not issue its own."""
    c = cluster.admin()
    node = cluster.client("system:node:w7", "system:nodes")
    _, req = make_csr("system:node:w7", "system:nodes")
    o = node.create("certificatesigningrequests", csr_obj("self-issue", req), group="certificates.k8s.io/v1")
    o["status"] = {"certificate": base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()}
    try:
        node.request("PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/self-issue/status", o)
        raise AssertionError("a node wrote its own certificate")
    except Exception as e:  # noqa: BLE001
        assert getattr(e, "code", None) == 403, e
    assert c.get("certificatesigningrequests", "self-issue", group="certificates.k8s.io/v1")["metadata"]["name"]
