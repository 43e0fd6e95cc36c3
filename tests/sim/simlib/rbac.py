# SPDX-License-Identifier: Apache-2.0
"""RBAC as the real apiserver evaluates it, plus the default (bootstrap) roles and bindings a real
kube-apiserver creates at start, and a Node authorizer approximation."""

API = "rbac.authorization.k8s.io"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def rule(verbs, groups=None, resources=None, names=None, urls=None):
    r = {"verbs": list(verbs)}
    if urls is not None:
        r["nonResourceURLs"] = list(urls)
        return r
    r["apiGroups"] = list(groups)
    r["resources"] = list(resources)
    if names:
        r["resourceNames"] = list(names)
    return r


RO = ["get", "list", "watch"]
CSR_G = "certificates.k8s.io"

# The subset of the real bootstrap policy that matters to kubeadm-made clusters (names and rules as
# in plugin/pkg/auth/authorizer/rbac/bootstrappolicy; aggregated admin/edit/view are not included).
DEFAULT_CLUSTER_ROLES = {
    "cluster-admin": [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])],
    "system:discovery": [rule(["get"], urls=["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                            "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])],
    "system:monitoring": [rule(["get"], urls=["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
                                             "/metrics/slis", "/readyz", "/readyz/*"])],
    "system:basic-user": [
        rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ],
    "system:public-info-viewer": [rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version", "/version/"])],
    "system:node-bootstrapper": [rule(["create", "get", "list", "watch"], [CSR_G], ["certificatesigningrequests"])],
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient": [
        rule(["create"], [CSR_G], ["certificatesigningrequests/nodeclient"])],
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": [
        rule(["create"], [CSR_G], ["certificatesigningrequests/selfnodeclient"])],
    "system:certificates.k8s.io:kube-apiserver-client-approver": [
        rule(["approve"], [CSR_G], ["signers"], ["kubernetes.io/kube-apiserver-client"])],
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver": [
        rule(["approve"], [CSR_G], ["signers"], ["kubernetes.io/kube-apiserver-client-kubelet"])],
    "system:certificates.k8s.io:kubelet-serving-approver": [
        rule(["approve"], [CSR_G], ["signers"], ["kubernetes.io/kubelet-serving"])],
    "system:certificates.k8s.io:legacy-unknown-approver": [
        rule(["approve"], [CSR_G], ["signers"], ["kubernetes.io/legacy-unknown"])],
    "system:node": [
        rule(["create", "get", "list", "watch", "update", "patch", "delete"], [""], ["nodes"]),
        rule(["patch", "update"], [""], ["nodes/status"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(["get", "list", "watch"], [""], ["pods", "services", "endpoints"]),
        rule(["create", "delete"], [""], ["pods"]),
        rule(["update", "patch"], [""], ["pods/status"]),
        rule(["create", "get", "list", "watch"], [CSR_G], ["certificatesigningrequests"]),
        rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
    ],
    "system:node-proxier": [
        rule(["list", "watch"], [""], ["endpoints", "services"]),
        rule(["get", "list", "watch"], [""], ["nodes"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
    ],
    "system:kube-scheduler": [
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(["create"], ["coordination.k8s.io"], ["leases"]),
        rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
        rule(["get", "list", "watch"], [""], ["nodes", "pods", "namespaces", "services"]),
        rule(["create"], [""], ["pods/binding", "bindings"]),
        rule(["patch", "update"], [""], ["pods/status"]),
    ],
    "system:kube-controller-manager": [
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(["create"], ["coordination.k8s.io"], ["leases"]),
        rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-controller-manager"]),
        rule(["create"], [""], ["secrets", "serviceaccounts"]),
        rule(["delete"], [""], ["secrets"]),
        rule(["get"], ["", ], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
        rule(["update"], [""], ["secrets", "serviceaccounts"]),
        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        rule(["list", "watch"], ["*"], ["*"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        # SIM: the double runs its controllers with its own identity instead of one service-account
        # token per controller (--use-service-account-credentials), so it also holds the rights of the
        # system:controller:{bootstrap-signer,token-cleaner,certificate-controller,
        # generic-garbage-collector} roles, i.e. these rules:
        rule(["create", "update"], [""], ["configmaps"]),
        rule(["get", "update", "patch", "delete"], ["*"], ["*"]),
        rule(["update"], [CSR_G], ["certificatesigningrequests/approval", "certificatesigningrequests/status"]),
        rule(["approve", "sign"], [CSR_G], ["signers"]),
    ],
}

DEFAULT_CLUSTER_ROLE_BINDINGS = {
    # name: (roleRef ClusterRole, subjects)
    "cluster-admin": ("cluster-admin", [("Group", "system:masters")]),
    "system:discovery": ("system:discovery", [("Group", "system:authenticated")]),
    "system:basic-user": ("system:basic-user", [("Group", "system:authenticated")]),
    "system:public-info-viewer": ("system:public-info-viewer",
                                  [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
    "system:monitoring": ("system:monitoring", [("Group", "system:monitoring")]),
    "system:node-proxier": ("system:node-proxier", [("User", "system:kube-proxy")]),
    "system:kube-scheduler": ("system:kube-scheduler", [("User", "system:kube-scheduler")]),
    "system:kube-controller-manager": ("system:kube-controller-manager",
                                       [("User", "system:kube-controller-manager")]),
    "system:node": ("system:node", []),
}

# Namespaced defaults (bootstrappolicy namespace roles).
DEFAULT_ROLES = {
    ("kube-public", "system:controller:bootstrap-signer"): [
        rule(["get", "list", "watch"], [""], ["configmaps"]),
        rule(["update"], [""], ["configmaps"], ["cluster-info"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
    ],
    ("kube-system", "system:controller:bootstrap-signer"): [rule(["list", "watch"], [""], ["secrets"])],
    ("kube-system", "system:controller:token-cleaner"): [
        rule(["delete", "get", "list", "watch"], [""], ["secrets"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
    ],
    ("kube-system", "extension-apiserver-authentication-reader"): [
        rule(["get", "list", "watch"], [""], ["configmaps"], ["extension-apiserver-authentication"])],
    ("kube-system", "system::leader-locking-kube-controller-manager"): [
        rule(["watch"], [""], ["configmaps"]),
        rule(["get", "update"], [""], ["configmaps"], ["kube-controller-manager"])],
    ("kube-system", "system::leader-locking-kube-scheduler"): [
        rule(["watch"], [""], ["configmaps"]),
        rule(["get", "update"], [""], ["configmaps"], ["kube-scheduler"])],
}
DEFAULT_ROLE_BINDINGS = {
    ("kube-public", "system:controller:bootstrap-signer"): (
        "system:controller:bootstrap-signer", [("ServiceAccount", "kube-system/bootstrap-signer")]),
    ("kube-system", "system:controller:bootstrap-signer"): (
        "system:controller:bootstrap-signer", [("ServiceAccount", "kube-system/bootstrap-signer")]),
    ("kube-system", "system:controller:token-cleaner"): (
        "system:controller:token-cleaner", [("ServiceAccount", "kube-system/token-cleaner")]),
    ("kube-system", "system::extension-apiserver-authentication-reader"): (
        "extension-apiserver-authentication-reader",
        [("User", "system:kube-controller-manager"), ("User", "system:kube-scheduler")]),
    ("kube-system", "system::leader-locking-kube-controller-manager"): (
        "system::leader-locking-kube-controller-manager", [("User", "system:kube-controller-manager")]),
    ("kube-system", "system::leader-locking-kube-scheduler"): (
        "system::leader-locking-kube-scheduler", [("User", "system:kube-scheduler")]),
}


def _subject(kind, name):
    if kind == "ServiceAccount":
        ns, n = name.split("/")
        return {"kind": "ServiceAccount", "name": n, "namespace": ns}
    return {"kind": kind, "apiGroup": API, "name": name}


def _meta(name, ns=None):
    m = {"name": name, "labels": dict(BOOTSTRAP_LABELS), "annotations": dict(AUTOUPDATE)}
    if ns:
        m["namespace"] = ns
    return m


def default_objects():
    """[(resource, namespace, object)] for every default role and binding."""
    out = []
    for name, rules in DEFAULT_CLUSTER_ROLES.items():
        out.append(("clusterroles", None, {"kind": "ClusterRole", "apiVersion": API + "/v1",
                                           "metadata": _meta(name), "rules": rules}))
    for name, (role, subs) in DEFAULT_CLUSTER_ROLE_BINDINGS.items():
        b = {"kind": "ClusterRoleBinding", "apiVersion": API + "/v1", "metadata": _meta(name),
             "roleRef": {"apiGroup": API, "kind": "ClusterRole", "name": role}}
        if subs:
            b["subjects"] = [_subject(k, n) for k, n in subs]
        out.append(("clusterrolebindings", None, b))
    for (ns, name), rules in DEFAULT_ROLES.items():
        out.append(("roles", ns, {"kind": "Role", "apiVersion": API + "/v1", "metadata": _meta(name, ns),
                                  "rules": rules}))
    for (ns, name), (role, subs) in DEFAULT_ROLE_BINDINGS.items():
        out.append(("rolebindings", ns, {
            "kind": "RoleBinding", "apiVersion": API + "/v1", "metadata": _meta(name, ns),
            "roleRef": {"apiGroup": API, "kind": "Role", "name": role},
            "subjects": [_subject(k, n) for k, n in subs]}))
    return out


class Attributes:
    """What a request asks for (k8s.io/apiserver authorizer.Attributes)."""

    def __init__(self, user, groups, verb, resource_request=True, api_group="", resource="", subresource="",
                 namespace="", name="", path=""):
        self.user, self.groups, self.verb = user, list(groups), verb
        self.resource_request = resource_request
        self.api_group, self.resource, self.subresource = api_group, resource, subresource
        self.namespace, self.name, self.path = namespace, name, path


def _has(lst, v):
    return bool(lst) and ("*" in lst or v in lst)


def rule_allows(r, a):
    if not _has(r.get("verbs"), a.verb):
        return False
    if not a.resource_request:
        for u in r.get("nonResourceURLs") or []:
            if u == "*" or u == a.path or (u.endswith("*") and a.path.startswith(u[:-1])):
                return True
        return False
    if "nonResourceURLs" in r and "resources" not in r:
        return False
    if not _has(r.get("apiGroups"), a.api_group):
        return False
    combined = a.resource + ("/" + a.subresource if a.subresource else "")
    ok = False
    for res in r.get("resources") or []:
        if res == "*" or res == combined:
            ok = True
        elif a.subresource and res == "*/" + a.subresource:
            ok = True
    if not ok:
        return False
    names = r.get("resourceNames") or []
    if names:
        return bool(a.name) and a.name in names
    return True


def subject_matches(s, user, groups, binding_ns):
    kind = s.get("kind")
    if kind == "User":
        return s.get("name") == user
    if kind == "Group":
        return s.get("name") in groups
    if kind == "ServiceAccount":
        ns = s.get("namespace") or binding_ns
        return user == f"system:serviceaccount:{ns}:{s.get('name')}"
    return False


class Snapshot:
    """The RBAC objects the authorizer evaluates, loaded from storage."""

    def __init__(self, clusterroles, clusterrolebindings, roles, rolebindings):
        self.clusterroles = {o["metadata"]["name"]: o for o in clusterroles}
        self.crbs = clusterrolebindings
        self.roles = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in roles}
        self.rbs = rolebindings

    def _rules_of(self, ref, ns):
        if ref.get("kind") == "ClusterRole":
            o = self.clusterroles.get(ref.get("name"))
        else:
            o = self.roles.get((ns, ref.get("name")))
        return (o or {}).get("rules") or []

    def rules_for(self, user, groups, namespace):
        """Every rule that applies to the user (cluster-wide, and in namespace if given)."""
        out = []
        for b in self.crbs:
            if any(subject_matches(s, user, groups, "") for s in b.get("subjects") or []):
                out.extend(self._rules_of(b.get("roleRef", {}), None))
        if namespace:
            for b in self.rbs:
                if b["metadata"].get("namespace") != namespace:
                    continue
                if any(subject_matches(s, user, groups, namespace) for s in b.get("subjects") or []):
                    out.extend(self._rules_of(b.get("roleRef", {}), namespace))
        return out

    def allows(self, a):
        for b in self.crbs:
            if any(subject_matches(s, a.user, a.groups, "") for s in b.get("subjects") or []):
                if any(rule_allows(r, a) for r in self._rules_of(b.get("roleRef", {}), None)):
                    return True, f'RBAC: allowed by ClusterRoleBinding "{b["metadata"]["name"]}"'
        if a.resource_request and a.namespace:
            for b in self.rbs:
                if b["metadata"].get("namespace") != a.namespace:
                    continue
                if any(subject_matches(s, a.user, a.groups, a.namespace) for s in b.get("subjects") or []):
                    if any(rule_allows(r, a) for r in self._rules_of(b.get("roleRef", {}), a.namespace)):
                        return True, (f'RBAC: allowed by RoleBinding "{b["metadata"]["name"]}/{a.namespace}"')
        return False, ""


def node_authorizer(a):
    """Approximates the Node authorizer: a kubelet (system:node:<name> in system:nodes) may act on its
    own Node, Lease and CSRs, read nodes and create mirror pods. Returns (decision, reason) where decision
    is True (allow) or None (no opinion: fall through to RBAC)."""
    if "system:nodes" not in a.groups or not a.user.startswith("system:node:") or not a.resource_request:
        return None, ""
    node = a.user[len("system:node:"):]
    g, r, sub, v = a.api_group, a.resource, a.subresource, a.verb
    if g == "" and r == "nodes":
        if v in ("get", "list", "watch"):
            return True, ""
        if v == "create" and not sub:
            return True, ""
        if v in ("update", "patch") and a.name == node:
            return True, ""
    if g == "coordination.k8s.io" and r == "leases" and a.namespace == "kube-node-lease":
        if v == "create" or a.name == node:
            return True, ""
    if g == CSR_G and r == "certificatesigningrequests" and not sub and v in ("create", "get", "list", "watch"):
        return True, ""
    if g == "" and r == "pods" and (v in ("get", "list", "watch", "create", "delete") or sub == "status"):
        return True, ""
    if g in ("", "events.k8s.io") and r == "events" and v in ("create", "patch", "update"):
        return True, ""
    return None, ""
