# SPDX-License-Identifier: Apache-2.0
"""etcd 3.4 and 3.5 say the same things differently: the JSON gateway of 3.4 answers an etcd error with
{"error": M, "message": M, "code": N} and HTTP 412 for a failed precondition, 3.5's with {"code": N,
"message": M} and HTTP 400 (recorded from Debian's etcd 3.4.23 and Debian 13's 3.5.16, tools/fetch-etcd.sh;
the texts themselves are the same). A gateway on loopback replays each version's answers verbatim, and
kube-firstboot must reach the same verdict for both: busy answers retried (exit 3 for a single call, a
join that goes through), the others final. The live runs against both versions are in test_etcd.py,
test_etcd_join.py and the sim's HA tests (`make etcd35`)."""
import json
import threading

import pytest

from httpservers import TestHTTPSServer

# gRPC code -> HTTP status: 3.4's gateway maps FailedPrecondition to 412, 3.5's to 400.
STATUS = {"3.4.23": {9: 412, 14: 503, 5: 404, 3: 400}, "3.5.16": {9: 400, 14: 503, 5: 404, 3: 400}}


def etcd_error(version, code, msg):
    body = {"error": msg, "message": msg, "code": code} if version == "3.4.23" else {"code": code, "message": msg}
    sep = (",", ":") if version == "3.4.23" else (", ", ":")  # 3.5's gateway writes ", " between fields
    return STATUS[version][code], json.dumps(body, separators=sep)


def ok(version, doc):
    return 200, json.dumps(doc, separators=(",", ":") if version == "3.4.23" else (", ", ":"))


class FakeGateway:
    """etcd's /v3/cluster/member/* and /health for one version: one voter 'cp-1' (its client URL is this
    server), and per call a script of errors to answer before the call succeeds."""

    def __init__(self, pki, version, scripts):
        self.version, self.scripts, self.calls = version, {k: list(v) for k, v in scripts.items()}, {}
        self.lock = threading.Lock()
        self.members = []
        self.server = TestHTTPSServer(pki)
        gw = self

        def route(handler):
            length = int(handler.headers.get("Content-Length") or 0)
            body = json.loads(handler.rfile.read(length) or b"{}") if length else {}
            status, text = gw.answer(handler.command, handler.path, body)
            data = text.encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        self.server.start()
        self.server.httpd.RequestHandlerClass = type("H", (self.server.httpd.RequestHandlerClass,), {
            "do_GET": route, "do_POST": route})
        self.url = self.server.url("").rstrip("/")
        self.members = [{"ID": "100", "name": "cp-1", "peerURLs": ["https://127.0.0.1:1"],
                         "clientURLs": [self.url]}]

    def answer(self, method, path, body):
        with self.lock:
            what = path.rsplit("/", 1)[-1]
            self.calls[what] = self.calls.get(what, 0) + 1
            script = self.scripts.get(what) or []
            if script:
                return etcd_error(self.version, *script.pop(0))
            header = {"cluster_id": "1", "member_id": "100", "raft_term": "2"}
            if path == "/health":
                return ok(self.version, {"health": "true"} if self.version == "3.4.23"
                          else {"health": "true", "reason": ""})
            if what == "list":
                doc = ok(self.version, {"header": header, "members": self.members})
                for m in self.members:  # a learner's etcd starts once the joiner has seen it listed
                    if m.get("isLearner") and not m.get("name"):
                        m["name"], m["clientURLs"] = "cp-2", ["https://127.0.0.1:2"]
                return doc
            if what == "add":
                m = {"ID": "200", "peerURLs": body["peerURLs"], "isLearner": True}
                self.members.append(m)
                return ok(self.version, {"header": header, "member": m, "members": self.members})
            if what == "promote":
                for m in self.members:
                    if m["ID"] == body["ID"]:
                        m.pop("isLearner", None)
                return ok(self.version, {"header": header, "members": self.members})
            if what == "remove":
                return ok(self.version, {"header": header, "members": self.members})
            return 404, "404 page not found\n"

    def stop(self):
        self.server.stop()


@pytest.fixture
def gateway(pki):
    made = []

    def make(version, **scripts):
        g = FakeGateway(pki, version, scripts)
        made.append(g)
        return g

    yield make
    for g in made:
        g.stop()


def creds(pki):
    return ["--cacert", pki.ca_cert, "--cert", pki.client_cert, "--key", pki.client_key]


VERSIONS = ["3.4.23", "3.5.16"]
TOO_MANY = (9, "etcdserver: too many learner members in cluster")
NOT_IN_SYNC = (9, "etcdserver: can only promote a learner member which is in sync with leader")
UNHEALTHY = (14, "etcdserver: unhealthy cluster")
# (call, its argument, the error etcd answers, kube-firstboot's exit code: 3 retry later, 1 final)
SINGLE = [
    ("add-learner", "https://127.0.0.1:2380", TOO_MANY, 3),
    ("add-learner", "https://127.0.0.1:2380", UNHEALTHY, 3),
    ("add-learner", "https://127.0.0.1:2380", (9, "etcdserver: member ID already exist"), 1),
    ("add-learner", "https://127.0.0.1:2380", (3, "etcdserver: given member URLs are invalid"), 2),  # -EINVAL
    ("promote", "c8", NOT_IN_SYNC, 3),
    ("promote", "c8", (9, "etcdserver: can only promote a learner member"), 1),
    ("promote", "c8", (5, "etcdserver: member not found"), 1),
    ("remove", "c8", (5, "etcdserver: member not found"), 1),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("call,arg,error,rc", SINGLE, ids=[f"{c}-{e[1].split(': ')[1][:24]}" for c, _, e, _ in SINGLE])
def test_one_call_same_verdict_for_both_versions(kf, pki, gateway, version, call, arg, error, rc):
    g = gateway(version, **{call.split("-")[0]: [error]})
    p = kf("etcd", "member", call, arg, "--endpoints", g.url, *creds(pki))
    assert p.returncode == rc, (version, p.returncode, p.stderr)
    assert error[1] in p.stderr, p.stderr  # the message reaches the user whatever the body's shape


@pytest.mark.parametrize("version", VERSIONS)
def test_join_through_each_versions_busy_answers(kf, pki, gateway, version):
    """A control-plane join's etcd step: the add meets "too many learner members" and "unhealthy cluster",
    the promotion "not in sync" twice, each in that version's words; the join retries through all of them."""
    g = gateway(version, add=[TOO_MANY, UNHEALTHY], promote=[NOT_IN_SYNC, NOT_IN_SYNC])
    p = kf("etcd", "member", "join", "--name", "cp-2", "--peer-url", "https://127.0.0.1:2380", "--endpoints", g.url,
           *creds(pki), "--promote", "--wait", "60", check_rc=0)
    assert g.calls["add"] == 3 and g.calls["promote"] == 3, g.calls
    assert "another member is joining" in p.stderr and "not in sync with the leader" in p.stderr, p.stderr
    assert 'ETCD_INITIAL_CLUSTER="cp-1=https://127.0.0.1:1,cp-2=https://127.0.0.1:2380"' in p.stdout, p.stdout
    assert not any(m.get("isLearner") for m in g.members), g.members
