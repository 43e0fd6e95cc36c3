/* SPDX-License-Identifier: Apache-2.0 */
/* PEM from disk or from the kubeadm-certs Secret: private keys, public keys, certificates, and the checks
 * run on what parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "pki/cert.h"
#include "pki/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *pub = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        enum pki_key_type t;

        if (size > 64 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        (void) pki_pem_classify(data, size);
        if (pki_key_from_pem(data, size, &key) >= 0) {
                _cleanup_(erase_and_freep) char *pem = NULL;
                (void) pki_key_type_of(key, &t);
                /* What parses must write out and read back as the same key. */
                if (pki_key_to_pem(key, &pem, NULL) >= 0) {
                        _cleanup_(EVP_PKEY_freep) EVP_PKEY *again = NULL;
                        if (pki_key_from_pem(pem, strlen(pem), &again) < 0 ||
                            !pki_key_public_equal(key, again))
                                abort();
                }
        }
        (void) pki_public_key_from_pem(data, size, &pub);
        if (pki_cert_from_pem(data, size, &cert) >= 0) {
                _cleanup_free_ char *cn = NULL, *pin = NULL;
                time_t na;
                char *dns[] = {"kubernetes", NULL}, *ips[] = {"10.96.0.1", "::1", NULL};
                struct pki_cert_spec spec = {
                        .cn = "kube-apiserver", .eku = PKI_EKU_SERVER_AUTH, .dns = dns, .ips = ips};
                const char *why;

                (void) pki_cert_common_name(cert, &cn);
                (void) pki_cert_not_after(cert, &na);
                (void) pki_cert_check_time(cert, 1700000000);
                (void) pki_cert_is_ca(cert);
                (void) pki_cert_satisfies(cert, &spec, &why);
                (void) pki_cert_issued_by(cert, cert);
                if (pki_cert_ca_pin(cert, &pin) >= 0 && pki_cert_ca_pin_check(cert, pin) != 0)
                        abort();
                if (key)
                        (void) pki_key_public_equal(key, X509_get0_pubkey(cert));
        }
        return 0;
}
