# SPDX-License-Identifier: Apache-2.0
"""kube-firstboot run on a single init node of the simulated cluster (issue 6): real etcd and haproxy,
apiserver/controller-manager/scheduler/kubelet doubles. Every object of kubeadm's init (spec section 7.4) is
read back from etcd through the apiserver double; kubectl works with the admin.conf we wrote; a kill -9 at
every phase boundary followed by a re-run ends in the same state as an uninterrupted run; bad configurations
fail before anything is written."""
import base64
import json
import os
import shutil

import etcdbin
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simlib import kpki
from simlib.cluster import LB_IP, Sim, wait_until
from simlib.userdata import CERT_KEY, SIM_IGNORE, TOKEN, block

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")

VERSION = "v1.38.0"


def user_data(sim, extra_cluster="", extra_fb="", version=VERSION, pod_subnet="10.244.0.0/16"):
    """The init node's user-data: role init, our token and certificate key, and the simulation's CA (its
    haproxy checks the apiservers against it, as an operator's load balancer would)."""
    ca_cert, ca_key = block(kpki.cert_pem(sim.pki.ca[1])), block(kpki.key_pem(sim.pki.ca[0]))
    return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: init
    secrets:
      bootstrapToken: {{value: "{TOKEN}"}}
      certificateKey: {{value: "{CERT_KEY}"}}
    ca:
      cert: |
{ca_cert}
      key: |
{ca_key}
{extra_fb}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    kubernetesVersion: {version}
    controlPlaneEndpoint: {LB_IP}:6443
    networking: {{podSubnet: {pod_subnet}}}
{extra_cluster}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: InitConfiguration
    nodeRegistration:
      # The simulated node has no container runtime, iptables, cgroups, real kubelet or forwarding.
      ignorePreflightErrors: {SIM_IGNORE}
"""


def new_cluster(path, control_planes=1):
    s = Sim(path, control_planes=control_planes, workers=0)
    s.kf_bin = KF
    s.__enter__()
    s.start_lb()
    return s


def finish(s):
    s.__exit__(None, None, None)
    assert s.leftovers() == {"namespaces": [], "processes": [], "mounts": []}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = new_cluster(tmp_path_factory.mktemp("kfinit"))
    try:
        cp = s.cp[0]
        cp.write_seed(user_data(s))
        r = cp.firstboot("run", timeout=300)
        s.init_result = r
        yield s
    finally:
        finish(s)


def admin(sim):
    return sim.cp[0].admin(local=True)


def secret_data(o, key):
    return base64.b64decode(o["data"][key]).decode()


def test_run_succeeds_and_reports(sim):
    r, cp = sim.init_result, sim.cp[0]
    assert r.returncode == 0, r.stderr
    st = cp.firstboot_status()
    assert st["result"] == "success" and st["role"] == "init"
    assert [p["state"] for p in st["phases"]] and all(p["state"] in ("done", "skipped") for p in st["phases"])
    names = [p["name"] for p in st["phases"]]
    assert names[:2] == ["preflight", "certs"] and names[-1] == "show-join-command"
    for want in ("etcd", "control-plane", "kubelet-start", "wait-control-plane", "upload-config", "upload-certs",
                 "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon"):
        assert want in names
    assert os.path.exists(os.path.join(cp.root, "run/cluster-api/bootstrap-success.complete"))
    assert os.path.exists(os.path.join(cp.root, "var/lib/kube-firstboot/done"))
    info = json.load(open(os.path.join(cp.root, "var/lib/kube-firstboot/join-info.json")))
    assert info["controlPlaneEndpoint"] == f"{LB_IP}:6443" and info["caCertHash"].startswith("sha256:")
    assert info["tokenId"] == "abcdef"
    # no secret anywhere in what it printed or the world-readable file
    for text in (r.stdout, r.stderr, json.dumps(info)):
        assert TOKEN.split(".")[1] not in text and CERT_KEY not in text
    assert oct(os.stat(os.path.join(cp.root, "var/lib/kube-firstboot/join-info.json")).st_mode & 0o777) == "0o644"

    # status.json names the certificate and the CA that expire first among those `certs check-expiration` lists,
    # read here with python3-cryptography.
    def not_after(pem):
        return x509.load_pem_x509_certificate(pem).not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")

    pki = os.path.join(cp.root, "etc/kubernetes/pki")
    leaves = {n: open(os.path.join(pki, f), "rb").read() for n, f in [
        ("apiserver", "apiserver.crt"), ("apiserver-etcd-client", "apiserver-etcd-client.crt"),
        ("apiserver-kubelet-client", "apiserver-kubelet-client.crt"), ("etcd-healthcheck-client",
        "etcd/healthcheck-client.crt"), ("etcd-peer", "etcd/peer.crt"), ("etcd-server", "etcd/server.crt"),
        ("front-proxy-client", "front-proxy-client.crt")]}
    for conf in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
        kc = yaml.safe_load(open(os.path.join(cp.root, "etc/kubernetes", conf)))
        leaves[conf] = base64.b64decode(kc["users"][0]["user"]["client-certificate-data"])
    cas = {n: open(os.path.join(pki, f), "rb").read() for n, f in [
        ("ca", "ca.crt"), ("etcd-ca", "etcd/ca.crt"), ("front-proxy-ca", "front-proxy-ca.crt")]}
    every = {**leaves, **cas}
    near = st["certificates"]["nearestExpiry"]
    assert near["notAfter"] == min(not_after(p) for p in every.values())
    assert not_after(every[near["name"]]) == near["notAfter"]
    near_ca = st["certificates"]["nearestCAExpiry"]
    assert near_ca["name"] in cas and near_ca["notAfter"] == min(not_after(p) for p in cas.values())


def test_files_as_kubeadm_writes_them(sim):
    root = sim.cp[0].root
    for f, mode in (("etc/kubernetes/manifests/etcd.yaml", 0o600), ("etc/kubernetes/manifests/kube-apiserver.yaml", 0o600),
                    ("etc/kubernetes/admin.conf", 0o600), ("etc/kubernetes/super-admin.conf", 0o600),
                    ("etc/kubernetes/kubelet.conf", 0o600), ("etc/kubernetes/pki/ca.key", 0o600),
                    ("var/lib/kubelet/config.yaml", 0o644), ("var/lib/kubelet/kubeadm-flags.env", 0o644),
                    ("var/lib/kubelet/instance-config.yaml", 0o644)):
        st = os.stat(os.path.join(root, f))
        assert st.st_mode & 0o777 == mode, f
    assert os.stat(os.path.join(root, "etc/kubernetes/manifests")).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(root, "var/lib/etcd")).st_mode & 0o777 == 0o700
    pod = yaml.safe_load(open(os.path.join(root, "etc/kubernetes/manifests/kube-apiserver.yaml")))
    c = pod["spec"]["containers"][0]
    assert c["image"] == f"registry.k8s.io/kube-apiserver:{VERSION}"
    assert f"--advertise-address={sim.cp[0].ip}" in c["command"]
    etcd = yaml.safe_load(open(os.path.join(root, "etc/kubernetes/manifests/etcd.yaml")))
    cmd = etcd["spec"]["containers"][0]["command"]
    assert f"--initial-cluster=cp-1=https://{sim.cp[0].ip}:2380" in cmd and "--initial-cluster-state=existing" not in cmd
    # kubelet-finalize pointed kubelet.conf at the rotating certificate
    kc = yaml.safe_load(open(os.path.join(root, "etc/kubernetes/kubelet.conf")))
    assert kc["users"][0]["user"]["client-certificate"] == "/var/lib/kubelet/pki/kubelet-client-current.pem"


def test_etcd_healthy_with_one_member(sim):
    ms = sim.etcd_members(via=sim.cp[0])
    assert [m.get("name") for m in ms] == ["cp-1"]
    assert not any(m.get("isLearner") for m in ms)


def test_every_init_object(sim):
    c = admin(sim)
    rb = "rbac.authorization.k8s.io"
    crbs = {o["metadata"]["name"]: o for o in c.list("clusterrolebindings", group=rb)}
    assert crbs["kubeadm:cluster-admins"]["roleRef"]["name"] == "cluster-admin"
    assert crbs["kubeadm:cluster-admins"]["subjects"][0]["name"] == "kubeadm:cluster-admins"
    for name, role, subj in (("kubeadm:get-nodes", "kubeadm:get-nodes", "system:bootstrappers:kubeadm:default-node-token"),
                             ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper",
                              "system:bootstrappers:kubeadm:default-node-token"),
                             ("kubeadm:node-autoapprove-bootstrap",
                              "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                              "system:bootstrappers:kubeadm:default-node-token"),
                             ("kubeadm:node-autoapprove-certificate-rotation",
                              "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes")):
        assert crbs[name]["roleRef"] == {"apiGroup": rb, "kind": "ClusterRole", "name": role}, name
        assert [s["name"] for s in crbs[name]["subjects"]] == [subj], name
    crs = {o["metadata"]["name"]: o for o in c.list("clusterroles", group=rb)}
    assert crs["kubeadm:get-nodes"]["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]

    roles = {o["metadata"]["name"]: o for o in c.list("roles", "kube-system", group=rb)}
    rbs = {o["metadata"]["name"]: o for o in c.list("rolebindings", "kube-system", group=rb)}
    for name, cm in (("kubeadm:nodes-kubeadm-config", "kubeadm-config"), ("kubeadm:kubelet-config", "kubelet-config")):
        assert roles[name]["rules"][0]["resourceNames"] == [cm]
        assert sorted(s["name"] for s in rbs[name]["subjects"]) == [
            "system:bootstrappers:kubeadm:default-node-token", "system:nodes"]
    assert roles["kubeadm:kubeadm-certs"]["rules"][0] == {"apiGroups": [""], "resources": ["secrets"],
                                                           "resourceNames": ["kubeadm-certs"], "verbs": ["get"]}
    assert [s["name"] for s in rbs["kubeadm:kubeadm-certs"]["subjects"]] == [
        "system:bootstrappers:kubeadm:default-node-token"]

    cms = {o["metadata"]["name"]: o for o in c.list("configmaps", "kube-system")}
    cc = yaml.safe_load(cms["kubeadm-config"]["data"]["ClusterConfiguration"])
    assert cc["apiVersion"] == "kubeadm.k8s.io/v1beta4" and cc["kind"] == "ClusterConfiguration"
    assert cc["kubernetesVersion"] == VERSION and cc["controlPlaneEndpoint"] == f"{LB_IP}:6443"
    assert cc["networking"]["podSubnet"] == "10.244.0.0/16"
    assert "bootstrapTokens" not in cms["kubeadm-config"]["data"]["ClusterConfiguration"]
    kcfg = yaml.safe_load(cms["kubelet-config"]["data"]["kubelet"])
    assert kcfg["kind"] == "KubeletConfiguration" and kcfg["clusterDNS"] == ["10.96.0.10"]
    assert cms["kubelet-config"]["metadata"]["annotations"]["kubeadm.kubernetes.io/component-config.hash"].startswith(
        "sha256:")

    secrets = {o["metadata"]["name"]: o for o in c.list("secrets", "kube-system")}
    tok = secrets["bootstrap-token-abcdef"]
    assert tok["type"] == "bootstrap.kubernetes.io/token"
    assert secret_data(tok, "token-secret") == TOKEN.split(".")[1]
    assert secret_data(tok, "usage-bootstrap-authentication") == "true"
    assert secret_data(tok, "auth-extra-groups") == "system:bootstrappers:kubeadm:default-node-token"
    # kubeadm-certs: owned by a 2-hour token that can neither sign nor authenticate; opens with the key
    certs = secrets["kubeadm-certs"]
    ref = certs["metadata"]["ownerReferences"][0]
    owner = secrets[ref["name"]]
    assert ref["uid"] == owner["metadata"]["uid"] and ref["controller"] and ref["blockOwnerDeletion"]
    assert secret_data(owner, "description") == "Proxy for managing TTL for the kubeadm-certs secret"
    assert not any(k.startswith("usage-") for k in owner["data"])
    aes = AESGCM(bytes.fromhex(CERT_KEY))
    for key, path in (("ca.key", "etc/kubernetes/pki/ca.key"), ("sa.key", "etc/kubernetes/pki/sa.key"),
                      ("etcd-ca.crt", "etc/kubernetes/pki/etcd/ca.crt"),
                      ("front-proxy-ca.key", "etc/kubernetes/pki/front-proxy-ca.key")):
        raw = base64.b64decode(certs["data"][key])
        assert aes.decrypt(raw[:12], raw[12:], None) == open(os.path.join(sim.cp[0].root, path), "rb").read()

    pub = {o["metadata"]["name"]: o for o in c.list("configmaps", "kube-public")}
    ci = pub["cluster-info"]["data"]
    kc = yaml.safe_load(ci["kubeconfig"])
    assert kc["clusters"][0]["cluster"]["server"] == f"https://{LB_IP}:6443" and kc["clusters"][0]["name"] == ""
    # the bootstrapsigner double signed it for our token
    wait_until(lambda: "jws-kubeconfig-abcdef" in c.get("configmaps", "cluster-info", "kube-public")["data"], 30, 0.3,
               "cluster-info signed")
    proles = {o["metadata"]["name"]: o for o in c.list("roles", "kube-public", group=rb)}
    prbs = {o["metadata"]["name"]: o for o in c.list("rolebindings", "kube-public", group=rb)}
    assert proles["kubeadm:bootstrap-signer-clusterinfo"]["rules"][0]["resourceNames"] == ["cluster-info"]
    assert prbs["kubeadm:bootstrap-signer-clusterinfo"]["subjects"][0]["name"] == "system:anonymous"

    node = c.get("nodes", "cp-1")
    assert node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert node["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] == ""
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in node["spec"]["taints"]


def test_kubectl_with_our_admin_conf(sim, tmp_path):
    cp = sim.cp[0]
    kubectl = shutil.which("kubectl")
    r = cp.exec([kubectl, "--kubeconfig", os.path.join(cp.root, "etc/kubernetes/admin.conf"), "--cache-dir",
                 str(tmp_path), "get", "nodes", "-o", "name"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "node/cp-1"
    r = cp.exec([kubectl, "--kubeconfig", os.path.join(cp.root, "etc/kubernetes/admin.conf"), "--cache-dir",
                 str(tmp_path), "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"], timeout=60)
    if r.returncode == 0:  # kubectl 1.27+ with SelfSubjectReview served by the double
        assert "kubeadm:cluster-admins" in r.stdout


def test_rerun_is_a_no_op(sim):
    cp = sim.cp[0]
    r = cp.firstboot("run")
    assert r.returncode == 0 and "already set up" in r.stderr
    # Without the done marker every phase is verified and skipped; nothing is created again.
    c = admin(sim)
    before = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in c.list("secrets", "kube-system")}
    os.unlink(os.path.join(cp.root, "var/lib/kube-firstboot/done"))
    r = cp.firstboot("run")
    assert r.returncode == 0, r.stderr
    st = cp.firstboot_status()
    states = {p["name"]: p["state"] for p in st["phases"]}
    assert all(s == "skipped" for n, s in states.items() if n not in ("show-join-command",)), states
    after = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in c.list("secrets", "kube-system")}
    assert after == before


def test_rerun_repairs_coredns_and_keeps_its_scale(sim):
    """An operator scaled CoreDNS to 3 and someone broke its Corefile: a re-run of the addon phase puts the
    Corefile back and, as kubeadm does, keeps the running replica count."""
    cp = sim.cp[0]
    c = admin(sim)
    c.patch("deployments", "coredns", {"spec": {"replicas": 3}}, "kube-system", group="apps")
    good = c.get("configmaps", "coredns", "kube-system")["data"]["Corefile"]
    c.patch("configmaps", "coredns", {"data": {"Corefile": ".:53 {\n    errors\n}\n"}}, "kube-system")
    os.unlink(os.path.join(cp.root, "var/lib/kube-firstboot/done"))
    r = cp.firstboot("run")
    assert r.returncode == 0, r.stderr
    assert {p["name"]: p["state"] for p in cp.firstboot_status()["phases"]}["addon"] == "done"
    assert c.get("configmaps", "coredns", "kube-system")["data"]["Corefile"] == good
    assert c.get("deployments", "coredns", "kube-system", group="apps")["spec"]["replicas"] == 3


def test_plan_touches_nothing(sim, tmp_path):
    cp = sim.cp[0]
    r = cp.firstboot("plan")
    assert r.returncode == 0, r.stderr
    assert "role: init" in r.stdout and "upload-certs" in r.stdout


# ---- kill -9 at every phase boundary, then a re-run ----

def state_of(sim):
    """What must be identical between an interrupted and an uninterrupted init: the node's file list and
    deterministic contents, and the cluster's objects (no duplicates)."""
    root = sim.cp[0].root
    files = set()
    for d in ("etc/kubernetes", "var/lib/kubelet", "var/lib/kube-firstboot"):
        for dp, _, fs in os.walk(os.path.join(root, d)):
            for f in fs:
                p = os.path.relpath(os.path.join(dp, f), root)
                if p.startswith("var/lib/kubelet/pki/") or p.startswith("var/lib/kubelet/sim"):
                    continue  # the kubelet's own certificate store: timestamps in names
                files.add(p)
    contents = {p: open(os.path.join(root, p)).read() for p in
                ("etc/kubernetes/manifests/etcd.yaml", "etc/kubernetes/manifests/kube-apiserver.yaml",
                 "var/lib/kubelet/config.yaml", "var/lib/kubelet/kubeadm-flags.env")}
    c = admin(sim)
    objs = {}
    for res, ns, group in (("secrets", "kube-system", None), ("configmaps", "kube-system", None),
                           ("configmaps", "kube-public", None), ("roles", "kube-system", "rbac.authorization.k8s.io"),
                           ("rolebindings", "kube-system", "rbac.authorization.k8s.io"),
                           ("clusterrolebindings", None, "rbac.authorization.k8s.io")):
        names = [o["metadata"]["name"] for o in c.list(res, ns, group=group)]
        assert len(names) == len(set(names))
        objs[(res, ns)] = sorted(n for n in names if not n.startswith("system:"))
    return files, contents, objs, sim.etcd_members(via=sim.cp[0])


RENAMES = "rename,renameat,renameat2"


def run_traced(sim, strace_args, timeout=300):
    """kube-firstboot run on the node under strace (the main process only: the kubelet it starts is not
    traced), which records or kills at its atomic file writes (every one ends in a rename)."""
    cp = sim.cp[0]
    env = {"PATH": os.path.join(REPO, "tests/sim/bin/shims") + ":" + os.environ["PATH"], "KF_SIM_ROOT": cp.root}
    return cp.exec(["strace", "-qq", *strace_args, KF, "run", "--root", cp.root, "--allow-host"], timeout=timeout, env=env)


# The kill tests init 27 times: with ECDSA keys (RSA-2048 costs about 3 s of CPU per init; the module's
# cluster above keeps kubeadm's default).
KILL_KEYS = "    encryptionAlgorithm: ECDSA-P256\n"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted init, with the order of its file writes."""
    d = tmp_path_factory.mktemp("kfref")
    s = new_cluster(d)
    try:
        s.cp[0].write_seed(user_data(s, extra_cluster=KILL_KEYS))
        trace = str(d / "renames.trace")
        r = run_traced(s, ["-o", trace, "-e", f"trace={RENAMES}"])
        assert r.returncode == 0, r.stderr
        targets = []
        for line in open(trace):
            if line.startswith("rename"):
                targets.append(line.split('"')[-2])  # the new name: the last quoted argument
        files, contents, objs, members = state_of(s)
        yield {"files": files, "contents": contents, "objs": objs, "renames": targets,
               "phases": [p["name"] for p in s.cp[0].firstboot_status()["phases"]]}
    finally:
        finish(s)


KILL_PHASES = ["certs", "kubeconfig", "etcd", "control-plane", "kubelet-start", "wait-control-plane", "upload-config",
               "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon",
               "show-join-command"]


@pytest.mark.parametrize("phase", KILL_PHASES)
def test_kill_at_phase_then_resume(reference, tmp_path, phase):
    """SIGKILL exactly at the boundary before phase: after the journal records the phase before it, at the
    next file write (the status update saying the phase started); then the power goes (kubelet and static
    pods killed) and kube-firstboot runs again."""
    k = reference["phases"].index(phase)
    journal_writes = [i for i, t in enumerate(reference["renames"]) if t == "journal.json"]
    assert len(journal_writes) == len(reference["phases"])
    when = journal_writes[k - 1] + 2  # 1-based index of the write after the k-th journal write
    s = new_cluster(tmp_path)
    try:
        cp = s.cp[0]
        cp.write_seed(user_data(s, extra_cluster=KILL_KEYS))
        r = run_traced(s, ["-o", "/dev/null", "-e", f"trace={RENAMES}", "-e",
                           f"inject={RENAMES}:signal=SIGKILL:when={when}"])
        assert r.returncode != 0, f"kube-firstboot was not killed before {phase}"
        journal = json.load(open(os.path.join(cp.root, "var/lib/kube-firstboot/journal.json")))
        assert list(journal["done"]) == reference["phases"][:k], journal
        s.kill(cp)  # the power goes too: the kubelet and the static pods
        r = cp.firstboot("run", timeout=300)
        assert r.returncode == 0, f"{phase}: {r.stderr[-4000:]}"
        files, contents, objs, members = state_of(s)
        assert files == reference["files"], phase
        assert contents == reference["contents"], phase
        assert objs == reference["objs"], phase
        assert [m.get("name") for m in members] == ["cp-1"]
    finally:
        finish(s)


# ---- bad configurations fail before anything is written ----

@pytest.mark.parametrize("kw,expect", [
    ({"pod_subnet": "10.244.0.0/33"}, "podSubnet"),
    ({"extra_cluster": "    bogusField: 1\n"}, "bogusField"),
])
def test_bad_config_writes_nothing(tmp_path, kw, expect):
    s = new_cluster(tmp_path)
    try:
        cp = s.cp[0]
        cp.write_seed(user_data(s, **kw))
        r = cp.firstboot("run")
        assert r.returncode == 2, r.stderr
        assert expect in r.stderr
        assert not os.path.exists(os.path.join(cp.root, "etc/kubernetes"))
        assert not os.path.exists(os.path.join(cp.root, "var/lib/kube-firstboot/journal.json"))
        st = cp.firstboot_status()
        assert st["result"] == "failure" and "nothing was written" in st["error"]["message"]
    finally:
        finish(s)


def test_unsupported_version_writes_nothing(tmp_path):
    s = new_cluster(tmp_path)
    try:
        cp = s.cp[0]
        cp.write_seed(user_data(s, version="v1.29.0"))
        r = cp.firstboot("run")
        assert r.returncode == 2, r.stderr
        assert "kubernetesVersion" in r.stderr and "1.33" in r.stderr
        assert not os.path.exists(os.path.join(cp.root, "etc/kubernetes"))
    finally:
        finish(s)


# ---- external etcd: no local etcd, no etcd certificates; the apiserver uses the given endpoints and files ----

def test_init_and_join_with_external_etcd(tmp_path):
    """Init, then a control-plane join, with an external etcd: no etcd phase on either node, no etcd-join;
    the joiner gets the external etcd's client files from kubeadm-certs at the ClusterConfiguration's paths."""
    from simlib.proc import Proc
    from simlib.userdata import user_data as join_user_data
    s = new_cluster(tmp_path, control_planes=2)
    try:
        cp = s.cp[0]
        # A real etcd outside the control plane, on the load balancer's address, with its own client CA.
        d = str(tmp_path / "external-etcd")
        os.makedirs(d)
        s.pki.leaf(d, "server", s.pki.etcd_ca, "external-etcd", server=True, client=True, ips=[LB_IP])
        pki = os.path.join(cp.root, "etc/kubernetes/pki/external-etcd")  # what cloud-init's write_files puts
        os.makedirs(pki)
        s.pki.leaf(pki, "client", s.pki.etcd_ca, "kube-apiserver-etcd-client", client=True)
        for path in (os.path.join(d, "ca.crt"), os.path.join(pki, "ca.crt")):
            with open(path, "wb") as f:
                f.write(kpki.cert_pem(s.pki.etcd_ca[1]))
        p = Proc("external-etcd", [etcdbin.path(), "--name", "ext", "--data-dir", os.path.join(d, "data"),
                                   "--listen-client-urls", f"https://{LB_IP}:2379",
                                   "--advertise-client-urls", f"https://{LB_IP}:2379",
                                   "--listen-peer-urls", "http://127.0.0.1:2380",
                                   "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                                   "--initial-cluster", "ext=http://127.0.0.1:2380",
                                   "--cert-file", os.path.join(d, "server.crt"), "--key-file", os.path.join(d, "server.key"),
                                   "--trusted-ca-file", os.path.join(d, "ca.crt"), "--client-cert-auth"],
                 os.path.join(s.dir, "logs", "external-etcd.log"), netns=s.lb_ns)
        s.procs.append(p)
        ext = f"""    etcd:
      external:
        endpoints: ["https://{LB_IP}:2379"]
        caFile: /etc/kubernetes/pki/external-etcd/ca.crt
        certFile: /etc/kubernetes/pki/external-etcd/client.crt
        keyFile: /etc/kubernetes/pki/external-etcd/client.key
"""
        cp.write_seed(user_data(s, extra_cluster=ext))
        r = cp.firstboot("run", timeout=300)
        assert r.returncode == 0, r.stderr
        phases = [x["name"] for x in cp.firstboot_status()["phases"]]
        assert "etcd" not in phases
        assert not os.path.exists(os.path.join(cp.root, "etc/kubernetes/manifests/etcd.yaml"))
        assert not os.path.exists(os.path.join(cp.root, "etc/kubernetes/pki/etcd"))
        pod = yaml.safe_load(open(os.path.join(cp.root, "etc/kubernetes/manifests/kube-apiserver.yaml")))
        cmd = pod["spec"]["containers"][0]["command"]
        assert f"--etcd-servers=https://{LB_IP}:2379" in cmd
        assert "--etcd-cafile=/etc/kubernetes/pki/external-etcd/ca.crt" in cmd
        # the cluster state lives in the external etcd; kubeadm-certs carries its client files for joiners
        c = admin(s)
        certs = c.get("secrets", "kubeadm-certs", "kube-system")
        assert {"external-etcd-ca.crt", "external-etcd.crt", "external-etcd.key"} <= set(certs["data"])
        assert "etcd-ca.key" not in certs["data"]

        j = s.cp[1]
        j.write_seed(join_user_data(s, role="control-plane"))
        r = j.firstboot("run", timeout=300)
        assert r.returncode == 0, r.stderr
        phases = [x["name"] for x in j.firstboot_status()["phases"]]
        assert "download-certs" in phases and "etcd-join" not in phases, phases
        assert not os.path.exists(os.path.join(j.root, "etc/kubernetes/manifests/etcd.yaml"))
        for f in ("ca.crt", "client.crt", "client.key"):
            mine = os.path.join(j.root, "etc/kubernetes/pki/external-etcd", f)
            assert open(mine, "rb").read() == open(os.path.join(pki, f), "rb").read(), f
            if f.endswith(".key"):
                assert os.stat(mine).st_mode & 0o777 == 0o600
        pod = yaml.safe_load(open(os.path.join(j.root, "etc/kubernetes/manifests/kube-apiserver.yaml")))
        assert f"--etcd-servers=https://{LB_IP}:2379" in pod["spec"]["containers"][0]["command"]
        # the joiner's own apiserver serves the same cluster state, from the external etcd
        names = {n["metadata"]["name"] for n in j.admin(local=True).list("nodes")}
        assert names == {"cp-1", "cp-2"}, names
        s.wait_nodes_ready(["cp-1", "cp-2"], timeout=90)
    finally:
        finish(s)
