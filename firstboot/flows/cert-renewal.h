/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificates renewed in place on a control plane (refresh): what 'kubeadm certs renew' renews
 * (pki/renewal.h), when less than FirstbootConfiguration.certificateRenewal.renewBeforePercentage of a
 * certificate's lifetime is left, then the static pods that read them restarted one at a time, each
 * healthy again before the next (firstboot/host/static-pods.h):
 *
 *   kube-apiserver           apiserver, apiserver-kubelet-client, front-proxy-client, apiserver-etcd-client
 *   kube-controller-manager  controller-manager.conf
 *   kube-scheduler           scheduler.conf
 *
 * (kubeadm's renewCertsByComponent). etcd is not restarted: it reads its server and peer certificates from
 * disk at every TLS handshake (etcd's transport GetCertificate / GetClientCertificate). admin.conf and
 * super-admin.conf are files for people. The restarts hold the cluster's join queue
 * (firstboot/cluster/joinqueue.h), so that two control planes never restart their apiservers at the same
 * time and no etcd member change runs meanwhile: an HA cluster keeps its API throughout.
 *
 * CAs are never renewed: one with less than the same part of its lifetime left is reported.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "common/error.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/config/config.h"

struct fb_cert_renewal {
        const char *root;
        const struct fb_config *config;
        const struct fb_cluster_settings *cluster; /* the cluster's ClusterConfiguration (kubeadm-config) */
        struct kube_client *admin;                 /* takes the join queue for the restarts */
        const char *node_name;
        time_t now; /* the later of this machine's clock and the apiserver's */
        unsigned long long stop_timeout_ms, healthy_timeout_ms;
        bool dry_run; /* say what is due; renew and restart nothing */
};

struct fb_cert_renewal_result {
        char **renewed;     /* names, as check-expiration prints them */
        char **restarted;   /* static pods restarted */
        char **ca_expiring; /* "ca (expires 2035-08-17T09:03:00Z)" for each CA below the threshold */
        time_t next_due;    /* when the first certificate not renewed becomes due; 0: none */
};
void fb_cert_renewal_result_done(struct fb_cert_renewal_result *r);

/*
 * Renews what is due and restarts what reads it. Each action is printed as one line. *ret is filled on
 * success and on a failure after renewal (what was renewed and restarted before the failure). Errors:
 * -EBADMSG a certificate or CA cannot be read (nothing written), -ETIMEDOUT a component did not stop or
 * come back healthy, or the join queue stayed held, other -errno (why names the file or component).
 */
int fb_certificates_renew(const struct fb_cert_renewal *req, struct fb_cert_renewal_result *ret,
                          struct error *why);
