/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strutil.h"

bool endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool memeq_const_time(const void *a, const void *b, size_t n) {
        const volatile unsigned char *x = a, *y = b;
        unsigned char d = 0;
        for (size_t i = 0; i < n; i++)
                d |= x[i] ^ y[i];
        return d == 0;
}

bool streq_const_time(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        /* The length of a secret is not itself secret here (tokens have fixed formats). */
        if (la != lb)
                return false;
        return memeq_const_time(a, b, la);
}

char *hex_encode(const void *p, size_t n) {
        static const char digits[] = "0123456789abcdef";
        const unsigned char *b = p;
        char *s = malloc(n * 2 + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                s[2 * i] = digits[b[i] >> 4];
                s[2 * i + 1] = digits[b[i] & 15];
        }
        s[n * 2] = 0;
        return s;
}

static int unhex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int hex_decode(const char *s, size_t len, void **ret, size_t *ret_len) {
        _cleanup_erase_ unsigned char *buf = NULL;

        if (len % 2 != 0)
                return -EINVAL;
        buf = malloc(len / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < len; i += 2) {
                int hi = unhex_digit(s[i]), lo = unhex_digit(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                buf[i / 2] = (unsigned char) (hi << 4 | lo);
        }
        *ret_len = len / 2;
        *ret = TAKE_PTR(buf);
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (isempty(s) || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

char *strjoin_sep(const char *const *parts, size_t n, const char *sep) {
        size_t total = 1, lsep = strlen(sep);
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                total += strlen(parts[i]) + (i > 0 ? lsep : 0);
        s = p = malloc(total);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, parts[i]);
        }
        *p = 0;
        return s;
}

char *strdupf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        for (; l && l[n]; n++)
                ;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n;
        char **t;

        if (!s)
                return -ENOMEM;
        n = strv_length(*l);
        t = calloc(n + 2, sizeof(char *));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(t, *l, sizeof(char *) * n);
        t[n] = s;
        free(*l);
        *l = t;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        return strv_consume(l, c);
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

char *strstrip(char *s) {
        size_t n;
        char *p = s;
        if (!s)
                return NULL;
        while (*p && isspace((unsigned char) *p))
                p++;
        if (p != s)
                memmove(s, p, strlen(p) + 1);
        n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        return s;
}

int parse_device_spec(const char *s, const char **ret_tag, char **ret_value) {
        static const char *const tags[] = {"LABEL", "UUID", "PARTLABEL", "PARTUUID"};
        const char *tag = NULL, *v = NULL;
        size_t l;
        char *copy;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '/')
                v = s;
        else
                for (size_t i = 0; i < ELEMENTSOF(tags) && !v; i++) {
                        l = strlen(tags[i]);
                        if (strncmp(s, tags[i], l) == 0 && s[l] == '=') {
                                tag = tags[i];
                                v = s + l + 1;
                        }
                }
        if (!v)
                return -EINVAL;
        l = strlen(v);
        if (tag && l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                v++;
                l -= 2;
        }
        if (l == 0 || memchr(v, '\n', l) || (!tag && strstr(v, "/../")))
                return -EINVAL;
        copy = strndup(v, l);
        if (!copy)
                return -ENOMEM;
        *ret_tag = tag;
        *ret_value = copy;
        return 0;
}

bool str_looks_secret(const char *s) {
        size_t n = strlen(s), hex = 0;
        if (strstr(s, "PRIVATE KEY"))
                return true;
        for (size_t i = 0; i < n; i++) {
                /* Hex runs, except the digest of a "sha256:" pin (public by design). */
                if (isxdigit((unsigned char) s[i]) && hex == 0 && i >= 7 &&
                    strncasecmp(s + i - 7, "sha256:", 7) == 0) {
                        while (i < n && isxdigit((unsigned char) s[i]))
                                i++;
                        if (i >= n)
                                break;
                }
                hex = isxdigit((unsigned char) s[i]) ? hex + 1 : 0;
                if (hex >= 32)
                        return true;
                if (i + 23 <= n && s[i + 6] == '.') {
                        bool token = true;
                        for (size_t k = 0; token && k < 23; k++)
                                token = k == 6 || islower((unsigned char) s[i + k]) ||
                                        isdigit((unsigned char) s[i + k]);
                        if (token)
                                return true;
                }
        }
        return false;
}
