/* SPDX-License-Identifier: Apache-2.0 */
/* run and plan: the configuration, the role decision, then the flow's phases (run) or what they would do. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/verbs/expiration.h"
#include "firstboot/cluster/etcd.h"
#include "firstboot/flows/flows.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/flows/role.h"
#include "firstboot/engine/status.h"

static const char run_usage[] = "kube-firstboot run [OPTIONS]";
static const char run_body[] =
        "Sets this node up, unattended: reads the instance metadata and user-data, decides the node's role\n"
        "(init, control-plane, worker, or auto from identical user-data), runs the phases of kubeadm init,\n"
        "the HA control-plane join or the worker join, and hands the node to the kubelet.\n"
        "\n"
        "Every phase is journaled in /var/lib/kube-firstboot/journal.json: a re-run after a crash, a reboot\n"
        "or a failure verifies what is done and goes on from there. Progress and the result (with the\n"
        "failing phase, the cause and a remedy) are in /run/kube-firstboot/status.json ('kube-firstboot\n"
        "status'), and in STATUS= lines to systemd when run as a Type=notify service. On success it writes\n"
        "/run/cluster-api/bootstrap-success.complete, /var/lib/kube-firstboot/done (a later run then exits\n"
        "at once) and, after init, the join information in /var/lib/kube-firstboot/join-info.json.\n"
        "\n"
        "The kubelet is started with 'systemctl enable --now kubelet' unless\n"
        "FirstbootConfiguration.kubelet.startCommand says otherwise.\n"
        "\n"
        "  --stop-after PHASE            run the phases up to PHASE and stop (a later run goes on)\n";
static const char plan_usage[] = "kube-firstboot plan [OPTIONS]";
static const char plan_body[] =
        "Prints the role decision and every phase 'run' would go through, with the files it would write and\n"
        "the API calls it would make, touching nothing. Phases found done (journal and check agree) are\n"
        "marked so.\n";

/* status.json's request counts: the API and etcd clients count what they send. */
static void count_requests(struct fb_status_requests *ret) {
        *ret = (struct fb_status_requests){.api = kube_requests_made(), .etcd = etcd_requests_made()};
}

/* One line for a failure that happens before the phases (configuration, role): status.json says it too. */
static void status_fail(const char *root, const char *role, int r, const char *what, const char *remedy) {
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;
        if (fb_status_new(root, role ?: "unknown", NULL, count_requests, &st) >= 0)
                (void) fb_status_fail(st, NULL, r, what, remedy);
}

static int fail_early(const char *root, const char *role, int r, const char *what, const char *remedy) {
        log_error("%s", what);
        if (remedy)
                log_info("Remedy: %s", remedy);
        status_fail(root, role, r, what, remedy);
        return r == -EINVAL ? EXIT_USAGE : cli_exit_code_for_error(r);
}

/* status.json after the configuration was refused, or the metadata could not be read: what and why. */
static void report_load_failure(const struct config_cli *cc, int exit_code) {
        _cleanup_free_ char *list = NULL, *what = NULL;
        size_t n = strv_length(cc->problems);

        if (n > 0) {
                list = strjoin_sep((const char *const *) cc->problems, n, "; ");
                what = list ? strdupf("The configuration is not valid (%zu problem%s); nothing was written: %s",
                                      n, n == 1 ? "" : "s", list)
                            : NULL;
                /* The problems are in the log already: status.json says them too. */
                status_fail(
                        cli.root, NULL, -EINVAL,
                        what ?: "The configuration is not valid; nothing was written.",
                        "Fix the field named, where its source says (user-data, image defaults, metadata tag, option); 'kube-firstboot config validate' lists every problem.");
                return;
        }
        if (cc->failure[0]) {
                bool temporary = exit_code == EXIT_TEMPORARY;
                status_fail(
                        cli.root, NULL, cc->failure_errno ?: -EIO, cc->failure,
                        temporary
                                ? "The metadata source did not answer: check the instance's network and the metadata service ('kube-firstboot metadata -v' shows every request); the unit retries."
                                : "Check the metadata source ('kube-firstboot metadata -v' says what it answered), or name one with --datasource.");
        }
}

/* JoinConfiguration's discovery endpoint, for the log. */
static const char *discovery_endpoint(const struct fb_config *c) {
        const struct fb_join_settings *j = fb_config_settings(c)->join;
        return j && j->discovery.api_server_endpoint ? j->discovery.api_server_endpoint : "?";
}

static int run_or_plan(int argc, char **argv, bool plan) {
        enum { ARG_STOP_AFTER = _CONFIG_ARG_MAX };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"stop-after", required_argument, NULL, ARG_STOP_AFTER},
                CONFIG_CLI_OPTIONS,
                {},
        };
        const char *stop_after = NULL;
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_(fb_node_freep) struct fb_node *node = NULL;
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;
        _cleanup_free_ struct fb_phase *phases = NULL;
        _cleanup_free_ const char **names = NULL;
        struct fb_role_decision decision = {};
        _cleanup_(fb_join_discovery_done) struct fb_join_discovery jd = {};
        size_t n = 0;
        struct error why = {};
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (ch == 'h') {
                        cli_print_help_more(plan ? plan_usage : run_usage, plan ? plan_body : run_body,
                                            config_cli_help);
                        return EXIT_DONE;
                }
                if (ch == ARG_STOP_AFTER && !plan) {
                        stop_after = optarg;
                        continue;
                }
                r = config_cli_option(&cc, ch, optarg);
                if (r <= 0)
                        return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        }
        if (optind != argc) {
                log_error("%s takes no arguments. Usage: %s", argv[0], plan ? plan_usage : run_usage);
                return EXIT_USAGE;
        }

        if (!plan && path_exists(cli.root, FB_DONE_PATH) >= 0) {
                log_info("This node is already set up (" FB_DONE_PATH " exists); nothing to do.");
                return EXIT_DONE;
        }

        cc.node_checks = true;
        r = config_cli_load(&cc, cli.root, false, false, &inst, &c);
        if (r != EXIT_DONE) {
                if (!plan)
                        report_load_failure(&cc, r);
                return r;
        }

        r = fb_role_decide(cli.root, c, inst, plan, &decision, &why);
        if (r < 0)
                return plan ? (log_error("Cannot decide the role: %s", error_message(&why, r)),
                               cli_exit_code_for_error(r))
                            : fail_early(
                                      cli.root, NULL, r, error_message(&why, r),
                                      "Check FirstbootConfiguration.role and seed, and that the control-plane endpoint is reachable.");
        log_info("Role: %s (%s)", fb_role_to_string(decision.role), decision.reason);

        /* A joiner first learns the cluster: discovery, then its kubeadm-config and kubelet-config. */
        if (decision.role != FB_ROLE_INIT) {
                log_info("Discovery: %s", discovery_endpoint(c));
                r = fb_join_discover(cli.root, c, plan ? 5000 : 0, &jd, &why);
                if (r < 0 && !plan)
                        return fail_early(
                                cli.root, fb_role_to_string(decision.role), r, error_message(&why, r),
                                "Check the control-plane endpoint, the bootstrap token (kubeadm token list on a control plane) and the CA pin; 'kube-firstboot discover' runs discovery alone. If control planes died: the API stops once fewer than a quorum (half plus one) of the etcd members run; bring them back, or restore etcd from a snapshot (README: Replacing dead control planes).");
                if (r < 0)
                        log_warning("Discovery failed (%s); planning from this node's configuration alone.",
                                    error_message(&why, r));
                error_clear(&why);
        }
        struct fb_cluster_view view = {jd.cluster_configuration, jd.kubelet_configuration};
        r = fb_node_new(cli.root, c, inst, decision.role, jd.server ? &view : NULL, &node, &why);
        if (r >= 0 && jd.server)
                node->join = &jd;
        if (r >= 0)
                node->host = cli_on_host();
        if (r < 0)
                return plan ? (log_error("%s", error_message(&why, r)),
                               r == -EINVAL ? EXIT_USAGE : EXIT_FAILED)
                            : fail_early(cli.root, fb_role_to_string(decision.role), r,
                                         error_message(&why, r), "Fix the configuration field named.");

        r = decision.role == FB_ROLE_INIT ? fb_init_phases(node, &phases, &n)
                                          : fb_join_phases(node, &phases, &n);
        if (r < 0)
                return plan ? (log_error("%s", error_message(&why, r)), cli_exit_code_for_error(r))
                            : fail_early(cli.root, fb_role_to_string(decision.role), r,
                                         error_message(&why, r), NULL);

        if (plan) {
                printf("decision: %s\n", decision.reason);
                r = fb_phases_plan(cli.root, fb_role_to_string(decision.role), phases, n, node, stdout);
                if (r == -ESTALE) {
                        log_error("This machine's journal (" FB_JOURNAL_PATH ") is for another role.");
                        return EXIT_FAILED;
                }
                if (r < 0)
                        return cli_exit_code_for_error(r);
                if (node->plan_error.code) {
                        /* A plan that 'run' would not get through is not a plan: say so, and not 0. */
                        int e = node->plan_error.code;
                        log_error("'run' would fail: %s", error_message(&node->plan_error, e));
                        return e == -EINVAL ? EXIT_USAGE : cli_exit_code_for_error(e);
                }
                return EXIT_DONE;
        }

        names = calloc(n + 1, sizeof(char *));
        if (!names)
                return cli_oom();
        for (size_t i = 0; i < n; i++)
                names[i] = phases[i].name;
        r = fb_status_new(cli.root, fb_role_to_string(decision.role), names, count_requests, &st);
        if (r < 0) {
                log_error_errno(r, "Cannot write " FB_STATUS_PATH ": %m");
                return EXIT_FAILED;
        }

        size_t upto = n;
        if (stop_after) {
                for (upto = 0; upto < n && !streq(phases[upto].name, stop_after); upto++)
                        ;
                if (upto == n) {
                        log_error("--stop-after: '%s' is not a phase of the %s flow.", stop_after,
                                  fb_role_to_string(decision.role));
                        return EXIT_USAGE;
                }
                upto++;
        }

        struct fb_phases_result res = {};
        node->status = st;
        r = fb_phases_run(cli.root, fb_role_to_string(decision.role), phases, upto, node, st, &res);
        if (r == -ESTALE) {
                (void) fb_status_fail(st, NULL, r,
                                      "This machine's journal (" FB_JOURNAL_PATH ") is for another role",
                                      "A machine sets up one role; start from a fresh image.");
                log_error("This machine's journal (" FB_JOURNAL_PATH ") is for another role; not going on.");
                return EXIT_FAILED;
        }
        if (r < 0) {
                const struct fb_phase *p = NULL;
                for (size_t i = 0; i < n; i++)
                        if (res.failed_phase && streq(phases[i].name, res.failed_phase))
                                p = &phases[i];
                log_error("Phase %s failed: %s", res.failed_phase ?: "?", res.message);
                if (p && p->remedy)
                        log_info("Remedy: %s", p->remedy);
                log_info("Run 'kube-firstboot run' again to resume; done phases are verified and skipped.");
                return cli_exit_code_for_error(r);
        }

        if (upto < n) {
                log_info("Stopped after phase %s as asked; 'kube-firstboot run' goes on from there.",
                         stop_after);
                return EXIT_DONE;
        }
        r = fb_join_release_stale_queue_hold(node);
        if (r < 0)
                log_warning(
                        "Cannot check the etcd join queue for a hold left by an earlier run: %s (it expires by itself).",
                        strerror(-r));
        (void) cli_expiration_report(cli.root, &node->pki, st, NULL);
        r = fb_status_succeed(st);
        if (r >= 0)
                r = write_string_atomic(cli.root, FB_DONE_PATH,
                                        inst && inst->instance_id ? inst->instance_id : "done", 0644,
                                        WRITE_MKDIR_PARENTS);
        if (r < 0) {
                log_error_errno(r, "The node is set up, but the result cannot be recorded: %m");
                return EXIT_FAILED;
        }
        (void) fb_sd_notify("READY=1");
        log_info("Done: %s node %s (%zu phases run, %zu verified as done; %lu API and %lu etcd requests).",
                 fb_role_to_string(decision.role), node->pki.node_name, res.ran + res.redone, res.skipped,
                 kube_requests_made(), etcd_requests_made());
        return EXIT_DONE;
}

int cmd_run(int argc, char **argv) {
        return run_or_plan(argc, argv, false);
}

int cmd_plan(int argc, char **argv) {
        return run_or_plan(argc, argv, true);
}
