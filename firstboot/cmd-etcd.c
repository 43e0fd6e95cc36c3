/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd: the member operations a control-plane join makes, for operators to look at (and repair) a
 * stacked etcd with the node's own kubeadm credentials, without installing etcdctl.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cli.h"
#include "firstboot/etcd.h"

static const char usage[] =
        "kube-firstboot etcd member list | member add-learner PEER-URL | member promote ID |\n"
        "           member remove ID | health   [--endpoints URL,...] [--cacert FILE]\n"
        "           [--cert FILE --key FILE] [--timeout SECONDS]\n"
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
        "  --timeout SECONDS    per call (default 10)\n"
        "\n"
        "Exits 3 when etcd is busy (a learner already joining, cluster not healthy yet, learner not in\n"
        "sync): retrying later may succeed.\n";

static int parse_hex_id(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;
        if (isempty(s) || strlen(s) > 16 || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
                return -EINVAL;
        v = strtoull(s, &end, 16);
        *ret = v;
        return 0;
}

static int read_cred(const char *given, const char *dflt, char **ret) {
        int r = given ? read_file(NULL, given, 1024 * 1024, ret, NULL)
                      : read_file(cli.root, dflt, 1024 * 1024, ret, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot read '%s': %m", given ?: dflt);
        return r;
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

int cmd_etcd(int argc, char **argv) {
        enum { ARG_ENDPOINTS = 0x100, ARG_CACERT, ARG_CERT, ARG_KEY, ARG_TIMEOUT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"endpoints", required_argument, NULL, ARG_ENDPOINTS},
                {"cacert", required_argument, NULL, ARG_CACERT},
                {"cert", required_argument, NULL, ARG_CERT},
                {"key", required_argument, NULL, ARG_KEY},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
        _cleanup_(etcd_client_freep) struct etcd_client *client = NULL;
        _cleanup_free_ char *ca = NULL, *cert = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_strv_free_ char **endpoints = NULL;
        const char *ca_file = NULL, *cert_file = NULL, *key_file = NULL, *eps = "https://127.0.0.1:2379";
        unsigned timeout_s = 10;
        uint64_t id = 0;
        int c, r;

        if (argc >= 2 && streq(argv[1], "disk"))
                return cmd_etcd_disk(argc - 1, argv + 1);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_ENDPOINTS:
                        eps = optarg;
                        break;
                case ARG_CACERT:
                        ca_file = optarg;
                        break;
                case ARG_CERT:
                        cert_file = optarg;
                        break;
                case ARG_KEY:
                        key_file = optarg;
                        break;
                case ARG_TIMEOUT:
                        if (cli_parse_seconds("--timeout", optarg, 600, &timeout_s) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }

        const char *what = optind < argc ? argv[optind] : NULL,
                   *sub = optind + 1 < argc ? argv[optind + 1] : NULL;
        const char *arg = optind + 2 < argc ? argv[optind + 2] : NULL;
        bool health = what && streq(what, "health") && optind + 1 == argc;
        bool list = what && streq(what, "member") && sub && streq(sub, "list") && optind + 2 == argc;
        bool one_arg = what && streq(what, "member") && sub && optind + 3 == argc &&
                       (streq(sub, "add-learner") || streq(sub, "promote") || streq(sub, "remove"));
        if (!health && !list && !one_arg) {
                log_error("Usage: %s", usage);
                return EXIT_USAGE;
        }
        if (one_arg && !streq(sub, "add-learner") && parse_hex_id(arg, &id) < 0) {
                log_error("'%s' is not a member ID (hex, as 'member list' prints it).", arg);
                return EXIT_USAGE;
        }
        if (one_arg && streq(sub, "add-learner") && !startswith(arg, "https://") &&
            !startswith(arg, "http://")) {
                log_error("'%s' is not a peer URL like https://10.0.0.12:2380.", arg);
                return EXIT_USAGE;
        }

        for (const char *p = eps; *p;) {
                size_t n = strcspn(p, ",");
                if (n > 0 && strv_consume(&endpoints, strndup(p, n)) < 0)
                        return cli_oom();
                p += n + (p[n] == ',');
        }
        if (read_cred(ca_file, "/etc/kubernetes/pki/etcd/ca.crt", &ca) < 0 ||
            read_cred(cert_file, "/etc/kubernetes/pki/etcd/healthcheck-client.crt", &cert) < 0 ||
            read_cred(key_file, "/etc/kubernetes/pki/etcd/healthcheck-client.key", &key) < 0)
                return EXIT_USAGE;
        r = etcd_client_new((const char *const *) endpoints, ca, cert, key, &client);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the etcd client: %m");
                return EXIT_USAGE;
        }
        etcd_client_set_timeout(client, timeout_s * 1000);

        if (health)
                r = etcd_health(client);
        else if (list)
                r = print_members(client);
        else if (streq(sub, "add-learner")) {
                r = etcd_member_add_learner(client, arg, &id);
                if (r >= 0)
                        printf("%016" PRIx64 "\n", id);
        } else if (streq(sub, "promote"))
                r = etcd_member_promote(client, id);
        else
                r = etcd_member_remove(client, id);
        if (r < 0) {
                log_error_errno(r, "etcd %s%s%s failed: %s (%m)", what, sub ? " " : "", strempty(sub),
                                etcd_client_error(client));
                return r == -EAGAIN || r == -EBUSY ? EXIT_TEMPORARY : cli_exit_code_for_error(r);
        }
        if (health)
                printf("healthy\n");
        return EXIT_DONE;
}
