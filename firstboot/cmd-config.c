/* SPDX-License-Identifier: Apache-2.0 */
/* config print | validate: the effective configuration, and strict checks of configuration documents. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cli.h"
#include "firstboot/config.h"
#include "metadata/metadata.h"

static const char usage[] = "kube-firstboot config print [OPTIONS]\n"
                            "       kube-firstboot config validate [OPTIONS] [FILE...]";
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
        "Without FILE it checks the effective configuration of this node, including that it is complete\n"
        "for its role.\n"
        "\n"
        "  --role ROLE                   auto, init, control-plane or worker\n"
        "  --node-name NAME              nodeRegistration.name\n"
        "  --advertise-address IP        the API server address this node advertises\n"
        "  --control-plane-endpoint EP   ClusterConfiguration.controlPlaneEndpoint (host[:port])\n"
        "  --set Kind.path=VALUE         any field, e.g. --set "
        "ClusterConfiguration.networking.podSubnet=10.244.0.0/16\n"
        "                                (repeatable; VALUE is read as YAML)\n"
        "  --no-metadata                 leave out user-data and metadata (image defaults and options "
        "only)\n"
        "  --datasource NAME, --endpoint URL, --device PATH, --timeout SECONDS\n"
        "                                where the metadata comes from, as for 'kube-firstboot metadata'\n"
        "\n"
        "Exits 0 when the configuration is valid, 2 with every problem listed when it is not, 3 when the\n"
        "metadata source did not answer.\n";

int cmd_config(int argc, char **argv) {
        enum {
                ARG_ROLE = 0x100,
                ARG_NODE_NAME,
                ARG_ADVERTISE,
                ARG_CPE,
                ARG_SET,
                ARG_NO_MD,
                ARG_DS,
                ARG_ENDPOINT,
                ARG_DEVICE,
                ARG_TIMEOUT,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"role", required_argument, NULL, ARG_ROLE},
                {"node-name", required_argument, NULL, ARG_NODE_NAME},
                {"advertise-address", required_argument, NULL, ARG_ADVERTISE},
                {"control-plane-endpoint", required_argument, NULL, ARG_CPE},
                {"set", required_argument, NULL, ARG_SET},
                {"no-metadata", no_argument, NULL, ARG_NO_MD},
                {"datasource", required_argument, NULL, ARG_DS},
                {"endpoint", required_argument, NULL, ARG_ENDPOINT},
                {"device", required_argument, NULL, ARG_DEVICE},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
        struct fb_config_sources src = {.root = cli.root};
        struct md_options mo = {.root = cli.root};
        _cleanup_strv_free_ char **set = NULL, **problems = NULL;
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        bool no_md = false, validate;
        unsigned t;
        int ch, r;

        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                cli_print_help(usage, body);
                return EXIT_DONE;
        }
        if (argc < 2 || (!streq(argv[1], "print") && !streq(argv[1], "validate"))) {
                log_error("config needs 'print' or 'validate'. Usage: %s", usage);
                return EXIT_USAGE;
        }
        validate = streq(argv[1], "validate");
        argc--, argv++;
        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (ch) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_ROLE:
                        if (fb_role_from_string(optarg) < 0) {
                                log_error("--role takes auto, init, control-plane or worker, not '%s'.",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        src.flags.role = optarg;
                        break;
                case ARG_NODE_NAME:
                        src.flags.node_name = optarg;
                        break;
                case ARG_ADVERTISE:
                        src.flags.advertise_address = optarg;
                        break;
                case ARG_CPE:
                        src.flags.control_plane_endpoint = optarg;
                        break;
                case ARG_SET:
                        if (strv_extend(&set, optarg) < 0)
                                return cli_oom();
                        break;
                case ARG_NO_MD:
                        no_md = true;
                        break;
                case ARG_DS:
                        mo.datasource = optarg;
                        break;
                case ARG_ENDPOINT:
                        mo.endpoint = optarg;
                        break;
                case ARG_DEVICE:
                        mo.device = optarg;
                        break;
                case ARG_TIMEOUT:
                        if (safe_atou(optarg, &t) < 0 || t == 0 || t > 600) {
                                log_error("--timeout takes whole seconds from 1 to 600, not '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        mo.timeout_ms = t * 1000;
                        break;
                default:
                        return EXIT_USAGE;
                }
        src.flags.set = set;
        if (!validate && optind != argc) {
                log_error("config print takes no file arguments; 'config validate FILE...' checks files.");
                return EXIT_USAGE;
        }
        if (validate && optind < argc) {
                /* Files alone: their documents, checked field by field, merged as user-data would be. */
                src.files = argv + optind;
                src.skip_image_defaults = true;
                src.partial = true;
                no_md = true;
        }
        if (!no_md) {
                r = md_fetch(&mo, &inst);
                if (r == -ENXIO) {
                        log_error("The %s datasource is not present here.", mo.datasource ?: "metadata");
                        return EXIT_UNSUPPORTED;
                }
                if (r < 0) {
                        log_error_errno(r, "Cannot read the instance metadata: %m");
                        return cli_exit_code_for_error(r);
                }
                src.instance = inst;
        }

        r = fb_config_load(&src, &c, &problems);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0) {
                log_error("The configuration has %zu problem%s:", strv_length(problems),
                          strv_length(problems) == 1 ? "" : "s");
                for (char **p = problems; p && *p; p++)
                        fprintf(stderr, "  %s\n", *p);
                return EXIT_USAGE;
        }
        if (validate) {
                printf("valid: %s\n",
                       src.files ? "every document in the files" : "the effective configuration");
                return EXIT_DONE;
        }
        _cleanup_free_ char *yaml = NULL;
        r = fb_config_print(c, true, &yaml);
        if (r < 0)
                return cli_oom();
        fputs(yaml, stdout);
        return EXIT_DONE;
}
