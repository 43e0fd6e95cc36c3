# SPDX-License-Identifier: Apache-2.0
"""A kubeadm-shaped PKI and kubeconfigs for the simulated cluster, made with python3-cryptography
(tests/lib/testpki.py), never with the code under test."""
import base64
import os
import sys

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "lib"))
import testpki  # noqa: E402

PEM = serialization.Encoding.PEM


def cert_pem(c):
    return c.public_bytes(PEM)


def key_pem(k):
    return k.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())


def _w(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


class ClusterPKI:
    """The shared CAs of one cluster (ca, etcd/ca, front-proxy-ca, sa)."""

    def __init__(self):
        self.ca = testpki.make_ca("kubernetes")
        self.etcd_ca = testpki.make_ca("etcd-ca")
        self.fp_ca = testpki.make_ca("front-proxy-ca")
        self.sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def ca_pem(self):
        return cert_pem(self.ca[1])

    def write_shared(self, pki_dir):
        for name, (k, c) in (("ca", self.ca), ("etcd/ca", self.etcd_ca), ("front-proxy-ca", self.fp_ca)):
            _w(f"{pki_dir}/{name}.crt", cert_pem(c), 0o644)
            _w(f"{pki_dir}/{name}.key", key_pem(k), 0o600)
        _w(f"{pki_dir}/sa.key", key_pem(self.sa), 0o600)
        _w(f"{pki_dir}/sa.pub", self.sa.public_key().public_bytes(
            PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)

    def leaf(self, pki_dir, name, ca, cn, org=None, server=False, client=False, dns=(), ips=()):
        k, c = testpki.issue(ca[0], ca[1], cn, org=org, server=server, client=client, dns=dns, ips=ips)
        _w(f"{pki_dir}/{name}.crt", cert_pem(c), 0o644)
        _w(f"{pki_dir}/{name}.key", key_pem(k), 0o600)
        return k, c

    def write_node(self, pki_dir, node, ip, extra_ips=(), cpe_ip=None):
        """Every file kubeadm init / control-plane join leaves under /etc/kubernetes/pki."""
        self.write_shared(pki_dir)
        ips = [ip, *extra_ips]
        self.leaf(pki_dir, "apiserver", self.ca, "kube-apiserver", server=True,
                  dns=[node, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                       "kubernetes.default.svc.cluster.local", "localhost"],
                  ips=["10.96.0.1", *ips, *([cpe_ip] if cpe_ip else []), "127.0.0.1"])
        self.leaf(pki_dir, "apiserver-kubelet-client", self.ca, "kube-apiserver-kubelet-client",
                  org="kubeadm:cluster-admins", client=True)
        self.leaf(pki_dir, "front-proxy-client", self.fp_ca, "front-proxy-client", client=True)
        for n in ("server", "peer"):
            self.leaf(pki_dir, f"etcd/{n}", self.etcd_ca, node, server=True, client=True,
                      dns=[node, "localhost"], ips=[*ips, "127.0.0.1", "::1"])
        self.leaf(pki_dir, "etcd/healthcheck-client", self.etcd_ca, "kube-etcd-healthcheck-client", client=True)
        self.leaf(pki_dir, "apiserver-etcd-client", self.etcd_ca, "kube-apiserver-etcd-client", client=True)

    def client_pems(self, cn, org=None, ca=None):
        k, c = testpki.issue(*(ca or self.ca), cn, org=org, client=True)
        return cert_pem(c), key_pem(k)


def kubeconfig(server, ca_pem, user="kubernetes-admin", cert_pem_=None, key_pem_=None, token=None,
               cluster="kubernetes", cert_file=None, key_file=None):
    u = {}
    if cert_pem_:
        u["client-certificate-data"] = base64.b64encode(cert_pem_).decode()
        u["client-key-data"] = base64.b64encode(key_pem_).decode()
    if cert_file:
        u["client-certificate"] = cert_file
        u["client-key"] = key_file
    if token:
        u["token"] = token
    ctx = f"{user}@{cluster}"
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster, "cluster": {"certificate-authority-data": base64.b64encode(ca_pem).decode(),
                                                       "server": server}}],
            "contexts": [{"name": ctx, "context": {"cluster": cluster, "user": user}}],
            "current-context": ctx, "users": [{"name": user, "user": u}]}


def write_kubeconfig(path, kc):
    return _w(path, yaml.safe_dump(kc, sort_keys=False).encode(), 0o600)
