/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GCP Secret Manager through the instance's default service account: its access token from the metadata
 * server (computeMetadata/v1/instance/service-accounts/default/token, Metadata-Flavor: Google), then
 * GET <endpoint>/v1/<name>:access with it as a bearer token. The payload is base64 (payload.data); its
 * CRC32C (payload.dataCrc32c) is checked when the answer carries one. A name without /versions/ means the
 * latest version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/secret-store-internal.h"

#define DEFAULT_ENDPOINT "https://secretmanager.googleapis.com"

static int gcp_token(struct md_secret_session *s, struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        _cleanup_free_ char *base = NULL, *url = NULL;
        const char *const headers[] = {MD_GCE_HEADER, NULL};
        int r;

        if (s->gcp_token)
                return 0;
        base = md_secret_imds_base(s, "gce");
        url = base ? strdupf("%s/computeMetadata/v1/instance/service-accounts/default/token", base) : NULL;
        if (!url)
                return -ENOMEM;
        r = md_http(&s->imds, "GET", url, headers, s->o->retries ?: 5, &resp);
        if (r < 0)
                return md_secret_imds_fail(s, why, r,
                                           "the service account's token from the metadata server");
        if (resp->status == 404)
                return md_secret_fail(
                        why, true, ENOENT,
                        "the instance has no service account (GET %s answered 404): create the instance with one that may access the secret",
                        url);
        if (resp->status != 200)
                return md_secret_fail(why, true, md_secret_status_errno(resp->status) ?: -EPROTO,
                                      "GET %s answered HTTP %ld", url, resp->status);
        r = json_parse(resp->body, resp->body_len, MD_META_MAX, &j, NULL);
        if (r == -ENOMEM)
                return r;
        const char *tok = json_get_string(j, "access_token");
        if (r < 0 || isempty(tok))
                return md_secret_fail(why, true, EBADMSG, "GET %s: the answer holds no access_token", url);
        s->gcp_token = strdup(tok);
        return s->gcp_token ? 0 : -ENOMEM;
}

static bool valid_name(const char *n) {
        if (!startswith(n, "projects/") || !strstr(n, "/secrets/"))
                return false;
        for (const char *p = n; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("-_./", *p)))
                        return false;
        return !strstr(n, "..");
}

static int gcp_payload(const char *url, const struct http_response *resp, char **ret, size_t *ret_len,
                       struct md_secret_failure *why) {
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        char *out = NULL;
        size_t n;
        int r = json_parse(resp->body, resp->body_len, MD_SECRET_MAX_BODY, &j, NULL);
        if (r == -ENOMEM)
                return r;
        const char *data = json_get_string(j, "payload.data");
        if (r < 0 || !data)
                return md_secret_fail(why, false, EBADMSG, "GET %s: the answer has no payload.data", url);
        r = md_base64_decode(data, strlen(data), false, &out, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return md_secret_fail(why, false, EBADMSG, "GET %s: payload.data is not base64", url);
        const char *crc = json_get_scalar_text(j, "payload.dataCrc32c");
        uint64_t want;
        if (crc && (safe_atou64(crc, &want) < 0 || want != md_crc32c(0, out, n))) {
                erase_and_free(out);
                return md_secret_fail(
                        why, false, EBADMSG,
                        "GET %s: the payload does not match its dataCrc32c (damaged on the way)", url);
        }
        if (memchr(out, 0, n)) {
                erase_and_free(out);
                return md_secret_fail(why, false, EBADMSG, "GET %s: the payload is not text", url);
        }
        *ret = out;
        *ret_len = n;
        return 0;
}

int md_secret_fetch_gcp(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                        size_t *ret_len, struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_free_ char *url = NULL;
        struct md_options ep = {.endpoint = ref->endpoint};
        char msg[256];
        int r;

        if (!valid_name(ref->name))
                return md_secret_fail(
                        why, false, EINVAL,
                        "'%.200s' is not a secret's resource name (projects/P/secrets/S[/versions/V])",
                        ref->name);
        _cleanup_free_ char *base = md_base_url(&ep, DEFAULT_ENDPOINT);
        if (!base)
                return -ENOMEM;
        url = strdupf("%s/v1/%s%s:access", base, ref->name,
                      strstr(ref->name, "/versions/") ? "" : "/versions/latest");
        if (!url)
                return -ENOMEM;
        if ((r = gcp_token(s, why)) < 0)
                return r;
        r = md_secret_http(s, "GET", url, NULL, NULL, s->gcp_token, &resp, why);
        if (r < 0)
                return r;
        if (resp->status == 200)
                return gcp_payload(url, resp, ret, ret_len, why);
        (void) json_parse(resp->body, resp->body_len, MD_SECRET_MAX_BODY, &j, NULL);
        md_secret_excerpt(json_get_string(j, "error.message"), msg, sizeof(msg));
        const char *status = json_get_string(j, "error.status") ?: "";
#define FAIL(identity, e, what)                                                                             \
        md_secret_fail(why, identity, e, "GET %s answered HTTP %ld %s%s%s: %s", url, resp->status, status,  \
                       msg[0] ? " " : "", msg, what)
        if (resp->status == 404)
                return FAIL(false, ENOENT, "the secret or version does not exist");
        if (resp->status == 400 && streq(status, "FAILED_PRECONDITION"))
                return FAIL(false, ENOENT, "the version is disabled or destroyed");
        if (resp->status == 403)
                return FAIL(
                        true, EPERM,
                        "the service account may not access the secret (roles/secretmanager.secretAccessor), or the API is not enabled");
        if (resp->status == 401)
                return FAIL(true, EACCES, "the access token was refused");
        if ((r = md_secret_status_errno(resp->status)) < 0)
                return FAIL(false, -r,
                            resp->status == 429 ? "throttled, still after the retries"
                                                : "the service failed, still after the retries");
        return FAIL(false, EBADMSG, "an answer this client does not know");
#undef FAIL
}
