/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What depends on the Kubernetes minor: the images kubeadm pins, and manifest shape changes.
 * Pinned versions follow kubeadm's constants for each release branch; users override them with
 * etcd.local.imageTag / dns.imageTag as in kubeadm.
 */
#pragma once

#include <stdbool.h>

#define MF_MINOR_FIRST 33
#define MF_MINOR_LAST  35

struct mf_versions {
        unsigned minor;
        const char *etcd_tag;    /* registry.k8s.io/etcd:<tag> */
        const char *coredns_tag; /* registry.k8s.io/coredns/coredns:<tag> */
        const char *pause_tag;   /* registry.k8s.io/pause:<tag> */
        bool probe_port_names;   /* 1.34+: container port "probe-port" referenced by the probes */
        bool etcd_36_flags; /* etcd 3.6: --feature-gates=InitialCorruptCheck=true, --watch-progress-... */
};

/* Parses "v1.34.2" or "1.34.2" (a "+build" suffix allowed); -EINVAL for a malformed version,
 * -EOPNOTSUPP for a minor outside 1.33-1.35. */
int mf_versions_for(const char *kubernetes_version, const struct mf_versions **ret);

/* A version as the manifests need it ("v1.34.2"): kubeadm's labels (stable, stable-1, latest, stable-1.N)
 * resolved to the newest patch this build knows (returns 1 then, 0 for a plain version). -EINVAL for
 * something that is neither, -EOPNOTSUPP outside 1.33-1.35. */
int mf_versions_resolve(const char *v, char **ret);
