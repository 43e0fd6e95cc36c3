# SPDX-License-Identifier: Apache-2.0
"""Builds NoCloud / config-drive images the way users do (mkfs.vfat + mcopy, genisoimage) and attaches
them to loop devices when the test may (root, /dev/loop-control). Each loop device is detached by the
test that attached it."""
import os
import shutil
import subprocess


def make_vfat(path, label, files):
    """files: {"name" or "dir/name": bytes}. Creates a 4 MiB FAT image labelled `label`."""
    subprocess.run(["truncate", "-s", "4M", path], check=True)
    subprocess.run(["mkfs.vfat", "-n", label, path], check=True, capture_output=True)
    dirs = sorted({os.path.dirname(n) for n in files if os.path.dirname(n)})
    made = set()
    for d in dirs:
        parts = d.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in made:
                subprocess.run(["mmd", "-i", path, "::" + sub], check=True, capture_output=True)
                made.add(sub)
    tmp = path + ".d"
    os.makedirs(tmp, exist_ok=True)
    for name, data in files.items():
        src = os.path.join(tmp, name.replace("/", "_"))
        with open(src, "wb") as f:
            f.write(data)
        subprocess.run(["mcopy", "-i", path, src, "::" + name], check=True, capture_output=True)
    shutil.rmtree(tmp)
    return path


def make_iso(path, label, files, joliet=True, rock=True):
    tmp = path + ".d"
    for name, data in files.items():
        p = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    argv = ["genisoimage", "-quiet", "-output", path, "-volid", label]
    if joliet:
        argv.append("-joliet")
    if rock:
        argv.append("-rock")
    subprocess.run(argv + [tmp], check=True, capture_output=True)
    shutil.rmtree(tmp)
    return path


def can_loop():
    return os.geteuid() == 0 and os.path.exists("/dev/loop-control") and shutil.which("losetup")


class Loop:
    """with Loop(image) as dev: ... — a read-only loop device, detached on exit."""

    def __init__(self, image):
        self.image = image
        self.dev = None

    def __enter__(self):
        p = subprocess.run(["losetup", "-f", "--show", "-r", self.image], capture_output=True, text=True)
        if p.returncode != 0:
            raise OSError(p.stderr.strip())
        self.dev = p.stdout.strip()
        # Let udev-less systems see the new device in /proc/partitions before blkid scans.
        subprocess.run(["blockdev", "--rereadpt", self.dev], capture_output=True)
        return self.dev

    def __exit__(self, *exc):
        if self.dev:
            subprocess.run(["losetup", "-d", self.dev], capture_output=True)


def tree_files(root):
    """A directory tree as {relative path: bytes}."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out
