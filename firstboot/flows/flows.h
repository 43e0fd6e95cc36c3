/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flows: the phase tables of init, control-plane join and worker join over one struct fb_node, the
 * phases they share, and the report at the end.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "firstboot/flows/node.h"
#include "firstboot/engine/phases.h"

/* The init phases for this node (etcd-disk only when a data device is configured, no etcd with external
 * etcd). *ret is freed with free(). */
int fb_init_phases(const struct fb_node *n, struct fb_phase **ret, size_t *ret_n);

/* What a joiner learns before its phases: discovery (cluster-info, JWS, CA pin) and the cluster's
 * kubeadm-config and kubelet-config, read with the bootstrap token. */
struct fb_join_discovery {
        char *server; /* the cluster's endpoint from cluster-info */
        char *ca_pem, *ca_hash;
        const char *token; /* the TLS bootstrap token: borrowed from the configuration */
        cJSON *cluster_configuration, *kubelet_configuration;
};
/* timeout_ms 0: JoinConfiguration.timeouts.discovery (kubeadm's 5 minutes). */
int fb_join_discover(const char *root, const struct fb_config *c, unsigned timeout_ms,
                     struct fb_join_discovery *ret, struct error *why);
void fb_join_discovery_done(struct fb_join_discovery *d);
/* The control-plane or worker join phases (no etcd-join with external etcd). */
int fb_join_phases(const struct fb_node *n, struct fb_phase **ret, size_t *ret_n);
/* After a control-plane join: releases the etcd join queue when an earlier, killed run of this node still
 * holds it (this run found etcd-join done and skipped it), so that other joiners need not wait for the
 * hold to expire. 0, or -errno (the caller only warns). */
int fb_join_release_stale_queue_hold(struct fb_node *n);
extern const struct fb_phase fb_phase_etcd_join;

/* The host room's specs from the configuration (host/ knows no configuration): for the phases below
 * and for the preflight and etcd disk verbs. */
struct fb_preflight_spec;
struct fb_etcd_disk_spec;
/*
 * The spec for a role from the effective configuration: ports, criSocket, the etcd data dir, caCertPath,
 * the Kubernetes version, the address families, failSwapOn. Strings are borrowed from c. ignore, root,
 * resuming, proc_root and path are left for the caller. -EINVAL for role auto.
 */
int fb_preflight_spec_from_config(const struct fb_config *c, enum fb_role role,
                                  struct fb_preflight_spec *ret);
/* The role's nodeRegistration.ignorePreflightErrors as a list owned by the caller (NULL when empty). */
int fb_preflight_ignore_list(const struct fb_config *c, enum fb_role role, char ***ret);
/* The etcd disk's spec (strings borrowed from c); -ENOENT when no dataDevice is set. */
int fb_etcd_disk_spec_from_config(const struct fb_config *c, struct fb_etcd_disk_spec *ret);

/* The control-plane VIP (vip.c): init's phase beside its control plane, kube-vip's switch to admin.conf at
 * the end of init, a joiner's once its apiserver answers. Used only when fb_node_has_vip(). */
extern const struct fb_phase fb_phase_vip_init, fb_phase_vip_admin, fb_phase_vip_join;
bool fb_node_has_vip(const struct fb_node *n);

/* Phases shared by the flows (phases-shared.c). */
extern const struct fb_phase fb_phase_preflight, fb_phase_etcd_disk, fb_phase_addon;
/* Static pod manifests: 1 when each is on disk as rendered now, 0 when not, -errno; written (0600). */
int fb_static_pods_in_place(struct fb_node *n, const enum mf_component *cs, size_t k);
int fb_static_pods_write(struct fb_node *n, const enum mf_component *cs, size_t k, struct error *why);
int fb_check_control_plane_pods(void *ctx);
int fb_run_control_plane_pods(void *ctx, struct error *why);
void fb_describe_control_plane_pods(void *ctx, FILE *out);
int fb_check_kubelet_start(void *ctx);
int fb_run_kubelet_start(void *ctx, struct error *why);
void fb_describe_kubelet_start(void *ctx, FILE *out);
int fb_check_wait_control_plane(void *ctx);
int fb_run_wait_control_plane(void *ctx, struct error *why);
void fb_describe_wait_control_plane(void *ctx, FILE *out);
int fb_check_mark_control_plane(void *ctx);
int fb_run_mark_control_plane(void *ctx, struct error *why);
void fb_describe_mark_control_plane(void *ctx, FILE *out);

/* The ClusterConfiguration as kubeadm uploads it to kubeadm-config. */
int fb_cluster_configuration_yaml(const struct fb_node *n, char **ret);

/*
 * What operators need to join nodes, after init: /var/lib/kube-firstboot/join-info.json (0644, no
 * secrets: endpoint, CA pin, token id, how to join), the configured reporting.joinFile (0600, with the
 * token and certificate key), and a summary on stdout without secrets.
 */
int fb_report_join_info(struct fb_node *n, struct error *why);
