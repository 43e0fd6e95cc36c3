/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "manifests/versions.h"

static const struct mf_versions table[] = {
        {.minor = 33, .etcd_tag = "3.5.24-0", .coredns_tag = "v1.12.0", .pause_tag = "3.10"},
        {.minor = 34,
         .etcd_tag = "3.6.5-0",
         .coredns_tag = "v1.12.1",
         .pause_tag = "3.10.1",
         .probe_port_names = true,
         .etcd_36_flags = true},
        {.minor = 35,
         .etcd_tag = "3.6.6-0",
         .coredns_tag = "v1.13.1",
         .pause_tag = "3.10.1",
         .probe_port_names = true,
         .etcd_36_flags = true},
};

int mf_versions_for(const char *v, const struct mf_versions **ret) {
        unsigned major, minor, patch;
        int n = 0;

        if (!v)
                return -EINVAL;
        if (*v == 'v')
                v++;
        if (sscanf(v, "%u.%u.%u%n", &major, &minor, &patch, &n) != 3 ||
            (v[n] != 0 && v[n] != '-' && v[n] != '+'))
                return log_debug_errno(EINVAL, "'%s' is not a Kubernetes version like v1.34.2", v);
        if (major != 1)
                return -EOPNOTSUPP;
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (table[i].minor == minor) {
                        *ret = &table[i];
                        return 0;
                }
        return log_debug_errno(EOPNOTSUPP, "Kubernetes 1.%u is outside 1.%d-1.%d", minor, MF_MINOR_FIRST,
                               MF_MINOR_LAST);
}
