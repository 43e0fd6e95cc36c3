/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbuild.h"
#include "jsonutil.h"

void *jb_fail(struct json_builder *b, int error) {
        if (b->error == 0)
                b->error = error < 0 ? error : -error;
        return NULL;
}

/* Frees an item that could not be added (or a root whose build failed). */
static void drop(const struct json_builder *b, cJSON *item) {
        if (b->wipe)
                json_delete_wiped(item);
        else
                cJSON_Delete(item);
}

static cJSON *created(struct json_builder *b, cJSON *item) {
        return item ?: jb_fail(b, -ENOMEM);
}

cJSON *jb_object(struct json_builder *b) {
        return created(b, cJSON_CreateObject());
}

cJSON *jb_array(struct json_builder *b) {
        return created(b, cJSON_CreateArray());
}

cJSON *jb_add(struct json_builder *b, cJSON *parent, const char *key, cJSON *item) {
        if (parent && item &&
            (cJSON_IsArray(parent) ? cJSON_AddItemToArray(parent, item)
                                   : key && cJSON_AddItemToObject(parent, key, item)))
                return item;
        drop(b, item);
        return jb_fail(b, -ENOMEM);
}

cJSON *jb_set(struct json_builder *b, cJSON *parent, const char *key, cJSON *item) {
        cJSON *have = parent && key ? cJSON_GetObjectItemCaseSensitive(parent, key) : NULL;
        size_t n;
        char *k;

        if (!have)
                return jb_add(b, parent, key, item);
        /* cJSON_ReplaceItemInObject() of cJSON 1.7.15 does not check its copy of the key (fixed in 1.7.16):
         * copy it here, with cJSON's allocator, and replace by pointer, which allocates nothing. */
        n = strlen(key) + 1;
        k = item ? cJSON_malloc(n) : NULL;
        if (!k) {
                drop(b, item);
                return jb_fail(b, -ENOMEM);
        }
        memcpy(k, key, n);
        if (item->string && !(item->type & cJSON_StringIsConst))
                cJSON_free(item->string);
        item->string = k;
        item->type &= ~cJSON_StringIsConst;
        (void) cJSON_ReplaceItemViaPointer(parent, have, item);
        return item;
}

cJSON *jb_copy(struct json_builder *b, cJSON *parent, const char *key, const cJSON *item) {
        return jb_add(b, parent, key, item ? cJSON_Duplicate(item, true) : NULL);
}

cJSON *jb_obj(struct json_builder *b, cJSON *parent, const char *key) {
        return jb_add(b, parent, key, cJSON_CreateObject());
}

cJSON *jb_obj_at(struct json_builder *b, cJSON *parent, const char *key) {
        cJSON *have = parent && key ? cJSON_GetObjectItemCaseSensitive(parent, key) : NULL;
        if (cJSON_IsObject(have))
                return have;
        return have ? jb_set(b, parent, key, cJSON_CreateObject()) : jb_obj(b, parent, key);
}

cJSON *jb_arr(struct json_builder *b, cJSON *parent, const char *key) {
        return jb_add(b, parent, key, cJSON_CreateArray());
}

cJSON *jb_str(struct json_builder *b, cJSON *parent, const char *key, const char *value) {
        return jb_add(b, parent, key, value ? cJSON_CreateString(value) : NULL);
}

cJSON *jb_strf(struct json_builder *b, cJSON *parent, const char *key, const char *fmt, ...) {
        char *v = NULL;
        cJSON *item;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                v = NULL;
        va_end(ap);
        item = jb_str(b, parent, key, v);
        free(v);
        return item;
}

cJSON *jb_num(struct json_builder *b, cJSON *parent, const char *key, double value) {
        return jb_add(b, parent, key, cJSON_CreateNumber(value));
}

cJSON *jb_bool(struct json_builder *b, cJSON *parent, const char *key, bool value) {
        return jb_add(b, parent, key, cJSON_CreateBool(value));
}

cJSON *jb_null(struct json_builder *b, cJSON *parent, const char *key) {
        return jb_add(b, parent, key, cJSON_CreateNull());
}

cJSON *jb_strs(struct json_builder *b, cJSON *parent, const char *key, const char *const *list) {
        cJSON *a = jb_arr(b, parent, key);
        for (; a && list && *list; list++)
                jb_str(b, a, NULL, *list);
        return a;
}

int jb_finish(struct json_builder *b, cJSON *root, cJSON **ret) {
        if (!root)
                jb_fail(b, -ENOMEM);
        if (b->error < 0) {
                drop(b, root);
                return b->error;
        }
        *ret = root;
        return 0;
}

cJSON *jb_result(struct json_builder *b, cJSON *root) {
        cJSON *o = NULL;
        return jb_finish(b, root, &o) < 0 ? NULL : o;
}
