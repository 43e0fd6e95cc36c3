/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kubelet's files as kubeadm writes them: /var/lib/kubelet/config.yaml (KubeletConfiguration),
 * /var/lib/kubelet/kubeadm-flags.env, and for 1.34+ /var/lib/kubelet/instance-config.yaml.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifests/staticpod.h"

struct mf_kubelet_spec {
        const char *kubernetes_version;
        const char *image_repository; /* for the pause image; default registry.k8s.io */
        const char *node_name;        /* nodeRegistration.name */
        const char *hostname;         /* the machine's hostname: --hostname-override when it differs */
        const char *cri_socket;       /* default unix:///var/run/containerd/containerd.sock */
        const char *service_subnet;   /* clusterDNS = its 10th address */
        const char *dns_domain;       /* default cluster.local */
        const char *cert_dir; /* certificatesDir (clientCAFile is its ca.crt); default /etc/kubernetes/pki */
        bool resolved_active; /* resolvConf /run/systemd/resolve/resolv.conf */
        bool worker;          /* taints go on the command line only for workers */
        const char *const *taints; /* "key=value:Effect" or "key:Effect", NULL-terminated; NULL = none */
        const struct mf_arg *extra_args; /* nodeRegistration.kubeletExtraArgs */
        size_t n_extra_args;
};

/*
 * KubeletConfiguration: kubeadm's defaults, then the user's document (if any) over them, field by
 * field (objects merged, everything else replaced). *ret owned by the caller.
 */
int mf_kubelet_config(const struct mf_kubelet_spec *spec, const cJSON *user, cJSON **ret);

/* The single line KUBELET_KUBEADM_ARGS="..." with a trailing newline. */
int mf_kubeadm_flags_env(const struct mf_kubelet_spec *spec, char **ret);

/* 1.34+ (NodeLocalCRISocket): the instance config holding containerRuntimeEndpoint; -ENOENT before. */
int mf_kubelet_instance_config(const struct mf_kubelet_spec *spec, cJSON **ret);

/* The CRI socket kubeadm records: nodeRegistration.criSocket or its default (containerd). */
const char *mf_kubelet_cri_socket(const struct mf_kubelet_spec *spec);

/* Before NodeLocalCRISocket (1.33) kubeadm records the CRI socket on the Node in this annotation; kubeadm
 * upgrade reads it back. */
#define MF_CRI_SOCKET_ANNOTATION "kubeadm.alpha.kubernetes.io/cri-socket"

/* Merges src over dst: objects recursively, anything else replaced. */
int mf_merge_json(cJSON *dst, const cJSON *src);
