# SPDX-License-Identifier: Apache-2.0
"""kubeadm-shaped static Pod manifests, kubelet files and kubeconfigs (../shared/spec/kubeadm-compat.md
sections 4-6), written by the test helper where kube-firstboot's init/join are not there yet.
Independent of the code under test."""
import os

import yaml

from . import kpki

PKI = "/etc/kubernetes/pki"


def _flags(d):
    return [f"--{k}={v}" for k, v in sorted(d.items())]


def _vol(name, path, type_="DirectoryOrCreate", ro=True):
    return ({"name": name, "hostPath": {"path": path, "type": type_}},
            {"name": name, "mountPath": path, "readOnly": ro} if ro else {"name": name, "mountPath": path})


def _pod(component, command, vols, probe_host, probe_port, scheme, live, ready, annotations=None, cpu="100m"):
    def probe(path, init, timeout, fail, period):
        return {"httpGet": {"host": probe_host, "path": path, "port": probe_port, "scheme": scheme},
                "initialDelaySeconds": init, "timeoutSeconds": timeout, "failureThreshold": fail,
                "periodSeconds": period}

    vols = sorted(vols, key=lambda v: v[0]["name"])
    c = {"name": component, "image": f"registry.k8s.io/{component}:v1.31.0", "imagePullPolicy": "IfNotPresent",
         "command": command, "livenessProbe": probe(live, 10, 15, 8, 10),
         "resources": {"requests": {"cpu": cpu}}, "startupProbe": probe(live, 10, 15, 24, 10),
         "volumeMounts": [m for _, m in vols]}
    if ready:
        c["readinessProbe"] = probe(ready, 0, 15, 3, 1)
    meta = {"labels": {"component": component, "tier": "control-plane"}, "name": component,
            "namespace": "kube-system"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [c], "hostNetwork": True, "priority": 2000001000,
                     "priorityClassName": "system-node-critical",
                     "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                     "volumes": [v for v, _ in vols]},
            "status": {}}


def etcd(node, ip, initial_cluster, state="new", etcd36=False):
    f = {"advertise-client-urls": f"https://{ip}:2379", "cert-file": f"{PKI}/etcd/server.crt",
         "client-cert-auth": "true", "data-dir": "/var/lib/etcd",
         "initial-advertise-peer-urls": f"https://{ip}:2380", "initial-cluster": initial_cluster,
         "key-file": f"{PKI}/etcd/server.key", "listen-client-urls": f"https://127.0.0.1:2379,https://{ip}:2379",
         "listen-metrics-urls": "http://127.0.0.1:2381", "listen-peer-urls": f"https://{ip}:2380", "name": node,
         "peer-cert-file": f"{PKI}/etcd/peer.crt", "peer-client-cert-auth": "true",
         "peer-key-file": f"{PKI}/etcd/peer.key", "peer-trusted-ca-file": f"{PKI}/etcd/ca.crt",
         "snapshot-count": "10000", "trusted-ca-file": f"{PKI}/etcd/ca.crt"}
    if etcd36:
        f["feature-gates"] = "InitialCorruptCheck=true"
        f["watch-progress-notify-interval"] = "5s"
    else:
        f["experimental-initial-corrupt-check"] = "true"
        f["experimental-watch-progress-notify-interval"] = "5s"
    if state == "existing":
        f["initial-cluster-state"] = "existing"
    vols = [_vol("etcd-data", "/var/lib/etcd", ro=False), _vol("etcd-certs", f"{PKI}/etcd", ro=False)]
    p = _pod("etcd", ["etcd", *_flags(f)], vols, "127.0.0.1", 2381, "HTTP", "/livez", "/readyz",
             {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"})
    p["spec"]["containers"][0]["image"] = "registry.k8s.io/etcd:3.5.15-0"
    p["spec"]["containers"][0]["resources"]["requests"]["memory"] = "100Mi"
    return p


def apiserver(ip, port=6443):
    f = {"advertise-address": ip, "allow-privileged": "true", "authorization-mode": "Node,RBAC",
         "client-ca-file": f"{PKI}/ca.crt", "enable-admission-plugins": "NodeRestriction",
         "enable-bootstrap-token-auth": "true", "etcd-cafile": f"{PKI}/etcd/ca.crt",
         "etcd-certfile": f"{PKI}/apiserver-etcd-client.crt", "etcd-keyfile": f"{PKI}/apiserver-etcd-client.key",
         "etcd-servers": "https://127.0.0.1:2379",
         "kubelet-client-certificate": f"{PKI}/apiserver-kubelet-client.crt",
         "kubelet-client-key": f"{PKI}/apiserver-kubelet-client.key",
         "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
         "proxy-client-cert-file": f"{PKI}/front-proxy-client.crt", "proxy-client-key-file": f"{PKI}/front-proxy-client.key",
         "requestheader-allowed-names": "front-proxy-client", "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
         "requestheader-extra-headers-prefix": "X-Remote-Extra-", "requestheader-group-headers": "X-Remote-Group",
         "requestheader-username-headers": "X-Remote-User", "secure-port": str(port),
         "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
         "service-account-key-file": f"{PKI}/sa.pub", "service-account-signing-key-file": f"{PKI}/sa.key",
         "service-cluster-ip-range": "10.96.0.0/12", "tls-cert-file": f"{PKI}/apiserver.crt",
         "tls-private-key-file": f"{PKI}/apiserver.key"}
    vols = [_vol("ca-certs", "/etc/ssl/certs"), _vol("k8s-certs", PKI)]
    return _pod("kube-apiserver", ["kube-apiserver", *_flags(f)], vols, ip, port, "HTTPS", "/livez", "/readyz",
                {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:{port}"}, "250m")


def controller_manager():
    kc = "/etc/kubernetes/controller-manager.conf"
    f = {"authentication-kubeconfig": kc, "authorization-kubeconfig": kc, "bind-address": "127.0.0.1",
         "client-ca-file": f"{PKI}/ca.crt", "cluster-name": "kubernetes",
         "cluster-signing-cert-file": f"{PKI}/ca.crt", "cluster-signing-key-file": f"{PKI}/ca.key",
         "controllers": "*,bootstrapsigner,tokencleaner", "kubeconfig": kc, "leader-elect": "true",
         "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt", "root-ca-file": f"{PKI}/ca.crt",
         "service-account-private-key-file": f"{PKI}/sa.key", "use-service-account-credentials": "true"}
    vols = [_vol("ca-certs", "/etc/ssl/certs"), _vol("k8s-certs", PKI),
            _vol("kubeconfig", kc, "FileOrCreate"),
            _vol("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", ro=False)]
    return _pod("kube-controller-manager", ["kube-controller-manager", *_flags(f)], vols, "127.0.0.1", 10257,
                "HTTPS", "/healthz", None, cpu="200m")


def scheduler():
    kc = "/etc/kubernetes/scheduler.conf"
    f = {"authentication-kubeconfig": kc, "authorization-kubeconfig": kc, "bind-address": "127.0.0.1",
         "kubeconfig": kc, "leader-elect": "true"}
    return _pod("kube-scheduler", ["kube-scheduler", *_flags(f)], [_vol("kubeconfig", kc, "FileOrCreate")],
                "127.0.0.1", 10259, "HTTPS", "/livez", None)


def write(root, rel, data, mode=0o600):
    p = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if not isinstance(data, (bytes, str)):
        data = yaml.safe_dump(data, sort_keys=False)
    if isinstance(data, str):
        data = data.encode()
    tmp = p + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, p)
    return p


def write_static_pod(root, pod):
    os.makedirs(os.path.join(root, "etc/kubernetes/manifests"), mode=0o700, exist_ok=True)
    return write(root, f"/etc/kubernetes/manifests/{pod['metadata']['name']}.yaml", pod)


def kubelet_config(cluster_dns="10.96.0.10"):
    return {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": f"{PKI}/ca.crt"}},
            "authorization": {"mode": "Webhook"}, "cgroupDriver": "systemd", "clusterDNS": [cluster_dns],
            "clusterDomain": "cluster.local", "healthzBindAddress": "127.0.0.1", "healthzPort": 10248,
            "rotateCertificates": True, "staticPodPath": "/etc/kubernetes/manifests"}


def write_kubelet_files(root, flags=(), config=None):
    write(root, "/var/lib/kubelet/config.yaml", config or kubelet_config(), 0o644)
    args = " ".join(sorted(flags))
    write(root, "/var/lib/kubelet/kubeadm-flags.env", f'KUBELET_KUBEADM_ARGS="{args}"\n', 0o644)


def write_control_plane_kubeconfigs(root, pki, node, local_url, cpe_url):
    """admin.conf (CPE), controller-manager.conf and scheduler.conf (local endpoint) as kubeadm makes them."""
    for fname, cn, org, url in (("admin.conf", "kubernetes-admin", "kubeadm:cluster-admins", cpe_url),
                                ("super-admin.conf", "kubernetes-super-admin", "system:masters", cpe_url),
                                ("controller-manager.conf", "system:kube-controller-manager", None, local_url),
                                ("scheduler.conf", "system:kube-scheduler", None, local_url)):
        cert, key = pki.client_pems(cn, org)
        kpki.write_kubeconfig(os.path.join(root, "etc/kubernetes", fname),
                              kpki.kubeconfig(url, pki.ca_pem, cn, cert, key))


def write_kubelet_kubeconfig(root, pki, node, url):
    """kubelet.conf as kubeadm init writes it on the first control plane (embedded client cert)."""
    cert, key = pki.client_pems(f"system:node:{node}", "system:nodes")
    kpki.write_kubeconfig(os.path.join(root, "etc/kubernetes/kubelet.conf"),
                          kpki.kubeconfig(url, pki.ca_pem, f"system:node:{node}", cert, key))


def write_bootstrap_kubeconfig(root, pki, url, token):
    kc = kpki.kubeconfig(url, pki.ca_pem, "tls-bootstrap-token-user", token=token)
    kpki.write_kubeconfig(os.path.join(root, "etc/kubernetes/bootstrap-kubelet.conf"), kc)
