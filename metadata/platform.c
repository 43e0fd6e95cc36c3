/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Platform detection the way cloud-init's ds-identify does it: DMI strings, /sys/hypervisor/uuid, the
 * kernel command line, and the presence of cloud-init's outputs. No network, no waiting.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/metadata.h"
#include "metadata/source.h"

struct md_platform *md_platform_free(struct md_platform *p) {
        if (!p)
                return NULL;
        free(p->forced);
        free(p->nocloud);
        free(p->ignition);
        free(p->product_uuid);
        free(p);
        return NULL;
}

char *md_dmi_read(const char *root, const char *name) {
        _cleanup_free_ char *path = strdupf("/sys/class/dmi/id/%s", name);
        char *s = NULL;
        if (!path || read_file(root, path, 4096, &s, NULL) < 0)
                return NULL;
        strstrip(s);
        if (!*s) {
                free(s);
                return NULL;
        }
        return s;
}

/* The value of a kernel command line option "key=value" (first occurrence); NULL when absent. */
static char *cmdline_value(const char *cmdline, const char *key) {
        size_t kl = strlen(key);
        for (const char *p = cmdline; *p;) {
                p += strspn(p, " \t\n");
                size_t wl = 0;
                bool quoted = false;
                /* Words may be quoted as a whole or in their value: ds="nocloud;s=..." */
                while (p[wl] && (quoted || !strchr(" \t\n", p[wl]))) {
                        if (p[wl] == '"')
                                quoted = !quoted;
                        wl++;
                }
                if (wl > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
                        char *v = strndup(p + kl + 1, wl - kl - 1), *o = v;
                        if (!v)
                                return NULL;
                        for (char *i = v; *i; i++) /* drop the quotes */
                                if (*i != '"')
                                        *o++ = *i;
                        *o = 0;
                        return v;
                }
                p += wl;
        }
        return NULL;
}

char *md_nocloud_setting(const char *line, const char *short_key, const char *long_key) {
        const char *p = strchr(line, ';');
        while (p) {
                const char *item = p + 1, *end = strchr(item, ';');
                size_t n = end ? (size_t) (end - item) : strlen(item);
                const char *eq = memchr(item, '=', n);
                if (eq) {
                        size_t kl = (size_t) (eq - item);
                        if ((kl == strlen(short_key) && strncmp(item, short_key, kl) == 0) ||
                            (long_key && kl == strlen(long_key) && strncmp(item, long_key, kl) == 0))
                                return strndup(eq + 1, n - kl - 1);
                }
                p = end;
        }
        return NULL;
}

static bool is_ec2_uuid(const char *u) {
        /* "ec2..." or, byte-swapped (little-endian first field), "..2aec". */
        if (!u || strlen(u) < 8)
                return false;
        if (strncasecmp(u, "ec2", 3) == 0)
                return true;
        char sw[9] = {u[6], u[7], u[4], u[5], u[2], u[3], u[0], u[1], 0};
        return strncasecmp(sw, "ec2", 3) == 0;
}

static bool strcaseprefix(const char *s, const char *prefix) {
        return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool one_of(const char *s, const char *const *list) {
        for (; s && *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

int md_platform_detect(const char *root, struct md_platform **ret) {
        _cleanup_(md_platform_freep) struct md_platform *p = calloc(1, sizeof(*p));
        _cleanup_free_ char *cmdline = NULL, *vendor = NULL, *product = NULL, *serial = NULL, *asset = NULL,
                            *hyper = NULL, *board_asset = NULL, *ds = NULL;
        static const char *const openstack_tags[] = {
                "OpenTelekomCloud", "SAP CCloud VM",     "HUAWEICLOUD", "Samsung Cloud Platform",
                "OpenStack Nova",   "OpenStack Compute", NULL};

        if (!p)
                return -ENOMEM;
        p->id = "unknown";
        snprintf(p->reason, sizeof(p->reason), "no platform signal in DMI or on the kernel command line");

        (void) read_file(root, "/proc/cmdline", 65536, &cmdline, NULL);
        vendor = md_dmi_read(root, "sys_vendor");
        product = md_dmi_read(root, "product_name");
        serial = md_dmi_read(root, "product_serial");
        asset = md_dmi_read(root, "chassis_asset_tag");
        board_asset = md_dmi_read(root, "board_asset_tag");
        p->product_uuid = md_dmi_read(root, "product_uuid");
        if (p->product_uuid)
                for (char *c = p->product_uuid; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
        if (read_file(root, "/sys/hypervisor/uuid", 4096, &hyper, NULL) >= 0)
                strstrip(hyper);
        p->cloud_init = path_exists(root, "/run/cloud-init/instance-data.json") >= 0;

        if (cmdline) {
                /* ds-identify: ds=, ci.ds=, ci.datasource= force a datasource; ";..." is NoCloud's. */
                ds = cmdline_value(cmdline, "ds") ?: cmdline_value(cmdline, "ci.ds")
                                                ?: cmdline_value(cmdline, "ci.datasource");
                if (ds) {
                        size_t n = strcspn(ds, ";");
                        p->forced = strndup(ds, n);
                        if (!p->forced)
                                return -ENOMEM;
                        if (strncasecmp(ds, "nocloud", 7) == 0) {
                                p->nocloud = strdup(ds);
                                if (!p->nocloud)
                                        return -ENOMEM;
                        }
                }
                p->ignition = cmdline_value(cmdline, "ignition.platform.id")
                                      ?: cmdline_value(cmdline, "coreos.oem.id");
        }
        if (!p->nocloud && serial) {
                const char *d = strstr(serial, "ds=nocloud");
                if (d && !(p->nocloud = strdup(d)))
                        return -ENOMEM;
        }

#define FOUND(id_, ...)                                                                                     \
        do {                                                                                                \
                p->id = id_;                                                                                \
                snprintf(p->reason, sizeof(p->reason), __VA_ARGS__);                                        \
                goto done;                                                                                  \
        } while (0)

        if (is_ec2_uuid(hyper))
                FOUND("ec2", "/sys/hypervisor/uuid '%s' starts with ec2", hyper);
        if (is_ec2_uuid(p->product_uuid))
                FOUND("ec2", "DMI product_uuid '%s' marks EC2", p->product_uuid);
        if (serial && strncasecmp(serial, "ec2", 3) == 0)
                FOUND("ec2", "DMI product_serial '%s' starts with ec2", serial);
        if (strcaseprefix(vendor, "Amazon EC2"))
                FOUND("ec2", "DMI sys_vendor '%s'", vendor);
        if (board_asset && startswith(board_asset, "i-") && strcaseprefix(vendor, "Amazon"))
                FOUND("ec2", "DMI board_asset_tag '%s' is an EC2 instance id", board_asset);
        if (streq_ptr(asset, "7783-7084-3265-9085-8269-3286-77"))
                FOUND("azure", "DMI chassis_asset_tag is Azure's");
        if (path_exists(root, "/var/lib/cloud/seed/azure/ovf-env.xml") >= 0)
                FOUND("azure", "a seeded /var/lib/cloud/seed/azure/ovf-env.xml");
        if (streq_ptr(product, "Google Compute Engine") || streq_ptr(product, "Google"))
                FOUND("gce", "DMI product_name '%s'", product);
        if (serial && startswith(serial, "GoogleCloud-"))
                FOUND("gce", "DMI product_serial '%s'", serial);
        if (one_of(product, openstack_tags + 4))
                FOUND("openstack", "DMI product_name '%s'", product);
        if (one_of(asset, openstack_tags))
                FOUND("openstack", "DMI chassis_asset_tag '%s'", asset);
        if (product && strcasestr(product, "vmware"))
                FOUND("vmware", "DMI product_name '%s'", product);
        if (p->nocloud)
                FOUND("nocloud", "'%s' on the kernel command line or in the DMI serial", p->nocloud);
        if (p->ignition) {
                static const struct {
                        const char *ign, *id;
                } map[] = {{"aws", "ec2"},      {"ec2", "ec2"},     {"gce", "gce"},
                           {"gcp", "gce"},      {"azure", "azure"}, {"openstack", "openstack"},
                           {"vmware", "vmware"}};
                for (size_t i = 0; i < ELEMENTSOF(map); i++)
                        if (streq(p->ignition, map[i].ign))
                                FOUND(map[i].id, "ignition.platform.id=%s", p->ignition);
        }
#undef FOUND
done:
        *ret = TAKE_PTR(p);
        return 0;
}
