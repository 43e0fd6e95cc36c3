/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/cleanup.h"
#include "pki/encoding.h"

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int pki_base64_decode(const char *s, size_t len, void **ret, size_t *ret_len) {
        _cleanup_erase_ uint8_t *out = NULL;
        size_t o = 0;

        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
                len--;
        if (len % 4 != 0)
                return -EINVAL;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i += 4) {
                int v[4], pads = 0;
                for (int j = 0; j < 4; j++) {
                        char c = s[i + j];
                        if (c == '=' && i + 4 == len && j >= 2) {
                                v[j] = 0;
                                pads++;
                                continue;
                        }
                        if (pads > 0) /* data after padding */
                                return -EINVAL;
                        v[j] = b64_value(c);
                        if (v[j] < 0)
                                return -EINVAL;
                }
                uint32_t w = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 |
                             (uint32_t) v[3];
                /* Stray bits under the padding are rejected: no two texts decode to the same bytes. */
                if ((pads == 1 && (w & 0xff)) || (pads == 2 && (w & 0xffff)))
                        return -EINVAL;
                out[o++] = (uint8_t) (w >> 16);
                if (pads < 2)
                        out[o++] = (uint8_t) (w >> 8);
                if (pads < 1)
                        out[o++] = (uint8_t) w;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        if (ret_len)
                *ret_len = o;
        return 0;
}

int pki_bio_take_string(BIO *bio, char **ret, size_t *ret_len) {
        char *data = NULL, *s;
        long n = BIO_get_mem_data(bio, &data);

        if (n < 0)
                return -EIO;
        s = malloc((size_t) n + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, data, (size_t) n);
        s[n] = 0;
        OPENSSL_cleanse(data, (size_t) n);
        *ret = s;
        if (ret_len)
                *ret_len = (size_t) n;
        return 0;
}
