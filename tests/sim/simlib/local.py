# SPDX-License-Identifier: Apache-2.0
"""A control plane on loopback, without namespaces: one real etcd member and N apiserver doubles (and
optionally the controller-manager double). Used by the doubles' own tests."""
import os
import shutil
import socket

import etcdbin

from . import BIN_DIR, PYTHON, kpki
from .etcdgw import Etcd
from .kubeclient import Client
from .proc import Proc, wait_until


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, workdir, pki=None, clock_file=None):
        self.dir = str(workdir)
        self.pki = pki or kpki.ClusterPKI()
        self.pki_dir = os.path.join(self.dir, "pki")
        self.pki.write_node(self.pki_dir, "local", "127.0.0.1")
        self.procs = []
        self.apiservers = []
        self.env = {"KF_SIM_CLOCK": clock_file} if clock_file else {}
        self.etcd_url = None

    def start_etcd(self):
        cp, pp = free_port(), free_port()
        p = self.pki_dir + "/etcd/"
        self.etcd_url = f"https://127.0.0.1:{cp}"
        argv = [etcdbin.path(), "--name=local", f"--data-dir={self.dir}/etcd-data",
                f"--listen-client-urls={self.etcd_url}", f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=https://127.0.0.1:{pp}", f"--initial-advertise-peer-urls=https://127.0.0.1:{pp}",
                f"--initial-cluster=local=https://127.0.0.1:{pp}", "--client-cert-auth=true",
                f"--trusted-ca-file={p}ca.crt", f"--cert-file={p}server.crt", f"--key-file={p}server.key",
                "--peer-client-cert-auth=true", f"--peer-trusted-ca-file={p}ca.crt", f"--peer-cert-file={p}peer.crt",
                f"--peer-key-file={p}peer.key", "--listen-metrics-urls=http://127.0.0.1:0"]
        self.procs.append(Proc("etcd", argv, os.path.join(self.dir, "logs", "etcd.log")))
        self.etcd = Etcd(self.etcd_url, p + "ca.crt", p + "healthcheck-client.crt", p + "healthcheck-client.key")
        wait_until(lambda: self.etcd.status(), 20, what="etcd")
        return self.etcd

    def apiserver_flags(self, port, extra=()):
        p = self.pki_dir
        return ["--advertise-address=127.0.0.1", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
                f"--client-ca-file={p}/ca.crt", "--enable-admission-plugins=NodeRestriction",
                "--enable-bootstrap-token-auth=true", f"--etcd-cafile={p}/etcd/ca.crt",
                f"--etcd-certfile={p}/apiserver-etcd-client.crt", f"--etcd-keyfile={p}/apiserver-etcd-client.key",
                f"--etcd-servers={self.etcd_url}", f"--secure-port={port}", "--bind-address=127.0.0.1",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p}/sa.pub", f"--service-account-signing-key-file={p}/sa.key",
                "--service-cluster-ip-range=10.96.0.0/12", f"--tls-cert-file={p}/apiserver.crt",
                f"--tls-private-key-file={p}/apiserver.key", *extra]

    def start_apiserver(self, extra=(), env=None):
        port = free_port()
        n = len(self.apiservers) + 1
        e = dict(self.env)
        e.update(env or {})
        pr = Proc(f"apiserver{n}", [PYTHON, os.path.join(BIN_DIR, "kube-apiserver"), *self.apiserver_flags(port, extra)],
                  os.path.join(self.dir, "logs", f"apiserver{n}.log"), env=e)
        self.procs.append(pr)
        url = f"https://127.0.0.1:{port}"
        self.apiservers.append(url)
        c = self.admin(url)
        wait_until(lambda: c.healthz("/readyz")[0] == 200, 30, what=f"apiserver {url} ready\n{pr.tail()}")
        return url

    def start_controller_manager(self, extra=(), env=None):
        p = self.pki_dir
        kc = os.path.join(self.dir, "controller-manager.conf")
        cert, key = self.pki.client_pems("system:kube-controller-manager")
        kpki.write_kubeconfig(kc, kpki.kubeconfig(self.apiservers[0], self.pki.ca_pem, "system:kube-controller-manager",
                                                  cert, key))
        e = dict(self.env)
        e.update(env or {})
        argv = [PYTHON, os.path.join(BIN_DIR, "kube-controller-manager"), f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}", "--bind-address=127.0.0.1",
                f"--client-ca-file={p}/ca.crt", f"--cluster-signing-cert-file={p}/ca.crt",
                f"--cluster-signing-key-file={p}/ca.key", "--controllers=*,bootstrapsigner,tokencleaner",
                "--leader-elect=true", f"--root-ca-file={p}/ca.crt", f"--service-account-private-key-file={p}/sa.key",
                "--use-service-account-credentials=true", f"--secure-port={free_port()}", *extra]
        pr = Proc("kube-controller-manager", argv, os.path.join(self.dir, "logs", "kcm.log"), env=e)
        self.procs.append(pr)
        return pr

    def admin(self, url=None, **kw):
        cert, key = self.pki.client_pems("kubernetes-super-admin", "system:masters")
        return Client(url or self.apiservers[0], self.pki.ca_pem, cert, key, **kw)

    def client(self, cn=None, org=None, token=None, url=None):
        if cn:
            cert, key = self.pki.client_pems(cn, org)
            return Client(url or self.apiservers[0], self.pki.ca_pem, cert, key)
        return Client(url or self.apiservers[0], self.pki.ca_pem, token=token)

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        shutil.rmtree(os.path.join(self.dir, "etcd-data"), ignore_errors=True)
