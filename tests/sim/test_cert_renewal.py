# SPDX-License-Identifier: Apache-2.0
"""Certificates renewed in place by refresh (issue 16) on 3 simulated control planes: with the cluster's clock
(the apiserver double's, KF_SIM_CLOCK) 11 months after init, refresh on every control plane at once renews every
leaf certificate and kubeconfig client certificate (new key, same CA, kubeadm's fields, a year from now by this
machine's clock), restarts kube-apiserver, kube-controller-manager and kube-scheduler one node at a time (the
join queue), the apiservers serve the new certificates, and kubectl through the load balancer never fails
meanwhile; check-expiration shows the new dates; a refresh with nothing due changes nothing; 9 years on, the CAs
init made (etcd-ca, front-proxy-ca: 10 years) are reported as expiring, never renewed."""
import concurrent.futures
import datetime
import json
import os
import ssl
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simlib import simclock
from simlib.userdata import user_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")

DAY = 86400
LEAVES = ["apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "etcd/healthcheck-client", "etcd/peer",
          "etcd/server", "front-proxy-client"]
KUBECONFIGS = ["admin.conf", "controller-manager.conf", "scheduler.conf"]
RESTARTED = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]


def load_cert(node, rel):
    with open(os.path.join(node.root, "etc/kubernetes/pki", rel + ".crt"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def kubeconfig_cert(node, name):
    import base64

    import yaml
    with open(os.path.join(node.root, "etc/kubernetes", name)) as f:
        kc = yaml.safe_load(f)
    return x509.load_pem_x509_certificate(base64.b64decode(kc["users"][0]["user"]["client-certificate-data"]))


def fields(c):
    sans = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value if any(
        e.oid == x509.SubjectAlternativeName.oid for e in c.extensions) else None
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    return (c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
            [a.value for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
            sorted(sans.get_values_for_type(x509.DNSName)) if sans else [],
            sorted(str(i) for i in sans.get_values_for_type(x509.IPAddress)) if sans else [],
            sorted(o.dotted_string for o in eku), c.issuer)


def not_after(c):
    return c.not_valid_after.replace(tzinfo=datetime.timezone.utc)  # Debian 12's cryptography: naive UTC


def not_before(c):
    return c.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def snapshot(node):
    out = {rel: load_cert(node, rel) for rel in LEAVES}
    out.update({name: kubeconfig_cert(node, name) for name in KUBECONFIGS})
    return out


def served_cert(sim, node):
    """The certificate node's apiserver presents, read from the load balancer's namespace."""
    r = subprocess.run(["ip", "netns", "exec", sim.lb_ns, "openssl", "s_client", "-connect", f"{node.ip}:6443",
                        "-servername", node.name], input="", capture_output=True, text=True, timeout=20)
    pem = r.stdout[r.stdout.index("-----BEGIN CERTIFICATE-----"):r.stdout.index("-----END CERTIFICATE-----") + 25]
    return x509.load_pem_x509_certificate(pem.encode())


def apiserver_restart(node):
    """(stopped, started) in seconds of the day: the kube-apiserver restart in node's kubelet log."""
    def secs(line):
        h, m, sec = line[:8].split(":")
        return int(h) * 3600 + int(m) * 60 + int(sec)
    lines = open(os.path.join(node.root, "var/log/kubelet.log")).read().splitlines()
    stop = next(i for i, ln in enumerate(lines) if "kube-apiserver: manifest removed; stopping" in ln)
    start = next(i for i in range(stop, len(lines)) if "kube-apiserver: started pid" in lines[i])
    return secs(lines[stop]), secs(lines[start])


class KubectlLoop:
    """kubectl get nodes through the load balancer, from a control plane's namespace, until stopped."""

    def __init__(self, node):
        self.node, self.ok, self.failures, self.stop_ev = node, 0, [], threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        kc = os.path.join(self.node.root, "etc/kubernetes/super-admin.conf")
        while not self.stop_ev.is_set():
            r = self.node.exec(["kubectl", "--kubeconfig", kc, "--request-timeout=10s", "get", "nodes", "-o", "name"],
                               timeout=30)
            if r.returncode == 0:
                self.ok += 1
            else:
                self.failures.append(r.stderr.strip()[-300:])
            time.sleep(0.2)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join(60)


@pytest.fixture(scope="module")
def renewed(tmp_path_factory):
    """3 control planes booted from identical user-data, then refreshed at once 11 months later."""
    from simlib.cluster import Sim
    tmp = tmp_path_factory.mktemp("renewal")
    clock = str(tmp / "clock.json")
    simclock.write_config(clock, speed=1.0)
    old_env = os.environ.get("KF_SIM_CLOCK")
    os.environ["KF_SIM_CLOCK"] = clock
    sim = Sim(tmp / "sim", control_planes=3, workers=0, clock_file=clock)
    sim.kf_bin = KF
    try:
        with sim:
            sim.start_lb()
            for n in sim.cp:
                n.write_seed(user_data(sim))
            with concurrent.futures.ThreadPoolExecutor(3) as ex:
                res = list(ex.map(lambda n: n.firstboot("run", timeout=600), sim.cp))
            assert all(r.returncode == 0 for r in res), [r.stderr[-2000:] for r in res]
            sim.wait_etcd_voters(3, via=sim.cp[0])
            before = {n.name: snapshot(n) for n in sim.cp}
            ca_before = {n.name: open(os.path.join(n.root, "etc/kubernetes/pki/ca.crt"), "rb").read() for n in sim.cp}
            simclock.jump(clock, 335 * DAY)
            with KubectlLoop(sim.cp[0]) as loop:
                with concurrent.futures.ThreadPoolExecutor(3) as ex:
                    refreshed = dict(zip((n.name for n in sim.cp), ex.map(
                        lambda n: n.firstboot("refresh", timeout=900), sim.cp)))
                time.sleep(1)
            yield {"sim": sim, "clock": clock, "before": before, "ca_before": ca_before, "refreshed": refreshed,
                   "loop": loop}
    finally:
        if old_env is None:
            os.environ.pop("KF_SIM_CLOCK", None)
        else:
            os.environ["KF_SIM_CLOCK"] = old_env


def test_refresh_renews_every_leaf_with_kubeadm_fields(renewed):
    sim, now = renewed["sim"], datetime.datetime.now(datetime.timezone.utc)
    for n in sim.cp:
        r = renewed["refreshed"][n.name]
        assert r.returncode == 0, r.stderr[-3000:]
        st = n.firstboot_status()["certificateRenewal"]
        assert set(st["renewed"]) >= {"apiserver", "apiserver-etcd-client", "apiserver-kubelet-client",
                                      "etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-client",
                                      "admin.conf", "controller-manager.conf", "scheduler.conf"}, st
        assert st["restarted"] == RESTARTED, st
        assert "error" not in st, st
        assert open(os.path.join(n.root, "etc/kubernetes/pki/ca.crt"), "rb").read() == renewed["ca_before"][n.name]
        assert not os.path.exists(os.path.join(n.root, "var/lib/kube-firstboot/restart-pending"))
        assert os.listdir(os.path.join(n.root, "etc/kubernetes/tmp/kube-firstboot-restart")) == []
        after = snapshot(n)
        for name, old in renewed["before"][n.name].items():
            new = after[name]
            assert new.serial_number != old.serial_number, name
            assert new.public_key().public_numbers() != old.public_key().public_numbers(), f"{name}: new key"
            assert fields(new) == fields(old), name
            # a year from this machine's clock (the real one), backdated 5 minutes, as kubeadm renews
            life = not_after(new) - not_before(new)
            assert life == datetime.timedelta(days=365, minutes=5), (name, life)
            assert abs((not_before(new) - now).total_seconds() + 300) < 900, name
        # the kubelet's own certificate is left to the kubelet, as kubeadm leaves it
        assert "kubelet.conf" not in n.firstboot_status()["certificateRenewal"]["renewed"]


def test_kubectl_never_failed_and_the_restarts_did_not_overlap(renewed):
    """What was observed, not what forces it: the join queue (tested in test_joinqueue.py) is what keeps
    restarts apart; here they are short enough not to collide even without it."""
    loop = renewed["loop"]
    assert loop.ok > 10, loop.ok
    assert loop.failures == [], loop.failures[:3]
    for n in renewed["sim"].cp:
        out = renewed["refreshed"][n.name].stdout
        assert "[certs] Restarting kube-apiserver" in out and "[certs] kube-scheduler is healthy again" in out, out
    # One apiserver down at a time: each node's [stopped, started again] window, as its kubelet logged it
    # (second precision: windows may touch, not overlap by a second or more).
    windows = {n.name: apiserver_restart(n) for n in renewed["sim"].cp}
    for a, (a0, a1) in windows.items():
        for b, (b0, b1) in windows.items():
            assert a == b or not (a0 < b1 and b0 < a1), windows


def test_apiservers_serve_the_new_certificates(renewed):
    sim = renewed["sim"]
    for n in sim.cp:
        served = served_cert(sim, n)
        assert served.serial_number == load_cert(n, "apiserver").serial_number, n.name
        assert served.serial_number != renewed["before"][n.name]["apiserver"].serial_number


def test_check_expiration_shows_the_new_dates(renewed):
    n = renewed["sim"].cp[1]
    r = n.firstboot("certs", "check-expiration")
    assert r.returncode == 0, r.stderr
    new = not_after(load_cert(n, "apiserver")).strftime("%b %d, %Y %H:%M UTC")
    old = not_after(renewed["before"][n.name]["apiserver"]).strftime("%b %d, %Y %H:%M UTC")
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("apiserver "))
    assert new in row and (new == old or old not in row), row
    assert "364d" in row, row


def test_nothing_due_changes_nothing(renewed):
    """Back on the real clock the renewed certificates have a year left: refresh renews and restarts nothing."""
    sim, clock = renewed["sim"], renewed["clock"]
    simclock.jump(clock, -335 * DAY)
    n = sim.cp[2]
    before = snapshot(n)
    r = n.firstboot("refresh")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Certificates: none due" in r.stderr, r.stderr[-2000:]
    st = n.firstboot_status()["certificateRenewal"]
    assert st["renewed"] == [] and st["restarted"] == [], st
    assert {k: c.serial_number for k, c in snapshot(n).items()} == {k: c.serial_number for k, c in before.items()}
    assert st["nextDue"] > simclock.rfc3339(), st


def test_nine_years_on_the_cas_are_reported_not_renewed(renewed):
    sim, clock = renewed["sim"], renewed["clock"]
    n = sim.cp[2]
    cas = {c: open(os.path.join(n.root, "etc/kubernetes/pki", c + ".crt"), "rb").read()
           for c in ("ca", "etcd/ca", "front-proxy-ca")}
    r = n.firstboot("refresh", "--renew-dry-run")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "etcd-ca CA" not in r.stderr and "front-proxy-ca CA" not in r.stderr, r.stderr[-2000:]
    simclock.jump(clock, 9 * 365 * DAY + 30 * DAY)
    try:
        r = n.firstboot("refresh", "--renew-dry-run")
        assert r.returncode == 0, r.stderr[-3000:]
        for ca in ("etcd-ca", "front-proxy-ca"):
            assert f"The {ca} CA" in r.stderr and "manual-rotation-of-ca-certificates" in r.stderr, r.stderr[-3000:]
        assert "Would renew" in r.stdout  # every leaf is due by then; a dry run changes nothing
        r = n.firstboot("refresh")
        assert r.returncode == 0, r.stderr[-3000:]
        st = n.firstboot_status()["certificateRenewal"]
        assert any(x.startswith("etcd-ca ") for x in st["caExpiring"]), st
        assert any(x.startswith("front-proxy-ca ") for x in st["caExpiring"]), st
        for c, pem in cas.items():
            assert open(os.path.join(n.root, "etc/kubernetes/pki", c + ".crt"), "rb").read() == pem, c
    finally:
        simclock.jump(clock, -(9 * 365 * DAY + 30 * DAY))
    json.dumps(st)
