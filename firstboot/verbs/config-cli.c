/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/flows/node.h"

const char config_cli_help[] =
        "Where the configuration comes from (later wins): image defaults in /etc/kube-firstboot/*.yaml,\n"
        "user-data, metadata tags, then these options:\n"
        "  --role auto|init|control-plane|worker\n"
        "  --node-name NAME              nodeRegistration.name\n"
        "  --advertise-address IP        localAPIEndpoint.advertiseAddress\n"
        "  --control-plane-endpoint H:P  ClusterConfiguration.controlPlaneEndpoint\n"
        "  --set Kind.path=value         any field, e.g. --set ClusterConfiguration.networking.podSubnet=10.244.0.0/16\n"
        "  --config FILE                 configuration documents, merged at the user-data level (repeatable)\n"
        "  --no-metadata                 leave out user-data and metadata\n"
        "  --datasource NAME             force a metadata source (ec2, gce, azure, openstack, nocloud, vmware, ...)\n"
        "  --metadata-url URL, --device DEV  where that source is (an emulator, a seed URL, an image file)\n"
        "  --timeout SECONDS             per metadata request (1-600)\n";

void config_cli_done(struct config_cli *cc) {
        strv_free(cc->set);
        strv_free(cc->files);
        strv_free(cc->problems);
        cc->set = cc->files = cc->problems = NULL;
}

int config_cli_option(struct config_cli *cc, int ch, const char *arg) {
        unsigned t;

        switch (ch) {
        case CONFIG_ARG_ROLE:
                if (fb_role_from_string(arg) < 0) {
                        log_error("--role takes auto, init, control-plane or worker, not '%s'.", arg);
                        return -EINVAL;
                }
                cc->flags.role = arg;
                return 1;
        case CONFIG_ARG_NODE_NAME:
                cc->flags.node_name = arg;
                return 1;
        case CONFIG_ARG_ADVERTISE:
                cc->flags.advertise_address = arg;
                return 1;
        case CONFIG_ARG_CPE:
                cc->flags.control_plane_endpoint = arg;
                return 1;
        case CONFIG_ARG_SET:
                return strv_extend(&cc->set, arg) < 0 ? (log_oom(), -ENOMEM) : 1;
        case CONFIG_ARG_CONFIG:
                return strv_extend(&cc->files, arg) < 0 ? (log_oom(), -ENOMEM) : 1;
        case CONFIG_ARG_NO_MD:
                cc->no_metadata = true;
                return 1;
        case CONFIG_ARG_DS:
                cc->md.datasource = arg;
                return 1;
        case CONFIG_ARG_ENDPOINT:
                cc->md.endpoint = arg;
                return 1;
        case CONFIG_ARG_DEVICE:
                cc->md.device = arg;
                return 1;
        case CONFIG_ARG_TIMEOUT:
                if (safe_atou(arg, &t) < 0 || t == 0 || t > 600) {
                        log_error("--timeout takes whole seconds from 1 to 600, not '%s'.", arg);
                        return -EINVAL;
                }
                cc->md.timeout_ms = t * 1000;
                return 1;
        default:
                return 0;
        }
}

/* The count, then one problem a line: indented text, or one JSON object each with --log-format=json. */
static void report_problems(char **problems) {
        size_t n = strv_length(problems);
        log_error("The configuration has %zu problem%s:", n, n == 1 ? "" : "s");
        for (char **p = problems; p && *p; p++)
                if (log_get_format() == LOG_FORMAT_JSON)
                        log_error("%s", *p);
                else
                        fprintf(stderr, "  %s\n", *p);
}

int config_cli_load(struct config_cli *cc, const char *root, bool partial, bool skip_image_defaults,
                    struct md_instance **ret_instance, struct fb_config **ret_config) {
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_strv_free_ char **problems = NULL;
        struct fb_config_sources src = {.root = root,
                                        .partial = partial,
                                        .complete_for_role = cc->files_only,
                                        .skip_image_defaults = skip_image_defaults,
                                        .files = cc->files};
        struct fb_config *c = NULL;
        struct error secret_error = {};
        int r;

        src.md = &cc->md;
        src.error = &secret_error;
        if (root) {
                struct stat st;
                if (stat(root, &st) < 0) {
                        log_error("--root '%s' %s.", root,
                                  errno == ENOENT ? "does not exist" : strerror(errno));
                        return EXIT_USAGE;
                }
                if (!S_ISDIR(st.st_mode)) {
                        log_error("--root '%s' is not a directory.", root);
                        return EXIT_USAGE;
                }
        }
        cc->md.root = root;
        cc->md.no_host = !cli_on_host();
        src.flags = cc->flags;
        src.flags.set = cc->set;
        if (!cc->no_metadata) {
                char md_error[MD_ERROR_MAX] = "";
                cc->md.error = md_error;
                r = md_fetch(&cc->md, &inst);
                cc->md.error = NULL;
                if (r == -ENXIO) {
                        snprintf(cc->failure, sizeof(cc->failure), "The %s datasource is not present here.",
                                 cc->md.datasource ?: "metadata");
                        cc->failure_errno = r;
                        log_error("%s", cc->failure);
                        return EXIT_UNSUPPORTED;
                }
                if (r < 0) {
                        snprintf(cc->failure, sizeof(cc->failure), "Cannot read the instance metadata: %s.",
                                 md_error[0] ? md_error : strerror(-r));
                        cc->failure_errno = r;
                        log_error("%s", cc->failure);
                        return cli_exit_code_for_error(r);
                }
                src.instance = inst;
        }
        r = fb_config_load(&src, &c, &problems);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0 && secret_error.code) {
                /* A secret store could not be read: temporary or not, by its errno. */
                snprintf(cc->failure, sizeof(cc->failure), "Cannot read a secret: %s.",
                         error_message(&secret_error, r));
                cc->failure_errno = r;
                cc->secret_failure = true;
                log_error("%s", cc->failure);
                return cli_exit_code_for_error(r);
        }
        if (r < 0 && !problems) {
                log_error_errno(r, "Cannot load the configuration: %m");
                return cli_exit_code_for_error(r);
        }
        if (r >= 0 && cc->node_checks) {
                r = fb_node_check(root, c, inst, &problems);
                if (r < 0)
                        return cli_oom();
                if (problems) {
                        c = fb_config_free(c);
                        r = -EINVAL;
                }
        }
        if (r < 0) {
                report_problems(problems);
                cc->problems = TAKE_PTR(problems);
                return EXIT_USAGE;
        }
        *ret_config = c;
        if (ret_instance)
                *ret_instance = TAKE_PTR(inst);
        return EXIT_DONE;
}
