/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
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

/* The newest patch release of each minor known when this was built: what kubeadm's version labels
 * (stable, stable-1, latest, stable-1.34) resolve to without asking dl.k8s.io, which a first boot may not
 * reach. Operators who want another patch pin kubernetesVersion. */
static const struct {
        unsigned minor;
        const char *version;
} known_patches[] = {
        {33, "v1.33.5"},
        {34, "v1.34.2"},
        {35, "v1.35.0"},
};

int mf_versions_resolve(const char *v, char **ret) {
        const char *pick = NULL;
        unsigned minor;
        int n = 0;

        if (!v)
                return -EINVAL;
        if (streq(v, "stable") || streq(v, "stable-1") || streq(v, "latest") || streq(v, "latest-1"))
                pick = known_patches[sizeof(known_patches) / sizeof(known_patches[0]) - 1].version;
        else if ((sscanf(v, "stable-1.%u%n", &minor, &n) == 1 ||
                  sscanf(v, "latest-1.%u%n", &minor, &n) == 1) &&
                 v[n] == 0) {
                for (size_t i = 0; i < sizeof(known_patches) / sizeof(known_patches[0]); i++)
                        if (known_patches[i].minor == minor)
                                pick = known_patches[i].version;
                if (!pick)
                        return log_debug_errno(EOPNOTSUPP, "'%s': Kubernetes 1.%u is outside 1.%d-1.%d", v,
                                               minor, MF_MINOR_FIRST, MF_MINOR_LAST);
        }
        if (pick)
                return (*ret = strdup(pick)) ? 1 : -ENOMEM;
        const struct mf_versions *unused;
        int r = mf_versions_for(v, &unused);
        if (r < 0)
                return r;
        *ret = v[0] == 'v' ? strdup(v) : strdupf("v%s", v);
        return *ret ? 0 : -ENOMEM;
}
