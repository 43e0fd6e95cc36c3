/* SPDX-License-Identifier: Apache-2.0 */
/* The iso9660 and FAT readers on hostile images (a provisioning medium can hold anything). */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "metadata/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const paths[] = {"/meta-data", "/user-data", "/openstack/latest/meta_data.json",
                                            "/ovf-env.xml"};
        char *out = NULL;
        size_t n;

        if (size > 4 * 1024 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                if (md_iso9660_read(data, size, paths[i], 65536, &out, &n) >= 0)
                        free(out);
                if (md_vfat_read(data, size, paths[i], 65536, &out, &n) >= 0)
                        free(out);
        }
        return 0;
}
