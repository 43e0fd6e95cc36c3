/* SPDX-License-Identifier: Apache-2.0 */
/* The rule reset removes this node's etcd member by (firstboot/cluster/etcd-remove.h), without I/O. */
#include <errno.h>
#include <string.h>

#include "firstboot/cluster/etcd-remove.h"
#include "tests/unit/unit.h"

#define P1 "https://10.0.0.1:2380"
#define P2 "https://10.0.0.2:2380"
#define P3 "https://10.0.0.3:2380"
#define P4 "https://10.0.0.4:2380"
#define P5 "https://10.0.0.5:2380"

static char *urls[5][2] = {{(char *) P1}, {(char *) P2}, {(char *) P3}, {(char *) P4}, {(char *) P5}};

static void members(struct etcd_member *m, size_t n) {
        static char *names[] = {(char *) "cp-1", (char *) "cp-2", (char *) "cp-3", (char *) "cp-4",
                                (char *) "cp-5"};
        for (size_t i = 0; i < n; i++)
                m[i] = (struct etcd_member){.id = i + 1, .name = names[i], .peer_urls = urls[i]};
}

static enum fb_etcd_remove_verdict decide(const struct etcd_member *m, size_t n, const bool *healthy,
                                          const char *peer, size_t *idx, char *text) {
        return fb_etcd_remove_decide(m, n, healthy, peer, idx, text, 512);
}

static void test_gone_and_last(void **state) {
        struct etcd_member m[3];
        bool healthy[3] = {true, true, true};
        char text[512];
        size_t idx = 99;
        (void) state;

        members(m, 3);
        assert_int_equal(decide(m, 3, healthy, P4, &idx, text), FB_ETCD_REMOVE_GONE);
        assert_int_equal(idx, 99); /* untouched when gone */
        assert_non_null(strstr(text, P4));
        assert_int_equal(decide(m, 1, healthy, P1, &idx, text), FB_ETCD_REMOVE_LAST);
        assert_int_equal(idx, 0);
        assert_non_null(strstr(text, "only remaining etcd member"));
}

static void test_quorum_of_the_voters_left(void **state) {
        struct etcd_member m[5];
        bool h[5];
        char text[512];
        size_t idx = 99;
        (void) state;

        /* 3 voters, all healthy: 2 left, both healthy, quorum of 2 is 2. */
        members(m, 3);
        memcpy(h, (bool[]){true, true, true}, 3);
        assert_int_equal(decide(m, 3, h, P2, &idx, text), FB_ETCD_REMOVE_SAFE);
        assert_int_equal(idx, 1);
        assert_non_null(strstr(text, "2 of the 2 voters left are healthy"));
        /* One other voter down: 1 of 2 left healthy is no quorum (etcd would refuse a self-removal too). */
        h[2] = false;
        assert_int_equal(decide(m, 3, h, P2, &idx, text), FB_ETCD_REMOVE_UNSAFE);
        assert_non_null(strstr(text, "cp-3"));
        /* Our own health does not count: it is leaving. */
        memcpy(h, (bool[]){true, false, true}, 3);
        assert_int_equal(decide(m, 3, h, P2, &idx, text), FB_ETCD_REMOVE_SAFE);
        /* 2 voters: the other one alone is a quorum of 1. */
        memcpy(h, (bool[]){true, true}, 2);
        assert_int_equal(decide(m, 2, h, P2, &idx, text), FB_ETCD_REMOVE_SAFE);
        h[0] = false;
        assert_int_equal(decide(m, 2, h, P2, &idx, text), FB_ETCD_REMOVE_UNSAFE);
        /* 5 voters, one down: 3 of 4 left healthy, quorum 3. Two down: 2 of 4, refused. */
        members(m, 5);
        memcpy(h, (bool[]){true, true, true, true, false}, 5);
        assert_int_equal(decide(m, 5, h, P1, &idx, text), FB_ETCD_REMOVE_SAFE);
        h[3] = false;
        assert_int_equal(decide(m, 5, h, P1, &idx, text), FB_ETCD_REMOVE_UNSAFE);
        assert_non_null(strstr(text, "2 healthy of 4 voters"));
}

static void test_learners(void **state) {
        struct etcd_member m[4];
        bool h[4] = {true, false, false, true};
        char text[512];
        size_t idx = 99;
        (void) state;

        /* This node a learner: removable whatever the voters' health. */
        members(m, 4);
        m[3].learner = true;
        assert_int_equal(decide(m, 4, h, P4, &idx, text), FB_ETCD_REMOVE_SAFE);
        assert_int_equal(idx, 3);
        /* Another learner, healthy or not, is no voter: 3 voters, this one leaving, 1 of 2 healthy. */
        assert_int_equal(decide(m, 4, h, P1, &idx, text), FB_ETCD_REMOVE_UNSAFE);
        h[1] = true;
        assert_int_equal(decide(m, 4, h, P1, &idx, text), FB_ETCD_REMOVE_UNSAFE);
        h[2] = true;
        h[1] = false;
        memcpy(h, (bool[]){true, true, true, false}, 4);
        assert_int_equal(decide(m, 4, h, P1, &idx, text), FB_ETCD_REMOVE_SAFE);
        /* No health known at all: a voter is never counted healthy by default. */
        assert_int_equal(decide(m, 4, NULL, P1, &idx, text), FB_ETCD_REMOVE_UNSAFE);
}

static void test_bad_spec(void **state) {
        struct fb_etcd_remove_spec s = {.peer_url = P1};
        struct fb_etcd_remove_plan p = {.id = 42};
        struct error why = {};
        (void) state;

        assert_int_equal(fb_etcd_remove_check(&s, &p, &why), -EINVAL);
        assert_int_equal(p.id, 42); /* untouched on failure */
        fb_etcd_remove_plan_done(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gone_and_last),
                cmocka_unit_test(test_quorum_of_the_voters_left),
                cmocka_unit_test(test_learners),
                cmocka_unit_test(test_bad_spec),
        };
        return cmocka_run_group_tests_name("etcd-remove", tests, NULL, NULL);
}
