/* SPDX-License-Identifier: Apache-2.0 */
/* metadata: what the instance metadata says about this machine, as JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "metadata/metadata.h"

static const char usage[] =
        "kube-firstboot metadata [--datasource NAME] [--metadata-url URL] [--device PATH]\n"
        "           [--timeout SECONDS]";
static const char body[] =
        "Finds this machine's metadata source the way cloud-init's ds-identify does (DMI, the kernel\n"
        "command line, filesystem labels, cloud-init's own outputs) and prints what it says, as JSON:\n"
        "platform, datasource, source, instanceId, hostname, localIPv4, localIPv6, region, zone, tags and\n"
        "userData (its size, where it came from, the type and size of each part). The user-data itself,\n"
        "the kube-firstboot-config tag (configuration documents: 'config print' shows them redacted), tag\n"
        "values whose names look like secrets and values shaped like one (a bootstrap token, a\n"
        "certificate key, a private key) are never printed.\n"
        "\n"
        "  --datasource NAME  use only this source: cloud-init, ec2, gce, azure, openstack, configdrive,\n"
        "                     nocloud, vmware, files (default: auto)\n"
        "  --metadata-url URL base URL of the HTTP source instead of the real one (e.g. an emulator), or\n"
        "                     NoCloud's seedfrom URL\n"
        "  --device PATH      block device or image file of a NoCloud, config drive or OVF volume\n"
        "  --timeout SECONDS  per-request timeout (default 3)\n"
        "\n"
        "Exits 0 with the view, 1 when the source answered something unusable, 2 on bad usage or when the\n"
        "user-data is there but cannot be used (unreadable, too large, not decodable: the view is printed,\n"
        "with userData.error saying where and what), 3 when a source that should answer did not (retry\n"
        "later), 4 when a forced source is not present here.\n";

int cmd_metadata(int argc, char **argv) {
        enum { ARG_DS = 0x100, ARG_ENDPOINT, ARG_DEVICE, ARG_TIMEOUT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"datasource", required_argument, NULL, ARG_DS},
                {"metadata-url", required_argument, NULL, ARG_ENDPOINT},
                {"endpoint", required_argument, NULL, ARG_ENDPOINT}, /* the old name */
                {"device", required_argument, NULL, ARG_DEVICE},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
        struct md_options o = {.root = cli.root, .no_host = !cli_on_host()};
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_free_ char *text = NULL;
        unsigned t;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_DS: {
                        bool ok = false;
                        for (const char *const *n = md_datasource_names(); *n; n++)
                                ok = ok || streq(*n, optarg);
                        if (!ok) {
                                log_error(
                                        "Unknown datasource '%s'. Known: auto, cloud-init, ec2, gce, azure, openstack, configdrive, nocloud, vmware, files.",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        o.datasource = optarg;
                        break;
                }
                case ARG_ENDPOINT:
                        if (!startswith(optarg, "http://") && !startswith(optarg, "https://") &&
                            !startswith(optarg, "file://") && optarg[0] != '/') {
                                log_error(
                                        "--metadata-url takes an http(s):// URL (or a file:// or /path seed), not '%s'.",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        o.endpoint = optarg;
                        break;
                case ARG_DEVICE:
                        o.device = optarg;
                        break;
                case ARG_TIMEOUT:
                        if (safe_atou(optarg, &t) < 0 || t == 0 || t > 600) {
                                log_error("--timeout takes whole seconds from 1 to 600, not '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        o.timeout_ms = t * 1000;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("metadata takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }
        if ((o.endpoint || o.device) && !o.datasource) {
                log_error("--metadata-url and --device belong to one source: name it with --datasource.");
                return EXIT_USAGE;
        }

        char md_error[MD_ERROR_MAX] = "";
        o.error = md_error;
        r = md_fetch(&o, &inst);
        if (r == -ENXIO) {
                log_error("The %s datasource is not present here (-v says why).", o.datasource ?: "auto");
                return EXIT_UNSUPPORTED;
        }
        if (r == -EINVAL) {
                /* A malformed setting (a seedfrom URL without its trailing '/', an unknown scheme). */
                log_error("The %s datasource settings are not valid (-v says which).",
                          o.datasource ?: "metadata");
                return EXIT_USAGE;
        }
        if (r < 0) {
                if (md_error[0])
                        log_error("Cannot read the %s metadata: %s.", o.datasource ?: "instance", md_error);
                else
                        log_error_errno(r, "Cannot read the %s metadata: %m", o.datasource ?: "instance");
                return cli_exit_code_for_error(r);
        }
        j = md_instance_to_json(inst);
        if (!j || !(text = json_to_string_pretty(j)))
                return cli_oom();
        fputs(text, stdout);
        if (inst->userdata_error) {
                /* The view is printed all the same: it helps to find what is wrong. */
                log_error("The user-data cannot be used: %s%s%s%s. 'run' refuses it; fix it at its source.",
                          inst->userdata_error, inst->userdata_source ? " (from " : "",
                          strempty(inst->userdata_source), inst->userdata_source ? ")" : "");
                return EXIT_USAGE;
        }
        return EXIT_DONE;
}
