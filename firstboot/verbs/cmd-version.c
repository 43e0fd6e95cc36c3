/* SPDX-License-Identifier: Apache-2.0 */
#include <blkid.h>
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <yaml.h>

#include "common/http.h"
#include "manifests/versions.h"
#include "firstboot/verbs/cli.h"

int cmd_version(int argc, char **argv) {
        const char *blkid_version = NULL;
        int r;

        r = cli_help_or_usage(
                argc, argv, "kube-firstboot version",
                "Prints kube-firstboot's version and the versions of the libraries it is linked\n"
                "with (in a static build: the versions compiled in).\n",
                0);
        if (r >= 0)
                return r;

        (void) blkid_get_library_version(&blkid_version, NULL);
        printf("kube-firstboot %s (%s build)\n", cli_version(),
#ifdef KF_STATIC
               "static"
#else
               "dynamic"
#endif
        );
        printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
        printf("  %s\n", http_library_version());
        printf("  cJSON %s\n", cJSON_Version());
        printf("  libyaml %s\n", yaml_get_version_string());
        printf("  libblkid %s\n", blkid_version ?: "unknown");
        size_t n;
        const struct mf_versions *all = mf_versions_all(&n);
        printf("  Kubernetes 1.%d-1.%d (labels such as stable resolve to %s), kubeadm config v1beta4 (v1beta3 accepted and converted)\n",
               MF_MINOR_FIRST, MF_MINOR_LAST, all[n - 1].newest_patch);
        return EXIT_DONE;
}
