/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FirstbootConfiguration.secrets.<name>: where each secret comes from (a value, a file under --root, or a
 * cloud secret store read with the instance's own identity: metadata/secret-store.h), and reading it. The
 * loader reads every secret through here; 'secrets check' too, one by one, to print where each came from and
 * its SHA-256, never the value.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/error.h"
#include "metadata/metadata.h"

/* The secrets FirstbootConfiguration takes, in the order they are read (bootstrapToken, certificateKey,
 * caKey, vrrpPassword); NULL-terminated. */
extern const char *const fb_secret_names[];
/* Where the secret of that name sits in FirstbootConfiguration ("secrets.bootstrapToken",
 * "controlPlaneVIP.authentication" for vrrpPassword); NULL for an unknown name. */
const char *fb_secret_path(const char *name);

/* What reading store secrets needs: the metadata options (endpoint, timeout) and the datasource in use,
 * whose service the endpoint is. The store session (with the instance's credentials) is made at the first
 * store secret and kept for the next; fb_secret_context_done() wipes it. */
struct fb_secret_context {
        const struct md_options *md; /* NULL: the defaults (the link-local metadata services) */
        const char *datasource;
        struct md_secret_session *session;
};
void fb_secret_context_done(struct fb_secret_context *ctx);

/* The kind of source: "value", "file", "awsSecretsManager", "awsSsmParameter", "gcpSecretManager",
 * "azureKeyVault"; NULL when src names none. */
const char *fb_secret_source_kind(const cJSON *src);
/* Whether the value is read at run time (a file or a store), not given in the configuration. */
bool fb_secret_source_elsewhere(const cJSON *src);

/* The source in words, without credentials or the value: "value", "file '/run/x'", "awsSecretsManager
 * secretId 'k8s/key' (region eu-west-1, versionStage AWSCURRENT)". Caller frees. */
char *fb_secret_source_describe(const cJSON *src);

/*
 * Reads the secret from src: the value, the file (under root, at most 64 KiB), or the store. Trailing
 * whitespace is dropped (how files end, and how values get pasted). *ret is a secret: erase_and_free(). On a
 * failure why says which source failed and whether it was the instance's identity or the secret, and the
 * -errno is the store's (-ENOENT not found or no identity, -EPERM denied, -ETIMEDOUT, -EBUSY throttled, ...)
 * or the file's.
 */
int fb_secret_read(struct fb_secret_context *ctx, const char *root, const char *name, const cJSON *src,
                   char **ret, struct error *why);

/* "sha256:" and the SHA-256 of the value in hex (71 characters and the NUL), trailing whitespace left out as
 * when the secret is read. */
#define FB_SECRET_FINGERPRINT_MAX 72
int fb_secret_fingerprint(const char *value, char ret[FB_SECRET_FINGERPRINT_MAX]);
