#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real first boot under qemu (TCG: no KVM here):
#   tests/vm/vm-test.sh DEBDIR WORKDIR
# 1. the base root (tests/vm/build-base.sh: Debian 12 from debootstrap, cloud kernel, systemd,
#    cloud-init), built once and cached in WORKDIR/base;
# 2. a copy of it gets our .deb through the Packer provisioner script (images/packer/), in a chroot;
# 3. a NoCloud seed ISO from images/nocloud/ (user-data, meta-data, network-config);
# 4. boot 1: cloud-init runs, kube-firstboot.service runs `kube-firstboot run`; a test-only unit writes a
#    report to a third disk and powers off; boot 2 on the same disk: the unit must not run again.
# tests/vm/check.py then checks both reports and prints "N passed, N failed".
# KF_VM_KUBELET=double (default): the simulated cluster's kubelet double (tests/sim) behind a real
# kubelet.service and kubeadm's drop-in, so the run completes and the second boot skips the unit.
# KF_VM_KUBELET=none: no kubelet in the image, so the run stops at the kubelet hand-off with a clear
# failure, and the second boot runs it again and resumes there. KF_VM_TIMEOUT: seconds per boot.
set -euo pipefail
cd "$(dirname "$0")/../.."

debdir=${1:?usage: vm-test.sh DEBDIR WORKDIR}
work=$(realpath -m "${2:?}")
mode=${KF_VM_KUBELET:-double}
timeout=${KF_VM_TIMEOUT:-1200}
case $mode in none | double) ;; *) echo "vm: KF_VM_KUBELET must be none or double" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "vm: needs root (debootstrap, chroot)" >&2; exit 2; }
for t in qemu-system-x86_64 debootstrap mkfs.ext4 genisoimage; do
        command -v $t >/dev/null || { echo "vm: $t is missing (tools/deps.sh vm)" >&2; exit 2; }
done
deb=$(ls "$debdir"/kube-firstboot_*_amd64.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || { echo "vm: no package in $debdir (make deb)" >&2; exit 2; }

t0=$SECONDS
tests/vm/build-base.sh "$work/base"
t_base=$((SECONDS - t0))

run=$work/run
rm -rf "$run"
mkdir -p "$run"
echo "vm: image with $(basename "$deb") (kubelet: $mode)"
cp -a "$work/base/root" "$run/root"
root=$run/root
# With the kubelet double, /usr/bin/kubelet exists before the package goes in, as in an image whose
# kubelet came from the release tarball: the provisioner then adds kubelet.service and kubeadm's drop-in.
if [ "$mode" = double ]; then
        install -d "$root/opt/kf-sim"
        cp -a tests/sim/bin tests/sim/simlib "$root/opt/kf-sim/"
        # The doubles' share of tests/lib: which etcd to run and which flags it takes (simlib/__init__.py).
        install -D -m 0644 tests/lib/etcdbin.py "$root/opt/kf-sim/lib/etcdbin.py"
        find "$root/opt/kf-sim" -name __pycache__ -prune -exec rm -rf {} +
        install -m 0755 tests/vm/guest/kubelet "$root/usr/bin/kubelet"
fi
cp "$deb" "$root/tmp/kube-firstboot.deb"
cp images/packer/install-kube-firstboot.sh "$root/tmp/"
unshare --mount --propagation private bash -euo pipefail -c '
root=$1
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
printf "#!/bin/sh\nexit 101\n" >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
chroot "$root" env DEB=/tmp/kube-firstboot.deb sh /tmp/install-kube-firstboot.sh
rm -f "$root/usr/sbin/policy-rc.d" "$root/tmp/kube-firstboot.deb" "$root/tmp/install-kube-firstboot.sh"
' _ "$root" 2>&1 | sed 's/^/vm: chroot: /'

# Test-only additions. The report unit runs after kube-firstboot.service at every boot.
install -D -m 0755 tests/vm/guest/kf-vm-report "$root/usr/local/sbin/kf-vm-report"
install -D -m 0644 tests/vm/guest/kf-vm-report.service "$root/etc/systemd/system/kf-vm-report.service"
ln -s /etc/systemd/system/kf-vm-report.service "$root/etc/systemd/system/multi-user.target.wants/"
# kube-firstboot reads the NoCloud seed itself (libblkid finds the "cidata" volume) rather than
# cloud-init's copy of it, which is what it would pick on its own here; the report shows both.
sed -i 's/^KUBE_FIRSTBOOT_ARGS=.*/KUBE_FIRSTBOOT_ARGS="--datasource nocloud"/' "$root/etc/default/kube-firstboot"
# Debian's etcd-server (in the base for the kubelet double's static pod) enables its own etcd.service,
# which would hold ports 2379/2380 and /var/lib/etcd: kube-firstboot's preflight refuses that node.
systemctl --root="$root" mask etcd.service >/dev/null 2>&1
# What every Kubernetes image sets up: IPv4 forwarding (a preflight check).
echo "net.ipv4.ip_forward = 1" >"$root/etc/sysctl.d/90-kubernetes.conf"
# There is no container runtime in the test image: the CRI preflight check is waived as an image
# default, the way an image builder would waive one. Without a kubelet, so are the kubelet checks, so
# that the run goes on to the kubelet hand-off.
ignore='[CRI]'
[ "$mode" = none ] && ignore='[CRI, FileExisting-kubelet, KubeletVersion]'
install -d "$root/etc/kube-firstboot"
cat >"$root/etc/kube-firstboot/90-vm-test.yaml" <<YAML
# VM test only: no container runtime in this image.
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  ignorePreflightErrors: $ignore
YAML

truncate -s 3G "$run/disk.raw"
mkfs.ext4 -q -F -L kf-vm-root -d "$root" "$run/disk.raw"
rm -rf "$root"
genisoimage -quiet -output "$run/seed.iso" -volid cidata -joliet -rock \
        images/nocloud/user-data images/nocloud/meta-data images/nocloud/network-config
t_image=$((SECONDS - t0 - t_base))

boot() { # boot N: one boot; the VM powers itself off after its report
        local n=$1 pid start rc=0
        truncate -s 0 "$run/report$n.raw"
        truncate -s 8M "$run/report$n.raw"
        start=$SECONDS
        qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 2048 \
                -display none -monitor none -serial "file:$run/console$n.log" -no-reboot \
                -kernel "$work/base/vmlinuz" -initrd "$work/base/initrd.img" \
                -append "root=/dev/vda rw console=ttyS0 panic=-1 net.ifnames=0" \
                -drive "file=$run/disk.raw,format=raw,if=virtio" \
                -drive "file=$run/seed.iso,format=raw,if=virtio,readonly=on" \
                -drive "file=$run/report$n.raw,format=raw,if=virtio" \
                -nic "user,model=virtio-net-pci,restrict=on,mac=52:54:00:4b:46:01" \
                -rtc base=utc &
        pid=$!
        while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt "$timeout" ]; do sleep 2; done
        if kill -0 "$pid" 2>/dev/null; then
                echo "vm: boot $n did not finish in ${timeout} s; stopping qemu (pid $pid)" >&2
                kill "$pid"
                rc=1
        fi
        wait "$pid" || true
        echo "vm: boot $n took $((SECONDS - start)) s (console: $run/console$n.log)"
        eval "t_boot$n=$((SECONDS - start))"
        return $rc
}
boot 1 || true
boot 2 || true
rc=0
/usr/bin/python3 tests/vm/check.py --mode "$mode" "$run/report1.raw" "$run/report2.raw" || rc=$?
echo "vm: base ${t_base} s, image ${t_image} s, boot 1 ${t_boot1} s, boot 2 ${t_boot2} s, total $((SECONDS - t0)) s"
exit $rc
