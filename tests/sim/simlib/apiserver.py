# SPDX-License-Identifier: Apache-2.0
"""The kube-apiserver double.

Started with the flags of a kube-apiserver static pod manifest. Serves HTTPS with --tls-cert-file /
--tls-private-key-file, authenticates client certificates against --client-ca-file (CN = user,
O = groups), bootstrap tokens (its own bootstrap-token-* Secrets) and anonymous requests, authorizes with
the Node authorizer (approximation) and real RBAC evaluation, and keeps every object in the real etcd
named by --etcd-servers (JSON under /registry/<resource>/..., resourceVersion = etcd mod_revision), so
several doubles in front of one etcd cluster behave like an HA control plane."""
import base64
import binascii
import http.server
import ipaddress
import email.utils
import json
import os
import random
import re
import secrets as pysecrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from . import bootstrap, patch, rbac, resources, simclock
from .etcdgw import Etcd, EtcdError

K8S_VERSION = os.environ.get("KF_SIM_K8S_VERSION", "v1.38.0")

KNOWN_FLAGS = {
    "tls-cert-file": None, "tls-private-key-file": None, "client-ca-file": None, "etcd-servers": None,
    "etcd-cafile": None, "etcd-certfile": None, "etcd-keyfile": None, "secure-port": "6443",
    "bind-address": "0.0.0.0", "advertise-address": None, "service-account-key-file": None,
    "service-account-signing-key-file": None, "service-account-issuer": None, "anonymous-auth": "true",
    "enable-bootstrap-token-auth": "false", "authorization-mode": "AlwaysAllow",
    "service-cluster-ip-range": "10.96.0.0/12", "etcd-prefix": "/registry",
    "enable-admission-plugins": "", "requestheader-client-ca-file": None,
}
# Flags a real kube-apiserver has and the double accepts without acting on them.
IGNORED_FLAGS = {
    "allow-privileged", "kubelet-client-certificate", "kubelet-client-key", "kubelet-preferred-address-types",
    "proxy-client-cert-file", "proxy-client-key-file", "requestheader-allowed-names",
    "requestheader-extra-headers-prefix", "requestheader-group-headers", "requestheader-username-headers",
    "audit-log-path", "audit-policy-file", "feature-gates", "profiling", "v", "authorization-config",
    "encryption-provider-config", "tls-min-version", "tls-cipher-suites", "runtime-config",
    "disable-admission-plugins", "api-audiences", "endpoint-reconciler-type",
}


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + "kube-apiserver(sim): " + msg + "\n")
    sys.stderr.flush()


def parse_flags(argv):
    flags, unknown = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if not a.startswith("--"):
            unknown.append(a)
            continue
        k, eq, v = a[2:].partition("=")
        if not eq:
            if k in KNOWN_FLAGS and i < len(argv) and not argv[i].startswith("--"):
                v = argv[i]
                i += 1
            else:
                v = "true"
        flags[k] = v
    for k in list(flags):
        if k not in KNOWN_FLAGS:
            if k not in IGNORED_FLAGS:
                unknown.append("--" + k)
            log(f"flag --{k}={flags[k]} accepted and ignored (not simulated)")
    out = {k: (flags.get(k, d)) for k, d in KNOWN_FLAGS.items()}
    return out, unknown


class APIError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
             "reason": self.reason, "code": self.code}
        if self.details is not None:
            s["details"] = self.details
        return s


def _details(res, name):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.name
    return d


def not_found(res, name):
    return APIError(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def already_exists(res, name):
    return APIError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name))


def conflict(res, name, why="the object has been modified; please apply your changes to the latest version "
                             "and try again"):
    return APIError(409, "Conflict", f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}',
                    _details(res, name))


def invalid(res, name, field, value, detail):
    msg = f'{field}: Invalid value: {json.dumps(value)}: {detail}'
    d = {"name": name, "kind": res.kind, "causes": [{"reason": "FieldValueInvalid", "message": msg.split(": ", 1)[1],
                                                    "field": field}]}
    if res.group:
        d["group"] = res.group
    return APIError(422, "Invalid", f'{res.kind} "{name}" is invalid: {msg}', d)


def required(res, name, field):
    d = {"name": name, "kind": res.kind, "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                                    "field": field}]}
    return APIError(422, "Invalid", f'{res.kind} "{name}" is invalid: {field}: Required value', d)


def bad_request(msg):
    return APIError(400, "BadRequest", msg)


def forbidden(a, res=None, name=""):
    who = f'User "{a.user}" cannot {a.verb}'
    if not a.resource_request:
        return APIError(403, "Forbidden", f'forbidden: {who} path "{a.path}"', {})
    r = a.resource + ("/" + a.subresource if a.subresource else "")
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    q = res.qualified if res else a.resource
    head = f'{q} "{name}" is forbidden' if name else f"{q} is forbidden"
    return APIError(403, "Forbidden", f'{head}: {who} resource "{r}" in API group "{a.api_group}" {where}',
                    _details(res, name) if res else {})


DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUB_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
             "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
PATH_SEGMENT_BAD = re.compile(r"[/%]")


# The fields each kind has at the top level and in metadata: anything else is an unknown field, dropped
# with a warning, or refused with fieldValidation=Strict (as the real decoder does; nested fields are
# only checked in metadata and ownerReferences).
META_FIELDS = {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
               "ownerReferences", "finalizers", "managedFields"}
OWNER_REF_FIELDS = {"apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"}
TOP_FIELDS = {
    "ConfigMap": {"data", "binaryData", "immutable"}, "Secret": {"data", "stringData", "type", "immutable"},
    "Role": {"rules"}, "ClusterRole": {"rules", "aggregationRule"}, "RoleBinding": {"roleRef", "subjects"},
    "ClusterRoleBinding": {"roleRef", "subjects"}, "ServiceAccount": {"secrets", "imagePullSecrets",
                                                                       "automountServiceAccountToken"},
    "Event": {"involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
              "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"},
    "Endpoints": {"subsets"},
}


def unknown_fields(res, obj):
    out = []
    allowed = {"apiVersion", "kind", "metadata"} | TOP_FIELDS.get(res.kind, {"spec", "status"})
    out += [k for k in obj if k not in allowed]
    m = obj.get("metadata") or {}
    out += [f"metadata.{k}" for k in m if k not in META_FIELDS]
    for i, r in enumerate(m.get("ownerReferences") or []):
        if isinstance(r, dict):
            out += [f"metadata.ownerReferences[{i}].{k}" for k in r if k not in OWNER_REF_FIELDS]
    return out


# Registries built with ReturnDeletedObject (or their own Delete) answer a delete with the object.
RETURN_DELETED_OBJECT = {"pods", "serviceaccounts", "services", "namespaces"}


class User:
    def __init__(self, name, groups, how, extra=None, uid=""):
        self.name = name
        self.groups = list(groups)
        if name != "system:anonymous" and "system:authenticated" not in self.groups:
            self.groups.append("system:authenticated")
        self.how = how
        self.extra = extra or {}
        self.uid = uid


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"], "anonymous")


class Server:
    def __init__(self, flags):
        self.f = flags
        self.prefix = flags["etcd-prefix"].rstrip("/")
        self.etcd = Etcd(flags["etcd-servers"] or "", flags["etcd-cafile"], flags["etcd-certfile"],
                         flags["etcd-keyfile"], timeout=10)
        self.modes = [m.strip() for m in (flags["authorization-mode"] or "").split(",") if m.strip()]
        self.admission = [m.strip() for m in (flags["enable-admission-plugins"] or "").split(",") if m.strip()]
        self.anonymous = flags["anonymous-auth"] != "false"
        self.token_auth = flags["enable-bootstrap-token-auth"] == "true"
        self.ready = False
        self.etcd_ok = False
        self._rbac = None
        self._rbac_at = 0.0
        self._rbac_retry = 0.0
        self._rbac_lock = threading.Lock()
        self.started = time.time()

    # ---- storage ----
    def key(self, res, ns, name):
        if res.namespaced:
            return f"{self.prefix}/{res.storage}/{ns}/{name}"
        return f"{self.prefix}/{res.storage}/{name}"

    def list_prefix(self, res, ns):
        if res.namespaced and ns:
            return f"{self.prefix}/{res.storage}/{ns}/"
        return f"{self.prefix}/{res.storage}/"

    @staticmethod
    def decode(value, rev):
        o = json.loads(value)
        o.setdefault("metadata", {})["resourceVersion"] = str(rev)
        return o

    @staticmethod
    def encode(o):
        o = dict(o)
        m = dict(o.get("metadata") or {})
        m.pop("resourceVersion", None)
        o["metadata"] = m
        return json.dumps(o, separators=(",", ":"), sort_keys=False).encode()

    def read(self, res, ns, name):
        """(object, mod_revision) or (None, 0)."""
        r = self.etcd.get(self.key(res, ns, name))
        if not r:
            return None, 0
        return self.decode(r[0], r[1]), r[1]

    def list(self, res, ns, timeout=None):
        kvs, rev = self.etcd.range_prefix(self.list_prefix(res, ns), timeout=timeout)
        out = []
        for k, v, mod, _ in kvs:
            rest = k[len(self.list_prefix(res, ns)):]
            if res.namespaced and ns and "/" in rest:
                continue
            if res.namespaced and not ns and rest.count("/") != 1:
                continue
            if not res.namespaced and "/" in rest:
                continue
            out.append(self.decode(v, mod))
        return out, rev

    # ---- RBAC snapshot (informer-like: refreshed every 0.5 s, and at once after RBAC writes here; when
    # etcd does not answer, authorization goes on with the last snapshot, as from an informer cache) ----
    def rbac_snapshot(self):
        with self._rbac_lock:
            now = time.time()
            if self._rbac is None or (now - self._rbac_at > 0.5 and now >= self._rbac_retry):
                try:
                    lists = []
                    for n in ("clusterroles", "clusterrolebindings", "roles", "rolebindings"):
                        lists.append(self.list(resources.lookup(rbac.API, "v1", n), None,
                                               timeout=1 if self._rbac else None)[0])
                    self._rbac = rbac.Snapshot(*lists)
                    self._rbac_at = time.time()
                except (OSError, EtcdError):
                    if self._rbac is None:
                        raise
                    self._rbac_retry = time.time() + 2
            return self._rbac

    def invalidate_rbac(self):
        with self._rbac_lock:
            self._rbac = None

    def authorize(self, a):
        """(allowed, reason). Authorizer chain as configured by --authorization-mode."""
        if "system:masters" in a.groups:
            return True, "system:masters"
        for m in self.modes:
            if m == "AlwaysAllow":
                return True, "AlwaysAllow"
            if m == "AlwaysDeny":
                return False, "AlwaysDeny"
            if m == "Node":
                d, why = rbac.node_authorizer(a)
                if d:
                    return True, "Node"
            if m == "RBAC":
                ok, why = self.rbac_snapshot().allows(a)
                if ok:
                    return True, why
        return False, ""

    # ---- authentication ----
    def authenticate(self, handler):
        cert = None
        try:
            cert = handler.connection.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        if cert:
            cn, orgs = "", []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            if cn:
                return User(cn, orgs, "x509")
        auth = handler.headers.get("Authorization", "")
        if auth:
            if not auth.lower().startswith("bearer "):
                raise APIError(401, "Unauthorized", "Unauthorized")
            token = auth[7:].strip()
            u = self.token_user(token) if self.token_auth else None
            if u is None:
                raise APIError(401, "Unauthorized", "Unauthorized")
            return u
        if self.anonymous:
            return ANONYMOUS
        raise APIError(401, "Unauthorized", "Unauthorized")

    def token_user(self, token):
        m = bootstrap.TOKEN_RE.match(token)
        if not m:
            return None
        tid, tsec = m.group(1), m.group(2)
        sres = resources.lookup("", "v1", "secrets")
        s, _ = self.read(sres, "kube-system", bootstrap.PREFIX + tid)
        if not s or s.get("metadata", {}).get("deletionTimestamp"):
            return None
        t = bootstrap.token_of(s)
        if not t or not pysecrets.compare_digest(t[1].encode(), tsec.encode()):
            return None
        if bootstrap.expired(s):
            log(f"bootstrap token {tid} rejected: expired")
            return None
        if not bootstrap.usage(s, "authentication"):
            return None
        groups = ["system:bootstrappers"] + [g for g in bootstrap.extra_groups(s) if bootstrap.GROUP_RE.match(g)]
        return User("system:bootstrap:" + tid, groups, "bootstrap-token")

    # ---- start-up: what a real apiserver creates ----
    def bootstrap_objects(self):
        ns_res = resources.lookup("", "v1", "namespaces")
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create_if_missing(ns_res, None, {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                                                  "spec": {"finalizers": ["kubernetes"]},
                                                  "status": {"phase": "Active"}})
        for rname, ns, obj in rbac.default_objects():
            self.create_if_missing(resources.lookup(rbac.API, "v1", rname), ns, obj)
        svc = resources.lookup("", "v1", "services")
        net = ipaddress.ip_network(self.f["service-cluster-ip-range"].split(",")[0], strict=False)
        self.create_if_missing(svc, "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": str(net[1]), "clusterIPs": [str(net[1])],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                "targetPort": int(self.f["secure-port"])}], "sessionAffinity": "None"}})
        if self.f["client-ca-file"]:
            with open(self.f["client-ca-file"]) as fh:
                ca = fh.read()
            cm = resources.lookup("", "v1", "configmaps")
            self.create_if_missing(cm, "kube-system", {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system"},
                "data": {"client-ca-file": ca}})

    def create_if_missing(self, res, ns, obj):
        m = obj["metadata"]
        m.setdefault("uid", str(uuid.uuid4()))
        m.setdefault("creationTimestamp", simclock.rfc3339())
        self.etcd.create(self.key(res, ns, m["name"]), self.encode(obj))

    def init_loop(self, stop):
        while not stop.is_set():
            try:
                self.bootstrap_objects()
                self.etcd_ok = True
                self.ready = True
                log("storage ready: default namespaces, RBAC bootstrap policy and services present")
                break
            except (OSError, EtcdError) as e:
                log(f"waiting for etcd {self.f['etcd-servers']}: {e}")
                stop.wait(1)
        while not stop.is_set():
            stop.wait(2)
            try:
                # Like the real etcd health check: a linearizable read, which needs quorum.
                self.etcd.call("/v3/kv/range", {"key": "aGVhbHRo"}, timeout=2)
                self.etcd_ok = True
            except (OSError, EtcdError):
                self.etcd_ok = False


def _label_match(labels, selector):
    if not selector:
        return True
    labels = labels or {}
    for term in re.split(r",(?![^()]*\))", selector):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([^!=\s]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            vals = [v.strip() for v in m.group(3).split(",")]
            has = labels.get(m.group(1)) in vals and m.group(1) in labels
            if (m.group(2) == "in") != has:
                return False
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "==" in term or "=" in term:
            k, v = re.split(r"==?", term, maxsplit=1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field_match(o, selector):
    if not selector:
        return True
    for term in selector.split(","):
        neg = "!=" in term
        k, v = re.split(r"!=|==?", term, maxsplit=1)
        cur = o
        for p in k.strip().split("."):
            cur = cur.get(p) if isinstance(cur, dict) else None
        cur = "" if cur is None else str(cur)
        if (cur == v.strip()) == neg:
            return False
    return True


FAULTS_LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-sim"

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        """The Date header from the apiserver's clock: the simulated one (KF_SIM_CLOCK)."""
        return email.utils.formatdate(simclock.now() if timestamp is None else timestamp, usegmt=True)

    @property
    def api(self):
        return self.server.api

    def _write(self, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for w in getattr(self, "warnings", None) or []:
            self.send_header("Warning", w)
        self.warnings = []
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 3 * 1024 * 1024:
            raise APIError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
        raw = self.rfile.read(n) if n else b""
        return raw

    def _json_body(self):
        raw = self._body()
        if not raw:
            raise bad_request("the body of the request was empty")
        try:
            return json.loads(raw)
        except ValueError as e:
            ct = self.headers.get("Content-Type", "")
            if "yaml" in ct:
                import yaml
                try:
                    return yaml.safe_load(raw)
                except yaml.YAMLError:
                    pass
            raise bad_request(f"json: {e}")

    def injected_fault(self, user):
        """A test's fault for this request, from <node root>/etc/kf-sim/apiserver-faults.json (a list of
        {"method", "path", "user_prefix", "status", "message", "skip", "count"}: the first skip matching
        requests pass, the next count fail):
        an etcd without quorum, as the real apiserver reports it (500 and the etcd error). None otherwise."""
        root = os.environ.get("KF_SIM_ROOT")
        if not root:
            return None
        path = os.path.join(root, "etc/kf-sim/apiserver-faults.json")
        with FAULTS_LOCK:
            try:
                with open(path) as f:
                    rules = json.load(f)
            except (OSError, ValueError):
                return None
            for rule in rules:
                if rule.get("count", 0) <= 0 or rule.get("method", self.command) != self.command:
                    continue
                if rule.get("path") != urllib.parse.urlsplit(self.path).path:
                    continue
                if not (user.name if user else "").startswith(rule.get("user_prefix", "")):
                    continue
                skipped = rule.get("skip", 0) > 0  # this one passes: a fault that starts after a success
                rule["skip" if skipped else "count"] -= 1
                with open(path + ".tmp", "w") as f:
                    json.dump(rules, f)
                os.rename(path + ".tmp", path)
                if skipped:
                    return None
                msg = rule.get("message", "etcdserver: request timed out")
                return APIError(rule.get("status", 500), "InternalError", f"Internal error occurred: {msg}",
                                {"causes": [{"message": msg}]})
        return None

    def handle_one(self):
        t0 = time.time()
        code = 500
        user = None
        try:
            user = self.api.authenticate(self)
            self.user = user
            fault = self.injected_fault(user)
            if fault:
                raise fault
            code = self.route(user)
        except APIError as e:
            code = e.code
            self._write(e.code, e.status())
        except (EtcdError, OSError) as e:
            code = 500
            if isinstance(e, (BrokenPipeError, ConnectionResetError)):
                return
            msg = f"etcdserver: {e}" if isinstance(e, EtcdError) else f"rpc error: {e}"
            try:
                self._write(500, APIError(500, "InternalError", f"Internal error occurred: {msg}",
                                          {"causes": [{"message": msg}]}).status())
            except OSError:
                pass
        finally:
            quiet = code == 200 and self.path.split("?")[0] in ("/healthz", "/livez", "/readyz")
            if os.environ.get("KF_SIM_APISERVER_QUIET") != "1" and not quiet:
                who = user.name if user else "?"
                log(f'{self.command} {self.path} user="{who}" -> {code} ({(time.time() - t0) * 1000:.0f} ms)')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one

    # ---- routing ----
    def route(self, user):
        u = urllib.parse.urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        self.q = q
        parts = [p for p in path.split("/") if p]
        # Resource requests: /api/v1/... and /apis/<group>/<version>/...
        if parts[:1] == ["api"] and len(parts) >= 3 and parts[1] == "v1":
            return self.resource_request(user, "", "v1", parts[2:])
        if parts[:1] == ["apis"] and len(parts) >= 4:
            return self.resource_request(user, parts[1], parts[2], parts[3:])
        return self.nonresource(user, u.path, parts)

    def nonresource(self, user, path, parts):
        a = rbac.Attributes(user.name, user.groups, self.command.lower(), resource_request=False, path=path)
        ok, _ = self.api.authorize(a)
        if not ok:
            raise forbidden(a)
        if self.command not in ("GET", "HEAD"):
            raise APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return self.health(parts[0], parts[1:])
        if path.rstrip("/") == "/version":
            major, minor = K8S_VERSION.lstrip("v").split(".")[:2]
            return self._ok({"major": major, "minor": minor, "gitVersion": K8S_VERSION, "gitCommit": "sim",
                             "gitTreeState": "clean", "buildDate": "2024-01-01T00:00:00Z",
                             "goVersion": "python-double", "compiler": "gc", "platform": "linux/amd64"})
        if parts[:2] == ["openapi", "v3"]:
            if len(parts) == 2:
                return self._ok(resources.openapi_v3_root())
            gv = parts[2:]
            if gv[:1] == ["api"] and gv[1:] == ["v1"]:
                return self._ok(resources.openapi_v3_gv("", "v1"))
            if gv[:1] == ["apis"] and len(gv) == 3 and (gv[1], gv[2]) in resources.BY_GV:
                return self._ok(resources.openapi_v3_gv(gv[1], gv[2]))
        if parts == ["api"]:
            adv = self.api.f["advertise-address"] or "0.0.0.0"
            return self._ok({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{adv}:{self.api.f['secure-port']}"}]})
        if parts == ["apis"]:
            groups = []
            for g in resources.GROUPS:
                gv = {"groupVersion": f"{g}/v1", "version": "v1"}
                groups.append({"name": g, "versions": [gv], "preferredVersion": gv})
            return self._ok({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if parts == ["api", "v1"]:
            return self._ok(resources.discovery_list("", "v1"))
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in resources.GROUPS:
            gv = {"groupVersion": f"{parts[1]}/v1", "version": "v1"}
            return self._ok({"kind": "APIGroup", "apiVersion": "v1", "name": parts[1], "versions": [gv],
                             "preferredVersion": gv})
        if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in resources.BY_GV:
            return self._ok(resources.discovery_list(parts[1], parts[2]))
        raise APIError(404, "NotFound", "the server could not find the requested resource", {})

    def _ok(self, body, code=200):
        self._write(code, body)
        return code

    def health(self, kind, rest):
        checks = [("ping", True), ("log", True), ("etcd", self.api.etcd_ok)]
        if kind == "readyz":
            checks.append(("informer-sync", self.api.ready))
            checks.append(("poststarthook/rbac/bootstrap-roles", self.api.ready))
        if kind == "livez" and not self.api.ready and time.time() - self.api.started < 60:
            checks = [("ping", True), ("log", True), ("etcd", True)]
        if rest:
            c = dict(checks).get(rest[0])
            if c is None:
                raise APIError(404, "NotFound", "the server could not find the requested resource", {})
            checks = [(rest[0], c)]
        ok = all(c for _, c in checks)
        if "verbose" in self.q or not ok:
            lines = [f"[+]{n} ok" if c else f"[-]{n} failed: reason withheld" for n, c in checks]
            lines.append(f"{kind} check passed" if ok else f"{kind} check failed")
            body = "\n".join(lines) + "\n"
        else:
            body = "ok"
        self._write(200 if ok else 500, body, "text/plain; charset=utf-8",
                    {"X-Content-Type-Options": "nosniff"})
        return 200 if ok else 500

    def resource_request(self, user, group, version, parts):
        ns = ""
        if len(parts) >= 2 and parts[0] == "namespaces" and len(parts) >= 3 and parts[2] not in ("status", "finalize"):
            ns = parts[1]
            parts = parts[2:]
        res = resources.lookup(group, version, parts[0])
        if res is None or (ns and not res.namespaced):
            raise APIError(404, "NotFound", "the server could not find the requested resource", {})
        name = parts[1] if len(parts) > 1 else ""
        sub = parts[2] if len(parts) > 2 else ""
        if len(parts) > 3 or (sub and sub not in res.subresources):
            raise APIError(404, "NotFound", "the server could not find the requested resource", {})
        m = self.command
        if m in ("GET", "HEAD"):
            verb = "get" if name else ("watch" if self.q.get("watch") in ("true", "1") else "list")
        elif m == "POST":
            verb = "create"
            if name and not sub:
                raise APIError(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource")
        elif m == "PUT":
            verb = "update"
        elif m == "PATCH":
            verb = "patch"
        elif m == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if res.virtual and verb != "create":
            raise APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if not res.namespaced:
            authz_ns = name if res.name == "namespaces" else ""
        else:
            authz_ns = ns
        a = rbac.Attributes(user.name, user.groups, verb, True, group, res.name, sub, authz_ns, name)
        if verb == "create" and not name:
            a.name = ""
        ok, _ = self.api.authorize(a)
        if not ok:
            raise forbidden(a, res, name)
        if res.virtual:
            return self.review(user, res)
        if res.namespaced and not ns and verb not in ("list", "watch"):
            raise APIError(404, "NotFound", "the server could not find the requested resource", {})
        if verb == "get":
            return self.get(res, ns, name, sub)
        if verb == "list":
            return self.list(res, ns)
        if verb == "watch":
            return self.watch(res, ns)
        if verb == "create":
            return self.create(user, res, ns, self._json_body())
        if verb == "update":
            return self.update(user, res, ns, name, sub, self._json_body())
        if verb == "patch":
            return self.patch(user, res, ns, name, sub)
        if verb == "delete":
            return self.delete(user, res, ns, name)
        if verb == "deletecollection" and res.name != "namespaces":
            return self.delete_collection(user, res, ns)
        raise APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def wants_table(self):
        acc = self.headers.get("Accept", "")
        if "as=Table" not in acc:
            return None
        return "v1" if re.search(r"as=Table;v=v1;g=meta\.k8s\.io", acc) else "v1beta1"

    def get(self, res, ns, name, sub):
        o, _ = self.api.read(res, ns, name)
        if o is None:
            raise not_found(res, name)
        tv = self.wants_table()
        if tv and not sub:
            return self._ok(resources.table(res, [o], o["metadata"]["resourceVersion"],
                                            self.q.get("includeObject", "Metadata"), tv))
        return self._ok(o)

    def _filter(self, objs):
        ls, fs = self.q.get("labelSelector", ""), self.q.get("fieldSelector", "")
        return [o for o in objs if _label_match(o["metadata"].get("labels"), ls) and _field_match(o, fs)]

    def list(self, res, ns):
        objs, rev = self.api.list(res, ns)
        objs = self._filter(objs)
        tv = self.wants_table()
        if tv:
            return self._ok(resources.table(res, objs, str(rev), self.q.get("includeObject", "Metadata"), tv))
        items = []
        for o in objs:
            o = dict(o)
            o.pop("kind", None)
            o.pop("apiVersion", None)
            items.append(o)
        return self._ok({"kind": res.kind + "List", "apiVersion": res.api_version,
                         "metadata": {"resourceVersion": str(rev)}, "items": items})

    def watch(self, res, ns):
        """A watch as an etcd watch on the resource's prefix: every change since resourceVersion, in order
        (resourceVersion unset or "0": the current objects first, as ADDED)."""
        timeout = min(int(self.q.get("timeoutSeconds") or 1800), 1800)
        rv = self.q.get("resourceVersion", "")
        prefix = self.api.list_prefix(res, ns)
        initial = []
        if rv in ("", "0"):
            objs, rev = self.api.list(res, ns)
            initial = self._filter(objs)
            start = rev + 1
        elif rv.isdigit():
            start = int(rv) + 1
        else:
            raise bad_request(f'invalid resource version "{rv}"')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(ev):
            b = json.dumps(ev).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            self.wfile.flush()

        try:
            for o in initial:
                send({"type": "ADDED", "object": o})
            for typ, key, val, mod, create, prev in self.api.etcd.watch(prefix, start, time.time() + timeout):
                rest = key[len(prefix):]
                if (res.namespaced and ns and "/" in rest) or (res.namespaced and not ns and rest.count("/") != 1) \
                        or (not res.namespaced and "/" in rest):
                    continue
                if typ == "DELETE":
                    if prev is None:
                        continue
                    o, et = self.api.decode(prev, mod), "DELETED"
                else:
                    o, et = self.api.decode(val, mod), ("ADDED" if create == mod else "MODIFIED")
                if self._filter([o]):
                    send({"type": et, "object": o})
            self.wfile.write(b"0\r\n\r\n")
        except EtcdError as e:
            if e.status == 410:
                try:
                    send({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                      "status": "Failure", "message": f"too old resource version: "
                                                      f"{rv}", "reason": "Expired", "code": 410}})
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
        except OSError:
            pass
        self.close_connection = True
        return 200

    # ---- writes ----
    def _dry(self):
        return "All" in (urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("dryRun") or [])

    def _check_kind(self, res, obj):
        if not isinstance(obj, dict):
            raise bad_request("the object provided is not a JSON object")
        k, av = obj.get("kind"), obj.get("apiVersion")
        if k and k != res.kind or av and av != res.api_version:
            raise bad_request(f'the API version in the data ({av}) does not match the expected API version '
                              f'({res.api_version})' if av != res.api_version else
                              f"the kind in the data ({k}) does not match the expected kind ({res.kind})")
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version

    def field_validation(self, res, obj):
        """Unknown fields: dropped with a Warning header (the default), or 400 with fieldValidation=Strict."""
        bad = unknown_fields(res, obj)
        if not bad:
            return
        mode = self.q.get("fieldValidation", "Warn")
        if mode == "Strict":
            raise bad_request(f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: strict '
                              "decoding error: " + ", ".join(f'unknown field "{b}"' for b in bad))
        for b in bad:
            path = b.split(".")
            cur = obj
            for part in path[:-1]:
                m = re.match(r"^(\w+)\[(\d+)\]$", part)
                cur = cur[m.group(1)][int(m.group(2))] if m else cur[part]
            cur.pop(path[-1], None)
        if mode != "Ignore":
            self.warnings = [f'299 - "unknown field \\"{b}\\""' for b in bad]

    def validate(self, res, obj, old=None):
        self.field_validation(res, obj)
        m = obj.setdefault("metadata", {})
        name = m.get("name", "")
        if not name:
            raise required(res, name, "metadata.name")
        if res.name == "namespaces":
            if not DNS1123_LABEL.match(name) or len(name) > 63:
                raise invalid(res, name, "metadata.name", name, LABEL_MSG)
        elif res.group == rbac.API or res.name == "certificatesigningrequests":
            if PATH_SEGMENT_BAD.search(name) or name in (".", ".."):
                raise invalid(res, name, "metadata.name", name, "may not contain '/' or '%'")
        elif res.name == "services":
            if not DNS1123_LABEL.match(name):
                raise invalid(res, name, "metadata.name", name, LABEL_MSG)
        elif not DNS1123_SUB.match(name) or len(name) > 253:
            raise invalid(res, name, "metadata.name", name, SUB_MSG)
        for k, v in (m.get("labels") or {}).items():
            if not isinstance(v, str):
                raise bad_request(f"json: cannot unmarshal {type(v).__name__} into Go struct field "
                                  f"ObjectMeta.metadata.labels of type string")
        for ref in m.get("ownerReferences") or []:
            for f in ("apiVersion", "kind", "name", "uid"):
                if not ref.get(f):
                    raise required(res, name, f"metadata.ownerReferences.{f}")
        if res.name in ("secrets", "configmaps"):
            for k, v in (obj.get("data") or {}).items():
                if not re.match(r"^[-._a-zA-Z0-9]+$", k):
                    raise invalid(res, name, f"data[{k}]", k, "a valid config key must consist of alphanumeric "
                                  "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                  "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
                if res.name == "secrets":
                    try:
                        base64.b64decode(v, validate=True)
                    except (binascii.Error, ValueError, TypeError):
                        raise bad_request("illegal base64 data at input byte 0")
                elif not isinstance(v, str):
                    raise bad_request("json: cannot unmarshal into Go struct field ConfigMap.data of type string")
        if res.name == "secrets":
            sd = obj.pop("stringData", None) or {}
            if sd:
                obj.setdefault("data", {})
                for k, v in sd.items():
                    obj["data"][k] = base64.b64encode(v.encode()).decode()
            obj.setdefault("type", "Opaque")
            if old is not None and old.get("type") != obj.get("type"):
                raise invalid(res, name, "type", obj.get("type"), "field is immutable")
        if res.group == rbac.API and res.name.endswith("bindings"):
            ref = obj.get("roleRef") or {}
            if not ref.get("name") or ref.get("kind") not in ("Role", "ClusterRole"):
                raise required(res, name, "roleRef.name" if not ref.get("name") else "roleRef.kind")
            if res.name == "clusterrolebindings" and ref.get("kind") != "ClusterRole":
                raise invalid(res, name, "roleRef.kind", ref.get("kind"), 'supported values: "ClusterRole"')
            if old is not None and old.get("roleRef") != ref:
                raise invalid(res, name, "roleRef", ref, "cannot change roleRef")
        if res.name == "certificatesigningrequests" and old is None:
            spec = obj.get("spec") or {}
            if not spec.get("signerName"):
                raise required(res, name, "spec.signerName")
            try:
                from cryptography import x509
                x509.load_pem_x509_csr(base64.b64decode(spec.get("request", "")))
            except Exception:
                raise invalid(res, name, "spec.request", "<omitted>", "PEM block type must be CERTIFICATE REQUEST")
            if not spec.get("usages"):
                raise required(res, name, "spec.usages")

    def _ns_exists(self, ns):
        nres = resources.lookup("", "v1", "namespaces")
        o, _ = self.api.read(nres, None, ns)
        if o is None:
            raise not_found(nres, ns)
        if o["metadata"].get("deletionTimestamp"):
            raise APIError(403, "Forbidden", f'unable to create new content in namespace {ns} because it is being '
                           "terminated", {"name": ns, "kind": "namespaces"})

    def admit(self, user, res, ns, obj, verb, old=None):
        """NodeRestriction and the server-filled fields of some kinds."""
        if "NodeRestriction" in self.api.admission and "system:nodes" in user.groups and \
                user.name.startswith("system:node:"):
            node = user.name[len("system:node:"):]
            if res.name == "nodes" and obj["metadata"]["name"] != node:
                raise APIError(403, "Forbidden", f'nodes "{obj["metadata"]["name"]}" is forbidden: node "{node}" is '
                               f"not allowed to modify node \"{obj['metadata']['name']}\"",
                               _details(res, obj["metadata"]["name"]))
        if res.name == "certificatesigningrequests" and verb == "create":
            spec = obj.setdefault("spec", {})
            spec["username"] = user.name
            spec["groups"] = list(user.groups)
            spec["uid"] = user.uid
            if user.extra:
                spec["extra"] = user.extra
            else:
                spec.pop("extra", None)
            obj.pop("status", None)
        if res.name == "namespaces" and verb == "create":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        if res.name == "services" and verb == "create":
            self._alloc_cluster_ip(res, obj)
        if res.name in ("deployments", "daemonsets"):
            if old is None:
                obj["metadata"]["generation"] = 1
            elif old.get("spec") != obj.get("spec"):
                obj["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
            else:
                obj["metadata"]["generation"] = old["metadata"].get("generation", 1)
            if res.name == "deployments":
                obj.setdefault("spec", {}).setdefault("replicas", 1)

    def _alloc_cluster_ip(self, res, obj):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        if spec.get("clusterIP") == "None":
            return
        net = ipaddress.ip_network(self.api.f["service-cluster-ip-range"].split(",")[0], strict=False)
        used = {s["spec"].get("clusterIP") for s in self.api.list(res, None)[0]}
        if spec.get("clusterIP"):
            ip = spec["clusterIP"]
            if ipaddress.ip_address(ip) not in net:
                raise invalid(res, obj["metadata"]["name"], "spec.clusterIPs", [ip],
                              f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                              f"The range of valid IPs is {net}")
            if ip in used:
                raise invalid(res, obj["metadata"]["name"], "spec.clusterIPs", [ip],
                              f"failed to allocate IP {ip}: provided IP is already allocated")
        else:
            hosts = list(net.hosts())[:4096]
            free = [h for h in hosts[1:] if str(h) not in used and h != hosts[9]]
            spec["clusterIP"] = str(random.choice(free[:1024]))
        spec["clusterIPs"] = [spec["clusterIP"]]

    def create(self, user, res, ns, obj):
        self._check_kind(res, obj)
        m = obj.setdefault("metadata", {})
        if res.namespaced:
            if m.get("namespace") and m["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                                  "request")
            m["namespace"] = ns
        else:
            m.pop("namespace", None)
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        self.validate(res, obj)
        if res.namespaced:
            self._ns_exists(ns)
        self.admit(user, res, ns, obj, "create")
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            m.pop(k, None)
        m["uid"] = str(uuid.uuid4())
        m["creationTimestamp"] = simclock.rfc3339()
        if self._dry():
            return self._ok(obj, 201)
        rev = self.api.etcd.create(self.api.key(res, ns, m["name"]), self.api.encode(obj))
        if rev is None:
            raise already_exists(res, m["name"])
        if res.group == rbac.API:
            self.api.invalidate_rbac()
        m["resourceVersion"] = str(rev)
        return self._ok(obj, 201)

    def _store_update(self, res, ns, name, obj, mod):
        rev = self.api.etcd.cas(self.api.key(res, ns, name), self.api.encode(obj), mod)
        if rev is None:
            raise conflict(res, name)
        if res.group == rbac.API:
            self.api.invalidate_rbac()
        obj["metadata"]["resourceVersion"] = str(rev)
        return obj

    def _merge_update(self, user, res, ns, name, sub, old, new):
        """Builds the object to store from the old one and the new body (main resource vs subresource)."""
        self._check_kind(res, new)
        m = new.setdefault("metadata", {})
        if m.get("name") and m["name"] != name:
            raise bad_request(f"the name of the object ({m['name']}) does not match the name on the URL ({name})")
        m["name"] = name
        if res.namespaced:
            if m.get("namespace") and m["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                                  "request")
            m["namespace"] = ns
        om = old["metadata"]
        if m.get("uid") and m["uid"] != om.get("uid"):
            raise conflict(res, name, f"Precondition failed: UID in precondition: {m['uid']}, UID in object meta: "
                                      f"{om.get('uid')}")
        m["uid"] = om.get("uid")
        m["creationTimestamp"] = om.get("creationTimestamp")
        if om.get("deletionTimestamp"):
            m["deletionTimestamp"] = om["deletionTimestamp"]
        if sub == "status":
            out = dict(old)
            out["status"] = new.get("status")
            if out["status"] is None:
                out.pop("status")
            out["metadata"] = dict(om)
            for k in ("labels", "annotations"):
                if k in m:
                    out["metadata"][k] = m[k]
            return out
        if sub == "approval":
            out = dict(old)
            st = dict(old.get("status") or {})
            st["conditions"] = (new.get("status") or {}).get("conditions") or []
            for c in st["conditions"]:
                c.setdefault("status", "True")
                c.setdefault("lastUpdateTime", simclock.rfc3339())
                c.setdefault("lastTransitionTime", simclock.rfc3339())
            out["status"] = st
            return out
        if res.status_subresource and "status" in old:
            new["status"] = old["status"]
        elif res.status_subresource:
            new.pop("status", None)
        if res.name == "certificatesigningrequests":
            new["spec"] = old.get("spec")
        self.validate(res, new, old)
        self.admit(user, res, ns, new, "update", old)
        return new

    def _signer_check(self, user, res, old, sub, new):
        """approve on signers/<signerName> for /approval; sign for /status when the certificate changes."""
        if res.name != "certificatesigningrequests" or sub not in ("approval", "status"):
            return
        signer = (old.get("spec") or {}).get("signerName", "")
        verb = "approve" if sub == "approval" else "sign"
        if sub == "status" and ((new.get("status") or {}).get("certificate") ==
                                (old.get("status") or {}).get("certificate")):
            return
        for n in (signer, signer.split("/")[0] + "/*"):
            a = rbac.Attributes(user.name, user.groups, verb, True, "certificates.k8s.io", "signers", "", "", n)
            if self.api.authorize(a)[0]:
                return
        raise APIError(403, "Forbidden", f'certificatesigningrequests.certificates.k8s.io "{old["metadata"]["name"]}" '
                       f'is forbidden: user not permitted to {verb} requests with signerName "{signer}"',
                       {"name": old["metadata"]["name"], "group": "certificates.k8s.io",
                        "kind": "certificatesigningrequests"})

    def update(self, user, res, ns, name, sub, new):
        old, mod = self.api.read(res, ns, name)
        if old is None:
            if res.create_on_update and not sub:
                new.setdefault("metadata", {})["name"] = name
                return self.create(user, res, ns, new)
            raise not_found(res, name)
        want_rv = (new.get("metadata") or {}).get("resourceVersion")
        if want_rv and str(want_rv) != str(mod):
            raise conflict(res, name)
        self._signer_check(user, res, old, sub, new)
        obj = self._merge_update(user, res, ns, name, sub, old, new)
        if self._dry():
            return self._ok(obj)
        return self._ok(self._store_update(res, ns, name, obj, mod))

    def patch(self, user, res, ns, name, sub):
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        raw = self._body()
        if ct not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                      "application/json-patch+json"):
            raise APIError(415, "UnsupportedMediaType",
                           'the body of the request was in an unknown format - accepted media types include: '
                           'application/json-patch+json, application/merge-patch+json, '
                           'application/apply-patch+yaml, application/strategic-merge-patch+json')
        try:
            p = json.loads(raw or b"null")
        except ValueError as e:
            raise bad_request(f"error decoding patch: {e}")
        for attempt in range(8):
            old, mod = self.api.read(res, ns, name)
            if old is None:
                raise not_found(res, name)
            try:
                if ct == "application/merge-patch+json":
                    new = patch.merge_patch(old, p)
                elif ct == "application/strategic-merge-patch+json":
                    new = patch.strategic_merge(old, p)
                else:
                    new = patch.json_patch(old, p)
            except (patch.PatchError, KeyError, IndexError, ValueError, TypeError) as e:
                raise bad_request(str(e))
            if not isinstance(new, dict):
                raise bad_request("patch did not produce an object")
            want_rv = (new.get("metadata") or {}).get("resourceVersion")
            if want_rv and str(want_rv) != str(mod):
                raise conflict(res, name)
            self._signer_check(user, res, old, sub, new)
            obj = self._merge_update(user, res, ns, name, sub, old, new)
            if self._dry():
                return self._ok(obj)
            try:
                return self._ok(self._store_update(res, ns, name, obj, mod))
            except APIError as e:
                if e.reason != "Conflict" or want_rv or attempt == 7:
                    raise
        raise conflict(res, name)

    def delete(self, user, res, ns, name):
        raw = self._body()
        opts = {}
        if raw:
            try:
                opts = json.loads(raw)
            except ValueError as e:
                raise bad_request(f"json: {e}")
        old, mod = self.api.read(res, ns, name)
        if old is None:
            raise not_found(res, name)
        if res.name == "namespaces" and name in ("default", "kube-system", "kube-public"):
            raise APIError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                           _details(res, name))
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
            raise conflict(res, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                                      f"{old['metadata'].get('uid')}")
        if pre.get("resourceVersion") and str(pre["resourceVersion"]) != str(mod):
            raise conflict(res, name, f"Precondition failed: ResourceVersion in precondition: "
                                      f"{pre['resourceVersion']}, ResourceVersion in object meta: {mod}")
        if self._dry():
            return self._ok(old)
        if old["metadata"].get("finalizers") and res.name != "namespaces":
            if not old["metadata"].get("deletionTimestamp"):
                old["metadata"]["deletionTimestamp"] = simclock.rfc3339()
                old["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._ok(self._store_update(res, ns, name, old, mod))
            return self._ok(old)
        if res.name == "namespaces":
            self._delete_namespace_content(name)
        if self.api.etcd.delete(self.api.key(res, ns, name), mod) is None:
            raise conflict(res, name)
        if res.group == rbac.API:
            self.api.invalidate_rbac()
        if res.name in RETURN_DELETED_OBJECT:
            return self._ok(old)
        # The generic registry answers a finished delete with a Status naming the object.
        d = {"name": name}
        if res.group:
            d["group"] = res.group
        d["kind"] = res.name
        d["uid"] = old["metadata"].get("uid")
        return self._ok({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})

    def delete_collection(self, user, res, ns):
        """Deletes every object the selectors match, answering with the list of what was deleted."""
        objs, rev = self.api.list(res, ns)
        gone = []
        for o in self._filter(objs):
            m = o["metadata"]
            if self._dry() or self.api.etcd.delete(self.api.key(res, m.get("namespace"), m["name"]),
                                                   int(m["resourceVersion"])) is not None:
                o = dict(o)
                o.pop("kind", None)
                o.pop("apiVersion", None)
                gone.append(o)
        if res.group == rbac.API:
            self.api.invalidate_rbac()
        return self._ok({"kind": res.kind + "List", "apiVersion": res.api_version,
                         "metadata": {"resourceVersion": str(rev)}, "items": gone})

    def _delete_namespace_content(self, ns):
        # SIM: the real apiserver marks the namespace Terminating and the namespace controller empties it;
        # the double empties it at once.
        for r in resources.RESOURCES:
            if r.namespaced and not r.virtual:
                kvs, _ = self.api.etcd.range_prefix(self.api.list_prefix(r, ns))
                for k, _, _, _ in kvs:
                    self.api.etcd.delete(k)

    # ---- reviews ----
    def review(self, user, res):
        body = self._json_body()
        spec = body.get("spec") or {}
        if res.name == "selfsubjectreviews":
            ui = {"username": user.name, "groups": user.groups}
            if user.uid:
                ui["uid"] = user.uid
            return self._ok({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                             "metadata": {"creationTimestamp": None}, "status": {"userInfo": ui}}, 201)
        if res.name == "selfsubjectrulesreviews":
            ns = spec.get("namespace", "")
            rules = self.api.rbac_snapshot().rules_for(user.name, user.groups, ns)
            rr = [r for r in rules if "resources" in r]
            nr = [r for r in rules if "nonResourceURLs" in r]
            if "system:masters" in user.groups:
                rr.insert(0, {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
                nr.insert(0, {"verbs": ["*"], "nonResourceURLs": ["*"]})
            body["status"] = {"resourceRules": rr, "nonResourceRules": nr, "incomplete": False}
            body["metadata"] = {"creationTimestamp": None}
            return self._ok(body, 201)
        if res.name == "selfsubjectaccessreviews":
            subj_user, subj_groups = user.name, user.groups
        else:
            subj_user = spec.get("user", "")
            subj_groups = list(spec.get("groups") or [])
        ra, na = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if ra:
            a = rbac.Attributes(subj_user, subj_groups, ra.get("verb", ""), True, ra.get("group", ""),
                                ra.get("resource", ""), ra.get("subresource", ""), ra.get("namespace", ""),
                                ra.get("name", ""))
        elif na:
            a = rbac.Attributes(subj_user, subj_groups, na.get("verb", ""), False, path=na.get("path", ""))
        else:
            raise APIError(422, "Invalid", f"{res.kind}.authorization.k8s.io \"\" is invalid: "
                           "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                           "nonResourceAttributes or resourceAttributes must be specified",
                           {"group": "authorization.k8s.io", "kind": res.kind})
        ok, why = self.api.authorize(a)
        body["status"] = {"allowed": ok}
        if why:
            body["status"]["reason"] = why
        body["metadata"] = {"creationTimestamp": None}
        body.setdefault("kind", res.kind)
        body.setdefault("apiVersion", res.api_version)
        return self._ok(body, 201)


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr, ctx, api):
        self.ctx = ctx
        self.api = api
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.address_family = family
        super().__init__(addr, Handler)

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def process_request_thread(self, request, client_address):
        try:
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(120)
        except (OSError, ssl.SSLError):
            self.shutdown_request(request)
            return
        super().process_request_thread(request, client_address)

    def handle_error(self, request, client_address):
        pass


def make_context(flags):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(flags["tls-cert-file"], flags["tls-private-key-file"])
    if flags["client-ca-file"]:
        ctx.load_verify_locations(flags["client-ca-file"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def check_files(flags):
    """Like the real binary, refuse to start when a named file is missing or unusable."""
    for k in ("tls-cert-file", "tls-private-key-file", "client-ca-file", "etcd-cafile", "etcd-certfile",
              "etcd-keyfile", "service-account-key-file", "service-account-signing-key-file",
              "requestheader-client-ca-file"):
        p = flags.get(k)
        if p and not os.access(p, os.R_OK):
            raise SystemExit(f"kube-apiserver(sim): --{k}: open {p}: no such file or directory")
    if not flags["etcd-servers"]:
        raise SystemExit("kube-apiserver(sim): --etcd-servers must be specified")
    if not flags["tls-cert-file"]:
        raise SystemExit("kube-apiserver(sim): --tls-cert-file is required (the double does not self-sign)")
    if flags["service-account-signing-key-file"] and not flags["service-account-issuer"]:
        raise SystemExit("kube-apiserver(sim): service-account-issuer is a required flag when "
                         "--service-account-signing-key-file is set")


def main(argv=None):
    flags, unknown = parse_flags(sys.argv[1:] if argv is None else argv)
    for u in unknown:
        log(f"unknown flag {u} (a real kube-apiserver would refuse it)")
    check_files(flags)
    api = Server(flags)
    ctx = make_context(flags)
    bind = flags["bind-address"]
    if bind in ("0.0.0.0", ""):
        bind = "0.0.0.0"
    srv = TLSServer((bind, int(flags["secure-port"])), ctx, api)
    stop = threading.Event()
    threading.Thread(target=api.init_loop, args=(stop,), daemon=True).start()
    log(f"serving on https://{bind}:{flags['secure-port']} (etcd {flags['etcd-servers']}, "
        f"authorization {','.join(api.modes)})")
    import signal

    def _term(*_):
        stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0

