/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 encoding as Kubernetes and JWS use it: standard with padding (Secret data, kubeconfig *-data
 * fields) and URL-safe without padding (RFC 7515 compact JWS). Decoding stays with its callers: metadata
 * accepts what clouds send (whitespace, both alphabets), pki only canonical text. */
#pragma once

#include <stddef.h>

/* Standard alphabet with '=' padding, no line breaks. NULL on OOM; the caller frees. */
char *base64_encode(const void *p, size_t n);
/* URL-safe alphabet, no padding. NULL on OOM. */
char *base64url_encode(const void *p, size_t n);
