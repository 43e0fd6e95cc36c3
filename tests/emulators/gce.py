# SPDX-License-Identifier: Apache-2.0
"""GCE metadata server emulator.

Rules enforced (cloud.google.com/compute/docs/metadata, troubleshooting page):
  - Every request needs "Metadata-Flavor: Google", else 403; X-Forwarded-For is refused with 403.
  - Directories end in "/"; "?recursive=true" returns the subtree as JSON (the instance id stays an exact
    64-bit integer); leaves are text (alt=text) unless alt=json.
  - 404 for a missing key; maintenance=N makes the first N requests answer 503 (retry).
  - Every answer carries "Metadata-Flavor: Google".
"""
import json
import os

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
