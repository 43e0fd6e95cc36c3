/* SPDX-License-Identifier: Apache-2.0 */
/* The replacement decision (which dead member goes, and when nothing may) and etcd's peer gauge parser. */
#include <errno.h>
#include <string.h>

#include "common/strutil.h"
#include "firstboot/cluster/etcd.h"
#include "firstboot/cluster/replacement.h"
#include "tests/unit/unit.h"

#define MIN_MS   60000ll
#define DEAD_MS  300000ull
#define NOW_MS   1800000000000ll
#define LONG_AGO (NOW_MS - 10 * MIN_MS)
#define JUST_NOW (NOW_MS - 20000)

static struct etcd_member members[] = {
        {.id = 0x11, .name = (char *) "cp-1"}, {.id = 0x22, .name = (char *) "cp-2"},
        {.id = 0x33, .name = (char *) "cp-3"}, {.id = 0x44, .name = (char *) "cp-4"},
        {.id = 0x55, .name = (char *) "cp-5"},
};

/* n voters, all healthy. */
static void healthy_cluster(struct fb_member_evidence *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                members[i].learner = false;
                members[i].name = (char *) (const char *[]){"cp-1", "cp-2", "cp-3", "cp-4", "cp-5"}[i];
                e[i] = (struct fb_member_evidence){.member = &members[i], .healthy = true};
        }
}

static void down_since(struct fb_member_evidence *e, int64_t ms) {
        e->healthy = false;
        e->last_alive_ms = ms;
}

static enum fb_replacement_verdict decide(struct fb_member_evidence *e, size_t n, size_t *idx, char *text) {
        return fb_replacement_decide(e, n, NOW_MS, DEAD_MS, idx, text, 1024);
}

static void test_all_healthy_removes_nothing(void **state) {
        struct fb_member_evidence e[3];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 3);
        assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_NOTHING);
        assert_int_equal(idx, 99);
}

static void test_dead_voter_past_dead_after_is_removed(void **state) {
        struct fb_member_evidence e[3];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 3);
        down_since(&e[2], LONG_AGO);
        assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_REMOVE);
        assert_int_equal(idx, 2);
        assert_non_null(strstr(text, "cp-3"));
        assert_non_null(strstr(text, "600s"));
}

static void test_recently_down_waits(void **state) {
        struct fb_member_evidence e[3];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 3);
        down_since(&e[2], JUST_NOW);
        assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_WAIT);
        assert_non_null(strstr(text, "down for 20s of the 300s"));
        assert_int_equal(idx, 99);
        /* a clock behind the Lease's never makes it dead */
        down_since(&e[2], NOW_MS + MIN_MS);
        assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_WAIT);
}

/* A sign of life from the network keeps a member, however long its Lease has been stale: a partition is not
 * a death. A sign from the cluster (Lease, Ready, a view we could not read) makes the joiner wait. */
static void test_alive_evidence_keeps_the_member(void **state) {
        struct fb_member_evidence e[3];
        char text[1024];
        size_t idx = 99;
        (void) state;
        bool *alive[] = {&e[2].answers, &e[2].seen_active};
        bool *unsure[] = {&e[2].node_ready, &e[2].lease_moved, &e[2].view_unknown};
        const char *why[] = {"its Node is still Ready", "Lease was renewed while we watched",
                             "could not be read"};
        for (size_t i = 0; i < ELEMENTSOF(alive); i++) {
                healthy_cluster(e, 3);
                down_since(&e[2], LONG_AGO);
                *alive[i] = true;
                assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_NOTHING);
                assert_int_equal(idx, 99);
        }
        for (size_t i = 0; i < ELEMENTSOF(unsure); i++) {
                healthy_cluster(e, 3);
                down_since(&e[2], LONG_AGO);
                *unsure[i] = true;
                assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_WAIT);
                assert_non_null(strstr(text, why[i]));
                assert_int_equal(idx, 99);
        }
}

static void test_quorum_lost_changes_nothing(void **state) {
        struct fb_member_evidence e[3];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 3);
        down_since(&e[1], LONG_AGO);
        down_since(&e[2], LONG_AGO);
        assert_int_equal(decide(e, 3, &idx, text), FB_REPLACE_QUORUM_LOST);
        assert_non_null(strstr(text, "only 1 of 3 voters"));
        assert_non_null(strstr(text, "'cp-2', 'cp-3'"));
        assert_non_null(strstr(text, "snapshot"));
        assert_int_equal(idx, 99);
}

/* Five voters, two dead: one at a time, and the second still keeps a quorum. */
static void test_five_voters_two_dead_one_at_a_time(void **state) {
        struct fb_member_evidence e[5];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 5);
        down_since(&e[3], LONG_AGO);
        down_since(&e[4], LONG_AGO);
        assert_int_equal(decide(e, 5, &idx, text), FB_REPLACE_REMOVE);
        assert_int_equal(idx, 3);
        assert_int_equal(decide(e + 0, 4, &idx, text), FB_REPLACE_REMOVE); /* after: 4 voters, 1 dead */
        /* three of five dead: lost */
        down_since(&e[2], LONG_AGO);
        assert_int_equal(decide(e, 5, &idx, text), FB_REPLACE_QUORUM_LOST);
}

static void test_learners_first_and_no_voter_removed_beside_a_live_learner(void **state) {
        struct fb_member_evidence e[4];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 4);
        members[3].learner = true;
        members[3].name = (char *) ""; /* added, never started */
        down_since(&e[3], LONG_AGO);
        down_since(&e[1], LONG_AGO);
        assert_int_equal(decide(e, 4, &idx, text), FB_REPLACE_REMOVE);
        assert_int_equal(idx, 3);
        assert_non_null(strstr(text, "learner 'unstarted 44'"));
        assert_non_null(strstr(text, "never started"));
        /* the learner runs and catches up: the dead voter waits for it */
        e[3].healthy = true;
        assert_int_equal(decide(e, 4, &idx, text), FB_REPLACE_WAIT);
        assert_non_null(strstr(text, "learner is catching up"));
}

static void test_own_members(void **state) {
        struct fb_member_evidence e[4];
        char text[1024];
        size_t idx = 99;
        (void) state;
        healthy_cluster(e, 4);
        /* our learner from an earlier try: etcd-join resumes it, never removed */
        members[3].learner = true;
        e[3].healthy = false;
        e[3].ours = true;
        e[3].last_alive_ms = LONG_AGO;
        assert_int_equal(decide(e, 4, &idx, text), FB_REPLACE_NOTHING);
        /* a started voter with our peer URL, our disk empty: the machine we replace, at once */
        members[3].learner = false;
        e[3].ours = false;
        e[3].previous_self = true;
        e[3].last_alive_ms = JUST_NOW;
        assert_int_equal(decide(e, 4, &idx, text), FB_REPLACE_REMOVE);
        assert_int_equal(idx, 3);
        assert_non_null(strstr(text, "previous incarnation"));
}

static void test_metrics_gauge(void **state) {
        const char *text =
                "# HELP etcd_network_active_peers The current number of active peer connections.\n"
                "# TYPE etcd_network_active_peers gauge\n"
                "etcd_network_active_peers{Local=\"8e9e05c52164694d\",Remote=\"91bc3c398fb3c146\"} 1\n"
                "etcd_network_active_peers{Local=\"8e9e05c52164694d\",Remote=\"fd422379fda50e48\"} 0\n"
                "etcd_network_active_peers_total 7\n"
                "etcd_network_active_peers{Remote=\"abc\",Local=\"1\"} 1\n"
                "etcd_network_active_peers{Local=\"1\",Remote=\"zz\"} 1\n"
                "etcd_network_active_peers{Local=\"1\",Remote=\"123\"}";
        (void) state;
        assert_int_equal(etcd_metrics_peer_active(text, strlen(text), 0x91bc3c398fb3c146ull), 1);
        assert_int_equal(etcd_metrics_peer_active(text, strlen(text), 0xfd422379fda50e48ull), 0);
        assert_int_equal(etcd_metrics_peer_active(text, strlen(text), 0xabc), 1);  /* labels in any order */
        assert_int_equal(etcd_metrics_peer_active(text, strlen(text), 0x123), 0);  /* no value */
        assert_int_equal(etcd_metrics_peer_active(text, strlen(text), 0x4242), 0); /* never active */
        assert_int_equal(etcd_metrics_peer_active(text, 40, 0x91bc3c398fb3c146ull), 0); /* cut short */
        assert_int_equal(etcd_metrics_peer_active(NULL, 0, 1), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_healthy_removes_nothing),
                cmocka_unit_test(test_dead_voter_past_dead_after_is_removed),
                cmocka_unit_test(test_recently_down_waits),
                cmocka_unit_test(test_alive_evidence_keeps_the_member),
                cmocka_unit_test(test_quorum_lost_changes_nothing),
                cmocka_unit_test(test_five_voters_two_dead_one_at_a_time),
                cmocka_unit_test(test_learners_first_and_no_voter_removed_beside_a_live_learner),
                cmocka_unit_test(test_own_members),
                cmocka_unit_test(test_metrics_gauge),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
