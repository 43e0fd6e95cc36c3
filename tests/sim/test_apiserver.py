# SPDX-License-Identifier: Apache-2.0
"""The kube-apiserver double: authentication, RBAC decisions, storage semantics and Status errors,
checked against what a real kube-apiserver does (../shared/spec/kubeadm-compat.md)."""
import pytest

from simlib.bootstrap import token_secret
from simlib.kubeclient import ApiError


def whoami(c):
    r = c.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    return r["status"]["userInfo"]


def expect(code, reason, fn, *a, **kw):
    with pytest.raises(ApiError) as e:
        fn(*a, **kw)
    assert e.value.code == code, e.value.body
    assert e.value.reason == reason, e.value.body
    return e.value.status


def test_defaults_created_at_start(cluster):
    c = cluster.admin()
    assert {n["metadata"]["name"] for n in c.list("namespaces")} >= {"default", "kube-system", "kube-public",
                                                                       "kube-node-lease"}
    crb = c.get("clusterrolebindings", "cluster-admin", group="rbac.authorization.k8s.io/v1")
    assert crb["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}]
    for name in ("system:node-bootstrapper", "system:public-info-viewer", "system:basic-user", "system:discovery",
                 "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                 "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"):
        c.get("clusterroles", name, group="rbac.authorization.k8s.io/v1")
    svc = c.get("services", "kubernetes", "default")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"


def test_authentication_identities(cluster):
    assert whoami(cluster.client("kubernetes-admin", "kubeadm:cluster-admins")) == {
        "username": "kubernetes-admin", "groups": ["kubeadm:cluster-admins", "system:authenticated"]}
    anon = cluster.client()
    st = expect(403, "Forbidden", whoami, anon)
    assert st["message"] == ('selfsubjectreviews.authentication.k8s.io is forbidden: User "system:anonymous" cannot '
                             'create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the '
                             'cluster scope')
    # An unknown bearer token is 401, never anonymous.
    st = expect(401, "Unauthorized", cluster.client(token="abcdef.0123456789abcdef").get, "namespaces")
    assert st == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_bootstrap_token_rules(cluster):
    c = cluster.admin()
    c.create("secrets", token_secret("aaaaaa", "0123456789abcdef"), "kube-system")
    assert whoami(cluster.client(token="aaaaaa.0123456789abcdef")) == {
        "username": "system:bootstrap:aaaaaa",
        "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"]}
    # wrong secret, expired, no authentication usage (the kubeadm-certs TTL token): all 401
    expect(401, "Unauthorized", whoami, cluster.client(token="aaaaaa.0123456789abcdeX"))
    c.create("secrets", token_secret("bbbbbb", "0123456789abcdef", expiration="2000-01-01T00:00:00Z"), "kube-system")
    expect(401, "Unauthorized", whoami, cluster.client(token="bbbbbb.0123456789abcdef"))
    c.create("secrets", token_secret("cccccc", "0123456789abcdef", usages=(), groups=None), "kube-system")
    expect(401, "Unauthorized", whoami, cluster.client(token="cccccc.0123456789abcdef"))
    # the token Secret must be of the bootstrap type
    s = token_secret("dddddd", "0123456789abcdef")
    s["type"] = "Opaque"
    c.create("secrets", s, "kube-system")
    expect(401, "Unauthorized", whoami, cluster.client(token="dddddd.0123456789abcdef"))


def test_rbac_decisions_for_joiners(cluster):
    """The RBAC kubeadm init creates, evaluated for a bootstrap-token user."""
    c = cluster.admin()
    c.create("secrets", token_secret("eeeeee", "0123456789abcdef"), "kube-system")
    c.create("secrets", {"metadata": {"name": "kubeadm-certs"}, "data": {"ca.crt": ""}}, "kube-system")
    c.create("configmaps", {"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": "x"}}, "kube-public")
    rb = "rbac.authorization.k8s.io/v1"
    g = "system:bootstrappers:kubeadm:default-node-token"
    c.create("roles", {"metadata": {"name": "kubeadm:kubeadm-certs"}, "rules": [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["kubeadm-certs"]}]},
        "kube-system", rb)
    joiner = cluster.client(token="eeeeee.0123456789abcdef")
    st = expect(403, "Forbidden", joiner.get, "secrets", "kubeadm-certs", "kube-system")
    assert st["message"] == ('secrets "kubeadm-certs" is forbidden: User "system:bootstrap:eeeeee" cannot get '
                             'resource "secrets" in API group "" in the namespace "kube-system"')
    assert st["details"] == {"name": "kubeadm-certs", "kind": "secrets"}
    c.create("rolebindings", {"metadata": {"name": "kubeadm:kubeadm-certs"},
                              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                          "name": "kubeadm:kubeadm-certs"},
                              "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}]},
             "kube-system", rb)
    assert joiner.get("secrets", "kubeadm-certs", "kube-system")["metadata"]["name"] == "kubeadm-certs"
    # resourceNames: only that Secret, and no list
    expect(403, "Forbidden", joiner.get, "secrets", "bootstrap-token-eeeeee", "kube-system")
    expect(403, "Forbidden", joiner.list, "secrets", "kube-system")
    # anonymous may read cluster-info only once the kubeadm Role/RoleBinding exist
    anon = cluster.client()
    expect(403, "Forbidden", anon.get, "configmaps", "cluster-info", "kube-public")
    c.create("roles", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"}, "rules": [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"]}]},
        "kube-public", rb)
    c.create("rolebindings", {"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"},
                              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                          "name": "kubeadm:bootstrap-signer-clusterinfo"},
                              "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                                            "name": "system:anonymous"}]}, "kube-public", rb)
    assert anon.get("configmaps", "cluster-info", "kube-public")["data"]["kubeconfig"] == "x"
    # health and version are public; discovery is not (system:discovery binds system:authenticated only)
    assert anon.healthz("/readyz")[0] == 200 and anon.healthz("/version")[0] == 200
    st = expect(403, "Forbidden", anon.request, "GET", "/api")
    assert st["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'
    assert joiner.request("GET", "/api")["versions"] == ["v1"]


def test_a_binding_made_on_one_apiserver_counts_on_the_other(cluster):
    """HA: two apiserver doubles share state through etcd."""
    a, b = cluster.admin(cluster.apiservers[0]), cluster.admin(cluster.apiservers[1])
    a.create("configmaps", {"metadata": {"name": "ha-probe"}, "data": {"k": "v"}}, "default")
    assert b.get("configmaps", "ha-probe", "default")["data"] == {"k": "v"}


def test_resource_version_conflicts(cluster):
    c = cluster.admin()
    cm = c.create("configmaps", {"metadata": {"name": "rv"}, "data": {"n": "1"}}, "default")
    cm2 = dict(cm, data={"n": "2"})
    upd = c.update("configmaps", cm2, "default")
    assert int(upd["metadata"]["resourceVersion"]) > int(cm["metadata"]["resourceVersion"])
    st = expect(409, "Conflict", c.update, "configmaps", dict(cm, data={"n": "3"}), "default")
    assert st["message"] == ('Operation cannot be fulfilled on configmaps "rv": the object has been modified; please '
                             'apply your changes to the latest version and try again')
    # an update without resourceVersion is unconditional
    cm3 = {"metadata": {"name": "rv"}, "data": {"n": "4"}}
    assert c.update("configmaps", cm3, "default")["data"] == {"n": "4"}
    st = expect(409, "AlreadyExists", c.create, "configmaps", cm3, "default")
    assert st["details"] == {"name": "rv", "kind": "configmaps"}
    st = expect(404, "NotFound", c.get, "configmaps", "nope", "default")
    assert st["message"] == 'configmaps "nope" not found'
    st = expect(404, "NotFound", c.create, "configmaps", {"metadata": {"name": "x"}}, "no-such-ns")
    assert st["message"] == 'namespaces "no-such-ns" not found'
    st = expect(422, "Invalid", c.create, "configmaps", {"metadata": {"name": "Bad_Name"}}, "default")
    assert st["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                    'a lowercase RFC 1123 subdomain')
    st = expect(404, "NotFound", c.get, "certificatesigningrequests", "nope", group="certificates.k8s.io/v1")
    assert st["message"] == 'certificatesigningrequests.certificates.k8s.io "nope" not found'
    assert st["details"] == {"name": "nope", "group": "certificates.k8s.io", "kind": "certificatesigningrequests"}


def test_patches(cluster):
    c = cluster.admin()
    c.create("nodes", {"metadata": {"name": "n1", "labels": {"a": "1"}},
                       "spec": {"taints": [{"key": "x", "effect": "NoSchedule"}]}})
    n = c.patch("nodes", "n1", {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": "",
                                                        "a": None}},
                                "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane",
                                                     "effect": "NoSchedule"}]}}, kind="strategic")
    assert n["metadata"]["labels"] == {"node-role.kubernetes.io/control-plane": ""}
    assert n["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    n = c.patch("nodes", "n1", {"metadata": {"annotations": {"k": "v"}}}, kind="merge")
    assert n["metadata"]["annotations"] == {"k": "v"}
    n = c.patch("nodes", "n1", [{"op": "add", "path": "/metadata/labels/b", "value": "2"}], kind="json")
    assert n["metadata"]["labels"]["b"] == "2"
    # a patch carrying a stale resourceVersion is a conflict
    expect(409, "Conflict", c.patch, "nodes", "n1", {"metadata": {"resourceVersion": "1", "labels": {"c": "3"}}})
    # strategic merge by key on lists that have one (containers by name)
    c.create("deployments", {"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}}, "default", "apps/v1")
    d = c.patch("deployments", "d", {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}},
                "default", "apps/v1", kind="strategic")
    assert [x["image"] for x in d["spec"]["template"]["spec"]["containers"]] == ["a:1", "b:2"]
    assert d["metadata"]["generation"] == 2
    # the status of a kind with a status subresource is kept on main updates
    c.update("nodes", {"metadata": {"name": "n1"}, "status": {"phase": "x"}}, sub="status")
    n = c.patch("nodes", "n1", {"status": {"phase": "y"}})
    assert n["status"] == {"phase": "x"}


def test_delete_preconditions(cluster):
    c = cluster.admin()
    s = c.create("secrets", {"metadata": {"name": "del"}, "stringData": {"a": "b"}}, "default")
    assert s["data"] == {"a": "Yg=="} and s["type"] == "Opaque"
    st = expect(409, "Conflict", c.delete, "secrets", "del", "default", body={"preconditions": {"uid": "other"}})
    assert "Precondition failed: UID in precondition: other" in st["message"]
    r = c.delete("secrets", "del", "default", body={"preconditions": {"uid": s["metadata"]["uid"]}})
    assert r == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                 "details": {"name": "del", "kind": "secrets", "uid": s["metadata"]["uid"]}}
    assert not c.exists("secrets", "del", "default")
    sa = c.create("serviceaccounts", {"metadata": {"name": "sa1"}}, "default")
    assert c.delete("serviceaccounts", "sa1", "default")["metadata"]["uid"] == sa["metadata"]["uid"]


def test_node_authorizer_and_noderestriction(cluster):
    kubelet = cluster.client("system:node:w1", "system:nodes")
    kubelet.create("nodes", {"metadata": {"name": "w1"}})
    st = expect(403, "Forbidden", kubelet.create, "nodes", {"metadata": {"name": "w2"}})
    assert 'node "w1" is not allowed to modify node "w2"' in st["message"]
    expect(403, "Forbidden", kubelet.get, "secrets", "kubeadm-certs", "kube-system")
    kubelet.create("leases", {"metadata": {"name": "w1"}, "spec": {"holderIdentity": "w1"}}, "kube-node-lease",
                   "coordination.k8s.io/v1")


def test_watch_reports_changes(cluster):
    import json
    import threading
    c = cluster.admin()
    c.create("namespaces", {"metadata": {"name": "watched"}})
    rv = c.request("GET", "/api/v1/namespaces/watched/configmaps")["metadata"]["resourceVersion"]

    def later():
        import time
        time.sleep(0.6)
        c.create("configmaps", {"metadata": {"name": "w1"}}, "watched")
        c.patch("configmaps", "w1", {"data": {"a": "b"}}, "watched")
        c.delete("configmaps", "w1", "watched")

    t = threading.Thread(target=later)
    t.start()
    code, body = c.request("GET", f"/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion={rv}"
                                  "&timeoutSeconds=3&fieldSelector=metadata.name%3Dw1", raw=True)
    t.join()
    assert code == 200
    events = [json.loads(ln) for ln in body.decode().splitlines() if ln.strip()]
    # every change, in order, even those closer together than any polling would see
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "w1" for e in events)
    assert events[1]["object"]["data"] == {"a": "b"}


def test_health_endpoints(cluster):
    anon = cluster.client()
    for p in ("/healthz", "/livez", "/readyz"):
        assert anon.healthz(p) == (200, b"ok")
    code, body = anon.healthz("/readyz?verbose")
    assert code == 200 and b"[+]etcd ok" in body and body.endswith(b"readyz check passed\n")
    v = anon.request("GET", "/version")
    assert v["gitVersion"].startswith("v1.") and v["major"] == "1"


def test_flags_files_and_anonymous_auth(cluster, tmp_path):
    import subprocess
    from simlib import BIN_DIR, PYTHON
    from simlib.local import free_port
    flags = cluster.apiserver_flags(free_port())
    bad = [f if not f.startswith("--tls-cert-file=") else f"--tls-cert-file={tmp_path}/missing.crt" for f in flags]
    r = subprocess.run([PYTHON, f"{BIN_DIR}/kube-apiserver", *bad], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and f"--tls-cert-file: open {tmp_path}/missing.crt: no such file" in r.stderr
    # unknown real flags are accepted and logged; --anonymous-auth=false makes anonymous requests 401
    url = cluster.start_apiserver(extra=["--anonymous-auth=false", "--profiling=false", "--v=2"])
    log = open(f"{cluster.dir}/logs/apiserver{len(cluster.apiservers)}.log").read()
    assert "flag --profiling=false accepted and ignored" in log
    st = expect(401, "Unauthorized", cluster.client(url=url).get, "namespaces")
    assert st["message"] == "Unauthorized"


def test_delete_collection_by_label(cluster):
    c = cluster.admin()
    for i, app in enumerate(("a", "a", "b")):
        c.create("configmaps", {"metadata": {"name": f"dc{i}", "labels": {"app": app}}}, "default")
    r = c.request("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Da")
    assert r["kind"] == "ConfigMapList" and sorted(o["metadata"]["name"] for o in r["items"]) == ["dc0", "dc1"]
    assert [o["metadata"]["name"] for o in c.list("configmaps", "default", labelSelector="app")] == ["dc2"]


def test_unknown_fields_are_dropped_or_refused(cluster):
    c = cluster.admin()
    code, raw = c.request("POST", "/api/v1/namespaces/default/configmaps",
                          {"metadata": {"name": "uf", "labelz": {"a": "b"}}, "data": {"k": "v"}, "foo": 1}, raw=True)
    assert code == 201
    o = c.get("configmaps", "uf", "default")
    assert "foo" not in o and "labelz" not in o["metadata"] and o["data"] == {"k": "v"}
    st = expect(400, "BadRequest", c.request, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                {"metadata": {"name": "uf2"}, "foo": 1})
    assert st["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                             'unknown field "foo"')
