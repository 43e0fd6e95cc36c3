/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building cJSON trees without checking every call: each step records the first failure in the builder
 * and later steps on a missing parent record nothing new, so a builder checks once, at the end, and an
 * allocation that failed half way yields an error, never an object with members missing.
 *
 *         struct json_builder b = {};
 *         cJSON *o = jb_object(&b), *meta = jb_obj(&b, o, "metadata");
 *         jb_str(&b, meta, "name", name);
 *         return jb_finish(&b, o, ret);          (0, or -ENOMEM with o deleted and *ret untouched)
 *
 * Every jb_ step that adds takes a parent (an object, or an array to append to: the key is then ignored)
 * and returns the new member, or NULL after recording the failure. A NULL parent or value means an
 * earlier step (or an allocation of the caller's) failed: it is recorded as -ENOMEM.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "cleanup.h"

struct json_builder {
        int error; /* the first failure (a negative errno), 0 while every step worked */
        bool wipe; /* for trees holding secrets: what is dropped on failure is wiped first
                      (json_delete_wiped) */
};

/* Records error unless one is recorded already; returns NULL. For failures of the caller's own steps. */
void *jb_fail(struct json_builder *b, int error);
/* The first failure, or 0. */
static inline int jb_error(const struct json_builder *b) {
        return b->error;
}

/* A new object or array, for a root or for jb_add(). */
cJSON *jb_object(struct json_builder *b);
cJSON *jb_array(struct json_builder *b);

/* Takes item and adds it to parent under key (appends it when parent is an array); on failure frees it. */
cJSON *jb_add(struct json_builder *b, cJSON *parent, const char *key, cJSON *item);
/* Takes item and puts it under key, replacing the member of that name (case-sensitive) if there is one. */
cJSON *jb_set(struct json_builder *b, cJSON *parent, const char *key, cJSON *item);
/* Adds a deep copy of item. */
cJSON *jb_copy(struct json_builder *b, cJSON *parent, const char *key, const cJSON *item);

cJSON *jb_obj(struct json_builder *b, cJSON *parent, const char *key);
/* The object member key of parent, added when absent. */
cJSON *jb_obj_at(struct json_builder *b, cJSON *parent, const char *key);
cJSON *jb_arr(struct json_builder *b, cJSON *parent, const char *key);
cJSON *jb_str(struct json_builder *b, cJSON *parent, const char *key, const char *value);
_printf_(4, 5) cJSON *jb_strf(struct json_builder *b, cJSON *parent, const char *key, const char *fmt, ...);
cJSON *jb_num(struct json_builder *b, cJSON *parent, const char *key, double value);
cJSON *jb_bool(struct json_builder *b, cJSON *parent, const char *key, bool value);
cJSON *jb_null(struct json_builder *b, cJSON *parent, const char *key);
/* An array of the strings of a NULL-terminated list. */
cJSON *jb_strs(struct json_builder *b, cJSON *parent, const char *key, const char *const *list);

/* Ends a build of root: 0 and *ret = root, or the first failure after deleting root (*ret untouched). */
int jb_finish(struct json_builder *b, cJSON *root, cJSON **ret);
/* The same for builders that return the object, NULL meaning -ENOMEM: root, or NULL after deleting it. */
cJSON *jb_result(struct json_builder *b, cJSON *root);
