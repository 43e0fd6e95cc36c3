/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"

#ifndef KF_VERSION
#        define KF_VERSION "0.0.0-unknown"
#endif

struct cli_globals cli = {};

bool cli_on_host(void) {
        return isempty(cli.root) || streq(cli.root, "/") || cli.allow_host;
}

const char *cli_version(void) {
        return KF_VERSION;
}

void cli_print_help(const char *usage, const char *body) {
        cli_print_help_more(usage, body, NULL);
}

void cli_print_help_more(const char *usage, const char *body, const char *more) {
        if (usage)
                printf("Usage: %s\n", usage);
        if (body)
                printf("\n%s\n", body);
        if (more)
                printf("%s\n", more);
        printf("Global options (before or after the verb):\n"
               "  --root DIR          the node is DIR, not this machine: every node path (/etc/kubernetes,\n"
               "                      /var/lib/..., /run/..., /sys/class/dmi, the metadata files) is taken\n"
               "                      under DIR, and nothing outside DIR is written or run: no helper\n"
               "                      program (the kubelet start command, mkfs, kubelet --version,\n"
               "                      vmware-rpctool), no mount, no block device probed by label, no port\n"
               "                      bound, no /proc or /sys read. For tests, plan, and image builders\n"
               "                      working on an unbooted root. Files named on the command line are used\n"
               "                      as given, and network peers (metadata services, the API) are asked.\n"
               "  --allow-host        with --root: DIR is this machine's root after all (a chroot, a test\n"
               "                      double of a node): run its programs, mount, check its ports too\n"
               "  -v, --verbose       debug output (repeatable)\n"
               "  --log-format FMT    'text' (default; journald <N> priority prefixes when stderr is not a\n"
               "                      terminal) or 'json' (one object per line)\n"
               "  -h, --help          this help\n"
               "  --version           the version and the linked library versions\n"
               "\n"
               "Exit codes:\n"
               "  0  done\n"
               "  1  failed (the message, and for 'run' /run/kube-firstboot/status.json, says why)\n"
               "  2  bad usage or bad configuration: fix the input; retrying will not help\n"
               "  3  temporary failure (a peer unreachable or timing out, etcd's quorum lost, the join\n"
               "     queue held, a server error): retrying later may succeed; the unit retries\n"
               "  4  not supported by this version of kube-firstboot\n");
}

int cli_not_yet(const char *verb, const char *what) {
        log_error("'%s' is not available in this version of kube-firstboot: %s", verb, what);
        return EXIT_UNSUPPORTED;
}

int cli_help_or_usage(int argc, char **argv, const char *usage, const char *body, int max_args) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                }
        for (int i = 1; i < argc; i++)
                if (argv[i][0] == '-' && argv[i][1]) {
                        log_error("%s: unknown option '%s'. Usage: %s", argv[0], argv[i], usage);
                        return EXIT_USAGE;
                }
        if (argc - 1 > max_args) {
                log_error("%s: too many arguments. Usage: %s", argv[0], usage);
                return EXIT_USAGE;
        }
        return -1;
}

int cli_stub(int argc, char **argv, const char *usage, const char *body, const char *what) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                }
        return cli_not_yet(argv[0], what);
}

int cli_parse_seconds(const char *opt, const char *arg, unsigned max, unsigned *ret) {
        unsigned v;
        if (safe_atou(arg, &v) < 0 || v == 0 || v > max) {
                log_error("%s takes whole seconds from 1 to %u, not '%s'.", opt, max, arg);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}
