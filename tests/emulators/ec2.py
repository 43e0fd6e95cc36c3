# SPDX-License-Identifier: Apache-2.0
"""EC2 instance metadata service (IMDS) emulator with the IMDSv2 rules.

Rules enforced (AWS "Retrieve instance metadata" / "How IMDSv2 works"):
  - PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600 returns a token; a missing
    or out-of-range TTL is 400; a PUT that carries X-Forwarded-For is 403; a PUT to a dated path such as
    /2021-03-23/api/token is 403.
  - With http_tokens="required" a GET without a valid, unexpired token is 401; with "optional" a GET
    without a token works (IMDSv1) but one with a bad token is still 401.
  - disabled=True: every request is 403 (IMDS turned off).
  - no_token_api=True: the token path is 404 (an EC2-compatible cloud without IMDSv2).
  - user-data absent: 404. Tags not enabled: 404 on meta-data/tags/instance.
  - Versions: only those listed in `versions` (and "latest") answer; others are 404.
  - revoke_after=N: after N authenticated GETs every token is revoked once (the client must renew on 401).
  - Other methods: 405.
  - IAM role (role="name"): meta-data/iam/security-credentials/ lists it, .../<role> answers its temporary
    credentials (Code, Type AWS-HMAC, AccessKeyId, SecretAccessKey, Token, Expiration), the same ones until
    rotate(); role=None: 404 there (no instance profile). Every set handed out is kept in `issued`
    (AccessKeyId -> Credentials) for the store emulators (aws.py) to check signatures with.
    credentials_ttl < 0 hands out credentials that have already expired; expire_first=True only the first
    set; wrong_secret=True hands out a SecretAccessKey that is not the one issued (a corrupted or stolen set).
"""
import dataclasses
import datetime
import json
import os
import secrets
import time

from base import Emulator

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata", "ec2")


def fixture_tree():
    """meta-data paths -> bodies, from the crawled 2016-09-02 fixture, without the version prefix."""
    with open(os.path.join(FIX, "derived-imds-path-responses-2016-09-02.json")) as f:
        raw = json.load(f)
    return {k.split("/", 1)[1]: v for k, v in raw.items()}


def identity_document():
    with open(os.path.join(FIX, "awsdocs-instance-identity-document.json")) as f:
        return f.read()


@dataclasses.dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str
    token: str
    expiration: float  # time.time() seconds

    def expired(self):
        return self.expiration <= time.time()


class EC2(Emulator):
    def __init__(self, ipv6=False, http_tokens="required", user_data=None, tags=None,
                 versions=("2016-09-02", "2021-03-23"), identity=True, role=None):
        super().__init__(ipv6)
        self.http_tokens = http_tokens
        self.disabled = False
        self.no_token_api = False
        self.user_data = user_data
        self.tags = tags  # None: tags in metadata not enabled
        self.versions = list(versions)
        self.tree = fixture_tree()
        self.identity = identity
        self.tokens = {}
        self.revoke_after = None
        self.authenticated_gets = 0
        self.token_puts = 0
        self.role = role
        self.issued = {}  # AccessKeyId -> Credentials
        self.current = None
        self.credentials_ttl = 3600
        self.expire_first = False
        self.wrong_secret = False
        self.credential_reads = 0

    def rotate(self):
        """A new set of credentials, as IMDS hands out some minutes before the old ones expire."""
        ttl = self.credentials_ttl
        if self.expire_first and not self.issued:
            ttl = -60
        c = Credentials("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30),
                        "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(120), time.time() + ttl)
        self.issued[c.access_key_id] = c
        self.current = c
        return c

    def _credentials_answer(self):
        c = self.current
        if c is None or c.expired():
            c = self.rotate()
        self.credential_reads += 1
        secret = c.secret_access_key if not self.wrong_secret else secrets.token_urlsafe(30)
        exp = datetime.datetime.fromtimestamp(c.expiration, datetime.timezone.utc)
        return json.dumps({"Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "Type": "AWS-HMAC", "AccessKeyId": c.access_key_id, "SecretAccessKey": secret,
                           "Token": c.token, "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}, indent=2)

    def _valid(self, tok):
        exp = self.tokens.get(tok)
        return exp is not None and exp > time.time()

    def handle(self, h):
        if self.disabled:
            return h.send(403, "Forbidden")
        path = h.url_path
        if h.command == "PUT":
            if not path.endswith("/api/token"):
                return h.send(405, "Method Not Allowed")
            if self.no_token_api:
                return h.send(404, "Not Found")
            if path != "/latest/api/token":
                return h.send(403, "Forbidden")
            if "X-Forwarded-For" in h.headers:
                return h.send(403, "Forbidden")
            ttl = h.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            try:
                ttl = int(ttl)
            except (TypeError, ValueError):
                return h.send(400, "Bad Request")
            if not 1 <= ttl <= 21600:
                return h.send(400, "Bad Request")
            tok = secrets.token_urlsafe(32)
            self.tokens[tok] = time.time() + ttl
            self.token_puts += 1
            return h.send(200, tok, headers={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})
        if h.command not in ("GET", "HEAD"):
            return h.send(405, "Method Not Allowed")
        tok = h.headers.get("X-aws-ec2-metadata-token")
        if tok is not None and not self._valid(tok):
            return h.send(401, "Unauthorized")
        if tok is None and self.http_tokens == "required":
            return h.send(401, "Unauthorized")
        if tok is not None:
            self.authenticated_gets += 1
            if self.revoke_after is not None and self.authenticated_gets >= self.revoke_after:
                self.revoke_after = None
                self.tokens.clear()
                return h.send(401, "Unauthorized")
        if path == "/":
            return h.send(200, "\n".join(self.versions + ["latest"]))
        parts = path.lstrip("/").split("/", 1)
        ver, rest = parts[0], parts[1] if len(parts) > 1 else ""
        if ver not in self.versions and ver != "latest":
            return h.send(404, "Not Found")
        if rest == "user-data":
            if self.user_data is None:
                return h.send(404, "Not Found")
            return h.send(200, self.user_data, ctype="application/octet-stream")
        if rest == "dynamic/instance-identity/document":
            if not self.identity:
                return h.send(404, "Not Found")
            return h.send(200, identity_document())
        if rest.startswith("meta-data/tags/instance"):
            if self.tags is None:
                return h.send(404, "Not Found")
            key = rest[len("meta-data/tags/instance"):].strip("/")
            if not key:
                return h.send(200, "\n".join(self.tags))
            if key in self.tags:
                return h.send(200, self.tags[key])
            return h.send(404, "Not Found")
        if rest.startswith("meta-data/iam/security-credentials"):
            name = rest[len("meta-data/iam/security-credentials"):].strip("/")
            if self.role is None:
                return h.send(404, "Not Found")
            if not name:
                return h.send(200, self.role)
            if name != self.role:
                return h.send(404, "Not Found")
            return h.send(200, self._credentials_answer())
        if rest == "meta-data/placement/region" and ver != "2016-09-02":
            return h.send(200, "us-east-2")
        if rest == "meta-data/placement/availability-zone":
            return h.send(200, "us-east-2b")
        body = self.tree.get(rest)
        if body is None:
            return h.send(404, "Not Found")
        return h.send(200, body)


if __name__ == "__main__":
    import sys
    e = EC2(user_data=b"#cloud-config\nkube_firstboot:\n  role: worker\n").start()
    print(e.url, flush=True)
    try:
        sys.stdin.read()
    finally:
        e.stop()
