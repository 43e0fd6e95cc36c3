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
"""
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


class EC2(Emulator):
    def __init__(self, ipv6=False, http_tokens="required", user_data=None, tags=None,
                 versions=("2016-09-02", "2021-03-23"), identity=True):
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
