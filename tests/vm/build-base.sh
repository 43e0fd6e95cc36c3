#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the VM test's base root file system once and caches it:
#   tests/vm/build-base.sh OUTDIR     -> OUTDIR/root (a Debian 12 tree), OUTDIR/vmlinuz, OUTDIR/initrd.img
# Debian 12 minbase from debootstrap, the cloud kernel with an initramfs that has the virtio drivers,
# systemd (with networkd), cloud-init, iptables (kubeadm's preflight wants it), and what the kubelet double needs (python3-cryptography,
# etcd-server). The mirror is the one this machine's apt uses, so no host name is written here.
# The cache key is this script's content: edit it and the next run rebuilds.
set -euo pipefail

out=$(realpath -m "${1:?usage: build-base.sh OUTDIR}")
suite=bookworm
key=$(sha256sum "$0" | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$key" ]; then
        echo "vm: base root cached ($out, key $key)"
        exit 0
fi

mirror=$(apt-get indextargets --format '$(REPO_URI)' "Release: $suite" 'Target-Of: deb' 'Component: main' |
        head -1)
[ -n "$mirror" ] || { echo "vm: no apt source for Debian $suite on this machine" >&2; exit 1; }

packages=(systemd-sysv udev kmod iproute2 iptables procps e2fsprogs initramfs-tools linux-image-cloud-amd64 cloud-init
          python3-cryptography python3-cffi-backend python3-yaml etcd-server)

rm -rf "$out"
mkdir -p "$out"
root=$out/root
echo "vm: debootstrap $suite (minbase + ${#packages[@]} packages) into $root"
start=$SECONDS
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror" \
        >"$out/debootstrap.log" 2>&1 || { tail -30 "$out/debootstrap.log"; exit 1; }
echo "vm: debootstrap took $((SECONDS - start)) s"

# The cloud kernel has virtio as modules: put them in the initramfs, or the root disk is not found.
printf '%s\n' virtio_pci virtio_blk virtio_net virtio_rng ext4 >>"$root/etc/initramfs-tools/modules"
echo 'COMPRESS=gzip' >"$root/etc/initramfs-tools/conf.d/kf-vm.conf"

echo "kf-vm" >"$root/etc/hostname"
echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
# NoCloud only: no probing of network metadata services that are not there.
cat >"$root/etc/cloud/cloud.cfg.d/95-kf-vm.cfg" <<'CFG'
datasource_list: [NoCloud, None]
# Only C.UTF-8 exists without the locales package.
locale: C.UTF-8
CFG
# No root password, no login: the test reads the serial console and a report the guest prints.
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$root/etc/systemd/system/network-online.target.wants"
ln -sf /lib/systemd/system/systemd-networkd-wait-online.service \
        "$root/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service"

# Private mounts: whatever is mounted for the chroot goes away with the namespace.
unshare --mount --propagation private bash -euo pipefail -c '
root=$1
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t sysfs sysfs "$root/sys"
chroot "$root" update-initramfs -u -k all >/dev/null
chroot "$root" apt-get clean
' _ "$root"
kver=$(ls "$root/lib/modules" | head -1)
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
chroot "$root" lsinitramfs "/boot/initrd.img-$kver" >"$out/initrd.list"
grep -q '/virtio_blk.ko$' "$out/initrd.list" || { echo "vm: virtio_blk is not in the initramfs" >&2; exit 1; }
echo "$kver" >"$out/kernel-version"
du -sh "$root" | cut -f1 >"$out/size"
echo "$key" >"$out/stamp"
echo "vm: base root ready: Debian $suite, kernel $kver, $(cat "$out/size"), $((SECONDS - start)) s"
