/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The phase engine: named phases, each with a check ("is its effect already in place?") and an action,
 * run in order. Finished phases are recorded in a journal under /var/lib/kube-firstboot/, so a re-run
 * after a crash, a reboot or a restart skips what is done, after verifying it with the check, and goes
 * on. Progress goes to the status file (firstboot/engine/status.h) as it happens.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "firstboot/engine/status.h"

#define FB_JOURNAL_PATH "/var/lib/kube-firstboot/journal.json"

struct fb_phase {
        const char *name;
        const char *summary; /* one line */
        /* 1 when the effect is in place, 0 when not, -errno when it cannot tell. NULL: trust the journal. */
        int (*check)(void *ctx);
        /* Does the work; -errno on failure, with why (cleared before; common/error.h) saying what failed
         * and where. Must be safe to repeat after a crash part-way. */
        int (*run)(void *ctx, struct error *why);
        /* For plan: the files it would write and the API calls it would make, one per line. */
        void (*describe)(void *ctx, FILE *out);
        /* What the operator can do when it fails. */
        const char *remedy;
};

struct fb_phases_result {
        size_t ran, skipped, redone;
        const char *failed_phase;        /* borrowed from the phase table */
        char message[ERROR_MESSAGE_MAX]; /* why it failed */
};

/*
 * Runs every phase for a role. -ESTALE when the journal belongs to another role (this machine already
 * started as something else). On a phase failure returns its error, with the status file saying where
 * and why. *ret_result (optional) is filled in either case, for the caller's report.
 */
int fb_phases_run(const char *root, const char *role, const struct fb_phase *phases, size_t n, void *ctx,
                  struct fb_status *status, struct fb_phases_result *ret_result);

/* Prints what run would do, touching nothing: each phase, whether the journal and check say it is done,
 * and its description. */
int fb_phases_plan(const char *root, const char *role, const struct fb_phase *phases, size_t n, void *ctx,
                   FILE *out);

/* The journal's role, if there is one: -ENOENT when this machine has no journal. */
int fb_journal_role(const char *root, char **ret);
