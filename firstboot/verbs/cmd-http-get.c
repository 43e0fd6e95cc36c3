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

/* The command line: the URL, the TLS files, the request and the client's limits. */
struct args {
        const char *url, *ca_file, *cert_file, *key_file, *data, *method;
        char **headers;
        unsigned timeout_s, retries;
        uint64_t max_bytes;
        bool insecure;
};

static void args_done(struct args *a) {
        a->headers = strv_free(a->headers);
}

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

/* One option into *a: EXIT_DONE, or the exit code after the message. A flat switch: one case an option. */
static int parse_option(struct args *a, int c, const char *arg) {
        switch (c) {
        case ARG_CA:
                a->ca_file = arg;
                return EXIT_DONE;
        case ARG_CERT:
                a->cert_file = arg;
                return EXIT_DONE;
        case ARG_KEY:
                a->key_file = arg;
                return EXIT_DONE;
        case ARG_METHOD:
                a->method = arg;
                return EXIT_DONE;
        case ARG_DATA:
                a->data = arg;
                return EXIT_DONE;
        case ARG_HEADER:
                if (!strchr(arg, ':')) {
                        log_error("--header takes 'Name: value', not '%s'.", arg);
                        return EXIT_USAGE;
                }
                return strv_extend(&a->headers, arg) < 0 ? cli_oom() : EXIT_DONE;
        case ARG_TIMEOUT:
                return cli_parse_seconds("--timeout", arg, 3600, &a->timeout_s) < 0 ? EXIT_USAGE : EXIT_DONE;
        case ARG_RETRIES:
                if (safe_atou(arg, &a->retries) < 0 || a->retries > 100) {
                        log_error("--retries takes a number from 0 to 100, not '%s'.", arg);
                        return EXIT_USAGE;
                }
                return EXIT_DONE;
        case ARG_MAX:
                if (safe_atou64(arg, &a->max_bytes) < 0 || a->max_bytes == 0 || a->max_bytes > (1u << 30)) {
                        log_error("--max-bytes takes a number from 1 to 1073741824, not '%s'.", arg);
                        return EXIT_USAGE;
                }
                return EXIT_DONE;
        case ARG_INSECURE:
                a->insecure = true;
                return EXIT_DONE;
        default:
                return EXIT_USAGE;
        }
}

/* false when the verb ends here (--help, a bad option or usage) with *ret_exit. */
static bool parse_args(int argc, char **argv, struct args *a, int *ret_exit) {
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
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        cli_print_help(usage, body);
                        *ret_exit = EXIT_DONE;
                        return false;
                }
                *ret_exit = parse_option(a, c, optarg);
                if (*ret_exit != EXIT_DONE)
                        return false;
        }
        if (optind != argc - 1) {
                log_error("http-get takes one URL. Usage: %s", usage);
                *ret_exit = EXIT_USAGE;
                return false;
        }
        if (!!a->cert_file != !!a->key_file) {
                log_error("--cert and --key go together.");
                *ret_exit = EXIT_USAGE;
                return false;
        }
        a->url = argv[optind];
        return true;
}

/* A TLS file the options name (none: *ret stays NULL); EXIT_DONE or EXIT_USAGE after the message. */
static int read_tls_file(const char *file, const char *what, char **ret) {
        int r;

        if (!file)
                return EXIT_DONE;
        r = read_file(NULL, file, 0, ret, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot read the %s file '%s': %m", what, file);
                return EXIT_USAGE;
        }
        return EXIT_DONE;
}

/* 'status CODE', then the body (with a final newline); 0 for a 2xx answer. */
static int print_response(const struct http_response *resp) {
        printf("status %ld\n", resp->status);
        fwrite(resp->body, 1, resp->body_len, stdout);
        if (resp->body_len > 0 && resp->body[resp->body_len - 1] != '\n')
                putchar('\n');
        log_debug("%u attempt(s)", resp->attempts);
        return resp->status >= 200 && resp->status < 300 ? EXIT_DONE : EXIT_FAILED;
}

int cmd_http_get(int argc, char **argv) {
        _cleanup_(args_done) struct args a = {.timeout_s = 10, .max_bytes = HTTP_DEFAULT_MAX_BODY};
        _cleanup_free_ char *ca = NULL, *cert = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        char error[HTTP_ERROR_MAX] = "";
        int r;

        if (!parse_args(argc, argv, &a, &r))
                return r;
        if ((r = read_tls_file(a.ca_file, "CA", &ca)) != EXIT_DONE ||
            (r = read_tls_file(a.cert_file, "certificate", &cert)) != EXIT_DONE ||
            (r = read_tls_file(a.key_file, "key", &key)) != EXIT_DONE)
                return r;

        struct http_request req = {
                .method = a.method ?: (a.data ? "POST" : "GET"),
                .url = a.url,
                .headers = (const char *const *) a.headers,
                .body = a.data,
                .body_len = a.data ? strlen(a.data) : 0,
                .ca_pem = ca,
                .client_cert_pem = cert,
                .client_key_pem = key,
                .insecure = a.insecure,
                .timeout_ms = a.timeout_s * 1000,
                .max_body = (size_t) a.max_bytes,
                .retries = a.retries,
                .backoff_ms = 100,
                .backoff_max_ms = 2000,
                .error = error,
        };
        r = http_request(&req, &resp);
        if (r < 0) {
                log_error_errno(r, "%s %s failed: %s (%m)", req.method, req.url, error);
                return cli_exit_code_for_error(r);
        }
        return print_response(resp);
}
