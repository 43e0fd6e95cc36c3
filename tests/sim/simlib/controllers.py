# SPDX-License-Identifier: Apache-2.0
"""The kube-controller-manager and kube-scheduler doubles.

Both take the flags of their static pod manifests, check the files those flags name, reach the API over
TLS with the client certificate of their --kubeconfig, take part in leader election (Leases
kube-system/kube-controller-manager and kube-system/kube-scheduler) and serve /healthz over HTTPS on their
--secure-port (10257 / 10259). The elected controller-manager runs the controllers a kubeadm cluster
relies on: bootstrapsigner, tokencleaner, garbage collection by ownerReferences, the CSR approver and
signer (kubelet TLS bootstrap), and the root-CA publisher (kube-root-ca.crt ConfigMaps)."""
import base64
import datetime
import http.server
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import bootstrap, simclock
from .kubeclient import ApiError, Client

NAME = "component"


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + f"{NAME}(sim): " + msg + "\n")
    sys.stderr.flush()


def parse_flags(argv, known):
    flags = dict(known)
    for a in argv:
        if not a.startswith("--"):
            log(f"ignoring argument {a}")
            continue
        k, eq, v = a[2:].partition("=")
        flags[k] = v if eq else "true"
        if k not in known:
            log(f"flag --{k}={flags[k]} accepted and ignored (not simulated)")
    return flags


def micro_time(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro(s):
    return simclock.parse_rfc3339(s)


def serve_healthz(bind, port, leader_state):
    """HTTPS /healthz, /livez, /readyz with a throwaway self-signed certificate, as the real components
    serve them (anonymous access allowed on these paths)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{bind}@{int(time.time())}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    d = tempfile.mkdtemp(prefix="sim-healthz-")
    cf, kf = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    with open(cf, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kf, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cf, kf)
    os.unlink(cf)
    os.unlink(kf)
    os.rmdir(d)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            p = self.path.split("?")[0]
            if p in ("/healthz", "/livez", "/readyz"):
                ok = leader_state.get("api_ok", False) or p == "/livez"
                body = b"ok" if ok else b"[-]api failed\nhealthz check failed\n"
                code = 200 if ok else 500
            else:
                body, code = b'{"kind":"Status","status":"Failure","code":403}', 403
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET

        def get_request(self):
            s, a = self.socket.accept()
            return ctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False), a

        def process_request_thread(self, request, client_address):
            try:
                request.settimeout(10)
                request.do_handshake()
            except (OSError, ssl.SSLError):
                self.shutdown_request(request)
                return
            super().process_request_thread(request, client_address)

        def handle_error(self, *a):
            pass

    srv = S((bind, int(port)), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Component:
    """What the controller-manager and scheduler doubles share: flags, kubeconfig, leader election."""

    lease_name = ""
    known = {}
    default_port = 0

    def __init__(self, argv):
        self.f = parse_flags(argv, self.known)
        self.stop = threading.Event()
        self.state = {"api_ok": False, "leader": False}
        for k in self.file_flags():
            p = self.f.get(k)
            if p and not os.access(p, os.R_OK):
                raise SystemExit(f"{NAME}(sim): --{k}: open {p}: no such file or directory")
        kc = self.f.get("kubeconfig")
        if not kc:
            raise SystemExit(f"{NAME}(sim): --kubeconfig is required (it reaches the API with its client cert)")
        self.c = Client.from_kubeconfig(kc, timeout=10)
        self.identity = f"{socket.gethostname()}_{uuid.uuid4()}"

    def file_flags(self):
        return ["kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "client-ca-file",
                "requestheader-client-ca-file", "root-ca-file", "cluster-signing-cert-file",
                "cluster-signing-key-file", "service-account-private-key-file"]

    def try_lead(self):
        """One leader-election round on the Lease; returns True while this process leads."""
        if self.f.get("leader-elect", "true") == "false":
            return True
        now = time.time()
        spec = {"holderIdentity": self.identity, "leaseDurationSeconds": 15, "acquireTime": micro_time(now),
                "renewTime": micro_time(now), "leaseTransitions": 0}
        try:
            lease = self.c.get("leases", self.lease_name, "kube-system", "coordination.k8s.io")
        except ApiError as e:
            if e.code != 404:
                raise
            try:
                self.c.create("leases", {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                         "metadata": {"name": self.lease_name, "namespace": "kube-system"},
                                         "spec": spec}, "kube-system", "coordination.k8s.io")
                log(f"successfully acquired lease kube-system/{self.lease_name}")
                return True
            except ApiError:
                return False
        cur = lease.get("spec") or {}
        holder = cur.get("holderIdentity")
        expired = True
        if cur.get("renewTime"):
            try:
                expired = parse_micro(cur["renewTime"]) + int(cur.get("leaseDurationSeconds", 15)) < now
            except ValueError:
                expired = True
        if holder != self.identity and not expired:
            return False
        if holder == self.identity:
            spec["acquireTime"] = cur.get("acquireTime", spec["acquireTime"])
            spec["leaseTransitions"] = cur.get("leaseTransitions", 0)
        else:
            spec["leaseTransitions"] = int(cur.get("leaseTransitions", 0)) + 1
        lease["spec"] = spec
        try:
            self.c.update("leases", lease, "kube-system", "coordination.k8s.io")
        except ApiError:
            return False
        if holder != self.identity:
            log(f"successfully acquired lease kube-system/{self.lease_name}")
        return True

    def work(self):
        pass

    def run(self):
        import signal
        signal.signal(signal.SIGTERM, lambda *a: self.stop.set())
        signal.signal(signal.SIGINT, lambda *a: self.stop.set())
        port = self.f.get("secure-port") or str(self.default_port)
        serve_healthz(self.f.get("bind-address") or "127.0.0.1", port, self.state)
        log(f"serving healthz on https://{self.f.get('bind-address') or '127.0.0.1'}:{port}; API via "
            f"{self.c.host}:{self.c.port} with the client certificate of {self.f['kubeconfig']}")
        last_lead = 0.0
        while not self.stop.is_set():
            try:
                if time.time() - last_lead >= 2 or not self.state["leader"]:
                    lead = self.try_lead()
                    if lead != self.state["leader"]:
                        log("leading" if lead else "not leading")
                    self.state["leader"] = lead
                    last_lead = time.time()
                self.state["api_ok"] = True
                if self.state["leader"]:
                    self.work()
            except (ApiError, OSError) as e:
                self.state["api_ok"] = isinstance(e, ApiError)
                log(f"API error: {e}")
            except Exception:  # noqa: BLE001 - a controller bug must show in the log, not stop the loop
                import traceback
                log("controller error:\n" + traceback.format_exc())
            self.stop.wait(float(os.environ.get("KF_SIM_CONTROLLER_PERIOD", "1")))
        return 0


class Scheduler(Component):
    lease_name = "kube-scheduler"
    default_port = 10259
    known = {"kubeconfig": "", "authentication-kubeconfig": "", "authorization-kubeconfig": "",
             "bind-address": "127.0.0.1", "leader-elect": "true", "secure-port": ""}


OWNER_RESOURCES = {
    ("v1", "Secret"): ("secrets", None), ("v1", "ConfigMap"): ("configmaps", None),
    ("v1", "ServiceAccount"): ("serviceaccounts", None), ("v1", "Service"): ("services", None),
    ("v1", "Pod"): ("pods", None), ("v1", "Node"): ("nodes", None), ("v1", "Namespace"): ("namespaces", None),
    ("apps/v1", "Deployment"): ("deployments", "apps"), ("apps/v1", "DaemonSet"): ("daemonsets", "apps"),
    ("coordination.k8s.io/v1", "Lease"): ("leases", "coordination.k8s.io"),
}
CLUSTER_SCOPED = {"nodes", "namespaces"}
GC_SCAN = [("/api/v1", "secrets"), ("/api/v1", "configmaps"), ("/api/v1", "serviceaccounts"),
           ("/api/v1", "services"), ("/api/v1", "pods"), ("/apis/apps/v1", "deployments"),
           ("/apis/apps/v1", "daemonsets"), ("/apis/coordination.k8s.io/v1", "leases"),
           ("/apis/rbac.authorization.k8s.io/v1", "roles"), ("/apis/rbac.authorization.k8s.io/v1", "rolebindings")]
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"


def parse_duration(s):
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in s:
        if ch.isdigit() or ch == ".":
            num += ch
        else:
            total += float(num) * units[ch]
            num = ""
    return total + (float(num) if num else 0)


class ControllerManager(Component):
    lease_name = "kube-controller-manager"
    default_port = 10257
    known = {"kubeconfig": "", "authentication-kubeconfig": "", "authorization-kubeconfig": "",
             "bind-address": "127.0.0.1", "leader-elect": "true", "secure-port": "", "client-ca-file": "",
             "cluster-signing-cert-file": "", "cluster-signing-key-file": "", "cluster-signing-duration": "8760h",
             "controllers": "*", "root-ca-file": "", "service-account-private-key-file": "",
             "use-service-account-credentials": "false", "cluster-name": "kubernetes",
             "requestheader-client-ca-file": "", "allocate-node-cidrs": "false", "cluster-cidr": "",
             "service-cluster-ip-range": "", "node-monitor-grace-period": "40s"}

    def __init__(self, argv):
        super().__init__(argv)
        ctl = [c.strip() for c in self.f["controllers"].split(",")]
        self.enabled = {}
        for name, default_on in (("bootstrapsigner", False), ("tokencleaner", False), ("garbagecollector", True),
                                 ("csrapproving", True), ("csrsigning", True), ("root-ca-cert-publisher", True),
                                 ("nodelifecycle", True)):
            on = ("*" in ctl and default_on) or name in ctl
            if "-" + name in ctl:
                on = False
            self.enabled[name] = on
        self.signer = None
        if self.enabled["csrsigning"] and self.f["cluster-signing-cert-file"] and self.f["cluster-signing-key-file"]:
            with open(self.f["cluster-signing-cert-file"], "rb") as fh:
                ca = x509.load_pem_x509_certificate(fh.read())
            with open(self.f["cluster-signing-key-file"], "rb") as fh:
                key = serialization.load_pem_private_key(fh.read(), None)
            self.signer = (ca, key)
        self.root_ca = None
        if self.f["root-ca-file"]:
            with open(self.f["root-ca-file"]) as fh:
                self.root_ca = fh.read()
        self.tick = 0
        log("controllers: " + ", ".join(k for k, v in self.enabled.items() if v))

    def work(self):
        self.tick += 1
        secrets = None
        if self.enabled["tokencleaner"] or self.enabled["bootstrapsigner"]:
            secrets = [s for s in self.c.list("secrets", "kube-system") if s.get("type") == bootstrap.SECRET_TYPE]
        if self.enabled["tokencleaner"]:
            secrets = self.tokencleaner(secrets)
        if self.enabled["bootstrapsigner"]:
            self.bootstrapsigner(secrets)
        if self.enabled["csrapproving"] or self.enabled["csrsigning"]:
            self.csr()
        if self.enabled["garbagecollector"] and self.tick % 2 == 0:
            self.gc()
        if self.enabled["root-ca-cert-publisher"] and self.root_ca and self.tick % 5 == 1:
            self.publish_root_ca()
        if self.enabled["nodelifecycle"] and self.tick % 2 == 0:
            self.node_lifecycle()

    # ---- node lifecycle: a node whose Lease is not renewed within the grace period becomes Unknown ----
    def node_lifecycle(self):
        grace = parse_duration(os.environ.get("KF_SIM_NODE_MONITOR_GRACE") or self.f["node-monitor-grace-period"])
        leases = {o["metadata"]["name"]: o for o in self.c.list("leases", "kube-node-lease", "coordination.k8s.io")}
        now = time.time()
        for n in self.c.list("nodes"):
            name = n["metadata"]["name"]
            conds = (n.get("status") or {}).get("conditions") or []
            ready = next((c for c in conds if c.get("type") == "Ready"), None)
            taints = (n.get("spec") or {}).get("taints") or []
            if ready and ready.get("status") == "True" and any(
                    t.get("key") == "node.kubernetes.io/unreachable" for t in taints):
                self.c.patch("nodes", name, {"spec": {"taints": [
                    t for t in taints if t.get("key") != "node.kubernetes.io/unreachable"] or None}}, kind="merge")
                log(f"nodelifecycle: node {name} is Ready again; unreachable taints removed")
                continue
            if not ready or ready.get("status") == "Unknown":
                continue
            rt = ((leases.get(name) or {}).get("spec") or {}).get("renewTime")
            try:
                last = parse_micro(rt) if rt else None
            except ValueError:
                last = None
            if last is None or now - last <= grace:
                continue
            for c in conds:
                if c.get("type") in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
                    c.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                              "message": "Kubelet stopped posting node status.",
                              "lastTransitionTime": simclock.rfc3339()})
            taints = [t for t in (n.get("spec") or {}).get("taints") or []
                      if t.get("key") != "node.kubernetes.io/unreachable"]
            taints += [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
                       {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                        "timeAdded": simclock.rfc3339()}]
            try:
                self.c.patch("nodes", name, {"status": {"conditions": conds}}, kind="merge", sub="status")
                self.c.patch("nodes", name, {"spec": {"taints": taints}}, kind="merge")
                log(f"nodelifecycle: node {name} is Unknown: its Lease was last renewed {now - last:.0f}s ago")
            except ApiError as e:
                if e.code not in (404, 409):
                    raise

    # ---- tokencleaner ----
    def tokencleaner(self, secrets):
        keep = []
        for s in secrets:
            if bootstrap.data_str(s, "expiration") and bootstrap.expired(s):
                m = s["metadata"]
                try:
                    self.c.delete("secrets", m["name"], "kube-system",
                                  body={"kind": "DeleteOptions", "apiVersion": "v1",
                                        "preconditions": {"uid": m["uid"]}})
                    log(f"tokencleaner: deleted expired bootstrap token Secret kube-system/{m['name']}")
                except ApiError as e:
                    if e.code not in (404, 409):
                        raise
                continue
            keep.append(s)
        return keep

    # ---- bootstrapsigner ----
    def bootstrapsigner(self, secrets):
        try:
            cm = self.c.get("configmaps", "cluster-info", "kube-public")
        except ApiError as e:
            if e.code == 404:
                return
            raise
        data = dict(cm.get("data") or {})
        content = data.get("kubeconfig")
        if content is None:
            return
        want = {k: v for k, v in data.items() if not k.startswith("jws-kubeconfig-")}
        for s in secrets:
            t = bootstrap.token_of(s)
            if not t or bootstrap.expired(s) or not bootstrap.usage(s, "signing"):
                continue
            want["jws-kubeconfig-" + t[0]] = bootstrap.detached_jws(content, t[0], t[1])
        if want != data:
            cm["data"] = want
            try:
                self.c.update("configmaps", cm, "kube-public")
                log("bootstrapsigner: cluster-info signatures now " +
                    (", ".join(sorted(k for k in want if k.startswith("jws-"))) or "none"))
            except ApiError as e:
                if e.code != 409:
                    raise

    # ---- CSR approver and signer ----
    def csr(self):
        for csr in self.c.list("certificatesigningrequests", group="certificates.k8s.io"):
            conds = {c.get("type") for c in (csr.get("status") or {}).get("conditions") or []}
            if self.enabled["csrapproving"] and not conds & {"Approved", "Denied"}:
                if self.approve(csr):
                    conds.add("Approved")
            if self.enabled["csrsigning"] and self.signer and "Approved" in conds and "Failed" not in conds \
                    and not (csr.get("status") or {}).get("certificate"):
                self.sign(csr["metadata"]["name"])

    def approve(self, csr):
        spec = csr.get("spec") or {}
        if spec.get("signerName") != KUBELET_CLIENT:
            return False
        try:
            req = x509.load_pem_x509_csr(base64.b64decode(spec.get("request", "")))
        except ValueError:
            return False
        orgs = [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        cns = [a.value for a in req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if orgs != ["system:nodes"] or len(cns) != 1 or not cns[0].startswith("system:node:"):
            return False
        try:
            req.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            return False
        except x509.ExtensionNotFound:
            pass
        usages = set(spec.get("usages") or [])
        if usages not in ({"digital signature", "key encipherment", "client auth"}, {"digital signature", "client auth"},
                          {"key encipherment", "client auth"}):
            return False
        sub = "selfnodeclient" if spec.get("username") == cns[0] else "nodeclient"
        sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": spec.get("username"), "uid": spec.get("uid", ""), "groups": spec.get("groups") or [],
                        "resourceAttributes": {"group": "certificates.k8s.io", "resource": "certificatesigningrequests",
                                               "verb": "create", "subresource": sub}}}
        r = self.c.create("subjectaccessreviews", sar, group="authorization.k8s.io")
        if not (r.get("status") or {}).get("allowed"):
            return False
        st = dict(csr.get("status") or {})
        st["conditions"] = list(st.get("conditions") or []) + [{
            "type": "Approved", "status": "True", "reason": "AutoApproved",
            "message": "Auto approving kubelet client certificate after SubjectAccessReview.",
            "lastUpdateTime": simclock.rfc3339(), "lastTransitionTime": simclock.rfc3339()}]
        csr["status"] = st
        try:
            self.c.update("certificatesigningrequests", csr, group="certificates.k8s.io", sub="approval")
            log(f"csrapproving: approved {csr['metadata']['name']} for {cns[0]} ({sub}, requested by "
                f"{spec.get('username')})")
            return True
        except ApiError as e:
            if e.code != 409:
                raise
            return False

    def sign(self, name):
        csr = self.c.get("certificatesigningrequests", name, group="certificates.k8s.io")
        spec = csr["spec"]
        if spec.get("signerName") not in (KUBELET_CLIENT, "kubernetes.io/kube-apiserver-client",
                                          "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown"):
            return
        ca, key = self.signer
        req = x509.load_pem_x509_csr(base64.b64decode(spec["request"]))
        now = datetime.datetime.now(datetime.timezone.utc)
        dur = parse_duration(self.f["cluster-signing-duration"])
        if spec.get("expirationSeconds"):
            dur = min(dur, max(600, int(spec["expirationSeconds"])))
        not_after = min(now + datetime.timedelta(seconds=dur), ca.not_valid_after.replace(tzinfo=datetime.timezone.utc))
        usages = set(spec.get("usages") or [])
        eku = []
        if "client auth" in usages:
            eku.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        if "server auth" in usages:
            eku.append(ExtendedKeyUsageOID.SERVER_AUTH)
        b = (x509.CertificateBuilder().subject_name(req.subject).issuer_name(ca.subject)
             .public_key(req.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature="digital signature" in usages, content_commitment=False,
                                          key_encipherment="key encipherment" in usages, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False))
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        try:
            b = b.add_extension(req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, False)
        except x509.ExtensionNotFound:
            pass
        cert = b.sign(key, hashes.SHA256())
        csr.setdefault("status", {})["certificate"] = base64.b64encode(
            cert.public_bytes(serialization.Encoding.PEM)).decode()
        try:
            self.c.update("certificatesigningrequests", csr, group="certificates.k8s.io", sub="status")
            log(f"csrsigning: issued {name} ({req.subject.rfc4514_string()}, until {not_after:%Y-%m-%dT%H:%M:%SZ})")
        except ApiError as e:
            if e.code != 409:
                raise

    # ---- garbage collector ----
    def _owner_present(self, ns, ref):
        r = OWNER_RESOURCES.get((ref.get("apiVersion"), ref.get("kind")))
        if r is None:
            return True  # unknown kinds are never treated as gone
        res, group = r
        try:
            o = self.c.get(res, ref.get("name"), None if res in CLUSTER_SCOPED else ns, group)
        except ApiError as e:
            if e.code == 404:
                return False
            raise
        return o["metadata"].get("uid") == ref.get("uid")

    def gc(self):
        for base, res in GC_SCAN:
            for o in self.c.request("GET", f"{base}/{res}")["items"]:
                m = o["metadata"]
                refs = m.get("ownerReferences") or []
                if not refs or any(self._owner_present(m.get("namespace"), r) for r in refs):
                    continue
                path = f"{base}/namespaces/{m['namespace']}/{res}/{m['name']}"
                try:
                    self.c.request("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1",
                                                    "preconditions": {"uid": m["uid"]},
                                                    "propagationPolicy": "Background"})
                    log(f"garbagecollector: deleted {res} {m.get('namespace')}/{m['name']}: every owner is gone "
                        f"({', '.join(r.get('kind', '') + '/' + r.get('name', '') for r in refs)})")
                except ApiError as e:
                    if e.code not in (404, 409):
                        raise

    # ---- root CA publisher ----
    def publish_root_ca(self):
        for ns in self.c.list("namespaces"):
            n = ns["metadata"]["name"]
            try:
                self.c.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "kube-root-ca.crt", "namespace": n,
                                                          "annotations": {"kubernetes.io/description": (
                                                              "Contains a CA bundle that can be used to verify the "
                                                              "kube-apiserver when using internal endpoints such as "
                                                              "the internal service IP or kubernetes.default.svc. "
                                                              "No other usage is guaranteed across distributions of "
                                                              "Kubernetes clusters.")}},
                                             "data": {"ca.crt": self.root_ca}}, n)
            except ApiError as e:
                if e.code not in (409, 403, 404):
                    raise


def main_controller_manager():
    global NAME
    NAME = "kube-controller-manager"
    return ControllerManager(sys.argv[1:]).run()


def main_scheduler():
    global NAME
    NAME = "kube-scheduler"
    return Scheduler(sys.argv[1:]).run()
