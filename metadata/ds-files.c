/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain files, for Ignition-provisioned hosts (no cloud-init) and images that carry their own settings:
 *   /etc/kube-firstboot/instance.json   the view's fields as JSON (instanceId, hostname, localIPv4, ...)
 *   /run/metadata/afterburn             Afterburn's attributes (AFTERBURN_<PROVIDER>_<KEY>=value)
 *   /run/metadata/flatcar               the same under Flatcar's names (COREOS_...)
 *   /etc/kube-firstboot/user-data       user-data in any format
 *   /etc/hostname                       the hostname, when nothing above names it
 * None of them is required: this is also the "none" datasource when nothing else answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/source.h"

#define INSTANCE_JSON "/etc/kube-firstboot/instance.json"
#define USER_DATA     "/etc/kube-firstboot/user-data"

/* Afterburn key suffixes (after AFTERBURN_<PROVIDER>_) and the view field each fills. */
static char **field_for(struct md_instance *inst, const char *key) {
        static const struct {
                const char *suffix;
                size_t off;
        } map[] = {
                {"_INSTANCE_ID", offsetof(struct md_instance, instance_id)},
                {"_HOSTNAME", offsetof(struct md_instance, hostname)},
                {"_IPV4_LOCAL", offsetof(struct md_instance, local_ipv4)},
                {"_IP_LOCAL_0", offsetof(struct md_instance, local_ipv4)},
                {"_PRIVATE_IPV4", offsetof(struct md_instance, local_ipv4)},
                {"_IPV4_DYNAMIC", offsetof(struct md_instance, local_ipv4)},
                {"_IPV6", offsetof(struct md_instance, local_ipv6)},
                {"_PRIVATE_IPV6", offsetof(struct md_instance, local_ipv6)},
                {"_REGION", offsetof(struct md_instance, region)},
                {"_AVAILABILITY_ZONE", offsetof(struct md_instance, zone)},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (endswith(key, map[i].suffix))
                        return (char **) ((char *) inst + map[i].off);
        return NULL;
}

static int read_env_file(const char *root, const char *path, struct md_instance *inst) {
        _cleanup_free_ char *text = NULL;
        int r = md_read(root, path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *eq = strchr(line, '=');
                if (!eq || !(startswith(line, "AFTERBURN_") || startswith(line, "COREOS_")) ||
                    strstr(line, "PUBLIC"))
                        continue;
                *eq = 0;
                char **f = field_for(inst, line);
                /* The provider's own id wins over Afterburn's EC2-style OpenStack id. */
                if (f && (!*f || endswith(line, "_INSTANCE_UUID")) && md_set(f, eq + 1) < 0)
                        return -ENOMEM;
                if (endswith(line, "_INSTANCE_UUID") && md_set(&inst->instance_id, eq + 1) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_free_ char *text = NULL;
        _cleanup_erase_ char *ud = NULL;
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        size_t len;
        int r;

        if (md_set(&inst->datasource, "files") < 0)
                return -ENOMEM;
        if (md_read(o->root, INSTANCE_JSON, &text, &len) >= 0) {
                r = md_json_parse(text, len, &j);
                if (r < 0)
                        return log_debug_errno(r, INSTANCE_JSON " is not valid JSON");
                if (md_set(&inst->instance_id, md_json_text(j, "instanceId")) < 0 ||
                    md_set(&inst->hostname, json_get_string(j, "hostname")) < 0 ||
                    md_set(&inst->local_ipv4, json_get_string(j, "localIPv4")) < 0 ||
                    md_set(&inst->local_ipv6, json_get_string(j, "localIPv6")) < 0 ||
                    md_set(&inst->region, json_get_string(j, "region")) < 0 ||
                    md_set(&inst->zone, json_get_string(j, "zone")) < 0 ||
                    md_set(&inst->platform, json_get_string(j, "platform")) < 0)
                        return -ENOMEM;
                const cJSON *t;
                cJSON_ArrayForEach(t, json_get(j, "tags")) {
                        if (cJSON_IsString(t) && md_tag(inst, t->string, t->valuestring) < 0)
                                return -ENOMEM;
                }
                if (md_set(&inst->source, INSTANCE_JSON) < 0)
                        return -ENOMEM;
        }
        if (read_env_file(o->root, "/run/metadata/afterburn", inst) >= 0 ||
            read_env_file(o->root, "/run/metadata/flatcar", inst) >= 0) {
                if (!inst->source && md_set(&inst->source, "/run/metadata") < 0)
                        return -ENOMEM;
        }
        r = read_file(o->root, USER_DATA, MD_USERDATA_MAX, &ud, &len);
        if (r >= 0) {
                md_set_userdata(inst, TAKE_PTR(ud), len);
                r = md_set_userdata_source(inst, USER_DATA);
        } else
                r = md_userdata_read_failed(inst, USER_DATA, r, MD_USERDATA_MAX);
        if (r < 0)
                return r;
        if (!inst->source && !inst->userdata && !inst->userdata_error &&
            md_set(&inst->datasource, "none") < 0)
                return -ENOMEM;
        if (!inst->hostname) {
                /* The image's or Ignition's /etc/hostname names the node when nothing else does. */
                _cleanup_free_ char *h = NULL;
                if (md_read(o->root, "/etc/hostname", &h, NULL) >= 0 &&
                    md_set_n(&inst->hostname, h, strcspn(h, "\n")) < 0)
                        return -ENOMEM;
        }
        if (!inst->platform && p->ignition && md_set(&inst->platform, p->ignition) < 0)
                return -ENOMEM;
        if (!inst->instance_id && p->product_uuid && md_set(&inst->instance_id, p->product_uuid) < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_files = {"files", fetch};
