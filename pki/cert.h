/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 certificates exactly as kubeadm (Go's crypto/x509 under pkiutil) makes them: v3, a random serial
 * in [1, 2^63-1), subject O then CN, key usage digitalSignature|keyEncipherment (+keyCertSign for a CA,
 * critical), extended key usages in the given order, basic constraints (critical), a subject key id on
 * CAs (SHA-1 of the public key bits) and an authority key id on certificates the CA signs, then the SANs:
 * DNS names de-duplicated and sorted, IP addresses de-duplicated in their given order. SHA-256 signatures
 * (SHA-384 under a P-384 key), as Go picks them.
 */
#pragma once

#include <stdbool.h>
#include <time.h>
#include <openssl/x509.h>

enum {
        PKI_EKU_SERVER_AUTH = 1 << 0,
        PKI_EKU_CLIENT_AUTH = 1 << 1,
};

struct pki_cert_spec {
        const char *cn;
        const char *org; /* NULL: none */
        bool ca;
        unsigned eku;     /* PKI_EKU_*; server before client when both */
        char *const *dns; /* NULL-terminated or NULL */
        char *const *ips; /* textual addresses; NULL-terminated or NULL */
        time_t not_before, not_after;
};

/*
 * Issues a certificate for the public half of key. issuer NULL means self-signed by key; otherwise
 * issuer_key signs. -EINVAL for an invalid IP address or empty CN.
 */
int pki_cert_create(const struct pki_cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                    X509 **ret);

/* PEM "CERTIFICATE"; NUL-terminated. */
int pki_cert_to_pem(X509 *cert, char **ret, size_t *ret_len);
/* The first certificate in a PEM blob; -EBADMSG when there is none. */
int pki_cert_from_pem(const void *pem, size_t len, X509 **ret);

/* 0 when cert names ca as its issuer and ca's key verifies its signature; -EBADMSG otherwise. */
int pki_cert_issued_by(X509 *cert, X509 *ca);
/* 0 when now lies within the validity period, -ESTALE after it, -EAGAIN before it. */
int pki_cert_check_time(X509 *cert, time_t now);
int pki_cert_not_after(X509 *cert, time_t *ret);
/* The subject CN (owned by the caller); -ENOENT when there is none. */
int pki_cert_common_name(X509 *cert, char **ret);
bool pki_cert_is_ca(X509 *cert);

/*
 * Whether an existing certificate can stand for spec: same CN, CA flag, every wanted extended key usage
 * and every wanted SAN (more are fine, as kubeadm's own check allows). 0 or -EBADMSG with a short reason
 * in *ret_why (static text).
 */
int pki_cert_satisfies(X509 *cert, const struct pki_cert_spec *spec, const char **ret_why);

/* The fields kubeadm's renewal copies from a certificate it renews (renewal/manager.go certToConfig): the
 * subject CN and (first) O, the DNS and IP SANs in the certificate's order, the extended key usages. Owned;
 * -EBADMSG when there is no CN or a SAN cannot be read. */
struct pki_cert_fields {
        char *cn, *org;
        char **dns, **ips;
        unsigned eku;
};
int pki_cert_fields_read(X509 *cert, struct pki_cert_fields *ret);
void pki_cert_fields_done(struct pki_cert_fields *f);

/* "sha256:<hex>" of the DER SubjectPublicKeyInfo: kubeadm's --discovery-token-ca-cert-hash. */
int pki_cert_ca_pin(X509 *cert, char **ret);
/* 0 when pin ("sha256:" in any case, 64 hex digits) matches, -EPERM when not, -EINVAL when malformed. */
int pki_cert_ca_pin_check(X509 *cert, const char *pin);
