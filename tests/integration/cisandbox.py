# SPDX-License-Identifier: Apache-2.0
"""The real cloud-init stages in a sandbox: private mount, network, UTS, IPC and PID namespaces, where
/etc, /var, /root and /usr/local are overlays whose upper directories catch every write, /run is a
tmpfs, /dev holds only null/zero/random/urandom/tty, and the network namespace has only the dummy
interfaces asked for. The host is
not changed. cloud-init reads its datasource from a seed directory (/var/lib/cloud/seed/<name>; "" for the
directory itself).

    out = run(tmp_path, {"nocloud": {"user-data": b"...", "meta-data": b"..."}}, datasources=["NoCloud"],
              after="kube-firstboot metadata > $OUT/md.json")
    out.upper("etc", "hostname"); out.run_copy / "cloud-init" / "instance-data.json"

`after` is a shell snippet run in the sandbox once cloud-init's stages are over ($OUT is the output
directory); `bindir` entries are put first on PATH (as /usr/local/bin, inside the overlay)."""
import os
import shutil
import subprocess

STAGES = ["init --local", "init", "modules --mode config", "modules --mode final"]

SANDBOX = r"""
set -u
for d in etc var root usr/local; do
    mount -t overlay overlay -o lowerdir=/$d,upperdir=$OUT/$d/upper,workdir=$OUT/$d/work /$d
done
mount -t tmpfs tmpfs /run
mount -t sysfs sysfs /sys
mkdir -p $OUT/hostdev
mount --rbind /dev $OUT/hostdev
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom full tty; do touch /dev/$n; mount --bind $OUT/hostdev/$n /dev/$n; done
umount -l $OUT/hostdev
ln -s /proc/self/fd /dev/fd
ip link set lo up
for l in $LINKS; do ip link add "${l%%=*}" address "${l#*=}" type veth peer name "${l%%=*}-peer"; done
sh -c "$PRE"
IFS=';'
for st in $STAGES; do
    IFS=' '
    echo "### cloud-init $st"
    cloud-init $st || echo "### stage '$st' rc=$?"
done
IFS=' '
cloud-init status --long > $OUT/status.txt 2>&1 || true
sh -c "$AFTER" > $OUT/after.out 2> $OUT/after.err
echo $? > $OUT/after.rc
mkdir -p $OUT/run-copy
cp -a /run/cloud-init /run/kube-firstboot $OUT/run-copy/ 2>/dev/null || true
"""


class Result:
    def __init__(self, out, proc):
        self.out = out
        self.proc = proc
        self.log = proc.stdout + proc.stderr
        self.run_copy = out / "run-copy"

    def upper(self, top, *rel):
        return self.out.joinpath(top, "upper", *rel)

    def text(self, name):
        p = self.out / name
        return p.read_text() if p.exists() else ""

    @property
    def status(self):
        return self.text("status.txt")


def available():
    return (os.geteuid() == 0 and shutil.which("cloud-init") and shutil.which("unshare")
            and os.path.exists("/usr/bin/cloud-init"))


def run(tmp_path, seeds, datasources, modules=None, pre="true", after="true", bindir=None, links=None, timeout=300):
    """seeds: {seed dir name: {file name: bytes}}; modules: {"cloud_init_modules": [...], ...} (harmless
    ones by default: no growpart, resizefs, disks, mounts, apt, packages, ssh, users); links: {name: MAC}
    of interfaces (veth) in the sandbox's network namespace, for network-config to find; pre: a shell
    snippet run in the sandbox before cloud-init (addresses, routes)."""
    out = tmp_path / "ci-sandbox"
    for d in ["etc", "var", "root", "usr/local"]:
        (out / d / "upper").mkdir(parents=True)
        (out / d / "work").mkdir(parents=True)
    for name, files in seeds.items():
        seed = out / "var/upper/lib/cloud/seed" / name
        seed.mkdir(parents=True, exist_ok=True)
        for n, data in files.items():
            (seed / n).write_bytes(data)
    mods = {
        "cloud_init_modules": ["seed_random", "bootcmd", "write-files", "set_hostname", "update_hostname"],
        "cloud_config_modules": ["runcmd"],
        "cloud_final_modules": ["write-files-deferred", "scripts-per-once", "scripts-per-boot",
                                "scripts-per-instance", "scripts-user", "final-message"],
    }
    mods.update(modules or {})
    cfg = out / "etc/upper/cloud/cloud.cfg.d"
    cfg.mkdir(parents=True)
    lines = [f"datasource_list: [{', '.join(datasources)}]", "users: []", "locale: false"]
    lines += [f"{k}: [{', '.join(v)}]" for k, v in mods.items()]
    (cfg / "99-kf-sandbox.cfg").write_text("\n".join(lines) + "\n")
    if bindir:
        ub = out / "usr/local/upper/bin"
        ub.mkdir(parents=True)
        for name, target in bindir.items():
            os.symlink(target, ub / name)
    env = dict(os.environ, OUT=str(out), STAGES=";".join(STAGES), PRE=pre, AFTER=after,
               LINKS=" ".join(f"{n}={m}" for n, m in (links or {}).items()),
               PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    p = subprocess.run(["unshare", "--mount", "--net", "--uts", "--ipc", "--pid", "--fork", "--mount-proc",
                        "--propagation", "private", "bash", "-c", SANDBOX],
                       env=env, capture_output=True, text=True, timeout=timeout)
    return Result(out, p)
