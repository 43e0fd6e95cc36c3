/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_pki(int argc, char **argv) {
        return cli_stub(argc, argv,
                        "kube-firstboot pki "
                        "certs|ca-hash|certificate-key|token|encrypt-certs|decrypt-certs|check ...",
                        "kubeadm-compatible certificates and kubeconfigs, CA pin hashes, certificate keys, "
                        "bootstrap\n"
                        "tokens, and the kubeadm-certs envelope.\n",
                        "the pki commands are not built yet (issue 3).");
}
