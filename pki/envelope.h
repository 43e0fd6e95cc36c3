/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kubeadm-certs Secret (kubeadm's upload-certs / download-certs, phases/copycerts): the shared CA
 * keys, the service-account key pair and the etcd CA, each file sealed on its own with AES-256-GCM under
 * the certificate key, stored as nonce(12) || ciphertext || tag(16), no additional data.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pki/token.h"

#define PKI_ENVELOPE_NONCE_SIZE 12
#define PKI_ENVELOPE_TAG_SIZE   16
/* No file in the Secret is anywhere near this; a cap for what comes from the cluster. */
#define PKI_SECRET_JSON_MAX (4u * 1024u * 1024u)

int pki_envelope_seal(const unsigned char key[PKI_CERT_KEY_SIZE], const void *plain, size_t len,
                      unsigned char **ret, size_t *ret_len);
/* -EBADMSG when the data is too short, was not sealed with this key, or was changed. *ret is wiped and
 * freed by the caller (erase_and_free). */
int pki_envelope_open(const unsigned char key[PKI_CERT_KEY_SIZE], const void *sealed, size_t len,
                      unsigned char **ret, size_t *ret_len);

/* External etcd client files (ClusterConfiguration etcd.external); NULL in pki_kubeadm_certs_*() for
 * local (stacked) etcd. */
struct pki_external_etcd {
        const char *ca_file, *cert_file, *key_file;
};

struct pki_secret_entry {
        const char *name; /* the Secret data key, e.g. "etcd-ca.crt" */
        char *path;       /* the node path, e.g. "/etc/kubernetes/pki/etcd/ca.crt"; NULL for an external
                           * etcd file whose path is not configured */
};

/* The Secret's entries for an etcd mode, in kubeadm's list order. Free with pki_secret_entries_free(). */
int pki_kubeadm_certs_entries(const char *cert_dir, const struct pki_external_etcd *ext,
                              struct pki_secret_entry **ret, size_t *ret_n);
void pki_secret_entries_free(struct pki_secret_entry *e, size_t n);

/*
 * The kubeadm-certs Secret as JSON (apiVersion, kind, metadata name/namespace, data), with the files
 * read under root. A missing file gets an empty value, as kubeadm does.
 */
int pki_kubeadm_certs_secret(const unsigned char key[PKI_CERT_KEY_SIZE], const char *root,
                             const char *cert_dir, const struct pki_external_etcd *ext, char **ret_json);

struct pki_secret_file {
        char *path; /* node path */
        unsigned char *data;
        size_t len;
        mode_t mode; /* as kubeadm: 0600 for RSA/ECDSA keys, public keys and certificates; 0644 for
                      * certificates with other key types (see pki_pem_classify()) */
};

/*
 * Opens every entry of a kubeadm-certs Secret (JSON as the API returns it). All or nothing: -ENOENT when an
 * entry is missing (its name in *ret_missing when given), -EBADMSG when one does not decrypt or holds
 * neither a key nor certificates, -EINVAL for JSON that is not such a Secret. Empty entries are skipped.
 */
int pki_kubeadm_certs_open(const unsigned char key[PKI_CERT_KEY_SIZE], const char *json, size_t len,
                           const char *cert_dir, const struct pki_external_etcd *ext,
                           struct pki_secret_file **ret, size_t *ret_n, const char **ret_failed);
/* Writes the opened files under root with their modes, all or nothing (a write set: on a failure no file of
 * the set is left, and files it would have replaced are as they were). *ret_failed (optional, owned by the
 * caller) names the file a failure was about. */
int pki_secret_files_install(const char *root, const struct pki_secret_file *f, size_t n, char **ret_failed);
/* The same without the file name. */
int pki_secret_files_write(const char *root, const struct pki_secret_file *f, size_t n);
void pki_secret_files_free(struct pki_secret_file *f, size_t n);
