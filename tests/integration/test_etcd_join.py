# SPDX-License-Identifier: Apache-2.0
"""`kube-firstboot etcd member join` (firstboot/cluster/etcd-join.c) against real etcd 3.4 members on loopback: a learner
added and promoted, re-runs that find what is done, kill -9 resume, concurrent joins from separate processes,
stale members, abandoned learners and the quorum refusal."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from test_etcd import etcd, free_port, members, wait_for  # noqa: F401 - etcd is a fixture used below


def peer(ports):
    return f"https://127.0.0.1:{ports[1]}"


def join_args(etcd, name, ports, *extra):
    return ["etcd", "member", "join", "--name", name, "--peer-url", peer(ports), "--endpoints", etcd.url,
            *etcd.creds, *extra]


def env_lines(stdout):
    """The ETCD_*="..." lines 'member join' prints, as a dict."""
    return dict(re.findall(r'^(ETCD_[A-Z_]+)="([^"]*)"$', stdout, re.M))


def join(kf, etcd, name, ports, *extra, check_rc=0):
    p = kf(*join_args(etcd, name, ports, *extra), check_rc=check_rc)
    return p, env_lines(p.stdout)


def healthy(kf, etcd):
    wait_for(lambda: kf("etcd", "health", "--endpoints", etcd.url, *etcd.creds).returncode == 0, 20, "etcd health")


def voters_and_learners(kf, etcd):
    rows = members(kf, etcd).values()
    return sorted(r[2] for r in rows if r[1] == "voter"), sorted(r[2] for r in rows if r[1] == "learner")


def first_peer(kf, etcd):
    return [r for r in members(kf, etcd).values() if r[2] == "cp-1"][0][3]


def test_join_promote_rerun_and_stale_members(kf, etcd):
    healthy(kf, etcd)
    ports = (free_port(), free_port())
    p, env = join(kf, etcd, "cp-2", ports)
    assert "added as a learner" in p.stderr
    # etcd lists members by ID, so the order is etcd's, not the join order.
    assert sorted(env["ETCD_INITIAL_CLUSTER"].split(",")) == [f"cp-1={first_peer(kf, etcd)}", f"cp-2={peer(ports)}"]
    assert {k: v for k, v in env.items() if k != "ETCD_INITIAL_CLUSTER"} == {
        "ETCD_NAME": "cp-2", "ETCD_INITIAL_ADVERTISE_PEER_URLS": peer(ports), "ETCD_INITIAL_CLUSTER_STATE": "existing"}
    rows = members(kf, etcd)
    learner_id = [k for k, r in rows.items() if r[1] == "learner"][0]
    assert rows[learner_id][2:4] == ["(not", "started)"]

    # A re-run before etcd started finds the same learner: no second member, same answer.
    p, env2 = join(kf, etcd, "cp-2", ports)
    assert env2 == env and "earlier run that has not started" in p.stderr
    assert len(members(kf, etcd)) == 2

    etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    p, env3 = join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    assert env3 == env and "is a voter" in p.stderr
    assert voters_and_learners(kf, etcd) == (["cp-1", "cp-2"], [])
    assert learner_id in members(kf, etcd)

    # After success a re-run is a no-op that says so.
    p, env4 = join(kf, etcd, "cp-2", ports, "--promote")
    assert env4 == env and "already joined" in p.stderr
    assert len(members(kf, etcd)) == 2

    # Stale members are refused with the remedy, and nothing is added.
    p, _ = join(kf, etcd, "cp-9", ports, check_rc=1)
    assert f"peer URL '{peer(ports)}' belongs to etcd member 'cp-2'" in p.stderr
    assert f"etcd member remove {learner_id}" in p.stderr
    p, _ = join(kf, etcd, "cp-2", (free_port(), free_port()), check_rc=1)
    assert "etcd member 'cp-2'" in p.stderr and "has started with peer URL" in p.stderr
    assert len(members(kf, etcd)) == 2


def test_kill_9_while_promote_waits_then_resume(kf, kf_bin, etcd, tmp_path):
    healthy(kf, etcd)
    ports = (free_port(), free_port())
    out = open(tmp_path / "join.out", "w+")
    proc = subprocess.Popen([kf_bin, *join_args(etcd, "cp-2", ports, "--promote", "--wait", "120")], stdout=out,
                            stderr=subprocess.STDOUT, text=True)
    try:
        # It added the learner and now waits for it to start (nobody starts it): kill it there.
        wait_for(lambda: "ETCD_INITIAL_CLUSTER=" in open(tmp_path / "join.out").read(), 30, "the learner added")
        time.sleep(0.5)
        assert proc.poll() is None, "promote should still be waiting"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
    assert voters_and_learners(kf, etcd) == (["cp-1"], ["(not"])

    # The re-run finds the learner (not added again), the node's etcd starts, the promotion finishes.
    p, env = join(kf, etcd, "cp-2", ports)
    assert "earlier run" in p.stderr and "added" not in p.stderr
    etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    assert voters_and_learners(kf, etcd) == (["cp-1", "cp-2"], [])


def test_kill_9_at_random_points_then_rerun(kf, kf_bin, etcd, tmp_path):
    """Four nodes join one after another; each first run is killed at a random moment of the add (before,
    during or after etcd's conf change), each promotion once at a random moment too; the re-runs finish."""
    import random
    healthy(kf, etcd)
    rnd = random.Random(int(os.environ.get("KF_TEST_SEED", "0")) or None)
    kills = []
    for i in range(4):
        name, ports = f"cp-{i + 2}", (free_port(), free_port())
        for args in ((), ("--promote", "--wait", "60")):
            if args:
                etcd.start(name, ports, env["ETCD_INITIAL_CLUSTER"])
            # The first add is quick; later ones wait out etcd's 5 s after each promotion, so their kill
            # lands anywhere from the first try to just after the add.
            delay = rnd.uniform(0, 0.6 if args else 1.0 if i == 0 else 6.0)
            proc = subprocess.Popen([kf_bin, *join_args(etcd, name, ports, *args)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            kills.append(f"{name}{' promote' if args else ''} after {delay:.2f}s (rc {proc.returncode})")
            if not args:
                _, env = join(kf, etcd, name, ports, "--wait", "60")
        join(kf, etcd, name, ports, "--promote", "--wait", "60")
    voters, learners = voters_and_learners(kf, etcd)
    assert voters == ["cp-1", "cp-2", "cp-3", "cp-4", "cp-5"] and learners == [], kills
    assert len({r[3] for r in members(kf, etcd).values()}) == 5  # one member per peer URL
    print("kills: " + "; ".join(kills))


def run_concurrent_joins(kf, etcd, n):
    """n nodes join at the same moment, each in its own processes: join (add), start etcd, join --promote."""
    results, start = {}, threading.Barrier(n)

    def node(i):
        name, ports = f"cp-{i + 2}", (free_port(), free_port())
        t0 = time.monotonic()
        try:
            start.wait()
            p1 = kf(*join_args(etcd, name, ports, "--wait", "120"), timeout=180)
            env = env_lines(p1.stdout)
            if p1.returncode != 0:
                results[name] = ("add", p1.returncode, p1.stderr)
                return
            etcd.start(name, ports, env["ETCD_INITIAL_CLUSTER"])
            p2 = kf(*join_args(etcd, name, ports, "--promote", "--wait", "120"), timeout=180)
            results[name] = ("promote", p2.returncode, p2.stderr, time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - reported below
            results[name] = ("exception", -1, repr(e))

    threads = [threading.Thread(target=node, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(400)
    return results


@pytest.mark.parametrize("n,run", [(2, 1), (2, 2), (2, 3), (3, 1), (3, 2)])
def test_concurrent_joins_are_serialised(kf, etcd, n, run):
    healthy(kf, etcd)
    results = run_concurrent_joins(kf, etcd, n)
    failed = {k: v for k, v in results.items() if v[1] != 0}
    assert len(results) == n and not failed, failed
    names = ["cp-1"] + [f"cp-{i + 2}" for i in range(n)]
    voters, learners = voters_and_learners(kf, etcd)
    assert voters == sorted(names) and learners == []
    rows = members(kf, etcd)
    assert len(rows) == n + 1 and len({r[3] for r in rows.values()}) == n + 1  # no duplicate peer URL
    print(f"concurrent joins n={n} run={run}: " + ", ".join(f"{k} {v[3]:.1f}s" for k, v in sorted(results.items())))


def test_abandoned_learner_is_removed_only_when_asked(kf, etcd):
    healthy(kf, etcd)
    dead = f"https://127.0.0.1:{free_port()}"
    kf("etcd", "member", "add-learner", dead, "--endpoints", etcd.url, *etcd.creds, check_rc=0)
    ports = (free_port(), free_port())
    # Without the option a never-started learner of another node blocks the join: busy, exit 3, reason named.
    p, _ = join(kf, etcd, "cp-2", ports, "--wait", "3", check_rc=3)
    assert "another member is joining" in p.stderr
    # With it, the learner that stayed unstarted that long is removed and this node joins.
    p, env = join(kf, etcd, "cp-2", ports, "--abandoned-learner", "1", "--wait", "60")
    assert f"({dead})" in p.stderr and "never started it" in p.stderr
    rows = members(kf, etcd)
    assert dead not in {r[3] for r in rows.values()} and len(rows) == 2
    etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    assert voters_and_learners(kf, etcd) == (["cp-1", "cp-2"], [])


def test_quorum_lost_is_waited_out_then_joined(kf, kf_bin, etcd, tmp_path):
    """Issue 21: 2 voters, 1 down (a power cut): nothing is added while the quorum is lost; the join waits for
    it (exit 3, temporary, when --wait runs out, naming the voters), and goes through once the voter is back."""
    healthy(kf, etcd)
    ports = (free_port(), free_port())
    _, env = join(kf, etcd, "cp-2", ports)
    m2 = etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
    join(kf, etcd, "cp-2", ports, "--promote", "--wait", "60")
    m2.stop()  # 2 voters, 1 answering: no quorum, member changes would hang

    p, _ = join(kf, etcd, "cp-3", (free_port(), free_port()), "--wait", "15", check_rc=3)
    # cp-2 does not answer; cp-1 has no leader without a quorum: etcd 3.4 answers 503, 3.5 lets /health hang.
    assert "etcd quorum at risk: only 0 of 2 voters healthy (2 needed)" in p.stderr, p.stderr
    assert re.search(r"'cp-2' \(https://127.0.0.1:\d+/health: [^)]+\)", p.stderr), p.stderr
    assert re.search(r"'cp-1' \(https://127.0.0.1:\d+/health: (HTTP 503|Operation timed out)", p.stderr), p.stderr
    assert len(members(kf, etcd)) == 2  # nothing added

    # The same join waits while cp-2's machine is powered back on, then adds its learner.
    out = open(tmp_path / "join.out", "w+")
    p3 = (free_port(), free_port())
    proc = subprocess.Popen([kf_bin, *join_args(etcd, "cp-3", p3, "--wait", "60")], stdout=out,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: "too few etcd voters are healthy" in open(tmp_path / "join.out").read(), 20,
                 "the join waiting for the quorum")
        assert proc.poll() is None
        assert len(members(kf, etcd)) == 2
        etcd.start("cp-2", ports, env["ETCD_INITIAL_CLUSTER"])
        assert proc.wait(60) == 0, open(tmp_path / "join.out").read()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
    assert voters_and_learners(kf, etcd) == (["cp-1", "cp-2"], ["(not"])


def test_a_voter_down_with_quorum_is_named(kf, etcd):
    healthy(kf, etcd)
    started = {}
    for name in ("cp-2", "cp-3"):
        ports = (free_port(), free_port())
        _, env = join(kf, etcd, name, ports, "--wait", "60")
        started[name] = etcd.start(name, ports, env["ETCD_INITIAL_CLUSTER"])
        join(kf, etcd, name, ports, "--promote", "--wait", "60")
    started["cp-3"].stop()
    # A quorum answers, but etcd refuses member changes until every voter is connected: busy until the
    # deadline, and the message names the voter that is down.
    p, _ = join(kf, etcd, "cp-4", (free_port(), free_port()), "--wait", "8", check_rc=3)
    assert "etcd refuses member changes" in p.stderr, p.stderr
    assert "2 of 3 voters healthy (a quorum); not healthy: 'cp-3'" in p.stderr, p.stderr
    assert len(members(kf, etcd)) == 3


def test_bad_arguments(kf, etcd):
    for args in (["member", "join"], ["member", "join", "--name", "x"],
                 ["member", "join", "--name", "x", "--peer-url", "10.0.0.1:2380"],
                 ["member", "join", "--name", "x", "--peer-url", "https://h:2380", "--wait", "0"],
                 ["member", "join", "extra", "--name", "x", "--peer-url", "https://h:2380"]):
        assert kf("etcd", *args, *etcd.creds).returncode == 2, args
    # Nothing answers: a temporary failure after the wait, naming the endpoint.
    dead = f"https://127.0.0.1:{free_port()}"
    p = kf("etcd", "member", "join", "--name", "x", "--peer-url", "https://127.0.0.1:2380", "--endpoints", dead,
           "--wait", "2", "--timeout", "1", *etcd.creds)
    assert p.returncode == 3 and dead in p.stderr
