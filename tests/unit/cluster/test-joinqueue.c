/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/cluster/joinqueue.h"
#include "tests/unit/unit.h"

/* 2024-05-06T07:08:09Z */
#define T0 1714979289ll

static void test_parse_time(void **state) {
        int64_t us = -1;
        (void) state;

        assert_int_equal(fb_join_queue_parse_time("2024-05-06T07:08:09.123456Z", &us), 0);
        assert_true(us == T0 * 1000000 + 123456);
        assert_int_equal(fb_join_queue_parse_time("2024-05-06T07:08:09Z", &us), 0);
        assert_true(us == T0 * 1000000);
        /* Nanoseconds (RFC 3339 allows any fraction) are cut to microseconds; offsets are applied. */
        assert_int_equal(fb_join_queue_parse_time("2024-05-06T07:08:09.5Z", &us), 0);
        assert_true(us == T0 * 1000000 + 500000);
        assert_int_equal(fb_join_queue_parse_time("2024-05-06T07:08:09.123456789Z", &us), 0);
        assert_true(us == T0 * 1000000 + 123456);
        assert_int_equal(fb_join_queue_parse_time("2024-05-06T09:08:09+02:00", &us), 0);
        assert_true(us == T0 * 1000000);
        assert_int_equal(fb_join_queue_parse_time("2024-05-06T06:38:09-00:30", &us), 0);
        assert_true(us == T0 * 1000000);

        us = 7;
        static const char *const bad[] = {"",
                                          "2024-05-06",
                                          "2024-05-06T07:08:09",
                                          "2024-05-06T07:08:09Zx",
                                          "2024-05-06T07:08:09.Z",
                                          "2024-05-06T07:08:09+2:00",
                                          "2024-05-06T07:08:09+02:60",
                                          "2024-13-06T07:08:09Z",
                                          "now"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(fb_join_queue_parse_time(bad[i], &us), -EINVAL);
        assert_int_equal(fb_join_queue_parse_time(NULL, &us), -EINVAL);
        assert_true(us == 7); /* untouched on failure */
}

static void test_format_time(void **state) {
        char buf[32];
        int64_t back = 0;
        (void) state;

        fb_join_queue_format_time(T0 * 1000000 + 42, buf, sizeof(buf));
        assert_string_equal(buf, "2024-05-06T07:08:09.000042Z");
        assert_int_equal(fb_join_queue_parse_time(buf, &back), 0);
        assert_true(back == T0 * 1000000 + 42);
}

static void test_same_node(void **state) {
        (void) state;
        assert_true(fb_join_queue_same_node("cp-1/aa", "cp-1/bb"));
        assert_true(fb_join_queue_same_node("cp-1/aa", "cp-1/aa"));
        assert_true(fb_join_queue_same_node("cp-1", "cp-1/bb"));
        assert_false(fb_join_queue_same_node("cp-1/aa", "cp-10/aa"));
        assert_false(fb_join_queue_same_node("cp-1/aa", "cp-/aa"));
        assert_false(fb_join_queue_same_node("/aa", "/bb"));
        assert_false(fb_join_queue_same_node(NULL, "cp-1/aa"));
        assert_false(fb_join_queue_same_node("cp-1/aa", ""));
}

static cJSON *parse(const char *t) {
        cJSON *j = NULL;
        assert_int_equal(json_parse(t, strlen(t), 0, &j, NULL), 0);
        return j;
}

static void test_info_from_lease(void **state) {
        _cleanup_(cJSON_Deletep) cJSON *held =
                parse("{\"metadata\":{\"name\":\"kube-firstboot-etcd-join\",\"resourceVersion\":\"17\"},"
                      "\"spec\":{\"holderIdentity\":\"cp-1/ab\",\"leaseDurationSeconds\":60,"
                      "\"acquireTime\":\"2024-05-06T07:08:00.000000Z\",\"renewTime\":\"2024-05-06T07:08:09."
                      "000000Z\","
                      "\"leaseTransitions\":3}}");
        _cleanup_(cJSON_Deletep) cJSON *freed =
                parse("{\"metadata\":{\"resourceVersion\":\"18\"},\"spec\":{\"leaseDurationSeconds\":1,"
                      "\"renewTime\":\"2024-05-06T07:08:09.000000Z\"}}");
        _cleanup_(cJSON_Deletep) cJSON *odd = parse("{\"spec\":{\"holderIdentity\":\"x\"}}");
        struct fb_join_queue_info i = {};
        (void) state;

        assert_int_equal(fb_join_queue_info_from_lease(held, (T0 + 59) * 1000000, &i), 0);
        assert_string_equal(i.holder, "cp-1/ab");
        assert_string_equal(i.resource_version, "17");
        assert_int_equal(i.lease_s, 60);
        assert_int_equal(i.transitions, 3);
        assert_true(i.acquire_time_us == (T0 - 9) * 1000000);
        assert_false(i.expired);
        fb_join_queue_info_done(&i);
        /* renewTime + leaseDurationSeconds in the past */
        assert_int_equal(fb_join_queue_info_from_lease(held, (T0 + 61) * 1000000, &i), 0);
        assert_true(i.expired);
        fb_join_queue_info_done(&i);

        /* released: no holder is never "expired", just free */
        assert_int_equal(fb_join_queue_info_from_lease(freed, (T0 + 100) * 1000000, &i), 0);
        assert_null(i.holder);
        assert_false(i.expired);
        fb_join_queue_info_done(&i);

        /* a hold that cannot be judged (no renew time, no duration) has no claim */
        assert_int_equal(fb_join_queue_info_from_lease(odd, T0 * 1000000, &i), 0);
        assert_true(i.expired);
        assert_null(i.resource_version);
        fb_join_queue_info_done(&i);
        fb_join_queue_info_done(NULL);

        i.lease_s = 5;
        assert_int_equal(fb_join_queue_info_from_lease(NULL, 0, &i), -EBADMSG);
        assert_int_equal(i.lease_s, 5);
}

static void test_holder_new(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        char *c = NULL;
        (void) state;

        assert_int_equal(fb_join_queue_holder_new("cp-1.example.com", &a), 0);
        assert_int_equal(fb_join_queue_holder_new("cp-1.example.com", &b), 0);
        assert_int_equal(strlen(a), strlen("cp-1.example.com/") + 16);
        assert_true(startswith(a, "cp-1.example.com/"));
        assert_string_not_equal(a, b); /* a new run id each time */
        assert_true(fb_join_queue_same_node(a, b));
        assert_int_equal(fb_join_queue_holder_new("a/b", &c), -EINVAL);
        assert_int_equal(fb_join_queue_holder_new("", &c), -EINVAL);
        assert_null(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_time), cmocka_unit_test(test_format_time),
                cmocka_unit_test(test_same_node),  cmocka_unit_test(test_info_from_lease),
                cmocka_unit_test(test_holder_new),
        };
        return cmocka_run_group_tests_name("joinqueue", tests, NULL, NULL);
}
