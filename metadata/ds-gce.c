/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Google Compute Engine metadata server, by its link-local address (as Google's guest agent, Afterburn and
 * Ignition reach it: no DNS needed this early in boot). One recursive read of instance/ as JSON, with the
 * required Metadata-Flavor: Google header; 503 (host maintenance, under a second) and connection errors are
 * retried, 404 is not. The numeric instance id is above 2^53, so it is read as its digits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/source.h"

static bool attribute_is_userdata(const char *k) {
        return streq(k, "user-data") || streq(k, "user-data-encoding") || streq(k, "ssh-keys") ||
               streq(k, "sshKeys") || streq(k, "block-project-ssh-keys");
}

/* Fills inst from the body of GET computeMetadata/v1/instance/?recursive=true. */
int md_gce_parse_instance(const char *body, size_t len, struct md_instance *inst) {
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        const cJSON *a, *attrs;
        const char *zone, *host, *enc, *ud;
        int r;

        r = md_json_parse(body, len, &j);
        if (r < 0)
                return log_debug_errno(r, "The GCE metadata is not valid JSON");
        /* A whole-tree read (computeMetadata/v1/?recursive=true) nests it under "instance". */
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "instance")))
                a = cJSON_GetObjectItemCaseSensitive(j, "instance");
        else
                a = j;
        zone = json_get_string(a, "zone");
        host = json_get_string(a, "hostname");
        if (!md_json_text(a, "id") || !zone || !host)
                return log_debug_errno(EBADMSG, "The GCE metadata lacks id, zone or hostname");
        if (md_set(&inst->instance_id, md_json_text(a, "id")) < 0 ||
            md_set(&inst->zone, strrchr(zone, '/') ? strrchr(zone, '/') + 1 : zone) < 0 ||
            md_set_n(&inst->hostname, host, strcspn(host, ".")) < 0 ||
            md_set(&inst->local_ipv4,
                   json_get_string(cJSON_GetArrayItem(json_get(a, "networkInterfaces"), 0), "ip")) < 0 ||
            md_region_from_zone(inst, true) < 0)
                return -ENOMEM;
        const cJSON *v6 = json_get(cJSON_GetArrayItem(json_get(a, "networkInterfaces"), 0), "ipv6s");
        if (cJSON_IsString(cJSON_GetArrayItem(v6, 0)) &&
            md_set(&inst->local_ipv6, cJSON_GetArrayItem(v6, 0)->valuestring) < 0)
                return -ENOMEM;

        attrs = json_get(a, "attributes");
        cJSON_ArrayForEach(a, attrs) {
                const char *v = json_scalar_text(a);
                if (v && !attribute_is_userdata(a->string) && md_tag(inst, a->string, v) < 0)
                        return -ENOMEM;
        }
        ud = json_get_string(attrs, "user-data");
        enc = json_get_string(attrs, "user-data-encoding");
        if (ud) {
                char *data = NULL;
                size_t n;
                if (enc && streq(enc, "base64")) {
                        r = md_base64_decode(ud, strlen(ud), false, &data, &n);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return md_userdata_unusable(
                                        inst, "the instance attribute user-data",
                                        "the attribute user-data-encoding is base64, but user-data is not valid base64");
                } else {
                        if (enc)
                                log_debug("Unknown user-data-encoding '%s', using the value as it is", enc);
                        data = strdup(ud);
                        if (!data)
                                return -ENOMEM;
                        n = strlen(data);
                }
                md_set_userdata(inst, data, n);
                if (md_set(&inst->userdata_exposure,
                           "the GCE metadata server serves the user-data attribute to any process on the instance") <
                    0)
                        return -ENOMEM;
        }
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_free_ char *base = md_base_url(o, MD_LINK_LOCAL_URL), *url = NULL;
        const char *const headers[] = {MD_GCE_HEADER, NULL};
        int r;
        (void) p;

        if (!base)
                return -ENOMEM;
        url = strdupf("%s/computeMetadata/v1/instance/?recursive=true&alt=json", base);
        if (!url)
                return -ENOMEM;
        r = md_http(o, "GET", url, headers, o->retries ?: 5, &resp);
        if (r < 0)
                return !o->endpoint && (r == -EHOSTUNREACH || r == -ECONNREFUSED) ? -ENXIO : r;
        if (resp->status == 404)
                return log_debug_errno(ENXIO, "%s: 404, not a GCE metadata server", url);
        if (resp->status != 200)
                return md_fail(o, resp->status == 503 ? EAGAIN : EPROTO, "GET %s answered HTTP %ld", url,
                               resp->status);
        r = md_gce_parse_instance(resp->body, resp->body_len, inst);
        if (r == -EBADMSG)
                return md_fail(o, r,
                               "GET %s: the answer is not the JSON of a GCE instance (id, zone, hostname)",
                               url);
        if (r < 0)
                return r;
        if (md_set(&inst->platform, "gce") < 0 || md_set(&inst->source, base) < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_gce = {"gce", fetch};
