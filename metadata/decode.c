/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "metadata/decode.h"

/* ---- base64 ---- */

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

static bool b64_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int md_base64_decode(const char *s, size_t len, bool strict, char **ret, size_t *ret_len) {
        _cleanup_erase_ char *out = malloc(len / 4 * 3 + 4);
        size_t n = 0, chars = 0, pad = 0;
        uint32_t acc = 0;
        unsigned have = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                int v;
                if (b64_space(c))
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                if (pad > 0) /* data after padding */
                        return -EBADMSG;
                v = b64_value(c);
                if (v < 0)
                        return -EBADMSG;
                chars++;
                acc = acc << 6 | (uint32_t) v;
                if (++have == 4) {
                        out[n++] = (char) (acc >> 16);
                        out[n++] = (char) (acc >> 8);
                        out[n++] = (char) acc;
                        have = 0;
                        acc = 0;
                }
        }
        if (have == 1)
                return -EBADMSG;
        if (strict && ((chars + pad) % 4 != 0 || pad > 2 || (pad > 0 && (4 - have) % 4 != pad)))
                return -EBADMSG;
        if (have == 2) {
                if (strict && (acc & 0xf))
                        return -EBADMSG;
                out[n++] = (char) (acc >> 4);
        } else if (have == 3) {
                if (strict && (acc & 0x3))
                        return -EBADMSG;
                out[n++] = (char) (acc >> 10);
                out[n++] = (char) (acc >> 2);
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        if (ret_len)
                *ret_len = n;
        return 0;
}

bool md_is_base64(const char *s, size_t len, size_t min_len) {
        size_t chars = 0, pad = 0;
        for (size_t i = 0; i < len; i++) {
                if (b64_space(s[i]))
                        continue;
                if (s[i] == '=') {
                        pad++;
                        continue;
                }
                /* Only the standard alphabet here: "-" and "_" are common in plain text. */
                if (pad > 0 || b64_value(s[i]) < 0 || s[i] == '-' || s[i] == '_')
                        return false;
                chars++;
        }
        return chars >= min_len && (chars + pad) % 4 == 0 && pad <= 2;
}

/* ---- CRC-32 (IEEE, reflected), table built once ---- */

uint32_t md_crc32(uint32_t crc, const void *p, size_t len) {
        static uint32_t table[256];
        static bool ready;
        const uint8_t *b = p;

        if (!ready) {
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t c = i;
                        for (int k = 0; k < 8; k++)
                                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
                        table[i] = c;
                }
                ready = true;
        }
        crc = ~crc;
        for (size_t i = 0; i < len; i++)
                crc = table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
        return ~crc;
}

/* ---- inflate (RFC 1951) ---- */

#define MAXBITS   15
#define MAXLCODES 286
#define MAXDCODES 30
#define FIXLCODES 288

struct inflate_state {
        const uint8_t *in;
        size_t len, pos;
        uint32_t bitbuf;
        unsigned bitcnt;
        char *out;
        size_t out_len, out_alloc, max;
};

/* Canonical Huffman code: how many codes of each length, and the symbols ordered by code. */
struct huffman {
        uint16_t count[MAXBITS + 1];
        uint16_t symbol[FIXLCODES];
};

static int bits(struct inflate_state *s, unsigned need, unsigned *ret) {
        uint32_t val = s->bitbuf;
        while (s->bitcnt < need) {
                if (s->pos >= s->len)
                        return -EBADMSG;
                val |= (uint32_t) s->in[s->pos++] << s->bitcnt;
                s->bitcnt += 8;
        }
        s->bitbuf = need < 32 ? val >> need : 0;
        s->bitcnt -= need;
        *ret = need == 0 ? 0 : val & ((1u << need) - 1);
        return 0;
}

static int out_byte(struct inflate_state *s, uint8_t c) {
        if (s->out_len >= s->max)
                return -EFBIG;
        if (s->out_len + 2 > s->out_alloc) {
                size_t na = s->out_alloc ? s->out_alloc * 2 : 4096;
                char *t;
                if (na > s->max + 1)
                        na = s->max + 1;
                t = malloc(na);
                if (!t)
                        return -ENOMEM;
                if (s->out) {
                        memcpy(t, s->out, s->out_len);
                        erase_and_free(s->out);
                }
                s->out = t;
                s->out_alloc = na;
        }
        s->out[s->out_len++] = (char) c;
        return 0;
}

/* Returns 0 for a complete code, >0 for an incomplete one, <0 for an over-subscribed one. */
static int huffman_build(struct huffman *h, const uint8_t *lengths, unsigned n) {
        uint16_t offs[MAXBITS + 1];
        int left = 1;

        memset(h->count, 0, sizeof(h->count));
        for (unsigned i = 0; i < n; i++)
                h->count[lengths[i]]++;
        if (h->count[0] == n)
                return 0; /* no codes: complete, though decoding will fail */
        for (unsigned len = 1; len <= MAXBITS; len++) {
                left <<= 1;
                left -= h->count[len];
                if (left < 0)
                        return left;
        }
        offs[1] = 0;
        for (unsigned len = 1; len < MAXBITS; len++)
                offs[len + 1] = offs[len] + h->count[len];
        for (unsigned i = 0; i < n; i++)
                if (lengths[i] != 0)
                        h->symbol[offs[lengths[i]]++] = (uint16_t) i;
        return left;
}

static int huffman_decode(struct inflate_state *s, const struct huffman *h) {
        int code = 0, first = 0, index = 0;
        for (unsigned len = 1; len <= MAXBITS; len++) {
                unsigned b;
                if (bits(s, 1, &b) < 0)
                        return -EBADMSG;
                code |= (int) b;
                int count = h->count[len];
                if (code - count < first)
                        return h->symbol[index + (code - first)];
                index += count;
                first += count;
                first <<= 1;
                code <<= 1;
        }
        return -EBADMSG;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                       33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int inflate_codes(struct inflate_state *s, const struct huffman *lencode,
                         const struct huffman *distcode) {
        for (;;) {
                int sym = huffman_decode(s, lencode);
                unsigned extra, dist, len;
                int r;

                if (sym < 0)
                        return sym;
                if (sym < 256) {
                        r = out_byte(s, (uint8_t) sym);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (sym == 256)
                        return 0;
                sym -= 257;
                if (sym >= 29)
                        return -EBADMSG;
                if (bits(s, len_extra[sym], &extra) < 0)
                        return -EBADMSG;
                len = len_base[sym] + extra;
                sym = huffman_decode(s, distcode);
                if (sym < 0 || sym >= 30)
                        return -EBADMSG;
                if (bits(s, dist_extra[sym], &extra) < 0)
                        return -EBADMSG;
                dist = dist_base[sym] + extra;
                if (dist > s->out_len)
                        return -EBADMSG; /* reaches before the start */
                while (len-- > 0) {
                        r = out_byte(s, (uint8_t) s->out[s->out_len - dist]);
                        if (r < 0)
                                return r;
                }
        }
}

static int inflate_stored(struct inflate_state *s) {
        unsigned len, nlen;
        /* Discard the bits left in the current byte. */
        s->bitbuf = 0;
        s->bitcnt = 0;
        if (s->pos + 4 > s->len)
                return -EBADMSG;
        len = s->in[s->pos] | s->in[s->pos + 1] << 8;
        nlen = s->in[s->pos + 2] | s->in[s->pos + 3] << 8;
        s->pos += 4;
        if (len != (~nlen & 0xffff) || s->pos + len > s->len)
                return -EBADMSG;
        for (unsigned i = 0; i < len; i++) {
                int r = out_byte(s, s->in[s->pos++]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int inflate_fixed(struct inflate_state *s) {
        static struct huffman lencode, distcode;
        static bool ready;
        if (!ready) {
                uint8_t lengths[FIXLCODES];
                unsigned i;
                for (i = 0; i < 144; i++)
                        lengths[i] = 8;
                for (; i < 256; i++)
                        lengths[i] = 9;
                for (; i < 280; i++)
                        lengths[i] = 7;
                for (; i < FIXLCODES; i++)
                        lengths[i] = 8;
                (void) huffman_build(&lencode, lengths, FIXLCODES);
                for (i = 0; i < MAXDCODES; i++)
                        lengths[i] = 5;
                (void) huffman_build(&distcode, lengths, MAXDCODES);
                ready = true;
        }
        return inflate_codes(s, &lencode, &distcode);
}

static int inflate_dynamic(struct inflate_state *s) {
        static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
        uint8_t lengths[MAXLCODES + MAXDCODES];
        struct huffman lencode, distcode;
        unsigned nlen, ndist, ncode, index, v;
        int r;

        if (bits(s, 5, &nlen) < 0 || bits(s, 5, &ndist) < 0 || bits(s, 4, &ncode) < 0)
                return -EBADMSG;
        nlen += 257;
        ndist += 1;
        ncode += 4;
        if (nlen > MAXLCODES || ndist > MAXDCODES)
                return -EBADMSG;
        for (index = 0; index < ncode; index++) {
                if (bits(s, 3, &v) < 0)
                        return -EBADMSG;
                lengths[order[index]] = (uint8_t) v;
        }
        for (; index < 19; index++)
                lengths[order[index]] = 0;
        if (huffman_build(&lencode, lengths, 19) != 0)
                return -EBADMSG; /* the code-length code must be complete */

        for (index = 0; index < nlen + ndist;) {
                int sym = huffman_decode(s, &lencode);
                unsigned rep, len = 0;
                if (sym < 0)
                        return -EBADMSG;
                if (sym < 16) {
                        lengths[index++] = (uint8_t) sym;
                        continue;
                }
                if (sym == 16) {
                        if (index == 0)
                                return -EBADMSG;
                        len = lengths[index - 1];
                        if (bits(s, 2, &rep) < 0)
                                return -EBADMSG;
                        rep += 3;
                } else if (sym == 17) {
                        if (bits(s, 3, &rep) < 0)
                                return -EBADMSG;
                        rep += 3;
                } else {
                        if (bits(s, 7, &rep) < 0)
                                return -EBADMSG;
                        rep += 11;
                }
                if (index + rep > nlen + ndist)
                        return -EBADMSG;
                while (rep-- > 0)
                        lengths[index++] = (uint8_t) len;
        }
        if (lengths[256] == 0)
                return -EBADMSG; /* no end-of-block code */
        r = huffman_build(&lencode, lengths, nlen);
        if (r < 0 || (r > 0 && nlen - lencode.count[0] != 1))
                return -EBADMSG;
        r = huffman_build(&distcode, lengths + nlen, ndist);
        if (r < 0 || (r > 0 && ndist - distcode.count[0] != 1))
                return -EBADMSG;
        return inflate_codes(s, &lencode, &distcode);
}

int md_inflate(const void *in, size_t len, size_t max, char **ret, size_t *ret_len, size_t *ret_consumed) {
        struct inflate_state s = {.in = in, .len = len, .max = max ?: MD_DECODE_MAX};
        unsigned last, type;
        int r;

        do {
                if (bits(&s, 1, &last) < 0 || bits(&s, 2, &type) < 0) {
                        r = -EBADMSG;
                        break;
                }
                if (type == 0)
                        r = inflate_stored(&s);
                else if (type == 1)
                        r = inflate_fixed(&s);
                else if (type == 2)
                        r = inflate_dynamic(&s);
                else
                        r = -EBADMSG;
        } while (r == 0 && !last);

        if (r == 0 && !s.out && !(s.out = calloc(1, 1)))
                r = -ENOMEM;
        if (r < 0) {
                erase_and_free(s.out);
                return log_debug_errno(r, "Cannot inflate: %m");
        }
        /* out_byte() always leaves room for the terminator. */
        s.out[s.out_len] = 0;
        *ret = s.out;
        if (ret_len)
                *ret_len = s.out_len;
        if (ret_consumed)
                *ret_consumed = s.pos;
        return 0;
}

int md_gunzip(const void *in, size_t len, size_t max, char **ret, size_t *ret_len) {
        const uint8_t *b = in;
        _cleanup_erase_ char *all = NULL;
        size_t all_len = 0, pos = 0;

        if (max == 0)
                max = MD_DECODE_MAX;
        while (pos < len) {
                _cleanup_erase_ char *part = NULL;
                size_t part_len, used, p = pos;
                uint8_t flags;
                int r;

                if (len - p < 18 || b[p] != 0x1f || b[p + 1] != 0x8b || b[p + 2] != 8)
                        return log_debug_errno(EBADMSG, "Not a gzip member at byte %zu", p);
                flags = b[p + 3];
                if (flags & 0xe0)
                        return -EBADMSG;
                p += 10;
                if (flags & 0x04) { /* FEXTRA */
                        size_t xlen;
                        if (len - p < 2)
                                return -EBADMSG;
                        xlen = b[p] | (size_t) b[p + 1] << 8;
                        p += 2;
                        if (len - p < xlen)
                                return -EBADMSG;
                        p += xlen;
                }
                for (int f = 0x08; f <= 0x10; f <<= 1) /* FNAME, FCOMMENT: NUL-terminated */
                        if (flags & f) {
                                const uint8_t *z = memchr(b + p, 0, len - p);
                                if (!z)
                                        return -EBADMSG;
                                p = (size_t) (z - b) + 1;
                        }
                if (flags & 0x02) { /* FHCRC */
                        if (len - p < 2)
                                return -EBADMSG;
                        p += 2;
                }
                r = md_inflate(b + p, len - p, max - all_len, &part, &part_len, &used);
                if (r < 0)
                        return r;
                p += used;
                if (len - p < 8)
                        return -EBADMSG;
                uint32_t crc = b[p] | b[p + 1] << 8 | b[p + 2] << 16 | (uint32_t) b[p + 3] << 24;
                uint32_t isize = b[p + 4] | b[p + 5] << 8 | b[p + 6] << 16 | (uint32_t) b[p + 7] << 24;
                if (crc != md_crc32(0, part, part_len) || isize != (uint32_t) part_len)
                        return log_debug_errno(EBADMSG, "gzip member fails its CRC or length check");
                p += 8;

                if (!all) {
                        all = TAKE_PTR(part);
                        all_len = part_len;
                } else {
                        char *t = malloc(all_len + part_len + 1);
                        if (!t)
                                return -ENOMEM;
                        memcpy(t, all, all_len);
                        memcpy(t + all_len, part, part_len);
                        t[all_len + part_len] = 0;
                        erase_and_free(all);
                        all = t;
                        all_len += part_len;
                }
                pos = p;
                /* Trailing zero padding after the last member is common (tape blocks); stop there. */
                while (pos < len && b[pos] == 0)
                        pos++;
        }
        if (!all)
                return -EBADMSG;
        *ret = TAKE_PTR(all);
        if (ret_len)
                *ret_len = all_len;
        return 0;
}
