#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the kube-firstboot Debian package with dpkg-deb (no debhelper, no source package):
#   images/deb/build-deb.sh STATIC_BINARY VERSION OUTDIR      -> OUTDIR/kube-firstboot_<debversion>_amd64.deb
#   images/deb/build-deb.sh --version VERSION                   -> the Debian version only
# VERSION is `git describe` output; it becomes a Debian version (v1.2.0-3-gabc -> 1.2.0+3.gabc;
# a bare commit id, even one that starts with a digit -> 0.0+git<commits>.<id>). Prints the path of the package.
set -euo pipefail

# Debian versions start with a digit and may not hold '-' without a revision.
debian_version() {
        local v=${1#v}
        if echo "$v" | grep -Eq '^[0-9]+\.[0-9]+'; then # a release tag, maybe with commits after it
                echo "$v" | sed 's/-/+/; s/-/./g'
        else # a bare commit id
                echo "0.0+git$(git -C "$top" rev-list --count HEAD 2>/dev/null || echo 0).$(echo "$v" | tr - .)"
        fi
}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ "${1:-}" = --version ]; then
        debian_version "${2:?usage: build-deb.sh --version VERSION}"
        exit 0
fi

bin=${1:?usage: build-deb.sh STATIC_BINARY VERSION OUTDIR}
version=${2:?}
outdir=${3:?}
file -b "$bin" | grep -q 'statically linked' || { echo "deb: $bin is not a static binary (make static)" >&2; exit 1; }
debv=$(debian_version "$version")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
d=$stage

install -D -m 0755 "$bin" "$d/usr/bin/kube-firstboot"
for u in kube-firstboot.service kube-firstboot-refresh.service kube-firstboot-refresh.timer; do
        install -D -m 0644 "$top/units/$u" "$d/lib/systemd/system/$u"
done
# The kubelet unit and drop-in are for images whose kubelet came without them: shipped as files to copy,
# so that they never clash with a kubelet package's own.
install -D -m 0644 "$top/units/kubelet/kubelet.service" "$d/usr/share/kube-firstboot/kubelet/kubelet.service"
install -D -m 0644 "$top/units/kubelet/kubelet.service.d/10-kubeadm.conf" \
        "$d/usr/share/kube-firstboot/kubelet/kubelet.service.d/10-kubeadm.conf"
install -D -m 0644 "$here/default" "$d/etc/default/kube-firstboot"
install -D -m 0644 "$here/copyright" "$d/usr/share/doc/kube-firstboot/copyright"
install -D -m 0644 "$top/images/README.md" "$d/usr/share/doc/kube-firstboot/README.images.md"
mkdir -p "$d/usr/share/man/man8"
"$here/manpage.sh" "$bin" "$debv" | gzip -9n >"$d/usr/share/man/man8/kube-firstboot.8.gz"
chmod 0644 "$d/usr/share/man/man8/kube-firstboot.8.gz"
find "$d" -type d -exec chmod 0755 {} +

mkdir -p "$d/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$d" | cut -f1)
sed -e "s/@VERSION@/$debv/" -e "s/@SIZE@/$size/" "$here/control.in" >"$d/DEBIAN/control"
echo /etc/default/kube-firstboot >"$d/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "$here/$s" "$d/DEBIAN/$s"; done
(cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
        >"$d/DEBIAN/md5sums"
chmod 0644 "$d/DEBIAN/control" "$d/DEBIAN/conffiles" "$d/DEBIAN/md5sums"

mkdir -p "$outdir"
deb=$outdir/kube-firstboot_${debv}_amd64.deb
rm -f "$outdir"/kube-firstboot_*_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$d" "$deb" >/dev/null
echo "$deb"
