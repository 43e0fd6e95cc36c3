# SPDX-License-Identifier: Apache-2.0
"""The kubelet double on one node: static pods from manifests (paths through hostPath volumes, etcd 3.5/3.6
flags translated for etcd 3.4), waiting for config.yaml, restart with adoption of running pods, removal of a
manifest, healthz, and the kubelet start command returning at once like systemctl."""
import os
import time

import pytest
import yaml

from simlib import manifests
from simlib.cluster import Sim
from simlib.proc import wait_until


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    s = Sim(tmp_path_factory.mktemp("kubelet"), control_planes=1, workers=0)
    with s:
        yield s.cp[0]
    left = s.leftovers()
    assert left == {"namespaces": [], "processes": [], "mounts": []}, left


def klog(n):
    try:
        with open(os.path.join(n.root, "var/log/kubelet.log")) as f:
            return f.read()
    except OSError:
        return ""


def test_waits_for_its_config_then_runs_etcd_from_a_36_manifest(node):
    sim = node.sim
    sim.pki.write_node(os.path.join(node.root, "etc/kubernetes/pki"), node.name, node.ip)
    manifests.write_static_pod(node.root, manifests.etcd(node.name, node.ip, f"{node.name}=https://{node.ip}:2380",
                                                         etcd36=True))
    t = time.time()
    pid = node.start_kubelet()
    assert time.time() - t < 5 and pid == node.kubelet_pid()  # returns at once, like systemctl start
    time.sleep(1.5)
    assert not node.pod_pids()  # no config.yaml yet: nothing runs (the real kubelet crash-loops)
    manifests.write_kubelet_files(node.root, [f"--node-ip={node.ip}", f"--hostname-override={node.name}"])
    wait_until(lambda: "etcd" in node.pod_pids(), 10, what="etcd pod started")
    wait_until(lambda: node.etcd(timeout=3).status(), 20, what="etcd answers")
    log = klog(node)
    assert "--feature-gates=InitialCorruptCheck=true -> --experimental-initial-corrupt-check=true" in log
    assert "--watch-progress-notify-interval=5s -> --experimental-watch-progress-notify-interval=5s" in log
    assert node.exec(["curl", "-s", "http://127.0.0.1:10248/healthz"]).stdout == "ok"


def test_a_path_no_volume_mounts_is_an_error(node):
    pod = manifests.scheduler()
    pod["metadata"]["name"] = "bad"
    pod["spec"]["containers"][0]["command"].append("--kubeconfig=/etc/kubernetes/not-mounted.conf")
    pod["spec"]["containers"][0]["command"].remove("--kubeconfig=/etc/kubernetes/scheduler.conf")
    manifests.write_static_pod(node.root, pod)
    wait_until(lambda: "bad: /etc/kubernetes/not-mounted.conf is not inside any volumeMount" in klog(node), 10,
               what="mount error logged")
    assert "bad" not in node.pod_pids()
    os.unlink(os.path.join(node.root, "etc/kubernetes/manifests/bad.yaml"))


def test_restart_adopts_running_pods_and_removed_manifests_stop(node):
    before = node.pod_pids()["etcd"]
    node.start_kubelet()  # a second start restarts the kubelet (kubeadm's kubelet-start phase does this)
    wait_until(lambda: "etcd: adopted running container (pid %d)" % before in klog(node), 10, what="adoption")
    assert node.pod_pids()["etcd"] == before
    with open(os.path.join(node.root, "etc/kubernetes/manifests/etcd.yaml")) as f:
        assert yaml.safe_load(f)["kind"] == "Pod"
    os.rename(os.path.join(node.root, "etc/kubernetes/manifests/etcd.yaml"), os.path.join(node.root, "etcd.yaml"))
    wait_until(lambda: "etcd" not in node.pod_pids(), 10, what="etcd stopped after its manifest was removed")
    assert not os.path.exists(f"/proc/{before}/cmdline") or b"etcd" not in open(f"/proc/{before}/cmdline", "rb").read()


def test_teardown_after_a_failure_leaves_nothing(tmp_path):
    """A scenario that fails half-way (exception inside the with block) is still cleaned up."""
    s = Sim(tmp_path, control_planes=1, workers=1)
    with pytest.raises(RuntimeError, match="boom"):
        with s:
            s.start_lb()
            s.kubeadm_init(s.cp[0])
            assert s.cp[0].pod_pids() and s.cp[0].kubelet_pid()
            raise RuntimeError("boom")
    assert s.leftovers() == {"namespaces": [], "processes": [], "mounts": []}


def test_systemctl_shim_drives_the_kubelet_double(tmp_path):
    """On a simulated node `systemctl enable --now kubelet` (what kube-firstboot runs on real machines)
    starts the node's kubelet double; restart replaces it; stop stops it by PID."""
    s = Sim(tmp_path, control_planes=1, workers=0)
    with s:
        n = s.cp[0]
        shim = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "shims", "systemctl")
        env = {"KF_SIM_ROOT": n.root}
        assert n.exec([shim, "is-active", "kubelet"], env=env).returncode == 3
        assert n.exec([shim, "enable", "--now", "kubelet"], env=env).returncode == 0
        first = n.kubelet_pid()
        assert first and n.exec([shim, "is-active", "kubelet"], env=env).returncode == 0
        assert n.exec([shim, "restart", "kubelet.service"], env=env).returncode == 0
        assert n.kubelet_pid() not in (None, first)
        assert n.exec([shim, "stop", "kubelet"], env=env).returncode == 0
        wait_until(lambda: n.exec([shim, "is-active", "kubelet"], env=env).returncode == 3, 5, what="stopped")
        with open(os.path.join(n.root, "var/log/sim-systemctl.log")) as f:
            assert [ln.split(" ", 1)[1].strip() for ln in f] == [
                "is-active kubelet", "enable --now kubelet", "is-active kubelet", "restart kubelet.service",
                "stop kubelet", "is-active kubelet"]
    assert s.leftovers() == {"namespaces": [], "processes": [], "mounts": []}


def test_kill_at_phase(new_sim):
    """Sim.kill_at_phase powers a node off when kube-firstboot's status.json reports the phase."""
    import json
    s = new_sim(control_planes=1, workers=0)
    n = s.cp[0]
    manifests.write_kubelet_files(n.root, [f"--node-ip={n.ip}"])
    n.start_kubelet()
    s.kill_at_phase(n, "etcd-join")
    st = os.path.join(n.root, "run/kube-firstboot/status.json")
    os.makedirs(os.path.dirname(st))
    doc = {"role": "control-plane", "phase": None, "phases": [{"name": "etcd-join", "state": "pending"}]}
    with open(st, "w") as f:
        json.dump(doc, f)
    time.sleep(0.3)
    assert n.kubelet_pid()
    doc["phases"][0]["state"] = "running"
    with open(st, "w") as f:
        json.dump(doc, f)
    wait_until(lambda: n.kubelet_pid() is None, 5, what="node killed at phase etcd-join")
    assert any("phase etcd-join running: killing the node" in e[2] for e in s.timeline)
    doc["phases"][0]["state"] = "done"
    with open(st, "w") as f:
        json.dump(doc, f)
    assert s.wait_phase(n, "etcd-join", timeout=5) == "done"


def test_firstboot_phases_in_the_timeline(new_sim):
    import json
    s = new_sim(control_planes=1, workers=0)
    n = s.cp[0]
    st = os.path.join(n.root, "run/kube-firstboot/status.json")
    os.makedirs(os.path.dirname(st))
    from simlib import simclock
    with open(st, "w") as f:
        json.dump({"role": "init", "phases": [{"name": "preflight", "state": "done", "started": simclock.rfc3339(),
                                               "finished": simclock.rfc3339()}]}, f)
    s.add_firstboot_phases()
    assert [e[2] for e in s.timeline if e[1] == "cp-1"] == ["phase preflight started", "phase preflight done"]
