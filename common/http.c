/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup-libs.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "strutil.h"

struct sink {
        char *data;
        size_t len, alloc, max;
        bool overflow;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_OK;

static void global_init(void) {
        global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *http_library_version(void) {
        return curl_version();
}

static void sink_done(struct sink *s) {
        s->data = erase_and_free(s->data);
        s->len = s->alloc = 0;
        s->overflow = false;
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        struct sink *s = userdata;
        size_t n = size * nmemb;

        if (n > s->max - s->len) {
                s->overflow = true;
                return 0; /* makes curl abort with CURLE_WRITE_ERROR */
        }
        if (s->len + n + 1 > s->alloc) {
                size_t na = s->alloc ? s->alloc : 4096;
                char *t;
                while (na < s->len + n + 1)
                        na *= 2;
                if (na > s->max + 1)
                        na = s->max + 1;
                /* Bodies may carry secrets: copy and wipe instead of realloc(). */
                t = malloc(na);
                if (!t)
                        return 0;
                if (s->data) {
                        memcpy(t, s->data, s->len);
                        erase_and_free(s->data);
                }
                s->data = t;
                s->alloc = na;
        }
        memcpy(s->data + s->len, ptr, n);
        s->len += n;
        s->data[s->len] = 0;
        return n;
}

static size_t header_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        struct sink *s = userdata;
        size_t n = size * nmemb;
        /* A new status line starts a new response (after 100-continue): keep only the final one. */
        if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
                s->len = 0;
        /* A header block over the cap is no answer we read: stop the transfer (-EMSGSIZE). */
        return sink_write(ptr, size, nmemb, userdata) == n && !s->overflow ? n : 0;
}

static int map_curl_error(CURLcode c) {
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return -EKEYREJECTED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
                return -EPROTO;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_FUNCTION_ARGUMENT:
                return -EINVAL;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}

static bool transient_error(int r) {
        /* At first boot the network, DNS and the peer itself may still be coming up. */
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EHOSTUNREACH ||
               r == -EPROTO;
}

static bool transient_status(long status) {
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static unsigned parse_retry_after_ms(const char *headers) {
        /* Only the delta-seconds form: HTTP dates are not worth the code for our peers. */
        for (const char *p = headers; p && *p;) {
                const char *eol = strchr(p, '\n');
                if (strncasecmp(p, "Retry-After:", 12) == 0) {
                        unsigned long v = strtoul(p + 12, NULL, 10);
                        return v > 3600 ? 3600000u : (unsigned) v * 1000u;
                }
                p = eol ? eol + 1 : NULL;
        }
        return 0;
}

static int setup_handle(CURL *c, const struct http_request *req, struct curl_slist *headers,
                        struct sink *body, struct sink *hdrs, char *errbuf) {
        unsigned timeout = req->timeout_ms ?: HTTP_DEFAULT_TIMEOUT_MS;
        const char *method = req->method ?: "GET";
        struct curl_blob blob;
        int ok = 1;

#define SET(opt, val) ok &= curl_easy_setopt(c, opt, val) == CURLE_OK
        SET(CURLOPT_URL, req->url);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_TIMEOUT_MS, (long) timeout);
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long) (req->connect_timeout_ms ?: timeout));
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) body->max);
        SET(CURLOPT_WRITEFUNCTION, sink_write);
        SET(CURLOPT_WRITEDATA, body);
        SET(CURLOPT_HEADERFUNCTION, header_write);
        SET(CURLOPT_HEADERDATA, hdrs);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_USERAGENT, "kube-firstboot");
        SET(CURLOPT_HTTPHEADER, headers);
        SET(CURLOPT_SSL_VERIFYPEER, req->insecure ? 0L : 1L);
        SET(CURLOPT_SSL_VERIFYHOST, req->insecure ? 0L : 2L);
        SET(CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        if (req->no_proxy)
                SET(CURLOPT_NOPROXY, "*");
        if (req->ca_pem) {
                blob = (struct curl_blob){
                        .data = (void *) req->ca_pem, .len = strlen(req->ca_pem), .flags = CURL_BLOB_COPY};
                SET(CURLOPT_CAINFO_BLOB, &blob);
                /* Only the given CA: the system bundle must not widen trust in a cluster API. */
                SET(CURLOPT_CAPATH, NULL);
        }
        if (req->client_cert_pem) {
                blob = (struct curl_blob){.data = (void *) req->client_cert_pem,
                                          .len = strlen(req->client_cert_pem),
                                          .flags = CURL_BLOB_COPY};
                SET(CURLOPT_SSLCERT_BLOB, &blob);
                SET(CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (req->client_key_pem) {
                blob = (struct curl_blob){.data = (void *) req->client_key_pem,
                                          .len = strlen(req->client_key_pem),
                                          .flags = CURL_BLOB_COPY};
                SET(CURLOPT_SSLKEY_BLOB, &blob);
                SET(CURLOPT_SSLKEYTYPE, "PEM");
        }
        if (streq(method, "HEAD"))
                SET(CURLOPT_NOBODY, 1L);
        else if (!streq(method, "GET") || req->body)
                SET(CURLOPT_CUSTOMREQUEST, method);
        if (req->body) {
                SET(CURLOPT_POSTFIELDS, req->body ?: "");
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
        }
#undef SET
        return ok ? 0 : -EINVAL;
}

static int build_headers(const struct http_request *req, struct curl_slist **ret) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *list = NULL;

        for (const char *const *h = req->headers; h && *h; h++) {
                struct curl_slist *t = curl_slist_append(list, *h);
                if (!t)
                        return -ENOMEM;
                list = t;
        }
        if (req->bearer_token) {
                _cleanup_erase_ char *auth = strdupf("Authorization: Bearer %s", req->bearer_token);
                struct curl_slist *t;
                if (!auth)
                        return -ENOMEM;
                t = curl_slist_append(list, auth);
                if (!t)
                        return -ENOMEM;
                list = t;
        }
        /* curl sends "Expect: 100-continue" for larger bodies; our peers answer at once. */
        struct curl_slist *t = curl_slist_append(list, "Expect:");
        if (!t)
                return -ENOMEM;
        list = t;
        *ret = TAKE_PTR(list);
        return 0;
}

/* Frees a header list whose entries may hold a bearer token. */
static void slist_erase_free(struct curl_slist **l) {
        for (struct curl_slist *i = *l; i; i = i->next)
                if (i->data)
                        explicit_bzero(i->data, strlen(i->data));
        curl_slist_free_all(*l);
        *l = NULL;
}

int http_request(const struct http_request *req, struct http_response **ret) {
        _cleanup_(slist_erase_free) struct curl_slist *headers = NULL;
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        struct sink body = {.max = req->max_body ?: HTTP_DEFAULT_MAX_BODY};
        struct sink hdrs = {.max = HTTP_MAX_HEADER_BYTES};
        unsigned base = req->backoff_ms ?: HTTP_DEFAULT_BACKOFF_MS;
        unsigned cap = req->backoff_max_ms ?: HTTP_DEFAULT_BACKOFF_MAX_MS;
        char errbuf[CURL_ERROR_SIZE];
        long status = 0;
        unsigned attempt;
        int r = -EIO;

        if (!req->url)
                return -EINVAL;
        (void) pthread_once(&global_once, global_init);
        if (global_result != CURLE_OK)
                return -EIO;

        r = build_headers(req, &headers);
        if (r < 0)
                return r;
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        for (attempt = 0;; attempt++) {
                CURLcode cc;
                unsigned delay;

                sink_done(&body);
                sink_done(&hdrs);
                errbuf[0] = 0;
                curl_easy_reset(c);
                r = setup_handle(c, req, headers, &body, &hdrs, errbuf);
                if (r < 0)
                        break;

                cc = curl_easy_perform(c);
                if (cc == CURLE_OK) {
                        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
                        r = 0;
                } else if (body.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
                        r = -EFBIG;
                        snprintf(errbuf, sizeof(errbuf), "response body larger than %zu bytes", body.max);
                } else if (hdrs.overflow) {
                        r = -EMSGSIZE;
                        snprintf(errbuf, sizeof(errbuf), "response headers larger than %u KiB, the limit",
                                 HTTP_MAX_HEADER_BYTES / 1024u);
                } else if (cc == CURLE_OUT_OF_MEMORY) {
                        /* What libcurl says of a header line over its own 100 KiB cap, far likelier from a
                         * hostile peer than a failed allocation. */
                        r = -EMSGSIZE;
                        snprintf(
                                errbuf, sizeof(errbuf),
                                "a response header line larger than libcurl accepts (100 KiB), or out of memory");
                } else {
                        r = map_curl_error(cc);
                        /* The peer closed the connection during the handshake (a load balancer with no
                         * healthy backend accepts and closes): a reset, not a TLS disagreement. */
                        if (cc == CURLE_SSL_CONNECT_ERROR &&
                            (strstr(errbuf, "SSL_ERROR_SYSCALL") || strstr(errbuf, "unexpected eof")))
                                r = -ECONNRESET;
                        if (!errbuf[0])
                                snprintf(errbuf, sizeof(errbuf), "%s", curl_easy_strerror(cc));
                }
                if (r < 0)
                        log_debug("%s %s: attempt %u: %s", req->method ?: "GET", req->url, attempt + 1,
                                  errbuf);
                else
                        log_debug("%s %s: attempt %u: HTTP %ld", req->method ?: "GET", req->url, attempt + 1,
                                  status);

                bool again = r < 0 ? transient_error(r) : transient_status(status);
                if (!again || attempt >= req->retries)
                        break;
                delay = (unsigned) clock_backoff_ms(base, cap, attempt);
                if (r == 0 && hdrs.data) {
                        unsigned ra = parse_retry_after_ms(hdrs.data);
                        if (ra > delay)
                                delay = ra > cap ? cap : ra;
                }
                clock_sleep_ms(delay);
        }

        if (r < 0) {
                if (req->error)
                        snprintf(req->error, HTTP_ERROR_MAX, "%s", errbuf);
                sink_done(&body);
                sink_done(&hdrs);
                return r;
        }

        struct http_response *resp = calloc(1, sizeof(*resp));
        if (!resp) {
                sink_done(&body);
                sink_done(&hdrs);
                return -ENOMEM;
        }
        if (!body.data)
                body.data = calloc(1, 1);
        if (!hdrs.data)
                hdrs.data = calloc(1, 1);
        resp->status = status;
        resp->body = body.data;
        resp->body_len = body.len;
        resp->headers = hdrs.data;
        resp->attempts = attempt + 1;
        if (!resp->body || !resp->headers) {
                http_response_free(resp);
                return -ENOMEM;
        }
        *ret = resp;
        return 0;
}

char *http_response_header(const struct http_response *resp, const char *name) {
        size_t ln = strlen(name);
        for (const char *p = resp->headers; p && *p;) {
                const char *eol = strchr(p, '\n');
                size_t linelen = eol ? (size_t) (eol - p) : strlen(p);
                if (linelen > ln && strncasecmp(p, name, ln) == 0 && p[ln] == ':') {
                        const char *v = p + ln + 1;
                        const char *end = p + linelen;
                        while (v < end && (*v == ' ' || *v == '\t'))
                                v++;
                        while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        return strndup(v, (size_t) (end - v));
                }
                p = eol ? eol + 1 : NULL;
        }
        return NULL;
}

struct http_response *http_response_free(struct http_response *resp) {
        if (!resp)
                return NULL;
        erase_and_free(resp->body);
        free(resp->headers);
        free(resp);
        return NULL;
}
