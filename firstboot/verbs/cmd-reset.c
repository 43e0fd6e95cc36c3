/* SPDX-License-Identifier: Apache-2.0 */
/* reset: kubeadm reset for our nodes (firstboot/flows/reset.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "common/log.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/flows/reset.h"

static const char usage[] =
        "kube-firstboot reset [--dry-run] [--force] [--delete-node] [--cleanup-tmp-dir] [--ignore-etcd-quorum]";

static const char body[] =
        "Reverts what 'kube-firstboot run' (or kubeadm init or join) did to this node, as 'kubeadm reset'\n"
        "does, so that the next 'kube-firstboot run' sets it up from scratch, as at its first boot. It asks\n"
        "no question (kube-firstboot runs unattended): without --force it only refuses, and --dry-run shows\n"
        "what it would do. It reads only this node's own files, never the metadata or the configuration.\n"
        "\n"
        "In this order, one line per action:\n"
        "  1. removes this node's etcd member (a control plane with stacked etcd: the member with the peer\n"
        "     URL of /etc/kubernetes/manifests/etcd.yaml), asking etcd with\n"
        "     /etc/kubernetes/pki/etcd/{ca.crt,healthcheck-client.crt,healthcheck-client.key}. Not found\n"
        "     counts as done; the last member is left (as kubeadm does). Unlike kubeadm, only when the\n"
        "     cluster stays healthy without it: the other voters that answer /health must be a quorum of the\n"
        "     voters left (a learner is always removable). Otherwise, or when etcd cannot be asked, nothing\n"
        "     at all is changed and reset exits 3; --force does not override this.\n"
        "  2. with --delete-node, deletes this node's Node object with /etc/kubernetes/admin.conf (not found\n"
        "     counts as done; a worker has no admin.conf: delete it from a control plane instead).\n"
        "  3. removes the static pod manifests (/etc/kubernetes/manifests) and waits, up to 90 s, until the\n"
        "     kubelet has stopped their pods (their ports are free); kubeadm removes the containers through\n"
        "     the CRI instead.\n"
        "  4. stops the kubelet: 'systemctl disable --now kubelet' (a failure is a warning).\n"
        "  5. unmounts what is mounted below /var/lib/kubelet.\n"
        "  6. deletes the contents of the etcd data directory (etcd.yaml's, else /var/lib/etcd), of\n"
        "     /etc/kubernetes/manifests, /var/lib/kubelet, the certificates directory (/etc/kubernetes/pki)\n"
        "     and, with --cleanup-tmp-dir, /etc/kubernetes/tmp; the files admin.conf, super-admin.conf,\n"
        "     kubelet.conf, bootstrap-kubelet.conf, controller-manager.conf and scheduler.conf in\n"
        "     /etc/kubernetes; then kube-firstboot's own state: /var/lib/kube-firstboot (the phase journal,\n"
        "     the done marker, join-info.json), /run/kube-firstboot/status.json and\n"
        "     /run/cluster-api/bootstrap-success.complete.\n"
        "Under --root without --allow-host, steps 3 (the wait), 4 and 5 are left out: they act on this\n"
        "machine. A reset that failed part-way can be run again: what is done already counts as done.\n"
        "\n"
        "Left as they are: the directories themselves, /etc/cni/net.d, iptables, nftables and IPVS rules,\n"
        "$HOME/.kube/config, /etc/kubernetes/tmp (unless asked), the kubelet's systemd unit and drop-ins,\n"
        "etcd's data disk and its mount unit, user-data and the secret files it wrote, a\n"
        "FirstbootConfiguration.reporting.joinFile, and the containers of pods other than the static ones.\n"
        "\n"
        "  --force               reset without asking (required unless --dry-run)\n"
        "  --dry-run             print one 'Would ...' line per action, change nothing (etcd is asked, to\n"
        "                        say whether the member could go; exits 3 when reset would refuse)\n"
        "  --delete-node         also delete this node's Node object (kubeadm leaves it)\n"
        "  --cleanup-tmp-dir     also empty /etc/kubernetes/tmp\n"
        "  --ignore-etcd-quorum  reset even when etcd would not stay healthy without this member, or cannot\n"
        "                        be asked: the member is then left in etcd (remove it from a control plane\n"
        "                        later: kube-firstboot etcd member remove ID)\n"
        "\n"
        "Exit codes: 0 reset (or the dry run found nothing in the way); 1 a file or directory could not be\n"
        "deleted (named; the rest was), or etcd refused the removal; 2 bad usage, no --force, or\n"
        "--delete-node without admin.conf; 3 refused before any change because etcd would not stay healthy\n"
        "or could not be asked, or the Node deletion or member removal did not get through in time.\n";

int cmd_reset(int argc, char **argv) {
        enum {
                ARG_DRY_RUN = 0x100,
                ARG_FORCE,
                ARG_DELETE_NODE,
                ARG_CLEANUP_TMP,
                ARG_IGNORE_QUORUM,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
                {"force", no_argument, NULL, ARG_FORCE},
                {"delete-node", no_argument, NULL, ARG_DELETE_NODE},
                {"cleanup-tmp-dir", no_argument, NULL, ARG_CLEANUP_TMP},
                {"ignore-etcd-quorum", no_argument, NULL, ARG_IGNORE_QUORUM},
                {},
        };
        struct fb_reset_spec s = {.root = cli.root, .host = cli_on_host()};
        bool force = false;
        struct error why = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_DRY_RUN:
                        s.dry_run = true;
                        break;
                case ARG_FORCE:
                        force = true;
                        break;
                case ARG_DELETE_NODE:
                        s.delete_node = true;
                        break;
                case ARG_CLEANUP_TMP:
                        s.cleanup_tmp_dir = true;
                        break;
                case ARG_IGNORE_QUORUM:
                        s.ignore_quorum = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("reset takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }
        if (!force && !s.dry_run) {
                log_error(
                        "reset deletes this node's Kubernetes setup (etcd member, certificates, kubeconfigs, kubelet state, kube-firstboot's journal) and asks no question: pass --force to reset this node, or --dry-run to see what it would do.");
                return EXIT_USAGE;
        }

        r = fb_reset(&s, &why);
        if (r < 0) {
                log_error("%s", error_message(&why, r));
                switch (-r) {
                case EHOSTDOWN:
                        return EXIT_TEMPORARY;
                case EINVAL:
                        return EXIT_USAGE;
                case ENOMEM:
                        return cli_oom();
                default:
                        return cli_exit_code_for_error(r);
                }
        }
        if (s.dry_run)
                return EXIT_DONE;
        printf("\nThe reset process does not perform cleanup of CNI plugin configuration,\n"
               "network filtering rules and kubeconfig files.\n"
               "'kube-firstboot run' sets this node up again, as at its first boot.\n");
        return EXIT_DONE;
}
