# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot preflight` (firstboot/host/preflight.c): kubeadm's check names and ignorePreflightErrors over a
fake root and /proc tree, ports held in a network namespace the test makes, a CRI socket the test listens
on, the tools on a $PATH the test fills, CPUs limited with taskset and the clock moved with faketime."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import uuid

import pytest

CLUSTER_TOOLS = ["ip", "iptables", "mount", "nsenter", "ebtables", "ethtool", "socat", "tc", "touch"]


class Node:
    """A machine as preflight sees it: files under root, /proc and /sys under proc, tools in bin."""

    def __init__(self, base, kf_bin):
        self.kf_bin = kf_bin
        self.root, self.proc, self.bin = base / "root", base / "proc-root", base / "bin"
        for d in (self.root, self.proc, self.bin):
            d.mkdir()
        self.write_proc("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
        self.write_proc("proc/meminfo", "MemTotal:        8048000 kB\n")
        self.write_proc("proc/sys/net/ipv4/ip_forward", "1\n")
        self.write_proc("proc/sys/net/ipv6/conf/default/forwarding", "1\n")
        self.write_proc("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
        for t in CLUSTER_TOOLS + ["kubelet"]:
            self.tool(t, "#!/bin/sh\necho 'Kubernetes v1.34.2'\n")
        self.cri = None
        self.config = base / "config.yaml"
        self.config.write_text("apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n")

    def write_proc(self, rel, text):
        p = self.proc / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def tool(self, name, body):
        p = self.bin / name
        p.write_text(body)
        p.chmod(0o755)

    def listen_cri(self, path="var/run/containerd/containerd.sock"):
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        self.cri = socket.socket(socket.AF_UNIX)
        # Bound by a relative name: under pytest-xdist the absolute path passes the 108 bytes of sun_path.
        cwd = os.getcwd()
        os.chdir(p.parent)
        try:
            self.cri.bind(p.name)
        finally:
            os.chdir(cwd)
        self.cri.listen(8)

    def close(self):
        if self.cri:
            self.cri.close()

    def run(self, *args, netns=None, prefix=(), env=None, timeout=60):
        vg = []
        if os.environ.get("KF_VALGRIND"):
            # As the kf fixture: any memory error or leak turns into exit code 99, which no test expects.
            vg = [shutil.which("valgrind"), "-q", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite,indirect"]
            timeout *= 4
        argv = [shutil.which(a) or a for a in prefix] + vg + [self.kf_bin, "preflight", "--no-metadata", "--config", str(self.config),
                               "--root", str(self.root), "--proc-root", str(self.proc), "--allow-host"] + [str(a) for a in args]
        if netns:
            argv = [shutil.which("ip"), "netns", "exec", netns] + argv
        e = dict(os.environ, PATH=str(self.bin))
        e.update(env or {})
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e)


def findings(p):
    """{check name: "ERROR" or "WARNING"} from the output lines."""
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("[ERROR ") or line.startswith("[WARNING "):
            kind, rest = line[1:].split(" ", 1)
            out[rest.split("]", 1)[0]] = kind
    return out


@pytest.fixture
def node(tmp_path, kf_bin):
    n = Node(tmp_path, kf_bin)
    yield n
    n.close()


def can_netns():
    return os.geteuid() == 0 and shutil.which("ip")


@pytest.fixture
def netns():
    """A network namespace of the test's own (only lo, up), deleted afterwards."""
    if not can_netns():
        pytest.skip("needs root and iproute2 for a network namespace")
    name = f"kfpf-{uuid.uuid4().hex[:8]}"
    p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot make a network namespace: {p.stderr.strip()}")
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


LISTENER = r"""
import socket, sys, time
socks = []
for spec in sys.argv[1:]:
    host, port = spec.rsplit(":", 1)
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam)
    s.bind((host, int(port)))
    s.listen(1)
    socks.append(s)
print("ready", flush=True)
time.sleep(600)
"""


class Listeners:
    """Sockets listening inside a network namespace, in one process stopped by its PID."""

    def __init__(self, netns, *addrs):
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, "/usr/bin/python3", "-c", LISTENER] + list(addrs),
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        self.proc.stdout.close()


def test_help(kf):
    p = kf("preflight", "--help", check_rc=0)
    assert "ignorePreflightErrors" in p.stdout and "--proc-root" in p.stdout
    p = kf("--help", check_rc=0)
    assert "preflight" in p.stdout


def test_clean_worker_passes(node, netns):
    node.listen_cri()
    p = node.run("--role", "worker", netns=netns)
    assert p.returncode == 0, p.stdout + p.stderr
    assert findings(p) == {}
    assert "for role worker: 0 errors, 0 warnings" in p.stdout


def test_ports_in_use(node, netns):
    node.listen_cri()
    held = Listeners(netns, "0.0.0.0:6443", "127.0.0.1:2380", "[::1]:10257")
    try:
        p = node.run("--role", "init", netns=netns)
    finally:
        held.stop()
    f = findings(p)
    assert p.returncode == 1
    # A listener on one address still takes the port from kubeadm's wildcard bind.
    assert f == {"Port-6443": "ERROR", "Port-2380": "ERROR", "Port-10257": "ERROR"}, p.stdout
    assert ("[ERROR Port-6443]: port 6443 is in use (by another kube-apiserver?): stop what listens on it "
            "(or add Port-6443 to nodeRegistration.ignorePreflightErrors)") in p.stdout
    assert "for role init: 3 errors, 0 warnings" in p.stdout
    # Free again: the same namespace passes.
    p = node.run("--role", "init", netns=netns)
    assert p.returncode == 0, p.stdout
    # A worker checks only the kubelet's port.
    held = Listeners(netns, "0.0.0.0:6443", "0.0.0.0:10250")
    try:
        p = node.run("--role", "worker", netns=netns)
    finally:
        held.stop()
    assert findings(p) == {"Port-10250": "ERROR"}


def test_bind_port_from_configuration(node, netns):
    node.listen_cri()
    node.config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                           "localAPIEndpoint: {bindPort: 7443}\n")
    held = Listeners(netns, "0.0.0.0:7443", "0.0.0.0:6443")
    try:
        p = node.run("--role", "init", netns=netns)
    finally:
        held.stop()
    assert findings(p) == {"Port-7443": "ERROR"}


def test_swap_and_ip_forward_from_fake_proc(node, netns):
    node.listen_cri()
    node.write_proc("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swap.img  file  2097148  0  -2\n")
    node.write_proc("proc/sys/net/ipv4/ip_forward", "0\n")
    p = node.run("--role", "init", netns=netns)
    assert p.returncode == 1
    assert findings(p) == {"Swap": "ERROR", "FileContent--proc-sys-net-ipv4-ip_forward": "ERROR"}
    assert "swap is on (1 area, /proc/swaps)" in p.stdout
    assert "/proc/sys/net/ipv4/ip_forward is '0', not 1" in p.stdout

    # ignorePreflightErrors from the configuration and from the flag, any case: warnings, exit 0.
    node.config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                           "nodeRegistration: {ignorePreflightErrors: [swap]}\n")
    p = node.run("--role", "init", "--ignore-preflight-errors", "FILECONTENT--proc-sys-net-ipv4-ip_forward",
                 netns=netns)
    assert p.returncode == 0, p.stdout
    assert findings(p) == {"Swap": "WARNING", "FileContent--proc-sys-net-ipv4-ip_forward": "WARNING"}
    assert "(an error, ignored: Swap is in ignorePreflightErrors)" in p.stdout

    # failSwapOn: false makes swap a plain warning, as kubeadm has it.
    node.config.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                           "failSwapOn: false\n")
    p = node.run("--role", "worker", netns=netns)
    assert findings(p) == {"Swap": "WARNING"}
    assert p.returncode == 0


def test_ipv6_cluster_checks_ipv6_forwarding(node, netns):
    node.listen_cri()
    node.write_proc("proc/sys/net/ipv6/conf/default/forwarding", "0\n")
    node.config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                           "networking: {serviceSubnet: 'fd00:96::/108', podSubnet: 'fd00:244::/56'}\n")
    p = node.run("--role", "init", netns=netns)
    assert findings(p) == {"FileContent--proc-sys-net-ipv6-conf-default-forwarding": "ERROR"}


def test_cri_socket_absent_and_present(node, netns):
    p = node.run("--role", "worker", netns=netns)
    assert findings(p) == {"CRI": "ERROR"}
    assert "/var/run/containerd/containerd.sock: No such file or directory" in p.stdout
    node.config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
                           "nodeRegistration: {criSocket: 'unix:///run/crio/crio.sock'}\n"
                           "discovery: {bootstrapToken: {apiServerEndpoint: '10.0.0.1:6443'}}\n")
    node.listen_cri("run/crio/crio.sock")
    p = node.run("--role", "worker", netns=netns)
    assert p.returncode == 0, p.stdout
    # A stale socket file nobody listens on.
    node.cri.close()
    node.cri = None
    p = node.run("--role", "worker", netns=netns)
    assert findings(p) == {"CRI": "ERROR"}
    assert "connecting to /run/crio/crio.sock: Connection refused" in p.stdout


def test_tools_and_kubelet(node, netns):
    node.listen_cri()
    (node.bin / "iptables").unlink()
    (node.bin / "ethtool").unlink()
    node.config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                           "kubernetesVersion: v1.33.5\n")
    p = node.run("--role", "init", netns=netns)
    # kubeadm's severities: iptables is mandatory, ethtool only recommended; the fake kubelet says 1.34.
    assert findings(p) == {"FileExisting-iptables": "ERROR", "FileExisting-ethtool": "WARNING",
                           "KubeletVersion": "ERROR"}, p.stdout
    assert "the kubelet (Kubernetes v1.34.2) is newer than the control plane (v1.33.5)" in p.stdout
    (node.bin / "kubelet").unlink()
    p = node.run("--role", "worker", "--ignore-preflight-errors", "FileExisting-iptables", netns=netns)
    assert findings(p) == {"FileExisting-iptables": "WARNING", "FileExisting-ethtool": "WARNING",
                           "KubeletVersion": "ERROR"}
    assert "kubelet not found in the system path" in p.stdout


def test_left_by_another_cluster(node, netns):
    node.listen_cri()
    m = node.root / "etc/kubernetes/manifests"
    m.mkdir(parents=True)
    (m / "kube-apiserver.yaml").write_text("x")
    (node.root / "var/lib/etcd/member").mkdir(parents=True)
    p = node.run("--role", "init", netns=netns)
    assert findings(p) == {"FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml": "ERROR",
                           "DirAvailable--var-lib-etcd": "ERROR"}
    assert "/var/lib/etcd is not empty (it holds 'member')" in p.stdout
    (node.root / "etc/kubernetes/pki").mkdir(parents=True)
    (node.root / "etc/kubernetes/pki/ca.crt").write_text("x")
    (node.root / "etc/kubernetes/bootstrap-kubelet.conf").write_text("x")
    p = node.run("--role", "worker", netns=netns)
    assert findings(p) == {"FileAvailable--etc-kubernetes-bootstrap-kubelet.conf": "ERROR",
                           "FileAvailable--etc-kubernetes-pki-ca.crt": "ERROR"}


def test_ignore_all_and_its_rule(node, netns):
    node.write_proc("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/vda2 partition 1 0 -2\n")
    p = node.run("--role", "init", "--ignore-preflight-errors", "all", netns=netns)
    assert p.returncode == 0, p.stdout
    assert set(findings(p).values()) == {"WARNING"} and "CRI" in findings(p) and "Swap" in findings(p)
    # As kubeadm: 'all' must stand alone.
    p = node.run("--role", "init", "--ignore-preflight-errors", "all,Swap", netns=netns)
    assert p.returncode == 2
    assert "don't name individual checks when 'all' is used" in p.stderr


def test_role_auto_needs_a_role(node):
    p = node.run()
    assert p.returncode == 2
    assert "pass --role" in p.stderr


def test_control_plane_cpus(node, netns):
    if not shutil.which("taskset"):
        pytest.skip("taskset (util-linux) is not installed")
    node.listen_cri()
    node.write_proc("proc/meminfo", "MemTotal:        1536000 kB\n")
    p = node.run("--role", "control-plane", netns=netns, prefix=["taskset", "-c", "0"])
    assert findings(p) == {"NumCPU": "ERROR", "Mem": "ERROR"}, p.stdout
    assert "the number of available CPUs 1 is less than the required 2" in p.stdout
    assert "the system RAM (1500 MB) is less than the minimum 1700 MB" in p.stdout
    # Workers have no such minimum.
    p = node.run("--role", "worker", netns=netns, prefix=["taskset", "-c", "0"])
    assert p.returncode == 0, p.stdout


def test_clock_before_the_build(node, netns):
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libs:
        pytest.skip("libfaketime is not installed (package faketime)")
    node.listen_cri()
    p = node.run("--role", "worker", netns=netns,
                 env={"LD_PRELOAD": libs[0], "FAKETIME": "@2001-02-03 12:00:00", "TZ": "UTC"})
    assert findings(p) == {"Clock": "ERROR"}, p.stdout + p.stderr
    assert "the clock says 2001-02-03 12:00:0" in p.stdout and "fix the time (NTP" in p.stdout
    assert p.returncode == 1
