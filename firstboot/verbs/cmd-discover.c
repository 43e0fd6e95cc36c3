/* SPDX-License-Identifier: Apache-2.0 */
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
#include "firstboot/cluster/discovery.h"

static const char usage[] =
        "kube-firstboot discover --api-server HOST:PORT (--token-file FILE | --token ID.SECRET)\n"
        "           (--ca-cert-hash sha256:HEX... | --unsafe-skip-ca-verification)\n"
        "           [--timeout SECONDS]";

static const char body[] =
        "Runs kubeadm's bootstrap-token discovery alone, as a joining node would: reads\n"
        "kube-public/cluster-info anonymously, checks the signature the cluster put there for the\n"
        "token, checks the cluster CA against the pin, and reads cluster-info again over TLS verified\n"
        "against that CA. Prints the cluster's server and CA hash, or why it failed: token unknown or\n"
        "expired, signature mismatch (wrong secret), pin mismatch, endpoint unreachable.\n"
        "\n"
        "  --api-server HOST:PORT        the API server or its load balancer (IPv6 as [addr]:port), as\n"
        "                                JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint\n"
        "  --token-file FILE             a file holding the bootstrap token (preferred: command lines\n"
        "                                are visible to every user through /proc)\n"
        "  --token ID.SECRET             the bootstrap token itself\n"
        "                                ($KUBE_FIRSTBOOT_TOKEN is read when neither is given)\n"
        "  --ca-cert-hash sha256:HEX     the CA pin, as 'kubeadm token create --print-join-command'\n"
        "                                prints it (repeatable; any match passes)\n"
        "  --unsafe-skip-ca-verification trust whichever CA answers (only on a network you trust)\n"
        "  --timeout SECONDS             how long to wait for the API and the token's signature\n"
        "                                (default 300, kubeadm's)\n"
        "\n"
        "Exits 0 when discovery succeeded, 1 when the cluster refused (token, signature, pin), 2 for\n"
        "bad arguments, 3 when the endpoint could not be reached in time.\n";

int cmd_discover(int argc, char **argv) {
        enum { ARG_ENDPOINT = 0x100, ARG_TOKEN, ARG_TOKEN_FILE, ARG_HASH, ARG_UNSAFE, ARG_TIMEOUT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"api-server", required_argument, NULL, ARG_ENDPOINT},
                {"endpoint", required_argument, NULL, ARG_ENDPOINT}, /* the old name */
                {"token", required_argument, NULL, ARG_TOKEN},
                {"token-file", required_argument, NULL, ARG_TOKEN_FILE},
                {"ca-cert-hash", required_argument, NULL, ARG_HASH},
                {"unsafe-skip-ca-verification", no_argument, NULL, ARG_UNSAFE},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
        _cleanup_strv_free_ char **hashes = NULL;
        _cleanup_erase_ char *token = NULL;
        struct fb_discovery_result res = {};
        const char *endpoint = NULL, *token_file = NULL;
        struct error why = {};
        unsigned timeout_s = 300;
        bool unsafe = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cli_print_help(usage, body);
                        return EXIT_DONE;
                case ARG_ENDPOINT:
                        endpoint = optarg;
                        break;
                case ARG_TOKEN:
                        erase_and_free(token);
                        token = strdup(optarg);
                        if (!token)
                                return cli_oom();
                        break;
                case ARG_TOKEN_FILE:
                        token_file = optarg;
                        break;
                case ARG_HASH:
                        if (strv_extend(&hashes, optarg) < 0)
                                return cli_oom();
                        break;
                case ARG_UNSAFE:
                        unsafe = true;
                        break;
                case ARG_TIMEOUT:
                        if (cli_parse_seconds("--timeout", optarg, 86400, &timeout_s) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc || !endpoint) {
                log_error("discover needs --api-server HOST:PORT. Usage: %s", usage);
                return EXIT_USAGE;
        }
        if (token_file) {
                size_t len;
                erase_and_free(token);
                token = NULL;
                r = read_file(NULL, token_file, 4096, &token, &len);
                if (r < 0) {
                        log_error_errno(r, "Cannot read the token file '%s': %m", token_file);
                        return EXIT_USAGE;
                }
                token[strcspn(token, "\r\n")] = 0;
        } else if (!token && getenv("KUBE_FIRSTBOOT_TOKEN")) {
                token = strdup(getenv("KUBE_FIRSTBOOT_TOKEN"));
                if (!token)
                        return cli_oom();
        }
        if (!token) {
                log_error(
                        "discover needs a bootstrap token: --token-file FILE, --token, or $KUBE_FIRSTBOOT_TOKEN.");
                return EXIT_USAGE;
        }

        struct fb_discovery_opts o = {
                .endpoint = endpoint,
                .token = token,
                .ca_cert_hashes = (const char *const *) hashes,
                .unsafe_skip_ca_verification = unsafe,
                .timeout_ms = timeout_s * 1000,
                .interval_ms = timeout_s * 1000 / 4 < 5000 ? timeout_s * 1000 / 4 : 5000,
        };
        r = fb_discover(&o, &res, &why);
        if (r < 0) {
                log_error("Discovery through %s failed: %s", endpoint, error_message(&why, r));
                return r == -EINVAL ? EXIT_USAGE : cli_exit_code_for_error(r);
        }
        printf("server:  %s\n", res.server);
        printf("ca-hash: %s\n", res.ca_hash);
        fb_discovery_result_done(&res);
        return EXIT_DONE;
}
