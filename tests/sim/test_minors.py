# SPDX-License-Identifier: Apache-2.0
"""Every supported Kubernetes minor end to end in the simulated cluster (issue 13): for each minor the binary
supports, two control planes from identical user-data (one init, one control-plane join) and a worker join,
then the images, flags and files each minor's kubeadm writes.

The expectations below are kubeadm's, per release branch, with their sources (docs/kubernetes-minors.md);
they are written out here on purpose instead of being read from the binary's table, so that a wrong row in
manifests/versions.c fails this test."""
import os
import re

import pytest
import yaml
from cryptography import x509

from simlib.cluster import wait_until
from simlib.minors import KF, supported_minors

pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")

# kubeadm per minor, as its newest patch release writes it (constants.go image pins; flags, volumes and
# files per branch). Every minor: apiserver-kubelet-client.crt without an Organization and the
# ClusterRoleBinding kubeadm:apiserver-kubelet-client (kubernetes#138957, backported to each branch).
COLUMNS = ("etcd", "coredns", "pause", "etcd_experimental_flags", "probe_port", "flexvolume", "pause_flag",
           "instance_config", "proxy_mode", "cm_resolv_conf")
KUBEADM = {minor: dict(zip(COLUMNS, row)) for minor, row in {
    #    etcd       coredns    pause     etcd-exp probe-port flexvol pause-flag instance-cfg proxy-mode cm-resolvConf
    33: ("3.5.24-0", "v1.12.0", "3.10",   True,  False, True,  True,  False, "",         True),
    34: ("3.6.4-0",  "v1.12.1", "3.10.1", False, True,  True,  True,  True,  "",         True),
    35: ("3.6.6-0",  "v1.13.1", "3.10.1", False, True,  True,  False, True,  "",         True),
    36: ("3.6.8-0",  "v1.14.2", "3.10.2", False, True,  False, False, True,  "",         True),
    37: ("3.7.0-0",  "v1.14.6", "3.10.2", False, True,  False, False, True,  "iptables", False),
    38: ("3.7.1-0",  "v1.14.7", "3.10.2", False, True,  False, False, True,  "iptables", False),
}.items()}


def manifest(node, name):
    with open(os.path.join(node.root, "etc/kubernetes/manifests", f"{name}.yaml")) as f:
        return yaml.safe_load(f)


def flags(pod):
    return dict(a[2:].split("=", 1) for a in pod["spec"]["containers"][0]["command"][1:])


def test_every_supported_minor_has_expectations():
    minors = supported_minors()
    assert minors and minors[-1] >= 38, minors
    assert set(minors) <= set(KUBEADM), f"no kubeadm expectations written for {set(minors) - set(KUBEADM)}"


def test_init_control_plane_join_and_worker_join(minor_cluster):
    """The cluster of conftest's minor_cluster (shared with test_day2): cp-1 inits, cp-2 joins as a control
    plane, w-1 as a worker, all at once."""
    sim, minor = minor_cluster, minor_cluster.minor
    want = KUBEADM[minor]
    init, joiner, worker = sim.cp[0], sim.cp[1], sim.workers[0]
    assert [n.firstboot_status()["role"] for n in (init, joiner, worker)] == ["init", "control-plane", "worker"]

    # The cluster: kubeadm-config names the resolved version; the apiserver (image of that version) says so.
    c = sim.client()
    cc = yaml.safe_load(c.get("configmaps", "kubeadm-config", "kube-system")["data"]["ClusterConfiguration"])
    version = cc["kubernetesVersion"]
    assert re.fullmatch(rf"v1\.{minor}\.\d+", version), version
    assert cc["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert c.request("GET", "/version")["gitVersion"] == version
    ms = sim.etcd_members(via=init)
    assert sorted(m.get("name") for m in ms) == sorted(n.name for n in sim.cp) and not any(
        m.get("isLearner") for m in ms)

    for node in (init, joiner):
        etcd, api, kcm = manifest(node, "etcd"), manifest(node, "kube-apiserver"), \
            manifest(node, "kube-controller-manager")
        assert etcd["spec"]["containers"][0]["image"] == f"registry.k8s.io/etcd:{want['etcd']}"
        assert api["spec"]["containers"][0]["image"] == f"registry.k8s.io/kube-apiserver:{version}"
        ef = flags(etcd)
        if want["etcd_experimental_flags"]:
            assert ef["experimental-initial-corrupt-check"] == "true" and "feature-gates" not in ef
        else:
            assert ef["feature-gates"] == "InitialCorruptCheck=true" and ef["watch-progress-notify-interval"] == "5s"
            assert not any(k.startswith("experimental-") for k in ef), ef
        ports = api["spec"]["containers"][0].get("ports")
        assert bool(ports) == want["probe_port"], ports
        vols = {v["name"] for v in kcm["spec"]["volumes"]}
        assert ("flexvolume-dir" in vols) == want["flexvolume"], vols

    # Every static pod is probed and Ready, as its mirror pod says: from 1.34 the probes name their port
    # ("probe-port", resolved through the container's ports), before that they give the number.
    def ready_mirrors():
        pods = {p["metadata"]["name"]: p for p in c.list("pods", "kube-system")}
        want_pods = [f"{comp}-{n.name}" for n in (init, joiner)
                     for comp in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")]
        return all(any(cd["type"] == "Ready" and cd["status"] == "True"
                       for cd in (pods.get(name) or {}).get("status", {}).get("conditions") or [])
                   for name in want_pods)
    wait_until(ready_mirrors, 60, 1, "every static pod's mirror pod Ready")
    for node in (init, joiner):
        probe = manifest(node, "etcd")["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        assert (probe["port"] == "probe-port") == want["probe_port"], probe

    for node in (init, joiner, worker):
        env = open(os.path.join(node.root, "var/lib/kubelet/kubeadm-flags.env")).read()
        assert ("--pod-infra-container-image=registry.k8s.io/pause:" + want["pause"] in env) == want["pause_flag"], env
        assert ("--pod-infra-container-image" in env) == want["pause_flag"], env
        ic = os.path.join(node.root, "var/lib/kubelet/instance-config.yaml")
        assert os.path.exists(ic) == want["instance_config"]
        assert ("--container-runtime-endpoint" in env) != want["instance_config"], env

    # Before NodeLocalCRISocket kubeadm records the CRI socket on every Node (kubeadm upgrade reads it back).
    for n in sim.nodes:
        ann = c.get("nodes", n.name)["metadata"].get("annotations") or {}
        assert (ann.get("kubeadm.alpha.kubernetes.io/cri-socket") ==
                "unix:///var/run/containerd/containerd.sock") != want["instance_config"], (n.name, ann)

    kubelet_cm = yaml.safe_load(c.get("configmaps", "kubelet-config", "kube-system")["data"]["kubelet"])
    assert ("resolvConf" in kubelet_cm) == want["cm_resolv_conf"], kubelet_cm
    node_cfg = yaml.safe_load(open(os.path.join(init.root, "var/lib/kubelet/config.yaml")))
    assert node_cfg["resolvConf"] == "/run/systemd/resolve/resolv.conf"

    with open(os.path.join(init.root, "etc/kubernetes/pki/apiserver-kubelet-client.crt"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert cert.subject.rfc4514_string() == "CN=kube-apiserver-kubelet-client"
    crb = c.get("clusterrolebindings", "kubeadm:apiserver-kubelet-client", group="rbac.authorization.k8s.io")
    assert crb["roleRef"]["name"] == "system:kubelet-api-admin"
    assert crb["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                "name": "kube-apiserver-kubelet-client"}]

    deploy = c.get("deployments", "coredns", "kube-system", group="apps")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"registry.k8s.io/coredns/coredns:{want['coredns']}"
    proxy = yaml.safe_load(c.get("configmaps", "kube-proxy", "kube-system")["data"]["config.conf"])
    assert proxy.get("mode", "") == want["proxy_mode"]
