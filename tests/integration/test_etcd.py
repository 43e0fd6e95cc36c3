# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot etcd` (firstboot/cluster/etcd.c) against real etcd members on loopback: member list, a learner
added, started, promoted; the busy answers a concurrent join gets; remove."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization

import etcdbin
import testpki


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


class Member:
    """One etcd process, stopped by its PID."""

    def __init__(self, d, name, ports, initial_cluster, state):
        self.name, self.client_port, self.peer_port = name, ports[0], ports[1]
        self.log = open(os.path.join(d, f"{name}.log"), "w")
        p = os.path.join(d, "pki")
        self.proc = subprocess.Popen(
            [etcdbin.path(), f"--name={name}", f"--data-dir={d}/{name}.data",
             f"--listen-client-urls=https://127.0.0.1:{ports[0]}",
             f"--advertise-client-urls=https://127.0.0.1:{ports[0]}",
             f"--listen-peer-urls=https://127.0.0.1:{ports[1]}",
             f"--initial-advertise-peer-urls=https://127.0.0.1:{ports[1]}",
             f"--initial-cluster={initial_cluster}", f"--initial-cluster-state={state}",
             "--client-cert-auth", f"--trusted-ca-file={p}/ca.crt", f"--cert-file={p}/server.crt",
             f"--key-file={p}/server.key", "--peer-client-cert-auth", f"--peer-trusted-ca-file={p}/ca.crt",
             f"--peer-cert-file={p}/server.crt", f"--peer-key-file={p}/server.key",
             f"--listen-metrics-urls=http://127.0.0.1:{free_port()}"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def etcd(tmp_path):
    d = str(tmp_path)
    os.makedirs(f"{d}/pki")
    ca_key, ca = testpki.make_ca("etcd-ca")
    # Server and peer in one: loopback peers connect from 127.0.0.1, which the SAN must hold (etcd 3.4).
    s_key, s = testpki.issue(ca_key, ca, "etcd", server=True, client=True, dns=["localhost"], ips=["127.0.0.1"])
    c_key, c = testpki.issue(ca_key, ca, "kube-etcd-healthcheck-client", client=True)
    for name, data in (("ca.crt", pem(ca)), ("server.crt", pem(s)), ("server.key", key_pem(s_key)),
                       ("client.crt", pem(c)), ("client.key", key_pem(c_key))):
        with open(f"{d}/pki/{name}", "wb") as f:
            f.write(data)
    members = []
    ports = (free_port(), free_port())
    members.append(Member(d, "cp-1", ports, f"cp-1=https://127.0.0.1:{ports[1]}", "new"))

    class E:
        dir = d
        url = f"https://127.0.0.1:{ports[0]}"
        creds = ["--cacert", f"{d}/pki/ca.crt", "--cert", f"{d}/pki/client.crt", "--key", f"{d}/pki/client.key"]

        def start(self, name, ports, initial_cluster):
            m = Member(d, name, ports, initial_cluster, "existing")
            members.append(m)
            return m

    yield E()
    for m in members:
        m.stop()


def wait_for(fn, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def members(kf, etcd, url=None):
    p = kf("etcd", "member", "list", "--endpoints", url or etcd.url, *etcd.creds, check_rc=0)
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    return {r[0]: r for r in rows}


def test_learner_join_promote_and_remove(kf, etcd):
    wait_for(lambda: kf("etcd", "health", "--endpoints", etcd.url, *etcd.creds).returncode == 0, 20,
             "etcd health")
    m = members(kf, etcd)
    assert len(m) == 1 and list(m.values())[0][1:3] == ["voter", "cp-1"]

    ports = (free_port(), free_port())
    peer = f"https://127.0.0.1:{ports[1]}"
    p = kf("etcd", "member", "add-learner", peer, "--endpoints", etcd.url, *etcd.creds, check_rc=0)
    learner_id = p.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{16}", learner_id)
    row = members(kf, etcd)[learner_id]
    assert row[1] == "learner" and row[2:4] == ["(not", "started)"]

    # A second join while a learner is pending: etcd allows one learner; the answer is "busy, retry".
    p = kf("etcd", "member", "add-learner", f"https://127.0.0.1:{free_port()}", "--endpoints", etcd.url,
           *etcd.creds)
    assert p.returncode == 3 and "too many learner" in p.stderr
    # Promoting a learner that has not started (not in sync) is also "retry later".
    p = kf("etcd", "member", "promote", learner_id, "--endpoints", etcd.url, *etcd.creds)
    assert p.returncode == 3

    first_peer = [r for r in members(kf, etcd).values() if r[1] == "voter"][0][3]
    etcd.start("cp-2", ports, f"cp-1={first_peer},cp-2={peer}")
    wait_for(lambda: kf("etcd", "member", "promote", learner_id, "--endpoints", etcd.url,
                        *etcd.creds).returncode == 0, 30, "the learner to be promoted")
    m = members(kf, etcd)
    assert sorted(r[1] for r in m.values()) == ["voter", "voter"]
    assert m[learner_id][2] == "cp-2"
    # Both endpoints answer; the first unreachable endpoint is skipped.
    dead = f"https://127.0.0.1:{free_port()}"
    assert len(members(kf, etcd, url=f"{dead},https://127.0.0.1:{ports[0]}")) == 2

    # Promoting a voter is refused; removing works once; a second remove finds no member.
    p = kf("etcd", "member", "promote", learner_id, "--endpoints", etcd.url, *etcd.creds)
    assert p.returncode == 1 and "can only promote a learner" in p.stderr
    wait_for(lambda: kf("etcd", "member", "remove", learner_id, "--endpoints", etcd.url,
                        *etcd.creds).returncode == 0, 30, "the member to be removed")
    p = kf("etcd", "member", "remove", learner_id, "--endpoints", etcd.url, *etcd.creds)
    assert p.returncode == 1 and "member not found" in p.stderr
    assert len(members(kf, etcd)) == 1


def test_defaults_come_from_the_node_root(kf, etcd, tmp_path):
    root = tmp_path / "root"
    d = root / "etc/kubernetes/pki/etcd"
    d.mkdir(parents=True)
    for src, dst in (("ca.crt", "ca.crt"), ("client.crt", "healthcheck-client.crt"),
                     ("client.key", "healthcheck-client.key")):
        (d / dst).write_bytes(open(f"{etcd.dir}/pki/{src}", "rb").read())
    wait_for(lambda: kf("etcd", "health", "--endpoints", etcd.url, root=root).returncode == 0, 20, "health")


def test_wrong_ca_and_bad_arguments(kf, etcd, pki):
    wait_for(lambda: kf("etcd", "health", "--endpoints", etcd.url, *etcd.creds).returncode == 0, 20,
             "etcd health")
    p = kf("etcd", "health", "--endpoints", etcd.url, "--cacert", pki.other_ca_cert, *etcd.creds[2:])
    assert p.returncode == 1
    for args in (["member"], ["member", "promote", "xyz"], ["member", "add-learner", "10.0.0.1:2380"],
                 ["bogus"], ["health", "--timeout", "0"]):
        assert kf("etcd", *args, *etcd.creds).returncode == 2
    # Missing default credentials under an empty root: a clear error naming the file.
    p = kf("etcd", "health", root="/nonexistent-root")
    assert p.returncode == 2 and "healthcheck-client" not in p.stdout and "ca.crt" in p.stderr
