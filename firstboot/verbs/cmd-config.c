/* SPDX-License-Identifier: Apache-2.0 */
/* config print | validate: the effective configuration, and strict checks of configuration documents. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/config/config.h"
#include "metadata/metadata.h"

static const char usage[] = "kube-firstboot config print [OPTIONS]\n"
                            "       kube-firstboot config validate [OPTIONS] [FILE...]\n"
                            "       kube-firstboot config reference";
static const char body[] =
        "'config print' prints the effective configuration as YAML documents (FirstbootConfiguration,\n"
        "InitConfiguration, ClusterConfiguration, JoinConfiguration, KubeletConfiguration,\n"
        "KubeProxyConfiguration) with kubeadm's defaults filled in and every secret shown as <redacted>.\n"
        "Sources merge in this order, later wins:\n"
        "  1. image defaults: the *.yaml files in /etc/kube-firstboot/, in name order\n"
        "  2. user-data: a part of type application/vnd.kube-firstboot+yaml, a #cloud-config's top-level\n"
        "     kube_firstboot: key, or plain YAML documents\n"
        "  3. metadata tags/attributes: kube-firstboot-role, kube-firstboot-control-plane-endpoint,\n"
        "     kube-firstboot-node-name, kube-firstboot-config (YAML documents, plain or base64)\n"
        "  4. these options\n"
        "\n"
        "'config validate FILE...' checks the documents in the files (YAML, #cloud-config with\n"
        "kube_firstboot:, or MIME user-data) and lists every problem with its field path and file.\n"
        "Documents that name a role must be complete for it. Without FILE it checks the effective\n"
        "configuration of this node as 'run' does before it touches anything: complete for its role, the\n"
        "CA given usable, an init node buildable from it.\n"
        "\n"
        "'config reference' prints every field kube-firstboot reads, with its type, default and what it\n"
        "does, as Markdown (docs/configuration.md is its output).\n"
        "\n"
        "  --role ROLE                   auto, init, control-plane or worker\n"
        "  --node-name NAME              nodeRegistration.name\n"
        "  --advertise-address IP        the API server address this node advertises\n"
        "  --control-plane-endpoint EP   ClusterConfiguration.controlPlaneEndpoint (host[:port])\n"
        "  --set Kind.path=VALUE         any field, e.g. --set ClusterConfiguration.networking.podSubnet=10.244.0.0/16\n"
        "                                (repeatable; VALUE is read as YAML)\n"
        "  --no-metadata                 leave out user-data and metadata (image defaults and options only)\n"
        "  --datasource NAME, --metadata-url URL, --device PATH, --timeout SECONDS\n"
        "                                where the metadata comes from, as for 'kube-firstboot metadata'\n"
        "\n"
        "Exits 0 when the configuration is valid, 2 with every problem listed when it is not, 3 when the\n"
        "metadata source did not answer.\n";

int cmd_config(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                CONFIG_CLI_OPTIONS,
                {},
        };
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        bool validate;
        int ch, r;

        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                cli_print_help(usage, body);
                return EXIT_DONE;
        }
        if (argc == 2 && streq(argv[1], "reference"))
                return fb_config_reference(stdout) < 0 ? EXIT_FAILED : EXIT_DONE;
        if (argc < 2 || (!streq(argv[1], "print") && !streq(argv[1], "validate"))) {
                log_error("config needs 'print', 'validate' or 'reference'. Usage: %s", usage);
                return EXIT_USAGE;
        }
        validate = streq(argv[1], "validate");
        argc--, argv++;
        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (ch == 'h') {
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                }
                r = config_cli_option(&cc, ch, optarg);
                if (r < 0)
                        return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
                if (r == 0)
                        return EXIT_USAGE;
        }
        if (!validate && optind != argc) {
                log_error("config print takes no file arguments; 'config validate FILE...' checks files.");
                return EXIT_USAGE;
        }
        bool partial = false;
        if (validate && optind < argc) {
                /* Files alone: their documents, checked field by field, merged as user-data would be. */
                for (int i = optind; i < argc; i++)
                        if (strv_extend(&cc.files, argv[i]) < 0)
                                return cli_oom();
                cc.no_metadata = true;
                cc.files_only = true;
                partial = true;
        }
        /* The effective configuration is checked as 'run' checks it before it touches the node. */
        cc.node_checks = validate && !partial;
        r = config_cli_load(&cc, cli.root, partial, partial, NULL, &c);
        if (r != EXIT_DONE)
                return r;
        if (validate) {
                printf("valid: %s\n",
                       partial ? "every document in the files" : "the effective configuration");
                return EXIT_DONE;
        }
        _cleanup_free_ char *yaml = NULL;
        r = fb_config_print(c, true, &yaml);
        if (r < 0)
                return cli_oom();
        fputs(yaml, stdout);
        return EXIT_DONE;
}
