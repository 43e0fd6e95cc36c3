# SPDX-License-Identifier: Apache-2.0
"""EC2 IMDSv2 against an emulator that enforces the token rules."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
from ec2 import EC2  # noqa: E402

SECRET = "abcdef.0123456789abcdef"
USER_DATA = ("#cloud-config\nkube_firstboot:\n  role: worker\n"
             "  secrets:\n    token: {value: " + SECRET + "}\n").encode()


@pytest.fixture
def ec2():
    ems = []

    def start(**kw):
        e = EC2(**kw).start()
        ems.append(e)
        return e

    yield start
    for e in ems:
        e.stop()


def view(kf, tmp_path, url, *extra, rc=0):
    p = kf("metadata", "--datasource", "ec2", "--metadata-url", url, *extra, root=tmp_path, check_rc=rc)
    return json.loads(p.stdout) if rc == 0 else p


def test_token_flow_fields_and_userdata(kf, tmp_path, ec2):
    e = ec2(user_data=USER_DATA, tags={"Name": "cp-1", "kube-firstboot-role": "control-plane"})
    v = view(kf, tmp_path, e.url)
    assert v["platform"] == "ec2" and v["datasource"] == "ec2"
    # The identity document is authoritative for the id, region and zone (cloud-init's rule).
    assert v["instanceId"] == "i-1234567890abcdef0"
    assert v["region"] == "us-west-2"
    assert v["localIPv4"] == "10.158.112.84"
    assert v["hostname"] == "ip-172-3-3-15.us-east-2.compute.internal"
    assert v["localIPv6"] == "2600:1f16:aeb:b20b:9d87:a4af:5cc9:73dc"
    assert v["tags"] == {"Name": "cp-1", "kube-firstboot-role": "control-plane"}
    assert v["userData"]["bytes"] == len(USER_DATA)
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(USER_DATA)}]
    # One token for the whole crawl, sent on every GET but the one that asks whether the IMDS answers
    # without it (the exposure of the user-data): here it does not (tokens required).
    assert e.token_puts == 1
    gets = [r for r in e.requests if r.method == "GET"]
    bare = [r for r in gets if "X-aws-ec2-metadata-token" not in r.headers]
    assert gets and [r.path for r in bare] == ["/latest/meta-data/instance-id"]
    assert "exposure" not in v["userData"]
    put = [r for r in e.requests if r.method == "PUT"][0]
    assert put.path == "/latest/api/token"
    assert put.headers["X-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert SECRET not in json.dumps(v)


def test_userdata_exposure_when_imdsv1_is_allowed(kf, tmp_path, ec2):
    """With IMDSv1 allowed (http_tokens optional) the user-data is readable by any process that asks: the view
    says so (run and plan warn when it holds secrets); without user-data nothing is asked."""
    v = view(kf, tmp_path, ec2(user_data=USER_DATA, http_tokens="optional").url)
    assert "answers without a session token (IMDSv1 is enabled)" in v["userData"]["exposure"]
    e = ec2(user_data=None, http_tokens="optional")
    v = view(kf, tmp_path, e.url)
    assert "exposure" not in v["userData"]
    assert all("X-aws-ec2-metadata-token" in r.headers for r in e.requests if r.method == "GET")


def test_expired_token_is_renewed_on_401(kf, tmp_path, ec2):
    e = ec2(user_data=b"#!/bin/sh\necho hi\n")
    e.revoke_after = 3
    v = view(kf, tmp_path, e.url)
    assert v["instanceId"] == "i-1234567890abcdef0"
    assert e.token_puts == 2
    assert v["userData"]["parts"][0]["type"] == "text/x-shellscript"


def test_imds_disabled_gives_up_at_once(kf, tmp_path, ec2):
    e = ec2()
    e.disabled = True
    p = view(kf, tmp_path, e.url, "-v", rc=4)
    assert "disabled" in p.stderr
    assert len(e.requests) == 1  # no retries against a disabled IMDS


def test_no_userdata_and_tags_not_enabled(kf, tmp_path, ec2):
    e = ec2(user_data=None, tags=None)
    v = view(kf, tmp_path, e.url)
    assert v["userData"] == {"bytes": 0, "parts": []}
    assert v["tags"] == {}
    assert any(r.path.endswith("/meta-data/tags/instance") for r in e.requests)


def test_imdsv1_when_there_is_no_token_api(kf, tmp_path, ec2):
    e = ec2(http_tokens="optional")
    e.no_token_api = True
    v = view(kf, tmp_path, e.url)
    assert v["instanceId"] == "i-1234567890abcdef0"
    assert all("X-aws-ec2-metadata-token" not in r.headers for r in e.requests if r.method == "GET")


def test_old_versions_fall_back(kf, tmp_path, ec2):
    e = ec2(versions=("2016-09-02",), identity=False)
    v = view(kf, tmp_path, e.url)
    assert v["instanceId"] == "i-0a33f80f09c96477f"
    # No placement/region in 2016-09-02: the region comes from the zone.
    assert v["zone"] == "us-east-2b" and v["region"] == "us-east-2"
    assert any("/2021-03-23/meta-data/instance-id" in r.path for r in e.requests)


def test_ipv6_endpoint(kf, tmp_path, ec2):
    try:
        e = ec2(ipv6=True)
    except OSError:
        pytest.skip("no IPv6 loopback")
    v = view(kf, tmp_path, e.url)
    assert v["instanceId"] == "i-1234567890abcdef0"


def test_gzip_base64_userdata_is_unwrapped(kf, tmp_path, ec2):
    import base64
    import gzip
    e = ec2(user_data=base64.b64encode(gzip.compress(USER_DATA)))
    v = view(kf, tmp_path, e.url)
    assert v["userData"]["parts"] == [{"type": "text/cloud-config", "bytes": len(USER_DATA)}]


def test_slow_imds_times_out_as_temporary(kf, tmp_path, ec2):
    e = ec2()
    e.delay = 3
    p = kf("metadata", "--datasource", "ec2", "--metadata-url", e.url, "--timeout", "1", root=tmp_path)
    assert p.returncode == 3, p.stderr


def test_unreachable_forced_endpoint_is_temporary(kf, tmp_path):
    p = kf("metadata", "--datasource", "ec2", "--metadata-url", "http://127.0.0.1:9", "--timeout", "1", root=tmp_path)
    assert p.returncode == 3, p.stderr
