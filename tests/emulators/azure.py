# SPDX-License-Identifier: Apache-2.0
"""Azure Instance Metadata Service emulator.

Rules enforced (learn.microsoft.com/azure/virtual-machines/instance-metadata-service):
  - "Metadata: true" is required, else 400; a request with X-Forwarded-For is refused (400).
  - api-version is required except on /metadata/versions: without it, or with one not in `versions`,
    400 with the documented JSON error body listing newest-versions.
  - Only GET: 405 otherwise.
  - Leaves need format=text (400 with format=json).
  - coming_up=[codes]: the first requests answer these statuses (404/410 while IMDS starts).
"""
import json
import os

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
