/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EC2 instance metadata (IMDSv2). A session token from PUT /latest/api/token (TTL 21600 s) goes with
 * every GET; a 401 means the token expired or was revoked: get a new one and retry once. A 403 on the
 * PUT means IMDS is turned off for this instance: give up at once. A 404/405 on the PUT means an
 * EC2-compatible cloud without tokens (IMDSv1), as Ignition handles it. A 404 on user-data means there
 * is none; on tags/instance, that tags in metadata are not enabled. The IPv4 endpoint is tried first,
 * then the IPv6 one (Nitro instances with it enabled).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/source.h"

#define TOKEN_TTL "21600"

void md_ec2_session_done(struct md_ec2_session *e) {
        free(e->base);
        e->base = NULL;
        e->token = erase_and_free(e->token);
}

int md_ec2_session_token(struct md_ec2_session *e) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_free_ char *url = strdupf("%s/latest/api/token", e->base);
        const char *const headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: " TOKEN_TTL, NULL};
        int r;

        if (!url)
                return -ENOMEM;
        r = md_http(e->o, "PUT", url, headers, e->o->retries ?: 3, &resp);
        if (r < 0)
                return r;
        switch (resp->status) {
        case 200:
                e->token = erase_and_free(e->token);
                e->token = strdup(resp->body);
                if (!e->token)
                        return -ENOMEM;
                strstrip(e->token);
                if (isempty(e->token))
                        return md_fail(e->o, EBADMSG, "PUT %s answered an empty token", url);
                e->v1 = false;
                return 0;
        case 403:
                return log_debug_errno(ENXIO,
                                       "IMDS at %s refuses tokens (403): the metadata endpoint is disabled",
                                       e->base);
        case 404:
        case 405:
                log_debug("IMDS at %s has no token API (%ld): IMDSv1", e->base, resp->status);
                e->v1 = true;
                return 0;
        default:
                return md_fail(e->o, EPROTO, "PUT %s answered HTTP %ld", url, resp->status);
        }
}

int md_ec2_session_get(struct md_ec2_session *e, const char *path, struct http_response **ret) {
        _cleanup_free_ char *url = strdupf("%s/%s", e->base, path);
        int r;

        if (!url)
                return -ENOMEM;
        for (int attempt = 0;; attempt++) {
                _cleanup_erase_ char *hdr = e->v1 ? NULL : strdupf("X-aws-ec2-metadata-token: %s", e->token);
                const char *const headers[] = {hdr, NULL};
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                if (!e->v1 && !hdr)
                        return -ENOMEM;
                r = md_http(e->o, "GET", url, hdr ? headers : NULL, e->o->retries ?: 3, &resp);
                if (r < 0)
                        return r;
                if (resp->status == 401 && attempt == 0) {
                        log_debug("IMDS said 401 for %s: renewing the token", path);
                        r = md_ec2_session_token(e);
                        if (r < 0)
                                return r;
                        continue;
                }
                *ret = TAKE_PTR(resp);
                return 0;
        }
}

struct ec2 {
        struct md_ec2_session s;
        const char *ver;
};

static void ec2_done(struct ec2 *e) {
        md_ec2_session_done(&e->s);
}

/* GET <base>/<ver>/<path>; the status is the caller's to judge, except 401 which renews the token once. */
static int ec2_get(struct ec2 *e, const char *path, struct http_response **ret) {
        _cleanup_free_ char *rel = strdupf("%s/%s", e->ver, path);
        if (!rel)
                return -ENOMEM;
        return md_ec2_session_get(&e->s, rel, ret);
}

/* A leaf: 0 with *ret set (maybe NULL on 404), or an error for other statuses. */
static int ec2_leaf(struct ec2 *e, const char *path, char **ret) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        int r = ec2_get(e, path, &resp);
        if (r < 0)
                return r;
        if (resp->status == 404) {
                *ret = NULL;
                return 0;
        }
        if (resp->status != 200)
                return md_fail(e->s.o, EPROTO, "GET %s/%s/%s answered HTTP %ld", e->s.base, e->ver, path,
                               resp->status);
        *ret = strdup(resp->body);
        if (!*ret)
                return -ENOMEM;
        strstrip(*ret);
        return 0;
}

static int set_leaf(struct ec2 *e, const char *path, char **field) {
        _cleanup_free_ char *v = NULL;
        int r = ec2_leaf(e, path, &v);
        if (r < 0)
                return r;
        if (v && !*field)
                return md_set(field, v);
        return 0;
}

static int pick_version(struct ec2 *e) {
        static const char *const versions[] = {"2021-03-23", "2018-09-24", "2016-09-02"};
        for (size_t i = 0; i < ELEMENTSOF(versions); i++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                e->ver = versions[i];
                int r = ec2_get(e, "meta-data/instance-id", &resp);
                if (r < 0)
                        return r;
                if (resp->status == 200)
                        return 0;
        }
        e->ver = "2009-04-04";
        return 0;
}

static int read_tags(struct ec2 *e, struct md_instance *inst) {
        _cleanup_free_ char *list = NULL;
        int r = ec2_leaf(e, "meta-data/tags/instance", &list);
        if (r < 0 || !list)
                return r; /* 404: tags in metadata are not enabled */
        for (char *k = list, *next; k && *k; k = next) {
                _cleanup_free_ char *path = NULL, *v = NULL;
                next = strchr(k, '\n');
                if (next)
                        *next++ = 0;
                strstrip(k);
                if (!*k || strchr(k, '/'))
                        continue;
                path = strdupf("meta-data/tags/instance/%s", k);
                if (!path)
                        return -ENOMEM;
                r = ec2_leaf(e, path, &v);
                if (r < 0)
                        return r;
                if (v && md_tag(inst, k, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Whether the IMDS hands the user-data to anyone who asks without a session token (IMDSv1 allowed): one GET
 * without the token. A hop limit of 1 cannot be seen from here. */
static int check_exposure(struct ec2 *e, struct md_instance *inst) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_free_ char *url = strdupf("%s/latest/meta-data/instance-id", e->s.base);
        if (!url)
                return -ENOMEM;
        if (e->s.v1)
                return md_set(
                        &inst->userdata_exposure,
                        "the instance metadata service has no session tokens (IMDSv1): it serves the user-data to any process that asks");
        if (md_http(e->s.o, "GET", url, NULL, 0, &resp) < 0) {
                log_debug("Cannot tell whether the IMDS answers without a token, assuming it does not");
                if (e->s.o->error)
                        e->s.o->error[0] = 0;
                return 0;
        }
        log_debug("IMDS without a session token: HTTP %ld", resp->status);
        if (resp->status != 200)
                return 0;
        return md_set(
                &inst->userdata_exposure,
                "the EC2 instance metadata service answers without a session token (IMDSv1 is enabled): it serves the user-data to any process that asks");
}

static int crawl(struct ec2 *e, struct md_instance *inst) {
        _cleanup_(http_response_freep) struct http_response *ud = NULL;
        _cleanup_free_ char *doc = NULL, *mac = NULL;
        int r;

        r = pick_version(e);
        if (r < 0)
                return r;
        /* The identity document is authoritative for id, region and zone (as cloud-init reads it). */
        r = ec2_leaf(e, "dynamic/instance-identity/document", &doc);
        if (r < 0)
                return r;
        if (doc) {
                _cleanup_(cJSON_Deletep) cJSON *j = NULL;
                if (md_json_parse(doc, strlen(doc), &j) >= 0) {
                        if (md_set(&inst->instance_id, json_get_string(j, "instanceId")) < 0 ||
                            md_set(&inst->region, json_get_string(j, "region")) < 0 ||
                            md_set(&inst->zone, json_get_string(j, "availabilityZone")) < 0 ||
                            md_set(&inst->local_ipv4, json_get_string(j, "privateIp")) < 0)
                                return -ENOMEM;
                } else
                        log_debug("The instance identity document is not JSON, ignoring it");
        }
        if ((r = set_leaf(e, "meta-data/instance-id", &inst->instance_id)) < 0 ||
            (r = set_leaf(e, "meta-data/local-hostname", &inst->hostname)) < 0 ||
            (r = set_leaf(e, "meta-data/local-ipv4", &inst->local_ipv4)) < 0 ||
            (r = set_leaf(e, "meta-data/placement/availability-zone", &inst->zone)) < 0 ||
            (r = set_leaf(e, "meta-data/placement/region", &inst->region)) < 0 ||
            (r = set_leaf(e, "meta-data/ipv6", &inst->local_ipv6)) < 0)
                return r;
        if (!inst->instance_id)
                return md_fail(e->s.o, EBADMSG, "%s/%s/meta-data/instance-id: the IMDS has no instance id",
                               e->s.base, e->ver);
        if (!inst->local_ipv6) {
                r = ec2_leaf(e, "meta-data/mac", &mac);
                if (r < 0)
                        return r;
                if (mac) {
                        _cleanup_free_ char *path =
                                strdupf("meta-data/network/interfaces/macs/%s/ipv6s", mac);
                        _cleanup_free_ char *v6 = NULL;
                        if (!path)
                                return -ENOMEM;
                        r = ec2_leaf(e, path, &v6);
                        if (r < 0)
                                return r;
                        if (v6 && md_set_n(&inst->local_ipv6, v6, strcspn(v6, "\n")) < 0)
                                return -ENOMEM;
                }
        }
        if (md_region_from_zone(inst, false) < 0)
                return -ENOMEM;
        r = read_tags(e, inst);
        if (r < 0)
                return r;

        _cleanup_free_ char *ud_url = strdupf("%s/%s/user-data", e->s.base, e->ver);
        if (!ud_url)
                return -ENOMEM;
        r = ec2_get(e, "user-data", &ud);
        if (r == -EFBIG)
                return md_userdata_read_failed(inst, ud_url, r, MD_META_MAX);
        if (r < 0)
                return r;
        if (ud->status == 200) {
                md_set_userdata(inst, TAKE_PTR(ud->body), ud->body_len);
                ud->body_len = 0;
                r = md_set_userdata_source(inst, ud_url);
                return r < 0 ? r : check_exposure(e, inst);
        } else if (ud->status != 404)
                return md_fail(e->s.o, EPROTO, "GET %s answered HTTP %ld", ud_url, ud->status);
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        static const char *const defaults[] = {MD_LINK_LOCAL_URL, "http://[fd00:ec2::254]"};
        int r = -ENXIO;
        (void) p;

        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                _cleanup_(ec2_done) struct ec2 e = {.s = {.o = o}};
                e.s.base = md_base_url(o, defaults[i]);
                if (!e.s.base)
                        return -ENOMEM;
                r = md_ec2_session_token(&e.s);
                if (r == -ENXIO)
                        return r; /* disabled: the other endpoint is the same service */
                if (r >= 0) {
                        r = crawl(&e, inst);
                        if (r >= 0) {
                                if (md_set(&inst->platform, "ec2") < 0 ||
                                    md_set(&inst->source, e.s.base) < 0)
                                        return -ENOMEM;
                                return 0;
                        }
                        return r;
                }
                if (o->endpoint)
                        break;
        }
        /* Nothing answered on either endpoint: not EC2 after all. */
        if (!o->endpoint &&
            (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT || r == -ENETUNREACH))
                return log_debug_errno(ENXIO, "No IMDS answered");
        return r;
}

const struct md_source md_source_ec2 = {"ec2", fetch};
