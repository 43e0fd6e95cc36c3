# SPDX-License-Identifier: Apache-2.0
"""Processes started by the simulation: each is remembered by PID and stopped by PID
(SIGTERM, wait, then SIGKILL). Optionally inside a network namespace (ip netns exec, which execs the
command, so the PID is the command's own)."""
import os
import signal
import subprocess
import time


class Proc:
    def __init__(self, name, argv, log_path, netns=None, env=None, cwd=None):
        self.name = name
        self.log_path = log_path
        full = (["ip", "netns", "exec", netns] if netns else []) + [str(a) for a in argv]
        e = dict(os.environ)
        e.update(env or {})
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(full, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=e, cwd=cwd, start_new_session=True)
        self.pid = self.p.pid
        self.argv = full

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=5.0, sig=signal.SIGTERM):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(5)
        self.log.close()
        return self.p.returncode

    def kill(self):
        return self.stop(timeout=0.1, sig=signal.SIGKILL)

    def tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


def wait_until(pred, timeout, interval=0.1, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - a probe may fail until the thing is up
            last = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last})" if last else ""))
