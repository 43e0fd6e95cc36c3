# SPDX-License-Identifier: Apache-2.0
"""kube-firstboot user-data for the simulated cluster, shared by the HA tests and the join bench: identical on
every control plane (role auto, the lowest address is the seed, the simulation's CA inline so that its
haproxy can check the apiservers), role worker with the CA pin for workers."""
import hashlib

from . import kpki
from .cluster import LB_IP

# Secrets that no legitimate output can contain, nor each other: the token secret has letters past f (no
# hex hash, serial or key id matches it), the certificate key is random hex; tests grep outputs for both.
TOKEN = "abcdef.q7x2kv9mzw4tr8np"
CERT_KEY = "2f693fb2ab9c35d994622ba6f88816f7ca284a0e6def5c005bdd9c8fe79cb7b4"
# The simulated nodes have no container runtime, iptables, cgroups, real kubelet or IP forwarding.
# The Kubernetes version the simulated clusters run unless a test picks another (the newest supported minor).
VERSION = "v1.38.0"
SIM_IGNORE = "[CRI, FileExisting-iptables, SystemVerification, KubeletVersion, FileContent--proc-sys-net-ipv4-ip_forward]"


def block(pem, indent=8):
    """A PEM as a YAML literal block's lines."""
    return "\n".join(" " * indent + ln for ln in pem.decode().strip().splitlines())


def user_data(sim, role="auto", cert_key=CERT_KEY, token=TOKEN, endpoint=f"{LB_IP}:6443", pin=None, fb_extra="",
              join_extra="", certs_wait=None, etcd_join=None, version=VERSION, peers=None, seed_rule="lowestAddress",
              seed_grace="3s", secrets=None, ca_files=None, key_algorithm="ECDSA-P256"):
    """Identical on every control plane: role auto, seed = lowest address of the peers (every control plane's
    unless peers, a list of nodes, says otherwise; seed_rule "instanceId: ID" names the seed by instance id
    instead), the simulation's CA (its haproxy checks the apiservers against it). Workers get role worker and
    the CA pin.
    secrets: the lines of FirstbootConfiguration.secrets instead of the values (a secret store's); ca_files:
    (certFile, keyFile) on the node instead of the CA inline (user-data that holds no secret); endpoint None: no
    controlPlaneEndpoint (a controlPlaneVIP in fb_extra makes it).
    key_algorithm: ClusterConfiguration.encryptionAlgorithm; ECDSA-P256 by default because the simulated
    clusters boot hundreds of nodes on 2 cores and an RSA-2048 init spends about 3 s of CPU on keys; None
    leaves kubeadm's default (RSA-2048), which test_init's and test_minors' clusters keep."""
    peers = ", ".join(n.ip for n in (sim.cp if peers is None else peers))
    rule = seed_rule.split(":")[0]
    rule_value = f", {seed_rule}" if ":" in seed_rule else ""
    ca = block(kpki.cert_pem(sim.pki.ca[1]))
    key = block(kpki.key_pem(sim.pki.ca[0]))
    secret_lines = secrets or f"""      bootstrapToken: {{value: "{token}"}}
      certificateKey: {{value: "{cert_key}"}}"""
    ca_lines = (f"    ca: {{certFile: {ca_files[0]}, keyFile: {ca_files[1]}}}" if ca_files else f"""    ca:
      cert: |
{ca}
      key: |
{key}""")
    if role == "worker":
        pins = pin or sim_pin(sim)
        return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: worker
    secrets:
      bootstrapToken: {{value: "{token}"}}
{fb_extra}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: JoinConfiguration
    discovery:
      bootstrapToken:
        apiServerEndpoint: {endpoint}
        caCertHashes: ["{pins}"]
    nodeRegistration:
      ignorePreflightErrors: {SIM_IGNORE}
{join_extra}"""
    return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: {role}
    seed: {{rule: {rule}{rule_value}, peers: [{peers}]}}
    timeouts: {{seedGrace: {seed_grace}{f", discovery: {certs_wait}" if certs_wait else ""}{f", etcdJoin: {etcd_join}" if etcd_join else ""}}}
    secrets:
{secret_lines}
{ca_lines}
{fb_extra}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    kubernetesVersion: {version}
{f"    controlPlaneEndpoint: {endpoint}" + chr(10) if endpoint else ""}{f"    encryptionAlgorithm: {key_algorithm}{chr(10)}" if key_algorithm else ""}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: InitConfiguration
    nodeRegistration:
      # The simulated node has no container runtime, iptables, cgroups, real kubelet or forwarding.
      ignorePreflightErrors: {SIM_IGNORE}
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: JoinConfiguration
    nodeRegistration:
      ignorePreflightErrors: {SIM_IGNORE}
{join_extra}"""


def sim_pin(sim):
    from cryptography.hazmat.primitives import serialization
    pub = sim.pki.ca[1].public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(pub).hexdigest()
