/* SPDX-License-Identifier: Apache-2.0 */
/* Small string helpers shared by every folder. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
/* Returns the rest of s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}
bool endswith(const char *s, const char *suffix);
/* Trims ASCII whitespace at both ends in place; returns s. */
char *strstrip(char *s);

/* Compares in time independent of where the buffers differ: for tokens, MACs, hashes. */
bool memeq_const_time(const void *a, const void *b, size_t n);
bool streq_const_time(const char *a, const char *b);

/* Lower-case hex. hex_encode returns a new NUL-terminated string or NULL on OOM. */
char *hex_encode(const void *p, size_t n);
/* Accepts either case; -EINVAL on odd length or a non-hex digit; *ret owned by the caller. */
int hex_decode(const char *s, size_t len, void **ret, size_t *ret_len);

/* Parses a whole decimal string into an unsigned value; -EINVAL or -ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);

/* Joins with a separator; NULL on OOM. */
char *strjoin_sep(const char *const *parts, size_t n, const char *sep);
/* asprintf that returns NULL on failure. */
char *strdupf(const char *fmt, ...) _printf_(1, 2);

size_t strv_length(char *const *l);
/* Appends a copy of s; -ENOMEM. */
int strv_extend(char ***l, const char *s);
/* Appends s itself (taking ownership, freed on failure too); -ENOMEM. */
int strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);

/* Whether a value looks like a secret wherever it was put: a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})
 * anywhere in it, a run of 32 or more hex digits (a certificate key, not a "sha256:" CA pin), or a PEM
 * private key. For messages and listings that show values: such a value is described, never shown. */
bool str_looks_secret(const char *s);

/* A block device as fstab names it: splits "LABEL=x" into "LABEL" (static) and "x" (owned, quotes
 * removed); LABEL, UUID, PARTLABEL and PARTUUID are known. A /dev path gives a NULL tag and the path.
 * -EINVAL for anything else (a relative path, an unknown tag, an empty value). */
int parse_device_spec(const char *s, const char **ret_tag, char **ret_value);
