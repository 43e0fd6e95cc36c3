/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure. User-data comes first from the OVF custom data on the provisioning medium (ovf-env.xml, its
 * CustomData or UserData element, base64), then from IMDS compute.userData (base64). IMDS wants
 * "Metadata: true", an explicit api-version and no proxy; a 400 on the newer api-version falls back to
 * an older one as cloud-init does, and 404/410 are retried for a while (the IMDS is still coming up).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/source.h"
#include "metadata/xml.h"

#define API_VERSION     "2021-08-01"
#define API_VERSION_OLD "2019-06-01"

/* Fills inst from ovf-env.xml: hostname and custom data. */
int md_azure_parse_ovf(const char *xml, size_t len, struct md_instance *inst) {
        _cleanup_free_ char *host = md_xml_element_text(xml, len, "HostName");
        _cleanup_erase_ char *cd = md_xml_element_text(xml, len, "CustomData");
        int r;

        if (!memmem(xml, len, "ProvisioningSection", 19) &&
            !memmem(xml, len, "LinuxProvisioningConfigurationSet", 33))
                return log_debug_errno(EBADMSG, "ovf-env.xml has no provisioning section");
        if (!cd)
                cd = md_xml_element_text(xml, len, "UserData");
        if (host && md_set(&inst->hostname, host) < 0)
                return -ENOMEM;
        if (cd) {
                char *data;
                size_t n;
                strstrip(cd);
                if (*cd) {
                        r = md_base64_decode(cd, strlen(cd), false, &data, &n);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return md_userdata_unusable(inst, "ovf-env.xml CustomData",
                                                            "the OVF CustomData is not valid base64");
                        md_set_userdata(inst, data, n);
                }
        }
        return 0;
}

/* Fills inst from the IMDS /metadata/instance document. */
int md_azure_parse_imds(const char *body, size_t len, struct md_instance *inst) {
        _cleanup_(json_delete_wipedp) cJSON *j = NULL;
        const cJSON *c, *t, *nic;
        const char *s;
        int r;

        r = md_json_parse(body, len, &j);
        if (r < 0)
                return log_debug_errno(r, "The Azure IMDS answer is not JSON");
        c = cJSON_GetObjectItemCaseSensitive(j, "compute");
        if (!cJSON_IsObject(c) || !json_get_string(c, "vmId"))
                return log_debug_errno(EBADMSG, "The Azure IMDS answer has no compute.vmId");
        s = json_get_string(c, "osProfile.computerName");
        if (isempty(s))
                s = json_get_string(c, "name");
        if (md_set(&inst->instance_id, json_get_string(c, "vmId")) < 0 ||
            (!inst->hostname && md_set(&inst->hostname, s) < 0) ||
            md_set(&inst->region, json_get_string(c, "location")) < 0 ||
            md_set(&inst->zone, json_get_string(c, "zone")) < 0)
                return -ENOMEM;

        /* tagsList survives ';' inside values; the string form is the fallback for old api-versions. */
        t = cJSON_GetObjectItemCaseSensitive(c, "tagsList");
        if (cJSON_IsArray(t)) {
                const cJSON *e;
                cJSON_ArrayForEach(e, t)
                        if (md_tag(inst, json_get_string(e, "name"), json_get_string(e, "value")) < 0)
                                return -ENOMEM;
        } else if ((s = json_get_string(c, "tags")) && *s) {
                _cleanup_free_ char *copy = strdup(s);
                if (!copy)
                        return -ENOMEM;
                for (char *kv = copy, *next; kv && *kv; kv = next) {
                        next = strchr(kv, ';');
                        if (next)
                                *next++ = 0;
                        char *colon = strchr(kv, ':');
                        if (colon) {
                                *colon = 0;
                                if (md_tag(inst, kv, colon + 1) < 0)
                                        return -ENOMEM;
                        }
                }
        }

        nic = cJSON_GetArrayItem(json_get(j, "network.interface"), 0);
        if (md_set(&inst->local_ipv4, json_get_string(cJSON_GetArrayItem(json_get(nic, "ipv4.ipAddress"), 0),
                                                      "privateIpAddress")) < 0 ||
            md_set(&inst->local_ipv6, json_get_string(cJSON_GetArrayItem(json_get(nic, "ipv6.ipAddress"), 0),
                                                      "privateIpAddress")) < 0)
                return -ENOMEM;

        s = json_get_string(c, "userData");
        if (!inst->userdata && !isempty(s)) {
                char *data;
                size_t n;
                r = md_base64_decode(s, strlen(s), false, &data, &n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return md_userdata_unusable(inst, "IMDS compute.userData",
                                                    "compute.userData is not valid base64");
                md_set_userdata(inst, data, n);
                if (md_set(&inst->userdata_exposure,
                           "Azure IMDS serves compute.userData to any process on the VM") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int read_ovf(const struct md_options *o, struct md_instance *inst, bool *found) {
        static const char *const seeds[] = {"/var/lib/cloud/seed/azure/ovf-env.xml",
                                            "/var/lib/waagent/ovf-env.xml"};
        _cleanup_erase_ char *xml = NULL;
        _cleanup_free_ char *where = NULL;
        size_t len = 0;
        int r = -ENOENT;

        if (o->device) {
                _cleanup_(md_media_freep) struct md_media *m = NULL;
                r = md_media_open(o->device, &m);
                if (r >= 0)
                        r = md_media_read(m, "/ovf-env.xml", MD_META_MAX, &xml, &len);
                if (r < 0)
                        return log_debug_errno(r, "No ovf-env.xml on '%s': %m", o->device);
                where = strdup(o->device);
        }
        for (size_t i = 0; r < 0 && i < ELEMENTSOF(seeds); i++)
                if ((r = md_read(o->root, seeds[i], &xml, &len)) >= 0)
                        where = strdup(seeds[i]);
        if (r < 0 && !o->root) {
                /* The provisioning CD-ROM of a real VM: mounted (UDF), as the agent does. */
                struct stat st;
                if (stat("/dev/sr0", &st) >= 0 && S_ISBLK(st.st_mode)) {
                        _cleanup_(md_media_freep) struct md_media *m = NULL;
                        r = md_media_open("/dev/sr0", &m);
                        if (r >= 0)
                                r = md_media_read(m, "/ovf-env.xml", MD_META_MAX, &xml, &len);
                        if (r >= 0)
                                where = strdup("/dev/sr0");
                }
        }
        if (r < 0) {
                /* Newer agents leave the custom data alone in /var/lib/waagent/CustomData (base64). */
                _cleanup_erase_ char *cd = NULL;
                char *data;
                size_t n;
                if (md_read(o->root, "/var/lib/waagent/CustomData", &cd, &len) < 0)
                        return 0;
                r = md_base64_decode(cd, len, false, &data, &n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *found = true;
                        r = md_userdata_unusable(inst, "/var/lib/waagent/CustomData", "is not valid base64");
                        return r < 0 ? r : md_set(&inst->source, "/var/lib/waagent/CustomData");
                }
                md_set_userdata(inst, data, n);
                *found = true;
                return md_set(&inst->source, "/var/lib/waagent/CustomData");
        }
        r = md_azure_parse_ovf(xml, len, inst);
        if (r < 0)
                return r;
        *found = true;
        if (where && md_set(&inst->source, where) < 0)
                return -ENOMEM;
        return 0;
}

static int imds_get(const struct md_options *o, const char *url, struct http_response **ret) {
        const char *const headers[] = {MD_AZURE_HEADER, NULL};
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                int r = md_http(o, "GET", url, headers, o->retries ?: 3, &resp);
                if (r < 0)
                        return r;
                /* 404 and 410 while the IMDS comes up: a few more tries, a little apart. */
                if ((resp->status == 404 || resp->status == 410) && attempt < (o->retries ?: 3)) {
                        clock_sleep_ms(200ull * (attempt + 1));
                        continue;
                }
                *ret = TAKE_PTR(resp);
                return 0;
        }
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_free_ char *base = md_base_url(o, MD_LINK_LOCAL_URL), *url = NULL;
        bool ovf = false;
        int r;

        if (!base)
                return -ENOMEM;
        r = read_ovf(o, inst, &ovf);
        if (r < 0)
                return r;

        url = strdupf("%s/metadata/instance?api-version=" API_VERSION, base);
        if (!url)
                return -ENOMEM;
        r = imds_get(o, url, &resp);
        if (r >= 0 && resp->status == 400) {
                log_debug("IMDS refused api-version " API_VERSION ", trying " API_VERSION_OLD);
                resp = http_response_free(resp);
                free(url);
                url = strdupf("%s/metadata/instance?api-version=" API_VERSION_OLD, base);
                if (!url)
                        return -ENOMEM;
                r = imds_get(o, url, &resp);
        }
        if (r < 0 || resp->status != 200) {
                if (ovf) {
                        /* The medium alone is enough to go on: the instance id is the DMI UUID. */
                        log_debug("Azure IMDS unavailable (%s), using the OVF environment only",
                                  r < 0 ? "unreachable" : "error status");
                        if (md_set(&inst->instance_id, p->product_uuid) < 0 ||
                            md_set(&inst->platform, "azure") < 0)
                                return -ENOMEM;
                        return 0;
                }
                if (r < 0)
                        return !o->endpoint && (r == -EHOSTUNREACH || r == -ECONNREFUSED) ? -ENXIO : r;
                return md_fail(o, resp->status == 404 ? ENXIO : EPROTO, "GET %s answered HTTP %ld", url,
                               resp->status);
        }
        r = md_azure_parse_imds(resp->body, resp->body_len, inst);
        if (r == -EBADMSG)
                return md_fail(
                        o, r, "GET %s: the answer is not the JSON of an Azure instance (compute.vmId)", url);
        if (r < 0)
                return r;
        if (md_set(&inst->platform, "azure") < 0 || (!ovf && md_set(&inst->source, base) < 0))
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_azure = {"azure", fetch};
