# SPDX-License-Identifier: Apache-2.0
"""Local sources: cloud-init's outputs, NoCloud (seed dirs, vfat/iso volumes by label, seedfrom URLs),
OpenStack (service emulator, config drive), VMware guestinfo through fake tools, plain files, and
platform detection from DMI and the kernel command line."""
import base64
import gzip
import json
import os
import shutil
import stat
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
import media  # noqa: E402
from base import Emulator  # noqa: E402
from openstack import OpenStack  # noqa: E402

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata")


def md(kf, root, *args, rc=0, env=None):
    p = kf("metadata", *args, root=root, env=env)
    assert p.returncode == rc, p.stderr
    return json.loads(p.stdout) if rc == 0 else p


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy(os.path.join(FIX, src), dst)


# ---- cloud-init ----

def test_cloud_init_instance_data(kf, tmp_path):
    copy("cloud-init/cloudinit-test-instance-data.json", tmp_path / "run/cloud-init/instance-data.json")
    v = md(kf, tmp_path)
    assert v["datasource"] == "cloud-init"
    assert v["instanceId"] == "iid-datasource"
    assert v["hostname"] == "test-subclass-hostname"
    assert v["region"] == "myregion" and v["zone"] == "myaz"
    assert v["userData"]["bytes"] == 0


def test_cloud_init_sensitive_and_user_data_txt(kf, tmp_path):
    copy("cloud-init/instance-data-sensitive.ec2.query-all.json", tmp_path / "run/cloud-init/instance-data-sensitive.json")
    copy("cloud-init/instance-data.v1-subset.ec2.json", tmp_path / "run/cloud-init/instance-data.json")
    copy("userdata/awsdocs-mime-cloudconfig-and-shellscript.txt", tmp_path / "var/lib/cloud/instance/user-data.txt")
    v = md(kf, tmp_path)
    assert v["platform"] == "ec2"
    assert v["instanceId"] == "i-0929128ff2f73a2f1"
    assert v["localIPv4"] == "172.31.81.43"
    assert [p["type"] for p in v["userData"]["parts"]] == ["text/cloud-config", "text/x-shellscript"]


# ---- NoCloud ----

def nocloud_files(name):
    d = os.path.join(FIX, "nocloud", name)
    return {n: open(os.path.join(d, n), "rb").read() for n in os.listdir(d)}


def test_nocloud_seed_dir(kf, tmp_path):
    seed = tmp_path / "var/lib/cloud/seed/nocloud"
    for n, data in nocloud_files("seed-dir-example").items():
        os.makedirs(seed, exist_ok=True)
        (seed / n).write_bytes(data)
    v = md(kf, tmp_path)
    assert v["datasource"] == "nocloud"
    assert v["instanceId"] == "i-87018aed"
    assert v["hostname"] == "domU-12-31-38-07-19-44.compute-1.internal"
    assert v["localIPv4"] == "10.223.26.178"
    assert v["source"] == "seed-dir (/var/lib/cloud/seed/nocloud)"


@pytest.mark.parametrize("kind", ["vfat", "iso"])
def test_nocloud_volume_by_device(kf, tmp_path, kind):
    files = nocloud_files("afterburn-kubevirt-nocloud_v2")
    img = str(tmp_path / f"cidata.{kind}")
    if kind == "vfat":
        media.make_vfat(img, "CIDATA", files)
    else:
        media.make_iso(img, "cidata", files)
    v = md(kf, tmp_path, "--datasource", "nocloud", "--device", img)
    assert v["instanceId"] == "5d307ca9-b3ef-428c-8861-06e72d69f224"
    assert v["hostname"] == "test-nocloud-v2.foo.cloud"
    assert "reader" in v["source"]
    # network-config v2's static addresses become the node's.
    assert v["localIPv4"] == "192.168.1.10" and v["localIPv6"] == "2001:db8::10"


@pytest.mark.skipif(not media.can_loop(), reason="needs root and loop devices")
def test_nocloud_found_by_label_through_blkid(kf, tmp_path):
    img = media.make_iso(str(tmp_path / "seed.iso"), "cidata", nocloud_files("afterburn-kubevirt-nocloud_v1"))
    with media.Loop(img) as dev:
        v = md(kf, tmp_path, "--allow-host")  # the label is on this machine's block devices
    assert v["datasource"] == "nocloud"
    assert v["source"] == f"config-disk ({dev}, reader)"
    assert v["instanceId"] == "5d307ca9-b3ef-428c-8861-06e72d69f223"


class _Seed(Emulator):
    def __init__(self, files):
        super().__init__()
        self.files = files

    def handle(self, h):
        name = h.url_path.rsplit("/", 1)[-1]
        if h.url_path.startswith("/seed/serial-1234/") and name in self.files:
            return h.send(200, self.files[name])
        return h.send(404, "Not Found")


def test_nocloud_seedfrom_on_cmdline_with_dmi_substitution(kf, tmp_path):
    s = _Seed(nocloud_files("seed-dir-example")).start()
    try:
        (tmp_path / "proc").mkdir()
        (tmp_path / "proc/cmdline").write_text(
            f"root=/dev/vda1 ro ds=nocloud;s={s.url}/seed/__dmi.system-serial-number__/;h=node-7\n")
        d = tmp_path / "sys/class/dmi/id"
        d.mkdir(parents=True)
        (d / "product_serial").write_text("serial-1234\n")
        v = md(kf, tmp_path, "--allow-host")  # the label is on this machine's block devices
    finally:
        s.stop()
    assert v["datasource"] == "nocloud"
    assert v["instanceId"] == "i-87018aed"
    assert v["hostname"] == "node-7"  # h= wins
    assert v["userData"]["parts"][0]["type"] == "text/cloud-config"


def test_nocloud_file_seedfrom_under_root(kf, tmp_path):
    seed = tmp_path / "srv/seed"
    seed.mkdir(parents=True)
    for n, data in nocloud_files("afterburn-kubevirt-nocloud_v1").items():
        (seed / n).write_bytes(data)
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cmdline").write_text("ro ds=nocloud;s=file:///srv/seed/;i=iid-override\n")
    v = md(kf, tmp_path)
    assert v["datasource"] == "nocloud"
    assert v["instanceId"] == "iid-override"  # i= wins
    assert v["hostname"] == "test-nocloud-v1.foo.cloud"


def test_nocloud_seedfrom_needs_trailing_slash(kf, tmp_path):
    p = kf("metadata", "--datasource", "nocloud", "--metadata-url", "http://127.0.0.1:9/seed", "-v", root=tmp_path)
    assert p.returncode == 2
    assert "must end in '/'" in p.stderr
    assert p.stdout == ""


# ---- OpenStack ----

def test_openstack_metadata_service(kf, tmp_path):
    e = OpenStack(user_data=b"#cloud-config\nkube_firstboot: {role: worker}\n").start()
    try:
        v = md(kf, tmp_path, "--datasource", "openstack", "--metadata-url", e.url)
    finally:
        e.stop()
    assert v["instanceId"] == "b0fa911b-69d4-4476-bbe2-1c92bff6535c"
    assert v["hostname"] == "sm-foo-test.novalocal"
    assert v["zone"] == "nova"
    assert v["tags"] == {"dsmode": "local", "my-meta": "my-value"}
    assert v["localIPv4"] == "10.0.0.21"
    assert any(r.path == "/openstack/2018-08-27/meta_data.json" for r in e.requests)


def test_openstack_without_user_data(kf, tmp_path):
    e = OpenStack(user_data=None, versions=("2012-08-10",)).start()
    try:
        v = md(kf, tmp_path, "--datasource", "openstack", "--metadata-url", e.url)
    finally:
        e.stop()
    assert v["userData"] == {"bytes": 0, "parts": []}
    assert any(r.path == "/openstack/2012-08-10/user_data" for r in e.requests)


@pytest.mark.parametrize("kind", ["vfat", "iso"])
def test_config_drive_image(kf, tmp_path, kind):
    files = media.tree_files(os.path.join(FIX, "openstack", "configdrive-cloudinit"))
    img = str(tmp_path / f"cd.{kind}")
    (media.make_vfat if kind == "vfat" else media.make_iso)(img, "config-2", files)
    v = md(kf, tmp_path, "--datasource", "configdrive", "--device", img)
    assert v["platform"] == "openstack"
    assert v["instanceId"] == "b0fa911b-69d4-4476-bbe2-1c92bff6535c"
    assert v["userData"]["bytes"] == len(files["openstack/latest/user_data"])


@pytest.mark.skipif(not media.can_loop(), reason="needs root and loop devices")
def test_config_drive_by_label_on_openstack(kf, tmp_path):
    files = media.tree_files(os.path.join(FIX, "openstack", "afterburn", "kubevirt-config-drive"))
    img = media.make_vfat(str(tmp_path / "cd.vfat"), "config-2", files)
    d = tmp_path / "sys/class/dmi/id"
    d.mkdir(parents=True)
    (d / "product_name").write_text("OpenStack Nova\n")
    with media.Loop(img):
        t = time.monotonic()
        v = md(kf, tmp_path, "--allow-host")  # the label is on this machine's block devices
        took = time.monotonic() - t
    assert v["datasource"] == "configdrive"
    assert v["localIPv4"] and v["instanceId"]
    assert took < (30 if os.environ.get("KF_VALGRIND") else 5)  # the config drive answers before any network source is tried


def test_config_drive_seed_dir(kf, tmp_path):
    shutil.copytree(os.path.join(FIX, "openstack", "configdrive-cloudinit"), tmp_path / "config-drive")
    v = md(kf, tmp_path, "--datasource", "configdrive")
    assert v["source"] == "seed-dir (/config-drive)"


# ---- VMware ----

def fake_tools(tmp_path, values, rpctool=True, rpctool_denied=False):
    """A vmware-rpctool (and vmtoolsd) that answer "info-get guestinfo.X" from `values`."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    store = tmp_path / "guestinfo"
    store.mkdir(exist_ok=True)
    for k, v in values.items():
        (store / k).write_text(v)
    body = f"""#!/bin/sh
# argv: "info-get guestinfo.KEY" (rpctool) or --cmd "info-get guestinfo.KEY" (vmtoolsd)
[ "$1" = --cmd ] && shift
key=${{1#info-get guestinfo.}}
if [ -f "{store}/$key" ]; then cat "{store}/$key"; exit 0; fi
echo "No value found" >&2; exit 1
"""
    names = (["vmware-rpctool"] if rpctool else []) + ["vmtoolsd"]
    for n in names:
        p = bindir / n
        p.write_text(body if not (rpctool_denied and n == "vmware-rpctool")
                     else "#!/bin/sh\necho 'Permission denied' >&2\nexit 1\n")
        p.chmod(0o755)
    return {"PATH": f"{bindir}:/usr/bin:/bin"}


def test_vmware_guestinfo_gzip_base64(kf, tmp_path):
    meta = open(os.path.join(FIX, "vmware", "derived-guestinfo.metadata.gzip+base64.txt")).read()
    ud = open(os.path.join(FIX, "vmware", "derived-guestinfo.userdata.base64.txt")).read()
    env = fake_tools(tmp_path, {"metadata": meta, "metadata.encoding": "gzip+base64",
                                "userdata": ud, "userdata.encoding": "base64"})
    v = md(kf, tmp_path, "--datasource", "vmware", "--allow-host", env=env)  # runs this machine's tools
    assert v["platform"] == "vmware"
    assert v["instanceId"] == "cloud-vm"
    assert v["hostname"] == "cloud-vm"
    assert v["localIPv4"] is None  # DHCP only
    assert v["userData"]["parts"][0]["type"] == "text/jinja2"  # the fixture is a jinja template


def test_vmware_vmtoolsd_fallback_and_absent_values(kf, tmp_path):
    env = fake_tools(tmp_path, {"metadata": "instance-id: vm-2\nlocal-hostname: w2\n", "userdata": "---"},
                     rpctool_denied=True)
    v = md(kf, tmp_path, "--datasource", "vmware", "--allow-host", env=env)  # runs this machine's tools
    assert v["instanceId"] == "vm-2" and v["hostname"] == "w2"
    assert v["userData"]["bytes"] == 0  # "---" is what a redacted key holds


def test_vmware_without_tools_is_absent(kf, tmp_path):
    path = "/usr/bin:/bin"
    if any(shutil.which(t, path=path) for t in ("vmware-rpctool", "vmtoolsd")):
        pytest.skip("VMware tools are installed on this host")
    md(kf, tmp_path, "--datasource", "vmware", "--allow-host", env={"PATH": path}, rc=4)


# ---- files and platform detection ----

def test_files_afterburn_and_user_data(kf, tmp_path):
    copy("afterburn/derived-run-metadata-afterburn.env", tmp_path / "run/metadata/afterburn")
    (tmp_path / "etc/kube-firstboot").mkdir(parents=True)
    (tmp_path / "etc/kube-firstboot/user-data").write_text("apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: worker\n")
    v = md(kf, tmp_path, "--datasource", "files")
    env = dict(l.split("=", 1) for l in open(os.path.join(FIX, "afterburn/derived-run-metadata-afterburn.env")).read().split())
    assert v["instanceId"] == env["AFTERBURN_AWS_INSTANCE_ID"]
    assert v["localIPv4"] == env["AFTERBURN_AWS_IPV4_LOCAL"]
    assert v["userData"]["parts"][0]["type"] == "application/vnd.kube-firstboot+yaml"


DMI = json.load(open(os.path.join(FIX, "dmi", "platform-dmi-values.json")))


@pytest.mark.parametrize("platform,entries", [
    ("ec2", DMI["aws-ec2-hvm-nitro"][:3]), ("ec2", DMI["aws-ec2-xen-pv"]), ("azure", DMI["azure"][:1]),
    ("gce", DMI["gce"]), ("openstack", DMI.get("openstack", [])), ("vmware", DMI.get("vmware", [])),
])
def test_platform_from_dmi_fixture(kf, tmp_path, platform, entries):
    usable = [e for e in entries if e["file"].startswith("/sys/") and "{" not in e["file"]
              and "instance-id" not in e.get("match", "")]
    if not usable:
        pytest.skip("no sysfs entries in the fixture")
    for e in usable:
        root = tmp_path / platform / str(usable.index(e))
        p = root / e["file"].lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(e["value"] + "\n")
        v = md(kf, root, "--datasource", "files")
        assert v["platform"] == platform, e


def test_unknown_platform_answers_at_once(kf, tmp_path):
    t = time.monotonic()
    v = md(kf, tmp_path)
    assert time.monotonic() - t < (20 if os.environ.get("KF_VALGRIND") else 2)
    assert v["datasource"] == "none" and v["platform"] == "unknown"


def test_ignition_platform_id(kf, tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cmdline").write_text("BOOT_IMAGE=/vmlinuz ignition.firstboot ignition.platform.id=qemu\n")
    v = md(kf, tmp_path)
    assert v["platform"] == "qemu"


def test_bad_usage(kf, tmp_path):
    assert kf("metadata", "--datasource", "nope", root=tmp_path).returncode == 2
    assert kf("metadata", "--metadata-url", "http://x/", root=tmp_path).returncode == 2
    assert kf("metadata", "extra", root=tmp_path).returncode == 2
