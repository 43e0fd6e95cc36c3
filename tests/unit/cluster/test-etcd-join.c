/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/strutil.h"
#include "firstboot/cluster/etcd-join.h"
#include "tests/unit/unit.h"

#define P1 "https://10.0.0.1:2380"
#define P2 "https://10.0.0.2:2380"
#define P3 "https://10.0.0.3:2380"
#define P4 "https://10.0.0.4:2380"

static char *urls1[] = {(char *) P1, NULL};
static char *urls2[] = {(char *) P2, NULL};
static char *urls3[] = {(char *) P3, NULL};
static char *urls24[] = {(char *) P2, (char *) P4, NULL};
static char *client1[] = {(char *) "https://10.0.0.1:2379", NULL};

static void test_find_states(void **state) {
        struct etcd_member m[] = {
                {.id = 1, .name = (char *) "cp-1", .peer_urls = urls1, .client_urls = client1},
                {.id = 2, .name = (char *) "", .peer_urls = urls2, .learner = true},
        };
        size_t idx = 99;
        struct error why = {};
        (void) state;

        assert_int_equal(fb_etcd_member_find(m, 2, "cp-3", P3, &idx, &why), FB_ETCD_MEMBER_ABSENT);
        assert_int_equal(idx, 99); /* untouched when absent */
        assert_int_equal(fb_etcd_member_find(m, 2, "cp-2", P2, &idx, &why), FB_ETCD_MEMBER_LEARNER);
        assert_int_equal(idx, 1);
        assert_int_equal(fb_etcd_member_find(m, 2, "cp-1", P1, &idx, &why), FB_ETCD_MEMBER_VOTER);
        assert_int_equal(idx, 0);

        m[1].name = (char *) "cp-2";
        assert_int_equal(fb_etcd_member_find(m, 2, "cp-2", P2, NULL, NULL), FB_ETCD_MEMBER_LEARNER_STARTED);
        m[1].learner = false;
        m[1].name = (char *) "";
        assert_int_equal(fb_etcd_member_find(m, 2, "cp-2", P2, NULL, NULL), FB_ETCD_MEMBER_VOTER_UNSTARTED);
        assert_string_equal(why.message, "");
}

static void test_find_stale_members(void **state) {
        struct etcd_member m[] = {
                {.id = 0xabc, .name = (char *) "cp-1", .peer_urls = urls1},
        };
        struct error why = {};
        (void) state;

        /* This peer URL, started under another name. */
        assert_int_equal(fb_etcd_member_find(m, 1, "cp-9", P1, NULL, &why), -EADDRINUSE);
        assert_non_null(strstr(why.message, "peer URL '" P1 "' belongs to etcd member 'cp-1'"));
        assert_non_null(strstr(why.message, "etcd member remove 0000000000000abc"));
        /* This name, started with another peer URL (the node's old address). */
        error_clear(&why);
        assert_int_equal(fb_etcd_member_find(m, 1, "cp-1", P2, NULL, &why), -EADDRINUSE);
        assert_non_null(strstr(why.message, "'cp-1'"));
        assert_non_null(strstr(why.message, P1));
        /* An unstarted member has no name yet: nothing to compare. */
        m[0].name = (char *) "";
        assert_int_equal(fb_etcd_member_find(m, 1, "cp-9", P1, NULL, NULL), FB_ETCD_MEMBER_VOTER_UNSTARTED);
}

static void test_initial_cluster(void **state) {
        struct etcd_member m[] = {
                {.id = 0x1813bf831c43e9e0ull, .name = (char *) "cp-1", .peer_urls = urls1},
                {.id = 0x0000abcdull, .name = (char *) "", .peer_urls = urls24, .learner = true},
                {.id = 7, .name = (char *) "", .peer_urls = urls3, .learner = true},
        };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        (void) state;

        /* Ours by our name; an unnamed member by its ID in hex, unpadded (kubeadm's FormatUint(id, 16)); a
         * member with two peer URLs once per URL, as etcd's --initial-cluster spells it. */
        a = fb_etcd_initial_cluster(m, 3, "cp-3", P3);
        assert_string_equal(a, "cp-1=" P1 ",abcd=" P2 ",abcd=" P4 ",cp-3=" P3);
        b = fb_etcd_initial_cluster(m, 1, "cp-1", P1);
        assert_string_equal(b, "cp-1=" P1);
        c = fb_etcd_initial_cluster(m, 0, "x", P1);
        assert_string_equal(c, "");
}

static void test_quorum(void **state) {
        (void) state;
        assert_int_equal(fb_etcd_quorum(1), 1);
        assert_int_equal(fb_etcd_quorum(2), 2);
        assert_int_equal(fb_etcd_quorum(3), 2);
        assert_int_equal(fb_etcd_quorum(4), 3);
        assert_int_equal(fb_etcd_quorum(5), 3);
}

static void test_bad_spec(void **state) {
        const char *eps[] = {"https://127.0.0.1:1", NULL};
        struct fb_etcd_join_spec s = {.endpoints = eps,
                                      .ca_pem = "x",
                                      .cert_pem = "x",
                                      .key_pem = "x",
                                      .name = "cp-2",
                                      .peer_url = "10.0.0.2:2380"};
        struct fb_etcd_join_state st = {.member_id = 42};
        struct error why = {};
        (void) state;

        assert_int_equal(fb_etcd_join_add(&s, &st, &why), -EINVAL);
        assert_int_equal(st.member_id, 42); /* untouched on failure */
        assert_non_null(strstr(why.message, "peer URL"));
        s.peer_url = P2;
        s.name = "";
        assert_int_equal(fb_etcd_join_promote(&s, &why), -EINVAL);
        s.name = "cp-2";
        s.endpoints = NULL;
        assert_int_equal(fb_etcd_join_check(&s), -EINVAL);
        fb_etcd_join_state_done(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_states),     cmocka_unit_test(test_find_stale_members),
                cmocka_unit_test(test_initial_cluster), cmocka_unit_test(test_quorum),
                cmocka_unit_test(test_bad_spec),
        };
        return cmocka_run_group_tests_name("etcd-join", tests, NULL, NULL);
}
