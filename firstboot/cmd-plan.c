/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_plan(int argc, char **argv) {
        return cli_stub(
                argc, argv, "kube-firstboot plan",
                "Prints the role decision and every phase with the files it would write and the API calls\n"
                "it would make, touching nothing.\n",
                "the phase engine is not built yet (issue 6).");
}
