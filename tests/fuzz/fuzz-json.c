/* SPDX-License-Identifier: Apache-2.0 */
/* JSON parsing with our cap and trailing-data rules, and path lookups over whatever parsed. */
#include <stdint.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        bool b;
        int64_t i;

        log_set_max_level(LOG_CRIT);
        if (json_parse((const char *) data, size, 1024 * 1024, &j, NULL) < 0)
                return 0;
        (void) json_get_string(j, "metadata.name");
        (void) json_get_scalar_text(j, "data.a");
        (void) json_get_bool(j, "a", &b);
        (void) json_get_int64(j, "a.b.c", &i);
        _cleanup_free_ char *s = json_to_string(j);
        return 0;
}
