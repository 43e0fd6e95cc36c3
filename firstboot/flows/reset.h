/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeadm reset for a node kube-firstboot (or kubeadm) set up: reverts this machine to before its first
 * boot, so that 'kube-firstboot run' starts from scratch. Reads only the node's own files (the static pod
 * manifests, the kubelet's files, the certificates), never the configuration or the metadata: a node whose
 * metadata service or cluster is gone can still be reset. The actions, in order (each printed as one line
 * when taken, or as a "Would ..." line in a dry run):
 *
 *   1. this node's stacked etcd member is removed (found by the peer URL in etcd.yaml; none = removed
 *      already; the last member is left, as kubeadm does) only when the other healthy voters stay a quorum
 *      of the voters left (firstboot/cluster/etcd-remove.h): otherwise nothing at all is changed
 *      (-EHOSTDOWN), unless ignore_quorum, which leaves the member in etcd and goes on;
 *   2. the Node object is deleted (delete_node; admin.conf; not found = done);
 *   3. the static pod manifests are removed while the kubelet still runs, and on this machine we wait until
 *      the kubelet has stopped their pods (their ports free): without a CRI client, this is how the
 *      control-plane containers stop (kubeadm removes them through the CRI after stopping the kubelet);
 *   4. the kubelet is stopped: 'systemctl disable --now kubelet' (only on this machine: spec->host);
 *   5. mounts below /var/lib/kubelet are unmounted (only on this machine);
 *   6. the contents of the etcd data directory, of /etc/kubernetes/manifests, /var/lib/kubelet, the
 *      certificates directory (and /etc/kubernetes/tmp with cleanup_tmp_dir), then kubeadm's six kubeconfig
 *      files, then kube-firstboot's own state (/var/lib/kube-firstboot: journal, done marker, join-info;
 *      /run/kube-firstboot/status.json; the Cluster API sentinel) are deleted.
 *
 * Re-running after a failure part-way goes on: every action counts "already done" as done.
 */
#pragma once

#include <stdbool.h>

#include "common/error.h"

struct fb_reset_spec {
        const char *root;
        bool host;            /* this machine is the node: stop the kubelet, wait on ports, unmount */
        bool dry_run;         /* print what would be done; change nothing (etcd is still asked) */
        bool delete_node;     /* delete the Node object with admin.conf */
        bool cleanup_tmp_dir; /* also empty /etc/kubernetes/tmp */
        bool ignore_quorum;   /* reset even when etcd would not stay healthy or cannot be asked */
};

/*
 * Does (or prints) the reset. Errors (why says what, naming the file, URL or member):
 *   -EHOSTDOWN  refused before any change: etcd would lose its quorum, or cannot be asked
 *   -EINVAL     refused before any change: delete_node without admin.conf or a node name
 *   -ETIMEDOUT  (and other network codes) the Node deletion or the member removal did not get through
 *   other       a file or directory could not be removed (the rest was)
 */
int fb_reset(const struct fb_reset_spec *s, struct error *why);
