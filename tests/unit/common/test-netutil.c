/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

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

static void test_ip_cmp(void **state) {
        (void) state;
        assert_int_equal(ip_cmp("10.0.0.9", "10.0.0.10"), -1); /* numerically */
        assert_int_equal(ip_cmp("10.0.0.10", "10.0.0.9"), 1);
        assert_int_equal(ip_cmp("10.0.0.1", "10.0.0.1"), 0);
        assert_int_equal(ip_cmp("192.168.0.1", "::1"), -1); /* IPv4 before IPv6 */
        assert_int_equal(ip_cmp("2001:db8::1", "2001:DB8:0::1"), 0);
        assert_int_equal(ip_cmp("2001:db8::a", "2001:db8::9"), 1);
        assert_int_equal(ip_cmp("cp-1", "10.0.0.1"), -2);
        assert_int_equal(ip_cmp("10.0.0.1", NULL), -2);

        char ip[IP_STRING_MAX] = "untouched";
        assert_int_equal(ip_canonical("2001:0DB8:0000::0001", ip), 0);
        assert_string_equal(ip, "2001:db8::1");
        assert_int_equal(ip_canonical("10.0.0.1", ip), 0);
        assert_string_equal(ip, "10.0.0.1");
        assert_int_equal(ip_canonical("10.0.0.01", ip), -EINVAL);
        assert_int_equal(ip_canonical("[::1]", ip), -EINVAL);
        assert_int_equal(ip_canonical(NULL, ip), -EINVAL);
        assert_string_equal(ip, "10.0.0.1");
}

/* A connected pair through a listener on ip (port 0: a free one): *ret_client, *ret_server; false when ip
 * cannot be listened on. */
static bool tcp_pair(const char *ip, int *ret_client, int *ret_server) {
        _cleanup_close_ int l = -EBADF;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (tcp_listen(ip, 0, &l) < 0)
                return false;
        assert_int_equal(getsockname(l, (struct sockaddr *) &ss, &len), 0);
        unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                       : ((struct sockaddr_in *) &ss)->sin_port);
        assert_int_equal(tcp_connect(ip, port, 1000, ret_client), 0);
        for (int i = 0; i < 100 && (*ret_server = accept(l, NULL, NULL)) < 0; i++)
                usleep(10 * 1000);
        assert_true(*ret_server >= 0);
        return true;
}

static void test_tcp_read_line(void **state) {
        static const char *const ips[] = {"127.0.0.1", "::1"};
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ips); i++) {
                _cleanup_close_ int c = -EBADF, s = -EBADF;
                char buf[16];
                if (!tcp_pair(ips[i], &c, &s)) {
                        assert_string_equal(ips[i], "::1"); /* a machine without IPv6 */
                        continue;
                }
                /* One line, and nothing after its newline taken. */
                assert_int_equal(write(s, "one\ntwo\n", 8), 8);
                assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 1000), 4);
                assert_string_equal(buf, "one\n");
                assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 1000), 4);
                assert_string_equal(buf, "two\n");
                /* A peer that waits for its client to speak. */
                assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 100), -ETIMEDOUT);
                /* Too long without a newline. */
                assert_int_equal(write(s, "0123456789abcdefgh", 18), 18);
                assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 1000), -EBADMSG);
                char rest[8];
                assert_int_equal(read(c, rest, sizeof(rest)), 3);
                /* Some bytes, then closed. */
                assert_int_equal(write(s, "par", 3), 3);
                s = safe_close(s);
                assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 1000), -EBADMSG);
        }
        /* Closed before a word. */
        _cleanup_close_ int c = -EBADF, s = -EBADF;
        char buf[16];
        assert_true(tcp_pair("127.0.0.1", &c, &s));
        s = safe_close(s);
        assert_int_equal(tcp_read_line(c, buf, sizeof(buf), 1000), 0);
}

static void test_tcp_connect_and_listen(void **state) {
        int fd = -EBADF;
        (void) state;
        assert_int_equal(tcp_connect("cp-1", 6443, 100, &fd), -EINVAL);
        assert_int_equal(tcp_listen("10.0.0.1:6443", 6443, &fd), -EINVAL);
        /* A port just given up refuses. */
        _cleanup_close_ int l = -EBADF;
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        assert_int_equal(tcp_listen("127.0.0.1", 0, &l), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &a, &len), 0);
        unsigned port = ntohs(a.sin_port);
        /* Listening twice on one address and port is refused. */
        assert_int_equal(tcp_listen("127.0.0.1", port, &fd), -EADDRINUSE);
        l = safe_close(l);
        assert_int_equal(tcp_connect("127.0.0.1", port, 1000, &fd), -ECONNREFUSED);
        assert_int_equal(fd, -EBADF); /* untouched */
        assert_false(tcp_answers("127.0.0.1", port, 1000));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr_nth_ip),
                cmocka_unit_test(test_cidr_list_is_valid),
                cmocka_unit_test(test_split_host_port),
                cmocka_unit_test(test_ip_validity),
                cmocka_unit_test(test_ip_cmp),
                cmocka_unit_test(test_tcp_read_line),
                cmocka_unit_test(test_tcp_connect_and_listen),
        };
        return cmocka_run_group_tests_name("netutil", tests, NULL, NULL);
}
