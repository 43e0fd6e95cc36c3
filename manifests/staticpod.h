/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control-plane static pods as kubeadm writes them (/etc/kubernetes/manifests/<name>.yaml):
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler. Flags are kubeadm's defaults merged
 * with extraArgs (an extra name replaces every default of that name) and sorted by name, then value;
 * volumes and mounts sorted by name; object keys in the order kubeadm's YAML printer gives them
 * (alphabetical), so `kubeadm upgrade` sees the manifests it expects.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifests/versions.h"

enum mf_component {
        MF_ETCD,
        MF_KUBE_APISERVER,
        MF_KUBE_CONTROLLER_MANAGER,
        MF_KUBE_SCHEDULER,
        _MF_COMPONENT_MAX,
};

struct mf_arg {
        const char *name; /* without the leading "--" */
        const char *value;
};

struct mf_volume {
        const char *name;
        const char *host_path;
        const char *mount_path;
        bool read_only;
        const char *path_type; /* e.g. DirectoryOrCreate, FileOrCreate; NULL = unset */
};

/* What a component's extra settings are, as in ClusterConfiguration.<component>.extra*. */
struct mf_component_extras {
        const struct mf_arg *args;
        size_t n_args;
        const struct mf_volume *volumes;
        size_t n_volumes;
        const struct mf_arg *envs; /* name/value */
        size_t n_envs;
};

struct mf_control_plane_spec {
        const char *kubernetes_version; /* "v1.34.2" */
        const char *image_repository;   /* default registry.k8s.io */
        const char *node_name;
        const char *advertise_address;   /* IPv4 or IPv6 literal */
        unsigned bind_port;              /* default 6443 */
        const char *cluster_name;        /* default kubernetes */
        const char *service_subnet;      /* default 10.96.0.0/12 */
        const char *pod_subnet;          /* optional */
        const char *dns_domain;          /* default cluster.local */
        unsigned health_check_timeout_s; /* controlPlaneComponentHealthCheck, default 240 */
        const char *cert_dir;            /* certificatesDir, default /etc/kubernetes/pki */

        /* etcd: stacked (local) unless external endpoints are given. */
        const char *etcd_data_dir;        /* default /var/lib/etcd */
        const char *etcd_image_tag;       /* default from versions */
        const char *etcd_initial_cluster; /* "name=https://ip:2380,...": NULL on init (just this node) */
        bool etcd_join;                   /* --initial-cluster-state=existing */
        const char *const *etcd_external_endpoints; /* NULL-terminated; NULL = stacked */
        const char *etcd_external_ca_file, *etcd_external_cert_file, *etcd_external_key_file;

        bool external_ca; /* ca.crt without ca.key: the controller-manager does not sign (UsingExternalCA) */

        struct mf_component_extras extras[_MF_COMPONENT_MAX];

        /* Environment passed to every component (kubeadm copies the proxy variables of its process). */
        const struct mf_arg *proxy_env;
        size_t n_proxy_env;

        /* Host paths of optional CA trust dirs are mounted only when they exist under this root. */
        const char *root;
};

const char *mf_component_name(enum mf_component c);

/* The Pod object. *ret owned by the caller. -EINVAL names nothing: the caller validated the spec;
 * -EOPNOTSUPP for an unsupported Kubernetes minor. */
int mf_static_pod(const struct mf_control_plane_spec *spec, enum mf_component c, cJSON **ret);

/* Sorts the keys of every object in the tree, as Go's YAML printer does. */
void mf_sort_keys(cJSON *j);

/* "https://10.0.0.1:2380" or "https://[fd00::1]:2380". NULL on OOM. */
char *mf_url(const char *scheme, const char *host, unsigned port);
