/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/yamlutil.h"
#include "tests/unit/unit.h"

static cJSON *parse_ok(const char *text) {
        cJSON *docs = NULL;
        struct yaml_error err = {};
        int r = yaml_parse_documents(text, strlen(text), &docs, &err);
        if (r < 0)
                fail_msg("parse failed: %d line %u col %u: %s", r, err.line, err.column, err.message);
        return docs;
}

static void test_scalars_resolve_like_kubeadm(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *docs =
                parse_ok("a: yes\nb: 'yes'\nc: 10\nd: 0x10\ne: 1.5\nf: ~\ng: \"10\"\nh: on\ni: !!str 12\n"
                         "j: 1.30\nk: 18446744073709551615\nl: hello world\n");
        const cJSON *d = cJSON_GetArrayItem(docs, 0);
        bool b;
        int64_t i;

        assert_int_equal(json_get_bool(d, "a", &b), 0);
        assert_true(b);
        assert_string_equal(json_get_string(d, "b"), "yes");
        assert_int_equal(json_get_int64(d, "c", &i), 0);
        assert_int_equal(i, 10);
        assert_int_equal(json_get_int64(d, "d", &i), 0);
        assert_int_equal(i, 16);
        assert_true(cJSON_IsNumber(json_get(d, "e")));
        assert_true(cJSON_IsNull(json_get(d, "f")));
        assert_string_equal(json_get_string(d, "g"), "10");
        assert_int_equal(json_get_bool(d, "h", &b), 0);
        assert_string_equal(json_get_string(d, "i"), "12");
        /* A version written unquoted still reads back as the text the user wrote. */
        assert_string_equal(json_get_scalar_text(d, "j"), "1.30");
        /* Too large for a double: kept exactly. */
        assert_string_equal(json_get_scalar_text(d, "k"), "18446744073709551615");
        assert_string_equal(json_get_string(d, "l"), "hello world");
}

static void test_multi_document_and_empty_documents(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *docs =
                parse_ok("---\nkind: A\n---\n# only a comment\n---\nkind: B\n...\n");
        assert_int_equal(cJSON_GetArraySize(docs), 2);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(docs, 1), "kind"), "B");
}

static void test_errors_have_positions(void **state) {
        (void) state;
        cJSON *docs = NULL;
        struct yaml_error err = {};
        const char *bad = "a: 1\nb: [1, 2\nc: 3\n";
        assert_int_equal(yaml_parse_documents(bad, strlen(bad), &docs, &err), -EBADMSG);
        assert_null(docs);
        assert_true(err.line >= 2);
        assert_true(strlen(err.message) > 0);

        const char *dup = "a: 1\na: 2\n";
        assert_int_equal(yaml_parse_documents(dup, strlen(dup), &docs, &err), -EBADMSG);
        assert_int_equal(err.line, 2);
        assert_non_null(strstr(err.message, "duplicate key 'a'"));

        const char *complex_key = "? [a]\n: 1\n";
        assert_int_equal(yaml_parse_documents(complex_key, strlen(complex_key), &docs, &err), -EBADMSG);
        assert_int_equal(yaml_parse_documents("a: *nope\n", 9, &docs, &err), -EBADMSG);
}

static void test_alias_bomb_is_capped(void **state) {
        (void) state;
        cJSON *docs = NULL;
        struct yaml_error err = {};
        const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                           "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                           "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                           "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                           "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert_int_equal(yaml_parse_documents(bomb, strlen(bomb), &docs, &err), -E2BIG);
        assert_null(docs);

        _cleanup_free_ char *deep = malloc(4000);
        memset(deep, '[', 3999);
        deep[3999] = 0;
        assert_int_equal(yaml_parse_documents(deep, strlen(deep), &docs, &err), -E2BIG);
}

static void test_aliases_expand(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *docs = parse_ok("base: &b {x: 1}\nother: *b\n");
        int64_t i;
        assert_int_equal(json_get_int64(cJSON_GetArrayItem(docs, 0), "other.x", &i), 0);
        assert_int_equal(i, 1);
}

static void test_emit_roundtrip_quotes_what_needs_it(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *obj = cJSON_CreateObject();
        _cleanup_(cJSON_Deletep) cJSON *back = NULL;
        _cleanup_free_ char *text = NULL;
        cJSON *list;

        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        cJSON_AddStringToObject(obj, "yes", "true");
        cJSON_AddStringToObject(obj, "port", "6443");
        cJSON_AddStringToObject(obj, "empty", "");
        cJSON_AddStringToObject(obj, "colon", "a: b");
        cJSON_AddStringToObject(obj, "pem", "-----BEGIN X-----\nAAAA\n-----END X-----\n");
        cJSON_AddNumberToObject(obj, "n", 42);
        cJSON_AddBoolToObject(obj, "b", true);
        cJSON_AddNullToObject(obj, "z");
        list = cJSON_AddArrayToObject(obj, "command");
        cJSON_AddItemToArray(list, cJSON_CreateString("etcd"));
        cJSON_AddItemToArray(list, cJSON_CreateString("--name=cp-1"));

        assert_int_equal(yaml_emit(obj, &text), 0);
        assert_non_null(strstr(text, "apiVersion: v1\n"));
        assert_non_null(strstr(text, "port: \"6443\"\n"));
        assert_non_null(strstr(text, "command:\n- etcd\n- --name=cp-1\n"));
        assert_non_null(strstr(text, "pem: |\n"));

        assert_int_equal(yaml_parse_documents(text, strlen(text), &back, NULL), 0);
        assert_int_equal(cJSON_GetArraySize(back), 1);
        /* Same values and types after the round trip (valuestring extras aside). */
        const cJSON *d = cJSON_GetArrayItem(back, 0);
        assert_string_equal(json_get_string(d, "yes"), "true");
        assert_string_equal(json_get_string(d, "port"), "6443");
        assert_string_equal(json_get_string(d, "empty"), "");
        assert_string_equal(json_get_string(d, "colon"), "a: b");
        assert_string_equal(json_get_string(d, "pem"), "-----BEGIN X-----\nAAAA\n-----END X-----\n");
        assert_true(cJSON_IsNumber(json_get(d, "n")));
        assert_true(cJSON_IsTrue(json_get(d, "b")));
        assert_true(cJSON_IsNull(json_get(d, "z")));
}

static void test_emit_several_documents(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *docs = parse_ok("kind: A\n---\nkind: B\n");
        _cleanup_free_ char *text = NULL;
        assert_int_equal(yaml_emit(docs, &text), 0);
        assert_string_equal(text, "kind: A\n---\nkind: B\n");
}

static void test_typed_plain_scalars(void **state) {
        (void) state;
        const char *typed[] = {"true", "False", "ON",   "n",   "~",   "null", "",     "12",
                               "-3",   "0o17",  "0x1F", "1.5", "1e3", ".inf", ".NaN", "1_000"};
        const char *plain[] = {"v1", "1.2.3", "10.96.0.0/12", "kube-system", "sha256:ab", "1e", "0x", "abc"};
        for (size_t i = 0; i < ELEMENTSOF(typed); i++)
                assert_true(yaml_plain_scalar_is_typed(typed[i]));
        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                assert_false(yaml_plain_scalar_is_typed(plain[i]));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalars_resolve_like_kubeadm),
                cmocka_unit_test(test_multi_document_and_empty_documents),
                cmocka_unit_test(test_errors_have_positions),
                cmocka_unit_test(test_alias_bomb_is_capped),
                cmocka_unit_test(test_aliases_expand),
                cmocka_unit_test(test_emit_roundtrip_quotes_what_needs_it),
                cmocka_unit_test(test_emit_several_documents),
                cmocka_unit_test(test_typed_plain_scalars),
        };
        return cmocka_run_group_tests_name("yamlutil", tests, NULL, NULL);
}
