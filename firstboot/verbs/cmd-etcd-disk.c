/* SPDX-License-Identifier: Apache-2.0 */
/* etcd disk: prepare etcd's data disk (find, format if blank, mount, persist), as the etcd-disk phase does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"
#include "firstboot/config/config.h"
#include "firstboot/flows/flows.h"
#include "firstboot/host/etcd-disk.h"

static const char usage[] = "kube-firstboot etcd disk [--dry-run] [CONFIGURATION OPTIONS]";
static const char body[] =
        "Prepares the disk FirstbootConfiguration.etcd.dataDevice names (a /dev path, or LABEL=, UUID=,\n"
        "PARTLABEL=, PARTUUID=) for etcd's data, as a control plane's first boot does before etcd starts:\n"
        "  - a blank device (no file system, no partition table, no other signature) gets a file system\n"
        "    (etcd.filesystem: ext4 or xfs, labelled etcd.label, default 'etcd'); a device holding ext4 or\n"
        "    xfs is used as it is; anything else is refused and left alone\n"
        "  - it is mounted at etcd's data dir (ClusterConfiguration.etcd.local.dataDir, /var/lib/etcd)\n"
        "  - a systemd mount unit (by UUID) and a kubelet drop-in (RequiresMountsFor=) keep it mounted\n"
        "    before the kubelet starts etcd after a reboot\n"
        "A repeated run changes nothing. /dev paths and the units are taken under --root.\n"
        "\n"
        "  --dry-run   say what it would do, touching nothing\n"
        "\n"
        "Exits 0 when the disk is ready, 1 when it was refused or failed (the message says why), 2 when\n"
        "the configuration names no data device or names it badly.\n"
        "\n";

int cmd_etcd_disk(int argc, char **argv) {
        enum { ARG_DRY_RUN = _CONFIG_ARG_MAX };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
                CONFIG_CLI_OPTIONS,
                {},
        };
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_(fb_etcd_disk_result_done) struct fb_etcd_disk_result res = {};
        struct fb_etcd_disk_spec spec;
        bool dry_run = false;
        struct error why = {};
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (ch) {
                case 'h':
                        printf("Usage: %s\n\n%s%s", usage, body, config_cli_help);
                        cli_print_help(NULL, NULL);
                        return EXIT_DONE;
                case ARG_DRY_RUN:
                        dry_run = true;
                        break;
                default:
                        r = config_cli_option(&cc, ch, optarg);
                        if (r < 0)
                                return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
                        if (r == 0)
                                return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("etcd disk takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }
        r = config_cli_load(&cc, cli.root, true, false, NULL, &c);
        if (r != EXIT_DONE)
                return r;
        if (fb_etcd_disk_spec_from_config(c, &spec) < 0) {
                log_error(
                        "FirstbootConfiguration.etcd.dataDevice is not set: etcd's data stays on the root disk.");
                return EXIT_USAGE;
        }
        spec.root = cli.root;
        const char *problem = fb_etcd_disk_spec_problem(&spec);
        if (problem) {
                log_error("%s.", problem);
                return EXIT_USAGE;
        }
        if (dry_run) {
                fb_etcd_disk_describe(&spec, stdout);
                return EXIT_DONE;
        }
        if (!cli_on_host()) {
                log_error(
                        "Under --root, %s is not formatted or mounted on this machine: add --allow-host when the root is this machine's own, or --dry-run.",
                        spec.device);
                return EXIT_USAGE;
        }

        r = fb_etcd_disk_prepare(&spec, &res, &why);
        if (r == -ENOMEM)
                return cli_oom();
        if (r < 0) {
                log_error("etcd data disk %s: %s", spec.device, error_message(&why, r));
                return EXIT_FAILED;
        }
        printf("etcd data disk %s: %s, %s UUID %s%s, %s at %s%s\n", spec.device, res.device, res.fstype,
               res.uuid, res.formatted ? " (new)" : "", res.mounted ? "mounted" : "already mounted",
               spec.data_dir ?: "/var/lib/etcd", res.units_changed ? "; units written" : "");
        if (!streq(res.fstype, spec.fstype ?: "ext4"))
                printf("etcd data disk %s: holds %s, not the configured %s: used as it is\n", spec.device,
                       res.fstype, spec.fstype ?: "ext4");
        return EXIT_DONE;
}
