/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloud-init's own outputs: /run/cloud-init/instance-data.json (or the root-only sensitive variant) and
 * the raw user-data it saved in /var/lib/cloud/instance/user-data.txt. When cloud-init ran, this covers
 * every cloud it knows without a single request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/source.h"

#define INSTANCE_DATA           "/run/cloud-init/instance-data.json"
#define INSTANCE_DATA_SENSITIVE "/run/cloud-init/instance-data-sensitive.json"
#define USER_DATA_TXT           "/var/lib/cloud/instance/user-data.txt"

/* v1 keys come with both spellings; older files have only one. */
static const char *v1(const cJSON *j, const char *underscore, const char *hyphen) {
        const char *s = json_get_string(j, underscore);
        if (!s)
                s = json_get_string(j, hyphen);
        if (s && streq(s, "redacted for non-root user"))
                return NULL;
        return s;
}

static int set_tags_from(struct md_instance *inst, const cJSON *obj) {
        const cJSON *t;
        cJSON_ArrayForEach(t, obj) {
                const char *v = json_scalar_text(t);
                _cleanup_erase_ char *dec = NULL;
                if (!v)
                        continue;
                /* cloud-init marks values it had to store as base64. */
                const char *b = startswith(v, "ci-b64:");
                if (b && md_base64_decode(b, strlen(b), false, &dec, NULL) >= 0)
                        v = dec;
                int r = md_tag(inst, t->string, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_erase_ char *text = NULL;
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        const char *path = INSTANCE_DATA_SENSITIVE;
        const cJSON *v, *md;
        size_t len, udlen;
        int r;
        (void) p;

        r = md_read(o->root, path, &text, &len);
        if (r < 0) {
                path = INSTANCE_DATA;
                r = md_read(o->root, path, &text, &len);
        }
        if (r == -ENOENT)
                return -ENXIO;
        if (r < 0)
                return log_debug_errno(r, "Cannot read %s: %m", path);
        r = md_json_parse(text, len, &j);
        if (r < 0)
                return log_debug_errno(r, "%s is not valid JSON", path);
        v = cJSON_GetObjectItemCaseSensitive(j, "v1");
        if (!cJSON_IsObject(v))
                return log_debug_errno(EBADMSG, "%s has no v1 object", path);

        if (md_set(&inst->platform, v1(v, "platform", "platform")) < 0 || md_set(&inst->source, path) < 0 ||
            md_set(&inst->instance_id, v1(v, "instance_id", "instance-id")) < 0 ||
            md_set(&inst->hostname, v1(v, "local_hostname", "local-hostname")) < 0 ||
            md_set(&inst->region, v1(v, "region", "region")) < 0 ||
            md_set(&inst->zone, v1(v, "availability_zone", "availability-zone")) < 0)
                return -ENOMEM;

        md = json_get(j, "ds.meta_data");
        if (cJSON_IsObject(md)) {
                const char *ip = json_get_string(md, "local-ipv4") ?: json_get_string(md, "local_ipv4");
                if (md_set(&inst->local_ipv4, ip) < 0)
                        return -ENOMEM;
                /* EC2 instance tags, OpenStack meta, GCE attributes: what the cloud calls tags. */
                r = set_tags_from(inst, json_get(md, "tags.instance"));
                if (r >= 0)
                        r = set_tags_from(inst, json_get(md, "meta"));
                if (r < 0)
                        return r;
                if (!inst->local_ipv4 || !inst->local_ipv6) {
                        const cJSON *nc = json_get(md, "network-config") ?: json_get(md, "network");
                        if (cJSON_IsObject(nc))
                                md_addresses_from_network_config(inst, nc);
                }
        }

        /* The raw user-data: root only, like the sensitive file. The 'query --all' view carries it too. */
        _cleanup_erase_ char *ud = NULL;
        r = read_file(o->root, USER_DATA_TXT, MD_USERDATA_MAX, &ud, &udlen);
        if (r >= 0) {
                md_set_userdata(inst, TAKE_PTR(ud), udlen);
                return md_set_userdata_source(inst, USER_DATA_TXT);
        }
        if (r != -ENOENT)
                return md_userdata_read_failed(inst, USER_DATA_TXT, r, MD_USERDATA_MAX);
        const char *u = json_get_string(j, "userdata");
        if (u && !streq(u, "redacted for non-root user")) {
                char *c = strdup(u);
                if (!c)
                        return -ENOMEM;
                md_set_userdata(inst, c, strlen(c));
        }
        return 0;
}

const struct md_source md_source_cloudinit = {"cloud-init", fetch};
