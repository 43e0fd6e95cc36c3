/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbuild.h"
#include "jsonutil.h"
#include "log.h"
#include "strutil.h"

int json_parse(const char *buf, size_t len, size_t max, cJSON **ret, size_t *ret_error_offset) {
        const char *end = NULL;
        cJSON *j;

        if (len > (max ?: JSON_DEFAULT_MAX))
                return log_debug_errno(EFBIG, "JSON document of %zu bytes is over the cap", len);
        if (len == 0) {
                if (ret_error_offset)
                        *ret_error_offset = 0;
                return -EBADMSG;
        }
        j = cJSON_ParseWithLengthOpts(buf, len, &end, false);
        if (!j) {
                size_t off = end && end >= buf ? (size_t) (end - buf) : 0;
                if (ret_error_offset)
                        *ret_error_offset = off;
                return log_debug_errno(EBADMSG, "JSON syntax error at byte %zu", off);
        }
        /* cJSON stops after the first value: anything but whitespace after it is an error. */
        for (const char *p = end; p < buf + len; p++)
                if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != 0) {
                        cJSON_Delete(j);
                        if (ret_error_offset)
                                *ret_error_offset = (size_t) (p - buf);
                        return log_debug_errno(EBADMSG, "Trailing data after JSON value at byte %zu",
                                               (size_t) (p - buf));
                }
        *ret = j;
        return 0;
}

const cJSON *json_get(const cJSON *root, const char *path) {
        const cJSON *cur = root;
        const char *p = path;

        while (cur && *p) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t) (dot - p) : strlen(p);
                char key[256];
                if (n >= sizeof(key) || !cJSON_IsObject(cur))
                        return NULL;
                memcpy(key, p, n);
                key[n] = 0;
                cur = cJSON_GetObjectItemCaseSensitive(cur, key);
                p += n + (dot ? 1 : 0);
        }
        return cur;
}

const char *json_get_string(const cJSON *root, const char *path) {
        const cJSON *j = json_get(root, path);
        return j && cJSON_IsString(j) ? j->valuestring : NULL;
}

const char *json_scalar_text(const cJSON *j) {
        if (!j)
                return NULL;
        if (cJSON_IsString(j))
                return j->valuestring;
        /* yaml.c keeps the source text of plain numbers and booleans in valuestring. */
        if ((cJSON_IsNumber(j) || cJSON_IsBool(j) || cJSON_IsRaw(j)) && j->valuestring)
                return j->valuestring;
        return NULL;
}

const char *json_get_scalar_text(const cJSON *root, const char *path) {
        return json_scalar_text(json_get(root, path));
}

int json_get_bool(const cJSON *root, const char *path, bool *ret) {
        const cJSON *j = json_get(root, path);
        if (!j)
                return -ENOENT;
        if (!cJSON_IsBool(j))
                return -EINVAL;
        *ret = cJSON_IsTrue(j);
        return 0;
}

int json_get_int64(const cJSON *root, const char *path, int64_t *ret) {
        const cJSON *j = json_get(root, path);
        double d;
        if (!j)
                return -ENOENT;
        if (!cJSON_IsNumber(j))
                return -EINVAL;
        d = j->valuedouble;
        if (!isfinite(d) || d != floor(d) || d < -9007199254740992.0 || d > 9007199254740992.0)
                return -EINVAL;
        *ret = (int64_t) d;
        return 0;
}

int json_set_string(cJSON *obj, const char *key, const char *value) {
        struct json_builder b = {};
        jb_set(&b, obj, key, cJSON_CreateString(value));
        return jb_error(&b);
}

static void json_wipe(cJSON *j) {
        for (; j; j = j->next) {
                if (j->valuestring)
                        explicit_bzero(j->valuestring, strlen(j->valuestring));
                json_wipe(j->child);
        }
}

cJSON *json_delete_wiped(cJSON *j) {
        if (j) {
                cJSON *next = j->next;
                j->next = NULL; /* wipe this item and its children only */
                json_wipe(j);
                j->next = next;
                cJSON_Delete(j);
        }
        return NULL;
}

char *json_to_string(const cJSON *item) {
        return cJSON_PrintUnformatted(item);
}

char *json_to_string_pretty(const cJSON *item) {
        _cleanup_free_ char *s = cJSON_Print(item);
        if (!s)
                return NULL;
        return strdupf("%s\n", s);
}
