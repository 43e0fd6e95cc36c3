/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/encoding.h"
#include "pki/key.h"

static const char *const key_type_names[_PKI_KEY_TYPE_MAX] = {
        [PKI_KEY_RSA_2048] = "RSA-2048",     [PKI_KEY_RSA_3072] = "RSA-3072",
        [PKI_KEY_RSA_4096] = "RSA-4096",     [PKI_KEY_ECDSA_P256] = "ECDSA-P256",
        [PKI_KEY_ECDSA_P384] = "ECDSA-P384",
};

const char *pki_key_type_to_string(enum pki_key_type t) {
        return t >= 0 && t < _PKI_KEY_TYPE_MAX ? key_type_names[t] : NULL;
}

int pki_key_type_from_string(const char *s, enum pki_key_type *ret) {
        for (int t = 0; t < _PKI_KEY_TYPE_MAX; t++)
                if (s && streq(s, key_type_names[t])) {
                        *ret = (enum pki_key_type) t;
                        return 0;
                }
        return -EINVAL;
}

int pki_key_type_of(const EVP_PKEY *key, enum pki_key_type *ret) {
        if (EVP_PKEY_is_a(key, "RSA")) {
                switch (EVP_PKEY_get_bits(key)) {
                case 2048:
                        *ret = PKI_KEY_RSA_2048;
                        return 0;
                case 3072:
                        *ret = PKI_KEY_RSA_3072;
                        return 0;
                case 4096:
                        *ret = PKI_KEY_RSA_4096;
                        return 0;
                }
                return -EOPNOTSUPP;
        }
        if (EVP_PKEY_is_a(key, "EC")) {
                char group[64];
                if (!EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
                        return -EOPNOTSUPP;
                if (streq(group, "prime256v1") || streq(group, "P-256")) {
                        *ret = PKI_KEY_ECDSA_P256;
                        return 0;
                }
                if (streq(group, "secp384r1") || streq(group, "P-384")) {
                        *ret = PKI_KEY_ECDSA_P384;
                        return 0;
                }
        }
        return -EOPNOTSUPP;
}

static uint64_t keygen_ns;
static unsigned keygen_count;

void pki_key_generate_stats(uint64_t *ret_ns, unsigned *ret_count) {
        *ret_ns = keygen_ns;
        *ret_count = keygen_count;
}

int pki_key_generate(enum pki_key_type t, EVP_PKEY **ret) {
        uint64_t start = clock_now_ns();
        EVP_PKEY *k;

        switch (t) {
        case PKI_KEY_RSA_2048:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
                break;
        case PKI_KEY_RSA_3072:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
                break;
        case PKI_KEY_RSA_4096:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 4096);
                break;
        case PKI_KEY_ECDSA_P256:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case PKI_KEY_ECDSA_P384:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
                break;
        default:
                return -EINVAL;
        }
        if (!k) {
                ERR_clear_error();
                return log_debug_errno(EIO, "Generating a %s key failed.", pki_key_type_to_string(t));
        }
        keygen_ns += clock_now_ns() - start;
        keygen_count++;
        *ret = k;
        return 0;
}

int pki_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len) {
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new(BIO_s_secmem());

        if (!bio)
                return -ENOMEM;
        /* "Traditional" is exactly Go's choice: PKCS#1 for RSA, SEC1 (named curve, with the public point)
         * for ECDSA. */
        if (!PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL)) {
                ERR_clear_error();
                return -EIO;
        }
        return pki_bio_take_string(bio, ret, ret_len);
}

int pki_public_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len) {
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new(BIO_s_mem());

        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PUBKEY(bio, key)) {
                ERR_clear_error();
                return -EIO;
        }
        return pki_bio_take_string(bio, ret, ret_len);
}

/* Never prompt for a pass phrase: an encrypted key is simply not a key we can use. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
        (void) buf, (void) size, (void) rwflag, (void) u;
        return -1;
}

int pki_key_from_pem(const void *pem, size_t len, EVP_PKEY **ret) {
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;

        if (len > INT32_MAX)
                return -EFBIG;
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return -ENOMEM;
        k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        ERR_clear_error();
        if (!k)
                return -EBADMSG;
        if (!EVP_PKEY_is_a(k, "RSA") && !EVP_PKEY_is_a(k, "EC"))
                return -EOPNOTSUPP;
        *ret = TAKE_PTR(k);
        return 0;
}

int pki_public_key_from_pem(const void *pem, size_t len, EVP_PKEY **ret) {
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        EVP_PKEY *k;

        if (len > INT32_MAX)
                return -EFBIG;
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return -ENOMEM;
        k = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        ERR_clear_error();
        if (!k)
                return -EBADMSG;
        *ret = k;
        return 0;
}

bool pki_key_public_equal(const EVP_PKEY *a, const EVP_PKEY *b) {
        int r = EVP_PKEY_eq(a, b);
        ERR_clear_error();
        return r == 1;
}

/* One DER block as keyutil's parse{RSA,EC}{Private,Public}Key see it: an RSA or ECDSA private key, public
 * key, or certificate public key. Block names are not looked at, as in Go. */
static bool der_is_key_material(const unsigned char *der, long n, bool *ret_cert) {
        const unsigned char *p = der;
        EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, n);
        X509 *x = NULL;
        bool ok = false;

        *ret_cert = false;
        if (!k) {
                p = der;
                k = d2i_PUBKEY(NULL, &p, n);
        }
        if (!k) {
                p = der;
                x = d2i_X509(NULL, &p, n);
                if (x) {
                        *ret_cert = true;
                        k = X509_get_pubkey(x);
                }
        }
        ok = k && (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "EC"));
        EVP_PKEY_free(k);
        X509_free(x);
        ERR_clear_error();
        return ok;
}

enum pki_pem_kind pki_pem_classify(const void *pem, size_t len) {
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        bool key_material = false, certs = false;

        if (len > INT32_MAX)
                return PKI_PEM_UNKNOWN;
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return PKI_PEM_UNKNOWN;
        for (;;) {
                char *name = NULL, *header = NULL;
                unsigned char *data = NULL;
                long n = 0;
                bool is_cert;

                if (!PEM_read_bio(bio, &name, &header, &data, &n))
                        break;
                if (der_is_key_material(data, n, &is_cert))
                        key_material = true;
                else if (streq(name, "CERTIFICATE") && isempty(header) && is_cert)
                        certs = true; /* a certificate with another key type */
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(data);
        }
        ERR_clear_error();
        return key_material ? PKI_PEM_KEY_MATERIAL : certs ? PKI_PEM_CERTIFICATES : PKI_PEM_UNKNOWN;
}
