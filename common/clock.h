/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time for deadlines, pauses and retries: the monotonic clock (never moved by settimeofday, NTP steps or
 * a VM resumed with another wall time), a sleep that survives signals, and the one backoff of the
 * program. Every retry loop and poll of every folder uses these, so timeouts and jitter mean the same
 * thing everywhere.
 */
#pragma once

#include <stdint.h>

/* The monotonic clock (CLOCK_MONOTONIC) in milliseconds, and in nanoseconds for measurements. */
unsigned long long clock_now_ms(void);
uint64_t clock_now_ns(void);
/* The wall clock (CLOCK_REALTIME) in microseconds since the epoch, for times shared with other machines. */
int64_t clock_wall_us(void);

/* Sleeps ms milliseconds; a signal (EINTR) resumes the sleep for the time that is left. */
void clock_sleep_ms(unsigned long long ms);

/* Sleeps about ms: uniform in [ms - ms/8, ms + ms/8], so that nodes booted at the same moment do not poll
 * in lockstep. For fixed-interval polling; retries after a failure use clock_backoff_ms(). */
void clock_sleep_about_ms(unsigned long long ms);

/* The floor of clock_backoff_ms() as a part of base: a quarter. */
#define CLOCK_BACKOFF_FLOOR_DIVISOR 4u

/*
 * The pause before retry number attempt (0 for the first retry): exponential ceiling with full jitter.
 * The ceiling is min(cap, base * 2^attempt); the pause is uniform in [floor, ceiling] where the floor is
 * base/4 (never above the ceiling). Full jitter spreads retries of many nodes that failed together
 * (AWS's "Exponential Backoff And Jitter"); the floor keeps an unlucky draw from retrying at once, which
 * against a busy peer (etcd refusing member changes, a held lease, a 503) would only add load and burn an
 * attempt. Random bits come from getrandom(), without blocking at early boot.
 */
unsigned long long clock_backoff_ms(unsigned base_ms, unsigned cap_ms, unsigned attempt);
