/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_config(int argc, char **argv) {
        return cli_stub(
                argc, argv, "kube-firstboot config print | validate [FILE...]",
                "'config print' prints the effective merged configuration (image defaults, user-data,\n"
                "metadata, flags) as YAML documents with secrets redacted; 'config validate' checks\n"
                "configuration documents and lists every problem.\n",
                "configuration loading is not built yet (issue 4).");
}
