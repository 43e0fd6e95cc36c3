/* SPDX-License-Identifier: Apache-2.0 */
/* Our own inflate, gzip framing and base64: every user-data byte may come through them. */
#include <stdint.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "metadata/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = NULL;
        size_t n, used;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (md_gunzip(data, size, 1024 * 1024, &out, &n) >= 0)
                erase_and_free(out);
        if (md_inflate(data, size, 1024 * 1024, &out, &n, &used) >= 0) {
                if (used > size)
                        __builtin_trap();
                erase_and_free(out);
        }
        if (md_base64_decode((const char *) data, size, true, &out, &n) >= 0)
                erase_and_free(out);
        if (md_base64_decode((const char *) data, size, false, &out, &n) >= 0)
                erase_and_free(out);
        (void) md_is_base64((const char *) data, size, 4);
        return 0;
}
