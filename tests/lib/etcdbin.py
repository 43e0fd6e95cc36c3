# SPDX-License-Identifier: Apache-2.0
"""The etcd binary every test starts (the sim's kubelet double, its loopback cluster, the integration tests):
$KF_SIM_ETCD when set (e.g. build/etcd-3.5/usr/bin/etcd, which tools/fetch-etcd.sh fetches from Debian 13),
otherwise Debian's etcd on PATH (3.4 on Debian 12). What that binary is (its version and the flags it
accepts) is read from it, never assumed: `etcd --version`, `etcd --help`."""
import functools
import os
import re
import shutil
import subprocess

ENV = "KF_SIM_ETCD"


def path():
    p = os.environ.get(ENV)
    if p:
        return os.path.abspath(p)
    return shutil.which("etcd") or "/usr/bin/etcd"


@functools.lru_cache(maxsize=None)
def _version(p):
    try:
        out = subprocess.run([p, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    m = re.search(r"^etcd Version: (\d+)\.(\d+)\.(\d+)", out, re.M)
    return tuple(int(x) for x in m.groups()) if m else None


def version(p=None):
    """(3, 5, 16), or None when the binary does not run."""
    return _version(p or path())


def version_text(p=None):
    v = version(p)
    return ".".join(map(str, v)) if v else "unknown"


@functools.lru_cache(maxsize=None)
def _flags(p):
    try:
        out = subprocess.run([p, "--help"], capture_output=True, text=True, timeout=10)
    except OSError:
        return frozenset()
    return frozenset(re.findall(r"^\s+--([a-z0-9-]+)", out.stdout + out.stderr, re.M))


def flags(p=None):
    """The long flags the binary's --help lists (without "--"); empty when it does not run."""
    return _flags(p or path())


def has_livez_readyz(p=None):
    """Whether this etcd serves /livez and /readyz (added in etcd 3.5.11, etcd-io/etcd#17039); older ones
    answer only /health, which is what the kubelet double probes instead."""
    v = version(p)
    return v is not None and v >= (3, 5, 11)
