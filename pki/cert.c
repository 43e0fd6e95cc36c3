/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/encoding.h"

DEFINE_POINTER_CLEANUP(GENERAL_NAME, GENERAL_NAME_free)

/* Go: uniform in [0, 2^63-2) plus one, i.e. uniform in [1, 2^63-1). */
static int random_serial(ASN1_INTEGER **ret) {
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        uint64_t v;

        do {
                if (RAND_bytes((unsigned char *) &v, sizeof(v)) != 1) {
                        ERR_clear_error();
                        return -EIO;
                }
                v &= INT64_MAX;
        } while (v >= (uint64_t) INT64_MAX - 1);
        v += 1;

        unsigned char be[8];
        for (int i = 0; i < 8; i++)
                be[i] = (unsigned char) (v >> (56 - 8 * i));
        bn = BN_bin2bn(be, sizeof(be), NULL);
        if (!bn)
                return -ENOMEM;
        *ret = BN_to_ASN1_INTEGER(bn, NULL);
        return *ret ? 0 : -ENOMEM;
}

/* Go writes PrintableString when every character allows it, UTF8String otherwise. */
static bool printable(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr(" '()+,-./:=?", *s)))
                        return false;
        return true;
}

static int name_add(X509_NAME *name, int nid, const char *value) {
        int type = printable(value) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
        if (!X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *) value, -1, -1, 0))
                return -ENOMEM;
        return 0;
}

/* An address in its SAN form: 4 bytes for IPv4 (also IPv4-mapped IPv6, as Go's To4()), else 16. */
static int ip_parse(const char *s, unsigned char out[16], int *ret_len) {
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (inet_pton(AF_INET, s, out) == 1) {
                *ret_len = 4;
                return 0;
        }
        if (inet_pton(AF_INET6, s, out) == 1) {
                if (memcmp(out, v4mapped, 12) == 0) {
                        memmove(out, out + 12, 4);
                        memset(out + 4, 0, 12);
                        *ret_len = 4;
                } else
                        *ret_len = 16;
                return 0;
        }
        return -EINVAL;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int add_general_name(GENERAL_NAMES *names, int type, const void *data, int len) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *s = ASN1_STRING_type_new(type == GEN_DNS ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING);

        if (!gn || !s || !ASN1_STRING_set(s, data, len)) {
                ASN1_STRING_free(s);
                return -ENOMEM;
        }
        GENERAL_NAME_set0_value(gn, type, s);
        if (!sk_GENERAL_NAME_push(names, gn))
                return -ENOMEM;
        gn = NULL;
        return 0;
}

static int build_sans(const struct pki_cert_spec *spec, GENERAL_NAMES **ret) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
        _cleanup_free_ char **dns = NULL;
        size_t n_dns = spec->dns ? strv_length(spec->dns) : 0;
        size_t n_ips = spec->ips ? strv_length(spec->ips) : 0;
        _cleanup_free_ unsigned char(*ips)[17] = NULL;
        size_t n_unique = 0;
        int r;

        if (!names)
                return -ENOMEM;
        if (n_dns > 0) {
                dns = malloc(sizeof(char *) * n_dns);
                if (!dns)
                        return -ENOMEM;
                memcpy(dns, spec->dns, sizeof(char *) * n_dns);
                qsort(dns, n_dns, sizeof(char *), cmp_str);
                for (size_t i = 0; i < n_dns; i++) {
                        if (i > 0 && streq(dns[i], dns[i - 1]))
                                continue;
                        r = add_general_name(names, GEN_DNS, dns[i], (int) strlen(dns[i]));
                        if (r < 0)
                                return r;
                }
        }
        if (n_ips > 0) {
                ips = calloc(n_ips, sizeof(*ips));
                if (!ips)
                        return -ENOMEM;
                for (size_t i = 0; i < n_ips; i++) {
                        unsigned char a[17] = {};
                        int len;
                        bool seen = false;
                        if (ip_parse(spec->ips[i], a + 1, &len) < 0)
                                return log_debug_errno(EINVAL, "'%s' is not an IP address.", spec->ips[i]);
                        a[0] = (unsigned char) len;
                        for (size_t j = 0; j < n_unique && !seen; j++)
                                seen = memcmp(ips[j], a, sizeof(a)) == 0;
                        if (seen)
                                continue;
                        memcpy(ips[n_unique++], a, sizeof(a));
                        r = add_general_name(names, GEN_IPADD, a + 1, len);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
        X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
        int ok;
        if (!ext) {
                ERR_clear_error();
                return -EINVAL;
        }
        ok = X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        return ok ? 0 : -ENOMEM;
}

/* RFC 5280 method 1, what Go (before 1.25) and OpenSSL's "hash" use: SHA-1 of the public key bits. */
static int key_id(X509 *x, ASN1_OCTET_STRING **ret) {
        const unsigned char *pk;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len;
        int pk_len;
        ASN1_OCTET_STRING *o;

        if (!X509_PUBKEY_get0_param(NULL, &pk, &pk_len, NULL, X509_get_X509_PUBKEY(x)) ||
            !EVP_Digest(pk, (size_t) pk_len, md, &md_len, EVP_sha1(), NULL)) {
                ERR_clear_error();
                return -EIO;
        }
        o = ASN1_OCTET_STRING_new();
        if (!o || !ASN1_OCTET_STRING_set(o, md, (int) md_len)) {
                ASN1_OCTET_STRING_free(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

static const EVP_MD *digest_for(EVP_PKEY *signer) {
        return EVP_PKEY_is_a(signer, "EC") && EVP_PKEY_get_bits(signer) > 256 ? EVP_sha384() : EVP_sha256();
}

int pki_cert_create(const struct pki_cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                    X509 **ret) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *serial = NULL;
        _cleanup_(X509_NAME_freep) X509_NAME *subject = X509_NAME_new();
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        X509V3_CTX ctx;
        int r;

        if (!x || !subject)
                return -ENOMEM;
        if (isempty(spec->cn))
                return -EINVAL;
        if (!issuer)
                issuer_key = key;

        r = random_serial(&serial);
        if (r < 0)
                return r;
        if (spec->org && (r = name_add(subject, NID_organizationName, spec->org)) < 0)
                return r;
        r = name_add(subject, NID_commonName, spec->cn);
        if (r < 0)
                return r;
        if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
            !X509_set_subject_name(x, subject) ||
            !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) ||
            !ASN1_TIME_set(X509_getm_notBefore(x), spec->not_before) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), spec->not_after) || !X509_set_pubkey(x, key))
                return -ENOMEM;

        /* Extensions in the order Go writes them. */
        X509V3_set_ctx(&ctx, issuer ?: x, x, NULL, NULL, 0);
        r = add_ext_conf(x, &ctx, NID_key_usage,
                         spec->ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                                  : "critical,digitalSignature,keyEncipherment");
        if (r < 0)
                return r;
        if (spec->eku) {
                const char *eku = (spec->eku & PKI_EKU_SERVER_AUTH) && (spec->eku & PKI_EKU_CLIENT_AUTH)
                                          ? "serverAuth,clientAuth"
                                  : spec->eku & PKI_EKU_SERVER_AUTH ? "serverAuth"
                                                                    : "clientAuth";
                r = add_ext_conf(x, &ctx, NID_ext_key_usage, eku);
                if (r < 0)
                        return r;
        }
        r = add_ext_conf(x, &ctx, NID_basic_constraints,
                         spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (r < 0)
                return r;
        if (spec->ca) {
                _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *skid = NULL;
                r = key_id(x, &skid);
                if (r < 0)
                        return r;
                if (!X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT))
                        return -ENOMEM;
        }
        /* Go copies the issuer's subject key id, when it has one, into every certificate it signs. */
        const ASN1_OCTET_STRING *issuer_skid = issuer ? X509_get0_subject_key_id(issuer) : NULL;
        if (issuer_skid) {
                _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
                if (!akid || !(akid->keyid = ASN1_OCTET_STRING_dup(issuer_skid)))
                        return -ENOMEM;
                if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
                        return -ENOMEM;
        }
        r = build_sans(spec, &sans);
        if (r < 0)
                return r;
        if (sk_GENERAL_NAME_num(sans) > 0 &&
            !X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT))
                return -ENOMEM;

        if (X509_sign(x, issuer_key, digest_for(issuer_key)) <= 0) {
                ERR_clear_error();
                return log_debug_errno(EIO, "Signing the '%s' certificate failed.", spec->cn);
        }
        *ret = TAKE_PTR(x);
        return 0;
}

int pki_cert_to_pem(X509 *cert, char **ret, size_t *ret_len) {
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new(BIO_s_mem());

        if (!bio || !PEM_write_bio_X509(bio, cert))
                return -ENOMEM;
        return pki_bio_take_string(bio, ret, ret_len);
}

int pki_cert_from_pem(const void *pem, size_t len, X509 **ret) {
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        X509 *x;

        if (len > INT32_MAX)
                return -EFBIG;
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return -ENOMEM;
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        ERR_clear_error();
        if (!x)
                return -EBADMSG;
        *ret = x;
        return 0;
}

int pki_cert_issued_by(X509 *cert, X509 *ca) {
        EVP_PKEY *pub;
        int ok;

        if (X509_check_issued(ca, cert) != X509_V_OK)
                return -EBADMSG;
        pub = X509_get0_pubkey(ca);
        ok = pub && X509_verify(cert, pub) == 1;
        ERR_clear_error();
        return ok ? 0 : -EBADMSG;
}

int pki_cert_check_time(X509 *cert, time_t now) {
        if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0)
                return -EAGAIN;
        if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0)
                return -ESTALE;
        return 0;
}

int pki_cert_not_after(X509 *cert, time_t *ret) {
        struct tm tm = {};
        if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

/* The first subject attribute nid as UTF-8 text; -ENOENT when the subject has none. */
static int subject_field(X509 *cert, int nid, char **ret) {
        X509_NAME *name = X509_get_subject_name(cert);
        int i = X509_NAME_get_index_by_NID(name, nid, -1);
        unsigned char *utf8 = NULL;
        char *s;
        int n;

        if (i < 0)
                return -ENOENT;
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (n < 0)
                return -EBADMSG;
        s = strndup((const char *) utf8, (size_t) n);
        OPENSSL_free(utf8);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int pki_cert_common_name(X509 *cert, char **ret) {
        return subject_field(cert, NID_commonName, ret);
}

bool pki_cert_is_ca(X509 *cert) {
        return X509_check_ca(cert) == 1;
}

static bool has_san(GENERAL_NAMES *names, int type, const void *data, int len) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
                int t;
                ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &t);
                if (t != type || !s || ASN1_STRING_length(s) != len)
                        continue;
                if (type == GEN_DNS
                            ? strncasecmp((const char *) ASN1_STRING_get0_data(s), data, (size_t) len) == 0
                            : memcmp(ASN1_STRING_get0_data(s), data, (size_t) len) == 0)
                        return true;
        }
        return false;
}

int pki_cert_satisfies(X509 *cert, const struct pki_cert_spec *spec, const char **ret_why) {
        _cleanup_free_ char *cn = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = NULL;
        const char *why = NULL;

        if (pki_cert_common_name(cert, &cn) < 0 || !streq(cn, spec->cn))
                why = "its common name differs";
        else if (pki_cert_is_ca(cert) != spec->ca)
                why = spec->ca ? "it is not a CA" : "it is a CA";
        else if (spec->eku) {
                uint32_t xku = X509_get_extended_key_usage(cert);
                if (((spec->eku & PKI_EKU_SERVER_AUTH) && !(xku & XKU_SSL_SERVER)) ||
                    ((spec->eku & PKI_EKU_CLIENT_AUTH) && !(xku & XKU_SSL_CLIENT)))
                        why = "it lacks an extended key usage";
        }
        if (!why) {
                names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
                for (char *const *d = spec->dns; !why && d && *d; d++)
                        if (!names || !has_san(names, GEN_DNS, *d, (int) strlen(*d)))
                                why = "a DNS name is missing from its SANs";
                for (char *const *p = spec->ips; !why && p && *p; p++) {
                        unsigned char a[16];
                        int len;
                        if (ip_parse(*p, a, &len) < 0 || !names || !has_san(names, GEN_IPADD, a, len))
                                why = "an IP address is missing from its SANs";
                }
        }
        ERR_clear_error();
        if (why) {
                if (ret_why)
                        *ret_why = why;
                return -EBADMSG;
        }
        return 0;
}

static int spki_sha256(X509 *cert, unsigned char md[32]) {
        unsigned char *der = NULL;
        unsigned int md_len;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
        int ok = n > 0 && EVP_Digest(der, (size_t) n, md, &md_len, EVP_sha256(), NULL);

        OPENSSL_free(der);
        ERR_clear_error();
        return ok ? 0 : -EIO;
}

int pki_cert_ca_pin(X509 *cert, char **ret) {
        unsigned char md[32];
        _cleanup_free_ char *hex = NULL;
        int r = spki_sha256(cert, md);

        if (r < 0)
                return r;
        hex = hex_encode(md, sizeof(md));
        if (!hex)
                return -ENOMEM;
        *ret = strdupf("sha256:%s", hex);
        return *ret ? 0 : -ENOMEM;
}

int pki_cert_ca_pin_check(X509 *cert, const char *pin) {
        _cleanup_free_ void *want = NULL;
        unsigned char md[32];
        size_t n;
        int r;

        if (!pin || strncasecmp(pin, "sha256:", 7) != 0)
                return -EINVAL;
        r = hex_decode(pin + 7, strlen(pin + 7), &want, &n);
        if (r < 0 || n != sizeof(md))
                return -EINVAL;
        r = spki_sha256(cert, md);
        if (r < 0)
                return r;
        return memeq_const_time(md, want, sizeof(md)) ? 0 : -EPERM;
}

void pki_cert_fields_done(struct pki_cert_fields *f) {
        free(f->cn);
        free(f->org);
        strv_free(f->dns);
        strv_free(f->ips);
        *f = (struct pki_cert_fields){};
}

/* The SANs of one type as text, in the certificate's order. */
static int san_texts(GENERAL_NAMES *names, int type, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
                int t;
                ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &t);
                const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
                int len = s ? ASN1_STRING_length(s) : 0;
                char buf[INET6_ADDRSTRLEN];
                _cleanup_free_ char *text = NULL;

                if (t != type || !d)
                        continue;
                if (type == GEN_DNS)
                        text = strndup((const char *) d, (size_t) len);
                else if (len == 4 || len == 16) {
                        if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, d, buf, sizeof(buf)))
                                return -EBADMSG;
                        text = strdup(buf);
                } else
                        return -EBADMSG;
                if (!text || strv_consume(&l, TAKE_PTR(text)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pki_cert_fields_read(X509 *cert, struct pki_cert_fields *ret) {
        _cleanup_(pki_cert_fields_done) struct pki_cert_fields f = {};
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = NULL;
        int r;

        r = subject_field(cert, NID_commonName, &f.cn);
        if (r == -ENOENT)
                return -EBADMSG;
        if (r >= 0)
                r = subject_field(cert, NID_organizationName, &f.org);
        if (r < 0 && r != -ENOENT)
                return r;
        names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        if (names &&
            ((r = san_texts(names, GEN_DNS, &f.dns)) < 0 || (r = san_texts(names, GEN_IPADD, &f.ips)) < 0))
                return r;
        uint32_t xku = X509_get_extended_key_usage(cert);
        if (xku != UINT32_MAX) {
                if (xku & XKU_SSL_SERVER)
                        f.eku |= PKI_EKU_SERVER_AUTH;
                if (xku & XKU_SSL_CLIENT)
                        f.eku |= PKI_EKU_CLIENT_AUTH;
        }
        ERR_clear_error();
        *ret = f;
        f = (struct pki_cert_fields){};
        return 0;
}
