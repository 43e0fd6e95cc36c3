/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One node's run: the effective configuration turned into everything the phases need (the decided role,
 * the resolved Kubernetes version, the PKI, static pod and kubelet specs), the secrets of this run, and
 * the helpers the init and join flows share: rendering and comparing files, API clients from this
 * node's kubeconfigs, applying and verifying cluster objects, waiting on health endpoints.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "firstboot/config/config.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/engine/status.h"
#include "manifests/kubelet.h"
#include "manifests/objects.h"
#include "manifests/staticpod.h"
#include "manifests/versions.h"
#include "metadata/metadata.h"
#include "pki/certlist.h"

#define FB_STATE_DIR              "/var/lib/kube-firstboot"
#define FB_DONE_PATH              FB_STATE_DIR "/done"
#define FB_JOIN_INFO_PATH         FB_STATE_DIR "/join-info.json"
#define FB_MANIFESTS_DIR          "/etc/kubernetes/manifests"
#define FB_KUBELET_DIR            "/var/lib/kubelet"
#define FB_KUBELET_CLIENT_CURRENT "/var/lib/kubelet/pki/kubelet-client-current.pem"

struct fb_join_discovery;

struct fb_node {
        const char *root;
        const struct fb_config *config;     /* borrowed */
        const struct md_instance *instance; /* borrowed; may be NULL */
        enum fb_role role;                  /* decided: init, control-plane or worker */

        char *kubernetes_version; /* "v1.35.0": labels such as stable-1 resolved */
        const struct mf_versions *versions;
        struct pki_node_spec pki;
        struct mf_control_plane_spec cp;
        struct mf_kubelet_spec kubelet;
        const cJSON
                *kubelet_user_config; /* the user's (init) or the cluster's (join) KubeletConfiguration */
        /* The ClusterConfiguration in force: ours (init; borrowed from the configuration's view) or the
         * cluster's (a joiner's, made from its kubeadm-config; owned as cluster_owned). */
        const struct fb_cluster_settings *cluster;
        struct fb_cluster_settings *cluster_owned;
        cJSON *kubelet_owned;
        /* The role's nodeRegistration (InitConfiguration's or JoinConfiguration's) and kubeadm timeouts. */
        const struct fb_registration_settings *registration;
        struct fb_kubeadm_timeouts timeouts;

        char *local_api_url; /* https://advertise:bindPort */
        char *api_url;       /* https://controlPlaneEndpoint, or the local one without it */
        char **kubelet_start_command;
        char *hostname;
        /* This machine is the node (no --root, or --allow-host): the kubelet start command may run, a disk
         * be formatted and mounted, this machine's ports and /proc be checked. */
        bool host;

        /* This run's secrets, wiped on free. */
        char *certificate_key; /* hex; configured or generated for this run */
        bool certificate_key_generated;
        char **tokens; /* init: "id.secret" of InitConfiguration.bootstrapTokens, in order */
        bool token_generated;

        const struct fb_join_discovery *join; /* a joiner's discovery result, borrowed */
        /* For reading a secret kept in a file or a store again (a rotated certificate key); borrowed, NULL:
         * never read again. */
        struct fb_secret_context *secrets;

        /* plan: the first thing a phase's description found that would stop 'run', and its error. */
        struct error plan_error; /* the first thing plan found that run would fail on */

        /* The run's status.json, borrowed: what a phase did beyond its own state (replacements). NULL in
         * plan and in tests. */
        struct fb_status *status;

        /* Lazily made. */
        struct kube_client *admin;
        char *ca_pin; /* sha256:... of ca.crt */

        /* Storage behind the spec pointers. */
        struct mf_arg *proxy_env;
};

/*
 * Builds the node's run from the effective configuration for a decided role (not auto). -EINVAL with
 * *why naming the field when the configuration cannot make a node of that role (an unsupported
 * Kubernetes version, an unreadable CA file...).
 */
/* What a joiner learns from the cluster (kubeadm-config, kubelet-config), used instead of its own
 * configuration's documents; NULL for init. The documents are copied (the ClusterConfiguration into a
 * struct fb_cluster_settings, as the configuration's own). */
struct fb_cluster_view {
        const cJSON *cluster_configuration;
        const cJSON *kubelet_configuration;
};
int fb_node_new(const char *root, const struct fb_config *c, const struct md_instance *inst,
                enum fb_role role, const struct fb_cluster_view *view, struct fb_node **ret,
                struct error *why);
struct fb_node *fb_node_free(struct fb_node *n);
static inline void fb_node_freep(struct fb_node **n) {
        *n = fb_node_free(*n);
}

/*
 * What 'run' checks of the node's setup before it touches anything: for role init, and auto (which may
 * init), the node fb_node_new() makes from this configuration, with the same messages; for auto also that
 * the seed rule can be decided on this instance. (A joiner's node is made from the cluster's configuration
 * after discovery.) Problems are appended to *problems; 0 (problems or not), or -ENOMEM. config validate,
 * plan and run call it alike, so that they refuse the same configurations.
 */
int fb_node_check(const char *root, const struct fb_config *c, const struct md_instance *inst,
                  char ***problems);

/* ---- files ---- */

/* A static pod manifest as YAML, ready to write. */
int fb_node_static_pod_yaml(const struct fb_node *n, enum mf_component c, char **ret);
/* The node path of a component's manifest. */
char *fb_node_manifest_path(enum mf_component c);
/* 1 when the file under root holds exactly text, 0 when it differs or is absent, -errno. */
int fb_file_has(const char *root, const char *path, const char *text);
/* Writes text atomically with mode (parents 0755, or dir_mode for the immediate directory when non-zero). */
int fb_file_put(const char *root, const char *path, const char *text, mode_t mode, mode_t dir_mode);

/* The kubelet's files: config.yaml, kubeadm-flags.env, and instance-config.yaml from 1.34. */
struct fb_kubelet_files {
        char *config_yaml, *flags_env, *instance_yaml; /* instance_yaml NULL before 1.34 */
};
void fb_kubelet_files_done(struct fb_kubelet_files *f);
int fb_node_kubelet_files(const struct fb_node *n, struct fb_kubelet_files *ret);
/* 1 when the files on disk are these, 0 when not. */
int fb_kubelet_files_in_place(const char *root, const struct fb_kubelet_files *f);
int fb_kubelet_files_write(const char *root, const struct fb_kubelet_files *f, char **ret_failed);
/* Runs the kubelet start command (default: systemctl enable --now kubelet); -errno with *why. */
int fb_node_start_kubelet(const struct fb_node *n, struct error *why);
/* GET http://127.0.0.1:10248/healthz (the configured healthz address and port): 1 ok, 0 not. */
int fb_kubelet_healthy(const struct fb_node *n);

/* ---- the cluster ---- */

/*
 * A client from one of this node's kubeconfigs (admin.conf, super-admin.conf...) under /etc/kubernetes.
 * local: talk to this node's apiserver (https://advertise:bindPort) instead of the kubeconfig's server,
 * as kubeadm does while the load balancer may not route to it yet.
 */
int fb_node_client(const struct fb_node *n, const char *kubeconfig, bool local, struct kube_client **ret);
/* The admin.conf client to this node's apiserver, made once. */
int fb_node_admin(struct fb_node *n, struct kube_client **ret);

/* Whether the Node object carries what kubeadm records on it for this minor: before NodeLocalCRISocket
 * (1.33), the CRI socket annotation; from 1.34 nothing (instance-config.yaml holds it). */
bool fb_node_cri_socket_annotated(const struct fb_node *n, const cJSON *node);
/* The CA pin of this node's ca.crt, made once. */
int fb_node_ca_pin(struct fb_node *n, const char **ret);

/* Creates or updates every object (kubeadm's CreateOrUpdate). *ret_failed names the first that failed. */
int fb_objects_apply(struct kube_client *c, const struct mf_api_object *o, size_t n,
                     const char **ret_failed);
/* 1 when every object exists with the content we would write (labels, data, rules, subjects, spec: what we
 * set must be there; what the server added is fine), 0 when one is missing or different, -errno. */
int fb_objects_in_place(struct kube_client *c, const struct mf_api_object *o, size_t n);
/* Prints "create|update KIND ns/name" lines for plan. */
void fb_objects_describe(const struct mf_api_object *o, size_t n, FILE *out);

/* Polls an https (CA-verified) or http URL until it answers 200 or timeout_ms passes. */
int fb_wait_healthy(const char *url, const char *ca_pem, const char *cert_pem, const char *key_pem,
                    unsigned long long timeout_ms, struct error *why);

/* kubeadm's ConfigMap checksum annotation value (componentconfigs ChecksumForConfigMap): sha256 over the
 * data values in key order; the keys themselves are not hashed. */
int fb_configmap_checksum(const cJSON *cm, char **ret);
