/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets read from a cloud secret store with the instance's own identity, so that user-data (readable from
 * the metadata service for the machine's whole life) holds none:
 *   AWS Secrets Manager (GetSecretValue) and SSM Parameter Store (GetParameter, WithDecryption): the
 * JSON 1.1 protocol, Signature Version 4 with the instance role's temporary credentials from IMDSv2
 *     (meta-data/iam/security-credentials/<role>, session token included); the region from the instance
 *     identity document unless given.
 *   GCP Secret Manager (versions.access): the default service account's access token from the metadata
 *     server (Metadata-Flavor: Google); the payload's CRC32C checked when the answer carries it.
 *   Azure Key Vault (GET secret, api-version 7.4): a managed-identity token from IMDS (Metadata: true) for
 *     the vault's resource (https://vault.azure.net, or the sovereign cloud's), optionally a user-assigned
 *     identity's client id.
 *
 * The metadata service asked is the one the datasource uses: o->endpoint when the datasource in use is that
 * cloud's (ec2, gce, azure), else the link-local address. Every request has a timeout (o->timeout_ms, else 3
 * s for the metadata service and 10 s for the store), a body cap (MD_SECRET_MAX_BODY) and retries with
 * backoff on throttling (429, AWS's ThrottlingException) and 5xx. Credentials and tokens live in the session
 * and are wiped when it is freed; values are wiped by the caller (erase_and_free()). Nothing here logs above
 * debug, and no log line or failure message holds a credential or a value.
 *
 * Failures, with *why saying what failed and whether it was the instance's identity or the secret:
 *   -ENOENT       the secret (or version, parameter, JSON key) does not exist; or (identity) the instance
 * has no role, service account or managed identity -EPERM        access denied: the identity may not read
 * the secret, or not decrypt it (identity) -EACCES       the credentials or token were refused (identity)
 *   -EKEYEXPIRED  the credentials had expired, still after they were read again (identity)
 *   -EBUSY        throttled beyond the retries        -EIO  a server error (5xx) beyond the retries
 *   -EAGAIN       the metadata service is starting (Azure's 404 while it updates)
 *   -EFBIG        an answer larger than the cap      -EBADMSG  an answer that cannot be read
 *   -ETIMEDOUT, -ECONNREFUSED, ...  as common/http.h; -ENXIO when the IMDS is turned off
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "metadata/metadata.h"

#define MD_SECRET_MAX_BODY (256u * 1024u)

enum md_secret_store {
        MD_SECRET_AWS_SECRETS_MANAGER,
        MD_SECRET_AWS_SSM_PARAMETER,
        MD_SECRET_GCP_SECRET_MANAGER,
        MD_SECRET_AZURE_KEY_VAULT,
};

/* Which secret; every string borrowed. */
struct md_secret_ref {
        enum md_secret_store store;
        const char
                *name; /* secretId, parameter name, projects/.../secrets/.../versions/..., Key Vault name */
        const char *region;   /* AWS; NULL: the instance identity document's */
        const char *version;  /* AWS versionStage (NULL: AWSCURRENT); Key Vault version (NULL: the latest) */
        const char *json_key; /* Secrets Manager: the value is this key of the SecretString's JSON object */
        const char *endpoint; /* the store's base URL instead of the public one; Azure: the vault URL */
        const char *client_id; /* Azure: a user-assigned managed identity */
};

struct md_secret_failure {
        bool identity;              /* the instance's identity failed, not the secret */
        char message[MD_ERROR_MAX]; /* what failed: the request, the status, the service's error code */
};

struct md_secret_session;

/* datasource: the one in use ("ec2", "gce", "azure", ...; NULL: none), whose service o->endpoint is. The
 * options are borrowed for the session's life. */
int md_secret_session_new(const struct md_options *o, const char *datasource,
                          struct md_secret_session **ret);
/* NULL-safe; wipes the credentials and tokens. */
struct md_secret_session *md_secret_session_free(struct md_secret_session *s);
static inline void md_secret_session_freep(struct md_secret_session **s) {
        *s = md_secret_session_free(*s);
}

/* Reads the secret: *ret (NUL-terminated, *ret_len bytes; a secret: erase_and_free()) on success. The
 * identity is fetched once per session and reused. why may be NULL. */
int md_secret_fetch(struct md_secret_session *s, const struct md_secret_ref *ref, char **ret,
                    size_t *ret_len, struct md_secret_failure *why);

/* The store's name as the configuration spells it: "awsSecretsManager", "awsSsmParameter", ... */
const char *md_secret_store_name(enum md_secret_store store);

/* ---- exposed for tests ---- */

/* AWS Signature Version 4 of one request (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request):
 * headers are "Name: value" lines, every one of them signed (Host among them); path is the URI path ("/"),
 * query the canonical query string ("" for none). *ret is the Authorization header's value. */
struct md_sigv4_key {
        const char *access_key_id, *secret_access_key;
        const char *region, *service;
        const char *amz_date; /* YYYYMMDD'T'HHMMSS'Z', also sent as X-Amz-Date */
};
int md_sigv4_authorization(const struct md_sigv4_key *k, const char *method, const char *path,
                           const char *query, const char *const *headers, const void *body, size_t body_len,
                           char **ret);

/* CRC32C (Castagnoli), as GCP's dataCrc32c. */
unsigned md_crc32c(unsigned crc, const void *p, size_t len);
