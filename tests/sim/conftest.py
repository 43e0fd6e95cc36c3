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
        lc.start_apiserver()
        lc.start_apiserver()
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
