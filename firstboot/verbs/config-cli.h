/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line options every verb that needs the effective configuration takes (config, plan, run,
 * refresh): where the metadata comes from, the flags that override the configuration, and extra files.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "firstboot/config/config.h"
#include "metadata/metadata.h"

enum {
        CONFIG_ARG_ROLE = 0x100,
        CONFIG_ARG_NODE_NAME,
        CONFIG_ARG_ADVERTISE,
        CONFIG_ARG_CPE,
        CONFIG_ARG_SET,
        CONFIG_ARG_NO_MD,
        CONFIG_ARG_DS,
        CONFIG_ARG_ENDPOINT,
        CONFIG_ARG_DEVICE,
        CONFIG_ARG_TIMEOUT,
        CONFIG_ARG_CONFIG,
        _CONFIG_ARG_MAX,
};

#define CONFIG_CLI_OPTIONS                                                                                  \
        {"role", required_argument, NULL, CONFIG_ARG_ROLE},                                                 \
                {"node-name", required_argument, NULL, CONFIG_ARG_NODE_NAME},                               \
                {"advertise-address", required_argument, NULL, CONFIG_ARG_ADVERTISE},                       \
                {"control-plane-endpoint", required_argument, NULL, CONFIG_ARG_CPE},                        \
                {"set", required_argument, NULL, CONFIG_ARG_SET},                                           \
                {"no-metadata", no_argument, NULL, CONFIG_ARG_NO_MD},                                       \
                {"datasource", required_argument, NULL, CONFIG_ARG_DS},                                     \
                {"metadata-url", required_argument, NULL, CONFIG_ARG_ENDPOINT},                             \
                {"endpoint", required_argument, NULL, CONFIG_ARG_ENDPOINT}, /* the old name */              \
                {"device", required_argument, NULL, CONFIG_ARG_DEVICE},                                     \
                {"timeout", required_argument, NULL, CONFIG_ARG_TIMEOUT}, {                                 \
                "config", required_argument, NULL, CONFIG_ARG_CONFIG                                        \
        }

/* The help text of those options, for a verb's --help. */
extern const char config_cli_help[];

struct config_cli {
        struct fb_flags flags;
        struct md_options md;
        bool no_metadata;
        bool files_only;  /* config validate FILE: the documents alone, complete for the role they name */
        bool node_checks; /* also what 'run' checks of the node's setup before it touches anything */
        char **set;       /* owned */
        char **files;     /* owned: --config FILE */
        char **problems;  /* owned: after config_cli_load() refused the configuration, its problems */
        /* After config_cli_load() failed for another reason (the metadata): what failed, and its errno. */
        char failure[ERROR_MESSAGE_MAX + 64];
        int failure_errno;
        bool secret_failure; /* the failure was a secret's store, not the metadata */
};

void config_cli_done(struct config_cli *cc);
/* 1 when ch was one of ours (handled), 0 when not, -EINVAL after logging a bad value. */
int config_cli_option(struct config_cli *cc, int ch, const char *arg);
/*
 * Reads the metadata (unless --no-metadata) and loads the effective configuration. Logs what went wrong
 * and returns an exit code (EXIT_DONE on success) — the configuration problems one per line.
 */
int config_cli_load(struct config_cli *cc, const char *root, bool partial, bool skip_image_defaults,
                    struct md_instance **ret_instance, struct fb_config **ret_config);
