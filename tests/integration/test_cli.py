# SPDX-License-Identifier: Apache-2.0
"""The command line: verbs, help, global options, exit codes, log formats."""
import json
import os
import subprocess

import pytest

VERBS = ["run", "plan", "metadata", "config", "pki", "certs", "discover", "refresh", "status", "secrets", "etcd", "version", "http-get"]


def test_version_names_the_linked_libraries(kf):
    for args in (["--version"], ["version"]):
        p = kf(*args, check_rc=0)
        first = p.stdout.splitlines()[0]
        assert first.startswith("kube-firstboot ")
        for lib in ("OpenSSL 3", "libcurl/", "cJSON", "libyaml", "libblkid"):
            assert lib in p.stdout


def test_main_help_lists_every_verb_and_exit_codes(kf):
    p = kf("--help", check_rc=0)
    for v in VERBS:
        assert f"  {v} " in p.stdout
    assert "Exit codes" in p.stdout and "--root DIR" in p.stdout


def test_no_arguments_is_a_usage_error(kf):
    p = kf()
    assert p.returncode == 2
    assert "Usage:" in p.stdout


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(kf, verb):
    p = kf(verb, "--help", check_rc=0)
    assert p.stdout.startswith("Usage: kube-firstboot " + verb)
    assert "Exit codes" in p.stdout


def test_unknown_verb(kf):
    p = kf("frobnicate")
    assert p.returncode == 2
    assert "'frobnicate'" in p.stderr


def test_global_options_before_or_after_the_verb(kf, tmp_path):
    for argv in (["--root", str(tmp_path), "status"], ["status", "--root", str(tmp_path)],
                 ["status", f"--root={tmp_path}"]):
        p = kf(*argv)
        assert p.returncode == 1
        assert "/run/kube-firstboot/status.json" in p.stderr


def test_bad_global_option_values(kf):
    assert kf("--log-format", "xml", "version").returncode == 2
    assert kf("version", "--root").returncode == 2
    assert kf("--root=", "version").returncode == 2


def test_journald_priority_prefix_and_json_logs(kf):
    p = kf("frobnicate")
    assert p.stderr.startswith("<3>kube-firstboot: ")
    p = kf("--log-format", "json", "frobnicate")
    line = json.loads(p.stderr.splitlines()[0])
    assert line["level"] == "error" and "frobnicate" in line["msg"]


def test_verbose_adds_debug_lines(kf, pki, https_server):
    s = https_server()
    p = kf("-v", "http-get", s.url("/ok"), "--cacert", pki.ca_cert, check_rc=0)
    assert "<7>" in p.stderr


def test_status_reads_the_status_file_under_root(kf, tmp_path):
    d = tmp_path / "run" / "kube-firstboot"
    d.mkdir(parents=True)
    (d / "status.json").write_text(json.dumps({"role": "init", "phase": "wait-control-plane",
                                               "result": "failure",
                                               "error": {"message": "apiserver did not answer",
                                                         "remedy": "check the kubelet"}}))
    p = kf("status", root=tmp_path)
    assert p.returncode == 1
    assert "wait-control-plane" in p.stdout and "check the kubelet" in p.stdout
    (d / "status.json").write_text(json.dumps({"role": "init", "phase": "certs"}))
    assert kf("status", root=tmp_path).returncode == 3
    (d / "status.json").write_text(json.dumps({"role": "init", "phase": "done", "result": "success"}))
    p = kf("status", "--json", root=tmp_path, check_rc=0)
    assert json.loads(p.stdout)["result"] == "success"
    (d / "status.json").write_text("{not json")
    assert kf("status", root=tmp_path).returncode == 1


def test_status_never_touches_the_host(kf, tmp_path):
    # With --root, the host's /run is not read even when it exists.
    p = kf("status", root=tmp_path)
    assert str(tmp_path) not in p.stdout
    assert not os.path.exists(tmp_path / "run")


def test_manpage_keeps_every_option(kf_bin, tmp_path):
    """images/deb/manpage.sh makes the page from the --help texts: every option a verb's help lists (the
    configuration options that come after its body included) is on the page, and each command of a verb
    with commands (pki certs, pki decrypt-certs, ...) has its section."""
    import re
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    page = subprocess.run(["bash", os.path.join(repo, "images", "deb", "manpage.sh"), kf_bin, "0.1"],
                          capture_output=True, text=True, check=True).stdout
    top = subprocess.run([kf_bin, "--help"], capture_output=True, text=True).stdout
    verbs = [l.split()[0] for l in top.split("Verbs:")[1].split("\n\n")[0].splitlines() if l.strip()]
    for v in verbs + ["pki decrypt-certs", "pki certs"]:
        full = subprocess.run([kf_bin, *v.split(), "--help"], capture_output=True, text=True).stdout
        glob = {"--root", "--allow-host", "--verbose", "--log-format", "--help", "--version"}
        for opt in sorted(set(re.findall(r"^\s+(--[a-z][a-z-]+)", full, re.M)) - glob):
            assert opt in page, f"{v}: {opt} is not on the page"
    assert '.SS "pki decrypt-certs"' in page and "--control-plane-endpoint" in page


def test_one_spelling_for_each_option(kf_bin):
    """One name, one meaning: TLS files are --cacert/--cert/--key everywhere (curl's and etcdctl's
    spelling); where metadata comes from is --metadata-url, the API server to discover --api-server,
    etcd's members --endpoints. No help offers another spelling."""
    import re
    top = subprocess.run([kf_bin, "--help"], capture_output=True, text=True).stdout
    verbs = [l.split()[0] for l in top.split("Verbs:")[1].split("\n\n")[0].splitlines() if l.strip()]
    seen = set()
    for v in verbs + ["pki certs", "pki decrypt-certs", "pki encrypt-certs", "etcd disk", "config validate"]:
        text = subprocess.run([kf_bin, *v.split(), "--help"], capture_output=True, text=True).stdout
        seen |= set(re.findall(r"--[a-z][a-z-]+", text))
    assert not seen & {"--ca-file", "--cert-file", "--key-file", "--endpoint", "--ca-cert"}, seen
    assert {"--cacert", "--cert", "--key", "--metadata-url", "--api-server", "--endpoints"} <= seen
