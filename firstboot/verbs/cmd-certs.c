/* SPDX-License-Identifier: Apache-2.0 */
/*
 * certs: kubeadm's 'certs' commands under their kubeadm names, for operators who know them. check-expiration
 * prints what 'kubeadm certs check-expiration' prints. The rest of the certificate work is 'pki'.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/config/pki-config.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/expiration.h"
#include "pki/expiry.h"

#define ADMIN_CONF "/etc/kubernetes/admin.conf"
#define LOG_PREFIX "[check-expiration]"

static const char certs_usage[] = "kube-firstboot certs check-expiration [OPTIONS]";
static const char certs_body[] =
        "kubeadm's 'certs' commands, under kubeadm's names.\n"
        "\n"
        "  check-expiration   the expiry of the certificates kubeadm manages, as 'kubeadm certs\n"
        "                     check-expiration' prints it\n"
        "\n"
        "The other certificate work (writing a node's certificates and kubeconfigs, CA pins, certificate\n"
        "keys, tokens, the kubeadm-certs Secret, a check of keys and signatures) is 'kube-firstboot pki'.\n";

static const char expiration_usage[] =
        "kube-firstboot certs check-expiration [--config FILE] [--cert-dir DIR] [--kubeconfig FILE]";
static const char expiration_body[] =
        "Prints what 'kubeadm certs check-expiration' prints, in the same layout: the certificates kubeadm\n"
        "renews (the leaf certificates under certificatesDir and the client certificates embedded in\n"
        "admin.conf, super-admin.conf, controller-manager.conf and scheduler.conf) with their expiry, the\n"
        "residual time, the CA that signs them and whether that CA is external (its certificate without\n"
        "its key), then the CAs (ca, etcd-ca, front-proxy-ca). A file that is not there is a\n"
        "'!MISSING! <name>' row: super-admin.conf exists only where 'init' ran, and with external etcd\n"
        "there are no etcd rows. kubelet.conf is not listed: the kubelet rotates its own certificate.\n"
        "EXPIRES is the certificate's notAfter in UTC; RESIDUAL TIME counts down to it ('364d', '9y',\n"
        "'<invalid>' once expired).\n"
        "\n"
        "Where certificatesDir comes from, as with kubeadm: --config FILE when given; else the cluster's\n"
        "kube-system/kubeadm-config read with --kubeconfig (the two '[check-expiration]' lines say so, and\n"
        "if it cannot be read it says so and falls back to the defaults); without a usable kubeconfig, the\n"
        "defaults (/etc/kubernetes/pki, local etcd). --cert-dir, when given, wins over all of them (kubeadm\n"
        "always uses its --cert-dir, /etc/kubernetes/pki by default, over the cluster's certificatesDir).\n"
        "\n"
        "  --config FILE       kubeadm configuration: certificatesDir and etcd.external\n"
        "  --cert-dir DIR      the certificates directory (a node path, under --root)\n"
        "  --kubeconfig FILE   credentials to read kubeadm-config (default /etc/kubernetes/admin.conf, under\n"
        "                      --root)\n"
        "  -o, --output text   the only output format here (kubeadm also has json and yaml)\n"
        "\n"
        "Exits 0 when the table is printed, expired certificates included (as kubeadm); 1 when kubeadm\n"
        "would stop with an error: a certificate or kubeconfig that cannot be read, or a CA without its key\n"
        "whose certificates do not check out against it (so on a worker, which has ca.crt without its key\n"
        "and none of the certificates it signs, kubeadm stops and so does this). 'kube-firstboot pki check'\n"
        "also checks keys and signatures, and exits 1 on an expired certificate.\n"
        "\n"
        "Example:\n"
        "  kube-firstboot certs check-expiration\n";

/* The cluster's ClusterConfiguration, as FetchInitConfigurationFromCluster reads it. -errno, said why. */
static int fetch_cluster_configuration(struct kube_client *k, struct fb_cluster_settings **ret) {
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL, *docs = NULL;
        const char *text;
        cJSON *doc;
        int r = kube_get(k, "/api/v1/namespaces/kube-system/configmaps/kubeadm-config", &cm);

        if (r < 0) {
                log_warning("Cannot read kube-system/kubeadm-config at %s: %s", kube_client_server(k),
                            kube_client_error(k));
                return r;
        }
        text = json_get_string(json_get(cm, "data"), "ClusterConfiguration");
        if (!text || yaml_parse_documents(text, strlen(text), &docs, NULL) < 0 ||
            !cJSON_IsObject(doc = cJSON_GetArrayItem(docs, 0))) {
                log_warning("kube-system/kubeadm-config holds no readable ClusterConfiguration.");
                return -EBADMSG;
        }
        return fb_cluster_settings_from_json(doc, ret);
}

/* getInternalCfg: the configuration file, or the cluster's when a kubeconfig gives a client, or the
 * defaults. Prints kubeadm's lines on the way. An exit code. */
static int load_configuration(const char *config, const char *kubeconfig, struct pki_node_spec *spec) {
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *cluster = NULL;
        struct error why = {};
        int r;

        if (config) {
                /* Only certificatesDir and etcd.external matter: "worker" needs no advertise address. */
                r = fb_pki_config_load(config, cli.root, "worker", spec, &why);
                if (r == -ENOMEM)
                        return cli_oom();
                if (r < 0) {
                        log_error("%s", error_message(&why, r));
                        return EXIT_USAGE;
                }
                return EXIT_DONE;
        }
        /* kubeadm goes to the cluster only when the kubeconfig gives it a client. */
        r = kube_client_from_kubeconfig(cli.root, kubeconfig, &k);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0) {
                log_debug_errno(r, "No client from '%s' (%m): kubeadm's default configuration.", kubeconfig);
                return EXIT_DONE;
        }
        kube_client_set_timeouts(k, 10000, 1); /* "this operation should not block" */
        printf(LOG_PREFIX
               " Reading configuration from the \"kubeadm-config\" ConfigMap in namespace \"kube-system\"...\n");
        printf(LOG_PREFIX
               " Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.\n");
        r = fetch_cluster_configuration(k, &cluster);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0) {
                printf(LOG_PREFIX
                       " Error reading configuration from the Cluster. Falling back to default configuration\n\n");
                return EXIT_DONE;
        }
        printf("\n");
        return cli_expiration_spec_from_cluster(cluster, spec) < 0 ? cli_oom() : EXIT_DONE;
}

/* kubeadm's CheckCertificatePeriodValidity warns on a CA outside its validity period (on stderr). */
static void warn_ca_periods(const struct pki_expiration_info *info, time_t now) {
        for (size_t i = 0; i < info->n_cas; i++) {
                const struct pki_expiration *e = &info->cas[i];
                char date[PKI_KUBEADM_DATE_MAX];

                if (!e->read)
                        continue;
                if (e->not_after < now)
                        log_warning(
                                "The certificate authority %s expired on %s: what it signed is no longer trusted; CAs are never renewed automatically.",
                                e->name, pki_kubeadm_date(e->not_after, date));
                else if (e->not_before > now)
                        log_warning(
                                "The certificate authority %s is not valid before %s: check this machine's clock.",
                                e->name, pki_kubeadm_date(e->not_before, date));
        }
}

static int check_expiration(int argc, char **argv) {
        enum { ARG_CERT_DIR = 0x100, ARG_KUBECONFIG };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"config", required_argument, NULL, 'c'},
                {"cert-dir", required_argument, NULL, ARG_CERT_DIR},
                {"kubeconfig", required_argument, NULL, ARG_KUBECONFIG},
                {"output", required_argument, NULL, 'o'},
                {},
        };
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info info = {};
        _cleanup_free_ char *text = NULL;
        const char *config = NULL, *cert_dir = NULL, *kubeconfig = ADMIN_CONF;
        struct timespec now;
        int c, r;

        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(expiration_usage, expiration_body);
                        return EXIT_DONE;
                case 'c':
                        config = optarg;
                        break;
                case ARG_CERT_DIR:
                        cert_dir = optarg;
                        break;
                case ARG_KUBECONFIG:
                        kubeconfig = optarg;
                        break;
                case 'o':
                        if (!streq(optarg, "text")) {
                                log_error(
                                        "-o/--output: only 'text' is supported by kube-firstboot, not '%s'.",
                                        optarg);
                                return EXIT_UNSUPPORTED;
                        }
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("check-expiration takes no arguments. Usage: %s", expiration_usage);
                return EXIT_USAGE;
        }
        if (cert_dir && cert_dir[0] != '/') {
                log_error("--cert-dir must be an absolute path, not '%s'.", cert_dir);
                return EXIT_USAGE;
        }
        if (pki_node_spec_init(&spec) < 0)
                return cli_oom();
        r = load_configuration(config, kubeconfig, &spec);
        if (r != EXIT_DONE)
                return r;
        if (cert_dir) {
                char *copy = strdup(cert_dir);
                if (!copy)
                        return cli_oom();
                free(spec.cert_dir);
                spec.cert_dir = copy;
        }

        (void) clock_gettime(CLOCK_REALTIME, &now);
        r = pki_expiration_info(cli.root, &spec, &now, &info);
        if (r < 0)
                return cli_oom();
        warn_ca_periods(&info, now.tv_sec);
        /* kubeadm gathers every row before it prints, and stops at the first it cannot make. */
        for (size_t i = 0; i < info.n_certs + info.n_cas; i++) {
                const struct pki_expiration *e =
                        i < info.n_certs ? &info.certs[i] : &info.cas[i - info.n_certs];
                if (e->error < 0) {
                        log_error("%s", e->problem);
                        return EXIT_FAILED;
                }
        }
        r = cli_expiration_text(&info, &now, &text);
        if (r < 0)
                return cli_oom();
        fputs(text, stdout);
        return EXIT_DONE;
}

int cmd_certs(int argc, char **argv) {
        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                cli_print_help(certs_usage, certs_body);
                return argc < 2 ? EXIT_USAGE : EXIT_DONE;
        }
        if (streq(argv[1], "check-expiration"))
                return check_expiration(argc - 1, argv + 1);
        log_error(
                "Unknown certs command '%s'. 'kube-firstboot certs --help' lists them; the other certificate work is 'kube-firstboot pki'.",
                argv[1]);
        return EXIT_USAGE;
}
