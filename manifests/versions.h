/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything that depends on the Kubernetes minor, in one table (versions.c): the images kubeadm pins,
 * the etcd flag set, the shape of the static pods and kubelet files, the kube-proxy mode, the join
 * phases. Each row is kubeadm's behaviour for that minor, with its source in versions.c; adding a
 * minor is one row plus its goldens (tests/golden). Users override the pins with etcd.local.imageTag /
 * dns.imageTag as in kubeadm.
 */
#pragma once

#include <stdbool.h>

#define MF_MINOR_FIRST 33
#define MF_MINOR_LAST  38

/* The etcd flags kubeadm writes depend on the etcd it pins (phases/etcd/local.go). */
enum mf_etcd_flags {
        MF_ETCD_FLAGS_35,     /* --experimental-initial-corrupt-check,
                                 --experimental-watch-progress-notify-interval */
        MF_ETCD_FLAGS_BY_TAG, /* the 3.6 flags when the etcd image tag is 3.6.0 or newer, else the 3.5 ones
                               */
        MF_ETCD_FLAGS_36, /* --feature-gates=InitialCorruptCheck=true, --watch-progress-notify-interval */
};

/*
 * A row is what the newest kubeadm patch release of that minor writes (the kubeadm an operator installs
 * today for that minor), whatever patch of the control plane kubernetesVersion names: kubeadm's output
 * follows the kubeadm binary, and fixes such as kubernetes#138957 were backported to every branch.
 */
struct mf_versions {
        unsigned minor;
        const char *newest_patch; /* what the labels stable, stable-1.N ... resolve to without network */

        /* Images (constants.go). */
        const char *etcd_tag;    /* registry.k8s.io/etcd:<tag> */
        const char *coredns_tag; /* registry.k8s.io/coredns/coredns:<tag> */
        const char *pause_tag;   /* registry.k8s.io/pause:<tag> */

        /* Static pods. */
        enum mf_etcd_flags etcd_flags;
        bool probe_port_names;         /* container port "probe-port" referenced by name from the probes */
        bool kcm_flexvolume_dir;       /* the controller-manager mounts the flexvolume plugin dir */
        bool extra_args_in_user_order; /* repeated extraArgs keep the user's order (not sorted by value) */

        /* Kubelet files. */
        bool node_local_cri_socket; /* instance-config.yaml holds containerRuntimeEndpoint, no flag */
        bool pause_image_flag;      /* --pod-infra-container-image in kubeadm-flags.env */

        /* The kubelet-config ConfigMap carries the init node's systemd-resolved resolvConf. */
        bool kubelet_config_map_resolv_conf;

        /* apiserver-kubelet-client.crt has no Organization; init binds its user to the ClusterRole
         * system:kubelet-api-admin (ClusterRoleBinding kubeadm:apiserver-kubelet-client). Before, the
         * certificate was in the group kubeadm:cluster-admins. */
        bool kubelet_api_admin_binding;

        /* Addons: KubeProxyConfiguration.mode when the user sets none ("" = kube-proxy's default). */
        const char *kube_proxy_mode;

        /* Join: kubeadm's join ends with wait-control-plane (WaitForAllControlPlaneComponents). */
        bool join_wait_control_plane;

        /* kubeadm of this minor still reads kubeadm.k8s.io/v1beta3 (we always accept and convert it). */
        bool kubeadm_reads_v1beta3;
};

/* Parses "v1.34.2" or "1.34.2" (a "-rc.1" or "+build" suffix allowed); -EINVAL for a malformed version,
 * -EOPNOTSUPP for a minor outside MF_MINOR_FIRST..MF_MINOR_LAST. */
int mf_versions_for(const char *kubernetes_version, const struct mf_versions **ret);

/* A version as the manifests need it ("v1.34.2"): kubeadm's labels (stable, stable-1, latest, stable-1.N)
 * resolved to the newest patch this build knows (returns 1 then, 0 for a plain version). -EINVAL for
 * something that is neither, -EOPNOTSUPP for an unsupported minor. */
int mf_versions_resolve(const char *v, char **ret);

/* The etcd flag set for this row and etcd image tag ("3.6.4-0"): true for the 3.6+ flags. */
bool mf_versions_etcd_36_flags(const struct mf_versions *v, const char *etcd_tag);

/* The table, for documentation and tests: *ret_n rows, oldest minor first. */
const struct mf_versions *mf_versions_all(size_t *ret_n);
