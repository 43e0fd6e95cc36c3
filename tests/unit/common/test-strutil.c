/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/strutil.h"
#include "tests/unit/unit.h"

static void test_hex_roundtrip(void **state) {
        (void) state;
        const unsigned char bytes[] = {0x00, 0x7f, 0x80, 0xff, 0x12};
        _cleanup_free_ char *hex = hex_encode(bytes, sizeof(bytes));
        _cleanup_free_ void *back = NULL;
        size_t n = 0;

        assert_string_equal(hex, "007f80ff12");
        assert_int_equal(hex_decode("007F80fF12", 10, &back, &n), 0);
        assert_int_equal(n, sizeof(bytes));
        assert_memory_equal(back, bytes, n);
}

static void test_hex_decode_rejects_bad_input_and_leaves_output(void **state) {
        (void) state;
        void *out = (void *) 0x1;
        size_t n = 77;
        assert_int_equal(hex_decode("abc", 3, &out, &n), -EINVAL);
        assert_int_equal(hex_decode("zz", 2, &out, &n), -EINVAL);
        assert_ptr_equal(out, (void *) 0x1);
        assert_int_equal(n, 77);
}

static void test_const_time_compare(void **state) {
        (void) state;
        assert_true(streq_const_time("abcdef.0123456789abcdef", "abcdef.0123456789abcdef"));
        assert_false(streq_const_time("abcdef.0123456789abcdef", "abcdef.0123456789abcdeg"));
        assert_false(streq_const_time("abc", "abcd"));
        assert_true(memeq_const_time("\0\1", "\0\1", 2));
        assert_false(memeq_const_time("\0\1", "\0\2", 2));
}

static void test_safe_atou64(void **state) {
        (void) state;
        uint64_t v = 0;
        unsigned u = 0;
        assert_int_equal(safe_atou64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(safe_atou64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(safe_atou64("-1", &v), -EINVAL);
        assert_int_equal(safe_atou64(" 1", &v), -EINVAL);
        assert_int_equal(safe_atou64("12x", &v), -EINVAL);
        assert_int_equal(safe_atou64("", &v), -EINVAL);
        assert_int_equal(safe_atou("4294967296", &u), -ERANGE);
        assert_int_equal(safe_atou("42", &u), 0);
        assert_int_equal(u, 42);
}

static void test_strv(void **state) {
        (void) state;
        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(strv_length(l), 0);
        assert_int_equal(strv_extend(&l, "a"), 0);
        assert_int_equal(strv_extend(&l, "b"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "b"));
        assert_false(strv_contains(l, "c"));
        _cleanup_free_ char *j = strjoin_sep((const char *const *) l, 2, ", ");
        assert_string_equal(j, "a, b");
}

static void test_prefix_suffix(void **state) {
        (void) state;
        assert_string_equal(startswith("--root=/x", "--root="), "/x");
        assert_null(startswith("--ro", "--root="));
        assert_true(endswith("ca.crt", ".crt"));
        assert_false(endswith("crt", "ca.crt"));
        assert_true(streq_ptr(NULL, NULL));
        assert_false(streq_ptr("a", NULL));
}

static void test_strstrip(void **state) {
        (void) state;
        char a[] = " \t x y \r\n", b[] = "   ", c[] = "z";
        assert_string_equal(strstrip(a), "x y");
        assert_string_equal(strstrip(b), "");
        assert_string_equal(strstrip(c), "z");
        assert_null(strstrip(NULL));
}

static void test_parse_device_spec(void **state) {
        const char *tag = "untouched";
        char *v = NULL;
        (void) state;

        assert_int_equal(parse_device_spec("/dev/disk/by-id/virtio-etcd", &tag, &v), 0);
        assert_null(tag);
        assert_string_equal(v, "/dev/disk/by-id/virtio-etcd");
        free(v);
        assert_int_equal(parse_device_spec("LABEL=etcd", &tag, &v), 0);
        assert_string_equal(tag, "LABEL");
        assert_string_equal(v, "etcd");
        free(v);
        assert_int_equal(parse_device_spec("LABEL=\"etcd data\"", &tag, &v), 0);
        assert_string_equal(v, "etcd data");
        free(v);
        assert_int_equal(parse_device_spec("UUID=0a1b-2c3d", &tag, &v), 0);
        assert_string_equal(tag, "UUID");
        free(v);
        assert_int_equal(parse_device_spec("PARTLABEL=etcd", &tag, &v), 0);
        assert_string_equal(tag, "PARTLABEL");
        free(v);
        assert_int_equal(parse_device_spec("PARTUUID=1234-01", &tag, &v), 0);
        assert_string_equal(tag, "PARTUUID");
        free(v);

        v = (char *) "untouched";
        static const char *const bad[] = {"",           "vdb",        "dev/vdb", "LABEL=",
                                          "LABEL=\"\"", "label=etcd", "FOO=x",   "/dev/../etc/passwd/../x"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_device_spec(bad[i], &tag, &v), -EINVAL);
        assert_int_equal(parse_device_spec(NULL, &tag, &v), -EINVAL);
        assert_string_equal(v, "untouched");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_roundtrip),
                cmocka_unit_test(test_hex_decode_rejects_bad_input_and_leaves_output),
                cmocka_unit_test(test_const_time_compare),
                cmocka_unit_test(test_safe_atou64),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_prefix_suffix),
                cmocka_unit_test(test_strstrip),
                cmocka_unit_test(test_parse_device_spec),
        };
        return cmocka_run_group_tests_name("strutil", tests, NULL, NULL);
}
