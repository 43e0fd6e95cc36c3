/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small Kubernetes REST client: JSON objects over common/http.c, authenticated by client certificate,
 * bearer (bootstrap) token, or nothing (anonymous). Status errors become -errno codes:
 *   400/422 -EINVAL   401 -EACCES (not authenticated)   403 -EPERM (not authorized)   404 -ENOENT
 *   409 AlreadyExists -EEXIST   409 Conflict -ESTALE (resourceVersion changed)   410 -ESTALE
 *   429 -EBUSY   5xx -EIO (after the client's retries)   other -EPROTO
 * and the Status message of the last failure is kept for the report (kube_client_error()).
 */
#pragma once

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#define KUBE_MAX_BODY (8u * 1024u * 1024u)

struct kube_client;

/* server: "https://host:port". ca_pem NULL only together with insecure (kubeadm's first discovery GET). */
int kube_client_new(const char *server, const char *ca_pem, bool insecure, struct kube_client **ret);
/* Client certificate and key (PEM, copied; the key is wiped on free). */
int kube_client_set_cert(struct kube_client *c, const char *cert_pem, const char *key_pem);
/* Bearer token (copied, wiped on free). */
int kube_client_set_token(struct kube_client *c, const char *token);
/* Per-request timeout and the retries of transient failures (defaults 15 s, 3). */
void kube_client_set_timeouts(struct kube_client *c, unsigned timeout_ms, unsigned retries);
/* Builds a client from a kubeconfig file under root (current context; embedded data or files). */
int kube_client_from_kubeconfig(const char *root, const char *path, struct kube_client **ret);
/* The same, talking to server instead of the kubeconfig's (NULL: the kubeconfig's). */
int kube_client_from_kubeconfig_server(const char *root, const char *path, const char *server,
                                       struct kube_client **ret);
struct kube_client *kube_client_free(struct kube_client *c);
static inline void kube_client_freep(struct kube_client **c) {
        *c = kube_client_free(*c);
}

/* The cluster's time: the apiserver's clock as its last answer's Date header gave it (advanced since), or
 * this machine's clock before any answer. Token expiries are computed with it: a node whose clock is
 * off at first boot must not mint tokens that are already expired. */
time_t kube_client_now(const struct kube_client *c);
/* The server URL (borrowed). */
const char *kube_client_server(const struct kube_client *c);
/* Why the last request failed: the API's Status message or the transport error; "" when none. */
const char *kube_client_error(const struct kube_client *c);

/* A failure that passes by itself (the apiserver or its etcd restarting, a load balancer's backend not
 * up yet, throttling): worth another try until the caller's deadline. */
static inline bool kube_error_is_transient(int r) {
        return r == -EIO || r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ECONNRESET ||
               r == -EHOSTUNREACH || r == -EBUSY || r == -EAGAIN;
}

/* How many API requests this process has sent so far (all clients; transport retries not counted apart). */
unsigned long kube_requests_made(void);

/* Raw GET of a path returning the body as text (NUL-terminated); for /healthz-style endpoints too. */
int kube_get_raw(struct kube_client *c, const char *path, long *ret_status, char **ret_body);

int kube_get(struct kube_client *c, const char *path, cJSON **ret);
/* POST to a collection path ("/api/v1/namespaces/kube-system/secrets"). ret may be NULL. */
int kube_create(struct kube_client *c, const char *collection, const cJSON *obj, cJSON **ret);
/* PUT to an object path; obj must carry metadata.resourceVersion for optimistic concurrency. */
int kube_update(struct kube_client *c, const char *path, const cJSON *obj, cJSON **ret);
/* PATCH with "application/merge-patch+json" or "application/strategic-merge-patch+json". */
int kube_patch(struct kube_client *c, const char *path, const char *content_type, const cJSON *patch,
               cJSON **ret);
int kube_delete(struct kube_client *c, const char *path);

/*
 * Create, or when it exists replace its content keeping the server's resourceVersion, retrying on
 * conflicts: kubeadm's CreateOrUpdate (a create refused as Invalid while the object exists, as a Service
 * whose clusterIP it already holds is, also updates). collection + "/" + metadata.name is the object's path.
 */
int kube_apply(struct kube_client *c, const char *collection, const cJSON *obj);

/* The REST path of a namespaced core object: "/api/v1/namespaces/<ns>/<resource>[/<name>]". */
char *kube_path(const char *group_version, const char *ns, const char *resource, const char *name);
