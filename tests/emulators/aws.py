# SPDX-License-Identifier: Apache-2.0
"""AWS Secrets Manager and SSM Parameter Store on one endpoint, as the JSON 1.1 protocol speaks them, with
every request's Signature Version 4 checked by recomputing it with botocore's own signer.

Rules enforced (docs.aws.amazon.com: "Signature Version 4 signing", "Secrets Manager API GetSecretValue",
"Systems Manager API GetParameter", their "Common Errors"):
  - POST / with Content-Type application/x-amz-json-1.1 and X-Amz-Target secretsmanager.GetSecretValue or
    AmazonSSM.GetParameter; anything else is 400 (UnknownOperationException / SerializationException).
  - Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
    Signature=...; malformed: IncompleteSignatureException. KEY must be one the IMDS emulator (ec2.py) handed
    out (UnrecognizedClientException), with its session token in X-Amz-Security-Token (missing or another:
    UnrecognizedClientException), not expired (ExpiredTokenException). REGION must be this endpoint's and
    SERVICE the target's (InvalidSignatureException, "Credential should be scoped to ..."); X-Amz-Date within
    5 minutes of now and on DATE; host, x-amz-date and every x-amz-* header sent must be signed.
  - The signature is recomputed with botocore.auth.SigV4Auth over exactly the signed headers, the method, the
    path, the query and the body (InvalidSignatureException "The request signature we calculated does not
    match" when it differs).
  - GetSecretValue: SecretId and VersionStage (AWSCURRENT by default); ResourceNotFoundException; a secret in
    `denied` answers AccessDeniedException. GetParameter: Name; ParameterNotFound; a SecureString is returned
    decrypted only with WithDecryption true (else its ciphertext, base64).
  - throttle=N: the next N requests answer ThrottlingException (HTTP 400); errors5xx=N: InternalServiceError
    (500); delay: every answer late; oversize: a 300 KiB answer.
Every refusal is recorded in `refusals` (its type), every request that passed the signature check counts in
`verified`.
cloud.py runs it, with the IMDS, as a program for the simulated cluster (tests/sim).
"""
import base64
import datetime
import json
import re
import secrets
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from base import Emulator

AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*"
                  r"SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})")
TARGETS = {"secretsmanager.GetSecretValue": "secretsmanager", "AmazonSSM.GetParameter": "ssm"}


class Refused(Exception):
    def __init__(self, kind, message, status=400):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


class AWSSecrets(Emulator):
    def __init__(self, imds, region="us-west-2", account="123456789012"):
        super().__init__()
        self.imds = imds
        self.region = region
        self.account = account
        self.secrets = {}     # SecretId -> {stage: SecretString (str) or SecretBinary (bytes)}
        self.parameters = {}  # Name -> (Type, Value)
        self.denied = set()   # names the role may not read
        self.throttle = 0
        self.errors5xx = 0
        self.oversize = False
        self.refusals = []
        self.verified = 0
        self.operations = []  # (target, name) of every verified request

    def put_secret(self, secret_id, value, stage="AWSCURRENT"):
        self.secrets.setdefault(secret_id, {})[stage] = value

    def put_parameter(self, name, value, kind="SecureString"):
        self.parameters[name] = (kind, value)

    def _answer(self, h, code, doc):
        body = json.dumps(doc)
        if self.oversize and code == 200:
            body = json.dumps(dict(doc, Padding="x" * (300 * 1024)))
        return h.send(code, body, ctype="application/x-amz-json-1.1",
                      headers={"x-amzn-RequestId": secrets.token_hex(16)})

    def _error(self, h, kind, message, status=400):
        self.refusals.append(kind)
        return h.send(status, json.dumps({"__type": kind, "message": message}),
                      ctype="application/x-amz-json-1.1",
                      headers={"x-amzn-RequestId": secrets.token_hex(16), "x-amzn-ErrorType": f"{kind}:http://internal"})

    def verify(self, h, service):
        """Raises Refused unless the request is signed, by botocore's reckoning, with credentials the IMDS
        handed out, for this region and the target's service."""
        m = AUTH.fullmatch(h.headers.get("Authorization", ""))
        if not m:
            raise Refused("IncompleteSignatureException", "Authorization header requires 'Credential', "
                          "'SignedHeaders' and 'Signature' parameters.")
        key, date, region, scope_service, signed, signature = m.groups()
        cred = self.imds.issued.get(key)
        if cred is None:
            raise Refused("UnrecognizedClientException", "The security token included in the request is invalid.")
        token = h.headers.get("X-Amz-Security-Token")
        if token is None or token != cred.token:
            raise Refused("UnrecognizedClientException", "The security token included in the request is invalid.")
        if cred.expired():
            raise Refused("ExpiredTokenException", "The security token included in the request is expired")
        if region != self.region:
            raise Refused("InvalidSignatureException",
                          f"Credential should be scoped to a valid region, not '{region}'. ")
        if scope_service != service:
            raise Refused("InvalidSignatureException",
                          f"Credential should be scoped to correct service: '{service}'. ")
        amz_date = h.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise Refused("IncompleteSignatureException", "X-Amz-Date is missing or malformed")
        if amz_date[:8] != date or abs(when.timestamp() - time.time()) > 300:
            raise Refused("InvalidSignatureException", "Signature expired or not within the date of its scope")
        names = signed.split(";")
        sent = {k.lower() for k in h.headers.keys()}
        must = {"host", "x-amz-date"} | {k for k in sent if k.startswith("x-amz-")}
        if not must <= set(names) or not set(names) <= sent or names != sorted(names):
            raise Refused("InvalidSignatureException",
                          f"SignedHeaders '{signed}' must list host, x-amz-date and every x-amz-* header, sorted")
        headers = {n: h.headers[n] for n in names}
        req = AWSRequest(method=h.command, url=f"http://{h.headers['Host']}{h.path}", data=h.body, headers=headers)
        auth = SigV4Auth(Credentials(key, cred.secret_access_key, cred.token), scope_service, region)
        req.context["timestamp"] = amz_date
        auth._modify_request_before_signing(req)
        canonical = auth.canonical_request(req)
        want = auth.signature(auth.string_to_sign(req, canonical), req)
        if auth.signed_headers(auth.headers_to_sign(req)) != signed or want != signature:
            raise Refused("InvalidSignatureException",
                          "The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method.")
        self.verified += 1

    def handle(self, h):
        target = h.headers.get("X-Amz-Target", "")
        if h.command != "POST" or h.url_path != "/":
            return self._error(h, "UnknownOperationException", "", 404)
        if target not in TARGETS:
            return self._error(h, "UnknownOperationException", f"unknown target '{target}'")
        if h.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self._error(h, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
        try:
            self.verify(h, TARGETS[target])
        except Refused as e:
            return self._error(h, e.kind, e.message, e.status)
        if self.throttle > 0:
            self.throttle -= 1
            return self._error(h, "ThrottlingException", "Rate exceeded")
        if self.errors5xx > 0:
            self.errors5xx -= 1
            return self._error(h, "InternalServiceError", "An error occurred on the server side.", 500)
        try:
            req = json.loads(h.body)
        except ValueError:
            return self._error(h, "SerializationException", "the body is not JSON")
        role = f"arn:aws:sts::{self.account}:assumed-role/{self.imds.role}/i-1234567890abcdef0"
        if target == "secretsmanager.GetSecretValue":
            sid, stage = req.get("SecretId"), req.get("VersionStage", "AWSCURRENT")
            self.operations.append((target, sid))
            arn = f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{sid}-AbCdEf"
            if sid in self.denied:
                return self._error(h, "AccessDeniedException", f"User: {role} is not authorized to perform: "
                                   f"secretsmanager:GetSecretValue on resource: {sid} because no identity-based "
                                   "policy allows the secretsmanager:GetSecretValue action")
            value = self.secrets.get(sid, {}).get(stage)
            if value is None:
                return self._error(h, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
            doc = {"ARN": arn, "Name": sid, "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
                   "VersionStages": [stage], "CreatedDate": 1.523477145713E9}
            if isinstance(value, bytes):
                doc["SecretBinary"] = base64.b64encode(value).decode()
            else:
                doc["SecretString"] = value
            return self._answer(h, 200, doc)
        name = req.get("Name")
        self.operations.append((target, name))
        if name in self.denied:
            return self._error(h, "AccessDeniedException", f"User: {role} is not authorized to perform: "
                               f"ssm:GetParameter on resource: arn:aws:ssm:{self.region}:{self.account}:parameter{name}")
        if name not in self.parameters:
            return self._error(h, "ParameterNotFound", "")
        kind, value = self.parameters[name]
        if kind == "SecureString" and req.get("WithDecryption") is not True:
            value = base64.b64encode(b"\x01\x02\x02\x00x" + secrets.token_bytes(48)).decode()
        return self._answer(h, 200, {"Parameter": {
            "Name": name, "Type": kind, "Value": value, "Version": 1, "LastModifiedDate": 1.7E9,
            "ARN": f"arn:aws:ssm:{self.region}:{self.account}:parameter{name}", "DataType": "text"}})

