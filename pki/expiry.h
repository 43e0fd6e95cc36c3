/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What 'kubeadm certs check-expiration' reads and computes (cmd/kubeadm/app/cmd/certs.go,
 * phases/certs/renewal): the certificates of its renewal manager (each leaf of the certificate tree, and
 * the client certificates embedded in admin.conf, super-admin.conf, controller-manager.conf and
 * scheduler.conf; kubelet.conf is left to the kubelet), the CAs, the residual time as apimachinery's
 * HumanDuration prints it, the date as Go's "Jan 02, 2006 15:04 MST" layout prints it, and kubeadm's
 * external-CA rule (a CA certificate without its key, every certificate it signs checked against it).
 * The printing is the caller's; docs/design/self-healing.md §2.6 has the sources.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pki/certlist.h"

/* Go's time.Duration saturates at 2^63-1 ns: kubeadm never sees more than this many seconds. */
#define PKI_DURATION_MAX_S INT64_C(9223372036)

/* Room for any HumanDuration text ("<invalid>", "9m59s", "7y364d", "292y") and its NUL. */
#define PKI_HUMAN_DURATION_MAX 16
/* Room for "Jan 02, 2006 15:04 UTC" (a year above 9999 is cut to fit). */
#define PKI_KUBEADM_DATE_MAX 32

/*
 * k8s.io/apimachinery/pkg/util/duration HumanDuration of ns nanoseconds, into buf (returned): "<invalid>"
 * below -1 s, "0s" below 0, then seconds below 2 minutes, "NmMs" below 10 minutes, minutes below 3 hours,
 * "NhMm" below 8 hours, hours below 2 days, "NdHh" below 8 days, days below 2 years (of 365 days), "NyDd"
 * below 8 years, else years. Each unit is truncated, never rounded.
 */
const char *pki_human_duration(int64_t ns, char buf[static PKI_HUMAN_DURATION_MAX]);

/*
 * kubeadm's residual time of a certificate in whole seconds: not_after - now truncated toward zero, within
 * +-PKI_DURATION_MAX_S. now has nanoseconds: a certificate issued for exactly 365 days shows 364d a moment
 * later, as with kubeadm.
 */
int64_t pki_residual_seconds(time_t not_after, const struct timespec *now);

/* t in UTC as Go formats "Jan 02, 2006 15:04 MST" (the C locale's month names, whatever the locale). */
const char *pki_kubeadm_date(time_t t, char buf[static PKI_KUBEADM_DATE_MAX]);

/* One row of check-expiration: a certificate (or a kubeconfig's client certificate) or a CA. */
struct pki_expiration {
        char *name;          /* kubeadm's name: "admin.conf", "apiserver", "etcd-server", "ca", ... */
        char *path;          /* the node path read: a .crt under the certificates dir, or a kubeconfig */
        const char *ca_name; /* the CA that signs it ("ca", "etcd-ca", "front-proxy-ca"); NULL for a CA */
        bool missing;        /* no such file (kubeadm: "!MISSING! <name>") */
        bool read;           /* the certificate was read: the times are valid */
        time_t not_before, not_after;
        bool externally_managed; /* its CA (or, for a CA, itself) has no key: kubeadm's external CA mode */
        /* Where kubeadm stops with an error on this row (it prints no table then): -errno and what failed
         * (owned). The times may still be valid (read) when only the external-CA check failed. */
        int error;
        char *problem;
};

struct pki_expiration_info {
        struct pki_expiration *certs; /* sorted by name, as kubeadm lists them */
        size_t n_certs;
        struct pki_expiration *cas; /* "ca", "etcd-ca", "front-proxy-ca" (no etcd-ca with external etcd) */
        size_t n_cas;
};
void pki_expiration_info_done(struct pki_expiration_info *i);

/*
 * Reads every certificate and CA check-expiration lists, under root, from spec's cert_dir and
 * kubeconfig_dir, with or without etcd's (spec->external_etcd), as of now (NULL: the current time).
 * Absent files are rows marked missing; a file that cannot be read, or an external CA whose certificates
 * do not check out, is a row with an error (kubeadm fails there). -ENOMEM only.
 */
int pki_expiration_info(const char *root, const struct pki_node_spec *spec, const struct timespec *now,
                        struct pki_expiration_info *ret);

/* The row that expires first among the certificates and CAs that were read (ca_only: among the CAs);
 * NULL when none was. Borrowed from info. */
const struct pki_expiration *pki_expiration_nearest(const struct pki_expiration_info *info, bool ca_only);
