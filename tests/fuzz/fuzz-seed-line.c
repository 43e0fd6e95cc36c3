/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A contending seed's line (outside input: whatever answers at a peer's apiserver port, or connects to a
 * seed's listener while it waits): the parse, and a line it accepts formatted back and parsed again to the
 * same seeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "firstboot/flows/role.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_seed_line l, back;
        char buf[FB_SEED_LINE_MAX];

        log_set_max_level(LOG_CRIT);
        if (fb_seed_line_parse((const char *) data, size, &l) < 0)
                return 0;
        fb_seed_line_format(&l, buf);
        if (fb_seed_line_parse(buf, strlen(buf), &back) < 0 || fb_seed_id_cmp(&back.from, &l.from) != 0 ||
            fb_seed_id_cmp(&back.lowest, &l.lowest) != 0 || fb_seed_id_cmp(&l.lowest, &l.from) > 0)
                abort();
        return 0;
}
