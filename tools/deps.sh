#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages a build or test group needs, only those missing.
# Idempotent; safe as root on a fresh Debian 12 machine (nothing but bash, dpkg and apt is used);
# waits for the dpkg lock. Several groups may be named at once.
#   tools/deps.sh build      compile the dynamic binary
#   tools/deps.sh check      everything `make check` runs (build + tests + fuzz + peers)
#   tools/deps.sh static     what `make static` needs (static archives, source-package tooling)
#   tools/deps.sh lint       clang-format, cppcheck
#   tools/deps.sh vm         what `make vm-test` needs (qemu, debootstrap)
#   tools/deps.sh fresh      what tests/fresh needs on the host (debootstrap for the clean root, git)
#   tools/deps.sh --missing GROUP...   prints the missing packages (one line), installs nothing
set -euo pipefail

build=(gcc make pkg-config libssl-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libblkid-dev)
check=("${build[@]}" libcmocka-dev clang clang-format libclang-rt-14-dev python3-pytest python3-pytest-xdist python3-cryptography python3-yaml python3-botocore
       openssl curl etcd-server etcd-client haproxy keepalived iproute2 dosfstools mtools genisoimage e2fsprogs
       valgrind file util-linux kmod cloud-init systemd strace xfsprogs faketime
       ignition packer man-db init-system-helpers xz-utils)
static=("${build[@]}" dpkg-dev quilt autoconf automake libtool libc-ares-dev file openssl)
lint=(clang-format cppcheck gcc)
vm=(qemu-system-x86 debootstrap e2fsprogs genisoimage util-linux file)
fresh=(debootstrap git util-linux)

usage() { echo "usage: $0 [--missing] build|check|static|lint|vm|fresh..." >&2; exit 2; }
only_list=0
[ "${1:-}" = --missing ] && { only_list=1; shift; }
[ $# -gt 0 ] || set -- build
want=()
for g in "$@"; do
        case $g in build | check | static | lint | vm | fresh) ;; *) usage ;; esac
        declare -n grp=$g
        want+=("${grp[@]}")
        unset -n grp
done

# One dpkg-query for all of them (make asks this before every build, so it must be quick).
missing=()
declare -A have=()
while read -r name status; do
        [ "$status" = installed ] && have[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null || true)
for p in "${want[@]}"; do
        [ -n "${have[$p]:-}" ] || [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
done
if [ $only_list = 1 ]; then
        echo "${missing[*]}"
        exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
# An update only when the lists are older than a day or missing: installs then find current versions.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 2>/dev/null | head -1)" ]; then
        apt-get "${apt_opts[@]}" update -qq
fi
# policy-rc.d keeps package scripts from starting etcd/haproxy daemons on the machine.
prc=/usr/sbin/policy-rc.d
made_prc=0
if [ ! -e $prc ]; then printf '#!/bin/sh\nexit 101\n' >$prc && chmod 755 $prc && made_prc=1; fi
# Quiet on success; the whole apt output on failure.
log=$(mktemp)
trap '[ $made_prc = 1 ] && rm -f $prc; rm -f "$log"' EXIT
install() { apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; }
if ! install; then
        apt-get "${apt_opts[@]}" update -qq >>"$log" 2>&1
        install || { cat "$log" >&2; echo "deps: apt-get install failed" >&2; exit 1; }
fi
echo "deps: installed ${#missing[@]} package(s)" >&2
