/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "tests/unit/unit.h"

static int fails_quietly(void) {
        return -ENOENT;
}

static int fails_saying(struct error *why, const char *what) {
        return error_set(why, -EACCES, "cannot open '%s'", what);
}

static void test_set_returns_the_code_and_keeps_the_message(void **state) {
        struct error e = {};
        (void) state;

        assert_int_equal(error_set(&e, -EINVAL, "field '%s' must be %d", "a.b", 3), -EINVAL);
        assert_int_equal(e.code, -EINVAL);
        assert_string_equal(e.message, "field 'a.b' must be 3");
        assert_string_equal(error_message(&e, -EIO), "field 'a.b' must be 3");

        /* A positive errno is stored negated, as log_*_errno() take either. */
        assert_int_equal(error_set(&e, EPERM, "no"), -EPERM);
        assert_int_equal(e.code, -EPERM);
        assert_string_equal(e.message, "no");
}

static void test_wrap_prefixes_context_and_keeps_the_code(void **state) {
        struct error e = {};
        (void) state;

        assert_int_equal(fails_saying(&e, "/etc/x"), -EACCES);
        /* The caller got -EACCES; a different code passed to wrap does not replace the callee's. */
        assert_int_equal(error_wrap(&e, -EIO, "phase %s", "certs"), -EACCES);
        assert_int_equal(e.code, -EACCES);
        assert_string_equal(e.message, "phase certs: cannot open '/etc/x'");
        assert_int_equal(error_wrap(&e, -EACCES, "run"), -EACCES);
        assert_string_equal(error_message(&e, 0), "run: phase certs: cannot open '/etc/x'");
}

static void test_wrap_of_a_silent_callee_uses_strerror(void **state) {
        struct error e = {};
        int r;
        (void) state;

        r = fails_quietly();
        assert_int_equal(error_wrap(&e, r, "cannot read '%s'", "/etc/kubernetes/admin.conf"), -ENOENT);
        assert_int_equal(e.code, -ENOENT);
        assert_string_equal(e.message,
                            "cannot read '/etc/kubernetes/admin.conf': No such file or directory");

        /* Neither code nor message: the context alone. */
        error_clear(&e);
        assert_int_equal(error_wrap(&e, 0, "just this"), 0);
        assert_string_equal(e.message, "just this");
}

static void test_message_falls_back_to_strerror(void **state) {
        struct error e = {};
        (void) state;

        /* Nothing set: strerror of the code the caller got back. */
        assert_string_equal(error_message(&e, -ETIMEDOUT), strerror(ETIMEDOUT));
        assert_string_equal(error_message(&e, ETIMEDOUT), strerror(ETIMEDOUT));
        assert_string_equal(error_message(&e, 0), "");
        /* A code without words: strerror of the error's own code, which wins over the caller's. */
        e.code = -EHOSTDOWN;
        assert_string_equal(error_message(&e, -EIO), strerror(EHOSTDOWN));
}

static void test_clear(void **state) {
        struct error e = {};
        (void) state;

        (void) error_set(&e, -EBUSY, "held by '%s'", "node-1");
        error_clear(&e);
        assert_int_equal(e.code, 0);
        assert_string_equal(e.message, "");
        assert_string_equal(error_message(&e, -EBUSY), strerror(EBUSY));
}

static void test_long_messages_are_cut_not_overrun(void **state) {
        char big[3 * ERROR_MESSAGE_MAX];
        struct error e = {};
        (void) state;

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(error_set(&e, -E2BIG, "%s", big), -E2BIG);
        assert_int_equal(strlen(e.message), ERROR_MESSAGE_MAX - 1);
        assert_int_equal(e.code, -E2BIG);

        /* Wrapping a full message keeps the whole context and cuts the cause's tail. */
        assert_int_equal(error_wrap(&e, -E2BIG, "context"), -E2BIG);
        assert_int_equal(strlen(e.message), ERROR_MESSAGE_MAX - 1);
        assert_memory_equal(e.message, "context: xxx", 12);

        /* A context longer than the buffer: cut, terminated, the code kept. */
        assert_int_equal(error_wrap(&e, -EIO, "%s", big), -E2BIG);
        assert_int_equal(strlen(e.message), ERROR_MESSAGE_MAX - 1);
        assert_int_equal(e.message[0], 'x');
}

static void test_null_is_accepted_everywhere(void **state) {
        (void) state;

        assert_int_equal(error_set(NULL, -EINVAL, "ignored %s", "too"), -EINVAL);
        assert_int_equal(error_set(NULL, EINVAL, "ignored"), -EINVAL);
        assert_int_equal(error_wrap(NULL, -ENOMEM, "context"), -ENOMEM);
        assert_int_equal(fails_saying(NULL, "x"), -EACCES);
        assert_string_equal(error_message(NULL, -ENOMEM), strerror(ENOMEM));
        assert_string_equal(error_message(NULL, 0), "");
        error_clear(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_returns_the_code_and_keeps_the_message),
                cmocka_unit_test(test_wrap_prefixes_context_and_keeps_the_code),
                cmocka_unit_test(test_wrap_of_a_silent_callee_uses_strerror),
                cmocka_unit_test(test_message_falls_back_to_strerror),
                cmocka_unit_test(test_clear),
                cmocka_unit_test(test_long_messages_are_cut_not_overrun),
                cmocka_unit_test(test_null_is_accepted_everywhere),
        };
        return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
