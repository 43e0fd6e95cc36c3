/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small secrets of a join: bootstrap tokens ("[a-z0-9]{6}.[a-z0-9]{16}"), certificate keys (32
 * random bytes as 64 hex digits) and the detached JWS HS256 signatures the bootstrap signer puts on the
 * cluster-info ConfigMap (cluster-bootstrap/token/jws).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PKI_TOKEN_ID_LEN     6
#define PKI_TOKEN_SECRET_LEN 16
#define PKI_TOKEN_LEN        (PKI_TOKEN_ID_LEN + 1 + PKI_TOKEN_SECRET_LEN)
#define PKI_CERT_KEY_SIZE    32

/* A fresh token into buf (PKI_TOKEN_LEN + 1 bytes): unbiased draws from [a-z0-9], as kubeadm does. */
int pki_token_generate(char buf[PKI_TOKEN_LEN + 1]);
/* Splits and validates a token; id and secret are NUL-terminated copies. -EINVAL when malformed. */
int pki_token_parse(const char *token, char id[PKI_TOKEN_ID_LEN + 1], char secret[PKI_TOKEN_SECRET_LEN + 1]);
bool pki_token_id_valid(const char *id);

/* 64 lower-case hex digits of 32 random bytes, into buf. */
int pki_certificate_key_generate(char buf[2 * PKI_CERT_KEY_SIZE + 1]);
/* Decodes a certificate key (either case); -EINVAL unless it is exactly 32 bytes of hex. */
int pki_certificate_key_parse(const char *hex, unsigned char key[PKI_CERT_KEY_SIZE]);

/*
 * The detached JWS "<b64url header>..<b64url signature>" over payload, header exactly
 * {"alg":"HS256","kid":"<token id>"}, keyed with the token secret. *ret owned by the caller.
 */
int pki_jws_sign_detached(const void *payload, size_t len, const char *token_id, const char *token_secret,
                          char **ret);
/* 0 when jws is what pki_jws_sign_detached() gives (compared in constant time), -EBADMSG otherwise. */
int pki_jws_verify_detached(const void *payload, size_t len, const char *token_id, const char *token_secret,
                            const char *jws);
