# SPDX-License-Identifier: Apache-2.0
"""Replacing dead control planes (issue 16) in the simulated cluster: a machine powered off for good (its
network namespace gone) is replaced by a new one booted from the same user-data, which removes the dead etcd
member and Node by itself; every control plane in turn, the seed first. A voter that is only partitioned, or
cut off from the joiner alone, is never removed; a learner left by a joiner that died is cleaned up; with 2 of
3 voters dead nothing is removed. Waits are short: replacement.deadAfter 20s, the node lifecycle grace 15s
(defaults: 5m and 50s)."""
import json
import os
import signal
import subprocess
import time

import pytest

from simlib.cluster import wait_until
from simlib.userdata import user_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KF = os.environ.get("KF_BIN", os.path.join(REPO, "build", "kube-firstboot"))
pytestmark = pytest.mark.skipif(not os.access(KF, os.X_OK), reason=f"{KF} not built")

DEAD_AFTER = "20s"
SIM_ENV = {"KF_SIM_NODE_MONITOR_GRACE": "15s"}


def seed(sim, dead_after=DEAD_AFTER, role="auto", join_extra="", etcd_join="3m"):
    return user_data(sim, role, fb_extra=f"    replacement: {{deadAfter: {dead_after}}}\n", etcd_join=etcd_join,
                     join_extra=join_extra)


def make(new_sim, control_planes):
    sim = new_sim(control_planes=control_planes, workers=0, env=SIM_ENV)
    sim.kf_bin = KF
    sim.start_lb()
    return sim


def boot(sim, nodes, **kw):
    for n in nodes:
        n.write_seed(seed(sim, **kw))
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(len(nodes)) as ex:
        futs = {n.name: ex.submit(n.firstboot, "run", timeout=600) for n in nodes}
        res = {k: f.result() for k, f in futs.items()}
    bad = {k: r.stderr[-3000:] for k, r in res.items() if r.returncode != 0}
    assert not bad, bad
    return res


def voters(sim, via):
    ms = sim.etcd_members(via=via)
    assert not any(m.get("isLearner") for m in ms), ms
    return sorted(m.get("name") or "" for m in ms)


def replacements(node):
    return (node.firstboot_status() or {}).get("replacements") or []


def test_every_control_plane_replaced_in_turn(new_sim):
    """Three machines die one after the other, the seed first; each time the group's new machine boots with
    the same user-data and joins with no operator step: 3 healthy voters, no trace of the dead member, its
    Node gone, an Event and status.json saying what was removed and why."""
    sim = make(new_sim, 6)
    first, spares = sim.cp[:3], sim.cp[3:]
    boot(sim, first)
    alive = list(first)
    took = []
    for dead, new in zip(first, spares):
        sim.destroy(dead)
        alive.remove(dead)
        new.write_seed(seed(sim))
        t = time.time()
        r = new.firstboot("run", timeout=600)
        took.append(round(time.time() - t, 1))
        assert r.returncode == 0, r.stderr[-4000:]
        alive.append(new)
        assert voters(sim, via=new) == sorted(n.name for n in alive)
        rep = replacements(new)
        assert [x["removedMember"] for x in rep] == [dead.name], rep
        assert "has not answered" in rep[0]["reason"] and "deadAfter 20s" in rep[0]["reason"], rep
        assert f"removed member '{dead.name}'" in r.stderr
        c = sim.client()
        assert dead.name not in sim.objects("nodes")
        evs = [e for e in c.list("events", "kube-system") if e.get("reason") == "EtcdMemberReplaced"]
        assert any(e["involvedObject"]["name"] == dead.name and e["source"]["host"] == new.name for e in evs), evs
    sim.wait_nodes_ready([n.name for n in alive], timeout=120)
    print(f"replacement joins took {took} s (deadAfter {DEAD_AFTER})")


def start_run(node, log):
    env = dict(os.environ, **node.sim.env, KF_SIM_ROOT=node.root,
               PATH=os.path.join(REPO, "tests/sim/bin/shims") + ":" + os.environ["PATH"])
    return subprocess.Popen(node.argv([KF, "run", "--root", node.root, "--allow-host"]), env=env, stdout=log,
                            stderr=log, text=True)


def test_partitioned_voter_is_never_removed(new_sim, tmp_path):
    """A voter cut off the network for less than deadAfter is waited for, not removed; a voter the joiner alone
    cannot reach (its peers still see it, its Lease renews) is left alone and the join goes on."""
    sim = make(new_sim, 5)
    boot(sim, sim.cp[:3])
    # Cut off for 15 s while a joiner with deadAfter 60s arrives: it waits, the voter returns, it joins.
    cut, j = sim.cp[2], sim.cp[3]
    sim.cut(cut)
    j.write_seed(seed(sim, dead_after="60s"))
    with open(tmp_path / "j.log", "w+") as log:
        p = start_run(j, log)
        wait_until(lambda: "has been down for" in open(tmp_path / "j.log").read() or p.poll() is not None, 300,
                   0.2, "the joiner waiting for the cut voter")
        time.sleep(15)
        sim.restore(cut)
        assert p.wait(timeout=600) == 0, open(tmp_path / "j.log").read()[-4000:]
    assert "of the 60s (replacement.deadAfter)" in open(tmp_path / "j.log").read()
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-3", "cp-4"]
    assert not replacements(j)

    # Unreachable from the joiner alone (a route to nowhere on the joiner): its peers see it active.
    other, j = sim.cp[1], sim.cp[4]
    j.write_seed(seed(sim))
    subprocess.run(["ip", "-n", j.ns, "route", "add", "blackhole", f"{other.ip}/32"], check=True)
    with open(tmp_path / "j2.log", "w+") as log:
        p = start_run(j, log)
        wait_until(lambda: "is not healthy but is not removed" in open(tmp_path / "j2.log").read()
                   or p.poll() is not None, 300, 0.2, "the joiner's verdict")
        subprocess.run(["ip", "-n", j.ns, "route", "del", "blackhole", f"{other.ip}/32"], check=True)
        assert p.wait(timeout=600) == 0, open(tmp_path / "j2.log").read()[-4000:]
    text = open(tmp_path / "j2.log").read()
    assert f"etcd member '{other.name}' is not healthy but is not removed: a healthy voter still sees it" in text
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-3", "cp-4", "cp-5"]
    assert not replacements(j)


def test_learner_of_a_dead_joiner_is_removed(new_sim, tmp_path):
    """A joiner dies for good right after its learner add; the next joiner (once the join queue's lease has
    lapsed) removes that learner once it has been dead for deadAfter, and joins."""
    sim = make(new_sim, 5)
    boot(sim, sim.cp[:3])
    dying, j = sim.cp[3], sim.cp[4]
    dying.write_seed(seed(sim))
    peer = f"https://{dying.ip}:2380"
    with open(tmp_path / "dying.log", "w") as log:
        p = start_run(dying, log)
        wait_until(lambda: any(peer in m.get("peerURLs", []) for m in sim.etcd_members(via=sim.cp[0]))
                   or p.poll() is not None, 300, 0.05, "the dying joiner's learner")
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    sim.destroy(dying)
    ms = sim.etcd_members(via=sim.cp[0])
    assert any(peer in m.get("peerURLs", []) and m.get("isLearner") for m in ms), ms
    # The dead joiner still holds the join queue. Its lapse is test_joinqueue's subject, not this one's: the
    # hold is dated back past its lease (what the clock would do in 2 minutes) so the next joiner takes it now.
    lease = sim.client().get("leases", "kube-firstboot-etcd-join", "kube-system", group="coordination.k8s.io")
    assert lease["spec"].get("holderIdentity"), lease
    past = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 3600))
    sim.client().patch("leases", "kube-firstboot-etcd-join", {"spec": {"renewTime": past, "acquireTime": past}},
                       "kube-system", group="coordination.k8s.io")
    j.write_seed(seed(sim))
    r = j.firstboot("run", timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-3", "cp-5"]
    rep = replacements(j)
    assert len(rep) == 1 and rep[0]["learner"] and rep[0]["peerURL"] == peer, rep


def test_two_of_three_dead_nothing_removed(new_sim):
    """Two of three voters down: etcd has no quorum, the cluster's API cannot answer, and the joiner fails
    with the remedy; once they are back, every member is still there."""
    sim = make(new_sim, 4)
    boot(sim, sim.cp[:3])
    down = sim.cp[1:3]
    for n in down:
        sim.kill(n)
    j = sim.cp[3]
    j.write_seed(seed(sim, join_extra="    timeouts: {discovery: 20s}\n"))
    r = j.firstboot("run", timeout=300)
    assert r.returncode != 0
    err = j.firstboot_status()["error"]
    assert "quorum" in err["message"] + (err.get("remedy") or ""), err
    for n in down:
        n.start_kubelet()
    sim.wait_etcd_voters(3, via=sim.cp[0], timeout=120)
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-3"]
    assert not replacements(j)


def test_removed_node_finds_out(new_sim):
    """A control plane is down long enough to be replaced; when its machine comes back, its refresh says that
    its etcd member was removed, with the remedy, and fails (it never rejoins with stale etcd data); the remedy
    (reset, then run) makes it join again as a new member."""
    sim = make(new_sim, 4)
    boot(sim, sim.cp[:3])
    gone, new = sim.cp[2], sim.cp[3]
    sim.kill(gone)
    new.write_seed(seed(sim))
    r = new.firstboot("run", timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert [x["removedMember"] for x in replacements(new)] == [gone.name]
    gone.start_kubelet()  # the machine is back: its etcd, with the removed member's data, is refused
    r = gone.firstboot("refresh", timeout=120)
    assert r.returncode == 1, r.stderr
    m = gone.firstboot_status()["etcdMembership"]
    assert m["state"] == "removed" and f"https://{gone.ip}:2380" in m["message"], m
    assert "kube-firstboot reset --force" in m["remedy"], m
    assert "is no longer in the cluster" in r.stderr
    r = sim.cp[0].firstboot("refresh", timeout=120)
    assert r.returncode == 0, r.stderr
    assert sim.cp[0].firstboot_status()["etcdMembership"]["state"] == "member"
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-4"]
    # The remedy works: reset, then the first boot again joins as a new member.
    r = gone.firstboot("reset", "--force", timeout=300)
    assert r.returncode == 0, r.stderr
    r = gone.firstboot("run", timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert voters(sim, via=sim.cp[0]) == ["cp-1", "cp-2", "cp-3", "cp-4"]
