/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "manifests/versions.h"

/*
 * One row per minor: what the newest kubeadm patch release of that branch writes. The numbers are the
 * kubernetes/kubernetes pull requests that set each value; docs/kubernetes-minors.md lists every fact with
 * its source, and the goldens in tests/golden check the rows against kubeadm's own test tables.
 */
static const struct mf_versions table[] = {
        {
                .minor = 33, /* end of life 2026-06-28 */
                .newest_patch = "v1.33.13",
                .etcd_tag = "3.5.24-0", /* 3.5.21-0 at 1.33.0; #135018 */
                .coredns_tag = "v1.12.0",
                .pause_tag = "3.10",
                .etcd_flags = MF_ETCD_FLAGS_35,
                .kcm_flexvolume_dir = true,
                .extra_args_in_user_order = true, /* #135400, backported to 1.33 (#135851) */
                .pause_image_flag = true,
                .kubelet_config_map_resolv_conf = true,
                .kubelet_api_admin_binding = true, /* #138957, backported to 1.33.12 */
                .kube_proxy_mode = "",
                .join_wait_control_plane = true, /* WaitForAllControlPlaneComponents beta, on */
                .kubeadm_reads_v1beta3 = true,
        },
        {
                .minor = 34, /* end of life 2026-10-27 */
                .newest_patch = "v1.34.12",
                .etcd_tag = "3.6.4-0", /* #133245; no later bump on the branch found */
                .coredns_tag = "v1.12.1",
                .pause_tag = "3.10.1",
                .etcd_flags = MF_ETCD_FLAGS_BY_TAG, /* #132838, #133023 */
                .probe_port_names = true,           /* #132776 */
                .kcm_flexvolume_dir = true,
                .extra_args_in_user_order = true, /* #135852 */
                .node_local_cri_socket = true,    /* NodeLocalCRISocket beta, on: #131981 */
                .pause_image_flag = true,
                .kubelet_config_map_resolv_conf = true,
                .kubelet_api_admin_binding = true, /* #138957, backported to 1.34.8 */
                .kube_proxy_mode = "",
                .join_wait_control_plane = true,
                .kubeadm_reads_v1beta3 = true,
        },
        {
                .minor = 35,
                .newest_patch = "v1.35.9",
                .etcd_tag = "3.6.6-0", /* #135271 */
                .coredns_tag = "v1.13.1",
                .pause_tag = "3.10.1",
                .etcd_flags = MF_ETCD_FLAGS_BY_TAG,
                .probe_port_names = true,
                .kcm_flexvolume_dir = true,
                .extra_args_in_user_order = true, /* 1.35.1: #135853 */
                .node_local_cri_socket = true,
                .pause_image_flag = false, /* #133778 */
                .kubelet_config_map_resolv_conf = true,
                .kubelet_api_admin_binding = true, /* #138957, backported to 1.35.5 */
                .kube_proxy_mode = "",
                .join_wait_control_plane = true,
                .kubeadm_reads_v1beta3 = true,
        },
        {
                .minor = 36,
                .newest_patch = "v1.36.5",
                .etcd_tag = "3.6.8-0",          /* #137107 */
                .coredns_tag = "v1.14.2",       /* #137605 */
                .pause_tag = "3.10.2",          /* #138199 */
                .etcd_flags = MF_ETCD_FLAGS_36, /* the etcd < 3.6 branch removed: #135701 */
                .probe_port_names = true,
                .kcm_flexvolume_dir = false,      /* #136423 */
                .extra_args_in_user_order = true, /* #135400 */
                .node_local_cri_socket = true,    /* GA: #135742 */
                .kubelet_config_map_resolv_conf = true,
                .kubelet_api_admin_binding = true, /* #138957, backported to 1.36.1 */
                .kube_proxy_mode = "",
                .join_wait_control_plane = true,
                .kubeadm_reads_v1beta3 = true, /* removed in 1.37: #136016 */
        },
        {
                .minor = 37,
                .newest_patch = "v1.37.1",
                .etcd_tag = "3.7.0-0",    /* #140333 */
                .coredns_tag = "v1.14.6", /* #140497 */
                .pause_tag = "3.10.2",
                .etcd_flags = MF_ETCD_FLAGS_36,
                .probe_port_names = true,
                .extra_args_in_user_order = true,
                .node_local_cri_socket = true,           /* instance-config.yaml required: #138645 */
                .kubelet_config_map_resolv_conf = false, /* #141627 */
                .kubelet_api_admin_binding = true,       /* #138957 */
                .kube_proxy_mode = "iptables",           /* #139777 */
                .join_wait_control_plane = true,
                .kubeadm_reads_v1beta3 = false, /* #136016 */
        },
        {
                .minor = 38,
                .newest_patch = "v1.38.0",
                .etcd_tag = "3.7.1-0",    /* #141032 */
                .coredns_tag = "v1.14.7", /* #141462 */
                .pause_tag = "3.10.2",
                .etcd_flags = MF_ETCD_FLAGS_36,
                .probe_port_names = true,
                .extra_args_in_user_order = true,
                .node_local_cri_socket = true,
                .kubelet_config_map_resolv_conf = false, /* #141337 */
                .kubelet_api_admin_binding = true,
                .kube_proxy_mode = "iptables",
                .join_wait_control_plane = true,
        },
};

bool mf_versions_etcd_36_flags(const struct mf_versions *v, const char *etcd_tag) {
        unsigned major = 0, minor = 0;
        switch (v->etcd_flags) {
        case MF_ETCD_FLAGS_35:
                return false;
        case MF_ETCD_FLAGS_BY_TAG:
                /* kubeadm compares the tag's version with 3.6.0; an unparsable tag keeps the new flags. */
                if (!etcd_tag ||
                    sscanf(etcd_tag[0] == 'v' ? etcd_tag + 1 : etcd_tag, "%u.%u", &major, &minor) != 2)
                        return true;
                return major > 3 || (major == 3 && minor >= 6);
        default:
                return true;
        }
}

const struct mf_versions *mf_versions_all(size_t *ret_n) {
        *ret_n = ELEMENTSOF(table);
        return table;
}

static const struct mf_versions *row(unsigned minor) {
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].minor == minor)
                        return &table[i];
        return NULL;
}

int mf_versions_for(const char *v, const struct mf_versions **ret) {
        unsigned major, minor, patch;
        const struct mf_versions *m;
        int n = 0;

        if (!v)
                return -EINVAL;
        if (*v == 'v')
                v++;
        if (sscanf(v, "%u.%u.%u%n", &major, &minor, &patch, &n) != 3 ||
            (v[n] != 0 && v[n] != '-' && v[n] != '+'))
                return log_debug_errno(EINVAL, "'%s' is not a Kubernetes version like v1.34.2", v);
        if (major != 1)
                return -EOPNOTSUPP;
        m = row(minor);
        if (!m)
                return log_debug_errno(EOPNOTSUPP, "Kubernetes 1.%u is outside 1.%d-1.%d", minor,
                                       MF_MINOR_FIRST, MF_MINOR_LAST);
        *ret = m;
        return 0;
}

/* kubeadm's labels resolve against dl.k8s.io, which a first boot may not reach: here they resolve to
 * the newest patch of each minor known when this was built. Operators who want another patch pin
 * kubernetesVersion. */
int mf_versions_resolve(const char *v, char **ret) {
        const struct mf_versions *m;
        const char *pick = NULL;
        unsigned minor;
        int n = 0;

        if (!v)
                return -EINVAL;
        if (streq(v, "stable") || streq(v, "stable-1") || streq(v, "latest") || streq(v, "latest-1"))
                pick = table[ELEMENTSOF(table) - 1].newest_patch;
        else if ((sscanf(v, "stable-1.%u%n", &minor, &n) == 1 ||
                  sscanf(v, "latest-1.%u%n", &minor, &n) == 1) &&
                 v[n] == 0) {
                m = row(minor);
                if (!m)
                        return log_debug_errno(EOPNOTSUPP, "'%s': Kubernetes 1.%u is outside 1.%d-1.%d", v,
                                               minor, MF_MINOR_FIRST, MF_MINOR_LAST);
                pick = m->newest_patch;
        }
        if (pick)
                return (*ret = strdup(pick)) ? 1 : -ENOMEM;
        int r = mf_versions_for(v, &m);
        if (r < 0)
                return r;
        *ret = v[0] == 'v' ? strdup(v) : strdupf("v%s", v);
        return *ret ? 0 : -ENOMEM;
}
