#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages a build or test group needs, only those missing.
# Idempotent; safe as root on a fresh Debian 12 machine; waits for the dpkg lock.
#   tools/deps.sh build      compile the dynamic binary
#   tools/deps.sh check      everything `make check` runs (build + tests + fuzz + peers)
#   tools/deps.sh static     what `make static` needs (static archives, source-package tooling)
#   tools/deps.sh lint       clang-format, cppcheck
#   tools/deps.sh vm         what `make vm-test` needs (qemu, debootstrap)
set -euo pipefail

build=(gcc make pkg-config libssl-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libblkid-dev)
check=("${build[@]}" libcmocka-dev clang libclang-rt-14-dev python3-pytest python3-pytest-xdist python3-cryptography python3-yaml
       openssl curl etcd-server etcd-client haproxy iproute2 dosfstools mtools genisoimage e2fsprogs
       valgrind file util-linux kmod cloud-init systemd strace xfsprogs faketime
       ignition packer man-db init-system-helpers xz-utils)
static=("${build[@]}" dpkg-dev quilt autoconf automake libtool libc-ares-dev file openssl)
lint=(clang-format cppcheck gcc)
vm=(qemu-system-x86 debootstrap e2fsprogs genisoimage util-linux file)

declare -n want="${1:-build}" 2>/dev/null || { echo "usage: $0 build|check|static|lint|vm" >&2; exit 2; }

missing=()
for p in "${want[@]}"; do
        s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$s" = installed ] || missing+=("$p")
done
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
trap '[ $made_prc = 1 ] && rm -f $prc' EXIT
# Quiet on success; the whole apt output on failure.
log=$(mktemp)
trap '[ $made_prc = 1 ] && rm -f $prc; rm -f "$log"' EXIT
install() { apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; }
if ! install; then
        apt-get "${apt_opts[@]}" update -qq >>"$log" 2>&1
        install || { cat "$log" >&2; echo "deps: apt-get install failed" >&2; exit 1; }
fi
echo "deps: installed ${#missing[@]} package(s)" >&2
