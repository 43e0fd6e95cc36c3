/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON helpers over cJSON: parsing with a size cap and error position, and typed lookups by dotted path.
 * Returned cJSON trees are owned by the caller (cJSON_Delete); lookups return borrowed pointers valid as
 * long as the tree lives.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEFAULT_MAX (4u * 1024u * 1024u)

/*
 * Parses exactly len bytes (no trailing garbage but whitespace). -EFBIG over max (0 = JSON_DEFAULT_MAX),
 * -EBADMSG on a syntax error (its byte offset in *ret_error_offset when non-NULL), -ENOMEM.
 */
int json_parse(const char *buf, size_t len, size_t max, cJSON **ret, size_t *ret_error_offset);

/* The item at a dotted path ("metadata.name"); NULL when absent. Keys are matched case-sensitively. */
const cJSON *json_get(const cJSON *root, const char *path);
/* The string at a path; NULL when absent or not a string. */
const char *json_get_string(const cJSON *root, const char *path);
/* The scalar text at a path: a string, or the source text of a YAML number/boolean. */
const char *json_get_scalar_text(const cJSON *root, const char *path);
const char *json_scalar_text(const cJSON *item);
/* -ENOENT when absent, -EINVAL when not a boolean. */
int json_get_bool(const cJSON *root, const char *path, bool *ret);
/* -ENOENT when absent, -EINVAL when not a whole number within int64 (precision of doubles). */
int json_get_int64(const cJSON *root, const char *path, int64_t *ret);

/* Adds a string member, replacing one of the same name; -ENOMEM. */
int json_set_string(cJSON *obj, const char *key, const char *value);

/* Frees a tree (NULL-safe) after zeroing every string in it, for trees that hold secrets; the siblings of j
 * are left alone. Returns NULL. */
cJSON *json_delete_wiped(cJSON *j);
static inline void json_delete_wipedp(cJSON **j) {
        *j = json_delete_wiped(*j);
}

/* Compact text; NULL on OOM. Caller frees. */
char *json_to_string(const cJSON *item);
/* Indented text with a trailing newline; NULL on OOM. */
char *json_to_string_pretty(const cJSON *item);
