# SPDX-License-Identifier: Apache-2.0
"""The kubelet double.

Does with kubeadm's files what the real kubelet does, under a node root directory (--root; every path
the real kubelet would read on the host is read under it):
  - flags: --bootstrap-kubeconfig, --kubeconfig, --config (defaults of the kubeadm systemd drop-in) and
    KUBELET_KUBEADM_ARGS from /var/lib/kubelet/kubeadm-flags.env;
  - /var/lib/kubelet/config.yaml (staticPodPath, healthz address and port, ...); while it is missing the
    double waits, as the real kubelet crash-loops under systemd;
  - healthz on http://<healthzBindAddress>:<healthzPort>/healthz (127.0.0.1:10248);
  - static pods from /etc/kubernetes/manifests/*.yaml: etcd runs as the real etcd binary ($KF_SIM_ETCD, or
    Debian's 3.4 on PATH: tests/lib/etcdbin.py) with the manifest's command line, the control-plane
    components as the doubles in tests/sim/bin; host paths are resolved through the pod's volumes to
    <root>/<hostPath>, a path no volume mounts is an error (as in a container); flags the local etcd does not
    know (its --help says) are translated or dropped, each with a log line. Pods keep
    running when the kubelet stops (as containers do), and a restarted kubelet adopts them (pid files under
    <root>/run/sim-kubelet/);
  - TLS bootstrap from bootstrap-kubelet.conf: CSR (ECDSA P-256, CN system:node:<name>, O system:nodes,
    signer kubernetes.io/kube-apiserver-client-kubelet), wait for the certificate, then
    /var/lib/kubelet/pki/kubelet-client-<time>.pem + kubelet-client-current.pem and kubelet.conf;
  - probes (readiness, else startup, else liveness; httpGet) with named ports resolved through the
    container's ports as the real kubelet does; etcd's /readyz and /livez become /health before etcd 3.5.11;
  - registers its Node (labels, --register-with-taints, addresses), keeps it Ready (status and Lease every
    10 s) and mirrors its static pods into the API.
With --daemon it forks, writes <root>/run/sim-kubelet/kubelet.pid and returns, like `systemctl start`;
a running kubelet with that pid file is restarted."""
import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import threading
import time

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import etcdbin

from . import BIN_DIR, PYTHON, simclock
from .kubeclient import ApiError, Client

VERSION = os.environ.get("KF_SIM_K8S_VERSION", "v1.38.0")


def image_version(containers):
    """The Kubernetes version of a kube-apiserver/-controller-manager/-scheduler image tag ("v1.36.2_build" -> "v1.36.2+build")."""
    for c in containers:
        m = re.match(r"^.*/kube-(apiserver|controller-manager|scheduler):(v\d+\.\d+\.\d+\S*)$", c.get("image") or "")
        if m:
            return m.group(2).replace("_", "+")
    return None


DOUBLES = {"kube-apiserver", "kube-controller-manager", "kube-scheduler"}
# The control-plane VIP's images (kube-firstboot's controlPlaneVIP, kubeadm's HA documentation) run as Debian's
# own binaries, like etcd.
IMAGES = {"keepalived": "/usr/sbin/keepalived", "haproxy": "/usr/sbin/haproxy"}


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + "kubelet(sim): " + msg + "\n")
    sys.stderr.flush()


# etcd 3.6 feature gates (etcd's server/features/etcd_features.go) and the etcd 3.4/3.5 flag each replaced.
# A gate not listed here maps by name, CamelCase -> experimental-kebab-case (InitialCorruptCheck ->
# experimental-initial-corrupt-check, TxnModeWriteWithSharedBuffer -> ...-txn-mode-write-with-shared-buffer).
ETCD_GATE_FLAGS = {
    "StopGRPCServiceOnDefrag": "experimental-stop-grpc-service-on-defrag",
    "CompactHashCheck": "experimental-compact-hash-check-enabled",
    "LeaseCheckpoint": "experimental-enable-lease-checkpoint",
    "LeaseCheckpointPersist": "experimental-enable-lease-checkpoint-persist",
}


def gate_flag(gate):
    return ETCD_GATE_FLAGS.get(gate) or "experimental-" + re.sub(r"(?<!^)([A-Z])", r"-\1", gate).lower()


def translate_etcd(args, known=None, version=None):
    """A manifest's etcd flags -> what the local etcd accepts (its --help says which): etcd 3.6/3.7 flags
    (--feature-gates, names without experimental-) for etcd 3.4/3.5, and an --experimental-X the local etcd
    knows only as --X the other way. Returns (args, [log lines]); a flag the local etcd has no word for is
    dropped with a line saying so."""
    known = etcdbin.flags() if known is None else known
    label = "etcd " + (version or etcdbin.version_text())
    out, notes = [], []
    for a in args:
        if not a.startswith("--"):
            out.append(a)
            continue
        k, _, v = a[2:].partition("=")
        if not known or k in known:
            out.append(a)
            continue
        if k == "feature-gates":
            for gate in filter(None, v.split(",")):
                gn, _, gv = gate.partition("=")
                f = gate_flag(gn)
                if f in known:
                    out.append(f"--{f}={gv or 'true'}")
                    notes.append(f"{label}: --feature-gates={gate} -> --{f}={gv or 'true'}")
                else:
                    notes.append(f"{label}: feature gate {gate} dropped (unknown to {label})")
            continue
        if "experimental-" + k in known:
            out.append(f"--experimental-{k}={v}")
            notes.append(f"{label}: --{k}={v} -> --experimental-{k}={v}")
        elif k.startswith("experimental-") and k[len("experimental-"):] in known:
            out.append(f"--{k[len('experimental-'):]}={v}")
            notes.append(f"{label}: --{k}={v} -> --{k[len('experimental-'):]}={v}")
        else:
            notes.append(f"{label}: --{k}={v} dropped (unknown to {label})")
    return out, notes


class PodError(Exception):
    pass


class StaticPod:
    def __init__(self, kubelet, path):
        self.k = kubelet
        self.path = path
        with open(path, "rb") as f:
            raw = f.read()
        self.hash = hashlib.sha256(raw).hexdigest()[:16]
        self.pod = yaml.safe_load(raw)
        if not isinstance(self.pod, dict) or self.pod.get("kind") != "Pod":
            raise PodError(f"{path}: not a Pod")
        self.name = self.pod["metadata"]["name"]
        self.full_name = f"{self.name}-{kubelet.node_name}"
        self.proc = None
        self.pid = None
        self.restarts = 0
        self.next_start = 0.0
        self.ready = False
        self.error = None
        self.probe_error = None
        self.started_at = None

    def argv(self):
        spec = self.pod.get("spec") or {}
        cs = spec.get("containers") or []
        if len(cs) != 1:
            raise PodError(f"{self.name}: the double runs pods with exactly one container (has {len(cs)})")
        c = cs[0]
        cmd = list(c.get("command") or []) + list(c.get("args") or [])
        if not cmd:
            raise PodError(f"{self.name}: no command (the image's entrypoint cannot be simulated)")
        if not spec.get("hostNetwork"):
            raise PodError(f"{self.name}: only hostNetwork pods can be simulated")
        vols = {v["name"]: v for v in spec.get("volumes") or []}
        mounts = []
        for m in c.get("volumeMounts") or []:
            v = vols.get(m["name"])
            if not v or "hostPath" not in v:
                raise PodError(f"{self.name}: volumeMount {m['name']} has no hostPath volume")
            mounts.append((m["mountPath"].rstrip("/") or "/", v["hostPath"]["path"].rstrip("/"),
                           v["hostPath"].get("type", "")))
        for mp, hp, t in mounts:
            hostp = self.k.host(hp)
            if t == "DirectoryOrCreate":
                os.makedirs(hostp, exist_ok=True)
            elif t == "FileOrCreate" and not os.path.exists(hostp):
                os.makedirs(os.path.dirname(hostp), exist_ok=True)
                open(hostp, "a").close()
            elif t == "Directory" and not os.path.isdir(hostp):
                raise PodError(f"{self.name}: hostPath {hp} is not a directory")
            elif t == "File" and not os.path.isfile(hostp):
                raise PodError(f"{self.name}: hostPath {hp} is not a file")

        def mapped(p):
            for mp, hp, _ in sorted(mounts, key=lambda x: -len(x[0])):
                if p == mp or p.startswith(mp + "/"):
                    return self.k.host(hp + p[len(mp):])
            raise PodError(f"{self.name}: {p} is not inside any volumeMount (a container would not see it)")

        exe = os.path.basename(cmd[0])
        args = []
        for a in cmd[1:]:
            m = re.match(r"^(--[^=]+=)(.*)$", a)
            if m and m.group(2).startswith("/"):
                args.append(m.group(1) + ",".join(mapped(p) if p.startswith("/") else p
                                                  for p in m.group(2).split(",")))
            elif exe in IMAGES and a.startswith("/"):
                args.append(mapped(a))  # a path argument of its own (haproxy -f FILE)
            else:
                args.append(a)
        if exe in IMAGES:
            return self.image_argv(exe, args, mapped)
        if exe == "etcd":
            args, notes = translate_etcd(args)
            for n in notes:
                log(f"{self.name}: {n}")
            return [etcdbin.path(), *args]
        if exe in DOUBLES:
            return [PYTHON, os.path.join(BIN_DIR, exe), *args]
        raise PodError(f"{self.name}: command {cmd[0]} is not simulated")

    def image_argv(self, exe, args, mapped):
        """The Debian binary standing in for a VIP image (keepalived, haproxy), as for etcd: the container's
        paths inside the config file (keepalived's check script) mapped through the pod's mounts, and what a
        container keeps private (pid files) kept under this node's root."""
        run = os.path.join(self.k.state_dir, self.name)
        os.makedirs(run, exist_ok=True)
        if exe == "keepalived":
            conf = next((a.split("=", 1)[1] for a in args if a.startswith("--use-file=")), None)
            if not conf:
                raise PodError(f"{self.name}: keepalived without --use-file")
            with open(conf) as f:
                text = f.read()
            text = re.sub(r'script "(/[^"]+)"', lambda m: f'script "{mapped(m.group(1))}"', text)
            local = os.path.join(run, "keepalived.conf")
            with open(local, "w") as f:
                f.write(text)
            args = [a for a in args if not a.startswith("--use-file=")]
            return [IMAGES[exe], *args, f"--use-file={local}", f"--pid={run}/keepalived.pid",
                    f"--vrrp_pid={run}/vrrp.pid", f"--checkers_pid={run}/checkers.pid", "--vrrp"]
        return [IMAGES[exe], *args]

    def env(self):
        e = {k: v for k, v in os.environ.items() if k in ("PATH", "KF_SIM_CLOCK", "KF_SIM_K8S_VERSION",
                                                             "KF_SIM_APISERVER_QUIET", "KF_SIM_CONTROLLER_PERIOD",
                                                             "KF_SIM_NODE_MONITOR_GRACE",
                                                             "LANG")}
        e.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        e["KF_SIM_ROOT"] = self.k.root  # where a double finds the node's files (a test's faults)
        # A control-plane double is the version its image names, as a real container would be.
        version = image_version((self.pod.get("spec") or {}).get("containers") or [])
        if version:
            e["KF_SIM_K8S_VERSION"] = version
        for c in (self.pod.get("spec") or {}).get("containers") or []:
            for v in c.get("env") or []:
                if "value" in v:
                    e[v["name"]] = str(v["value"])
        return e

    def pidfile(self):
        return os.path.join(self.k.state_dir, "pods", f"{self.name}.pid")

    def alive(self):
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid:
            try:
                with open(f"/proc/{self.pid}/stat") as f:
                    return f.read().split(") ")[1][0] != "Z"
            except (OSError, IndexError):
                return False
        return False

    def adopt(self):
        try:
            with open(self.pidfile()) as f:
                d = json.load(f)
        except (OSError, ValueError):
            return False
        if d.get("hash") != self.hash:
            return False
        self.pid = d["pid"]
        if self.alive():
            log(f"{self.name}: adopted running container (pid {self.pid})")
            self.started_at = d.get("started")
            return True
        self.pid = None
        return False

    def start(self):
        try:
            argv = self.argv()
        except PodError as e:
            if self.error != str(e):
                log(f"error: {e}")
            self.error = str(e)
            return
        self.error = None
        logdir = self.k.host(f"/var/log/pods/kube-system_{self.full_name}/{self.name}")
        os.makedirs(logdir, exist_ok=True)
        lf = open(os.path.join(logdir, f"{self.restarts}.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env(), start_new_session=True, cwd="/")
        lf.close()
        self.pid = self.proc.pid
        self.started_at = simclock.rfc3339()
        os.makedirs(os.path.dirname(self.pidfile()), exist_ok=True)
        with open(self.pidfile(), "w") as f:
            json.dump({"pid": self.pid, "hash": self.hash, "started": self.started_at, "argv": argv}, f)
        log(f"{self.name}: started pid {self.pid}: {' '.join(argv)}")

    def stop(self, timeout=5):
        if self.pid and self.alive():
            log(f"{self.name}: stopping pid {self.pid}")
            try:
                kill_container(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = time.time() + timeout
            while time.time() < end and self.alive():
                if self.proc is not None:
                    try:
                        self.proc.wait(0.1)
                    except subprocess.TimeoutExpired:
                        pass
                else:
                    time.sleep(0.1)
            if self.alive():
                try:
                    kill_container(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.proc is not None:
                self.proc.wait(5)
        try:
            os.unlink(self.pidfile())
        except OSError:
            pass
        self.pid = None
        self.proc = None

    def sync(self):
        if self.alive():
            return
        now = time.time()
        if self.pid or self.proc is not None:
            rc = self.proc.returncode if self.proc is not None else "?"
            self.restarts += 1
            delay = min(10, 0.5 * 2 ** min(self.restarts, 5))
            log(f"{self.name}: exited (rc {rc}); restarting in {delay:.1f}s (restart {self.restarts})")
            self.proc = None
            self.pid = None
            self.ready = False
            self.next_start = now + delay
        if now >= self.next_start:
            self.start()
            if self.error:
                self.next_start = now + 5

    def probe_target(self, c, hg):
        """(host, port, path) of an httpGet probe, as the real kubelet's extractPort() resolves it: a number as
        it is; a name (kubeadm 1.34+ writes "probe-port") through the container's ports list, the first port
        of that name, else the string as a number ("2381"), else PodError (the real probe fails)."""
        host = hg.get("host") or self.k.node_ip or "127.0.0.1"
        port = hg.get("port")
        if isinstance(port, str):
            found = [p.get("containerPort") for p in c.get("ports") or [] if p.get("name") == port]
            if found:
                port = found[0]
            elif re.fullmatch(r"[+-]?\d+", port):
                port = int(port)
            else:
                raise PodError(f"{self.name}: probe port {port!r} is not among the container's ports")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise PodError(f"{self.name}: invalid probe port {port!r}")
        path = hg.get("path", "/")
        if os.path.basename((c.get("command") or [""])[0]) == "etcd" and path.split("?")[0] in ("/readyz", "/livez") \
                and not etcdbin.has_livez_readyz():
            path = "/health"  # etcd before 3.5.11 (Debian 12's 3.4) has no /readyz or /livez
        return host, port, path

    def probe(self):
        c = ((self.pod.get("spec") or {}).get("containers") or [{}])[0]
        pr = c.get("readinessProbe") or c.get("startupProbe") or c.get("livenessProbe")
        if not self.alive():
            self.ready = False
            return
        if not pr or "httpGet" not in pr:
            self.ready = True
            return
        hg = pr["httpGet"]
        try:
            host, port, path = self.probe_target(c, hg)
        except PodError as e:
            if self.probe_error != str(e):
                log(f"error: {e}")
            self.probe_error = str(e)
            self.ready = False
            return
        self.probe_error = None
        try:
            if hg.get("scheme", "HTTP") == "HTTPS":
                ctx = ssl._create_unverified_context()
                conn = http.client.HTTPSConnection(host, port, timeout=2, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            self.ready = 200 <= r.status < 400
        except OSError:
            self.ready = False


class Kubelet:
    def __init__(self, argv):
        flags = {"bootstrap-kubeconfig": "/etc/kubernetes/bootstrap-kubelet.conf",
                 "kubeconfig": "/etc/kubernetes/kubelet.conf", "config": "/var/lib/kubelet/config.yaml",
                 "root": "", "node-ip": "", "hostname-override": "", "register-with-taints": "", "node-labels": "",
                 "daemon": "false", "pidfile": ""}
        self.flags = flags
        self.apply_flags(argv, "command line")
        if not flags["root"]:
            raise SystemExit("kubelet(sim): --root DIR (the node's root directory) is required")
        self.root = os.path.abspath(flags["root"])
        self.state_dir = self.host("/run/sim-kubelet")
        os.makedirs(os.path.join(self.state_dir, "pods"), exist_ok=True)
        self.cmdline = list(argv)
        self.stop_ev = threading.Event()
        self.pods = {}
        self.client = None
        self.node_registered = False
        self.last_status = 0.0
        self.config = None
        self.node_name = ""
        self.node_ip = flags["node-ip"]
        self.mirrors = {}

    def apply_flags(self, argv, where):
        for a in argv:
            if not a.startswith("--"):
                continue
            k, eq, v = a[2:].partition("=")
            if k not in self.flags:
                log(f"flag --{k} from {where} accepted and ignored (not simulated)")
            self.flags[k] = v if eq else "true"

    def host(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    # ---- configuration ----
    def load_config(self):
        p = self.host(self.flags["config"])
        try:
            with open(p) as f:
                cfg = yaml.safe_load(f) or {}
        except OSError:
            return False
        if cfg.get("kind") != "KubeletConfiguration":
            log(f"{self.flags['config']}: kind is {cfg.get('kind')!r}, not KubeletConfiguration")
            return False
        envf = self.host("/var/lib/kubelet/kubeadm-flags.env")
        if os.path.exists(envf):
            with open(envf) as f:
                for line in f:
                    m = re.match(r'^\s*KUBELET_KUBEADM_ARGS=(.*)$', line.strip())
                    if m:
                        self.apply_flags(shlex.split(shlex.split(m.group(1))[0] if m.group(1) else ""),
                                         "kubeadm-flags.env")
        self.config = cfg
        hostname = open("/proc/sys/kernel/hostname").read().strip()
        self.node_name = (self.flags["hostname-override"] or hostname).lower()
        self.node_ip = self.flags["node-ip"] or self.node_ip
        log(f"loaded {self.flags['config']} (staticPodPath {cfg.get('staticPodPath')}); node name {self.node_name}")
        return True

    def serve_healthz(self):
        bind = self.config.get("healthzBindAddress", "127.0.0.1")
        port = int(self.config.get("healthzPort", 10248))
        if port == 0:
            return

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = b"ok" if self.path.split("?")[0] == "/healthz" else b"404 page not found\n"
                self.send_response(200 if body == b"ok" else 404)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = http.server.ThreadingHTTPServer((bind, port), H)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        log(f"healthz on http://{bind}:{port}/healthz")

    # ---- static pods ----
    def sync_pods(self):
        d = self.host(self.config.get("staticPodPath") or "/etc/kubernetes/manifests")
        seen = set()
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith((".yaml", ".yml", ".json")) and not n.startswith("."))
        except OSError:
            names = []
        for n in names:
            path = os.path.join(d, n)
            try:
                with open(path, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()[:16]
            except OSError:
                continue
            cur = self.pods.get(path)
            seen.add(path)
            if cur and cur.hash == h:
                cur.sync()
                continue
            try:
                sp = StaticPod(self, path)
            except (PodError, yaml.YAMLError, KeyError, TypeError) as e:
                log(f"error: {path}: {e}")
                continue
            if not cur and sp.name in self.held():
                if sp.adopt():  # running already: a hold only keeps a pod from starting
                    self.pods[path] = sp
                continue  # held back by a test (a slow image pull): started once the test lets it go
            if cur:
                log(f"{cur.name}: manifest changed; recreating")
                cur.stop()
            elif sp.adopt():
                self.pods[path] = sp
                continue
            else:
                self.kill_stale(sp)
            self.pods[path] = sp
            sp.start()
        for path in list(self.pods):
            if path not in seen:
                log(f"{self.pods[path].name}: manifest removed; stopping")
                self.pods.pop(path).stop()

    def held(self):
        """Static pods a test keeps from starting: their names, one a line, in <root>/etc/kf-sim/kubelet-hold
        (as an image pull that takes long after a reboot). Said once per name."""
        try:
            with open(self.host("/etc/kf-sim/kubelet-hold")) as f:
                names = {ln.strip() for ln in f if ln.strip()}
        except OSError:
            names = set()
        for n in names - getattr(self, "_held_said", set()):
            log(f"{n}: held back by the test (etc/kf-sim/kubelet-hold); not started")
        self._held_said = names
        return names

    def kill_stale(self, sp):
        """A pid file from an older manifest of this pod: that container is stopped first."""
        try:
            with open(sp.pidfile()) as f:
                d = json.load(f)
        except (OSError, ValueError):
            return
        old = StaticPod.__new__(StaticPod)
        old.name, old.proc, old.pid, old.k = sp.name, None, d.get("pid"), self
        old.stop()

    # ---- API ----
    def kubeconfig_client(self, path):
        p = self.host(path)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            kc = yaml.safe_load(f)
        for u in kc.get("users") or []:
            for k in ("client-certificate", "client-key"):
                v = (u.get("user") or {}).get(k)
                if v and os.path.isabs(v):
                    u["user"][k] = self.host(v)
        tmp = os.path.join(self.state_dir, "kubeconfig.resolved")
        with open(tmp, "w") as f:
            yaml.safe_dump(kc, f)
        try:
            return Client.from_kubeconfig(tmp, timeout=5)
        except (OSError, ssl.SSLError, KeyError, StopIteration, ValueError) as e:
            log(f"{path}: unusable: {e}")
            return None

    def tls_bootstrap(self):
        boot = self.kubeconfig_client(self.flags["bootstrap-kubeconfig"])
        if boot is None:
            return None
        key = ec.generate_private_key(ec.SECP256R1())
        subj = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{self.node_name}")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(subj).sign(key, hashes.SHA256())
        pem = csr.public_bytes(serialization.Encoding.PEM)
        name = "node-csr-" + base64.urlsafe_b64encode(hashlib.sha256(pem).digest()).decode().rstrip("=")[:43]
        obj = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
               "metadata": {"name": name},
               "spec": {"request": base64.b64encode(pem).decode(),
                        "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                        "usages": ["digital signature", "client auth"]}}
        try:
            boot.create("certificatesigningrequests", obj, group="certificates.k8s.io")
        except ApiError as e:
            log(f"TLS bootstrap: creating CSR failed: {e}")
            return None
        log(f"TLS bootstrap: CSR {name} created; waiting for approval and a certificate")
        end = time.time() + 300
        cert = None
        while time.time() < end and not self.stop_ev.is_set():
            try:
                o = boot.get("certificatesigningrequests", name, group="certificates.k8s.io")
            except (ApiError, OSError) as e:
                log(f"TLS bootstrap: {e}")
                self.stop_ev.wait(1)
                continue
            conds = [c.get("type") for c in (o.get("status") or {}).get("conditions") or []]
            if "Denied" in conds or "Failed" in conds:
                log(f"TLS bootstrap: CSR {name} {conds}")
                return None
            if (o.get("status") or {}).get("certificate"):
                cert = base64.b64decode(o["status"]["certificate"])
                break
            self.stop_ev.wait(0.5)
        if cert is None:
            return None
        fname = self.store_client_cert(cert, key)
        with open(self.host(self.flags["bootstrap-kubeconfig"])) as f:
            bkc = yaml.safe_load(f)
        bcl = bkc["clusters"][0]["cluster"]
        kc = {"apiVersion": "v1", "kind": "Config",
              "clusters": [{"name": "default-cluster", "cluster": {
                  "certificate-authority-data": bcl.get("certificate-authority-data"), "server": bcl["server"]}}],
              "contexts": [{"name": "default-context", "context": {"cluster": "default-cluster",
                                                                   "namespace": "default", "user": "default-auth"}}],
              "current-context": "default-context",
              "users": [{"name": "default-auth", "user": {
                  "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
                  "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem"}}]}
        p = self.host(self.flags["kubeconfig"])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p + ".tmp", "w") as f:
            os.fchmod(f.fileno(), 0o600)
            yaml.safe_dump(kc, f, sort_keys=False)
        os.replace(p + ".tmp", p)
        log(f"TLS bootstrap: done; wrote {self.flags['kubeconfig']} and /var/lib/kubelet/pki/{fname}")
        return True

    def store_client_cert(self, cert, key):
        """/var/lib/kubelet/pki/kubelet-client-<time>.pem (cert + key, 0600) and the
        kubelet-client-current.pem symlink to it, as the kubelet's certificate store writes them."""
        pki = self.host("/var/lib/kubelet/pki")
        os.makedirs(pki, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
        fname = f"kubelet-client-{stamp}.pem"
        with open(os.path.join(pki, fname), "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(cert + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                             serialization.NoEncryption()))
        cur = os.path.join(pki, "kubelet-client-current.pem")
        tmp = cur + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.join("/var/lib/kubelet/pki", fname), tmp)
        os.replace(tmp, cur)
        return fname

    def rotate_if_needed(self):
        """With rotateCertificates and a kubelet.conf that embeds its client certificate (the init node),
        the certificate store starts empty: the kubelet asks for a certificate of its own with a CSR
        (generateName csr-, as system:node:<name>) and stores it as kubelet-client-current.pem once
        issued (approved through kubeadm:node-autoapprove-certificate-rotation). kubeadm's
        kubelet-finalize phase waits for that file."""
        if not self.config.get("rotateCertificates") or self.client is None:
            return
        cur = self.host("/var/lib/kubelet/pki/kubelet-client-current.pem")
        if os.path.lexists(cur):  # a symlink to a path inside the node root
            return
        st = getattr(self, "_rotation", None)
        if st is None:
            key = ec.generate_private_key(ec.SECP256R1())
            subj = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                              x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{self.node_name}")])
            pem = x509.CertificateSigningRequestBuilder().subject_name(subj).sign(key, hashes.SHA256()).public_bytes(
                serialization.Encoding.PEM)
            o = self.client.create("certificatesigningrequests", {
                "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                "metadata": {"generateName": "csr-"},
                "spec": {"request": base64.b64encode(pem).decode(),
                         "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                         "usages": ["digital signature", "client auth"]}}, group="certificates.k8s.io")
            self._rotation = (o["metadata"]["name"], key)
            log(f"certificate rotation: the store is empty; CSR {o['metadata']['name']} created")
            return
        name, key = st
        try:
            o = self.client.get("certificatesigningrequests", name, group="certificates.k8s.io")
        except ApiError as e:
            if e.code == 404:
                self._rotation = None
                return
            raise
        if (o.get("status") or {}).get("certificate"):
            fname = self.store_client_cert(base64.b64decode(o["status"]["certificate"]), key)
            log(f"certificate rotation: stored /var/lib/kubelet/pki/{fname}")
            self._rotation = None

    def _resolve_cert_paths(self):
        # kubelet-client-current.pem is a symlink with an absolute target inside the node root.
        cur = self.host("/var/lib/kubelet/pki/kubelet-client-current.pem")
        if os.path.islink(cur):
            t = os.readlink(cur)
            if os.path.isabs(t) and not t.startswith(self.root):
                return self.host(t)
        return cur

    def ensure_client(self):
        if self.client is not None:
            return self.client
        p = self.host(self.flags["kubeconfig"])
        if os.path.exists(p):
            with open(p) as f:
                kc = yaml.safe_load(f)
            u = (kc.get("users") or [{}])[0].get("user") or {}
            if u.get("client-certificate") == "/var/lib/kubelet/pki/kubelet-client-current.pem":
                target = self._resolve_cert_paths()
                u["client-certificate"] = u["client-key"] = target
                tmp = os.path.join(self.state_dir, "kubelet.conf.resolved")
                with open(tmp, "w") as f:
                    yaml.safe_dump(kc, f)
                self.client = Client.from_kubeconfig(tmp, timeout=5)
            else:
                self.client = self.kubeconfig_client(self.flags["kubeconfig"])
            if self.client:
                log(f"using {self.flags['kubeconfig']} ({self.client.host}:{self.client.port})")
            return self.client
        if os.path.exists(self.host(self.flags["bootstrap-kubeconfig"])):
            if self.tls_bootstrap():
                return self.ensure_client()
        return None

    def node_object(self):
        labels = {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
        for kv in filter(None, self.flags["node-labels"].split(",")):
            k, _, v = kv.partition("=")
            labels[k] = v
        taints = []
        for t in filter(None, self.flags["register-with-taints"].split(",")):
            kv, _, eff = t.partition(":")
            k, _, v = kv.partition("=")
            taint = {"key": k, "effect": eff}
            if v:
                taint["value"] = v
            taints.append(taint)
        n = {"apiVersion": "v1", "kind": "Node",
             "metadata": {"name": self.node_name, "labels": labels,
                          "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
             "spec": {}}
        if taints:
            n["spec"]["taints"] = taints
        return n

    def node_status(self):
        now = simclock.rfc3339()

        def cond(t, s, reason, msg):
            return {"type": t, "status": s, "reason": reason, "message": msg, "lastHeartbeatTime": now,
                    "lastTransitionTime": self.started}

        addrs = ([{"type": "InternalIP", "address": self.node_ip}] if self.node_ip else []) + \
            [{"type": "Hostname", "address": self.node_name}]
        cap = {"cpu": "2", "memory": "4005124Ki", "pods": "110", "ephemeral-storage": "20134592Ki"}
        return {"conditions": [
            cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated)")],
            "addresses": addrs, "capacity": cap, "allocatable": cap,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"kubeletVersion": VERSION, "kubeProxyVersion": VERSION, "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "sim://0", "osImage": "tests/sim",
                         "kernelVersion": os.uname().release, "machineID": "", "systemUUID": "", "bootID": ""}}

    def register(self):
        c = self.client
        try:
            c.create("nodes", self.node_object())
            log(f"registered Node {self.node_name}")
        except ApiError as e:
            if e.code != 409:
                raise
            log(f"Node {self.node_name} already exists; updating it")
        self.node_registered = True
        self.heartbeat(force=True)

    def heartbeat(self, force=False):
        every = min(10.0, int(self.config.get("nodeLeaseDurationSeconds", 40)) / 4)
        if not force and time.time() - self.last_status < every:
            return
        c = self.client
        c.patch("nodes", self.node_name, {"status": self.node_status()}, kind="strategic", sub="status")
        node = c.get("nodes", self.node_name)
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": self.node_name, "namespace": "kube-node-lease",
                              "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                   "uid": node["metadata"]["uid"]}]},
                 "spec": {"holderIdentity": self.node_name,
                          "leaseDurationSeconds": int(self.config.get("nodeLeaseDurationSeconds", 40)),
                          "renewTime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}
        try:
            c.update("leases", lease, "kube-node-lease", "coordination.k8s.io")
        except ApiError as e:
            if e.code != 404:
                raise
        self.last_status = time.time()

    def sync_mirrors(self):
        c = self.client
        want = {sp.full_name: sp for sp in self.pods.values()}
        for name in [n for n in self.mirrors if n not in want]:
            ns = self.mirrors.pop(name)[4]
            try:
                c.delete("pods", name, ns)
                log(f"mirror pod {ns}/{name} deleted (its static pod is gone)")
            except ApiError as e:
                if e.code != 404:
                    raise
        for name, sp in want.items():
            meta = sp.pod["metadata"]
            ann = dict(meta.get("annotations") or {})
            ann.update({"kubernetes.io/config.hash": sp.hash, "kubernetes.io/config.mirror": sp.hash,
                        "kubernetes.io/config.source": "file", "kubernetes.io/config.seen": simclock.rfc3339()})
            state = (sp.hash, sp.ready, sp.alive(), sp.restarts, meta.get("namespace", "default"))
            if self.mirrors.get(name) == state:
                continue
            cname = sp.pod["spec"]["containers"][0]["name"]
            status = {"phase": "Running" if sp.alive() else "Pending", "hostIP": self.node_ip, "podIP": self.node_ip,
                      "conditions": [{"type": "Ready", "status": "True" if sp.ready else "False"}],
                      "containerStatuses": [{"name": cname, "ready": sp.ready, "restartCount": sp.restarts,
                                             "started": sp.alive(), "image": sp.pod["spec"]["containers"][0].get("image"),
                                             "state": {"running": {"startedAt": sp.started_at}} if sp.alive()
                                             else {"waiting": {"reason": "CrashLoopBackOff" if sp.restarts
                                                               else "ContainerCreating"}}}]}
            node = c.get("nodes", self.node_name)
            obj = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": meta.get("namespace", "default"),
                                "labels": meta.get("labels") or {}, "annotations": ann,
                                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                     "uid": node["metadata"]["uid"], "controller": True}]},
                   "spec": dict(sp.pod["spec"], nodeName=self.node_name)}
            try:
                cur = c.get("pods", name, obj["metadata"]["namespace"])
                if cur["metadata"].get("annotations", {}).get("kubernetes.io/config.mirror") != sp.hash:
                    c.delete("pods", name, obj["metadata"]["namespace"])
                    raise ApiError(404, {})
            except ApiError as e:
                if e.code != 404:
                    raise
                c.create("pods", obj, obj["metadata"]["namespace"])
            c.update("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "status": status},
                     obj["metadata"]["namespace"], sub="status")
            self.mirrors[name] = state

    # ---- main loop ----
    def run(self):
        signal.signal(signal.SIGTERM, lambda *a: self.stop_ev.set())
        signal.signal(signal.SIGINT, lambda *a: self.stop_ev.set())
        self.started = simclock.rfc3339()
        log(f"starting (root {self.root}, version {VERSION})")
        while not self.load_config():
            if self.stop_ev.wait(1):
                return 0
        self.serve_healthz()
        last_api_try = 0.0
        while not self.stop_ev.is_set():
            try:
                self.sync_pods()
                for sp in self.pods.values():
                    sp.probe()
            except Exception as e:  # noqa: BLE001 - one bad pod must not stop the node
                log(f"error syncing pods: {e!r}")
            if time.time() - last_api_try >= 1:
                last_api_try = time.time()
                try:
                    if self.ensure_client():
                        if not self.node_registered:
                            self.register()
                        self.heartbeat()
                        self.rotate_if_needed()
                        self.sync_mirrors()
                except (ApiError, OSError) as e:
                    if getattr(self, "_last_err", None) != str(e):
                        log(f"API: {e}")
                    self._last_err = str(e)
            self.stop_ev.wait(0.5)
        log("stopping (static pods keep running, as containers do when the kubelet stops)")
        return 0


def pidfile_of(root):
    return os.path.join(root, "run/sim-kubelet/kubelet.pid")


def kill_container(pid, sig):
    """A signal to a container: its whole process group when pid leads one (pods run in sessions of their own,
    so keepalived's VRRP and checker children go with it, as a container's cgroup does)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except (ProcessLookupError, PermissionError):
        pass
    os.kill(pid, sig)


def stop_pid(pid, timeout=5):
    try:
        kill_container(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[1][0] == "Z":
                    return
        except OSError:
            return
        time.sleep(0.05)
    try:
        kill_container(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main():
    argv = sys.argv[1:]
    k = Kubelet(argv)
    pf = pidfile_of(k.root)
    if k.flags["daemon"] == "true":
        try:
            with open(pf) as f:
                old = int(f.read().strip())
            log(f"restarting: stopping kubelet pid {old}")
            stop_pid(old)
        except (OSError, ValueError):
            pass
        logp = k.host("/var/log/kubelet.log")
        os.makedirs(os.path.dirname(logp), exist_ok=True)
        pid = os.fork()
        if pid:
            with open(pf, "w") as f:
                f.write(f"{pid}\n")
            print(pid)
            return 0
        os.setsid()
        fd = os.open(logp, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        nul = os.open("/dev/null", os.O_RDONLY)
        os.dup2(nul, 0)
    else:
        with open(pf, "w") as f:
            f.write(f"{os.getpid()}\n")
    try:
        return k.run()
    finally:
        try:
            with open(pf) as f:
                if int(f.read().strip()) == os.getpid():
                    os.unlink(pf)
        except (OSError, ValueError):
            pass
