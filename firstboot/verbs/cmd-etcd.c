/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd: the member operations a control-plane join makes, for operators to look at (and repair) a
 * stacked etcd with the node's own kubeadm credentials, without installing etcdctl; the whole join of a
 * member (add as learner or find it, then promote); and the cluster's join queue.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/cluster/etcd-join.h"
#include "firstboot/cluster/etcd.h"
#include "firstboot/cluster/joinqueue.h"
#include "firstboot/cluster/kubeapi.h"

static const char usage[] =
        "kube-firstboot etcd member list | member add-learner PEER-URL | member promote ID |\n"
        "           member remove ID | member join --name NAME --peer-url URL [--promote] | health\n"
        "           [--endpoints URL,...] [--cacert FILE] [--cert FILE --key FILE] [--timeout SECONDS]\n"
        "       kube-firstboot etcd queue show | take | release   [--kubeconfig FILE] [--holder ID]\n"
        "           [--ttl SECONDS] [--wait SECONDS] [--hold SECONDS] [--force]\n"
        "       kube-firstboot etcd disk [--dry-run] [CONFIGURATION OPTIONS]   (see 'etcd disk --help')";

static const char body[] =
        "Talks to the cluster's etcd over its v3 JSON gateway with kubeadm's etcd client credentials, as\n"
        "a control-plane join does: list the members (voters and learners), add a learner, promote it,\n"
        "remove a member, check health. IDs are printed and taken in hex, as etcdctl prints them.\n"
        "\n"
        "  --endpoints URL,...  default https://127.0.0.1:2379 (this node's member)\n"
        "  --cacert FILE        default /etc/kubernetes/pki/etcd/ca.crt under --root\n"
        "  --cert FILE          default /etc/kubernetes/pki/etcd/healthcheck-client.crt under --root\n"
        "  --key FILE           default /etc/kubernetes/pki/etcd/healthcheck-client.key under --root\n"
        "  --timeout SECONDS    per call (default 10; 5 for 'member join')\n"
        "\n"
        "member join: this node's member, the way a control-plane join makes it, safe to re-run. Adds the\n"
        "peer URL as a learner, or finds it when an earlier run (or a crash half-way) already did, and prints\n"
        "what etcd on this node must start with, as etcdctl does (ETCD_INITIAL_CLUSTER, state 'existing').\n"
        "With --promote it then waits until that etcd runs and is in sync, and promotes it to a voter. It\n"
        "retries what etcd answers while busy (another learner joining, cluster not healthy yet, leader\n"
        "changed), refuses when fewer than a quorum of voters are healthy ('etcd quorum at risk'), and\n"
        "refuses when the peer URL belongs to a started member of another name (remove that stale member\n"
        "first).\n"
        "  --name NAME          the member name: the node name\n"
        "  --peer-url URL       https://ADVERTISE-ADDRESS:2380\n"
        "  --promote            promote once in sync (start etcd with the printed values meanwhile)\n"
        "  --wait SECONDS       how long to keep trying in all (default 120, kubeadm's etcd timeout)\n"
        "  --abandoned-learner SECONDS  remove another node's learner that stays unstarted this long while\n"
        "                       it blocks this join (a join that died between add and start); use with\n"
        "                       --kubeconfig, so that its owner cannot be between its add and start\n"
        "  --kubeconfig FILE    hold the cluster's join queue (below) from the add to the promotion, as\n"
        "                       --holder (default NAME/RANDOM) with --ttl, renewing it while waiting\n"
        "\n"
        "queue: the join queue, a Lease kube-system/kube-firstboot-etcd-join that lets one control plane at\n"
        "a time change etcd's members. A hold expires when its holder stops renewing it.\n"
        "  show                 who holds it, since when, and when the hold expires\n"
        "  take                 take it (waiting while another holds it) and print the holder identity\n"
        "  release              give it back: --holder ID releases that hold; --force releases any\n"
        "  --kubeconfig FILE    admin credentials (default /etc/kubernetes/admin.conf under --root)\n"
        "  --holder ID          holder identity (default HOSTNAME/RANDOM: a new run of the same node takes\n"
        "                       over its own earlier hold at once)\n"
        "  --ttl SECONDS        lease duration (default 60)\n"
        "  --wait SECONDS       how long take waits for another holder (default 60)\n"
        "  --hold SECONDS       take only: keep the queue that long, renewing it, then release it (drills\n"
        "                       and tests; prints when it was taken and released)\n"
        "\n"
        "Exits 3 when etcd or the queue stayed busy (a learner already joining, cluster not healthy yet,\n"
        "learner not in sync, another holder): retrying later may succeed.\n";

struct args {
        const char *ca_file, *cert_file, *key_file, *eps;
        unsigned timeout_s;
        bool timeout_set;
        const char *name, *peer_url;
        bool promote;
        unsigned wait_s;
        bool wait_set;
        unsigned abandoned_s;
        const char *kubeconfig, *holder;
        unsigned ttl_s, hold_s;
        bool force;
};

static int parse_hex_id(const char *s, uint64_t *ret) {
        if (isempty(s) || strlen(s) > 16 || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
                return -EINVAL;
        *ret = strtoull(s, NULL, 16);
        return 0;
}

static int read_cred(const char *given, const char *dflt, char **ret) {
        int r = given ? read_file(NULL, given, 1024 * 1024, ret, NULL)
                      : read_file(cli.root, dflt, 1024 * 1024, ret, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot read '%s': %m", given ?: dflt);
        return r;
}

static int split_endpoints(const char *eps, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        for (const char *p = eps; *p;) {
                size_t n = strcspn(p, ",");
                if (n > 0 && strv_consume(&l, strndup(p, n)) < 0)
                        return -ENOMEM;
                p += n + (p[n] == ',');
        }
        if (!l)
                return -EINVAL;
        *ret = TAKE_PTR(l);
        return 0;
}

static int print_members(struct etcd_client *c) {
        struct etcd_member *m = NULL;
        size_t n = 0;
        int r = etcd_member_list(c, &m, &n);
        if (r < 0)
                return r;
        printf("%-16s  %-7s  %-20s  %-30s  %s\n", "ID", "ROLE", "NAME", "PEER URLS", "CLIENT URLS");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *peers =
                        strjoin_sep((const char *const *) m[i].peer_urls, strv_length(m[i].peer_urls), ",");
                _cleanup_free_ char *clients = strjoin_sep((const char *const *) m[i].client_urls,
                                                           strv_length(m[i].client_urls), ",");
                printf("%016" PRIx64 "  %-7s  %-20s  %-30s  %s\n", m[i].id,
                       m[i].learner ? "learner" : "voter", isempty(m[i].name) ? "(not started)" : m[i].name,
                       strempty(peers), strempty(clients));
        }
        etcd_members_free(m, n);
        return 0;
}

static int exit_code_for(int r) {
        return r == -EAGAIN || r == -EBUSY ? EXIT_TEMPORARY : cli_exit_code_for_error(r);
}

static void print_time(const char *label, int64_t us) {
        char t[32];
        fb_join_queue_format_time(us, t, sizeof(t));
        printf("%s %s\n", label, t);
        fflush(stdout);
}

/* ---- the join queue ---- */

static int queue_client(const struct args *a, struct kube_client **ret) {
        const char *path = a->kubeconfig ?: "/etc/kubernetes/admin.conf";
        int r = kube_client_from_kubeconfig(a->kubeconfig ? NULL : cli.root, path, ret);
        if (r < 0)
                log_error_errno(r, "Cannot use kubeconfig '%s': %m", path);
        return r;
}

static int default_holder(const struct args *a, const char *node, char **ret) {
        char host[256] = "";
        int r;

        if (a->holder) {
                *ret = strdup(a->holder);
                return *ret ? 0 : -ENOMEM;
        }
        if (!node) {
                if (gethostname(host, sizeof(host) - 1) < 0 || isempty(host))
                        snprintf(host, sizeof(host), "unknown");
                node = host;
        }
        r = fb_join_queue_holder_new(node, ret);
        if (r < 0)
                log_error_errno(r, "Cannot make a holder identity from '%s': %m", node);
        return r;
}

static int queue_show(struct kube_client *c) {
        _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info i = {};
        char t[32];
        int64_t now = clock_wall_us();
        int r = fb_join_queue_show(c, &i);

        if (r == -ENOENT) {
                printf("free (%s/%s was never taken)\n", FB_JOIN_QUEUE_NAMESPACE, FB_JOIN_QUEUE_NAME);
                return 0;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read the join queue %s/%s: %s (%m)", FB_JOIN_QUEUE_NAMESPACE,
                                FB_JOIN_QUEUE_NAME, kube_client_error(c));
                return r;
        }
        printf("lease:       %s/%s\n", FB_JOIN_QUEUE_NAMESPACE, FB_JOIN_QUEUE_NAME);
        if (!i.holder)
                printf("holder:      (free)\n");
        else
                printf("holder:      %s%s\n", i.holder,
                       i.expired ? " (expired: the next taker gets it)" : "");
        if (i.acquire_time_us) {
                fb_join_queue_format_time(i.acquire_time_us, t, sizeof(t));
                printf("since:       %s\n", t);
        }
        if (i.renew_time_us) {
                fb_join_queue_format_time(i.renew_time_us, t, sizeof(t));
                printf("renewed:     %s (%" PRId64 " s ago)\n", t, (now - i.renew_time_us) / 1000000);
        }
        if (i.holder && i.renew_time_us && !i.expired)
                printf("expires in:  %" PRId64 " s\n",
                       (i.renew_time_us + (int64_t) i.lease_s * 1000000 - now) / 1000000);
        printf("duration:    %u s\n", i.lease_s);
        printf("transitions: %u\n", i.transitions);
        return 0;
}

/* Keeps the queue for hold_s seconds, renewing it at a third of its duration. */
static int queue_hold(struct kube_client *c, const char *holder, unsigned ttl_s, unsigned hold_s) {
        unsigned long long end = clock_now_ms() + (unsigned long long) hold_s * 1000ull;
        unsigned long long every = ttl_s * 1000ull / 3 ?: 1;

        for (;;) {
                unsigned long long now = clock_now_ms();
                if (now >= end)
                        return 0;
                unsigned long long d = end - now < every ? end - now : every;
                clock_sleep_ms(d);
                if (clock_now_ms() >= end)
                        return 0;
                int r = fb_join_queue_renew(c, holder, ttl_s);
                if (r < 0)
                        return log_error_errno(r, "Lost the join queue while holding it: %s (%m)",
                                               r == -EBUSY ? "another holder took it"
                                                           : kube_client_error(c));
        }
}

static int cmd_queue(const char *sub, const struct args *a) {
        _cleanup_(kube_client_freep) struct kube_client *c = NULL;
        _cleanup_free_ char *holder = NULL;
        struct error why = {};
        int r;

        if (streq(sub, "release") && !a->holder && !a->force) {
                log_error(
                        "etcd queue release needs --holder ID (give back that hold) or --force (release any holder: for a stuck queue).");
                return EXIT_USAGE;
        }
        if (queue_client(a, &c) < 0)
                return EXIT_USAGE;

        if (streq(sub, "show"))
                return queue_show(c) < 0 ? EXIT_FAILED : EXIT_DONE;

        if (streq(sub, "release")) {
                r = fb_join_queue_release(c, a->force ? NULL : a->holder);
                if (r < 0) {
                        log_error_errno(r, "Cannot release the join queue: %s (%m)", kube_client_error(c));
                        return exit_code_for(r);
                }
                return EXIT_DONE;
        }

        /* take */
        if (default_holder(a, NULL, &holder) < 0)
                return EXIT_USAGE;
        r = fb_join_queue_acquire(c, holder, a->ttl_s, (a->wait_set ? a->wait_s : 60u) * 1000ull, &why);
        if (r < 0) {
                log_error_errno(r, "Cannot take the join queue: %s", error_message(&why, r));
                return r == -ETIMEDOUT ? EXIT_TEMPORARY : exit_code_for(r);
        }
        printf("%s\n", holder);
        fflush(stdout);
        if (a->hold_s == 0)
                return EXIT_DONE;
        print_time("taken", clock_wall_us());
        r = queue_hold(c, holder, a->ttl_s, a->hold_s);
        if (r < 0)
                return EXIT_FAILED;
        print_time("released", clock_wall_us());
        r = fb_join_queue_release(c, holder);
        if (r < 0) {
                log_error_errno(r, "Cannot release the join queue: %s (%m)", kube_client_error(c));
                return exit_code_for(r);
        }
        return EXIT_DONE;
}

/* ---- member join ---- */

struct join_queue_hold {
        struct kube_client *client;
        char *holder;
        unsigned ttl_s;
};

static void join_queue_hold_done(struct join_queue_hold *q) {
        if (q->client && q->holder) {
                int r = fb_join_queue_release(q->client, q->holder);
                if (r < 0)
                        log_warning_errno(r, "Cannot release the join queue (it expires by itself): %s (%m)",
                                          kube_client_error(q->client));
        }
        q->client = kube_client_free(q->client);
        free(q->holder);
        q->holder = NULL;
}

/*
 * Runs an etcd step to the deadline. Holding the queue, the step runs in slices of a third of the lease
 * and the hold is renewed between slices, so that a long wait never lets the hold lapse.
 */
static int run_step(int (*step)(const struct fb_etcd_join_spec *, void *, struct error *), void *userdata,
                    const struct fb_etcd_join_spec *spec, struct join_queue_hold *q, struct error *why) {
        unsigned long long end = clock_now_ms() + spec->timeout_ms;
        struct fb_etcd_join_spec s = *spec;
        int r;

        for (;;) {
                unsigned long long now = clock_now_ms(), slice;
                if (now >= end)
                        return -ETIMEDOUT;
                slice = end - now;
                if (q->client && slice > q->ttl_s * 1000ull / 3)
                        slice = q->ttl_s * 1000ull / 3;
                s.timeout_ms = slice;
                r = step(&s, userdata, why);
                if (r != -ETIMEDOUT || !q->client || clock_now_ms() >= end)
                        return r;
                r = fb_join_queue_renew(q->client, q->holder, q->ttl_s);
                if (r < 0)
                        return error_set(why, r, "lost the join queue while waiting for etcd: %s",
                                         r == -EBUSY ? "another holder took it"
                                                     : kube_client_error(q->client));
        }
}

static int step_add(const struct fb_etcd_join_spec *s, void *userdata, struct error *why) {
        struct fb_etcd_join_state *st = userdata;
        fb_etcd_join_state_done(st);
        return fb_etcd_join_add(s, st, why);
}

static int step_promote(const struct fb_etcd_join_spec *s, void *userdata, struct error *why) {
        (void) userdata;
        return fb_etcd_join_promote(s, why);
}

static const char *member_state_text(const struct fb_etcd_join_state *st) {
        if (!st->learner)
                return st->started ? "a voter: already joined" : "a voter that has not started yet";
        if (st->added)
                return "added as a learner";
        return st->started ? "a running learner (from an earlier run)"
                           : "a learner from an earlier run that has not started yet";
}

static int cmd_member_join(const struct args *a, char *const *endpoints, const char *ca, const char *cert,
                           const char *key) {
        _cleanup_(join_queue_hold_done) struct join_queue_hold q = {};
        _cleanup_(fb_etcd_join_state_done) struct fb_etcd_join_state st = {};
        unsigned round_trips = 0;
        struct error why = {};
        int r;

        struct fb_etcd_join_spec spec = {
                .endpoints = (const char *const *) endpoints,
                .ca_pem = ca,
                .cert_pem = cert,
                .key_pem = key,
                .name = a->name,
                .peer_url = a->peer_url,
                .timeout_ms = (a->wait_set ? a->wait_s : 120u) * 1000ull,
                .call_timeout_ms = (a->timeout_set ? a->timeout_s : 5u) * 1000u,
                .abandoned_learner_ms = a->abandoned_s * 1000u,
                .round_trips = &round_trips,
        };

        if (a->kubeconfig) {
                if (queue_client(a, &q.client) < 0 || default_holder(a, a->name, &q.holder) < 0)
                        return EXIT_USAGE;
                q.ttl_s = a->ttl_s;
                r = fb_join_queue_acquire(q.client, q.holder, q.ttl_s, spec.timeout_ms, &why);
                if (r < 0) {
                        free(TAKE_PTR(q.holder)); /* nothing to release */
                        log_error_errno(r, "Cannot take the join queue: %s", error_message(&why, r));
                        return r == -ETIMEDOUT ? EXIT_TEMPORARY : exit_code_for(r);
                }
                log_info("Holding the join queue as '%s'.", q.holder);
        }

        r = run_step(step_add, &st, &spec, &q, &why);
        if (r < 0) {
                log_error_errno(r, "etcd member join of '%s' (%s) failed: %s", a->name, a->peer_url,
                                why.message[0] ? why.message : "timed out");
                return r == -ETIMEDOUT ? EXIT_TEMPORARY : exit_code_for(r);
        }
        log_info("etcd member %016" PRIx64 " (%s): %s.", st.member_id, a->name, member_state_text(&st));
        printf("ETCD_NAME=\"%s\"\nETCD_INITIAL_CLUSTER=\"%s\"\nETCD_INITIAL_ADVERTISE_PEER_URLS=\"%s\"\n"
               "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n",
               a->name, st.initial_cluster, a->peer_url);
        fflush(stdout);

        if (a->promote) {
                r = run_step(step_promote, NULL, &spec, &q, &why);
                if (r < 0) {
                        log_error_errno(r, "etcd member join of '%s': promoting failed: %s", a->name,
                                        why.message[0] ? why.message : "timed out");
                        return r == -ETIMEDOUT ? EXIT_TEMPORARY : exit_code_for(r);
                }
                log_info("etcd member %016" PRIx64 " (%s) is a voter.", st.member_id, a->name);
        }
        log_debug("etcd member join: %u etcd round trips", round_trips);
        return EXIT_DONE;
}

/* The subcommand and its operand, checked. */
enum etcd_verb {
        VERB_HEALTH,
        VERB_LIST,
        VERB_JOIN,
        VERB_ADD_LEARNER,
        VERB_PROMOTE,
        VERB_REMOVE,
        VERB_QUEUE
};
struct command {
        enum etcd_verb verb;
        const char *what, *sub, *arg; /* as typed, for messages */
        uint64_t id;                  /* promote, remove */
};

/* 1: help printed; 0: go on; -EINVAL: a bad option (already said). */
static int parse_options(int argc, char **argv, struct args *a) {
        enum {
                ARG_ENDPOINTS = 0x100,
                ARG_CACERT,
                ARG_CERT,
                ARG_KEY,
                ARG_TIMEOUT,
                ARG_NAME,
                ARG_PEER_URL,
                ARG_PROMOTE,
                ARG_WAIT,
                ARG_ABANDONED,
                ARG_KUBECONFIG,
                ARG_HOLDER,
                ARG_TTL,
                ARG_HOLD,
                ARG_FORCE,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"endpoints", required_argument, NULL, ARG_ENDPOINTS},
                {"cacert", required_argument, NULL, ARG_CACERT},
                {"cert", required_argument, NULL, ARG_CERT},
                {"key", required_argument, NULL, ARG_KEY},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {"name", required_argument, NULL, ARG_NAME},
                {"peer-url", required_argument, NULL, ARG_PEER_URL},
                {"promote", no_argument, NULL, ARG_PROMOTE},
                {"wait", required_argument, NULL, ARG_WAIT},
                {"abandoned-learner", required_argument, NULL, ARG_ABANDONED},
                {"kubeconfig", required_argument, NULL, ARG_KUBECONFIG},
                {"holder", required_argument, NULL, ARG_HOLDER},
                {"ttl", required_argument, NULL, ARG_TTL},
                {"hold", required_argument, NULL, ARG_HOLD},
                {"force", no_argument, NULL, ARG_FORCE},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return 1;
                case ARG_ENDPOINTS:
                        a->eps = optarg;
                        break;
                case ARG_CACERT:
                        a->ca_file = optarg;
                        break;
                case ARG_CERT:
                        a->cert_file = optarg;
                        break;
                case ARG_KEY:
                        a->key_file = optarg;
                        break;
                case ARG_TIMEOUT:
                        if (cli_parse_seconds("--timeout", optarg, 600, &a->timeout_s) < 0)
                                return -EINVAL;
                        a->timeout_set = true;
                        break;
                case ARG_NAME:
                        a->name = optarg;
                        break;
                case ARG_PEER_URL:
                        a->peer_url = optarg;
                        break;
                case ARG_PROMOTE:
                        a->promote = true;
                        break;
                case ARG_WAIT:
                        if (cli_parse_seconds("--wait", optarg, 86400, &a->wait_s) < 0)
                                return -EINVAL;
                        a->wait_set = true;
                        break;
                case ARG_ABANDONED:
                        if (cli_parse_seconds("--abandoned-learner", optarg, 86400, &a->abandoned_s) < 0)
                                return -EINVAL;
                        break;
                case ARG_KUBECONFIG:
                        a->kubeconfig = optarg;
                        break;
                case ARG_HOLDER:
                        if (isempty(optarg)) {
                                log_error("--holder needs an identity.");
                                return -EINVAL;
                        }
                        a->holder = optarg;
                        break;
                case ARG_TTL:
                        if (cli_parse_seconds("--ttl", optarg, 3600, &a->ttl_s) < 0)
                                return -EINVAL;
                        break;
                case ARG_HOLD:
                        if (cli_parse_seconds("--hold", optarg, 86400, &a->hold_s) < 0)
                                return -EINVAL;
                        break;
                case ARG_FORCE:
                        a->force = true;
                        break;
                default:
                        return -EINVAL;
                }
        return 0;
}

/* The words after the options: which subcommand, and its operand checked (-EINVAL, already said). */
static int parse_command(int argc, char **argv, const struct args *a, struct command *ret) {
        int left = argc - optind;
        struct command cmd = {
                .what = left > 0 ? argv[optind] : NULL,
                .sub = left > 1 ? argv[optind + 1] : NULL,
                .arg = left > 2 ? argv[optind + 2] : NULL,
        };
        bool member = cmd.what && streq(cmd.what, "member") && cmd.sub;

        if (cmd.what && streq(cmd.what, "health") && left == 1)
                cmd.verb = VERB_HEALTH;
        else if (member && streq(cmd.sub, "list") && left == 2)
                cmd.verb = VERB_LIST;
        else if (member && streq(cmd.sub, "join") && left == 2)
                cmd.verb = VERB_JOIN;
        else if (member && streq(cmd.sub, "add-learner") && left == 3)
                cmd.verb = VERB_ADD_LEARNER;
        else if (member && streq(cmd.sub, "promote") && left == 3)
                cmd.verb = VERB_PROMOTE;
        else if (member && streq(cmd.sub, "remove") && left == 3)
                cmd.verb = VERB_REMOVE;
        else if (cmd.what && streq(cmd.what, "queue") && cmd.sub && left == 2 &&
                 (streq(cmd.sub, "show") || streq(cmd.sub, "take") || streq(cmd.sub, "release")))
                cmd.verb = VERB_QUEUE;
        else {
                log_error("Usage: %s", usage);
                return -EINVAL;
        }

        if ((cmd.verb == VERB_PROMOTE || cmd.verb == VERB_REMOVE) && parse_hex_id(cmd.arg, &cmd.id) < 0) {
                log_error("'%s' is not a member ID (hex, as 'member list' prints it).", cmd.arg);
                return -EINVAL;
        }
        if (cmd.verb == VERB_ADD_LEARNER && !startswith(cmd.arg, "https://") &&
            !startswith(cmd.arg, "http://")) {
                log_error("'%s' is not a peer URL like https://10.0.0.12:2380.", cmd.arg);
                return -EINVAL;
        }
        if (cmd.verb == VERB_JOIN && (isempty(a->name) || isempty(a->peer_url))) {
                log_error(
                        "etcd member join needs --name NAME (the node name) and --peer-url https://ADDRESS:2380.");
                return -EINVAL;
        }
        if (cmd.verb == VERB_JOIN && !startswith(a->peer_url, "https://") &&
            !startswith(a->peer_url, "http://")) {
                log_error("--peer-url '%s' is not a peer URL like https://10.0.0.12:2380.", a->peer_url);
                return -EINVAL;
        }
        *ret = cmd;
        return 0;
}

/* One request with an etcd client: health, member list, add-learner, promote, remove. */
static int run_client_command(const struct command *cmd, const struct args *a, char *const *endpoints,
                              const char *ca, const char *cert, const char *key) {
        _cleanup_(etcd_client_freep) struct etcd_client *client = NULL;
        uint64_t id = cmd->id;
        int r;

        r = etcd_client_new((const char *const *) endpoints, ca, cert, key, &client);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the etcd client: %m");
                return EXIT_USAGE;
        }
        etcd_client_set_timeout(client, a->timeout_s * 1000);

        switch (cmd->verb) {
        case VERB_HEALTH:
                r = etcd_health(client);
                break;
        case VERB_LIST:
                r = print_members(client);
                break;
        case VERB_ADD_LEARNER:
                r = etcd_member_add_learner(client, cmd->arg, &id);
                if (r >= 0)
                        printf("%016" PRIx64 "\n", id);
                break;
        case VERB_PROMOTE:
                r = etcd_member_promote(client, id);
                break;
        default:
                r = etcd_member_remove(client, id);
                break;
        }
        if (r < 0) {
                log_error_errno(r, "etcd %s%s%s failed: %s (%m)", cmd->what, cmd->sub ? " " : "",
                                strempty(cmd->sub), etcd_client_error(client));
                return exit_code_for(r);
        }
        if (cmd->verb == VERB_HEALTH)
                printf("healthy\n");
        return EXIT_DONE;
}

int cmd_etcd(int argc, char **argv) {
        _cleanup_free_ char *ca = NULL, *cert = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_strv_free_ char **endpoints = NULL;
        struct args a = {
                .eps = "https://127.0.0.1:2379", .timeout_s = 10, .ttl_s = FB_JOIN_QUEUE_DEFAULT_LEASE_S};
        struct command cmd;
        int r;

        if (argc >= 2 && streq(argv[1], "disk"))
                return cmd_etcd_disk(argc - 1, argv + 1);
        r = parse_options(argc, argv, &a);
        if (r != 0)
                return r > 0 ? EXIT_DONE : EXIT_USAGE;
        if (parse_command(argc, argv, &a, &cmd) < 0)
                return EXIT_USAGE;
        if (cmd.verb == VERB_QUEUE)
                return cmd_queue(cmd.sub, &a);

        if (split_endpoints(a.eps, &endpoints) < 0) {
                log_error("--endpoints '%s' names no endpoint.", a.eps);
                return EXIT_USAGE;
        }
        if (read_cred(a.ca_file, "/etc/kubernetes/pki/etcd/ca.crt", &ca) < 0 ||
            read_cred(a.cert_file, "/etc/kubernetes/pki/etcd/healthcheck-client.crt", &cert) < 0 ||
            read_cred(a.key_file, "/etc/kubernetes/pki/etcd/healthcheck-client.key", &key) < 0)
                return EXIT_USAGE;
        if (cmd.verb == VERB_JOIN)
                return cmd_member_join(&a, endpoints, ca, cert, key);
        return run_client_command(&cmd, &a, endpoints, ca, cert, key);
}
