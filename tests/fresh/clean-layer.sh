#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fresh test's clean root, as an overlayfs layer over the VM test's base (fresh-test.sh caches it):
#   unshare --mount --propagation private tests/fresh/clean-layer.sh BASEROOT DIR
# DIR/upper becomes the layer; DIR/work and DIR/root are scratch; DIR/packages lists what is left.
# Every package is marked automatic except those of priority required or important (what
# debootstrap's default variant installs: a Debian base system) and the init system; autoremove then
# takes the rest, recommendations included. The kernel goes by name (apt never autoremoves kernels).
set -euo pipefail
lower=${1:?usage: clean-layer.sh BASEROOT DIR}
t=${2:?}
root=$t/root
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$t/upper,workdir=$t/work" "$root"
mount -t proc proc "$root/proc"
inroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
q() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f="$1"; }
mapfile -t all < <(q '${Package}\n')
mapfile -t base_system < <(q '${Priority} ${Package}\n' | awk '$1 == "required" || $1 == "important" { print $2 }')
inroot apt-mark auto "${all[@]}" >/dev/null
inroot apt-mark manual systemd-sysv "${base_system[@]}" >/dev/null
inroot apt-get -o APT::AutoRemove::RecommendsImportant=false -o APT::AutoRemove::SuggestsImportant=false \
        purge --autoremove -y -qq 'linux-image-*' >"$t/purge.log" 2>&1 || { tail -30 "$t/purge.log" >&2; exit 1; }
inroot apt-get clean
# A machine just installed: its first `apt-get update` fetches its package lists.
rm -rf "$root/var/lib/apt/lists/"*
q '${Package}\n' >"$t/packages"
umount "$root/proc"
umount "$root"
