# SPDX-License-Identifier: Apache-2.0
"""GCE metadata server emulator.

Rules enforced (cloud.google.com/compute/docs/metadata, troubleshooting page):
  - Every request needs "Metadata-Flavor: Google", else 403; X-Forwarded-For is refused with 403.
  - Directories end in "/"; "?recursive=true" returns the subtree as JSON (the instance id stays an exact
    64-bit integer); leaves are text (alt=text) unless alt=json.
  - 404 for a missing key; maintenance=N makes the first N requests answer 503 (retry).
  - Every answer carries "Metadata-Flavor: Google".
  - instance/service-accounts/default/token: an OAuth access token of the default service account
    ({access_token, expires_in, token_type: Bearer}), kept in `tokens`; service_account=False: 404 (an
    instance created without one).

GCPSecretManager is the Secret Manager API (cloud.google.com/secret-manager/docs/reference/rest/v1/
projects.secrets.versions/access): GET /v1/projects/P/secrets/S/versions/V:access (V a number or "latest")
with "Authorization: Bearer <a token the metadata server handed out>" (else 401 UNAUTHENTICATED); {name, payload: {data (base64), dataCrc32c}}. 404
NOT_FOUND, 403 PERMISSION_DENIED for a secret in `denied`, 400 FAILED_PRECONDITION for a disabled version;
throttle=N answers 429 RESOURCE_EXHAUSTED, errors5xx=N 503; bad_crc=True a wrong dataCrc32c; oversize a
300 KiB answer.
"""
import base64
import json
import os
import re
import secrets

from base import Emulator

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata", "gce")


class GCE(Emulator):
    def __init__(self, attributes=None, ipv6=False):
        super().__init__(ipv6)
        with open(os.path.join(FIX, "jupyter-extensions-computeMetadata-v1-recursive.json")) as f:
            self.tree = json.load(f)  # Python ints keep the 64-bit id exact
        if attributes:
            self.tree["instance"]["attributes"].update(attributes)
        self.maintenance = 0
        self.service_account = True
        self.tokens = set()

    def _lookup(self, parts):
        node = self.tree
        for p in parts:
            if isinstance(node, dict):
                # the API names keys in kebab-case in paths, camelCase in JSON
                camel = "".join(w if i == 0 else w.capitalize() for i, w in enumerate(p.split("-")))
                if p in node:
                    node = node[p]
                elif camel in node:
                    node = node[camel]
                else:
                    return None
            elif isinstance(node, list):
                try:
                    node = node[int(p)]
                except (ValueError, IndexError):
                    return None
            else:
                return None
        return node

    def handle(self, h):
        hdr = {"Metadata-Flavor": "Google"}
        if h.headers.get("Metadata-Flavor") != "Google" or "X-Forwarded-For" in h.headers:
            return h.send(403, "Forbidden", headers=hdr)
        if self.maintenance > 0:
            self.maintenance -= 1
            return h.send(503, "Service Unavailable", headers=hdr)
        if h.command != "GET":
            return h.send(405, "Method Not Allowed", headers=hdr)
        prefix = "/computeMetadata/v1/"
        if not h.url_path.startswith(prefix):
            return h.send(404, "Not Found", headers=hdr)
        rest = h.url_path[len(prefix):]
        if rest == "instance/service-accounts/default/token":
            if not self.service_account:
                return h.send(404, "Not Found", headers=hdr)
            tok = "ya29.c." + secrets.token_urlsafe(90)
            self.tokens.add(tok)
            return h.send(200, json.dumps({"access_token": tok, "expires_in": 3599, "token_type": "Bearer"}),
                          ctype="application/json", headers=hdr)
        node = self._lookup([p for p in rest.split("/") if p])
        if node is None:
            return h.send(404, "Not Found", headers=hdr)
        recursive = h.query.get("recursive", "").lower() == "true"
        if isinstance(node, (dict, list)):
            if recursive or h.query.get("alt") == "json":
                return h.send(200, json.dumps(node), ctype="application/json", headers=hdr)
            keys = node.keys() if isinstance(node, dict) else range(len(node))
            lines = [f"{k}/" if isinstance((node[k]), (dict, list)) else str(k) for k in keys]
            return h.send(200, "\n".join(lines), headers=hdr)
        if h.query.get("alt") == "json":
            return h.send(200, json.dumps(node), ctype="application/json", headers=hdr)
        return h.send(200, str(node), headers=hdr)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


ACCESS = re.compile(r"/v1/(projects/[^/]+/(?:locations/[^/]+/)?secrets/[^/]+)/versions/([^/:]+):access")


class GCPSecretManager(Emulator):
    def __init__(self, metadata):
        super().__init__()
        self.metadata = metadata
        self.secrets = {}  # projects/P/secrets/S -> [versions' payloads (bytes)], version n at index n-1
        self.disabled = set()  # (secret, version number)
        self.denied = set()
        self.throttle = 0
        self.errors5xx = 0
        self.bad_crc = False
        self.oversize = False
        self.refusals = []
        self.accessed = []

    def put(self, name, value):
        self.secrets.setdefault(name, []).append(value.encode() if isinstance(value, str) else value)

    def _error(self, h, code, status, message):
        self.refusals.append(status)
        return h.send(code, json.dumps({"error": {"code": code, "message": message, "status": status}}),
                      ctype="application/json; charset=UTF-8")

    def handle(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.metadata.tokens:
            return self._error(h, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                               "Expected OAuth 2 access token, login cookie or other valid authentication credential.")
        if h.command != "GET":
            return self._error(h, 405, "METHOD_NOT_ALLOWED", "")
        m = ACCESS.fullmatch(h.url_path)
        if not m:
            return self._error(h, 404, "NOT_FOUND", "no such method")
        if self.throttle > 0:
            self.throttle -= 1
            return self._error(h, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Access requests'")
        if self.errors5xx > 0:
            self.errors5xx -= 1
            return self._error(h, 503, "UNAVAILABLE", "The service is currently unavailable.")
        name, version = m.groups()
        self.accessed.append((name, version))
        if name in self.denied:
            return self._error(h, 403, "PERMISSION_DENIED", f"Permission 'secretmanager.versions.access' denied "
                               f"for resource '{name}/versions/{version}' (or it may not exist).")
        versions = self.secrets.get(name)
        if not versions:
            return self._error(h, 404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
        n = len(versions) if version == "latest" else int(version) if version.isdigit() else 0
        if not 1 <= n <= len(versions):
            return self._error(h, 404, "NOT_FOUND", f"Secret Version [{name}/versions/{version}] not found.")
        if (name, n) in self.disabled:
            return self._error(h, 400, "FAILED_PRECONDITION", f"Secret Version [{name}/versions/{n}] is in DISABLED state.")
        data = versions[n - 1]
        crc = crc32c(data) ^ (1 if self.bad_crc else 0)
        doc = {"name": f"{name}/versions/{n}", "payload": {"data": base64.b64encode(data).decode(),
                                                           "dataCrc32c": str(crc)}}
        if self.oversize:
            doc["padding"] = "x" * (300 * 1024)
        return h.send(200, json.dumps(doc), ctype="application/json; charset=UTF-8")
