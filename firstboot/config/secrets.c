/* SPDX-License-Identifier: Apache-2.0 */
/* Where each secret comes from, and reading it. See secrets.h. */
#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/config/secrets.h"
#include "metadata/secret-store.h"

#define SECRET_FILE_MAX (64u * 1024u)

const char *const fb_secret_names[] = {"bootstrapToken", "certificateKey", "caKey", "vrrpPassword", NULL};

const char *fb_secret_path(const char *name) {
        if (streq(name, "bootstrapToken"))
                return "secrets.bootstrapToken";
        if (streq(name, "certificateKey"))
                return "secrets.certificateKey";
        if (streq(name, "caKey"))
                return "secrets.caKey";
        if (streq(name, "vrrpPassword"))
                return "controlPlaneVIP.authentication";
        return NULL;
}

static const struct {
        const char *kind;
        enum md_secret_store store;
} stores[] = {
        {"awsSecretsManager", MD_SECRET_AWS_SECRETS_MANAGER},
        {"awsSsmParameter", MD_SECRET_AWS_SSM_PARAMETER},
        {"gcpSecretManager", MD_SECRET_GCP_SECRET_MANAGER},
        {"azureKeyVault", MD_SECRET_AZURE_KEY_VAULT},
};

void fb_secret_context_done(struct fb_secret_context *ctx) {
        ctx->session = md_secret_session_free(ctx->session);
}

const char *fb_secret_source_kind(const cJSON *src) {
        if (json_get_string(src, "value"))
                return "value";
        if (json_get_string(src, "file"))
                return "file";
        for (size_t i = 0; i < ELEMENTSOF(stores); i++)
                if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(src, stores[i].kind)))
                        return stores[i].kind;
        return NULL;
}

bool fb_secret_source_elsewhere(const cJSON *src) {
        const char *k = fb_secret_source_kind(src);
        return k && !streq(k, "value");
}

char *fb_secret_source_describe(const cJSON *src) {
        /* The store's fields in the order they are documented; the first is its name. */
        static const char *const fields[] = {"secretId", "name",   "vaultUrl", "version",  "versionStage",
                                             "jsonKey",  "region", "clientId", "endpoint", NULL};
        const char *kind = fb_secret_source_kind(src);
        const cJSON *store;
        char *out = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = NULL;

        if (!kind)
                return strdup("none");
        if (streq(kind, "value"))
                return strdup("value (in the configuration)");
        if (streq(kind, "file"))
                return strdupf("file '%s'", json_get_string(src, "file"));
        store = cJSON_GetObjectItemCaseSensitive(src, kind);
        f = open_memstream(&out, &len);
        if (!f)
                return NULL;
        fputs(kind, f);
        /* "kind name 'x' (field v, field v)": the name first, then the rest in parentheses. */
        int n = 0;
        for (const char *const *k = fields; *k; k++) {
                const char *v = json_get_string(store, *k);
                if (!v)
                        continue;
                if (n == 0)
                        fprintf(f, " %s '%s'", *k, v);
                else
                        fprintf(f, "%s%s %s", n == 1 ? " (" : ", ", *k, v);
                n++;
        }
        if (n > 1)
                fputc(')', f);
        if (fclose(TAKE_PTR(f)) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static void strip_trailing_space(char *s) {
        for (size_t n = strlen(s); n > 0 && isspace((unsigned char) s[n - 1]);)
                s[--n] = 0;
}

static int read_store(struct fb_secret_context *ctx, const char *kind, const cJSON *store, char **ret,
                      struct error *why) {
        static const struct md_options defaults = {};
        struct md_secret_ref ref = {};
        struct md_secret_failure failure = {};
        _cleanup_erase_ char *value = NULL;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(stores); i++)
                if (streq(kind, stores[i].kind))
                        ref.store = stores[i].store;
        switch (ref.store) {
        case MD_SECRET_AWS_SECRETS_MANAGER:
                ref.name = json_get_string(store, "secretId");
                ref.version = json_get_string(store, "versionStage");
                ref.json_key = json_get_string(store, "jsonKey");
                break;
        case MD_SECRET_AZURE_KEY_VAULT:
                ref.name = json_get_string(store, "name");
                ref.version = json_get_string(store, "version");
                ref.client_id = json_get_string(store, "clientId");
                break;
        default:
                ref.name = json_get_string(store, "name");
        }
        ref.region = json_get_string(store, "region");
        ref.endpoint =
                json_get_string(store, ref.store == MD_SECRET_AZURE_KEY_VAULT ? "vaultUrl" : "endpoint");
        if (!ctx->session &&
            (r = md_secret_session_new(ctx->md ?: &defaults, ctx->datasource, &ctx->session)) < 0)
                return r;
        r = md_secret_fetch(ctx->session, &ref, &value, &len, &failure);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(why, r, "%s%s",
                                 failure.identity ? "the instance's identity failed: "
                                 : r == -ENOENT   ? "not found: "
                                                  : "",
                                 failure.message);
        if (memchr(value, 0, len))
                return error_set(why, -EBADMSG, "the value holds a NUL byte");
        *ret = TAKE_PTR(value);
        return 0;
}

int fb_secret_read(struct fb_secret_context *ctx, const char *root, const char *name, const cJSON *src,
                   char **ret, struct error *why) {
        const char *kind = fb_secret_source_kind(src);
        _cleanup_free_ char *where = fb_secret_source_describe(src);
        _cleanup_erase_ char *value = NULL;
        int r;

        if (!where)
                return -ENOMEM;
        if (!kind)
                return error_set(why, -ENOENT, "FirstbootConfiguration.%s: no source",
                                 strempty(fb_secret_path(name)));
        if (streq(kind, "value")) {
                value = strdup(json_get_string(src, "value"));
                if (!value)
                        return -ENOMEM;
        } else if (streq(kind, "file")) {
                const char *path = json_get_string(src, "file");
                r = read_file(root, path, SECRET_FILE_MAX, &value, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_set(why, r, "FirstbootConfiguration.%s: file '%s' cannot be read: %s",
                                         strempty(fb_secret_path(name)), path,
                                         r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
        } else {
                r = read_store(ctx, kind, cJSON_GetObjectItemCaseSensitive(src, kind), &value, why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_wrap(why, r, "FirstbootConfiguration.%s from %s",
                                          strempty(fb_secret_path(name)), where);
        }
        strip_trailing_space(value);
        *ret = TAKE_PTR(value);
        return 0;
}

int fb_secret_fingerprint(const char *value, char ret[FB_SECRET_FINGERPRINT_MAX]) {
        unsigned char md[32];
        unsigned md_len = 0;
        size_t n = strlen(value);
        while (n > 0 && isspace((unsigned char) value[n - 1]))
                n--; /* as the secret is read: a PEM's final newline is no part of what is compared */
        if (!EVP_Digest(value, n, md, &md_len, EVP_sha256(), NULL) || md_len != 32) {
                ERR_clear_error();
                return -EIO;
        }
        memcpy(ret, "sha256:", 7);
        for (size_t i = 0; i < 32; i++)
                snprintf(ret + 7 + 2 * i, 3, "%02x", md[i]);
        return 0;
}
