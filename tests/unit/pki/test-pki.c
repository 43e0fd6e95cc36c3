/* SPDX-License-Identifier: Apache-2.0 */
/* pki/ primitives: base64, keys, certificates, CA pins, tokens, JWS, the kubeadm-certs envelope. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "pki/cert.h"
#include "pki/encoding.h"
#include "pki/envelope.h"
#include "pki/key.h"
#include "pki/token.h"
#include "tests/unit/unit.h"

static void test_base64(void **state) {
        static const char *const vec[][2] = {{"", ""},
                                             {"f", "Zg=="},
                                             {"fo", "Zm8="},
                                             {"foo", "Zm9v"},
                                             {"foob", "Zm9vYg=="},
                                             {"fooba", "Zm9vYmE="},
                                             {"foobar", "Zm9vYmFy"}};
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(vec); i++) {
                _cleanup_free_ char *e = base64_encode(vec[i][0], strlen(vec[i][0]));
                _cleanup_free_ void *d = NULL;
                size_t n;
                assert_string_equal(e, vec[i][1]);
                assert_int_equal(pki_base64_decode(e, strlen(e), &d, &n), 0);
                assert_int_equal(n, strlen(vec[i][0]));
                assert_memory_equal(d, vec[i][0], n);
        }
        /* URL-safe, unpadded: 0xfb 0xff -> "-_8" */
        _cleanup_free_ char *u = base64url_encode("\xfb\xff", 2);
        assert_string_equal(u, "-_8");

        void *d = NULL;
        size_t n;
        assert_int_equal(pki_base64_decode("Zg=", 3, &d, &n), -EINVAL);
        assert_int_equal(pki_base64_decode("Z===", 4, &d, &n), -EINVAL);
        assert_int_equal(pki_base64_decode("Zh==", 4, &d, &n), -EINVAL); /* stray bits under padding */
        assert_int_equal(pki_base64_decode("Zg==Zg==", 8, &d, &n), -EINVAL);
        assert_int_equal(pki_base64_decode("Zm9v\n", 5, &d, &n), 0); /* a trailing newline is fine */
        free(d);
        assert_int_equal(pki_base64_decode("Zm 9", 4, &d, &n), -EINVAL);
        assert_int_equal(pki_base64_decode("-_8=", 4, &d, &n), -EINVAL); /* not the URL alphabet */
}

static void check_key_type(enum pki_key_type t, const char *pem_type) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL, *back = NULL, *pub = NULL;
        _cleanup_erase_ char *pem = NULL;
        _cleanup_free_ char *pub_pem = NULL;
        enum pki_key_type got;
        size_t len, plen;

        assert_int_equal(pki_key_generate(t, &k), 0);
        assert_int_equal(pki_key_type_of(k, &got), 0);
        assert_int_equal(got, t);
        assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
        assert_int_equal(strlen(pem), len);
        assert_non_null(startswith(pem, pem_type));
        assert_int_equal(pki_key_from_pem(pem, len, &back), 0);
        assert_true(pki_key_public_equal(k, back));
        assert_int_equal(pki_pem_classify(pem, len), PKI_PEM_KEY_MATERIAL);

        assert_int_equal(pki_public_key_to_pem(k, &pub_pem, &plen), 0);
        assert_non_null(startswith(pub_pem, "-----BEGIN PUBLIC KEY-----\n"));
        assert_int_equal(pki_public_key_from_pem(pub_pem, plen, &pub), 0);
        assert_true(pki_key_public_equal(k, pub));
        assert_int_equal(pki_pem_classify(pub_pem, plen), PKI_PEM_KEY_MATERIAL);
}

static void test_keys(void **state) {
        enum pki_key_type t;
        (void) state;
        check_key_type(PKI_KEY_RSA_2048, "-----BEGIN RSA PRIVATE KEY-----\n");
        check_key_type(PKI_KEY_ECDSA_P256, "-----BEGIN EC PRIVATE KEY-----\n");
        check_key_type(PKI_KEY_ECDSA_P384, "-----BEGIN EC PRIVATE KEY-----\n");
        check_key_type(PKI_KEY_RSA_3072, "-----BEGIN RSA PRIVATE KEY-----\n");
        check_key_type(PKI_KEY_RSA_4096, "-----BEGIN RSA PRIVATE KEY-----\n");

        assert_int_equal(pki_key_type_from_string("RSA-4096", &t), 0);
        assert_int_equal(t, PKI_KEY_RSA_4096);
        assert_int_equal(pki_key_type_from_string("ECDSA-P256", &t), 0);
        assert_int_equal(t, PKI_KEY_ECDSA_P256);
        assert_int_equal(pki_key_type_from_string("rsa-2048", &t), -EINVAL);
        assert_int_equal(pki_key_type_from_string("ECDSA-P521", &t), -EINVAL);
        assert_string_equal(pki_key_type_to_string(PKI_KEY_RSA_3072), "RSA-3072");
        assert_null(pki_key_type_to_string(_PKI_KEY_TYPE_MAX));
}

static void test_key_pem_rejects(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL, *ed = NULL, *back = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        long n;
        (void) state;

        assert_int_equal(pki_key_from_pem("garbage", 7, &back), -EBADMSG);
        assert_int_equal(pki_pem_classify("garbage", 7), PKI_PEM_UNKNOWN);
        /* An encrypted key is refused without prompting for a pass phrase. */
        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &k), 0);
        assert_true(PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(), "pw", 2, NULL, NULL));
        n = BIO_get_mem_data(bio, &data);
        assert_int_equal(pki_key_from_pem(data, (size_t) n, &back), -EBADMSG);
        /* Ed25519 parses but kubeadm does not use it. */
        (void) BIO_reset(bio);
        ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(ed);
        assert_true(PEM_write_bio_PrivateKey(bio, ed, NULL, NULL, 0, NULL, NULL));
        n = BIO_get_mem_data(bio, &data);
        assert_int_equal(pki_key_from_pem(data, (size_t) n, &back), -EOPNOTSUPP);
        /* kubeadm's download-certs has no place for an Ed25519 key ... */
        assert_int_equal(pki_pem_classify(data, (size_t) n), PKI_PEM_UNKNOWN);
        /* ... but writes a certificate with such a key with its certificate writer. */
        _cleanup_(X509_freep) X509 *edcert = X509_new();
        assert_non_null(edcert);
        assert_true(X509_set_pubkey(edcert, ed));
        assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(edcert), "CN", MBSTRING_ASC,
                                               (const unsigned char *) "ed", -1, -1, 0));
        assert_true(X509_set_issuer_name(edcert, X509_get_subject_name(edcert)));
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(edcert), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(edcert), 3600));
        assert_true(X509_sign(edcert, ed, NULL) > 0);
        (void) BIO_reset(bio);
        assert_true(PEM_write_bio_X509(bio, edcert));
        n = BIO_get_mem_data(bio, &data);
        assert_int_equal(pki_pem_classify(data, (size_t) n), PKI_PEM_CERTIFICATES);
        /* PKCS#8 "PRIVATE KEY" is accepted, as Go's keyutil does. */
        (void) BIO_reset(bio);
        assert_true(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL));
        n = BIO_get_mem_data(bio, &data);
        assert_int_equal(pki_key_from_pem(data, (size_t) n, &back), 0);
        assert_true(pki_key_public_equal(k, back));
}

static X509 *make_ca(EVP_PKEY *key, const char *cn, time_t now) {
        X509 *x = NULL;
        struct pki_cert_spec s = {.cn = cn,
                                  .ca = true,
                                  .dns = (char *[]){(char *) cn, NULL},
                                  .not_before = now - 300,
                                  .not_after = now + 3600};
        assert_int_equal(pki_cert_create(&s, key, NULL, NULL, &x), 0);
        return x;
}

static void test_cert_ca_and_leaf(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL, *key = NULL, *other_key = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL, *leaf = NULL, *other = NULL, *back = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = NULL;
        _cleanup_free_ char *pem = NULL, *cn = NULL;
        time_t now = time(NULL), na;
        const char *why = NULL;
        size_t len;
        (void) state;

        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &ca_key), 0);
        assert_int_equal(pki_key_generate(PKI_KEY_RSA_2048, &key), 0);
        ca = make_ca(ca_key, "kubernetes", now);
        assert_true(pki_cert_is_ca(ca));
        assert_non_null(X509_get0_subject_key_id(ca));
        assert_null(X509_get0_authority_key_id(ca)); /* self-signed: Go writes no AKID */
        assert_int_equal(X509_get_key_usage(ca),
                         KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_CERT_SIGN);

        char *dns[] = {"node-b", "kubernetes", "node-b", "Kubernetes.default", NULL};
        char *ips[] = {"10.96.0.1", "192.168.1.10", "::ffff:10.96.0.1", "fd00::1", "192.168.1.10", NULL};
        struct pki_cert_spec s = {.cn = "kube-apiserver",
                                  .org = "kubeadm:cluster-admins",
                                  .eku = PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH,
                                  .dns = dns,
                                  .ips = ips,
                                  .not_before = now - 300,
                                  .not_after = now + 86400};
        assert_int_equal(pki_cert_create(&s, key, ca, ca_key, &leaf), 0);
        assert_false(pki_cert_is_ca(leaf));
        assert_int_equal(pki_cert_issued_by(leaf, ca), 0);
        assert_int_equal(pki_cert_check_time(leaf, now), 0);
        assert_int_equal(pki_cert_check_time(leaf, now + 2 * 86400), -ESTALE);
        assert_int_equal(pki_cert_check_time(leaf, now - 3600), -EAGAIN);
        assert_int_equal(pki_cert_not_after(leaf, &na), 0);
        assert_int_equal(na, now + 86400);
        assert_int_equal(pki_cert_common_name(leaf, &cn), 0);
        assert_string_equal(cn, "kube-apiserver");
        assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
        assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
        assert_null(X509_get0_subject_key_id(leaf)); /* Go: SKID on CAs only */
        const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(leaf);
        assert_non_null(akid);
        assert_int_equal(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca)), 0);

        /* Serial: positive and below 2^63. */
        _cleanup_(BN_freep) BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
        assert_false(BN_is_negative(serial));
        assert_false(BN_is_zero(serial));
        assert_true(BN_num_bits(serial) <= 63);

        /* Subject: O then CN, PrintableString as Go writes these. */
        X509_NAME *subj = X509_get_subject_name(leaf);
        assert_int_equal(X509_NAME_entry_count(subj), 2);
        assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(subj, 0))),
                         NID_organizationName);
        assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, 1))),
                         V_ASN1_PRINTABLESTRING);

        /* SANs: DNS sorted and unique (byte order: upper case first), then IPs unique in order. */
        names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
        assert_non_null(names);
        const char *want[] = {"DNS:Kubernetes.default", "DNS:kubernetes",  "DNS:node-b",
                              "IP:10.96.0.1",           "IP:192.168.1.10", "IP:fd00::1"};
        assert_int_equal(sk_GENERAL_NAME_num(names), ELEMENTSOF(want));
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
                int type;
                ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);
                char buf[64];
                if (type == GEN_DNS)
                        snprintf(buf, sizeof(buf), "DNS:%.*s", ASN1_STRING_length(v),
                                 ASN1_STRING_get0_data(v));
                else {
                        char *ip = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(v), ASN1_STRING_length(v));
                        snprintf(buf, sizeof(buf), "IP:%s", ip);
                        OPENSSL_free(ip);
                        if (ASN1_STRING_length(v) == 4)
                                snprintf(buf, sizeof(buf), "IP:%d.%d.%d.%d", ASN1_STRING_get0_data(v)[0],
                                         ASN1_STRING_get0_data(v)[1], ASN1_STRING_get0_data(v)[2],
                                         ASN1_STRING_get0_data(v)[3]);
                        else
                                snprintf(buf, sizeof(buf), "IP:%s",
                                         ASN1_STRING_get0_data(v)[0] == 0xfd ? "fd00::1" : "?");
                }
                assert_string_equal(buf, want[i]);
        }

        /* What may stand for a spec. */
        assert_int_equal(pki_cert_satisfies(leaf, &s, &why), 0);
        char *more[] = {"10.0.0.9", NULL};
        struct pki_cert_spec s2 = s;
        s2.ips = more;
        assert_int_equal(pki_cert_satisfies(leaf, &s2, &why), -EBADMSG);
        assert_string_equal(why, "an IP address is missing from its SANs");
        s2 = s;
        s2.cn = "someone-else";
        assert_int_equal(pki_cert_satisfies(leaf, &s2, &why), -EBADMSG);
        s2 = s;
        s2.ca = true;
        assert_int_equal(pki_cert_satisfies(leaf, &s2, &why), -EBADMSG);

        /* Signed by another CA: not issued by ours. */
        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &other_key), 0);
        other = make_ca(other_key, "kubernetes", now);
        assert_int_equal(pki_cert_issued_by(leaf, other), -EBADMSG);

        assert_int_equal(pki_cert_to_pem(leaf, &pem, &len), 0);
        assert_int_equal(pki_cert_from_pem(pem, len, &back), 0);
        assert_int_equal(X509_cmp(back, leaf), 0);
        assert_int_equal(pki_pem_classify(pem, len), PKI_PEM_KEY_MATERIAL);

        struct pki_cert_spec bad = s;
        char *bad_ips[] = {"10.0.0.300", NULL};
        X509 *x = NULL;
        bad.ips = bad_ips;
        assert_int_equal(pki_cert_create(&bad, key, ca, ca_key, &x), -EINVAL);
        assert_null(x);
}

static void test_ca_pin(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_free_ char *pin = NULL, *upper = NULL;
        unsigned char *der = NULL, md[32];
        unsigned int mdlen;
        (void) state;

        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &k), 0);
        ca = make_ca(k, "kubernetes", time(NULL));
        assert_int_equal(pki_cert_ca_pin(ca, &pin), 0);
        assert_int_equal(strlen(pin), 7 + 64);
        /* Independently: the SHA-256 of the key's DER SubjectPublicKeyInfo. */
        int n = i2d_PUBKEY(k, &der);
        assert_true(n > 0);
        assert_true(EVP_Digest(der, (size_t) n, md, &mdlen, EVP_sha256(), NULL));
        OPENSSL_free(der);
        _cleanup_free_ char *hex = hex_encode(md, 32);
        assert_string_equal(pin + 7, hex);

        assert_int_equal(pki_cert_ca_pin_check(ca, pin), 0);
        upper = strdup(pin);
        for (char *p = upper; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        assert_int_equal(pki_cert_ca_pin_check(ca, upper), 0);
        upper[10] = upper[10] == 'A' ? 'B' : 'A';
        assert_int_equal(pki_cert_ca_pin_check(ca, upper), -EPERM);
        assert_int_equal(pki_cert_ca_pin_check(ca, "sha1:abcd"), -EINVAL);
        assert_int_equal(pki_cert_ca_pin_check(ca, "sha256:abcd"), -EINVAL);
}

static void test_tokens(void **state) {
        char tok[PKI_TOKEN_LEN + 1], id[7], secret[17], key[65];
        unsigned char raw[32];
        unsigned seen[36] = {};
        (void) state;

        for (int i = 0; i < 200; i++) {
                assert_int_equal(pki_token_generate(tok), 0);
                assert_int_equal(strlen(tok), 23);
                assert_int_equal(pki_token_parse(tok, id, secret), 0);
                assert_true(pki_token_id_valid(id));
                for (const char *p = tok; *p; p++)
                        if (*p != '.')
                                seen[*p >= 'a' ? *p - 'a' + 10 : *p - '0']++;
        }
        for (int i = 0; i < 36; i++) /* 4400 draws: every character turns up */
                assert_true(seen[i] > 0);
        assert_int_equal(pki_token_parse("abcdef.0123456789abcdef", id, secret), 0);
        assert_string_equal(id, "abcdef");
        assert_string_equal(secret, "0123456789abcdef");
        assert_int_equal(pki_token_parse("ABCDEF.0123456789abcdef", id, secret), -EINVAL);
        assert_int_equal(pki_token_parse("abcdef:0123456789abcdef", id, secret), -EINVAL);
        assert_int_equal(pki_token_parse("abcdef.0123456789abcde", id, secret), -EINVAL);
        assert_int_equal(pki_token_parse("abcdef.0123456789abcdef0", id, secret), -EINVAL);
        assert_false(pki_token_id_valid("abc"));

        assert_int_equal(pki_certificate_key_generate(key), 0);
        assert_int_equal(strlen(key), 64);
        assert_int_equal(pki_certificate_key_parse(key, raw), 0);
        assert_int_equal(pki_certificate_key_parse(
                                 "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", raw),
                         0);
        assert_int_equal(raw[0], 0xab);
        assert_int_equal(pki_certificate_key_parse("abcd", raw), -EINVAL);
        assert_int_equal(
                pki_certificate_key_parse("zz"
                                          "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
                                          raw),
                -EINVAL);
}

static void test_jws(void **state) {
        static const char payload[] = "apiVersion: v1\nkind: Config\n";
        /* Computed with Python's hmac/base64, independent of OpenSSL. */
        static const char want[] =
                "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..vH_kT4yiol-nrAWgjfCYqvum5wsKETXe0S7OOp1VgnE";
        _cleanup_free_ char *jws = NULL;
        (void) state;

        assert_int_equal(pki_jws_sign_detached(payload, strlen(payload), "abcdef", "0123456789abcdef", &jws),
                         0);
        assert_string_equal(jws, want);
        /* The header of kubernetes' own documentation example. */
        _cleanup_free_ char *doc = NULL;
        assert_int_equal(pki_jws_sign_detached("x", 1, "07401b", "f395accd246ae52d", &doc), 0);
        assert_non_null(startswith(doc, "eyJhbGciOiJIUzI1NiIsImtpZCI6IjA3NDAxYiJ9.."));

        assert_int_equal(
                pki_jws_verify_detached(payload, strlen(payload), "abcdef", "0123456789abcdef", want), 0);
        assert_int_equal(
                pki_jws_verify_detached(payload, strlen(payload) - 1, "abcdef", "0123456789abcdef", want),
                -EBADMSG);
        assert_int_equal(
                pki_jws_verify_detached(payload, strlen(payload), "abcdef", "0123456789abcdee", want),
                -EBADMSG);
        assert_int_equal(
                pki_jws_verify_detached(payload, strlen(payload), "abcdef", "0123456789abcdef", NULL),
                -EBADMSG);
        assert_int_equal(pki_jws_sign_detached(payload, 3, "ABCDEF", "0123456789abcdef", &jws), -EINVAL);
}

static const unsigned char key1[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_envelope(void **state) {
        static const char plain[] = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
        unsigned char key2[32];
        _cleanup_free_ unsigned char *sealed = NULL, *sealed2 = NULL;
        size_t len, len2;
        (void) state;

        memcpy(key2, key1, 32);
        key2[31] ^= 1;
        assert_int_equal(pki_envelope_seal(key1, plain, strlen(plain), &sealed, &len), 0);
        assert_int_equal(len, 12 + strlen(plain) + 16);
        assert_int_equal(pki_envelope_seal(key1, plain, strlen(plain), &sealed2, &len2), 0);
        assert_memory_not_equal(sealed, sealed2, 12); /* a fresh nonce each time */

        _cleanup_erase_ unsigned char *out = NULL;
        size_t olen;
        assert_int_equal(pki_envelope_open(key1, sealed, len, &out, &olen), 0);
        assert_int_equal(olen, strlen(plain));
        assert_memory_equal(out, plain, olen);

        unsigned char *o = NULL;
        assert_int_equal(pki_envelope_open(key2, sealed, len, &o, &olen), -EBADMSG);
        for (size_t i = 0; i < len; i++) {
                sealed[i] ^= 0x40;
                assert_int_equal(pki_envelope_open(key1, sealed, len, &o, &olen), -EBADMSG);
                sealed[i] ^= 0x40;
        }
        assert_int_equal(pki_envelope_open(key1, sealed, len - 1, &o, &olen), -EBADMSG);
        assert_int_equal(pki_envelope_open(key1, sealed, 27, &o, &olen), -EBADMSG);
        assert_null(o);

        /* Empty plaintext: nonce and tag only. */
        _cleanup_free_ unsigned char *e = NULL;
        _cleanup_erase_ unsigned char *eo = NULL;
        assert_int_equal(pki_envelope_seal(key1, "", 0, &e, &len), 0);
        assert_int_equal(len, 28);
        assert_int_equal(pki_envelope_open(key1, e, len, &eo, &olen), 0);
        assert_int_equal(olen, 0);
}

static void write_pem(const char *root, const char *path, bool key) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_free_ char *pem = NULL;
        size_t len;
        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &k), 0);
        if (key)
                assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
        else {
                x = make_ca(k, "kubernetes", time(NULL));
                assert_int_equal(pki_cert_to_pem(x, &pem, &len), 0);
        }
        assert_int_equal(write_file_atomic(root, path, pem, len, 0600, WRITE_MKDIR_PARENTS), 0);
}

static void test_secret(void **state) {
        _cleanup_free_ char *dir = unit_mkdtemp(), *out = NULL, *json = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        struct pki_secret_file *files = NULL;
        const char *failed = NULL;
        size_t n = 0;
        (void) state;

        assert_non_null(dir);
        write_pem(dir, "/pki/ca.crt", false);
        write_pem(dir, "/pki/ca.key", true);
        write_pem(dir, "/pki/front-proxy-ca.crt", false);
        write_pem(dir, "/pki/front-proxy-ca.key", true);
        write_pem(dir, "/pki/sa.key", true);
        write_pem(dir, "/pki/etcd/ca.crt", false);
        write_pem(dir, "/pki/etcd/ca.key", true);
        /* sa.pub missing: an empty value, as kubeadm */

        assert_int_equal(pki_kubeadm_certs_secret(key1, dir, "/pki", NULL, &json), 0);
        j = cJSON_Parse(json);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "name")->valuestring,
                            "kubeadm-certs");
        cJSON *data = cJSON_GetObjectItem(j, "data");
        assert_int_equal(cJSON_GetArraySize(data), 8);
        assert_string_equal(cJSON_GetObjectItem(data, "sa.pub")->valuestring, "");
        assert_non_null(cJSON_GetObjectItem(data, "etcd-ca.key"));

        /* Into another root: every file back, with kubeadm's modes. */
        out = unit_mkdtemp();
        assert_int_equal(pki_kubeadm_certs_open(key1, json, strlen(json), "/pki", NULL, &files, &n, &failed),
                         0);
        assert_int_equal(n, 7);
        assert_int_equal(pki_secret_files_write(out, files, n), 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *a = NULL, *b = NULL, *full = NULL;
                struct stat st;
                assert_int_equal(read_file(dir, files[i].path, 0, &a, NULL), 0);
                assert_int_equal(read_file(out, files[i].path, 0, &b, NULL), 0);
                assert_string_equal(a, b);
                assert_int_equal(root_path(out, files[i].path, &full), 0);
                assert_int_equal(stat(full, &st), 0);
                /* kubeadm's download-certs writes every RSA/ECDSA PEM with its key writer: 0600. */
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        pki_secret_files_free(files, n);

        /* Wrong key: nothing comes out; the failing entry is named. */
        unsigned char key2[32];
        memcpy(key2, key1, 32);
        key2[0] ^= 0xff;
        files = NULL;
        assert_int_equal(pki_kubeadm_certs_open(key2, json, strlen(json), "/pki", NULL, &files, &n, &failed),
                         -EBADMSG);
        assert_null(files);
        assert_string_equal(failed, "ca.crt");

        /* External etcd mode needs its three entries. */
        struct pki_external_etcd ext = {"/ext/ca.crt", "/ext/c.crt", "/ext/c.key"};
        assert_int_equal(pki_kubeadm_certs_open(key1, json, strlen(json), "/pki", &ext, &files, &n, &failed),
                         -ENOENT);
        assert_string_equal(failed, "external-etcd-ca.crt");

        /* Not a Secret. */
        assert_int_equal(pki_kubeadm_certs_open(key1, "[1]", 3, "/pki", NULL, &files, &n, &failed), -EINVAL);
        assert_int_equal(pki_kubeadm_certs_open(key1, "{\"data\":{\"ca.crt\":\"%%%\"}}", 25, "/pki", NULL,
                                                &files, &n, &failed),
                         -EBADMSG);
        unit_rm_rf(dir);
        unit_rm_rf(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_key_pem_rejects),
                cmocka_unit_test(test_cert_ca_and_leaf),
                cmocka_unit_test(test_ca_pin),
                cmocka_unit_test(test_tokens),
                cmocka_unit_test(test_jws),
                cmocka_unit_test(test_envelope),
                cmocka_unit_test(test_secret),
        };
        return cmocka_run_group_tests_name("pki", tests, NULL, NULL);
}
