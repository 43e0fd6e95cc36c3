/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/http.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/etcd.h"

#define ETCD_MAX_BODY (1024u * 1024u)

struct etcd_client {
        char **endpoints;
        char *ca_pem, *cert_pem, *key_pem;
        unsigned timeout_ms;
        size_t preferred; /* the endpoint that answered last: tried first (a dead member's URL once) */
        char error[512];
};

void etcd_members_free(struct etcd_member *m, size_t n) {
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].name);
                strv_free(m[i].peer_urls);
                strv_free(m[i].client_urls);
        }
        free(m);
}

int etcd_client_new(const char *const *endpoints, const char *ca_pem, const char *cert_pem,
                    const char *key_pem, struct etcd_client **ret) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = calloc(1, sizeof(struct etcd_client));
        if (!c)
                return -ENOMEM;
        if (!endpoints || !endpoints[0] || !ca_pem || !cert_pem || !key_pem)
                return -EINVAL;
        for (const char *const *e = endpoints; *e; e++)
                if (strv_extend(&c->endpoints, *e) < 0)
                        return -ENOMEM;
        c->ca_pem = strdup(ca_pem);
        c->cert_pem = strdup(cert_pem);
        c->key_pem = strdup(key_pem);
        if (!c->ca_pem || !c->cert_pem || !c->key_pem)
                return -ENOMEM;
        c->timeout_ms = 10000;
        *ret = TAKE_PTR(c);
        return 0;
}

struct etcd_client *etcd_client_free(struct etcd_client *c) {
        if (!c)
                return NULL;
        strv_free(c->endpoints);
        free(c->ca_pem);
        free(c->cert_pem);
        erase_and_free(c->key_pem);
        free(c);
        return NULL;
}

void etcd_client_set_timeout(struct etcd_client *c, unsigned timeout_ms) {
        c->timeout_ms = timeout_ms;
}

const char *etcd_client_error(const struct etcd_client *c) {
        return c->error;
}

/*
 * etcd's error texts are its API: map the ones a joiner must tell apart. The texts are the same in etcd 3.4
 * and 3.5, the HTTP status is not (a failed precondition is 412 from 3.4's gateway, 400 from 3.5's), so the
 * status decides only for a text not listed (tests/integration/test_etcd_versions.py replays both).
 */
static int map_etcd_error(long status, const char *msg) {
        static const struct {
                const char *text;
                int error;
        } table[] = {
                {"too many learner members", -EBUSY},
                {"unhealthy cluster", -EAGAIN},
                {"which is in sync with leader", -EAGAIN},
                {"leader changed", -EAGAIN},
                {"no leader", -EAGAIN},
                {"too many requests", -EAGAIN},
                {"request timed out", -EAGAIN},
                {"Peer URLs already exists", -EEXIST},
                {"member ID already exist", -EEXIST},
                {"member not found", -ENOENT},
                {"can only promote a learner member", -EALREADY},
                {"given member URLs are invalid", -EINVAL},
                {"rpc not supported for learner", -EAGAIN},
        };
        for (size_t i = 0; msg && i < ELEMENTSOF(table); i++)
                if (strstr(msg, table[i].text))
                        return table[i].error;
        if (status == 404)
                return -ENOENT;
        return status >= 500 ? -EAGAIN : -EPROTO;
}

/* Calls this process made, one per endpoint tried: for the run's report and the bench. */
static unsigned long requests_made;

unsigned long etcd_requests_made(void) {
        return requests_made;
}

/* POSTs body to path on each endpoint in turn until one answers. */
static int call(struct etcd_client *c, const char *path, const char *body, cJSON **ret) {
        size_t n = strv_length(c->endpoints);
        int r = -EIO;

        c->error[0] = 0;
        for (size_t i = 0; i < n; i++) {
                size_t at = (c->preferred + i) % n;
                const char *const *e = (const char *const *) &c->endpoints[at];
                _cleanup_free_ char *url = strdupf("%s%s", *e, path);
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                _cleanup_(cJSON_Deletep) cJSON *json = NULL;
                char herr[HTTP_ERROR_MAX] = "";
                const char *headers[] = {"Content-Type: application/json", NULL};

                if (!url)
                        return -ENOMEM;
                struct http_request req = {
                        .method = "POST",
                        .url = url,
                        .headers = headers,
                        .body = body,
                        .body_len = strlen(body),
                        .ca_pem = c->ca_pem,
                        .client_cert_pem = c->cert_pem,
                        .client_key_pem = c->key_pem,
                        .no_proxy = true,
                        .timeout_ms = c->timeout_ms,
                        .max_body = ETCD_MAX_BODY,
                        .error = herr,
                };
                requests_made++;
                r = http_request(&req, &resp);
                if (r < 0) {
                        snprintf(c->error, sizeof(c->error), "%s: %s", url, herr);
                        log_debug("etcd %s", c->error);
                        continue; /* the next endpoint */
                }
                c->preferred = at;
                if (json_parse(resp->body, resp->body_len, ETCD_MAX_BODY, &json, NULL) < 0) {
                        snprintf(c->error, sizeof(c->error), "%s: HTTP %ld, not JSON", url, resp->status);
                        return -EBADMSG;
                }
                if (resp->status != 200) {
                        /* 3.4: {"error": M, "message": M, "code": N}; 3.5: {"code": N, "message": M} */
                        const char *msg = json_get_string(json, "error") ?: json_get_string(json, "message");
                        snprintf(c->error, sizeof(c->error), "%s: HTTP %ld: %s", url, resp->status,
                                 msg ?: "(no message)");
                        log_debug("etcd %s", c->error);
                        return map_etcd_error(resp->status, msg);
                }
                if (ret)
                        *ret = TAKE_PTR(json);
                return 0;
        }
        return r;
}

static int parse_id(const cJSON *j, uint64_t *ret) {
        /* The gateway writes uint64 as strings; accept a number too for small IDs. */
        if (cJSON_IsString(j))
                return safe_atou64(j->valuestring, ret);
        if (cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble < 9007199254740992.0) {
                *ret = (uint64_t) j->valuedouble;
                return 0;
        }
        return -EBADMSG;
}

static int string_list(const cJSON *arr, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *i;
        cJSON_ArrayForEach(i, arr) {
                if (!cJSON_IsString(i))
                        return -EBADMSG;
                if (strv_extend(&l, i->valuestring) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_members(const cJSON *arr, struct etcd_member **ret, size_t *ret_n) {
        size_t n = (size_t) cJSON_GetArraySize(arr), k = 0;
        struct etcd_member *m = calloc(n + 1, sizeof(*m));
        const cJSON *i;
        int r = 0;

        if (!m)
                return -ENOMEM;
        cJSON_ArrayForEach(i, arr) {
                bool learner = false;
                r = parse_id(cJSON_GetObjectItem(i, "ID"), &m[k].id);
                if (r < 0)
                        break;
                m[k].name = strdup(json_get_string(i, "name") ?: "");
                (void) json_get_bool(i, "isLearner", &learner);
                m[k].learner = learner;
                k++;
                if (!m[k - 1].name) {
                        r = -ENOMEM;
                        break;
                }
                r = string_list(cJSON_GetObjectItem(i, "peerURLs"), &m[k - 1].peer_urls);
                if (r >= 0)
                        r = string_list(cJSON_GetObjectItem(i, "clientURLs"), &m[k - 1].client_urls);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                etcd_members_free(m, k);
                return r;
        }
        *ret = m;
        *ret_n = k;
        return 0;
}

int etcd_member_list(struct etcd_client *c, struct etcd_member **ret, size_t *ret_n) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        int r = call(c, "/v3/cluster/member/list", "{}", &j);
        if (r < 0)
                return r;
        return parse_members(cJSON_GetObjectItem(j, "members"), ret, ret_n);
}

int etcd_member_add_learner(struct etcd_client *c, const char *peer_url, uint64_t *ret_id) {
        _cleanup_(cJSON_Deletep) cJSON *req = NULL, *j = NULL;
        _cleanup_free_ char *body = NULL;
        struct json_builder b = {};
        cJSON *o;
        uint64_t id;
        int r;

        o = jb_object(&b);
        jb_strs(&b, o, "peerURLs", (const char *const[]){peer_url, NULL});
        jb_bool(&b, o, "isLearner", true);
        r = jb_finish(&b, o, &req);
        if (r < 0)
                return r;
        body = cJSON_PrintUnformatted(req);
        if (!body)
                return -ENOMEM;
        r = call(c, "/v3/cluster/member/add", body, &j);
        if (r < 0)
                return r;
        r = parse_id(json_get(j, "member.ID"), &id);
        if (r < 0)
                return r;
        *ret_id = id;
        return 0;
}

static int call_with_id(struct etcd_client *c, const char *path, uint64_t id) {
        char body[64];
        snprintf(body, sizeof(body), "{\"ID\":\"%llu\"}", (unsigned long long) id);
        return call(c, path, body, NULL);
}

int etcd_member_promote(struct etcd_client *c, uint64_t id) {
        return call_with_id(c, "/v3/cluster/member/promote", id);
}

int etcd_member_remove(struct etcd_client *c, uint64_t id) {
        return call_with_id(c, "/v3/cluster/member/remove", id);
}

/* GETs path on one endpoint with the client's credentials; on a transport failure c->error names the URL. */
static int get(struct etcd_client *c, const char *endpoint, const char *path, size_t max_body,
               struct http_response **ret) {
        _cleanup_free_ char *url = strdupf("%s%s", endpoint, path);
        char herr[HTTP_ERROR_MAX] = "";

        if (!url)
                return -ENOMEM;
        struct http_request req = {.url = url,
                                   .ca_pem = c->ca_pem,
                                   .client_cert_pem = c->cert_pem,
                                   .client_key_pem = c->key_pem,
                                   .no_proxy = true,
                                   .timeout_ms = c->timeout_ms,
                                   .max_body = max_body,
                                   .error = herr};
        int r = http_request(&req, ret);
        if (r < 0)
                snprintf(c->error, sizeof(c->error), "%s: %s", url, herr);
        return r;
}

int etcd_health(struct etcd_client *c) {
        int r = -EIO;

        c->error[0] = 0;
        for (char **e = c->endpoints; *e; e++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                _cleanup_(cJSON_Deletep) cJSON *j = NULL;

                r = get(c, *e, "/health", 4096, &resp);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                const char *h = NULL;
                if (json_parse(resp->body, resp->body_len, 4096, &j, NULL) == 0)
                        h = json_get_string(j, "health");
                if (resp->status == 200 && h && streq(h, "true"))
                        return 0;
                snprintf(c->error, sizeof(c->error), "%s/health: HTTP %ld: %s", *e, resp->status,
                         resp->body);
                r = -EAGAIN;
        }
        return r;
}

/* /metrics of a 3-member etcd is about 200 KiB; leave room for many members and histograms. */
#define ETCD_MAX_METRICS (8u * 1024u * 1024u)
#define ACTIVE_PEERS     "etcd_network_active_peers{"

/*
 * One sample per line: etcd_network_active_peers{Local="8e9e05c52164694d",Remote="91bc3c398fb3c146"} 1
 * The IDs are etcd's types.ID: lowercase hex without leading zeros. Labels may come in any order.
 */
int etcd_metrics_peer_active(const char *text, size_t len, uint64_t remote) {
        size_t pos = 0;
        int active = 0;

        if (!text)
                return 0;
        while (pos < len) {
                const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
                size_t ll = nl ? (size_t) (nl - line) : len - pos;
                pos += ll + 1;
                if (ll <= strlen(ACTIVE_PEERS) || strncmp(line, ACTIVE_PEERS, strlen(ACTIVE_PEERS)) != 0)
                        continue;
                const char *close = memchr(line, '}', ll);
                if (!close)
                        continue;
                char labels[256], value[64];
                size_t lab_len = (size_t) (close - line) - strlen(ACTIVE_PEERS);
                size_t val_len = ll - (size_t) (close + 1 - line);
                if (lab_len >= sizeof(labels) || val_len >= sizeof(value))
                        continue;
                memcpy(labels, line + strlen(ACTIVE_PEERS), lab_len);
                labels[lab_len] = 0;
                memcpy(value, close + 1, val_len);
                value[val_len] = 0;
                const char *r = strstr(labels, "Remote=\"");
                if (!r)
                        continue;
                char *end = NULL;
                errno = 0;
                unsigned long long id = strtoull(r + strlen("Remote=\""), &end, 16);
                if (errno != 0 || !end || *end != '"' || id != remote)
                        continue;
                char *vend = NULL;
                double v = strtod(value, &vend);
                if (vend == value)
                        continue;
                if (v >= 1.0)
                        active = 1;
        }
        return active;
}

int etcd_peer_active(struct etcd_client *c, uint64_t remote) {
        int r = -EIO;

        c->error[0] = 0;
        for (char **e = c->endpoints; *e; e++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;

                requests_made++;
                r = get(c, *e, "/metrics", ETCD_MAX_METRICS, &resp);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (resp->status != 200) {
                        snprintf(c->error, sizeof(c->error), "%s/metrics: HTTP %ld", *e, resp->status);
                        r = -EPROTO;
                        continue;
                }
                return etcd_metrics_peer_active(resp->body, resp->body_len, remote);
        }
        return r;
}
