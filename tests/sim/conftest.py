# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the simulated cluster's own tests."""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import simclock  # noqa: E402
from simlib.local import LocalCluster  # noqa: E402
from simlib.minors import KF, supported_minors  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Scenarios in network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN for setns/unshare)."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root for network namespaces")
    for it in items:
        if os.path.basename(str(it.fspath)) in ("test_cluster.py", "test_kubelet.py", "test_firstboot_on_sim.py"):
            it.add_marker(skip)


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory):
    p = str(tmp_path_factory.mktemp("clock") / "clock.json")
    simclock.write_config(p, speed=1.0)
    old = os.environ.get("KF_SIM_CLOCK")
    os.environ["KF_SIM_CLOCK"] = p  # the test process reads the same clock as the doubles
    yield p
    if old is None:
        os.environ.pop("KF_SIM_CLOCK", None)
    else:
        os.environ["KF_SIM_CLOCK"] = old


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, clock_file):
    """Real etcd on loopback, two apiserver doubles sharing it, and the controller-manager double."""
    lc = LocalCluster(tmp_path_factory.mktemp("cluster"), clock_file=clock_file)
    try:
        lc.start_etcd()
        # The real kubectl on PATH (1.32) is used against these doubles: they report a version within its
        # skew; from 1.32 servers on it sends protobuf, which the double does not read.
        old_client = {"KF_SIM_K8S_VERSION": "v1.31.0"}
        lc.start_apiserver(env=old_client)
        lc.start_apiserver(env=old_client)
        lc.start_controller_manager(env={"KF_SIM_CONTROLLER_PERIOD": "0.3"})
        yield lc
    finally:
        lc.stop()


@pytest.fixture
def kubectl(cluster, tmp_path):
    """kubectl (Google's build on PATH, or kubectl.1.NN from the Cloud SDK) against the first apiserver."""

    def run(*args, kubeconfig=None, version=None, check=True):
        exe = shutil.which("kubectl")
        if version:
            exe = os.path.join(os.path.dirname(os.path.realpath(exe)), f"kubectl.{version}")
        argv = [exe, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "kcache"), *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"{argv} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    return run


@pytest.fixture
def new_sim(tmp_path):
    """Factory of simulated clusters: new_sim(control_planes=3, workers=1, env=None) -> Sim (network set up).
    Every Sim is stopped after the test, and the test fails if it left a process, namespace or mount."""
    from simlib.cluster import Sim
    made = []

    def make(control_planes=3, workers=1, **kw):
        s = Sim(tmp_path / f"sim{len(made)}", control_planes=control_planes, workers=workers, **kw)
        made.append(s)
        return s.__enter__()

    yield make
    errors = []
    for s in made:
        try:
            s.stop()
        except RuntimeError as e:
            errors.append(str(e))
        left = s.leftovers()
        if any(left.values()):
            errors.append(f"left behind: {left}")
    assert not errors, errors


MINORS = supported_minors()


@pytest.fixture(scope="session", params=MINORS, ids=[f"1.{m}" for m in MINORS])
def minor_cluster(request, tmp_path_factory):
    """One cluster per supported minor, shared by every test that reads it (test_minors, test_day2; pytest
    groups their tests by minor, so one cluster runs at a time): two control planes from identical user-data
    (role auto: one init, one control-plane join) and a worker, booted at the same moment, all Ready.
    sim.minor is the minor, sim.boot_results kube-firstboot's CompletedProcess per node name."""
    import concurrent.futures

    from simlib.cluster import Sim
    from simlib.userdata import user_data
    minor = request.param
    # The doubles report the version the nodes are set up with, as the packaged kubelet would.
    sim = Sim(tmp_path_factory.mktemp(f"minor-1.{minor}"), control_planes=2, workers=1,
              env={"KF_SIM_K8S_VERSION": f"v1.{minor}.0"})
    sim.kf_bin = KF
    sim.minor = minor
    sim.__enter__()
    try:
        sim.start_lb()
        label = f"stable-1.{minor}"  # kubeadm's label, resolved offline to the newest patch this build knows
        # kubeadm's default keys (RSA-2048) on every minor: the day-2 tests read what kubeadm N+1 reads.
        for n in sim.nodes:
            n.write_seed(user_data(sim, "worker" if n.role == "worker" else "auto", version=label,
                                   key_algorithm=None))
        # The init node runs systemd-resolved: its resolvConf is node-specific.
        os.makedirs(os.path.join(sim.cp[0].root, "run/systemd/resolve"), exist_ok=True)
        with open(os.path.join(sim.cp[0].root, "run/systemd/resolve/resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.53\n")
        with concurrent.futures.ThreadPoolExecutor(len(sim.nodes)) as ex:
            futs = {n.name: ex.submit(n.firstboot, "run", timeout=600) for n in sim.nodes}
            sim.boot_results = {k: f.result() for k, f in futs.items()}
        bad = {k: (r.returncode, r.stderr[-1500:]) for k, r in sim.boot_results.items() if r.returncode != 0}
        assert not bad, bad
        sim.wait_nodes_ready([n.name for n in sim.nodes], timeout=90)
        yield sim
    finally:
        sim.stop()
        left = sim.leftovers()
        assert not any(left.values()), f"left behind: {left}"
