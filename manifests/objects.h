/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster objects kubeadm init creates, as kubeadm creates them (names, labels, keys): RBAC for
 * bootstrap tokens, joiners and anonymous cluster-info readers; bootstrap token Secrets (including the
 * TTL token that owns kubeadm-certs); the cluster-info ConfigMap. Each builder returns a new cJSON object
 * owned by the caller, or NULL on OOM.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

#include "common/jsonbuild.h"

#define MF_DEFAULT_NODE_TOKEN_GROUP "system:bootstrappers:kubeadm:default-node-token"
#define MF_RBAC_GROUP               "rbac.authorization.k8s.io"

struct mf_subject {
        const char *kind; /* "Group", "User", "ServiceAccount" */
        const char *name;
        const char *ns; /* ServiceAccount only */
};

struct mf_rule {
        const char *const *verbs;
        const char *const *api_groups;
        const char *const *resources;
        const char *const *resource_names; /* NULL: all */
};

/* apiVersion, kind and metadata {name, namespace (when ns is set)}: the head of every object, built with b;
 * *ret_meta (when not NULL) is the metadata object. */
cJSON *mf_object_head(struct json_builder *b, const char *api_version, const char *kind, const char *ns,
                      const char *name, cJSON **ret_meta);

/* Role (ns set) or ClusterRole (ns NULL) with one rule. */
cJSON *mf_role(const char *ns, const char *name, const struct mf_rule *rule);
/* RoleBinding (ns set) or ClusterRoleBinding (ns NULL) to role_kind/role_name. */
cJSON *mf_role_binding(const char *ns, const char *name, const char *role_kind, const char *role_name,
                       const struct mf_subject *subjects, size_t n_subjects);

struct mf_token {
        const char *id, *secret;   /* secret: the Secret object holds it, base64 as every Secret value */
        const char *description;   /* omitted when NULL or empty */
        const char *expiration;    /* RFC 3339 UTC; omitted when NULL (never expires) */
        const char *const *usages; /* "signing", "authentication"; NULL = none */
        const char *const *groups; /* extra groups; NULL = none */
};
/* kube-system/bootstrap-token-<id>, type bootstrap.kubernetes.io/token. */
cJSON *mf_bootstrap_token_secret(const struct mf_token *t);

/* kube-public/cluster-info with the kubeconfig text under "kubeconfig". */
cJSON *mf_cluster_info(const char *kubeconfig);

/* RFC 3339 UTC, second precision, now + seconds: bootstrap token expirations. */
int mf_expiration(long long seconds_from_now, char ret[32]);
/* The same from a given time (the cluster's clock). */
int mf_expiration_at(time_t base, long long seconds, char ret[32]);

/* One object to create-or-update, and the collection it goes to. */
struct mf_api_object {
        char *collection; /* e.g. "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles" */
        cJSON *object;
};
void mf_api_objects_free(struct mf_api_object *o, size_t n);
/* Takes the n objects (also on failure) into a new array with their collections; -ENOMEM when one of them
 * is NULL (its builder failed) or on OOM. */
int mf_api_objects_collect(cJSON **objs, size_t n, struct mf_api_object **ret, size_t *ret_n);

/*
 * The RBAC of kubeadm's bootstrap-token phase and upload-config (in kubeadm's order): kubeadm:get-nodes,
 * kubeadm:kubelet-bootstrap, the two auto-approve bindings, kubeadm:bootstrap-signer-clusterinfo,
 * kubeadm:nodes-kubeadm-config, kubeadm:kubelet-config, kubeadm:kubeadm-certs, and the
 * kubeadm:cluster-admins binding.
 */
int mf_kubeadm_rbac(struct mf_api_object **ret, size_t *ret_n);

/* The REST collection path for an object's kind and namespace ("Role" in kube-system -> .../roles). */
char *mf_collection_path(const cJSON *obj);
