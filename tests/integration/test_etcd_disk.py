# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot etcd disk` (firstboot/host/etcd-disk.c) on loop devices over image files: a blank disk gets a
file system, is mounted at <root>/var/lib/etcd and persisted by a mount unit and a kubelet drop-in; a disk
with a file system is kept as it is; a partition table or another signature is refused and left alone; a
disk is found by LABEL=. Every loop device and mount is removed by the test that made it."""
import hashlib
import os
import shutil
import subprocess
import uuid

import pytest


def can_loop():
    return (os.geteuid() == 0 and os.path.exists("/dev/loop-control") and shutil.which("losetup")
            and shutil.which("mkfs.ext4"))


pytestmark = pytest.mark.skipif(not can_loop(), reason="needs root, loop devices and e2fsprogs")


def blkid(dev):
    p = subprocess.run(["blkid", "-c", "/dev/null", "-p", "-o", "export", dev], capture_output=True, text=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def mountinfo_at(path):
    """(major:minor, fstype) of the topmost mount at path, or None."""
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].replace("\\040", " ")
            if point == path:
                found = (fields[2], line.split(" - ", 1)[1].split()[0])
    return found


def majmin(dev):
    st = os.stat(dev)
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"


class Disks:
    """Loop devices over image files, and mounts under the test's root; all undone by cleanup()."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = tmp_path / "root"
        (self.root / "dev").mkdir(parents=True)
        self.loops, self.mounts = [], []

    def image(self, name, size="128M"):
        p = self.tmp / name
        subprocess.run(["truncate", "-s", size, str(p)], check=True)
        return p

    def attach(self, image, link="etcd"):
        p = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(f"no loop device: {p.stderr.strip()}")
        dev = p.stdout.strip()
        self.loops.append(dev)
        if link:
            l = self.root / "dev" / link
            if l.is_symlink():
                l.unlink()
            l.symlink_to(dev)
        return dev

    def mount(self, dev, where):
        os.makedirs(where, exist_ok=True)
        subprocess.run(["mount", dev, str(where)], check=True)
        self.mounts.append(str(where))

    def cleanup(self):
        target = str(self.root / "var/lib/etcd")
        while mountinfo_at(target):
            subprocess.run(["umount", target], check=True)
        for m in self.mounts:
            while mountinfo_at(m):
                subprocess.run(["umount", m], check=True)
        for dev in self.loops:
            subprocess.run(["losetup", "-d", dev], capture_output=True)


@pytest.fixture
def disks(tmp_path):
    d = Disks(tmp_path)
    try:
        yield d
    finally:
        d.cleanup()


def run(kf, disks, device, *extra, fs=None, label=None, cluster=""):
    cfg = disks.tmp / "config.yaml"
    body = "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\netcd:\n" f"  dataDevice: '{device}'\n"
    if fs:
        body += f"  filesystem: {fs}\n"
    if label:
        body += f"  label: {label}\n"
    cfg.write_text(body + cluster)
    # The disks are this machine's loop devices: --allow-host.
    return kf("etcd", "disk", "--no-metadata", "--config", cfg, "--allow-host", *extra, root=disks.root)


def test_blank_disk_formatted_mounted_persisted_and_rerun(kf, disks):
    dev = disks.attach(disks.image("blank.img"))
    target = str(disks.root / "var/lib/etcd")

    p = run(kf, disks, "/dev/etcd", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert f"{dev} is blank: would make an ext4 file system labelled 'etcd'" in p.stdout
    assert blkid(dev) == {} and mountinfo_at(target) is None  # a plan touches nothing

    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 0, p.stderr
    info = blkid(dev)
    assert info["TYPE"] == "ext4" and info["LABEL"] == "etcd"
    assert f"{dev}, ext4 UUID {info['UUID']} (new), mounted at /var/lib/etcd; units written" in p.stdout
    assert mountinfo_at(target) == (majmin(dev), "ext4")
    assert os.stat(target).st_mode & 0o7777 == 0o700
    assert os.stat(disks.root / "var/lib").st_mode & 0o7777 == 0o755

    unit = disks.root / "etc/systemd/system/var-lib-etcd.mount"
    text = unit.read_text()
    assert f"\nWhat=/dev/disk/by-uuid/{info['UUID']}\nWhere=/var/lib/etcd\nType=ext4\nOptions=noatime\n" in text
    assert os.stat(unit).st_mode & 0o7777 == 0o644
    dropin = disks.root / "etc/systemd/system/kubelet.service.d/10-kube-firstboot-etcd-disk.conf"
    assert "[Unit]\nRequiresMountsFor=/var/lib/etcd\n" in dropin.read_text()

    # What etcd writes survives a re-run, which changes nothing.
    (disks.root / "var/lib/etcd/member").mkdir()
    mtime = unit.stat().st_mtime_ns
    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 0, p.stderr
    assert "already mounted at /var/lib/etcd" in p.stdout and "units written" not in p.stdout
    assert unit.stat().st_mtime_ns == mtime
    assert (disks.root / "var/lib/etcd/member").is_dir()
    assert blkid(dev)["UUID"] == info["UUID"]
    p = run(kf, disks, "/dev/etcd", "--dry-run")
    assert "mounted at /var/lib/etcd already" in p.stdout and "are in place" in p.stdout

    # systemd reads the unit as written (TESTENV §5); the same text under a name that does not match
    # Where= is refused, which shows the check can fail.
    if shutil.which("systemd-analyze"):
        vdir = disks.tmp / "verify"
        vdir.mkdir()
        shutil.copy(unit, vdir / "var-lib-etcd.mount")
        v = subprocess.run(["systemd-analyze", "verify", "--man=no", "var-lib-etcd.mount"], cwd=vdir,
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stderr
        assert "Unknown" not in v.stderr
        shutil.copy(unit, vdir / "srv-etcd.mount")
        v = subprocess.run(["systemd-analyze", "verify", "--man=no", "srv-etcd.mount"], cwd=vdir,
                           capture_output=True, text=True)
        assert v.returncode != 0


def test_disk_with_a_file_system_is_kept(kf, disks):
    img = disks.image("data.img")
    seed = disks.tmp / "seed"
    (seed / "member").mkdir(parents=True)
    (seed / "member/keep.txt").write_text("etcd data\n")
    # mkfs.ext4 -d fills the file system without mounting it.
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "old-etcd", "-d", str(seed), str(img)], check=True)
    before = blkid(str(img))["UUID"]
    dev = disks.attach(img)

    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 0, p.stderr
    assert "(new)" not in p.stdout
    assert blkid(dev)["UUID"] == before and blkid(dev)["LABEL"] == "old-etcd"
    assert (disks.root / "var/lib/etcd/member/keep.txt").read_text() == "etcd data\n"


def test_xfs_on_a_blank_disk_and_ext4_used_as_it_is(kf, disks):
    if not shutil.which("mkfs.xfs"):
        pytest.skip("xfsprogs is not installed")
    dev = disks.attach(disks.image("xfs.img", "320M"))  # mkfs.xfs wants 300 MB at least
    p = run(kf, disks, "/dev/etcd", fs="xfs", label="etcd-xfs")
    assert p.returncode == 0, p.stderr
    assert blkid(dev)["TYPE"] == "xfs" and blkid(dev)["LABEL"] == "etcd-xfs"
    assert mountinfo_at(str(disks.root / "var/lib/etcd")) == (majmin(dev), "xfs")
    assert "Type=xfs\n" in (disks.root / "etc/systemd/system/var-lib-etcd.mount").read_text()
    # Configured ext4 later: the xfs is used as it is, and said so.
    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 0, p.stderr
    assert "holds xfs, not the configured ext4: used as it is" in p.stdout


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def mbr(path):
    """One Linux partition in a DOS partition table, as fdisk would leave it."""
    entry = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little") + (30720).to_bytes(4, "little")
    with open(path, "r+b") as f:
        f.seek(446)
        f.write(entry)
        f.seek(510)
        f.write(b"\x55\xaa")


def test_partition_table_refused(kf, disks):
    img = disks.image("pt.img")
    mbr(img)
    before = digest(img)
    dev = disks.attach(img)
    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 1
    assert (f"{dev} holds a partition table (dos): refusing to format it; name a partition "
            "(a /dev path or PARTLABEL=), or wipe it") in p.stderr
    assert mountinfo_at(str(disks.root / "var/lib/etcd")) is None
    assert not (disks.root / "etc/systemd").exists()
    subprocess.run(["losetup", "-d", dev], check=True)
    disks.loops.remove(dev)
    assert digest(img) == before


def test_other_signatures_refused(kf, disks):
    img = disks.image("swap.img", "64M")
    subprocess.run(["mkswap", "-L", "swap", str(img)], check=True, capture_output=True)
    before = digest(img)
    dev = disks.attach(img)
    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 1
    assert f"{dev} holds swap (other), not an ext4 or xfs file system: refusing to use or format it" in p.stderr
    assert blkid(dev)["TYPE"] == "swap"
    subprocess.run(["losetup", "-d", dev], check=True)
    disks.loops.remove(dev)
    assert digest(img) == before


def test_found_by_label_and_ambiguous_labels_refused(kf, disks):
    label = "etcd-" + uuid.uuid4().hex[:8]
    img = disks.image("labelled.img")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, str(img)], check=True)
    dev = disks.attach(img, link=None)
    p = run(kf, disks, f"LABEL={label}")
    assert p.returncode == 0, p.stderr
    assert f"etcd data disk LABEL={label}: {dev}, ext4" in p.stdout
    assert mountinfo_at(str(disks.root / "var/lib/etcd")) == (majmin(dev), "ext4")
    uuid_ = blkid(dev)["UUID"]
    p = run(kf, disks, f"UUID={uuid_}")
    assert p.returncode == 0 and "already mounted" in p.stdout, p.stderr

    # A second disk with the same label (a cloned volume): not guessed between.
    img2 = disks.image("clone.img")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label + "b", str(img2)], check=True)
    subprocess.run(["umount", str(disks.root / "var/lib/etcd")], check=True)
    dev2 = disks.attach(img2, link=None)
    subprocess.run(["e2label", dev2, label], check=True)
    p = run(kf, disks, f"LABEL={label}")
    assert p.returncode == 1
    assert f"LABEL={label} names 2 devices" in p.stderr
    assert mountinfo_at(str(disks.root / "var/lib/etcd")) is None

    p = run(kf, disks, "LABEL=no-such-label-" + uuid.uuid4().hex[:6])
    assert p.returncode == 1 and "no block device has LABEL=no-such-label-" in p.stderr


def test_in_use_or_hiding_files_refused(kf, disks):
    dev = disks.attach(disks.image("busy.img"))
    subprocess.run(["mkfs.ext4", "-q", "-F", dev], check=True)
    elsewhere = disks.tmp / "elsewhere"
    disks.mount(dev, elsewhere)
    p = run(kf, disks, "/dev/etcd")
    assert p.returncode == 1
    assert f"{dev} is mounted at {elsewhere}: it is in use" in p.stderr
    subprocess.run(["umount", str(elsewhere)], check=True)

    # Files already in the data dir on the root disk would be hidden: refused before formatting anything.
    dev2 = disks.attach(disks.image("blank2.img"), link="blank")
    (disks.root / "var/lib/etcd/member").mkdir(parents=True)
    p = run(kf, disks, "/dev/blank")
    assert p.returncode == 1
    assert "/var/lib/etcd already holds files ('member') that mounting" in p.stderr
    assert blkid(dev2) == {}


def test_configuration_problems(kf, disks):
    cfg = disks.tmp / "none.yaml"
    cfg.write_text("apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n")
    p = kf("etcd", "disk", "--no-metadata", "--config", cfg, "--allow-host", root=disks.root)
    assert p.returncode == 2 and "etcd.dataDevice is not set" in p.stderr
    p = run(kf, disks, "vdb")
    assert p.returncode == 2 and "FirstbootConfiguration.etcd.dataDevice: 'vdb' is not a /dev path" in p.stderr
    p = run(kf, disks, "/dev/vdb", fs="xfs", label="longer-than-12")
    assert p.returncode == 2 and "1-12 characters" in p.stderr
    p = run(kf, disks, "/dev/vdb", cluster="---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                                            "etcd: {local: {dataDir: '/var/lib/etcd data'}}\n")
    assert p.returncode == 2 and "mount unit" in p.stderr
