/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/cleanup-libs.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"

#define STATUS_PATH "/run/kube-firstboot/status.json"

static const char usage[] = "kube-firstboot status [--json]";
static const char body[] =
        "Prints the state of the first-boot run from " STATUS_PATH ": the current or last\n"
        "phase, the final result (success, or the failure with its cause and a remedy), and the certificate\n"
        "that expires first (recorded at the end of the run and by each 'refresh').\n"
        "\n"
        "  --json   print the status document as it is\n"
        "\n"
        "Exits 0 when the run succeeded, 1 when it failed or is unknown, 3 while it is in progress.\n";

int cmd_status(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"json", no_argument, NULL, 'j'},
                {},
        };
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        bool json = false;
        size_t len;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case 'j':
                        json = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc) {
                log_error("status takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }

        r = read_file(cli.root, STATUS_PATH, 1024 * 1024, &text, &len);
        if (r == -ENOENT) {
                log_error("No first-boot run is recorded here (%s does not exist).", STATUS_PATH);
                return EXIT_FAILED;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read %s: %m", STATUS_PATH);
                return EXIT_FAILED;
        }
        r = json_parse(text, len, 0, &doc, NULL);
        if (r < 0) {
                log_error_errno(r, "%s is not valid JSON: %m", STATUS_PATH);
                return EXIT_FAILED;
        }

        const char *result = json_get_string(doc, "result");
        if (json) {
                fputs(text, stdout);
                if (len == 0 || text[len - 1] != '\n')
                        putchar('\n');
        } else {
                const char *v;
                printf("role:   %s\n", json_get_string(doc, "role") ?: "unknown");
                printf("phase:  %s\n", json_get_string(doc, "phase") ?: "none");
                printf("result: %s\n", result ?: "in progress");
                if ((v = json_get_string(doc, "error.message")))
                        printf("error:  %s\n", v);
                if ((v = json_get_string(doc, "error.remedy")))
                        printf("remedy: %s\n", v);
                if ((v = json_get_string(doc, "certificates.nearestExpiry.name")))
                        printf("expiry: %s, %s (the first certificate to expire)\n", v,
                               json_get_string(doc, "certificates.nearestExpiry.notAfter") ?: "?");
        }
        if (!result)
                return EXIT_TEMPORARY;
        return streq(result, "success") ? EXIT_DONE : EXIT_FAILED;
}
