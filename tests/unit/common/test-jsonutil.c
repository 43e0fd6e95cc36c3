/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "tests/unit/unit.h"

static void test_parse_and_lookup(void **state) {
        (void) state;
        const char *t = "{\"metadata\":{\"name\":\"cluster-info\",\"n\":3},\"data\":{\"a.b\":1}} \n";
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        int64_t n;
        bool b;

        assert_int_equal(json_parse(t, strlen(t), 0, &j, NULL), 0);
        assert_string_equal(json_get_string(j, "metadata.name"), "cluster-info");
        assert_int_equal(json_get_int64(j, "metadata.n", &n), 0);
        assert_int_equal(n, 3);
        assert_null(json_get_string(j, "metadata.n"));
        assert_null(json_get(j, "metadata.name.x"));
        assert_int_equal(json_get_bool(j, "metadata.n", &b), -EINVAL);
        assert_int_equal(json_get_bool(j, "missing", &b), -ENOENT);
}

static void test_parse_rejects(void **state) {
        (void) state;
        cJSON *j = NULL;
        size_t off = 0;
        assert_int_equal(json_parse("{\"a\":", 5, 0, &j, &off), -EBADMSG);
        assert_int_equal(json_parse("{} {}", 5, 0, &j, &off), -EBADMSG);
        assert_int_equal(off, 3);
        assert_int_equal(json_parse("", 0, 0, &j, NULL), -EBADMSG);
        assert_int_equal(json_parse("[1,2,3]", 7, 6, &j, NULL), -EFBIG);
        assert_null(j);
}

static void test_set_string_replaces(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
        _cleanup_free_ char *s = NULL;
        assert_int_equal(json_set_string(o, "k", "1"), 0);
        assert_int_equal(json_set_string(o, "k", "2"), 0);
        s = json_to_string(o);
        assert_string_equal(s, "{\"k\":\"2\"}");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_lookup),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_set_string_replaces),
        };
        return cmocka_run_group_tests_name("jsonutil", tests, NULL, NULL);
}
