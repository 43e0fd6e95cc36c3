# SPDX-License-Identifier: Apache-2.0
"""make demo: three control planes boot at the same moment from identical user-data and one worker joins,
in network namespaces on this machine. etcd and haproxy are real; the kube-apiserver, controller-manager,
scheduler and kubelet are simulated (tests/sim). Everything started is stopped, and the demo checks that
nothing is left behind.

KF_DEMO_VIP=1 make demo: no load balancer; the control planes run a control-plane VIP themselves
(FirstbootConfiguration.controlPlaneVIP: keepalived and haproxy, Debian's, started by the kubelet double from
the static pods kube-firstboot writes), and the demo powers off the node holding it."""
import calendar
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from simlib import kpki  # noqa: E402
from simlib.cluster import LB_IP, Sim  # noqa: E402
from simlib.kubeclient import Client  # noqa: E402
from simlib.userdata import SIM_IGNORE, block  # noqa: E402
import etcdbin  # noqa: E402,I100 - tests/lib, put on the path by simlib

VIP_MODE = os.environ.get("KF_DEMO_VIP") == "1"
VIP, VIP_PORT = "10.213.0.200", 8443
ENDPOINT = f"{VIP}:{VIP_PORT}" if VIP_MODE else f"{LB_IP}:6443"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))


def user_data(sim, pin, cert_key, worker=False):
    """The user-data of the demo, in kube-firstboot's format (images/user-data/*.yaml): identical on the
    three control planes (role auto, lowest address inits), a worker variant; a pre-generated CA (the demo's
    haproxy checks the apiservers against it)."""
    ca, key = block(kpki.cert_pem(sim.pki.ca[1])), block(kpki.key_pem(sim.pki.ca[0]))
    peers = ", ".join(n.ip for n in sim.cp)
    # With the VIP, controlPlaneEndpoint is left out: it defaults to the VIP's address and port.
    vip = f"    controlPlaneVIP: {{address: {VIP}, authentication: {{value: demo-vip}}}}\n" if VIP_MODE else ""
    endpoint = "" if VIP_MODE else f"    controlPlaneEndpoint: {LB_IP}:6443\n"
    if worker:
        return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: worker
    secrets:
      bootstrapToken: {{value: "{sim.token}"}}
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: JoinConfiguration
    discovery:
      bootstrapToken:
        apiServerEndpoint: {ENDPOINT}
        caCertHashes: ["{pin}"]
    nodeRegistration:
      ignorePreflightErrors: {SIM_IGNORE}
"""
    return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: auto
    seed:
      rule: lowestAddress
      peers: [{peers}]
    timeouts: {{seedGrace: 5s}}
    secrets:
      bootstrapToken: {{value: "{sim.token}"}}
      certificateKey: {{value: "{cert_key}"}}
    ca:
      cert: |
{ca}
      key: |
{key}
{vip}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    kubernetesVersion: v1.38.0
{endpoint}
    networking:
      serviceSubnet: 10.96.0.0/12
      podSubnet: 10.244.0.0/16
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: InitConfiguration
    nodeRegistration:
      ignorePreflightErrors: {SIM_IGNORE}
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: JoinConfiguration
    discovery:
      bootstrapToken:
        caCertHashes: ["{pin}"]
    nodeRegistration:
      ignorePreflightErrors: {SIM_IGNORE}
"""


def vip_holders(sim, nodes):
    """The nodes whose eth0 carries the VIP."""
    out = []
    for n in nodes:
        r = subprocess.run(["ip", "-n", n.ns, "-o", "-4", "addr", "show", "dev", "eth0"], capture_output=True,
                           text=True)
        if f" {VIP}/" in r.stdout:
            out.append(n.name)
    return out


def say(msg=""):
    print(msg, flush=True)


def head(msg):
    say()
    say(f"== {msg}")


def age(ts):
    """kubectl's AGE column from a creationTimestamp."""
    try:
        s = int(time.time() - calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return "<unknown>"
    return f"{s}s" if s < 120 else f"{s // 60}m"


def table(rows):
    """Columns the way kubectl prints them: left-aligned, three spaces apart."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return ["   ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def api_answer(c, args):
    """What the demo's kubectl commands show, read through haproxy with tests/sim's client, for a machine
    without kubectl (Debian 12 packages none): the same requests, printed as kubectl prints them."""
    def ready(n):
        return next((x["status"] for x in n["status"].get("conditions", []) if x["type"] == "Ready"), "Unknown")

    def taints(n):
        return ",".join(t["key"] for t in n.get("spec", {}).get("taints", [])) or "<none>"

    if args[:2] == ["get", "--raw"]:
        return [c.request("GET", args[2], raw=True)[1].decode(errors="replace")]
    if args == ["version"]:
        return [f"Server Version: {c.request('GET', '/version')['gitVersion']}"]
    if args[:2] == ["get", "nodes"]:
        nodes = c.list("nodes")
        cols = args[3] if len(args) > 3 else ""
        if "INTERNAL-IP" in cols:
            return table([["NAME", "STATUS", "TAINTS", "INTERNAL-IP"]] + [
                [n["metadata"]["name"], (n["status"].get("conditions") or [{"type": "<none>"}])[-1]["type"], taints(n),
                 (n["status"].get("addresses") or [{"address": "<none>"}])[0]["address"]] for n in nodes])
        if "READY" in cols:
            return table([["NAME", "READY", "TAINTS"]] + [[n["metadata"]["name"], ready(n), taints(n)] for n in nodes])
        return table([["NAME", "STATUS", "ROLES", "AGE", "VERSION"]] + [
            [n["metadata"]["name"], {"True": "Ready"}.get(ready(n), "NotReady"),
             ",".join(sorted(k.split("/", 1)[1] for k in n["metadata"].get("labels", {})
                             if k.startswith("node-role.kubernetes.io/"))) or "<none>",
             age(n["metadata"].get("creationTimestamp")), n["status"].get("nodeInfo", {}).get("kubeletVersion", "")]
            for n in nodes])
    if args[:2] == ["get", "pods"]:
        rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE"]]
        for p in c.list("pods", ns=args[3]):
            cs = p.get("status", {}).get("containerStatuses", [])
            rows.append([p["metadata"]["name"], f"{sum(1 for x in cs if x.get('ready'))}/{len(p['spec']['containers'])}",
                         p.get("status", {}).get("phase", "Unknown"), sum(x.get("restartCount", 0) for x in cs),
                         age(p["metadata"].get("creationTimestamp"))])
        return table(rows)
    if args[:2] == ["get", "csr"]:
        rows = [["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "CONDITION"]]
        for r in c.list("certificatesigningrequests", group="certificates.k8s.io"):
            conds = [x["type"] for x in r.get("status", {}).get("conditions", [])]
            rows.append([r["metadata"]["name"], age(r["metadata"].get("creationTimestamp")), r["spec"]["signerName"],
                         r["spec"].get("username", ""), ",".join(conds) or "Pending"])
        return table(rows)
    if args[:2] == ["get", "cm"]:
        return [json.dumps(c.get("configmaps", args[4], ns=args[3]).get("data", {}))]
    raise ValueError(f"no API equivalent for kubectl {args}")


def main():
    if os.geteuid() != 0:
        say("demo: needs root (it creates network namespaces)")
        return 2
    say("kube-firstboot demo: a simulated cluster on this machine")
    say(f"  REAL:      etcd {etcdbin.version_text()} ({etcdbin.path()}) as each node's static pod, haproxy 2.6 as the")
    say("             load balancer,")
    say("             network namespaces on a bridge (10.213.0.0/24, private to this demo)")
    say("  SIMULATED: kube-apiserver, kube-controller-manager, kube-scheduler and kubelet are Python doubles")
    say("             (tests/sim); the apiserver doubles keep their state in the real etcd")
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="kf-demo-")
    # The controller-manager double's node-monitor grace period is 15 s here (40 s by default), so the
    # demo can show a lost node turning NotReady.
    sim = Sim(work, control_planes=3, workers=1, env={"KF_SIM_NODE_MONITOR_GRACE": "15s"})
    rc = 0
    with sim:
        head("nodes")
        for n in sim.nodes:
            say(f"  {n.name:<5} {n.ip:<12} netns {n.ns}, root {n.root}")
        if VIP_MODE:
            say(f"  vip   {VIP:<12} port {VIP_PORT}: no load balancer; keepalived (VRRP) and haproxy on every control")
            say("        plane, as static pods kube-firstboot writes (Debian's binaries run by the kubelet double)")
            sim.cpe = f"https://{ENDPOINT}"
        else:
            say(f"  lb    {LB_IP:<12} netns {sim.lb_ns}, haproxy health-checking {len(sim.cp)} apiservers (/healthz)")
            sim.start_lb()
        client_ns = sim.workers[0].ns if VIP_MODE else sim.lb_ns

        ca = x509.load_pem_x509_certificate(sim.pki.ca_pem)
        pin = "sha256:" + hashlib.sha256(ca.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        sim.token = "".join(random.choice(alphabet) for _ in range(6)) + "." + \
            "".join(random.choice(alphabet) for _ in range(16))
        cp_ud, w_ud = user_data(sim, pin, os.urandom(32).hex()), user_data(sim, pin, "", worker=True)
        for n in sim.nodes:
            n.write_seed(w_ud if n.role == "worker" else cp_ud)

        head("kube-firstboot run on every node, all at the same moment (identical user-data on the control planes)")
        missing = False
        if not os.access(KF, os.X_OK):
            say(f"  {KF} is not built")
            missing = True
        else:
            sim.kf_bin = KF
            r = sim.cp[1].exec([KF, "metadata", "--root", sim.cp[1].root])
            if r.returncode == 0:
                md = json.loads(r.stdout)
                say(f"  cp-2  kube-firstboot metadata: platform {md.get('platform')}, source {md.get('source')}, "
                    f"hostname {md.get('hostname')}, localIPv4 {md.get('localIPv4')}")
            for n in (sim.cp[0], sim.cp[1]):
                r = n.exec([KF, "plan", "--root", n.root])
                out = (r.stdout + r.stderr).strip().splitlines()
                say(f"  {n.name:<5} kube-firstboot plan: exit {r.returncode}" + (f": {out[0][:140]}" if out else ""))
            for n in (sim.cp[0], sim.workers[0]):
                r = n.exec([KF, "config", "validate", "--root", n.root, os.path.join(n.seed, "user-data")])
                say(f"  {n.name:<5} kube-firstboot config validate <its user-data>: exit {r.returncode}"
                    + (": " + (r.stdout + r.stderr).strip().replace("\n", "; ")[:300] if r.returncode else " (valid)"))
            with concurrent.futures.ThreadPoolExecutor(len(sim.nodes)) as ex:
                futs = {n.name: ex.submit(n.firstboot, "run") for n in sim.nodes}
                results = {k: f.result() for k, f in futs.items()}
            for name, r in results.items():
                last = ((r.stderr or r.stdout).strip().splitlines() or [""])[-1]
                say(f"  {name:<5} exit {r.returncode}: {last[:150]}")
                if r.returncode == 4:
                    missing = True
        if missing:
            say("  MISSING: kube-firstboot's init and join flows are not built yet (`run` exits 4). Until they")
            say("  land, the demo's stand-in (tests/sim/simlib/cluster.py) writes the kubeadm-shaped files and")
            say("  objects they will write, then hands each node to the kubelet double the same way.")
            sim.kubeadm_init(sim.cp[0])
            # The two other control planes join at the same moment: the etcd rules (one learner at a
            # time, 5 s after a promotion) serialize them, with retries, as they will for kube-firstboot.
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                for f in [ex.submit(sim.kubeadm_join_control_plane, n) for n in sim.cp[1:]]:
                    f.result()
            sim.wait_etcd_voters(3)
            sim.kubeadm_join_worker(sim.workers[0])
        sim.wait_nodes_ready([n.name for n in sim.nodes], timeout=60 if missing else 300, netns=client_ns)
        sim.add_firstboot_phases()

        head("timeline (seconds since start)")
        sim.print_timeline(say)

        head(f"etcd members (real etcd {etcdbin.version_text()}, asked through the v3 gateway)")
        via = sim.cp[0].etcd(timeout=5)
        status = {}
        for n in sim.cp:
            try:
                s = n.etcd(timeout=5).status()
                status[s["header"]["member_id"]] = s
            except Exception as e:  # noqa: BLE001
                say(f"  {n.name}: {e}")
        leader = next((s.get("leader") for s in status.values()), None)
        for m in sorted(via.members(), key=lambda m: m.get("name", "")):
            role = "learner" if m.get("isLearner") else ("voter, leader" if m["ID"] == leader else "voter")
            say(f"  {int(m['ID']):016x}  {m.get('name', '?'):<5} {m['peerURLs'][0]:<26} {role}")
        if os.access(KF, os.X_OK):
            r = sim.cp[1].exec([KF, "etcd", "member", "list", "--root", sim.cp[1].root])
            say(f"  kube-firstboot etcd member list on cp-2 (exit {r.returncode}):")
            for ln in (r.stdout or r.stderr).strip().splitlines():
                say("    " + ln)

        if VIP_MODE:
            head(f"the API through the control-plane VIP {ENDPOINT} (from w-1's namespace)")
            say(f"  {VIP} is held by: {', '.join(vip_holders(sim, sim.cp)) or 'nobody'}")
            r = sim.cp[1].exec([KF, "plan", "--root", sim.cp[1].root, "--allow-host"])
            for ln in (r.stdout or "").splitlines():
                if VIP in ln or "keepalived" in ln or "haproxy" in ln:
                    say("  plan on cp-2: " + ln.strip())
        else:
            head("the API through haproxy")
            say(f"  haproxy backends: {sim.lb_servers()}")
        cert, key = sim.pki.client_pems("kubernetes-admin", "kubeadm:cluster-admins")
        kc = kpki.write_kubeconfig(os.path.join(work, "admin.conf"),
                                   kpki.kubeconfig(sim.cpe, sim.pki.ca_pem, "kubernetes-admin", cert, key))
        kubectl = ["ip", "netns", "exec", client_ns, "kubectl", "--kubeconfig", kc, "--cache-dir",
                   os.path.join(work, "kcache")]
        api = Client.from_kubeconfig(kc, netns=client_ns)

        def run_kubectl(args):
            """kubectl ARGS through haproxy; without kubectl, the same requests with tests/sim's client."""
            if have_kubectl:
                return subprocess.run(kubectl + args, capture_output=True, text=True, timeout=60)
            try:
                return subprocess.CompletedProcess(args, 0, "\n".join(api_answer(api, args)) + "\n", "")
            except Exception as e:  # noqa: BLE001
                return subprocess.CompletedProcess(args, 1, "", f"error: {e}\n")

        have_kubectl = shutil.which("kubectl") is not None
        if not have_kubectl:
            say("  kubectl is not installed (Debian 12 packages none): the same requests go through haproxy with")
            say("  tests/sim's API client, printed as kubectl prints them")
        for args in (["get", "--raw", "/healthz"], ["version"],
                     ["get", "nodes", "-o", "custom-columns=NAME:.metadata.name,STATUS:.status.conditions[-1].type,"
                      "TAINTS:.spec.taints[*].key,INTERNAL-IP:.status.addresses[0].address"],
                     ["get", "nodes"], ["get", "pods", "-n", "kube-system"],
                     ["get", "csr"], ["get", "cm", "-n", "kube-public", "cluster-info",
                                      "-o", "jsonpath={.data}"]):
            r = run_kubectl(args)
            say(f"  $ kubectl {' '.join(args)}")
            out = (r.stdout + r.stderr).rstrip()
            if args[:2] == ["get", "cm"]:
                out = ", ".join(k for k in json.loads(r.stdout or "{}"))
                out = "    data keys: " + out
            for ln in out.splitlines():
                say("    " + ln[:160])

        if os.access(KF, os.X_OK) and sim.token:
            ca = x509.load_pem_x509_certificate(sim.pki.ca_pem)
            pin = "sha256:" + hashlib.sha256(ca.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
            w = sim.workers[0]
            r = w.exec([KF, "discover", "--api-server", ENDPOINT, "--token", sim.token, "--ca-cert-hash", pin,
                        "--timeout", "20"])
            say(f"  $ kube-firstboot discover --api-server {ENDPOINT} --token <id>.<secret> --ca-cert-hash {pin[:20]}..."
                f" (from w-1, exit {r.returncode})")
            for ln in (r.stdout + r.stderr).strip().splitlines():
                say("    " + ln)

        if VIP_MODE:
            head("powering off the control plane that holds the VIP")
            holder = next(n for n in sim.cp if vip_holders(sim, [n]))
            others = [n for n in sim.cp if n is not holder]
            t_off = time.time()
            sim.cut(holder)
            sim.kill(holder)
            while time.time() - t_off < 30 and not vip_holders(sim, others):
                time.sleep(0.05)
            moved = time.time() - t_off
            say(f"  {holder.name} off (network cut, every process killed); {VIP} now on "
                f"{', '.join(vip_holders(sim, others)) or 'nobody'} after {moved:.2f}s (keepalived advert_int 1 s)")
            r = run_kubectl(["get", "nodes"])
            say(f"  $ kubectl get nodes   (through {ENDPOINT}, now answered by another control plane)")
            for ln in (r.stdout + r.stderr).rstrip().splitlines():
                say("    " + ln)
            lost = holder
        else:
            head("losing a control plane")
            lost = sim.cp[1]
            sim.kill(lost)
            time.sleep(2.5)
            say(f"  cp-2 killed (kubelet, etcd, apiserver... SIGKILL by PID); haproxy now: {sim.lb_servers()}")
            r = run_kubectl(["get", "nodes"])
            say("  $ kubectl get nodes   (answered by cp-1 and cp-3: etcd keeps quorum with 2 of 3)")
            for ln in (r.stdout + r.stderr).rstrip().splitlines():
                say("    " + ln)
        say("  waiting for the node-monitor grace period (15 s in this demo) ...")
        c = sim.client(client_ns)
        end = time.time() + 40
        while time.time() < end:
            n = c.get("nodes", lost.name)
            if any(x["type"] == "Ready" and x["status"] == "Unknown" for x in n["status"]["conditions"]):
                break
            time.sleep(1)
        r = run_kubectl(["get", "nodes", "-o", "custom-columns=NAME:.metadata.name,"
                         "READY:.status.conditions[?(@.type==\"Ready\")].status,TAINTS:.spec.taints[*].key"])
        say("  $ kubectl get nodes -o custom-columns=NAME,READY,TAINTS")
        for ln in (r.stdout + r.stderr).rstrip().splitlines():
            say("    " + ln)

    head("cleanup")
    left = sim.leftovers()
    if any(left.values()):
        say(f"  LEFT BEHIND: {left}")
        rc = 1
    else:
        say("  every process stopped by PID; namespaces deleted; no mounts left")
    if os.environ.get("KF_DEMO_KEEP") == "1":
        say(f"  logs and node roots kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
        say(f"  removed {work} (KF_DEMO_KEEP=1 keeps the logs and node roots)")
    say()
    say(f"demo finished in {time.time() - t0:.1f}s. Simulated: apiserver, controller-manager, scheduler, kubelet. "
        + ("Real: etcd, keepalived, haproxy." if VIP_MODE else "Real: etcd, haproxy."))
    if missing:
        say("Not yet real: kube-firstboot `run` (init/join) - the stand-in did its part in this demo.")
    return rc


if __name__ == "__main__":
    sys.exit(main())
