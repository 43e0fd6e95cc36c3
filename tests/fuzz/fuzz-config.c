/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration pipeline on hostile user-data: documents out of it, strict validation, v1beta3
 * conversion, merging, defaults, the completeness checks, and printing with redaction.
 */
#include <stdint.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config.h"
#include "metadata/metadata.h"
#include "metadata/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every secret-bearing field of the printed documents must read <redacted>. */
static void check_redacted(const cJSON *j, bool under_secrets) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) {
                bool secret = e->string && (strcmp(e->string, "token") == 0 ||
                                            strcmp(e->string, "tlsBootstrapToken") == 0 ||
                                            strcmp(e->string, "certificateKey") == 0 ||
                                            (under_secrets && strcmp(e->string, "value") == 0));
                if (secret && cJSON_IsString(e) && strcmp(e->valuestring, FB_REDACTED) != 0)
                        __builtin_trap();
                check_redacted(e, under_secrets || (e->string && strcmp(e->string, "secrets") == 0));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_strv_free_ char **problems = NULL;
        char *copy;

        if (size > 64 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        inst = md_instance_new();
        copy = malloc(size + 1);
        if (!inst || !copy) {
                free(copy);
                return 0;
        }
        memcpy(copy, data, size);
        copy[size] = 0;
        md_set_userdata(inst, copy, size);
        (void) md_set(&inst->hostname, "cp-1");
        (void) md_set(&inst->local_ipv4, "10.0.0.1");
        if (md_userdata_decode(inst->userdata, inst->userdata_len, &inst->ud) < 0)
                return 0;
        struct fb_config_sources src = {
                .root = "/nonexistent", .instance = inst, .skip_image_defaults = true};
        if (fb_config_load(&src, &c, &problems) >= 0) {
                _cleanup_free_ char *yaml = NULL;
                (void) fb_config_print(c, true, &yaml);
                _cleanup_(cJSON_Deletep) cJSON *back = NULL;
                if (yaml && yaml_parse_documents(yaml, strlen(yaml), &back, NULL) >= 0)
                        check_redacted(back, false);
                (void) fb_config_is_seed(c, inst);
        }
        return 0;
}
