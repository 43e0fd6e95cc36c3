/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_refresh(int argc, char **argv) {
        return cli_stub(
                argc, argv, "kube-firstboot refresh",
                "On a control plane: keeps join credentials alive past kubeadm's 2-hour kubeadm-certs\n"
                "window (re-uploads the certificates under the configured certificate key and renews the\n"
                "token), for the kube-firstboot-refresh timer.\n",
                "credential refresh is not built yet (issue 7).");
}
