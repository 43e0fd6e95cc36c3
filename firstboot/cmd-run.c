/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_run(int argc, char **argv) {
        return cli_stub(
                argc, argv, "kube-firstboot run",
                "Sets this node up, unattended: reads the instance metadata and user-data, decides the\n"
                "node's role (init, control-plane, worker, or auto from identical user-data), runs the\n"
                "phases of kubeadm init, the HA control-plane join or the worker join (resuming after a\n"
                "crash), and hands the node to the kubelet. Progress and the final result go to\n"
                "/run/kube-firstboot/status.json.\n",
                "the init and join flows are not built yet (init: issue 6; join and the auto role: issue "
                "7).");
}
