/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Secrets Manager (GetSecretValue) and SSM Parameter Store (GetParameter with decryption) through the
 * instance role. The role's temporary credentials come from IMDSv2 (meta-data/iam/security-credentials/,
 * then
 * .../<role>: AccessKeyId, SecretAccessKey, Token); the region from the instance identity document unless
 * the reference names one. Requests use the JSON 1.1 protocol (POST /, X-Amz-Target) signed with Signature
 * Version 4, the session token sent as X-Amz-Security-Token and signed with the rest.
 *
 * Errors come back as 400s with {"__type": "...Exception", "message": "..."}: ThrottlingException is retried
 * with backoff like a 429, ExpiredTokenException once with the credentials read again (IMDS rotates them
 * before they expire); the rest say whether the identity (access denied, an unknown or invalid key or
 * signature, a key the role may not decrypt with) or the secret (not found) failed.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/secret-store-internal.h"

#define THROTTLE_RETRIES 3u

/* ---- Signature Version 4 ---- */

static int sha256_hex(const void *p, size_t n, char ret[65]) {
        unsigned char md[32];
        unsigned md_len = 0;
        if (!EVP_Digest(p, n, md, &md_len, EVP_sha256(), NULL) || md_len != 32) {
                ERR_clear_error();
                return -EIO;
        }
        for (size_t i = 0; i < 32; i++)
                snprintf(ret + 2 * i, 3, "%02x", md[i]);
        return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char out[32]) {
        _cleanup_(EVP_MAC_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        size_t out_len = 0;

        if (!mac || !(ctx = EVP_MAC_CTX_new(mac)) || !EVP_MAC_init(ctx, key, key_len, params) ||
            !EVP_MAC_update(ctx, data, len) || !EVP_MAC_final(ctx, out, &out_len, 32) || out_len != 32) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

struct header {
        char *name; /* lower-case */
        char *value;
};

static int header_cmp(const void *a, const void *b) {
        return strcmp(((const struct header *) a)->name, ((const struct header *) b)->name);
}

static void headers_free(struct header *h, size_t n) {
        for (size_t i = 0; h && i < n; i++) {
                free(h[i].name);
                erase_and_free(h[i].value); /* the session token is one of them */
        }
        free(h);
}

/* "Name:  a   b " -> {"name", "a b"}: lower-case name, value trimmed with inner runs of spaces collapsed. */
static int header_parse(const char *line, struct header *ret) {
        const char *colon = strchr(line, ':');
        if (!colon || colon == line)
                return -EINVAL;
        char *name = strndup(line, (size_t) (colon - line)), *value = malloc(strlen(colon) + 1), *o = value;
        if (!name || !value) {
                free(name);
                free(value);
                return -ENOMEM;
        }
        for (char *p = name; *p; p++)
                *p = (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        for (const char *p = colon + 1; *p; p++) {
                if (*p == ' ' || *p == '\t') {
                        if (o != value && o[-1] != ' ')
                                *o++ = ' ';
                        continue;
                }
                *o++ = *p;
        }
        while (o != value && o[-1] == ' ')
                o--;
        *o = 0;
        *ret = (struct header){name, value};
        return 0;
}

/* The path with every byte but the unreserved ones and '/' percent-encoded (AWS's rule for all services but
 * S3). */
static char *canonical_path(const char *path) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(path) * 3 + 2), *o = out;
        if (!out)
                return NULL;
        if (path[0] != '/')
                *o++ = '/';
        for (const unsigned char *p = (const unsigned char *) path; *p; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    strchr("-_.~/", *p))
                        *o++ = (char) *p;
                else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        *o = 0;
        return out;
}

int md_sigv4_authorization(const struct md_sigv4_key *k, const char *method, const char *path,
                           const char *query, const char *const *headers, const void *body, size_t body_len,
                           char **ret) {
        _cleanup_free_ char *cpath = NULL, *signed_list = NULL;
        _cleanup_erase_ char *creq = NULL, *secret = NULL;
        _cleanup_free_ char *sts = NULL;
        struct header *h = NULL;
        size_t n = 0, len = 0;
        char payload_hash[65], creq_hash[65], date[9];
        unsigned char key[32], sig[32];
        int r;

        if (!k->amz_date || strlen(k->amz_date) != 16 || k->amz_date[8] != 'T' || isempty(k->region) ||
            isempty(k->service) || isempty(k->access_key_id) || isempty(k->secret_access_key))
                return -EINVAL;
        memcpy(date, k->amz_date, 8);
        date[8] = 0;
        for (const char *const *l = headers; l && *l; l++)
                n++;
        h = calloc(n + 1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if ((r = header_parse(headers[i], &h[i])) < 0) {
                        headers_free(h, n);
                        return r;
                }
        qsort_safe(h, n, sizeof(*h), header_cmp);
        for (size_t i = 0; i < n; i++)
                len += strlen(h[i].name) + strlen(h[i].value) + 3;
        signed_list = calloc(1, len + 1);
        _cleanup_erase_ char *canon = calloc(1, len + 1);
        cpath = canonical_path(path ?: "/");
        if (!signed_list || !canon || !cpath) {
                headers_free(h, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                strcat(canon, h[i].name);
                strcat(canon, ":");
                strcat(canon, h[i].value);
                strcat(canon, "\n");
                if (i)
                        strcat(signed_list, ";");
                strcat(signed_list, h[i].name);
        }
        headers_free(h, n);
        if ((r = sha256_hex(body ?: "", body ? body_len : 0, payload_hash)) < 0)
                return r;
        creq = strdupf("%s\n%s\n%s\n%s\n%s\n%s", method, cpath, strempty(query), canon, signed_list,
                       payload_hash);
        if (!creq)
                return -ENOMEM;
        log_debug("SigV4 canonical request without header values: %s %s ?%s [%s] %s", method, cpath,
                  strempty(query), signed_list, payload_hash);
        if ((r = sha256_hex(creq, strlen(creq), creq_hash)) < 0)
                return r;
        sts = strdupf("AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", k->amz_date, date, k->region,
                      k->service, creq_hash);
        secret = strdupf("AWS4%s", k->secret_access_key);
        if (!sts || !secret)
                return -ENOMEM;
        r = hmac_sha256(secret, strlen(secret), date, strlen(date), key);
        if (r >= 0)
                r = hmac_sha256(key, 32, k->region, strlen(k->region), key);
        if (r >= 0)
                r = hmac_sha256(key, 32, k->service, strlen(k->service), key);
        if (r >= 0)
                r = hmac_sha256(key, 32, "aws4_request", 12, key);
        if (r >= 0)
                r = hmac_sha256(key, 32, sts, strlen(sts), sig);
        OPENSSL_cleanse(key, sizeof(key));
        if (r < 0)
                return r;
        _cleanup_free_ char *sig_hex = hex_encode(sig, sizeof(sig));
        if (!sig_hex)
                return -ENOMEM;
        *ret = strdupf(
                "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                k->access_key_id, date, k->region, k->service, signed_list, sig_hex);
        return *ret ? 0 : -ENOMEM;
}

/* ---- the instance role ---- */

static int imds_open(struct md_secret_session *s, struct md_secret_failure *why) {
        int r;
        if (s->ec2.base)
                return 0;
        s->ec2.o = &s->imds;
        s->ec2.base = md_secret_imds_base(s, "ec2");
        if (!s->ec2.base)
                return -ENOMEM;
        r = md_ec2_session_token(&s->ec2);
        if (r == -ENXIO)
                return md_secret_fail(
                        why, true, ENXIO,
                        "the instance metadata service at %s is turned off (403 on the token request)",
                        s->ec2.base);
        if (r < 0) {
                r = md_secret_imds_fail(s, why, r, "the instance metadata service (IMDSv2)");
                free(s->ec2.base);
                s->ec2.base = NULL;
        }
        return r;
}

/* GET an IMDS path: 0 with the 200 answer, or the failure (identity) with the status in words. */
static int imds_get(struct md_secret_session *s, const char *path, const char *what, bool *ret_missing,
                    struct http_response **ret, struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        int r = md_ec2_session_get(&s->ec2, path, &resp);
        if (r < 0) {
                _cleanup_free_ char *w = strdupf("%s (GET %s/%s)", what, s->ec2.base, path);
                (void) md_secret_imds_fail(s, why, r, w ?: what);
                return r;
        }
        if (!resp) /* md_ec2_session_get() sets it on success; said for gcc's analyzer, which cannot see that
                    */
                return -EIO;
        if (resp->status == 404 && ret_missing) {
                *ret_missing = true;
                *ret = TAKE_PTR(resp);
                return 0;
        }
        if (resp->status != 200) {
                r = md_secret_status_errno(resp->status);
                if (r >= 0)
                        r = -EPROTO;
                (void) md_secret_fail(why, true, r, "%s: GET %s/%s answered HTTP %ld", what, s->ec2.base,
                                      path, resp->status);
                return r;
        }
        *ret = TAKE_PTR(resp);
        return 0;
}

static void drop_credentials(struct md_secret_session *s) {
        s->aws_key_id = erase_and_free(s->aws_key_id);
        s->aws_secret = erase_and_free(s->aws_secret);
        s->aws_token = erase_and_free(s->aws_token);
}

static int aws_credentials(struct md_secret_session *s, struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *list = NULL, *resp = NULL;
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        _cleanup_free_ char *path = NULL;
        bool missing = false;
        int r;

        if (s->aws_key_id)
                return 0;
        if ((r = imds_open(s, why)) < 0)
                return r;
        if (!s->aws_role) {
                r = imds_get(s, "latest/meta-data/iam/security-credentials/", "the instance's IAM role",
                             &missing, &list, why);
                if (r < 0)
                        return r;
                size_t n = missing ? 0 : strcspn(strstrip(list->body), "\r\n");
                if (n == 0)
                        return md_secret_fail(
                                why, true, ENOENT,
                                "the instance has no IAM role (GET %s/latest/meta-data/iam/security-credentials/ answered %s): attach an instance profile whose role may read the secret",
                                s->ec2.base, missing ? "404" : "no role");
                s->aws_role = strndup(list->body, n);
                if (!s->aws_role)
                        return -ENOMEM;
        }
        path = strdupf("latest/meta-data/iam/security-credentials/%s", s->aws_role);
        if (!path)
                return -ENOMEM;
        r = imds_get(s, path, "the IAM role's credentials", NULL, &resp, why);
        if (r < 0)
                return r;
        r = json_parse(resp->body, resp->body_len, MD_META_MAX, &j, NULL);
        if (r == -ENOMEM)
                return r;
        const char *code = json_get_string(j, "Code"), *key = json_get_string(j, "AccessKeyId"),
                   *secret = json_get_string(j, "SecretAccessKey"), *token = json_get_string(j, "Token");
        if (r < 0)
                return md_secret_fail(why, true, EBADMSG,
                                      "the credentials of role '%s' from %s/%s are not JSON", s->aws_role,
                                      s->ec2.base, path);
        if (code && !streq(code, "Success"))
                return md_secret_fail(
                        why, true, EACCES,
                        "the IMDS has no credentials for role '%s' (Code '%.64s'): check the instance profile's role and its trust policy",
                        s->aws_role, code);
        if (isempty(key) || isempty(secret) || isempty(token))
                return md_secret_fail(
                        why, true, EBADMSG,
                        "the credentials of role '%s' from %s/%s lack AccessKeyId, SecretAccessKey or Token",
                        s->aws_role, s->ec2.base, path);
        s->aws_key_id = strdup(key);
        s->aws_secret = strdup(secret);
        s->aws_token = strdup(token);
        if (!s->aws_key_id || !s->aws_secret || !s->aws_token) {
                drop_credentials(s);
                return -ENOMEM;
        }
        log_debug("AWS credentials of role '%s' read from the IMDS (expiring %s)", s->aws_role,
                  strempty(json_get_string(j, "Expiration")));
        return 0;
}

static int aws_region(struct md_secret_session *s, const struct md_secret_ref *ref, const char **ret,
                      struct md_secret_failure *why) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        int r;

        if (ref->region) {
                *ret = ref->region;
                return 0;
        }
        if (!s->aws_region) {
                if ((r = imds_open(s, why)) < 0)
                        return r;
                r = imds_get(s, "latest/dynamic/instance-identity/document",
                             "the instance identity document", NULL, &resp, why);
                if (r < 0)
                        return r;
                r = json_parse(resp->body, resp->body_len, MD_META_MAX, &j, NULL);
                if (r == -ENOMEM)
                        return r;
                const char *region = json_get_string(j, "region");
                if (r < 0 || isempty(region))
                        return md_secret_fail(
                                why, true, EBADMSG,
                                "the instance identity document from %s names no region: give one",
                                s->ec2.base);
                s->aws_region = strdup(region);
                if (!s->aws_region)
                        return -ENOMEM;
        }
        *ret = s->aws_region;
        return 0;
}

/* ---- the request ---- */

struct aws_call {
        const char *service, *target;
        char *url, *host, *path; /* owned */
        char *body;              /* owned: the request, no secret in it */
};

static void aws_call_done(struct aws_call *c) {
        free(c->url);
        free(c->host);
        free(c->path);
        free(c->body);
}

static bool valid_region(const char *r) {
        if (isempty(r) || strlen(r) > 32)
                return false;
        for (const char *p = r; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

static int aws_call_init(struct aws_call *c, const struct md_secret_ref *ref, const char *region,
                         struct md_secret_failure *why) {
        bool sm = ref->store == MD_SECRET_AWS_SECRETS_MANAGER;
        struct json_builder b = {};
        cJSON *req = jb_object(&b);

        c->service = sm ? "secretsmanager" : "ssm";
        c->target = sm ? "secretsmanager.GetSecretValue" : "AmazonSSM.GetParameter";
        if (!valid_region(region))
                return md_secret_fail(why, false, EINVAL, "'%.64s' is not an AWS region", region);
        if (ref->endpoint) {
                c->host = md_url_host(ref->endpoint);
                if (!c->host)
                        return md_secret_fail(why, false, EINVAL, "endpoint '%s' is not an http(s) URL",
                                              ref->endpoint);
                const char *p = strstr(ref->endpoint, "://") + 3 + strlen(c->host);
                size_t upto = (size_t) (p - ref->endpoint);
                if (*p == '/') {
                        c->path = strndup(p, strcspn(p, "?#"));
                        c->url = c->path ? strndup(ref->endpoint, upto + strlen(c->path)) : NULL;
                } else {
                        c->path = strdup("/");
                        c->url = strdupf("%.*s/", (int) upto, ref->endpoint);
                }
        } else {
                /* China's regions are a partition of their own, with its own domain. */
                const char *domain = startswith(region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
                c->host = strdupf("%s.%s.%s", c->service, region, domain);
                c->path = strdup("/");
                c->url = c->host ? strdupf("https://%s/", c->host) : NULL;
        }
        if (sm) {
                jb_str(&b, req, "SecretId", ref->name);
                jb_str(&b, req, "VersionStage", ref->version ?: "AWSCURRENT");
        } else {
                jb_str(&b, req, "Name", ref->name);
                jb_bool(&b, req, "WithDecryption", true);
        }
        req = jb_result(&b, req);
        c->body = req ? cJSON_PrintUnformatted(req) : NULL;
        cJSON_Delete(req);
        if (!c->host || !c->path || !c->url || !c->body)
                return -ENOMEM;
        return 0;
}

/* The signed request sent once; *ret the answer. */
static int aws_send(struct md_secret_session *s, const struct aws_call *c, const char *region,
                    struct http_response **ret, struct md_secret_failure *why) {
        char amz_date[17];
        time_t now = time(NULL);
        struct tm tm;
        int r;

        if (!gmtime_r(&now, &tm) || strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16)
                return -EIO;
        _cleanup_free_ char *h_host = strdupf("Host: %s", c->host),
                            *h_date = strdupf("X-Amz-Date: %s", amz_date),
                            *h_target = strdupf("X-Amz-Target: %s", c->target);
        _cleanup_erase_ char *h_token = strdupf("X-Amz-Security-Token: %s", s->aws_token), *auth = NULL,
                             *h_auth = NULL;
        if (!h_host || !h_date || !h_target || !h_token)
                return -ENOMEM;
        const char *signed_headers[] = {
                "Content-Type: application/x-amz-json-1.1", h_host, h_date, h_token, h_target, NULL};
        struct md_sigv4_key key = {.access_key_id = s->aws_key_id,
                                   .secret_access_key = s->aws_secret,
                                   .region = region,
                                   .service = c->service,
                                   .amz_date = amz_date};
        r = md_sigv4_authorization(&key, "POST", c->path, "", signed_headers, c->body, strlen(c->body),
                                   &auth);
        if (r < 0)
                return r;
        h_auth = strdupf("Authorization: %s", auth);
        if (!h_auth)
                return -ENOMEM;
        const char *headers[] = {signed_headers[0], h_host, h_date, h_token, h_target, h_auth, NULL};
        return md_secret_http(s, "POST", c->url, headers, c->body, NULL, ret, why);
}

/* The error's type without its namespace ("com.amazonaws...#X") or the header's trailing ":url". */
static void error_type(const struct http_response *resp, const cJSON *j, char *buf, size_t size) {
        _cleanup_free_ char *hdr = http_response_header(resp, "x-amzn-ErrorType");
        const char *t = json_get_string(j, "__type") ?: json_get_string(j, "code") ?: hdr;
        if (!t) {
                buf[0] = 0;
                return;
        }
        if (strchr(t, '#'))
                t = strrchr(t, '#') + 1;
        snprintf(buf, size, "%.*s", (int) strcspn(t, ":"), t);
}

static bool type_in(const char *type, const char *const *list) {
        for (; *list; list++)
                if (streq(type, *list))
                        return true;
        return false;
}

enum aws_verdict {
        AWS_FAILED,    /* r says what */
        AWS_THROTTLED, /* retry after a backoff */
        AWS_EXPIRED,   /* retry once with the credentials read again */
};

/* A non-200 answer: which failure it is, in words. */
static enum aws_verdict aws_error(const struct aws_call *c, const struct http_response *resp,
                                  const char *region, int *ret_r, struct md_secret_failure *why) {
        static const char *const not_found[] = {"ResourceNotFoundException", "ParameterNotFound",
                                                "ParameterVersionNotFound", NULL};
        static const char *const denied[] = {
                "AccessDeniedException",    "AccessDenied",         "DecryptionFailure",
                "KMSAccessDeniedException", "KMSDisabledException", "KMSInvalidStateException",
                "KMSNotFoundException",     "InvalidKeyId",         NULL};
        static const char *const refused[] = {"UnrecognizedClientException",
                                              "InvalidSignatureException",
                                              "IncompleteSignatureException",
                                              "IncompleteSignature",
                                              "InvalidClientTokenId",
                                              "MissingAuthenticationTokenException",
                                              "SignatureDoesNotMatch",
                                              "MissingAuthenticationToken",
                                              NULL};
        static const char *const expired[] = {"ExpiredTokenException", "ExpiredToken", "RequestExpired",
                                              NULL};
        static const char *const throttled[] = {"ThrottlingException",      "Throttling",
                                                "TooManyRequestsException", "ThrottledException",
                                                "RequestLimitExceeded",     NULL};
        static const char *const unusable[] = {"InvalidRequestException", "InvalidParameterException", NULL};
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        char type[96], msg[256];
        int r;

        (void) json_parse(resp->body, resp->body_len, MD_SECRET_MAX_BODY, &j, NULL);
        error_type(resp, j, type, sizeof(type));
        md_secret_excerpt(json_get_string(j, "message") ?: json_get_string(j, "Message"), msg, sizeof(msg));
        if (type_in(type, throttled))
                return AWS_THROTTLED;
        if (type_in(type, expired))
                return AWS_EXPIRED;
#define FAIL(identity, e, fmt, ...)                                                                         \
        md_secret_fail(why, identity, e, "POST %s (%s, region %s) answered HTTP %ld %s%s%s: " fmt, c->url,  \
                       c->target, region, resp->status, type[0] ? type : "", msg[0] ? " " : "", msg,        \
                       ##__VA_ARGS__)
        if (type_in(type, not_found) || resp->status == 404)
                r = FAIL(false, ENOENT, "the secret does not exist there (name, region, or versionStage)");
        else if (type_in(type, unusable))
                r = FAIL(false, ENOENT, "the secret cannot be read as it is (deleted, or a bad name)");
        else if (type_in(type, denied) || resp->status == 403)
                r = FAIL(
                        true, EPERM,
                        "the instance role may not read the secret or decrypt it (its policy, the secret's resource policy, the KMS key policy)");
        else if (type_in(type, refused) || resp->status == 401)
                r = FAIL(true, EACCES, "the role's credentials or their signature were refused");
        else if ((r = md_secret_status_errno(resp->status)) < 0)
                r = FAIL(false, -r, "the service failed, still after %u attempts", resp->attempts);
        else
                r = FAIL(false, EBADMSG, "an answer this client does not know");
#undef FAIL
        *ret_r = r;
        return AWS_FAILED;
}

/* The value in a 200 answer: SecretString (or its jsonKey), SecretBinary, or Parameter.Value. */
static int aws_value(const struct aws_call *c, const struct md_secret_ref *ref,
                     const struct http_response *resp, char **ret, size_t *ret_len,
                     struct md_secret_failure *why) {
        _cleanup_(json_delete_wipedp) cJSON *j = NULL, *inner = NULL;
        const char *v;
        char *out = NULL;
        size_t n;
        int r;

        r = json_parse(resp->body, resp->body_len, MD_SECRET_MAX_BODY, &j, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return md_secret_fail(why, false, EBADMSG, "POST %s (%s): the answer is not JSON", c->url,
                                      c->target);
        if (ref->store == MD_SECRET_AWS_SSM_PARAMETER) {
                v = json_get_string(j, "Parameter.Value");
                if (!v)
                        return md_secret_fail(why, false, EBADMSG,
                                              "POST %s (%s): the answer has no Parameter.Value", c->url,
                                              c->target);
        } else if ((v = json_get_string(j, "SecretString"))) {
                if (ref->json_key) {
                        r = json_parse(v, strlen(v), MD_SECRET_MAX_BODY, &inner, NULL);
                        if (r == -ENOMEM)
                                return r;
                        const cJSON *e = cJSON_IsObject(inner)
                                                 ? cJSON_GetObjectItemCaseSensitive(inner, ref->json_key)
                                                 : NULL;
                        if (r < 0 || !cJSON_IsObject(inner))
                                return md_secret_fail(
                                        why, false, EBADMSG,
                                        "jsonKey '%s' given, but the secret's SecretString is no JSON object",
                                        ref->json_key);
                        v = json_scalar_text(e);
                        if (!v || cJSON_IsBool(e))
                                return md_secret_fail(why, false, ENOENT,
                                                      "the secret's JSON has no string under jsonKey '%s'",
                                                      ref->json_key);
                }
        } else if ((v = json_get_string(j, "SecretBinary"))) {
                if (ref->json_key)
                        return md_secret_fail(why, false, EBADMSG,
                                              "jsonKey '%s' given, but the secret is binary (SecretBinary)",
                                              ref->json_key);
                r = md_base64_decode(v, strlen(v), false, &out, &n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || memchr(out, 0, n)) {
                        erase_and_free(out);
                        return md_secret_fail(why, false, EBADMSG, "the secret's SecretBinary is not text");
                }
                *ret = out;
                *ret_len = n;
                return 0;
        } else
                return md_secret_fail(why, false, EBADMSG,
                                      "POST %s (%s): the answer has neither SecretString nor SecretBinary",
                                      c->url, c->target);
        out = strdup(v);
        if (!out)
                return -ENOMEM;
        *ret = out;
        *ret_len = strlen(out);
        return 0;
}

int md_secret_fetch_aws(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                        size_t *ret_len, struct md_secret_failure *why) {
        _cleanup_(aws_call_done) struct aws_call c = {};
        const char *region = NULL;
        bool renewed = false;
        int r;

        if ((r = aws_credentials(s, why)) < 0 || (r = aws_region(s, ref, &region, why)) < 0 ||
            (r = aws_call_init(&c, ref, region, why)) < 0)
                return r;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                r = aws_send(s, &c, region, &resp, why);
                if (r < 0)
                        return r;
                if (resp->status == 200)
                        return aws_value(&c, ref, resp, ret, ret_len, why);
                switch (aws_error(&c, resp, region, &r, why)) {
                case AWS_FAILED:
                        return r;
                case AWS_THROTTLED:
                        if (attempt >= THROTTLE_RETRIES)
                                return md_secret_fail(
                                        why, false, EBUSY,
                                        "POST %s (%s): throttled (ThrottlingException), still after %u attempts",
                                        c.url, c.target, attempt + 1);
                        clock_sleep_ms(clock_backoff_ms(250, 4000, attempt));
                        continue;
                case AWS_EXPIRED:
                        if (renewed)
                                return md_secret_fail(
                                        why, true, EKEYEXPIRED,
                                        "POST %s (%s): the role's credentials have expired, still after they were read again from the IMDS",
                                        c.url, c.target);
                        log_debug("The AWS credentials expired: reading them again");
                        drop_credentials(s);
                        renewed = true;
                        if ((r = aws_credentials(s, why)) < 0)
                                return r;
                        continue;
                }
        }
}
