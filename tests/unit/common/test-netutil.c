/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/netutil.h"
#include "tests/unit/unit.h"

static void test_cidr_nth_ip(void **state) {
        (void) state;
        char ip[IP_STRING_MAX] = "untouched";
        assert_int_equal(cidr_nth_ip("10.96.0.0/12", 1, ip), 0);
        assert_string_equal(ip, "10.96.0.1");
        assert_int_equal(cidr_nth_ip("10.96.0.0/12", 10, ip), 0);
        assert_string_equal(ip, "10.96.0.10");
        /* Host bits in the given address are ignored, carries cross bytes. */
        assert_int_equal(cidr_nth_ip("10.96.3.7/16", 300, ip), 0);
        assert_string_equal(ip, "10.96.1.44");
        assert_int_equal(cidr_nth_ip("fd00:10:96::/108", 10, ip), 0);
        assert_string_equal(ip, "fd00:10:96::a");
        /* Dual stack: the first subnet. */
        assert_int_equal(cidr_nth_ip("fd00::/108,10.96.0.0/12", 1, ip), 0);
        assert_string_equal(ip, "fd00::1");
        assert_int_equal(cidr_nth_ip("10.0.0.0/30", 4, ip), -ERANGE);
        assert_int_equal(cidr_nth_ip("10.0.0.0", 1, ip), -EINVAL);
        assert_int_equal(cidr_nth_ip("10.0.0.0/33", 1, ip), -EINVAL);
        assert_int_equal(cidr_nth_ip("bogus/8", 1, ip), -EINVAL);
        assert_string_equal(ip, "fd00::1");
}

static void test_cidr_list_is_valid(void **state) {
        (void) state;
        assert_true(cidr_list_is_valid("10.244.0.0/16"));
        assert_true(cidr_list_is_valid("10.244.0.0/16,fd00:10:244::/56"));
        assert_false(cidr_list_is_valid("10.244.0.0/16,10.245.0.0/16"));
        assert_false(cidr_list_is_valid("10.244.0.0/16,"));
        assert_false(cidr_list_is_valid(""));
        assert_false(cidr_list_is_valid("10.244.0.0"));
}

static void test_split_host_port(void **state) {
        (void) state;
        char *h = NULL;
        unsigned p = 99;

        assert_int_equal(split_host_port("lb.example.com:6443", &h, &p), 0);
        assert_string_equal(h, "lb.example.com");
        assert_int_equal(p, 6443);
        free(h);
        assert_int_equal(split_host_port("[fd00::1]:6443", &h, &p), 0);
        assert_string_equal(h, "fd00::1");
        assert_int_equal(p, 6443);
        free(h);
        assert_int_equal(split_host_port("fd00::1", &h, &p), 0);
        assert_string_equal(h, "fd00::1");
        assert_int_equal(p, 0);
        free(h);
        assert_int_equal(split_host_port("10.0.0.1", &h, &p), 0);
        assert_int_equal(p, 0);
        free(h);
        h = NULL;
        assert_int_equal(split_host_port("host:0", &h, &p), -EINVAL);
        assert_int_equal(split_host_port("host:70000", &h, &p), -EINVAL);
        assert_int_equal(split_host_port(":6443", &h, &p), -EINVAL);
        assert_int_equal(split_host_port("[]:1", &h, &p), -EINVAL);
        assert_int_equal(split_host_port("[::1]x", &h, &p), -EINVAL);
        assert_null(h);
}

static void test_ip_validity(void **state) {
        (void) state;
        assert_true(ip_is_valid("127.0.0.1"));
        assert_true(ip_is_valid("::1"));
        assert_true(ip_is_ipv6("fd00::1"));
        assert_false(ip_is_ipv6("10.0.0.1"));
        assert_false(ip_is_valid("10.0.0"));
        assert_false(ip_is_valid(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr_nth_ip),
                cmocka_unit_test(test_cidr_list_is_valid),
                cmocka_unit_test(test_split_host_port),
                cmocka_unit_test(test_ip_validity),
        };
        return cmocka_run_group_tests_name("netutil", tests, NULL, NULL);
}
