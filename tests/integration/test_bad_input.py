# SPDX-License-Identifier: Apache-2.0
"""Hostile and broken input (issue 15): bad input never changes what a node becomes.

Every case below is an input that must be refused (a few are inputs whose secrets must not show,
exit 0): the table says which verbs see it, the exit code each must give, and the fragments the message
must hold (the field, file or URL, the limit that was hit). For every case and every verb the harness
also checks that

  - nothing under --root changed, apart from /run/kube-firstboot/status.json for 'run' (the report);
    multi-file writes that fail (a read-only directory, a full disk, made in a private mount namespace)
    leave nothing inside it either,
  - no secret (the bootstrap token, the certificate key, the CA key) is in stdout, stderr, status.json
    or any file the run left,
  - the verb finished within its time bound, under a 1 GiB address-space limit.

The node behind most cases is a complete, valid worker in the image defaults (/etc/kube-firstboot/
10-defaults.yaml): were the broken user-data dropped, the node would silently carry on as that worker,
and validate would exit 0. The user-data comes through the 'files' datasource
(/etc/kube-firstboot/user-data), metadata servers are the emulators of tests/emulators on loopback.
"""
import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from ec2 import EC2  # noqa: E402
import testpki  # noqa: E402

# Known secrets: every case carries them somewhere, no output may show them.
TOKEN = "q7x9kz.m4n8p2r6t0v3w5y1"
TOKEN_SECRET = TOKEN.split(".")[1]
CERTKEY = "5e0b8c2f7a1d9e4b3c6f0a8d2e7b1c9f4a3d6e0b8c2f7a1d9e4b3c6f0a8d2e7b"
CA_KEY, CA_CERT = testpki.make_ca("bad-input-ca")
CA_KEY_PEM = testpki._key_pem(CA_KEY).decode()
CA_CERT_PEM = CA_CERT.public_bytes(testpki.serialization.Encoding.PEM).decode()
CA_KEY_LINE = CA_KEY_PEM.splitlines()[1]  # a line of the key's body
CA_HASH = "sha256:" + hashlib.sha256(CA_CERT.public_key().public_bytes(
    testpki.serialization.Encoding.DER, testpki.serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
SECRETS = (TOKEN, TOKEN_SECRET, CERTKEY, CA_KEY_LINE)

HASH = "sha256:" + "ab" * 32

# A complete worker: the image defaults under every user-data case.
WORKER_DEFAULTS = f"""apiVersion: kube-firstboot.io/v1alpha1
kind: FirstbootConfiguration
role: worker
secrets:
  bootstrapToken: {{value: "{TOKEN}"}}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 127.0.0.1:1
    caCertHashes: ["{HASH}"]
"""

# A control plane that runs init: what the broken user-data meant to say.
INIT_DOCS = f"""apiVersion: kube-firstboot.io/v1alpha1
kind: FirstbootConfiguration
role: init
secrets:
  bootstrapToken: {{value: "{TOKEN}"}}
  certificateKey: {{value: "{CERTKEY}"}}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
networking:
  podSubnet: 10.244.0.0/16
"""

INSTANCE = {"instanceId": "i-0bad", "hostname": "node-1", "localIPv4": "10.0.10.11"}


def fb(body, role="init"):
    """A FirstbootConfiguration document with the known secrets, plus body (YAML lines)."""
    return (f"apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: {role}\n"
            f"secrets:\n  bootstrapToken: {{value: \"{TOKEN}\"}}\n  certificateKey: {{value: \"{CERTKEY}\"}}\n"
            + body)


def cluster(body="", version="v1.37.1"):
    return (f"---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
            f"kubernetesVersion: {version}\n" + body)


def join(body):
    return "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n" + body


def mime(*parts, boundary="b0undary"):
    """A multipart/mixed body of (content-type, body, extra-headers) parts."""
    out = [f'Content-Type: multipart/mixed; boundary="{boundary}"\nMIME-Version: 1.0\n\n']
    for p in parts:
        ctype, body = p[0], p[1]
        extra = p[2] if len(p) > 2 else ""
        out.append(f"--{boundary}\nContent-Type: {ctype}\n{extra}\n{body}\n")
    out.append(f"--{boundary}--\n")
    return "".join(out)


def nested_mime(depth):
    body = "#cloud-config\nkube_firstboot: {role: init}\n"
    ctype = "text/cloud-config"
    for i in range(depth):
        body = f'Content-Type: {ctype}\n\n{body}' if i == 0 else body
        b = f"n{i}"
        body = f'--{b}\n{body}\n--{b}--\n'
        ctype = f'multipart/mixed; boundary="{b}"'
        body = f"Content-Type: {ctype}\n\n{body}"
    return body


def gzip_bomb():
    return gzip.compress(b"#cloud-config\n" + b"#" * (17 * 1024 * 1024), 9)


def kubeadm_certs_secret():
    """A kubeadm-certs Secret sealed with CERTKEY (AES-256-GCM, nonce || ciphertext || tag), as kubeadm
    uploads it; the files are the test CA, which is all decrypt-certs looks at."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    aes = AESGCM(bytes.fromhex(CERTKEY))
    pub = CA_KEY.public_key().public_bytes(testpki.serialization.Encoding.PEM,
                                           testpki.serialization.PublicFormat.SubjectPublicKeyInfo)
    files = {"ca.crt": CA_CERT_PEM.encode(), "ca.key": CA_KEY_PEM.encode(), "sa.key": CA_KEY_PEM.encode(),
             "sa.pub": pub, "front-proxy-ca.crt": CA_CERT_PEM.encode(), "front-proxy-ca.key": CA_KEY_PEM.encode(),
             "etcd-ca.crt": CA_CERT_PEM.encode(), "etcd-ca.key": CA_KEY_PEM.encode()}
    data = {}
    for name, content in files.items():
        nonce = os.urandom(12)
        data[name] = base64.b64encode(nonce + aes.encrypt(nonce, content, None)).decode()
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                       "metadata": {"name": "kubeadm-certs", "namespace": "kube-system"}, "data": data})


DECRYPT = ("pki", "decrypt-certs", "--certificate-key-file", "{dir}/ck", "--secret", "{dir}/secret.json")
DECRYPT_FILES = {"ck": CERTKEY + "\n", "secret.json": kubeadm_certs_secret()}
PKI_CERTS = ("pki", "certs", "--config", "{dir}/init.yaml")
PKI_CERTS_FILES = {"init.yaml": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                "nodeRegistration: {name: node-1}\nlocalAPIEndpoint: {advertiseAddress: 10.0.10.11}\n"
                                "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                                "kubernetesVersion: v1.37.1\n"}
ETCD_RO = ('mount --bind "$R/etc/kubernetes/pki/etcd" "$R/etc/kubernetes/pki/etcd"; '
           'mount -o remount,ro,bind "$R/etc/kubernetes/pki/etcd"')
SMALL_DISK = 'mount -t tmpfs -o size=12k tmpfs "$R/etc/kubernetes"'


def mkdirs(*paths):
    """setup: directories made before the case (the mount points of its sandbox)."""
    return lambda root: [(root / p.lstrip("/")).mkdir(parents=True, exist_ok=True) for p in paths]


class LyingIMDS(EC2):
    """The EC2 emulator gone wrong in one way: no answer in time, a 4 MB header, an empty token, a
    user-data that fails or is too large."""

    def __init__(self, hang=0, huge_header=False, empty_token=False, user_data_status=None, **kw):
        super().__init__(**kw)
        self.delay = hang
        self.huge_header = huge_header
        self.empty_token = empty_token
        self.user_data_status = user_data_status

    def start(self):
        super().start()
        self.httpd.handle_error = lambda *a: None  # a client that hangs up on a lie is what we want
        return self

    def handle(self, h):
        if self.huge_header:
            return h.send(200, "x", headers={"X-Padding": "p" * (4 * 1024 * 1024)})
        if self.empty_token and h.command == "PUT":
            return h.send(200, "")
        if self.user_data_status and h.url_path.endswith("/user-data"):
            return h.send(self.user_data_status, "no")
        return super().handle(h)


class SilentServer:
    """Accepts TCP connections (the kernel does, into the backlog) and never says a word."""

    def start(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return self

    @property
    def url(self):
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def stop(self):
        self.sock.close()


# ---- the table ----

GATE = ("validate", "plan", "run")  # every check run makes before touching the node, the others make too
FILE_GATE = ("validate-file",) + GATE


@dataclass
class Case:
    id: str
    rc: int
    msg: tuple  # fragments every verb's message holds
    verbs: tuple = GATE
    userdata: object = None  # str or bytes: /etc/kube-firstboot/user-data
    config: str = None  # documents in a file: 'config validate FILE' and --config FILE elsewhere
    defaults: str = WORKER_DEFAULTS
    tags: dict = None  # metadata tags (instance.json)
    files: dict = field(default_factory=dict)  # more files under --root
    args: tuple = ()
    setup: object = None  # setup(root) for what files cannot say
    seconds: float = 20
    cmd: tuple = None  # verb "cmd": these arguments ("{dir}": the directory of the files in `outside`)
    outside: dict = field(default_factory=dict)  # files next to --root (a Secret, a key file)
    sandbox: str = None  # shell run first in a private mount namespace ($R: the root): a full disk...
    left: str = None  # with sandbox: a directory under the root that must hold no file afterwards
    server: object = None  # a metadata server double: verbs read it (--datasource ec2 --endpoint URL)
    status: tuple = ()  # fragments run's status.json must hold
    env: dict = None  # more environment ("{dir}": the directory of `outside`)
    writes: bool = False  # the verb may write under --root (what matters is elsewhere)
    never_ran: str = None  # a stand-in program (in `outside`) that must not have run: its log must not exist


CASES = [
    # --- user-data that is ours but cannot be parsed: never dropped, never a fallback to the defaults ---
    Case("ud-plain-yaml-unclosed-flow", 2, ("user-data", "line 12", "column"),
         userdata=INIT_DOCS.replace("podSubnet: 10.244.0.0/16", "podSubnet: {cidr: 10.244.0.0/16")),
    Case("ud-plain-yaml-bad-indent", 2, ("user-data", "line 6"),
         userdata=INIT_DOCS.replace("secrets:\n  bootstrapToken", "secrets:\n   bootstrapToken:\n  x")),
    Case("ud-plain-yaml-tab", 2, ("user-data", "line 3"),
         userdata=INIT_DOCS.replace("role: init", "role:\tinit\n\tfoo: 1")),
    Case("ud-plain-yaml-duplicate-key", 2, ("user-data", "line 4", "duplicate"),
         userdata=INIT_DOCS.replace("role: init", "role: init\nrole: worker")),
    Case("ud-plain-yaml-second-doc-a-list", 2, ("user-data", "document 3", "mapping"),
         userdata=INIT_DOCS + "---\n- a\n- b\n"),
    Case("ud-plain-yaml-alias-bomb", 2, ("user-data",),
         userdata=INIT_DOCS + "---\napiVersion: v1\nkind: x\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
         "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
         "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"),
    Case("ud-kube-firstboot-header-broken", 2, ("user-data", "line 4"),
         userdata="#kube-firstboot\n" + INIT_DOCS.replace("role: init", "role: [init")),
    Case("ud-cloud-config-broken", 2, ("user-data", "text/cloud-config", "line 3"),
         userdata="#cloud-config\nkube_firstboot:\n  role: [init\n"),
    Case("ud-cloud-config-kf-number", 2, ("user-data", "kube_firstboot must be"),
         userdata="#cloud-config\nkube_firstboot: 42\n"),
    Case("ud-cloud-config-kf-string-broken", 2, ("user-data", "kube_firstboot", "line 2"),
         userdata="#cloud-config\nkube_firstboot: |\n  role: init\n  seed: [x\n"),
    Case("ud-cloud-config-not-mapping", 2, ("user-data", "must be a mapping"),
         userdata="#cloud-config\n- kube_firstboot\n"),
    Case("ud-base64-body-broken-yaml", 2, ("user-data", "line 12"),
         userdata=base64.b64encode(INIT_DOCS.replace("10.244.0.0/16", "[10.244.0.0/16").encode()).decode()),
    Case("ud-gzip-body-broken-yaml", 2, ("user-data", "line 12"),
         userdata=gzip.compress(INIT_DOCS.replace("10.244.0.0/16", "[10.244.0.0/16").encode())),
    # --- MIME ---
    Case("ud-mime-our-part-broken", 2, ("user-data part 2", "application/vnd.kube-firstboot+yaml", "line 19"),
         userdata=mime(("text/cloud-config", "#cloud-config\ntimezone: UTC\n"),
                       ("application/vnd.kube-firstboot+yaml", fb("seed: [x\n")))),
    Case("ud-mime-bad-base64", 2, ("user-data part 2", "line 13", "base64"),
         userdata=mime(("text/x-shellscript", "#!/bin/sh\n"),
                       ("application/vnd.kube-firstboot+yaml", "not*base64*at*all!!\n",
                        "Content-Transfer-Encoding: base64\n"))),
    Case("ud-mime-bad-base64-unknown-type", 2, ("user-data part 1", "base64"),
         userdata=mime(("text/plain", "@@@@ not base64 @@@@\n", "Content-Transfer-Encoding: base64\n"))),
    Case("ud-mime-10000-parts", 2, ("user-data", "128 parts"),
         userdata=mime(*[("text/plain", "x")] * 10000)),
    Case("ud-mime-nested-too-deep", 2, ("user-data", "nested", "8"), userdata=nested_mime(12)),
    Case("ud-mime-no-boundary", 2, ("user-data", "boundary"),
         userdata="Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\nContent-Type: text/plain\n\nhi\n--x--\n"),
    Case("ud-mime-header-without-colon", 2, ("user-data", "part 1", "header"),
         userdata=mime(("text/cloud-config", "#cloud-config\n", "X-Broken header line\n"))),
    Case("ud-mime-gzip-part-corrupt", 2, ("user-data part 1", "gzip"),
         userdata=mime(("application/x-gzip", base64.b64encode(gzip.compress(b"#cloud-config\n")[:-12]).decode(),
                        "Content-Transfer-Encoding: base64\n"))),
    Case("ud-mime-our-part-duplicate-kinds", 2, ("ClusterConfiguration", "twice", "user-data part 2"),
         userdata=mime(("application/vnd.kube-firstboot+yaml", fb("") + cluster()),
                       ("application/vnd.kube-firstboot+yaml", cluster("clusterName: other\n")))),
    # --- user-data that cannot be read or decoded ---
    Case("ud-gzip-truncated", 2, ("user-data", "gzip"), userdata=gzip.compress(INIT_DOCS.encode())[:-20]),
    Case("ud-gzip-bomb", 2, ("user-data", "16 MiB"), userdata=gzip_bomb()),
    Case("ud-too-large", 2, ("/etc/kube-firstboot/user-data", "16 MiB"),
         userdata="#cloud-config\n" + "#" * (16 * 1024 * 1024 + 10)),
    Case("ud-unreadable", 2, ("/etc/kube-firstboot/user-data", "cannot be read"),
         setup=lambda root: (root / "etc/kube-firstboot/user-data").mkdir(parents=True)),
    Case("ud-metadata-verb-reports", 2, ("user-data", "128 parts"), verbs=("metadata",),
         userdata=mime(*[("text/plain", "x")] * 200)),
    # --- two documents of one kind in one source ---
    Case("dup-cluster-in-user-data", 2, ("ClusterConfiguration", "twice"),
         userdata=fb("") + cluster() + cluster("clusterName: other\n")),
    Case("dup-firstboot-roles-in-file", 2, ("FirstbootConfiguration", "twice"), verbs=FILE_GATE,
         config=fb("") + "---\n" + fb("", role="worker")),
    Case("dup-in-cloud-config-list", 2, ("JoinConfiguration", "twice"),
         userdata="#cloud-config\nkube_firstboot:\n  - {apiVersion: kubeadm.k8s.io/v1beta4, kind: JoinConfiguration}\n"
                  "  - {apiVersion: kubeadm.k8s.io/v1beta4, kind: JoinConfiguration}\n"),
    Case("dup-in-metadata-tag", 2, ("metadata tag 'kube-firstboot-config'", "twice"),
         tags={"kube-firstboot-config": fb("") + cluster() + cluster()}),
    # --- role-incomplete or contradictory documents: 'config validate FILE' refuses what run refuses ---
    Case("worker-with-control-plane", 2, ("JoinConfiguration.controlPlane", "worker"), verbs=FILE_GATE,
         config=fb("", role="worker") + join(f"controlPlane: {{}}\ndiscovery:\n  bootstrapToken:\n"
                                             f"    apiServerEndpoint: 10.0.0.1:6443\n    caCertHashes: ['{HASH}']\n")),
    Case("auto-without-endpoint", 2, ("ClusterConfiguration.controlPlaneEndpoint", "auto"), verbs=FILE_GATE,
         config=fb("seed: {rule: lowestAddress, peers: [10.0.10.11, 10.0.10.12]}\n", role="auto")
         + cluster() + join(f"discovery: {{bootstrapToken: {{caCertHashes: ['{HASH}']}}}}\n")),
    Case("auto-without-peers", 2, ("FirstbootConfiguration.seed.peers",), verbs=FILE_GATE,
         config=fb("seed: {rule: lowestAddress}\n", role="auto")
         + cluster("controlPlaneEndpoint: api.example.test:6443\n")
         + join(f"discovery: {{bootstrapToken: {{caCertHashes: ['{HASH}']}}}}\n")),
    Case("auto-without-rule", 2, ("FirstbootConfiguration.seed.rule",), verbs=FILE_GATE,
         config=fb("", role="auto") + cluster("controlPlaneEndpoint: api.example.test:6443\n")
         + join(f"discovery: {{bootstrapToken: {{caCertHashes: ['{HASH}']}}}}\n")),
    Case("control-plane-without-certificate-key", 2, ("certificateKey", "control-plane"), verbs=FILE_GATE,
         config=fb("", role="control-plane").replace(f'  certificateKey: {{value: "{CERTKEY}"}}\n', "")
         + join(f"discovery: {{bootstrapToken: {{apiServerEndpoint: 10.0.0.1:6443, caCertHashes: ['{HASH}']}}}}\n")),
    Case("worker-without-endpoint", 2, ("apiServerEndpoint",), verbs=FILE_GATE, defaults=None,
         config=fb("", role="worker") + join(f"discovery: {{bootstrapToken: {{caCertHashes: ['{HASH}']}}}}\n")),
    Case("worker-without-pin", 2, ("caCertHashes",), verbs=FILE_GATE, defaults=None,
         config=fb("", role="worker") + join("discovery: {bootstrapToken: {apiServerEndpoint: 10.0.0.1:6443}}\n")),
    Case("local-and-external-etcd", 2, ("ClusterConfiguration.etcd",), verbs=FILE_GATE,
         config=fb("") + cluster("etcd:\n  local: {imageTag: 3.5.0-0}\n  external: {endpoints: [https://10.0.0.1:2379],"
                                 " caFile: /a, certFile: /b, keyFile: /c}\n")),
    # --- certificate keys, tokens and pins: bad values refused by every verb, never echoed ---
    Case("certkey-63-hex-secrets", 2, ("FirstbootConfiguration.secrets.certificateKey", "64 hex"), verbs=FILE_GATE,
         config=fb("").replace(CERTKEY, CERTKEY[:-1]) + cluster()),
    Case("certkey-not-hex-secrets", 2, ("FirstbootConfiguration.secrets.certificateKey", "64 hex"), verbs=FILE_GATE,
         config=fb("").replace(CERTKEY, CERTKEY[:-1] + "z") + cluster()),
    Case("certkey-63-hex-init", 2, ("InitConfiguration.certificateKey", "64 hex"), verbs=FILE_GATE,
         config=fb("") + cluster() + f"---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                     f"certificateKey: {CERTKEY[:-1]}\n"),
    Case("certkey-63-hex-join", 2, ("JoinConfiguration.controlPlane.certificateKey", "64 hex"), verbs=FILE_GATE,
         config=fb("", role="control-plane") + join(f"controlPlane: {{certificateKey: {CERTKEY[:-1]}}}\n"
                                                    f"discovery: {{bootstrapToken: {{apiServerEndpoint: 10.0.0.1:6443,"
                                                    f" caCertHashes: ['{HASH}']}}}}\n")),
    Case("certkey-file-63-hex", 2, ("FirstbootConfiguration.secrets.certificateKey", "64 hex"),
         config=fb("").replace(f'{{value: "{CERTKEY}"}}', "{file: /run/secrets/ck}") + cluster(),
         files={"/run/secrets/ck": CERTKEY[:-1] + "\n"}),
    Case("token-file-bad", 2, ("FirstbootConfiguration.secrets.bootstrapToken", "[a-z0-9]{6}"),
         config=fb("").replace(f'{{value: "{TOKEN}"}}', "{file: /run/secrets/tok}") + cluster(),
         files={"/run/secrets/tok": TOKEN.upper() + "\n"}),
    Case("token-bad-inline", 2, ("FirstbootConfiguration.secrets.bootstrapToken", "[a-z0-9]{6}"), verbs=FILE_GATE,
         config=fb("").replace(TOKEN, TOKEN.upper()) + cluster()),
    Case("token-pasted-into-ca-cert-hashes", 2, ("caCertHashes[0]", "sha256:"), verbs=FILE_GATE,
         config=fb("", role="worker") + join(f"discovery: {{bootstrapToken: {{apiServerEndpoint: 10.0.0.1:6443,"
                                             f" caCertHashes: ['{TOKEN}']}}}}\n")),
    Case("certkey-pasted-into-ca-cert-hashes", 2, ("caCertHashes[0]", "sha256:"), verbs=FILE_GATE,
         config=fb("", role="worker") + join(f"discovery: {{bootstrapToken: {{apiServerEndpoint: 10.0.0.1:6443,"
                                             f" caCertHashes: ['{CERTKEY}']}}}}\n")),
    Case("token-in-discovery-endpoint", 2, ("apiServerEndpoint",), verbs=FILE_GATE,
         config=fb("", role="worker") + join(f"discovery: {{bootstrapToken: {{apiServerEndpoint: '{TOKEN}@10.0.0.1:6443',"
                                             f" caCertHashes: ['{HASH}']}}}}\n")),
    Case("token-in-set-flag", 2, ("--set InitConfiguration.bootstrapTokens",),
         args=("--set", f"InitConfiguration.bootstrapTokens=[{{token: {TOKEN.upper()}}}]"), userdata=INIT_DOCS),
    # --- networking as kubeadm checks it ---
    Case("service-subnet-too-large-v4", 2, ("ClusterConfiguration.networking.serviceSubnet", "/12"), verbs=FILE_GATE,
         config=fb("") + cluster("networking: {serviceSubnet: 10.0.0.0/11, podSubnet: 10.244.0.0/16}\n")),
    Case("service-subnet-too-large-v6", 2, ("ClusterConfiguration.networking.serviceSubnet", "/108"),
         verbs=FILE_GATE,
         config=fb("") + cluster("networking: {serviceSubnet: 'fd00:10:96::/100', podSubnet: 'fd00:10:244::/56'}\n")),
    Case("service-subnet-overlaps-pods", 2, ("serviceSubnet", "overlaps", "podSubnet"), verbs=FILE_GATE,
         config=fb("") + cluster("networking: {serviceSubnet: 10.96.0.0/12, podSubnet: 10.96.0.0/16}\n")),
    Case("service-subnet-overlaps-pods-dual", 2, ("serviceSubnet", "overlaps", "podSubnet"), verbs=FILE_GATE,
         config=fb("") + cluster("networking: {serviceSubnet: '10.96.0.0/12,fd00:10:96::/112',"
                                 " podSubnet: '10.244.0.0/16,fd00:10:96::/64'}\n")),
    Case("pod-subnet-default-service-overlap", 2, ("overlaps",), verbs=FILE_GATE,
         config=fb("") + cluster("networking: {podSubnet: 10.0.0.0/8}\n")),
    Case("advertise-address-not-ip", 2, ("advertiseAddress", "not an IP"), verbs=FILE_GATE,
         config=fb("") + cluster() + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                     "localAPIEndpoint: {advertiseAddress: node-1}\n"),
    Case("bind-port-out-of-range", 2, ("bindPort", "70000"), verbs=FILE_GATE,
         config=fb("") + cluster() + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                     "localAPIEndpoint: {bindPort: 70000}\n"),
    Case("node-name-not-dns", 2, ("nodeRegistration.name", "Node_1"), verbs=FILE_GATE,
         config=fb("") + cluster() + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                                     "nodeRegistration: {name: Node_1}\n"),
    Case("unsupported-kubernetes-version", 2, ("kubernetesVersion", "1.20"), verbs=FILE_GATE,
         config=fb("") + cluster(version="v1.20.0")),
    # --- the CA given in the configuration ---
    Case("ca-cert-without-key-init", 2, ("FirstbootConfiguration.ca", "key"), verbs=FILE_GATE,
         config=fb("ca: {certFile: /etc/kubernetes/pki/ca.crt}\n") + cluster(),
         files={"/etc/kubernetes/pki/ca.crt": CA_CERT_PEM}),
    Case("ca-cert-without-key-auto", 2, ("FirstbootConfiguration.ca", "key"), verbs=FILE_GATE,
         config=fb("seed: {rule: lowestAddress, peers: [10.0.10.11, 10.0.10.12]}\nca: {certFile: /etc/kubernetes/pki/ca.crt}\n",
                   role="auto") + cluster("controlPlaneEndpoint: api.example.test:6443\n"),
         files={"/etc/kubernetes/pki/ca.crt": CA_CERT_PEM}),
    Case("ca-cert-not-pem", 2, ("FirstbootConfiguration.ca.cert", "PEM"), verbs=FILE_GATE,
         config=fb("ca:\n  cert: not a certificate\n  key: |\n" + "".join("    " + l + "\n" for l in CA_KEY_PEM.splitlines()))
         + cluster()),
    Case("ca-key-not-matching", 2, ("FirstbootConfiguration.ca.key", "does not match"), verbs=FILE_GATE,
         config=fb("ca:\n  cert: |\n" + "".join("    " + l + "\n" for l in CA_CERT_PEM.splitlines())
                   + "  key: |\n" + "".join("    " + l + "\n" for l in testpki._key_pem(testpki.make_ca()[0]).decode().splitlines()))
         + cluster()),
    Case("ca-file-missing", 2, ("FirstbootConfiguration.ca.certFile", "/etc/kubernetes/pki/ca.crt", "cannot be read"),
         config=fb("ca: {certFile: /etc/kubernetes/pki/ca.crt, keyFile: /etc/kubernetes/pki/ca.key}\n") + cluster()),
    # --- --root and image defaults that cannot be read ---
    Case("root-is-a-file", 2, ("--root", "not a directory"), setup="root-file"),
    Case("root-missing", 2, ("--root", "does not exist"), setup="root-missing"),
    Case("image-defaults-dir-is-a-file", 2, ("/etc/kube-firstboot", "Not a directory"), setup="defaults-file"),
    Case("image-default-unreadable", 2, ("/etc/kube-firstboot/20-more.yaml", "cannot be read"),
         setup=lambda root: (root / "etc/kube-firstboot/20-more.yaml").mkdir(parents=True)),
    Case("image-default-broken-yaml", 2, ("image defaults /etc/kube-firstboot/10-defaults.yaml", "line 3"),
         defaults="apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: [worker\n"),
    Case("config-file-missing", 2, ("cannot be read",), verbs=("validate-file", "validate", "plan"),
         config=None, args=("--config", "/nonexistent/kf.yaml")),
    # --- tags ---
    Case("tag-config-broken-yaml", 2, ("metadata tag 'kube-firstboot-config'", "line 1"),
         tags={"kube-firstboot-config": "role: [init"}),
    Case("tag-role-bad", 2, ("FirstbootConfiguration.role", "leader"), tags={"kube-firstboot-role": "leader"}),
    Case("tag-unknown", 2, ("kube-firstboot-rol",), tags={"kube-firstboot-rol": "init"}),
    Case("tag-config-not-printed-by-metadata", 0, ('"kube-firstboot-config":\t"<redacted>"',), verbs=("metadata",),
         tags={"kube-firstboot-config": fb("") + cluster()}),
    Case("tag-secret-shaped-value-not-printed", 0, ('"note":\t"<redacted>"',), verbs=("metadata",),
         tags={"note": f"join with {TOKEN}"}),
    Case("print-redacts-every-secret", 0, ("<redacted>",), verbs=("print",), userdata=INIT_DOCS,
         tags={"kube-firstboot-config": fb("ca:\n  key: |\n" + "".join("    " + l + "\n" for l in CA_KEY_PEM.splitlines())
                                              + "  cert: |\n" + "".join("    " + l + "\n" for l in CA_CERT_PEM.splitlines()))}),
    # --- plan is a gate: what it cannot plan, run would not get through ---
    Case("plan-kubeconfig-of-another-cluster", 1, ("admin.conf", "'run' would fail"), verbs=("plan",),
         userdata=INIT_DOCS, files={"/etc/kubernetes/admin.conf": "apiVersion: v1\nkind: Config\n"}),
    # --- multi-file writes: all or nothing, and the error names the file and the cause ---
    Case("decrypt-certs-dir-is-a-file", 1, ("/etc/kubernetes/pki/etcd/ca.crt", "Not a directory", "nothing was written"),
         verbs=("cmd",), cmd=DECRYPT, outside=DECRYPT_FILES, defaults=None,
         files={"/etc/kubernetes/pki/etcd": "a file where a directory belongs\n"}),
    Case("decrypt-certs-read-only-dir", 1, ("/etc/kubernetes/pki/etcd/ca.crt", "Read-only file system"),
         verbs=("cmd",), cmd=DECRYPT, outside=DECRYPT_FILES, defaults=None, sandbox=ETCD_RO, left="/etc/kubernetes",
         setup=mkdirs("/etc/kubernetes/pki/etcd")),
    Case("decrypt-certs-disk-full", 1, ("No space left on device", "/etc/kubernetes/pki/"),
         verbs=("cmd",), cmd=DECRYPT, outside=DECRYPT_FILES, defaults=None,
         sandbox=SMALL_DISK.replace("12k", "8k"), left="/etc/kubernetes", setup=mkdirs("/etc/kubernetes")),
    Case("pki-certs-read-only-dir", 1, ("/etc/kubernetes/pki/etcd/ca.key", "Read-only file system", "no file"),
         verbs=("cmd",), cmd=PKI_CERTS, outside=PKI_CERTS_FILES, defaults=None, sandbox=ETCD_RO, left="/etc/kubernetes",
         setup=mkdirs("/etc/kubernetes/pki/etcd")),
    Case("pki-certs-disk-full", 1, ("No space left on device", "/etc/kubernetes/"),
         verbs=("cmd",), cmd=PKI_CERTS, outside=PKI_CERTS_FILES, defaults=None, sandbox=SMALL_DISK,
         left="/etc/kubernetes", setup=mkdirs("/etc/kubernetes")),
    Case("pki-certs-kubernetes-dir-is-a-file", 1, ("/etc/kubernetes/pki/ca.crt", "Not a directory"),
         verbs=("cmd",), cmd=PKI_CERTS, outside=PKI_CERTS_FILES, defaults=None,
         setup=lambda root: (root / "etc").mkdir(parents=True, exist_ok=True) or (root / "etc/kubernetes").write_text("x")),
    # --- metadata servers that hang or lie: the URL and the limit named, the remedy fitting the cause ---
    Case("imds-hangs", 3, ("PUT {url}/latest/api/token", "no answer within 1000 ms"), verbs=("metadata",) + GATE,
         server=lambda: LyingIMDS(hang=5), seconds=12, defaults=None,
         status=("PUT {url}/latest/api/token", "metadata service", '"errno":\t110')),
    Case("imds-4mb-header", 1, ("PUT {url}/latest/api/token", "header"), verbs=("metadata",) + GATE,
         server=lambda: LyingIMDS(huge_header=True), defaults=None, status=("PUT {url}/latest/api/token",)),
    Case("imds-empty-token", 1, ("PUT {url}/latest/api/token answered an empty token",), verbs=("metadata",) + GATE,
         server=lambda: LyingIMDS(empty_token=True), defaults=None),
    # A server error that outlasts the retries is temporary (the exit-code table, issue 21): the unit retries.
    Case("imds-user-data-500", 3, ("GET {url}/2021-03-23/user-data answered HTTP 500",), verbs=("metadata",) + GATE,
         server=lambda: LyingIMDS(user_data_status=500), defaults=None, seconds=15),
    Case("imds-user-data-too-large", 2, ("user-data", "larger than 1 MiB", "{url}/2021-03-23/user-data"),
         verbs=("metadata",) + GATE, server=lambda: LyingIMDS(user_data=b"#cloud-config\n" + b"#" * (2 << 20)),
         defaults=None),
    Case("imds-user-data-undecodable", 2, ("user-data part 2", "base64", "{url}/2021-03-23/user-data"),
         verbs=("metadata",) + GATE, defaults=None,
         server=lambda: LyingIMDS(user_data=mime(("text/cloud-config", "#cloud-config\n"),
                                                 ("text/x-shellscript", "@@@", "Content-Transfer-Encoding: base64\n")).encode())),
    Case("imds-user-data-ours-broken", 2, ("user-data (application/vnd.kube-firstboot+yaml)", "line 12"),
         verbs=GATE, defaults=WORKER_DEFAULTS,
         server=lambda: LyingIMDS(user_data=INIT_DOCS.replace("10.244.0.0/16", "[10.244.0.0/16").encode())),
    Case("discover-timeout-is-the-bound", 3, ("Discovery through {url} failed", "timed out"), verbs=("cmd",),
         cmd=("discover", "--api-server", "{url}", "--token-file", "{dir}/tok", "--ca-cert-hash", HASH,
              "--timeout", "5"), outside={"tok": TOKEN + "\n"}, server=SilentServer, seconds=8, defaults=None),
    Case("discover-token-as-pin-not-echoed", 2, ("CA cert hash", "not shown"), verbs=("cmd",),
         cmd=("discover", "--api-server", "127.0.0.1:1", "--token-file", "{dir}/tok", "--ca-cert-hash", TOKEN),
         outside={"tok": TOKEN + "\n"}, defaults=None),
    # --- --root is a sandbox: nothing of this machine is run or checked unless --allow-host says so ---
    Case("root-run-never-runs-host-systemctl", 1, ("systemctl enable --now kubelet", "--allow-host"), verbs=("cmd",),
         cmd=("run", "--datasource", "files"), writes=True, defaults=None, seconds=60,
         userdata=INIT_DOCS + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                              "nodeRegistration: {ignorePreflightErrors: [all]}\n",
         outside={"bin/systemctl": "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/../systemctl-ran\"\n"},
         env={"PATH": "{dir}/bin:/usr/bin:/bin"}, never_ran="systemctl-ran",
         status=("kubelet-start", "--allow-host")),
    Case("root-preflight-checks-files-only", 1, ("HostChecks", "--allow-host"), verbs=("cmd",),
         cmd=("preflight", "--no-metadata", "--role", "init", "--config", "{dir}/kf.yaml"), defaults=None,
         config=INIT_DOCS),
    Case("root-etcd-disk-needs-allow-host", 2, ("/dev/vdb", "--allow-host"), verbs=("cmd",),
         cmd=("etcd", "disk", "--no-metadata", "--config", "{dir}/kf.yaml"), defaults=None,
         config=fb("etcd: {dataDevice: /dev/vdb}\n") + cluster()),
    Case("plan-seed-rule-undecidable", 2, ("FirstbootConfiguration.seed.rule", "instance id"),
         config=fb("seed: {rule: instanceId, instanceId: i-0bad}\n", role="auto")
         + cluster("controlPlaneEndpoint: api.example.test:6443\n")
         + join(f"discovery: {{bootstrapToken: {{caCertHashes: ['{HASH}']}}}}\n"),
         setup=lambda root: (root / "etc/kube-firstboot/instance.json").write_text('{"hostname": "n1"}')),
]


# ---- the harness ----

def put(root, path, content, mode=0o644):
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    p.write_bytes(content)
    p.chmod(mode)


def snapshot(root):
    if not root.is_dir():
        return {}
    out = {}
    for p in sorted(root.rglob("*")):
        rel = "/" + str(p.relative_to(root))
        out[rel] = "dir" if p.is_dir() and not p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def build_root(tmp_path, case):
    root = tmp_path / "root"
    root.mkdir()
    if case.defaults is not None:
        put(root, "/etc/kube-firstboot/10-defaults.yaml", case.defaults)
    inst = dict(INSTANCE)
    if case.tags:
        inst["tags"] = case.tags
    put(root, "/etc/kube-firstboot/instance.json", json.dumps(inst))
    if case.userdata is not None:
        put(root, "/etc/kube-firstboot/user-data", case.userdata)
    for path, content in case.files.items():
        put(root, path, content, 0o600)
    cfg = None
    if case.config is not None:
        cfg = tmp_path / "kf.yaml"
        cfg.write_text(case.config)
    for name, content in case.outside.items():
        f = root.parent / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(content if isinstance(content, bytes) else content.encode())
        if name.startswith("bin/"):
            f.chmod(0o755)
    if callable(case.setup):
        case.setup(root)
    elif case.setup == "root-file":
        shutil.rmtree(root)
        root.write_text("not a directory\n")
    elif case.setup == "root-missing":
        shutil.rmtree(root)
    elif case.setup == "defaults-file":
        shutil.rmtree(root / "etc/kube-firstboot")
        put(root, "/etc/kube-firstboot", "a file where the directory should be\n")
    return root, cfg


def argv_for(verb, cfg, case, url=None):
    md = ["--datasource", "ec2", "--metadata-url", url, "--timeout", "1"] if url else ["--datasource", "files"]
    extra = list(case.args) + (["--config", str(cfg)] if cfg else [])
    if verb == "validate-file":
        files = [str(cfg)] if cfg else [a for a in case.args if a.startswith("/")]
        return ["config", "validate"] + files
    if verb == "validate":
        return ["config", "validate"] + md + extra
    if verb == "metadata":
        return ["metadata"] + md
    if verb == "print":
        return ["config", "print"] + md + extra
    if verb == "cmd":
        return [a.replace("{dir}", str(cfg.parent if cfg else "")).replace("{url}", url or "") for a in case.cmd]
    return [verb] + md + extra


def leaked(text):
    return [s for s in SECRETS if s in text]


KF_BIN = os.environ.get("KF_BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "kube-firstboot"))


MEMORY_LIMIT = 1 << 30


def run_limited(kf, argv, root, timeout, env):
    """The binary with at most 1 GiB of address space (KF_VALGRIND: through the kf fixture instead)."""
    if os.environ.get("KF_VALGRIND"):
        return kf(*argv, root=root, timeout=timeout, env=env)
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    return subprocess.run([KF_BIN] + argv + ["--root", str(root)], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **env), preexec_fn=limit)


def run_sandboxed(argv, root, case):
    """The binary in a private mount namespace after case.sandbox; then what is left in case.left, as
    seen inside (the mounts vanish with the namespace)."""
    script = ("set -e\n" + case.sandbox + '\nset +e\n"$@"; rc=$?\necho "LEFT-BEGIN" >&2\n'
              + f'find "$R{case.left}" -type f >&2\necho "LEFT-END" >&2\nexit $rc\n')
    env = dict(os.environ, R=str(root))
    p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", KF_BIN] + argv + ["--root", str(root)],
                       capture_output=True, text=True, timeout=case.seconds + 30, env=env)
    err, begin, rest = p.stderr.partition("LEFT-BEGIN\n")
    left, end, _ = rest.partition("LEFT-END")
    assert begin and end, f"the sandbox did not list what was left: {p.stderr[-500:]}"
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout, err), left.split()


def check_verb(kf, tmp_path, case, verb):
    d = _fresh(tmp_path, verb)
    root, cfg = build_root(d, case)
    cfg = cfg or d / "kf.yaml"
    before = snapshot(root)
    t0 = time.monotonic()
    server = case.server() if case.server else None
    url = server.start().url if server else None
    try:
        argv = argv_for(verb, cfg if case.config is not None or verb == "cmd" else None, case, url) + [
            "--log-format", "json"]
        left = []
        env = {k: v.replace("{dir}", str(d)) for k, v in (case.env or {}).items()}
        if case.sandbox:
            p, left = run_sandboxed(argv, root, case)
        else:
            p = run_limited(kf, argv, root, case.seconds + 30, env)
    finally:
        if server:
            server.stop()
    if url:
        p = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.replace(url, "{url}"),
                                        p.stderr.replace(url, "{url}"))
    took = time.monotonic() - t0
    out = p.stdout + p.stderr
    problems = []
    if left:
        problems.append(f"left behind: {left[:8]}")
    if p.returncode != case.rc:
        problems.append(f"exit {p.returncode}, wanted {case.rc}")
    for frag in case.msg:
        if frag not in out:
            problems.append(f"no '{frag}' in the output")
    if took > case.seconds:
        problems.append(f"took {took:.1f}s (bound {case.seconds}s)")
    after = snapshot(root)
    allowed = {"/run", "/run/kube-firstboot", "/run/kube-firstboot/status.json"} if verb == "run" else set()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and k not in allowed)
    if changed and not case.writes:
        problems.append(f"changed under --root: {changed[:8]}")
    if case.never_ran and (d / case.never_ran).exists():
        problems.append(f"ran this machine's program: {(d / case.never_ran).read_text()[:200]}")
    status = root / "run/kube-firstboot/status.json"
    texts = {"output": out}
    if status.exists():
        texts["status.json"] = status.read_text()
    if verb == "run":
        for frag in case.status:
            if frag not in texts.get("status.json", "").replace(url or "\0", "{url}"):
                problems.append(f"no '{frag}' in status.json")
    for k in set(after) - set(before):
        if after[k] != "dir":
            texts[k] = (root / k.lstrip("/")).read_bytes().decode(errors="replace")
    for where, text in texts.items():
        if leaked(text):
            problems.append(f"secret in {where}")
    return problems, p


def _fresh(tmp_path, verb):
    d = tmp_path / verb
    d.mkdir()
    return d


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(kf, tmp_path, case):
    failures = {}
    for verb in case.verbs:
        problems, p = check_verb(kf, tmp_path, case, verb)
        if problems:
            failures[verb] = (problems, p.stderr[-1500:])
    assert not failures, json.dumps(failures, indent=1)


def test_the_table_is_large_enough():
    """Issue 15's bar: at least 60 hostile inputs, every class."""
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    for prefix in ("ud-", "dup-", "certkey-", "token-", "service-subnet", "ca-", "root-", "imds-", "decrypt-",
                   "pki-certs-", "plan-", "discover-", "tag-"):
        assert any(c.id.startswith(prefix) for c in CASES), prefix


def test_no_secret_in_any_output(kf, tmp_path):
    """The known secrets go in through every input path (image defaults, user-data, a metadata tag, a
    secret file, --set, --config); every verb runs at debug level in both log formats, 'run' as far as
    it gets under --root (kubelet-start). No secret is in stdout, stderr, status.json, the journal or any
    file the run wrote, except the one file each belongs in (the CA key in pki/ca.key)."""
    root = tmp_path / "root"
    put(root, "/etc/kube-firstboot/10-defaults.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        "nodeRegistration: {ignorePreflightErrors: [all]}\n")
    put(root, "/etc/kube-firstboot/user-data", "#cloud-config\nkube_firstboot: |\n" + "".join(
        "  " + l + "\n" for l in (fb("").replace(f'{{value: "{TOKEN}"}}', "{file: /run/secrets/token}")
                                  + cluster()).splitlines()))
    put(root, "/run/secrets/token", TOKEN + "\n", 0o600)
    ca = "ca:\n  cert: |\n" + "".join("    " + l + "\n" for l in CA_CERT_PEM.splitlines()) + \
         "  key: |\n" + "".join("    " + l + "\n" for l in CA_KEY_PEM.splitlines())
    put(root, "/etc/kube-firstboot/instance.json", json.dumps(dict(INSTANCE, tags={
        "kube-firstboot-config": "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n" + ca,
        "note": f"token {TOKEN}"})))
    extra = tmp_path / "extra.yaml"
    extra.write_text(f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ncertificateKey: {CERTKEY}\n")
    config = ["--datasource", "files", "--config", str(extra),
              "--set", f"InitConfiguration.bootstrapTokens=[{{token: {TOKEN}}}]"]
    runs = [["metadata", "--datasource", "files"], ["config", "print"] + config,
            ["config", "validate"] + config, ["config", "validate", str(extra)], ["plan"] + config,
            ["run"] + config, ["status"], ["status", "--json"], ["pki", "check"]]
    outputs = []
    for fmt in ("text", "json"):
        for argv in runs:
            p = kf(*argv, "-vv", "--log-format", fmt, root=root, timeout=120)
            outputs.append((f"{' '.join(argv[:2])} ({fmt}): exit {p.returncode}", p.stdout + p.stderr))
    assert "kubelet-start" in outputs[5][1], outputs[5][1][-2000:]  # run got as far as it can
    belongs = {"/etc/kubernetes/pki/ca.key": {CA_KEY_LINE}}
    for f in root.rglob("*"):
        rel = "/" + str(f.relative_to(root))
        if f.is_file() and not rel.startswith(("/etc/kube-firstboot/", "/run/secrets/")):
            outputs.append((rel, f.read_bytes().decode(errors="replace")))
    leaks = [(where, s) for where, text in outputs for s in SECRETS
             if s in text and s not in belongs.get(where, ())]
    assert not leaks, leaks
    assert (root / "etc/kubernetes/pki/ca.key").exists()  # the CA given went where it belongs
