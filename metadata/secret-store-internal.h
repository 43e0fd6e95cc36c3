/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to metadata/secret-store*.c: the session and the helpers the three clouds share. */
#pragma once

#include "common/http.h"
#include "metadata/secret-store.h"
#include "metadata/source.h"

struct md_secret_session {
        const struct md_options *o;
        const char *datasource;
        struct md_options imds; /* *o, with its failures written to imds_error */
        char imds_error[MD_ERROR_MAX];

        /* AWS: the IMDSv2 session, the role's temporary credentials, the identity document's region */
        struct md_ec2_session ec2;
        char *aws_role, *aws_key_id, *aws_secret, *aws_token, *aws_region; /* key, secret, token: wiped */
        /* GCP: the default service account's access token (wiped) */
        char *gcp_token;
        /* Azure: the managed identity's token (wiped) for the resource and client id it was asked for */
        char *azure_token, *azure_resource, *azure_client_id;
};

/* The base URL of the cloud's metadata service: o->endpoint when the datasource in use is `datasource`,
 * else the link-local one. Caller frees. */
char *md_secret_imds_base(const struct md_secret_session *s, const char *datasource);

/* Records the failure (identity or secret) in why, logs it at debug level, returns -|r|. */
int md_secret_fail(struct md_secret_failure *why, bool identity, int r, const char *fmt, ...) _printf_(4, 5);
/* The same for a metadata request that failed with r: its words from s->imds_error. */
int md_secret_imds_fail(struct md_secret_session *s, struct md_secret_failure *why, int r, const char *what);

/* One request to a store: the store's timeout, MD_SECRET_MAX_BODY, retries with backoff on 429 and 5xx.
 * A transport failure is recorded in why (not the identity's). Any status is a success here. */
int md_secret_http(struct md_secret_session *s, const char *method, const char *url,
                   const char *const *headers, const char *body, const char *bearer,
                   struct http_response **ret, struct md_secret_failure *why);

/* The service's words from an error answer, printable and cut to a line, for messages; "" when none. */
void md_secret_excerpt(const char *text, char *buf, size_t size);

/* Percent-encodes every byte but RFC 3986's unreserved ones. Caller frees. */
char *md_url_encode(const char *s);

/* The part of a URL after the scheme up to the path: "host[:port]"; NULL when it is no http(s) URL. */
char *md_url_host(const char *url);

/* What a status left after the retries means: -EBUSY for 429, -EIO for 5xx, 0 for any other. */
int md_secret_status_errno(long status);

int md_secret_fetch_aws(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                        size_t *ret_len, struct md_secret_failure *why);
int md_secret_fetch_gcp(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                        size_t *ret_len, struct md_secret_failure *why);
int md_secret_fetch_azure(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                          size_t *ret_len, struct md_secret_failure *why);
