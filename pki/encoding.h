/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 as Kubernetes and JWS use it: standard with padding (Secret data, kubeconfig *-data fields) and
 * URL-safe without padding (RFC 7515 compact JWS). */
#pragma once

#include <stddef.h>
#include <openssl/bio.h>

#include "common/base64.h"

/*
 * Strict standard base64 (padding required when the length is not a multiple of 4, no whitespace but
 * trailing newlines): -EINVAL on anything else. *ret is NUL-terminated (not counted) and owned by the
 * caller; wipe it with erase_and_free() when it holds a secret.
 */
int pki_base64_decode(const char *s, size_t len, void **ret, size_t *ret_len);

/* Moves a memory BIO's contents into a NUL-terminated heap string (length without the NUL), wiping the
 * BIO's copy: PEM text of keys passes through here. */
int pki_bio_take_string(BIO *bio, char **ret, size_t *ret_len);

/* The largest PEM, kubeconfig or payload file read. */
#define PKI_FILE_MAX (1024u * 1024u)
