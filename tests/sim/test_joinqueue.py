# SPDX-License-Identifier: Apache-2.0
"""The join queue (firstboot/cluster/joinqueue.c): `kube-firstboot etcd queue` against the apiserver double (two
apiservers sharing one real etcd, optimistic concurrency on the Lease), and `etcd member join --kubeconfig`
holding it while real etcd members join at the same moment."""
import os
import re
import signal
import subprocess
import threading
import time

import etcdbin
import pytest

from simlib import kpki
from simlib.kubeclient import ApiError
from simlib.local import free_port
from simlib.proc import Proc, wait_until

LEASE = "kube-firstboot-etcd-join"


@pytest.fixture
def confs(cluster, tmp_path):
    """Admin kubeconfigs, one per apiserver double; the queue's Lease deleted before the test."""
    # kubeadm:cluster-admins is bound by init, which this cluster never ran: super-admin is what there is.
    cert, key = cluster.pki.client_pems("kubernetes-super-admin", "system:masters")
    paths = []
    for i, url in enumerate(cluster.apiservers):
        p = str(tmp_path / f"admin{i}.conf")
        kpki.write_kubeconfig(p, kpki.kubeconfig(url, cluster.pki.ca_pem, "kubernetes-admin", cert, key))
        paths.append(p)
    try:
        cluster.admin().delete("leases", LEASE, "kube-system", "coordination.k8s.io")
    except ApiError as e:
        assert e.code == 404
    return paths


def lease(cluster):
    return cluster.admin().get("leases", LEASE, "kube-system", "coordination.k8s.io")


def test_show_take_release(kf, cluster, confs):
    q = ["etcd", "queue"]
    kc = ["--kubeconfig", confs[0]]
    assert "never taken" in kf(*q, "show", *kc, check_rc=0).stdout

    p = kf(*q, "take", *kc, "--holder", "cp-1/aaaa", "--ttl", "30", check_rc=0)
    assert p.stdout == "cp-1/aaaa\n"
    spec = lease(cluster)["spec"]
    assert spec["holderIdentity"] == "cp-1/aaaa" and spec["leaseDurationSeconds"] == 30
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", spec["renewTime"])
    out = kf(*q, "show", *kc, check_rc=0).stdout
    assert re.search(r"^holder: +cp-1/aaaa$", out, re.M) and re.search(r"^expires in: +(2[0-9]|30) s$", out, re.M)

    # Someone else waits, then gives up naming the holder (exit 3: retry later).
    p = kf(*q, "take", "--kubeconfig", confs[1], "--holder", "cp-2/bbbb", "--wait", "1")
    assert p.returncode == 3 and "held by 'cp-1/aaaa'" in p.stderr
    # A new run of the same node takes over its own earlier hold at once.
    t = time.monotonic()
    kf(*q, "take", *kc, "--holder", "cp-1/cccc", "--wait", "1", check_rc=0)
    assert time.monotonic() - t < 1.0
    assert lease(cluster)["spec"]["holderIdentity"] == "cp-1/cccc"
    assert lease(cluster)["spec"]["leaseTransitions"] == 1

    # Releasing someone else's hold does nothing; the holder's own release frees it; free is taken at once.
    kf(*q, "release", *kc, "--holder", "cp-2/bbbb", check_rc=0)
    assert lease(cluster)["spec"]["holderIdentity"] == "cp-1/cccc"
    kf(*q, "release", *kc, "--holder", "cp-1/cccc", check_rc=0)
    assert "holderIdentity" not in lease(cluster)["spec"]
    assert re.search(r"^holder: +\(free\)$", kf(*q, "show", *kc, check_rc=0).stdout, re.M)
    kf(*q, "take", *kc, "--holder", "cp-2/bbbb", "--wait", "1", check_rc=0)

    # release needs --holder or --force; --force frees a stuck queue whoever holds it.
    assert kf(*q, "release", *kc).returncode == 2
    kf(*q, "release", *kc, "--force", check_rc=0)
    assert "holderIdentity" not in lease(cluster)["spec"]
    # The default holder identity is HOSTNAME/<16 hex digits>.
    p = kf(*q, "take", *kc, check_rc=0)
    assert re.fullmatch(rf"{re.escape(os.uname().nodename)}/[0-9a-f]{{16}}\n", p.stdout)


def test_bad_kubeconfig_and_forbidden(kf, cluster, confs, tmp_path):
    assert kf("etcd", "queue", "show", "--kubeconfig", str(tmp_path / "nope.conf")).returncode == 2
    # A user without rights on Leases in kube-system: a clear failure naming the API's answer.
    cert, key = cluster.pki.client_pems("nobody")
    p = str(tmp_path / "nobody.conf")
    kpki.write_kubeconfig(p, kpki.kubeconfig(cluster.apiservers[0], cluster.pki.ca_pem, "nobody", cert, key))
    r = kf("etcd", "queue", "take", "--kubeconfig", p, "--holder", "x/1", "--wait", "1")
    assert r.returncode == 1 and "forbidden" in r.stderr


def take_hold(kf_bin, conf, holder, ttl, hold, wait=60):
    return subprocess.Popen([kf_bin, "etcd", "queue", "take", "--kubeconfig", conf, "--holder", holder, "--ttl",
                             str(ttl), "--hold", str(hold), "--wait", str(wait)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stamp(s):
    from simlib import simclock
    return simclock.parse_rfc3339(s)


@pytest.mark.parametrize("run", [1, 2, 3])
def test_concurrent_takers_hold_one_at_a_time(kf_bin, cluster, confs, run):
    procs = {f"cp-{i}/run{run}": take_hold(kf_bin, confs[i % 2], f"cp-{i}/run{run}", 10, 1) for i in range(3)}
    spans = []
    for h, p in procs.items():
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        taken = re.search(r"^taken (\S+)$", out, re.M).group(1)
        released = re.search(r"^released (\S+)$", out, re.M).group(1)
        spans.append((stamp(taken), stamp(released), h))
    spans.sort()
    for (_, end, h1), (start, _, h2) in zip(spans, spans[1:]):
        assert end <= start, f"{h1} held the queue until {end}, but {h2} took it at {start}"
    assert "holderIdentity" not in lease(cluster)["spec"]
    print(f"queue run {run}: " + ", ".join(f"{h} {s - spans[0][0]:.2f}-{e - spans[0][0]:.2f}s" for s, e, h in spans))


def test_expiry_lets_a_waiter_in_after_kill_9(kf, kf_bin, cluster, confs):
    a = take_hold(kf_bin, confs[0], "cp-1/dead", 3, 600)
    try:
        wait_until(lambda: a.poll() is None and lease(cluster)["spec"].get("holderIdentity") == "cp-1/dead", 20,
                   what="cp-1 holding the queue")
        time.sleep(1.5)  # at least one renewal
        os.kill(a.pid, signal.SIGKILL)
        a.wait(10)
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
        a.stdout.close()
        a.stderr.close()
    t = time.monotonic()
    p = kf("etcd", "queue", "take", "--kubeconfig", confs[1], "--holder", "cp-2/live", "--ttl", "3", "--wait", "30",
           check_rc=0)
    waited = time.monotonic() - t
    assert 0.5 < waited < 3 + 2.5, waited  # until the dead holder's lease ran out, not much longer
    assert "took over from 'cp-1/dead' (its lease expired)" in p.stderr
    spec = lease(cluster)["spec"]
    assert spec["holderIdentity"] == "cp-2/live" and spec["leaseTransitions"] == 1


def test_renewal_keeps_the_hold(kf, kf_bin, cluster, confs):
    a = take_hold(kf_bin, confs[0], "cp-1/long", 2, 5)
    try:
        wait_until(lambda: lease(cluster)["spec"].get("holderIdentity") == "cp-1/long", 20, what="cp-1 holding")
        # Longer than the lease: only the renewals keep the others out.
        p = kf("etcd", "queue", "take", "--kubeconfig", confs[1], "--holder", "cp-2/x", "--wait", "3")
        assert p.returncode == 3 and "held by 'cp-1/long'" in p.stderr, p.stderr
        out, err = a.communicate(timeout=30)
        assert a.returncode == 0, err
    finally:
        if a.poll() is None:
            a.kill()
            a.communicate()
    kf("etcd", "queue", "take", "--kubeconfig", confs[1], "--holder", "cp-2/x", "--wait", "1", check_rc=0)


class EtcdCluster:
    """A separate etcd cluster on loopback (the cluster's CA and certificates), whose members join through
    kube-firstboot; every process stopped by PID."""

    def __init__(self, cluster, d):
        self.pki = os.path.join(cluster.pki_dir, "etcd")
        self.dir, self.procs = str(d), []
        self.creds = ["--cacert", f"{self.pki}/ca.crt", "--cert", f"{self.pki}/healthcheck-client.crt", "--key",
                      f"{self.pki}/healthcheck-client.key"]
        ports = (free_port(), free_port())
        self.url = f"https://127.0.0.1:{ports[0]}"
        self.start("m-1", ports, f"m-1=https://127.0.0.1:{ports[1]}", "new")

    def start(self, name, ports, initial_cluster, state="existing"):
        p = self.pki
        argv = [etcdbin.path(), f"--name={name}", f"--data-dir={self.dir}/{name}.data",
                f"--listen-client-urls=https://127.0.0.1:{ports[0]}",
                f"--advertise-client-urls=https://127.0.0.1:{ports[0]}",
                f"--listen-peer-urls=https://127.0.0.1:{ports[1]}",
                f"--initial-advertise-peer-urls=https://127.0.0.1:{ports[1]}",
                f"--initial-cluster={initial_cluster}", f"--initial-cluster-state={state}",
                "--client-cert-auth", f"--trusted-ca-file={p}/ca.crt", f"--cert-file={p}/server.crt",
                f"--key-file={p}/server.key", "--peer-client-cert-auth", f"--peer-trusted-ca-file={p}/ca.crt",
                f"--peer-cert-file={p}/peer.crt", f"--peer-key-file={p}/peer.key",
                f"--listen-metrics-urls=http://127.0.0.1:{free_port()}"]
        self.procs.append(Proc(name, argv, os.path.join(self.dir, "logs", f"{name}.log")))

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


@pytest.mark.parametrize("run", [1, 2])
def test_joins_through_the_queue(kf, kf_bin, cluster, confs, tmp_path, run):
    ec = EtcdCluster(cluster, tmp_path)
    try:
        wait_until(lambda: kf("etcd", "health", "--endpoints", ec.url, *ec.creds).returncode == 0, 20, what="etcd")
        n, results, barrier = 3, {}, threading.Barrier(3)

        def node(i):
            name, ports = f"m-{i + 2}", (free_port(), free_port())
            barrier.wait()
            p = subprocess.Popen([kf_bin, "etcd", "member", "join", "--name", name, "--peer-url",
                                  f"https://127.0.0.1:{ports[1]}", "--endpoints", ec.url, *ec.creds, "--promote",
                                  "--kubeconfig", confs[i % 2], "--ttl", "15", "--wait", "120"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for line in p.stdout:
                m = re.match(r'^ETCD_INITIAL_CLUSTER="([^"]*)"$', line.strip())
                if m:
                    ec.start(name, ports, m.group(1))
            err = p.stderr.read()
            p.wait(180)
            results[name] = (p.returncode, err)

        threads = [threading.Thread(target=node, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert len(results) == n and all(rc == 0 for rc, _ in results.values()), results
        # The queue did the ordering: nobody met etcd's "too many learner members".
        assert not any("another member is joining" in err for _, err in results.values()), results
        rows = [line.split() for line in
                kf("etcd", "member", "list", "--endpoints", ec.url, *ec.creds, check_rc=0).stdout.splitlines()[1:]]
        assert sorted((r[1], r[2]) for r in rows) == [("voter", f"m-{i}") for i in range(1, n + 2)]
        assert "holderIdentity" not in lease(cluster)["spec"]
    finally:
        ec.stop()
