# SPDX-License-Identifier: Apache-2.0
"""What exists of kube-firstboot, run inside simulated nodes against the simulated cluster: bootstrap-token
discovery through haproxy (cluster-info, JWS from the bootstrapsigner double, CA pin) and etcd member
listing with the node's kubeadm etcd client certificate. (init/join come with their issues.)"""
import hashlib
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simlib.cluster import LB_IP, Sim

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = Sim(tmp_path_factory.mktemp("kfsim"), control_planes=1, workers=1)
    with s:
        s.start_lb()
        s.kubeadm_init(s.cp[0])
        yield s
    assert s.leftovers() == {"namespaces": [], "processes": [], "mounts": []}


def skip_if_unavailable(r, verb):
    """An older build without the verb (exit 4 'not available', or 'Unknown verb') is not a failure of
    the simulation: skip, saying so."""
    if r.returncode == 4 and "not available" in r.stderr or "Unknown verb" in r.stderr:
        pytest.skip(f"{KF}: '{verb}' not available in this build: {r.stderr.strip()}")
    return r


def pin(sim):
    ca = x509.load_pem_x509_certificate(sim.pki.ca_pem)
    return "sha256:" + hashlib.sha256(ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def discover(sim, token, ca_hash, timeout=20):
    return skip_if_unavailable(sim.workers[0].exec([KF, "discover", "--api-server", f"{LB_IP}:6443", "--token", token,
                                                    "--ca-cert-hash", ca_hash, "--timeout", str(timeout)],
                                                   timeout=timeout + 30), "discover")


def test_discovery_through_haproxy(sim):
    r = discover(sim, sim.token, pin(sim))
    assert r.returncode == 0, r.stderr
    assert f"https://{LB_IP}:6443" in r.stdout and pin(sim) in r.stdout


def test_discovery_refuses_a_wrong_secret_or_pin(sim):
    tid = sim.token.split(".")[0]
    r = discover(sim, tid + ".0000000000000000", pin(sim), timeout=5)
    assert r.returncode == 1, (r.stdout, r.stderr)
    r = discover(sim, sim.token, "sha256:" + "0" * 64, timeout=5)
    assert r.returncode == 1, (r.stdout, r.stderr)


def test_etcd_member_list_with_the_node_certs(sim):
    cp = sim.cp[0]
    r = skip_if_unavailable(cp.exec([KF, "etcd", "member", "list", "--root", cp.root]), "etcd")
    assert r.returncode == 0, r.stderr
    assert "cp-1" in r.stdout and "https://10.213.0.11:2380" in r.stdout
