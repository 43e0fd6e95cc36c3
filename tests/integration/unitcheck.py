# SPDX-License-Identifier: Apache-2.0
"""Helpers for the unit, image and package tests: systemd-analyze verify with stand-in executables, and
files read from the repository. verify() runs in a private mount namespace where /usr/bin (and /opt)
are overlays holding executable stand-ins for the programs the units start, because
systemd-analyze verify insists that ExecStart= binaries exist on the checking host; the host's own
/usr/bin is never changed."""
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(REPO, "units")


def can_verify():
    return bool(shutil.which("systemd-analyze")) and os.geteuid() == 0 and bool(shutil.which("unshare"))


def verify(tmp_path, unit_files, stubs=("/usr/bin/kube-firstboot", "/usr/bin/kubelet")):
    """systemd-analyze verify UNIT_FILES with executable stand-ins at STUBS. Returns (rc, output)."""
    work = tmp_path / "verify-overlays"
    script = ["set -e"]
    # Overlay the nearest existing directory above each stand-in (/opt/bin may not exist here).
    mounts = {}
    for s in stubs:
        d = os.path.dirname(s)
        while not os.path.isdir(d):
            d = os.path.dirname(d)
        if d == "/":
            raise ValueError(f"no directory above {s} to put an overlay on")
        mounts.setdefault(d, []).append(os.path.relpath(s, d))
    for i, (d, rels) in enumerate(sorted(mounts.items())):
        upper, wd = work / f"upper{i}", work / f"work{i}"
        wd.mkdir(parents=True, exist_ok=True)
        for rel in rels:
            p = upper / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("#!/bin/sh\nexit 0\n")
            p.chmod(0o755)
        script.append(f"mount -t overlay overlay -o lowerdir={d},upperdir={upper},workdir={wd} {d}")
    script.append('cd "$1"; shift; exec systemd-analyze verify --man=no "$@"')
    cwd = os.path.dirname(str(unit_files[0]))
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "_", cwd]
                       + ["./" + os.path.relpath(str(u), cwd) for u in unit_files],
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def problems(output):
    """Lines of verify output that are problems: systemd only warns about unknown keys and
    unparsable values, with rc 0, so those count too."""
    bad = ("Unknown key", "Unknown section", "ignoring", "Failed to parse", "is not executable",
           "ordering cycle", "bad unit file", "Refusing", "not found")
    return [line for line in output.splitlines() if any(b in line for b in bad)]


def parse_unit(text):
    """A unit file as [(section, key, value)], in order (keys repeat: After=, ExecStart=, ...)."""
    out, section = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        k, _, v = line.partition("=")
        out.append((section, k.strip(), v.strip()))
    return out


def values(entries, section, key):
    return [v for s, k, v in entries if s == section and k == key]


def words(entries, section, key):
    return [w for v in values(entries, section, key) for w in v.split()]
