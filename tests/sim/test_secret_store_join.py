# SPDX-License-Identifier: Apache-2.0
"""A control-plane join whose secrets come only from a cloud secret store (issue 17), on each cloud: two control
planes boot at the same moment from identical user-data that holds no secret (the certificate key and the
bootstrap token in the store, the CA from files of the image); the seed inits with them, the other reads the
same key with the same identity and joins (download-certs opens kubeadm-certs with it).

The simulated cloud is one process in the load balancer's namespace (tests/emulators/cloud.py): its metadata
service on the link-local 169.254.169.254:80, which each node reaches as an instance does (a route on its
eth0, no option telling kube-firstboot where it is), and the store on 10.213.0.100:8000, named as a private
endpoint would be. AWS's store checks every request's SigV4 with botocore from the credentials its IMDS handed
out; GCP's and Azure's take only the tokens their metadata services issued.

Rotation (AWS): the stored certificate key and token change after init; a joiner reads the new key while
kubeadm-certs is still sealed under the old one, and reads it again until 'refresh' on the control plane
seals kubeadm-certs under the stored key (and makes the new token), then joins."""
import concurrent.futures
import json
import os
import secrets

import pytest

from simlib import PYTHON, kpki
from simlib.cluster import LB_IP, sh, wait_until
from simlib.proc import Proc
from simlib.userdata import user_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
CLOUD = os.path.join(REPO, "tests", "emulators", "cloud.py")
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")

IMDS_IP = "169.254.169.254"
STORE = f"http://{LB_IP}:8000"
CA_FILES = ("/etc/kube-firstboot/ca/ca.crt", "/etc/kube-firstboot/ca/ca.key")
KEY_NAME = {"aws": "prod/k8s/certificate-key", "gcp": "projects/sim/secrets/k8s-certificate-key",
            "azure": "k8s-certificate-key"}
TOKEN_NAME = {"aws": "/k8s/prod/bootstrap-token", "gcp": "projects/sim/secrets/k8s-bootstrap-token",
              "azure": "k8s-bootstrap-token"}
SOURCES = {
    "aws": ('{{awsSecretsManager: {{secretId: {key}, endpoint: "{url}"}}}}',
            '{{awsSsmParameter: {{name: {token}, endpoint: "{url}"}}}}'),
    "gcp": ('{{gcpSecretManager: {{name: {key}, endpoint: "{url}"}}}}',
            '{{gcpSecretManager: {{name: {token}, endpoint: "{url}"}}}}'),
    "azure": ('{{azureKeyVault: {{vaultUrl: "{url}", name: {key}}}}}',
              '{{azureKeyVault: {{vaultUrl: "{url}", name: {token}}}}}'),
}


def cloud_config(sim, cloud, cert_key, token):
    d = os.path.join(sim.dir, "cloud")
    os.makedirs(d, exist_ok=True)
    state = os.path.join(d, "state.json")
    cfg = os.path.join(d, "config.json")
    values = {KEY_NAME[cloud]: cert_key}
    c = {"imds": [IMDS_IP, 80], "store": [LB_IP, 8000], "role": "k8s-control-plane", "state": state,
         "secrets": values}
    if cloud == "aws":
        c["parameters"] = {TOKEN_NAME[cloud]: token}
    else:
        values[TOKEN_NAME[cloud]] = token
    with open(cfg + ".tmp", "w") as f:
        json.dump(c, f)
    os.replace(cfg + ".tmp", cfg)
    return cfg, state


def start_cloud(sim, cloud, cert_key, token):
    """The simulated cloud in the load balancer's namespace: (its Proc, its state file: what the store served
    and refused)."""
    cfg, state = cloud_config(sim, cloud, cert_key, token)
    sh("ip", "-n", sim.lb_ns, "addr", "add", f"{IMDS_IP}/32", "dev", "eth0")
    for n in sim.nodes:
        sh("ip", "-n", n.ns, "route", "add", f"{IMDS_IP}/32", "dev", "eth0")
    p = Proc(cloud, [PYTHON, CLOUD, cloud, cfg], os.path.join(sim.dir, "logs", f"{cloud}.log"), netns=sim.lb_ns)
    sim.procs.append(p)
    wait_until(lambda: os.path.exists(state) or not p.alive(), 20, 0.1, f"the simulated {cloud}")
    assert p.alive(), p.tail()
    return p, state


def read_state(state, ready):
    """The cloud's state once ready(state) holds (it is written a moment after each change)."""
    def get():
        with open(state) as f:
            s = json.load(f)
        return s if ready(s) else None
    try:
        return wait_until(get, 5, 0.1, "the cloud's state")
    except TimeoutError:
        with open(state) as f:
            return json.load(f)


def store_user_data(sim, cloud, role="auto"):
    key, token = SOURCES[cloud]
    ud = user_data(sim, role=role, secrets=f"""      certificateKey: {key.format(key=KEY_NAME[cloud], url=STORE)}
      bootstrapToken: {token.format(token=TOKEN_NAME[cloud], url=STORE)}""", ca_files=CA_FILES)
    assert "PRIVATE KEY" not in ud
    return ud


def give_ca(sim, nodes):
    """The CA as files of the image (the simulation's CA: its haproxy checks the apiservers against it)."""
    for n in nodes:
        for path, pem in zip(CA_FILES, (kpki.cert_pem(sim.pki.ca[1]), kpki.key_pem(sim.pki.ca[0]))):
            full = os.path.join(n.root, path.lstrip("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(pem)
            os.chmod(full, 0o600)


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_control_plane_joins_with_secrets_only_in_the_store(new_sim, cloud):
    sim = new_sim(control_planes=2, workers=0)
    sim.kf_bin = KF
    cert_key = secrets.token_hex(32)
    token = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    _, state = start_cloud(sim, cloud, cert_key, token)
    sim.start_lb()
    ud = store_user_data(sim, cloud)
    assert cert_key not in ud and token not in ud
    give_ca(sim, sim.cp)
    for n in sim.cp:
        n.write_seed(ud)
    with concurrent.futures.ThreadPoolExecutor(len(sim.cp)) as ex:
        futs = {n.name: ex.submit(n.firstboot, "run", "-v", timeout=600) for n in sim.cp}
        results = {k: f.result() for k, f in futs.items()}
    bad = {k: (r.returncode, r.stderr[-2500:]) for k, r in results.items() if r.returncode != 0}
    assert not bad, bad

    roles = {n.name: n.firstboot_status()["role"] for n in sim.cp}
    assert roles == {"cp-1": "init", "cp-2": "control-plane"}, roles
    assert "download-certs" in sim.cp[1].journal_done()
    members = sim.etcd_members(via=sim.cp[0])
    assert sorted(m.get("name") for m in members) == ["cp-1", "cp-2"] and not any(m.get("isLearner") for m in members)
    # init made the bootstrap token it read from the store.
    assert f"bootstrap-token-{token.split('.')[0]}" in sim.objects("secrets", "kube-system")

    # Each node read both secrets with the instance's identity; the store refused nothing.
    if cloud == "aws":
        st = read_state(state, lambda s: s["verified"] == 4)
        assert st["verified"] == 4, st  # every signature right by botocore's reckoning
        assert sorted(map(tuple, st["operations"])) == sorted(
            [("AmazonSSM.GetParameter", TOKEN_NAME[cloud]),
             ("secretsmanager.GetSecretValue", KEY_NAME[cloud])] * 2)
    elif cloud == "gcp":
        st = read_state(state, lambda s: len(s["accessed"]) == 4)
        assert sorted(map(tuple, st["accessed"])) == sorted(
            [(KEY_NAME[cloud], "latest"), (TOKEN_NAME[cloud], "latest")] * 2), st
    else:
        st = read_state(state, lambda s: len(s["gets"]) == 4)
        assert sorted(map(tuple, st["gets"])) == sorted([(KEY_NAME[cloud],), (TOKEN_NAME[cloud],)] * 2), st
    assert st["refusals"] == [], st

    # Neither value in any output or status.json of either node (at -v).
    texts = {f"{k} output": r.stdout + r.stderr for k, r in results.items()}
    for n in sim.cp:
        with open(os.path.join(n.root, "run/kube-firstboot/status.json")) as f:
            texts[f"{n.name} status.json"] = f.read()
    leaks = [(where, which) for where, text in texts.items() for which, v in (("key", cert_key), ("token", token))
             if v in text]
    assert not leaks, leaks


def test_rotation_through_refresh(new_sim):
    """Init with key K1 and token T1 from the store; the store's values become K2 and T2. A joiner reads K2
    while kubeadm-certs is still sealed under K1: it reads the key again every 10 s, until 'refresh' on the
    control plane, reading the store too, seals kubeadm-certs under K2 and makes T2's token; then it joins."""
    import signal
    import time

    sim = new_sim(control_planes=2, workers=0)
    sim.kf_bin = KF
    k1, k2 = secrets.token_hex(32), secrets.token_hex(32)
    t1 = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    t2 = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    aws, state = start_cloud(sim, "aws", k1, t1)
    sim.start_lb()
    give_ca(sim, sim.cp)
    sim.cp[0].write_seed(store_user_data(sim, "aws", role="init"))
    r = sim.cp[0].firstboot("run")
    assert r.returncode == 0, r.stderr[-2000:]

    # The rotation: the key only (the joiner still discovers with T1, whose token init made).
    cloud_config(sim, "aws", k2, t1)
    os.kill(aws.pid, signal.SIGHUP)
    joiner = sim.cp[1]
    joiner.write_seed(store_user_data(sim, "aws", role="control-plane"))
    log_path = os.path.join(sim.dir, "logs", "cp-2-rotation.log")
    with open(log_path, "w") as log:
        p = joiner.start_firstboot("run", "-v", log=log)
        try:
            wait_until(lambda: "reading it again from awsSecretsManager" in open(log_path).read() or
                       p.poll() is not None, 240, 0.5, "the joiner to find the old key in kubeadm-certs")
            assert p.poll() is None, open(log_path).read()[-3000:]
            # The token too, now: refresh makes T2's.
            cloud_config(sim, "aws", k2, t2)
            os.kill(aws.pid, signal.SIGHUP)
            t0 = time.time()
            ref = sim.cp[0].firstboot("refresh", "-v")
            assert "kubeadm-certs: uploaded again under the configured certificate key" in ref.stderr, ref.stderr[-3000:]
            rc = p.wait(300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    out = open(log_path).read()
    assert rc == 0, out[-3000:]
    assert "The stored certificate key changed" not in out  # it had read K2 already: kubeadm-certs changed
    print(f"joined {time.time() - t0:.1f}s after refresh")
    assert "download-certs" in joiner.journal_done()
    assert sorted(m.get("name") for m in sim.etcd_members(via=sim.cp[0])) == ["cp-1", "cp-2"]
    tokens = sim.objects("secrets", "kube-system")
    assert f"bootstrap-token-{t2.split('.')[0]}" in tokens and f"bootstrap-token-{t1.split('.')[0]}" in tokens
    assert read_state(state, lambda s: True)["refusals"] == []
    for text in (out, r.stdout + r.stderr, ref.stdout + ref.stderr):
        assert not [v for v in (k1, k2, t1, t2) if v in text]
