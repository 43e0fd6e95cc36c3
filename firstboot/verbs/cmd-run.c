/* SPDX-License-Identifier: Apache-2.0 */
/* run and plan: the same preparation (configuration, role, cluster, node), then the phases run, or printed.
 */
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
        if (cc->failure[0] && cc->secret_failure) {
                status_fail(
                        cli.root, NULL, cc->failure_errno ?: -EIO, cc->failure,
                        exit_code == EXIT_TEMPORARY
                                ? "The secret store or the metadata service did not answer (or throttled): check the instance's network and the store's endpoint; the unit retries. 'kube-firstboot secrets check -v' reads every secret alone."
                                : "Check the instance's identity (an IAM role, a service account, a managed identity) and its permission to read the secret, and the secret's name, region and version; 'kube-firstboot secrets check -v' reads every secret alone.");
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

/* What run and plan share: the options, the configuration and metadata, the role, the cluster, the node. */
struct prepared {
        struct config_cli cc;
        const char *stop_after; /* run's --stop-after */
        struct md_instance *inst;
        struct fb_config *c;
        struct fb_role_decision decision;
        struct fb_join_discovery jd; /* a joiner's; node->join points here */
        struct fb_node *node;
        struct fb_phase *phases;
        size_t n;
        char *exposure;                   /* the exposure warning, or NULL */
        struct fb_secret_context secrets; /* node->secrets: a rotated secret read again */
};

static void prepared_done(struct prepared *p) {
        fb_secret_context_done(&p->secrets);
        free(p->exposure);
        p->exposure = NULL;
        free(p->phases);
        p->phases = NULL;
        fb_node_freep(&p->node);
        fb_join_discovery_done(&p->jd);
        fb_config_freep(&p->c);
        md_instance_freep(&p->inst);
        config_cli_done(&p->cc);
}

/*
 * The command line: false when the verb ends here (--help, a bad option, an argument) with *ret_exit;
 * ret_stop_after is NULL for a verb without --stop-after.
 */
static bool parse_options(int argc, char **argv, const char *usage, const char *body, struct config_cli *cc,
                          const char **ret_stop_after, int *ret_exit) {
        enum { ARG_STOP_AFTER = _CONFIG_ARG_MAX };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"stop-after", required_argument, NULL, ARG_STOP_AFTER},
                CONFIG_CLI_OPTIONS,
                {},
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (ch == 'h') {
                        cli_print_help_more(usage, body, config_cli_help);
                        *ret_exit = EXIT_DONE;
                        return false;
                }
                if (ch == ARG_STOP_AFTER && ret_stop_after) {
                        *ret_stop_after = optarg;
                        continue;
                }
                r = config_cli_option(cc, ch, optarg);
                if (r <= 0) {
                        *ret_exit = r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
                        return false;
                }
        }
        if (optind != argc) {
                log_error("%s takes no arguments. Usage: %s", argv[0], usage);
                *ret_exit = EXIT_USAGE;
                return false;
        }
        return true;
}

/* The configuration and the metadata, checked for a node: EXIT_DONE, or the exit code after the problems
 * were logged. */
#define EXPOSURE_REMEDY                                                                                     \
        "Move the secrets to a secret store read with the instance's own identity (FirstbootConfiguration.secrets.NAME: awsSecretsManager, awsSsmParameter, gcpSecretManager or azureKeyVault; README: Secrets from a cloud secret store), or on EC2 require IMDSv2 with a hop limit of 1 so that no pod reaches the metadata service."

/* Secrets given in user-data that the metadata service hands to any process on the machine, for its whole
 * life: said once, in the log (and by run in status.json), naming the fields, never their values. */
static int note_exposure(struct prepared *p) {
        char *const *fields = fb_config_userdata_secrets(p->c);
        if (!p->inst || !p->inst->userdata_exposure || !fields)
                return 0;
        _cleanup_free_ char *list = strjoin_sep((const char *const *) fields, strv_length(fields), ", ");
        p->exposure =
                list ? strdupf("The user-data holds secrets (%s), and %s, for the machine's whole life: a pod that reaches it can read them.",
                               list, p->inst->userdata_exposure)
                     : NULL;
        if (!p->exposure)
                return -ENOMEM;
        log_warning("%s", p->exposure);
        log_info("Remedy: %s", EXPOSURE_REMEDY);
        return 0;
}

static int load_configuration(struct prepared *p) {
        p->cc.node_checks = true;
        int r = config_cli_load(&p->cc, cli.root, false, false, &p->inst, &p->c);
        if (r != EXIT_DONE)
                return r;
        return note_exposure(p) < 0 ? cli_oom() : EXIT_DONE;
}

static int decide_role(struct prepared *p, bool dry_run, struct error *why) {
        int r = fb_role_decide(cli.root, p->c, p->inst, dry_run, cli_on_host(), &p->decision, why);
        if (r < 0)
                return r;
        log_info("Role: %s (%s)", fb_role_to_string(p->decision.role), p->decision.reason);
        return 0;
}

/* A joiner first learns the cluster: discovery, then its kubeadm-config and kubelet-config. */
static int discover_cluster(struct prepared *p, unsigned timeout_ms, struct error *why) {
        if (p->decision.role == FB_ROLE_INIT)
                return 0;
        log_info("Discovery: %s", discovery_endpoint(p->c));
        return fb_join_discover(cli.root, p->c, timeout_ms, &p->jd, why);
}

/* The node (from the cluster's view when discovery found one), then its flow's phases. */
static int build_node(struct prepared *p, struct error *why) {
        struct fb_cluster_view view = {p->jd.cluster_configuration, p->jd.kubelet_configuration};
        int r = fb_node_new(cli.root, p->c, p->inst, p->decision.role, p->jd.server ? &view : NULL, &p->node,
                            why);
        if (r < 0)
                return r;
        if (p->jd.server)
                p->node->join = &p->jd;
        p->node->host = cli_on_host();
        p->secrets = (struct fb_secret_context){
                .md = &p->cc.md,
                .datasource = p->inst && p->inst->datasource ? p->inst->datasource : p->cc.md.datasource};
        p->node->secrets = &p->secrets;
        return 0;
}

static int list_phases(struct prepared *p) {
        return p->decision.role == FB_ROLE_INIT ? fb_init_phases(p->node, &p->phases, &p->n)
                                                : fb_join_phases(p->node, &p->phases, &p->n);
}

static const char *role_name(const struct prepared *p) {
        return fb_role_to_string(p->decision.role);
}

/* plan: the decision and every phase with what it would do; not 0 when run would not get through. */
static int print_plan(const struct prepared *p) {
        const struct fb_secret_info *secrets;
        size_t n;

        printf("decision: %s\n", p->decision.reason);
        /* Where each secret came from and its fingerprint, never its value ('secrets check' reads them
         * alone). */
        secrets = fb_config_secret_info(p->c, &n);
        for (size_t i = 0; i < n; i++)
                printf("secret %s: %s from %s\n", secrets[i].name,
                       secrets[i].fingerprint[0] ? secrets[i].fingerprint : "(not read)", secrets[i].source);
        int r = fb_phases_plan(cli.root, role_name(p), p->phases, p->n, p->node, stdout);
        if (r == -ESTALE) {
                log_error("This machine's journal (" FB_JOURNAL_PATH ") is for another role.");
                return EXIT_FAILED;
        }
        if (r < 0)
                return cli_exit_code_for_error(r);
        if (p->node->plan_error.code) {
                /* A plan that 'run' would not get through is not a plan: say so, and not 0. */
                int e = p->node->plan_error.code;
                log_error("'run' would fail: %s", error_message(&p->node->plan_error, e));
                return e == -EINVAL ? EXIT_USAGE : cli_exit_code_for_error(e);
        }
        return EXIT_DONE;
}

int cmd_plan(int argc, char **argv) {
        _cleanup_(prepared_done) struct prepared p = {};
        struct error why = {};
        int r;

        if (!parse_options(argc, argv, plan_usage, plan_body, &p.cc, NULL, &r))
                return r;
        r = load_configuration(&p);
        if (r != EXIT_DONE)
                return r;
        r = decide_role(&p, true, &why);
        if (r < 0) {
                log_error("Cannot decide the role: %s", error_message(&why, r));
                return cli_exit_code_for_error(r);
        }
        r = discover_cluster(&p, 5000, &why);
        if (r < 0)
                log_warning("Discovery failed (%s); planning from this node's configuration alone.",
                            error_message(&why, r));
        error_clear(&why);
        r = build_node(&p, &why);
        if (r < 0) {
                log_error("%s", error_message(&why, r));
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
        }
        r = list_phases(&p);
        if (r < 0) {
                log_error("%s", error_message(&why, r));
                return cli_exit_code_for_error(r);
        }
        return print_plan(&p);
}

/* status.json for the phases about to run. */
static int open_status(const struct prepared *p, struct fb_status **ret) {
        _cleanup_free_ const char **names = calloc(p->n + 1, sizeof(char *));
        if (!names)
                return cli_oom();
        for (size_t i = 0; i < p->n; i++)
                names[i] = p->phases[i].name;
        int r = fb_status_new(cli.root, role_name(p), names, count_requests, ret);
        if (r < 0) {
                log_error_errno(r, "Cannot write " FB_STATUS_PATH ": %m");
                return EXIT_FAILED;
        }
        return EXIT_DONE;
}

/* How many phases to run: all, or up to --stop-after's. */
static int phases_to_run(const struct prepared *p, size_t *ret) {
        size_t upto;

        if (!p->stop_after) {
                *ret = p->n;
                return EXIT_DONE;
        }
        for (upto = 0; upto < p->n && !streq(p->phases[upto].name, p->stop_after); upto++)
                ;
        if (upto == p->n) {
                log_error("--stop-after: '%s' is not a phase of the %s flow.", p->stop_after, role_name(p));
                return EXIT_USAGE;
        }
        *ret = upto + 1;
        return EXIT_DONE;
}

/* A phase failed (or the journal is another role's): the log and status.json say which and what to do. */
static int report_phases_failure(const struct prepared *p, struct fb_status *st, int r,
                                 const struct fb_phases_result *res) {
        const struct fb_phase *failed = NULL;

        if (r == -ESTALE) {
                (void) fb_status_fail(st, NULL, r,
                                      "This machine's journal (" FB_JOURNAL_PATH ") is for another role",
                                      "A machine sets up one role; start from a fresh image.");
                log_error("This machine's journal (" FB_JOURNAL_PATH ") is for another role; not going on.");
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < p->n; i++)
                if (res->failed_phase && streq(p->phases[i].name, res->failed_phase))
                        failed = &p->phases[i];
        log_error("Phase %s failed: %s", res->failed_phase ?: "?", res->message);
        if (failed && failed->remedy)
                log_info("Remedy: %s", failed->remedy);
        log_info("Run 'kube-firstboot run' again to resume; done phases are verified and skipped.");
        return cli_exit_code_for_error(r);
}

/* Every phase ran: the join queue, the certificates' expiry, status.json and the done marker. */
static int finish(const struct prepared *p, struct fb_status *st, const struct fb_phases_result *res) {
        int r = fb_join_release_stale_queue_hold(p->node);
        if (r < 0)
                log_warning(
                        "Cannot check the etcd join queue for a hold left by an earlier run: %s (it expires by itself).",
                        strerror(-r));
        (void) cli_expiration_report(cli.root, &p->node->pki, st, NULL);
        r = fb_status_succeed(st);
        if (r >= 0)
                r = write_string_atomic(cli.root, FB_DONE_PATH,
                                        p->inst && p->inst->instance_id ? p->inst->instance_id : "done",
                                        0644, WRITE_MKDIR_PARENTS);
        if (r < 0) {
                log_error_errno(r, "The node is set up, but the result cannot be recorded: %m");
                return EXIT_FAILED;
        }
        (void) fb_sd_notify("READY=1");
        log_info("Done: %s node %s (%zu phases run, %zu verified as done; %lu API and %lu etcd requests).",
                 role_name(p), p->node->pki.node_name, res->ran + res->redone, res->skipped,
                 kube_requests_made(), etcd_requests_made());
        return EXIT_DONE;
}

/* run: the phases (up to --stop-after), status.json all along, then the result recorded. */
static int run_phases(const struct prepared *p) {
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;
        struct fb_phases_result res = {};
        size_t upto;
        int r;

        r = open_status(p, &st);
        if (r != EXIT_DONE)
                return r;
        if (p->exposure && fb_status_add_warning(st, p->exposure, EXPOSURE_REMEDY) < 0)
                log_warning("Cannot record the warning in " FB_STATUS_PATH ", ignoring.");
        r = phases_to_run(p, &upto);
        if (r != EXIT_DONE)
                return r;
        p->node->status = st;
        r = fb_phases_run(cli.root, role_name(p), p->phases, upto, p->node, st, &res);
        if (r < 0)
                return report_phases_failure(p, st, r, &res);
        if (upto < p->n) {
                log_info("Stopped after phase %s as asked; 'kube-firstboot run' goes on from there.",
                         p->stop_after);
                return EXIT_DONE;
        }
        return finish(p, st, &res);
}

int cmd_run(int argc, char **argv) {
        _cleanup_(prepared_done) struct prepared p = {};
        struct error why = {};
        int r;

        if (!parse_options(argc, argv, run_usage, run_body, &p.cc, &p.stop_after, &r))
                return r;
        if (path_exists(cli.root, FB_DONE_PATH) >= 0) {
                log_info("This node is already set up (" FB_DONE_PATH " exists); nothing to do.");
                return EXIT_DONE;
        }
        r = load_configuration(&p);
        if (r != EXIT_DONE) {
                report_load_failure(&p.cc, r);
                return r;
        }
        r = decide_role(&p, false, &why);
        if (r < 0)
                return fail_early(
                        cli.root, NULL, r, error_message(&why, r),
                        "Check FirstbootConfiguration.role and seed, and that the control-plane endpoint is reachable.");
        r = discover_cluster(&p, 0, &why);
        if (r < 0)
                return fail_early(
                        cli.root, role_name(&p), r, error_message(&why, r),
                        "Check the control-plane endpoint, the bootstrap token (kubeadm token list on a control plane) and the CA pin; 'kube-firstboot discover' runs discovery alone. If control planes died: the API stops once fewer than a quorum (half plus one) of the etcd members run; bring them back, or restore etcd from a snapshot (README: Replacing dead control planes).");
        error_clear(&why);
        r = build_node(&p, &why);
        if (r < 0)
                return fail_early(cli.root, role_name(&p), r, error_message(&why, r),
                                  "Fix the configuration field named.");
        r = list_phases(&p);
        if (r < 0)
                return fail_early(cli.root, role_name(&p), r, error_message(&why, r), NULL);
        return run_phases(&p);
}
