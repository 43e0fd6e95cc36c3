/* SPDX-License-Identifier: Apache-2.0 */
#include "firstboot/cli.h"

int cmd_metadata(int argc, char **argv) {
        return cli_stub(
                argc, argv, "kube-firstboot metadata [--datasource NAME] [--endpoint URL]",
                "Prints what the instance metadata says about this machine, as JSON: platform, datasource,\n"
                "instance id, hostname, addresses, region, zone, tags and the user-data parts (never "
                "secrets).\n",
                "the datasources are not built yet (issue 4).");
}
