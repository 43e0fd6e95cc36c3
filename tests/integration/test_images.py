# SPDX-License-Identifier: Apache-2.0
"""images/: every example is a complete file that the real tools accept, and that kube-firstboot reads
the way the platform hands it over: cloud-init schema (and net-convert for network-config), the real
cloud-init stages in a sandbox, the IMDS and OpenStack emulators, guestinfo through a stand-in
vmware-rpctool, cloud-init's OVF datasource, NoCloud and config-drive volumes found by libblkid,
ignition-validate and the real Ignition fetch and files stages, packer validate."""
import base64
import gzip
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import xml.dom.minidom

import pytest
import yaml

import cisandbox
from unitcheck import REPO, UNITS, can_verify, problems, verify

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
import media  # noqa: E402
from aws import AWSSecrets  # noqa: E402
from azure import Azure, KeyVault  # noqa: E402
from ec2 import EC2  # noqa: E402
from gce import GCE, GCPSecretManager  # noqa: E402
from openstack import OpenStack  # noqa: E402

IMAGES = os.path.join(REPO, "images")
IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition"
CLOUD_CONFIGS = sorted(
    [os.path.join(d, f) for d, _, fs in os.walk(IMAGES) for f in fs
     if f.endswith(".cloud-config.yaml") and os.path.basename(d) != "user-data"]
    + [os.path.join(IMAGES, "nocloud", "user-data"), os.path.join(IMAGES, "user-data", "runcmd.cloud-config.yaml")])

needs_sandbox = pytest.mark.skipif(not cisandbox.available(), reason="needs root, unshare and cloud-init")


def img(*rel):
    return os.path.join(IMAGES, *rel)


def read(*rel, mode="r"):
    with open(img(*rel), mode) as f:
        return f.read()


def kf_json(kf, *args, **kw):
    p = kf(*args, **kw)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def kf_docs(kf, *args, **kw):
    p = kf("config", "print", *args, **kw)
    assert p.returncode == 0, p.stderr
    return {d["kind"]: d for d in yaml.safe_load_all(p.stdout)}, p.stdout


def served_config(kf, server, datasource, root):
    """kube-firstboot's merged configuration read from a metadata server double (started and stopped
    here), and `config validate` of the same: (documents by kind, printed text, validate's result)."""
    e = server.start()
    try:
        docs, text = kf_docs(kf, "--datasource", datasource, "--metadata-url", e.url, root=root)
        return docs, text, kf("config", "validate", "--datasource", datasource, "--metadata-url", e.url, root=root)
    finally:
        e.stop()


# ---- every cloud-config ----

@pytest.mark.parametrize("path", CLOUD_CONFIGS, ids=lambda p: os.path.relpath(p, IMAGES))
def test_cloud_config_passes_cloud_init_schema(path):
    if not shutil.which("cloud-init"):
        pytest.skip("cloud-init is not installed")
    p = subprocess.run(["cloud-init", "schema", "--config-file", path], capture_output=True, text=True)
    assert p.returncode == 0 and "Valid cloud-config" in p.stdout, p.stdout + p.stderr


@pytest.mark.parametrize("path", CLOUD_CONFIGS, ids=lambda p: os.path.relpath(p, IMAGES))
def test_cloud_config_passes_kube_firstboot_validate(kf, path):
    p = kf("config", "validate", path)
    assert p.returncode == 0 and p.stdout.startswith("valid"), p.stdout + p.stderr


def test_schema_check_can_fail(tmp_path):
    if not shutil.which("cloud-init"):
        pytest.skip("cloud-init is not installed")
    bad = tmp_path / "bad.yaml"
    bad.write_text(read("nocloud", "user-data").replace("timezone: UTC", "timezone: [UTC]"))
    assert subprocess.run(["cloud-init", "schema", "--config-file", str(bad)], capture_output=True).returncode != 0


# ---- NoCloud ----

def nocloud_seed():
    return {n: read("nocloud", n, mode="rb") for n in ("user-data", "meta-data", "network-config")}


def test_nocloud_network_config_through_cloud_init_renderer(tmp_path):
    """cloud-init's own parser and networkd renderer accept network-config (schema does not look at it)."""
    if not shutil.which("cloud-init"):
        pytest.skip("cloud-init is not installed")
    p = subprocess.run(["cloud-init", "devel", "net-convert", "-p", img("nocloud", "network-config"), "-k", "yaml",
                        "-d", str(tmp_path), "-D", "debian", "-O", "networkd"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    net = (tmp_path / "etc/systemd/network/10-cloud-init-eth0.network").read_text()
    assert "Address=10.0.2.15/24" in net and "MACAddress=52:54:00:4b:46:01" in net and "Gateway=10.0.2.2" in net


@pytest.mark.parametrize("kind", ["iso", "vfat"])
def test_nocloud_seed_volume(kf, tmp_path, kind):
    """The seed as users make it (genisoimage, or mkfs.vfat + mcopy), read by kube-firstboot as a volume
    image, and found by its label through libblkid on a loop device when this machine has them."""
    make = media.make_iso if kind == "iso" else media.make_vfat
    seed = make(str(tmp_path / f"seed.{kind}"), "cidata", nocloud_seed())
    v = kf_json(kf, "metadata", "--datasource", "nocloud", "--device", seed, root=tmp_path)
    assert (v["instanceId"], v["hostname"], v["localIPv4"]) == ("iid-kf-lab-cp-1", "lab-cp-1", "10.0.2.15")
    docs, _ = kf_docs(kf, "--datasource", "nocloud", "--device", seed, root=tmp_path)
    assert docs["FirstbootConfiguration"]["role"] == "init"
    assert docs["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "10.0.2.15"
    assert docs["InitConfiguration"]["nodeRegistration"]["name"] == "lab-cp-1"
    assert docs["ClusterConfiguration"]["clusterName"] == "lab"
    if not media.can_loop():
        return
    with media.Loop(seed) as dev:
        v = kf_json(kf, "metadata", "--allow-host", root=tmp_path)  # found by label on this machine
    assert v["datasource"] == "nocloud" and v["source"].startswith(f"config-disk ({dev}")
    assert v["instanceId"] == "iid-kf-lab-cp-1"


@needs_sandbox
def test_nocloud_under_real_cloud_init_then_kube_firstboot(kf_bin, tmp_path):
    """cloud-init's stages on the seed, then kube-firstboot on the same machine (the unit starts after
    cloud-final): it reads cloud-init's outputs and gets the same configuration."""
    r = cisandbox.run(tmp_path, {"nocloud": nocloud_seed()}, ["NoCloud"], links={"eth0": "52:54:00:4b:46:01"},
                      after=f"{kf_bin} metadata > $OUT/md.json && {kf_bin} config print > $OUT/config.yaml")
    assert "status: done" in r.status, r.status + r.log[-3000:]
    assert "DataSourceNoCloud" in r.status
    assert r.upper("etc", "hostname").read_text().strip() == "lab-cp-1"
    net = r.upper("etc", "systemd/network/10-cloud-init-eth0.network").read_text()
    assert "Address=10.0.2.15/24" in net
    assert r.text("after.rc").strip() == "0", r.text("after.err")
    md = json.loads(r.text("md.json"))
    assert md["datasource"] == "cloud-init" and md["instanceId"] == "iid-kf-lab-cp-1"
    docs = {d["kind"]: d for d in yaml.safe_load_all(r.text("config.yaml"))}
    assert docs["FirstbootConfiguration"]["role"] == "init"
    assert docs["InitConfiguration"]["nodeRegistration"]["name"] == "lab-cp-1"
    assert docs["ClusterConfiguration"]["clusterName"] == "lab"
    # cloud-init's instance data has no address for NoCloud (the seed's network-config is applied, not
    # reported): the node's address is found on its interfaces at run time, or read from the seed itself.
    assert md["localIPv4"] is None


# ---- cloud-init runcmd, the other way to start it ----

@needs_sandbox
def test_runcmd_way_runs_kube_firstboot_once_marked_before_it_starts(kf_bin, tmp_path):
    """runcmd starts kube-firstboot in cloud-init's final stage, with the user-data cloud-init got. The
    semaphore that makes cloud-init skip it at the next boot exists while it runs: a reboot in the
    middle of the run would not run it again (why the unit is the default)."""
    wrapper = tmp_path / "kube-firstboot"
    wrapper.write_text(f"""#!/bin/sh
ls /var/lib/cloud/instance/sem/ > "$OUT/sem-at-start"
echo "$@" > "$OUT/argv"
{kf_bin} "$@"
echo $? > "$OUT/rc"
""")
    wrapper.chmod(0o755)
    ud = read("user-data", "runcmd.cloud-config.yaml", mode="rb")
    seed = {"user-data": ud, "meta-data": b"instance-id: iid-runcmd\nlocal-hostname: runcmd-1\n"}
    # An address and a default route, from which the run picks the node's address.
    pre = ("ip link add eth0 type veth peer name eth0-peer && ip link set eth0 up && ip link set eth0-peer up && "
           "ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2")
    r = cisandbox.run(tmp_path, {"nocloud": seed}, ["NoCloud"], pre=pre, bindir={"kube-firstboot": str(wrapper)})
    assert r.text("argv").strip() == "run", r.log[-3000:]
    assert "config_scripts_user" in r.text("sem-at-start").split()
    rc = int(r.text("rc"))
    status = r.run_copy / "kube-firstboot" / "status.json"
    # No container runtime and no kubelet in the sandbox: kubeadm's preflight checks stop the run, and
    # status.json says so.
    st = json.loads(status.read_text())
    assert rc == 1, st
    assert st["role"] == "init" and st["result"] == "failure", st
    assert st["error"]["phase"] == "preflight" and "checks failed" in st["error"]["message"], st
    log = r.upper("var", "log/cloud-init-output.log").read_text()
    # The run's output is in cloud-init's log, and only there.
    assert "Role: init" in log and "[ERROR CRI]" in log, log[-3000:]


# ---- EC2 ----

# The CA the control-plane user-data carries, as cloud-init's write_files would have put it on disk.
def write_test_ca(root, pki):
    d = root / "etc/kubernetes/pki"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(pki.ca_cert, d / "ca.crt")
    shutil.copy(pki.ca_key, d / "ca.key")


@pytest.mark.parametrize("name", ["control-plane", "control-plane-secret-store", "worker"])
def test_ec2_launch_template_carries_the_user_data(name):
    lt = json.loads(read("ec2", f"{name}-launch-template.json"))
    ud = base64.b64decode(lt["UserData"], validate=True)
    assert ud == read("ec2", f"{name}.cloud-config.yaml", mode="rb"), \
        f"UserData is not base64 of {name}.cloud-config.yaml: regenerate it (base64 -w0)"
    assert len(ud) <= 16 * 1024  # EC2's user-data limit, before base64
    mo = lt["MetadataOptions"]
    assert mo["HttpTokens"] == "required" and mo["HttpPutResponseHopLimit"] == 1
    assert mo["InstanceMetadataTags"] == "enabled"
    # With tags in the instance metadata, EC2 refuses tag keys with '/'.
    for spec in lt["TagSpecifications"]:
        assert not any("/" in t["Key"] for t in spec["Tags"]), spec


def test_ec2_control_plane_user_data_through_imds(kf, tmp_path, pki):
    """Three control planes get the same user-data; kube-firstboot reads it over IMDSv2 and finds the
    auto role with its seed rule, the shared secrets and the endpoint."""
    write_test_ca(tmp_path, pki)
    docs, text, p = served_config(kf, EC2(user_data=read("ec2", "control-plane.cloud-config.yaml", mode="rb"),
                                          tags={"Name": "k8s-control-plane"}), "ec2", tmp_path)
    assert p.returncode == 0, p.stderr  # complete for its role
    fb = docs["FirstbootConfiguration"]
    assert fb["role"] == "auto"
    assert fb["seed"] == {"rule": "lowestAddress", "peers": ["10.0.1.10", "10.0.2.10", "10.0.3.10"]}
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "k8s-api.internal.example:6443"
    assert "abcdef.0123456789abcdef" not in text and "3c1f8d0e5a7b92c4" not in text  # secrets redacted
    lt = json.loads(read("ec2", "control-plane-launch-template.json"))
    assert lt["NetworkInterfaces"][0]["PrivateIpAddress"] in fb["seed"]["peers"]


def test_ec2_worker_user_data_through_imds(kf, tmp_path):
    docs, _, p = served_config(kf, EC2(user_data=read("ec2", "worker.cloud-config.yaml", mode="rb")), "ec2", tmp_path)
    assert p.returncode == 0, p.stderr
    assert docs["FirstbootConfiguration"]["role"] == "worker"
    join = docs["JoinConfiguration"]
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "k8s-api.internal.example:6443"
    # The node's name comes from the instance (the identity document's private DNS name).
    assert join["nodeRegistration"]["name"].endswith(".compute.internal")


# ---- user-data that holds no secret: the stores (issue 17) ----

STORE_EXAMPLES = {"ec2": ("ec2", "control-plane-secret-store.cloud-config.yaml"),
                  "gce": ("gcp", "control-plane.cloud-config.yaml"),
                  "azure": ("azure", "control-plane.cloud-config.yaml")}


def example_secrets(pki):
    with open(pki.ca_key) as f:
        return {"certificateKey": "3c1f8d0e5a7b92c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1",
                "bootstrapToken": "k8sprd.0123456789abcdef", "caKey": f.read()}


@pytest.mark.parametrize("ds", sorted(STORE_EXAMPLES))
def test_store_example_holds_no_secret(ds):
    import re
    text = read(*STORE_EXAMPLES[ds])
    assert "PRIVATE KEY" not in text and "value:" not in text and "keyFile" not in text
    # A CA pin (sha256:...) is public; a bare run of 64 hex digits would be a certificate key.
    assert not re.search(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", text) and not re.search(r"(?<!sha256:)\b[0-9a-f]{64}\b", text)


@pytest.mark.parametrize("ds", sorted(STORE_EXAMPLES))
def test_store_example_through_the_emulators(kf, tmp_path, pki, ds):
    """The example's user-data from the platform's metadata emulator, its three secrets from the store's
    emulator (only the endpoint overridden, with --set): secrets check reads each with the instance's
    identity, and the configuration is complete for its role, the CA key matching the certificate."""
    ud = read(*STORE_EXAMPLES[ds])
    doc = next(d for d in yaml.safe_load(ud)["kube_firstboot"] if d["kind"] == "FirstbootConfiguration")
    values = example_secrets(pki)
    write_test_ca(tmp_path, pki)
    os.unlink(tmp_path / "etc/kubernetes/pki/ca.key")  # only the certificate comes with the user-data
    started = []
    try:
        if ds == "ec2":
            md = EC2(role="kube-control-plane-secrets", user_data=ud.encode())
            store = AWSSecrets(md)
            for name, src in doc["secrets"].items():
                if "awsSecretsManager" in src:
                    store.put_secret(src["awsSecretsManager"]["secretId"], values[name])
                else:
                    store.put_parameter(src["awsSsmParameter"]["name"], values[name])
        elif ds == "gce":
            md = GCE(attributes={"user-data": ud})
            store = GCPSecretManager(md)
            for name, src in doc["secrets"].items():
                store.put(src["gcpSecretManager"]["name"].removesuffix("/versions/latest"), values[name])
        else:
            md = Azure(user_data=base64.b64encode(ud.encode()).decode())
            store = KeyVault(md)
            for name, src in doc["secrets"].items():
                store.put(src["azureKeyVault"]["name"], values[name])
                md.client_ids.add(src["azureKeyVault"]["clientId"])
        for e in (md, store):
            started.append(e.start())
        sets = []
        for name, src in doc["secrets"].items():
            kind = next(iter(src))
            field = "vaultUrl" if kind == "azureKeyVault" else "endpoint"
            sets += ["--set", f"FirstbootConfiguration.secrets.{name}.{kind}.{field}={store.url}"]
        args = ["--datasource", ds, "--metadata-url", md.url, *sets]
        p = kf("secrets", "check", *args, root=tmp_path)
        assert p.returncode == 0, p.stdout + p.stderr
        got = {ln.split()[0]: ln.split()[1] for ln in p.stdout.splitlines()}
        import hashlib
        assert got == {k: "sha256:" + hashlib.sha256(v.strip().encode()).hexdigest() for k, v in values.items()}
        v = kf("config", "validate", *args, root=tmp_path)
        assert v.returncode == 0, v.stderr
        out = p.stdout + p.stderr + v.stdout + v.stderr
        assert not [x for x in values.values() if x.strip().splitlines()[0 if len(x) < 100 else 1] in out]
    finally:
        for e in started:
            e.stop()


def test_ec2_store_policy_grants_what_the_example_reads():
    """The role's policy: every action is an operation of the service in botocore's own models, and its
    resources cover the secrets and the parameter the example names (in the policy's region and account)."""
    import fnmatch

    import botocore.session
    policy = json.loads(read("ec2", "control-plane-secret-store-policy.json"))
    session = botocore.session.get_session()
    actions = {}
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        for a in [st["Action"]] if isinstance(st["Action"], str) else st["Action"]:
            service, op = a.split(":")
            assert op in session.get_service_model(service).operation_names, a
            actions[a] = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
    ud = yaml.safe_load(read("ec2", "control-plane-secret-store.cloud-config.yaml"))
    fb = next(d for d in ud["kube_firstboot"] if d["kind"] == "FirstbootConfiguration")
    arn = "arn:aws:{}:eu-west-1:123456789012:{}"
    for src in fb["secrets"].values():
        if "awsSecretsManager" in src:
            want = arn.format("secretsmanager", f"secret:{src['awsSecretsManager']['secretId']}-AbCdEf")
            pats = actions["secretsmanager:GetSecretValue"]
        else:
            want = arn.format("ssm", f"parameter{src['awsSsmParameter']['name']}")
            pats = actions["ssm:GetParameter"]
        assert any(fnmatch.fnmatchcase(want, pat) for pat in pats), (want, pats)
    assert "kms:Decrypt" in actions


# ---- vSphere ----

def vmx_values():
    out = {}
    for line in read("vsphere", "guestinfo-cp-1.vmx").splitlines():
        k, _, v = line.partition(" = ")
        out[k.strip()] = v.strip().strip('"')
    return out


def decode_guestinfo(value, encoding):
    raw = base64.b64decode(value, validate=True)
    return gzip.decompress(raw) if encoding in ("gzip+base64", "gz+b64") else raw


def test_vsphere_vmx_holds_the_files():
    v = vmx_values()
    assert set(v) == {"guestinfo.metadata", "guestinfo.metadata.encoding", "guestinfo.userdata",
                      "guestinfo.userdata.encoding"}
    assert decode_guestinfo(v["guestinfo.metadata"], v["guestinfo.metadata.encoding"]) == \
        read("vsphere", "metadata-cp-1.yaml", mode="rb")
    assert v["guestinfo.userdata.encoding"] == "gzip+base64"
    assert decode_guestinfo(v["guestinfo.userdata"], v["guestinfo.userdata.encoding"]) == \
        read("vsphere", "user-data.cloud-config.yaml", mode="rb")


def fake_vmware_tools(tmp_path, values):
    """vmware-rpctool that answers "info-get guestinfo.KEY" from `values`, as the real one does."""
    bindir, store = tmp_path / "bin", tmp_path / "guestinfo"
    bindir.mkdir()
    store.mkdir()
    for k, v in values.items():
        (store / k[len("guestinfo."):]).write_text(v)
    tool = bindir / "vmware-rpctool"
    tool.write_text(f"""#!/bin/sh
key=${{1#info-get guestinfo.}}
[ -f "{store}/$key" ] && exec cat "{store}/$key"
echo "No value found" >&2; exit 1
""")
    tool.chmod(0o755)
    return {"PATH": f"{bindir}:/usr/bin:/bin"}


def test_vsphere_guestinfo_through_kube_firstboot(kf, tmp_path, pki):
    root = tmp_path / "root"
    write_test_ca(root, pki)
    env = fake_vmware_tools(tmp_path, vmx_values())
    # The guestinfo comes from this machine's vmware-rpctool (a stand-in): --allow-host.
    v = kf_json(kf, "metadata", "--datasource", "vmware", "--allow-host", root=root, env=env)
    assert (v["instanceId"], v["hostname"], v["localIPv4"]) == ("k8s-cp-1", "k8s-cp-1", "192.168.10.11")
    docs, _ = kf_docs(kf, "--datasource", "vmware", "--allow-host", root=root, env=env)
    fb = docs["FirstbootConfiguration"]
    assert fb["role"] == "auto" and v["localIPv4"] == min(fb["seed"]["peers"])  # this clone is the seed
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "192.168.10.10:6443"
    p = kf("config", "validate", "--datasource", "vmware", "--allow-host", root=root, env=env)
    assert p.returncode == 0, p.stderr


def test_vsphere_ovf_properties_match_the_environment():
    ns = "http://schemas.dmtf.org/ovf/envelope/1"
    prod = xml.dom.minidom.parseString(read("vsphere", "ovf-properties.xml", mode="rb"))
    declared = {p.getAttributeNS(ns, "key") for p in prod.getElementsByTagNameNS(ns, "Property")}
    env_ns = "http://schemas.dmtf.org/ovf/environment/1"
    env = xml.dom.minidom.parseString(read("vsphere", "ovf-env.xml", mode="rb"))
    given = {p.getAttributeNS(env_ns, "key"): p.getAttributeNS(env_ns, "value")
             for p in env.getElementsByTagNameNS(env_ns, "Property")}
    assert declared == set(given) == {"instance-id", "hostname", "user-data"}
    assert base64.b64decode(given["user-data"]) == read("vsphere", "user-data.cloud-config.yaml", mode="rb")


@needs_sandbox
def test_vsphere_ovf_environment_under_real_cloud_init(kf_bin, tmp_path, pki):
    """cloud-init's OVF datasource reads ovf-env.xml (the ISO transport puts it where cloud-init finds
    it; here its seed directory), and kube-firstboot reads what cloud-init made of it."""
    ca = tmp_path / "ca"
    write_test_ca(ca, pki)
    # cloud-init's OVF datasource needs the DMI product name of a vSphere VM. This machine has no DMI and
    # looks like a container (where cloud-init reads no DMI at all), so two stand-ins play the VM:
    # systemd-detect-virt says "not a container", dmidecode answers as a vSphere 7 VM's firmware does.
    if os.path.exists("/sys/class/dmi/id/product_name"):
        pytest.skip("this machine has DMI data: the stand-in dmidecode would not be asked")
    stand_ins = {"dmidecode": '[ "$2" = system-product-name ] && echo "VMware7,1" && exit 0\nexit 1',
                 "systemd-detect-virt": 'case "$*" in *--container*) exit 1 ;; esac\necho vmware'}
    for name, body in stand_ins.items():
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    after = (f"mkdir -p /etc/kubernetes/pki && cp {ca}/etc/kubernetes/pki/* /etc/kubernetes/pki/ && "
             f"{kf_bin} metadata > $OUT/md.json && {kf_bin} config print > $OUT/config.yaml")
    # DataSourceOVF looks for ovf-env.xml in /var/lib/cloud/seed/ itself.
    r = cisandbox.run(tmp_path, {"": {"ovf-env.xml": read("vsphere", "ovf-env.xml", mode="rb")}}, ["OVF"],
                      after=after, bindir={n: str(tmp_path / n) for n in stand_ins})
    assert "status: done" in r.status and "DataSourceOVF" in r.status, r.status + r.log[-3000:]
    assert r.upper("etc", "hostname").read_text().strip() == "k8s-cp-1"
    assert r.text("after.rc").strip() == "0", r.text("after.err")
    md = json.loads(r.text("md.json"))
    assert md["datasource"] == "cloud-init" and md["instanceId"] == "k8s-cp-1"
    docs = {d["kind"]: d for d in yaml.safe_load_all(r.text("config.yaml"))}
    assert docs["FirstbootConfiguration"]["role"] == "auto"
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "192.168.10.10:6443"


# ---- OpenStack ----

def test_openstack_metadata_service(kf, tmp_path):
    docs, _, p = served_config(kf, OpenStack(user_data=read("openstack", "user-data.cloud-config.yaml", mode="rb")),
                               "openstack", tmp_path)
    assert p.returncode == 0, p.stderr
    assert docs["FirstbootConfiguration"]["role"] == "worker"
    join = docs["JoinConfiguration"]
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "10.20.0.10:6443"
    assert join["nodeRegistration"]["name"] == "sm-foo-test.novalocal"


@pytest.mark.parametrize("kind", ["iso", "vfat"])
def test_openstack_config_drive(kf, tmp_path, kind):
    files = media.tree_files(os.path.join(REPO, "tests", "fixtures", "metadata", "openstack", "configdrive-cloudinit"))
    files["openstack/latest/user_data"] = read("openstack", "user-data.cloud-config.yaml", mode="rb")
    drive = (media.make_iso if kind == "iso" else media.make_vfat)(str(tmp_path / f"cd.{kind}"), "config-2", files)
    docs, _ = kf_docs(kf, "--datasource", "configdrive", "--device", drive, root=tmp_path)
    assert docs["FirstbootConfiguration"]["role"] == "worker"
    assert docs["JoinConfiguration"]["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "10.20.0.10:6443"


# ---- Ignition (Flatcar, Fedora CoreOS) ----

needs_ignition = pytest.mark.skipif(not (os.access(IGNITION, os.X_OK) and shutil.which("ignition-validate")),
                                    reason="needs Debian's ignition package")


def ign():
    return json.loads(read("ignition", "kube-firstboot.ign"))


def butane():
    return yaml.safe_load(read("ignition", "kube-firstboot.bu"))


def data_url(source):
    """The bytes of an RFC 2397 data: URL, as Ignition reads them."""
    head, _, data = source.partition(",")
    assert head.startswith("data:")
    return base64.b64decode(data) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(data)


@needs_ignition
def test_ignition_validate(tmp_path):
    p = subprocess.run(["ignition-validate", img("ignition", "kube-firstboot.ign")], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout + p.stderr == "", p.stdout + p.stderr
    bad = ign()
    bad["storage"]["files"][1]["mode"] = "0600"
    (tmp_path / "bad.ign").write_text(json.dumps(bad))
    assert subprocess.run(["ignition-validate", str(tmp_path / "bad.ign")], capture_output=True).returncode != 0


def test_ignition_json_is_the_butane_source():
    """The JSON was written by hand (butane is not packaged in Debian 12): every file and unit in it is
    the one its Butane source describes, and the unit is units/kube-firstboot.service as it is."""
    j, b = ign(), butane()
    assert b["variant"] == "flatcar" and b["version"] == "1.0.0" and j["ignition"]["version"] == "3.3.0"
    assert [f["path"] for f in j["storage"]["files"]] == [f["path"] for f in b["storage"]["files"]]
    for jf, bf in zip(j["storage"]["files"], b["storage"]["files"]):
        assert jf["mode"] == bf["mode"], jf["path"]
        c = bf["contents"]
        if "inline" in c:
            assert data_url(jf["contents"]["source"]).decode() == c["inline"], jf["path"]
        else:
            assert jf["contents"]["source"] == c["source"]
            assert jf["contents"]["verification"] == c["verification"]
    assert len(j["systemd"]["units"]) == len(b["systemd"]["units"]) == 1
    ju, bu = j["systemd"]["units"][0], b["systemd"]["units"][0]
    assert ju == {"name": bu["name"], "enabled": bu["enabled"], "contents": bu["contents"], "dropins": bu["dropins"]}
    assert ju["contents"] == open(os.path.join(UNITS, "kube-firstboot.service")).read(), \
        "the Ignition unit differs from units/kube-firstboot.service: update kube-firstboot.bu and .ign"


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """An HTTP server on loopback for `directory`, in a thread; returns (server, base URL)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          lambda *a, **kw: _Files(*a, directory=str(directory), **kw))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def ignition_apply(tmp_path, config, root):
    """Ignition's fetch-offline, fetch and files stages (what runs in the initramfs) into ROOT. Debian's
    build always relabels for SELinux, so a no-op setfiles and an SELinux config stand in."""
    w = tmp_path / "ignition-work"
    (w / "bin").mkdir(parents=True)
    (root / "etc/selinux").mkdir(parents=True, exist_ok=True)
    (root / "etc/selinux/config").write_text("SELINUX=disabled\nSELINUXTYPE=targeted\n")
    (w / "bin/setfiles").write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    (w / "bin/setfiles").chmod(0o755)
    (w / "config.ign").write_text(json.dumps(config))
    env = dict(os.environ, PATH=f"{w}/bin:/usr/sbin:/usr/bin:/sbin:/bin", IGNITION_CONFIG_FILE=str(w / "config.ign"))
    common = [IGNITION, "-platform", "file", "-root", str(root), "-config-cache", str(w / "cache.json"),
              "-state-file", str(w / "state"), "-neednet", str(w / "neednet"), "-log-to-stdout"]
    log = ""
    for stage in ("fetch-offline", "fetch", "files"):
        p = subprocess.run(common + ["-stage", stage], env=env, capture_output=True, text=True, timeout=120)
        log += p.stdout + p.stderr
        if p.returncode != 0:
            return p.returncode, log
    return 0, log


@needs_ignition
def test_ignition_files_stage_writes_the_node(kf, kf_bin, tmp_path):
    srv, url = serve(os.path.dirname(kf_bin))
    try:
        config = ign()
        digest = subprocess.run(["sha512sum", kf_bin], capture_output=True, text=True, check=True).stdout.split()[0]
        binary = config["storage"]["files"][0]
        binary["contents"] = {"source": f"{url}/{os.path.basename(kf_bin)}",
                              "verification": {"hash": f"sha512-{digest}"}}
        root = tmp_path / "root"
        rc, log = ignition_apply(tmp_path, config, root)
        assert rc == 0, log
        # A wrong digest fails the files stage: the binary is checked, not just fetched.
        binary["contents"]["verification"]["hash"] = "sha512-" + "0" * 128
        rc, bad_log = ignition_apply(tmp_path / "bad", config, tmp_path / "bad-root")
        assert rc != 0 and "hash" in bad_log.lower(), bad_log
    finally:
        srv.shutdown()
    st = os.stat(root / "opt/bin/kube-firstboot")
    assert oct(st.st_mode & 0o7777) == "0o755"
    assert (root / "opt/bin/kube-firstboot").read_bytes() == open(kf_bin, "rb").read()
    ud = root / "etc/kube-firstboot/user-data"
    assert oct(os.stat(ud).st_mode & 0o7777) == "0o600"
    assert ud.read_text() == butane()["storage"]["files"][1]["contents"]["inline"]
    unit = root / "etc/systemd/system/kube-firstboot.service"
    assert unit.read_text() == open(os.path.join(UNITS, "kube-firstboot.service")).read()
    assert (root / "etc/systemd/system/kube-firstboot.service.d/10-ignition.conf").exists()
    # enabled: true is a preset, applied by systemd at the first boot (here: systemctl preset).
    assert "enable kube-firstboot.service" in (root / "etc/systemd/system-preset/20-ignition.preset").read_text()
    p = subprocess.run(["systemctl", f"--root={root}", "preset", "kube-firstboot.service"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert os.readlink(root / "etc/systemd/system/multi-user.target.wants/kube-firstboot.service") == \
        "/etc/systemd/system/kube-firstboot.service"
    # What the unit will read at boot: the files datasource finds the user-data Ignition wrote.
    docs, _ = kf_docs(kf, "--datasource", "files", root=root)
    assert docs["FirstbootConfiguration"]["role"] == "worker"
    assert docs["JoinConfiguration"]["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "k8s-api.internal.example:6443"
    if can_verify():
        rc, out = verify(tmp_path / "v", [unit], stubs=("/opt/bin/kube-firstboot",))
        assert rc == 0 and problems(out) == [], out


# ---- Packer ----

@pytest.mark.skipif(not shutil.which("packer"), reason="packer is not installed")
def test_packer_template_validates(tmp_path):
    deb = tmp_path / "kube-firstboot_0.1.0_amd64.deb"
    deb.write_bytes(b"!<arch>\n")  # packer checks that the file to upload exists
    env = dict(os.environ, CHECKPOINT_DISABLE="1", PACKER_CONFIG_DIR=str(tmp_path), HOME=str(tmp_path))
    hcl = img("packer", "kube-firstboot.pkr.hcl")
    p = subprocess.run(["packer", "validate", "-var", f"deb={deb}", hcl], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["packer", "fmt", "-check", hcl], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["packer", "validate", "-var", f"deb={tmp_path}/missing.deb", hcl], capture_output=True,
                       text=True, env=env)
    assert p.returncode != 0 and "missing.deb" in p.stdout + p.stderr
    p = subprocess.run(["sh", "-n", img("packer", "install-kube-firstboot.sh")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


# ---- every example plans ----

def example_user_data():
    """(name, user-data bytes) of every user-data example in images/: cloud-configs, plain documents,
    MIME, the Ignition config's /etc/kube-firstboot/user-data, vSphere's and the NoCloud seed's."""
    out = []
    for d, _, fs in sorted(os.walk(IMAGES)):
        for f in sorted(fs):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, IMAGES)
            if f.endswith(".cloud-config.yaml") or rel in ("user-data/mime-multipart.txt",
                                                           "user-data/plain-documents.yaml", "nocloud/user-data"):
                with open(p, "rb") as fh:
                    out.append((rel, fh.read()))
    ign = json.loads(read("ignition", "kube-firstboot.ign"))
    for f in ign["storage"]["files"]:
        if f["path"] == "/etc/kube-firstboot/user-data":
            src = f["contents"]["source"]
            assert src.startswith("data:,")
            out.append(("ignition/kube-firstboot.ign", urllib.parse.unquote(src[len("data:,"):]).encode()))
    return out


def simulated_node(root, user_data, pki, second=False):
    """A root as the image and cloud-init leave it: the user-data for the files datasource, write_files
    written (the CA placeholders replaced by a test CA), the secret files examples name, and an instance
    whose address is the lowest seed peer (the seed) or, with second, the next one."""
    ud = root / "etc/kube-firstboot/user-data"
    ud.parent.mkdir(parents=True, exist_ok=True)
    ud.write_bytes(user_data)
    text = user_data.decode()
    address, instance_id = "10.0.0.11", "i-0a1b2c3d4e5f60718"
    if text.startswith("#cloud-config"):
        cc = yaml.safe_load(text)
        for wf in cc.get("write_files", []):
            content = wf["content"]
            if "(your cluster CA certificate)" in content:
                content = open(pki.ca_cert).read()
            if "(your cluster CA key)" in content:
                content = open(pki.ca_key).read()
            p = root / wf["path"].lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
    docs = []
    if text.startswith("#cloud-config"):
        kf_docs_ = yaml.safe_load(text).get("kube_firstboot") or []
        docs = (list(yaml.safe_load_all(kf_docs_)) if isinstance(kf_docs_, str)
                else [dict(kf_docs_, kind="FirstbootConfiguration")] if isinstance(kf_docs_, dict) and "kind" not in kf_docs_
                else kf_docs_ if isinstance(kf_docs_, list) else [kf_docs_])
    elif not text.startswith("Content-Type"):
        docs = list(yaml.safe_load_all(text))
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "FirstbootConfiguration":
            peers = sorted(doc.get("seed", {}).get("peers", []), key=lambda a: tuple(map(int, a.split("."))))
            if peers:
                address = peers[1 if second else 0]
    sec = root / "run/kube-firstboot/secrets"
    sec.mkdir(parents=True, exist_ok=True)
    (sec / "bootstrap-token").write_text("abcdef.0123456789abcdef\n")
    (sec / "certificate-key").write_text("3c1f8d0e5a7b92c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1\n")
    shutil.copy(pki.ca_key, sec / "ca-key")
    (root / "etc/kube-firstboot/instance.json").write_text(json.dumps(
        {"instanceId": instance_id if not second else "i-other", "hostname": "node-1", "localIPv4": address}))
    # Secrets an example keeps in a cloud store become those files here: the files datasource has no cloud
    # identity, and a test asks no real metadata service (the stores' examples go through their emulators
    # in test_store_example_through_the_emulators).
    files = {"bootstrapToken": "bootstrap-token", "certificateKey": "certificate-key", "caKey": "ca-key"}
    return [a for doc in docs if isinstance(doc, dict) and doc.get("kind") == "FirstbootConfiguration"
            for name, src in (doc.get("secrets") or {}).items() if "value" not in src and "file" not in src
            for a in ("--set", f"FirstbootConfiguration.secrets.{name}={{file: /run/kube-firstboot/secrets/{files[name]}}}")]


@pytest.mark.parametrize("second", [False, True], ids=["seed-or-only", "another"])
@pytest.mark.parametrize("name,user_data", example_user_data(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_plans(kf, tmp_path, pki, name, user_data, second):
    """What the README promises: every example in images/ goes through 'plan' on a simulated node (the
    files datasource, cloud-init's write_files done, the secret files in place) and 'run' would start:
    exit 0, touching nothing. Joiners plan from their own configuration when discovery cannot reach the
    example's endpoint."""
    root = tmp_path / "root"
    stores_as_files = simulated_node(root, user_data, pki, second)
    before = sorted(str(p) for p in root.rglob("*"))
    p = kf("plan", "--datasource", "files", *stores_as_files, root=root, timeout=60)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert "decision:" in p.stdout
    assert sorted(str(p) for p in root.rglob("*")) == before  # a plan touches nothing
