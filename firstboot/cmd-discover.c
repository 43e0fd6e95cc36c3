/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_discover(int argc, char **argv) {
        return cli_stub(
                argc, argv,
                "kube-firstboot discover --endpoint HOST:PORT --token ID.SECRET [--ca-cert-hash sha256:HEX]",
                "Runs kubeadm-style token discovery alone: fetches cluster-info anonymously, checks its\n"
                "JWS signature with the token and its CA against the pin, and prints the cluster's server\n"
                "and CA hash, or why it failed.\n",
                "token discovery is not built yet (issue 7).");
}
