/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenStack: the metadata service (http://169.254.169.254/openstack/<version>/...) and the config drive
 * (a vfat or iso9660 volume labelled config-2 or CONFIG-2, or a seeded copy in /config-drive or
 * /var/lib/cloud/seed/config_drive). Both give meta_data.json (uuid required), user_data (optional) and
 * network_data.json; meta_data.json's "meta" map is what users set with --property, taken as tags.
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

/* Newest first; "latest" is tried before these on config drives. */
static const char *const versions[] = {"2018-08-27", "2017-02-22", "2016-10-06", "2016-06-30",
                                       "2015-10-15", "2013-10-17", "2013-04-04", "2012-08-10"};

int md_openstack_parse_meta(const char *text, size_t len, struct md_instance *inst) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *m;
        int r = md_json_parse(text, len, &j);
        if (r < 0)
                return log_debug_errno(r, "meta_data.json is not JSON");
        if (!json_get_string(j, "uuid"))
                return log_debug_errno(EBADMSG, "meta_data.json has no uuid");
        if (md_set(&inst->instance_id, json_get_string(j, "uuid")) < 0 ||
            md_set(&inst->hostname, json_get_string(j, "hostname") ?: json_get_string(j, "name")) < 0 ||
            md_set(&inst->zone, json_get_string(j, "availability_zone")) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "meta")) {
                const char *v = json_scalar_text(m);
                if (v && md_tag(inst, m->string, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int md_openstack_parse_network(const char *text, size_t len, struct md_instance *inst) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *n;
        if (md_json_parse(text, len, &j) < 0)
                return 0; /* optional: a bad one is ignored, as cloud-init does */
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(j, "networks")) {
                const char *type = json_get_string(n, "type"), *ip = json_get_string(n, "ip_address");
                if (!type || !ip)
                        continue;
                char **f = streq(type, "ipv4")   ? &inst->local_ipv4
                           : streq(type, "ipv6") ? &inst->local_ipv6
                                                 : NULL;
                if (f && !*f && md_set(f, ip) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- metadata service ---- */

static int get(const struct md_options *o, const char *url, struct http_response **ret) {
        int r = md_http(o, "GET", url, NULL, o->retries ?: 3, ret);
        return r;
}

static int fetch_service(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_(http_response_freep) struct http_response *list = NULL, *meta = NULL, *ud = NULL,
                                                            *net = NULL, *ip = NULL;
        _cleanup_free_ char *base = md_base_url(o, "http://169.254.169.254"), *url = NULL;
        const char *ver = "latest";
        int r;
        (void) p;

        if (!base || !(url = strdupf("%s/openstack", base)))
                return -ENOMEM;
        r = get(o, url, &list);
        if (r < 0)
                return !o->endpoint && (r == -EHOSTUNREACH || r == -ECONNREFUSED) ? -ENXIO : r;
        if (list->status != 200)
                return log_debug_errno(ENXIO, "%s answered %ld: no OpenStack metadata service", url,
                                       list->status);
        for (size_t i = 0; i < ELEMENTSOF(versions) && streq(ver, "latest"); i++)
                for (char *l = list->body, *next; l && *l; l = next) {
                        next = strchr(l, '\n');
                        size_t n = next ? (size_t) (next - l) : strlen(l);
                        if (next)
                                next++;
                        if (n == strlen(versions[i]) && strncmp(l, versions[i], n) == 0) {
                                ver = versions[i];
                                break;
                        }
                }
        free(url);
        if (!(url = strdupf("%s/openstack/%s/meta_data.json", base, ver)))
                return -ENOMEM;
        r = get(o, url, &meta);
        if (r < 0)
                return r;
        if (meta->status != 200)
                return md_fail(o, EPROTO, "GET %s answered HTTP %ld", url, meta->status);
        r = md_openstack_parse_meta(meta->body, meta->body_len, inst);
        if (r < 0)
                return r;

        free(url);
        if (!(url = strdupf("%s/openstack/%s/network_data.json", base, ver)))
                return -ENOMEM;
        if (get(o, url, &net) >= 0 && net->status == 200 &&
            md_openstack_parse_network(net->body, net->body_len, inst) < 0)
                return -ENOMEM;
        if (!inst->local_ipv4) {
                /* The EC2-compatible tree knows the fixed address even with DHCP networks. */
                free(url);
                if (!(url = strdupf("%s/latest/meta-data/local-ipv4", base)))
                        return -ENOMEM;
                if (get(o, url, &ip) >= 0 && ip->status == 200 && md_set(&inst->local_ipv4, ip->body) < 0)
                        return -ENOMEM;
        }

        free(url);
        if (!(url = strdupf("%s/openstack/%s/user_data", base, ver)))
                return -ENOMEM;
        r = get(o, url, &ud);
        if (r == -EFBIG) {
                r = md_userdata_read_failed(inst, url, r, MD_META_MAX);
                if (r < 0)
                        return r;
        } else if (r < 0)
                return r;
        else if (ud->status == 200) {
                md_set_userdata(inst, TAKE_PTR(ud->body), ud->body_len);
                ud->body_len = 0;
                if (md_set_userdata_source(inst, url) < 0 ||
                    md_set(&inst->userdata_exposure,
                           "the OpenStack metadata service serves the user-data to any process on the instance") <
                            0)
                        return -ENOMEM;
        } else if (ud->status != 404)
                return md_fail(o, EPROTO, "GET %s answered HTTP %ld", url, ud->status);
        if (md_set(&inst->platform, "openstack") < 0 || md_set(&inst->source, base) < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_openstack = {"openstack", fetch_service};

/* ---- config drive ---- */

struct drive {
        const char *root, *dir;
        struct md_media *media;
};

static int drive_read(const struct drive *d, const char *path, char **ret, size_t *ret_len) {
        if (d->media)
                return md_media_read(d->media, path, MD_USERDATA_MAX, ret, ret_len);
        _cleanup_free_ char *p = strdupf("%s%s", d->dir, path);
        return p ? read_file(d->root, p, MD_USERDATA_MAX, ret, ret_len) : -ENOMEM;
}

static int read_drive(const struct drive *d, struct md_instance *inst) {
        _cleanup_free_ char *meta = NULL;
        const char *ver = NULL;
        size_t len;
        int r = -ENOENT;

        for (size_t i = 0; r == -ENOENT && i <= ELEMENTSOF(versions); i++) {
                _cleanup_free_ char *p = NULL;
                ver = i == 0 ? "latest" : versions[i - 1];
                if (!(p = strdupf("/openstack/%s/meta_data.json", ver)))
                        return -ENOMEM;
                r = drive_read(d, p, &meta, &len);
        }
        if (r == -ENOENT)
                return log_debug_errno(ENXIO, "No openstack/*/meta_data.json on the config drive");
        if (r < 0)
                return r;
        r = md_openstack_parse_meta(meta, len, inst);
        if (r < 0)
                return r;
        _cleanup_free_ char *np = strdupf("/openstack/%s/network_data.json", ver);
        _cleanup_free_ char *up = strdupf("/openstack/%s/user_data", ver);
        if (!np || !up)
                return -ENOMEM;
        _cleanup_free_ char *net = NULL;
        _cleanup_erase_ char *ud = NULL;
        if (drive_read(d, np, &net, &len) >= 0 && md_openstack_parse_network(net, len, inst) < 0)
                return -ENOMEM;
        r = drive_read(d, up, &ud, &len);
        if (r >= 0) {
                md_set_userdata(inst, TAKE_PTR(ud), len);
                return 0;
        }
        return md_userdata_read_failed(inst, NULL, r, MD_USERDATA_MAX);
}

static int fetch_drive(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        static const char *const seeds[] = {"/config-drive", "/var/lib/cloud/seed/config_drive"};
        static const char *const labels[] = {"config-2", "CONFIG-2", NULL};
        _cleanup_(md_media_freep) struct md_media *media = NULL;
        _cleanup_free_ char *dev = NULL, *where = NULL;
        struct drive d = {.root = o->root};
        int r = -ENXIO;
        (void) p;

        if (!o->device)
                for (size_t i = 0; r == -ENXIO && i < ELEMENTSOF(seeds); i++) {
                        if (path_exists(o->root, seeds[i]) < 0)
                                continue;
                        d.dir = seeds[i];
                        r = read_drive(&d, inst);
                        if (r >= 0)
                                where = strdupf("seed-dir (%s)", seeds[i]);
                }
        if (r == -ENXIO) {
                d.dir = NULL;
                if (o->device)
                        dev = strdup(o->device);
                else if (o->no_host || md_find_label(labels, &dev) < 0)
                        return log_debug_errno(ENXIO, "No config drive (label config-2) and no seeded copy");
                if (!dev)
                        return -ENOMEM;
                r = md_media_open(dev, &media);
                if (r < 0)
                        return log_debug_errno(r, "Cannot open config drive %s: %m", dev);
                d.media = media;
                r = read_drive(&d, inst);
                if (r >= 0)
                        where = strdupf("config-disk (%s, %s)", dev, md_media_method(media));
        }
        if (r < 0)
                return r;
        if (md_set(&inst->platform, "openstack") < 0 || md_set(&inst->source, where) < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_configdrive = {"configdrive", fetch_drive};
