# SPDX-License-Identifier: Apache-2.0
"""GCE and Azure against emulators that enforce their headers, api-versions and status codes."""
import base64
import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
from azure import Azure  # noqa: E402
from gce import GCE  # noqa: E402

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metadata")
UD = b"#cloud-config\nkube_firstboot:\n  role: init\n"


@pytest.fixture
def emulators():
    ems = []

    def start(e):
        ems.append(e.start())
        return e

    yield start
    for e in ems:
        e.stop()


def view(kf, tmp_path, ds, url, rc=0):
    p = kf("metadata", "--datasource", ds, "--metadata-url", url, root=tmp_path, check_rc=rc)
    return json.loads(p.stdout) if rc == 0 else p


def test_gce_recursive_exact_id_attributes_and_base64_userdata(kf, tmp_path, emulators):
    e = emulators(GCE(attributes={"user-data": base64.b64encode(UD).decode(), "user-data-encoding": "base64",
                                  "kube-firstboot-role": "worker", "join-token": "abcdef.0123456789abcdef"}))
    v = view(kf, tmp_path, "gce", e.url)
    # Above 2^53: a double would print 127546640929027968.
    assert v["instanceId"] == "127546640929027970"
    assert v["zone"] == "us-west1-b" and v["region"] == "us-west1"
    assert v["hostname"] == "pytorch"
    assert v["localIPv4"] == "10.138.0.16"
    assert v["tags"]["kube-firstboot-role"] == "worker"
    assert v["tags"]["framework"] == "PyTorch:1.4"
    assert v["tags"]["join-token"] == "<redacted>"
    assert "user-data" not in v["tags"]
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(UD)}]
    assert all(r.headers.get("Metadata-Flavor") == "Google" for r in e.requests)


def test_gce_503_during_maintenance_is_retried(kf, tmp_path, emulators):
    e = emulators(GCE())
    e.maintenance = 2
    v = view(kf, tmp_path, "gce", e.url)
    assert v["instanceId"] == "127546640929027970"
    assert len(e.requests) == 3


def test_gce_404_means_not_gce(kf, tmp_path, emulators):
    e = emulators(GCE())
    e.tree = {"nothing": {}}
    p = view(kf, tmp_path, "gce", e.url, rc=4)
    assert "not present" in p.stderr


def test_azure_imds_userdata_tags_and_header(kf, tmp_path, emulators):
    e = emulators(Azure(user_data=base64.b64encode(UD).decode(),
                        tags_list=[{"name": "kube-firstboot-role", "value": "control-plane"},
                                   {"name": "env", "value": "a;b:c"}]))
    v = view(kf, tmp_path, "azure", e.url)
    assert v["instanceId"] == "e7fdbfc4-2deb-4a4e-8615-ea6aaf50162e"
    assert v["hostname"] == "cp-azure-1"
    assert v["region"] == "westus" and v["zone"] == "2"
    assert v["localIPv4"] == "10.0.1.4"
    # tagsList keeps the ';' inside a value that the string form would split.
    assert v["tags"] == {"kube-firstboot-role": "control-plane", "env": "a;b:c"}
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(UD)}]
    assert all(r.headers.get("Metadata") == "true" and "api-version=" in r.path for r in e.requests)


def test_azure_api_version_fallback_and_coming_up(kf, tmp_path, emulators):
    e = emulators(Azure(versions=("2019-06-01",)))
    e.coming_up = [429, 410, 404]
    v = view(kf, tmp_path, "azure", e.url)
    assert v["instanceId"] == "e7fdbfc4-2deb-4a4e-8615-ea6aaf50162e"
    paths = [r.path for r in e.requests]
    assert any("api-version=2021-08-01" in p for p in paths)
    assert paths[-1].endswith("api-version=2019-06-01")


def test_azure_ovf_custom_data_wins_over_imds(kf, tmp_path, emulators):
    e = emulators(Azure(user_data=base64.b64encode(b"#!/bin/sh\n").decode()))
    seed = tmp_path / "var/lib/cloud/seed/azure"
    seed.mkdir(parents=True)
    with open(os.path.join(FIX, "azure", "walinuxagent-ovf-env.xml")) as f:
        xml = f.read().replace("<CustomData>CustomData</CustomData>",
                               "<CustomData>" + base64.b64encode(UD).decode() + "</CustomData>")
    (seed / "ovf-env.xml").write_text(xml)
    v = view(kf, tmp_path, "azure", e.url)
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(UD)}]
    assert v["hostname"] == "HostName"


def test_azure_detected_from_dmi_chassis_tag(kf, tmp_path):
    d = tmp_path / "sys/class/dmi/id"
    d.mkdir(parents=True)
    (d / "chassis_asset_tag").write_text("7783-7084-3265-9085-8269-3286-77\n")
    p = kf("metadata", "--datasource", "files", root=tmp_path, check_rc=0)
    assert json.loads(p.stdout)["platform"] == "azure"


def test_azure_waagent_custom_data_file(kf, tmp_path, emulators):
    e = emulators(Azure())
    d = tmp_path / "var/lib/waagent"
    d.mkdir(parents=True)
    (d / "CustomData").write_text(base64.b64encode(UD).decode() + "\n")
    v = view(kf, tmp_path, "azure", e.url)
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(UD)}]
    assert v["instanceId"] == "e7fdbfc4-2deb-4a4e-8615-ea6aaf50162e"


def test_azure_ovf_without_imds_uses_dmi_uuid(kf, tmp_path):
    seed = tmp_path / "var/lib/cloud/seed/azure"
    seed.mkdir(parents=True)
    with open(os.path.join(FIX, "azure", "walinuxagent-ovf-env.xml")) as f:
        (seed / "ovf-env.xml").write_text(f.read().replace("<CustomData>CustomData</CustomData>",
                                                         "<CustomData>" + base64.b64encode(UD).decode() + "</CustomData>"))
    dmi = tmp_path / "sys/class/dmi/id"
    dmi.mkdir(parents=True)
    (dmi / "product_uuid").write_text("ABCDEF01-2345-6789-ABCD-EF0123456789\n")
    p = kf("metadata", "--datasource", "azure", "--metadata-url", "http://127.0.0.1:9", "--timeout", "1", root=tmp_path)
    assert p.returncode == 0, p.stderr
    v = json.loads(p.stdout)
    assert v["instanceId"] == "abcdef01-2345-6789-abcd-ef0123456789"
    assert v["source"] == "/var/lib/cloud/seed/azure/ovf-env.xml"
