# SPDX-License-Identifier: Apache-2.0
"""config print / validate: the shipped examples (also checked by the real cloud-init schema), problems
listed with paths and sources, the merge order across image defaults, user-data, metadata tags and
flags, and secrets that never reach the output."""
import email
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
from ec2 import EC2  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(p for p in glob.glob(os.path.join(REPO, "images", "user-data", "*")) if not p.endswith(".md"))
TOKEN = "abcdef.0123456789abcdef"
CERTKEY = "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_examples_validate(kf, path):
    p = kf("config", "validate", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("valid")


def cloud_init_schema(path):
    if not shutil.which("cloud-init"):
        pytest.skip("cloud-init is not installed")
    return subprocess.run(["cloud-init", "schema", "--config-file", path], capture_output=True, text=True)


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.endswith(".cloud-config.yaml")], ids=os.path.basename)
def test_cloud_config_examples_pass_cloud_init_schema(path):
    p = cloud_init_schema(path)
    assert p.returncode == 0 and "Valid cloud-config" in p.stdout, p.stdout + p.stderr


def test_mime_example_cloud_config_part_passes_cloud_init_schema(tmp_path):
    with open(os.path.join(REPO, "images", "user-data", "mime-multipart.txt")) as f:
        msg = email.message_from_file(f)
    parts = [p for p in msg.walk() if p.get_content_type() == "text/cloud-config"]
    assert parts
    for i, part in enumerate(parts):
        out = tmp_path / f"part{i}.yaml"
        out.write_text(part.get_payload())
        p = cloud_init_schema(str(out))
        assert p.returncode == 0, p.stdout + p.stderr
    ours = [p for p in msg.walk() if p.get_content_type() == "application/vnd.kube-firstboot+yaml"]
    assert len(ours) == 1


def test_validate_lists_every_problem(kf, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking: {podSubnet: 10.244.0.0/33, servicesubnet: 10.96.0.0/12}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens: [{token: NOT-A-TOKEN}]
---
apiVersion: kube-firstboot.io/v1alpha1
kind: FirstbootConfiguration
role: leader
""")
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n")
    p = kf("config", "validate", good, bad)
    assert p.returncode == 2
    lines = [l.strip() for l in p.stderr.splitlines() if l.startswith("  ")]
    assert len(lines) == 4, p.stderr
    assert lines[0].startswith("ClusterConfiguration.networking.podSubnet: '10.244.0.0/33' is not a CIDR")
    assert f"(from {bad} (application/vnd.kube-firstboot+yaml), document 1)" in lines[0]
    assert "ClusterConfiguration.networking.servicesubnet: unknown field (did you mean 'serviceSubnet'?)" in lines[1]
    assert lines[2].startswith("InitConfiguration.bootstrapTokens[0].token: is not a bootstrap token")
    assert "NOT-A-TOKEN" not in p.stderr  # token-shaped values are never echoed
    assert lines[3].startswith("FirstbootConfiguration.role: 'leader' is not one of")


def test_validate_unreadable_and_empty_files(kf, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("#!/bin/sh\necho hi\n")
    p = kf("config", "validate", tmp_path / "missing.yaml", empty)
    assert p.returncode == 2
    assert "missing.yaml: cannot be read" in p.stderr
    assert "holds no configuration documents" in p.stderr


def test_usage_errors(kf):
    assert kf("config").returncode == 2
    assert kf("config", "show").returncode == 2
    assert kf("config", "print", "extra").returncode == 2
    assert kf("config", "print", "--role", "boss").returncode == 2
    assert kf("config", "--help").returncode == 0


def write(root, path, text, mode=0o644):
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    p.chmod(mode)


def test_print_merges_all_sources_and_redacts(kf, tmp_path):
    # Image defaults, in name order.
    write(tmp_path, "/etc/kube-firstboot/10-defaults.yaml", """apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: from-image
networking: {podSubnet: 10.1.0.0/16, dnsDomain: image.local}
""")
    # User-data (Ignition-style files datasource) overrides the image defaults.
    write(tmp_path, "/etc/kube-firstboot/user-data", f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: auto
    seed: {{rule: hostname, hostname: cp-1}}
    secrets:
      bootstrapToken: {{file: /run/kube-firstboot/secrets/token}}
      certificateKey: {{value: {CERTKEY}}}
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    clusterName: from-user-data
    controlPlaneEndpoint: api.example:6443
    networking: {{podSubnet: 10.2.0.0/16}}
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: JoinConfiguration
    discovery: {{bootstrapToken: {{unsafeSkipCAVerification: true}}}}
""")
    write(tmp_path, "/run/kube-firstboot/secrets/token", TOKEN + "\n", 0o600)
    write(tmp_path, "/etc/kube-firstboot/instance.json", json.dumps({
        "instanceId": "i-1", "hostname": "cp-1", "localIPv4": "10.0.0.5",
        "tags": {"kube-firstboot-control-plane-endpoint": "tag.example:6443"}}))
    p = kf("config", "print", "--datasource", "files", "--set", "ClusterConfiguration.networking.podSubnet=10.3.0.0/16",
           root=tmp_path)
    assert p.returncode == 0, p.stderr
    assert TOKEN not in p.stdout + p.stderr and CERTKEY not in p.stdout + p.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}
    assert list(docs) == ["FirstbootConfiguration", "InitConfiguration", "ClusterConfiguration", "JoinConfiguration"]
    c = docs["ClusterConfiguration"]
    assert c["clusterName"] == "from-user-data"
    assert c["networking"] == {"podSubnet": "10.3.0.0/16", "dnsDomain": "image.local", "serviceSubnet": "10.96.0.0/12"}
    assert c["controlPlaneEndpoint"] == "tag.example:6443"
    i = docs["InitConfiguration"]
    assert i["bootstrapTokens"][0]["token"] == "<redacted>"
    assert i["certificateKey"] == "<redacted>"
    assert i["nodeRegistration"]["name"] == "cp-1"
    assert i["localAPIEndpoint"] == {"advertiseAddress": "10.0.0.5", "bindPort": 6443}
    j = docs["JoinConfiguration"]
    assert j["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "tag.example:6443"
    assert j["discovery"]["tlsBootstrapToken"] == "<redacted>"
    assert j["controlPlane"]["certificateKey"] == "<redacted>"
    assert docs["FirstbootConfiguration"]["secrets"]["bootstrapToken"] == {"file": "/run/kube-firstboot/secrets/token"}

    # Flags win over everything; --role worker drops the init documents.
    p = kf("config", "print", "--datasource", "files", "--role", "worker", "--node-name", "w-9",
           "--set", "JoinConfiguration.controlPlane=null", root=tmp_path)
    assert p.returncode == 0, p.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}
    assert "InitConfiguration" not in docs
    assert docs["JoinConfiguration"]["nodeRegistration"]["name"] == "w-9"
    assert "controlPlane" not in docs["JoinConfiguration"]


def test_validate_effective_configuration_names_what_is_missing(kf, tmp_path):
    p = kf("config", "validate", "--datasource", "files", "--role", "control-plane", root=tmp_path)
    assert p.returncode == 2
    assert "JoinConfiguration.discovery.bootstrapToken.token: required to join" in p.stderr
    assert "JoinConfiguration.controlPlane.certificateKey: required for a control-plane join" in p.stderr


def test_role_tag_from_ec2_metadata(kf, tmp_path):
    ud = f"""#cloud-config
kube_firstboot: |
  apiVersion: kube-firstboot.io/v1alpha1
  kind: FirstbootConfiguration
  role: control-plane
  secrets:
    bootstrapToken: {{value: {TOKEN}}}
  ---
  apiVersion: kubeadm.k8s.io/v1beta4
  kind: JoinConfiguration
  discovery:
    bootstrapToken:
      apiServerEndpoint: api.example:6443
      caCertHashes: ["sha256:{'a' * 64}"]
""".encode()
    e = EC2(user_data=ud, tags={"kube-firstboot-role": "worker", "Name": "w"}).start()
    try:
        p = kf("config", "print", "--datasource", "ec2", "--metadata-url", e.url, root=tmp_path)
    finally:
        e.stop()
    assert p.returncode == 0, p.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}
    assert docs["FirstbootConfiguration"]["role"] == "worker"  # the tag beats the user-data
    assert TOKEN not in p.stdout
    # The EC2 identity document's private IP and local hostname become the node's.
    assert docs["JoinConfiguration"]["nodeRegistration"]["name"] == "ip-172-3-3-15.us-east-2.compute.internal"


def test_bad_tag_is_a_problem_with_its_source(kf, tmp_path):
    write(tmp_path, "/etc/kube-firstboot/instance.json", json.dumps({"tags": {"kube-firstboot-role": "boss"}}))
    p = kf("config", "validate", "--datasource", "files", root=tmp_path)
    assert p.returncode == 2
    assert "FirstbootConfiguration.role: 'boss' is not one of: auto, init, control-plane, worker " \
           "(from metadata tag 'kube-firstboot-role')" in p.stderr


def test_set_never_echoes_its_value(kf, tmp_path):
    p = kf("config", "validate", "--datasource", "files", "--role", "init",
           "--set", "InitConfiguration.certificateKey=not-hex-but-secret-0123456789", root=tmp_path)
    assert p.returncode == 2
    assert "InitConfiguration.certificateKey: is not a certificate key of 64 hex digits" in p.stderr
    assert "(from --set InitConfiguration.certificateKey)" in p.stderr
    assert "secret-0123456789" not in p.stderr


@pytest.mark.parametrize("version,why", [
    ("v1.39.0", "'v1.39.0' is not supported: kube-firstboot sets up Kubernetes 1.33 to 1.38"),
    ("v1.32.9", "'v1.32.9' is not supported: kube-firstboot sets up Kubernetes 1.33 to 1.38"),
    ("stable-1.40", "'stable-1.40' is not supported: kube-firstboot sets up Kubernetes 1.33 to 1.38"),
    ("1.36", "'1.36' is not a version such as v1.38.0 or a label (stable, stable-1, stable-1.38)"),
])
def test_unsupported_kubernetes_version_is_refused_by_every_verb(kf, tmp_path, version, why):
    """One validation path: what run refuses, config validate, config print, plan, preflight and pki certs
    refuse too, with exit 2, the field's name and the supported range, and nothing written."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: {version}\n"
                   "---\napiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n")
    root = tmp_path / "root"
    root.mkdir()
    verbs = [("config", "validate", cfg), ("config", "print", "--no-metadata", "--config", cfg),
             ("plan", "--no-metadata", "--config", cfg), ("run", "--no-metadata", "--config", cfg),
             ("preflight", "--no-metadata", "--config", cfg), ("pki", "certs", "--config", cfg)]
    for argv in verbs:
        p = kf(*argv, root=root)
        assert p.returncode == 2, (argv, p.returncode, p.stderr)
        assert f"ClusterConfiguration.kubernetesVersion: {why}" in p.stderr, (argv, p.stderr)
    # Only run's report of the refusal exists under the root.
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert written == ["run/kube-firstboot/status.json"], written
    st = json.loads((root / "run/kube-firstboot/status.json").read_text())
    assert st["result"] == "failure" and "configuration is not valid" in st["error"]["message"]


@pytest.mark.parametrize("minor", range(33, 39))
def test_every_supported_minor_and_its_label_validates(kf, tmp_path, minor):
    for version in (f"v1.{minor}.0", f"1.{minor}.3", f"stable-1.{minor}"):
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: {version}\n")
        p = kf("config", "validate", cfg)
        assert p.returncode == 0, (version, p.stderr)


def test_configuration_reference_is_the_schema(kf):
    """docs/configuration.md is what 'config reference' makes from the schema table that validates: it
    cannot drift. Every FirstbootConfiguration field says what it does."""
    p = kf("config", "reference", check_rc=0)
    with open(os.path.join(REPO, "docs", "configuration.md")) as f:
        assert p.stdout == f.read(), "docs/configuration.md is stale: kube-firstboot config reference > docs/configuration.md"
    rows = [l.split(" | ") for l in p.stdout.splitlines() if l.startswith("| `FirstbootConfiguration.")]
    assert len(rows) >= 30
    for r in rows:
        assert len(r) == 5 and r[3].strip(), r
    # Every field the reference names is accepted (and a near miss is not).
    doc = "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nreporting: {joinFile: /x}\n"
    assert kf("config", "validate", "/dev/stdin", input=doc).returncode == 0
    assert "reporting.joinfile: unknown field" in kf("config", "validate", "/dev/stdin",
                                                      input=doc.replace("joinFile", "joinfile")).stderr


def test_control_plane_vip_defaults_secret_and_problems(kf, tmp_path):
    """controlPlaneVIP (issue 18): provider, port and router id defaulted, controlPlaneEndpoint made from the
    address and port, the VRRP password a secret (redacted, fingerprinted by 'secrets check' from its file);
    a password keepalived cannot take and haproxy on the apiserver's port are problems."""
    def ud(vip):
        return f"""apiVersion: kube-firstboot.io/v1alpha1
kind: FirstbootConfiguration
role: init
controlPlaneVIP: {vip}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
"""
    write(tmp_path, "/run/vrrp", "pw-1234\n", 0o600)
    write(tmp_path, "/etc/kube-firstboot/user-data", ud("{address: 10.0.0.50, authentication: {value: vip-pass}}"))
    p = kf("config", "print", "--datasource", "files", root=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "vip-pass" not in p.stdout + p.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}
    vip = docs["FirstbootConfiguration"]["controlPlaneVIP"]
    assert vip == {"address": "10.0.0.50", "authentication": {"value": "<redacted>"}, "provider": "keepalived",
                   "port": 8443, "virtualRouterId": 51}, vip
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "10.0.0.50:8443"
    write(tmp_path, "/etc/kube-firstboot/user-data", ud("{address: 10.0.0.50, provider: kube-vip, "
                                                          "authentication: {file: /run/vrrp}}"))
    p = kf("config", "print", "--datasource", "files", root=tmp_path)
    assert p.returncode == 0, p.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "10.0.0.50:6443"
    p = kf("secrets", "check", "--datasource", "files", root=tmp_path)
    assert "vrrpPassword" in p.stdout and "pw-1234" not in p.stdout + p.stderr, p.stdout + p.stderr
    for vip, problem in (("{address: 10.0.0.50, authentication: {value: far-too-long}}", "is not a VRRP password"),
                         ("{address: 10.0.0.50, port: 6443}", "needs a port of its own"),
                         ("{address: 10.0.0.50, virtualRouterId: 300}", "not a VRRP virtual router id"),
                         ("{port: 8443}", "controlPlaneVIP.address: required")):
        write(tmp_path, "/etc/kube-firstboot/user-data", ud(vip))
        p = kf("config", "print", "--datasource", "files", root=tmp_path)
        assert p.returncode == 2 and problem in p.stderr, (vip, p.returncode, p.stderr)
        assert "far-too-long" not in p.stderr
