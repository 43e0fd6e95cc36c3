/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays fuzz inputs through a harness's LLVMFuzzerTestOneInput without libFuzzer, so gcc's ASan+UBSan
 * build checks every corpus file in `make check`. Each input runs twice, to catch state kept between
 * runs. Prints "N passed, N failed"; a sanitizer report aborts the run (non-zero exit).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/fileio.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        unsigned passed = 0, failed = 0;

        log_set_max_level(LOG_CRIT); /* harnesses feed garbage: keep the output to the summary */
        for (int i = 1; i < argc; i++) {
                char *buf = NULL;
                size_t len = 0;
                int r = read_file(NULL, argv[i], 16u * 1024u * 1024u, &buf, &len);
                if (r < 0) {
                        fprintf(stderr, "%s: cannot read: %d\n", argv[i], r);
                        failed++;
                        continue;
                }
                for (int round = 0; round < 2; round++)
                        (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
                free(buf);
                passed++;
        }
        printf("%u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
