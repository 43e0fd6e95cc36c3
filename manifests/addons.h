/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The objects of kubeadm's addon phase, as kubeadm 1.33-1.35 creates them: CoreDNS (dns/manifests.go,
 * dns.go) and kube-proxy (proxy/manifests.go, proxy.go, componentconfigs/kubeproxy.go). Names, labels,
 * selectors, probes, resources, securityContext, volumes, tolerations and affinity are kubeadm's; the texts
 * kubeadm stores (the Corefile, the kube-proxy ConfigMap's config.conf and kubeconfig.conf) are byte for
 * byte what kubeadm stores, including config.conf's full set of zero-valued fields as Go marshals them.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifests/objects.h"   /* struct mf_api_object, mf_api_objects_free, mf_collection_path */
#include "manifests/staticpod.h" /* struct mf_arg */

/* kubeadm's annotation on a ConfigMap it generated itself (not from a user document). */
#define MF_COMPONENT_CONFIG_HASH "kubeadm.kubernetes.io/component-config.hash"

struct mf_addons_spec {
        const char *kubernetes_version; /* "v1.34.2" (mf_versions_resolve): kube-proxy tag, per-minor pins */
        const char *image_repository;   /* default registry.k8s.io */
        /* dns.imageRepository; NULL: image_repository. Either way "registry.k8s.io" becomes
         * "registry.k8s.io/coredns" (the image moved there); others are used as given. */
        const char *dns_image_repository;
        const char *dns_image_tag;  /* dns.imageTag; NULL: the CoreDNS pinned for the minor */
        const char *service_subnet; /* default 10.96.0.0/12; kube-dns gets its 10th address (first CIDR) */
        const char *dns_domain;     /* default cluster.local */
        const char *pod_subnet;     /* kube-proxy clusterCIDR; NULL/empty: unset */
        const char *control_plane_url; /* "https://cpe:6443": the server of kube-proxy's kubeconfig */
        /*
         * The user's KubeProxyConfiguration document, or NULL when the user gave none (the ConfigMap is then
         * signed with MF_COMPONENT_CONFIG_HASH, as kubeadm signs what it generated). Decoded the way
         * kubeadm's decoder does: unknown fields dropped, durations re-printed as Go prints them, wrong
         * types refused.
         */
        const cJSON *kube_proxy_config;
        bool ipv6;                 /* the advertise address is IPv6: bindAddress "::" instead of "0.0.0.0" */
        unsigned coredns_replicas; /* 0: kubeadm's 2 (kubeadm keeps a running Deployment's count) */
        const struct mf_arg *proxy_env; /* kubeadm's *_proxy environment, appended to kube-proxy's env */
        size_t n_proxy_env;
};

/*
 * In kubeadm's creation order, each with the REST collection it is created in. CoreDNS: ConfigMap coredns,
 * ClusterRole system:coredns, ClusterRoleBinding system:coredns, ServiceAccount coredns, Deployment coredns,
 * Service kube-dns. kube-proxy: ConfigMap kube-proxy, DaemonSet kube-proxy, ServiceAccount kube-proxy,
 * ClusterRoleBinding kubeadm:node-proxier, Role kube-proxy, RoleBinding kube-proxy.
 * -EINVAL for a missing version, endpoint or malformed subnet or user document, -EOPNOTSUPP for a minor
 * outside 1.33-1.35, -ENOMEM. *ret is freed with mf_api_objects_free(*ret, *ret_n).
 */
int mf_coredns_objects(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n);
int mf_kube_proxy_objects(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n);

/* The Corefile kubeadm stores in the coredns ConfigMap (trailing newline included). NULL on OOM. */
char *mf_corefile(const char *dns_domain);

/* The kube-proxy ConfigMap's config.conf exactly as stored (YAML, no trailing newline). */
int mf_kube_proxy_config_text(const struct mf_addons_spec *s, char **ret);

/*
 * Checks a user KubeProxyConfiguration document the way the builders decode it. 0 when it is usable;
 * -EINVAL with *ret_problem ("conntrack.maxPerCore: not an int32", owned by the caller) when kubeadm would
 * refuse it. Unknown fields are not problems: kubeadm warns and drops them, so do the builders.
 */
int mf_kube_proxy_config_check(const cJSON *doc, char **ret_problem);
