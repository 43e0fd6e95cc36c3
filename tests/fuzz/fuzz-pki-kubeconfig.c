/* SPDX-License-Identifier: Apache-2.0 */
/* An existing kubeconfig on disk, read to decide whether to keep it (and by 'pki check'). */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "pki/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pki_kubeconfig k = {};

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (pki_kubeconfig_parse((const char *) data, size, &k) == 0)
                pki_kubeconfig_done(&k);
        return 0;
}
