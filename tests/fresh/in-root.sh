#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fresh test's work in the clean root (fresh-test.sh runs it as PID 1 of a new PID namespace, in
# a private mount namespace):
#   in-root.sh LOWERDIRS RUNDIR APT_ARCHIVES LOGDIR COMMIT README_BLOCK PREREQ_LINE
# Mounts an overlayfs (LOWERDIRS, upper RUNDIR/upper) at RUNDIR/root with its own /proc, /sys, /dev,
# /dev/shm and /run, then runs as a newcomer would (a root login shell, an empty environment):
# README's apt-get line, a git clone of RUNDIR/origin/kube-firstboot.bundle, `make demo`,
# `KF_CHECK_STEPS=deps,build make check`. Writes "ok NAME" / "FAIL NAME: why" lines to LOGDIR/checks,
# the step durations to LOGDIR/times and each step's output to LOGDIR/<step>.log. Unmounts everything.
set -uo pipefail

lower=$1 run=$2 archives=$3 logs=$4 commit=$5 readme=$6 prereq=$7
root=$run/root
timeout=${KF_FRESH_TIMEOUT:-1800}
: >"$logs/checks"
: >"$logs/times"

check() { # NAME OK(0|1) [DETAIL]
        if [ "$2" = 0 ]; then
                echo "ok   $1" | tee -a "$logs/checks"
        else
                echo "FAIL $1${3:+: $3}" | tee -a "$logs/checks"
        fi
}
ok() { [ "$1" = 0 ] && echo 0 || echo 1; }

# ---- the root and its mounts ----
mounts() {
        set -e
        mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$root"
        mount -t proc proc "$root/proc"
        mount -t sysfs sysfs "$root/sys"
        mount --rbind /dev "$root/dev"
        mount --make-rprivate "$root/dev"
        mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
        mount -t tmpfs -o mode=755,nosuid,nodev run "$root/run"
        mkdir -p "$root/run/lock" && chmod 1777 "$root/run/lock"
        mount --bind "$archives" "$root/var/cache/apt/archives"
        mount --bind -o ro "$run/origin" "$root/mnt"
        # The host's resolver, so apt reaches Debian's archive (the root shares the host's network).
        cp -L /etc/resolv.conf "$root/etc/resolv.conf"
        # The root is thrown away: dpkg need not fsync every file it unpacks.
        # Which packages get installed, and when, is unchanged.
        echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/kf-fresh-test-unsafe-io"
}
if ! (mounts); then
        check "the clean root mounts" 1
        umount -R "$root" 2>/dev/null
        exit 1
fi

# A newcomer's root shell in the root: a login shell in /root with an empty environment, stdin closed.
# STEP NAME COMMAND: runs COMMAND there, output in LOGDIR/NAME.log; returns its exit code.
step() {
        local name=$1 cmd=$2 start=$SECONDS rc=0
        echo "fresh: $name: $cmd"
        # The output as it is in NAME.log, and with the seconds since the step began in NAME.timed.log.
        timeout --kill-after=10 "$timeout" chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
                /bin/bash -lc "cd && $cmd" </dev/null 2>&1 | tee "$logs/$name.log" |
                while IFS= read -r l; do printf '%4d %s\n' $((SECONDS - start)) "$l"; done >"$logs/$name.timed.log"
        rc=${PIPESTATUS[0]}
        echo "$name $((SECONDS - start)) s" >>"$logs/times"
        echo "fresh: $name took $((SECONDS - start)) s (exit $rc)"
        [ $rc = 0 ] || tail -40 "$logs/$name.log" | sed "s/^/fresh: $name: /"
        return $rc
}
# Processes of this PID namespace (the root's /proc) other than this script (PID 1) and the subshell
# that lists them.
others() {
        local p pid out=()
        for p in "$root"/proc/[0-9]*; do
                pid=${p##*/}
                [ "$pid" = 1 ] || [ "$pid" = "$BASHPID" ] && continue
                [ -r "$p/cmdline" ] || continue
                out+=("$pid:$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-60)")
        done
        printf '%s\n' "${out[@]}"
}
stop_others() { # kills (by PID) whatever a step left running, after the check reported it
        local p pid
        for p in "$root"/proc/[0-9]*; do
                pid=${p##*/}
                [ "$pid" = 1 ] || kill -9 "$pid" 2>/dev/null
        done
}
no_leftovers() { # AFTER
        local left ns
        left=$(others)
        check "$1: no process left running" "$(ok "$([ -z "$left" ]; echo $?)")" "$(echo "$left" | tr '\n' ';')"
        [ -z "$left" ] || stop_others
        ns=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c 'ip netns list 2>/dev/null')
        [ -z "$ns" ] || ns="ip netns list: $ns"
        local nsfs
        nsfs=$(findmnt -rn -o TARGET,FSTYPE | awk -v r="$root/" 'index($1, r) == 1 && $2 == "nsfs" { print $1 }')
        [ -z "$nsfs" ] || ns="$ns nsfs mounts: $nsfs"
        check "$1: no network namespace left" "$(ok "$([ -z "$ns" ]; echo $?)")" "$ns"
}
n_of() { # COUNT PATTERN FILE
        [ "$(grep -cE "$2" "$3")" -ge "$1" ]
}

# ---- a fresh machine ----
have=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
        'for t in gcc cc make git pkg-config python3 curl clang etcd haproxy; do command -v $t; done')
check "the root is a fresh Debian 12: no gcc, make, git, pkg-config, python3, curl, etcd" \
        "$(ok "$([ -z "$have" ] && grep -q '^12' "$root/etc/debian_version"; echo $?)")" "$have"

# ---- README.md "Two commands" ----
check "README shows the prerequisite line and both commands" \
        "$(ok "$([ -n "$prereq" ] && grep -q '^make demo' <<<"$readme" && grep -q '^make check' <<<"$readme"; echo $?)")" \
        "$readme"
rc=0
step readme-prerequisites "$prereq" || rc=$?
check "README's prerequisite line: $prereq" "$(ok $rc)"

rc=0
step clone "git -c advice.detachedHead=false clone -q /mnt/kube-firstboot.bundle kube-firstboot && \
        git -C kube-firstboot rev-parse HEAD" || rc=$?
check "git clone of the repository" "$(ok "$([ $rc = 0 ] && grep -qx "$commit" "$logs/clone.log"; echo $?)")"

# make demo: the first command, end to end.
rc=0
step demo "cd kube-firstboot && make demo" || rc=$?
d=$logs/demo.log
check "make demo exits 0" "$(ok $rc)"
check "make demo installed before compiling (deps: installing ... before the first CC)" \
        "$(ok "$(awk '/^deps: installed/ { d = NR } /^  CC / && !c { c = NR } END { exit !(d && c && d < c) }' "$d"; echo $?)")"
check "make demo: its success line (\"demo finished in\")" "$(ok "$(grep -q '^demo finished in ' "$d"; echo $?)")"
check "make demo: kube-firstboot run exit 0 on cp-1, cp-2, cp-3 and w-1" \
        "$(ok "$(n_of 4 '^  (cp-[123]|w-1) +exit 0: ' "$d"; echo $?)")" "$(grep -E '^  (cp|w)-[0-9]+ +exit' "$d" | tr '\n' ';')"
check "make demo: the real init and join flows ran (no stand-in)" "$(ok "$(! grep -q 'Not yet real' "$d"; echo $?)")"
check "make demo: kubectl get nodes lists 4 nodes" "$(ok "$(n_of 4 '^    (cp-[123]|w-1) +Ready' "$d"; echo $?)")"
check "make demo: its own cleanup found nothing left behind" \
        "$(ok "$(grep -q 'every process stopped by PID; namespaces deleted; no mounts left' "$d"; echo $?)")"
no_leftovers "after make demo"

# make check: the second command, through its install and build steps.
rc=0
step check-deps-build "cd kube-firstboot && KF_CHECK_STEPS=deps,build make check" || rc=$?
c=$logs/check-deps-build.log
check "KF_CHECK_STEPS=deps,build make check exits 0" "$(ok $rc)"
check "make check ran no test (only the deps and build steps)" \
        "$(ok "$(! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$c"; echo $?)")"
# The test step is not run here, but what it calls must be installed by now.
tools="clang-format pytest-3 valgrind etcd etcdctl haproxy openssl curl cloud-init ignition-validate packer faketime \
        strace mkfs.xfs mkfs.vfat mcopy genisoimage qemu-system-x86_64 debootstrap dpkg-deb"
absent=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
        "for t in $tools; do command -v \$t >/dev/null || echo \$t; done; python3 -c 'import xdist, cryptography, yaml' 2>&1" |
        tr '\n' ' ')
check "make check installed what its test step runs ($(wc -w <<<"$tools") tools, pytest-xdist, cryptography, yaml)" \
        "$(ok "$([ -z "${absent// /}" ]; echo $?)")" "missing: $absent"
src=$root/root/kube-firstboot
b=$src/build
n_unit=$(find "$src/tests/unit" -name 'test-*.c' | wc -l)
n_fuzz=$(find "$src/tests/fuzz" -name 'fuzz-*.c' | wc -l)
built_unit=$(find "$b/unit" -type f -name 'test-*' -perm -u+x 2>/dev/null | wc -l)
built_fuzz=$(find "$b/replay" -maxdepth 1 -type f -name 'fuzz-*' -perm -u+x 2>/dev/null | wc -l)
check "make check built the dynamic and the static binary" \
        "$(ok "$([ -x "$b/kube-firstboot" ] && [ -x "$b/static/kube-firstboot" ]; echo $?)")"
check "make check built every unit test ($built_unit of $n_unit) and corpus replay ($built_fuzz of $n_fuzz)" \
        "$(ok "$([ "$n_unit" -gt 0 ] && [ "$built_unit" = "$n_unit" ] && [ "$built_fuzz" = "$n_fuzz" ]; echo $?)")"
check "make check built the .deb (the VM test's package)" \
        "$(ok "$(compgen -G "$b/deb/kube-firstboot_*_amd64.deb" >/dev/null; echo $?)")"
rc=0
step binaries "cd kube-firstboot && build/kube-firstboot version && build/static/kube-firstboot version && \
        file -b build/static/kube-firstboot" || rc=$?
check "both binaries run in the root; the static one is statically linked" \
        "$(ok "$([ $rc = 0 ] && grep -q 'statically linked' "$logs/binaries.log"; echo $?)")"
no_leftovers "after make check"

# ---- unmount ----
umount -R "$root" || umount -R -l "$root"
left=$(findmnt -rn -o TARGET | grep -F "$root" || true)
check "every mount of the root unmounted" "$(ok "$([ -z "$left" ]; echo $?)")" "$left"
exit 0
