# SPDX-License-Identifier: Apache-2.0
"""OpenStack metadata service emulator.

Rules (nova metadata API as cloud-init uses it):
  - GET /openstack lists the supported versions, one per line ("latest" last).
  - /openstack/<version>/{meta_data.json, network_data.json, vendor_data.json, user_data}; user_data is
    404 when none was given; unknown versions and files are 404.
  - An EC2-compatible tree answers /latest/meta-data/local-ipv4.
  - Only GET (405 otherwise).
"""
import json
import os

from base import Emulator

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata", "openstack")


class OpenStack(Emulator):
    def __init__(self, user_data=None, versions=("2012-08-10", "2013-04-04", "2016-06-30", "2018-08-27")):
        super().__init__()
        d = os.path.join(FIX, "configdrive-cloudinit", "openstack", "latest")
        with open(os.path.join(d, "meta_data.json")) as f:
            self.meta = json.load(f)
        with open(os.path.join(d, "network_data.json")) as f:
            self.network = f.read()
        self.user_data = user_data
        self.versions = list(versions)
        self.local_ipv4 = "10.0.0.21"

    def handle(self, h):
        if h.command != "GET":
            return h.send(405, "Method Not Allowed")
        p = h.url_path.rstrip("/")
        if p == "/openstack":
            return h.send(200, "\n".join(self.versions + ["latest"]))
        if p == "/latest/meta-data/local-ipv4":
            return h.send(200, self.local_ipv4)
        parts = p.lstrip("/").split("/")
        if len(parts) != 3 or parts[0] != "openstack" or parts[1] not in self.versions + ["latest"]:
            return h.send(404, "Not Found")
        name = parts[2]
        if name == "meta_data.json":
            return h.send(200, json.dumps(self.meta), ctype="application/json")
        if name == "network_data.json":
            return h.send(200, self.network, ctype="application/json")
        if name == "vendor_data.json":
            return h.send(200, "{}", ctype="application/json")
        if name == "user_data":
            if self.user_data is None:
                return h.send(404, "Not Found")
            return h.send(200, self.user_data, ctype="application/octet-stream")
        return h.send(404, "Not Found")
