/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const void *p, size_t n, const char *alphabet, int pad) {
        const uint8_t *in = p;
        size_t out_len = (n + 2) / 3 * 4;
        char *out = malloc(out_len + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;
                size_t left = n - i;
                if (left > 1)
                        v |= (uint32_t) in[i + 1] << 8;
                if (left > 2)
                        v |= in[i + 2];
                *o++ = alphabet[(v >> 18) & 63];
                *o++ = alphabet[(v >> 12) & 63];
                if (left > 1)
                        *o++ = alphabet[(v >> 6) & 63];
                else if (pad)
                        *o++ = '=';
                if (left > 2)
                        *o++ = alphabet[v & 63];
                else if (pad)
                        *o++ = '=';
        }
        *o = 0;
        return out;
}

char *base64_encode(const void *p, size_t n) {
        return encode(p, n, b64_std, 1);
}

char *base64url_encode(const void *p, size_t n) {
        return encode(p, n, b64_url, 0);
}
