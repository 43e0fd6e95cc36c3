/* SPDX-License-Identifier: Apache-2.0 */
/* preflight: kubeadm's preflight checks for this node's role, alone, as 'kubeadm init phase preflight'. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/config/config.h"
#include "firstboot/flows/flows.h"
#include "firstboot/host/preflight.h"
#include "metadata/metadata.h"

static const char usage[] =
        "kube-firstboot preflight [--ignore-preflight-errors LIST] [--proc-root DIR] [CONFIGURATION OPTIONS]";
static const char body[] =
        "Runs the checks kubeadm's preflight makes for this node's role (init, control-plane or worker)\n"
        "before anything is written: ports free, no manifests or kubelet files of another cluster, an\n"
        "empty etcd data dir, the container runtime answering, swap, IP forwarding, the tools on $PATH,\n"
        "the kubelet, cgroups, CPUs and memory on control planes, and a sane clock. Check names are\n"
        "kubeadm's, so nodeRegistration.ignorePreflightErrors works as in kubeadm (case-insensitive;\n"
        "'all' ignores every check; an ignored error is printed as a warning).\n"
        "\n"
        "  --ignore-preflight-errors LIST  more check names to ignore, comma-separated (added to the\n"
        "                                  configuration's)\n"
        "  --proc-root DIR                 read /proc and /sys under DIR (default /)\n"
        "\n"
        "Prints one line per warning or error, then a summary. Exits 0 when there is no error, 1 when\n"
        "there is, 2 for a bad configuration or an 'auto' role that cannot be decided here (pass --role).\n"
        "\n";

int cmd_preflight(int argc, char **argv) {
        enum { ARG_IGNORE = _CONFIG_ARG_MAX, ARG_PROC_ROOT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"ignore-preflight-errors", required_argument, NULL, ARG_IGNORE},
                {"proc-root", required_argument, NULL, ARG_PROC_ROOT},
                CONFIG_CLI_OPTIONS,
                {},
        };
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_strv_free_ char **ignore = NULL, **extra = NULL;
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report report = {};
        struct fb_preflight_spec spec;
        const char *proc = NULL;
        enum fb_role role;
        int ch, r;

        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (ch) {
                case 'h':
                        printf("Usage: %s\n\n%s%s", usage, body, config_cli_help);
                        cli_print_help(NULL, NULL);
                        return EXIT_DONE;
                case ARG_IGNORE:
                        for (const char *p = optarg; *p;) {
                                size_t n = strcspn(p, ",");
                                if (n > 0 && strv_consume(&extra, strndup(p, n)) < 0)
                                        return cli_oom();
                                p += n + (p[n] == ',');
                        }
                        break;
                case ARG_PROC_ROOT:
                        proc = optarg;
                        break;
                default:
                        r = config_cli_option(&cc, ch, optarg);
                        if (r < 0)
                                return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
                        if (r == 0)
                                return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("preflight takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }

        /* Partial: preflight needs the role's node settings, not a configuration complete for joining. */
        r = config_cli_load(&cc, cli.root, true, false, &inst, &c);
        if (r != EXIT_DONE)
                return r;
        role = fb_config_role(c);
        if (role == FB_ROLE_AUTO) {
                r = inst ? fb_config_is_seed(c, inst) : -EINVAL;
                if (r < 0) {
                        log_error(
                                "The role is 'auto' and cannot be decided here: pass --role init, control-plane or worker.");
                        return EXIT_USAGE;
                }
                role = r > 0 ? FB_ROLE_INIT : FB_ROLE_CONTROL_PLANE;
        }
        if (fb_preflight_spec_from_config(c, role, &spec) < 0 ||
            fb_preflight_ignore_list(c, role, &ignore) < 0)
                return cli_oom();
        for (char **e = extra; e && *e; e++)
                if (strv_extend(&ignore, *e) < 0)
                        return cli_oom();
        const char *problem = fb_preflight_ignore_problem(ignore);
        if (problem) {
                log_error("%s.", problem);
                return EXIT_USAGE;
        }
        spec.ignore = ignore;
        spec.root = cli.root;
        spec.proc_root = proc;
        spec.files_only = !cli_on_host();

        r = fb_preflight_run(&spec, &report);
        if (r < 0) {
                log_error_errno(r, "Cannot run the preflight checks: %m");
                return EXIT_FAILED;
        }
        fb_preflight_report_print(&report, stdout);
        printf("preflight: %zu checks for role %s: %zu error%s, %zu warning%s\n", report.ran,
               fb_role_to_string(role), report.errors, report.errors == 1 ? "" : "s",
               report.n - report.errors, report.n - report.errors == 1 ? "" : "s");
        return report.errors > 0 ? EXIT_FAILED : EXIT_DONE;
}
