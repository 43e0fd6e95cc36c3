/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <signal.h>
#include <sys/time.h>

#include "common/clock.h"
#include "tests/unit/unit.h"

#define DRAWS 200

/* The ceiling computed the slow way: base doubled attempt times, capped, without overflow. */
static unsigned long long expected_ceiling(unsigned base, unsigned cap, unsigned attempt) {
        unsigned long long c = base;
        for (unsigned i = 0; i < attempt && i < 64 && c < cap; i++)
                c *= 2;
        return c < cap ? c : cap;
}

static void test_backoff_stays_within_floor_and_ceiling(void **state) {
        static const unsigned bases[] = {0, 1, 3, 4, 7, 200, 250, 1000, 60000};
        static const unsigned caps[] = {0, 1, 40, 100, 2000, 3000, 5000, UINT_MAX};
        static const unsigned attempts[] = {0, 1, 2, 3, 4, 5, 8, 12, 31, 32, 33, 64, 1000, UINT_MAX};
        (void) state;

        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
                        for (size_t a = 0; a < sizeof(attempts) / sizeof(attempts[0]); a++) {
                                unsigned long long hi = expected_ceiling(bases[b], caps[c], attempts[a]);
                                unsigned long long lo = bases[b] / CLOCK_BACKOFF_FLOOR_DIVISOR;
                                if (lo > hi)
                                        lo = hi;
                                for (int i = 0; i < DRAWS; i++) {
                                        unsigned long long d =
                                                clock_backoff_ms(bases[b], caps[c], attempts[a]);
                                        if (d < lo || d > hi)
                                                fail_msg("backoff(%u, %u, %u) = %llu, not in [%llu, %llu]",
                                                         bases[b], caps[c], attempts[a], d, lo, hi);
                                }
                        }
}

/* The smallest and largest of 20000 draws of clock_backoff_ms(200, 3000, attempt). */
static void draw(unsigned attempt, unsigned long long *ret_lo, unsigned long long *ret_hi) {
        unsigned long long lo = ULLONG_MAX, hi = 0;
        for (int i = 0; i < 20000; i++) {
                unsigned long long d = clock_backoff_ms(200, 3000, attempt);
                lo = d < lo ? d : lo;
                hi = d > hi ? d : hi;
        }
        *ret_lo = lo;
        *ret_hi = hi;
}

/* The floor is a quarter of base, the ceiling doubles per attempt up to the cap, and the draws reach both
 * ends: full jitter, not a fixed pause. */
static void test_backoff_is_full_jitter_above_a_quarter_of_base(void **state) {
        unsigned long long lo, hi;
        (void) state;

        assert_int_equal(CLOCK_BACKOFF_FLOOR_DIVISOR, 4);
        /* [50, 200] holds 151 values: 20000 draws miss an end with a probability near e^-132. */
        draw(0, &lo, &hi);
        assert_int_equal(lo, 50);
        assert_int_equal(hi, 200);
        /* attempt 2: ceiling 800; attempt 4: 3200 capped to 3000. */
        draw(2, &lo, &hi);
        assert_in_range(lo, 50, 60);
        assert_in_range(hi, 790, 800);
        draw(4, &lo, &hi);
        assert_in_range(lo, 50, 90);
        assert_in_range(hi, 2960, 3000);
}

static void test_backoff_edges(void **state) {
        (void) state;
        /* Nothing to wait for. */
        assert_int_equal(clock_backoff_ms(0, 0, 0), 0);
        assert_int_equal(clock_backoff_ms(0, UINT_MAX, UINT_MAX), 0);
        /* A cap under the floor wins: the pause is the cap. */
        assert_int_equal(clock_backoff_ms(1000, 100, 0), 100);
        assert_int_equal(clock_backoff_ms(1000, 100, 9), 100);
        /* The largest inputs neither overflow nor loop for long. */
        assert_in_range(clock_backoff_ms(UINT_MAX, UINT_MAX, UINT_MAX), UINT_MAX / 4, UINT_MAX);
        assert_in_range(clock_backoff_ms(1, UINT_MAX, UINT_MAX), 0, UINT_MAX);
}

static void test_now_is_monotonic(void **state) {
        unsigned long long a = clock_now_ms(), b;
        uint64_t ns = clock_now_ns();
        (void) state;

        for (int i = 0; i < 1000; i++) {
                b = clock_now_ms();
                assert_true(b >= a);
                a = b;
        }
        assert_in_range(ns / 1000000, a - 1000, a);
        assert_true(clock_wall_us() > 1600000000ll * 1000000ll); /* after September 2020 */
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
        (void) sig;
        alarms++;
}

/* Signals arriving during the sleep (SIGALRM every 5 ms, without SA_RESTART) do not cut it short. */
static void test_sleep_survives_signals(void **state) {
        struct sigaction sa = {.sa_handler = on_alarm}, old;
        struct itimerval every = {.it_interval = {.tv_usec = 5000}, .it_value = {.tv_usec = 5000}}, off = {};
        unsigned long long start;
        (void) state;

        assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
        assert_int_equal(setitimer(ITIMER_REAL, &every, NULL), 0);
        start = clock_now_ms();
        clock_sleep_ms(60);
        assert_true(clock_now_ms() - start >= 60);
        assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
        assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
        assert_true(alarms > 0);

        /* About 80 ms: never less than 70. */
        start = clock_now_ms();
        clock_sleep_about_ms(80);
        assert_true(clock_now_ms() - start >= 70);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_stays_within_floor_and_ceiling),
                cmocka_unit_test(test_backoff_is_full_jitter_above_a_quarter_of_base),
                cmocka_unit_test(test_backoff_edges),
                cmocka_unit_test(test_now_is_monotonic),
                cmocka_unit_test(test_sleep_survives_signals),
        };
        return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
