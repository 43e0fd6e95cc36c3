/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#ifndef GRND_INSECURE
#        define GRND_INSECURE 0x0004 /* Linux 5.6; older kernels answer EINVAL */
#endif

unsigned long long clock_now_ms(void) {
        return clock_now_ns() / 1000000ull;
}

uint64_t clock_now_ns(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

int64_t clock_wall_us(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_sleep_ms(unsigned long long ms) {
        struct timespec ts = {.tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* 64 random bits for jitter. The kernel's pool when it is ready; before that (a VM's first seconds on an
 * old kernel) its unblocking variant, and last the clock and the pid through splitmix64: jitter needs
 * bits that differ between machines, not secrets. */
static uint64_t jitter_bits(void) {
        uint64_t v = 0;
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t) sizeof(v))
                return v;
        if (getrandom(&v, sizeof(v), GRND_INSECURE) == (ssize_t) sizeof(v))
                return v;
        v = clock_now_ns() ^ ((uint64_t) getpid() << 32);
        v += 0x9e3779b97f4a7c15ull;
        v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
        v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
        return v ^ (v >> 31);
}

/* Uniform in [lo, hi] (the modulo bias over 64 bits is far below anything a pause could show). */
static unsigned long long uniform(unsigned long long lo, unsigned long long hi) {
        return lo + jitter_bits() % (hi - lo + 1);
}

void clock_sleep_about_ms(unsigned long long ms) {
        clock_sleep_ms(uniform(ms - ms / 8, ms - ms / 8 + ms / 4));
}

unsigned long long clock_backoff_ms(unsigned base_ms, unsigned cap_ms, unsigned attempt) {
        unsigned long long ceiling = base_ms, floor;

        for (unsigned i = 0; i < attempt && ceiling > 0 && ceiling < cap_ms; i++)
                ceiling *= 2;
        if (ceiling > cap_ms)
                ceiling = cap_ms;
        floor = base_ms / CLOCK_BACKOFF_FLOOR_DIVISOR;
        if (floor > ceiling)
                floor = ceiling;
        return uniform(floor, ceiling);
}
