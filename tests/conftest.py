# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by tests/integration and tests/sim: the binary, a runner, throwaway PKI, TLS servers."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))

import testpki  # noqa: E402
from httpservers import TestHTTPSServer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Test files that share a session fixture (the per-minor clusters of tests/sim/conftest.py) run in one worker.
SHARED_WORKER = {"test_minors.py": "minor-clusters", "test_day2.py": "minor-clusters"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's loadgroup (tests/run-checks.sh runs two workers), a test file is one unit of work:
    its module fixtures are whole clusters, built once per worker that runs any of its tests."""
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            name = os.path.basename(str(item.fspath))
            item.add_marker(pytest.mark.xdist_group(SHARED_WORKER.get(name, name)))


@pytest.fixture(scope="session")
def kf_bin():
    path = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run 'make' first (or set KF_BIN)")
    return path


@pytest.fixture
def kf(kf_bin):
    """Runs the binary: kf('version') -> CompletedProcess with text stdout/stderr."""

    def run(*args, root=None, input=None, timeout=120, env=None, check_rc=None):
        argv = [kf_bin] + [str(a) for a in args]
        if os.environ.get("KF_VALGRIND"):
            # Any memory error or leak turns into exit code 99, which no test expects.
            argv = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect"] + argv
            timeout *= 4
        if root is not None:
            argv += ["--root", str(root)]
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=e)
        if check_rc is not None and p.returncode != check_rc:
            raise AssertionError(
                f"{argv} exited {p.returncode}, wanted {check_rc}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    return run


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A CA with a server certificate (127.0.0.1, ::1, localhost) and a client certificate, as files."""
    return testpki.make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def https_server(pki):
    """Starts TestHTTPSServer instances on loopback; every one is shut down after the test."""
    servers = []

    def start(**kw):
        s = TestHTTPSServer(pki, **kw)
        s.start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()
