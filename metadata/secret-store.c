/* SPDX-License-Identifier: Apache-2.0 */
/* The secret-store session and what the three clouds' clients share. See secret-store.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/secret-store-internal.h"

#define STORE_TIMEOUT_MS  10000u
#define STORE_RETRIES     3u
#define STORE_BACKOFF_MS  250u
#define STORE_BACKOFF_MAX 4000u

int md_secret_session_new(const struct md_options *o, const char *datasource,
                          struct md_secret_session **ret) {
        struct md_secret_session *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->o = o;
        s->datasource = datasource;
        s->imds = *o;
        s->imds.error = s->imds_error;
        *ret = s;
        return 0;
}

struct md_secret_session *md_secret_session_free(struct md_secret_session *s) {
        if (!s)
                return NULL;
        md_ec2_session_done(&s->ec2);
        free(s->aws_role);
        erase_and_free(s->aws_key_id);
        erase_and_free(s->aws_secret);
        erase_and_free(s->aws_token);
        free(s->aws_region);
        erase_and_free(s->gcp_token);
        erase_and_free(s->azure_token);
        free(s->azure_resource);
        free(s->azure_client_id);
        free(s);
        return NULL;
}

const char *md_secret_store_name(enum md_secret_store store) {
        switch (store) {
        case MD_SECRET_AWS_SECRETS_MANAGER:
                return "awsSecretsManager";
        case MD_SECRET_AWS_SSM_PARAMETER:
                return "awsSsmParameter";
        case MD_SECRET_GCP_SECRET_MANAGER:
                return "gcpSecretManager";
        case MD_SECRET_AZURE_KEY_VAULT:
                return "azureKeyVault";
        }
        return "?";
}

int md_secret_fetch(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                    size_t *ret_len, struct md_secret_failure *why) {
        struct md_secret_failure ignored;
        if (!why)
                why = &ignored;
        *why = (struct md_secret_failure){};
        if (isempty(ref->name))
                return md_secret_fail(why, false, EINVAL, "no secret named");
        switch (ref->store) {
        case MD_SECRET_AWS_SECRETS_MANAGER:
        case MD_SECRET_AWS_SSM_PARAMETER:
                return md_secret_fetch_aws(s, ref, ret, ret_len, why);
        case MD_SECRET_GCP_SECRET_MANAGER:
                return md_secret_fetch_gcp(s, ref, ret, ret_len, why);
        case MD_SECRET_AZURE_KEY_VAULT:
                return md_secret_fetch_azure(s, ref, ret, ret_len, why);
        }
        return md_secret_fail(why, false, EINVAL, "unknown secret store");
}

char *md_secret_imds_base(const struct md_secret_session *s, const char *datasource) {
        struct md_options o = {.endpoint = streq_ptr(s->datasource, datasource) ? s->o->endpoint : NULL};
        return md_base_url(&o, MD_LINK_LOCAL_URL);
}

int md_secret_fail(struct md_secret_failure *why, bool identity, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(why->message, sizeof(why->message), fmt, ap);
        va_end(ap);
        why->identity = identity;
        return log_debug_errno(r, "Secret store: %s%s", identity ? "identity: " : "", why->message);
}

int md_secret_imds_fail(struct md_secret_session *s, struct md_secret_failure *why, int r,
                        const char *what) {
        int e = r < 0 ? -r : r;
        if (r == -ENOMEM)
                return r;
        if (s->imds_error[0])
                r = md_secret_fail(why, true, e, "%s: %s", what, s->imds_error);
        else
                r = md_secret_fail(why, true, e, "%s: %s", what, strerror(e));
        s->imds_error[0] = 0;
        return r;
}

int md_secret_status_errno(long status) {
        if (status == 429)
                return -EBUSY;
        if (status >= 500 && status <= 599)
                return -EIO;
        return 0;
}

int md_secret_http(struct md_secret_session *s, const char *method, const char *url,
                   const char *const *headers, const char *body, const char *bearer,
                   struct http_response **ret, struct md_secret_failure *why) {
        char error[HTTP_ERROR_MAX] = "";
        unsigned t = s->o->timeout_ms ?: STORE_TIMEOUT_MS;
        struct http_request req = {
                .method = method,
                .url = url,
                .headers = headers,
                .body = body,
                .body_len = body ? strlen(body) : 0,
                .bearer_token = bearer,
                .timeout_ms = t,
                .max_body = MD_SECRET_MAX_BODY,
                .retries = s->o->retries ?: STORE_RETRIES,
                .backoff_ms = STORE_BACKOFF_MS,
                .backoff_max_ms = STORE_BACKOFF_MAX,
                .error = error,
        };
        int r = http_request(&req, ret);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return md_secret_fail(why, false, EFBIG,
                                      "%s %s: the answer is larger than %u KiB, the limit", method, url,
                                      MD_SECRET_MAX_BODY / 1024u);
        if (r == -ETIMEDOUT)
                return md_secret_fail(why, false, ETIMEDOUT, "%s %s: no answer within %u ms (%u attempts)",
                                      method, url, t, req.retries + 1);
        if (r < 0)
                return md_secret_fail(why, false, -r, "%s %s: %s", method, url,
                                      error[0] ? error : strerror(-r));
        log_debug("%s %s: HTTP %ld after %u attempt%s", method, url, (*ret)->status, (*ret)->attempts,
                  (*ret)->attempts == 1 ? "" : "s");
        return 0;
}

void md_secret_excerpt(const char *text, char *buf, size_t size) {
        size_t n = 0;
        if (!size)
                return;
        for (const char *p = text; p && *p && n + 4 < size && n < 200; p++)
                buf[n++] = isprint((unsigned char) *p) ? *p : ' ';
        if (text && strlen(text) > n && n + 4 < size) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = 0;
}

char *md_url_encode(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;
        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
                        *o++ = (char) *p;
                else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = 0;
        return out;
}

char *md_url_host(const char *url) {
        const char *h = startswith(url, "https://") ?: startswith(url, "http://");
        if (!h || !*h)
                return NULL;
        size_t n = strcspn(h, "/?#");
        if (n == 0 || memchr(h, '@', n))
                return NULL;
        return strndup(h, n);
}

unsigned md_crc32c(unsigned crc, const void *p, size_t len) {
        const unsigned char *b = p;
        crc = ~crc;
        for (size_t i = 0; i < len; i++) {
                crc ^= b[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        }
        return ~crc;
}
