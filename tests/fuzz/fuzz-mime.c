/* SPDX-License-Identifier: Apache-2.0 */
/* The MIME multipart parser on its own: headers, folding, boundaries, nesting, transfer encodings. */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "metadata/userdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct md_userdata *ud = calloc(1, sizeof(*ud));

        if (!ud || size > 256 * 1024) {
                free(ud);
                return 0;
        }
        log_set_max_level(LOG_CRIT);
        (void) md_mime_parse((const char *) data, size, 0, ud);
        for (size_t i = 0; i < ud->n_parts; i++)
                if (!ud->parts[i].type || !ud->parts[i].data)
                        __builtin_trap();
        md_userdata_free(ud);
        return 0;
}
