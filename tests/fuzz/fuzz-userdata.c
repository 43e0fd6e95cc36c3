/* SPDX-License-Identifier: Apache-2.0 */
/* Whole user-data bodies: base64/gzip unwrapping, MIME, type guessing, and our documents out of them. */
#include <errno.h>
#include <stdint.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/userdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(md_userdata_freep) struct md_userdata *ud = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        _cleanup_strv_free_ char **problems = NULL;
        struct md_userdata_error err;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        int r = md_userdata_parse(data, size, &ud, &err);
        if (r < 0) {
                /* A refusal always says what, and the line it names is one of the input's. */
                _cleanup_free_ char *msg = md_userdata_error_to_string(&err);
                if (r != -ENOMEM && (!err.message[0] || err.line > size + 1))
                        __builtin_trap();
                (void) msg;
                return 0;
        }
        (void) md_userdata_config(ud, "fuzz", &docs, &problems);
        return 0;
}
