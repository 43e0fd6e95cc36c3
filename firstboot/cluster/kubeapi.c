/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/kubeapi.h"
#include "pki/kubeconfig.h"

struct kube_client {
        char *server;
        char *ca_pem;
        char *cert_pem;
        char *key_pem; /* secret */
        char *token;   /* secret */
        bool insecure;
        unsigned timeout_ms, retries;
        char error[512];
        /* The apiserver's clock from its last Date header, and when (monotonic) we read it. */
        time_t server_time;
        unsigned long long server_time_at_ms;
};

/* Requests this process sent (every transport attempt counts once): for the run's report and the bench. */
static unsigned long requests_made;

unsigned long kube_requests_made(void) {
        return requests_made;
}

static void note_server_time(struct kube_client *c, const struct http_response *resp) {
        _cleanup_free_ char *date = http_response_header(resp, "Date");
        struct tm tm = {};
        const char *end = date ? strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
        if (!end)
                return;
        c->server_time = timegm(&tm);
        c->server_time_at_ms = clock_now_ms();
}

time_t kube_client_now(const struct kube_client *c) {
        if (!c || c->server_time == 0)
                return time(NULL);
        /* Whole seconds of the monotonic clock passed since, as the Date header counts whole seconds. */
        return c->server_time + (time_t) (clock_now_ms() / 1000 - c->server_time_at_ms / 1000);
}

int kube_client_new(const char *server, const char *ca_pem, bool insecure, struct kube_client **ret) {
        _cleanup_(kube_client_freep) struct kube_client *c = NULL;

        if (isempty(server) || (!ca_pem && !insecure))
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        /* A trailing "/" would double up in every path. */
        c->server = strndup(server, strlen(server) - (endswith(server, "/") ? 1 : 0));
        c->ca_pem = ca_pem ? strdup(ca_pem) : NULL;
        if (!c->server || (ca_pem && !c->ca_pem))
                return -ENOMEM;
        c->insecure = insecure;
        c->timeout_ms = 15000;
        c->retries = 3;
        *ret = TAKE_PTR(c);
        return 0;
}

int kube_client_set_cert(struct kube_client *c, const char *cert_pem, const char *key_pem) {
        char *cert = strdup(cert_pem), *key = strdup(key_pem);
        if (!cert || !key) {
                free(cert);
                erase_and_free(key);
                return -ENOMEM;
        }
        free(c->cert_pem);
        erase_and_free(c->key_pem);
        c->cert_pem = cert;
        c->key_pem = key;
        return 0;
}

int kube_client_set_token(struct kube_client *c, const char *token) {
        char *t = strdup(token);
        if (!t)
                return -ENOMEM;
        erase_and_free(c->token);
        c->token = t;
        return 0;
}

void kube_client_set_timeouts(struct kube_client *c, unsigned timeout_ms, unsigned retries) {
        c->timeout_ms = timeout_ms;
        c->retries = retries;
}

struct kube_client *kube_client_free(struct kube_client *c) {
        if (!c)
                return NULL;
        free(c->server);
        free(c->ca_pem);
        free(c->cert_pem);
        erase_and_free(c->key_pem);
        erase_and_free(c->token);
        free(c);
        return NULL;
}

const char *kube_client_server(const struct kube_client *c) {
        return c->server;
}

const char *kube_client_error(const struct kube_client *c) {
        return c->error;
}

int kube_client_from_kubeconfig(const char *root, const char *path, struct kube_client **ret) {
        return kube_client_from_kubeconfig_server(root, path, NULL, ret);
}

int kube_client_from_kubeconfig_server(const char *root, const char *path, const char *server,
                                       struct kube_client **ret) {
        _cleanup_(kube_client_freep) struct kube_client *c = NULL;
        _cleanup_erase_ char *text = NULL, *cert_file = NULL, *key_file = NULL;
        struct pki_kubeconfig k = {};
        size_t len;
        int r;

        r = read_file(root, path, 1024 * 1024, &text, &len);
        if (r < 0)
                return r;
        r = pki_kubeconfig_parse(text, len, &k);
        if (r < 0)
                return r;
        if (!k.server || !k.ca_pem) {
                pki_kubeconfig_done(&k);
                return log_debug_errno(EBADMSG, "%s: no server or certificate-authority-data", path);
        }
        r = kube_client_new(server ?: k.server, k.ca_pem, false, &c);
        if (r >= 0 && !k.cert_pem && k.cert_file)
                r = read_file(root, k.cert_file, 1024 * 1024, &cert_file, NULL);
        if (r >= 0 && !k.key_pem && k.key_file)
                r = read_file(root, k.key_file, 1024 * 1024, &key_file, NULL);
        if (r >= 0) {
                const char *cert = k.cert_pem ?: cert_file, *key = k.key_pem ?: key_file;
                if (cert && key)
                        r = kube_client_set_cert(c, cert, key);
        }
        pki_kubeconfig_done(&k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

char *kube_path(const char *group_version, const char *ns, const char *resource, const char *name) {
        const char *prefix = strchr(group_version, '/') ? "/apis/" : "/api/";
        if (ns)
                return name ? strdupf("%s%s/namespaces/%s/%s/%s", prefix, group_version, ns, resource, name)
                            : strdupf("%s%s/namespaces/%s/%s", prefix, group_version, ns, resource);
        return name ? strdupf("%s%s/%s/%s", prefix, group_version, resource, name)
                    : strdupf("%s%s/%s", prefix, group_version, resource);
}

static int status_to_errno(long status, const cJSON *body) {
        const char *reason = json_get_string(body, "reason");
        switch (status) {
        case 400:
        case 422:
                return -EINVAL;
        case 401:
                return -EACCES;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 409:
                return reason && streq(reason, "AlreadyExists") ? -EEXIST : -ESTALE;
        case 410:
                return -ESTALE;
        case 429:
                return -EBUSY;
        default:
                return status >= 500 ? -EIO : -EPROTO;
        }
}

static int request(struct kube_client *c, const char *method, const char *path, const char *content_type,
                   const cJSON *obj, long *ret_status, cJSON **ret) {
        _cleanup_free_ char *url = NULL, *body = NULL, *ct = NULL;
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_(cJSON_Deletep) cJSON *json = NULL;
        char herr[HTTP_ERROR_MAX] = "";
        const char *headers[3] = {"Accept: application/json", NULL, NULL};
        int r;

        c->error[0] = 0;
        url = strdupf("%s%s", c->server, path);
        if (!url)
                return -ENOMEM;
        if (obj) {
                body = cJSON_PrintUnformatted(obj);
                ct = strdupf("Content-Type: %s", content_type ?: "application/json");
                if (!body || !ct)
                        return -ENOMEM;
                headers[1] = ct;
        }
        struct http_request req = {
                .method = method,
                .url = url,
                .headers = headers,
                .body = body,
                .body_len = body ? strlen(body) : 0,
                .ca_pem = c->ca_pem,
                .client_cert_pem = c->cert_pem,
                .client_key_pem = c->key_pem,
                .bearer_token = c->token,
                .insecure = c->insecure,
                .timeout_ms = c->timeout_ms,
                .max_body = KUBE_MAX_BODY,
                /* Only reads and idempotent writes are retried by the transport; a POST that timed out may
                 * have happened, and the caller's create-or-update logic handles AlreadyExists. */
                .retries = streq(method, "POST") ? 0 : c->retries,
                .backoff_ms = 250,
                .backoff_max_ms = 4000,
                .error = herr,
        };
        requests_made++;
        r = http_request(&req, &resp);
        if (r < 0) {
                snprintf(c->error, sizeof(c->error), "%s %s: %s", method, url, herr);
                return r;
        }
        note_server_time(c, resp);
        if (resp->body_len > 0 && json_parse(resp->body, resp->body_len, KUBE_MAX_BODY, &json, NULL) < 0)
                json = NULL;
        if (resp->status < 200 || resp->status >= 300) {
                const char *msg = json_get_string(json, "message");
                snprintf(c->error, sizeof(c->error), "%s %s: HTTP %ld: %s", method, path, resp->status,
                         msg ?: "(no Status message)");
                log_debug("%s", c->error);
                if (ret_status)
                        *ret_status = resp->status;
                return status_to_errno(resp->status, json);
        }
        if (!json && ret) {
                snprintf(c->error, sizeof(c->error), "%s %s: the answer is not JSON", method, path);
                return -EBADMSG;
        }
        if (ret_status)
                *ret_status = resp->status;
        if (ret)
                *ret = TAKE_PTR(json);
        return 0;
}

int kube_get_raw(struct kube_client *c, const char *path, long *ret_status, char **ret_body) {
        _cleanup_free_ char *url = strdupf("%s%s", c->server, path);
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        char herr[HTTP_ERROR_MAX] = "";
        int r;

        if (!url)
                return -ENOMEM;
        struct http_request req = {
                .url = url,
                .ca_pem = c->ca_pem,
                .client_cert_pem = c->cert_pem,
                .client_key_pem = c->key_pem,
                .bearer_token = c->token,
                .insecure = c->insecure,
                .timeout_ms = c->timeout_ms,
                .max_body = 64 * 1024,
                .error = herr,
        };
        requests_made++;
        r = http_request(&req, &resp);
        if (r < 0) {
                snprintf(c->error, sizeof(c->error), "GET %s: %s", url, herr);
                return r;
        }
        if (ret_body)
                *ret_body = TAKE_PTR(resp->body);
        *ret_status = resp->status;
        return 0;
}

int kube_get(struct kube_client *c, const char *path, cJSON **ret) {
        return request(c, "GET", path, NULL, NULL, NULL, ret);
}

int kube_create(struct kube_client *c, const char *collection, const cJSON *obj, cJSON **ret) {
        return request(c, "POST", collection, NULL, obj, NULL, ret);
}

int kube_update(struct kube_client *c, const char *path, const cJSON *obj, cJSON **ret) {
        return request(c, "PUT", path, NULL, obj, NULL, ret);
}

int kube_patch(struct kube_client *c, const char *path, const char *content_type, const cJSON *patch,
               cJSON **ret) {
        return request(c, "PATCH", path, content_type, patch, NULL, ret);
}

int kube_delete(struct kube_client *c, const char *path) {
        return request(c, "DELETE", path, NULL, NULL, NULL, NULL);
}

int kube_apply(struct kube_client *c, const char *collection, const cJSON *obj) {
        const char *name = json_get_string(obj, "metadata.name");
        _cleanup_free_ char *path = NULL;
        int r;

        if (!name)
                return -EINVAL;
        path = strdupf("%s/%s", collection, name);
        if (!path)
                return -ENOMEM;
        for (unsigned attempt = 0; attempt < 5; attempt++) {
                _cleanup_(cJSON_Deletep) cJSON *have = NULL, *want = NULL;
                const char *rv;

                r = kube_create(c, collection, obj, NULL);
                if (r >= 0)
                        return r;
                /* A Service whose clusterIP is taken answers 422 Invalid, not 409, when it already
                 * exists (the IP is allocated before the name is checked; kubeadm updates on either). */
                if (r != -EEXIST && r != -EINVAL)
                        return r;
                int created = r;
                r = kube_get(c, path, &have);
                if (r == -ENOENT && created == -EINVAL)
                        return created; /* really invalid */
                if (r == -ENOENT)
                        continue; /* deleted in between: create again */
                if (r < 0)
                        return r;
                rv = json_get_string(have, "metadata.resourceVersion");
                want = cJSON_Duplicate(obj, true);
                if (!want)
                        return -ENOMEM;
                cJSON *meta = cJSON_GetObjectItem(want, "metadata");
                if (rv && meta && json_set_string(meta, "resourceVersion", rv) < 0)
                        return -ENOMEM;
                r = kube_update(c, path, want, NULL);
                if (r != -ESTALE)
                        return r;
                log_debug("%s changed while being updated, again", path);
        }
        return -ESTALE;
}
