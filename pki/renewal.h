/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What 'kubeadm certs renew' does to a node's certificates (phases/certs/renewal: RenewUsingLocalCA with a
 * FileRenewer), for the rows 'certs check-expiration' lists (pki/expiry.h): every leaf certificate and the
 * client certificate of admin.conf, super-admin.conf, controller-manager.conf and scheduler.conf;
 * kubelet.conf is the kubelet's, and CAs are never renewed. Each renewed certificate gets a new key (of
 * the spec's key type, as kubeadm's NewPrivateKey(encryptionAlgorithm)), the old certificate's subject
 * CN and O, SANs and extended key usages, notBefore now - 5 min (kubeadm's CertificateBackdate), notAfter
 * now + the spec's certificate validity (now: spec->now, else this machine's clock, whose time TLS peers
 * check), a new serial, and is signed by the CA on disk. Kubeconfigs keep
 * everything but the three data fields. docs/design/self-healing.md §2 has the sources.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "pki/certlist.h"

enum pki_renewal_outcome {
        PKI_RENEWAL_RENEWED,
        PKI_RENEWAL_NOT_DUE,     /* more than the asked part of its lifetime is left */
        PKI_RENEWAL_MISSING,     /* no such file on this node (kubeadm: "MISSING! <name>") */
        PKI_RENEWAL_EXTERNAL_CA, /* its CA has no key here (kubeadm: "Detected external <ca>") */
};
const char *pki_renewal_outcome_to_string(enum pki_renewal_outcome o);

struct pki_renewal {
        char *name;          /* kubeadm's name: "apiserver", "admin.conf", ... */
        char *path;          /* the .crt or the kubeconfig */
        const char *ca_name; /* "ca", "etcd-ca", "front-proxy-ca" */
        enum pki_renewal_outcome outcome;
        time_t old_not_before, old_not_after;
        time_t new_not_after; /* RENEWED only */
};

struct pki_renewal_report {
        struct pki_renewal *items; /* in check-expiration's order (by name) */
        size_t n;
        size_t n_renewed;
        char error[320]; /* on failure: what and which file */
};
void pki_renewal_report_done(struct pki_renewal_report *r);

/* Whether a certificate valid from not_before to not_after has less than percent of its lifetime left at
 * now (percent >= 100: always). */
bool pki_renewal_due(time_t not_before, time_t not_after, time_t now, unsigned percent);

/*
 * Renews, under root, every certificate of spec that is due at now (the time decisions are made at; the
 * new certificates' validity starts at spec->now, else this machine's clock) (pki_renewal_due() with
 * percent; 100 renews all, as 'kubeadm certs renew all'). Every renewed key, certificate and kubeconfig is
 * written as one set: all or none. dry: decides and reports, writes nothing and makes no key. A file that
 * cannot be read, a CA that cannot sign, or a write that fails is an error with report->error naming the
 * file
 * (-EBADMSG, -ENOENT, -errno); nothing is written then. -ENOMEM.
 */
int pki_renew(const char *root, const struct pki_node_spec *spec, time_t now, unsigned percent, bool dry,
              struct pki_renewal_report *ret);
