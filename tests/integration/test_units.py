# SPDX-License-Identifier: Apache-2.0
"""units/: the first-boot service, the refresh timer and its service, and the kubelet unit and drop-in.
systemd-analyze verify on each (with stand-ins for the programs they start), the ordering against
cloud-init's units (no cycle with multi-user.target), offline enablement, and the contract the units
keep with the binary (exit codes, the done marker, notifications)."""
import os
import shutil
import subprocess

import pytest

from unitcheck import UNITS, can_verify, parse_unit, problems, values, verify, words

SERVICE = os.path.join(UNITS, "kube-firstboot.service")
REFRESH = os.path.join(UNITS, "kube-firstboot-refresh.service")
TIMER = os.path.join(UNITS, "kube-firstboot-refresh.timer")
KUBELET = os.path.join(UNITS, "kubelet", "kubelet.service")
DROPIN = os.path.join(UNITS, "kubelet", "kubelet.service.d", "10-kubeadm.conf")

needs_verify = pytest.mark.skipif(not can_verify(), reason="needs root, unshare and systemd-analyze")


def unit(path):
    with open(path) as f:
        return parse_unit(f.read())


def copy_units(tmp_path, mutate=None):
    """The units in a temporary directory as systemd expects them (drop-in beside its unit);
    mutate(name, text) -> text changes one."""
    d = tmp_path / "units"
    (d / "kubelet.service.d").mkdir(parents=True)
    out = []
    for src, rel in [(SERVICE, "kube-firstboot.service"), (REFRESH, "kube-firstboot-refresh.service"),
                     (TIMER, "kube-firstboot-refresh.timer"), (KUBELET, "kubelet.service"),
                     (DROPIN, "kubelet.service.d/10-kubeadm.conf")]:
        text = open(src).read()
        if mutate:
            text = mutate(rel, text)
        (d / rel).write_text(text)
        if "/" not in rel:
            out.append(d / rel)
    return out


@needs_verify
def test_every_unit_verifies_clean(tmp_path):
    rc, out = verify(tmp_path, copy_units(tmp_path))
    assert rc == 0, out
    assert problems(out) == [], out


@needs_verify
@pytest.mark.parametrize("target,old,new", [
    ("kube-firstboot.service", "Type=oneshot", "Type=oneshott"),
    ("kube-firstboot.service", "RemainAfterExit=yes", "RemainAfterExit=yes\nRemainAfterExitt=yes"),
    ("kube-firstboot.service", "ExecStart=/usr/bin/kube-firstboot", "ExecStart=usr/bin/kube-firstboot"),
    ("kube-firstboot-refresh.timer", "OnCalendar=hourly", "OnCalendar=every hour"),
    ("kubelet.service.d/10-kubeadm.conf", "ExecStart=\n", "ExecStart=/usr/bin/true\n"),
    ("kubelet.service.d/10-kubeadm.conf", "ExecStart=/usr/bin/kubelet", "ExecStart=/usr/bin/kubelett"),
], ids=["bad-type", "unknown-key", "relative-exec", "bad-calendar", "dropin-no-reset", "dropin-missing-binary"])
def test_verify_catches_mistakes(tmp_path, target, old, new):
    """The check above can fail: each broken copy is caught."""
    def mutate(rel, text):
        if rel != target:
            return text
        assert old in text
        return text.replace(old, new, 1)
    rc, out = verify(tmp_path, copy_units(tmp_path, mutate))
    assert rc != 0 or problems(out), out


def test_first_boot_service_contract():
    u = unit(SERVICE)
    assert values(u, "Service", "Type") == ["oneshot"]
    assert values(u, "Service", "RemainAfterExit") == ["yes"]
    # STATUS= from the binary's main process shows the phase in `systemctl status`.
    assert values(u, "Service", "NotifyAccess") == ["main"]
    # Once per instance: the binary writes the marker when a run has finished.
    assert "!/var/lib/kube-firstboot/done" in values(u, "Unit", "ConditionPathExists")
    after = words(u, "Unit", "After")
    for dep in ["network-online.target", "cloud-init.service", "cloud-config.service", "cloud-final.service",
                "containerd.service", "crio.service", "afterburn.service", "coreos-metadata.service",
                "multi-user.target"]:
        assert dep in after, dep
    assert "network-online.target" in words(u, "Unit", "Wants")
    # Nothing waits for it, and it pulls in nothing it cannot do without.
    assert not values(u, "Unit", "Before") and not values(u, "Unit", "Requires")
    assert values(u, "Install", "WantedBy") == ["multi-user.target"]
    # Exit codes: 3 (temporary) and crashes are retried; 1, 2 and 4 are final for this boot.
    assert values(u, "Service", "Restart") == ["on-failure"]
    assert sorted(words(u, "Service", "RestartPreventExitStatus")) == ["1", "2", "4"]
    assert values(u, "Service", "ExecStart") == ["/usr/bin/kube-firstboot run $KUBE_FIRSTBOOT_ARGS"]
    assert values(u, "Service", "EnvironmentFile") == ["-/etc/default/kube-firstboot"]
    assert "/opt/bin" in values(u, "Service", "Environment")[-1]


def test_refresh_units_contract():
    s, t = unit(REFRESH), unit(TIMER)
    # Control planes only, and only after the first boot has finished.
    assert set(values(s, "Unit", "ConditionPathExists")) == {
        "/var/lib/kube-firstboot/done", "/etc/kubernetes/manifests/kube-apiserver.yaml"}
    assert values(s, "Service", "ExecStart") == ["/usr/bin/kube-firstboot refresh $KUBE_FIRSTBOOT_REFRESH_ARGS"]
    assert not values(s, "Install", "WantedBy")  # started by its timer only
    assert values(t, "Install", "WantedBy") == ["timers.target"]
    # A wall-clock schedule keeps firing while the service is skipped (workers); monotonic
    # OnUnitActiveSec= would stop after the first skip.
    assert values(t, "Timer", "OnCalendar") and not values(t, "Timer", "OnUnitActiveSec")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_refresh_comes_well_inside_the_kubeadm_certs_window():
    """kubeadm-certs lives 2 hours: the longest gap between two refreshes must leave a margin."""
    t = unit(TIMER)
    cal = values(t, "Timer", "OnCalendar")[0]
    p = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", cal], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    import datetime
    stamps = [datetime.datetime.strptime(" ".join(line.split(":", 1)[1].split()[1:3]), "%Y-%m-%d %H:%M:%S")
              for line in p.stdout.splitlines() if "Next elapse" in line or "Iter. #" in line]
    gaps = {(b - a).total_seconds() for a, b in zip(stamps, stamps[1:])}
    assert gaps == {3600.0}, p.stdout
    delay = values(t, "Timer", "RandomizedDelaySec")[0]
    assert delay.endswith("min") and int(delay[:-3]) * 60 + 3600 + 15 * 60 < 2 * 3600  # + a 15-minute run


def ordering_root(tmp_path, service_text):
    """A unit directory where multi-user.target wants kube-firstboot.service (as once enabled), and a
    target that starts the boot the way it goes: multi-user.target and cloud-init.target."""
    d = tmp_path / "boot"
    (d / "multi-user.target.wants").mkdir(parents=True)
    (d / "kube-firstboot.service").write_text(service_text)
    os.symlink("../kube-firstboot.service", d / "multi-user.target.wants" / "kube-firstboot.service")
    (d / "kf-test-boot.target").write_text(
        "[Unit]\nDescription=the boot\nWants=multi-user.target cloud-init.target\nAfter=multi-user.target\n")
    return d / "kf-test-boot.target"


@needs_verify
@pytest.mark.skipif(not os.path.exists("/lib/systemd/system/cloud-final.service"), reason="cloud-init not installed")
def test_no_ordering_cycle_with_cloud_init(tmp_path):
    """cloud-final.service is ordered after multi-user.target. A unit wanted by multi-user.target is
    ordered before it (systemd adds that), so ordering it after cloud-final would be a cycle that
    systemd breaks by dropping a job at boot; After=multi-user.target avoids it."""
    text = open(SERVICE).read()
    rc, out = verify(tmp_path, [ordering_root(tmp_path, text)])
    assert "ordering cycle" not in out, out
    # The same check sees the cycle when the unit lacks After=multi-user.target.
    bad = text.replace("After=network-online.target multi-user.target", "After=network-online.target")
    assert bad != text
    rc, out = verify(tmp_path / "bad", [ordering_root(tmp_path / "bad", bad)])
    # systemd names whichever unit of the cycle it met first; kube-firstboot.service is in it either way.
    assert "Found ordering cycle on" in out and "kube-firstboot.service/start" in out, out


@pytest.mark.skipif(not shutil.which("systemctl"), reason="needs systemctl")
def test_enable_offline_in_an_image_root(tmp_path):
    root = tmp_path / "root"
    lib = root / "lib/systemd/system"
    lib.mkdir(parents=True)
    for src in (SERVICE, REFRESH, TIMER):
        shutil.copy(src, lib)
    p = subprocess.run(["systemctl", f"--root={root}", "enable", "kube-firstboot.service",
                        "kube-firstboot-refresh.timer"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    wants = root / "etc/systemd/system/multi-user.target.wants/kube-firstboot.service"
    timer = root / "etc/systemd/system/timers.target.wants/kube-firstboot-refresh.timer"
    assert os.readlink(wants) == "/lib/systemd/system/kube-firstboot.service"
    assert os.readlink(timer) == "/lib/systemd/system/kube-firstboot-refresh.timer"
    p = subprocess.run(["systemctl", f"--root={root}", "is-enabled", "kube-firstboot-refresh.service"],
                       capture_output=True, text=True)
    assert p.stdout.strip() == "static"  # no [Install]: only its timer starts it


def test_kubelet_dropin_is_kubeadms_command_line():
    """The command line kubeadm's drop-in gives the kubelet (spec: kubeadm-compat 6.5), with the files
    kube-firstboot writes in the places the kubelet reads them."""
    d = unit(DROPIN)
    env = {}
    for v in values(d, "Service", "Environment"):
        k, _, val = v.strip('"').partition("=")
        env[k] = val
    assert env["KUBELET_KUBECONFIG_ARGS"] == ("--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf "
                                              "--kubeconfig=/etc/kubernetes/kubelet.conf")
    assert env["KUBELET_CONFIG_ARGS"] == "--config=/var/lib/kubelet/config.yaml"
    files = values(d, "Service", "EnvironmentFile")
    assert files[0] == "-/var/lib/kubelet/kubeadm-flags.env"  # KUBELET_KUBEADM_ARGS
    assert "-/etc/default/kubelet" in files  # KUBELET_EXTRA_ARGS
    # ExecStart= reset first, then the one command line; the variables in kubeadm's order.
    assert values(d, "Service", "ExecStart") == [
        "", "/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS"]
    k = unit(KUBELET)
    assert values(k, "Service", "ExecStart") == ["/usr/bin/kubelet"]
    assert values(k, "Service", "Restart") == ["always"]
