/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http-get: one request with exactly the HTTP client the node flows use (timeouts, retries with
 * backoff, body cap, in-memory CA and client certificate). For operators checking that a node can reach
 * an endpoint with a given CA, and for our tests of the client against real TLS servers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/http.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/cli.h"

static const char usage[] =
        "kube-firstboot http-get URL [--cacert FILE] [--cert FILE --key FILE]\n"
        "           [--method M] [--data STRING] [--header 'Name: value']... [--timeout SECONDS]\n"
        "           [--retries N] [--max-bytes N] [--insecure]";

static const char body[] =
        "Diagnostics: sends one HTTP(S) request with the same client, TLS rules, timeouts and retries\n"
        "kube-firstboot uses to reach metadata services, the Kubernetes API and etcd, and prints\n"
        "'status <code>' followed by the response body.\n"
        "\n"
        "  --cacert FILE       trust only this CA (PEM); without it, the system CA bundle\n"
        "  --cert FILE         client certificate (PEM), with --key\n"
        "  --key FILE          the client certificate's private key (PEM)\n"
        "  --method M          request method (default GET, or POST with --data)\n"
        "  --data STRING       request body\n"
        "  --header H          an extra request header, 'Name: value' (repeatable)\n"
        "  --timeout SECONDS   per-attempt timeout (default 10)\n"
        "  --retries N         extra attempts on connection failures, timeouts, 429 and 5xx (default 0)\n"
        "  --max-bytes N       refuse a response body larger than N bytes (default 1048576)\n"
        "  --insecure          do not verify the server certificate (never for real use)\n"
        "\n"
        "Exits 0 on a 2xx answer, 1 on another status or a TLS or size failure, 3 when the endpoint\n"
        "could not be reached or timed out.\n";

int cmd_http_get(int argc, char **argv) {
        enum {
                ARG_CA = 0x100,
                ARG_CERT,
                ARG_KEY,
                ARG_METHOD,
                ARG_DATA,
                ARG_HEADER,
                ARG_TIMEOUT,
                ARG_RETRIES,
                ARG_MAX,
                ARG_INSECURE
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                /* One spelling for TLS files across verbs: curl's and etcdctl's. */
                {"cacert", required_argument, NULL, ARG_CA},
                {"cert", required_argument, NULL, ARG_CERT},
                {"key", required_argument, NULL, ARG_KEY},
                {"method", required_argument, NULL, ARG_METHOD},
                {"data", required_argument, NULL, ARG_DATA},
                {"header", required_argument, NULL, ARG_HEADER},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {"retries", required_argument, NULL, ARG_RETRIES},
                {"max-bytes", required_argument, NULL, ARG_MAX},
                {"insecure", no_argument, NULL, ARG_INSECURE},
                {},
        };
        _cleanup_free_ char *ca = NULL, *cert = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_strv_free_ char **headers = NULL;
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        const char *ca_file = NULL, *cert_file = NULL, *key_file = NULL, *data = NULL, *method = NULL;
        unsigned timeout_s = 10, retries = 0;
        uint64_t max_bytes = HTTP_DEFAULT_MAX_BODY;
        char error[HTTP_ERROR_MAX] = "";
        bool insecure = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_CA:
                        ca_file = optarg;
                        break;
                case ARG_CERT:
                        cert_file = optarg;
                        break;
                case ARG_KEY:
                        key_file = optarg;
                        break;
                case ARG_METHOD:
                        method = optarg;
                        break;
                case ARG_DATA:
                        data = optarg;
                        break;
                case ARG_HEADER:
                        if (!strchr(optarg, ':')) {
                                log_error("--header takes 'Name: value', not '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&headers, optarg) < 0)
                                return cli_oom();
                        break;
                case ARG_TIMEOUT:
                        if (cli_parse_seconds("--timeout", optarg, 3600, &timeout_s) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_RETRIES:
                        if (safe_atou(optarg, &retries) < 0 || retries > 100) {
                                log_error("--retries takes a number from 0 to 100, not '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_MAX:
                        if (safe_atou64(optarg, &max_bytes) < 0 || max_bytes == 0 ||
                            max_bytes > (1u << 30)) {
                                log_error("--max-bytes takes a number from 1 to 1073741824, not '%s'.",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_INSECURE:
                        insecure = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                log_error("http-get takes one URL. Usage: %s", usage);
                return EXIT_USAGE;
        }
        if (!!cert_file != !!key_file) {
                log_error("--cert and --key go together.");
                return EXIT_USAGE;
        }
        if (ca_file && (r = read_file(NULL, ca_file, 0, &ca, NULL)) < 0) {
                log_error_errno(r, "Cannot read the CA file '%s': %m", ca_file);
                return EXIT_USAGE;
        }
        if (cert_file && (r = read_file(NULL, cert_file, 0, &cert, NULL)) < 0) {
                log_error_errno(r, "Cannot read the certificate file '%s': %m", cert_file);
                return EXIT_USAGE;
        }
        if (key_file && (r = read_file(NULL, key_file, 0, &key, NULL)) < 0) {
                log_error_errno(r, "Cannot read the key file '%s': %m", key_file);
                return EXIT_USAGE;
        }

        struct http_request req = {
                .method = method ?: (data ? "POST" : "GET"),
                .url = argv[optind],
                .headers = (const char *const *) headers,
                .body = data,
                .body_len = data ? strlen(data) : 0,
                .ca_pem = ca,
                .client_cert_pem = cert,
                .client_key_pem = key,
                .insecure = insecure,
                .timeout_ms = timeout_s * 1000,
                .max_body = (size_t) max_bytes,
                .retries = retries,
                .backoff_ms = 100,
                .backoff_max_ms = 2000,
                .error = error,
        };
        r = http_request(&req, &resp);
        if (r < 0) {
                log_error_errno(r, "%s %s failed: %s (%m)", req.method, req.url, error);
                return cli_exit_code_for_error(r);
        }
        printf("status %ld\n", resp->status);
        fwrite(resp->body, 1, resp->body_len, stdout);
        if (resp->body_len > 0 && resp->body[resp->body_len - 1] != '\n')
                putchar('\n');
        log_debug("%u attempt(s)", resp->attempts);
        return resp->status >= 200 && resp->status < 300 ? EXIT_DONE : EXIT_FAILED;
}
