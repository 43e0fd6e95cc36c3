# SPDX-License-Identifier: Apache-2.0
"""Azure Instance Metadata Service emulator.

Rules enforced (learn.microsoft.com/azure/virtual-machines/instance-metadata-service):
  - "Metadata: true" is required, else 400; a request with X-Forwarded-For is refused (400).
  - api-version is required except on /metadata/versions: without it, or with one not in `versions`,
    400 with the documented JSON error body listing newest-versions.
  - Only GET: 405 otherwise.
  - Leaves need format=text (400 with format=json).
  - coming_up=[codes]: the first requests answer these statuses (404/410 while IMDS starts).
  - /metadata/identity/oauth2/token (api-version 2018-02-01 among others, resource required, client_id
    optional): a managed identity's token for that resource, kept in `tokens` (token -> resource); without an
    identity (identity=False) or with a client_id not in `client_ids`: 400 invalid_request "Identity not
    found" (learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token).

KeyVault is the Key Vault data plane (learn.microsoft.com/rest/api/keyvault/secrets/get-secret): GET
/secrets/NAME[/VERSION]?api-version=7.x with "Authorization: Bearer <a token IMDS issued for
https://vault.azure.net>" (else 401 with the WWW-Authenticate challenge); {value, id, attributes}. 404
SecretNotFound, 403 Forbidden (AccessDenied) for a name in `denied`, 403 SecretDisabled for one in `disabled`;
throttle=N answers 429, errors5xx=N 503; oversize a 300 KiB answer.
"""
import json
import os
import secrets

from base import Emulator

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata", "azure")


class Azure(Emulator):
    def __init__(self, user_data=None, tags_list=None, versions=("2019-06-01", "2021-01-01", "2021-08-01")):
        super().__init__()
        with open(os.path.join(FIX, "walinuxagent-imds-valid.json")) as f:
            self.doc = json.load(f)
        c = self.doc["compute"]
        c["osProfile"] = {"computerName": "cp-azure-1", "adminUsername": "azureuser"}
        c["zone"] = "2"
        if tags_list is not None:
            c["tagsList"] = tags_list
            c["tags"] = ";".join(f"{t['name']}:{t['value']}" for t in tags_list)
        if user_data is not None:
            c["userData"] = user_data
        self.versions = list(versions)
        self.coming_up = []
        self.identity = True
        self.client_ids = set()
        self.tokens = {}
        with open(os.path.join(FIX, "msdocs-imds-error-missing-api-version.json")) as f:
            self.error_body = f.read()

    def handle(self, h):
        if h.headers.get("Metadata") != "true" or "X-Forwarded-For" in h.headers:
            return h.send(400, json.dumps({"error": "Bad request. Required metadata header not specified"}),
                          ctype="application/json")
        if h.command != "GET":
            return h.send(405, "Method Not Allowed")
        if self.coming_up:
            return h.send(self.coming_up.pop(0), "not ready")
        if h.url_path == "/metadata/identity/oauth2/token":
            return self._token(h)
        if h.url_path == "/metadata/versions":
            return h.send(200, json.dumps({"apiVersions": self.versions}), ctype="application/json")
        if h.query.get("api-version") not in self.versions:
            return h.send(400, self.error_body, ctype="application/json")
        if not h.url_path.startswith("/metadata/instance"):
            return h.send(404, "Not Found")
        node = self.doc
        for p in [p for p in h.url_path[len("/metadata/instance"):].split("/") if p]:
            if isinstance(node, dict) and p in node:
                node = node[p]
            elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
                node = node[int(p)]
            else:
                return h.send(404, "Not Found")
        if isinstance(node, (dict, list)):
            if h.query.get("format") == "text":
                return h.send(400, "Bad request: text format for a non-leaf")
            return h.send(200, json.dumps(node), ctype="application/json")
        if h.query.get("format") != "text":
            return h.send(400, json.dumps({"error": "Bad request. json format is not supported for leaf"}),
                          ctype="application/json")
        return h.send(200, str(node))

    def _token(self, h):
        if h.query.get("api-version") not in set(self.versions) | {"2018-02-01"}:
            return h.send(400, self.error_body, ctype="application/json")
        resource = h.query.get("resource")
        if not resource:
            return h.send(400, json.dumps({"error": "invalid_request", "error_description": "Required query "
                                           "variable 'resource' is missing"}), ctype="application/json")
        cid = h.query.get("client_id")
        if not self.identity or (cid is not None and cid not in self.client_ids):
            return h.send(400, json.dumps({"error": "invalid_request", "error_description": "Identity not found"}),
                          ctype="application/json")
        tok = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(120)
        self.tokens[tok] = resource
        return h.send(200, json.dumps({"access_token": tok, "client_id": cid or "system-assigned",
                                       "expires_in": "86399", "expires_on": "1700000000", "ext_expires_in": "86399",
                                       "not_before": "1699913300", "resource": resource, "token_type": "Bearer"}),
                      ctype="application/json")


class KeyVault(Emulator):
    def __init__(self, imds):
        super().__init__()
        self.imds = imds
        self.secrets = {}  # name -> {version: value}, the last put is the latest
        self.latest = {}
        self.denied = set()
        self.disabled = set()
        self.throttle = 0
        self.errors5xx = 0
        self.oversize = False
        self.refusals = []
        self.gets = []

    def put(self, name, value, version=None):
        version = version or secrets.token_hex(16)
        self.secrets.setdefault(name, {})[version] = value
        self.latest[name] = version
        return version

    def _error(self, h, code, kind, message, inner=None, headers=None):
        self.refusals.append(inner or kind)
        err = {"code": kind, "message": message}
        if inner:
            err["innererror"] = {"code": inner}
        return h.send(code, json.dumps({"error": err}), ctype="application/json; charset=utf-8", headers=headers)

    def handle(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or self.imds.tokens.get(auth[7:]) != "https://vault.azure.net":
            return self._error(h, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                               headers={"WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/'
                                        '72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"'})
        if not (h.query.get("api-version") or "").startswith("7."):
            return self._error(h, 400, "BadParameter", "The specified version is not supported")
        parts = [p for p in h.url_path.split("/") if p]
        if h.command != "GET" or len(parts) not in (2, 3) or parts[0] != "secrets":
            return self._error(h, 405, "BadParameter", "")
        if self.throttle > 0:
            self.throttle -= 1
            return self._error(h, 429, "Throttled", "Rate limit is exceeded. Try again in 1 seconds.")
        if self.errors5xx > 0:
            self.errors5xx -= 1
            return self._error(h, 503, "ServiceUnavailable", "The service is unavailable.")
        name = parts[1]
        self.gets.append(tuple(parts[1:]))
        if name in self.denied:
            return self._error(h, 403, "Forbidden", "The user, group or application 'appid=...;oid=...' does not "
                               "have secrets get permission on key vault 'kv;location=westeurope'.", "AccessDenied")
        if name in self.disabled:
            return self._error(h, 403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                               "SecretDisabled")
        version = parts[2] if len(parts) == 3 else self.latest.get(name)
        value = self.secrets.get(name, {}).get(version)
        if value is None:
            return self._error(h, 404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this "
                               "key vault.")
        doc = {"value": value, "id": f"http://{h.headers['Host']}/secrets/{name}/{version}",
               "attributes": {"enabled": True, "created": 1700000000, "updated": 1700000000,
                              "recoveryLevel": "Recoverable+Purgeable"}}
        if self.oversize:
            doc["tags"] = {"padding": "x" * (300 * 1024)}
        return h.send(200, json.dumps(doc), ctype="application/json; charset=utf-8")
