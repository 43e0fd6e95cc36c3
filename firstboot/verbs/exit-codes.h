/* SPDX-License-Identifier: Apache-2.0 */
/* The exit codes of kube-firstboot, documented in --help and the README. */
#pragma once

#include <stddef.h>

enum {
        EXIT_DONE = 0,        /* what was asked is done */
        EXIT_FAILED = 1,      /* it failed; the message (and for run, status.json) says why */
        EXIT_USAGE = 2,       /* bad command line or bad configuration: fix the input, do not retry */
        EXIT_TEMPORARY = 3,   /* a peer was unreachable or timed out: retrying later may succeed */
        EXIT_UNSUPPORTED = 4, /* this version of kube-firstboot cannot do that (yet) */
};

/* One row of the table that maps a failure's errno to the exit code: see exit-codes.c. */
struct cli_exit_rule {
        int error; /* positive errno */
        int exit_code;
        const char *meaning;
};
const struct cli_exit_rule *cli_exit_rules(size_t *ret_n);
