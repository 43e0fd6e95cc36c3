#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the two reports the VM test's guest wrote (tests/vm/guest/kf-vm-report), prints one line per
check and closes with "N passed, N failed".
  check.py --mode none|double REPORT1 REPORT2"""
import argparse
import gzip
import json
import sys

BEFORE_KUBELET = ["preflight", "certs", "kubeconfig", "etcd", "control-plane"]
ALL_INIT = BEFORE_KUBELET + ["kubelet-start", "wait-control-plane", "upload-config", "upload-certs",
                             "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon",
                             "show-join-command"]


def load(path):
    with open(path, "rb") as f:
        head = f.read(20)
        if not head.startswith(b"KFVMREPORT"):
            return None
        return json.loads(gzip.decompress(f.read(int(head[10:20]))))


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  -- {detail}" if detail and not ok else ""))
        return ok


def jload(s):
    try:
        return json.loads(s) if s else None
    except ValueError:
        return None


def phases(status):
    return {p.get("name"): p.get("state") for p in (status or {}).get("phases", [])}


def common_first_boot(c, r):
    ci = r["cloudInit"]["out"]
    c("boot 1: cloud-init ran to the end from the NoCloud seed",
      "status: done" in ci and "DataSourceNoCloud" in ci, ci)
    u, final = r["unit"], r["cloudFinal"]
    c("boot 1: kube-firstboot.service started from its unit",
      u.get("ConditionResult") == "yes" and int(u.get("ExecMainStartTimestampMonotonic") or 0) > 0, u)
    c("boot 1: ... after cloud-init's final stage had finished",
      int(u.get("ExecMainStartTimestampMonotonic") or 0) >= int(final.get("ActiveEnterTimestampMonotonic") or 1 << 62),
      f"unit start {u.get('ExecMainStartTimestampMonotonic')} cloud-final done {final.get('ActiveEnterTimestampMonotonic')}")
    c("boot 1: no ordering cycle in the boot transaction", not r["bootJournalCycles"]["out"].strip(),
      r["bootJournalCycles"]["out"])
    c("boot 1: the unit and the refresh timer are enabled",
      u.get("UnitFileState") == "enabled" and r["refreshTimer"].get("UnitFileState") == "enabled",
      f"{u.get('UnitFileState')} {r['refreshTimer']}")
    md = jload(r["metadataNoCloud"]["out"]) or {}
    c("boot 1: the NoCloud seed is found by its label through libblkid (kube-firstboot metadata --datasource nocloud)",
      md.get("datasource") == "nocloud" and str(md.get("source", "")).startswith("config-disk (/dev/vd")
      and md.get("instanceId") == "iid-kf-lab-cp-1" and md.get("localIPv4") == "10.0.2.15", r["metadataNoCloud"])
    auto = jload(r["metadataAuto"]["out"]) or {}
    c("boot 1: left to itself it would read cloud-init's outputs (kube-firstboot metadata)",
      auto.get("datasource") == "cloud-init" and auto.get("instanceId") == "iid-kf-lab-cp-1", r["metadataAuto"])
    st = jload(r["statusJson"])
    c("boot 1: /run/kube-firstboot/status.json written by the run", st is not None, r["unitJournal"]["out"][-3000:])
    st = st or {}
    c("boot 1: role decided: init", st.get("role") == "init", st.get("role"))
    c("boot 1: the unit's STATUS= messages reached systemd (systemctl status shows the phase)",
      bool(u.get("StatusText")), u.get("StatusText"))
    files = r["files"]
    for p in ["/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/manifests/kube-apiserver.yaml",
              "/etc/kubernetes/manifests/etcd.yaml", "/var/lib/kubelet/config.yaml",
              "/var/lib/kubelet/kubeadm-flags.env"]:
        c(f"boot 1: {p} written", files.get(p) is not None)
    c("boot 1: the CA key is 0600", (files.get("/etc/kubernetes/pki/ca.key") or {}).get("mode") == "0o600",
      files.get("/etc/kubernetes/pki/ca.key"))
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["none", "double"], required=True)
    ap.add_argument("report1")
    ap.add_argument("report2")
    a = ap.parse_args()
    c = Checks()
    r1, r2 = load(a.report1), load(a.report2)
    if c("boot 1: the guest booted and wrote its report", r1 is not None):
        print(f"      kernel {r1['kernel']}, report at uptime {r1['uptime']} s")
        st = common_first_boot(c, r1)
        ph = phases(st)
        u = r1["unit"]
        if a.mode == "none":
            err = st.get("error") or {}
            c("boot 1: the phases before the kubelet hand-off are done (or had nothing to do)",
              all(ph.get(p) in ("done", "skipped") for p in BEFORE_KUBELET), ph)
            c("boot 1: the run fails at kubelet-start, in status.json", st.get("result") == "failure"
              and err.get("phase") == "kubelet-start", err)
            c("boot 1: ... saying that the kubelet is not installed",
              "kubelet" in (err.get("message", "") + err.get("cause", "")), err)
            c("boot 1: the unit failed with exit code 1 and was not restarted",
              u.get("Result") == "exit-code" and u.get("ExecMainStatus") == "1" and u.get("NRestarts") == "0", u)
            c("boot 1: no done marker after a failed run", r1["files"].get("/var/lib/kube-firstboot/done") is None)
        else:
            c("boot 1: every init phase is done (or had nothing to do)",
              all(ph.get(p) in ("done", "skipped") for p in ALL_INIT), ph)
            c("boot 1: the run succeeded, in status.json", st.get("result") == "success", st.get("error"))
            c("boot 1: the unit succeeded", u.get("Result") == "success" and u.get("ExecMainStatus") == "0", u)
            c("boot 1: done marker and Cluster API sentinel written",
              r1["files"].get("/var/lib/kube-firstboot/done") is not None
              and r1["files"].get("/run/cluster-api/bootstrap-success.complete") is not None)
            argv = r1.get("kubeletArgv") or ""
            c("boot 1: the kubelet ran with kubeadm's drop-in flags",
              all(f in argv for f in ["--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                                      "--kubeconfig=/etc/kubernetes/kubelet.conf",
                                      "--config=/var/lib/kubelet/config.yaml"]), argv)
            # The example asks for 1.37: kubeadm-flags.env holds neither the pause image (kubernetes#133778)
            # nor the CRI endpoint (instance-config.yaml); the kubelet got exactly that.
            c("boot 1: ... and kubeadm-flags.env as 1.37's kubeadm writes it (no pause or CRI flag)",
              "--pod-infra-container-image" not in argv and "--container-runtime-endpoint" not in argv, argv)
            c("boot 1: kube-firstboot status reports success", r1["statusCmd"]["rc"] == 0, r1["statusCmd"])
    if c("boot 2: the guest booted again and wrote its report", r2 is not None):
        c("boot 2: a new boot", r1 is None or r2["bootId"] != r1["bootId"])
        u = r2["unit"]
        if a.mode == "double":
            c("boot 2: kube-firstboot.service did not run again (skipped: done marker)",
              u.get("ConditionResult") == "no" and int(u.get("ExecMainStartTimestampMonotonic") or 0) == 0, u)
            c("boot 2: no status file at this boot", r2["statusJson"] is None)
        else:
            # Without a kubelet the first run could not finish: it is run again, and resumes.
            st = jload(r2["statusJson"]) or {}
            c("boot 2: the unfinished run is run again at the next boot",
              u.get("ConditionResult") == "yes" and int(u.get("ExecMainStartTimestampMonotonic") or 0) > 0, u)
            c("boot 2: ... and stops at the same place", (st.get("error") or {}).get("phase") == "kubelet-start",
              st.get("error"))
            s1 = (r1 or {}).get("files", {}).get("/etc/kubernetes/pki/ca.crt") or {}
            s2 = r2["files"].get("/etc/kubernetes/pki/ca.crt") or {}
            c("boot 2: ... keeping the cluster CA of the first run", s1 and s1 == s2, f"{s1} {s2}")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
