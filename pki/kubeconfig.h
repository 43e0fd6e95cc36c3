/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig files as kubeadm writes them (client-go clientcmd.Write: one cluster, one context named
 * <user>@<cluster>, one user with embedded client certificate and key), and the parts of an existing one
 * that decide whether to keep it. */
#pragma once

#include <stddef.h>

int pki_kubeconfig_render(const char *server, const char *cluster, const char *user, const char *ca_pem,
                          const char *cert_pem, const char *key_pem, char **ret);

/* The current context's cluster and user, or without a context the only cluster (cluster-info's
 * kubeconfig). Decoded *-data fields; NULL when absent. */
struct pki_kubeconfig {
        char *server;
        char *ca_pem;
        size_t ca_len;
        char *cert_pem;
        size_t cert_len;
        char *key_pem; /* secret: wiped by pki_kubeconfig_done() */
        size_t key_len;
        char *cert_file, *key_file; /* client-certificate / client-key paths */
};
/* -EBADMSG when the YAML is not a kubeconfig with a current context, or its data fields are not base64. */
int pki_kubeconfig_parse(const char *yaml, size_t len, struct pki_kubeconfig *ret);
void pki_kubeconfig_done(struct pki_kubeconfig *k);

/* A kubeconfig with new credentials, as kubeadm's renewal writes it (kubeConfigReadWriter.Write): the
 * current context's user gets cert and key, its cluster the CA; all else is kept. A file in kubeadm's own
 * shape is written as pki_kubeconfig_render() writes it. -EBADMSG when there is no current context with
 * its cluster, server and user. *ret owned by the caller (holds the key: wipe it). */
int pki_kubeconfig_renew(const char *yaml, size_t len, const char *ca_pem, const char *cert_pem,
                         const char *key_pem, char **ret);
