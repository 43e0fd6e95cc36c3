# SPDX-License-Identifier: Apache-2.0
"""The simulated clock shared by the apiserver double and the controllers.

Without KF_SIM_CLOCK this is the wall clock. With KF_SIM_CLOCK=<file>, the file holds JSON
{"base": <epoch>, "speed": <factor>, "offset": <seconds>} and
    now = base + (time.time() - base) * speed + offset
so a test can run time 1000x faster, or jump it forward, to see 2 h / 24 h expiries in seconds.
Certificates' validity (checked by OpenSSL in TLS) always uses the real clock."""
import datetime
import json
import os
import time

_cache = {"mtime": None, "cfg": None}


def _cfg():
    path = os.environ.get("KF_SIM_CLOCK")
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if _cache["mtime"] != st.st_mtime_ns:
        try:
            with open(path) as f:
                _cache["cfg"] = json.load(f)
            _cache["mtime"] = st.st_mtime_ns
        except (OSError, ValueError):
            return _cache["cfg"]
    return _cache["cfg"]


def now():
    t = time.time()
    c = _cfg()
    if not c:
        return t
    base = float(c.get("base", t))
    return base + (t - base) * float(c.get("speed", 1)) + float(c.get("offset", 0))


def utcnow():
    return datetime.datetime.fromtimestamp(now(), datetime.timezone.utc)


def rfc3339(t=None):
    t = now() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s):
    """Seconds since the epoch for '2025-01-02T03:04:05Z' (or with an offset / fraction)."""
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(s).timestamp()


def write_config(path, speed=1.0, offset=0.0, base=None):
    """Used by tests: (re)write the clock file. Keeps 'now' continuous when only the speed changes
    if the caller passes the previous base/offset; simplest use is once at the start."""
    cfg = {"base": time.time() if base is None else base, "speed": speed, "offset": offset}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    os.replace(tmp, path)
    return cfg


def set_speed(path, speed):
    """Change the speed of the clock in path without a jump: now() stays continuous."""
    with open(path) as f:
        cfg = json.load(f)
    t = time.time()
    base = float(cfg.get("base", t))
    cur = base + (t - base) * float(cfg.get("speed", 1)) + float(cfg.get("offset", 0))
    return write_config(path, speed=speed, base=t, offset=cur - t)


def jump(path, seconds):
    """Move the clock in path forward by seconds."""
    with open(path) as f:
        cfg = json.load(f)
    cfg["offset"] = float(cfg.get("offset", 0)) + seconds
    return write_config(path, speed=cfg.get("speed", 1), base=cfg.get("base"), offset=cfg["offset"])
