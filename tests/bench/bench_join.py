# SPDX-License-Identifier: Apache-2.0
"""'make bench' part for issue 7: control-plane joins in the simulated cluster (real etcd and haproxy, the
apiserver and kubelet doubles; tests/sim). For 1, 3 and 5 control planes joining a cluster that one node has
just initialised: the wall time from `kube-firstboot run` to joined (exit 0) when they all start at once,
and when they run one after another, side by side in one run, with the ratio; plus the API and etcd
requests each join made (status.json "requests").

    BENCH_JOIN_SIZES   (default "1 3 5")
    KF_BIN             the binary (default build/kube-firstboot)

Needs root (network namespaces), like the simulated cluster's tests."""
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))

from simlib.cluster import Sim  # noqa: E402
from simlib.userdata import user_data  # noqa: E402

KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))


def timed_join(node):
    t = time.monotonic()
    r = node.firstboot("run", timeout=900)
    took = time.monotonic() - t
    if r.returncode != 0:
        raise SystemExit(f"bench-join: {node.name} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    req = (node.firstboot_status() or {}).get("requests") or {}
    return took, req.get("api", 0), req.get("etcd", 0)


def scenario(workdir, n, at_once):
    """A fresh cluster of one init node, then n control planes joining at once or one after another.
    Returns (total wall seconds, [per-join (seconds, api, etcd)])."""
    s = Sim(workdir, control_planes=n + 1, workers=0)
    s.kf_bin = KF
    with s:
        s.start_lb()
        s.cp[0].write_seed(user_data(s, role="init"))
        r = s.cp[0].firstboot("run", timeout=900)
        if r.returncode != 0:
            raise SystemExit(f"bench-join: init failed:\n{r.stderr[-3000:]}")
        joiners = s.cp[1:]
        for j in joiners:
            j.write_seed(user_data(s, role="control-plane"))
        t = time.monotonic()
        if at_once:
            with concurrent.futures.ThreadPoolExecutor(n) as ex:
                joins = list(ex.map(timed_join, joiners))
        else:
            joins = [timed_join(j) for j in joiners]
        total = time.monotonic() - t
        voters = [m for m in s.etcd_members(via=s.cp[0]) if not m.get("isLearner")]
        if len(voters) != n + 1:
            raise SystemExit(f"bench-join: etcd has {len(voters)} voters, expected {n + 1}")
    left = s.leftovers()
    if any(left.values()):
        raise SystemExit(f"bench-join: the simulation left {left}")
    return total, joins


def main():
    if os.geteuid() != 0:
        print("bench-join: skipped (needs root for network namespaces)")
        return
    if not os.access(KF, os.X_OK):
        raise SystemExit(f"bench-join: {KF} is not built: run 'make' first")
    sizes = [int(x) for x in os.environ.get("BENCH_JOIN_SIZES", "1 3 5").split()]
    print(f"bench-join: {os.cpu_count()} CPU(s); simulated cluster (real etcd + haproxy, API/kubelet doubles); "
          f"wall time from 'kube-firstboot run' to joined")
    all_joins = []
    with tempfile.TemporaryDirectory(prefix="bench-join-") as tmp:
        for n in sizes:
            # Alternate the order so neither mode always runs on the warmer machine.
            modes = [True, False] if n % 2 else [False, True]
            if n == 1:
                modes = [True]
            got = {}
            for at_once in modes:
                got[at_once] = scenario(os.path.join(tmp, f"n{n}-{'once' if at_once else 'seq'}"), n, at_once)
                all_joins += got[at_once][1]
            if n == 1:
                total, joins = got[True]
                print(f"bench-join 1 control plane:            {total:6.1f} s   "
                      f"(API requests {joins[0][1]}, etcd requests {joins[0][2]})")
                continue
            once, seq = got[True][0], got[False][0]
            slowest = max(j[0] for j in got[True][1])
            print(f"bench-join {n} control planes at once:     {once:6.1f} s   (slowest join {slowest:.1f} s)")
            print(f"bench-join {n} control planes in sequence: {seq:6.1f} s   "
                  f"(mean join {statistics.mean(j[0] for j in got[False][1]):.1f} s)")
            print(f"bench-join ratio at once / in sequence ({n}): {once / seq:.2f}")
    api = [j[1] for j in all_joins]
    etcd = [j[2] for j in all_joins]
    print(f"bench-join requests per control-plane join ({len(all_joins)} joins): API median {statistics.median(api):.0f} "
          f"(min {min(api)}, max {max(api)}), etcd median {statistics.median(etcd):.0f} "
          f"(min {min(etcd)}, max {max(etcd)})")


if __name__ == "__main__":
    main()
