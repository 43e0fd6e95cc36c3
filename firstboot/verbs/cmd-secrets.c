/* SPDX-License-Identifier: Apache-2.0 */
/* secrets check: every configured secret read from its source, printed as its SHA-256, never its value. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/config/secrets.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/config-cli.h"

static const char usage[] = "kube-firstboot secrets check [OPTIONS]";
static const char body[] =
        "Reads every secret FirstbootConfiguration.secrets names (bootstrapToken, certificateKey, caKey)\n"
        "from its source, as 'run' would on this instance, and prints one line per secret: its name, the\n"
        "SHA-256 of its value (without trailing whitespace) and where it came from. Never the value\n"
        "itself. Check an image, an instance role or a secret before launching a group with it: compare the\n"
        "fingerprint with the one of the value you stored (printf %s VALUE | sha256sum).\n"
        "\n"
        "A secret comes from exactly one source:\n"
        "  value: ...                 in the configuration itself (user-data stays readable from the\n"
        "                             metadata service for the machine's life: prefer a store)\n"
        "  file: /path                a file under --root (cloud-init write_files, a mounted secret)\n"
        "  awsSecretsManager: {secretId, region, versionStage, jsonKey, endpoint}\n"
        "                             read with the instance role's credentials from IMDSv2; the role needs\n"
        "                             secretsmanager:GetSecretValue on the secret (and kms:Decrypt on a\n"
        "                             customer-managed key); jsonKey picks one key of a JSON secret\n"
        "  awsSsmParameter: {name, region, endpoint}\n"
        "                             a Parameter Store parameter (a SecureString is decrypted): the role\n"
        "                             needs ssm:GetParameter (and kms:Decrypt)\n"
        "  gcpSecretManager: {name, endpoint}\n"
        "                             name projects/P/secrets/S/versions/V (latest without /versions/), read\n"
        "                             with the instance's default service account, which needs\n"
        "                             roles/secretmanager.secretAccessor\n"
        "  azureKeyVault: {vaultUrl, name, version, clientId}\n"
        "                             read with the VM's managed identity (clientId: a user-assigned one),\n"
        "                             which needs Key Vault Secrets User or a get access policy\n"
        "The region of an AWS store defaults to the instance's (its identity document). The identity comes from\n"
        "the metadata service the datasource uses: '--datasource ec2 --metadata-url URL' points both the\n"
        "metadata and the role's credentials at an emulator. 'endpoint' sends the store's requests to a\n"
        "private (VPC) endpoint or an emulator. Only the secret sources need to be valid, not a whole node\n"
        "configuration.\n"
        "\n"
        "Example (user-data that holds no secret):\n"
        "  apiVersion: kube-firstboot.io/v1alpha1\n"
        "  kind: FirstbootConfiguration\n"
        "  secrets:\n"
        "    certificateKey: {awsSecretsManager: {secretId: prod/k8s/certificate-key}}\n"
        "    bootstrapToken: {awsSsmParameter: {name: /k8s/prod/bootstrap-token}}\n"
        "\n"
        "Output: NAME  sha256:HEX  SOURCE, one line per secret; a secret that cannot be read is\n"
        "NAME  FAILED  SOURCE, with the reason on stderr, saying whether the instance's identity (no role,\n"
        "access denied) or the secret (not found) failed. Every request has a timeout (--timeout, else 3 s for\n"
        "the metadata service and 10 s for the store), a size cap, and retries on throttling and 5xx.\n"
        "\n"
        "Exits 0 when every secret was read and has its form (a bootstrap token, a certificate key, a PEM\n"
        "private key); else the code of the first that failed: 3 when it may pass (a timeout, throttling, a\n"
        "server error), 1 when it will not by itself (not found, access denied, no identity, a value of the\n"
        "wrong form), 2 for a bad configuration.\n";

static int check_one(const struct fb_config *c, struct fb_secret_context *ctx,
                     const struct fb_secret_info *info) {
        _cleanup_erase_ char *value = NULL;
        char fp[FB_SECRET_FINGERPRINT_MAX];
        struct error why = {};
        int r;

        r = fb_config_read_secret(c, ctx, cli.root, info->name, &value, &why);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = fb_secret_fingerprint(value, fp);
        if (r < 0) {
                printf("%-15s %-71s  %s\n", info->name, "FAILED", info->source);
                log_error("%s", error_message(&why, r));
                return r;
        }
        printf("%-15s %s  %s\n", info->name, fp, info->source);
        return 0;
}

int cmd_secrets(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                CONFIG_CLI_OPTIONS,
                {},
        };
        _cleanup_(config_cli_done) struct config_cli cc = {};
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        const struct fb_secret_info *info;
        int ch, r, first = 0;
        const char *first_name = NULL;
        size_t n;

        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                cli_print_help_more(usage, body, config_cli_help);
                return EXIT_DONE;
        }
        if (argc < 2 || !streq(argv[1], "check")) {
                log_error("secrets needs 'check'. Usage: %s", usage);
                return EXIT_USAGE;
        }
        argc--, argv++;
        optind = 0;
        while ((ch = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (ch == 'h') {
                        cli_print_help_more(usage, body, config_cli_help);
                        return EXIT_DONE;
                }
                r = config_cli_option(&cc, ch, optarg);
                if (r <= 0)
                        return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        }
        if (optind != argc) {
                log_error("secrets check takes no arguments. Usage: %s", usage);
                return EXIT_USAGE;
        }
        /* Partial: the secret sources must be valid, not a whole node configuration; none is read here. */
        r = config_cli_load(&cc, cli.root, true, false, &inst, &c);
        if (r != EXIT_DONE)
                return r;
        info = fb_config_secret_info(c, &n);
        if (n == 0) {
                log_error(
                        "The configuration names no secret (FirstbootConfiguration.secrets): nothing to check.");
                return EXIT_FAILED;
        }
        _cleanup_(fb_secret_context_done) struct fb_secret_context ctx = {
                .md = &cc.md, .datasource = inst && inst->datasource ? inst->datasource : cc.md.datasource};
        for (size_t i = 0; i < n; i++) {
                r = check_one(c, &ctx, &info[i]);
                if (r == -ENOMEM)
                        return cli_oom();
                if (r < 0 && !first_name) {
                        first = r;
                        first_name = info[i].name;
                }
        }
        if (first_name) {
                log_error("Secret %s could not be read%s.", first_name,
                          n > 1 ? " (the first that failed)" : "");
                return cli_exit_code_for_error(first);
        }
        return EXIT_DONE;
}
