# SPDX-License-Identifier: Apache-2.0
"""Scenario helpers: simulated nodes in network namespaces on a bridge, real etcd and haproxy, the
kubelet and control-plane doubles, so tests read like the story they tell:

    with Sim(tmp, control_planes=3, workers=1) as sim:
        sim.start_lb()
        sim.kubeadm_init(sim.cp[0]); sim.kubeadm_join_control_plane(sim.cp[1]) ...
        sim.wait_etcd_voters(3)
        sim.kill(sim.cp[1]) ...

Topology (all inside namespaces this object creates, removed in stop() even after a failure):
    kfs-<id>-hub   holds bridge br0
    kfs-<id>-lb    haproxy on 10.213.0.100:6443 (the controlPlaneEndpoint)
    kfs-<id>-<node> eth0 10.213.0.<11..> (control planes), 10.213.0.<51..> (workers)
Each node has a root directory (used as --root) with its metadata as a NoCloud seed
(<root>/var/lib/cloud/seed/nocloud/{meta-data,user-data}).

kubeadm_init / kubeadm_join_* are a *stand-in* for kube-firstboot while its init/join are not there:
they write kubeadm-shaped files (simlib.manifests) and create the objects kubeadm would, then hand off to
the kubelet double exactly as kube-firstboot will."""
import base64
import concurrent.futures
import glob
import json
import os
import random
import shutil
import subprocess
import time

from . import BIN_DIR, PYTHON, bootstrap, kpki, manifests, simclock
from .etcdgw import Etcd, EtcdError
from .kubeclient import Client
from .proc import Proc, wait_until

SUBNET = "10.213.0"
LB_IP = f"{SUBNET}.100"


def sh(*argv, check=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))}: rc {p.returncode}: {p.stderr.strip()}")
    return p.stdout


class Node:
    def __init__(self, sim, name, ip, role):
        self.sim, self.name, self.ip, self.role = sim, name, ip, role
        self.ns = f"{sim.prefix}-{name}"
        self.root = os.path.join(sim.dir, "nodes", name, "root")
        self.seed = os.path.join(self.root, "var/lib/cloud/seed/nocloud")
        os.makedirs(self.seed, exist_ok=True)
        self.procs = []

    def __repr__(self):
        return f"<Node {self.name} {self.ip}>"

    def argv(self, argv):
        """Wrap a command so it runs in this node's network namespace with its own hostname (UTS)."""
        return ["ip", "netns", "exec", self.ns, "unshare", "--uts", "--", "/bin/sh", "-c",
                'hostname "$0" && exec "$@"', self.name, *[str(a) for a in argv]]

    def run(self, name, argv, env=None):
        p = Proc(f"{self.name}/{name}", self.argv(argv), os.path.join(self.sim.dir, "logs", f"{self.name}-{name}.log"),
                 env=dict(self.sim.env, **(env or {})))
        self.procs.append(p)
        return p

    def exec(self, argv, timeout=60, env=None):
        e = dict(os.environ, **self.sim.env, **(env or {}))
        return subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout, env=e)

    def write_seed(self, user_data, instance_id=None):
        """The node's NoCloud seed: meta-data (instance-id, local-hostname), user-data, network-config v2."""
        with open(os.path.join(self.seed, "meta-data"), "w") as f:
            f.write(f"instance-id: {instance_id or 'iid-' + self.name}\nlocal-hostname: {self.name}\n")
        with open(os.path.join(self.seed, "user-data"), "w") as f:
            f.write(user_data)
        with open(os.path.join(self.seed, "network-config"), "w") as f:
            f.write(f"version: 2\nethernets:\n  eth0:\n    addresses: [{self.ip}/24]\n")

    # ---- kube-firstboot ----
    def firstboot_status(self):
        """<root>/run/kube-firstboot/status.json as kube-firstboot writes it, or None."""
        try:
            with open(os.path.join(self.root, "run/kube-firstboot/status.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def phase_state(self, phase):
        st = self.firstboot_status() or {}
        return next((p.get("state") for p in st.get("phases") or [] if p.get("name") == phase), None)

    def kubelet_start_command(self):
        """The kubelet start command kube-firstboot should run on this simulated node (instead of
        `systemctl enable --now kubelet`): starts the kubelet double in the background and returns."""
        return [PYTHON, os.path.join(BIN_DIR, "kubelet"), f"--root={self.root}", "--daemon"]

    def firstboot(self, *args, kf_bin=None, timeout=600, env=None):
        """Run kube-firstboot VERB... --root <root> inside this node (blocking); CompletedProcess.
        bin/shims comes first on PATH, so `systemctl enable --now kubelet` starts this node's kubelet
        double (KF_SIM_ROOT names the root)."""
        kf = kf_bin or self.sim.kf_bin
        self.sim.event(self, f"kube-firstboot {args[0] if args else ''} started")
        e = {"PATH": os.path.join(BIN_DIR, "shims") + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
             "KF_SIM_ROOT": self.root}
        e.update(env or {})
        # The node's root stands for a machine whose programs (the systemctl shim) run: --allow-host.
        r = self.exec([kf, *args, "--root", self.root, "--allow-host"], timeout=timeout, env=e)
        self.sim.event(self, f"kube-firstboot {args[0] if args else ''} exited {r.returncode}")
        return r

    def start_firstboot(self, *args, kf_bin=None, log=None):
        """kube-firstboot VERB... in the background, as Node.firstboot runs it; the Popen's PID is
        kube-firstboot's own (ip netns exec, unshare and the hostname shell each exec the next program), so
        a power-off can kill it."""
        kf = kf_bin or self.sim.kf_bin
        e = dict(os.environ, **self.sim.env,
                 PATH=os.path.join(BIN_DIR, "shims") + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                 KF_SIM_ROOT=self.root)
        out = log or open(os.path.join(self.sim.dir, "logs", f"{self.name}-firstboot-{len(self.procs)}.log"), "w")
        self.sim.event(self, f"kube-firstboot {args[0] if args else ''} started (background)")
        return subprocess.Popen(self.argv([kf, *args, "--root", self.root, "--allow-host"]), env=e, stdout=out,
                                stderr=subprocess.STDOUT, text=True)

    def journal_done(self):
        """The phases kube-firstboot's journal records as done on this node."""
        try:
            with open(os.path.join(self.root, "var/lib/kube-firstboot/journal.json")) as f:
                return json.load(f)["done"]
        except (OSError, ValueError, KeyError):
            return []

    # ---- kubelet ----
    def start_kubelet(self):
        """What the configured kubelet start command does in the simulation (returns at once)."""
        r = self.exec(self.kubelet_start_command())
        if r.returncode != 0:
            raise RuntimeError(f"kubelet start on {self.name}: {r.stderr}")
        self.sim.event(self, "kubelet started")
        return int(r.stdout.strip().splitlines()[-1])

    def kubelet_pid(self):
        try:
            with open(os.path.join(self.root, "run/sim-kubelet/kubelet.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def pod_pids(self):
        out = {}
        for p in glob.glob(os.path.join(self.root, "run/sim-kubelet/pods/*.pid")):
            try:
                with open(p) as f:
                    out[os.path.basename(p)[:-4]] = json.load(f)["pid"]
            except (OSError, ValueError, KeyError):
                pass
        return out

    def stop_all(self, sig_kill=False):
        """Power off: the kubelet, its static pods and anything else started here, by PID."""
        from .kubelet import stop_pid
        timeout = 0.2 if sig_kill else 5
        pid = self.kubelet_pid()
        if pid:
            stop_pid(pid, timeout)
        for _, ppid in self.pod_pids().items():
            stop_pid(ppid, timeout)
        for f in glob.glob(os.path.join(self.root, "run/sim-kubelet/pods/*.pid")) + \
                [os.path.join(self.root, "run/sim-kubelet/kubelet.pid")]:
            if os.path.exists(f):
                os.unlink(f)
        for p in self.procs:
            p.stop(timeout)
        self.procs = []

    def ns_pids(self):
        out = sh("ip", "netns", "pids", self.ns, check=False)
        return [int(x) for x in out.split()]

    def etcd(self, **kw):
        p = os.path.join(self.root, "etc/kubernetes/pki/etcd")
        return Etcd(f"https://{self.ip}:2379", f"{p}/ca.crt", f"{p}/healthcheck-client.crt",
                    f"{p}/healthcheck-client.key", netns=self.ns, **kw)

    def admin(self, local=False):
        """A client with this node's admin.conf (through the LB, or to its own apiserver)."""
        kc = os.path.join(self.root, "etc/kubernetes/admin.conf")
        if local:
            return Client.from_kubeconfig(kc, netns=self.ns, server=f"https://{self.ip}:6443")
        return Client.from_kubeconfig(kc, netns=self.sim.lb_ns)


class Sim:
    def __init__(self, workdir, control_planes=3, workers=1, clock_file=None, env=None):
        self.dir = str(workdir)
        self.id = "%04x" % random.randrange(0x10000)
        self.prefix = f"kfs{self.id}"
        self.hub = f"{self.prefix}-hub"
        self.lb_ns = f"{self.prefix}-lb"
        self.env = {"KF_SIM_CLOCK": clock_file} if clock_file else {}
        self.env.update(env or {})
        self.namespaces = []
        self.procs = []
        self.timeline = []
        self.t0 = time.time()
        self.pki = kpki.ClusterPKI()
        self.token = None
        self.cp = [Node(self, f"cp-{i + 1}", f"{SUBNET}.{11 + i}", "control-plane") for i in range(control_planes)]
        self.workers = [Node(self, f"w-{i + 1}", f"{SUBNET}.{51 + i}", "worker") for i in range(workers)]
        self.nodes = self.cp + self.workers
        self.cpe = f"https://{LB_IP}:6443"
        self.kf_bin = os.environ.get("KF_BIN", os.path.normpath(os.path.join(BIN_DIR, "../../../build/kube-firstboot")))
        self.watchers = []

    def __enter__(self):
        try:
            self.setup_network()
        except Exception:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def event(self, node, what):
        t = time.time() - self.t0
        self.timeline.append((t, node.name if node else "-", what))

    # ---- network ----
    def _add_ns(self, name):
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def _attach(self, ns, ip, port):
        sh("ip", "-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", self.hub, "link", "set", port, "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def setup_network(self):
        self._add_ns(self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")
        self._add_ns(self.lb_ns)
        self._attach(self.lb_ns, LB_IP, "p-lb")
        for n in self.nodes:
            self._add_ns(n.ns)
            self._attach(n.ns, n.ip, "p-" + n.name)

    def cut(self, node):
        """Cut a node off the network (its link to the bridge goes down); restore() brings it back."""
        sh("ip", "-n", self.hub, "link", "set", "p-" + node.name, "down")
        self.event(node, "network cut")

    def cut_lb(self):
        """Unplug the load balancer (the control-plane endpoint stops answering: packets are dropped)."""
        sh("ip", "-n", self.hub, "link", "set", "p-lb", "down")
        self.event(None, "load balancer cut")

    def restore_lb(self):
        sh("ip", "-n", self.hub, "link", "set", "p-lb", "up")
        self.event(None, "load balancer restored")

    def restore(self, node):
        sh("ip", "-n", self.hub, "link", "set", "p-" + node.name, "up")
        self.event(node, "network restored")

    def kill(self, node):
        """Power a node off: SIGKILL its kubelet and static pods by PID."""
        node.stop_all(sig_kill=True)
        self.event(node, "killed")

    def destroy(self, node):
        """Power a machine off for good, as a terminated instance: its processes killed by PID, then its network
        namespace deleted (its address answers nothing any more, not even a refused connection)."""
        node.stop_all(sig_kill=True)
        for pid in sh("ip", "netns", "pids", node.ns, check=False).split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", node.ns, check=False)
        if node.ns in self.namespaces:
            self.namespaces.remove(node.ns)
        self.event(node, "destroyed (machine gone)")

    def kill_at_phase(self, node, phase, state="running", then=None):
        """Arm a watcher: when kube-firstboot on node reports phase in state (status.json), power the node
        off (and run then(node) if given). Returns the thread; it ends when it fired or at stop()."""
        import threading
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                if node.phase_state(phase) == state:
                    self.event(node, f"phase {phase} {state}: killing the node")
                    self.kill(node)
                    if then:
                        then(node)
                    return
                stop.wait(0.05)

        t = threading.Thread(target=watch, daemon=True)
        t.stop = stop
        t.start()
        self.watchers.append(t)
        return t

    def add_firstboot_phases(self, nodes=None):
        """Put the phases kube-firstboot recorded in each node's status.json (started/finished, second
        precision) into the timeline, ordered by time."""
        for n in nodes or self.nodes:
            st = n.firstboot_status() or {}
            for p in st.get("phases") or []:
                for key, what in (("started", "started"), ("finished", p.get("state", "finished"))):
                    if p.get(key):
                        try:
                            t = simclock.parse_rfc3339(p[key]) - self.t0
                        except ValueError:
                            continue
                        self.timeline.append((max(t, 0.0), n.name, f"phase {p.get('name')} {what}"))
        self.timeline.sort(key=lambda e: e[0])

    def wait_phase(self, node, phase, states=("done", "skipped"), timeout=300):
        """Wait until kube-firstboot on node reports phase in one of states; returns the state.
        Raises if the phase (or the run) failed meanwhile."""
        def check():
            st = node.phase_state(phase)
            if st == "failed":
                raise AssertionError(f"{node.name}: phase {phase} failed: {node.firstboot_status()}")
            return st if st in states else None
        return wait_until(check, timeout, 0.2, f"{node.name}: phase {phase} in {states}")

    def boot(self, nodes, user_data, args=("run",)):
        """Every node gets the same user-data seed and runs kube-firstboot at the same moment.
        Returns {node name: CompletedProcess}."""
        for n in nodes:
            n.write_seed(user_data)
        with concurrent.futures.ThreadPoolExecutor(len(nodes)) as ex:
            futs = {n.name: ex.submit(n.firstboot, *args) for n in nodes}
            return {k: f.result() for k, f in futs.items()}

    def objects(self, resource, ns=None, group=None):
        """The cluster's objects of one kind, read through the load balancer: {name: object}."""
        return {o["metadata"]["name"]: o for o in self.client().list(resource, ns, group)}

    # ---- load balancer ----
    def start_lb(self):
        d = os.path.join(self.dir, "haproxy")
        os.makedirs(d, exist_ok=True)
        ca = os.path.join(d, "ca.crt")
        with open(ca, "wb") as f:
            f.write(self.pki.ca_pem)
        servers = "\n".join(f"    server {n.name} {n.ip}:6443" for n in self.cp)
        cfg = f"""global
    log stdout format raw local0 info
    maxconn 512
    stats socket {d}/admin.sock mode 600 level admin
defaults
    mode tcp
    log global
    option tcplog
    # As kubeadm's HA documentation configures haproxy: a connection refused by a stopping apiserver is
    # retried on another before the health check has marked it down.
    option redispatch
    retries 1
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend kube-apiserver
    bind {LB_IP}:6443
    default_backend kube-apiserver
backend kube-apiserver
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz
    http-check expect status 200
    default-server check check-ssl verify required ca-file {ca} inter 1s fall 2 rise 1
{servers}
"""
        with open(os.path.join(d, "haproxy.cfg"), "w") as f:
            f.write(cfg)
        sh("haproxy", "-c", "-q", "-f", os.path.join(d, "haproxy.cfg"))
        p = Proc("haproxy", ["haproxy", "-db", "-f", os.path.join(d, "haproxy.cfg")],
                 os.path.join(self.dir, "logs", "haproxy.log"), netns=self.lb_ns)
        self.procs.append(p)
        self.event(None, f"haproxy on {LB_IP}:6443 (backends {', '.join(n.ip for n in self.cp)})")
        return p

    def lb_servers(self):
        """{server name: state} from haproxy's stats socket ('UP'/'DOWN'...)."""
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(self.dir, "haproxy", "admin.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        out = {}
        for line in data.decode().splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == "kube-apiserver" and f[1] not in ("FRONTEND", "BACKEND"):
                out[f[1]] = f[17]
        return out

    def client(self, netns=None, **kw):
        """Super-admin client through the load balancer."""
        cert, key = self.pki.client_pems("kubernetes-super-admin", "system:masters")
        return Client(self.cpe, self.pki.ca_pem, cert, key, netns=netns or self.lb_ns, **kw)

    # ---- etcd ----
    def etcd_members(self, via=None):
        via = via or next(n for n in self.cp if n.kubelet_pid())
        return via.etcd(timeout=5).members()

    def wait_etcd_voters(self, n, timeout=60, via=None):
        def ok():
            ms = self.etcd_members(via)
            return len([m for m in ms if not m.get("isLearner") and m.get("name")]) == n and ms
        r = wait_until(ok, timeout, 0.3, f"etcd with {n} started voting members")
        self.event(None, f"etcd has {n} voters")
        return r

    # ---- the kubeadm stand-in ----
    def prepare_control_plane(self, node, etcd_initial_cluster, etcd_state):
        r = node.root
        self.pki.write_node(os.path.join(r, "etc/kubernetes/pki"), node.name, node.ip, cpe_ip=LB_IP)
        manifests.write_control_plane_kubeconfigs(r, self.pki, node.name, f"https://{node.ip}:6443", self.cpe)
        manifests.write_kubelet_files(r, [f"--node-ip={node.ip}"])
        manifests.write_static_pod(r, manifests.etcd(node.name, node.ip, etcd_initial_cluster, etcd_state))
        for pod in (manifests.apiserver(node.ip), manifests.controller_manager(), manifests.scheduler()):
            manifests.write_static_pod(r, pod)
        self.event(node, "certs, kubeconfigs, static pod manifests written")

    def kubeadm_init(self, node):
        self.prepare_control_plane(node, f"{node.name}=https://{node.ip}:2380", "new")
        manifests.write_kubelet_kubeconfig(node.root, self.pki, node.name, f"https://{node.ip}:6443")
        node.start_kubelet()
        c = node.admin(local=True)
        wait_until(lambda: c.healthz("/readyz")[0] == 200, 60, 0.3, f"apiserver on {node.name}")
        self.event(node, "control plane up (wait-control-plane)")
        self.upload_cluster_objects(node)
        self.mark_control_plane(node)
        self.event(node, "init done")

    def upload_cluster_objects(self, node):
        """The objects kubeadm init creates: token, RBAC for joiners, cluster-info (spec section 3, 7)."""
        c = Client.from_kubeconfig(
            os.path.join(node.root, "etc/kubernetes/super-admin.conf"), netns=node.ns,
            server=f"https://{node.ip}:6443")
        rb = "rbac.authorization.k8s.io/v1"
        g = "system:bootstrappers:kubeadm:default-node-token"
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        if self.token:  # the token the user-data carries
            tid, tsec = self.token.split(".")
        else:
            tid = "".join(random.choice(alphabet) for _ in range(6))
            tsec = "".join(random.choice(alphabet) for _ in range(16))
            self.token = f"{tid}.{tsec}"
        data = {"token-id": tid, "token-secret": tsec, "expiration": simclock.rfc3339(simclock.now() + 86400),
                "usage-bootstrap-signing": "true", "usage-bootstrap-authentication": "true",
                "auth-extra-groups": g, "description": "The default bootstrap token generated by 'kubeadm init'."}
        c.create("secrets", {"apiVersion": "v1", "kind": "Secret", "type": bootstrap.SECRET_TYPE,
                             "metadata": {"name": f"bootstrap-token-{tid}", "namespace": "kube-system"},
                             "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}},
                 "kube-system")

        def crb(name, role, kind, subj):
            c.create("clusterrolebindings", {"metadata": {"name": name},
                                             "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                         "kind": "ClusterRole", "name": role},
                                             "subjects": [{"kind": kind, "apiGroup": "rbac.authorization.k8s.io",
                                                           "name": subj}]}, group=rb)

        crb("kubeadm:cluster-admins", "cluster-admin", "Group", "kubeadm:cluster-admins")
        c.create("clusterroles", {"metadata": {"name": "kubeadm:get-nodes"}, "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]}, group=rb)
        crb("kubeadm:get-nodes", "kubeadm:get-nodes", "Group", g)
        crb("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", "Group", g)
        crb("kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "Group", g)
        crb("kubeadm:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group", "system:nodes")
        kc = ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
              f"{base64.b64encode(self.pki.ca_pem).decode()}\n    server: {self.cpe}\n  name: \"\"\n"
              "contexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n")
        c.create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": kc}}, "kube-public")
        c.create("roles", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"}, "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"]}]},
            "kube-public", rb)
        c.create("rolebindings", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"},
                                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": "kubeadm:bootstrap-signer-clusterinfo"},
                                  "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                                                "name": "system:anonymous"}]}, "kube-public", rb)
        self.event(node, f"bootstrap token {tid}.**** and joiner RBAC uploaded")

    def mark_control_plane(self, node):
        c = Client.from_kubeconfig(os.path.join(node.root, "etc/kubernetes/super-admin.conf"
                                                if os.path.exists(os.path.join(node.root,
                                                                               "etc/kubernetes/super-admin.conf"))
                                                else "etc/kubernetes/admin.conf"), netns=node.ns,
                                   server=f"https://{node.ip}:6443")
        wait_until(lambda: c.exists("nodes", node.name), 60, 0.3, f"Node {node.name} registered")
        c.patch("nodes", node.name, {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": "",
                                                             "node.kubernetes.io/exclude-from-external-load-balancers":
                                                             ""}},
                                     "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane",
                                                          "effect": "NoSchedule"}]}}, kind="strategic")
        self.event(node, "marked control-plane (label, taint)")

    def kubeadm_join_control_plane(self, node, via=None, timeout=120):
        """Stacked-etcd control-plane join with learner mode: add learner, start, promote."""
        via = via or self.cp[0]
        r = node.root
        self.pki.write_node(os.path.join(r, "etc/kubernetes/pki"), node.name, node.ip, cpe_ip=LB_IP)
        manifests.write_control_plane_kubeconfigs(r, self.pki, node.name, f"https://{node.ip}:6443", self.cpe)
        for pod in (manifests.apiserver(node.ip), manifests.controller_manager(), manifests.scheduler()):
            manifests.write_static_pod(r, pod)
        manifests.write_bootstrap_kubeconfig(r, self.pki, f"https://{node.ip}:6443", self.token)
        manifests.write_kubelet_files(r, [f"--node-ip={node.ip}"])
        node.start_kubelet()
        e = via.etcd(timeout=15)
        peer = f"https://{node.ip}:2380"
        end = time.time() + timeout
        # Learner add, retried on the errors etcd gives while busy (one learner at a time, 5 s after a
        # promotion), and on a timeout: a conf change raft dropped leaves the call hanging, so ask again
        # what the members are (TESTENV section 1).
        while True:
            try:
                ms = e.members()
                if any(peer in m.get("peerURLs", []) for m in ms):
                    break
                e.member_add([peer], learner=True, timeout=5)
                self.event(node, "etcd learner added")
                break
            except (EtcdError, OSError) as ex:
                if time.time() > end:
                    raise
                self.event(node, f"etcd member add: {getattr(ex, 'message', None) or ex}; retrying")
                time.sleep(1)
        ms = wait_until(lambda: e.members(), 30, 0.5, "etcd member list")
        ic = ",".join(f"{(m.get('name') or node.name) if peer in m.get('peerURLs', []) else (m.get('name') or '%x' % int(m['ID']))}="
                      f"{m['peerURLs'][0]}" for m in ms)
        manifests.write_static_pod(r, manifests.etcd(node.name, node.ip, ic, "existing"))
        mid = next(m["ID"] for m in ms if peer in m.get("peerURLs", []))
        while True:
            try:
                e.member_promote(mid, timeout=5)
                self.event(node, "etcd learner promoted")
                break
            except (EtcdError, OSError) as ex:
                msg = getattr(ex, "message", "") or ""
                if msg.endswith("can only promote a learner member"):
                    break  # promoted already (e.g. by a call that timed out)
                if time.time() > end:
                    raise
                time.sleep(0.5)
        c = node.admin(local=True)
        wait_until(lambda: c.healthz("/readyz")[0] == 200, 60, 0.3, f"apiserver on {node.name}")
        wait_until(lambda: os.path.exists(os.path.join(r, "etc/kubernetes/kubelet.conf")), 60, 0.3,
                   f"TLS bootstrap on {node.name}")
        os.unlink(os.path.join(r, "etc/kubernetes/bootstrap-kubelet.conf"))
        self.mark_control_plane(node)
        self.event(node, "control-plane join done")

    def kubeadm_join_worker(self, node, timeout=60, kubelet_flags=()):
        manifests.write_bootstrap_kubeconfig(node.root, self.pki, self.cpe, self.token)
        manifests.write_kubelet_files(node.root, [f"--node-ip={node.ip}", *kubelet_flags])
        with open(os.path.join(node.root, "etc/kubernetes/pki/ca.crt") if os.path.isdir(
                os.path.join(node.root, "etc/kubernetes/pki")) else os.devnull, "wb") as f:
            f.write(self.pki.ca_pem)
        node.start_kubelet()
        wait_until(lambda: os.path.exists(os.path.join(node.root, "etc/kubernetes/kubelet.conf")), timeout, 0.3,
                   f"TLS bootstrap on {node.name}")
        self.event(node, "TLS bootstrap done")
        c = self.client()
        wait_until(lambda: c.exists("nodes", node.name), timeout, 0.3, f"Node {node.name}")
        self.event(node, "worker join done")

    def wait_nodes_ready(self, names, timeout=60, netns=None):
        c = self.client(netns)

        def ready():
            for n in names:
                o = c.get("nodes", n)
                conds = {x["type"]: x["status"] for x in (o.get("status") or {}).get("conditions") or []}
                if conds.get("Ready") != "True":
                    return False
            return True
        wait_until(ready, timeout, 0.5, f"nodes {names} Ready")

    # ---- teardown ----
    def stop(self):
        errors = []
        for w in self.watchers:
            w.stop.set()
        # Every node at once: a member stopping gracefully may wait out its own timeout (etcd hands over its
        # leadership to peers that are stopping too), and one node after the other added those waits up.
        def stop_node(n):
            try:
                n.stop_all()
            except Exception as e:  # noqa: BLE001 - keep tearing down
                errors.append(f"{n.name}: {e}")
        with concurrent.futures.ThreadPoolExecutor(max(1, len(self.nodes))) as ex:
            list(ex.map(stop_node, self.nodes))
        for p in self.procs:
            p.stop()
        self.procs = []
        def live(ns):
            """PIDs in ns that have not exited (a zombie has exited and only waits for its parent)."""
            out = []
            for pid in sh("ip", "netns", "pids", ns, check=False).split():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().split(") ")[1][0] != "Z":
                            out.append(pid)
                except (OSError, IndexError):
                    pass
            return out

        deadline = time.time() + 3  # processes killed by PID a moment ago may still be exiting
        while time.time() < deadline and any(live(ns) for ns in self.namespaces):
            time.sleep(0.1)
        for ns in reversed(self.namespaces):
            pids = live(ns)
            for pid in pids:  # a process we did not track (should not happen): reported, then killed
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:200]
                    with open(f"/proc/{pid}/status") as f:
                        st = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
                    cmd += f" [state {st.get('State', '?').strip()}, ppid {st.get('PPid', '?').strip()}]"
                except OSError:
                    cmd = "?"
                errors.append(f"process {pid} left in {ns}: {cmd}")
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        for n in self.nodes:  # etcd preallocates 64 MB of WAL per member: keep the logs, not the data
            shutil.rmtree(os.path.join(n.root, "var/lib/etcd"), ignore_errors=True)
        if errors:
            raise RuntimeError("teardown: " + "; ".join(errors))

    def leftovers(self):
        """What this simulation left behind: namespaces, processes, mounts (empty lists when clean)."""
        nss = [n for n in sh("ip", "netns", "list", check=False).split() if n.startswith(self.prefix)]
        procs = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if self.dir in cmd or self.prefix in cmd:
                procs.append(f"{pid}: {cmd[:200]}")
        with open("/proc/mounts") as f:
            mounts = [ln.strip() for ln in f if self.prefix in ln or self.dir in ln]
        return {"namespaces": nss, "processes": procs, "mounts": mounts}

    def print_timeline(self, out=print):
        for t, node, what in self.timeline:
            out(f"  {t:6.1f}s  {node:<5} {what}")

