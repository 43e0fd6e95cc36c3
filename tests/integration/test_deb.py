# SPDX-License-Identifier: Apache-2.0
"""The Debian package (images/deb/, `make deb`): what it holds, and that it installs, upgrades,
removes and purges cleanly in a temporary root with the real dpkg (maintainer scripts run with
DPKG_ROOT, deb-systemd-helper enabling the units without starting anything)."""
import os
import re
import shutil
import subprocess

import pytest

from unitcheck import REPO

BUILD = os.environ.get("KF_BUILD", os.path.join(REPO, "build"))
STATIC = os.environ.get("KF_STATIC_BIN") or os.path.join(BUILD, "static", "kube-firstboot")
BUILD_DEB = os.path.join(REPO, "images", "deb", "build-deb.sh")

pytestmark = [
    pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb"),
    pytest.mark.skipif(not os.access(STATIC, os.X_OK), reason=f"no static binary at {STATIC} (make static)"),
]


def build(outdir, version="v0.1.0"):
    p = subprocess.run([BUILD_DEB, STATIC, version, str(outdir)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    return build(tmp_path_factory.mktemp("deb"))


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True).stdout.strip()


def test_control_fields(deb):
    assert os.path.basename(deb) == "kube-firstboot_0.1.0_amd64.deb"
    assert field(deb, "Package") == "kube-firstboot"
    assert field(deb, "Version") == "0.1.0"
    assert field(deb, "Architecture") == "amd64"
    assert not field(deb, "Depends")  # static: nothing to depend on
    size = int(field(deb, "Installed-Size"))
    assert abs(size - os.path.getsize(STATIC) // 1024) < 200


def test_contents_modes_and_owners(deb, tmp_path):
    p = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True)
    entries = {}
    for line in p.stdout.splitlines():
        perm, owner, _, _, _, path = line.split(None, 5)
        entries[path.lstrip(".")] = (perm, owner)
    assert all(owner == "root/root" for _, owner in entries.values())
    want = {
        "/usr/bin/kube-firstboot": "-rwxr-xr-x",
        "/lib/systemd/system/kube-firstboot.service": "-rw-r--r--",
        "/lib/systemd/system/kube-firstboot-refresh.service": "-rw-r--r--",
        "/lib/systemd/system/kube-firstboot-refresh.timer": "-rw-r--r--",
        "/usr/share/kube-firstboot/kubelet/kubelet.service": "-rw-r--r--",
        "/usr/share/kube-firstboot/kubelet/kubelet.service.d/10-kubeadm.conf": "-rw-r--r--",
        "/etc/default/kube-firstboot": "-rw-r--r--",
        "/usr/share/man/man8/kube-firstboot.8.gz": "-rw-r--r--",
        "/usr/share/doc/kube-firstboot/copyright": "-rw-r--r--",
    }
    for path, perm in want.items():
        assert entries.get(path, (None,))[0] == perm, path
    # Never in /lib/systemd/system: it would clash with a kubelet package's own files.
    assert not any(p.startswith("/lib/systemd/system/kubelet") for p in entries)
    x = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", deb, str(x)], check=True)
    assert open(x / "usr/bin/kube-firstboot", "rb").read() == open(STATIC, "rb").read()
    assert "statically linked" in subprocess.run(["file", "-b", str(x / "usr/bin/kube-firstboot")],
                                                 capture_output=True, text=True).stdout
    for rel in ["kube-firstboot.service", "kube-firstboot-refresh.service", "kube-firstboot-refresh.timer"]:
        assert (x / "lib/systemd/system" / rel).read_text() == open(os.path.join(REPO, "units", rel)).read()
    ctl = tmp_path / "ctl"
    subprocess.run(["dpkg-deb", "-e", deb, str(ctl)], check=True)
    assert (ctl / "conffiles").read_text().split() == ["/etc/default/kube-firstboot"]
    p = subprocess.run(["md5sum", "-c", "--quiet", str(ctl / "md5sums")], cwd=x, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("describe,expected", [
    ("v1.2.0", "1.2.0"), ("v1.2.0-3-gabc1234", "1.2.0+3.gabc1234"), ("1.2.0-3-gabc1234-dirty", "1.2.0+3.gabc1234.dirty"),
])
def test_git_describe_becomes_a_debian_version(describe, expected):
    p = subprocess.run([BUILD_DEB, "--version", describe], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == expected
    assert subprocess.run(["dpkg", "--validate-version", expected]).returncode == 0


def test_bare_commit_id_version_is_valid(tmp_path):
    v = field(build(tmp_path, "f07effa-dirty"), "Version")
    assert v.startswith("0.0+git") and v.endswith(".f07effa.dirty")
    assert subprocess.run(["dpkg", "--validate-version", v]).returncode == 0
    # A commit id that happens to start with a digit is no release number.
    p = subprocess.run([BUILD_DEB, "--version", "659976d"], capture_output=True, text=True, check=True)
    assert p.stdout.startswith("0.0+git") and p.stdout.strip().endswith(".659976d")


def test_manpage_from_help(deb, tmp_path):
    if not shutil.which("man"):
        pytest.skip("man is not installed")
    x = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", deb, str(x)], check=True)
    page = x / "usr/share/man/man8/kube-firstboot.8.gz"
    p = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", PAGER="cat"))
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    text = re.sub(".\x08", "", p.stdout)  # overstrike bold and underline
    help_text = subprocess.run([STATIC, "--help"], capture_output=True, text=True).stdout
    verbs = [line.split()[0] for line in help_text.split("Verbs:")[1].split("\n\n")[0].splitlines() if line.strip()]
    assert "run" in verbs and "status" in verbs
    for v in verbs:
        assert f"\n{v.upper()}\n" in text, v
    assert "/run/kube-firstboot/status.json" in text


class Root:
    """A temporary root with an empty dpkg database; dpkg runs the maintainer scripts outside it with
    DPKG_ROOT set (--force-script-chrootless), which is how they must work in image builders too."""

    def __init__(self, path):
        self.path = path
        db = path / "var/lib/dpkg"
        (db / "info").mkdir(parents=True)
        (db / "updates").mkdir()
        (db / "status").write_text("")
        (db / "available").write_text("")

    def dpkg(self, *args, rc=0):
        p = subprocess.run(["dpkg", f"--root={self.path}", "--force-script-chrootless", *args],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == rc, p.stdout + p.stderr
        return p

    def systemctl(self, *args):
        return subprocess.run(["systemctl", f"--root={self.path}", *args], capture_output=True, text=True)

    def left(self):
        """Every file and symlink outside dpkg's database."""
        out = []
        for d, dirs, names in os.walk(self.path):
            if os.path.relpath(d, self.path).startswith("var/lib/dpkg"):
                continue
            for n in names + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
                out.append("/" + os.path.relpath(os.path.join(d, n), self.path))
        return sorted(out)

    def link(self, rel):
        p = self.path / rel.lstrip("/")
        return os.readlink(p) if os.path.islink(p) else None


WANTS = "/etc/systemd/system/multi-user.target.wants/kube-firstboot.service"
TIMER_WANTS = "/etc/systemd/system/timers.target.wants/kube-firstboot-refresh.timer"


@pytest.mark.skipif(not shutil.which("deb-systemd-helper") or not shutil.which("systemctl"),
                    reason="needs init-system-helpers and systemctl")
def test_install_remove_reinstall_purge(deb, tmp_path):
    r = Root(tmp_path / "root")
    r.dpkg("-i", deb)
    assert r.link(WANTS) == "/lib/systemd/system/kube-firstboot.service"
    assert r.link(TIMER_WANTS) == "/lib/systemd/system/kube-firstboot-refresh.timer"
    assert r.systemctl("is-enabled", "kube-firstboot.service").stdout.strip() == "enabled"
    assert r.dpkg("--verify", "kube-firstboot").stdout == ""
    # Nothing was started or run: no first-boot state in the root.
    assert not (r.path / "var/lib/kube-firstboot").exists() and not (r.path / "run").exists()

    r.dpkg("-r", "kube-firstboot")
    left = r.left()
    assert "/usr/bin/kube-firstboot" not in left and "/lib/systemd/system/kube-firstboot.service" not in left
    assert "/etc/default/kube-firstboot" in left  # a conffile stays until purge
    # Masked, so the enablement links kept for a reinstall point at nothing that could start.
    assert r.link("/etc/systemd/system/kube-firstboot.service") == "/dev/null"

    r.dpkg("-i", deb)
    assert r.link("/etc/systemd/system/kube-firstboot.service") is None
    assert r.systemctl("is-enabled", "kube-firstboot.service").stdout.strip() == "enabled"

    r.dpkg("-P", "kube-firstboot")
    assert r.left() == []
    p = subprocess.run(["dpkg-query", f"--root={r.path}", "-W", "-f=${db:Status-Status}", "kube-firstboot"],
                       capture_output=True, text=True)
    assert p.stdout in ("", "not-installed")


@pytest.mark.skipif(not shutil.which("deb-systemd-helper") or not shutil.which("systemctl"),
                    reason="needs init-system-helpers and systemctl")
def test_upgrade_keeps_an_administrators_disable(deb, tmp_path):
    r = Root(tmp_path / "root")
    r.dpkg("-i", deb)
    assert r.systemctl("disable", "kube-firstboot.service").returncode == 0
    newer = build(tmp_path / "newer", "v0.2.0")
    r.dpkg("-i", newer)
    assert r.link(WANTS) is None
    assert r.systemctl("is-enabled", "kube-firstboot.service").stdout.strip() == "disabled"
    assert r.link(TIMER_WANTS) is not None  # the timer was left enabled, and stays so
