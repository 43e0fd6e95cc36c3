/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NoCloud: meta-data (YAML: instance-id, local-hostname), user-data, and optionally network-config, from
 *   - a seedfrom URL or path ("ds=nocloud;s=http://.../" on the kernel command line or in the DMI serial,
 *     with __dmi.<field>__ replaced; --endpoint in tests),
 *   - a seed directory /var/lib/cloud/seed/nocloud{,-net}/ (both meta-data and user-data present),
 *   - a vfat or iso9660 volume labelled cidata or CIDATA (libblkid; --device in tests).
 * "h=" and "i=" on the same line override the hostname and instance id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "metadata/source.h"

struct seed {
        const struct md_options *o;
        const char *dir; /* a directory under root */
        const char *url; /* http(s) base ending in '/' */
        struct md_media *media;
};

static int seed_get(const struct seed *s, const char *name, char **ret, size_t *ret_len) {
        if (s->media) {
                _cleanup_free_ char *p = strdupf("/%s", name);
                return p ? md_media_read(s->media, p, MD_USERDATA_MAX, ret, ret_len) : -ENOMEM;
        }
        if (s->dir) {
                _cleanup_free_ char *p = strdupf("%s/%s", s->dir, name);
                return p ? read_file(s->o->root, p, MD_USERDATA_MAX, ret, ret_len) : -ENOMEM;
        }
        _cleanup_free_ char *url = strdupf("%s%s", s->url, name);
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        if (!url)
                return -ENOMEM;
        int r = md_http(s->o, "GET", url, NULL, s->o->retries ?: 3, &resp);
        if (r < 0)
                return r;
        if (resp->status == 404)
                return -ENOENT;
        if (resp->status != 200)
                return md_fail(s->o, EPROTO, "GET %s answered HTTP %ld", url, resp->status);
        *ret = TAKE_PTR(resp->body);
        if (ret_len)
                *ret_len = resp->body_len;
        return 0;
}

/* Replaces __dmi.<field>__ in a seedfrom URL with the DMI value, as cloud-init does. */
static char *expand_dmi(const char *root, const char *s) {
        static const struct {
                const char *key, *file;
        } map[] = {
                {"system-serial-number", "product_serial"},  {"system-uuid", "product_uuid"},
                {"system-product-name", "product_name"},     {"system-manufacturer", "sys_vendor"},
                {"chassis-serial-number", "chassis_serial"}, {"chassis-asset-tag", "chassis_asset_tag"},
                {"baseboard-serial-number", "board_serial"}, {"baseboard-asset-tag", "board_asset_tag"},
        };
        char *out = strdup(s);
        if (!out)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                _cleanup_free_ char *pat = strdupf("__dmi.%s__", map[i].key);
                char *at;
                if (!pat)
                        return free(out), NULL;
                while ((at = strstr(out, pat))) {
                        _cleanup_free_ char *v = md_dmi_read(root, map[i].file);
                        char *n = strdupf("%.*s%s%s", (int) (at - out), out, strempty(v), at + strlen(pat));
                        free(out);
                        out = n;
                        if (!out)
                                return NULL;
                }
        }
        return out;
}

static int read_seed(const struct seed *s, struct md_instance *inst) {
        _cleanup_free_ char *md = NULL;
        _cleanup_erase_ char *ud = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        size_t mdlen, udlen, nclen;
        struct yaml_error err = {};
        int r;

        r = seed_get(s, "meta-data", &md, &mdlen);
        if (r < 0)
                return r == -ENOENT ? -ENXIO : r;
        r = seed_get(s, "user-data", &ud, &udlen);
        if (r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EHOSTUNREACH)
                return r; /* the seed did not answer: temporary, as for meta-data */
        if (r >= 0) {
                md_set_userdata(inst, TAKE_PTR(ud), udlen);
                r = 0;
        } else
                r = md_userdata_read_failed(inst, NULL, r, MD_USERDATA_MAX);
        if (r < 0)
                return r;

        r = yaml_parse_documents(md, mdlen, &docs, &err);
        if (r < 0)
                return log_debug_errno(r, "NoCloud meta-data is not YAML (line %u: %s)", err.line,
                                       err.message);
        const cJSON *m = cJSON_GetArrayItem(docs, 0);
        if (m && !cJSON_IsObject(m))
                return log_debug_errno(EBADMSG, "NoCloud meta-data is not a mapping");
        if (md_set(&inst->instance_id, json_get_scalar_text(m, "instance-id")) < 0 ||
            md_set(&inst->hostname,
                   json_get_scalar_text(m, "local-hostname") ?: json_get_scalar_text(m, "hostname")) < 0 ||
            md_set(&inst->local_ipv4, json_get_scalar_text(m, "local-ipv4")) < 0 ||
            md_set(&inst->local_ipv6, json_get_scalar_text(m, "local-ipv6")) < 0)
                return -ENOMEM;
        /* network-config: the first static address of each family is the node's. */
        _cleanup_free_ char *nc = NULL;
        if (seed_get(s, "network-config", &nc, &nclen) >= 0) {
                _cleanup_(cJSON_Deletep) cJSON *n = NULL;
                if (yaml_parse_documents(nc, nclen, &n, NULL) >= 0 &&
                    cJSON_IsObject(cJSON_GetArrayItem(n, 0)))
                        md_addresses_from_network_config(inst, cJSON_GetArrayItem(n, 0));
        }
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        static const char *const dirs[] = {"/var/lib/cloud/seed/nocloud", "/var/lib/cloud/seed/nocloud-net"};
        static const char *const labels[] = {"cidata", "CIDATA", NULL};
        _cleanup_free_ char *seedfrom = NULL, *dev = NULL, *where = NULL;
        _cleanup_(md_media_freep) struct md_media *media = NULL;
        struct seed s = {.o = o};
        int r;

        if (o->endpoint)
                seedfrom = strdup(o->endpoint);
        else if (p->nocloud)
                seedfrom = md_nocloud_setting(p->nocloud, "s", "seedfrom");
        if (seedfrom) {
                char *x = expand_dmi(o->root, seedfrom);
                if (!x)
                        return -ENOMEM;
                free(seedfrom);
                seedfrom = x;
                const char *path = startswith(seedfrom, "file://") ?: seedfrom[0] == '/' ? seedfrom : NULL;
                if (path) {
                        s.dir = path;
                } else if (startswith(seedfrom, "http://") || startswith(seedfrom, "https://")) {
                        if (!endswith(seedfrom, "/")) {
                                /* cloud-init insists on the slash; so do we, but say why it failed. */
                                return log_debug_errno(EINVAL, "NoCloud seedfrom '%s' must end in '/'",
                                                       seedfrom);
                        }
                        s.url = seedfrom;
                } else
                        return log_debug_errno(EINVAL, "NoCloud seedfrom '%s': unsupported scheme",
                                               seedfrom);
                where = strdup(seedfrom);
                r = read_seed(&s, inst);
                if (r < 0)
                        return r;
        } else {
                r = -ENXIO;
                if (!o->device)
                        for (size_t i = 0; r == -ENXIO && i < ELEMENTSOF(dirs); i++) {
                                s.dir = dirs[i];
                                if (path_exists(o->root, dirs[i]) < 0)
                                        continue;
                                _cleanup_free_ char *u = strdupf("%s/user-data", dirs[i]);
                                if (!u)
                                        return -ENOMEM;
                                /* A seed directory needs both files. */
                                if (path_exists(o->root, u) < 0)
                                        continue;
                                r = read_seed(&s, inst);
                                if (r >= 0)
                                        where = strdupf("seed-dir (%s)", dirs[i]);
                        }
                if (r == -ENXIO) {
                        s.dir = NULL;
                        if (o->device)
                                dev = strdup(o->device);
                        else if (o->no_host || md_find_label(labels, &dev) < 0)
                                return log_debug_errno(
                                        ENXIO,
                                        "No NoCloud seed: no seedfrom, seed directory or cidata volume (under --root, this machine's block devices are not probed)");
                        if (!dev)
                                return -ENOMEM;
                        r = md_media_open(dev, &media);
                        if (r < 0)
                                return log_debug_errno(r, "Cannot open NoCloud volume %s: %m", dev);
                        s.media = media;
                        r = read_seed(&s, inst);
                        if (r >= 0)
                                where = strdupf("config-disk (%s, %s)", dev, md_media_method(media));
                }
                if (r < 0)
                        return r;
        }
        if (p->nocloud) {
                _cleanup_free_ char *h = md_nocloud_setting(p->nocloud, "h", "local-hostname");
                _cleanup_free_ char *i = md_nocloud_setting(p->nocloud, "i", "instance-id");
                if ((h && md_set(&inst->hostname, h) < 0) || (i && md_set(&inst->instance_id, i) < 0))
                        return -ENOMEM;
        }
        if (md_set(&inst->platform, "nocloud") < 0 || md_set(&inst->source, where) < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_nocloud = {"nocloud", fetch};
