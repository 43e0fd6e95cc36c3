/* SPDX-License-Identifier: Apache-2.0 */
/* YAML -> cJSON -> YAML: user-data and configuration documents come from outside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/yamlutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        struct yaml_error err;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (yaml_parse_documents((const char *) data, size, &docs, &err) < 0)
                return 0;
        /* What we emit must parse back to the same number of documents. */
        if (yaml_emit(docs, &text) < 0)
                return 0;
        if (yaml_parse_documents(text, strlen(text), &again, NULL) < 0 ||
            cJSON_GetArraySize(again) != cJSON_GetArraySize(docs))
                abort();
        return 0;
}
