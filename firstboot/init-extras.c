/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders of the preflight, etcd-disk and addon phases while they are merged from their branches. */
#include <errno.h>
#include <stddef.h>

#include "firstboot/flows.h"

static int run_nothing(void *ctx, char *why, size_t why_len) {
        (void) ctx, (void) why, (void) why_len;
        return 0;
}

const struct fb_phase fb_phase_preflight = {
        "preflight", "checks before anything is written", NULL, run_nothing, NULL, NULL};
const struct fb_phase fb_phase_etcd_disk = {"etcd-disk", "the etcd data disk", NULL, run_nothing, NULL,
                                            NULL};
const struct fb_phase fb_phase_addon = {"addon", "CoreDNS and kube-proxy", NULL, run_nothing, NULL, NULL};
