/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoders for what clouds wrap user-data and meta-data in: base64 and gzip (RFC 1952 around RFC 1951
 * deflate). The inflater is our own, small and fuzzed: zlib is not among our dependencies, libcurl only
 * inflates HTTP bodies internally, and OpenSSL's COMP layer is absent from typical (and our static)
 * builds. Every output has a cap, so a gzip bomb stops at -EFBIG.
 *
 * Outputs are NUL-terminated (the NUL is not counted) and owned by the caller; they may hold secrets, so
 * free them with erase_and_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_DECODE_MAX (16u * 1024u * 1024u)

/*
 * Base64 (RFC 4648 standard alphabet; '-' and '_' of the URL alphabet accepted too). Whitespace is skipped.
 * Strict: the length must be a multiple of 4 with padding only at the end. Lenient (what cloud-init's
 * Python decoders accept): missing padding and extra trailing '=' are fine. -EBADMSG otherwise.
 */
int md_base64_decode(const char *s, size_t len, bool strict, char **ret, size_t *ret_len);

/* Whether the whole buffer is strict base64 text (whitespace allowed) of at least min_len characters. */
bool md_is_base64(const char *s, size_t len, size_t min_len);

/* Raw deflate stream; *ret_consumed (when non-NULL) is how many input bytes the stream used. */
int md_inflate(const void *in, size_t len, size_t max, char **ret, size_t *ret_len, size_t *ret_consumed);

/* gzip: one or more members, each with its CRC-32 and length checked. -EBADMSG on a bad stream. */
int md_gunzip(const void *in, size_t len, size_t max, char **ret, size_t *ret_len);

static inline bool md_is_gzip(const void *p, size_t len) {
        const uint8_t *b = p;
        return len >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

uint32_t md_crc32(uint32_t crc, const void *p, size_t len);
