/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fields of kubeadm's configuration documents (InitConfiguration, ClusterConfiguration,
 * JoinConfiguration; v1beta4, v1beta3 accepted) that the PKI depends on, read into a struct pki_node_spec.
 * A stop-gap for 'pki certs --config' until the full configuration loader fills the same struct.
 */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "firstboot/config/config.h"
#include "pki/certlist.h"

/*
 * Reads FILE (named on the command line) into *spec, which pki_node_spec_init() prepared. The role comes
 * from the documents present (InitConfiguration: init; JoinConfiguration with controlPlane: control-plane;
 * without: worker) unless role_override is set. A FirstbootConfiguration's ca (cert/certFile, key/keyFile;
 * files under root) becomes the cluster CA when none is on disk yet. -EINVAL with a message naming the
 * field in why.
 */
int fb_pki_config_load(const char *path, const char *root, const char *role_override,
                       struct pki_node_spec *spec, struct error *why);

/* The same from the effective configuration (fb_config_load), for a decided role, with the
 * ClusterConfiguration in force (the configuration's, or the cluster's for a joiner; NULL for none). */
int fb_pki_spec_from_config(const struct fb_config *c, enum pki_role role, const char *root,
                            const struct fb_cluster_settings *cluster, struct pki_node_spec *s,
                            struct error *why);

/* Only what a ClusterConfiguration (the cluster's kubeadm-config) says: certificatesDir, SANs, etcd,
 * encryptionAlgorithm, validity periods; nothing about this node (renewal copies the rest from the
 * certificates themselves). NULL or a settings without a document: kubeadm's defaults stay. */
int fb_pki_spec_from_cluster(const struct fb_cluster_settings *cluster, struct pki_node_spec *s,
                             struct error *why);
