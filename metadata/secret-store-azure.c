/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure Key Vault through the VM's managed identity: a token from IMDS
 * (/metadata/identity/oauth2/token?api-version=2018-02-01&resource=..., Metadata: true; client_id picks a
 * user-assigned identity) for the vault's resource (https://vault.azure.net, or the sovereign cloud's, from
 * the vault's host name), then GET <vaultUrl>/secrets/<name>[/<version>]?api-version=7.4 with it. IMDS
 * answers 404 while it updates and 429 when asked too often: both are retried, as Microsoft advises.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/secret-store-internal.h"

#define TOKEN_API_VERSION "2018-02-01"
#define VAULT_API_VERSION "7.4"

/* The token's audience: the vault's cloud, by the suffix of its host name. */
static const char *vault_resource(const char *host) {
        static const struct {
                const char *suffix, *resource;
        } clouds[] = {
                {".vault.azure.cn", "https://vault.azure.cn"},
                {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"},
                {".vault.microsoftazure.de", "https://vault.microsoftazure.de"},
                {".managedhsm.azure.net", "https://managedhsm.azure.net"},
        };
        _cleanup_free_ char *h = strndup(host, strcspn(host, ":"));
        for (size_t i = 0; h && i < ELEMENTSOF(clouds); i++)
                if (endswith(h, clouds[i].suffix))
                        return clouds[i].resource;
        return "https://vault.azure.net";
}

static int azure_token(struct md_secret_session *s, const char *resource, const char *client_id,
                       struct md_secret_failure *why) {
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        _cleanup_free_ char *base = NULL, *url = NULL, *res = md_url_encode(resource),
                            *cid = client_id ? md_url_encode(client_id) : NULL;
        const char *const headers[] = {MD_AZURE_HEADER, NULL};
        unsigned retries = s->o->retries ?: 3;
        char msg[256];
        int r;

        if (s->azure_token && streq_ptr(s->azure_resource, resource) &&
            streq_ptr(s->azure_client_id, client_id))
                return 0;
        base = md_secret_imds_base(s, "azure");
        if (!base || !res || (client_id && !cid))
                return -ENOMEM;
        url = strdupf("%s/metadata/identity/oauth2/token?api-version=" TOKEN_API_VERSION "&resource=%s%s%s",
                      base, res, cid ? "&client_id=" : "", strempty(cid));
        if (!url)
                return -ENOMEM;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                r = md_http(&s->imds, "GET", url, headers, retries, &resp);
                if (r < 0)
                        return md_secret_imds_fail(s, why, r, "the managed identity's token from IMDS");
                if ((resp->status == 404 || resp->status == 410) && attempt < retries) {
                        clock_sleep_ms(clock_backoff_ms(200, 2000, attempt));
                        continue;
                }
                if (resp->status != 200) {
                        (void) json_parse(resp->body, resp->body_len, MD_META_MAX, &j, NULL);
                        md_secret_excerpt(json_get_string(j, "error_description")
                                                  ?: json_get_string(j, "error"),
                                          msg, sizeof(msg));
                        if (resp->status == 400)
                                return md_secret_fail(
                                        why, true, ENOENT,
                                        "GET %s answered HTTP 400 %s: the VM has no managed identity%s%s%s (assign one that may get the secret)",
                                        url, msg, client_id ? " with client id '" : "", strempty(client_id),
                                        client_id ? "'" : "");
                        if (resp->status == 404 || resp->status == 410)
                                return md_secret_fail(why, true, EAGAIN,
                                                      "GET %s answered HTTP %ld %s: IMDS is still updating",
                                                      url, resp->status, msg);
                        return md_secret_fail(why, true,
                                              md_secret_status_errno(resp->status)
                                                      ?: (resp->status == 403 ? -EPERM : -EPROTO),
                                              "GET %s answered HTTP %ld %s", url, resp->status, msg);
                }
                r = json_parse(resp->body, resp->body_len, MD_META_MAX, &j, NULL);
                if (r == -ENOMEM)
                        return r;
                const char *tok = json_get_string(j, "access_token");
                if (r < 0 || isempty(tok))
                        return md_secret_fail(why, true, EBADMSG, "GET %s: the answer holds no access_token",
                                              url);
                s->azure_token = erase_and_free(s->azure_token);
                free(s->azure_resource);
                free(s->azure_client_id);
                s->azure_token = strdup(tok);
                s->azure_resource = strdup(resource);
                s->azure_client_id = client_id ? strdup(client_id) : NULL;
                if (!s->azure_token || !s->azure_resource || (client_id && !s->azure_client_id))
                        return -ENOMEM;
                return 0;
        }
}

static bool valid_part(const char *s) {
        if (isempty(s) || strlen(s) > 127)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-'))
                        return false;
        return true;
}

int md_secret_fetch_azure(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                          size_t *ret_len, struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        _cleanup_free_ char *host = NULL, *url = NULL, *vault = NULL;
        struct md_options ep = {.endpoint = ref->endpoint};
        char msg[256];
        int r;

        host = ref->endpoint ? md_url_host(ref->endpoint) : NULL;
        if (!host)
                return md_secret_fail(why, false, EINVAL, "vaultUrl '%s' is not an http(s) URL",
                                      strempty(ref->endpoint));
        if (!valid_part(ref->name) || (ref->version && !valid_part(ref->version)))
                return md_secret_fail(
                        why, false, EINVAL,
                        "'%.128s' is not a Key Vault secret name or version (letters, digits and '-')",
                        ref->version && valid_part(ref->name) ? ref->version : ref->name);
        vault = md_base_url(&ep, "");
        url = vault ? strdupf("%s/secrets/%s%s%s?api-version=" VAULT_API_VERSION, vault, ref->name,
                              ref->version ? "/" : "", strempty(ref->version))
                    : NULL;
        if (!url)
                return -ENOMEM;
        if ((r = azure_token(s, vault_resource(host), ref->client_id, why)) < 0)
                return r;
        r = md_secret_http(s, "GET", url, NULL, NULL, s->azure_token, &resp, why);
        if (r < 0)
                return r;
        r = json_parse(resp->body, resp->body_len, MD_SECRET_MAX_BODY, &j, NULL);
        if (r == -ENOMEM)
                return r;
        if (resp->status == 200) {
                const char *v = json_get_string(j, "value");
                if (!v)
                        return md_secret_fail(why, false, EBADMSG, "GET %s: the answer has no value", url);
                *ret = strdup(v);
                if (!*ret)
                        return -ENOMEM;
                *ret_len = strlen(*ret);
                return 0;
        }
        const char *code = json_get_string(j, "error.code") ?: "",
                   *inner = json_get_string(j, "error.innererror.code") ?: "";
        md_secret_excerpt(json_get_string(j, "error.message"), msg, sizeof(msg));
#define FAIL(identity, e, what)                                                                             \
        md_secret_fail(why, identity, e, "GET %s answered HTTP %ld %s%s%s: %s", url, resp->status, code,    \
                       msg[0] ? " " : "", msg, what)
        if (resp->status == 404)
                return FAIL(false, ENOENT, "the secret or version does not exist in this vault");
        if (resp->status == 403 && (streq(inner, "SecretDisabled") || streq(code, "SecretDisabled")))
                return FAIL(false, ENOENT, "the secret is disabled");
        if (resp->status == 403)
                return FAIL(
                        true, EPERM,
                        "the managed identity may not get the secret (the vault's access policy or its role, Key Vault Secrets User)");
        if (resp->status == 401)
                return FAIL(true, EACCES, "the managed identity's token was refused");
        if ((r = md_secret_status_errno(resp->status)) < 0)
                return FAIL(false, -r,
                            resp->status == 429 ? "throttled, still after the retries"
                                                : "the service failed, still after the retries");
        return FAIL(false, EBADMSG, "an answer this client does not know");
#undef FAIL
}
