/* SPDX-License-Identifier: Apache-2.0 */
/* refresh: keeps the join path open for nodes launched days later (kubeadm-certs and bootstrap tokens). */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/verbs/expiration.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/cert-renewal.h"
#include "firstboot/flows/node.h"
#include "firstboot/host/static-pods.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/cluster/membership.h"
#include "firstboot/cluster/upload-certs.h"
#include "manifests/objects.h"
#include "pki/encoding.h"
#include "pki/token.h"

static const char usage[] = "kube-firstboot refresh [OPTIONS]";
static const char body[] =
        "On a control plane (run by kube-firstboot-refresh.timer): keeps the join path open for nodes\n"
        "launched hours or days later.\n"
        "  - kubeadm-certs lives 2 hours after an upload (its owner token expires and the garbage\n"
        "    collector removes it): when it is missing, does not open with the configured certificate key,\n"
        "    or has less than --certs-min-left left, it is uploaded again under that key.\n"
        "  - The configured bootstrap tokens (FirstbootConfiguration.secrets.bootstrapToken,\n"
        "    InitConfiguration.bootstrapTokens, the JoinConfiguration discovery token) are created again\n"
        "    when missing, or renewed when they expire within --token-min-left.\n"
        "  - A certificate key or token kept in a file or a cloud secret store is read from there at every\n"
        "    refresh: when the stored value changed, kubeadm-certs is sealed again under the new key and the\n"
        "    new token is made, so that rotating the stored value rotates the cluster's join secrets (the\n"
        "    old token is no longer renewed and expires).\n"
        "Times are the cluster's (the apiserver's Date header), not this machine's clock.\n"
        "Then, even when the API did not answer, the certificate and the CA that expire first go into\n"
        "/run/kube-firstboot/status.json (\"certificates\"), as 'kube-firstboot certs check-expiration'\n"
        "lists them, from the cluster's certificatesDir (this node's configuration's without the API).\n"
        "On a control plane with stacked etcd, whether this node's etcd member is still in the cluster\n"
        "(\"etcdMembership\" in status.json): a machine replaced as dead while it was down finds itself\n"
        "removed, and refresh fails with the remedy (kube-firstboot reset --force, then run).\n"
        "Certificates (FirstbootConfiguration.certificateRenewal, on by default): this node's leaf\n"
        "certificates and kubeconfig client certificates ('kubeadm certs renew all' renews the same) with\n"
        "less than renewBeforePercentage (20) of their lifetime left are renewed with new keys, signed by\n"
        "the CAs on disk, with kubeadm's fields and certificateValidityPeriod; then kube-apiserver,\n"
        "kube-controller-manager and kube-scheduler are restarted one at a time (their manifests moved out\n"
        "and back), each healthy again before the next, under the cluster's join queue so that no two\n"
        "control planes restart at once. etcd reloads its certificates itself. CAs are never renewed:\n"
        "one with less than that part of its life left is reported at every refresh (\"certificateRenewal\"\n"
        "in status.json). The time is the later of this machine's clock and the apiserver's.\n"
        "\n"
        "  --renew-dry-run               say which certificates are due and what would restart; change none\n"
        "  --certs-min-left DURATION     re-upload below this (default 75m)\n"
        "  --token-min-left DURATION     renew tokens below this (default 12h)\n"
        "  --kubeconfig FILE             admin credentials (default /etc/kubernetes/admin.conf under --root)\n"
        "\n"
        "Exits 0 when everything is in place (renewed or fine), 1 on failure, 3 when the API did not answer.\n";

static char *b64_field(const cJSON *secret, const char *key) {
        const char *v = json_get_string(json_get(secret, "data"), key);
        void *raw = NULL;
        size_t len;
        if (!v || pki_base64_decode(v, strlen(v), &raw, &len) < 0)
                return NULL;
        char *s = strndup(raw, len);
        free(raw);
        return s;
}

static time_t parse_time(const char *s) {
        struct tm tm = {};
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        return end && !*end ? timegm(&tm) : 0;
}

/* Creates the token when missing, renews it when it expires within min_left_s; -errno. */
static int refresh_token(struct kube_client *c, const char *token,
                         const struct fb_bootstrap_token_settings *spec, long long min_left_s) {
        char id[PKI_TOKEN_ID_LEN + 1], sec[PKI_TOKEN_SECRET_LEN + 1], exp[32];
        _cleanup_free_ char *path = NULL, *have_exp = NULL;
        _cleanup_(cJSON_Deletep) cJSON *have = NULL, *want = NULL;
        _cleanup_strv_free_ char **usages = NULL, **groups = NULL;
        unsigned long long ttl_ms = 24ull * 3600 * 1000;
        time_t now = kube_client_now(c);
        int r;

        if (pki_token_parse(token, id, sec) < 0)
                return -EINVAL;
        path = strdupf("/api/v1/namespaces/kube-system/secrets/bootstrap-token-%s", id);
        if (!path)
                return -ENOMEM;
        r = kube_get(c, path, &have);
        if (r < 0 && r != -ENOENT)
                goto out;
        if (r >= 0) {
                have_exp = b64_field(have, "expiration");
                time_t t = parse_time(have_exp);
                if (!have_exp || (t && t - now >= min_left_s)) {
                        log_info("Bootstrap token %s: in place%s%s.", id,
                                 have_exp ? ", expires " : " (never expires)", have_exp ?: "");
                        r = 0;
                        goto out;
                }
        }
        if (spec && spec->ttl)
                (void) fb_parse_duration_ms(spec->ttl, &ttl_ms);
        if (ttl_ms == 0)
                ttl_ms = 24ull * 3600 * 1000; /* a token meant never to expire that was deleted: a day */
        for (char **e = spec ? spec->usages : NULL; e && *e; e++)
                (void) strv_extend(&usages, *e);
        for (char **e = spec ? spec->groups : NULL; e && *e; e++)
                (void) strv_extend(&groups, *e);
        if (!usages && (strv_extend(&usages, "signing") < 0 || strv_extend(&usages, "authentication") < 0))
                return -ENOMEM;
        if (!groups && strv_extend(&groups, MF_DEFAULT_NODE_TOKEN_GROUP) < 0)
                return -ENOMEM;
        r = mf_expiration_at(now, (long long) (ttl_ms / 1000), exp);
        if (r < 0)
                goto out;
        want = mf_bootstrap_token_secret(&(struct mf_token){
                .id = id,
                .secret = sec,
                .description = spec && spec->description ? spec->description
                                                         : "Kept alive by kube-firstboot refresh.",
                .expiration = exp,
                .usages = (const char *const *) usages,
                .groups = (const char *const *) groups,
        });
        if (!want) {
                r = -ENOMEM;
                goto out;
        }
        r = kube_apply(c, "/api/v1/namespaces/kube-system/secrets", want);
        if (r >= 0)
                log_info("Bootstrap token %s: %s, expires %s.", id, have ? "renewed" : "created again", exp);
out:
        OPENSSL_cleanse(sec, sizeof(sec));
        if (want) {
                const cJSON *d = json_get(want, "data");
                cJSON *f;
                cJSON_ArrayForEach(f, (cJSON *) d)
                        if (cJSON_IsString(f))
                                OPENSSL_cleanse(f->valuestring, strlen(f->valuestring));
        }
        return r;
}

struct refresh_args {
        unsigned long long certs_min_ms, token_min_ms;
        const char *kubeconfig;
        bool renew_dry_run;
};

/* 1: help printed; 0: go on; -EINVAL: a bad option (said); -ENOMEM. */
static int parse_options(int argc, char **argv, struct config_cli *cc, struct refresh_args *a) {
        enum { ARG_CERTS_MIN = _CONFIG_ARG_MAX, ARG_TOKEN_MIN, ARG_KUBECONFIG, ARG_RENEW_DRY_RUN };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"certs-min-left", required_argument, NULL, ARG_CERTS_MIN},
                {"token-min-left", required_argument, NULL, ARG_TOKEN_MIN},
                {"kubeconfig", required_argument, NULL, ARG_KUBECONFIG},
                {"renew-dry-run", no_argument, NULL, ARG_RENEW_DRY_RUN},
                CONFIG_CLI_OPTIONS,
                {},
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (ch) {
                case 'h':
                        cli_print_help_more(usage, body, config_cli_help);
                        return 1;
                case ARG_CERTS_MIN:
                case ARG_TOKEN_MIN:
                        if (fb_parse_duration_ms(optarg, ch == ARG_CERTS_MIN ? &a->certs_min_ms
                                                                             : &a->token_min_ms) < 0) {
                                log_error("--%s takes a duration such as 75m or 12h, not '%s'.",
                                          ch == ARG_CERTS_MIN ? "certs-min-left" : "token-min-left", optarg);
                                return -EINVAL;
                        }
                        continue;
                case ARG_KUBECONFIG:
                        a->kubeconfig = optarg;
                        continue;
                case ARG_RENEW_DRY_RUN:
                        a->renew_dry_run = true;
                        continue;
                default:
                        r = config_cli_option(cc, ch, optarg);
                        if (r <= 0)
                                return r == -ENOMEM ? -ENOMEM : -EINVAL;
                }
        }
        if (a->certs_min_ms >= FB_CERTS_TOKEN_TTL_S * 1000ull) {
                log_error("--certs-min-left must be below kubeadm-certs' 2-hour lifetime.");
                return -EINVAL;
        }
        return 0;
}

/* The cluster's ClusterConfiguration from kube-system/kubeadm-config (certificatesDir, external etcd). */
static int read_cluster_configuration(struct kube_client *k, struct fb_cluster_settings **ret) {
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL, *docs = NULL;
        int r = kube_get(k, "/api/v1/namespaces/kube-system/configmaps/kubeadm-config", &cm);
        if (r < 0) {
                log_error("Cannot read kube-system/kubeadm-config at %s: %s", kube_client_server(k),
                          kube_client_error(k));
                return r;
        }
        const char *text = json_get_string(json_get(cm, "data"), "ClusterConfiguration");
        if (!text || yaml_parse_documents(text, strlen(text), &docs, NULL) < 0 ||
            !cJSON_IsObject(cJSON_GetArrayItem(docs, 0))) {
                log_error("kube-system/kubeadm-config holds no readable ClusterConfiguration.");
                return -EBADMSG;
        }
        return fb_cluster_settings_from_json(cJSON_GetArrayItem(docs, 0), ret);
}

/* The secrets kept in a file or a store, which the configuration (loaded partially) did not read: read now,
 * so that a rotated value is the one kept alive. Wiped by refresh_secrets_done(). */
struct refresh_secrets {
        char *certificate_key, *bootstrap_token;
};

static void refresh_secrets_done(struct refresh_secrets *s) {
        s->certificate_key = erase_and_free(s->certificate_key);
        s->bootstrap_token = erase_and_free(s->bootstrap_token);
}

/* 0, or the number of secrets that could not be read (said). */
static int read_stored_secrets(const struct fb_config *c, const struct config_cli *cc,
                               const struct md_instance *inst, struct refresh_secrets *ret) {
        _cleanup_(fb_secret_context_done) struct fb_secret_context ctx = {
                .md = &cc->md,
                .datasource = inst && inst->datasource ? inst->datasource : cc->md.datasource};
        const struct fb_secret_info *info;
        size_t n;
        int failures = 0;

        info = fb_config_secret_info(c, &n);
        for (size_t i = 0; i < n; i++) {
                bool key = streq(info[i].name, "certificateKey");
                struct error why = {};
                if (!key && !streq(info[i].name, "bootstrapToken"))
                        continue; /* the CA key keeps nothing alive */
                int r = fb_config_read_secret(c, &ctx, cli.root, info[i].name,
                                              key ? &ret->certificate_key : &ret->bootstrap_token, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_error("%s: cannot read it, so what it keeps alive is left as it is: %s",
                                  info[i].name, error_message(&why, r));
                        failures++;
                }
        }
        return failures;
}

/* kubeadm-certs: in place and opening with the configured key, or uploaded again. 1 on failure (said). */
static int refresh_kubeadm_certs(struct kube_client *k, const struct fb_config *c,
                                 const struct fb_cluster_settings *cluster, const char *stored_key,
                                 unsigned long long certs_min_ms) {
        const struct fb_settings *set = fb_config_settings(c);
        const char *key = stored_key ?: fb_config_certificate_key(c);
        if (!key && set->init)
                key = set->init->certificate_key;
        if (!key && set->join)
                key = set->join->certificate_key;
        struct pki_external_etcd ext = {cluster->etcd.ca_file, cluster->etcd.cert_file,
                                        cluster->etcd.key_file};
        char host[256] = "";
        struct error why = {};
        time_t expires = 0;
        int r;

        if (!key) {
                log_info(
                        "kubeadm-certs: no certificate key is configured, so it is left alone (control-plane joins need one).");
                return 0;
        }
        (void) gethostname(host, sizeof(host) - 1);
        struct fb_certs_upload u = {.root = cli.root,
                                    .cert_dir = cluster->certificates_dir,
                                    .ext = cluster->etcd.external ? &ext : NULL,
                                    .certificate_key = key,
                                    .owner = fb_config_node_name(c) ?: host};
        r = fb_certs_uploaded(k, &u, (long long) (certs_min_ms / 1000), &expires);
        if (r > 0) {
                log_info(
                        "kubeadm-certs: in place, opens with the configured key, owner token lives past the %llum threshold.",
                        certs_min_ms / 60000);
                return 0;
        }
        if (r < 0) {
                log_error("kubeadm-certs: cannot check it at %s: %s", kube_client_server(k),
                          kube_client_error(k));
                return 1;
        }
        r = fb_certs_upload(k, &u, &why);
        if (r < 0) {
                log_error("kubeadm-certs: cannot upload it again: %s", error_message(&why, r));
                return 1;
        }
        log_info("kubeadm-certs: uploaded again under the configured certificate key (lives 2 more hours).");
        return 0;
}

/* Every configured bootstrap token, once each (InitConfiguration's with their settings, then join's).
 * The number of failures (said), or -ENOMEM. */
static int refresh_tokens(struct kube_client *k, const struct fb_config *c, const char *stored_token,
                          unsigned long long token_min_ms) {
        const struct fb_settings *set = fb_config_settings(c);
        const struct fb_init_settings *init = set->init;
        const struct fb_join_settings *join = set->join;
        const char *candidates[4] = {stored_token, fb_config_bootstrap_token(c),
                                     join ? join->discovery.token : NULL,
                                     join ? join->tls_bootstrap_token : NULL};
        _cleanup_strv_free_ char **seen = NULL;
        int failures = 0, r = 0;

        for (size_t i = 0; init && i < init->n_bootstrap_tokens; i++) {
                const struct fb_bootstrap_token_settings *t = &init->bootstrap_tokens[i];
                const char *tok = t->token;
                if (!tok || strv_contains(seen, tok))
                        continue;
                if (strv_extend(&seen, tok) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                if (refresh_token(k, tok, t, (long long) (token_min_ms / 1000)) < 0) {
                        log_error("Bootstrap token: cannot renew it: %s", kube_client_error(k));
                        failures++;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                if (!candidates[i] || strv_contains(seen, candidates[i]))
                        continue;
                if (strv_extend(&seen, candidates[i]) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                if (refresh_token(k, candidates[i], NULL, (long long) (token_min_ms / 1000)) < 0) {
                        log_error("Bootstrap token: cannot renew it: %s", kube_client_error(k));
                        failures++;
                }
        }
        if (!seen)
                log_info("Bootstrap tokens: none configured with a value, nothing to keep alive.");
out:
        for (char **s = seen; s && *s; s++)
                OPENSSL_cleanse(*s, strlen(*s));
        return r < 0 ? r : failures;
}

/* status.json's nearest certificate expiry, from the cluster's certificatesDir, or without the cluster this
 * node's configuration's. Done whatever else failed: with expired certificates is when it matters. */
static void report_expiry(const struct fb_config *c, const struct fb_cluster_settings *cluster) {
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        _cleanup_free_ char *role = NULL;

        if (pki_node_spec_init(&spec) < 0 ||
            cli_expiration_spec_from_cluster(cluster ?: fb_config_settings(c)->cluster, &spec) < 0) {
                log_oom();
                return;
        }
        /* /run is emptied by a reboot: a node set up by an earlier boot gets its status file back. */
        if (path_exists(cli.root, FB_DONE_PATH) >= 0)
                (void) fb_journal_role(cli.root, &role);
        (void) cli_expiration_report(cli.root, &spec, NULL, role);
}

/* The value of --NAME= in the etcd static pod's command, or NULL. */
static const char *etcd_flag(const cJSON *pod, const char *name) {
        const cJSON *cs = json_get(pod, "spec.containers"), *c, *a;
        size_t len = strlen(name);
        cJSON_ArrayForEach(c, cs) {
                cJSON_ArrayForEach(a, cJSON_GetObjectItem(c, "command")) {
                        if (cJSON_IsString(a) && startswith(a->valuestring, "--") &&
                            strncmp(a->valuestring + 2, name, len) == 0 && a->valuestring[2 + len] == '=')
                                return a->valuestring + 3 + len;
                }
        }
        return NULL;
}

/*
 * A control plane with stacked etcd: is this node's member still in etcd, as its peers see it? A machine
 * replaced as dead while it was down finds itself removed: its etcd is refused by its peers for ever, so
 * status.json says so with the remedy, and refresh fails. 1 when removed, 0 otherwise (a member, no local
 * etcd, or not known: said).
 */
static int check_membership(struct kube_client *k, const struct fb_cluster_settings *cluster) {
        _cleanup_free_ char *text = NULL, *dir = NULL, *ca = NULL, *cert = NULL, *p1 = NULL, *p2 = NULL,
                            *p3 = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        _cleanup_strv_free_ char **eps = NULL;
        struct yaml_error ye = {};
        struct error why = {};
        size_t len;
        int r;

        if (read_file(cli.root, FB_MANIFESTS_DIR "/etcd.yaml", 1 << 20, &text, &len) < 0)
                return 0; /* no local etcd: a worker, or external etcd */
        if (yaml_parse_documents(text, len, &docs, &ye) < 0)
                return 0;
        const cJSON *pod = cJSON_GetArrayItem(docs, 0);
        const char *peer = etcd_flag(pod, "initial-advertise-peer-urls");
        const char *mine = etcd_flag(pod, "advertise-client-urls");
        dir = strdup(cluster->certificates_dir ?: "/etc/kubernetes/pki");
        if (!peer || !dir || !(p1 = strdupf("%s/etcd/ca.crt", dir)) ||
            !(p2 = strdupf("%s/etcd/healthcheck-client.crt", dir)) ||
            !(p3 = strdupf("%s/etcd/healthcheck-client.key", dir)))
                return 0;
        if ((r = read_file(cli.root, p1, 1 << 20, &ca, NULL)) < 0 ||
            (r = read_file(cli.root, p2, 1 << 20, &cert, NULL)) < 0 ||
            (r = read_file(cli.root, p3, 1 << 20, &key, NULL)) < 0) {
                log_warning(
                        "etcd membership not checked: cannot read the etcd client certificate under %s/etcd: %s",
                        dir, strerror(-r));
                return 0;
        }
        r = fb_etcd_endpoints_from_pods(k, mine, &eps, &why);
        if (r >= 0)
                r = fb_etcd_membership((const char *const *) eps, ca, cert, key, peer, 5000, &why);
        if (r < 0) {
                log_warning("etcd membership not checked: %s", error_message(&why, r));
                return 0;
        }
        if (r == FB_MEMBERSHIP_MEMBER) {
                struct fb_status_membership m = {.state = "member"};
                (void) fb_status_record_membership(cli.root, NULL, &m);
                return 0;
        }
        _cleanup_free_ char *msg = strdupf(
                "this node's etcd member (%s) is no longer in the cluster: it was removed (replaced as dead while this machine was down?), and its etcd, holding that member's data, is refused by its peers",
                peer);
        const char *remedy =
                "Retire this machine, or make it join again as a new member: kube-firstboot reset --force, then kube-firstboot run.";
        log_error("%s. %s", msg ?: "this node's etcd member was removed", remedy);
        struct fb_status_membership m = {.state = "removed", .message = msg, .remedy = remedy};
        (void) fb_status_record_membership(cli.root, NULL, &m);
        return 1;
}

/* Manifests a crashed restart left out of /etc/kubernetes/manifests go back first, API or not. */
static void put_back_manifests(void) {
        struct error why = {};
        unsigned n = 0;
        int r = fb_static_pods_put_back(cli.root, FB_MANIFESTS_DIR, &n, &why);

        if (r < 0)
                log_error("%s", error_message(&why, r));
        else if (n > 0)
                log_warning("Put %u static pod manifest(s) back into %s: a restart was interrupted.", n,
                            FB_MANIFESTS_DIR);
}

/* Certificates renewed when due, the components restarted; status.json's "certificateRenewal". 1 on failure
 * (said). */
static int renew_certificates(struct kube_client *k, const struct fb_config *c,
                              const struct fb_cluster_settings *cluster, bool dry_run) {
        const struct fb_settings *set = fb_config_settings(c);
        _cleanup_(fb_cert_renewal_result_done) struct fb_cert_renewal_result res = {};
        _cleanup_free_ char *role = NULL;
        char host[256] = "";
        struct error why = {};
        time_t now = time(NULL), api_now = kube_client_now(k);
        unsigned long long healthy_ms = set->init ? set->init->timeouts.control_plane_component_health_check
                                        : set->join
                                                ? set->join->timeouts.control_plane_component_health_check
                                                : 240000;

        if (!set->firstboot.certificate_renewal.enabled) {
                log_info(
                        "Certificates: renewal is off (FirstbootConfiguration.certificateRenewal.enabled).");
                return 0;
        }
        (void) gethostname(host, sizeof(host) - 1);
        struct fb_cert_renewal req = {.root = cli.root,
                                      .config = c,
                                      .cluster = cluster,
                                      .admin = k,
                                      .node_name = fb_config_node_name(c) ?: host,
                                      /* Renewing early is harmless; late is an outage. */
                                      .now = api_now > now ? api_now : now,
                                      .stop_timeout_ms = 90000,
                                      .healthy_timeout_ms = healthy_ms ?: 240000,
                                      .dry_run = dry_run};
        int r = fb_certificates_renew(&req, &res, &why);
        if (r < 0)
                log_error("Certificates: %s", error_message(&why, r));
        else if (!res.renewed && !res.restarted)
                log_info("Certificates: none due (renewed below %u%% of their lifetime left).",
                         set->firstboot.certificate_renewal.renew_before_percentage);
        if (dry_run)
                return r < 0;
        if (path_exists(cli.root, FB_DONE_PATH) >= 0)
                (void) fb_journal_role(cli.root, &role);
        struct fb_status_renewal st = {.renewed = res.renewed,
                                       .restarted = res.restarted,
                                       .ca_expiring = res.ca_expiring,
                                       .next_due = res.next_due,
                                       .error = r < 0 ? error_message(&why, r) : NULL};
        (void) fb_status_record_renewal(cli.root, role, &st);
        return r < 0;
}

int cmd_refresh(int argc, char **argv) {
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *cluster = NULL;
        _cleanup_(refresh_secrets_done) struct refresh_secrets stored = {};
        struct refresh_args a = {.certs_min_ms = 75ull * 60 * 1000,
                                 .token_min_ms = 12ull * 3600 * 1000,
                                 .kubeconfig = "/etc/kubernetes/admin.conf"};
        int r, failures;

        r = parse_options(argc, argv, &cc, &a);
        if (r != 0)
                return r > 0 ? EXIT_DONE : r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        r = config_cli_load(&cc, cli.root, true, false, &inst, &c);
        if (r != EXIT_DONE)
                return r;
        put_back_manifests();

        r = kube_client_from_kubeconfig(cli.root, a.kubeconfig, &k);
        if (r < 0) {
                log_error_errno(r, "Cannot use %s (is this a control plane that finished its setup?): %m",
                                a.kubeconfig);
                report_expiry(c, NULL);
                return EXIT_FAILED;
        }
        r = read_cluster_configuration(k, &cluster);
        if (r < 0) {
                report_expiry(c, NULL);
                return r == -EBADMSG ? EXIT_FAILED : cli_exit_code_for_error(r);
        }

        failures = read_stored_secrets(c, &cc, inst, &stored);
        if (failures < 0)
                return cli_oom();
        failures += refresh_kubeadm_certs(k, c, cluster, stored.certificate_key, a.certs_min_ms);
        r = refresh_tokens(k, c, stored.bootstrap_token, a.token_min_ms);
        if (r < 0)
                return cli_oom();
        failures += renew_certificates(k, c, cluster, a.renew_dry_run);
        report_expiry(c, cluster);
        failures += check_membership(k, cluster);
        return failures + r ? EXIT_FAILED : EXIT_DONE;
}
