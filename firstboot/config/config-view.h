/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The typed view of the configuration: what the flows and verbs read, parsed once from the effective
 * documents by fb_config_load() (fb_config_settings()), so that no caller walks a document by dotted path.
 *
 * struct fb_cluster_settings is a ClusterConfiguration: this node's own (init) or the cluster's, as a joiner
 * or 'refresh' reads it from the kubeadm-config ConfigMap; both come from fb_cluster_settings_from_json().
 * The node's Init or Join settings, FirstbootConfiguration and the documents passed on whole
 * (KubeletConfiguration, KubeProxyConfiguration) complete the view.
 *
 * Strings are borrowed: from the settings' own copy of the document (cluster settings) or from the loaded
 * configuration (everything else), valid until fb_cluster_settings_free() or fb_config_free(). Secrets
 * (tokens, the certificate key, the CA key) are wiped with the configuration; never log them.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifests/staticpod.h"

/* A ClusterConfiguration, with kubeadm's defaults where a field is unset. */
struct fb_cluster_settings {
        /* The whole document, for what is serialized or handed on whole (kubeadm-config, the PKI spec); NULL
         * when the settings were made from no document (all defaults). Owned. */
        cJSON *document;
        const char *kubernetes_version;     /* default "stable-1" (a label or a version) */
        const char *control_plane_endpoint; /* NULL when unset */
        const char *cluster_name;           /* default "kubernetes" */
        const char *certificates_dir;       /* default "/etc/kubernetes/pki" */
        const char *image_repository;       /* default "registry.k8s.io" */
        struct {
                const char *pod_subnet;     /* NULL when unset */
                const char *service_subnet; /* default "10.96.0.0/12" */
                const char *dns_domain;     /* default "cluster.local" */
        } networking;
        struct {
                bool external;
                const char *data_dir;  /* local: default "/var/lib/etcd"; NULL for external */
                const char *image_tag; /* local: NULL when unset */
                char **endpoints;      /* external: NULL-terminated, NULL when none */
                const char *ca_file, *cert_file, *key_file; /* external */
        } etcd;
        struct {
                bool disabled;
                const char *image_repository, *image_tag; /* NULL when unset */
        } dns;
        struct {
                bool disabled;
        } proxy;
        /* extraArgs, extraVolumes, extraEnvs of etcd.local, apiServer, controllerManager and scheduler,
         * indexed by enum mf_component (entries without a name, or a volume without its paths, dropped). */
        struct mf_component_extras extras[_MF_COMPONENT_MAX];
};

/*
 * The settings of a ClusterConfiguration document (NULL: kubeadm's defaults alone). The document is copied:
 * the settings live on their own. -EBADMSG when cluster_configuration is not a mapping, -ENOMEM. Values of
 * the wrong type count as unset (the schema reports them for our own configuration).
 */
int fb_cluster_settings_from_json(const cJSON *cluster_configuration, struct fb_cluster_settings **ret);
struct fb_cluster_settings *fb_cluster_settings_free(struct fb_cluster_settings *s);
static inline void fb_cluster_settings_freep(struct fb_cluster_settings **s) {
        *s = fb_cluster_settings_free(*s);
}

/* nodeRegistration of InitConfiguration or JoinConfiguration. */
struct fb_registration_settings {
        const char *name;                  /* NULL when unset */
        const char *cri_socket;            /* defaulted by the loader */
        char **taints;                     /* "key=value:effect" or "key:effect"; NULL for none */
        struct mf_arg *kubelet_extra_args; /* borrowed names and values */
        size_t n_kubelet_extra_args;
        char **ignore_preflight_errors; /* NULL for none */
};

/* kubeadm's timeouts (InitConfiguration or JoinConfiguration), in milliseconds, kubeadm's defaults where
 * unset. */
struct fb_kubeadm_timeouts {
        unsigned long long control_plane_component_health_check, kubelet_health_check, kubernetes_api_call,
                etcd_api_call, tls_bootstrap, discovery, upgrade_manifests;
};

/* One of InitConfiguration.bootstrapTokens. */
struct fb_bootstrap_token_settings {
        const char *token; /* secret; NULL: generated (the first only) */
        const char *description, *expires;
        const char *ttl; /* a Go duration, as written; NULL when unset */
        char **usages, **groups;
};

struct fb_init_settings {
        struct fb_registration_settings registration;
        const char *advertise_address; /* localAPIEndpoint; NULL when unset */
        unsigned bind_port;            /* default 6443 */
        struct fb_bootstrap_token_settings *bootstrap_tokens;
        size_t n_bootstrap_tokens;
        const char *certificate_key; /* secret; NULL when unset */
        struct fb_kubeadm_timeouts timeouts;
};

struct fb_join_settings {
        struct fb_registration_settings registration;
        const char *ca_cert_path;
        struct {
                const char *token; /* secret: discovery.bootstrapToken.token */
                const char *api_server_endpoint;
                char *const *ca_cert_hashes; /* lower-cased "sha256:..."; NULL for none */
                bool unsafe_skip_ca_verification;
        } discovery;
        const char *tls_bootstrap_token; /* secret */
        bool control_plane;              /* a controlPlane section is present */
        const char *advertise_address;   /* controlPlane.localAPIEndpoint; NULL when unset */
        unsigned bind_port;              /* default 6443 */
        const char *certificate_key;     /* secret: controlPlane.certificateKey */
        struct fb_kubeadm_timeouts timeouts;
};

/* FirstbootConfiguration. */
struct fb_firstboot_settings {
        const char *ca_cert_pem, *ca_key_pem; /* ca: read from the files; the key is a secret */
        struct {
                const char *data_device, *filesystem, *label; /* NULL when unset */
        } etcd;
        char **kubelet_start_command;          /* NULL: systemctl enable --now kubelet */
        const char *join_file;                 /* reporting.joinFile; NULL when unset */
        struct {                               /* milliseconds */
                unsigned long long discovery;  /* default 5m */
                unsigned long long seed_grace; /* default 15s */
                unsigned long long etcd_join;  /* when etcd_join_set; the defaults differ by wait */
                bool etcd_join_set;
        } timeouts;
        struct {
                bool enabled;                  /* default true */
                unsigned long long dead_after; /* milliseconds; default 5m */
        } replacement;
        struct {
                bool enabled;                     /* default true */
                unsigned renew_before_percentage; /* 1-99; default 20 */
        } certificate_renewal;
        struct {                            /* controlPlaneVIP */
                bool enabled;               /* the section is present */
                bool kube_vip;              /* provider kube-vip; else keepalived */
                const char *address;        /* required when enabled */
                unsigned port;              /* defaulted by the loader: keepalived 8443, kube-vip bindPort */
                const char *interface;      /* NULL: the one carrying the advertise address */
                unsigned virtual_router_id; /* keepalived; default 51 */
                const char *password;       /* secret: authentication; NULL for none */
        } vip;
};

/* The whole view. */
struct fb_settings {
        const struct fb_cluster_settings *cluster; /* NULL without a ClusterConfiguration (a joiner's) */
        const struct fb_init_settings *init;       /* NULL without an InitConfiguration */
        const struct fb_join_settings *join;       /* NULL without a JoinConfiguration */
        struct fb_firstboot_settings firstboot;
        /* Passed on whole (the kubelet's files, kube-proxy's ConfigMap); NULL when absent. */
        const cJSON *kubelet_configuration, *kube_proxy_configuration;
};
