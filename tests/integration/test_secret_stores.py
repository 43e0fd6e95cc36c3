# SPDX-License-Identifier: Apache-2.0
"""Secrets that do not live in user-data (issue 17): each cloud's secret store read with the instance's own
identity, end to end through 'secrets check', 'config print', 'plan' and 'run', against emulators that enforce
each service's protocol: AWS Secrets Manager and SSM check every request's Signature Version 4 by recomputing it
with botocore's own signer from the credentials their IMDS handed out (tests/emulators/aws.py); GCP Secret
Manager and Azure Key Vault take only the bearer tokens their metadata services issued, asked for with the
metadata headers those services require. Then the failures: access denied, not found, no identity, throttled
then served, throttled for good, slow and oversized answers, expired and wrong credentials; and no secret value
in any output or in status.json."""
import base64
import hashlib
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulators"))
from aws import AWSSecrets  # noqa: E402
from azure import Azure, KeyVault  # noqa: E402
from ec2 import EC2  # noqa: E402
from gce import GCE, GCPSecretManager  # noqa: E402

CERT_KEY = "5d2f9b1c8e7a6f4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
TOKEN = "s3cr3t.0123456789zyxwvu"
SECRETS = (CERT_KEY, TOKEN)


def fingerprint(value):
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def user_data(cert_source, token_source, role="init", fb_extra="", ignore="[all]"):
    return f"""#cloud-config
kube_firstboot:
  - apiVersion: kube-firstboot.io/v1alpha1
    kind: FirstbootConfiguration
    role: {role}
    secrets:
      certificateKey: {cert_source}
      bootstrapToken: {token_source}
{fb_extra}  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    kubernetesVersion: v1.37.1
  - apiVersion: kubeadm.k8s.io/v1beta4
    kind: InitConfiguration
    nodeRegistration: {{ignorePreflightErrors: {ignore}}}
    # 'run' under --root has no kubelet: it waits for one only briefly.
    timeouts: {{kubeletHealthCheck: 2s, controlPlaneComponentHealthCheck: 2s}}
"""


@pytest.fixture
def emulators():
    started = []

    def start(e):
        started.append(e.start())
        return e

    yield start
    for e in reversed(started):
        e.stop()


@pytest.fixture
def aws(emulators):
    """An EC2 IMDS with an instance role, the store beside it, the user-data naming both stores."""
    def make(cert=None, token=None, role="k8s-node", region_field=""):
        imds = emulators(EC2(role=role))
        store = emulators(AWSSecrets(imds))
        store.put_secret("prod/k8s/certificate-key", CERT_KEY + "\n")
        store.put_parameter("/k8s/prod/bootstrap-token", TOKEN)
        cert = cert or f'{{awsSecretsManager: {{secretId: prod/k8s/certificate-key{region_field}, endpoint: "{store.url}"}}}}'
        token = token or f'{{awsSsmParameter: {{name: /k8s/prod/bootstrap-token, endpoint: "{store.url}"}}}}'
        imds.user_data = user_data(cert, token).encode()
        return imds, store
    return make


@pytest.fixture
def gcp(emulators):
    def make():
        md = GCE()
        api = GCPSecretManager(md)
        emulators(md)
        emulators(api)
        api.put("projects/demo/secrets/k8s-certificate-key", "0" * 64)
        api.put("projects/demo/secrets/k8s-certificate-key", CERT_KEY)  # version 2, the latest
        api.put("projects/demo/secrets/k8s-token", TOKEN + "\n")
        ud = user_data(f'{{gcpSecretManager: {{name: projects/demo/secrets/k8s-certificate-key, endpoint: "{api.url}"}}}}',
                       f'{{gcpSecretManager: {{name: projects/demo/secrets/k8s-token/versions/1, endpoint: "{api.url}"}}}}')
        md.tree["instance"]["attributes"]["user-data"] = ud
        return md, api
    return make


@pytest.fixture
def azure(emulators):
    def make(client_id=None):
        imds = Azure()
        vault = KeyVault(imds)
        emulators(imds)
        emulators(vault)
        vault.put("k8s-certificate-key", CERT_KEY)
        version = vault.put("k8s-token", TOKEN)
        vault.put("k8s-token", "stale.0000000000000000")  # a later version: the pinned one must be read
        cid = f", clientId: {client_id}" if client_id else ""
        ud = user_data(f'{{azureKeyVault: {{vaultUrl: "{vault.url}", name: k8s-certificate-key{cid}}}}}',
                       f'{{azureKeyVault: {{vaultUrl: "{vault.url}", name: k8s-token, version: {version}{cid}}}}}')
        imds.doc["compute"]["userData"] = base64.b64encode(ud.encode()).decode()
        return imds, vault
    return make


def check(kf, tmp_path, ds, url, *extra, rc=0, timeout=60):
    p = kf("secrets", "check", "--datasource", ds, "--metadata-url", url, *extra, root=tmp_path, timeout=timeout)
    assert p.returncode == rc, f"exit {p.returncode}, wanted {rc}\n{p.stdout}\n{p.stderr}"
    assert not [s for s in SECRETS if s in p.stdout + p.stderr], p.stdout + p.stderr
    return p


def lines(p):
    return {ln.split()[0]: ln.split(None, 2)[1:] for ln in p.stdout.splitlines()}


# ---- AWS ----

def test_aws_both_stores_end_to_end(kf, tmp_path, aws):
    imds, store = aws()
    p = check(kf, tmp_path, "ec2", imds.url)
    got = lines(p)
    assert got["certificateKey"][0] == fingerprint(CERT_KEY)  # the trailing newline is not the secret's
    assert got["bootstrapToken"][0] == fingerprint(TOKEN)
    assert got["certificateKey"][1] == f"awsSecretsManager secretId 'prod/k8s/certificate-key' (endpoint {store.url})"
    assert got["bootstrapToken"][1] == f"awsSsmParameter name '/k8s/prod/bootstrap-token' (endpoint {store.url})"
    # botocore found every signature right; one set of credentials and one identity document for both.
    assert store.refusals == [] and store.verified == 2
    assert sorted(store.operations) == [("AmazonSSM.GetParameter", "/k8s/prod/bootstrap-token"),
                                        ("secretsmanager.GetSecretValue", "prod/k8s/certificate-key")]
    assert imds.credential_reads == 1
    iam = [r for r in imds.requests if "/iam/" in r.path or "identity-document" in r.path]
    assert iam and all("X-aws-ec2-metadata-token" in r.headers for r in iam)
    # The credentials travel to the store only: never a word of them in the output.
    cred = imds.current
    assert cred.secret_access_key not in p.stdout + p.stderr and cred.token not in p.stdout + p.stderr


def test_aws_config_print_and_plan_use_the_store(kf, tmp_path, aws):
    imds, store = aws()
    md = ["--datasource", "ec2", "--metadata-url", imds.url]
    p = kf("config", "print", *md, root=tmp_path, check_rc=0)
    assert "secretId: prod/k8s/certificate-key" in p.stdout and "name: /k8s/prod/bootstrap-token" in p.stdout
    assert "certificateKey: <redacted>" in p.stdout  # InitConfiguration's, from the store
    plan = kf("plan", *md, root=tmp_path, check_rc=0)
    assert f"secret certificateKey: {fingerprint(CERT_KEY)} from awsSecretsManager" in plan.stdout
    assert f"secret bootstrapToken: {fingerprint(TOKEN)} from awsSsmParameter" in plan.stdout
    for out in (p.stdout + p.stderr, plan.stdout + plan.stderr):
        assert not [s for s in SECRETS if s in out]
    assert store.refusals == [] and store.verified == 4


def test_aws_json_key_and_region_from_the_identity_document(kf, tmp_path, aws):
    imds, store = aws(cert="{awsSecretsManager: {secretId: k8s/all, jsonKey: certificateKey, endpoint: \"URL\"}}",
                      token="{awsSecretsManager: {secretId: k8s/all, jsonKey: token, versionStage: AWSPENDING, "
                            "endpoint: \"URL\"}}")
    imds.user_data = imds.user_data.replace(b"URL", store.url.encode())
    store.put_secret("k8s/all", json.dumps({"certificateKey": CERT_KEY, "token": "old.0000000000000000"}))
    store.put_secret("k8s/all", json.dumps({"certificateKey": CERT_KEY, "token": TOKEN}), stage="AWSPENDING")
    got = lines(check(kf, tmp_path, "ec2", imds.url))
    assert got["certificateKey"][0] == fingerprint(CERT_KEY) and got["bootstrapToken"][0] == fingerprint(TOKEN)
    # The region was the identity document's (us-west-2): the emulator refuses any other scope.
    assert store.region == "us-west-2" and store.verified == 2
    assert any(r.path.endswith("/dynamic/instance-identity/document") for r in imds.requests)


def test_aws_wrong_region_is_refused(kf, tmp_path, aws):
    imds, store = aws(region_field=", region: eu-west-1")
    p = check(kf, tmp_path, "ec2", imds.url, rc=1)
    assert "FAILED" in lines(p)["certificateKey"][0]
    assert "InvalidSignatureException" in p.stderr and "region eu-west-1" in p.stderr
    assert "the instance's identity failed" in p.stderr
    assert "InvalidSignatureException" in store.refusals


def test_aws_access_denied_and_not_found(kf, tmp_path, aws):
    imds, store = aws()
    store.denied.add("prod/k8s/certificate-key")
    del store.parameters["/k8s/prod/bootstrap-token"]
    p = check(kf, tmp_path, "ec2", imds.url, rc=1)
    got = lines(p)
    assert got["certificateKey"][0] == "FAILED" and got["bootstrapToken"][0] == "FAILED"
    assert "the instance's identity failed" in p.stderr and "AccessDeniedException" in p.stderr
    assert "not found: " in p.stderr and "ParameterNotFound" in p.stderr
    assert "Secret bootstrapToken could not be read (the first that failed)" in p.stderr


def test_aws_no_role(kf, tmp_path, aws):
    imds, store = aws(role=None)
    p = check(kf, tmp_path, "ec2", imds.url, rc=1)
    assert "the instance has no IAM role" in p.stderr and "attach an instance profile" in p.stderr
    assert store.requests == []


def test_aws_throttled_then_served_and_throttled_for_good(kf, tmp_path, aws):
    imds, store = aws()
    store.throttle = 2
    got = lines(check(kf, tmp_path, "ec2", imds.url))
    assert got["certificateKey"][0] == fingerprint(CERT_KEY)
    assert store.refusals == ["ThrottlingException"] * 2
    store.throttle = 100
    t0 = time.monotonic()
    p = check(kf, tmp_path, "ec2", imds.url, rc=3)
    assert time.monotonic() - t0 < 30
    assert "throttled (ThrottlingException), still after 4 attempts" in p.stderr


def test_aws_server_errors_then_served(kf, tmp_path, aws):
    imds, store = aws()
    store.errors5xx = 2
    check(kf, tmp_path, "ec2", imds.url)
    assert store.refusals.count("InternalServiceError") == 2
    store.errors5xx = 100
    p = check(kf, tmp_path, "ec2", imds.url, rc=3)
    assert "InternalServiceError" in p.stderr and "still after 4 attempts" in p.stderr


def test_aws_slow_answer_times_out(kf, tmp_path, aws):
    imds, store = aws()
    store.delay = 3
    t0 = time.monotonic()
    p = check(kf, tmp_path, "ec2", imds.url, "--timeout", "1", rc=3)
    assert time.monotonic() - t0 < 25
    assert "no answer within 1000 ms (4 attempts)" in p.stderr


def test_aws_oversized_answer(kf, tmp_path, aws):
    imds, store = aws()
    store.oversize = True
    p = check(kf, tmp_path, "ec2", imds.url, rc=1)
    assert "larger than 256 KiB, the limit" in p.stderr


def test_aws_expired_credentials(kf, tmp_path, aws):
    imds, store = aws()
    imds.expire_first = True  # the first set has expired: read again, the fresh one works
    check(kf, tmp_path, "ec2", imds.url)
    assert store.refusals == ["ExpiredTokenException"] and imds.credential_reads == 2
    imds2, store2 = aws()
    imds2.credentials_ttl = -60  # the IMDS only has expired ones
    p = check(kf, tmp_path, "ec2", imds2.url, rc=1)
    assert "have expired, still after they were read again" in p.stderr
    assert "the instance's identity failed" in p.stderr


def test_aws_wrong_secret_key_fails_the_signature(kf, tmp_path, aws):
    imds, store = aws()
    imds.wrong_secret = True
    p = check(kf, tmp_path, "ec2", imds.url, rc=1)
    assert "InvalidSignatureException" in p.stderr and "signature were refused" in p.stderr
    assert store.refusals and set(store.refusals) == {"InvalidSignatureException"}


def test_aws_emulator_refuses_what_aws_refuses(aws):
    """The emulator itself, driven by botocore: a correctly signed request passes; one without the session
    token, for another region or service, or with credentials the IMDS never issued, does not."""
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    imds, store = aws()
    issued = imds.rotate()

    def send(creds, region="us-west-2", service="secretsmanager", target="secretsmanager.GetSecretValue"):
        body = json.dumps({"SecretId": "prod/k8s/certificate-key"}).encode()
        req = AWSRequest(method="POST", url=store.url + "/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
        SigV4Auth(creds, service, region).add_auth(req)
        r = urllib.request.Request(store.url + "/", data=body, method="POST", headers=dict(req.headers))
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    good = Credentials(issued.access_key_id, issued.secret_access_key, issued.token)
    status, doc = send(good)
    assert status == 200 and doc["SecretString"] == CERT_KEY + "\n"
    cases = [
        (Credentials(issued.access_key_id, issued.secret_access_key), {}, "UnrecognizedClientException"),
        (good, {"region": "eu-west-1"}, "InvalidSignatureException"),
        (good, {"service": "ssm"}, "InvalidSignatureException"),
        (Credentials("ASIANEVERISSUED0000", issued.secret_access_key, issued.token), {}, "UnrecognizedClientException"),
        (Credentials(issued.access_key_id, "not-the-secret", issued.token), {}, "InvalidSignatureException"),
    ]
    for creds, kw, kind in cases:
        status, doc = send(creds, **kw)
        assert status == 400 and doc["__type"] == kind, (kw, doc)


def test_aws_ca_key_from_the_store(kf, tmp_path, aws, pki):
    """A CA made beforehand, pinned by its certificate (a file of the image), its key only in the store
    (secrets.caKey): secrets check fingerprints it, config validate accepts the pair, run writes the key where
    it belongs and nowhere else; a key that is not the CA's is refused, naming secrets.caKey."""
    with open(pki.ca_key) as f:
        ca_key = f.read()
    with open(pki.server_key) as f:
        other_key = f.read()
    imds, store = aws()
    store.put_secret("prod/k8s/ca-key", ca_key)
    (tmp_path / "etc/kube-firstboot/ca").mkdir(parents=True)
    (tmp_path / "etc/kube-firstboot/ca/ca.crt").write_bytes(open(pki.ca_cert, "rb").read())
    imds.user_data = imds.user_data.replace(b"  - apiVersion: kubeadm.k8s.io/v1beta4\n    kind: ClusterConfiguration", (
        f'      caKey: {{awsSecretsManager: {{secretId: prod/k8s/ca-key, endpoint: "{store.url}"}}}}\n'
        "    ca: {certFile: /etc/kube-firstboot/ca/ca.crt}\n"
        "  - apiVersion: kubeadm.k8s.io/v1beta4\n    kind: ClusterConfiguration").encode(), 1)
    assert b"caKey" in imds.user_data and b"PRIVATE KEY" not in imds.user_data
    md = ["--datasource", "ec2", "--metadata-url", imds.url]
    p = check(kf, tmp_path, "ec2", imds.url)
    assert lines(p)["caKey"][0] == fingerprint(ca_key.strip())
    kf("config", "validate", *md, root=tmp_path, check_rc=0)
    run = kf("run", *md, root=tmp_path, timeout=180)
    assert "kubelet-start" in run.stderr, run.stderr[-2000:]
    from cryptography.hazmat.primitives import serialization
    written = serialization.load_pem_private_key((tmp_path / "etc/kubernetes/pki/ca.key").read_bytes(), None)
    stored = serialization.load_pem_private_key(ca_key.encode(), None)
    assert written.private_numbers() == stored.private_numbers()  # the store's key, as kubeadm writes it
    key_line = ca_key.strip().splitlines()[1]
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.name != "ca.key":
            assert key_line not in f.read_bytes().decode(errors="replace"), f
    assert key_line not in run.stdout + run.stderr + p.stdout + p.stderr
    store.put_secret("prod/k8s/ca-key", other_key)
    bad = kf("config", "validate", *md, root=tmp_path / "etc")  # a fresh root: the CA certificate is missing
    assert bad.returncode == 2
    p = kf("config", "validate", *md, root=tmp_path)
    assert p.returncode == 2 and "FirstbootConfiguration.secrets.caKey: does not match the CA certificate" in p.stderr


# ---- GCP ----

def test_gcp_end_to_end(kf, tmp_path, gcp):
    md, api = gcp()
    p = check(kf, tmp_path, "gce", md.url)
    got = lines(p)
    assert got["certificateKey"][0] == fingerprint(CERT_KEY)  # the latest version (2), not version 1
    assert got["bootstrapToken"][0] == fingerprint(TOKEN)
    assert got["certificateKey"][1] == f"gcpSecretManager name 'projects/demo/secrets/k8s-certificate-key' (endpoint {api.url})"
    assert sorted(api.accessed) == [("projects/demo/secrets/k8s-certificate-key", "latest"),
                                    ("projects/demo/secrets/k8s-token", "1")]
    assert api.refusals == []
    tok = [r for r in md.requests if r.path.endswith("/service-accounts/default/token")]
    assert len(tok) == 1 and tok[0].headers["Metadata-Flavor"] == "Google"
    assert all(r.headers.get("Authorization", "").startswith("Bearer ya29.") for r in api.requests)


def test_gcp_failures(kf, tmp_path, gcp):
    md, api = gcp()
    md.service_account = False
    p = check(kf, tmp_path, "gce", md.url, rc=1)
    assert "the instance has no service account" in p.stderr and api.requests == []
    md.service_account = True
    api.denied.add("projects/demo/secrets/k8s-certificate-key")
    api.disabled.add(("projects/demo/secrets/k8s-token", 1))
    p = check(kf, tmp_path, "gce", md.url, rc=1)
    assert "PERMISSION_DENIED" in p.stderr and "the instance's identity failed" in p.stderr
    assert "FAILED_PRECONDITION" in p.stderr and "the version is disabled or destroyed" in p.stderr
    api.denied.clear()
    api.disabled.clear()
    api.bad_crc = True
    p = check(kf, tmp_path, "gce", md.url, rc=1)
    assert "does not match its dataCrc32c" in p.stderr
    api.bad_crc = False
    del api.secrets["projects/demo/secrets/k8s-token"]
    p = check(kf, tmp_path, "gce", md.url, rc=1)
    assert "not found: " in p.stderr and "NOT_FOUND" in p.stderr


def test_gcp_throttled_then_served_and_oversized(kf, tmp_path, gcp):
    md, api = gcp()
    api.throttle = 2
    check(kf, tmp_path, "gce", md.url)
    assert api.refusals == ["RESOURCE_EXHAUSTED"] * 2
    api.oversize = True
    p = check(kf, tmp_path, "gce", md.url, rc=1)
    assert "larger than 256 KiB" in p.stderr


# ---- Azure ----

def test_azure_end_to_end_and_client_id(kf, tmp_path, azure):
    imds, vault = azure()
    p = check(kf, tmp_path, "azure", imds.url)
    got = lines(p)
    assert got["certificateKey"][0] == fingerprint(CERT_KEY)
    assert got["bootstrapToken"][0] == fingerprint(TOKEN)  # the pinned version, not the latest
    assert got["certificateKey"][1] == f"azureKeyVault name 'k8s-certificate-key' (vaultUrl {vault.url})"
    tok = [r for r in imds.requests if r.path.startswith("/metadata/identity/oauth2/token")]
    assert len(tok) == 1 and "resource=https%3A%2F%2Fvault.azure.net" in tok[0].path
    assert vault.refusals == []
    # A user-assigned identity: the client id goes to IMDS; one it does not know is no identity.
    imds2, vault2 = azure(client_id="6f3c1a2b-0d4e-4f5a-9b8c-7d6e5f4a3b2c")
    p = check(kf, tmp_path, "azure", imds2.url, rc=1)
    assert "the VM has no managed identity with client id '6f3c1a2b" in p.stderr
    imds2.client_ids.add("6f3c1a2b-0d4e-4f5a-9b8c-7d6e5f4a3b2c")
    check(kf, tmp_path, "azure", imds2.url)


def test_azure_failures(kf, tmp_path, azure):
    imds, vault = azure()
    imds.identity = False
    p = check(kf, tmp_path, "azure", imds.url, rc=1)
    assert "the VM has no managed identity" in p.stderr and vault.requests == []
    imds.identity = True
    vault.denied.add("k8s-certificate-key")
    vault.disabled.add("k8s-token")
    p = check(kf, tmp_path, "azure", imds.url, rc=1)
    assert "may not get the secret" in p.stderr and "the instance's identity failed" in p.stderr
    assert "the secret is disabled" in p.stderr
    vault.denied.clear()
    vault.disabled.clear()
    del vault.secrets["k8s-certificate-key"]
    p = check(kf, tmp_path, "azure", imds.url, rc=1)
    assert "SecretNotFound" in p.stderr and "not found: " in p.stderr


def test_azure_throttled_then_served_slow_and_oversized(kf, tmp_path, azure):
    imds, vault = azure()
    vault.throttle = 2
    check(kf, tmp_path, "azure", imds.url)
    assert vault.refusals == ["Throttled"] * 2
    vault.delay = 3
    p = check(kf, tmp_path, "azure", imds.url, "--timeout", "1", rc=3)
    assert "no answer within 1000 ms" in p.stderr
    vault.delay = 0
    vault.oversize = True
    p = check(kf, tmp_path, "azure", imds.url, rc=1)
    assert "larger than 256 KiB" in p.stderr


# ---- run, status.json, and no secret anywhere ----

def test_run_reports_a_store_failure_in_status_json(kf, tmp_path, aws):
    imds, store = aws()
    store.denied.add("prod/k8s/certificate-key")
    p = kf("run", "--datasource", "ec2", "--metadata-url", imds.url, root=tmp_path)
    assert p.returncode == 1, p.stderr
    status = json.loads((tmp_path / "run/kube-firstboot/status.json").read_text())
    text = json.dumps(status)
    assert "AccessDeniedException" in text and "secrets check" in text
    assert not [s for s in SECRETS if s in text + p.stdout + p.stderr]
    store.denied.clear()
    store.delay = 3
    p = kf("run", "--datasource", "ec2", "--metadata-url", imds.url, "--timeout", "1", root=tmp_path)
    assert p.returncode == 3, p.stderr  # temporary: the unit retries
    assert "the unit retries" in (tmp_path / "run/kube-firstboot/status.json").read_text()


def test_no_secret_value_in_any_output(kf, tmp_path, aws, gcp, azure):
    """Every verb that reads the secrets, at debug level in both log formats, 'run' as far as it gets under
    --root: the values are in no output, in no file written but the ones they belong in, and not in
    status.json."""
    outputs = []
    for ds, (md, _store) in (("ec2", aws()), ("gce", gcp()), ("azure", azure())):
        root = tmp_path / ds
        root.mkdir()
        args = ["--datasource", ds, "--metadata-url", md.url]
        for fmt in ("text", "json"):
            for verb in (["secrets", "check"], ["config", "print"], ["config", "validate"], ["plan"], ["run"]):
                p = kf(*verb, *args, "-vv", "--log-format", fmt, root=root, timeout=180)
                outputs.append((f"{ds} {' '.join(verb)} ({fmt}): exit {p.returncode}", p.stdout + p.stderr))
        assert "kubelet-start" in outputs[-1][1], outputs[-1][1][-2000:]
        for f in root.rglob("*"):
            if f.is_file():
                outputs.append((str(f.relative_to(tmp_path)), f.read_bytes().decode(errors="replace")))
    assert any("status.json" in where for where, _ in outputs)
    leaks = [(where, s) for where, text in outputs for s in SECRETS if s in text]
    # The certificate key belongs in kubeadm-certs' envelope only as its encryption key, never written; the
    # token only in the API's Secret, which 'run' under --root does not reach.
    assert not leaks, leaks


# ---- the exposure warning ----

def test_exposure_warning_names_the_secrets_in_user_data(kf, tmp_path, emulators, aws):
    """Secrets given as values in user-data that the metadata service serves to any process (EC2 with IMDSv1
    allowed, GCE): plan and run warn once, naming the fields and the remedy, never the values; run also in
    status.json. IMDSv2 required, or the secrets in a store: no warning."""
    md = ["--datasource", "ec2", "--metadata-url"]
    imds = emulators(EC2(role="k8s-node", http_tokens="optional"))
    store = emulators(AWSSecrets(imds))
    store.put_parameter("/k8s/prod/bootstrap-token", TOKEN)
    imds.user_data = user_data(f'{{value: "{CERT_KEY}"}}', f'{{awsSsmParameter: {{name: /k8s/prod/bootstrap-token, '
                               f'endpoint: "{store.url}"}}}}').encode()
    plan = kf("plan", *md, imds.url, root=tmp_path, check_rc=0)
    warning = "The user-data holds secrets (FirstbootConfiguration.secrets.certificateKey.value), and the EC2 " \
              "instance metadata service answers without a session token (IMDSv1 is enabled)"
    assert plan.stderr.count(warning) == 1 and "require IMDSv2 with a hop limit of 1" in plan.stderr
    assert "bootstrapToken" not in plan.stderr.split(warning)[1].split("\n")[0]  # the store's is not exposed
    # The run stops at preflight (this test machine is no Kubernetes node): the warning is given before that.
    imds.user_data = imds.user_data.replace(b"ignorePreflightErrors: [all]", b"ignorePreflightErrors: []")
    root = tmp_path / "run"
    root.mkdir()
    run = kf("run", *md, imds.url, root=root, timeout=180)
    assert run.returncode != 0 and "preflight" in run.stderr, run.stderr[-2000:]
    status = json.loads((root / "run/kube-firstboot/status.json").read_text())
    assert len(status["warnings"]) == 1 and status["warnings"][0]["message"].startswith(warning)
    assert "secret store" in status["warnings"][0]["remedy"]
    for text in (plan.stdout + plan.stderr, run.stdout + run.stderr, json.dumps(status)):
        assert not [s for s in SECRETS if s in text]
    # IMDSv2 required: nothing to say. The secrets in stores: nothing to say either, IMDSv1 or not.
    imds.http_tokens = "required"
    assert "holds secrets" not in kf("plan", *md, imds.url, root=tmp_path, check_rc=0).stderr
    imds2, _ = aws()
    imds2.http_tokens = "optional"
    assert "holds secrets" not in kf("plan", *md, imds2.url, root=tmp_path, check_rc=0).stderr


def test_exposure_warning_on_gce(kf, tmp_path, emulators):
    md = emulators(GCE())
    md.tree["instance"]["attributes"]["user-data"] = user_data(f'{{value: "{CERT_KEY}"}}', f'{{value: "{TOKEN}"}}')
    p = kf("plan", "--datasource", "gce", "--metadata-url", md.url, root=tmp_path, check_rc=0)
    assert "The user-data holds secrets (FirstbootConfiguration.secrets.bootstrapToken.value, " \
           "FirstbootConfiguration.secrets.certificateKey.value), and the GCE metadata server serves the " \
           "user-data attribute to any process on the instance" in p.stderr
    assert not [s for s in SECRETS if s in p.stdout + p.stderr]
