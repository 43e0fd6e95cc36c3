#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's two commands on a fresh Debian 12 machine (README.md "Two commands"):
#   tests/fresh/fresh-test.sh BASEDIR WORKDIR
# 1. the clean root: the VM test's Debian 12 debootstrap base (tests/vm/build-base.sh, cached in BASEDIR
#    and shared with `make vm-test`), with what the VM test added on top of a base system purged away:
#    only packages of priority required and important are left (no python3, gcc, make, git, curl,
#    ca-certificates). That purge is cached too (WORKDIR/clean, an overlayfs layer); every run mounts
#    a new overlayfs over both, so neither cache is ever written to.
# 2. in that root (tests/fresh/in-root.sh, in a private mount and PID namespace): the README's
#    prerequisite line, a `git clone` of this repository's HEAD (a bundle: uncommitted changes are not
#    in a clone), `make demo` end to end (its success line, every node's exit 0, nothing left behind:
#    processes, network namespaces, mounts), then `KF_CHECK_STEPS=deps,build make check` (make check's
#    install and build steps) and the binaries it built.
# 3. on the host: no mount and no process left under WORKDIR.
# Prints one line per check and "N passed, N failed". apt reaches Debian's archive through the host's
# network and /etc/resolv.conf; the downloaded .debs are kept in WORKDIR/apt-archives for the next run
# (apt checks each against the signed lists, as if downloaded). KF_FRESH_KEEP=1 keeps the root's
# upper layer (WORKDIR/run/upper); KF_FRESH_TIMEOUT: seconds per step (default 1800).
set -euo pipefail
cd "$(dirname "$0")/../.."

base=$(realpath -m "${1:?usage: fresh-test.sh BASEDIR WORKDIR}")
work=$(realpath -m "${2:?usage: fresh-test.sh BASEDIR WORKDIR}")
[ "$(id -u)" = 0 ] || { echo "fresh: needs root (debootstrap, overlayfs, chroot)" >&2; exit 2; }
for t in debootstrap unshare chroot git findmnt; do
        command -v $t >/dev/null || { echo "fresh: $t is missing (tools/deps.sh fresh)" >&2; exit 2; }
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        { echo "fresh: no overlayfs in this kernel" >&2; exit 2; }

t0=$SECONDS
tests/vm/build-base.sh "$base"
t_base=$((SECONDS - t0))
mkdir -p "$work"

# ---- the clean layer: the base less what the VM test installed on top of a Debian base system ----
clean=$work/clean
key="base $(cat "$base/stamp") recipe $(sha256sum tests/fresh/clean-layer.sh | cut -c1-16)"
if [ ! -f "$clean/stamp" ] || [ "$(cat "$clean/stamp")" != "$key" ]; then
        echo "fresh: purging the VM test's packages from a layer over $base/root"
        rm -rf "$clean" "$work/clean.tmp"
        mkdir -p "$work/clean.tmp/upper" "$work/clean.tmp/work" "$work/clean.tmp/root"
        unshare --mount --propagation private tests/fresh/clean-layer.sh "$base/root" "$work/clean.tmp"
        rm -rf "$work/clean.tmp/work" "$work/clean.tmp/root"
        echo "$key" >"$work/clean.tmp/stamp"
        mv "$work/clean.tmp" "$clean"
        echo "fresh: clean layer ready: $(wc -l <"$clean/packages") packages, $((SECONDS - t0 - t_base)) s"
fi
t_clean=$((SECONDS - t0 - t_base))

# ---- this run ----
run=$work/run
logs=$work/logs
rm -rf "$run" "$logs"
mkdir -p "$run/upper" "$run/work" "$run/root" "$run/origin" "$logs" "$work/apt-archives/partial"
keep=${KF_FRESH_KEEP:-}
cleanup() { [ -n "$keep" ] || rm -rf "$run"; }  # idempotent: also the EXIT trap
trap cleanup EXIT
commit=$(git rev-parse HEAD)
git bundle create -q "$run/origin/kube-firstboot.bundle" HEAD 2>/dev/null ||
        git bundle create "$run/origin/kube-firstboot.bundle" HEAD
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
        echo "fresh: note: uncommitted changes are not tested (a clone has HEAD, $commit)"
echo "fresh: testing commit $commit in a clean Debian 12 root"

# The README's prerequisite line, as the clone's README writes it (the test runs what a newcomer reads).
readme_block=$(git show HEAD:README.md | sed -n '/^## Two commands/,/^## /p' | sed -n '/^```sh$/,/^```$/p')
prereq=$(sed -n 's/^\(apt-get .*\)$/\1/p' <<<"$readme_block" | sed 's/[[:space:]]*#.*$//' | head -1)

# A private mount namespace (every mount goes away with it, and in-root.sh unmounts them itself) and
# a PID namespace (in-root.sh is its PID 1: whatever it leaves running is killed when it exits, and
# it checks that nothing was left). --kill-child: an interrupted test takes the namespace with it.
rc=0
unshare --mount --pid --fork --kill-child --propagation private \
        tests/fresh/in-root.sh "$clean/upper:$base/root" "$run" "$work/apt-archives" "$logs" "$commit" \
        "$readme_block" "$prereq" || rc=$?

# ---- on the host ----
checks=$logs/checks
touch "$checks"
check() { # NAME OK(0|1) [DETAIL]
        if [ "$2" = 0 ]; then echo "ok   $1" | tee -a "$checks"; else echo "FAIL $1${3:+: $3}" | tee -a "$checks"; fi
}
left=$(findmnt -rn -o TARGET | grep -F "$work/" || true)
check "host: no mount left under $work" "$([ -z "$left" ]; echo $?)" "$left"
procs=()
for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [[ $r == "$work"/* ]] && procs+=("${p#/proc/}")
done
check "host: no process left in the root" "$([ ${#procs[@]} = 0 ]; echo $?)" "${procs[*]}"
if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$checks"; then
        check "in-root.sh ran to its end" 1 "exit $rc"
fi

cleanup # the root's upper layer: every package installed and the build (counted in the total)
passed=$(grep -c '^ok' "$checks" || true)
failed=$(grep -c '^FAIL' "$checks" || true)
echo "fresh: base ${t_base} s, clean layer ${t_clean} s, total $((SECONDS - t0)) s ($(cat "$logs/times" 2>/dev/null | tr '\n' ' '))"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
