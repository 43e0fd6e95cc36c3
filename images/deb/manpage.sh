#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes kube-firstboot(8) in roff from the binary's own --help texts, so the page never drifts from
# the program: images/deb/manpage.sh BINARY VERSION > kube-firstboot.8
set -euo pipefail
bin=${1:?usage: manpage.sh BINARY VERSION}
version=${2:?}

# Preformatted text: escape backslashes, and lines that roff would read as requests.
verbatim() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

verbs=$("$bin" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')

cat <<ROFF
.TH KUBE-FIRSTBOOT 8 "" "kube-firstboot $version" "System Administration"
.SH NAME
kube-firstboot \\- turn a freshly booted machine into a Kubernetes node
.SH SYNOPSIS
.B kube-firstboot
[\\fIGLOBAL OPTIONS\\fR] \\fIVERB\\fR [\\fIARGS\\fR]
.SH DESCRIPTION
.nf
ROFF
"$bin" --help | verbatim
echo ".fi"
# Every verb's help repeats the global options and exit codes (printed once above): keep its own part.
own_help() { "$bin" "$@" --help | sed '/^Global options/,$d' | verbatim; }
for v in $verbs; do
        echo ".SH \"$(echo "$v" | tr a-z A-Z)\""
        echo ".nf"
        own_help "$v"
        echo ".fi"
        # Verbs with commands of their own ("Usage: kube-firstboot pki certs|ca-hash|..."): each one's help.
        subs=$("$bin" "$v" --help | sed -n "s/^Usage: kube-firstboot $v \([a-z-]*|[a-z|-]*\).*/\1/p" | tr '|' ' ')
        for s in $subs; do
                echo ".SS \"$v $s\""
                echo ".nf"
                own_help "$v" "$s"
                echo ".fi"
        done
done
cat <<'ROFF'
.SH FILES
.TP
.I /lib/systemd/system/kube-firstboot.service
runs \fBkube-firstboot run\fR at boot until one run has finished
.TP
.I /lib/systemd/system/kube-firstboot-refresh.timer
hourly \fBkube-firstboot refresh\fR on control planes
.TP
.I /etc/default/kube-firstboot
KUBE_FIRSTBOOT_ARGS and KUBE_FIRSTBOOT_REFRESH_ARGS for the two services
.TP
.I /etc/kube-firstboot/
image defaults (*.yaml), and user-data on hosts without cloud-init (user-data)
.TP
.I /run/kube-firstboot/status.json
the current phase and the result of the run
.TP
.I /var/lib/kube-firstboot/
the phase journal, and \fIdone\fR once a run has finished
.TP
.I /usr/share/kube-firstboot/kubelet/
a kubelet unit and kubeadm's kubelet drop-in, for images whose kubelet came without them
.SH SEE ALSO
.BR systemctl (1),
.BR cloud-init (1),
.BR kubeadm (1)
ROFF
