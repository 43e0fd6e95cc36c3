/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP(S) client over libcurl for metadata services, the Kubernetes API and etcd's gateway.
 *
 * Every request has a total timeout and a hard cap on the response body; transient failures
 * (connection refused or reset, timeouts, 429, 500, 502, 503, 504) are retried with clock_backoff_ms()
 * (exponential, full jitter above a floor), honouring Retry-After. TLS is verified against a CA given in
 * memory (or the system bundle when none is given); client certificates and keys come from memory too, so
 * secrets never need a file. Redirects are not followed. Only http and https are spoken.
 *
 * A response with any HTTP status is a success at this layer (the caller judges the status); failures
 * are transport failures, mapped to:
 *   -ETIMEDOUT     the request or connection timed out
 *   -ECONNREFUSED  nothing listens there        -ECONNRESET  the peer dropped the connection (also
 *                  during the TLS handshake)
 *   -EHOSTUNREACH  the name did not resolve or the host is unreachable
 *   -EKEYREJECTED  TLS verification failed (unknown CA, wrong name, bad client certificate)
 *   -EPROTO        TLS handshake or HTTP protocol error     -EFBIG  the body exceeded max_body
 *   -EMSGSIZE      the response headers exceeded HTTP_MAX_HEADER_BYTES (or a header line libcurl's cap)
 *   -EINVAL        a bad URL or option                      -EIO    anything else
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HTTP_DEFAULT_MAX_BODY       (1024u * 1024u)
#define HTTP_DEFAULT_TIMEOUT_MS     10000u
#define HTTP_DEFAULT_BACKOFF_MS     200u
#define HTTP_DEFAULT_BACKOFF_MAX_MS 5000u
#define HTTP_MAX_HEADER_BYTES       (64u * 1024u)
#define HTTP_ERROR_MAX              256

struct http_request {
        const char *method; /* default "GET" */
        const char *url;
        const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
        const void *body;           /* sent when non-NULL (also for an empty body with body_len 0) */
        size_t body_len;

        const char *ca_pem;          /* trust only this CA (PEM in memory) */
        const char *client_cert_pem; /* client certificate (PEM in memory) */
        const char *client_key_pem;  /* its private key (PEM in memory) */
        const char *bearer_token;    /* sent as "Authorization: Bearer ..." */
        bool insecure;               /* no TLS verification at all: only for kubeadm-style discovery */
        bool no_proxy;               /* ignore *_proxy variables (metadata services are link-local) */
        const char *const *resolve;  /* curl "HOST:PORT:ADDRESS" overrides, NULL-terminated */

        unsigned timeout_ms;         /* per attempt; 0 = HTTP_DEFAULT_TIMEOUT_MS */
        unsigned connect_timeout_ms; /* 0 = timeout_ms */
        size_t max_body;             /* 0 = HTTP_DEFAULT_MAX_BODY */
        unsigned retries;            /* extra attempts after the first on transient failures */
        unsigned backoff_ms;         /* first backoff; 0 = HTTP_DEFAULT_BACKOFF_MS */
        unsigned backoff_max_ms;     /* cap; 0 = HTTP_DEFAULT_BACKOFF_MAX_MS */

        char *error; /* optional buffer of HTTP_ERROR_MAX bytes: why the last attempt failed */
};

struct http_response {
        long status;
        char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
        size_t body_len;
        char *headers; /* raw header block of the final response, capped */
        unsigned attempts;
};

int http_request(const struct http_request *req, struct http_response **ret);

/* The value of a response header (case-insensitive name), copied; NULL when absent. */
char *http_response_header(const struct http_response *resp, const char *name);

/* NULL-safe; wipes the body (it may hold secrets) and returns NULL. */
struct http_response *http_response_free(struct http_response *resp);
static inline void http_response_freep(struct http_response **r) {
        *r = http_response_free(*r);
}

/* Versions of the linked libcurl and its TLS library, for --version. */
const char *http_library_version(void);
