# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot reset` (firstboot/flows/reset.c) on node roots laid out as kubeadm and kube-firstboot leave
them, against real etcd members on loopback: what is deleted and what is left, --dry-run touching nothing, the
refusal without --force, a worker (no etcd), this node's member removed when the other voters stay a quorum, and
the refusal (nothing changed, exit 3) when they would not."""
import base64
import hashlib
import os
import shutil

import yaml

from test_etcd import etcd, free_port, members, wait_for  # noqa: F401 - etcd is a fixture used below
from test_etcd_join import healthy, join

KUBECONFIGS = ["admin.conf", "super-admin.conf", "kubelet.conf", "bootstrap-kubelet.conf",
               "controller-manager.conf", "scheduler.conf"]
# What kube-firstboot and kubeadm write, and reset must delete (node paths).
DELETED = ["/etc/kubernetes/manifests/kube-apiserver.yaml", "/etc/kubernetes/manifests/etcd.yaml",
           "/var/lib/kubelet/config.yaml", "/var/lib/kubelet/kubeadm-flags.env",
           "/var/lib/kubelet/pki/kubelet-client-current.pem", "/etc/kubernetes/pki/ca.crt",
           "/etc/kubernetes/pki/etcd/ca.crt", "/var/lib/etcd/member/snap/db",
           "/var/lib/kube-firstboot/journal.json", "/var/lib/kube-firstboot/done",
           "/var/lib/kube-firstboot/join-info.json", "/run/kube-firstboot/status.json",
           "/run/cluster-api/bootstrap-success.complete"] + [f"/etc/kubernetes/{k}" for k in KUBECONFIGS]
# What kubeadm reset leaves, and so do we.
KEPT = ["/etc/cni/net.d/10-bridge.conf", "/etc/kubernetes/tmp/kubeadm-backup/x", "/etc/kubernetes/other.yaml",
        "/run/kube-firstboot/secrets/bootstrap-token", "/root/.kube/config", "/etc/kube-firstboot/10-image.yaml"]
DIRS_KEPT = ["/etc/kubernetes/manifests", "/var/lib/kubelet", "/etc/kubernetes/pki", "/var/lib/etcd",
             "/var/lib/kube-firstboot"]


def put(root, path, data="x\n"):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


def exists(root, path):
    return os.path.lexists(os.path.join(str(root), path.lstrip("/")))


def snapshot(root):
    out = {}
    for d, dirs, files in os.walk(str(root)):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, str(root))
            if os.path.islink(p) or os.path.isdir(p):
                out[rel] = "dir" if os.path.isdir(p) else os.readlink(p)
            else:
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def etcd_manifest(name, client_port, peer_port, initial_cluster):
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd", "namespace": "kube-system"},
        "spec": {"containers": [{"name": "etcd", "command": [
            "etcd", f"--name={name}", f"--advertise-client-urls=https://127.0.0.1:{client_port}",
            f"--initial-advertise-peer-urls=https://127.0.0.1:{peer_port}", f"--initial-cluster={initial_cluster}",
            "--data-dir=/var/lib/etcd", "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"]}],
            "volumes": [{"name": "etcd-data", "hostPath": {"path": "/var/lib/etcd", "type": "DirectoryOrCreate"}},
                        {"name": "etcd-certs", "hostPath": {"path": "/etc/kubernetes/pki/etcd"}}]}})


def kubeconfig(etcd):
    """An admin.conf with real PEMs (the etcd test CA's): nothing is sent with it here."""
    def b64(name):
        return base64.b64encode(open(f"{etcd.dir}/pki/{name}", "rb").read()).decode()
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "admin@k",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1",
                                               "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": b64("client.crt"),
                                             "client-key-data": b64("client.key")}}],
        "contexts": [{"name": "admin@k", "context": {"cluster": "k", "user": "admin"}}]})


def node_root(tmp_path, name, etcd=None, ports=None, initial_cluster=None):
    """A node root as a control plane (with etcd's manifest and credentials) or a worker leaves it."""
    root = tmp_path / f"root-{name}"
    for p in DELETED + KEPT:
        put(root, p)
    put(root, "/var/lib/kubelet/pki/kubelet-client-2026.pem")
    os.symlink("/etc/kube-firstboot", os.path.join(str(root), "var/lib/kubelet/pki/abs-link"))
    if etcd:
        put(root, "/etc/kubernetes/manifests/etcd.yaml", etcd_manifest(name, ports[0], ports[1], initial_cluster))
        for src, dst in (("ca.crt", "ca.crt"), ("client.crt", "healthcheck-client.crt"),
                         ("client.key", "healthcheck-client.key")):
            put(root, f"/etc/kubernetes/pki/etcd/{dst}", open(f"{etcd.dir}/pki/{src}").read())
        put(root, "/etc/kubernetes/admin.conf", kubeconfig(etcd))
    else:
        os.unlink(os.path.join(str(root), "etc/kubernetes/manifests/etcd.yaml"))
        shutil.rmtree(os.path.join(str(root), "var/lib/etcd"))
        os.unlink(os.path.join(str(root), "etc/kubernetes/admin.conf"))
    return root


def assert_reset(root, worker=False):
    for p in DELETED:
        assert not exists(root, p), p
    for p in KEPT + DIRS_KEPT:
        assert exists(root, p) or (worker and p == "/var/lib/etcd"), p
    assert os.listdir(os.path.join(str(root), "var/lib/kubelet")) == []
    assert exists(root, "/etc/kube-firstboot/10-image.yaml")  # the symlink's target, outside what was emptied


def cp1_ports(kf, etcd):
    row = [r for r in members(kf, etcd).values() if r[2] == "cp-1"][0]
    return int(etcd.url.rsplit(":", 1)[1]), int(row[3].rsplit(":", 1)[1])


def test_single_control_plane_reset_removes_what_kubeadm_removes(kf, etcd, tmp_path):
    healthy(kf, etcd)
    ports = cp1_ports(kf, etcd)
    root = node_root(tmp_path, "cp-1", etcd, ports, f"cp-1=https://127.0.0.1:{ports[1]}")
    p = kf("reset", "--force", root=root, check_rc=0)
    assert_reset(root)
    # The last member is left, as kubeadm leaves it; its data dir is emptied all the same.
    assert "only remaining etcd member in the etcd cluster, skip removing it" in p.stdout, p.stdout
    assert len(members(kf, etcd)) == 1
    lines = [line for line in p.stdout.splitlines() if line.startswith("[reset]")]
    assert lines[-5:] == [
        "[reset] Deleted contents of the etcd data directory: [/var/lib/etcd]",
        "[reset] Deleted contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki]",
        "[reset] Deleted files: [" + " ".join(f"/etc/kubernetes/{k}" for k in KUBECONFIGS) + "]",
        "[reset] Deleted kube-firstboot's state (journal, done marker, join-info): [/var/lib/kube-firstboot]",
        "[reset] Deleted kube-firstboot's status files: [/run/kube-firstboot/status.json "
        "/run/cluster-api/bootstrap-success.complete]"], p.stdout
    assert "Not stopping the kubelet: under --root" in p.stdout
    # A second reset finds everything done.
    kf("reset", "--force", root=root, check_rc=0)
    # --cleanup-tmp-dir empties /etc/kubernetes/tmp too.
    p = kf("reset", "--force", "--cleanup-tmp-dir", root=root, check_rc=0)
    assert not exists(root, "/etc/kubernetes/tmp/kubeadm-backup") and exists(root, "/etc/kubernetes/tmp")
    assert "/etc/kubernetes/tmp]" in p.stdout


def test_dry_run_touches_nothing_and_says_each_action(kf, etcd, tmp_path):
    healthy(kf, etcd)
    ports = cp1_ports(kf, etcd)
    root = node_root(tmp_path, "cp-1", etcd, ports, f"cp-1=https://127.0.0.1:{ports[1]}")
    before = snapshot(root)
    p = kf("reset", "--dry-run", "--delete-node", "--cleanup-tmp-dir", root=root, check_rc=0)
    assert snapshot(root) == before
    lines = [line for line in p.stdout.splitlines() if line.startswith("[reset]")]
    assert [line.split(":")[0] for line in lines] == [
        "[reset] Dry run",
        "[reset] Would skip removing the etcd member",
        "[reset] Would delete the Node cp-1 (with /etc/kubernetes/admin.conf)",
        "[reset] Would remove the static pod manifests [/etc/kubernetes/manifests/etcd.yaml "
        "/etc/kubernetes/manifests/kube-apiserver.yaml] and not wait for their pods to stop (under --root "
        "without --allow-host)",
        "[reset] Would stop the kubelet service ('systemctl disable --now kubelet')",
        "[reset] Would delete contents of the etcd data directory",
        "[reset] Would delete contents of directories",
        "[reset] Would delete files",
        "[reset] Would delete kube-firstboot's state (journal, done marker, join-info)",
        "[reset] Would delete kube-firstboot's status files"], p.stdout
    assert "[/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki /etc/kubernetes/tmp]" in p.stdout


def test_refused_without_force(kf, tmp_path):
    root = node_root(tmp_path, "w-1")
    before = snapshot(root)
    p = kf("reset", root=root, check_rc=2)
    assert "pass --force" in p.stderr and "--dry-run" in p.stderr, p.stderr
    assert snapshot(root) == before
    p = kf("reset", "--force", "extra", root=root, check_rc=2)
    assert snapshot(root) == before
    p = kf("reset", "--help", check_rc=0)
    for words in ("--force", "--dry-run", "--delete-node", "--cleanup-tmp-dir", "Left as they are",
                  "quorum", "Exit codes"):
        assert words in p.stdout, words


def test_worker(kf, tmp_path):
    root = node_root(tmp_path, "w-1")
    before = snapshot(root)
    # A worker has no admin.conf: --delete-node is refused before anything is touched.
    p = kf("reset", "--force", "--delete-node", root=root, check_rc=2)
    assert "--delete-node needs /etc/kubernetes/admin.conf" in p.stderr, p.stderr
    assert snapshot(root) == before
    p = kf("reset", "--force", root=root, check_rc=0)
    assert "No etcd member on this node" in p.stdout
    assert "etcd data directory" not in p.stdout  # no /var/lib/etcd on a worker
    assert_reset(root, worker=True)


def test_member_removed_when_the_other_voters_stay_a_quorum(kf, etcd, tmp_path):
    healthy(kf, etcd)
    ports = (free_port(), free_port())
    _, env = join(kf, etcd, "cp-2", ports)
    etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    root = node_root(tmp_path, "cp-2", etcd, ports, env["ETCD_INITIAL_CLUSTER"])

    p = kf("reset", "--force", root=root, check_rc=0)
    assert "Removed the etcd member on this node from the etcd cluster: cp-2" in p.stdout, p.stdout
    assert "1 of the 1 voters left are healthy" in p.stdout, p.stdout
    assert [r[2] for r in members(kf, etcd).values()] == ["cp-1"]
    healthy(kf, etcd)
    assert_reset(root)


def test_refused_when_etcd_would_lose_its_quorum(kf, etcd, tmp_path):
    healthy(kf, etcd)
    ports = (free_port(), free_port())
    _, env = join(kf, etcd, "cp-2", ports)
    etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    # A third voter, then stopped: cp-2 leaving would leave cp-1 alone of 2 voters.
    p3 = (free_port(), free_port())
    _, env3 = join(kf, etcd, "cp-3", p3, "--wait", "60")
    m3 = etcd.start("cp-3", p3, env3["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-3", p3, "--promote", "--wait", "60")
    m3.stop()
    root = node_root(tmp_path, "cp-2", etcd, ports, env3["ETCD_INITIAL_CLUSTER"])
    before = snapshot(root)

    for args in (["--force"], ["--force", "--delete-node"], ["--dry-run"]):
        p = kf("reset", *args, root=root, check_rc=3)
        assert "would leave 1 healthy of 2 voters, fewer than a quorum (2); not healthy: cp-3" in p.stderr, p.stderr
        assert "Nothing was changed" in p.stderr
        assert snapshot(root) == before
        assert len(members(kf, etcd)) == 3
    # Told to: the node is reset, and its member left in etcd for later.
    p = kf("reset", "--force", "--ignore-etcd-quorum", root=root, check_rc=0)
    assert "leaving this node's etcd member in the etcd cluster" in p.stdout, p.stdout
    assert len(members(kf, etcd)) == 3
    assert_reset(root)
