/* SPDX-License-Identifier: Apache-2.0 */
/* The errno -> exit code table (issue 21): one check per row, written out here independently of the table,
 * and the shipped unit's RestartPreventExitStatus against it (every code that is not temporary, and only
 * those, keeps systemd from retrying). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "tests/unit/unit.h"

struct row {
        int error, exit_code;
};

/* What each failure must tell the unit. */
static const struct row want[] = {
        {ETIMEDOUT, 3}, {ECONNREFUSED, 3}, {ECONNRESET, 3},   {EHOSTUNREACH, 3}, {ENETUNREACH, 3},
        {EHOSTDOWN, 3}, {EAGAIN, 3},       {EBUSY, 3},        {EIO, 3},          {EPROTO, 3},
        {EINVAL, 2},    {EOPNOTSUPP, 4},   {EKEYREJECTED, 1}, {EKEYEXPIRED, 1},  {EACCES, 1},
        {EPERM, 1},     {ENOENT, 1},       {ESTALE, 1},       {EADDRINUSE, 1},   {EBADMSG, 1},
        {EEXIST, 1},    {ENOMEM, 1},
};

static void test_every_row(void **state) {
        size_t n;
        const struct cli_exit_rule *rules = cli_exit_rules(&n);
        (void) state;

        assert_int_equal(n, ELEMENTSOF(want)); /* a new row needs its check here */
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                int got = cli_exit_code_for_error(-want[i].error);
                if (got != want[i].exit_code)
                        fail_msg("%s: exit %d, want %d", strerror(want[i].error), got, want[i].exit_code);
                /* positive errno too, as some callers pass it */
                assert_int_equal(cli_exit_code_for_error(want[i].error), want[i].exit_code);
        }
        for (size_t i = 0; i < n; i++)
                assert_true(rules[i].meaning && rules[i].meaning[0]);
        /* anything unlisted waits for a person */
        assert_int_equal(cli_exit_code_for_error(-ENOTTY), EXIT_FAILED);
        assert_int_equal(cli_exit_code_for_error(-E2BIG), EXIT_FAILED);
}

/* The codes after RestartPreventExitStatus= in units/kube-firstboot.service. */
static void prevented_codes(bool prevented[256]) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        memset(prevented, 0, 256);
        assert_int_equal(read_file(NULL, "units/kube-firstboot.service", 1 << 20, &text, &len), 0);
        const char *line = strstr(text, "\nRestartPreventExitStatus=");
        assert_non_null(line);
        line += strlen("\nRestartPreventExitStatus=");
        for (;;) {
                char *end;
                long v = strtol(line, &end, 10);
                if (end == line)
                        break;
                assert_true(v > 0 && v < 256);
                prevented[v] = true;
                line = end;
                while (*line == ' ')
                        line++;
        }
        assert_non_null(strstr(text, "\nRestart=on-failure\n"));
}

static void test_unit_retries_exactly_the_temporary_codes(void **state) {
        bool prevented[256];
        size_t n;
        const struct cli_exit_rule *rules = cli_exit_rules(&n);
        (void) state;

        prevented_codes(prevented);
        for (size_t i = 0; i < n; i++) {
                bool temporary = rules[i].exit_code == EXIT_TEMPORARY;
                if (prevented[rules[i].exit_code] == temporary)
                        fail_msg("exit %d (%s): the unit %s it", rules[i].exit_code,
                                 strerror(rules[i].error), temporary ? "does not retry" : "retries");
        }
        /* the default for unlisted errors, and the codes verbs return directly */
        assert_true(prevented[EXIT_FAILED] && prevented[EXIT_USAGE] && prevented[EXIT_UNSUPPORTED]);
        assert_false(prevented[EXIT_TEMPORARY]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_row),
                cmocka_unit_test(test_unit_retries_exactly_the_temporary_codes),
        };
        return cmocka_run_group_tests_name("exit-codes", tests, NULL, NULL);
}
