/* SPDX-License-Identifier: Apache-2.0 */
/* The command line: global options, the verb table, and helpers every verb uses. */
#pragma once

#include <stdbool.h>

#include "firstboot/verbs/exit-codes.h"

/* Global options, accepted before or after the verb. */
struct cli_globals {
        const char *root; /* NULL for the real root */
        int verbosity;    /* count of -v */
        bool allow_host;  /* --allow-host: with --root, act on this machine too */
};
extern struct cli_globals cli;

/* Whether this machine is the node: no --root (or --root /), or --allow-host. Otherwise nothing outside
 * the root is touched or run: no helper program, device, mount, port, /proc or /sys of this machine. */
bool cli_on_host(void);

struct verb {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv); /* argv[0] is the verb; returns an exit code */
};

/* Every verb's entry point; one file each under firstboot/cmd-*.c. */
int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_metadata(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_refresh(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_secrets(int argc, char **argv);
int cmd_etcd(int argc, char **argv);
int cmd_etcd_disk(int argc, char **argv); /* 'etcd disk', dispatched by cmd_etcd */
int cmd_version(int argc, char **argv);
int cmd_http_get(int argc, char **argv);

/* Prints a verb's help: usage lines and body, then the global options and exit codes. */
void cli_print_help(const char *usage, const char *body);
/* The same with more of the verb's own text (options verbs share) before the global options. */
void cli_print_help_more(const char *usage, const char *body, const char *more);

/* For verbs whose work belongs to a later release: says so plainly and returns EXIT_UNSUPPORTED. */
int cli_not_yet(const char *verb, const char *what);

/* A verb not built yet: prints its help on -h/--help, else says it is not available (EXIT_UNSUPPORTED). */
int cli_stub(int argc, char **argv, const char *usage, const char *body, const char *what);

/* Handles -h/--help as the only argument pattern of verbs that take no options; returns -1 to go on. */
int cli_help_or_usage(int argc, char **argv, const char *usage, const char *body, int max_args);

/* Maps a -errno from the libraries to an exit code by the table in exit-codes.c (cli_exit_rules()):
 * EXIT_TEMPORARY for what may pass, EXIT_USAGE for -EINVAL, EXIT_FAILED for anything not listed. */
int cli_exit_code_for_error(int r);
#define cli_oom() (log_oom(), EXIT_FAILED)

/* Parses whole seconds from 1 to max for option opt; logs and returns -EINVAL on a bad value. */
int cli_parse_seconds(const char *opt, const char *arg, unsigned max, unsigned *ret);

/* The version string, e.g. "0.1.0-12-gabcdef". */
const char *cli_version(void);
