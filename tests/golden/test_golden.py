# SPDX-License-Identifier: Apache-2.0
"""kubeadm's own unit-test tables as goldens: every case of cases/*.yaml names the kubeadm test it comes from,
is run through the real binary black-box ('kube-firstboot run' on a scratch root, up to the kubelet hand-off,
or 'kube-firstboot pki certs'), once per supported Kubernetes minor it applies to, and what landed on disk is
compared with the values kubeadm's test expects. See README.md."""
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SUPPORTED = None


def _bin():
    return os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))


def _supported():
    global _SUPPORTED
    if _SUPPORTED is None:
        if not os.access(_bin(), os.X_OK):
            _SUPPORTED = []
        else:
            with tempfile.TemporaryDirectory() as tmp:
                _SUPPORTED = golden.supported_minors(_bin(), tmp)
    return _SUPPORTED


def pytest_generate_tests(metafunc):
    if "golden_case" not in metafunc.fixturenames:
        return
    params, ids = [], []
    for table, case in golden.load_tables():
        for minor in golden.minors_of(case.get("minors"), _supported()):
            params.append((table, case, minor))
            ids.append(f"{case['test']}/{case['name']}/1.{minor}")
    metafunc.parametrize("golden_case", params, ids=ids)


def test_supported_minors_found(kf_bin):
    """The suite ran against at least one minor (an empty probe would skip every golden silently)."""
    assert _supported(), f"'kube-firstboot plan' accepted no Kubernetes minor in {list(golden.PROBE_MINORS)}"


def _prepare(kf_bin, root, cfg, steps):
    for step in steps or []:
        if "pki_certs" in step:
            p = golden.run_bin(kf_bin, "pki", "certs", "--config", cfg, "--root", root)
            assert p.returncode == 0, f"pki certs failed:\n{p.stdout}\n{p.stderr}"
        for rel in step.get("remove", []):
            os.unlink(os.path.join(root, rel))
        for rel in step.get("mkdir", []):
            os.makedirs(os.path.join(root, rel), exist_ok=True)


def test_golden(golden_case, kf_bin, tmp_path):
    table, case, minor = golden_case
    if case.get("skip"):
        pytest.skip(case["skip"])
    if case.get("deviation"):
        # A documented, deliberate difference (golden-deviations in the spec): kubeadm's value is kept as the
        # expectation, and the case must keep failing until the deviation is dropped.
        pytest.xfail(f"documented deviation: {case['deviation']}")
    root = tmp_path / "root"
    root.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(golden.build_config(case.get("config"), minor))
    _prepare(kf_bin, str(root), str(cfg), case.get("prepare"))

    if case.get("command", "run") == "pki-certs":
        argv = ["pki", "certs", "--config", cfg, "--root", root]
    else:
        # The root stands for this machine up to kubelet-start, whose command ('true') runs: --allow-host.
        argv = ["run", "--root", root, "--allow-host", "--no-metadata", "--config", cfg, "--stop-after",
                "kubelet-start"]
    p = golden.run_bin(kf_bin, *argv)
    if case.get("expect_refused"):
        assert p.returncode != 0, f"kubeadm refuses this input; kube-firstboot accepted it:\n{p.stderr}"
        return
    assert p.returncode == 0, f"{' '.join(map(str, argv))} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"

    problems = []
    docs = {}
    for exp in case["expect"]:
        if minor not in golden.minors_of(exp.get("minors"), [minor]):
            continue
        if exp["file"] not in docs:
            try:
                docs[exp["file"]] = golden.read_file(str(root), exp["file"])
            except FileNotFoundError:
                docs[exp["file"]] = None
        doc = docs[exp["file"]]
        if doc is None:
            if not exp.get("file_absent"):
                problems.append(f"{exp['file']}: not written")
            continue
        if exp.get("file_absent"):
            problems.append(f"{exp['file']}: written, kubeadm writes no such file")
            continue
        problems += golden.check(doc, exp)
    assert not problems, (f"{table['source']['file']} {case['test']} / {case['name']} (1.{minor}) disagrees "
                          f"with kubeadm:\n  " + "\n  ".join(problems))
