/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private keys as kubeadm makes and writes them: RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256 and
 * ECDSA-P384 (ClusterConfiguration.encryptionAlgorithm). PEM blocks as Go's keyutil writes them: RSA as
 * PKCS#1 "RSA PRIVATE KEY", ECDSA as SEC1 "EC PRIVATE KEY", public keys as PKIX "PUBLIC KEY".
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

enum pki_key_type {
        PKI_KEY_RSA_2048,
        PKI_KEY_RSA_3072,
        PKI_KEY_RSA_4096,
        PKI_KEY_ECDSA_P256,
        PKI_KEY_ECDSA_P384,
        _PKI_KEY_TYPE_MAX,
        _PKI_KEY_TYPE_INVALID = -EINVAL,
};

/* "RSA-2048" ... "ECDSA-P384", kubeadm's spelling; NULL for an invalid type. */
const char *pki_key_type_to_string(enum pki_key_type t);
/* -EINVAL for anything but kubeadm's spellings. */
int pki_key_type_from_string(const char *s, enum pki_key_type *ret);
/* The type of an existing key; -EOPNOTSUPP for other algorithms, sizes and curves. */
int pki_key_type_of(const EVP_PKEY *key, enum pki_key_type *ret);

/* A fresh key from the default CSPRNG. */
int pki_key_generate(enum pki_key_type t, EVP_PKEY **ret);
/* Time spent in pki_key_generate() and the number of keys, since the process started (for the bench). */
void pki_key_generate_stats(uint64_t *ret_ns, unsigned *ret_count);

/* PEM text of the private key (NUL-terminated, length without the NUL); wipe with erase_and_free(). */
int pki_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len);
/* PEM "PUBLIC KEY" (PKIX SubjectPublicKeyInfo) of a key. */
int pki_public_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len);

/*
 * Parses the first private key PEM block ("RSA PRIVATE KEY", "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY",
 * unencrypted). -EBADMSG when there is none or it does not parse, -EOPNOTSUPP for key types kubeadm does
 * not use (only RSA and ECDSA are accepted).
 */
int pki_key_from_pem(const void *pem, size_t len, EVP_PKEY **ret);
/* Parses a "PUBLIC KEY" block. */
int pki_public_key_from_pem(const void *pem, size_t len, EVP_PKEY **ret);

/* Whether two keys hold the same public key (a private key matches its certificate's key). */
bool pki_key_public_equal(const EVP_PKEY *a, const EVP_PKEY *b);

/*
 * How kubeadm's download-certs (copycerts writeCertOrKey) files a PEM blob from the kubeadm-certs Secret.
 * It asks client-go's keyutil.ParsePublicKeysPEM first, which takes any block holding an RSA or ECDSA
 * private key, public key or certificate, and writes those with its key writer (mode 0600): so on a kubeadm
 * joiner ca.crt and sa.pub are 0600 too. Only certificates with other key types fall through to the
 * certificate writer (0644); anything else is "unknown data found in Secret entry".
 */
enum pki_pem_kind {
        PKI_PEM_KEY_MATERIAL, /* written 0600 */
        PKI_PEM_CERTIFICATES, /* written 0644 */
        PKI_PEM_UNKNOWN,
};
enum pki_pem_kind pki_pem_classify(const void *pem, size_t len);
