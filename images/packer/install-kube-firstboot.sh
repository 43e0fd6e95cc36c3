#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs kube-firstboot into the image being built (Packer's shell provisioner runs it as root on the
# build machine; `make vm-test` runs it in a chroot). DEB names the uploaded package.
#   - installs the package: it enables kube-firstboot.service (and the control-plane refresh timer)
#     without starting anything;
#   - gives the kubelet kubeadm's unit drop-in when the image's kubelet came without one
#     (KUBELET_UNITS=auto, the default; "always" or "never" to decide yourself);
#   - leaves no first-boot state behind, so that every machine made from the image runs its first boot.
set -eu

deb=${DEB:-/tmp/kube-firstboot.deb}
kubelet_units=${KUBELET_UNITS:-auto}
share=/usr/share/kube-firstboot/kubelet

export DEBIAN_FRONTEND=noninteractive
dpkg -i "$deb"

has_unit() { [ -e "/etc/systemd/system/$1" ] || [ -e "/lib/systemd/system/$1" ] || [ -e "/usr/lib/systemd/system/$1" ]; }
has_dropin() {
        for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
                ls "$d"/kubelet.service.d/*.conf >/dev/null 2>&1 && return 0
        done
        return 1
}
want=false
case $kubelet_units in
always) want=true ;;
never) ;;
auto) if command -v kubelet >/dev/null 2>&1 && ! has_dropin; then want=true; fi ;;
*) echo "install-kube-firstboot: KUBELET_UNITS must be auto, always or never" >&2; exit 2 ;;
esac
if $want; then
        has_unit kubelet.service || install -D -m 0644 "$share/kubelet.service" /etc/systemd/system/kubelet.service
        install -D -m 0644 "$share/kubelet.service.d/10-kubeadm.conf" /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
        echo "install-kube-firstboot: kubeadm's kubelet drop-in installed"
fi

# Whatever a test run on the build machine left would make the image's machines skip their first boot.
rm -rf /var/lib/kube-firstboot /run/kube-firstboot

[ "$(systemctl is-enabled kube-firstboot.service)" = enabled ] ||
        { echo "install-kube-firstboot: kube-firstboot.service is not enabled" >&2; exit 1; }
echo "install-kube-firstboot: $(kube-firstboot --version | head -1), kube-firstboot.service enabled"
