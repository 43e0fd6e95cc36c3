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
    wait_until(lambda: "etcd: adopted running container (pid %d)" % before in klog(node), 30, what="adoption")
    assert node.pod_pids()["etcd"] == before
    with open(os.path.join(node.root, "etc/kubernetes/manifests/etcd.yaml")) as f:
        assert yaml.safe_load(f)["kind"] == "Pod"
    os.rename(os.path.join(node.root, "etc/kubernetes/manifests/etcd.yaml"), os.path.join(node.root, "etcd.yaml"))
    wait_until(lambda: "etcd" not in node.pod_pids(), 30, what="etcd stopped after its manifest was removed")
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


# ---- probes and etcd flags, without namespaces: a StaticPod of a stub kubelet, probing a local server ----

class StubKubelet:
    node_name, node_ip = "stub", "127.0.0.1"

    def host(self, p):
        return p


def static_pod(tmp_path, container, command=("kube-scheduler",)):
    import yaml as _yaml
    from simlib.kubelet import StaticPod
    c = {"name": "probed", "image": "registry.k8s.io/kube-scheduler:v1.38.0", "command": list(command), **container}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probed", "namespace": "kube-system"},
           "spec": {"hostNetwork": True, "containers": [c]}}
    path = tmp_path / "probed.yaml"
    path.write_text(_yaml.safe_dump(pod))
    sp = StaticPod(StubKubelet(), str(path))
    sp.pid = os.getpid()  # "running": the probe is what decides readiness
    return sp


@pytest.fixture
def health_server():
    """HTTP on loopback answering 200 on /readyz, /livez and /health, 404 elsewhere; (port, [paths asked])."""
    import http.server
    import threading
    asked = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200 if self.path.split("?")[0] in ("/readyz", "/livez", "/health") else 404)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1], asked
    srv.shutdown()
    srv.server_close()


def closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_probe(port, path="/readyz"):
    return {"httpGet": {"host": "127.0.0.1", "path": path, "port": port, "scheme": "HTTP"}}


def test_named_probe_port_is_resolved_from_the_containers_ports(tmp_path, health_server):
    """kubeadm 1.34+ writes `port: probe-port` and the port in the container's ports list: the double probes
    the port of that name (as the kubelet's extractPort does), so the pod is ready only when that port
    answers; a name no port has is a probe failure, not a crash of the kubelet's loop."""
    port, asked = health_server
    sp = static_pod(tmp_path, {"ports": [{"containerPort": port, "name": "probe-port", "protocol": "TCP"}],
                               "readinessProbe": http_probe("probe-port")})
    sp.probe()
    assert sp.ready and asked == ["/readyz"]
    # The same name on a port where nothing listens: probed, and not ready.
    sp = static_pod(tmp_path, {"ports": [{"containerPort": closed_port(), "name": "probe-port"}],
                               "readinessProbe": http_probe("probe-port")})
    sp.probe()
    assert not sp.ready and asked == ["/readyz"]
    # A name the container does not have: not ready, nothing asked, said once.
    sp = static_pod(tmp_path, {"ports": [{"containerPort": port, "name": "metrics"}],
                               "readinessProbe": http_probe("probe-port")})
    sp.probe()
    assert not sp.ready and asked == ["/readyz"]
    assert sp.probe_error == "probed: probe port 'probe-port' is not among the container's ports"
    # A number as a string (the kubelet's last-ditch Atoi) and a plain number.
    for p in (str(port), port):
        sp = static_pod(tmp_path, {"readinessProbe": http_probe(p, "/livez")})
        sp.probe()
        assert sp.ready
    assert asked == ["/readyz", "/livez", "/livez"]


def test_etcd_probe_paths_follow_the_local_etcd_version(tmp_path, health_server, monkeypatch):
    """/readyz and /livez exist from etcd 3.5.11 on; before that (Debian 12's 3.4) the double asks /health."""
    import etcdbin
    port, asked = health_server
    for version, want in (((3, 4, 23), "/health"), ((3, 5, 10), "/health"), ((3, 5, 16), "/readyz"),
                          ((3, 6, 8), "/readyz")):
        monkeypatch.setattr(etcdbin, "version", lambda p=None, v=version: v)
        sp = static_pod(tmp_path, {"ports": [{"containerPort": port, "name": "probe-port"}],
                                   "readinessProbe": http_probe("probe-port")}, command=("etcd",))
        sp.probe()
        assert sp.ready and asked[-1] == want, (version, asked)


def test_etcd_flags_translated_for_the_local_etcd():
    """What `etcd --help` lists decides: 3.6/3.7 flags become 3.4/3.5's experimental ones, gates by etcd's
    table, and an --experimental-X an etcd knows only as --X loses its prefix; anything else is dropped,
    each with a log line naming the version."""
    from simlib.kubelet import translate_etcd
    etcd35 = {"name", "experimental-initial-corrupt-check", "experimental-watch-progress-notify-interval",
              "experimental-compact-hash-check-enabled", "experimental-stop-grpc-service-on-defrag"}
    args, notes = translate_etcd(
        ["--name=a", "--feature-gates=InitialCorruptCheck=true,CompactHashCheck=true,StopGRPCServiceOnDefrag=false,"
         "FastLeaseKeepAlive=true", "--watch-progress-notify-interval=5s", "--max-learners=1"], etcd35, "3.5.16")
    assert args == ["--name=a", "--experimental-initial-corrupt-check=true",
                    "--experimental-compact-hash-check-enabled=true",
                    "--experimental-stop-grpc-service-on-defrag=false",
                    "--experimental-watch-progress-notify-interval=5s"]
    assert "etcd 3.5.16: feature gate FastLeaseKeepAlive=true dropped (unknown to etcd 3.5.16)" in notes
    assert "etcd 3.5.16: --max-learners=1 dropped (unknown to etcd 3.5.16)" in notes and len(notes) == 6
    etcd37 = {"name", "feature-gates", "watch-progress-notify-interval"}
    args, notes = translate_etcd(["--name=a", "--experimental-watch-progress-notify-interval=5s",
                                  "--feature-gates=InitialCorruptCheck=true"], etcd37, "3.7.1")
    assert args == ["--name=a", "--watch-progress-notify-interval=5s", "--feature-gates=InitialCorruptCheck=true"]
    assert notes == ["etcd 3.7.1: --experimental-watch-progress-notify-interval=5s -> "
                     "--watch-progress-notify-interval=5s"]
