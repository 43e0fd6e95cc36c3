/* SPDX-License-Identifier: Apache-2.0 */
/* etcd's /metrics text (outside input: any member's client URL answers it): the active-peers gauge reader.
 */
#include <stdint.h>

#include "common/log.h"
#include "firstboot/cluster/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        log_set_max_level(LOG_CRIT);
        (void) etcd_metrics_peer_active((const char *) data, size, 0x91bc3c398fb3c146ull);
        (void) etcd_metrics_peer_active((const char *) data, size, 0);
        return 0;
}
