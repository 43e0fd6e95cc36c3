# SPDX-License-Identifier: Apache-2.0
"""The resources the apiserver double serves, with discovery data and server-side printing (Table)."""
from . import simclock


class Res:
    def __init__(self, name, kind, group="", version="v1", namespaced=True, short=(), storage=None,
                 subresources=(), create_on_update=False, verbs=None, singular=None, categories=()):
        self.name, self.kind, self.group, self.version = name, kind, group, version
        self.namespaced = namespaced
        self.short = list(short)
        self.storage = storage or name
        self.subresources = list(subresources)
        self.create_on_update = create_on_update
        self.verbs = verbs or ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        self.virtual = verbs == ["create"]

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self):
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def status_subresource(self):
        return "status" in self.subresources


RBAC = "rbac.authorization.k8s.io"
RESOURCES = [
    Res("namespaces", "Namespace", namespaced=False, short=["ns"], subresources=["status", "finalize"]),
    Res("configmaps", "ConfigMap", short=["cm"]),
    Res("secrets", "Secret"),
    Res("nodes", "Node", namespaced=False, short=["no"], storage="minions", subresources=["status"]),
    Res("serviceaccounts", "ServiceAccount", short=["sa"]),
    Res("services", "Service", short=["svc"], storage="services/specs", subresources=["status"],
        categories=["all"]),
    Res("pods", "Pod", short=["po"], subresources=["status"], categories=["all"]),
    Res("events", "Event", short=["ev"]),
    Res("endpoints", "Endpoints", short=["ep"], storage="services/endpoints"),
    Res("deployments", "Deployment", group="apps", short=["deploy"], subresources=["status"],
        categories=["all"]),
    Res("daemonsets", "DaemonSet", group="apps", short=["ds"], subresources=["status"], categories=["all"]),
    Res("leases", "Lease", group="coordination.k8s.io", create_on_update=True),
    Res("certificatesigningrequests", "CertificateSigningRequest", group="certificates.k8s.io",
        namespaced=False, short=["csr"], subresources=["approval", "status"]),
    Res("roles", "Role", group=RBAC, create_on_update=True),
    Res("rolebindings", "RoleBinding", group=RBAC, create_on_update=True),
    Res("clusterroles", "ClusterRole", group=RBAC, namespaced=False, create_on_update=True),
    Res("clusterrolebindings", "ClusterRoleBinding", group=RBAC, namespaced=False, create_on_update=True),
    Res("selfsubjectaccessreviews", "SelfSubjectAccessReview", group="authorization.k8s.io",
        namespaced=False, verbs=["create"]),
    Res("selfsubjectrulesreviews", "SelfSubjectRulesReview", group="authorization.k8s.io",
        namespaced=False, verbs=["create"]),
    Res("subjectaccessreviews", "SubjectAccessReview", group="authorization.k8s.io", namespaced=False,
        verbs=["create"]),
    Res("selfsubjectreviews", "SelfSubjectReview", group="authentication.k8s.io", namespaced=False,
        verbs=["create"]),
]
BY_GV = {}
for _r in RESOURCES:
    BY_GV.setdefault((_r.group, _r.version), {})[_r.name] = _r
GROUPS = []
for _r in RESOURCES:
    if _r.group and _r.group not in GROUPS:
        GROUPS.append(_r.group)


def lookup(group, version, name):
    return BY_GV.get((group, version), {}).get(name)


def discovery_list(group, version):
    out = []
    for r in BY_GV.get((group, version), {}).values():
        e = {"name": r.name, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
             "verbs": r.verbs}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        out.append(e)
        for s in r.subresources:
            verbs = ["get", "patch", "update"] if s != "finalize" else ["update"]
            out.append({"name": f"{r.name}/{s}", "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": verbs})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": out}


def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root():
    return {"paths": {_gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}?hash=SIM{len(rs)}"}
                      for (g, v), rs in BY_GV.items()}}


def openapi_v3_gv(group, version):
    """A minimal OpenAPI v3 document: one PATCH operation per kind, tagged with its GVK and the
    fieldValidation parameter, which is what kubectl looks for to choose server-side validation.
    No schemas: kubectl then computes strategic merge patches from its compiled-in types."""
    paths = {}
    for r in BY_GV.get((group, version), {}).values():
        if r.virtual:
            continue
        base = "/" + _gv_path(group, version) + ("/namespaces/{namespace}" if r.namespaced else "") + f"/{r.name}"
        gvk = {"group": group, "version": version, "kind": r.kind}
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
        paths[base + "/{name}"] = {
            "get": {"operationId": f"read{r.kind}", "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk, "responses": {}},
            "patch": {"operationId": f"patch{r.kind}", "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": {}},
            "put": {"operationId": f"replace{r.kind}", "x-kubernetes-action": "put",
                    "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": {}}}
        paths[base] = {"post": {"operationId": f"create{r.kind}", "x-kubernetes-action": "post",
                                "x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": {}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (sim)", "version": "v1"}, "paths": paths,
            "components": {"schemas": {}}}


# ---- server-side printing ----

def human_duration(seconds):
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    return f"{d}d"


def age(o):
    ts = o.get("metadata", {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        return human_duration(simclock.now() - simclock.parse_rfc3339(ts))
    except ValueError:
        return "<invalid>"


def _node_status(o):
    conds = {c.get("type"): c.get("status") for c in (o.get("status") or {}).get("conditions") or []}
    s = "Ready" if conds.get("Ready") == "True" else ("NotReady" if "Ready" in conds else "Unknown")
    if (o.get("spec") or {}).get("unschedulable"):
        s += ",SchedulingDisabled"
    return s


def _node_roles(o):
    roles = sorted(k.split("/", 1)[1] for k in (o["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1])
    return ",".join(roles) or "<none>"


def _csr_condition(o):
    conds = [c.get("type") for c in (o.get("status") or {}).get("conditions") or []]
    s = ",".join(conds) if conds else "Pending"
    if (o.get("status") or {}).get("certificate"):
        s += ",Issued"
    return s


def _ports(o):
    ps = (o.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ps) or "<none>"


def _pod_ready(o):
    st = o.get("status") or {}
    cs = st.get("containerStatuses") or []
    n = len((o.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for c in cs if c.get('ready'))}/{n}"


NAME = ("Name", "string", "name", lambda o: o["metadata"]["name"])
AGE = ("Age", "string", "", age)
COLUMNS = {
    "namespaces": [NAME, ("Status", "string", "", lambda o: (o.get("status") or {}).get("phase", "")), AGE],
    "nodes": [NAME, ("Status", "string", "", _node_status), ("Roles", "string", "", _node_roles), AGE,
              ("Version", "string", "", lambda o: ((o.get("status") or {}).get("nodeInfo") or {})
               .get("kubeletVersion", ""))],
    "configmaps": [NAME, ("Data", "integer", "", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                   AGE],
    "secrets": [NAME, ("Type", "string", "", lambda o: o.get("type", "")),
                ("Data", "integer", "", lambda o: len(o.get("data") or {})), AGE],
    "certificatesigningrequests": [
        NAME, AGE, ("SignerName", "string", "", lambda o: o["spec"].get("signerName", "")),
        ("Requestor", "string", "", lambda o: o["spec"].get("username", "")),
        ("RequestedDuration", "string", "", lambda o: human_duration(o["spec"]["expirationSeconds"])
         if o["spec"].get("expirationSeconds") else "<none>"),
        ("Condition", "string", "", _csr_condition)],
    "pods": [NAME, ("Ready", "string", "", _pod_ready),
             ("Status", "string", "", lambda o: (o.get("status") or {}).get("phase", "")),
             ("Restarts", "string", "", lambda o: str(sum(c.get("restartCount", 0) for c in
                                                           (o.get("status") or {}).get("containerStatuses") or []))),
             AGE],
    "leases": [NAME, ("Holder", "string", "", lambda o: (o.get("spec") or {}).get("holderIdentity", "")), AGE],
    "serviceaccounts": [NAME, ("Secrets", "integer", "", lambda o: len(o.get("secrets") or [])), AGE],
    "services": [NAME, ("Type", "string", "", lambda o: o["spec"].get("type", "ClusterIP")),
                 ("Cluster-IP", "string", "", lambda o: o["spec"].get("clusterIP", "")),
                 ("External-IP", "string", "", lambda o: "<none>"), ("Port(s)", "string", "", _ports), AGE],
    "deployments": [NAME, ("Ready", "string", "", lambda o: f"{(o.get('status') or {}).get('readyReplicas', 0)}/"
                           f"{o['spec'].get('replicas', 1)}"),
                    ("Up-to-date", "integer", "", lambda o: (o.get("status") or {}).get("updatedReplicas", 0)),
                    ("Available", "integer", "", lambda o: (o.get("status") or {}).get("availableReplicas", 0)), AGE],
    "daemonsets": [NAME, ("Desired", "integer", "", lambda o: (o.get("status") or {}).get("desiredNumberScheduled", 0)),
                   ("Current", "integer", "", lambda o: (o.get("status") or {}).get("currentNumberScheduled", 0)),
                   ("Ready", "integer", "", lambda o: (o.get("status") or {}).get("numberReady", 0)), AGE],
    "clusterroles": [NAME, ("Created At", "date", "", lambda o: o["metadata"].get("creationTimestamp", ""))],
    "roles": [NAME, ("Created At", "date", "", lambda o: o["metadata"].get("creationTimestamp", ""))],
    "clusterrolebindings": [NAME, ("Role", "string", "", lambda o: "ClusterRole/" + o["roleRef"]["name"]), AGE],
    "rolebindings": [NAME, ("Role", "string", "", lambda o: o["roleRef"]["kind"] + "/" + o["roleRef"]["name"]), AGE],
}


def table(res, objs, rv, include="Metadata", version="v1"):
    cols = COLUMNS.get(res.name, [NAME, ("Created At", "date", "", lambda o: o["metadata"].get("creationTimestamp", ""))])
    rows = []
    for o in objs:
        cells = []
        for _, _, _, f in cols:
            try:
                cells.append(f(o))
            except (KeyError, TypeError, AttributeError):
                cells.append("<unknown>")
        row = {"cells": cells}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
                             "metadata": o["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": {"resourceVersion": rv},
            "columnDefinitions": [{"name": n, "type": t, "format": fmt, "description": n, "priority": 0}
                                  for n, t, fmt, _ in cols],
            "rows": rows}

