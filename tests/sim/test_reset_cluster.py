# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot reset` (issue 16) in the simulated cluster: on a joined control plane of three, `reset --force
--delete-node` removes its etcd member (the two others stay healthy voters), deletes its Node, stops its static
pods and kubelet and empties its files; then the same machine boots again with the same seed and joins again."""
import os
import time

import pytest

from simlib.cluster import wait_until
from simlib.userdata import user_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")


def boot(sim, nodes):
    import concurrent.futures
    for n in nodes:
        n.write_seed(user_data(sim, "auto"))
    with concurrent.futures.ThreadPoolExecutor(len(nodes)) as ex:
        futs = {n.name: ex.submit(n.firstboot, "run", timeout=600) for n in nodes}
        res = {k: f.result() for k, f in futs.items()}
    bad = {k: r.stderr[-3000:] for k, r in res.items() if r.returncode != 0}
    assert not bad, bad


def voters(sim, via):
    ms = sim.etcd_members(via=via)
    assert not any(m.get("isLearner") for m in ms), ms
    return sorted(m.get("name") or "" for m in ms)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_reset_a_joined_control_plane_then_boot_it_again(new_sim):
    sim = new_sim(control_planes=3, workers=0)
    sim.kf_bin = KF
    sim.start_lb()
    boot(sim, sim.cp)
    cp1, cp2, cp3 = sim.cp
    assert cp2.firstboot_status()["role"] == "control-plane"
    assert voters(sim, via=cp1) == sorted(n.name for n in sim.cp)
    pods = cp2.pod_pids()
    assert len(pods) == 4, pods

    # The dry run says what would happen, and changes nothing.
    r = cp2.firstboot("reset", "--dry-run", "--delete-node", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Would remove the etcd member on this node from the etcd cluster: cp-2" in r.stdout, r.stdout
    assert "2 of the 2 voters left are healthy" in r.stdout, r.stdout
    assert voters(sim, via=cp1) == sorted(n.name for n in sim.cp)

    t = time.time()
    r = cp2.firstboot("reset", "--force", "--delete-node", timeout=300)
    took = time.time() - t
    assert r.returncode == 0, r.stdout + r.stderr
    for line in ("Removed the etcd member on this node from the etcd cluster: cp-2", "Deleted the Node cp-2",
                 "their pods are stopped", "Stopped the kubelet service ('systemctl disable --now kubelet')",
                 "Deleted kube-firstboot's state"):
        assert line in r.stdout, (line, r.stdout, r.stderr)
    # etcd: the two others, both healthy voters.
    assert voters(sim, via=cp1) == [cp1.name, cp3.name]
    for n in (cp1, cp3):
        h = n.firstboot("etcd", "health", timeout=60)
        assert h.returncode == 0, (n.name, h.stderr)
    assert cp2.name not in sim.objects("nodes")
    # The machine: no kubelet, no static pod, none of the files a first boot would refuse to find.
    assert not cp2.kubelet_pid() or not alive(cp2.kubelet_pid())
    assert not any(alive(p) for p in pods.values()), pods
    for p in ("var/lib/kube-firstboot/done", "var/lib/kube-firstboot/journal.json", "etc/kubernetes/admin.conf",
              "etc/kubernetes/manifests/etcd.yaml", "etc/kubernetes/pki/ca.crt", "var/lib/kubelet/config.yaml"):
        assert not os.path.exists(os.path.join(cp2.root, p)), p
    assert os.listdir(os.path.join(cp2.root, "var/lib/etcd")) == []
    with open(os.path.join(cp2.root, "var/log/sim-systemctl.log")) as f:
        assert "disable --now kubelet" in f.read()

    # First boot again, same machine, same seed: it joins as a control plane again.
    r = cp2.firstboot("run", timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert cp2.firstboot_status()["role"] == "control-plane"
    wait_until(lambda: voters(sim, via=cp1) == sorted(n.name for n in sim.cp), 60, 0.5, "3 voters again")
    sim.wait_nodes_ready([n.name for n in sim.cp], timeout=120)
    print(f"reset of a joined control plane took {took:.1f}s")
