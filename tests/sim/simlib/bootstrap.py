# SPDX-License-Identifier: Apache-2.0
"""Bootstrap tokens as the apiserver's authenticator and the bootstrapsigner/tokencleaner see them,
and the detached JWS (HS256) of cluster-info."""
import base64
import hashlib
import hmac
import re

from . import simclock

TOKEN_RE = re.compile(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z")
ID_RE = re.compile(r"\A([a-z0-9]{6})\Z")
SECRET_TYPE = "bootstrap.kubernetes.io/token"
PREFIX = "bootstrap-token-"
GROUP_RE = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")


def data_str(secret, key):
    v = (secret.get("data") or {}).get(key)
    if v is None:
        return None
    try:
        return base64.b64decode(v).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def expired(secret, now=None):
    exp = data_str(secret, "expiration")
    if not exp:
        return False
    try:
        t = simclock.parse_rfc3339(exp)
    except ValueError:
        return True  # the real code treats an unparsable expiration as expired
    return (simclock.now() if now is None else now) > t


def token_of(secret):
    """(id, secret) when the Secret is a well-formed bootstrap token, else None."""
    if secret.get("type") != SECRET_TYPE:
        return None
    name = secret.get("metadata", {}).get("name", "")
    tid, tsec = data_str(secret, "token-id"), data_str(secret, "token-secret")
    if not tid or not tsec or name != PREFIX + tid:
        return None
    if not ID_RE.match(tid) or not re.match(r"\A[a-z0-9]{16}\Z", tsec):
        return None
    return tid, tsec


def usage(secret, u):
    return data_str(secret, "usage-bootstrap-" + u) == "true"


def extra_groups(secret):
    g = data_str(secret, "auth-extra-groups") or ""
    return [x.strip() for x in g.split(",") if x.strip()]


def _b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def detached_jws(content, token_id, token_secret):
    """`<b64url header>..<b64url HMAC-SHA256>` over b64url(header).b64url(content)."""
    header = ('{"alg":"HS256","kid":"%s"}' % token_id).encode()
    if isinstance(content, str):
        content = content.encode()
    signing_input = _b64url(header) + "." + _b64url(content)
    sig = hmac.new(token_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return _b64url(header) + ".." + _b64url(sig)


def token_secret(tid, tsec, ttl=3600, usages=("signing", "authentication"),
                 groups="system:bootstrappers:kubeadm:default-node-token", expiration=None, description=None):
    """A bootstrap token Secret as kubeadm writes it (spec section 3.2); expiration on the simulated clock."""
    data = {"token-id": tid, "token-secret": tsec}
    if description:
        data["description"] = description
    data["expiration"] = expiration or simclock.rfc3339(simclock.now() + ttl)
    for u in usages:
        data[f"usage-bootstrap-{u}"] = "true"
    if groups:
        data["auth-extra-groups"] = groups
    return {"apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
            "metadata": {"name": PREFIX + tid, "namespace": "kube-system"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
