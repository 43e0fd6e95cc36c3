/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/cleanup-libs.h"
#include "common/strutil.h"
#include "pki/encoding.h"
#include "pki/token.h"

static const char token_chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static int random_chars(char *out, size_t n) {
        unsigned char buf[64];
        size_t have = 0, pos = 0;

        while (have < n) {
                if (pos == 0 && RAND_bytes(buf, sizeof(buf)) != 1) {
                        ERR_clear_error();
                        return -EIO;
                }
                unsigned char b = buf[pos];
                pos = (pos + 1) % sizeof(buf);
                /* 252 = 7 * 36: larger bytes would favour the first characters. */
                if (b >= 252)
                        continue;
                out[have++] = token_chars[b % 36];
        }
        OPENSSL_cleanse(buf, sizeof(buf));
        return 0;
}

int pki_token_generate(char buf[PKI_TOKEN_LEN + 1]) {
        int r = random_chars(buf, PKI_TOKEN_ID_LEN);
        if (r < 0)
                return r;
        buf[PKI_TOKEN_ID_LEN] = '.';
        r = random_chars(buf + PKI_TOKEN_ID_LEN + 1, PKI_TOKEN_SECRET_LEN);
        if (r < 0)
                return r;
        buf[PKI_TOKEN_LEN] = 0;
        return 0;
}

static bool all_token_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

bool pki_token_id_valid(const char *id) {
        return id && strlen(id) == PKI_TOKEN_ID_LEN && all_token_chars(id, PKI_TOKEN_ID_LEN);
}

int pki_token_parse(const char *token, char id[PKI_TOKEN_ID_LEN + 1],
                    char secret[PKI_TOKEN_SECRET_LEN + 1]) {
        if (!token || strlen(token) != PKI_TOKEN_LEN || token[PKI_TOKEN_ID_LEN] != '.' ||
            !all_token_chars(token, PKI_TOKEN_ID_LEN) ||
            !all_token_chars(token + PKI_TOKEN_ID_LEN + 1, PKI_TOKEN_SECRET_LEN))
                return -EINVAL;
        memcpy(id, token, PKI_TOKEN_ID_LEN);
        id[PKI_TOKEN_ID_LEN] = 0;
        memcpy(secret, token + PKI_TOKEN_ID_LEN + 1, PKI_TOKEN_SECRET_LEN);
        secret[PKI_TOKEN_SECRET_LEN] = 0;
        return 0;
}

int pki_certificate_key_generate(char buf[2 * PKI_CERT_KEY_SIZE + 1]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char key[PKI_CERT_KEY_SIZE];

        if (RAND_bytes(key, sizeof(key)) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        for (size_t i = 0; i < sizeof(key); i++) {
                buf[2 * i] = hex[key[i] >> 4];
                buf[2 * i + 1] = hex[key[i] & 15];
        }
        buf[2 * PKI_CERT_KEY_SIZE] = 0;
        OPENSSL_cleanse(key, sizeof(key));
        return 0;
}

int pki_certificate_key_parse(const char *hex, unsigned char key[PKI_CERT_KEY_SIZE]) {
        _cleanup_erase_ void *raw = NULL;
        size_t n;

        if (!hex || strlen(hex) != 2 * PKI_CERT_KEY_SIZE)
                return -EINVAL;
        if (hex_decode(hex, strlen(hex), &raw, &n) < 0 || n != PKI_CERT_KEY_SIZE)
                return -EINVAL;
        memcpy(key, raw, PKI_CERT_KEY_SIZE);
        return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char out[32]) {
        _cleanup_(EVP_MAC_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        size_t out_len = 0;

        if (!mac || !(ctx = EVP_MAC_CTX_new(mac)) || !EVP_MAC_init(ctx, key, key_len, params) ||
            !EVP_MAC_update(ctx, data, len) || !EVP_MAC_final(ctx, out, &out_len, 32) || out_len != 32) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

int pki_jws_sign_detached(const void *payload, size_t len, const char *token_id, const char *token_secret,
                          char **ret) {
        _cleanup_free_ char *header = NULL, *h64 = NULL, *p64 = NULL, *input = NULL, *s64 = NULL;
        unsigned char sig[32];
        int r;

        if (!pki_token_id_valid(token_id) || !token_secret)
                return -EINVAL;
        /* Byte for byte what go-jose marshals (its header map has sorted keys). */
        header = strdupf("{\"alg\":\"HS256\",\"kid\":\"%s\"}", token_id);
        if (!header)
                return -ENOMEM;
        h64 = base64url_encode(header, strlen(header));
        p64 = base64url_encode(payload, len);
        if (!h64 || !p64)
                return -ENOMEM;
        input = strdupf("%s.%s", h64, p64);
        if (!input)
                return -ENOMEM;
        /* HMAC pads a short key with zeros, so this equals go-jose's key padded to 32 bytes. */
        r = hmac_sha256(token_secret, strlen(token_secret), input, strlen(input), sig);
        if (r < 0)
                return r;
        s64 = base64url_encode(sig, sizeof(sig));
        if (!s64)
                return -ENOMEM;
        *ret = strdupf("%s..%s", h64, s64);
        return *ret ? 0 : -ENOMEM;
}

int pki_jws_verify_detached(const void *payload, size_t len, const char *token_id, const char *token_secret,
                            const char *jws) {
        _cleanup_free_ char *want = NULL;
        int r = pki_jws_sign_detached(payload, len, token_id, token_secret, &want);

        if (r < 0)
                return r;
        return jws && streq_const_time(want, jws) ? 0 : -EBADMSG;
}
