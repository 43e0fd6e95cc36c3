/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeadm's upload-certs: the shared CA keys sealed under the certificate key into the kube-system
 * kubeadm-certs Secret, owned by a 2-hour bootstrap token so the garbage collector removes it when the
 * token expires, and the Role/RoleBinding that let bootstrap-token joiners read it. Used by init and by
 * refresh (which re-uploads before the owner token expires).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "common/error.h"
#include "firstboot/cluster/kubeapi.h"
#include "pki/envelope.h"

#define FB_CERTS_TOKEN_TTL_S  (2 * 3600)
#define FB_CERTS_TOKEN_DESC   "Proxy for managing TTL for the kubeadm-certs secret"
#define FB_KUBEADM_CERTS_PATH "/api/v1/namespaces/kube-system/secrets/kubeadm-certs"

struct fb_certs_upload {
        const char *root;
        const char *cert_dir;                /* /etc/kubernetes/pki */
        const struct pki_external_etcd *ext; /* NULL for stacked etcd */
        const char *certificate_key;         /* hex, secret */
        const char *owner;                   /* this node's name: picks the owner token's fixed id */
};

/* Uploads (create or update) the Secret, owned by this node's token renewed to 2 hours, and the joiner RBAC.
 */
int fb_certs_upload(struct kube_client *c, const struct fb_certs_upload *u, struct error *why);

/* 1 when kubeadm-certs exists, opens with this key, and its owner token lives at least min_left_s more;
 * 0 when not (absent, another key, expiring), -errno when the API cannot tell. *ret_expires (optional):
 * the owner token's expiry, 0 when unknown. */
int fb_certs_uploaded(struct kube_client *c, const struct fb_certs_upload *u, long long min_left_s,
                      time_t *ret_expires);

void fb_certs_upload_describe(const struct fb_certs_upload *u, FILE *out);
