/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration model: kubeadm's own documents (InitConfiguration, ClusterConfiguration,
 * JoinConfiguration in kubeadm.k8s.io/v1beta4, v1beta3 accepted and converted; KubeletConfiguration and
 * KubeProxyConfiguration kept as documents to pass on) plus our FirstbootConfiguration
 * (kube-firstboot.io/v1alpha1) for what kubeadm has no word for: the role and the seed rule, where
 * secrets come from, optional CA material, the etcd data device, timeouts and reporting.
 *
 * Sources merge in this order, later wins: image defaults (every .yaml file directly in /etc/kube-firstboot,
 * sorted), user-data (our MIME part, a #cloud-config's kube_firstboot key, plain YAML), selected metadata
 * tags/attributes (kube-firstboot-role, kube-firstboot-control-plane-endpoint, kube-firstboot-node-name,
 * kube-firstboot-config holding YAML documents, plain or base64), then command-line flags. Mappings
 * merge key by key, lists are replaced. kubeadm's defaults apply where nothing was set.
 *
 * Validation is strict: an unknown field or a bad value is a problem naming the field's path and its
 * source, e.g. "ClusterConfiguration.networking.podSubnet: '10.244.0.0/33' is not a CIDR (from user-data
 * part 2 (application/vnd.kube-firstboot+yaml), document 1)". Every problem is collected, not just the
 * first.
 *
 * Secrets (bootstrap tokens, the certificate key, a CA key) live only in memory: wiped when the config is
 * freed, redacted in fb_config_print(). The flows and verbs read the typed view, fb_config_settings()
 * (config-view.h); accessors return borrowed strings valid until fb_config_free().
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "firstboot/config/config-view.h"
#include "firstboot/config/secrets.h"
#include "metadata/metadata.h"

#define FB_API_VERSION     "kube-firstboot.io/v1alpha1"
#define FB_KUBEADM_V1BETA4 "kubeadm.k8s.io/v1beta4"
#define FB_KUBEADM_V1BETA3 "kubeadm.k8s.io/v1beta3"
#define FB_CONFIG_DIR      "/etc/kube-firstboot"
#define FB_REDACTED        "<redacted>"

enum fb_role {
        FB_ROLE_AUTO,
        FB_ROLE_INIT,
        FB_ROLE_CONTROL_PLANE,
        FB_ROLE_WORKER,
        _FB_ROLE_INVALID = -1,
};
const char *fb_role_to_string(enum fb_role r);
enum fb_role fb_role_from_string(const char *s);

enum fb_seed_rule {
        FB_SEED_NONE,           /* role is not auto */
        FB_SEED_INSTANCE_ID,    /* seed.instanceId equals this instance's id */
        FB_SEED_HOSTNAME,       /* seed.hostname equals this node's hostname */
        FB_SEED_ADDRESS,        /* seed.address is one of this node's addresses */
        FB_SEED_LOWEST_ADDRESS, /* this node's address is the lowest in seed.peers */
};

struct fb_flags {
        const char *role;
        const char *node_name;
        const char *advertise_address;
        const char *control_plane_endpoint;
        char **set; /* "Kind.path=value" */
};

struct fb_config_sources {
        const char *root;
        const struct md_instance *instance; /* NULL: no metadata and no user-data */
        bool skip_image_defaults;
        char **files; /* documents named on the command line, merged at the user-data level */
        struct fb_flags flags;
        bool partial; /* validate what is there without requiring a complete node configuration */
        /* With partial: documents that name a role must still be complete for it (config validate FILE);
         * secrets and a CA named by file count as given (their files belong to the node). */
        bool complete_for_role;
        /* Where the metadata came from (its endpoint, timeout): secrets in a cloud secret store are read
         * with the identity that metadata service gives (secrets.h). NULL: the link-local services. */
        const struct md_options *md;
        /* After a secret could not be read from its store (not with partial, which reads none): which and
         * why, and fb_config_load() returns that failure's -errno, not -EINVAL. May be NULL. */
        struct error *error;
};

struct fb_config;

/*
 * Loads, merges, defaults and validates. On success *ret is the effective configuration. Problems are
 * appended to *problems ("path: message (from source)"); when there are any, -EINVAL is returned and
 * *ret is left alone. A secret whose store cannot be read is no problem of the input but a failure
 * (src->error says it, with the store's -errno: -ETIMEDOUT, -EPERM, -ENOENT, ...). -ENOMEM on allocation
 * failure.
 */
int fb_config_load(const struct fb_config_sources *src, struct fb_config **ret, char ***problems);

/* NULL-safe; wipes every secret. */
struct fb_config *fb_config_free(struct fb_config *c);
static inline void fb_config_freep(struct fb_config **c) {
        *c = fb_config_free(*c);
}

/* ClusterConfiguration.kubernetesVersion's rule, shared by the schema and the node: 0 for a supported
 * version or label; otherwise -EOPNOTSUPP or -EINVAL with *ret_why saying which versions are supported. */
int fb_kubernetes_version_check(const char *version, char **ret_why);

/* Writes the configuration reference (Markdown) from the schema: docs/configuration.md. */
int fb_config_reference(FILE *out);

/* Validates one document as it stands (schema only), appending problems labelled with source. */
int fb_config_validate_document(const cJSON *doc, const char *source, char ***problems);

/* The effective documents as YAML (Firstboot, Init, Cluster, Join, Kubelet, KubeProxy), secrets
 * replaced by FB_REDACTED unless redact is false. */
int fb_config_print(const struct fb_config *c, bool redact, char **ret);

/* The typed view the flows and verbs read (config-view.h), built once by fb_config_load(); borrowed, valid
 * until fb_config_free(). */
const struct fb_settings *fb_config_settings(const struct fb_config *c);

/* What the view leaves to the role: */
enum fb_role fb_config_role(const struct fb_config *c);
enum fb_seed_rule fb_config_seed_rule(const struct fb_config *c);
/* seed.peers as a NULL-terminated list (NULL when none); borrowed. */
char *const *fb_config_seed_peers(const struct fb_config *c);
/* Whether this instance is the seed (the one node that runs init) under the rule: 1 yes, 0 no, -EINVAL
 * when the rule cannot be decided (no rule, or the instance lacks the compared value). */
int fb_config_is_seed(const struct fb_config *c, const struct md_instance *inst);
/* InitConfiguration's for role init and auto, else JoinConfiguration's (bind port: 6443 by default). */
const char *fb_config_node_name(const struct fb_config *c);
const char *fb_config_advertise_address(const struct fb_config *c);
unsigned fb_config_bind_port(const struct fb_config *c);
/* Secrets: borrowed, wiped by fb_config_free(); never log them. */
const char *
fb_config_bootstrap_token(const struct fb_config *c); /* init's first token, or join's discovery token */
const char *fb_config_certificate_key(const struct fb_config *c);

/* Where each secret of FirstbootConfiguration.secrets came from, for plan and the log: one entry per name of
 * fb_secret_names that has a source. The fingerprint is "" when the value was not read (partial). */
struct fb_secret_info {
        const char *name;
        char *source;   /* fb_secret_source_describe() */
        bool elsewhere; /* read at run time from a file or a store (fb_secret_source_elsewhere()) */
        char fingerprint[FB_SECRET_FINGERPRINT_MAX];
};
const struct fb_secret_info *fb_config_secret_info(const struct fb_config *c, size_t *ret_n);

/* The fields that hold a secret's value given in the user-data or a metadata tag
 * ("FirstbootConfiguration.secrets. certificateKey.value", "InitConfiguration.bootstrapTokens[].token",
 * "FirstbootConfiguration.ca.key", ...), used or not: NULL-terminated, borrowed; NULL when none. */
char *const *fb_config_userdata_secrets(const struct fb_config *c);

/*
 * Reads one secret again from its configured source (fb_secret_read()) and checks its form (a bootstrap
 * token, a certificate key): 'secrets check'. -ENXIO when the configuration names no source for it; -EBADMSG
 * when the value is not of its form; else fb_secret_read()'s failure. why says which source and what failed.
 */
int fb_config_read_secret(const struct fb_config *c, struct fb_secret_context *ctx, const char *root,
                          const char *name, char **ret, struct error *why);

/* The effective document of a kind ("ClusterConfiguration", ...), borrowed; NULL when absent. Only for
 * what takes whole documents: the PKI spec (pki-config.c reads the same documents for 'pki certs --config
 * FILE') and tests. The flows and verbs read fb_config_settings(). */
const cJSON *fb_config_document(const struct fb_config *c, const char *kind);

/* Parses a Go duration ("1h30m", "300ms", "0"); -EINVAL on a bad one. */
int fb_parse_duration_ms(const char *s, unsigned long long *ret);
