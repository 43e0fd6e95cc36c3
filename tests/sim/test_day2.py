# SPDX-License-Identifier: Apache-2.0
"""Day-2 readiness (issue 13 item 5): for a cluster kube-firstboot set up at minor N, everything that
`kubeadm upgrade apply` / `kubeadm upgrade node` to N+1 reads from the nodes and the cluster is present and in
the form kubeadm's upgrade code parses it. The list, with the kubeadm function behind each check and what
breaks without it, is docs/day2-readiness.md (items numbered as the tests below).

One cluster per supported minor (the binary's own list, `kube-firstboot version`), conftest's minor_cluster
shared with test_minors: an init node, a control-plane join and a worker join, booted at the same time. The
checks re-implement kubeadm's parsers (ReadKubeletDynamicEnvFile, ChecksumForConfigMap, APIEndpointFromString,
version.ParseSemantic, the renewal manager's kubeconfig reader, ...) from kubeadm's sources, never from the
code under test.
test_checks_reject_broken_inputs feeds every checker a deliberately broken input, so each can fail."""
import base64
import copy
import hashlib
import ipaddress
import os
import re

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simlib.cluster import LB_IP
from simlib.etcdgw import Etcd
from simlib.kubeclient import ApiError, Client
from simlib.minors import KF

pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")


KS = "kube-system"
CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]  # constants.ControlPlaneComponents
HASH_ANNOTATION = "kubeadm.kubernetes.io/component-config.hash"
APISERVER_ENDPOINT_ANNOTATION = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"
ETCD_URLS_ANNOTATION = "kubeadm.kubernetes.io/etcd.advertise-client-urls"
CRI_SOCKET_ANNOTATION = "kubeadm.alpha.kubernetes.io/cri-socket"
CP_LABEL = "node-role.kubernetes.io/control-plane"


# ---------------------------------------------------------------------------------------------------------
# kubeadm's parsers, re-implemented from its sources (each raises ValueError where kubeadm returns an error)
# ---------------------------------------------------------------------------------------------------------

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def parse_semantic(v):
    """k8s.io/apimachinery/pkg/util/version.ParseSemantic (the leading v allowed): (major, minor, patch)."""
    m = SEMVER.match(v or "")
    if not m:
        raise ValueError(f"{v!r} is not a semantic version")
    return tuple(int(x) for x in m.groups()[:3])


def image_tag_semver(image):
    """staticpods.go GetEtcdImageTagFromStaticPod / versiongetter ComponentVersions: the image's tag
    (image.TagFromImage) with the '_' registries need for '+' put back (convertImageTagMetadataToSemver),
    parsed as a semantic version."""
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        raise ValueError(f"image {image!r} has no tag")
    tag = image.rsplit(":", 1)[1].replace("_", "+", 1)
    parse_semantic(tag)
    return tag


def read_kubelet_dynamic_env_file(text):
    """phases/kubelet/flags.go ReadKubeletDynamicEnvFile: TrimSpace, the KUBELET_KUBEADM_ARGS= prefix, the
    surrounding quotes trimmed (not unquoted), Fields, a value-less flag joined with the next field. kubeadm
    < 1.35.1 also errors on an empty list (kubernetes/kubeadm#3279, fixed by kubernetes#136127)."""
    content = text.strip()
    prefix = "KUBELET_KUBEADM_ARGS="
    if not content.startswith(prefix):
        raise ValueError(f"the file does not contain the expected prefix {prefix!r}")
    fields = content[len(prefix):].strip('"').split()
    out, i = [], 0
    while i < len(fields):
        if "=" in fields[i]:
            out.append(fields[i])
        elif i + 1 < len(fields):
            out.append(fields[i] + "=" + fields[i + 1])
            i += 1
        i += 1
    return out


def kubeadm_flags(text, minor):
    """kubeadm-flags.env as kubeadm writes it (WriteKubeletArgsToFile: one line, KUBELET_KUBEADM_ARGS=%q of the
    sorted --name=value list) and as its upgrade reads it back: {name: value}."""
    if not text.endswith("\n") or text.count("\n") != 1:
        raise ValueError("kubeadm-flags.env is not exactly one line ending in a newline")
    m = re.fullmatch(r'KUBELET_KUBEADM_ARGS="([^"\\]*)"\n', text)
    if not m:
        raise ValueError(f"not KUBELET_KUBEADM_ARGS=\"...\" without escapes (kubeadm trims the quotes, it does "
                         f"not unquote): {text!r}")
    args = read_kubelet_dynamic_env_file(text)
    if args != m.group(1).split():
        raise ValueError(f"not every field is --name=value (kubeadm's reader would re-pair them): {text!r}")
    if not args and minor + 1 <= 35:
        raise ValueError("no flags: kubeadm 1.35.0's upgrade fails on an empty kubeadm-flags.env (kubeadm#3279)")
    flags = {}
    for a in args:
        if not a.startswith("--") or "=" not in a:
            raise ValueError(f"{a!r} is not --name=value")
        name, value = a[2:].split("=", 1)
        if name in flags:
            raise ValueError(f"--{name} twice")
        flags[name] = value
    if args != sorted(args):
        raise ValueError(f"flags not sorted as kubeadm's ArgumentsToCommand sorts them: {args}")
    return flags


def config_map_checksum(cm):
    """componentconfigs/checksums.go ChecksumForConfigMap: sha256 over data values in key order, then
    binaryData values in key order, as "sha256:<hex>"."""
    h = hashlib.sha256()
    for k in sorted(cm.get("data") or {}):
        h.update(cm["data"][k].encode())
    for k in sorted(cm.get("binaryData") or {}):
        h.update(base64.b64decode(cm["binaryData"][k]))
    return "sha256:" + h.hexdigest()


def generated_config_map(cm):
    """VerifyConfigMapSignature: kubeadm treats a component-config ConfigMap as its own (defaulted,
    regenerated on upgrade) only when the hash annotation matches; otherwise as user supplied."""
    sig = (cm["metadata"].get("annotations") or {}).get(HASH_ANNOTATION)
    if sig is None:
        raise ValueError(f"ConfigMap {cm['metadata']['name']} has no {HASH_ANNOTATION} annotation: user supplied")
    if sig != config_map_checksum(cm):
        raise ValueError(f"ConfigMap {cm['metadata']['name']}: {HASH_ANNOTATION} {sig} does not match the data "
                         f"({config_map_checksum(cm)}): user supplied")
    return True


def split_yaml_documents(text):
    """util.SplitYAMLDocuments: every document needs apiVersion and kind; a GVK only once."""
    docs = {}
    for d in yaml.safe_load_all(text):
        if d is None:
            continue
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind"):
            raise ValueError("a document without apiVersion and kind")
        gvk = (d["apiVersion"], d["kind"])
        if gvk in docs:
            raise ValueError(f"{gvk} twice")
        docs[gvk] = d
    return docs


def component_config(cm, key, api_version, kind):
    """handler.fromConfigMap: the key must exist; the group's document must have kubeadm's version (an
    UnsupportedConfigVersionError otherwise, fatal for a user-supplied config)."""
    if key not in (cm.get("data") or {}):
        raise ValueError(f"ConfigMap {cm['metadata']['name']}: {key} key value pair missing")
    docs = split_yaml_documents(cm["data"][key])
    group = api_version.split("/")[0]
    mine = [gvk for gvk in docs if gvk[0].split("/")[0] == group]
    if [gvk for gvk in mine] != [(api_version, kind)]:
        raise ValueError(f"{cm['metadata']['name']}/{key}: documents {list(docs)}, want {(api_version, kind)}")
    return docs[(api_version, kind)]


# ClusterConfiguration v1beta4 (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go, 1.31+): every field it has.
ARG = {"name": str, "value": str}
ENV = {"name": str, "value": str, "valueFrom": dict}
VOLUME = {"name": str, "hostPath": str, "mountPath": str, "readOnly": bool, "pathType": str}
COMPONENT = {"extraArgs": [ARG], "extraVolumes": [VOLUME], "extraEnvs": [ENV]}
CLUSTER_CONFIGURATION = {
    "apiVersion": str, "kind": str,
    "etcd": {"local": {"imageRepository": str, "imageTag": str, "dataDir": str, "extraArgs": [ARG],
                       "extraEnvs": [ENV], "serverCertSANs": [str], "peerCertSANs": [str]},
             "external": {"endpoints": [str], "caFile": str, "certFile": str, "keyFile": str}},
    "networking": {"serviceSubnet": str, "podSubnet": str, "dnsDomain": str},
    "kubernetesVersion": str, "controlPlaneEndpoint": str,
    "apiServer": dict(COMPONENT, certSANs=[str]),
    "controllerManager": COMPONENT, "scheduler": COMPONENT,
    "dns": {"imageRepository": str, "imageTag": str, "disabled": bool},
    "proxy": {"disabled": bool},
    "certificatesDir": str, "imageRepository": str, "featureGates": {str: bool}, "clusterName": str,
    "encryptionAlgorithm": str, "certificateValidityPeriod": str, "caCertificateValidityPeriod": str,
}


def strict(obj, schema, path="ClusterConfiguration"):
    """VerifyUnmarshalStrict against the v1beta4 types: no unknown or duplicate field, every value of its
    type (kubeadm warns on unknown fields and fails on wrong types)."""
    if isinstance(schema, dict) and set(schema) == {str}:
        if not isinstance(obj, dict):
            raise ValueError(f"{path}: not a map")
        for k, v in obj.items():
            strict(v, schema[str], f"{path}.{k}")
    elif isinstance(schema, dict):
        if not isinstance(obj, dict):
            raise ValueError(f"{path}: not an object")
        for k, v in obj.items():
            if k not in schema:
                raise ValueError(f"{path}: unknown field {k!r}")
            strict(v, schema[k], f"{path}.{k}")
    elif isinstance(schema, list):
        if not isinstance(obj, list):
            raise ValueError(f"{path}: not a list")
        for i, v in enumerate(obj):
            strict(v, schema[0], f"{path}[{i}]")
    elif not isinstance(obj, schema) or (schema is int and isinstance(obj, bool)):
        raise ValueError(f"{path}: {obj!r} is not a {schema.__name__}")


class UniqueKeyLoader(yaml.SafeLoader):
    pass


def _no_duplicates(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate keys {sorted(dup)}")
    return loader.construct_mapping(node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def cluster_configuration(text, minor):
    """getInitConfigurationFromCluster: the ClusterConfiguration key decoded by kubeadm N+1's scheme (v1beta4;
    kubeadm 1.37+ no longer reads v1beta3, kubernetes#136016), strictly."""
    docs = [d for d in yaml.load_all(text, Loader=UniqueKeyLoader) if d is not None]
    if len(docs) != 1:
        raise ValueError(f"{len(docs)} YAML documents in ClusterConfiguration")
    cc = docs[0]
    if (cc.get("apiVersion"), cc.get("kind")) != ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration"):
        raise ValueError(f"{cc.get('apiVersion')}/{cc.get('kind')} is not kubeadm.k8s.io/v1beta4 ClusterConfiguration")
    strict(cc, CLUSTER_CONFIGURATION)
    major, mnr, _ = parse_semantic(cc.get("kubernetesVersion"))
    if (major, mnr) != (1, minor):
        raise ValueError(f"kubernetesVersion {cc.get('kubernetesVersion')} is not 1.{minor}")
    if "local" in cc.get("etcd", {}) and "external" in cc["etcd"]:
        raise ValueError("etcd.local and etcd.external")
    return cc


def api_endpoint_from_string(s):
    """kubeadmapi.APIEndpointFromString: net.SplitHostPort, a TCP port, an IP address."""
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", s or "")
    if not m:
        raise ValueError(f"{s!r} is not host:port")
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    ipaddress.ip_address(host)
    if not 0 < int(port) < 65536:
        raise ValueError(f"{s!r}: port out of range")
    return host, int(port)


def load_kubeconfig(path):
    """clientcmd.LoadFromFile, then what the renewal manager's kubeConfigReadWriter.Read requires: the
    current context, its cluster with embedded certificate-authority-data, its user with an embedded client
    certificate. Returns (kubeconfig, cluster, user, client certificate)."""
    kc = yaml.safe_load(open(path))
    ctx = next((c["context"] for c in kc.get("contexts") or [] if c["name"] == kc.get("current-context")), None)
    if ctx is None:
        raise ValueError(f"{path}: missing context {kc.get('current-context')!r}")
    cl = next((c["cluster"] for c in kc.get("clusters") or [] if c["name"] == ctx.get("cluster")), None)
    if cl is None:
        raise ValueError(f"{path}: missing cluster {ctx.get('cluster')!r}")
    us = next((u["user"] for u in kc.get("users") or [] if u["name"] == ctx.get("user")), None)
    if us is None:
        raise ValueError(f"{path}: missing authInfo {ctx.get('user')!r}")
    return kc, cl, us


def embedded_client_cert(path):
    kc, cl, us = load_kubeconfig(path)
    if not cl.get("certificate-authority-data"):
        raise ValueError(f"{path} does not have an embedded server certificate")
    if not us.get("client-certificate-data") or not us.get("client-key-data"):
        raise ValueError(f"{path} does not have an embedded client certificate")
    return first_cert(base64.b64decode(us["client-certificate-data"]))


def first_cert(pem):
    """certutil.ParseCertsPEM, the first certificate (the sender's comes first)."""
    m = re.search(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", pem, re.S)
    if not m:
        raise ValueError("no CERTIFICATE block")
    return x509.load_pem_x509_certificate(m.group(0))


def cert_file(path):
    """certutil.CertsFromFile, the first certificate."""
    return first_cert(open(path, "rb").read())


def signed_by(cert, ca):
    pub = ca.public_key()
    if cert.issuer != ca.subject:
        return False
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except Exception:  # noqa: BLE001 - InvalidSignature and friends
        return False
    return True


def cert_config(cert):
    """The renewal manager's certToConfig: what a renewal keeps (CN, O, SANs, extended key usages)."""
    def names(oid):
        return [a.value for a in cert.subject.get_attributes_for_oid(oid)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns, ips = san.get_values_for_type(x509.DNSName), [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    try:
        eku = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = set()
    cn = names(NameOID.COMMON_NAME)
    return {"cn": cn[0] if cn else None, "o": names(NameOID.ORGANIZATION_NAME), "dns": set(dns), "ips": set(ips),
            "eku": eku}


SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


def expected_certs(node, minor, first):
    """certsphase.GetDefaultCertList (local etcd) as the renewal manager walks it, and the kubeconfig files it
    renews: {file: (CA file, CN, O, DNS subset, IP subset, EKU)}."""
    ip = node.ip
    # no O in any branch's newest patch (kubernetes#138957, cherry-picked to 1.33-1.36)
    kubelet_client_o = []
    certs = {
        "apiserver.crt": ("ca.crt", "kube-apiserver", [],
                          {node.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                           "kubernetes.default.svc.cluster.local"}, {"10.96.0.1", ip, LB_IP}, {SERVER}),
        "apiserver-kubelet-client.crt": ("ca.crt", "kube-apiserver-kubelet-client", kubelet_client_o, set(), set(),
                                         {CLIENT}),
        "front-proxy-client.crt": ("front-proxy-ca.crt", "front-proxy-client", [], set(), set(), {CLIENT}),
        "apiserver-etcd-client.crt": ("etcd/ca.crt", "kube-apiserver-etcd-client", [], set(), set(), {CLIENT}),
        "etcd/server.crt": ("etcd/ca.crt", node.name, [], {node.name, "localhost"}, {ip, "127.0.0.1", "::1"},
                            {SERVER, CLIENT}),
        "etcd/peer.crt": ("etcd/ca.crt", node.name, [], {node.name, "localhost"}, {ip, "127.0.0.1", "::1"},
                          {SERVER, CLIENT}),
        "etcd/healthcheck-client.crt": ("etcd/ca.crt", "kube-etcd-healthcheck-client", [], set(), set(), {CLIENT}),
    }
    kubeconfigs = {"admin.conf": ("kubernetes-admin", ["kubeadm:cluster-admins"]),
                   "controller-manager.conf": ("system:kube-controller-manager", []),
                   "scheduler.conf": ("system:kube-scheduler", [])}
    if first:
        kubeconfigs["super-admin.conf"] = ("kubernetes-super-admin", ["system:masters"])
    return certs, kubeconfigs


def check_pki(root, node, minor, first):
    """What StaticPodControlPlane's renewal reads on this control plane (renewCertsByComponent, then admin.conf),
    and the CA keys without which the renewal manager takes the CA for external and renews nothing."""
    pki = os.path.join(root, "etc/kubernetes/pki")
    for ca in ("ca", "front-proxy-ca", "etcd/ca"):
        for ext in (".crt", ".key"):
            if not os.path.isfile(os.path.join(pki, ca + ext)):
                raise ValueError(f"{ca}{ext} missing")
    certs, kubeconfigs = expected_certs(node, minor, first)
    for f, (ca, cn, o, dns, ips, eku) in certs.items():
        c = cert_file(os.path.join(pki, f))
        cfg = cert_config(c)
        if not signed_by(c, cert_file(os.path.join(pki, ca))):
            raise ValueError(f"{f} is not signed by {ca}")
        if (cfg["cn"], cfg["o"]) != (cn, o):
            raise ValueError(f"{f}: CN {cfg['cn']!r} O {cfg['o']}, want CN {cn!r} O {o}")
        if not dns <= cfg["dns"] or not ips <= cfg["ips"]:
            raise ValueError(f"{f}: SANs {sorted(cfg['dns'])} {sorted(cfg['ips'])} lack {sorted(dns - cfg['dns'])} "
                             f"{sorted(ips - cfg['ips'])}")
        if cfg["eku"] != eku:
            raise ValueError(f"{f}: extended key usages {cfg['eku']}, want {eku}")
        if not os.path.isfile(os.path.join(pki, f[:-4] + ".key")):
            raise ValueError(f"{f[:-4]}.key missing")
    ca = cert_file(os.path.join(pki, "ca.crt"))
    for f, (cn, o) in kubeconfigs.items():
        c = embedded_client_cert(os.path.join(root, "etc/kubernetes", f))
        cfg = cert_config(c)
        if (cfg["cn"], cfg["o"]) != (cn, o) or cfg["eku"] != {CLIENT} or not signed_by(c, ca):
            raise ValueError(f"{f}: client certificate CN {cfg['cn']!r} O {cfg['o']} EKU {cfg['eku']}, want CN "
                             f"{cn!r} O {o} clientAuth signed by ca.crt")


def static_pod(path, component):
    """staticpod.ReadStaticPodFromDisk as the upgrade uses it (ManifestFilesAreEqual, GetEtcdImageTag...,
    UnupgradedControlPlaneInstances): a v1 Pod named after the component, labels component/tier, its first
    container named after the component with a tagged image."""
    pod = yaml.safe_load(open(path))
    if (pod.get("apiVersion"), pod.get("kind")) != ("v1", "Pod"):
        raise ValueError(f"{path}: {pod.get('apiVersion')}/{pod.get('kind')} is not a v1 Pod")
    md = pod.get("metadata") or {}
    if md.get("name") != component or md.get("namespace") != KS:
        raise ValueError(f"{path}: {md.get('namespace')}/{md.get('name')}")
    if (md.get("labels") or {}) != {"component": component, "tier": "control-plane"}:
        raise ValueError(f"{path}: labels {md.get('labels')}")
    c = pod["spec"]["containers"][0]
    if c.get("name") != component:
        raise ValueError(f"{path}: first container {c.get('name')!r}")
    image_tag_semver(c.get("image", ""))
    return pod


# ---------------------------------------------------------------------------------------------------------
# One cluster per supported minor
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def cluster(minor_cluster):
    """conftest's cluster for one supported minor (shared with test_minors): cp-1 init, cp-2 control-plane join,
    w-1 worker, booted at once from the same user-data."""
    return minor_cluster


def admin(s):
    return s.cp[0].admin(local=True)


def in_root(root, path):
    """An absolute path of the node, on the host: symlinks with absolute targets (the kubelet's
    kubelet-client-current.pem) are followed inside the node's root."""
    p = os.path.join(root, path.lstrip("/"))
    for _ in range(10):
        if not os.path.islink(p):
            return p
        t = os.readlink(p)
        p = os.path.join(root, t.lstrip("/")) if os.path.isabs(t) else os.path.join(os.path.dirname(p), t)
    raise ValueError(f"{path}: too many symlinks")


def node_client(node, sim):
    """A client with the node's kubelet.conf (its files under the node's root), through the load balancer: what
    `kubeadm upgrade node` uses on a worker (newNodeData: kubelet.conf when kube-apiserver.yaml is absent)."""
    _, cl, us = load_kubeconfig(os.path.join(node.root, "etc/kubernetes/kubelet.conf"))

    def data(key, fkey):
        if us.get(key):
            return base64.b64decode(us[key])
        return open(in_root(node.root, us[fkey]), "rb").read()
    return Client(sim.cpe, base64.b64decode(cl["certificate-authority-data"]),
                  data("client-certificate-data", "client-certificate"), data("client-key-data", "client-key"),
                  netns=sim.lb_ns)


def read(node, path):
    with open(os.path.join(node.root, path)) as f:
        return f.read()


# ---------------------------------------------------------------------------------------------------------
# The checks: one per item of the list (docs/day2-readiness.md)
# ---------------------------------------------------------------------------------------------------------

def test_kubeadm_config(cluster):
    """1. ConfigMap kube-system/kubeadm-config, key ClusterConfiguration (FetchInitConfigurationFromCluster)."""
    cm = admin(cluster).get("configmaps", "kubeadm-config", KS)
    assert set(cm["data"]) == {"ClusterConfiguration"}, set(cm["data"])
    cc = cluster_configuration(cm["data"]["ClusterConfiguration"], cluster.minor)
    assert cc["controlPlaneEndpoint"] == f"{LB_IP}:6443"
    assert cc["etcd"]["local"]["dataDir"] == "/var/lib/etcd"
    assert cc["certificatesDir"] == "/etc/kubernetes/pki"
    assert cc["networking"]["serviceSubnet"] == "10.96.0.0/12" and cc["networking"]["dnsDomain"] == "cluster.local"
    assert cc["imageRepository"] == "registry.k8s.io" and cc["clusterName"] == "kubernetes"
    # the control-plane images on every node are this version (ComponentVersions, the plan's table)
    for n in cluster.cp:
        for comp in CONTROL_PLANE:
            pod = static_pod(os.path.join(n.root, f"etc/kubernetes/manifests/{comp}.yaml"), comp)
            assert image_tag_semver(pod["spec"]["containers"][0]["image"]) == cc["kubernetesVersion"], (n, comp)


def test_component_configs(cluster):
    """2. kubelet-config (key kubelet, must exist) and kube-proxy (key config.conf) with kubeadm's
    component-config hash (componentconfigs.FetchFromCluster, VerifyConfigMapSignature)."""
    c = admin(cluster)
    kcm = c.get("configmaps", "kubelet-config", KS)
    component_config(kcm, "kubelet", "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")
    assert generated_config_map(kcm)
    pcm = c.get("configmaps", "kube-proxy", KS)
    component_config(pcm, "config.conf", "kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration")
    assert generated_config_map(pcm)


def test_node_registration(cluster):
    """3. GetNodeRegistration on each node: its name (SelfSubjectReview with kubelet.conf, else the client
    certificate's CN), its Node's taints, its CRI socket from instance-config.yaml (1.34+; before, the Node
    annotation: test_cri_socket_annotation)."""
    c = admin(cluster)
    minor = cluster.minor
    for n in cluster.nodes:
        kc, cl, us = load_kubeconfig(os.path.join(n.root, "etc/kubernetes/kubelet.conf"))
        pem = (base64.b64decode(us["client-certificate-data"]) if us.get("client-certificate-data")
               else open(in_root(n.root, us["client-certificate"]), "rb").read())
        assert cert_config(first_cert(pem))["cn"] == f"system:node:{n.name}"
        ssr = node_client(n, cluster).request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                              {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert ssr["status"]["userInfo"]["username"] == f"system:node:{n.name}"
        node = c.get("nodes", n.name)
        taints = node["spec"].get("taints") or []
        if n.role == "control-plane":
            assert {"key": CP_LABEL, "effect": "NoSchedule"} in taints
            assert node["metadata"]["labels"].get(CP_LABEL) == ""
            # the kubelet.conf of a control plane already points at its own apiserver (UpdateKubeletLocalMode
            # has nothing to do)
            assert cl["server"] == f"https://{n.ip}:6443", cl["server"]
        parse_semantic(node["status"]["nodeInfo"]["kubeletVersion"])  # KubeletVersions / policy (the kubelet's)
        inst = os.path.join(n.root, "var/lib/kubelet/instance-config.yaml")
        if minor >= 34:
            # readKubeletConfig: sigs.k8s.io/yaml into a KubeletConfiguration, containerRuntimeEndpoint
            ic = yaml.safe_load(open(inst))
            assert isinstance(ic, dict) and ic.get("containerRuntimeEndpoint", "").startswith("unix:///"), ic
        else:
            assert not os.path.exists(inst)


def test_cri_socket_annotation(cluster):
    """3c. The Node's kubeadm.alpha.kubernetes.io/cri-socket: kubeadm sets it while NodeLocalCRISocket is off
    (<= 1.33) and 1.34's GetNodeRegistration reads it when instance-config.yaml is absent; from 1.34 it is not
    set (and 1.34+ upgrades remove it)."""
    c = admin(cluster)
    for n in cluster.nodes:
        ann = c.get("nodes", n.name)["metadata"].get("annotations") or {}
        if cluster.minor >= 34:
            assert CRI_SOCKET_ANNOTATION not in ann, (n.name, ann)
        else:
            assert ann.get(CRI_SOCKET_ANNOTATION, "").startswith("unix:///"), (n.name, ann)


def test_api_endpoint_annotation(cluster):
    """4. getAPIEndpoint: exactly one Pod per control plane with component=kube-apiserver,tier=control-plane
    and spec.nodeName=<node>, annotated with its advertise address (APIEndpointFromString)."""
    c = admin(cluster)
    for n in cluster.cp:
        pods = c.list("pods", KS, labelSelector="component=kube-apiserver,tier=control-plane",
                      fieldSelector=f"spec.nodeName={n.name}")
        assert len(pods) == 1, (n, [p["metadata"]["name"] for p in pods])
        ann = pods[0]["metadata"].get("annotations") or {}
        assert api_endpoint_from_string(ann.get(APISERVER_ENDPOINT_ANNOTATION)) == (n.ip, 6443)
        # the mirror pod's annotation comes from the manifest
        pod = static_pod(os.path.join(n.root, "etc/kubernetes/manifests/kube-apiserver.yaml"), "kube-apiserver")
        assert pod["metadata"]["annotations"][APISERVER_ENDPOINT_ANNOTATION] == f"{n.ip}:6443"


def test_etcd_endpoints(cluster):
    """5. etcdutil.NewFromCluster: every Pod component=etcd,tier=control-plane carries its client URL (one
    missing makes kubeadm retry until its timeout), and the healthcheck-client certificate reaches etcd."""
    c = admin(cluster)
    pods = c.list("pods", KS, labelSelector="component=etcd,tier=control-plane")
    urls = {p["spec"]["nodeName"]: (p["metadata"].get("annotations") or {}).get(ETCD_URLS_ANNOTATION) for p in pods}
    assert urls == {n.name: f"https://{n.ip}:2379" for n in cluster.cp}, urls
    for n in cluster.cp:
        pki = os.path.join(n.root, "etc/kubernetes/pki/etcd")
        e = Etcd(urls[n.name], f"{pki}/ca.crt", f"{pki}/healthcheck-client.crt", f"{pki}/healthcheck-client.key",
                 netns=n.ns, timeout=10)
        ms = e.members()
        assert sorted(m.get("name") for m in ms) == sorted(x.name for x in cluster.cp), ms
        assert not any(m.get("isLearner") for m in ms)


def test_static_pods(cluster):
    """6. The manifests (StaticPodManifest check, ManifestFilesAreEqual, GetEtcdImageTagFromStaticPod) and
    the mirror Pods the upgrade waits on (<component>-<node>, kubernetes.io/config.hash; the container named
    kube-apiserver for UnupgradedControlPlaneInstances)."""
    c = admin(cluster)
    for n in cluster.cp:
        man = os.path.join(n.root, "etc/kubernetes/manifests")
        assert sorted(os.listdir(man)) == sorted(f"{x}.yaml" for x in CONTROL_PLANE + ["etcd"])
        for comp in CONTROL_PLANE + ["etcd"]:
            pod = static_pod(os.path.join(man, f"{comp}.yaml"), comp)
            mirror = c.get("pods", f"{comp}-{n.name}", KS)
            assert mirror["spec"]["nodeName"] == n.name
            assert mirror["metadata"]["labels"]["component"] == comp
            assert mirror["spec"]["containers"][0]["name"] == comp
            assert mirror["spec"]["containers"][0]["image"] == pod["spec"]["containers"][0]["image"]
            assert mirror["metadata"]["annotations"].get("kubernetes.io/config.hash")  # the kubelet's
        etcd = static_pod(os.path.join(man, "etcd.yaml"), "etcd")
        cmd = etcd["spec"]["containers"][0]["command"]
        assert "--data-dir=/var/lib/etcd" in cmd  # the directory the etcd upgrade backs up
    for n in cluster.workers:
        # newNodeData: no kube-apiserver.yaml = a worker (kubelet.conf as the client, no node registration)
        assert not os.path.exists(os.path.join(n.root, "etc/kubernetes/manifests/kube-apiserver.yaml"))


def test_kubelet_files(cluster):
    """7. /var/lib/kubelet: kubeadm-flags.env (ReadKubeletDynamicEnvFile in post-upgrade and when the
    instance config is missing) and config.yaml (backed up to /etc/kubernetes/tmp before it is rewritten)."""
    minor = cluster.minor
    for n in cluster.nodes:
        flags = kubeadm_flags(read(n, "var/lib/kubelet/kubeadm-flags.env"), minor)
        assert ("container-runtime-endpoint" in flags) == (minor < 34), flags  # NodeLocalCRISocket from 1.34
        assert "hostname-override" not in flags  # node name == hostname here
        kc = yaml.safe_load(read(n, "var/lib/kubelet/config.yaml"))
        assert (kc["apiVersion"], kc["kind"]) == ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")
        assert kc["staticPodPath"] == "/etc/kubernetes/manifests"


def test_kubeadm_flags_pause_image(cluster):
    """7b. --pod-infra-container-image: kubeadm writes it up to 1.34 and no longer from 1.35 (kubernetes#133778);
    1.35's upgrade removes it, 1.36's keeps whatever is there (kubernetes#135807 removed that cleanup)."""
    for n in cluster.nodes:
        flags = kubeadm_flags(read(n, "var/lib/kubelet/kubeadm-flags.env"), cluster.minor)
        assert ("pod-infra-container-image" in flags) == (cluster.minor <= 34), (n.name, flags)


def test_certificates(cluster):
    """8. The renewal manager on each control plane: the certificates and kubeconfig client certificates it
    renews keep their CN, O, SANs and usages (certToConfig), so they must be right now."""
    for i, n in enumerate(cluster.cp):
        check_pki(n.root, n, cluster.minor, first=(i == 0))


def test_addons(cluster):
    """9. Addon phase: CoreDNS (one Deployment k8s-app=kube-dns whose image tag is the installed version, the
    coredns ConfigMap's Corefile: GetCoreDNSInfo, the CoreDNSMigration preflight) and kube-proxy."""
    c = admin(cluster)
    deps = c.list("deployments", KS, group="apps", labelSelector="k8s-app=kube-dns")
    assert [d["metadata"]["name"] for d in deps] == ["coredns"]
    image = deps[0]["spec"]["template"]["spec"]["containers"][0]["image"]
    parse_semantic(image.rsplit(":", 1)[1])
    assert c.get("configmaps", "coredns", KS)["data"]["Corefile"].strip()
    ds = c.get("daemonsets", "kube-proxy", KS, group="apps")
    assert ds["spec"]["template"]["spec"]["containers"][0]["name"] == "kube-proxy"


def test_health_preconditions(cluster):
    """10. CheckClusterHealth: control planes (by label) Ready; CreateJob needs a schedulable Node (it runs a
    Job with the pause image; the simulation has no Job controller, so only its inputs are checked)."""
    c = admin(cluster)
    cps = c.list("nodes", labelSelector=CP_LABEL)
    assert sorted(x["metadata"]["name"] for x in cps) == sorted(n.name for n in cluster.cp)
    for x in cps:
        ready = [k for k in x["status"]["conditions"] if k["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", x["metadata"]["name"]
    # createJob lists Nodes with spec.unschedulable=false (an unset field matches; the double's field selector
    # does not match unset fields, so the same filter is applied here)
    assert [x for x in c.list("nodes") if not x["spec"].get("unschedulable")]
    parse_semantic(c.request("GET", "/version")["gitVersion"])  # ClusterVersion (the apiserver's)


def test_worker_can_read_what_upgrade_node_reads(cluster):
    """11. `kubeadm upgrade node` on a worker runs with kubelet.conf (system:nodes): kubeadm-config and
    kubelet-config must be readable through the kubeadm:nodes-kubeadm-config / kubeadm:kubelet-config RBAC;
    kube-proxy may be forbidden (fromConfigMap tolerates it for kube-proxy only)."""
    for n in cluster.workers:
        wc = node_client(n, cluster)
        assert wc.get("configmaps", "kubeadm-config", KS)["data"]["ClusterConfiguration"]
        assert wc.get("configmaps", "kubelet-config", KS)["data"]["kubelet"]
        assert wc.get("nodes", n.name)["metadata"]["name"] == n.name
        try:
            wc.get("configmaps", "kube-proxy", KS)
        except ApiError as e:
            assert e.code in (403, 404), e


# ---------------------------------------------------------------------------------------------------------
# Every checker fails on a broken input (no cluster needed)
# ---------------------------------------------------------------------------------------------------------

def test_checks_reject_broken_inputs():
    good_cc = ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.35.0\n"
               "controlPlaneEndpoint: 10.0.0.1:6443\netcd:\n  local:\n    dataDir: /var/lib/etcd\n")
    cluster_configuration(good_cc, 35)
    for bad in (good_cc.replace("v1beta4", "v1beta3"), good_cc + "bogus: 1\n", good_cc + "kubernetesVersion: v1.35.1\n",
                good_cc.replace("v1.35.0", "stable-1.35"), good_cc.replace("dataDir: /var/lib/etcd", "dataDir: [x]"),
                good_cc + "---\nkind: X\n"):
        with pytest.raises(ValueError):
            cluster_configuration(bad, 35)
    with pytest.raises(ValueError):
        cluster_configuration(good_cc, 34)

    good_env = 'KUBELET_KUBEADM_ARGS="--a=1 --b=2"\n'
    assert kubeadm_flags(good_env, 35) == {"a": "1", "b": "2"}
    assert kubeadm_flags('KUBELET_KUBEADM_ARGS=""\n', 35) == {}
    for bad in ('KUBELET_KUBEADM_ARGS="--b=2 --a=1"\n', good_env + good_env, good_env.rstrip("\n"),
                'KUBELET_KUBEADM_ARGS="--a=\\"x y\\""\n', "KUBELET_EXTRA_ARGS=\"--a=1\"\n",
                'KUBELET_KUBEADM_ARGS="-a"\n'):
        with pytest.raises(ValueError):
            kubeadm_flags(bad, 35)
    with pytest.raises(ValueError):
        kubeadm_flags('KUBELET_KUBEADM_ARGS=""\n', 34)  # read by kubeadm 1.35.0
    assert read_kubelet_dynamic_env_file('KUBELET_KUBEADM_ARGS="--x y --z=1"') == ["--x=y", "--z=1"]

    cm = {"metadata": {"name": "kubelet-config", "annotations": {}},
          "data": {"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"}}
    cm["metadata"]["annotations"][HASH_ANNOTATION] = config_map_checksum(cm)
    assert generated_config_map(cm)
    component_config(cm, "kubelet", "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")
    tampered = copy.deepcopy(cm)
    tampered["data"]["kubelet"] += "clusterDNS: [10.96.0.10]\n"
    unsigned = copy.deepcopy(cm)
    del unsigned["metadata"]["annotations"][HASH_ANNOTATION]
    for bad in (tampered, unsigned):
        with pytest.raises(ValueError):
            generated_config_map(bad)
    old = copy.deepcopy(cm)
    old["data"]["kubelet"] = old["data"]["kubelet"].replace("v1beta1", "v1alpha1")
    with pytest.raises(ValueError):
        component_config(old, "kubelet", "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")
    with pytest.raises(ValueError):
        component_config(cm, "config.conf", "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")

    assert api_endpoint_from_string("10.0.0.1:6443") == ("10.0.0.1", 6443)
    assert api_endpoint_from_string("[fd00::1]:6443") == ("fd00::1", 6443)
    for bad in ("10.0.0.1", "10.0.0.1:0", "cp-1:6443", "", None, "10.0.0.1:6443:1"):
        with pytest.raises(ValueError):
            api_endpoint_from_string(bad)
    assert image_tag_semver("registry.k8s.io/etcd:3.6.5-0") == "3.6.5-0"
    assert image_tag_semver("registry.k8s.io/kube-apiserver:v1.35.0_build.1") == "v1.35.0+build.1"
    for bad in ("registry.k8s.io/etcd", "registry.k8s.io/etcd:latest", "localhost:5000/etcd"):
        with pytest.raises(ValueError):
            image_tag_semver(bad)


def test_pki_and_manifest_checks_reject_broken_files(tmp_path):
    """The certificate and manifest checks against a small PKI written here, then broken one way at a time."""
    from simlib import kpki

    class N:
        name, ip = "cp-1", "10.213.0.11"
    pki = kpki.ClusterPKI()
    root = tmp_path / "root"
    d = root / "etc/kubernetes/pki"
    (d / "etcd").mkdir(parents=True)
    for name, (key, cert) in (("ca", pki.ca), ("front-proxy-ca", pki.fp_ca), ("etcd/ca", pki.etcd_ca)):
        (d / f"{name}.crt").write_bytes(kpki.cert_pem(cert))
        (d / f"{name}.key").write_bytes(kpki.key_pem(key))
    certs, kubeconfigs = expected_certs(N, 35, True)
    for f, (ca, cn, o, dns, ips, eku) in certs.items():
        signer = {"ca.crt": pki.ca, "front-proxy-ca.crt": pki.fp_ca, "etcd/ca.crt": pki.etcd_ca}[ca]
        pki.leaf(str(d / os.path.dirname(f)), os.path.basename(f)[:-4], signer, cn, org=o[0] if o else None,
                 server=SERVER in eku, client=CLIENT in eku, dns=sorted(dns), ips=sorted(ips))
    for f, (cn, o) in kubeconfigs.items():
        cert, key = pki.client_pems(cn, o[0] if o else None)
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        (root / "etc/kubernetes" / f).write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": "https://x:6443",
                                                   "certificate-authority-data": b64(pki.ca_pem)}}],
            "users": [{"name": "u", "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}}]}))
    check_pki(str(root), N, 35, True)
    breakers = [
        lambda: os.unlink(d / "etcd/ca.key"),  # external etcd CA: no renewal
        lambda: pki.leaf(str(d), "apiserver", pki.ca, "kube-apiserver", server=True, dns=["kubernetes"], ips=[N.ip]),
        lambda: pki.leaf(str(d), "apiserver-kubelet-client", pki.ca, "kube-apiserver-kubelet-client",
                         org="system:masters", client=True),
        lambda: pki.leaf(str(d / "etcd"), "peer", pki.ca, N.name, server=True, client=True,
                         dns=[N.name, "localhost"], ips=[N.ip, "127.0.0.1", "::1"]),  # wrong CA
        lambda: (root / "etc/kubernetes/admin.conf").write_text(
            (root / "etc/kubernetes/admin.conf").read_text().replace("client-certificate-data", "client-certificate")),
    ]
    saved = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    for i, brk in enumerate(breakers):
        brk()
        with pytest.raises(ValueError):
            check_pki(str(root), N, 35, True)
        for p in list(root.rglob("*")):
            if p.is_file() and p not in saved:
                p.unlink()
        for p, b in saved.items():
            p.write_bytes(b)
        check_pki(str(root), N, 35, True)

    man = tmp_path / "kube-apiserver.yaml"
    good = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "kube-apiserver", "namespace": KS,
                         "labels": {"component": "kube-apiserver", "tier": "control-plane"}},
            "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.35.0"}]}}
    man.write_text(yaml.safe_dump(good))
    static_pod(str(man), "kube-apiserver")
    for mutate in (lambda p: p["metadata"]["labels"].pop("tier"), lambda p: p.update(apiVersion="v2"),
                   lambda p: p["spec"]["containers"][0].update(name="apiserver"),
                   lambda p: p["spec"]["containers"][0].update(image="registry.k8s.io/kube-apiserver")):
        bad = copy.deepcopy(good)
        mutate(bad)
        man.write_text(yaml.safe_dump(bad))
        with pytest.raises(ValueError):
            static_pod(str(man), "kube-apiserver")
