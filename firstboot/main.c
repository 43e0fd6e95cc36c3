/* SPDX-License-Identifier: Apache-2.0 */
/* kube-firstboot: turns a freshly booted machine into a Kubernetes node. Entry point and verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"

static const struct verb verbs[] = {
        {"run", "set this node up: init, control-plane join or worker join", cmd_run},
        {"plan", "print the role decision and every phase, touching nothing", cmd_plan},
        {"preflight", "run kubeadm's preflight checks for this node's role", cmd_preflight},
        {"metadata", "print what the instance metadata says about this machine", cmd_metadata},
        {"config", "print or validate the effective configuration", cmd_config},
        {"pki", "certificates, kubeconfigs, CA hashes, tokens and the kubeadm-certs envelope", cmd_pki},
        {"certs", "kubeadm's certs commands: check-expiration", cmd_certs},
        {"discover", "check that a cluster can be joined with a token and CA hash", cmd_discover},
        {"refresh", "renew what a later control-plane join needs (certificate key, token)", cmd_refresh},
        {"reset", "revert this node's setup (kubeadm reset), so that run starts from scratch", cmd_reset},
        {"status", "print the state of the first-boot run", cmd_status},
        {"secrets", "check every configured secret against its source (value, file, cloud secret store)",
         cmd_secrets},
        {"etcd", "list, add, promote or remove etcd members; check etcd health", cmd_etcd},
        {"version", "print the version and the linked libraries", cmd_version},
        {"http-get", "diagnostics: one HTTP(S) request with the client's TLS and retry rules", cmd_http_get},
};

static void print_main_help(void) {
        printf("Usage: kube-firstboot [GLOBAL OPTIONS] VERB [ARGS]\n"
               "\n"
               "Run once at a VM's first boot: reads instance metadata and user-data, decides the node's\n"
               "role, completes kubeadm init, an HA control-plane join or a worker join, and hands the\n"
               "node to the kubelet. kubeadm-compatible on disk and in the cluster.\n"
               "\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\n'kube-firstboot VERB --help' explains each verb.\n\n");
        cli_print_help(NULL, NULL);
}

/*
 * Global options may stand before or after the verb: they are taken out of argv here, leaving the verb
 * and its own options in order. Returns the new argc, or -1 on a usage error.
 */
static int take_global_options(int argc, char **argv) {
        int out = 1;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v;
                if (streq(a, "--")) {
                        while (i < argc)
                                argv[out++] = argv[i++];
                        break;
                }
                if (streq(a, "--root") || streq(a, "--log-format")) {
                        if (i + 1 >= argc) {
                                log_error("Option '%s' needs a value.", a);
                                return -1;
                        }
                        v = argv[++i];
                } else if ((v = startswith(a, "--root=")) || (v = startswith(a, "--log-format=")))
                        ;
                else if (streq(a, "--allow-host")) {
                        cli.allow_host = true;
                        continue;
                } else if (streq(a, "--verbose") ||
                           (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1))) {
                        cli.verbosity += streq(a, "--verbose") ? 1 : (int) strlen(a + 1);
                        continue;
                } else {
                        argv[out++] = argv[i];
                        continue;
                }
                if (startswith(a, "--root")) {
                        if (isempty(v)) {
                                log_error("--root needs a directory.");
                                return -1;
                        }
                        cli.root = v;
                } else {
                        enum log_format f;
                        if (log_format_from_string(v, &f) < 0) {
                                log_error("--log-format takes 'text' or 'json', not '%s'.", v);
                                return -1;
                        }
                        log_set_format(f);
                }
        }
        argv[out] = NULL;
        return out;
}

int main(int argc, char **argv) {
        argc = take_global_options(argc, argv);
        if (argc < 0)
                return EXIT_USAGE;
        log_set_max_level(cli.verbosity > 0 ? LOG_DEBUG : LOG_INFO);

        if (argc < 2) {
                print_main_help();
                return EXIT_USAGE;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                print_main_help();
                return EXIT_DONE;
        }
        if (streq(argv[1], "--version"))
                return cmd_version(1, (char *[]){(char *) "version", NULL});

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        optind = 0; /* each verb parses its own options from scratch */
                        return verbs[i].run(argc - 1, argv + 1);
                }

        log_error("Unknown verb '%s'. 'kube-firstboot --help' lists the verbs.", argv[1]);
        return EXIT_USAGE;
}
