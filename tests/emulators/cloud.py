# SPDX-License-Identifier: Apache-2.0
"""One cloud for the simulated cluster (tests/sim), as a program: its metadata service and its secret store in
one process, on the addresses the configuration names (the metadata service on 169.254.169.254:80, as nodes
reach it on a real instance; the store where a VPC endpoint would be).

    python3 cloud.py aws|gcp|azure CONFIG.json
    CONFIG: {"imds": [host, port], "store": [host, port], "secrets": {name: value}, "parameters": {name: value}
             (aws: SSM), "role": "..." (aws), "state": path}

aws: ec2.py's IMDS with the instance role and aws.py's Secrets Manager + SSM (every signature checked by
botocore); gcp: gce.py's metadata server (service-account tokens) and its Secret Manager (secrets named
projects/P/secrets/S); azure: azure.py's IMDS (managed-identity tokens) and its Key Vault. The state file
(what the store served and refused) is rewritten after every change. SIGHUP reads the secrets again (a
rotation); SIGTERM stops it."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aws import AWSSecrets  # noqa: E402
from azure import Azure, KeyVault  # noqa: E402
from ec2 import EC2  # noqa: E402
from gce import GCE, GCPSecretManager  # noqa: E402


def build(kind, cfg):
    """(metadata service, store, load(cfg) putting the secrets in, state() of the store)."""
    if kind == "aws":
        md = EC2(role=cfg.get("role"))
        store = AWSSecrets(md)

        def load(c):
            for k, v in c.get("secrets", {}).items():
                store.put_secret(k, v)
            for k, v in c.get("parameters", {}).items():
                store.put_parameter(k, v)
        return md, store, load, lambda: {"verified": store.verified, "refusals": store.refusals,
                                         "operations": store.operations, "credential_reads": md.credential_reads}
    if kind == "gcp":
        md = GCE()
        store = GCPSecretManager(md)

        def load(c):
            for k, v in c.get("secrets", {}).items():
                if not store.secrets.get(k) or store.secrets[k][-1] != v.encode():
                    store.put(k, v)  # a new version, the latest
        return md, store, load, lambda: {"accessed": store.accessed, "refusals": store.refusals,
                                         "tokens": len(md.tokens)}
    if kind == "azure":
        md = Azure()
        store = KeyVault(md)

        def load(c):
            for k, v in c.get("secrets", {}).items():
                store.put(k, v)
        return md, store, load, lambda: {"gets": store.gets, "refusals": store.refusals, "tokens": len(md.tokens)}
    raise SystemExit(f"unknown cloud '{kind}'")


def main(kind, config_path):
    def read():
        with open(config_path) as f:
            return json.load(f)

    cfg = read()
    md, store, load, state = build(kind, cfg)
    load(cfg)
    md.start(*cfg["imds"])
    store.start(*cfg["store"])
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGHUP, lambda *_: load(read()))
    print(f"{kind}: metadata {md.url}, store {store.url}", flush=True)
    last = None
    while not done.is_set():
        now = json.dumps(state())
        if now != last:
            with open(cfg["state"] + ".tmp", "w") as f:
                f.write(now)
            os.replace(cfg["state"] + ".tmp", cfg["state"])
            last = now
        done.wait(0.1)
    store.stop()
    md.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
