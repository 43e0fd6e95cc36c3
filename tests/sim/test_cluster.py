# SPDX-License-Identifier: Apache-2.0
"""The simulated cluster end to end: nodes in network namespaces, real etcd members joined as learners
and promoted, real haproxy health-checking the apiserver doubles, kubelet doubles doing TLS bootstrap,
and a teardown that leaves no process, namespace or mount behind."""
import os
import shutil
import subprocess

import pytest

from simlib import kpki
from simlib.cluster import LB_IP, Sim
from simlib.proc import wait_until


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # The controller-manager's node-monitor grace period is 15 s here instead of 40 s.
    s = Sim(tmp_path_factory.mktemp("sim"), control_planes=3, workers=1, env={"KF_SIM_NODE_MONITOR_GRACE": "15s"})
    with s:
        s.start_lb()
        s.kubeadm_init(s.cp[0])
        yield s
    left = s.leftovers()
    assert left == {"namespaces": [], "processes": [], "mounts": []}, left


def test_nodes_are_namespaces_with_their_own_address_and_root(sim):
    for n in sim.nodes:
        assert os.path.exists(f"/run/netns/{n.ns}")
        out = n.exec(["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).stdout
        assert f"{n.ip}/24" in out
        assert n.exec(["hostname"]).stdout.strip() == n.name
        n.write_seed("#cloud-config\n")
        assert sorted(os.listdir(n.seed)) == ["meta-data", "network-config", "user-data"]


def test_control_planes_join_with_etcd_learners(sim):
    for n in sim.cp[1:]:
        sim.kubeadm_join_control_plane(n)
    ms = sim.wait_etcd_voters(3)
    assert sorted(m["name"] for m in ms) == ["cp-1", "cp-2", "cp-3"]
    assert not any(m.get("isLearner") for m in ms)
    # each node's etcd runs the manifest's command line with host paths under the node root
    with open(os.path.join(sim.cp[1].root, "etc/kubernetes/manifests/etcd.yaml")) as f:
        assert "--initial-cluster-state=existing" in f.read()
    # the three apiserver doubles share one state: an object written through one is read through another
    a, b = sim.cp[0].admin(local=True), sim.cp[2].admin(local=True)
    a.create("configmaps", {"metadata": {"name": "shared"}, "data": {"x": "1"}}, "default")
    assert b.get("configmaps", "shared", "default")["data"] == {"x": "1"}


def test_worker_tls_bootstrap_through_the_load_balancer(sim):
    w = sim.workers[0]
    sim.kubeadm_join_worker(w, kubelet_flags=["--node-labels=node.kubernetes.io/pool=general",
                                              "--register-with-taints=dedicated=infra:NoSchedule"])
    kc = open(os.path.join(w.root, "etc/kubernetes/kubelet.conf")).read()
    assert f"server: https://{LB_IP}:6443" in kc and "kubelet-client-current.pem" in kc
    cur = os.path.join(w.root, "var/lib/kubelet/pki/kubelet-client-current.pem")
    assert os.path.islink(cur) and os.readlink(cur).startswith("/var/lib/kubelet/pki/kubelet-client-")
    sim.wait_nodes_ready([n.name for n in sim.nodes])
    c = sim.client()
    nodes = {n["metadata"]["name"]: n for n in c.list("nodes")}
    assert "node-role.kubernetes.io/control-plane" in nodes["cp-2"]["metadata"]["labels"]
    assert nodes["cp-2"]["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane",
                                                "effect": "NoSchedule"}]
    assert "node-role.kubernetes.io/control-plane" not in nodes["w-1"]["metadata"]["labels"]
    # kubeadm-flags.env: --node-labels and --register-with-taints (kubeletExtraArgs, worker taints)
    assert nodes["w-1"]["metadata"]["labels"]["node.kubernetes.io/pool"] == "general"
    assert nodes["w-1"]["spec"]["taints"] == [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]
    csrs = c.list("certificatesigningrequests", group="certificates.k8s.io")
    assert {x["spec"]["username"].split(":")[1] for x in csrs} == {"bootstrap", "node"}
    # mirror pods carry the etcd endpoint annotation kubeadm join reads
    pods = {p["metadata"]["name"]: p for p in c.list("pods", "kube-system")}
    assert pods["etcd-cp-3"]["metadata"]["annotations"][
        "kubeadm.kubernetes.io/etcd.advertise-client-urls"] == "https://10.213.0.13:2379"
    # kubelet healthz on 10248 inside the node
    assert w.exec(["curl", "-s", "http://127.0.0.1:10248/healthz"]).stdout == "ok"


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not on PATH")
def test_kubectl_through_haproxy(sim, tmp_path):
    cert, key = sim.pki.client_pems("kubernetes-admin", "kubeadm:cluster-admins")
    kc = kpki.write_kubeconfig(str(tmp_path / "admin.conf"), kpki.kubeconfig(sim.cpe, sim.pki.ca_pem,
                                                                            "kubernetes-admin", cert, key))
    r = subprocess.run(["ip", "netns", "exec", sim.lb_ns, "kubectl", "--kubeconfig", kc, "--cache-dir",
                        str(tmp_path / "cache"), "get", "nodes"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[:3] for ln in r.stdout.splitlines()[1:]] == [
        ["cp-1", "Ready", "control-plane"], ["cp-2", "Ready", "control-plane"], ["cp-3", "Ready", "control-plane"],
        ["w-1", "Ready", "<none>"]]


def test_losing_a_control_plane(sim):
    wait_until(lambda: set(sim.lb_servers().values()) == {"UP"}, 10, what="all backends UP")
    sim.kill(sim.cp[1])
    wait_until(lambda: sim.lb_servers()["cp-2"] == "DOWN", 10, what="haproxy marks cp-2 DOWN")
    c = sim.client()
    for _ in range(6):  # round robin over the remaining two
        assert len(c.list("nodes")) == 4
    ms = sim.etcd_members(via=sim.cp[0])
    assert len(ms) == 3  # the member is still listed; quorum (2 of 3) keeps the API writable
    c.create("configmaps", {"metadata": {"name": "after-loss"}}, "default")

    def unknown():
        n = c.get("nodes", "cp-2")
        ready = next(x for x in n["status"]["conditions"] if x["type"] == "Ready")
        return ready["status"] == "Unknown" and n
    n = wait_until(unknown, 40, 1, "cp-2 Ready=Unknown (its Lease is no longer renewed)")
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"} in n["spec"]["taints"]
    assert c.get("nodes", "cp-1")["status"]["conditions"][-1]["status"] == "True"


def test_cut_and_restore(sim):
    w = sim.workers[0]
    sim.cut(w)
    r = w.exec(["curl", "-sk", "-m", "2", f"https://{LB_IP}:6443/healthz"])
    assert r.returncode != 0
    sim.restore(w)
    # Restored links can take a moment under load (neighbour discovery): a few tries, each bounded.
    for _ in range(5):
        r = w.exec(["curl", "-sk", "-m", "5", f"https://{LB_IP}:6443/healthz"])
        if r.stdout == "ok":
            break
    assert r.stdout == "ok"


def test_init_node_kubelet_rotates_into_its_own_certificate(sim):
    """kubelet.conf on the init node embeds a client cert; with rotateCertificates the kubelet still asks
    for its own (CSR by system:node:cp-1, approved as selfnodeclient) and stores kubelet-client-current.pem,
    which kubeadm's kubelet-finalize phase waits for."""
    cp = sim.cp[0]
    cur = os.path.join(cp.root, "var/lib/kubelet/pki/kubelet-client-current.pem")
    wait_until(lambda: os.path.lexists(cur), 20, what="kubelet-client-current.pem on cp-1")
    assert os.path.isfile(os.path.join(cp.root, os.readlink(cur).lstrip("/")))
    csrs = [x for x in sim.client().list("certificatesigningrequests", group="certificates.k8s.io")
            if x["spec"]["username"] == "system:node:cp-1"]
    assert csrs and csrs[0]["metadata"]["name"].startswith("csr-")
    assert csrs[0]["status"]["conditions"][0]["reason"] == "AutoApproved"


def test_losing_quorum_takes_the_api_down(sim):
    """Last in this module: with 2 of 3 etcd members gone the surviving apiserver reports etcd unhealthy,
    and haproxy takes it out too (the real apiserver's etcd check is a quorum read)."""
    sim.kill(sim.cp[2])
    c = sim.cp[0].admin(local=True)
    wait_until(lambda: c.healthz("/healthz")[0] == 500, 20, 0.5, "cp-1 /healthz failing without etcd quorum")
    code, body = c.healthz("/healthz")
    assert b"[-]etcd failed: reason withheld" in body
    wait_until(lambda: set(sim.lb_servers().values()) == {"DOWN"}, 10, what="every backend DOWN")
