# SPDX-License-Identifier: Apache-2.0
"""The golden suite's machinery: loads the case tables (cases/*.yaml), builds each case's configuration,
runs the real binary on a scratch root and reads what it wrote (YAML, kubeadm-flags.env, PEM) into plain
Python values the expectations are checked against. See README.md for the case format."""
import base64
import copy
import datetime
import glob
import ipaddress
import os
import re
import subprocess

import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")

# Minors probed for support ('kube-firstboot plan' refuses the others with exit 2).
PROBE_MINORS = range(30, 46)

# The node every case starts from; a case's documents are deep-merged over these (lists replaced).
BASE_DOCS = {
    "FirstbootConfiguration": {
        "apiVersion": "kube-firstboot.io/v1alpha1",
        "kind": "FirstbootConfiguration",
        "role": "init",
        "kubelet": {"startCommand": ["true"]},
    },
    "ClusterConfiguration": {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "encryptionAlgorithm": "ECDSA-P256",
    },
    "InitConfiguration": {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "nodeRegistration": {"name": "golden-node", "ignorePreflightErrors": ["all"]},
        "localAPIEndpoint": {"advertiseAddress": "1.2.3.4"},
    },
}
DOC_ORDER = ["FirstbootConfiguration", "ClusterConfiguration", "InitConfiguration", "KubeletConfiguration",
             "KubeProxyConfiguration"]


def load_tables():
    """[(table, case)] for every case of every cases/*.yaml, in file order."""
    out = []
    for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.yaml"))):
        with open(path) as f:
            table = yaml.safe_load(f)
        table["_file"] = os.path.basename(path)
        for case in table["cases"]:
            out.append((table, case))
    return out


def minors_of(spec, supported):
    """'all', 33, '34+', '33-35', or a list of those -> the supported minors it names."""
    if spec is None or spec == "all":
        return list(supported)
    specs = spec if isinstance(spec, list) else [spec]
    want = set()
    for s in specs:
        s = str(s)
        if s.endswith("+"):
            want |= {m for m in supported if m >= int(s[:-1])}
        elif "-" in s:
            lo, hi = (int(x) for x in s.split("-"))
            want |= {m for m in supported if lo <= m <= hi}
        else:
            want |= {m for m in supported if m == int(s)}
    return sorted(want)


def deep_merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def build_config(case_docs, minor):
    docs = copy.deepcopy(BASE_DOCS)
    docs["ClusterConfiguration"]["kubernetesVersion"] = f"v1.{minor}.0"
    for d in yaml.safe_load_all(case_docs or ""):
        if not d:
            continue
        kind = d["kind"]
        body = {k: v for k, v in d.items() if k not in ("apiVersion", "kind")}
        if kind not in docs:
            docs[kind] = {"apiVersion": d["apiVersion"], "kind": kind}
        deep_merge(docs[kind], body)
    return yaml.safe_dump_all([docs[k] for k in DOC_ORDER if k in docs] +
                              [v for k, v in docs.items() if k not in DOC_ORDER], sort_keys=False)


def run_bin(kf_bin, *args, timeout=60):
    return subprocess.run([kf_bin] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def supported_minors(kf_bin, tmp):
    cfg = os.path.join(tmp, "probe.yaml")
    out = []
    for m in PROBE_MINORS:
        with open(cfg, "w") as f:
            f.write(build_config("", m))
        root = os.path.join(tmp, f"probe-{m}")
        os.makedirs(root, exist_ok=True)
        if run_bin(kf_bin, "plan", "--root", root, "--no-metadata", "--config", cfg).returncode == 0:
            out.append(m)
    return out


# ---- readers: what the binary wrote, as plain values ----

def _cert_dict(cert):
    def names(oid):
        return [a.value for a in cert.subject.get_attributes_for_oid(oid)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ekus = sorted({ExtendedKeyUsageOID.SERVER_AUTH: "ServerAuth",
                       ExtendedKeyUsageOID.CLIENT_AUTH: "ClientAuth"}.get(o, o.dotted_string) for o in eku)
    except x509.ExtensionNotFound:
        ekus = []
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    nb = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return {
        "cn": (names(NameOID.COMMON_NAME) or [None])[0],
        "o": names(NameOID.ORGANIZATION_NAME),
        "issuer_cn": (cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME) or [None])[0].value,
        "dns": dns,
        "ips": ips,
        "ext_key_usage": ekus,
        "is_ca": is_ca,
        "validity_days": round((na - nb).total_seconds() / 86400),
    }


def read_pem_cert(data):
    return _cert_dict(x509.load_pem_x509_certificate(data))


def parse_flags_env(text):
    m = re.search(r'^KUBELET_KUBEADM_ARGS="(.*)"\s*$', text, re.M)
    assert m, f"no KUBELET_KUBEADM_ARGS line in {text!r}"
    return {"args": m.group(1).split()}


def read_file(root, rel):
    """'etc/kubernetes/admin.conf#client-cert' reads the kubeconfig's embedded client certificate."""
    rel, _, frag = rel.partition("#")
    path = os.path.join(root, rel)
    with open(path, "rb") as f:
        data = f.read()
    if rel.endswith(".crt"):
        return read_pem_cert(data)
    if rel.endswith(".env"):
        return parse_flags_env(data.decode())
    doc = yaml.safe_load(data)
    if frag == "client-cert":
        user = doc["users"][0]["user"]
        return read_pem_cert(base64.b64decode(user["client-certificate-data"]))
    return doc


def get_path(doc, path):
    """'spec.containers.0.command' -> the value; raises KeyError when any step is missing.
    A step 'name=x' picks the list element whose name is x."""
    cur = doc
    for step in path.split(".") if path else []:
        if isinstance(cur, list):
            if "=" in step:
                k, v = step.split("=", 1)
                hits = [e for e in cur if isinstance(e, dict) and str(e.get(k)) == v]
                if not hits:
                    raise KeyError(step)
                cur = hits[0]
            else:
                cur = cur[int(step)]
        elif isinstance(cur, dict):
            if step not in cur:
                raise KeyError(step)
            cur = cur[step]
        else:
            raise KeyError(step)
    return cur


def ip_equal(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def check(doc, exp):
    """Checks one expectation against a read document; returns a list of problems."""
    path = exp.get("path", "")
    where = f"{exp['file']}:{path}"
    try:
        have = get_path(doc, path)
    except (KeyError, IndexError):
        have = KeyError
    if exp.get("absent"):
        return [] if have is KeyError else [f"{where}: expected absent, found {have!r}"]
    if have is KeyError:
        return [f"{where}: missing"]
    probs = []
    if "equals" in exp and have != exp["equals"]:
        probs.append(f"{where}: expected {exp['equals']!r}, found {have!r}")
    if "sorted_equals" in exp:
        want, got = sorted(exp["sorted_equals"]), sorted(have)
        if want != got:
            probs.append(f"{where}: missing {sorted(set(want) - set(got))!r}, unexpected "
                         f"{sorted(set(got) - set(want))!r}" + ("" if set(want) != set(got) else " (repeats differ)"))
    if "includes" in exp:
        for w in exp["includes"]:
            if not any(ip_equal(w, h) if isinstance(h, str) else w == h for h in have):
                probs.append(f"{where}: {w!r} not in {have!r}")
    if "excludes" in exp:
        for w in exp["excludes"]:
            if w in have:
                probs.append(f"{where}: {w!r} should not be in {have!r}")
    if "names" in exp:
        got = sorted(e["name"] for e in have if "prefix" not in exp or e["name"].startswith(exp["prefix"]))
        if exp.get("ignore"):
            got = [n for n in got if n not in exp["ignore"]]
        if got != sorted(exp["names"]):
            probs.append(f"{where}: expected names {sorted(exp['names'])!r}, found {got!r}")
    return probs
