# SPDX-License-Identifier: Apache-2.0
"""'make bench' part for issue 16: replacing a dead control plane in the simulated cluster (real etcd and
haproxy, the apiserver, controller-manager and kubelet doubles; tests/sim). Three control planes from
identical user-data; one machine is destroyed (its network namespace gone); a new machine boots with the
same user-data. Measured side by side in one run, each the wall time from `kube-firstboot run` on the new
machine to 3 healthy etcd voters (every voter has a leader and no error in its Status, no learner):

  - plain join:     a third control plane joining a healthy cluster of two (the baseline);
  - long dead:      the replacement boots after the dead member's evidence is already conclusive
                    (deadAfter passed): the cost of the replacement itself;
  - just died:      the replacement boots at once: it waits out deadAfter, then replaces.

    BENCH_DEAD_AFTER  replacement.deadAfter for the run (default 20s; the product default is 5m)
    KF_BIN            the binary (default build/kube-firstboot)"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))

from simlib.cluster import Sim, wait_until  # noqa: E402
from simlib.userdata import user_data  # noqa: E402

KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
DEAD_AFTER = os.environ.get("BENCH_DEAD_AFTER", "20s")
ENV = {"KF_SIM_NODE_MONITOR_GRACE": "15s"}


def seed(s):
    return user_data(s, "auto", fb_extra=f"    replacement: {{deadAfter: {DEAD_AFTER}}}\n", etcd_join="5m")


def healthy_voters(s, via, n):
    ms = s.etcd_members(via=via)
    if len(ms) != n or any(m.get("isLearner") or not m.get("name") for m in ms):
        return False
    for m in ms:
        node = next(x for x in s.cp if x.name == m["name"])
        try:
            st = node.etcd(timeout=2).status()
            if str(st.get("leader", "0")) == "0" or st.get("errors"):
                return False
        except Exception:  # noqa: BLE001 - not healthy yet
            return False
    return True


def boot_to_voters(s, node, via):
    """Seconds from `run` on node to 3 healthy voters, and the run's replacements."""
    node.write_seed(seed(s))
    t = time.monotonic()
    r = node.firstboot("run", timeout=900)
    if r.returncode != 0:
        raise SystemExit(f"bench-replacement: {node.name} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    wait_until(lambda: healthy_voters(s, via, 3), 120, 0.2, "3 healthy voters")
    return time.monotonic() - t, (node.firstboot_status() or {}).get("replacements") or []


def scenario(workdir, case):
    s = Sim(workdir, control_planes=4, workers=0, env=ENV)
    s.kf_bin = KF
    with s:
        s.start_lb()
        first = s.cp[:2] if case == "plain" else s.cp[:3]
        for n in first:
            n.write_seed(seed(s))
            r = n.firstboot("run", timeout=900)
            if r.returncode != 0:
                raise SystemExit(f"bench-replacement: {n.name} failed:\n{r.stderr[-3000:]}")
        if case == "plain":
            return boot_to_voters(s, s.cp[2], s.cp[0])
        s.destroy(s.cp[0])
        if case == "long dead":
            d = float(DEAD_AFTER.rstrip("s")) if DEAD_AFTER.endswith("s") else 20.0
            time.sleep(d + 16)  # deadAfter, and the node lifecycle grace (15 s) for Ready to go Unknown
        took, rep = boot_to_voters(s, s.cp[3], s.cp[1])
        if [x.get("removedMember") for x in rep] != ["cp-1"]:
            raise SystemExit(f"bench-replacement: expected cp-1 replaced, status says {rep}")
        return took, rep


def main():
    if os.geteuid() != 0:
        print("bench-replacement: skipped (needs root for network namespaces)")
        return
    if not os.access(KF, os.X_OK):
        raise SystemExit(f"bench-replacement: {KF} is not built: run 'make' first")
    print(f"bench-replacement: {os.cpu_count()} CPU(s); simulated cluster; deadAfter {DEAD_AFTER}; wall time from "
          f"'kube-firstboot run' on the new machine to 3 healthy etcd voters")
    got = {}
    with tempfile.TemporaryDirectory(prefix="bench-repl-") as tmp:
        for case in ("plain", "long dead", "just died"):
            got[case] = scenario(os.path.join(tmp, case.replace(" ", "-")), case)[0]
            print(f"bench-replacement {case + ':':<11} {got[case]:6.1f} s")
    print(f"bench-replacement ratio long dead / plain join: {got['long dead'] / got['plain']:.2f} "
          f"(the replacement's own cost)")
    print(f"bench-replacement ratio just died / plain join: {got['just died'] / got['plain']:.2f} "
          f"(includes waiting out deadAfter)")


if __name__ == "__main__":
    main()
