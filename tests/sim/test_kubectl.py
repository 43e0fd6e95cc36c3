# SPDX-License-Identifier: Apache-2.0
"""A real client, kubectl (Google's builds 1.27-1.33), against the apiserver double with a client-cert
kubeconfig and a bootstrap-token kubeconfig."""
import os
import shutil

import pytest
import yaml

from simlib import kpki
from simlib.bootstrap import token_secret

SDK_BIN = os.path.dirname(os.path.realpath(shutil.which("kubectl") or "/usr/bin/kubectl"))
VERSIONS = [v for v in ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33")
            if os.access(os.path.join(SDK_BIN, f"kubectl.{v}"), os.X_OK)]
pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not on PATH")


@pytest.fixture(scope="module")
def kubeconfigs(cluster, tmp_path_factory):
    d = tmp_path_factory.mktemp("kc")
    cert, key = cluster.pki.client_pems("kubernetes-admin", "kubeadm:cluster-admins")
    admin = kpki.write_kubeconfig(str(d / "admin.conf"), kpki.kubeconfig(cluster.apiservers[0], cluster.pki.ca_pem,
                                                                        "kubernetes-admin", cert, key))
    c = cluster.admin()
    # kubeadm:cluster-admins is bound to cluster-admin by kubeadm init (v1.29+), not by the apiserver.
    c.create("clusterrolebindings", {"metadata": {"name": "kubeadm:cluster-admins"},
                                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                 "name": "cluster-admin"},
                                     "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                                                   "name": "kubeadm:cluster-admins"}]},
             group="rbac.authorization.k8s.io/v1")
    c.create("secrets", token_secret("kctl01", "0123456789abcdef"), "kube-system")
    token = kpki.write_kubeconfig(str(d / "bootstrap-kubelet.conf"), kpki.kubeconfig(
        cluster.apiservers[1], cluster.pki.ca_pem, "tls-bootstrap-token-user", token="kctl01.0123456789abcdef"))
    return admin, token


def test_get_namespaces_and_cluster_info(kubectl, kubeconfigs, cluster):
    admin, _ = kubeconfigs
    out = kubectl("get", "ns", kubeconfig=admin).stdout
    assert out.split("\n")[0].split() == ["NAME", "STATUS", "AGE"]
    assert ["kube-system", "Active"] in [ln.split()[:2] for ln in out.splitlines()]
    kc = "apiVersion: v1\nkind: Config\n"
    cluster.admin().create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}},
                           "kube-public")
    doc = yaml.safe_load(kubectl("get", "cm", "-n", "kube-public", "cluster-info", "-o", "yaml",
                                 kubeconfig=admin).stdout)
    assert doc["kind"] == "ConfigMap" and doc["data"]["kubeconfig"] == kc


def test_auth_can_i(kubectl, kubeconfigs):
    admin, token = kubeconfigs
    assert kubectl("auth", "can-i", "create", "secrets", "-n", "kube-system", kubeconfig=admin).stdout.strip() == "yes"
    p = kubectl("auth", "can-i", "list", "secrets", "-n", "kube-system", kubeconfig=token, check=False)
    assert p.stdout.strip() == "no" and p.returncode == 1
    assert kubectl("auth", "can-i", "create", "certificatesigningrequests", kubeconfig=token,
                   check=False).stdout.strip() == "no"
    p = kubectl("get", "secrets", "-n", "kube-system", kubeconfig=token, check=False)
    assert p.returncode == 1
    assert ('secrets is forbidden: User "system:bootstrap:kctl01" cannot list resource "secrets" in API group "" '
            'in the namespace "kube-system"') in p.stderr


def test_create_apply_delete(kubectl, kubeconfigs, tmp_path):
    admin, _ = kubeconfigs
    kubectl("create", "namespace", "demo", kubeconfig=admin)
    kubectl("create", "configmap", "c1", "-n", "demo", "--from-literal=a=1", kubeconfig=admin)
    p = kubectl("create", "configmap", "c1", "-n", "demo", kubeconfig=admin, check=False)
    assert p.returncode == 1 and 'configmaps "c1" already exists' in p.stderr
    m = tmp_path / "m.yaml"
    m.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c2\n  namespace: demo\ndata:\n  k: v1\n"
                 "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds\n  namespace: demo\nspec:\n"
                 "  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n"
                 "    spec:\n      containers:\n      - name: c\n        image: x:1\n")
    assert "configmap/c2 created" in kubectl("apply", "-f", str(m), kubeconfig=admin).stdout
    m.write_text(m.read_text().replace("k: v1", "k: v2"))
    out = kubectl("apply", "-f", str(m), kubeconfig=admin).stdout
    assert "configmap/c2 configured" in out and "daemonset.apps/ds unchanged" in out
    assert kubectl("get", "cm", "c2", "-n", "demo", "-o", "jsonpath={.data.k}", kubeconfig=admin).stdout == "v2"
    assert 'configmap "c1" deleted' in kubectl("delete", "cm", "c1", "-n", "demo", kubeconfig=admin).stdout
    kubectl("delete", "ns", "demo", kubeconfig=admin)
    p = kubectl("get", "cm", "c2", "-n", "demo", kubeconfig=admin, check=False)
    assert p.returncode == 1 and 'namespaces "demo" not found' in p.stderr  # kubectl checks the namespace


@pytest.mark.parametrize("version", VERSIONS)
def test_other_kubectl_versions(kubectl, kubeconfigs, version):
    admin, token = kubeconfigs
    assert "kube-public" in kubectl("get", "ns", kubeconfig=admin, version=version).stdout
    assert kubectl("get", "--raw", "/healthz", kubeconfig=token, version=version).stdout == "ok"
    kubectl("get", "nodes", kubeconfig=admin, version=version)


def test_whoami_and_can_i_list(kubectl, kubeconfigs):
    admin, token = kubeconfigs
    out = kubectl("auth", "whoami", kubeconfig=token).stdout
    assert "system:bootstrap:kctl01" in out and "system:bootstrappers:kubeadm:default-node-token" in out
    out = kubectl("auth", "can-i", "--list", kubeconfig=token).stdout
    assert "selfsubjectaccessreviews.authorization.k8s.io" in out and "[/healthz]" in out


def test_kubectl_strict_validation(kubectl, kubeconfigs, tmp_path):
    admin, _ = kubeconfigs
    m = tmp_path / "bad.yaml"
    m.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  namespace: default\ndatta:\n  k: v\n")
    p = kubectl("apply", "-f", str(m), kubeconfig=admin, check=False)
    assert p.returncode == 1 and 'strict decoding error: unknown field "datta"' in p.stderr
